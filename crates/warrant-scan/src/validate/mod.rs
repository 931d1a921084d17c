//! Live validation of found secrets (`--validate`, off by default): ask the issuing provider
//! whether a secret still authenticates.
//!
//! Each provider is a [`Validator`] whose base URL is configurable, so tests point it at a
//! loopback server and nothing here needs a real provider. The raw secret comes only from
//! [`ScanReport::revealed`] and is only ever put in the one request header the provider
//! documents; verdicts and their details never hold it. Requests have a timeout, never follow
//! redirects, and are rate-limited per provider; each distinct secret (by fingerprint) is asked
//! about once.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::finding::SecretFinding;
use crate::scan::ScanReport;

mod http;
mod judge;
mod rate;

pub use http::HttpValidator;

/// Per-request time limit (connect, TLS, request and response together).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Requests per second to one provider; also the burst size.
pub const DEFAULT_RATE_PER_SECOND: u32 = 4;
/// Largest response body read; the answers we need are a few hundred bytes.
const BODY_LIMIT: u64 = 256 * 1024;
/// Longest detail string kept from a provider's answer, in characters.
const DETAIL_CHARS: usize = 200;

/// What a provider said about one secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verdict {
    /// The secret authenticates. `detail` says as whom / with what (login, team, scopes), never
    /// the secret.
    Valid {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// The provider rejected the secret (revoked, expired or never real).
    Invalid,
    /// No answer either way: timeout, rate limit, unexpected status, network error.
    Unknown { reason: String },
}

impl Verdict {
    fn unknown(reason: impl Into<String>) -> Verdict {
        Verdict::Unknown {
            reason: reason.into(),
        }
    }
}

/// The verdict for one distinct secret. Serialisable; holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    pub fingerprint: String,
    /// Rule of the first finding of this secret that a validator covers.
    pub rule: String,
    /// Provider of the validator that answered.
    pub provider: String,
    pub verdict: Verdict,
}

/// Checks secrets of some rules against their provider.
pub trait Validator: Send + Sync {
    /// Provider name, as in rule files (`github`, `slack`, …).
    fn provider(&self) -> &str;
    /// Rule ids whose secrets this validator can check.
    fn rules(&self) -> &[&str];
    /// Where requests go (`https://api.github.com`, or a loopback server in tests).
    fn base_url(&self) -> &str;
    /// Asks the provider about `secret`. Never fails: trouble is [`Verdict::Unknown`].
    fn validate(&self, secret: &str) -> Verdict;
}

#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    #[error("no validator for provider `{0}` (known: github, gitlab, openai, slack, stripe)")]
    UnknownProvider(String),
    #[error("base URL `{url}` for {provider}: {reason}")]
    BadBaseUrl {
        provider: String,
        url: String,
        reason: String,
    },
}

/// The providers with a built-in validator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    GitHub,
    GitLab,
    OpenAi,
    Slack,
    Stripe,
}

impl Provider {
    pub const ALL: [Provider; 5] = [
        Provider::GitHub,
        Provider::GitLab,
        Provider::OpenAi,
        Provider::Slack,
        Provider::Stripe,
    ];

    /// The provider name used in rule files and in base-URL overrides.
    pub fn name(self) -> &'static str {
        match self {
            Provider::GitHub => "github",
            Provider::GitLab => "gitlab",
            Provider::OpenAi => "openai",
            Provider::Slack => "slack",
            Provider::Stripe => "stripe",
        }
    }

    pub fn from_name(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The real API's base URL.
    pub fn default_base(self) -> &'static str {
        match self {
            Provider::GitHub => "https://api.github.com",
            Provider::GitLab => "https://gitlab.com",
            Provider::OpenAi => "https://api.openai.com",
            Provider::Slack => "https://slack.com",
            Provider::Stripe => "https://api.stripe.com",
        }
    }

    /// Rule ids (see `rules/*.toml`) whose secrets the provider's check endpoint accepts.
    /// Refresh tokens, client secrets, webhook URLs and app-level tokens are left out: the
    /// endpoint would reject them even when live, and a false "invalid" is worse than none.
    pub fn rules(self) -> &'static [&'static str] {
        match self {
            Provider::GitHub => &[
                "github.pat-classic",
                "github.fine-grained-pat",
                "github.oauth-token",
                "github.user-to-server-token",
                "github.server-to-server-token",
            ],
            Provider::GitLab => &["gitlab.pat"],
            Provider::OpenAi => &[
                "openai.api-key",
                "openai.project-key",
                "openai.service-account-key",
                "openai.admin-key",
            ],
            Provider::Slack => &[
                "slack.bot-token",
                "slack.user-token",
                "slack.workspace-token",
                "slack.legacy-token",
                "slack.rotating-token",
            ],
            Provider::Stripe => &[
                "stripe.secret-key",
                "stripe.test-secret-key",
                "stripe.restricted-key",
            ],
        }
    }
}

