//! Single sign-on with an OpenID Connect provider: the authorization code flow with PKCE (S256),
//! a nonce and a CSRF state, for a confidential client.
//!
//! `GET /auth/oidc/login` keeps what the callback will need (PKCE verifier, state, nonce, where
//! to go afterwards) in memory, under a random id that only the browser's short-lived
//! `warrant_oidc` cookie carries, and sends the browser to the provider.
//! `GET /auth/oidc/callback` takes that pending login out of memory (so it is used at most
//! once, whatever happens next), checks the state, exchanges the code, verifies the ID token
//! (signature against the provider's keys, issuer, audience, expiry, nonce) and signs in the
//! Warrant user linked to the token's subject ([`accounts::login_oidc`]), with the same session
//! cookie as a password sign-in.
//!
//! INVARIANT: pending logins live only on the server and are single-use; nothing the provider
//! or the browser sends (code, tokens, claims) is written to a page or a log.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreClientAuthMethod, CoreGenderClaim, CoreJsonWebKeySet,
    CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EmptyAdditionalClaims, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenClaims, IssuerUrl,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse,
};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use warrant_app::accounts;

use crate::api::session::{new_session_cookie, set_cookie};
use crate::auth::cookie;
use crate::console;
use crate::error::ApiError;
use crate::state::ServerState;

/// The cookie naming the browser's pending login.
pub const PENDING_COOKIE: &str = "warrant_oidc";
/// Where the provider sends the browser back; `redirect_url` must end with it.
pub const CALLBACK_PATH: &str = "/auth/oidc/callback";
/// How long a person has to sign in at the provider.
const PENDING_FOR: Duration = Duration::from_secs(10 * 60);
/// Pending logins kept at most: a bound on the memory anonymous callers can make the server
/// hold. When full, the oldest is dropped (its browser is told to start again).
const MAX_PENDING: usize = 10_000;
/// Timeouts of the calls to the provider, so a stalled provider does not hold a request.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Refetch the provider's keys at most this often (on an ID token signed with an unknown key,
/// the provider has probably rotated its keys).
const JWKS_REFRESH_EVERY: Duration = Duration::from_secs(60);

/// `[server.oidc]` in warrant.toml.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer URL (discovery reads `ISSUER/.well-known/openid-configuration`).
    pub issuer: String,
    pub client_id: String,
    /// Better from the environment (`WARRANT_SERVER__OIDC__CLIENT_SECRET`) than from the file.
    /// Never written back out (`warrant config`).
    #[serde(default, skip_serializing)]
    pub client_secret: Option<String>,
    /// The server's public URL followed by `/auth/oidc/callback`, as registered at the provider.
    pub redirect_url: String,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Which claim names the Warrant user to link on a first sign-in.
    #[serde(default)]
    pub username_claim: UsernameClaim,
    /// The provider's name on the sign-in button ("Sign in with …").
    #[serde(default = "default_display_name")]
    pub display_name: String,
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "(set)"),
            )
            .field("redirect_url", &self.redirect_url)
            .field("scopes", &self.scopes)
            .field("username_claim", &self.username_claim)
            .field("display_name", &self.display_name)
            .finish()
    }
}

fn default_scopes() -> Vec<String> {
    ["openid", "email", "profile"].map(String::from).to_vec()
}

fn default_display_name() -> String {
    "single sign-on".into()
}

/// The claim that names an unlinked user's Warrant username.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsernameClaim {
    /// `email`, only when the provider says `email_verified: true`.
    #[default]
    Email,
    /// `preferred_username`.
    PreferredUsername,
}

/// Why the provider could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("invalid [server.oidc] configuration: {0}")]
    Config(String),
    #[error("discovering the OpenID provider {issuer} failed: {reason}")]
    Discovery { issuer: String, reason: String },
}

/// The client of a confidential relying party whose provider has a token endpoint.
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
    EndpointMaybeSet,
>;

/// What the callback needs of a login started in this process.
struct Pending {
    state: CsrfToken,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
    next: String,
    started: Instant,
}

