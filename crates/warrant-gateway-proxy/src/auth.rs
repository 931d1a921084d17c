//! Who is calling: the agent behind an `Authorization: Bearer …` header.
//!
//! One kind of credential today, Warrant task tokens (Biscuit, `warrant jit grant`). OAuth 2.1
//! access tokens validated against an issuer's JWKS are the next [`Authenticator`] variant; the
//! rest of the gateway only sees the [`Principal`].

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use warrant_gateway::{TokenAuthority, TokenError};

/// How agents prove who they are.
#[derive(Debug)]
pub enum Authenticator {
    /// Warrant task tokens signed by this root key.
    TaskTokens(TokenAuthority),
}

/// An authenticated agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub agent: String,
    /// The task the credential is bound to (a task token's task).
    pub task: Option<String>,
    /// The key of the task's state (taint): a task token's first revocation id, which the
    /// tokens attenuated from it share, so a sub-agent inherits its parent's taint.
    pub task_key: Option<String>,
    /// The task token itself, to check each call against its tools and argument constraints.
    pub token: Option<String>,
    pub revocation_ids: Vec<String>,
}

/// Why a request is not authenticated (HTTP 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token: send `Authorization: Bearer <task token>`")]
    Missing,
    #[error("the bearer token is not accepted: {0}")]
    Invalid(String),
}

impl AuthError {
    /// The RFC 6750 `error` attribute of the challenge.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            AuthError::Missing => None,
            AuthError::Invalid(_) => Some("invalid_token"),
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
    /// The revocation ids to look up before [`Self::authenticate`] (without checking the
    /// signature, which `authenticate` does).
    pub fn revocation_ids(&self, token: &str) -> Vec<String> {
        match self {
            Authenticator::TaskTokens(_) => {
                warrant_gateway::token::revocation_ids(token).unwrap_or_default()
            }
        }
    }

    pub fn authenticate(
        &self,
        token: &str,
        now: DateTime<Utc>,
        revoked: &BTreeSet<String>,
    ) -> Result<Principal, AuthError> {
        match self {
            Authenticator::TaskTokens(authority) => {
                let verified = authority.authenticate(token, now, revoked)?;
                Ok(Principal {
                    agent: verified.agent,
                    task: Some(verified.task),
                    task_key: verified
                        .revocation_ids
                        .first()
                        .map(|id| format!("task-token:{id}")),
                    token: Some(token.to_string()),
                    revocation_ids: verified.revocation_ids,
                })
            }
        }
    }

    /// Whether the credential allows `tool` (`server::tool`) with `arguments`.
    pub fn check_call(
        &self,
        principal: &Principal,
        tool: &str,
        arguments: &serde_json::Value,
        now: DateTime<Utc>,
        revoked: &BTreeSet<String>,
    ) -> Result<(), TokenError> {
        match (self, &principal.token) {
            (Authenticator::TaskTokens(authority), Some(token)) => authority
                .verify(token, &principal.agent, tool, arguments, now, revoked)
                .map(|_| ()),
            (Authenticator::TaskTokens(_), None) => {
                Err(TokenError::Invalid("no task token".to_string()))
            }
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
}
