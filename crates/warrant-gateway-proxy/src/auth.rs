//! Who is calling: the agent behind an `Authorization: Bearer …` header.
//!
//! Two kinds of credential, either or both configured: Warrant task tokens (Biscuit, `warrant
//! jit grant`) and OAuth 2.1 access tokens (JWTs from the configured issuer, [`crate::oauth`]).
//! A token is routed by its shape (a JWT has three dot-separated parts, a task token none).
//! The rest of the gateway only sees the [`Principal`].

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};
use warrant_gateway::{OpenedToken, TokenAuthority, TokenError};

use crate::oauth::{JwtError, OAuthVerifier};

/// How agents prove who they are: task tokens, access tokens, or both.
pub struct Authenticator {
    task_tokens: Option<TokenAuthority>,
    oauth: Option<OAuthVerifier>,
    /// Task tokens whose signatures verified, by the SHA-256 of the bearer token: an agent sends
    /// the same token on every call, and a signature holds for good (expiry and revocation are
    /// checked on every call all the same).
    opened: quick_cache::sync::Cache<[u8; 32], Arc<OpenedToken>>,
}

/// How many opened task tokens are kept (least recently used go first).
const OPENED_TOKENS: usize = 10_000;

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("task_tokens", &self.task_tokens)
            .field("oauth", &self.oauth)
            .finish_non_exhaustive()
    }
}

/// Which kind of credential authenticated a principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A Warrant task token: every call is also checked against its tools and arguments.
    TaskToken,
    /// An OAuth access token: it names the agent only; the policy decides every call.
    AccessToken,
}

/// An authenticated agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub agent: String,
    pub credential: Credential,
    /// The task the credential is bound to (a task token's task).
    pub task: Option<String>,
    /// The key of the task's state (taint): a task token's first revocation id, which the
    /// tokens attenuated from it share, so a sub-agent inherits its parent's taint.
    pub task_key: Option<String>,
    /// The task token, opened (its signatures verified), to check each call against its tools
    /// and argument constraints.
    pub token: Option<Arc<OpenedToken>>,
    pub revocation_ids: Vec<String>,
    /// An access token's `jti`: its taint key when neither a task claim nor an
    /// `X-Warrant-Task` header names a task.
    pub token_id: Option<String>,
    /// When the revocations of `revocation_ids` (and `taint`) were read, at authentication.
    pub checked_at: std::time::Instant,
    /// The task's taint, read with the revocations (a task token's task only).
    pub taint: Option<warrant_gateway::TaintState>,
}

impl Principal {
    /// Whether what was read at authentication (revocations, taint) still stands for a call:
    /// it was read within the request being handled. A call held for a person and forwarded
    /// later is older and reads it again.
    pub fn fresh(&self) -> bool {
        self.checked_at.elapsed() < std::time::Duration::from_secs(1)
    }
}

/// The key a bearer token is remembered by once verified: its SHA-256 (the token itself is not
/// kept).
pub(crate) fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.trim().as_bytes()).into()
}

/// The key of a task token's task state: its first revocation id, which the tokens attenuated
/// from it share.
pub fn task_token_key(first_revocation_id: &str) -> String {
    format!("task-token:{first_revocation_id}")
}

/// Why a request is not authenticated (HTTP 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token: send `Authorization: Bearer <token>`")]
    Missing,
    #[error("the bearer token is not accepted: {0}")]
    Invalid(String),
    /// The credential cannot be checked now (the issuer's keys are unreachable): HTTP 503,
    /// not a challenge, since another token would fare no better.
    #[error("the bearer token cannot be checked now: {0}")]
    Unavailable(String),
}

impl AuthError {
    /// The RFC 6750 `error` attribute of the challenge.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            AuthError::Missing | AuthError::Unavailable(_) => None,
            AuthError::Invalid(_) => Some("invalid_token"),
        }
    }
}

impl From<JwtError> for AuthError {
    fn from(error: JwtError) -> Self {
        match error {
            JwtError::Keys(_) => AuthError::Unavailable(error.to_string()),
            other => AuthError::Invalid(other.to_string()),
        }
    }
}

impl From<TokenError> for AuthError {
    fn from(error: TokenError) -> Self {
        AuthError::Invalid(error.to_string())
    }
}

