//! The `[notify]` table of `warrant.toml`: where notifications go.
//!
//! ```toml
//! [[notify.targets]]
//! name = "secops-slack"
//! kind = "slack"
//! url = "https://hooks.slack.com/services/T0EXAMPLE/B0EXAMPLE/example-webhook-path"
//! events = ["plan.proposed", "plan.failed", "exception.expiring"]
//!
//! [[notify.targets]]
//! name = "soar"
//! kind = "webhook"
//! url = "https://soar.example.com/hooks/warrant"
//! headers = { Authorization = "Bearer ${SOAR_TOKEN}" }
//! timeout_seconds = 5
//! max_attempts = 3
//!
//! [[notify.targets]]
//! name = "jira"
//! kind = "jira"
//! url = "https://example.atlassian.net"
//! project = "SEC"
//! issue_type = "Task"
//! events = ["review.assigned", "review.overdue"]
//! headers = { Authorization = "Basic ${JIRA_BASIC_AUTH}" }
//! ```
//!
//! Every key but `name`, `kind` and `url` has a default: `events` all of them, `headers` none,
//! `timeout_seconds` 10 (per attempt), `max_attempts` 5, and for Jira `issue_type` "Task".
//! Header values may name environment variables as `${NAME}`; they are read when a
//! notification is sent, so tokens live in the environment (or a secret manager that fills it)
//! rather than in the file, and a rotated token is picked up without a restart. Credentials in
//! the URL (`https://user:password@host/…`) are sent as HTTP Basic authentication.
//!
//! Unknown keys are errors, and so are an empty name, a URL that is not http or https, an event
//! name that does not exist or a header that cannot be sent: each error names the target and
//! the key, so a typo never silently drops notifications.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use hyper::Uri;
use hyper::header::{HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::event::EventKind;
use crate::redact;

/// Per-attempt timeout when `timeout_seconds` is left out.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 10;
/// Attempts per delivery when `max_attempts` is left out.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
/// Jira issue type when `issue_type` is left out.
pub const DEFAULT_JIRA_ISSUE_TYPE: &str = "Task";
/// The largest `timeout_seconds` accepted: a webhook that needs longer is broken.
pub const MAX_TIMEOUT_SECONDS: u64 = 300;
/// The largest `max_attempts` accepted.
pub const MAX_ATTEMPTS_LIMIT: u32 = 20;

/// Headers Warrant sets itself (framing, the body's type, the idempotency key): a target
/// cannot replace them.
const RESERVED_HEADERS: [&str; 6] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "content-type",
    "idempotency-key",
];

/// The `[notify]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// Where notifications go; each event goes to every target whose `events` lists it.
    #[serde(default)]
    pub targets: Vec<TargetConfig>,
}

/// What a target's body looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetKind {
    /// A Slack incoming webhook (`https://hooks.slack.com/services/…`): Block Kit message.
    Slack,
    /// Any HTTP endpoint: the event as versioned JSON (`warrant.notification/1`).
    Webhook,
    /// Jira Cloud or Data Center: an issue created through `POST {url}/rest/api/2/issue`.
    Jira,
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TargetKind::Slack => "slack",
            TargetKind::Webhook => "webhook",
            TargetKind::Jira => "jira",
        })
    }
}

/// One `[[notify.targets]]` entry, as written.
///
/// `Debug` shows header names but not their values, and the URL without its credentials,
/// query or (for Slack, where the path is the secret) path.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// Names the target in deliveries, errors and logs.
    pub name: String,
    pub kind: TargetKind,
    /// The endpoint; for Jira the base URL (`https://example.atlassian.net`), to which
    /// `/rest/api/2/issue` is appended.
    pub url: String,
    /// The events sent to this target (`plan.proposed`, …); all of them when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    /// Extra request headers; values may contain `${ENV_NAME}`, read at send time.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// How long one attempt may take, connecting included.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
    /// Attempts before giving up (1 means no retry).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Jira only: the project key issues are created in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Jira only: the issue type's name; "Task" when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_type: Option<String>,
}

fn default_timeout_seconds() -> u64 {
    DEFAULT_TIMEOUT_SECONDS
}

fn default_max_attempts() -> u32 {
    DEFAULT_MAX_ATTEMPTS
}

impl TargetConfig {
    /// A target with every optional key at its default.
    pub fn new(name: impl Into<String>, kind: TargetKind, url: impl Into<String>) -> Self {
        TargetConfig {
            name: name.into(),
            kind,
            url: url.into(),
            events: None,
            headers: BTreeMap::new(),
            timeout_seconds: DEFAULT_TIMEOUT_SECONDS,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            project: None,
            issue_type: None,
        }
    }
}

