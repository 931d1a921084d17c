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
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ureq::http::{HeaderMap, Uri};
use warrant_core::redact;

use crate::finding::SecretFinding;
use crate::scan::ScanReport;

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

/// A token bucket: `capacity` tokens, refilled at `per_second`. Time is passed in so the
/// arithmetic is testable without sleeping.
#[derive(Debug, Clone)]
struct TokenBucket {
    per_second: f64,
    capacity: f64,
    tokens: f64,
    last: Option<Instant>,
}

impl TokenBucket {
    fn new(per_second: u32) -> TokenBucket {
        let per_second = f64::from(per_second.max(1));
        TokenBucket {
            per_second,
            capacity: per_second,
            tokens: per_second,
            last: None,
        }
    }

    /// Takes one token at `now`, or says how long until one is available.
    fn take(&mut self, now: Instant) -> Result<(), Duration> {
        if let Some(last) = self.last {
            let elapsed = now.saturating_duration_since(last).as_secs_f64();
            self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        }
        self.last = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - self.tokens) / self.per_second,
            ))
        }
    }
}

/// A [`TokenBucket`] shared by the threads using one validator.
#[derive(Debug)]
struct RateLimiter(Mutex<TokenBucket>);

impl RateLimiter {
    fn new(per_second: u32) -> RateLimiter {
        RateLimiter(Mutex::new(TokenBucket::new(per_second)))
    }

    /// Blocks until a request may go out.
    fn acquire(&self) {
        loop {
            // The lock is released before sleeping so other threads can queue up.
            let wait = self
                .0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(Instant::now());
            match wait {
                Ok(()) => return,
                Err(wait) => std::thread::sleep(wait),
            }
        }
    }
}

/// A provider's check endpoint over HTTPS (or plain HTTP to a loopback address, for tests).
pub struct HttpValidator {
    provider: Provider,
    base: String,
    agent: ureq::Agent,
    limiter: RateLimiter,
    timeout: Duration,
    loopback: bool,
}

