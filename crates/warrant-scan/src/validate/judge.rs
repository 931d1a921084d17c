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
        Provider::Airtable => judge_airtable(answer),
        Provider::Anthropic => judge_anthropic(answer),
        Provider::Asana => judge_asana(answer),
        Provider::CircleCi => judge_circleci(answer),
        Provider::Cloudflare => judge_cloudflare(answer),
        Provider::DeepSeek | Provider::Groq | Provider::Mistral => judge_model_list(answer),
        Provider::DigitalOcean => judge_digitalocean(answer),
        Provider::Discord => judge_discord(answer),
        Provider::Doppler => judge_doppler(answer),
        Provider::Figma => judge_figma(answer),
        Provider::Heroku => judge_heroku(answer),
        Provider::HuggingFace => judge_huggingface(answer),
        Provider::Linear => judge_linear(answer),
        Provider::Netlify => judge_netlify(answer),
        Provider::Notion => judge_notion(answer),
        Provider::Npm => judge_npm(answer),
        Provider::OpenRouter => judge_openrouter(answer),
        Provider::Postman => judge_postman(answer),
        Provider::Replicate => judge_replicate(answer),
        Provider::SendGrid => judge_sendgrid(answer),
        Provider::Telegram => judge_telegram(answer),
        Provider::Vercel => judge_vercel(answer),
        Provider::XAi => judge_xai(answer),
    }
}

/// Adjusts a verdict for what the secret's shape says about the endpoint's reach: Cloudflare's
/// user-token check rejects account-owned tokens too, and a token without the `cfut_` prefix may
/// be either, so its rejection is not proof it is dead.
pub(super) fn settle(provider: Provider, secret: &str, verdict: Verdict) -> Verdict {
    match (provider, &verdict) {
        (Provider::Cloudflare, Verdict::Invalid) if !secret.starts_with("cfut_") => {
            Verdict::unknown(
                "Cloudflare rejected it as a user token (an account-owned token is verified under \
                 its account)",
            )
        }
        _ => verdict,
    }
}

/// `Valid` with the parts that are present joined, or no detail.
fn valid(parts: Vec<String>) -> Verdict {
    Verdict::Valid {
        detail: (!parts.is_empty()).then(|| parts.join("; ")),
    }
}

/// `Valid` with one fixed detail.
fn valid_because(detail: &str) -> Verdict {
    Verdict::Valid {
        detail: Some(detail.to_string()),
    }
}

/// `label value` when the body holds a string at `pointer`.
fn labelled(answer: &Answer, label: &str, pointer: &str) -> Option<String> {
    answer
        .body
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .map(|v| format!("{label} {v}"))
}

/// `HTTP status (code)` from an error code at `pointer`, else plain "unexpected HTTP status".
/// Only codes are kept, never messages: some providers quote part of the key in them.
fn unexpected_with(answer: &Answer, pointer: &str) -> Verdict {
    match answer.body.pointer(pointer) {
        Some(Value::String(code)) => Verdict::unknown(format!("HTTP {} ({code})", answer.status)),
        Some(Value::Number(code)) => Verdict::unknown(format!("HTTP {} ({code})", answer.status)),
        _ => unexpected(answer.status),
    }
}

/// Whether the body has a non-null value at `pointer`: the field a documented success answer
/// always carries. A 200 without it (a proxy's page, an API change) proves nothing.
/// The commonest documented answer of a "who am I" endpoint: 200 with the account object
/// (`present` is set), its name at `name` shown as `label NAME`; 401 for a dead credential;
/// anything else unknown.
fn who_am_i(answer: &Answer, present: &str, label: &str, name: &str) -> Verdict {
    match answer.status {
        200 if has(answer, present) => valid(labelled(answer, label, name).into_iter().collect()),
        401 => Verdict::Invalid,
        status => unexpected(status),
    }
}

fn has(answer: &Answer, pointer: &str) -> bool {
    answer.body.pointer(pointer).is_some_and(|v| !v.is_null())
}

fn undocumented(status: u16) -> Verdict {
    Verdict::unknown(format!("HTTP {status} without the documented answer"))
}