impl fmt::Debug for TargetConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = Url::parse(&self.url)
            .map(|url| redact::display_url(&url, self.kind))
            .unwrap_or_else(|_| "<invalid url>".to_string());
        f.debug_struct("TargetConfig")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("url", &url)
            .field("events", &self.events)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("timeout_seconds", &self.timeout_seconds)
            .field("max_attempts", &self.max_attempts)
            .field("project", &self.project)
            .field("issue_type", &self.issue_type)
            .finish()
    }
}

/// A `[notify]` table that cannot be used, saying where and why. Never contains a header
/// value or a URL's credentials, query or (for Slack) path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The TOML text does not parse or has an unknown key (`line L, column C: …`).
    #[error("{origin}: {place}: {message}")]
    Syntax {
        origin: String,
        place: String,
        message: String,
    },
    /// A target's key has a value that cannot be used.
    #[error("notify target {target}: {key}: {message}")]
    Target {
        /// The target's name, quoted, or `#N` (from 1) when it has none.
        target: String,
        key: String,
        message: String,
    },
    /// An https target exists but the system has no trusted root certificates.
    #[error("notify: no trusted root certificates for https targets: {message}")]
    RootCertificates { message: String },
}

impl NotifyConfig {
    /// Parses the content of a `[notify]` table given on its own (`[[targets]]` entries) and
    /// validates it. `origin` names the text in errors (a file name).
    pub fn from_toml(text: &str, origin: &str) -> Result<NotifyConfig, ConfigError> {
        let config: NotifyConfig = toml::from_str(text).map_err(|error| {
            // The error's own Display quotes the offending line, which could hold a token a
            // header was given literally: report the message and the position only.
            let place = match error.span() {
                Some(span) => {
                    let before = text.get(..span.start).unwrap_or(text);
                    let line = before.matches('\n').count() + 1;
                    let column = before
                        .rsplit('\n')
                        .next()
                        .map_or(0, |last| last.chars().count())
                        + 1;
                    format!("line {line}, column {column}")
                }
                None => "notify".to_string(),
            };
            ConfigError::Syntax {
                origin: origin.to_string(),
                place,
                message: error.message().to_string(),
            }
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every target without building a client.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.compile().map(|_| ())
    }

    /// The validated targets, in the order written.
    pub(crate) fn compile(&self) -> Result<Vec<Target>, ConfigError> {
        let mut names = BTreeSet::new();
        let mut targets = Vec::with_capacity(self.targets.len());
        for (index, config) in self.targets.iter().enumerate() {
            let target = Target::compile(index, config)?;
            if !names.insert(target.name.clone()) {
                return Err(invalid(
                    index,
                    config,
                    "name",
                    "another target has the same name",
                ));
            }
            targets.push(target);
        }
        Ok(targets)
    }
}

fn label(index: usize, config: &TargetConfig) -> String {
    if config.name.trim().is_empty() {
        format!("#{}", index + 1)
    } else {
        format!("{:?}", config.name)
    }
}

fn invalid(
    index: usize,
    config: &TargetConfig,
    key: &str,
    message: impl Into<String>,
) -> ConfigError {
    ConfigError::Target {
        target: label(index, config),
        key: key.to_string(),
        message: message.into(),
    }
}

/// How a validated target's body is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Format {
    Slack,
    Webhook,
    Jira { project: String, issue_type: String },
}

/// A target checked and ready to send to.
pub(crate) struct Target {
    pub(crate) name: String,
    pub(crate) format: Format,
    /// Where requests go: the URL without credentials or fragment (and for Jira with the
    /// issue path appended).
    pub(crate) uri: Uri,
    pub(crate) https: bool,
    /// The URL as errors and logs show it (`redact::display_url`).
    pub(crate) display_url: String,
    /// Strings that must never appear in an error: the URL's query, credentials and (for
    /// Slack) path. Transport errors are scrubbed of them (`redact::scrub`).
    pub(crate) secrets: Vec<String>,
    /// From the URL's credentials.
    pub(crate) basic_auth: Option<HeaderValue>,
    pub(crate) events: BTreeSet<EventKind>,
    /// Each header's name, the name as written (for errors) and its value.
    pub(crate) headers: Vec<(HeaderName, String, HeaderTemplate)>,
    pub(crate) timeout: Duration,
    pub(crate) max_attempts: u32,
}

impl Target {
    fn compile(index: usize, config: &TargetConfig) -> Result<Target, ConfigError> {
        let fail = |key: &str, message: String| invalid(index, config, key, message);

        let name = config.name.trim();
        if name.is_empty() {
            return Err(fail("name", "must not be empty".into()));
        }
        if name.chars().any(char::is_control) {
            return Err(fail("name", "must not contain control characters".into()));
        }

        // The parser's messages do not repeat the URL, which may hold a token.
        let url = Url::parse(config.url.trim())
            .map_err(|error| fail("url", format!("not a valid URL ({error})")))?;
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            other => {
                return Err(fail(
                    "url",
                    format!("scheme must be http or https, not {other:?}"),
                ));
            }
        };
        let Some(host) = url.host_str().filter(|host| !host.is_empty()) else {
            return Err(fail("url", "has no host".into()));
        };
        if url.fragment().is_some() {
            return Err(fail("url", "must not have a fragment (#…)".into()));
        }