/// A discovered provider and the logins in progress with it.
pub struct Oidc {
    config: OidcConfig,
    metadata: CoreProviderMetadata,
    client: RwLock<Arc<Client>>,
    http: reqwest::Client,
    pending: Mutex<HashMap<String, Pending>>,
    jwks_fetched: Mutex<Instant>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("issuer", &self.config.issuer)
            .finish_non_exhaustive()
    }
}

impl Oidc {
    /// Checks `config` and reads the provider's metadata and keys.
    pub async fn discover(config: OidcConfig) -> Result<Oidc, OidcError> {
        let invalid = |what: String| OidcError::Config(what);
        let issuer = IssuerUrl::new(config.issuer.clone())
            .map_err(|e| invalid(format!("issuer `{}`: {e}", config.issuer)))?;
        let redirect = RedirectUrl::new(config.redirect_url.clone())
            .map_err(|e| invalid(format!("redirect_url `{}`: {e}", config.redirect_url)))?;
        if !redirect.url().path().ends_with(CALLBACK_PATH) {
            return Err(invalid(format!(
                "redirect_url `{}` must be the server's public URL followed by {CALLBACK_PATH}",
                config.redirect_url
            )));
        }
        if config.client_id.is_empty() {
            return Err(invalid("client_id is empty".into()));
        }
        if config
            .client_secret
            .as_deref()
            .unwrap_or_default()
            .is_empty()
        {
            return Err(invalid(
                "client_secret is not set (set WARRANT_SERVER__OIDC__CLIENT_SECRET)".into(),
            ));
        }
        // No redirects: a provider's answer that redirects elsewhere (to an internal address,
        // say) must not be followed on the server's behalf (SSRF), as openidconnect asks.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| OidcError::Discovery {
                issuer: config.issuer.clone(),
                reason: format!("building the HTTP client: {e}"),
            })?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &http)
            .await
            .map_err(|e| OidcError::Discovery {
                issuer: config.issuer.clone(),
                reason: chain(&e),
            })?;
        let client = build_client(&config, metadata.clone(), redirect)?;
        Ok(Oidc {
            config,
            metadata,
            client: RwLock::new(Arc::new(client)),
            http,
            pending: Mutex::new(HashMap::new()),
            jwks_fetched: Mutex::new(Instant::now()),
        })
    }

    /// The provider's name for the sign-in button.
    pub fn display_name(&self) -> &str {
        &self.config.display_name
    }

    fn client(&self) -> Arc<Client> {
        self.client
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn remember(&self, id: String, pending: Pending) {
        let mut map = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        map.retain(|_, p| p.started.elapsed() < PENDING_FOR);
        if map.len() >= MAX_PENDING
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, p)| p.started)
                .map(|(id, _)| id.clone())
        {
            map.remove(&oldest);
        }
        map.insert(id, pending);
    }

    /// Takes the pending login out (whatever the callback then finds, it is not usable again).
    fn take(&self, id: &str) -> Option<Pending> {
        let mut map = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        map.remove(id).filter(|p| p.started.elapsed() < PENDING_FOR)
    }

    /// Fetches the provider's keys again and rebuilds the client with them, unless that was
    /// done less than a minute ago. True when the keys were refetched.
    async fn refresh_keys(&self) -> bool {
        {
            let mut fetched = self
                .jwks_fetched
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if fetched.elapsed() < JWKS_REFRESH_EVERY {
                return false;
            }
            *fetched = Instant::now();
        }
        let jwks = match CoreJsonWebKeySet::fetch_async(self.metadata.jwks_uri(), &self.http).await
        {
            Ok(jwks) => jwks,
            Err(e) => {
                tracing::warn!(issuer = %self.config.issuer, error = %chain(&e), "refetching the provider's keys failed");
                return false;
            }
        };
        let current = self.client();
        let Some(redirect) = current.redirect_uri().cloned() else {
            return false;
        };
        match build_client(&self.config, self.metadata.clone().set_jwks(jwks), redirect) {
            Ok(client) => {
                *self.client.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(client);
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "rebuilding the single sign-on client failed");
                false
            }
        }
    }
}

