//! Warrant's own users: the people who sign in to the server, their sessions, and the API
//! tokens scripts use in their name. Every front end (the `warrant user|token` commands, the
//! server) goes through here; the store only keeps what these functions decide.
//!
//! INVARIANT: no raw password or token reaches the store. Passwords are kept as argon2id PHC
//! strings (the crate's default parameters, a random salt each); session and API tokens are
//! 32 random bytes shown once to their holder and kept as the SHA-256 (hex) of the whole raw
//! token. A token in a request is recognised by hashing it again.
//!
//! Sign-in failures say "invalid username or password" whether or not the user exists, and an
//! unknown user costs one argon2 verification too, so neither the message nor the time tells.
//! Only a locked account says so (after `lock_after` wrong passwords in a row).
//!
//! Hashing a password takes tens of milliseconds of CPU and runs inline, like the other use
//! cases' CPU-bound steps: a server calls `login`, `add_user` and `set_password` on a blocking
//! thread.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use chrono::Duration;
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use warrant_core::Timestamp;
use warrant_store::{ApiTokenRow, SessionRow, Store, StoreError, UserRow};

pub use warrant_core::access::Role;

use crate::AppError;
use crate::error::StoreContext;

/// The audit trail's actor for changes whose caller does not say who made them (the
/// `warrant user|token` commands, run by whoever can write the store). The `:` keeps it apart
/// from every username.
pub const ADMIN_ACTOR: &str = "warrant:admin";

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted, in bytes: enough for any passphrase, and a bound on the work an
/// anonymous caller can ask for.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest a token may live.
pub const MAX_TOKEN_DAYS: i64 = 365;
/// Prefix of session tokens.
pub const SESSION_PREFIX: &str = "ws_";
/// Prefix of API tokens (`wat_ID_SECRET`), so secret scanners and people recognise them.
pub const TOKEN_PREFIX: &str = "wat_";

/// How often a session's or token's last use is written: at most once a minute, not on every
/// request (each write takes the store's write turn). The idle timeout is measured from the
/// recorded use, so a session can end up to this much sooner than `idle` after its last request.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// Random bytes in a session token or an API token's secret.
const TOKEN_BYTES: usize = 32;
/// Random bytes in an API token's public id (8 hex characters).
const TOKEN_ID_BYTES: usize = 4;
/// Tries to draw an unused token id before giving up (a collision of 32 bits is rare; several
/// in a row mean something else is wrong).
const TOKEN_ID_ATTEMPTS: usize = 5;

/// An argon2id hash (default parameters) of a password nobody knows: verified against when the
/// user does not exist or has no password, so that costs what a real verification costs. A
/// test checks its parameters are the crate's defaults.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$d2FycmFudC1kdW1teS1zYWx0$1tNcyWZCI3ZUn3VUq1iNnc0nH4G+YILWXFKZPV3k0vU";

const INVALID_CREDENTIALS: &str = "invalid username or password";
const LOCKED: &str = "too many failed sign-ins; try again later";
const NOT_LINKED: &str = "this sign-in is not linked to an active Warrant user";

/// A user as front ends show it: never the password hash.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub username: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub created_at: Timestamp,
    pub disabled: bool,
    pub has_password: bool,
    pub oidc_linked: bool,
}

impl From<&UserRow> for User {
    fn from(row: &UserRow) -> User {
        User {
            username: row.username.clone(),
            display_name: row.display_name.clone(),
            role: row.role,
            created_at: row.created_at,
            disabled: row.disabled_at.is_some(),
            has_password: row.password_hash.is_some(),
            oidc_linked: row.oidc_issuer.is_some(),
        }
    }
}

/// How long sessions last and when wrong passwords lock an account.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// A session unused this long is over.
    pub idle: Duration,
    /// A session is over this long after sign-in, however much it is used.
    pub absolute: Duration,
    /// Wrong passwords in a row that lock password sign-in (0: never).
    pub lock_after: u32,
    /// How long a lock lasts.
    pub lock_for: Duration,
}

impl Default for SessionPolicy {
    fn default() -> SessionPolicy {
        SessionPolicy {
            idle: Duration::minutes(30),
            absolute: Duration::hours(12),
            lock_after: 5,
            lock_for: Duration::minutes(15),
        }
    }
}

