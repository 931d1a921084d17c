//! `/api/v1/session`: signing in with a password (a session cookie and its CSRF token), who
//! am I, and signing out.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warrant_app::accounts::{self, NewSession, Principal, Via};
use warrant_core::Timestamp;

use crate::auth::{Caller, SESSION_COOKIE, csrf_token};
use crate::error::{ApiError, Problem};
use crate::state::ServerState;

/// A password sign-in.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// The signed-in caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDto {
    pub username: String,
    pub display_name: Option<String>,
    /// `viewer`, `owner`, `reviewer`, `approver` or `admin`.
    pub role: String,
    /// `session` or `token`.
    pub via: String,
    /// Send as `X-CSRF-Token` with every state-changing request made with the session cookie.
    pub csrf_token: Option<String>,
    /// When the session ends at the latest (it also ends after a while without use).
    pub expires_at: Option<DateTime<Utc>>,
}

fn dto(
    principal: &Principal,
    session: Option<&str>,
    expires_at: Option<DateTime<Utc>>,
) -> SessionDto {
    SessionDto {
        username: principal.username.clone(),
        display_name: principal.display_name.clone(),
        role: principal.role.as_str().to_string(),
        via: match principal.via {
            Via::Session => "session",
            Via::Token { .. } => "token",
        }
        .to_string(),
        csrf_token: session.map(csrf_token),
        expires_at,
    }
}

/// The `Set-Cookie` value for a session token (or one that removes the cookie).
pub fn session_cookie(token: Option<&str>, max_age_seconds: i64) -> String {
    // HttpOnly: scripts never see it; SameSite=Strict: other sites' pages never send it;
    // Secure: browsers treat loopback as secure, so this works on http://127.0.0.1 too.
    format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age_seconds}",
        token.unwrap_or("")
    )
}

/// Signs in with a username and password; sets the session cookie.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = LoginRequest,
    responses(
        (status = 201, description = "Signed in; the session cookie is set", body = SessionDto),
        (status = 401, description = "Wrong credentials or a locked account", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many sign-in attempts from this address; see Retry-After", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "JSON without a username or password", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn login(
    State(state): State<Arc<ServerState>>,
    body: Result<Json<LoginRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let (session, cookie) = sign_in(&state, &body.username, &body.password).await?;
    let mut response = (StatusCode::CREATED, Json(session)).into_response();
    set_cookie(&mut response, &cookie);
    Ok(response)
}

/// Signs in (shared with the console's form): the caller's view and the cookie to set.
pub async fn sign_in(
    state: &ServerState,
    username: &str,
    password: &str,
) -> Result<(SessionDto, String), ApiError> {
    let now = state.now();
    let new = accounts::login(&state.store, username, password, now, &state.sessions).await?;
    Ok((
        dto(&new.principal, Some(&new.token), Some(new.expires_at)),
        new_session_cookie(&new, now),
    ))
}

/// The session cookie for a session opened at `now` (password or single sign-on alike).
pub fn new_session_cookie(new: &NewSession, now: Timestamp) -> String {
    let max_age = (new.expires_at - now).num_seconds().max(0);
    session_cookie(Some(&new.token), max_age)
}

pub fn set_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// Who is signed in.
#[utoipa::path(get, path = "/api/v1/session", tag = "session",
    responses(
        (status = 200, description = "The caller", body = SessionDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn me(caller: Option<axum::Extension<Caller>>) -> Result<Json<SessionDto>, ApiError> {
    let axum::Extension(caller) = caller.ok_or_else(ApiError::unauthenticated)?;
    Ok(Json(dto(
        &caller.principal,
        caller.session.as_deref(),
        None,
    )))
}

/// Signs out: ends the session and removes the cookie.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing CSRF token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn logout(
    State(state): State<Arc<ServerState>>,
    caller: Option<axum::Extension<Caller>>,
) -> Result<Response, ApiError> {
    let axum::Extension(caller) = caller.ok_or_else(ApiError::unauthenticated)?;
    if let Some(token) = &caller.session {
        accounts::logout(&state.store, token, state.now()).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_cookie(&mut response, &session_cookie(None, 0));
    Ok(response)
}