impl std::fmt::Debug for HttpValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpValidator")
            .field("provider", &self.provider)
            .field("base", &self.base)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl HttpValidator {
    /// A validator for `provider` sending requests under `base` (no trailing path needed).
    /// `base` must be `https://…`, or `http://` to a loopback host (a test server): secrets are
    /// never sent in clear over a network.
    pub fn new(provider: Provider, base: &str) -> Result<HttpValidator, ValidateError> {
        let bad = |reason: &str| ValidateError::BadBaseUrl {
            provider: provider.name().to_string(),
            url: base.to_string(),
            reason: reason.to_string(),
        };
        let uri: Uri = base
            .parse()
            .map_err(|e: ureq::http::uri::InvalidUri| bad(&e.to_string()))?;
        let host = uri.host().ok_or_else(|| bad("no host"))?;
        if uri.query().is_some() {
            return Err(bad("a base URL takes no query"));
        }
        let loopback = is_loopback(host);
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") if loopback => {}
            Some("http") => return Err(bad("plain http is only allowed to a loopback address")),
            _ => return Err(bad("scheme must be https")),
        }
        let mut validator = HttpValidator {
            provider,
            base: base.trim_end_matches('/').to_string(),
            agent: ureq::Agent::new_with_config(ureq::config::Config::default()),
            limiter: RateLimiter::new(DEFAULT_RATE_PER_SECOND),
            timeout: DEFAULT_TIMEOUT,
            loopback,
        };
        validator.agent = validator.build_agent();
        Ok(validator)
    }

    /// At most `per_second` requests per second (and bursts of that many).
    pub fn with_rate(mut self, per_second: u32) -> HttpValidator {
        self.limiter = RateLimiter::new(per_second);
        self
    }

    pub fn with_timeout(mut self, timeout: Duration) -> HttpValidator {
        self.timeout = timeout;
        self.agent = self.build_agent();
        self
    }

    pub fn provider_kind(&self) -> Provider {
        self.provider
    }

    fn build_agent(&self) -> ureq::Agent {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            // A redirect could carry the request (and a same-host Authorization header) elsewhere;
            // a provider's check endpoint has no reason to redirect, so a 3xx is an answer.
            .max_redirects(0)
            .http_status_as_error(false)
            .https_only(!self.loopback)
            // A loopback test server must not be reached through an environment proxy.
            .proxy(if self.loopback {
                None
            } else {
                ureq::Proxy::try_from_env()
            })
            .user_agent(concat!("warrant-validate/", env!("CARGO_PKG_VERSION")))
            .build();
        ureq::Agent::new_with_config(config)
    }

    fn request(&self, secret: &str) -> Result<Answer, String> {
        let base = &self.base;
        let bearer = format!("Bearer {secret}");
        let response = match self.provider {
            Provider::GitHub => self
                .agent
                .get(format!("{base}/user"))
                .header("Authorization", &bearer)
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28")
                .call(),
            Provider::GitLab => self
                .agent
                .get(format!("{base}/api/v4/personal_access_tokens/self"))
                .header("PRIVATE-TOKEN", secret)
                .call(),
            Provider::OpenAi => self
                .agent
                .get(format!("{base}/v1/models"))
                .header("Authorization", &bearer)
                .call(),
            Provider::Slack => self
                .agent
                .post(format!("{base}/api/auth.test"))
                .header("Authorization", &bearer)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .send_empty(),
            Provider::Stripe => {
                let basic = base64::engine::general_purpose::STANDARD.encode(format!("{secret}:"));
                self.agent
                    .get(format!("{base}/v1/balance"))
                    .header("Authorization", format!("Basic {basic}"))
                    .call()
            }
        };
        let mut response = response.map_err(|e| transport_reason(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        // A body we cannot read still leaves the status to go on.
        let body = response
            .body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_string()
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(Value::Null);
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

impl Validator for HttpValidator {
    fn provider(&self) -> &str {
        self.provider.name()
    }

    fn rules(&self) -> &[&str] {
        self.provider.rules()
    }

    fn base_url(&self) -> &str {
        &self.base
    }

    fn validate(&self, secret: &str) -> Verdict {
        // The secret goes into a header: anything but visible ASCII would be refused (or worse,
        // split the request), and no rule we validate produces such a secret.
        if secret.is_empty() || !secret.bytes().all(|b| b.is_ascii_graphic()) {
            return Verdict::unknown("secret has characters an HTTP header cannot carry");
        }
        self.limiter.acquire();
        match self.request(secret) {
            Ok(answer) => scrub(judge(self.provider, &answer), secret),
            Err(reason) => Verdict::unknown(reason),
        }
    }
}

/// The parts of a response a verdict depends on.
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn str_at(&self, key: &str) -> Option<&str> {
        self.body.get(key).and_then(Value::as_str)
    }
}

/// Reads a provider's answer. Pure, so each provider's documented shapes are unit-tested.
fn judge(provider: Provider, answer: &Answer) -> Verdict {
    let status = answer.status;
    if (300..400).contains(&status) {
        return Verdict::unknown(format!(
            "HTTP {status} redirect (redirects are not followed)"
        ));
    }
    if status == 429 {
        return Verdict::unknown("rate limited by the provider (HTTP 429)");
    }
    if status >= 500 {
        return Verdict::unknown(format!("provider error (HTTP {status})"));
    }
    match provider {
        Provider::GitHub => judge_github(answer),
        Provider::GitLab => judge_gitlab(answer),
        Provider::OpenAi => judge_openai(answer),
        Provider::Slack => judge_slack(answer),
        Provider::Stripe => judge_stripe(answer),
    }
}

fn unexpected(status: u16) -> Verdict {
    Verdict::unknown(format!("unexpected HTTP {status}"))
}

fn judge_github(answer: &Answer) -> Verdict {
    match answer.status {
        200 => {
            let mut detail = match answer.str_at("login") {
                Some(login) => format!("login {login}"),
                None => "authenticated".to_string(),
            };
            // Classic and OAuth tokens list their scopes; fine-grained and app tokens have none.
            if let Some(scopes) = answer.header("x-oauth-scopes") {
                let scopes = scopes.trim();
                detail.push_str("; scopes: ");
                detail.push_str(if scopes.is_empty() { "none" } else { scopes });
            }
            Verdict::Valid {
                detail: Some(detail),
            }
        }
        401 => Verdict::Invalid,
        403 => {
            let message = answer.str_at("message").unwrap_or_default();
            if answer.header("x-ratelimit-remaining") == Some("0")
                || message.to_ascii_lowercase().contains("rate limit")
            {
                Verdict::unknown("rate limited by GitHub (HTTP 403)")
            } else {
                // Bad credentials are 401; a 403 means the token authenticated but may not read
                // /user, as for GitHub App installation tokens.
                Verdict::Valid {
                    detail: Some("authenticated; not allowed to read /user".to_string()),
                }
            }
        }
        status => unexpected(status),
    }
}

fn judge_gitlab(answer: &Answer) -> Verdict {
    match answer.status {
        200 => {
            if answer.body.get("revoked").and_then(Value::as_bool) == Some(true)
                || answer.body.get("active").and_then(Value::as_bool) == Some(false)
            {
                return Verdict::Invalid;
            }
            let mut parts = Vec::new();
            if let Some(name) = answer.str_at("name") {
                parts.push(format!("token {name}"));
            }
            if let Some(scopes) = answer.body.get("scopes").and_then(Value::as_array) {
                let scopes: Vec<&str> = scopes.iter().filter_map(Value::as_str).collect();
                parts.push(format!("scopes: {}", scopes.join(", ")));
            }
            if let Some(expires) = answer.str_at("expires_at") {
                parts.push(format!("expires {expires}"));
            }
            Verdict::Valid {
                detail: (!parts.is_empty()).then(|| parts.join("; ")),
            }
        }
        401 => Verdict::Invalid,
        status => unexpected(status),
    }
}

fn judge_openai(answer: &Answer) -> Verdict {
    match answer.status {
        200 => {
            let models = answer
                .body
                .get("data")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            Verdict::Valid {
                detail: Some(format!("{models} models visible")),
            }
        }
        401 => Verdict::Invalid,
        // 403 covers both "key lacks this permission" and "region not supported"; only the
        // error code is kept (OpenAI's messages quote part of the key).
        status => match answer.body.pointer("/error/code").and_then(Value::as_str) {
            Some(code) => Verdict::unknown(format!("HTTP {status} ({code})")),
            None => unexpected(status),
        },
    }
}

/// Slack `auth.test` errors that mean the token itself is dead.
const SLACK_DEAD: [&str; 5] = [
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
];

fn judge_slack(answer: &Answer) -> Verdict {
    if answer.status != 200 {
        return unexpected(answer.status);
    }
    match answer.body.get("ok").and_then(Value::as_bool) {
        Some(true) => {
            let mut parts = Vec::new();
            if let Some(team) = answer.str_at("team") {
                parts.push(format!("team {team}"));
            }
            if let Some(user) = answer.str_at("user") {
                parts.push(format!("user {user}"));
            }
            Verdict::Valid {
                detail: (!parts.is_empty()).then(|| parts.join("; ")),
            }
        }
        Some(false) => match answer.str_at("error") {
            Some(error) if SLACK_DEAD.contains(&error) => Verdict::Invalid,
            // e.g. not_allowed_token_type: the token may be live, just not for auth.test.
            Some(error) => Verdict::unknown(format!("Slack error {error}")),
            None => Verdict::unknown("Slack answered ok=false without an error"),
        },
        None => Verdict::unknown("Slack answer is not an auth.test response"),
    }
}

fn judge_stripe(answer: &Answer) -> Verdict {
    match answer.status {
        200 => Verdict::Valid {
            detail: answer
                .body
                .get("livemode")
                .and_then(Value::as_bool)
                .map(|live| format!("livemode {live}")),
        },
        401 => Verdict::Invalid,
        // Restricted keys without balance access get 403 permission_error: the key is live.
        403 => Verdict::Valid {
            detail: Some("authenticated; key may not read the balance".to_string()),
        },
        status => unexpected(status),
    }
}

/// Why a request got no HTTP answer. ureq's messages name the URL at most, never headers.
fn transport_reason(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Timeout(_) => "timeout".to_string(),
        ureq::Error::HostNotFound => "host not found".to_string(),
        ureq::Error::ConnectionFailed => "connection failed".to_string(),
        ureq::Error::Io(e) => format!("network error: {}", e.kind()),
        other => format!("request failed: {other}"),
    }
}

/// Keeps details short and printable, and makes sure a provider echoing the secret back cannot
/// get it into a verdict.
fn scrub(verdict: Verdict, secret: &str) -> Verdict {
    let clean = |text: String| -> String {
        let text = text.replace(secret, &redact(secret));
        text.chars()
            .filter(|c| !c.is_control())
            .take(DETAIL_CHARS)
            .collect()
    };
    match verdict {
        Verdict::Valid { detail } => Verdict::Valid {
            detail: detail.map(clean),
        },
        Verdict::Unknown { reason } => Verdict::Unknown {
            reason: clean(reason),
        },
        Verdict::Invalid => Verdict::Invalid,
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
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
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            headers: HeaderMap::new(),
            body: serde_json::from_str(body).unwrap_or(Value::Null),
        }
    }

    fn with_header(mut a: Answer, name: &'static str, value: &str) -> Answer {
        a.headers.insert(name, value.parse().unwrap());
        a
    }

    #[test]
    fn bucket_allows_a_burst_then_spaces_requests() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(2);
        assert_eq!(bucket.take(t0), Ok(()));
        assert_eq!(bucket.take(t0), Ok(()));
        let wait = bucket.take(t0).unwrap_err();
        assert!(
            (wait.as_secs_f64() - 0.5).abs() < 1e-6,
            "waited {wait:?} for one token at 2/s"
        );
        // Not yet refilled a quarter second later, refilled half a second later.
        assert!(bucket.take(t0 + Duration::from_millis(250)).is_err());
        assert_eq!(bucket.take(t0 + Duration::from_millis(500)), Ok(()));
        assert!(bucket.take(t0 + Duration::from_millis(500)).is_err());
    }

    #[test]
    fn bucket_never_holds_more_than_its_capacity() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(3);
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert_eq!(bucket.take(later), Ok(()));
        }
        assert!(bucket.take(later).is_err());
    }

    #[test]
    fn zero_rate_is_one_per_second_not_a_division_by_zero() {
        let mut bucket = TokenBucket::new(0);
        let t0 = Instant::now();
        assert_eq!(bucket.take(t0), Ok(()));
        assert_eq!(bucket.take(t0), Err(Duration::from_secs(1)));
    }

    #[test]
    fn github_answers() {
        let ok = with_header(
            answer(200, r#"{"login":"octocat"}"#),
            "x-oauth-scopes",
            "repo, read:org",
        );
        assert_eq!(
            judge(Provider::GitHub, &ok),
            Verdict::Valid {
                detail: Some("login octocat; scopes: repo, read:org".into())
            }
        );
        let fine_grained = answer(200, r#"{"login":"octocat"}"#);
        assert_eq!(
            judge(Provider::GitHub, &fine_grained),
            Verdict::Valid {
                detail: Some("login octocat".into())
            }
        );
        assert_eq!(
            judge(
                Provider::GitHub,
                &answer(401, r#"{"message":"Bad credentials"}"#)
            ),
            Verdict::Invalid
        );
        let app = answer(
            403,
            r#"{"message":"Resource not accessible by integration"}"#,
        );
        assert!(matches!(
            judge(Provider::GitHub, &app),
            Verdict::Valid { .. }
        ));
        let limited = with_header(answer(403, "{}"), "x-ratelimit-remaining", "0");
        assert!(matches!(
            judge(Provider::GitHub, &limited),
            Verdict::Unknown { .. }
        ));
    }

    #[test]
    fn slack_answers() {
        let ok = answer(
            200,
            r#"{"ok":true,"team":"Acme","user":"deploy-bot","team_id":"T1"}"#,
        );
        assert_eq!(
            judge(Provider::Slack, &ok),
            Verdict::Valid {
                detail: Some("team Acme; user deploy-bot".into())
            }
        );
        for dead in SLACK_DEAD {
            let a = answer(200, &format!(r#"{{"ok":false,"error":"{dead}"}}"#));
            assert_eq!(judge(Provider::Slack, &a), Verdict::Invalid, "{dead}");
        }
        let wrong_type = answer(200, r#"{"ok":false,"error":"not_allowed_token_type"}"#);
        assert_eq!(
            judge(Provider::Slack, &wrong_type),
            Verdict::unknown("Slack error not_allowed_token_type")
        );
        assert!(matches!(
            judge(Provider::Slack, &answer(200, "not json")),
            Verdict::Unknown { .. }
        ));
    }

    #[test]
    fn openai_stripe_gitlab_answers() {
        let models = answer(200, r#"{"object":"list","data":[{"id":"a"},{"id":"b"}]}"#);
        assert_eq!(
            judge(Provider::OpenAi, &models),
            Verdict::Valid {
                detail: Some("2 models visible".into())
            }
        );
        assert_eq!(
            judge(Provider::OpenAi, &answer(401, "{}")),
            Verdict::Invalid
        );
        let forbidden = answer(
            403,
            r#"{"error":{"code":"unsupported_country_region_territory","message":"sk-ab***cd"}}"#,
        );
        assert_eq!(
            judge(Provider::OpenAi, &forbidden),
            Verdict::unknown("HTTP 403 (unsupported_country_region_territory)")
        );

        assert_eq!(
            judge(Provider::Stripe, &answer(200, r#"{"livemode":false}"#)),
            Verdict::Valid {
                detail: Some("livemode false".into())
            }
        );
        assert_eq!(
            judge(Provider::Stripe, &answer(401, "{}")),
            Verdict::Invalid
        );

        let pat = answer(
            200,
            r#"{"name":"ci","scopes":["api","read_user"],"active":true,"revoked":false,"expires_at":"2027-01-01"}"#,
        );
        assert_eq!(
            judge(Provider::GitLab, &pat),
            Verdict::Valid {
                detail: Some("token ci; scopes: api, read_user; expires 2027-01-01".into())
            }
        );
        let revoked = answer(200, r#"{"name":"ci","active":false,"revoked":true}"#);
        assert_eq!(judge(Provider::GitLab, &revoked), Verdict::Invalid);
        assert_eq!(
            judge(Provider::GitLab, &answer(401, "{}")),
            Verdict::Invalid
        );
    }

    #[test]
    fn redirects_rate_limits_and_server_errors_are_unknown() {
        for provider in Provider::ALL {
            for status in [301, 302, 307, 429, 500, 503] {
                assert!(
                    matches!(
                        judge(provider, &answer(status, "{}")),
                        Verdict::Unknown { .. }
                    ),
                    "{provider:?} {status}"
                );
            }
        }
    }

    #[test]
    fn details_never_carry_the_secret() {
        let secret = "ghp_SECRETSECRETSECRETSECRET";
        let echoed = Verdict::Valid {
            detail: Some(format!("login {secret}\n")),
        };
        let Verdict::Valid {
            detail: Some(detail),
        } = scrub(echoed, secret)
        else {
            panic!("verdict kind changed");
        };
        assert!(!detail.contains(secret), "{detail}");
        assert!(!detail.contains('\n'));
    }

    #[test]
    fn base_urls_must_be_https_or_loopback() {
        for ok in [
            "https://api.github.com",
            "https://ghe.example.com/api/v3/",
            "http://127.0.0.1:8080",
            "http://localhost:9",
            "http://[::1]:9",
        ] {
            assert!(HttpValidator::new(Provider::GitHub, ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.github.com",
            "http://10.0.0.1",
            "ftp://127.0.0.1",
            "api.github.com",
            "https://api.github.com/?x=1",
            "",
        ] {
            assert!(HttpValidator::new(Provider::GitHub, bad).is_err(), "{bad}");
        }
        let v = HttpValidator::new(Provider::GitHub, "https://ghe.example.com/api/v3/").unwrap();
        assert_eq!(v.base_url(), "https://ghe.example.com/api/v3");
    }

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