/// The token of an `Authorization` header value (`Bearer` is case-insensitive, RFC 6750).
pub fn bearer(header: Option<&str>) -> Result<&str, AuthError> {
    let value = header.ok_or(AuthError::Missing)?.trim();
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::Missing)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(AuthError::Missing);
    }
    Ok(token)
}

impl Authenticator {
    /// Accepts task tokens signed by `task_tokens` and access tokens `oauth` verifies; at
    /// least one should be given (with neither, every token is refused).
    pub fn new(task_tokens: Option<TokenAuthority>, oauth: Option<OAuthVerifier>) -> Authenticator {
        Authenticator {
            task_tokens,
            oauth,
            opened: quick_cache::sync::Cache::new(OPENED_TOKENS),
        }
    }

    /// The task token `token`, its signatures verified once and then remembered.
    fn open(
        &self,
        authority: &TokenAuthority,
        token: &str,
    ) -> Result<Arc<OpenedToken>, TokenError> {
        let key = token_digest(token);
        if let Some(opened) = self.opened.get(&key) {
            return Ok(opened);
        }
        let opened = Arc::new(authority.open(token)?);
        self.opened.insert(key, opened.clone());
        Ok(opened)
    }

    /// Task tokens only.
    pub fn task_tokens(authority: TokenAuthority) -> Authenticator {
        Authenticator::new(Some(authority), None)
    }