/// How a request was authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Via {
    Session,
    Token { id: String },
}

/// Who a request acts for, and with which role.
#[derive(Debug, Clone, Serialize)]
pub struct Principal {
    pub username: String,
    pub display_name: Option<String>,
    /// The user's role for a session; the token's own for a token.
    pub role: Role,
    pub via: Via,
}

/// A session just opened: its raw token, shown to the client once (a cookie) and never
/// kept.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub principal: Principal,
    pub expires_at: Timestamp,
}

/// An API token as front ends show it: never its hash or secret.
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub id: String,
    pub username: String,
    pub name: String,
    pub role: Role,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked: bool,
}

impl From<&ApiTokenRow> for TokenInfo {
    fn from(row: &ApiTokenRow) -> TokenInfo {
        TokenInfo {
            id: row.id.clone(),
            username: row.username.clone(),
            name: row.name.clone(),
            role: row.role,
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            revoked: row.revoked_at.is_some(),
        }
    }
}

/// Adds a user, with a password or without one (single sign-on only). A user of that name
/// existing already is [`AppError::Conflict`].
pub async fn add_user(
    store: &Store,
    username: &str,
    display_name: Option<&str>,
    role: Role,
    password: Option<&str>,
    now: Timestamp,
) -> Result<User, AppError> {
    check_username(username)?;
    if let Some(name) = display_name {
        check_text("a display name", name, 200)?;
    }
    let password_hash = password.map(hash_password).transpose()?;
    let row = UserRow {
        username: username.to_string(),
        display_name: display_name.map(str::to_string),
        role,
        password_hash,
        oidc_issuer: None,
        oidc_subject: None,
        created_at: now,
        disabled_at: None,
        failed_logins: 0,
        locked_until: None,
    };
    store
        .add_user(&row, ADMIN_ACTOR)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(message) => AppError::Conflict(message),
            source => AppError::Store {
                context: "adding the user",
                source,
            },
        })?;
    Ok(User::from(&row))
}

/// Every user, by username.
pub async fn users(store: &Store) -> Result<Vec<User>, AppError> {
    let rows = store.users().await.context("reading the users")?;
    Ok(rows.iter().map(User::from).collect())
}

/// Replaces a user's password (which also lifts a lock from wrong passwords).
///
/// Takes `now` beyond the agreed interface: the change is audited, and the application layer
/// reads no clock.
pub async fn set_password(
    store: &Store,
    username: &str,
    password: &str,
    now: Timestamp,
) -> Result<(), AppError> {
    let hash = hash_password(password)?;
    let found = store
        .set_password_hash(username, Some(&hash), ADMIN_ACTOR, now)
        .await
        .context("setting the password")?;
    found.then_some(()).ok_or_else(|| no_user(username))
}

/// Changes a user's role. Taking the admin role from the last active admin is refused: nobody
/// could manage users through the server any more.
///
/// Takes `now` beyond the agreed interface: the change is audited, and the application layer
/// reads no clock.
pub async fn set_role(
    store: &Store,
    username: &str,
    role: Role,
    now: Timestamp,
) -> Result<(), AppError> {
    let user = existing_user(store, username).await?;
    if role != Role::Admin {
        keep_an_admin(store, &user, "take the admin role from").await?;
    }
    let found = store
        .set_user_role(username, role, ADMIN_ACTOR, now)
        .await
        .context("setting the role")?;
    found.then_some(()).ok_or_else(|| no_user(username))
}

/// Disables a user: their sessions end and their tokens are revoked, in one transaction.
/// Disabling the last active admin is refused.
pub async fn disable_user(store: &Store, username: &str, now: Timestamp) -> Result<(), AppError> {
    let user = existing_user(store, username).await?;
    keep_an_admin(store, &user, "disable").await?;
    let found = store
        .disable_user(username, ADMIN_ACTOR, now)
        .await
        .context("disabling the user")?;
    found.then_some(()).ok_or_else(|| no_user(username))
}

