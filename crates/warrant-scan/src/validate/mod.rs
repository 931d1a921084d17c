//! Live validation of found secrets (`--validate`, off by default): ask the issuing provider
//! whether a secret still authenticates.
//!
//! Each provider is a [`Validator`] whose base URL is configurable, so tests point it at a
//! loopback server and nothing here needs a real provider. The raw secret comes only from
//! [`ScanReport::revealed`] and is only ever put where the provider documents it: one request
//! header, or for Telegram (whose Bot API has no other form) the request path; verdicts and
//! their details never hold it. Requests have a timeout, never follow redirects, and are
//! rate-limited per provider; each distinct secret (by fingerprint) is asked about once.
//!
//! Each provider's check is a documented read-only "who am I" (or token-verify, or list-models)
//! endpoint: [`HttpValidator`] builds the request, `judge.rs` reads the documented answers.

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
    #[error("no validator for provider `{0}` (known: {known})", known = Provider::names())]
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
    Airtable,
    Anthropic,
    Asana,
    CircleCi,
    Cloudflare,
    DeepSeek,
    DigitalOcean,
    Discord,
    Doppler,
    Figma,
    Groq,
    Heroku,
    HuggingFace,
    Linear,
    Mistral,
    Netlify,
    Notion,
    Npm,
    OpenRouter,
    Postman,
    Replicate,
    SendGrid,
    Telegram,
    Vercel,
    XAi,
}

impl Provider {
    pub const ALL: [Provider; 30] = [
        Provider::GitHub,
        Provider::GitLab,
        Provider::OpenAi,
        Provider::Slack,
        Provider::Stripe,
        Provider::Airtable,
        Provider::Anthropic,
        Provider::Asana,
        Provider::CircleCi,
        Provider::Cloudflare,
        Provider::DeepSeek,
        Provider::DigitalOcean,
        Provider::Discord,
        Provider::Doppler,
        Provider::Figma,
        Provider::Groq,
        Provider::Heroku,
        Provider::HuggingFace,
        Provider::Linear,
        Provider::Mistral,
        Provider::Netlify,
        Provider::Notion,
        Provider::Npm,
        Provider::OpenRouter,
        Provider::Postman,
        Provider::Replicate,
        Provider::SendGrid,
        Provider::Telegram,
        Provider::Vercel,
        Provider::XAi,
    ];

