//! Keyword-context rules: credentials that are random strings, recognisable only by the name
//! they are assigned to (`PLANETSCALE_PASSWORD=…`, `"asana_pat": "…"`, `twitterToken = "…"`).
//!
//! A rule gives its provider keywords, the value's alphabet and length, and optionally the
//! credential words that must follow the keyword in the name; [`pattern`] writes the regex, so
//! every such rule understands the same assignment syntaxes:
//!
//! - `name = "v"`, `name: v`, `name := v`, `name => 'v'`, `name <- "v"`, `"name": "v"`,
//!   `NAME=v`, `export NAME=v`, `$env:NAME = "v"`, `ENV NAME v`, `setName("v")`,
//!   `os.environ["NAME"] = "v"`, `ENV['NAME'] ||= 'v'`, `x.NAME ??= "v"`, `<name>v</name>`,
//!   `<add key="Name" value="v"/>`,
//!   `X-Name: v` and `Authorization`-style `Bearer v`, `?name=v&` in URLs;
//! - the keyword as a parent key and the credential word as a child, within four lines
//!   (YAML and JSON nesting: `asana:\n  token: v`, `"asana": {"pat": "v"}`).
//!
//! The value must fill the alphabet at the length given, end where the alphabet ends, and
//! (unless the rule says otherwise) mix letters and digits with enough entropy, which leaves
//! out placeholders, words, code (`os.getenv(…)`, `${VAR}`) and templates.

use serde::{Deserialize, Serialize};

use crate::rules::Validator;

/// The alphabet of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Charset {
    /// `0-9a-fA-F`
    Hex,
    /// `0-9a-f`
    HexLower,
    /// `0-9A-F`
    HexUpper,
    /// `A-Za-z0-9`
    Alnum,
    /// `a-z0-9`
    AlnumLower,
    /// `A-Z0-9`
    AlnumUpper,
    /// `A-Za-z0-9_-` (base64url without padding, and most "random id" tokens)
    Base64url,
    /// `A-Za-z0-9+/` with up to two `=` of padding
    Base64,
    /// A UUID (8-4-4-4-12 hex); the length is fixed.
    Uuid,
}

impl Charset {
    /// The regex character class of one value character.
    fn class(self) -> &'static str {
        match self {
            Charset::Hex => "[0-9a-fA-F]",
            Charset::HexLower => "[0-9a-f]",
            Charset::HexUpper => "[0-9A-F]",
            Charset::Alnum => "[A-Za-z0-9]",
            Charset::AlnumLower => "[a-z0-9]",
            Charset::AlnumUpper => "[A-Z0-9]",
            Charset::Base64url => "[A-Za-z0-9_-]",
            Charset::Base64 | Charset::Uuid => "[A-Za-z0-9+/]",
        }
    }

    /// What may not follow the value: the value would then be part of a longer token.
    fn boundary(self) -> &'static str {
        match self {
            Charset::Base64url => r"(?:[^A-Za-z0-9_\-]|(?m:$))",
            Charset::Base64 => r"(?:[^A-Za-z0-9+/=]|(?m:$))",
            Charset::Uuid => r"(?:[^A-Za-z0-9\-]|(?m:$))",
            _ => r"(?:[^A-Za-z0-9]|(?m:$))",
        }
    }

    /// The entropy floor a random value of this alphabet clears (bits per character), unless
    /// the rule sets its own.
    pub fn default_entropy(self) -> f64 {
        match self {
            Charset::Hex | Charset::HexLower | Charset::HexUpper | Charset::Uuid => 3.0,
            Charset::AlnumLower | Charset::AlnumUpper => 3.2,
            Charset::Alnum | Charset::Base64url => 3.5,
            Charset::Base64 => 3.8,
        }
    }

    /// Whether a random value needs both letters and digits: alphabets mixing both do (a
    /// 20-character random base62 string without a digit is rare; an identifier is not).
    fn mixed(self) -> bool {
        !matches!(
            self,
            Charset::Hex | Charset::HexLower | Charset::HexUpper | Charset::Uuid
        )
    }
}

/// A value's length: exact, or `[min, max]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Length {
    Exact(u16),
    Range([u16; 2]),
}

impl Length {
    fn bounds(self) -> (u16, u16) {
        match self {
            Length::Exact(n) => (n, n),
            Length::Range([a, b]) => (a.min(b), a.max(b)),
        }
    }
}

/// How a keyword-context rule recognises its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextSpec {
    pub charset: Charset,
    /// Ignored for UUIDs.
    #[serde(default = "default_length")]
    pub length: Length,
    /// A literal the value starts with (part of the secret, not of its length).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Credential words that must follow the provider keyword in the name (`password` for
    /// `PLANETSCALE_PASSWORD`). Empty: any name holding the keyword.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// Whether values may lack a digit or a letter (some providers issue letters only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unmixed: bool,
}

fn default_length() -> Length {
    Length::Range([16, 64])
}