fn count_at(answer: &Answer, pointer: &str) -> Option<usize> {
    answer
        .body
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::len)
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

/// Airtable `GET /v0/meta/whoami`: `{"id":"usr…","scopes":[…],"email"?}`; 401
/// `AUTHENTICATION_REQUIRED`.
fn judge_airtable(answer: &Answer) -> Verdict {
    match answer.status {
        200 if has(answer, "/id") => {
            let mut parts: Vec<String> = labelled(answer, "user", "/email")
                .or_else(|| labelled(answer, "user", "/id"))
                .into_iter()
                .collect();
            if let Some(scopes) = answer.body.get("scopes").and_then(Value::as_array) {
                let scopes: Vec<&str> = scopes.iter().filter_map(Value::as_str).collect();
                parts.push(format!("scopes: {}", scopes.join(", ")));
            }
            valid(parts)
        }
        401 => Verdict::Invalid,
        _ => unexpected_with(answer, "/error/type"),
    }
}

/// Anthropic `GET /v1/models`: `{"data":[…]}`; 401 `authentication_error`. A 403
/// `permission_error` is left unknown.
fn judge_anthropic(answer: &Answer) -> Verdict {
    match answer.status {
        200 => match count_at(answer, "/data") {
            Some(models) => Verdict::Valid {
                detail: Some(format!("{models} models visible")),
            },
            None => undocumented(200),
        },
        401 => Verdict::Invalid,
        _ => unexpected_with(answer, "/error/type"),
    }
}

/// Asana `GET /api/1.0/users/me`: `{"data":{"gid","name","email",…}}`; 401 "Not Authorized".
fn judge_asana(answer: &Answer) -> Verdict {
    who_am_i(answer, "/data/gid", "user", "/data/name")
}

/// CircleCI `GET /api/v2/me`: `{"id","login","name"}`; 401 "You must log in first."
fn judge_circleci(answer: &Answer) -> Verdict {
    who_am_i(answer, "/id", "login", "/login")
}

/// Cloudflare `GET /user/tokens/verify`: `{"success":true,"result":{"id","status":"active",
/// "expires_on"?}}`; a disabled or expired token still answers 200 with that status; a token
/// Cloudflare does not know is 401 with error code 1000 "Invalid API Token".
fn judge_cloudflare(answer: &Answer) -> Verdict {
    match answer.status {
        200 => match answer
            .body
            .pointer("/result/status")
            .and_then(Value::as_str)
        {
            Some("active") => {
                let mut parts = vec!["token active".to_string()];
                parts.extend(labelled(answer, "expires", "/result/expires_on"));
                valid(parts)
            }
            Some("disabled" | "expired") => Verdict::Invalid,
            Some(other) => Verdict::unknown(format!("Cloudflare token status {other}")),
            None => undocumented(200),
        },
        401 => Verdict::Invalid,
        _ => unexpected_with(answer, "/errors/0/code"),
    }
}

/// OpenAI-compatible `GET …/models` (DeepSeek, Groq, Mistral): `{"object":"list","data":[…]}`;
/// 401 for a key the provider does not know.
fn judge_model_list(answer: &Answer) -> Verdict {
    match answer.status {
        200 => match count_at(answer, "/data") {
            Some(models) => Verdict::Valid {
                detail: Some(format!("{models} models visible")),
            },
            None => undocumented(200),
        },
        401 => Verdict::Invalid,
        _ => unexpected_with(answer, "/error/code"),
    }
}

/// DigitalOcean `GET /v2/account`: `{"account":{"email","uuid","status","team":{"name"}}}`;
/// 401 `Unauthorized`. A 403 is a scoped token without `account:read`: it authenticated.
fn judge_digitalocean(answer: &Answer) -> Verdict {
    match answer.status {
        200 if has(answer, "/account/uuid") => {
            let mut parts: Vec<String> = labelled(answer, "account", "/account/email")
                .or_else(|| labelled(answer, "account", "/account/uuid"))
                .into_iter()
                .collect();
            parts.extend(labelled(answer, "team", "/account/team/name"));
            parts.extend(labelled(answer, "status", "/account/status"));
            valid(parts)
        }
        401 => Verdict::Invalid,
        403 => valid_because("authenticated; token may not read the account"),
        _ => unexpected_with(answer, "/id"),
    }
}