/// Signs in with a password and opens a session. Wrong credentials, an unknown or disabled
/// user, or a user without a password all give the same [`AppError::Unauthenticated`]; a
/// locked account says it is locked.
pub async fn login(
    store: &Store,
    username: &str,
    password: &str,
    now: Timestamp,
    policy: &SessionPolicy,
) -> Result<NewSession, AppError> {
    let user = store.user(username).await.context("reading the user")?;
    let active = user.filter(|u| u.disabled_at.is_none());
    if active
        .as_ref()
        .is_some_and(|u| u.locked_until.is_some_and(|until| until > now))
    {
        return Err(AppError::Unauthenticated(LOCKED.into()));
    }
    let stored = active.as_ref().and_then(|u| u.password_hash.as_deref());
    // Always one verification, against the dummy hash when there is nothing to check.
    // Argon2 spends tens of milliseconds of CPU by design: off the async worker threads, so a
    // burst of sign-ins does not stall every other request.
    let (attempt, phc) = (
        password.to_string(),
        stored.unwrap_or(DUMMY_HASH).to_string(),
    );
    let matches = tokio::task::spawn_blocking(move || verify_password(&attempt, &phc))
        .await
        .unwrap_or(false);
    let verified = matches && stored.is_some();
    let Some(user) = active else {
        return Err(AppError::Unauthenticated(INVALID_CREDENTIALS.into()));
    };
    if !verified {
        let locked = store
            .record_login_failure(username, now, policy.lock_after, policy.lock_for)
            .await
            .context("recording a failed sign-in")?;
        let message = if locked { LOCKED } else { INVALID_CREDENTIALS };
        return Err(AppError::Unauthenticated(message.into()));
    }
    if user.failed_logins > 0 || user.locked_until.is_some() {
        store
            .reset_login_failures(username, now)
            .await
            .context("clearing failed sign-ins")?;
    }
    open_session(store, &user, now, policy).await
}

/// Signs in with an identity an OpenID Connect provider vouched for (the caller verified the
/// ID token) and opens a session: for the user linked to `(issuer, subject)`, or else for an
/// existing user named `username_hint` that has no link yet, which is linked now. Never
/// creates a user; pass a hint only from a claim the provider verified (e.g. a verified email).
pub async fn login_oidc(
    store: &Store,
    issuer: &str,
    subject: &str,
    username_hint: Option<&str>,
    now: Timestamp,
    policy: &SessionPolicy,
) -> Result<NewSession, AppError> {
    if issuer.is_empty() || subject.is_empty() {
        return Err(AppError::Invalid(
            "single sign-on needs an issuer and a subject".into(),
        ));
    }
    let not_linked = || AppError::Unauthenticated(NOT_LINKED.into());
    let linked = store
        .user_by_oidc(issuer, subject)
        .await
        .context("reading the user")?;
    let user = match (linked, username_hint) {
        (Some(user), _) => user,
        (None, None) => return Err(not_linked()),
        (None, Some(hint)) => {
            let candidate = store.user(hint).await.context("reading the user")?;
            let Some(user) =
                candidate.filter(|u| u.oidc_issuer.is_none() && u.disabled_at.is_none())
            else {
                return Err(not_linked());
            };
            match store.link_oidc(hint, issuer, subject, hint, now).await {
                Ok(true) => {}
                // Gone or linked by someone else meanwhile.
                Ok(false) | Err(StoreError::Conflict(_)) => return Err(not_linked()),
                Err(source) => {
                    return Err(AppError::Store {
                        context: "linking the single sign-on identity",
                        source,
                    });
                }
            }
            user
        }
    };
    if user.disabled_at.is_some() {
        return Err(not_linked());
    }
    open_session(store, &user, now, policy).await
}

/// Who a session token acts for: `None` when the token is unknown or malformed, the session
/// ended, unused for longer than `policy.idle`, past its absolute end, or its user is
/// disabled. Records the use.
pub async fn session(
    store: &Store,
    token: &str,
    now: Timestamp,
    policy: &SessionPolicy,
) -> Result<Option<Principal>, AppError> {
    if !token.starts_with(SESSION_PREFIX) {
        return Ok(None);
    }
    let token_hash = sha256_hex(token);
    let Some(session) = store
        .session(&token_hash)
        .await
        .context("reading the session")?
    else {
        return Ok(None);
    };
    if session.ended_at.is_some()
        || now >= session.expires_at
        || now.signed_duration_since(session.last_seen_at) > policy.idle
    {
        return Ok(None);
    }
    let Some(user) = active_user(store, &session.username).await? else {
        return Ok(None);
    };
    if now.signed_duration_since(session.last_seen_at) >= TOUCH_EVERY {
        store
            .touch_session(&token_hash, now)
            .await
            .context("recording the session's use")?;
    }
    Ok(Some(Principal {
        username: user.username,
        display_name: user.display_name,
        role: user.role,
        via: Via::Session,
    }))
}