        let format = match config.kind {
            TargetKind::Slack | TargetKind::Webhook => {
                if config.project.is_some() {
                    return Err(fail("project", "is only for jira targets".into()));
                }
                if config.issue_type.is_some() {
                    return Err(fail("issue_type", "is only for jira targets".into()));
                }
                if config.kind == TargetKind::Slack {
                    Format::Slack
                } else {
                    Format::Webhook
                }
            }
            TargetKind::Jira => {
                let project = config
                    .project
                    .as_deref()
                    .map(str::trim)
                    .filter(|project| !project.is_empty())
                    .ok_or_else(|| fail("project", "a jira target needs a project key".into()))?;
                let issue_type = config
                    .issue_type
                    .as_deref()
                    .map(str::trim)
                    .unwrap_or(DEFAULT_JIRA_ISSUE_TYPE);
                if issue_type.is_empty() {
                    return Err(fail("issue_type", "must not be empty".into()));
                }
                if url.query().is_some() {
                    return Err(fail(
                        "url",
                        "a jira target's url is the site's base URL, without a query".into(),
                    ));
                }
                Format::Jira {
                    project: project.to_string(),
                    issue_type: issue_type.to_string(),
                }
            }
        };

        let mut path = url.path().to_string();
        if config.kind == TargetKind::Jira {
            path = format!("{}/rest/api/2/issue", path.trim_end_matches('/'));
        }
        let port = url
            .port()
            .map(|port| format!(":{port}"))
            .unwrap_or_default();
        let query = url
            .query()
            .map(|query| format!("?{query}"))
            .unwrap_or_default();
        let uri: Uri = format!("{}://{host}{port}{path}{query}", url.scheme())
            .parse()
            .map_err(|error| fail("url", format!("cannot be requested ({error})")))?;

        let mut secrets = Vec::new();
        if let Some(query) = url.query().filter(|query| !query.is_empty()) {
            secrets.push(query.to_string());
        }
        if config.kind == TargetKind::Slack {
            // `/services/T…/B…/<secret>`: the whole path is the credential.
            let path = url.path().trim_matches('/');
            if !path.is_empty() {
                secrets.push(path.to_string());
            }
        }
        let basic_auth = basic_auth(&url, &mut secrets).map_err(|message| fail("url", message))?;

        let events = match &config.events {
            None => EventKind::ALL.into_iter().collect(),
            Some(names) => {
                if names.is_empty() {
                    return Err(fail(
                        "events",
                        "is empty (leave the key out to send every event)".into(),
                    ));
                }
                names
                    .iter()
                    .map(|name| {
                        name.parse::<EventKind>()
                            .map_err(|error| fail("events", error.to_string()))
                    })
                    .collect::<Result<BTreeSet<_>, _>>()?
            }
        };

        let mut headers = Vec::with_capacity(config.headers.len());
        for (header, value) in &config.headers {
            let key = format!("headers.{header}");
            let header_name = HeaderName::from_bytes(header.as_bytes())
                .map_err(|_| fail(&key, "is not a valid HTTP header name".into()))?;
            if RESERVED_HEADERS.contains(&header_name.as_str()) {
                return Err(fail(
                    &key,
                    "is set by Warrant and cannot be replaced".into(),
                ));
            }
            if header_name == hyper::header::AUTHORIZATION && basic_auth.is_some() {
                return Err(fail(
                    &key,
                    "the url carries credentials already; use one or the other".into(),
                ));
            }
            let template = HeaderTemplate::parse(value).map_err(|message| fail(&key, message))?;
            headers.push((header_name, header.clone(), template));
        }