/// Discord `GET /users/@me` with a `Bot` token: the bot user `{"id","username","bot":true}`; 401
/// `{"message":"401: Unauthorized","code":0}`.
fn judge_discord(answer: &Answer) -> Verdict {
    match answer.status {
        200 if has(answer, "/id") => {
            let kind = if answer.body.get("bot").and_then(Value::as_bool) == Some(true) {
                "bot"
            } else {
                "user"
            };
            valid(labelled(answer, kind, "/username").into_iter().collect())
        }
        401 => Verdict::Invalid,
        _ => unexpected_with(answer, "/code"),
    }
}

/// Doppler `GET /v3/me`: `{"name","type","workplace":{"name"},"token_preview"}` (the preview is
/// never kept); 401 `{"messages":["Invalid Auth token"],"success":false}`.
fn judge_doppler(answer: &Answer) -> Verdict {
    match answer.status {
        200 if has(answer, "/workplace") => {
            let kind = answer.str_at("type").unwrap_or("Doppler");
            let mut parts = vec![match answer.str_at("name") {
                Some(name) => format!("{kind} token {name}"),
                None => format!("{kind} token"),
            }];
            parts.extend(labelled(answer, "workplace", "/workplace/name"));
            valid(parts)
        }
        401 => Verdict::Invalid,
        status => unexpected(status),
    }
}

/// Figma `GET /v1/me`: `{"id","handle","email"}`. Figma answers a bad token with 403
/// `{"status":403,"err":"Invalid token"}`, and a live token lacking the scope with 403
/// "Invalid scope(s)…".
fn judge_figma(answer: &Answer) -> Verdict {
    let err = answer
        .str_at("err")
        .unwrap_or_default()
        .to_ascii_lowercase();
    match answer.status {
        200 if has(answer, "/id") => {
            valid(labelled(answer, "user", "/handle").into_iter().collect())
        }
        401 => Verdict::Invalid,
        403 if err.contains("invalid token") || err.contains("expired") => Verdict::Invalid,
        403 if err.contains("scope") => {
            valid_because("authenticated; token lacks the scope to read /v1/me")
        }
        status => unexpected(status),
    }
}

/// Heroku `GET /account`: `{"id","email","name"}`; 401
/// `{"id":"unauthorized","message":"Invalid credentials provided."}`.
fn judge_heroku(answer: &Answer) -> Verdict {
    match answer.status {
        200 if has(answer, "/id") => valid(
            labelled(answer, "account", "/email")
                .or_else(|| labelled(answer, "account", "/id"))
                .into_iter()
                .collect(),
        ),
        401 => Verdict::Invalid,
        _ => unexpected_with(answer, "/id"),
    }
}

/// Hugging Face `GET /api/whoami-v2`: `{"type":"user","name",…,"auth":{"accessToken":
/// {"role"}}}`; 401 `{"error":"Invalid credentials in Authorization header"}`.
fn judge_huggingface(answer: &Answer) -> Verdict {
    match answer.status {
        200 if has(answer, "/name") => {
            let kind = answer.str_at("type").unwrap_or("user");
            let mut parts: Vec<String> = labelled(answer, kind, "/name").into_iter().collect();
            parts.extend(labelled(answer, "role", "/auth/accessToken/role"));
            valid(parts)
        }
        401 => Verdict::Invalid,
        status => unexpected(status),
    }
}