fn build_client(
    config: &OidcConfig,
    metadata: CoreProviderMetadata,
    redirect: RedirectUrl,
) -> Result<Client, OidcError> {
    let token_url = metadata
        .token_endpoint()
        .cloned()
        .ok_or_else(|| OidcError::Discovery {
            issuer: config.issuer.clone(),
            reason: "the provider has no token endpoint".into(),
        })?;
    // client_secret_basic is the default (and what a provider that lists none supports);
    // client_secret_post only for providers that offer just that.
    let auth = match metadata.token_endpoint_auth_methods_supported() {
        Some(methods)
            if !methods.contains(&CoreClientAuthMethod::ClientSecretBasic)
                && methods.contains(&CoreClientAuthMethod::ClientSecretPost) =>
        {
            AuthType::RequestBody
        }
        _ => AuthType::BasicAuth,
    };
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(config.client_id.clone()),
        config.client_secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(redirect)
    .set_token_uri(token_url)
    .set_auth_type(auth))
}

/// An error and its causes, for the server's log and start-up errors.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

fn random_id() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        tracing::error!(error = %e, "no randomness for a sign-in");
        ApiError::internal()
    })?;
    Ok(hex::encode(bytes))
}

/// The `Set-Cookie` value for the pending login's id (or one that removes the cookie).
fn pending_cookie(id: Option<&str>) -> String {
    // SameSite=Lax, not Strict: the provider's redirect back is a cross-site top-level
    // navigation, which a Strict cookie would not accompany. Path: only the two routes here.
    let max_age = if id.is_some() {
        PENDING_FOR.as_secs()
    } else {
        0
    };
    format!(
        "{PENDING_COOKIE}={}; Path=/auth/oidc; HttpOnly; Secure; SameSite=Lax; Max-Age={max_age}",
        id.unwrap_or("")
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    pub next: Option<String>,
}

/// `GET /auth/oidc/login?next=/path`: starts a sign-in at the provider.
pub async fn login(
    State(state): State<Arc<ServerState>>,
    query: Result<Query<LoginQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Some(oidc) = state.oidc.as_ref() else {
        return ApiError::not_found("single sign-on is not configured").into_response();
    };
    let next = console::safe_next(query.ok().and_then(|Query(q)| q.next).as_deref());
    let id = match random_id() {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let client = oidc.client();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    // The library always asks for `openid`.
    for scope in oidc.config.scopes.iter().filter(|s| *s != "openid") {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, csrf, nonce) = request.url();
    oidc.remember(
        id.clone(),
        Pending {
            state: csrf,
            nonce,
            verifier,
            next,
            started: Instant::now(),
        },
    );
    let mut response = Redirect::to(url.as_str()).into_response();
    set_cookie(&mut response, &pending_cookie(Some(&id)));
    response
}

#[derive(Debug, Default, Deserialize)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    /// RFC 9207: which issuer answered (checked when present, against mix-up attacks).
    pub iss: Option<String>,
}

/// A failed sign-in, as the person sees it: a status and one sentence.
struct Refused {
    status: StatusCode,
    message: String,
}

fn refused(status: StatusCode, message: impl Into<String>) -> Refused {
    Refused {
        status,
        message: message.into(),
    }
}

const START_AGAIN: &str = "This sign-in has expired or was already used. Please start again.";

/// `GET /auth/oidc/callback`: the provider sends the browser back here.
pub async fn callback(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    query: Result<Query<CallbackQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Some(oidc) = state.oidc.as_ref() else {
        return ApiError::not_found("single sign-on is not configured").into_response();
    };
    let pending = cookie(&headers, PENDING_COOKIE).and_then(|id| oidc.take(&id));
    let next = pending
        .as_ref()
        .map_or_else(|| "/".to_string(), |p| p.next.clone());
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let mut response = match finish(&state, oidc, pending, query).await {
        Ok(cookie) => {
            let mut response = console::signed_in_page(&next).into_response();
            set_cookie(&mut response, &cookie);
            response
        }
        Err(refusal) => {
            let mut response =
                console::login_form(&state, &next, Some(&refusal.message), "").into_response();
            *response.status_mut() = refusal.status;
            response
        }
    };
    set_cookie(&mut response, &pending_cookie(None));
    response
}

/// Checks the provider's answer and signs in; the session cookie to set.
async fn finish(
    state: &ServerState,
    oidc: &Oidc,
    pending: Option<Pending>,
    query: CallbackQuery,
) -> Result<String, Refused> {
    let pending = pending.ok_or_else(|| refused(StatusCode::BAD_REQUEST, START_AGAIN))?;
    let sent_state = query.state.as_deref().unwrap_or_default();
    if !bool::from(
        sent_state
            .as_bytes()
            .ct_eq(pending.state.secret().as_bytes()),
    ) {
        tracing::warn!("single sign-on callback with a wrong state");
        return Err(refused(StatusCode::BAD_REQUEST, START_AGAIN));
    }
    let provider = &oidc.config.display_name;
    if let Some(iss) = &query.iss
        && iss != oidc.metadata.issuer().as_str()
    {
        tracing::warn!("single sign-on callback from another issuer");
        return Err(refused(StatusCode::BAD_REQUEST, START_AGAIN));
    }
    if let Some(error) = &query.error {
        // Only the standard code goes to the log (the description is the provider's text).
        let code = if error.len() <= 64 && error.bytes().all(|b| b.is_ascii_graphic()) {
            error.as_str()
        } else {
            "(malformed)"
        };
        tracing::info!(error = code, "the provider did not sign the person in");
        let message = if error == "access_denied" {
            format!("Sign-in with {provider} was cancelled or refused.")
        } else {
            format!("{provider} could not sign you in. Please try again.")
        };
        return Err(refused(StatusCode::UNAUTHORIZED, message));
    }
    let code = query
        .code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| refused(StatusCode::BAD_REQUEST, START_AGAIN))?;
    let unverified = || {
        refused(
            StatusCode::UNAUTHORIZED,
            format!("The answer from {provider} could not be verified. Please try again."),
        )
    };

    let mut client = oidc.client();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(pending.verifier)
        .request_async(&oidc.http)
        .await
        .map_err(|e| {
            tracing::warn!(error = %token_error(&e), "single sign-on: exchanging the code failed");
            unverified()
        })?;
    let id_token = tokens.id_token().ok_or_else(|| {
        tracing::warn!("single sign-on: the token response has no ID token");
        unverified()
    })?;
    let verify =
        |client: &Client| verify_id_token(client, id_token, tokens.access_token(), &pending.nonce);
    let claims = match verify(&client) {
        // Signed with a key we do not have: the provider has probably rotated its keys.
        Err(openidconnect::ClaimsVerificationError::SignatureVerification(
            openidconnect::SignatureVerificationError::NoMatchingKey,
        )) if oidc.refresh_keys().await => {
            client = oidc.client();
            verify(&client)
        }
        other => other,
    }
    .map_err(|e| {
        tracing::warn!(error = %e, "single sign-on: the ID token did not verify");
        unverified()
    })?;

    let hint = match username_hint(oidc.config.username_claim, &claims) {
        Some(hint) => Some(hint),
        // Providers may keep profile claims for the userinfo endpoint (OpenID Connect Core
        // 5.4 for the code flow): ask it, for the same subject.
        None => userinfo_hint(oidc, &client, tokens.access_token(), &claims).await,
    };
    let now = state.now();
    let new = accounts::login_oidc(
        &state.store,
        claims.issuer().as_str(),
        claims.subject().as_str(),
        hint.as_deref(),
        now,
        &state.sessions,
    )
    .await
    .map_err(|e| {
        // Internal errors are logged by the conversion; only "not linked" is for the person.
        let e = ApiError::from(e);
        if e.status.is_server_error() {
            refused(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Signing in failed on our side; it has been logged.",
            )
        } else if e.status == StatusCode::UNAUTHORIZED {
            refused(StatusCode::UNAUTHORIZED, e.detail.unwrap_or_default())
        } else {
            unverified()
        }
    })?;
    tracing::info!(user = %new.principal.username, "signed in with single sign-on");
    Ok(new_session_cookie(&new, now))
}