    /// Whether `token` goes to the OAuth verifier: a JWT when both kinds are accepted, any
    /// token when only access tokens are.
    fn is_access_token(&self, token: &str) -> bool {
        match (&self.task_tokens, &self.oauth) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(_), Some(_)) => OAuthVerifier::is_jwt(token),
        }
    }

    /// `token` opened, when it is a task token that verifies: its revocation ids are looked up
    /// before [`Self::authenticate_opened`]. None for an access token, or for a task token that
    /// does not verify (`authenticate` says why).
    pub fn task_token(&self, token: &str) -> Option<Arc<OpenedToken>> {
        match &self.task_tokens {
            Some(authority) if !self.is_access_token(token) => self.open(authority, token).ok(),
            _ => None,
        }
    }

    /// The agent behind `token`, presented to `server`'s endpoint at `now`.
    pub async fn authenticate(
        &self,
        token: &str,
        server: &str,
        now: DateTime<Utc>,
        revoked: &BTreeSet<String>,
    ) -> Result<Principal, AuthError> {
        self.authenticate_opened(token, None, server, now, revoked)
            .await
    }

    /// [`Self::authenticate`], with `token` already opened by [`Self::task_token`] (not again).
    pub async fn authenticate_opened(
        &self,
        token: &str,
        opened: Option<Arc<OpenedToken>>,
        server: &str,
        now: DateTime<Utc>,
        revoked: &BTreeSet<String>,
    ) -> Result<Principal, AuthError> {
        if self.is_access_token(token)
            && let Some(oauth) = &self.oauth
        {
            let identity = oauth.verify(token, server, now).await?;
            let task_key = identity
                .task
                .as_ref()
                .map(|task| format!("agent:{}:task:{task}", identity.agent));
            return Ok(Principal {
                agent: identity.agent,
                credential: Credential::AccessToken,
                task: identity.task,
                task_key,
                token: None,
                revocation_ids: Vec::new(),
                token_id: identity.jti,
                checked_at: std::time::Instant::now(),
                taint: None,
            });
        }
        let Some(authority) = &self.task_tokens else {
            return Err(AuthError::Invalid(
                "this gateway accepts OAuth access tokens only".to_string(),
            ));
        };
        let opened = match opened {
            Some(opened) => opened,
            None => self.open(authority, token)?,
        };
        let verified = opened.authenticate(now, revoked)?;
        Ok(Principal {
            agent: verified.agent,
            credential: Credential::TaskToken,
            task: Some(verified.task),
            task_key: verified.revocation_ids.first().map(|id| task_token_key(id)),
            token: Some(opened),
            revocation_ids: verified.revocation_ids,
            token_id: None,
            checked_at: std::time::Instant::now(),
            taint: None,
        })
    }

    /// Whether the credential allows `tool` (`server::tool`) with `arguments`. An access token
    /// names the agent only: the policy alone decides its calls.
    pub fn check_call(
        &self,
        principal: &Principal,
        tool: &str,
        arguments: &serde_json::Value,
        now: DateTime<Utc>,
        revoked: &BTreeSet<String>,
    ) -> Result<(), TokenError> {
        match (principal.credential, &principal.token) {
            (Credential::AccessToken, _) => Ok(()),
            // A task token is good only at the gateway holding its root key.
            (Credential::TaskToken, Some(_)) if self.task_tokens.is_none() => Err(
                TokenError::Invalid("this gateway accepts no task tokens".to_string()),
            ),
            (Credential::TaskToken, Some(token)) => token
                .verify(&principal.agent, tool, arguments, now, revoked)
                .map(|_| ()),
            (Credential::TaskToken, None) => Err(TokenError::Invalid("no task token".to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bearer_tokens() {
        assert_eq!(bearer(Some("Bearer abc")), Ok("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Ok("abc"));
        assert_eq!(bearer(Some("Basic abc")), Err(AuthError::Missing));
        assert_eq!(bearer(Some("Bearer")), Err(AuthError::Missing));
        assert_eq!(bearer(None), Err(AuthError::Missing));
    }

    fn principal(credential: Credential, token: Option<Arc<OpenedToken>>) -> Principal {
        Principal {
            agent: "bot".into(),
            credential,
            task: None,
            task_key: None,
            token,
            revocation_ids: Vec::new(),
            token_id: None,
            checked_at: std::time::Instant::now(),
            taint: None,
        }
    }

    #[test]
    fn an_access_token_needs_no_task_token_but_a_task_token_principal_does() {
        let now = DateTime::from_timestamp(1_000, 0).unwrap();
        let none = BTreeSet::new();
        let args = serde_json::json!({});
        let both = Authenticator::new(Some(TokenAuthority::generate()), None);
        assert_eq!(
            both.check_call(
                &principal(Credential::AccessToken, None),
                "s::t",
                &args,
                now,
                &none
            ),
            Ok(())
        );
        assert!(matches!(
            both.check_call(
                &principal(Credential::TaskToken, None),
                "s::t",
                &args,
                now,
                &none
            ),
            Err(TokenError::Invalid(_))
        ));
        // A task token principal is refused when the gateway has no root key at all.
        let authority = TokenAuthority::generate();
        let minted = authority
            .mint(&warrant_gateway::Grant {
                agent: "bot".into(),
                task: "t".into(),
                tools: vec!["s::t".into()],
                args: Vec::new(),
                expires: DateTime::from_timestamp(2_000, 0).unwrap(),
            })
            .unwrap();
        let opened = Arc::new(authority.open(&minted.token).unwrap());
        assert_eq!(
            Authenticator::task_tokens(authority).check_call(
                &principal(Credential::TaskToken, Some(opened.clone())),
                "s::t",
                &args,
                now,
                &none
            ),
            Ok(())
        );
        let oauth_only = Authenticator::new(None, None);
        assert!(
            oauth_only
                .check_call(
                    &principal(Credential::TaskToken, Some(opened)),
                    "s::t",
                    &args,
                    now,
                    &none
                )
                .is_err()
        );
    }

    #[tokio::test]
    async fn tokens_are_routed_by_shape() {
        let now = DateTime::from_timestamp(1_000, 0).unwrap();
        let mut config = warrant_gateway::config::OAuthConfig::new("https://idp.example.com");
        // Nothing listens there: a JWT that reaches the verifier fails fetching the keys.
        config.jwks_url = Some("http://127.0.0.1:9/jwks".into());
        let oauth = OAuthVerifier::new(&config, "https://gw.example.com").unwrap();
        let both = Authenticator::new(Some(TokenAuthority::generate()), Some(oauth));
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
        assert!(matches!(
            both.authenticate(jwt, "s", now, &BTreeSet::new()).await,
            Err(AuthError::Unavailable(_))
        ));
        assert!(both.task_token(jwt).is_none());
        // Not a JWT: the task-token authority answers (and refuses it).
        assert!(matches!(
            both.authenticate("not-a-biscuit", "s", now, &BTreeSet::new())
                .await,
            Err(AuthError::Invalid(_))
        ));
        let task_only = Authenticator::task_tokens(TokenAuthority::generate());
        assert!(matches!(
            task_only
                .authenticate(jwt, "s", now, &BTreeSet::new())
                .await,
            Err(AuthError::Invalid(_))
        ));
    }
}