/// Words that name a credential in a child key under a provider's parent key.
const CREDENTIAL_WORDS: &str = "api_?key|apikey|key|token|secret|password|passwd|pass|pat|auth|credentials?|access_?token|authorization";

fn alternation(words: &[String]) -> String {
    words
        .iter()
        .map(|w| regex::escape(w))
        .collect::<Vec<_>>()
        .join("|")
}

/// Why a context specification cannot make a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    #[error("context length must be between 8 and 512 characters")]
    Length,
    #[error("context rules need at least one keyword (the provider's name as it appears in names)")]
    NoKeywords,
    #[error("a context name must be at least 2 characters")]
    ShortName,
}

/// The regex a context rule runs, from its keywords and specification.
pub fn pattern(keywords: &[String], spec: &ContextSpec) -> Result<String, ContextError> {
    if keywords.is_empty() {
        return Err(ContextError::NoKeywords);
    }
    if spec.names.iter().any(|n| n.len() < 2) {
        return Err(ContextError::ShortName);
    }
    let (min, max) = spec.length.bounds();
    if spec.charset != Charset::Uuid && (min < 8 || max > 512) {
        return Err(ContextError::Length);
    }
    let keys = alternation(keywords);
    // Fillers (the rest of a name, of a line) are unbounded: the window bounds the search, and
    // counted repetitions (`{0,40}`) multiplied the lazy DFA's states until it gave up.
    let ident = r"[A-Za-z0-9_.\-]";
    let name = if spec.names.is_empty() {
        format!("(?i:{keys}){ident}*?")
    } else {
        format!(
            "(?i:{keys}){ident}*?(?i:{}){ident}*?",
            alternation(&spec.names)
        )
    };
    let child = if spec.names.is_empty() {
        CREDENTIAL_WORDS.to_string()
    } else {
        alternation(&spec.names)
    };
    // 1. The name itself: KEY…NAME then an assignment in any of the common syntaxes
    //    (`name: Type = v` for annotated declarations included).
    let direct = format!(
        "{name}[\"'`\\]]{{0,2}}(?:[ \\t]+(?i:value)[ \\t]*)?[ \\t]{{0,4}}(?::[ \\t]*[A-Za-z_][A-Za-z0-9_.\\[\\]<>]*[ \\t]*=|\\|\\|=|\\?\\?=|=>|:=|<-|=|:|\\(|,|>|[ \\t])[ \\t]{{0,4}}"
    );
    // 2. The keyword as a parent — a key (`asana:`), a section (`[asana]`), a block
    //    (`provider "ably" {`), a URL or a comment naming it — and the credential word as a
    //    child key within four lines.
    let nested = format!(
        "(?i:{keys}){ident}*[\"'\\]]?[ \\t]*(?:[:=][ \\t]*)?[{{\\[]?[^\\r\\n]*?(?:\\r?\\n[^\\r\\n]*?){{0,4}}?(?:\\r?\\n)?[ \\t]*(?:-H[ \\t]+)?[\"']?{ident}*?(?i:{child}){ident}*?[\"']?[ \\t]*[:=][ \\t]*"
    );
    // 3. The name as a label and its value a line or two down (`- name: ASANA_PAT` then
    //    `value: …` in Kubernetes, `variable "asana_pat" {` then `default = …` in Terraform).
    let labelled = format!(
        "{name}[\"'\\]]?[^\\r\\n]*?(?:\\r?\\n[^\\r\\n]*?){{0,2}}?\\r?\\n[ \\t]*-?[ \\t]*[\"']?(?i:value|default)[\"']?[ \\t]*[:=][ \\t]*"
    );
    let prefix = spec
        .prefix
        .as_deref()
        .map(regex::escape)
        .unwrap_or_default();
    let value = match spec.charset {
        Charset::Uuid => {
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
                .to_string()
        }
        Charset::Base64 => format!("{}{{{min},{max}}}={{0,2}}", spec.charset.class()),
        c => format!("{}{{{min},{max}}}", c.class()),
    };
    Ok(format!(
        "(?:{direct}|{nested}|{labelled})(?:(?i:bearer|token|basic|app|api-?key|apikey|oauth|key|sso-key)[ \\t]+)?(?:(?i:token|key)=)?[\"'`]?(?P<secret>{prefix}{value}){}",
        spec.charset.boundary()
    ))
}

/// What a context rule adds when the rule leaves it unset: its entropy floor, the letters-and-
/// digits check, and a window across lines for nested keys.
pub fn defaults(spec: &ContextSpec) -> (f64, Option<Validator>, usize) {
    let mixed = spec.charset.mixed() && !spec.unmixed;
    (
        spec.charset.default_entropy(),
        mixed.then_some(Validator::Mixed),
        CONTEXT_WINDOW,
    )
}