/// Linear `POST /graphql` `{ viewer { id name } }`: `{"data":{"viewer":{…}}}`. A rejected key
/// is an `errors` entry with `extensions.code` `AUTHENTICATION_ERROR` (seen with 200, 400 and
/// 401), or plain 401.
fn judge_linear(answer: &Answer) -> Verdict {
    let codes: Vec<&str> = answer
        .body
        .get("errors")
        .and_then(Value::as_array)
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e.pointer("/extensions/code").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    if codes.contains(&"AUTHENTICATION_ERROR") || answer.status == 401 {
        return Verdict::Invalid;
    }
    match answer.status {
        200 if answer
            .body
            .pointer("/data/viewer")
            .is_some_and(Value::is_object) =>
        {
            valid(
                labelled(answer, "user", "/data/viewer/name")
                    .into_iter()
                    .collect(),
            )
        }
        status => match codes.first() {
            Some(code) => Verdict::unknown(format!("HTTP {status} ({code})")),
            None => unexpected(status),
        },
    }
}

/// Netlify `GET /api/v1/user`: `{"id","full_name","email"}`; 401 for a bad token.
fn judge_netlify(answer: &Answer) -> Verdict {
    match answer.status {
        200 if has(answer, "/id") => valid(
            labelled(answer, "user", "/email")
                .or_else(|| labelled(answer, "user", "/full_name"))
                .into_iter()
                .collect(),
        ),
        401 => Verdict::Invalid,
        status => unexpected(status),
    }
}

/// Notion `GET /v1/users/me`: the integration's bot user `{"object":"user","type":"bot","name",
/// "bot":{"workspace_name"}}`; 401 `{"object":"error","code":"unauthorized"}`.
fn judge_notion(answer: &Answer) -> Verdict {
    match answer.status {
        200 if answer.str_at("object") == Some("user") => {
            let kind = answer.str_at("type").unwrap_or("user");
            let mut parts: Vec<String> = labelled(answer, kind, "/name").into_iter().collect();
            parts.extend(labelled(answer, "workspace", "/bot/workspace_name"));
            valid(parts)
        }
        401 => Verdict::Invalid,
        _ => unexpected_with(answer, "/code"),
    }
}

/// npm `GET /-/whoami`: `{"username"}`; 401 for a token the registry does not know.
fn judge_npm(answer: &Answer) -> Verdict {
    who_am_i(answer, "/username", "user", "/username")
}

/// OpenRouter `GET /api/v1/key`: `{"data":{"label","usage","limit","is_free_tier"}}` (the label
/// is a key preview and never kept); 401 for an unknown key.
fn judge_openrouter(answer: &Answer) -> Verdict {
    match answer.status {
        200 => {
            let Some(data) = answer.body.get("data").filter(|d| d.is_object()) else {
                return undocumented(200);
            };
            let mut parts = Vec::new();
            if let Some(usage) = data.get("usage").and_then(Value::as_f64) {
                parts.push(format!("usage {usage} credits"));
            }
            match data.get("limit") {
                Some(Value::Number(limit)) => parts.push(format!("limit {limit}")),
                Some(Value::Null) => parts.push("no limit".to_string()),
                _ => {}
            }
            if data.get("is_free_tier").and_then(Value::as_bool) == Some(true) {
                parts.push("free tier".to_string());
            }
            valid(parts)
        }
        401 => Verdict::Invalid,
        _ => unexpected_with(answer, "/error/code"),
    }
}

/// Postman `GET /me`: `{"user":{"id","username"}}`; 401 `AuthenticationError`.
fn judge_postman(answer: &Answer) -> Verdict {
    match answer.status {
        200 if has(answer, "/user/id") => valid(
            labelled(answer, "user", "/user/username")
                .into_iter()
                .collect(),
        ),
        401 => Verdict::Invalid,
        _ => unexpected_with(answer, "/error/name"),
    }
}

/// Replicate `GET /v1/account`: `{"type":"user"|"organization","username","name"}`; 401
/// `{"title":"Unauthenticated",…}`.
fn judge_replicate(answer: &Answer) -> Verdict {
    match answer.status {
        200 if has(answer, "/username") => {
            let kind = answer.str_at("type").unwrap_or("account");
            valid(labelled(answer, kind, "/username").into_iter().collect())
        }
        401 => Verdict::Invalid,
        status => unexpected(status),
    }
}