/// Validators for every built-in provider against the real APIs.
pub fn default_validators() -> Vec<Box<dyn Validator>> {
    // The built-in base URLs are constant https URLs, so this cannot fail.
    validators_with_base(&BTreeMap::new()).unwrap_or_default()
}

/// Validators for every built-in provider, with base URLs replaced per provider name
/// (`github`, `gitlab`, `openai`, `slack`, `stripe`) from `overrides`.
pub fn validators_with_base(
    overrides: &BTreeMap<String, String>,
) -> Result<Vec<Box<dyn Validator>>, ValidateError> {
    if let Some(unknown) = overrides.keys().find(|k| Provider::from_name(k).is_none()) {
        return Err(ValidateError::UnknownProvider(unknown.clone()));
    }
    Provider::ALL
        .into_iter()
        .map(|provider| {
            let base = overrides
                .get(provider.name())
                .map_or(provider.default_base(), String::as_str);
            Ok(Box::new(HttpValidator::new(provider, base)?) as Box<dyn Validator>)
        })
        .collect()
}

/// Asks the validators about each distinct secret in `report`, once per fingerprint, in order of
/// first appearance. Findings no validator covers are left out. Raw values come from
/// `report.revealed`; a scan run without `reveal_secrets` yields [`Verdict::Unknown`].
/// Providers are asked in parallel (one thread each), each under its own rate limit.
pub fn validate_report(report: &ScanReport, validators: &[Box<dyn Validator>]) -> Vec<Validation> {
    // One job per distinct fingerprint: (slot in the output, validator index, finding).
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut jobs: Vec<(usize, usize, &SecretFinding)> = Vec::new();
    for finding in &report.findings {
        if seen.contains(finding.fingerprint.as_str()) {
            continue;
        }
        let rule = finding.rule.as_str();
        if let Some(v) = validators.iter().position(|v| v.rules().contains(&rule)) {
            seen.insert(&finding.fingerprint);
            jobs.push((jobs.len(), v, finding));
        }
    }
    let mut results: Vec<Option<Validation>> = vec![None; jobs.len()];
    std::thread::scope(|scope| {
        let handles: Vec<_> = validators
            .iter()
            .enumerate()
            .filter_map(|(v, validator)| {
                let mine: Vec<(usize, &SecretFinding)> = jobs
                    .iter()
                    .filter(|(_, jv, _)| *jv == v)
                    .map(|(slot, _, finding)| (*slot, *finding))
                    .collect();
                if mine.is_empty() {
                    return None;
                }
                Some(scope.spawn(move || {
                    mine.into_iter()
                        .map(|(slot, finding)| {
                            (slot, validate_one(report, validator.as_ref(), finding))
                        })
                        .collect::<Vec<_>>()
                }))
            })
            .collect();
        for handle in handles {
            // A validator that panicked loses its verdicts; the others still count.
            if let Ok(done) = handle.join() {
                for (slot, validation) in done {
                    if let Some(place) = results.get_mut(slot) {
                        *place = Some(validation);
                    }
                }
            }
        }
    });
    results.into_iter().flatten().collect()
}

fn validate_one(
    report: &ScanReport,
    validator: &dyn Validator,
    finding: &SecretFinding,
) -> Validation {
    let verdict = match report.revealed.get(&finding.fingerprint) {
        Some(secret) => validator.validate(secret),
        None => Verdict::unknown("raw secret not kept (scan without reveal_secrets)"),
    };
    Validation {
        fingerprint: finding.fingerprint.clone(),
        rule: finding.rule.clone(),
        provider: validator.provider().to_string(),
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_validated_rule_belongs_to_its_provider_and_exists() {
        let rules = crate::RuleSet::builtin().unwrap();
        for provider in Provider::ALL {
            for id in provider.rules() {
                let rule = rules
                    .get(id)
                    .unwrap_or_else(|| panic!("no built-in rule {id}"));
                assert_eq!(rule.provider, provider.name(), "{id}");
            }
        }
    }

    #[test]
    fn verdicts_serialise_with_a_status_tag() {
        let v = Validation {
            fingerprint: "fp1:ab".into(),
            rule: "github.pat-classic".into(),
            provider: "github".into(),
            verdict: Verdict::Valid {
                detail: Some("login octocat".into()),
            },
        };
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"fingerprint":"fp1:ab","rule":"github.pat-classic","provider":"github","verdict":{"status":"valid","detail":"login octocat"}}"#
        );
        assert_eq!(
            serde_json::to_string(&Verdict::Invalid).unwrap(),
            r#"{"status":"invalid"}"#
        );
    }
}
