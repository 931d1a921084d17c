//! The HTTP client side of validation: one [`HttpValidator`] per provider, which refuses to send
//! a secret anywhere but HTTPS or a loopback test server.

use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;
use ureq::http::Uri;

use super::judge::{Answer, judge, scrub, settle};
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

    fn request(&self, call: &Call) -> Result<Answer, String> {
        let url = format!("{}{}", self.base, call.path);
        let response = match call.method {
            Method::Get => {
                let mut request = self.agent.get(&url);
                for (name, value) in &call.headers {
                    request = request.header(*name, value);
                }
                request.call()
            }
            Method::Post(body) => {
                let mut request = self.agent.post(&url);
                for (name, value) in &call.headers {
                    request = request.header(*name, value);
                }
                match body {
                    Some(body) => request.send(body),
                    None => request.send_empty(),
                }
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

/// How a check request is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Method {
    Get,
    /// A POST with this body (JSON), or none.
    Post(Option<&'static str>),
}

/// One provider's check request for one secret, before it is sent. Holds the secret, so it has
/// no `Debug`.
pub(super) struct Call {
    pub(super) method: Method,
    /// Appended to the base URL.
    pub(super) path: String,
    pub(super) headers: Vec<(&'static str, String)>,
}

impl Call {
    fn get(path: impl Into<String>) -> Call {
        Call {
            method: Method::Get,
            path: path.into(),
            headers: Vec::new(),
        }
    }

    fn post(path: &str, body: Option<&'static str>) -> Call {
        Call {
            method: Method::Post(body),
            path: path.to_string(),
            headers: Vec::new(),
        }
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Call {
        self.headers.push((name, value.into()));
        self
    }

    fn bearer(self, secret: &str) -> Call {
        self.header("Authorization", format!("Bearer {secret}"))
    }
}

/// The GraphQL query Linear is asked: who the key belongs to, nothing else.
const LINEAR_VIEWER: &str = r#"{"query":"{ viewer { id name } }"}"#;

/// The request that checks `secret` with `provider`, per the provider's API reference: method,
/// path, and the credential where the provider takes it. `Err` is a verdict given without
/// asking, for secrets of a covered rule that this endpoint cannot check.
pub(super) fn call(provider: Provider, secret: &str) -> Result<Call, Verdict> {
    Ok(match provider {
        // https://docs.github.com/en/rest/users/users#get-the-authenticated-user
        Provider::GitHub => Call::get("/user")
            .bearer(secret)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28"),
        // https://docs.gitlab.com/api/personal_access_tokens/#get-single-personal-access-token
        Provider::GitLab => {
            Call::get("/api/v4/personal_access_tokens/self").header("PRIVATE-TOKEN", secret)
        }
        // https://platform.openai.com/docs/api-reference/models/list
        Provider::OpenAi => Call::get("/v1/models").bearer(secret),
        // https://api.slack.com/methods/auth.test
        Provider::Slack => Call::post("/api/auth.test", None)
            .bearer(secret)
            .header("Content-Type", "application/x-www-form-urlencoded"),
        // https://docs.stripe.com/api/balance/balance_retrieve (secret key as basic-auth user)
        Provider::Stripe => {
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("{secret}:"));
            Call::get("/v1/balance").header("Authorization", format!("Basic {basic}"))
        }
        // https://airtable.com/developers/web/api/get-user-id-scopes
        Provider::Airtable => Call::get("/v0/meta/whoami").bearer(secret),
        // https://docs.anthropic.com/en/api/models-list
        Provider::Anthropic => Call::get("/v1/models")
            .header("x-api-key", secret)
            .header("anthropic-version", "2023-06-01"),
        // https://developers.asana.com/reference/getuser (`me` for the token's user)
        Provider::Asana => Call::get("/api/1.0/users/me").bearer(secret),
        // https://circleci.com/docs/api/v2/#operation/getCurrentUser
        Provider::CircleCi => Call::get("/api/v2/me").header("Circle-Token", secret),
        // https://developers.cloudflare.com/api/resources/user/subresources/tokens/methods/verify/
        Provider::Cloudflare => {
            if secret.starts_with("cfk_") {
                return Err(Verdict::unknown(
                    "a Cloudflare global API key is checked only with its account's email",
                ));
            }
            if secret.starts_with("cfat_") {
                return Err(Verdict::unknown(
                    "a Cloudflare account token is verified under its account id",
                ));
            }
            Call::get("/client/v4/user/tokens/verify").bearer(secret)
        }
        // https://api-docs.deepseek.com/api/list-models
        Provider::DeepSeek => Call::get("/models").bearer(secret),
        // https://docs.digitalocean.com/reference/api/digitalocean/#tag/Account
        Provider::DigitalOcean => Call::get("/v2/account").bearer(secret),
        // https://discord.com/developers/docs/resources/user#get-current-user
        Provider::Discord => {
            Call::get("/api/v10/users/@me").header("Authorization", format!("Bot {secret}"))
        }
        // https://docs.doppler.com/reference/auth-me
        Provider::Doppler => {
            if secret.starts_with("dp.scim.") || secret.starts_with("dp.audit.") {
                return Err(Verdict::unknown(
                    "Doppler SCIM and audit tokens only reach their own APIs",
                ));
            }
            Call::get("/v3/me").bearer(secret)
        }
        // https://www.figma.com/developers/api#get-me-endpoint
        Provider::Figma => Call::get("/v1/me").header("X-Figma-Token", secret),
        // https://console.groq.com/docs/api-reference#models-list
        Provider::Groq => Call::get("/openai/v1/models").bearer(secret),
        // https://devcenter.heroku.com/articles/platform-api-reference#account-info
        Provider::Heroku => Call::get("/account")
            .bearer(secret)
            .header("Accept", "application/vnd.heroku+json; version=3"),
        // https://huggingface.co/docs/hub/api (GET /api/whoami-v2)
        Provider::HuggingFace => Call::get("/api/whoami-v2").bearer(secret),
        // https://linear.app/developers/graphql: personal API keys go in `Authorization` bare,
        // OAuth access tokens as bearer tokens.
        Provider::Linear => {
            let auth = if secret.starts_with("lin_oauth_") {
                format!("Bearer {secret}")
            } else {
                secret.to_string()
            };
            Call::post("/graphql", Some(LINEAR_VIEWER))
                .header("Authorization", auth)
                .header("Content-Type", "application/json")
        }
        // https://docs.mistral.ai/api/#tag/models/operation/list_models_v1_models_get
        Provider::Mistral => Call::get("/v1/models").bearer(secret),
        // https://open-api.netlify.com/#tag/user/operation/getCurrentUser
        Provider::Netlify => Call::get("/api/v1/user").bearer(secret),
        // https://developers.notion.com/reference/get-self
        Provider::Notion => Call::get("/v1/users/me")
            .bearer(secret)
            .header("Notion-Version", "2022-06-28"),
        // https://github.com/npm/registry/blob/main/docs/user/authentication.md (npm whoami)
        Provider::Npm => Call::get("/-/whoami").bearer(secret),
        // https://openrouter.ai/docs/api-reference/api-keys/get-current-key
        Provider::OpenRouter => Call::get("/api/v1/key").bearer(secret),
        // https://learning.postman.com/docs/developer/postman-api/authentication/
        Provider::Postman => Call::get("/me").header("X-Api-Key", secret),
        // https://replicate.com/docs/reference/http#accounts.get
        Provider::Replicate => Call::get("/v1/account").bearer(secret),
        // https://www.twilio.com/docs/sendgrid/api-reference/api-key-permissions/retrieve-a-list-of-scopes-for-which-this-user-has-access
        Provider::SendGrid => Call::get("/v3/scopes").bearer(secret),
        // https://core.telegram.org/bots/api#getme: the token is part of the path, the only way
        // the Bot API takes it. Only the documented token alphabet goes into a URL.
        Provider::Telegram => {
            if !secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-'))
            {
                return Err(Verdict::unknown(
                    "not a Telegram bot token: characters a URL path cannot carry",
                ));
            }
            Call::get(format!("/bot{secret}/getMe"))
        }
        // https://vercel.com/docs/rest-api/reference/endpoints/user/get-the-user
        Provider::Vercel => Call::get("/v2/user").bearer(secret),
        // https://docs.x.ai/docs/api-reference#api-key
        Provider::XAi => Call::get("/v1/api-key").bearer(secret),
    })
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
        let call = match call(self.provider, secret) {
            Ok(call) => call,
            Err(verdict) => return verdict,
        };
        self.limiter.acquire();
        match self.request(&call) {
            Ok(answer) => scrub(
                settle(self.provider, secret, judge(self.provider, &answer)),
                secret,
            ),
            // ureq names at most the URL, which for Telegram holds the token: scrubbed too.
            Err(reason) => scrub(Verdict::unknown(reason), secret),
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

    /// The secret is put in exactly one place: one header, or for Telegram the path.
    #[test]
    fn every_call_carries_the_secret_once_where_the_provider_documents_it() {
        let secret = "1234567890:AAsecret_Value-0123456789abcdefghijk";
        for provider in Provider::ALL {
            let Ok(call) = call(provider, secret) else {
                panic!("{provider:?} refused a plain token");
            };
            assert!(call.path.starts_with('/'), "{provider:?}");
            let in_path = call.path.contains(secret);
            // Stripe takes it as the basic-auth user name, base64-encoded.
            let basic = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{secret}:"))
            );
            let in_headers = call
                .headers
                .iter()
                .filter(|(_, value)| value.contains(secret) || *value == basic)
                .count();
            let in_body = match call.method {
                Method::Post(Some(body)) => body.contains(secret),
                _ => false,
            };
            assert!(!in_body, "{provider:?}");
            if provider == Provider::Telegram {
                assert_eq!(call.path, format!("/bot{secret}/getMe"));
                assert_eq!(in_headers, 0, "{provider:?}");
            } else {
                assert!(!in_path, "{provider:?}");
                assert_eq!(in_headers, 1, "{provider:?}");
            }
        }
    }

    #[test]
    fn each_provider_takes_its_documented_scheme() {
        let scheme = |provider: Provider, secret: &str| -> Vec<(&'static str, String)> {
            let Ok(call) = call(provider, secret) else {
                panic!("{provider:?}");
            };
            call.headers
        };
        assert!(
            scheme(Provider::Anthropic, "k")
                .iter()
                .any(|(n, v)| *n == "x-api-key" && v == "k")
        );
        assert!(
            scheme(Provider::Discord, "k")
                .iter()
                .any(|(n, v)| *n == "Authorization" && v == "Bot k")
        );
        assert!(
            scheme(Provider::Linear, "lin_api_k")
                .iter()
                .any(|(n, v)| *n == "Authorization" && v == "lin_api_k")
        );
        assert!(
            scheme(Provider::Linear, "lin_oauth_k")
                .iter()
                .any(|(n, v)| *n == "Authorization" && v == "Bearer lin_oauth_k")
        );
        assert!(
            scheme(Provider::Postman, "k")
                .iter()
                .any(|(n, v)| *n == "X-Api-Key" && v == "k")
        );
        let Ok(linear) = call(Provider::Linear, "lin_api_k") else {
            panic!("linear");
        };
        assert_eq!(linear.method, Method::Post(Some(LINEAR_VIEWER)));
    }

    #[test]
    fn secrets_the_endpoint_cannot_check_are_not_sent() {
        for (provider, secret) in [
            (
                Provider::Cloudflare,
                "cfk_JIo6WjgACIFpZMq1IehuKr7OXvcspdfae7nq5Qtiu4aIoN",
            ),
            (
                Provider::Cloudflare,
                "cfat_JIo6WjgACIFpZMq1IehuKr7OXvcspdfae7nq5Qtiu4aIoN",
            ),
            (
                Provider::Doppler,
                "dp.scim.sE0nDALixp1RVF0HCnTSs4UE9d8CiRtSDfqTpfyF9vN",
            ),
            (
                Provider::Doppler,
                "dp.audit.sE0nDALixp1RVF0HCnTSs4UE9d8CiRtSDfqTpfyF9vN",
            ),
            (Provider::Telegram, "123456789:AA/../../admin?x=1"),
        ] {
            assert!(
                matches!(call(provider, secret), Err(Verdict::Unknown { .. })),
                "{provider:?}"
            );
            // Nothing listens on port 9: an attempted request would fail differently.
            let v = HttpValidator::new(provider, "http://127.0.0.1:9").unwrap();
            let Verdict::Unknown { reason } = v.validate(secret) else {
                panic!("{provider:?}");
            };
            assert!(!reason.contains("connection"), "{provider:?}: {reason}");
        }
    }
}