/// SendGrid `GET /v3/scopes`: `{"scopes":[…]}`; 401 `{"errors":[{"message":"authorization
/// required"}]}`.
fn judge_sendgrid(answer: &Answer) -> Verdict {
    match answer.status {
        200 => match count_at(answer, "/scopes") {
            Some(scopes) => Verdict::Valid {
                detail: Some(format!("{scopes} scopes")),
            },
            None => undocumented(200),
        },
        401 => Verdict::Invalid,
        status => unexpected(status),
    }
}

/// Telegram `getMe`: `{"ok":true,"result":{"is_bot":true,"username"}}`; 401
/// `{"ok":false,"error_code":401,"description":"Unauthorized"}`.
fn judge_telegram(answer: &Answer) -> Verdict {
    match (
        answer.status,
        answer.body.get("ok").and_then(Value::as_bool),
    ) {
        (200, Some(true)) => valid(
            answer
                .body
                .pointer("/result/username")
                .and_then(Value::as_str)
                .map(|name| format!("bot @{name}"))
                .into_iter()
                .collect(),
        ),
        (401, _) => Verdict::Invalid,
        _ => unexpected_with(answer, "/error_code"),
    }
}

/// Vercel `GET /v2/user`: `{"user":{"id","username","email"}}`. Vercel answers a bad, expired
/// or revoked token with 403 `{"error":{"code":"forbidden","invalidToken":true}}`; a 403 without
/// `invalidToken` is a live token without access to the user (a team-scoped token).
fn judge_vercel(answer: &Answer) -> Verdict {
    match answer.status {
        200 if has(answer, "/user/id") => valid(
            labelled(answer, "user", "/user/username")
                .or_else(|| labelled(answer, "user", "/user/email"))
                .into_iter()
                .collect(),
        ),
        401 => Verdict::Invalid,
        403 if answer
            .body
            .pointer("/error/invalidToken")
            .and_then(Value::as_bool)
            == Some(true) =>
        {
            Verdict::Invalid
        }
        403 if answer.body.pointer("/error/code").and_then(Value::as_str) == Some("forbidden") => {
            valid_because("authenticated; token may not read the user")
        }
        _ => unexpected_with(answer, "/error/code"),
    }
}

