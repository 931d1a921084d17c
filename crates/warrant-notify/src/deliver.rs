//! Sending: one POST per matching target, retried with exponential backoff and jitter.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::DateTime;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde::Serialize;
use tokio::time::Instant;

use crate::config::{ConfigError, Format, NotifyConfig, ResolveError, Target};
use crate::event::Event;
use crate::payload;
use crate::redact;

const USER_AGENT: &str = concat!("warrant/", env!("CARGO_PKG_VERSION"));
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// How much of an answer's body is read (and then dropped) so its connection can be reused.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// How long an idle pooled connection is kept.
const POOL_IDLE: Duration = Duration::from_secs(30);

/// How long to wait between attempts.
///
/// After the n-th failed attempt the delay is `base_delay × 2^(n−1)`, at most `max_delay`,
/// with "equal jitter" (a uniformly random point in its upper half) so that many deliveries
/// failing together do not retry together. A `Retry-After` answer (with 429 or 5xx) is honoured
/// instead, up to `max_retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base_delay: Duration,
    pub max_delay: Duration,
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 500 ms, doubling up to 30 s; `Retry-After` honoured up to 60 s.
    fn default() -> Self {
        RetryPolicy {
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The delay after `failed_attempts` (from 1) failed attempts, before jitter.
    fn ceiling(&self, failed_attempts: u32) -> Duration {
        let factor = 2_u32.saturating_pow(failed_attempts.saturating_sub(1));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// The delay after `failed_attempts` failed attempts, with jitter: in `[ceiling/2, ceiling]`.
    pub fn delay(&self, failed_attempts: u32) -> Duration {
        let ceiling = self.ceiling(failed_attempts);
        let half = ceiling / 2;
        half + (ceiling - half).mul_f64(random_fraction())
    }
}

/// A number in `[0, 1)` that differs from call to call. Jitter needs no cryptographic
/// randomness: the standard library's randomly keyed SipHash (fresh keys per `RandomState`)
/// is enough, and needs no dependency.
fn random_fraction() -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(0x0057_4152_5241_4e54);
    // The top 53 bits, as the mantissa of a double in [0, 1).
    (hasher.finish() >> 11) as f64 / (1_u64 << 53) as f64
}

/// What became of one event at one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// The target's name.
    pub target: String,
    /// Requests made (0 when the request could not be built, e.g. a header's variable is
    /// unset).
    pub attempts: u32,
    /// Serialised inline: `{"target": …, "attempts": …, "outcome": "delivered", "status": …}`
    /// or `… "outcome": "failed", "error": "…"`.
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl Delivery {
    pub fn is_delivered(&self) -> bool {
        matches!(self.outcome, Outcome::Delivered { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The target answered 2xx.
    Delivered { status: u16 },
    /// The last attempt's error (or the first, when it was not worth retrying).
    Failed {
        #[serde(serialize_with = "serialize_display")]
        error: DeliveryError,
    },
}

fn serialize_display<S: serde::Serializer>(
    error: &DeliveryError,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(error)
}

/// Why a delivery failed. Names the target and shows its URL as `redact::display_url` does
/// (no credentials, query or Slack path); never holds a header value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// The target answered something other than 2xx.
    #[error("notify target {target:?}: POST {url} answered {}", status_text(*status))]
    Status {
        target: String,
        url: String,
        status: u16,
    },
    /// No answer within the target's `timeout_seconds` (connecting included).
    #[error("notify target {target:?}: POST {url}: no answer within {seconds} s")]
    Timeout {
        target: String,
        url: String,
        seconds: u64,
    },
    /// Connecting, TLS or the exchange failed.
    #[error("notify target {target:?}: POST {url}: {message}")]
    Transport {
        target: String,
        url: String,
        /// True when no connection could be made (nothing reached the target).
        connect: bool,
        message: String,
    },
    /// A header names an environment variable that is not set.
    #[error(
        "notify target {target:?}: headers.{header}: environment variable {variable} is not set"
    )]
    MissingVariable {
        target: String,
        header: String,
        variable: String,
    },
    /// A header's value, once its variables were replaced, cannot be sent.
    #[error(
        "notify target {target:?}: headers.{header}: the value (from its environment \
         variables) holds characters a header cannot carry"
    )]
    InvalidHeader { target: String, header: String },
}

