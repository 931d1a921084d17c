//! Rules as data. Each built-in rule file (`rules/*.toml`) is compiled into the binary; users add
//! or override rules with their own files of the same shape (see `rules/README.md`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Built-in rule files `(name, TOML text)`: every `rules/*.toml`, gathered by `build.rs`.
pub const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// How sure a match is a real secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    /// One level lower (low stays low).
    pub fn lower(self) -> Confidence {
        match self {
            Confidence::High => Confidence::Medium,
            Confidence::Medium | Confidence::Low => Confidence::Low,
        }
    }
}

/// Checksums and structure checks some token formats allow; a match that fails its check is
/// dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Validator {
    /// GitHub's new-format tokens: the last 6 characters are the CRC32 of the 30 random
    /// characters, in base62. Checked on the last 36 characters of the secret, so it also fits
    /// other tokens built the same way.
    GithubCrc32,
    /// npm access tokens (`npm_` + 36): the same base62 CRC32 suffix as GitHub's.
    NpmCrc32,
    /// A JSON Web Token: three base64url segments whose first decodes to a JSON object with an
    /// `alg` member (drops look-alike `eyJ…` strings that are not tokens).
    Jwt,
    /// Letters and digits both: a random value of a mixed alphabet has them, an identifier or
    /// a word does not. Keyword-context rules get it by default.
    Mixed,
    /// PyPI API tokens: `pypi-` + base64url of a libmacaroons v2 macaroon, parsed to its last
    /// byte (location, identifier, caveats, 32-byte signature). A fabricated tail behind the
    /// fixed `pypi-AgEIcHlwaS5vcmc` prefix does not parse.
    PypiMacaroon,
    /// PEM private keys: the body between BEGIN and END (real or `\n`-escaped newlines, header
    /// lines left out) is base64 of the structure the label names (`openssh-key-v1\0`, or a DER
    /// SEQUENCE). Placeholder and hand-typed bodies fail.
    PemBody,
    /// HTTP Basic credentials: base64 of printable `user:password`.
    BasicCredentials,
}

/// One detection rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable id, `provider.kind` (e.g. `github.pat-classic`). Baselines and allowlists name it.
    pub id: String,
    pub name: String,
    /// Provider family (`aws`, `github`, `slack`, … or `generic`).
    pub provider: String,
    /// Rust `regex` syntax. The secret is the capture group named `secret`, else group 1, else
    /// the whole match. Written from `context` when that is given instead.
    #[serde(default)]
    pub pattern: String,
    /// A keyword-context rule: the value's alphabet and length after a name holding one of
    /// the keywords, in any common assignment syntax (see [`crate::context`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<crate::context::ContextSpec>,
    /// Literal strings, matched ASCII-case-insensitively, at least one of which occurs in (or
    /// right before) every match. The prefilter runs the regex only near these. Required: a rule
    /// without keywords would have to run on every byte.
    pub keywords: Vec<String>,
    /// Minimum Shannon entropy of the secret, in bits per character.
    #[serde(default)]
    pub entropy: Option<f64>,
    #[serde(default)]
    pub validator: Option<Validator>,
    /// Bytes on each side of a keyword hit that a match may reach, across lines. Without it the
    /// regex sees only the line holding the keyword (at most 4096 bytes each side), which is
    /// what single-line tokens need; multi-line secrets (PEM blocks) set e.g. `window = 8192`.
    /// A pattern that can cross lines on its own (`(?s)`, `\n`) gets 8192 when unset.
    #[serde(default)]
    pub window: Option<usize>,
    pub confidence: Confidence,
    /// What the secret is, for the report: `api-key`, `token`, `private-key`, `password`, …
    #[serde(default)]
    pub kind: Option<String>,
    /// Provider documentation of the format, for reviewers of the rule.
    #[serde(default)]
    pub references: Vec<String>,
    /// Inputs the rule must find (each must yield at least one match).
    pub examples: Vec<String>,
    /// Inputs the rule must not find.
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default, rename = "rule")]
    rules: Vec<Rule>,
}

/// A rule file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: rule {id}: invalid pattern: {message}")]
    Pattern {
        file: String,
        id: String,
        message: String,
    },
    #[error("{file}: rule {id}: {message}")]
    Invalid {
        file: String,
        id: String,
        message: String,
    },
}

/// An ordered set of rules with unique ids; later files override earlier rules of the same id.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: BTreeMap<String, Rule>,
}