    /// The provider name used in rule files and in base-URL overrides.
    pub fn name(self) -> &'static str {
        match self {
            Provider::GitHub => "github",
            Provider::GitLab => "gitlab",
            Provider::OpenAi => "openai",
            Provider::Slack => "slack",
            Provider::Stripe => "stripe",
            Provider::Airtable => "airtable",
            Provider::Anthropic => "anthropic",
            Provider::Asana => "asana",
            Provider::CircleCi => "circleci",
            Provider::Cloudflare => "cloudflare",
            Provider::DeepSeek => "deepseek",
            Provider::DigitalOcean => "digitalocean",
            Provider::Discord => "discord",
            Provider::Doppler => "doppler",
            Provider::Figma => "figma",
            Provider::Groq => "groq",
            Provider::Heroku => "heroku",
            Provider::HuggingFace => "huggingface",
            Provider::Linear => "linear",
            Provider::Mistral => "mistral",
            Provider::Netlify => "netlify",
            Provider::Notion => "notion",
            Provider::Npm => "npm",
            Provider::OpenRouter => "openrouter",
            Provider::Postman => "postman",
            Provider::Replicate => "replicate",
            Provider::SendGrid => "sendgrid",
            Provider::Telegram => "telegram",
            Provider::Vercel => "vercel",
            Provider::XAi => "xai",
        }
    }

    pub fn from_name(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Every provider name, comma-separated, for messages.
    pub fn names() -> String {
        Provider::ALL.map(Provider::name).join(", ")
    }

    /// The real API's base URL.
    pub fn default_base(self) -> &'static str {
        match self {
            Provider::GitHub => "https://api.github.com",
            Provider::GitLab => "https://gitlab.com",
            Provider::OpenAi => "https://api.openai.com",
            Provider::Slack => "https://slack.com",
            Provider::Stripe => "https://api.stripe.com",
            Provider::Airtable => "https://api.airtable.com",
            Provider::Anthropic => "https://api.anthropic.com",
            Provider::Asana => "https://app.asana.com",
            Provider::CircleCi => "https://circleci.com",
            Provider::Cloudflare => "https://api.cloudflare.com",
            Provider::DeepSeek => "https://api.deepseek.com",
            Provider::DigitalOcean => "https://api.digitalocean.com",
            Provider::Discord => "https://discord.com",
            Provider::Doppler => "https://api.doppler.com",
            Provider::Figma => "https://api.figma.com",
            Provider::Groq => "https://api.groq.com",
            Provider::Heroku => "https://api.heroku.com",
            Provider::HuggingFace => "https://huggingface.co",
            Provider::Linear => "https://api.linear.app",
            Provider::Mistral => "https://api.mistral.ai",
            Provider::Netlify => "https://api.netlify.com",
            Provider::Notion => "https://api.notion.com",
            Provider::Npm => "https://registry.npmjs.org",
            Provider::OpenRouter => "https://openrouter.ai",
            Provider::Postman => "https://api.getpostman.com",
            Provider::Replicate => "https://api.replicate.com",
            Provider::SendGrid => "https://api.sendgrid.com",
            Provider::Telegram => "https://api.telegram.org",
            Provider::Vercel => "https://api.vercel.com",
            Provider::XAi => "https://api.x.ai",
        }
    }

    /// Rule ids (see `rules/*.toml`) whose secrets the provider's check endpoint accepts.
    /// Refresh tokens, client secrets, webhook URLs, app-level and admin keys are left out: the
    /// endpoint would reject them even when live, and a false "invalid" is worse than none. Where
    /// one rule covers several token kinds and only some can be checked (Cloudflare's `cfk_` and
    /// `cfat_`, Doppler's SCIM and audit tokens), the others get an unknown verdict unasked.
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
            Provider::Airtable => &["airtable.pat"],
            Provider::Anthropic => &["anthropic.api-key"],
            Provider::Asana => &["asana.pat"],
            // Project tokens cannot read /me.
            Provider::CircleCi => &["circleci.personal-token"],
            Provider::Cloudflare => &["cloudflare.api-token", "cloudflare.scannable-token"],
            Provider::DeepSeek => &["deepseek.api-key"],
            Provider::DigitalOcean => &["digitalocean.pat", "digitalocean.oauth-token"],
            Provider::Discord => &["discord.bot-token"],
            Provider::Doppler => &["doppler.token"],
            Provider::Figma => &["figma.pat"],
            Provider::Groq => &["groq.api-key"],
            Provider::Heroku => &["heroku.api-key", "heroku.api-token"],
            // Legacy `api_org_` tokens are not user tokens and whoami may refuse them.
            Provider::HuggingFace => &["huggingface.access-token"],
            Provider::Linear => &["linear.api-key", "linear.oauth-token"],
            Provider::Mistral => &["mistral.api-key"],
            Provider::Netlify => &["netlify.pat"],
            Provider::Notion => &[
                "notion.integration-token",
                "notion.integration-token-legacy",
            ],
            // `.npmrc` `_authToken`s may belong to any registry; only `npm_` tokens are npm's.
            Provider::Npm => &["npm.access-token"],
            Provider::OpenRouter => &["openrouter.api-key"],
            Provider::Postman => &["postman.api-key"],
            Provider::Replicate => &["replicate.api-token"],
            Provider::SendGrid => &["sendgrid.api-key"],
            Provider::Telegram => &["telegram.bot-token"],
            Provider::Vercel => &["vercel.access-token"],
            Provider::XAi => &["xai.api-key"],
        }
    }
}

/// Validators for every built-in provider against the real APIs.
pub fn default_validators() -> Vec<Box<dyn Validator>> {
    // The built-in base URLs are constant https URLs, so this cannot fail.
    validators_with_base(&BTreeMap::new()).unwrap_or_default()
}

/// Validators for every built-in provider, with base URLs replaced per provider name
/// ([`Provider::name`]: `github`, `anthropic`, …) from `overrides`.
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