fn status_text(status: u16) -> String {
    match StatusCode::from_u16(status)
        .ok()
        .and_then(|status| status.canonical_reason())
    {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

/// Reads an environment variable by name.
pub type Environment = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Sends events to the configured targets.
///
/// Cheap to clone (the connection pool is shared). Needs a tokio runtime to send.
#[derive(Clone)]
pub struct Notifier {
    targets: Arc<[Target]>,
    client: HttpClient,
    retry: RetryPolicy,
    environment: Environment,
}

impl fmt::Debug for Notifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notifier")
            .field("targets", &self.target_names().collect::<Vec<_>>())
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// One attempt's result.
enum Attempt {
    Delivered(u16),
    /// Worth another attempt; `retry_after` is what the target asked for.
    Retry {
        error: DeliveryError,
        retry_after: Option<Duration>,
    },
    /// Not worth another attempt (4xx other than 429, 3xx).
    GiveUp(DeliveryError),
}

impl Notifier {
    /// Validates `config` and prepares the HTTP client (TLS by rustls on ring with the system's
    /// root certificates, loaded only when a target is https). Header variables are read from
    /// the process environment at send time; see [`Notifier::with_environment`].
    pub fn new(config: &NotifyConfig) -> Result<Notifier, ConfigError> {
        let targets = config.compile()?;
        let client = http_client(targets.iter().any(|target| target.https))?;
        Ok(Notifier {
            targets: targets.into(),
            client,
            retry: RetryPolicy::default(),
            environment: Arc::new(|name: &str| std::env::var(name).ok()),
        })
    }

    /// Replaces the retry delays (tests shorten them).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Notifier {
        self.retry = retry;
        self
    }

    /// Replaces where `${NAME}` in header values is looked up (the process environment by
    /// default): a front end may read secrets from elsewhere, tests give a map.
    pub fn with_environment(
        mut self,
        environment: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Notifier {
        self.environment = Arc::new(environment);
        self
    }

    /// The targets' names, in configuration order.
    pub fn target_names(&self) -> impl Iterator<Item = &str> {
        self.targets.iter().map(|target| target.name.as_str())
    }

    /// Sends `event` to every target whose `events` lists its kind, all at once, each with its
    /// own retries; returns one delivery per such target, in configuration order. Never fails
    /// as a whole: each delivery says what became of it.
    pub async fn send(&self, event: &Event) -> Vec<Delivery> {
        let event_id = event.id();
        let deliveries = self
            .targets
            .iter()
            .filter(|target| target.events.contains(&event.kind))
            .map(|target| self.deliver(target, event, &event_id));
        futures_util::future::join_all(deliveries).await
    }

    async fn deliver(&self, target: &Target, event: &Event, event_id: &str) -> Delivery {
        let failed = |attempts: u32, error: DeliveryError| Delivery {
            target: target.name.clone(),
            attempts,
            outcome: Outcome::Failed { error },
        };
        let headers = match self.headers(target, event_id) {
            Ok(headers) => headers,
            Err(error) => {
                tracing::warn!(
                    notify_target = %target.name,
                    event = %event.kind,
                    error = %error,
                    "Notification not sent."
                );
                return failed(0, error);
            }
        };
        let body = Bytes::from(
            match &target.format {
                Format::Slack => payload::slack(event),
                Format::Webhook => payload::generic(event),
                Format::Jira {
                    project,
                    issue_type,
                } => payload::jira(event, project, issue_type),
            }
            .to_string(),
        );

        let mut attempts = 0;
        loop {
            attempts += 1;
            let (error, retry_after) = match self.attempt(target, &headers, &body).await {
                Attempt::Delivered(status) => {
                    tracing::debug!(
                        notify_target = %target.name,
                        event = %event.kind,
                        event_id,
                        attempts,
                        status,
                        "Notification delivered."
                    );
                    return Delivery {
                        target: target.name.clone(),
                        attempts,
                        outcome: Outcome::Delivered { status },
                    };
                }
                Attempt::GiveUp(error) => {
                    tracing::warn!(
                        notify_target = %target.name,
                        event = %event.kind,
                        attempts,
                        error = %error,
                        "Notification refused; not retrying."
                    );
                    return failed(attempts, error);
                }
                Attempt::Retry { error, retry_after } => (error, retry_after),
            };
            if attempts >= target.max_attempts {
                tracing::warn!(
                    notify_target = %target.name,
                    event = %event.kind,
                    attempts,
                    error = %error,
                    "Notification failed; giving up."
                );
                return failed(attempts, error);
            }
            let delay = match retry_after {
                Some(asked) => asked.min(self.retry.max_retry_after),
                None => self.retry.delay(attempts),
            };
            tracing::warn!(
                notify_target = %target.name,
                event = %event.kind,
                attempt = attempts,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "Notification attempt failed; retrying."
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// The request's headers: Warrant's own, the URL's credentials, then the target's with
    /// their variables replaced. Every value from configuration is marked sensitive (hyper
    /// leaves it out of `Debug`).
    fn headers(&self, target: &Target, event_id: &str) -> Result<HeaderMap, DeliveryError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        if let Ok(key) = HeaderValue::from_str(event_id) {
            headers.insert(IDEMPOTENCY_KEY, key);
        }
        if let Some(basic) = &target.basic_auth {
            headers.insert(header::AUTHORIZATION, basic.clone());
        }
        let mut configured = HeaderMap::new();
        for (name, written, template) in &target.headers {
            let value = template.resolve(self.environment.as_ref()).map_err(
                |ResolveError::Missing(variable)| DeliveryError::MissingVariable {
                    target: target.name.clone(),
                    header: written.clone(),
                    variable,
                },
            )?;
            let mut value =
                HeaderValue::from_str(&value).map_err(|_| DeliveryError::InvalidHeader {
                    target: target.name.clone(),
                    header: written.clone(),
                })?;
            value.set_sensitive(true);
            configured.append(name.clone(), value);
        }
        // A configured header replaces Warrant's of the same name (User-Agent, Accept).
        for name in configured.keys() {
            headers.remove(name);
        }
        headers.extend(configured);
        Ok(headers)
    }

    async fn attempt(&self, target: &Target, headers: &HeaderMap, body: &Bytes) -> Attempt {
        let mut request = Request::new(Full::new(body.clone()));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = target.uri.clone();
        *request.headers_mut() = headers.clone();

        let deadline = Instant::now() + target.timeout;
        let timeout = || DeliveryError::Timeout {
            target: target.name.clone(),
            url: target.display_url.clone(),
            seconds: target.timeout.as_secs(),
        };
        let response = match tokio::time::timeout_at(deadline, self.client.request(request)).await {
            Err(_elapsed) => {
                return Attempt::Retry {
                    error: timeout(),
                    retry_after: None,
                };
            }
            Ok(Err(error)) => {
                return Attempt::Retry {
                    error: DeliveryError::Transport {
                        target: target.name.clone(),
                        url: target.display_url.clone(),
                        connect: error.is_connect(),
                        message: redact::scrub(&error_chain(&error), &target.secrets),
                    },
                    retry_after: None,
                };
            }
            Ok(Ok(response)) => response,
        };

        let status = response.status();
        let retry_after = retry_after(response.headers());
        // Read (a bounded amount of) the answer so the connection goes back to the pool; what
        // it says is not shown: it may echo the request.
        let _ = tokio::time::timeout_at(
            deadline,
            Limited::new(response.into_body(), MAX_ANSWER_BYTES).collect(),
        )
        .await;

        if status.is_success() {
            return Attempt::Delivered(status.as_u16());
        }
        let error = DeliveryError::Status {
            target: target.name.clone(),
            url: target.display_url.clone(),
            status: status.as_u16(),
        };
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            Attempt::Retry { error, retry_after }
        } else {
            Attempt::GiveUp(error)
        }
    }
}

/// The error and its sources, joined by `: ` (hyper's own Display says only "client error").
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// `Retry-After` as seconds (`120`) or as an HTTP date, measured from the answer's own `Date`
/// header (the target's clock, so this needs no clock of ours; without `Date` the date form
/// is ignored and the backoff applies).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let until = DateTime::parse_from_rfc2822(value).ok()?;
    let now = headers.get(header::DATE)?.to_str().ok()?.trim();
    let now = DateTime::parse_from_rfc2822(now).ok()?;
    (until - now).to_std().ok()
}

fn http_client(needs_roots: bool) -> Result<HttpClient, ConfigError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let builder = if needs_roots {
        builder
            .with_provider_and_native_roots(provider)
            .map_err(|error| ConfigError::RootCertificates {
                message: error.to_string(),
            })?
    } else {
        // Only http targets: TLS is never used, so no roots are loaded.
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| ConfigError::RootCertificates {
                message: error.to_string(),
            })?
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        builder.with_tls_config(tls)
    };
    let connector = builder.https_or_http().enable_http1().build();
    Ok(Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(POOL_IDLE)
        .build(connector))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(3),
            max_retry_after: Duration::from_secs(60),
        };
        for (failed, ceiling_ms) in [(1, 500), (2, 1000), (3, 2000), (4, 3000), (30, 3000)] {
            let ceiling = Duration::from_millis(ceiling_ms);
            assert_eq!(policy.ceiling(failed), ceiling);
            for _ in 0..50 {
                let delay = policy.delay(failed);
                assert!(delay >= ceiling / 2 && delay <= ceiling, "{delay:?}");
            }
        }
        let delays: std::collections::BTreeSet<_> = (0..20).map(|_| policy.delay(3)).collect();
        assert!(delays.len() > 1, "jitter varies");
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static(" 7 "));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:30 GMT"),
        );
        assert_eq!(
            retry_after(&headers),
            None,
            "a date needs the answer's Date"
        );
        headers.insert(
            header::DATE,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(30)));
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn statuses_read_with_their_reason() {
        assert_eq!(status_text(503), "503 Service Unavailable");
        assert_eq!(status_text(599), "599");
    }
}