/// Ends the session of this token; an unknown or ended one is not an error.
pub async fn logout(store: &Store, token: &str, now: Timestamp) -> Result<(), AppError> {
    if token.starts_with(SESSION_PREFIX) {
        store
            .end_session(&sha256_hex(token), now)
            .await
            .context("ending the session")?;
    }
    Ok(())
}

/// Creates an API token for a user and returns its raw form (`wat_ID_SECRET`, shown once,
/// never kept) with what is kept about it. Its role must be the user's or `viewer` (an admin's
/// token may have any role); it must expire in the future and within [`MAX_TOKEN_DAYS`].
pub async fn create_token(
    store: &Store,
    username: &str,
    name: &str,
    role: Role,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<(String, TokenInfo), AppError> {
    check_text("a token name", name, 100)?;
    let user = existing_user(store, username).await?;
    if user.disabled_at.is_some() {
        return Err(AppError::Invalid(format!("user `{username}` is disabled")));
    }
    if !token_role_allowed(user.role, role) {
        return Err(AppError::Invalid(format!(
            "a token of {username} (role {}) can have role {} or viewer, not {role}",
            user.role, user.role
        )));
    }
    if expires_at <= now {
        return Err(AppError::Invalid(
            "a token must expire in the future".into(),
        ));
    }
    if expires_at > now + Duration::days(MAX_TOKEN_DAYS) {
        return Err(AppError::Invalid(format!(
            "a token may live at most {MAX_TOKEN_DAYS} days"
        )));
    }
    for _ in 0..TOKEN_ID_ATTEMPTS {
        let id = random_hex(TOKEN_ID_BYTES)?;
        let raw = format!("{TOKEN_PREFIX}{id}_{}", random_hex(TOKEN_BYTES)?);
        let row = ApiTokenRow {
            id: id.clone(),
            token_hash: sha256_hex(&raw),
            username: username.to_string(),
            name: name.to_string(),
            role,
            created_at: now,
            expires_at,
            last_used_at: None,
            revoked_at: None,
            revoked_by: None,
        };
        match store.create_api_token(&row, ADMIN_ACTOR).await {
            Ok(()) => return Ok((raw, TokenInfo::from(&row))),
            Err(StoreError::Conflict(message)) => {
                let id_taken = store
                    .api_token(&id)
                    .await
                    .context("reading the token")?
                    .is_some();
                if !id_taken {
                    // The user was disabled or removed meanwhile.
                    return Err(AppError::Invalid(message));
                }
            }
            Err(source) => {
                return Err(AppError::Store {
                    context: "creating the token",
                    source,
                });
            }
        }
    }
    Err(AppError::Conflict(
        "could not draw an unused token id; try again".into(),
    ))
}

/// API tokens, revoked and expired ones included: one user's (an unknown user is
/// [`AppError::NotFound`]) or everyone's.
pub async fn tokens(store: &Store, username: Option<&str>) -> Result<Vec<TokenInfo>, AppError> {
    if let Some(username) = username {
        existing_user(store, username).await?;
    }
    let rows = store
        .api_tokens(username)
        .await
        .context("reading the tokens")?;
    Ok(rows.iter().map(TokenInfo::from).collect())
}

/// Revokes a token as `by`. Returns false when no token has the id or it was revoked already.
pub async fn revoke_token(
    store: &Store,
    id: &str,
    by: &str,
    now: Timestamp,
) -> Result<bool, AppError> {
    store
        .revoke_api_token(id, by, now)
        .await
        .context("revoking the token")
}

/// Who a raw API token acts for: `None` when it is malformed, unknown, expired, revoked, its
/// user is disabled, or its role is more than its user's role now allows. Records the use.
pub async fn authenticate_token(
    store: &Store,
    raw: &str,
    now: Timestamp,
) -> Result<Option<Principal>, AppError> {
    let Some(id) = token_id(raw) else {
        return Ok(None);
    };
    let Some(token) = store.api_token(id).await.context("reading the token")? else {
        return Ok(None);
    };
    // The id is public; the comparison of the secret's hash must not tell how much matched.
    let matches: bool = sha256_hex(raw)
        .as_bytes()
        .ct_eq(token.token_hash.as_bytes())
        .into();
    if !matches || token.revoked_at.is_some() || now >= token.expires_at {
        return Ok(None);
    }
    let Some(user) = active_user(store, &token.username).await? else {
        return Ok(None);
    };
    // The user's role may have been lowered since the token was made.
    if !token_role_allowed(user.role, token.role) {
        return Ok(None);
    }
    if token
        .last_used_at
        .is_none_or(|last| now.signed_duration_since(last) >= TOUCH_EVERY)
    {
        store
            .touch_api_token(&token.id, now)
            .await
            .context("recording the token's use")?;
    }
    Ok(Some(Principal {
        username: user.username,
        display_name: user.display_name,
        role: token.role,
        via: Via::Token { id: token.id },
    }))
}

/// Whether a user with role `user` may hold a token with role `token`: an admin any, anyone
/// else their own role or `viewer`.
pub fn token_role_allowed(user: Role, token: Role) -> bool {
    user == Role::Admin || token == user || token == Role::Viewer
}

async fn open_session(
    store: &Store,
    user: &UserRow,
    now: Timestamp,
    policy: &SessionPolicy,
) -> Result<NewSession, AppError> {
    let token = format!("{SESSION_PREFIX}{}", random_hex(TOKEN_BYTES)?);
    let expires_at = now
        .checked_add_signed(policy.absolute)
        .ok_or_else(|| AppError::Invalid("the session lifetime is out of range".into()))?;
    if expires_at <= now {
        return Err(AppError::Invalid(
            "the session lifetime must be positive".into(),
        ));
    }
    let row = SessionRow {
        token_hash: sha256_hex(&token),
        username: user.username.clone(),
        created_at: now,
        last_seen_at: now,
        expires_at,
        ended_at: None,
    };
    store.create_session(&row).await.map_err(|e| match e {
        // Disabled (or gone) while signing in.
        StoreError::Conflict(_) => AppError::Unauthenticated(INVALID_CREDENTIALS.into()),
        source => AppError::Store {
            context: "opening the session",
            source,
        },
    })?;
    Ok(NewSession {
        token,
        principal: Principal {
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            role: user.role,
            via: Via::Session,
        },
        expires_at,
    })
}

async fn existing_user(store: &Store, username: &str) -> Result<UserRow, AppError> {
    store
        .user(username)
        .await
        .context("reading the user")?
        .ok_or_else(|| no_user(username))
}

async fn active_user(store: &Store, username: &str) -> Result<Option<UserRow>, AppError> {
    Ok(store
        .user(username)
        .await
        .context("reading the user")?
        .filter(|u| u.disabled_at.is_none()))
}

/// Refuses to `what` the user when they are the last active admin.
async fn keep_an_admin(store: &Store, user: &UserRow, what: &str) -> Result<(), AppError> {
    if user.role != Role::Admin || user.disabled_at.is_some() {
        return Ok(());
    }
    let users = store.users().await.context("reading the users")?;
    let other_admins = users
        .iter()
        .filter(|u| u.role == Role::Admin && u.disabled_at.is_none())
        .filter(|u| u.username != user.username)
        .count();
    if other_admins == 0 {
        return Err(AppError::Invalid(format!(
            "cannot {what} {}: they are the last active admin (make another user admin first)",
            user.username
        )));
    }
    Ok(())
}

fn no_user(username: &str) -> AppError {
    AppError::NotFound(format!("no user `{username}`"))
}

/// Usernames are short names or email addresses: letters, digits and `. _ - @ +`.
fn check_username(username: &str) -> Result<(), AppError> {
    let valid = !username.is_empty()
        && username.len() <= 128
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '+'));
    if valid {
        Ok(())
    } else {
        Err(AppError::Invalid(format!(
            "`{username}` is not a valid username: use 1 to 128 letters, digits and . _ - @ +"
        )))
    }
}