impl RuleSet {
    /// The rules compiled into the binary.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        let mut set = RuleSet::default();
        for (name, text) in BUILTIN {
            // Built-in patterns are compiled by CI (every rule's examples run through the
            // engine); compiling a thousand regexes on every start only to check them cost
            // seconds. The engine builds each on first use.
            let before = set.len();
            let file = RuleSet::parse(name, text, false)?;
            let added = file.len();
            set.rules.extend(file.rules);
            // Two built-in files must not define one id: the later would silently win.
            if set.len() != before + added {
                return Err(RuleError::Invalid {
                    file: (*name).to_string(),
                    id: "*".into(),
                    message: "redefines a rule id of another built-in file".into(),
                });
            }
        }
        Ok(set)
    }

    /// Adds (or overrides by id) the rules of one TOML file. `name` is used in errors.
    pub fn add_file(&mut self, name: &str, text: &str) -> Result<(), RuleError> {
        self.add(name, text, true)
    }

    fn parse(name: &str, text: &str, check_patterns: bool) -> Result<RuleSet, RuleError> {
        let mut set = RuleSet::default();
        set.add(name, text, check_patterns)?;
        Ok(set)
    }

    fn add(&mut self, name: &str, text: &str, check_patterns: bool) -> Result<(), RuleError> {
        let file: RuleFile = toml::from_str(text).map_err(|e| RuleError::Parse {
            file: name.to_string(),
            message: e.to_string(),
        })?;
        let mut seen = std::collections::BTreeSet::new();
        for mut rule in file.rules {
            if !seen.insert(rule.id.clone()) {
                return Err(RuleError::Invalid {
                    file: name.to_string(),
                    id: rule.id.clone(),
                    message: "defined twice in this file".into(),
                });
            }
            expand(name, &mut rule)?;
            check(name, &rule, check_patterns)?;
            self.rules.insert(rule.id.clone(), rule);
        }
        Ok(())
    }

    /// A set of one rule, as loaded (a context rule keeps its written pattern).
    pub fn of(rule: Rule) -> RuleSet {
        let mut set = RuleSet::default();
        set.rules.insert(rule.id.clone(), rule);
        set
    }

    /// The rules of one file alone, checked as `add_file` checks them.
    pub fn from_file(name: &str, text: &str) -> Result<RuleSet, RuleError> {
        let mut set = RuleSet::default();
        set.add_file(name, text)?;
        Ok(set)
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Rule> {
        self.rules.values()
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.get(id)
    }

    /// Removes rules by id (user configuration can disable built-ins).
    pub fn remove(&mut self, id: &str) -> Option<Rule> {
        self.rules.remove(id)
    }
}

/// Largest `window` a rule may ask for: bounds the work one keyword hit can cause.
pub const MAX_WINDOW: usize = 65536;

/// Writes a context rule's pattern, and its defaults where the rule leaves them unset.
fn expand(file: &str, rule: &mut Rule) -> Result<(), RuleError> {
    let invalid = |message: String| RuleError::Invalid {
        file: file.to_string(),
        id: rule.id.clone(),
        message,
    };
    match (&rule.context, rule.pattern.is_empty()) {
        (Some(_), false) => Err(invalid(
            "give either a pattern or a context, not both".into(),
        )),
        (None, true) => Err(invalid("needs a pattern (or a context)".into())),
        (None, false) => Ok(()),
        (Some(spec), true) => {
            let spec = spec.clone();
            rule.pattern = crate::context::pattern(&rule.keywords, &spec)
                .map_err(|e| invalid(e.to_string()))?;
            let (entropy, validator, window) = crate::context::defaults(&spec);
            rule.entropy.get_or_insert(entropy);
            if rule.validator.is_none() {
                rule.validator = validator;
            }
            rule.window.get_or_insert(window);
            Ok(())
        }
    }
}

fn check(file: &str, rule: &Rule, check_pattern: bool) -> Result<(), RuleError> {
    let invalid = |message: &str| RuleError::Invalid {
        file: file.to_string(),
        id: rule.id.clone(),
        message: message.to_string(),
    };
    if rule.id.is_empty()
        || !rule
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(invalid(
            "id must be non-empty ASCII letters, digits, '.', '_' or '-'",
        ));
    }
    if rule.keywords.is_empty() || rule.keywords.iter().any(|k| k.len() < 2) {
        return Err(invalid("needs at least one keyword of 2 or more bytes"));
    }
    if rule.examples.is_empty() {
        return Err(invalid("needs at least one example"));
    }
    if rule.window.is_some_and(|w| w == 0 || w > MAX_WINDOW) {
        return Err(invalid("window must be between 1 and 65536 bytes"));
    }
    if let Some(e) = rule.entropy
        && !(0.0..=8.0).contains(&e)
    {
        return Err(invalid("entropy must be between 0 and 8 bits per byte"));
    }
    if !check_pattern {
        return Ok(());
    }
    // The same syntax the engine compiles with: bytes, ASCII classes and word boundaries.
    regex::bytes::RegexBuilder::new(&rule.pattern)
        .unicode(false)
        .build()
        .map_err(|e| RuleError::Pattern {
            file: file.to_string(),
            id: rule.id.clone(),
            message: e.to_string(),
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "[[rule]]\nid = 'a.b'\nname = 'x'\nprovider = 'a'\npattern = 'ab_[0-9]{8}'\nkeywords = ['ab_']\nconfidence = 'high'\nexamples = ['ab_19283746']\n";

    #[test]
    fn an_id_defined_twice_in_one_file_is_refused_and_a_later_file_overrides() {
        let twice = format!("{RULE}\n{RULE}");
        let err = RuleSet::from_file("dup.toml", &twice).unwrap_err();
        assert!(err.to_string().contains("defined twice"), "{err}");
        let mut set = RuleSet::from_file("one.toml", RULE).unwrap();
        set.add_file("two.toml", &RULE.replace("'high'", "'low'"))
            .unwrap();
        assert_eq!(set.get("a.b").unwrap().confidence, Confidence::Low);
    }

    #[test]
    fn built_in_files_define_each_id_once() {
        let mut total = 0;
        for (name, text) in BUILTIN {
            total += RuleSet::parse(name, text, false).unwrap().len();
        }
        assert_eq!(RuleSet::builtin().unwrap().len(), total);
    }
}
