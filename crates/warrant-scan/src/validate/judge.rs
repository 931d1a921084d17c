//! Reading a provider's answer into a [`Verdict`]. Pure (no network), so each provider's
//! documented answers are unit-tested here.

use serde_json::Value;
use ureq::http::HeaderMap;
use warrant_core::redact;

use super::{DETAIL_CHARS, Provider, Verdict};

/// The parts of a response a verdict depends on.
#[derive(Debug, Clone)]
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) headers: HeaderMap,
    pub(super) body: Value,
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
pub(super) fn judge(provider: Provider, answer: &Answer) -> Verdict {
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

/// Keeps details short and printable, and makes sure a provider echoing the secret back cannot
/// get it into a verdict.
pub(super) fn scrub(verdict: Verdict, secret: &str) -> Verdict {
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

#[cfg(test)]
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
}