type Claims = IdTokenClaims<EmptyAdditionalClaims, CoreGenderClaim>;

/// The ID token's claims once its signature, issuer, audience, expiry and nonce check out, and
/// its `at_hash` (when the provider sends one) matches the access token it came with.
fn verify_id_token(
    client: &Client,
    id_token: &openidconnect::core::CoreIdToken,
    access_token: &openidconnect::AccessToken,
    nonce: &Nonce,
) -> Result<Claims, openidconnect::ClaimsVerificationError> {
    let verifier = client.id_token_verifier();
    let claims = id_token.claims(&verifier, nonce)?;
    if let Some(expected) = claims.access_token_hash() {
        let alg = id_token
            .signing_alg()
            .map_err(openidconnect::ClaimsVerificationError::SignatureVerification)?;
        let key = id_token
            .signing_key(&verifier)
            .map_err(openidconnect::ClaimsVerificationError::SignatureVerification)?;
        let actual = AccessTokenHash::from_token(access_token, alg, key).map_err(|e| {
            openidconnect::ClaimsVerificationError::Other(format!("computing at_hash: {e}"))
        })?;
        if &actual != expected {
            return Err(openidconnect::ClaimsVerificationError::Other(
                "the access token does not match the ID token's at_hash".into(),
            ));
        }
    }
    Ok(claims.clone())
}

