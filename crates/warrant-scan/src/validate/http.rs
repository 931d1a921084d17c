//! The HTTP client side of validation: one [`HttpValidator`] per provider, which refuses to send
//! a secret anywhere but HTTPS or a loopback test server.

use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;
use ureq::http::Uri;

use super::judge::{Answer, judge, scrub};
use super::rate::RateLimiter;
use super::{
    BODY_LIMIT, DEFAULT_RATE_PER_SECOND, DEFAULT_TIMEOUT, Provider, ValidateError, Validator,
    Verdict,
};

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

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