        if !(1..=MAX_TIMEOUT_SECONDS).contains(&config.timeout_seconds) {
            return Err(fail(
                "timeout_seconds",
                format!("must be between 1 and {MAX_TIMEOUT_SECONDS}"),
            ));
        }
        if !(1..=MAX_ATTEMPTS_LIMIT).contains(&config.max_attempts) {
            return Err(fail(
                "max_attempts",
                format!("must be between 1 and {MAX_ATTEMPTS_LIMIT}"),
            ));
        }

        Ok(Target {
            name: name.to_string(),
            format,
            uri,
            https,
            display_url: redact::display_url(&url, config.kind),
            secrets,
            basic_auth,
            events,
            headers,
            timeout: Duration::from_secs(config.timeout_seconds),
            max_attempts: config.max_attempts,
        })
    }
}

/// `Authorization: Basic …` from a URL's `user:password@`, percent-decoded.
fn basic_auth(url: &Url, secrets: &mut Vec<String>) -> Result<Option<HeaderValue>, String> {
    if url.username().is_empty() && url.password().is_none() {
        return Ok(None);
    }
    secrets.push(url.username().to_string());
    secrets.extend(url.password().map(str::to_string));
    let decode = |part: &str| {
        percent_encoding::percent_decode_str(part)
            .decode_utf8()
            .map(|text| text.into_owned())
            .map_err(|_| "its credentials are not UTF-8 once decoded".to_string())
    };
    let user = decode(url.username())?;
    let password = decode(url.password().unwrap_or(""))?;
    secrets.retain(|secret| !secret.is_empty());
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
        .map_err(|_| "its credentials cannot be sent".to_string())?;
    value.set_sensitive(true);
    Ok(Some(value))
}

/// A header value with `${NAME}` references to environment variables, resolved at send time.
///
/// `$` not followed by `{` is literal. Variable names are letters, digits and `_`, not
/// starting with a digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeaderTemplate {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Variable(String),
}

/// A header could not be given a value at send time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResolveError {
    /// The environment variable is not set.
    Missing(String),
}

impl HeaderTemplate {
    pub(crate) fn parse(text: &str) -> Result<HeaderTemplate, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let (literal, after) = rest.split_at(start);
            let after = after.get(2..).unwrap_or("");
            let Some(end) = after.find('}') else {
                return Err("has `${` without a closing `}`".to_string());
            };
            let (name, tail) = after.split_at(end);
            let valid = name
                .chars()
                .next()
                .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(format!(
                    "`${{{name}}}` is not an environment variable name (letters, digits, _)"
                ));
            }
            push_literal(&mut pieces, literal)?;
            pieces.push(Piece::Variable(name.to_string()));
            rest = tail.get(1..).unwrap_or("");
        }
        push_literal(&mut pieces, rest)?;
        Ok(HeaderTemplate { pieces })
    }

    /// The value with every variable replaced by `lookup`'s answer.
    pub(crate) fn resolve(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<String, ResolveError> {
        let mut value = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => value.push_str(text),
                Piece::Variable(name) => match lookup(name) {
                    Some(text) => value.push_str(&text),
                    None => return Err(ResolveError::Missing(name.clone())),
                },
            }
        }
        Ok(value)
    }
}

fn push_literal(pieces: &mut Vec<Piece>, literal: &str) -> Result<(), String> {
    if literal.is_empty() {
        return Ok(());
    }
    // The message does not quote the value: it may be a token written literally.
    if HeaderValue::from_str(literal).is_err() {
        return Err("contains characters a header value cannot hold".to_string());
    }
    pieces.push(Piece::Literal(literal.to_string()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_split_literals_and_variables() {
        let template = HeaderTemplate::parse("Bearer ${TOKEN}-$x-${A_1}").unwrap();
        let env = |name: &str| match name {
            "TOKEN" => Some("t0k".to_string()),
            "A_1" => Some("a".to_string()),
            _ => None,
        };
        assert_eq!(template.resolve(&env).unwrap(), "Bearer t0k-$x-a");
        let missing = HeaderTemplate::parse("${NOPE}").unwrap();
        assert_eq!(
            missing.resolve(&env),
            Err(ResolveError::Missing("NOPE".into()))
        );
    }

    #[test]
    fn malformed_templates_are_refused() {
        for text in ["${", "Bearer ${TOKEN", "${}", "${1A}", "${A-B}", "a\nb"] {
            assert!(HeaderTemplate::parse(text).is_err(), "{text:?}");
        }
    }
}
