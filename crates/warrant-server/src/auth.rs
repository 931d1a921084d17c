//! Who is calling, and whether their role allows the route: decided here, once, for every
//! route, before any handler runs.
//!
//! A caller proves who they are with an API token (`Authorization: Bearer wat_…`) or a session
//! cookie from signing in. Every route is listed in [`API_ROUTES`] with the [`Action`] it
//! performs; a route missing from the table is refused to everyone, so a new route cannot be
//! reachable before someone decides who may use it. Requests that change state with a session
//! cookie must also carry the session's CSRF token (`X-CSRF-Token`) — a cookie is sent by the
//! browser on its own, a header is not — while bearer tokens, never sent implicitly, need none.

use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use warrant_app::accounts::{self, Principal, Role, SessionPolicy};

use crate::error::ApiError;
use crate::state::ServerState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "warrant_session";
/// The header carrying the CSRF token on state-changing requests made with the cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// What a route does, as far as permission goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// No sign-in needed: probes, the OpenAPI document, signing in, static assets.
    Public,
    /// Read the inventory, risk, findings and alerts.
    Read,
    /// Accept a finding's risk or reopen it.
    TriageFindings,
    /// Decide access-review items (the use case further checks the item is the caller's).
    DecideReviews,
    /// Approve or reject remediation plans (never one's own), grant and withdraw exceptions,
    /// approve or deny agents' tool calls the gateway holds.
    Approve,
    /// Apply remediation plans to the provider, or roll them back.
    ApplyPlans,
    /// Import exports into the inventory, or scan uploads for leaked secrets.
    Import,
    /// Manage the platform's users and tokens.
    Administer,
}

/// The permission matrix: which roles may perform which action.
pub fn allows(role: Role, action: Action) -> bool {
    match action {
        Action::Public | Action::Read => true,
        Action::TriageFindings => matches!(role, Role::Reviewer | Role::Approver | Role::Admin),
        Action::DecideReviews => role != Role::Viewer,
        Action::Approve | Action::ApplyPlans => matches!(role, Role::Approver | Role::Admin),
        Action::Import | Action::Administer => role == Role::Admin,
    }
}

/// One route of the server and the action it performs.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    /// As registered with the router (`{id}` for a path parameter).
    pub path: &'static str,
    pub action: Action,
    /// Part of the REST API (and so of the OpenAPI document).
    pub documented: bool,
}

const fn api(method: &'static str, path: &'static str, action: Action) -> Route {
    Route {
        method,
        path,
        action,
        documented: true,
    }
}

const fn other(method: &'static str, path: &'static str, action: Action) -> Route {
    Route {
        method,
        path,
        action,
        documented: false,
    }
}

/// Every route the router serves.
pub const API_ROUTES: &[Route] = &[
    api("GET", "/api/v1/gateway/approvals", Action::Read),
    api(
        "POST",
        "/api/v1/gateway/approvals/{id}/approve",
        Action::Approve,
    ),
    api(
        "POST",
        "/api/v1/gateway/approvals/{id}/deny",
        Action::Approve,
    ),
    api("GET", "/api/v1/gateway/tools", Action::Read),
    api(
        "POST",
        "/api/v1/gateway/tools/{tool}/approve",
        Action::Approve,
    ),
    api("GET", "/api/v1/identities", Action::Read),
    api("GET", "/api/v1/identities/{id}", Action::Read),
    api("GET", "/api/v1/identities/{id}/rightsize", Action::Read),
    api("GET", "/api/v1/findings", Action::Read),
    api(
        "POST",
        "/api/v1/findings/{id}/accept",
        Action::TriageFindings,
    ),
    api(
        "POST",
        "/api/v1/findings/{id}/reopen",
        Action::TriageFindings,
    ),
    api("GET", "/api/v1/alerts", Action::Read),
    api("GET", "/api/v1/secrets", Action::Read),
    api("GET", "/api/v1/reviews", Action::Read),
    api("GET", "/api/v1/reviews/{name}", Action::Read),
    api(
        "POST",
        "/api/v1/reviews/{name}/items/{item}/decision",
        Action::DecideReviews,
    ),
    api("GET", "/api/v1/plans", Action::Read),
    api("GET", "/api/v1/plans/{id}", Action::Read),
    api("POST", "/api/v1/plans/{id}/approve", Action::Approve),
    api("POST", "/api/v1/plans/{id}/reject", Action::Approve),
    api("POST", "/api/v1/plans/{id}/apply", Action::ApplyPlans),
    api("POST", "/api/v1/plans/{id}/rollback", Action::ApplyPlans),
    api("GET", "/api/v1/exceptions", Action::Read),
    api("POST", "/api/v1/exceptions", Action::Approve),
    api("DELETE", "/api/v1/exceptions/{id}", Action::Approve),
    api("POST", "/api/v1/imports", Action::Import),
    api("POST", "/api/v1/scans", Action::Import),
    api("GET", "/api/v1/jobs", Action::Read),
    api("GET", "/api/v1/jobs/{id}", Action::Read),
    api("POST", "/api/v1/session", Action::Public),
    api("GET", "/api/v1/session", Action::Read),
    api("DELETE", "/api/v1/session", Action::Read),
    other("GET", "/api/v1/openapi.json", Action::Public),
    other("GET", "/healthz", Action::Public),
    other("GET", "/readyz", Action::Public),
    other("GET", "/metrics", Action::Read),
    other("GET", "/", Action::Read),
    other("GET", "/inventory", Action::Read),
    other("GET", "/inventory.csv", Action::Read),
    other("GET", "/identities/{id}", Action::Read),
    other("GET", "/findings", Action::Read),
    other("POST", "/findings/{id}/accept", Action::TriageFindings),
    other("GET", "/alerts", Action::Read),
    other("GET", "/secrets", Action::Read),
    other("GET", "/reviews", Action::Read),
    other(
        "POST",
        "/reviews/{name}/items/{item}",
        Action::DecideReviews,
    ),
    other("GET", "/approvals", Action::Read),
    other("GET", "/plans/{id}", Action::Read),
    other("POST", "/plans/{id}/approve", Action::Approve),
    other("POST", "/plans/{id}/reject", Action::Approve),
    other("POST", "/plans/{id}/apply", Action::ApplyPlans),
    other("GET", "/login", Action::Public),
    other("POST", "/login", Action::Public),
    other("POST", "/logout", Action::Read),
    other("GET", "/auth/oidc/login", Action::Public),
    other("GET", "/auth/oidc/callback", Action::Public),
    other("GET", "/assets/{name}", Action::Public),
];