fn username_hint(claim: UsernameClaim, claims: &Claims) -> Option<String> {
    match claim {
        UsernameClaim::Email => claims
            .email()
            .filter(|_| claims.email_verified() == Some(true))
            .map(|e| e.as_str().to_string()),
        UsernameClaim::PreferredUsername => {
            claims.preferred_username().map(|u| u.as_str().to_string())
        }
    }
}

/// The username hint from the userinfo endpoint, asked for the ID token's subject.
async fn userinfo_hint(
    oidc: &Oidc,
    client: &Client,
    access_token: &openidconnect::AccessToken,
    claims: &Claims,
) -> Option<String> {
    let request = client
        .user_info(access_token.clone(), Some(claims.subject().clone()))
        .ok()?;
    let info: CoreUserInfoClaims = match request.request_async(&oidc.http).await {
        Ok(info) => info,
        Err(e) => {
            tracing::warn!(error = %e, "single sign-on: reading the userinfo endpoint failed");
            return None;
        }
    };
    username_from_userinfo(oidc.config.username_claim, &info)
}

fn username_from_userinfo(claim: UsernameClaim, info: &CoreUserInfoClaims) -> Option<String> {
    match claim {
        UsernameClaim::Email => info
            .email()
            .filter(|_| info.email_verified() == Some(true))
            .map(|e| e.as_str().to_string()),
        UsernameClaim::PreferredUsername => {
            info.preferred_username().map(|u| u.as_str().to_string())
        }
    }
}

/// A token endpoint failure for the log: the provider's error code or the transport's error,
/// never the response body (it may hold tokens).
fn token_error<RE: std::error::Error + 'static, T: openidconnect::ErrorResponse>(
    error: &openidconnect::RequestTokenError<RE, T>,
) -> String {
    match error {
        openidconnect::RequestTokenError::ServerResponse(response) => response.to_string(),
        openidconnect::RequestTokenError::Request(e) => chain(e),
        openidconnect::RequestTokenError::Parse(_, _) => "unreadable token response".into(),
        openidconnect::RequestTokenError::Other(message) => message.clone(),
    }
}