fn check_text(what: &str, text: &str, max_chars: usize) -> Result<(), AppError> {
    if text.trim().is_empty() || text.chars().count() > max_chars {
        return Err(AppError::Invalid(format!(
            "{what} needs 1 to {max_chars} characters"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(AppError::Invalid(format!(
            "{what} cannot hold control characters"
        )));
    }
    Ok(())
}

/// The argon2id PHC string of a password that meets the length rules.
fn hash_password(password: &str) -> Result<String, AppError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::Invalid(format!(
            "a password needs at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::Invalid(format!(
            "a password may have at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::Credential(format!("cannot hash the password: {e}")))
}

/// Whether `password` matches a stored PHC string; a malformed one matches nothing.
fn verify_password(password: &str, phc: &str) -> bool {
    match Argon2::default().verify_password(password.as_bytes(), phc) {
        Ok(()) => true,
        Err(argon2::password_hash::Error::PasswordInvalid) => false,
        Err(error) => {
            tracing::warn!(%error, "A stored password hash could not be checked.");
            false
        }
    }
}

fn random_hex(n_bytes: usize) -> Result<String, AppError> {
    let mut bytes = vec![0u8; n_bytes];
    getrandom::fill(&mut bytes)
        .map_err(|e| AppError::Credential(format!("no randomness for a token: {e}")))?;
    Ok(hex::encode(bytes))
}

fn sha256_hex(raw: &str) -> String {
    hex::encode(Sha256::digest(raw.as_bytes()))
}

/// The public id of a raw API token (`wat_ID_SECRET`), if it has that shape.
fn token_id(raw: &str) -> Option<&str> {
    let (id, secret) = raw.strip_prefix(TOKEN_PREFIX)?.split_once('_')?;
    let hex_id = id.len() == 2 * TOKEN_ID_BYTES
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (hex_id && !secret.is_empty()).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        let dummy = argon2::PasswordHash::new(DUMMY_HASH).unwrap();
        let real_text = hash_password("correct horse battery staple").unwrap();
        let real = argon2::PasswordHash::new(&real_text).unwrap();
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);
        assert!(real_text.starts_with("$argon2id$"), "{real_text}");
        // A full verification that fails on the comparison, not a parse error.
        assert!(matches!(
            Argon2::default().verify_password(b"", DUMMY_HASH),
            Err(argon2::password_hash::Error::PasswordInvalid)
        ));
    }

    #[test]
    fn passwords_hash_with_a_fresh_salt_and_verify() {
        let a = hash_password("correct horse battery staple").unwrap();
        let b = hash_password("correct horse battery staple").unwrap();
        assert_ne!(a, b, "a salt per hash");
        assert!(verify_password("correct horse battery staple", &a));
        assert!(!verify_password("correct horse battery stapl", &a));
        assert!(!verify_password("anything", "not a phc string"));
        assert!(matches!(hash_password("short"), Err(AppError::Invalid(_))));
        // Twelve characters, fewer bytes would not do: characters count.
        assert!(hash_password("ééééééééééé").is_err());
        assert!(hash_password("éééééééééééé").is_ok());
        assert!(hash_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    }

    #[test]
    fn token_ids_are_read_from_well_formed_tokens_only() {
        assert_eq!(token_id("wat_0a1b2c3d_secret"), Some("0a1b2c3d"));
        assert_eq!(token_id("wat_0a1b2c3d_"), None);
        assert_eq!(token_id("wat_0A1B2C3D_secret"), None);
        assert_eq!(token_id("wat_0a1b2c3_secret"), None);
        assert_eq!(token_id("ws_0a1b2c3d_secret"), None);
        assert_eq!(token_id("wat_0a1b2c3dsecret"), None);
    }

    #[test]
    fn token_roles_never_exceed_their_users() {
        for role in Role::ALL {
            assert!(token_role_allowed(Role::Admin, role));
            assert!(token_role_allowed(role, role));
            assert!(token_role_allowed(role, Role::Viewer));
        }
        assert!(!token_role_allowed(Role::Owner, Role::Admin));
        assert!(!token_role_allowed(Role::Owner, Role::Approver));
        assert!(!token_role_allowed(Role::Viewer, Role::Owner));
    }

    #[test]
    fn usernames_are_names_or_addresses() {
        for ok in ["ana", "ana.lopez", "ana+ops@example.com", "svc_1-x"] {
            assert!(check_username(ok).is_ok(), "{ok}");
        }
        for bad in ["", "ana lopez", "ana:admin", "ana\n", &"a".repeat(129)] {
            assert!(check_username(bad).is_err(), "{bad}");
        }
    }
}