/// The action of the route `method path` matched, if the table has it.
pub fn action_of(method: &Method, path: &str) -> Option<Action> {
    API_ROUTES
        .iter()
        .find(|r| r.path == path && r.method == method.as_str())
        .map(|r| r.action)
}

/// The CSRF token of a session: derived from the session token, so nothing more is stored and
/// only the holder of the cookie can know it.
pub fn csrf_token(session_token: &str) -> String {
    let digest = Sha256::digest(format!("warrant-csrf\0{session_token}").as_bytes());
    hex::encode(digest)
}

/// The session cookie's value in `headers`, if any.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
}

/// The value of the cookie `wanted` in `headers`, if any.
pub fn cookie(headers: &HeaderMap, wanted: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value.to_string())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Who is calling, and with what proof.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// The session token, when the caller came with the cookie (for CSRF and sign-out).
    pub session: Option<String>,
}

/// Identifies the caller, if they sent credentials; an invalid token or session is no caller.
pub async fn identify(
    state: &ServerState,
    headers: &HeaderMap,
) -> Result<Option<Caller>, ApiError> {
    let now = state.now();
    if let Some(token) = bearer(headers) {
        return Ok(accounts::authenticate_token(&state.store, token, now)
            .await?
            .map(|principal| Caller {
                principal,
                session: None,
            }));
    }
    if let Some(token) = session_cookie(headers) {
        return Ok(
            accounts::session(&state.store, &token, now, &state.sessions)
                .await?
                .map(|principal| Caller {
                    principal,
                    session: Some(token),
                }),
        );
    }
    Ok(None)
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The middleware: finds the route's action, identifies the caller, checks the role and, for
/// cookie sessions changing state, the CSRF token. The caller goes into the request's
/// extensions for the handler.
pub async fn authorize(
    State(state): State<Arc<ServerState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(path) = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
    else {
        // Unmatched: the fallback answers 404.
        return next.run(request).await;
    };
    let Some(action) = action_of(request.method(), &path) else {
        tracing::error!(%path, method = %request.method(), "route missing from the authorization table");
        return ApiError::forbidden().into_response();
    };
    let caller = match identify(&state, request.headers()).await {
        Ok(caller) => caller,
        Err(e) => return e.into_response(),
    };
    if action != Action::Public {
        let Some(caller) = &caller else {
            // A person opening a console page is sent to sign in, and back afterwards.
            if !path.starts_with("/api/") && request.method() == Method::GET && path != "/metrics" {
                let back = request
                    .uri()
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_string();
                let to = format!("/login?next={}", crate::console::encode(&back));
                return axum::response::Redirect::to(&to).into_response();
            }
            return ApiError::unauthenticated().into_response();
        };
        if !allows(caller.principal.role, action) {
            return ApiError::forbidden().into_response();
        }
        if let Some(session) = &caller.session
            && changes_state(request.method())
        {
            let sent = request
                .headers()
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !constant_time_eq(sent.as_bytes(), csrf_token(session).as_bytes()) {
                return ApiError::new(
                    axum::http::StatusCode::FORBIDDEN,
                    "missing or wrong CSRF token (send the session's token as X-CSRF-Token)",
                )
                .into_response();
            }
        }
    }
    if let Some(caller) = caller {
        request.extensions_mut().insert(caller);
    }
    next.run(request).await
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The session policy the server applies (idle and absolute timeouts, lockout).
pub fn default_policy() -> SessionPolicy {
    SessionPolicy::default()
}