/// xAI `GET /v1/api-key`: `{"name","api_key_blocked","api_key_disabled","team_blocked",…}`
/// (`redacted_api_key` is never kept). An invalid key is documented as 400, with an `error`
/// of "Incorrect API key provided…".
fn judge_xai(answer: &Answer) -> Verdict {
    let flag = |key: &str| answer.body.get(key).and_then(Value::as_bool) == Some(true);
    match answer.status {
        200 if !has(answer, "/api_key_id") => undocumented(200),
        200 if flag("api_key_blocked") || flag("api_key_disabled") => Verdict::Invalid,
        200 => {
            let mut parts: Vec<String> = labelled(answer, "key", "/name").into_iter().collect();
            if flag("team_blocked") {
                parts.push("team blocked".to_string());
            }
            valid(parts)
        }
        401 => Verdict::Invalid,
        400 if answer
            .str_at("error")
            .is_some_and(|e| e.to_ascii_lowercase().contains("api key")) =>
        {
            Verdict::Invalid
        }
        _ => unexpected_with(answer, "/code"),
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

    fn valid_with(detail: &str) -> Verdict {
        Verdict::Valid {
            detail: Some(detail.to_string()),
        }
    }

    /// Each new provider: its documented success answer, its documented rejection, and a 200
    /// that lacks the documented shape (unknown, not valid).
    #[test]
    fn documented_answers_of_the_identity_endpoints() {
        let cases: [(Provider, &str, &str, u16, &str); 25] = [
            (
                Provider::Airtable,
                r#"{"id":"usrL2PNC5o3H4lBEi","scopes":["data.records:read"]}"#,
                "user usrL2PNC5o3H4lBEi; scopes: data.records:read",
                401,
                r#"{"error":{"type":"AUTHENTICATION_REQUIRED","message":"Authentication required"}}"#,
            ),
            (
                Provider::Anthropic,
                r#"{"data":[{"type":"model","id":"m1"}],"has_more":false}"#,
                "1 models visible",
                401,
                r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#,
            ),
            (
                Provider::Asana,
                r#"{"data":{"gid":"1","name":"Ada","resource_type":"user"}}"#,
                "user Ada",
                401,
                r#"{"errors":[{"message":"Not Authorized"}]}"#,
            ),
            (
                Provider::CircleCi,
                r#"{"id":"u-1","login":"ada","name":"Ada"}"#,
                "login ada",
                401,
                r#"{"message":"You must log in first."}"#,
            ),
            (
                Provider::Cloudflare,
                r#"{"success":true,"errors":[],"result":{"id":"t1","status":"active","expires_on":"2030-01-01T00:00:00Z"}}"#,
                "token active; expires 2030-01-01T00:00:00Z",
                401,
                r#"{"success":false,"errors":[{"code":1000,"message":"Invalid API Token"}],"result":null}"#,
            ),
            (
                Provider::DeepSeek,
                r#"{"object":"list","data":[{"id":"deepseek-chat"},{"id":"deepseek-reasoner"}]}"#,
                "2 models visible",
                401,
                r#"{"error":{"type":"authentication_error","code":"invalid_request_error"}}"#,
            ),
            (
                Provider::DigitalOcean,
                r#"{"account":{"email":"ada@example.com","uuid":"u1","status":"active","team":{"name":"Ops"}}}"#,
                "account ada@example.com; team Ops; status active",
                401,
                r#"{"id":"Unauthorized","message":"Unable to authenticate you"}"#,
            ),
            (
                Provider::Discord,
                r#"{"id":"80351110224678912","username":"deploy","bot":true}"#,
                "bot deploy",
                401,
                r#"{"message":"401: Unauthorized","code":0}"#,
            ),
            (
                Provider::Doppler,
                r#"{"type":"service","name":"ci","workplace":{"slug":"acme","name":"Acme"},"token_preview":"dp.st.abc"}"#,
                "service token ci; workplace Acme",
                401,
                r#"{"messages":["Invalid Auth token"],"success":false}"#,
            ),
            (
                Provider::Figma,
                r#"{"id":"1","handle":"Ada","email":"ada@example.com"}"#,
                "user Ada",
                403,
                r#"{"status":403,"err":"Invalid token"}"#,
            ),
            (
                Provider::Groq,
                r#"{"object":"list","data":[{"id":"a"}]}"#,
                "1 models visible",
                401,
                r#"{"error":{"message":"Invalid API Key","type":"invalid_request_error","code":"invalid_api_key"}}"#,
            ),
            (
                Provider::Heroku,
                r#"{"id":"01234567-89ab-cdef-0123-456789abcdef","email":"ada@example.com"}"#,
                "account ada@example.com",
                401,
                r#"{"id":"unauthorized","message":"Invalid credentials provided."}"#,
            ),
            (
                Provider::HuggingFace,
                r#"{"type":"user","name":"ada","auth":{"type":"access_token","accessToken":{"role":"read"}}}"#,
                "user ada; role read",
                401,
                r#"{"error":"Invalid credentials in Authorization header"}"#,
            ),
            (
                Provider::Linear,
                r#"{"data":{"viewer":{"id":"v1","name":"Ada"}}}"#,
                "user Ada",
                400,
                r#"{"errors":[{"message":"Authentication required, not authenticated","extensions":{"type":"authentication error","code":"AUTHENTICATION_ERROR"}}]}"#,
            ),
            (
                Provider::Mistral,
                r#"{"object":"list","data":[{"id":"a"},{"id":"b"},{"id":"c"}]}"#,
                "3 models visible",
                401,
                r#"{"message":"Unauthorized","request_id":"r1"}"#,
            ),
            (
                Provider::Netlify,
                r#"{"id":"n1","full_name":"Ada","email":"ada@example.com"}"#,
                "user ada@example.com",
                401,
                r#"{"code":401,"message":"Access Denied"}"#,
            ),
            (
                Provider::Notion,
                r#"{"object":"user","id":"b1","name":"Sync","type":"bot","bot":{"owner":{"type":"workspace","workspace":true},"workspace_name":"Acme"}}"#,
                "bot Sync; workspace Acme",
                401,
                r#"{"object":"error","status":401,"code":"unauthorized","message":"API token is invalid."}"#,
            ),
            (
                Provider::Npm,
                r#"{"username":"ada"}"#,
                "user ada",
                401,
                r#"{"error":"Unauthorized"}"#,
            ),
            (
                Provider::OpenRouter,
                r#"{"data":{"label":"sk-or-v1-abc...def","usage":2.5,"limit":10,"is_free_tier":true}}"#,
                "usage 2.5 credits; limit 10; free tier",
                401,
                r#"{"error":{"message":"No auth credentials found","code":401}}"#,
            ),
            (
                Provider::Postman,
                r#"{"user":{"id":12345678,"username":"ada"},"operations":[]}"#,
                "user ada",
                401,
                r#"{"error":{"name":"AuthenticationError","message":"Invalid API Key."}}"#,
            ),
            (
                Provider::Replicate,
                r#"{"type":"organization","username":"acme","name":"Acme"}"#,
                "organization acme",
                401,
                r#"{"title":"Unauthenticated","detail":"You did not pass a valid authentication token","status":401}"#,
            ),
            (
                Provider::SendGrid,
                r#"{"scopes":["mail.send","user.profile.read"]}"#,
                "2 scopes",
                401,
                r#"{"errors":[{"field":null,"message":"authorization required"}]}"#,
            ),
            (
                Provider::Telegram,
                r#"{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"Deploy","username":"deploy_bot"}}"#,
                "bot @deploy_bot",
                401,
                r#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#,
            ),
            (
                Provider::Vercel,
                r#"{"user":{"id":"u1","username":"ada","email":"ada@example.com"}}"#,
                "user ada",
                403,
                r#"{"error":{"code":"forbidden","message":"Not authorized","invalidToken":true}}"#,
            ),
            (
                Provider::XAi,
                r#"{"name":"ci key","api_key_id":"k1","api_key_blocked":false,"api_key_disabled":false,"team_blocked":false,"redacted_api_key":"xai-...b14o"}"#,
                "key ci key",
                400,
                r#"{"code":"Client specified an invalid argument","error":"Incorrect API key provided: xa***4o. You can obtain an API key from https://console.x.ai."}"#,
            ),
        ];
        for (provider, ok, detail, status, rejected) in cases {
            assert_eq!(
                judge(provider, &answer(200, ok)),
                valid_with(detail),
                "{provider:?}"
            );
            assert_eq!(
                judge(provider, &answer(status, rejected)),
                Verdict::Invalid,
                "{provider:?}"
            );
            for odd in ["<html>sign in</html>", "{}", "[]"] {
                assert!(
                    matches!(judge(provider, &answer(200, odd)), Verdict::Unknown { .. }),
                    "{provider:?} 200 {odd}"
                );
            }
        }
        // Every provider is covered: the five before these have their own tests.
        assert_eq!(cases.len() + 5, Provider::ALL.len());
    }

    #[test]
    fn live_but_limited_tokens_are_valid_and_other_refusals_unknown() {
        // Authenticated, but the token may not read the identity.
        let vercel_team = answer(
            403,
            r#"{"error":{"code":"forbidden","message":"You don't have permission to access this resource."}}"#,
        );
        assert!(matches!(
            judge(Provider::Vercel, &vercel_team),
            Verdict::Valid { .. }
        ));
        let figma_scope = answer(
            403,
            r#"{"status":403,"err":"Invalid scope(s): files:read. This endpoint requires the current_user:read scope"}"#,
        );
        assert!(matches!(
            judge(Provider::Figma, &figma_scope),
            Verdict::Valid { .. }
        ));
        let do_scoped = answer(
            403,
            r#"{"id":"Forbidden","message":"You are not authorized to perform this operation"}"#,
        );
        assert!(matches!(
            judge(Provider::DigitalOcean, &do_scoped),
            Verdict::Valid { .. }
        ));
        // A refusal that is not about the key says nothing either way; only codes are kept.
        let anthropic = answer(
            403,
            r#"{"type":"error","error":{"type":"permission_error","message":"sk-ant-…"}}"#,
        );
        assert_eq!(
            judge(Provider::Anthropic, &anthropic),
            Verdict::unknown("HTTP 403 (permission_error)")
        );
        let heroku = answer(
            403,
            r#"{"id":"suspended","message":"This account is suspended."}"#,
        );
        assert_eq!(
            judge(Provider::Heroku, &heroku),
            Verdict::unknown("HTTP 403 (suspended)")
        );
        let telegram = answer(
            404,
            r#"{"ok":false,"error_code":404,"description":"Not Found"}"#,
        );
        assert_eq!(
            judge(Provider::Telegram, &telegram),
            Verdict::unknown("HTTP 404 (404)")
        );
        let figma_other = answer(403, r#"{"status":403,"err":"Forbidden"}"#);
        assert!(matches!(
            judge(Provider::Figma, &figma_other),
            Verdict::Unknown { .. }
        ));
        let xai_other = answer(
            400,
            r#"{"code":"Client specified an invalid argument","error":"bad model"}"#,
        );
        assert!(matches!(
            judge(Provider::XAi, &xai_other),
            Verdict::Unknown { .. }
        ));
    }

    #[test]
    fn dead_tokens_that_answer_200() {
        // Cloudflare and xAI describe disabled keys with 200; Linear may report a rejected key
        // in a 200 GraphQL answer.
        for status in ["disabled", "expired"] {
            let a = answer(
                200,
                &format!(r#"{{"success":true,"result":{{"id":"t","status":"{status}"}}}}"#),
            );
            assert_eq!(
                judge(Provider::Cloudflare, &a),
                Verdict::Invalid,
                "{status}"
            );
        }
        for flag in ["api_key_blocked", "api_key_disabled"] {
            let a = answer(
                200,
                &format!(r#"{{"api_key_id":"k","name":"n","{flag}":true}}"#),
            );
            assert_eq!(judge(Provider::XAi, &a), Verdict::Invalid, "{flag}");
        }
        let team = answer(
            200,
            r#"{"api_key_id":"k","name":"n","team_blocked":true,"api_key_blocked":false}"#,
        );
        assert_eq!(
            judge(Provider::XAi, &team),
            valid_with("key n; team blocked")
        );
        let linear = answer(
            200,
            r#"{"data":null,"errors":[{"message":"Authentication required, not authenticated","extensions":{"code":"AUTHENTICATION_ERROR"}}]}"#,
        );
        assert_eq!(judge(Provider::Linear, &linear), Verdict::Invalid);
        let linear_other = answer(
            200,
            r#"{"data":null,"errors":[{"message":"Rate limited","extensions":{"code":"RATELIMITED"}}]}"#,
        );
        assert_eq!(
            judge(Provider::Linear, &linear_other),
            Verdict::unknown("HTTP 200 (RATELIMITED)")
        );
        let telegram = answer(200, r#"{"ok":false}"#);
        assert!(matches!(
            judge(Provider::Telegram, &telegram),
            Verdict::Unknown { .. }
        ));
    }

    #[test]
    fn cloudflare_rejections_prove_death_only_for_user_tokens() {
        let rejected = Verdict::Invalid;
        assert_eq!(
            settle(Provider::Cloudflare, "cfut_abc", rejected.clone()),
            Verdict::Invalid
        );
        // A 40-character token may be account-owned, which the user-token check also rejects.
        assert!(matches!(
            settle(
                Provider::Cloudflare,
                "a_dEnCQ1sicscoxoPU0bAex2FLEUuHy6lQmpss-i",
                rejected.clone()
            ),
            Verdict::Unknown { .. }
        ));
        assert_eq!(
            settle(Provider::GitHub, "ghp_x", rejected),
            Verdict::Invalid
        );
        let live = valid_with("token active");
        assert_eq!(settle(Provider::Cloudflare, "a_dEnCQ1", live.clone()), live);
    }
}