/// Bytes searched each side of a keyword: the nested form reaches four lines down.
pub const CONTEXT_WINDOW: usize = 768;

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(charset: Charset, length: Length) -> ContextSpec {
        ContextSpec {
            charset,
            length,
            prefix: None,
            names: Vec::new(),
            unmixed: false,
        }
    }

    fn secret(pattern: &str, text: &str) -> Option<String> {
        let re = regex::Regex::new(pattern).unwrap();
        re.captures(text)
            .and_then(|c| c.name("secret"))
            .map(|m| m.as_str().to_string())
    }

    #[test]
    fn every_common_assignment_syntax_is_read() {
        let p = pattern(&["asana".into()], &spec(Charset::Alnum, Length::Exact(32))).unwrap();
        let v = "k9Qz2Lm7Xw4Rt8Vn1Bc6Hy3Dp5Fs0GjA";
        for text in [
            format!("ASANA_TOKEN={v}"),
            format!("export ASANA_PAT=\"{v}\""),
            format!("asana_pat: {v}"),
            format!("\"asana_pat\": \"{v}\","),
            format!("asanaToken := \"{v}\""),
            format!("'asana_token' => '{v}',"),
            format!("asana_token <- \"{v}\""),
            format!("$env:ASANA_TOKEN = \"{v}\""),
            format!("ENV ASANA_TOKEN {v}"),
            format!("client.setAsanaToken(\"{v}\");"),
            format!("os.environ[\"ASANA_TOKEN\"] = \"{v}\""),
            format!("<asanaToken>{v}</asanaToken>"),
            format!("<add key=\"AsanaToken\" value=\"{v}\" />"),
            format!("X-Asana-Token: {v}"),
            format!("https://app.example/hook?asana_token={v}&x=1"),
            format!("asana:\n  token: {v}\n"),
            format!("{{\n  \"asana\": {{\n    \"pat\": \"{v}\"\n  }}\n}}"),
            format!("\"asana\": {{\"pat\": \"{v}\"}}"),
            format!("asana.access.token={v}"),
            format!("    asana_token: str = \"{v}\""),
            format!("ENV['ASANA_PAT'] ||= '{v}'"),
            format!("process.env.ASANA_PAT ??= \"{v}\";"),
            format!("[asana]\nendpoint = \"https://app.asana.com\"\ntoken = {v}\n"),
            format!("provider \"asana\" {{\n  api_key = \"{v}\"\n}}"),
            format!(
                "variable \"asana_pat\" {{\n  type      = string\n  sensitive = true\n  default   = \"{v}\"\n}}"
            ),
            format!("        - name: ASANA_PAT\n          value: \"{v}\""),
            format!(
                "# smoke test against app.asana.com\ncurl -fsS \"https://app.asana.com/api/1.0/users/me\" \\\n  -H \"Authorization: Bearer {v}\""
            ),
            format!("GET https://app.asana.com/api/1.0/users/me\nAuthorization: Token token={v}\n"),
        ] {
            assert_eq!(secret(&p, &text).as_deref(), Some(v), "{text}");
        }
    }

    #[test]
    fn values_of_the_wrong_shape_are_not_read() {
        let p = pattern(&["asana".into()], &spec(Charset::Alnum, Length::Exact(32))).unwrap();
        for text in [
            "ASANA_TOKEN=${ASANA_TOKEN}",
            "asana_token = os.getenv(\"ASANA_TOKEN\")",
            "asana_token: \"{{ asana_token }}\"",
            // One character too long: part of a longer token.
            "ASANA_TOKEN=k9Qz2Lm7Xw4Rt8Vn1Bc6Hy3Dp5Fs0GjAb",
            "ASANA_TOKEN=k9Qz2Lm7Xw4Rt8Vn1Bc6Hy3Dp5Fs0Gj",
            "token=k9Qz2Lm7Xw4Rt8Vn1Bc6Hy3Dp5Fs0GjA",
        ] {
            assert_eq!(secret(&p, text), None, "{text}");
        }
    }

    #[test]
    fn names_narrow_the_assignment_and_prefixes_belong_to_the_secret() {
        let mut s = spec(Charset::Base64url, Length::Exact(43));
        s.names = vec!["password".into()];
        s.prefix = Some("pscale_pw_".into());
        let p = pattern(&["planetscale".into()], &s).unwrap();
        let v = "pscale_pw_Xq3mK9vL2pR7tW4zN8cB1dF6gH0jS5aE_u-Yi2Qo7Rk";
        assert_eq!(
            secret(&p, &format!("PLANETSCALE_PASSWORD={v}")).as_deref(),
            Some(v)
        );
        assert_eq!(secret(&p, &format!("PLANETSCALE_USERNAME={v}")), None);
    }

    #[test]
    fn bad_specifications_are_refused() {
        assert_eq!(
            pattern(&[], &spec(Charset::Hex, Length::Exact(32))),
            Err(ContextError::NoKeywords)
        );
        assert_eq!(
            pattern(&["x1".into()], &spec(Charset::Hex, Length::Exact(4))),
            Err(ContextError::Length)
        );
    }
}
