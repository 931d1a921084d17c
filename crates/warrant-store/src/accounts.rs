//! Warrant's own users (schema 12): the people who sign in to the server, their sessions and
//! their API tokens. The application layer (`warrant_app::accounts`) decides; this module only
//! keeps what it decided.
//!
//! INVARIANT: no raw password or token is stored, nor passed to this module: a password arrives
//! as the argon2id PHC string the caller computed, a session or API token as the SHA-256 (hex)
//! of the raw token.
//!
//! Every change adds its audit row in the same transaction (never with a password hash or a
//! token hash in it), except the touches that record a session's or token's last use: those
//! happen on every request and change no one's rights. None raises the store's revision: these
//! records are not inputs of an assessment.

use chrono::DateTime;
use sqlx::Row;
use sqlx::any::AnyRow;
use warrant_core::Timestamp;
use warrant_core::access::Role;

use crate::dialect;
use crate::governance::audit;
use crate::{Store, StoreError, WriteTx};

/// A user of Warrant as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRow {
    pub username: String,
    /// The name shown for them; `None`: the username.
    pub display_name: Option<String>,
    pub role: Role,
    /// The argon2id PHC string of their password; `None`: no password (single sign-on only).
    pub password_hash: Option<String>,
    /// Their single sign-on identity: the OpenID Connect issuer and their subject there (both
    /// or neither).
    pub oidc_issuer: Option<String>,
    pub oidc_subject: Option<String>,
    pub created_at: Timestamp,
    pub disabled_at: Option<Timestamp>,
    /// Wrong passwords since the last sign-in (or since a lock ran out).
    pub failed_logins: u32,
    /// Password sign-in is refused until then.
    pub locked_until: Option<Timestamp>,
}

// By hand: the password hash is not a secret by itself, but it is what an offline guesser
// needs, so it stays out of logs and error messages.
impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("role", &self.role)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<argon2id hash>"),
            )
            .field("oidc_issuer", &self.oidc_issuer)
            .field("oidc_subject", &self.oidc_subject)
            .field("created_at", &self.created_at)
            .field("disabled_at", &self.disabled_at)
            .field("failed_logins", &self.failed_logins)
            .field("locked_until", &self.locked_until)
            .finish()
    }
}

/// A signed-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// SHA-256 (hex) of the session token.
    pub token_hash: String,
    pub username: String,
    pub created_at: Timestamp,
    /// The last request made with it (recorded at most as often as the caller touches it).
    pub last_seen_at: Timestamp,
    /// Its absolute end.
    pub expires_at: Timestamp,
    /// When it was ended (sign-out, user disabled).
    pub ended_at: Option<Timestamp>,
}

/// An API token: it acts for its user with its own role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRow {
    /// Its public id, also the visible part of the raw token.
    pub id: String,
    /// SHA-256 (hex) of the whole raw token.
    pub token_hash: String,
    pub username: String,
    /// What it is for, in its creator's words.
    pub name: String,
    /// The role it acts with (never more than its user's; the application checks).
    pub role: Role,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub revoked_by: Option<String>,
}

const USER_COLUMNS: &str = "username, display_name, role, password_hash, oidc_issuer, \
     oidc_subject, created_at, disabled_at, failed_logins, locked_until";
const SESSION_COLUMNS: &str =
    "token_hash, username, created_at, last_seen_at, expires_at, ended_at";
const TOKEN_COLUMNS: &str = "id, token_hash, username, name, role, created_at, expires_at, \
     last_used_at, revoked_at, revoked_by";

fn parse_role(table: &'static str, key: &str, text: &str) -> Result<Role, StoreError> {
    Role::parse(text).ok_or_else(|| StoreError::Corrupt {
        table,
        key: key.to_string(),
        message: format!("unknown role `{text}`"),
    })
}

fn user_row(r: &AnyRow) -> Result<UserRow, StoreError> {
    let t = "platform_users";
    let username: String = r.try_get(0)?;
    let failed: i64 = r.try_get(8)?;
    Ok(UserRow {
        display_name: r.try_get(1)?,
        role: parse_role(t, &username, &r.try_get::<String, _>(2)?)?,
        password_hash: r.try_get(3)?,
        oidc_issuer: r.try_get(4)?,
        oidc_subject: r.try_get(5)?,
        created_at: dialect::parse_timestamp(t, &username, &r.try_get::<String, _>(6)?)?,
        disabled_at: dialect::parse_opt_timestamp(t, &username, r.try_get(7)?)?,
        failed_logins: u32::try_from(failed).map_err(|_| StoreError::Corrupt {
            table: t,
            key: username.clone(),
            message: format!("bad failed_logins {failed}"),
        })?,
        locked_until: dialect::parse_opt_timestamp(t, &username, r.try_get(9)?)?,
        username,
    })
}

fn session_row(r: &AnyRow) -> Result<SessionRow, StoreError> {
    let t = "platform_sessions";
    let token_hash: String = r.try_get(0)?;
    // The key in an error message: a prefix tells sessions apart without the whole hash.
    let key: String = token_hash.chars().take(12).collect();
    Ok(SessionRow {
        username: r.try_get(1)?,
        created_at: dialect::parse_timestamp(t, &key, &r.try_get::<String, _>(2)?)?,
        last_seen_at: dialect::parse_timestamp(t, &key, &r.try_get::<String, _>(3)?)?,
        expires_at: dialect::parse_timestamp(t, &key, &r.try_get::<String, _>(4)?)?,
        ended_at: dialect::parse_opt_timestamp(t, &key, r.try_get(5)?)?,
        token_hash,
    })
}

fn token_row(r: &AnyRow) -> Result<ApiTokenRow, StoreError> {
    let t = "api_tokens";
    let id: String = r.try_get(0)?;
    Ok(ApiTokenRow {
        token_hash: r.try_get(1)?,
        username: r.try_get(2)?,
        name: r.try_get(3)?,
        role: parse_role(t, &id, &r.try_get::<String, _>(4)?)?,
        created_at: dialect::parse_timestamp(t, &id, &r.try_get::<String, _>(5)?)?,
        expires_at: dialect::parse_timestamp(t, &id, &r.try_get::<String, _>(6)?)?,
        last_used_at: dialect::parse_opt_timestamp(t, &id, r.try_get(7)?)?,
        revoked_at: dialect::parse_opt_timestamp(t, &id, r.try_get(8)?)?,
        revoked_by: r.try_get(9)?,
        id,
    })
}

/// What the audit trail says about a user: everything but the password hash.
fn user_json(row: &UserRow) -> String {
    serde_json::json!({
        "display_name": row.display_name,
        "role": row.role,
        "has_password": row.password_hash.is_some(),
        "oidc_issuer": row.oidc_issuer,
        "oidc_subject": row.oidc_subject,
        "disabled_at": row.disabled_at.as_ref().map(dialect::timestamp),
    })
    .to_string()
}

/// What the audit trail says about a token: everything but its hash.
fn token_json(row: &ApiTokenRow) -> String {
    serde_json::json!({
        "username": row.username,
        "name": row.name,
        "role": row.role,
        "expires_at": dialect::timestamp(&row.expires_at),
        "revoked_at": row.revoked_at.as_ref().map(dialect::timestamp),
        "revoked_by": row.revoked_by,
    })
    .to_string()
}

/// A user, read inside `tx`.
async fn user_in(tx: &mut WriteTx, username: &str) -> Result<Option<UserRow>, StoreError> {
    let row = tx
        .query(&format!(
            "SELECT {USER_COLUMNS} FROM platform_users WHERE username = ?"
        ))
        .bind(username)
        .fetch_optional(tx.conn())
        .await?;
    row.as_ref().map(user_row).transpose()
}

/// A writing transaction for account records: they are not inputs of an assessment, so
/// committing it leaves the store's revision (and the saved assessment current) alone.
async fn begin(store: &Store) -> Result<WriteTx, StoreError> {
    let mut tx = store.begin_write().await?;
    tx.changes_inputs = false;
    Ok(tx)
}

impl Store {
    /// Adds a user and its audit row (`user.add`). A user with the same name, or another user
    /// with the same single sign-on identity, gives [`StoreError::Conflict`] with nothing
    /// written.
    pub async fn add_user(&self, row: &UserRow, actor: &str) -> Result<(), StoreError> {
        let mut tx = begin(self).await?;
        if user_in(&mut tx, &row.username).await?.is_some() {
            return Err(StoreError::Conflict(format!(
                "user `{}` already exists",
                row.username
            )));
        }
        if let (Some(issuer), Some(subject)) = (&row.oidc_issuer, &row.oidc_subject)
            && oidc_owner(&mut tx, issuer, subject).await?.is_some()
        {
            return Err(StoreError::Conflict(format!(
                "another user is already linked to subject `{subject}` of {issuer}"
            )));
        }
        tx.query(&format!(
            "INSERT INTO platform_users ({USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(row.username.as_str())
        .bind(row.display_name.as_deref())
        .bind(row.role.as_str())
        .bind(row.password_hash.as_deref())
        .bind(row.oidc_issuer.as_deref())
        .bind(row.oidc_subject.as_deref())
        .bind(dialect::timestamp(&row.created_at))
        .bind(row.disabled_at.as_ref().map(dialect::timestamp))
        .bind(i64::from(row.failed_logins))
        .bind(row.locked_until.as_ref().map(dialect::timestamp))
        .execute(tx.conn())
        .await?;
        audit(
            &mut tx,
            &dialect::timestamp(&row.created_at),
            actor,
            "user.add",
            &row.username,
            None,
            Some(&user_json(row)),
        )
        .await?;
        tx.commit().await
    }

    pub async fn user(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        let row = self
            .query(&format!(
                "SELECT {USER_COLUMNS} FROM platform_users WHERE username = ?"
            ))
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_row).transpose()
    }

    /// Every user, by username.
    pub async fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        let rows = self
            .query(&format!(
                "SELECT {USER_COLUMNS} FROM platform_users ORDER BY username"
            ))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_row).collect()
    }

    /// The user linked to a single sign-on identity.
    pub async fn user_by_oidc(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<UserRow>, StoreError> {
        let row = self
            .query(&format!(
                "SELECT {USER_COLUMNS} FROM platform_users \
                 WHERE oidc_issuer = ? AND oidc_subject = ?"
            ))
            .bind(issuer)
            .bind(subject)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_row).transpose()
    }

    /// Links a user to a single sign-on identity (`user.link_oidc`). Returns false when there
    /// is no such user; true when linked now or already linked to exactly this identity. A
    /// user linked to another identity, or an identity linked to another user, gives
    /// [`StoreError::Conflict`] with nothing written.
    pub async fn link_oidc(
        &self,
        username: &str,
        issuer: &str,
        subject: &str,
        actor: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = begin(self).await?;
        let Some(user) = user_in(&mut tx, username).await? else {
            return Ok(false);
        };
        match (&user.oidc_issuer, &user.oidc_subject) {
            (Some(i), Some(s)) if i == issuer && s == subject => return Ok(true),
            (None, None) => {}
            _ => {
                return Err(StoreError::Conflict(format!(
                    "user `{username}` is already linked to another single sign-on identity"
                )));
            }
        }
        if oidc_owner(&mut tx, issuer, subject).await?.is_some() {
            return Err(StoreError::Conflict(format!(
                "another user is already linked to subject `{subject}` of {issuer}"
            )));
        }
        tx.query("UPDATE platform_users SET oidc_issuer = ?, oidc_subject = ? WHERE username = ?")
            .bind(issuer)
            .bind(subject)
            .bind(username)
            .execute(tx.conn())
            .await?;
        let after = UserRow {
            oidc_issuer: Some(issuer.to_string()),
            oidc_subject: Some(subject.to_string()),
            ..user.clone()
        };
        audit(
            &mut tx,
            &dialect::timestamp(&at),
            actor,
            "user.link_oidc",
            username,
            Some(&user_json(&user)),
            Some(&user_json(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Changes a user's role (`user.set_role`). Returns false when there is no such user.
    pub async fn set_user_role(
        &self,
        username: &str,
        role: Role,
        actor: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = begin(self).await?;
        let Some(user) = user_in(&mut tx, username).await? else {
            return Ok(false);
        };
        tx.query("UPDATE platform_users SET role = ? WHERE username = ?")
            .bind(role.as_str())
            .bind(username)
            .execute(tx.conn())
            .await?;
        let after = UserRow {
            role,
            ..user.clone()
        };
        audit(
            &mut tx,
            &dialect::timestamp(&at),
            actor,
            "user.set_role",
            username,
            Some(&user_json(&user)),
            Some(&user_json(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Replaces a user's password hash (`None`: password sign-in no longer possible) and lifts
    /// any lock from wrong passwords (`user.set_password`). Returns false when there is no such
    /// user.
    pub async fn set_password_hash(
        &self,
        username: &str,
        password_hash: Option<&str>,
        actor: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = begin(self).await?;
        let Some(user) = user_in(&mut tx, username).await? else {
            return Ok(false);
        };
        tx.query(
            "UPDATE platform_users SET password_hash = ?, failed_logins = 0, locked_until = NULL \
             WHERE username = ?",
        )
        .bind(password_hash)
        .bind(username)
        .execute(tx.conn())
        .await?;
        let after = UserRow {
            password_hash: password_hash.map(str::to_string),
            ..user.clone()
        };
        audit(
            &mut tx,
            &dialect::timestamp(&at),
            actor,
            "user.set_password",
            username,
            Some(&user_json(&user)),
            Some(&user_json(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Disables a user, ends their open sessions and revokes their valid tokens, in one
    /// transaction (`user.disable`; `session.end_all` and `token.revoke` for what it ended).
    /// Returns false when there is no such user; disabling a disabled user keeps the first
    /// instant and still ends whatever is open.
    pub async fn disable_user(
        &self,
        username: &str,
        actor: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let at_text = dialect::timestamp(&at);
        let mut tx = begin(self).await?;
        let Some(user) = user_in(&mut tx, username).await? else {
            return Ok(false);
        };
        if user.disabled_at.is_none() {
            tx.query("UPDATE platform_users SET disabled_at = ? WHERE username = ?")
                .bind(&at_text)
                .bind(username)
                .execute(tx.conn())
                .await?;
            let after = UserRow {
                disabled_at: Some(at),
                ..user.clone()
            };
            audit(
                &mut tx,
                &at_text,
                actor,
                "user.disable",
                username,
                Some(&user_json(&user)),
                Some(&user_json(&after)),
            )
            .await?;
        }
        end_sessions_in(&mut tx, username, actor, &at_text).await?;
        let tokens = tx
            .query(&format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE username = ? AND revoked_at IS NULL \
                 ORDER BY id"
            ))
            .bind(username)
            .fetch_all(tx.conn())
            .await?
            .iter()
            .map(token_row)
            .collect::<Result<Vec<_>, _>>()?;
        for token in &tokens {
            revoke_in(&mut tx, token, actor, at).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Counts one wrong password for a user (`user.login_failed`) and locks password sign-in
    /// until `at + lock_for` when the count reaches `lock_after` (0: never lock). A lock that
    /// has run out starts the count again. Returns whether the user is now locked; false, with
    /// nothing written, when there is no such user.
    pub async fn record_login_failure(
        &self,
        username: &str,
        at: Timestamp,
        lock_after: u32,
        lock_for: chrono::Duration,
    ) -> Result<bool, StoreError> {
        let mut tx = begin(self).await?;
        let Some(user) = user_in(&mut tx, username).await? else {
            return Ok(false);
        };
        let lock_ran_out = user.locked_until.is_some_and(|until| until <= at);
        let (failed, mut locked_until) = if lock_ran_out {
            (1, None)
        } else {
            (user.failed_logins.saturating_add(1), user.locked_until)
        };
        if lock_after > 0 && failed >= lock_after {
            locked_until = Some(
                at.checked_add_signed(lock_for)
                    .unwrap_or(DateTime::<chrono::Utc>::MAX_UTC),
            );
        }
        let locked_text = locked_until.as_ref().map(dialect::timestamp);
        tx.query(
            "UPDATE platform_users SET failed_logins = ?, locked_until = ? WHERE username = ?",
        )
        .bind(i64::from(failed))
        .bind(locked_text.as_deref())
        .bind(username)
        .execute(tx.conn())
        .await?;
        let after = serde_json::json!({
            "failed_logins": failed,
            "locked_until": locked_text,
        })
        .to_string();
        audit(
            &mut tx,
            &dialect::timestamp(&at),
            username,
            "user.login_failed",
            username,
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(locked_until.is_some_and(|until| until > at))
    }

    /// Clears a user's count of wrong passwords and any lock (`user.login_reset`), as a
    /// successful sign-in does. Writes nothing when there is nothing to clear.
    pub async fn reset_login_failures(
        &self,
        username: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = begin(self).await?;
        let done = tx
            .query(
                "UPDATE platform_users SET failed_logins = 0, locked_until = NULL \
                 WHERE username = ? AND (failed_logins <> 0 OR locked_until IS NOT NULL)",
            )
            .bind(username)
            .execute(tx.conn())
            .await?;
        if done.rows_affected() > 0 {
            let after = serde_json::json!({ "failed_logins": 0, "locked_until": null });
            audit(
                &mut tx,
                &dialect::timestamp(&at),
                username,
                "user.login_reset",
                username,
                None,
                Some(&after.to_string()),
            )
            .await?;
        }
        tx.commit().await
    }

    /// Records a new session (`session.start`, by its user). A user that does not exist or is
    /// disabled gives [`StoreError::Conflict`] with nothing written (a user disabled while
    /// signing in gets no session).
    pub async fn create_session(&self, row: &SessionRow) -> Result<(), StoreError> {
        let mut tx = begin(self).await?;
        require_active_user(&mut tx, &row.username).await?;
        tx.query(&format!(
            "INSERT INTO platform_sessions ({SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
        ))
        .bind(row.token_hash.as_str())
        .bind(row.username.as_str())
        .bind(dialect::timestamp(&row.created_at))
        .bind(dialect::timestamp(&row.last_seen_at))
        .bind(dialect::timestamp(&row.expires_at))
        .bind(row.ended_at.as_ref().map(dialect::timestamp))
        .execute(tx.conn())
        .await?;
        let after = serde_json::json!({ "expires_at": dialect::timestamp(&row.expires_at) });
        audit(
            &mut tx,
            &dialect::timestamp(&row.created_at),
            &row.username,
            "session.start",
            &row.username,
            None,
            Some(&after.to_string()),
        )
        .await?;
        tx.commit().await
    }

    /// The session with this token hash, open or not.
    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>, StoreError> {
        let row = self
            .query(&format!(
                "SELECT {SESSION_COLUMNS} FROM platform_sessions WHERE token_hash = ?"
            ))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(session_row).transpose()
    }

    /// Records a request made with an open session: its `last_seen_at` moves forward to `at`
    /// (never back). Not audited: it changes no one's rights.
    pub async fn touch_session(&self, token_hash: &str, at: Timestamp) -> Result<(), StoreError> {
        let at = dialect::timestamp(&at);
        let mut tx = begin(self).await?;
        tx.query(
            "UPDATE platform_sessions SET last_seen_at = ? \
             WHERE token_hash = ? AND ended_at IS NULL AND last_seen_at < ?",
        )
        .bind(&at)
        .bind(token_hash)
        .bind(&at)
        .execute(tx.conn())
        .await?;
        tx.commit().await
    }

    /// Ends an open session (`session.end`, by its user). Returns false when no open session
    /// has this hash.
    pub async fn end_session(&self, token_hash: &str, at: Timestamp) -> Result<bool, StoreError> {
        let at = dialect::timestamp(&at);
        let mut tx = begin(self).await?;
        let username: Option<String> = tx
            .query(
                "UPDATE platform_sessions SET ended_at = ? \
                 WHERE token_hash = ? AND ended_at IS NULL RETURNING username",
            )
            .bind(&at)
            .bind(token_hash)
            .fetch_optional(tx.conn())
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        let Some(username) = username else {
            return Ok(false);
        };
        audit(
            &mut tx,
            &at,
            &username,
            "session.end",
            &username,
            None,
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Ends every open session of a user (`session.end_all`, with how many). Returns how many
    /// it ended.
    pub async fn end_sessions_of(
        &self,
        username: &str,
        actor: &str,
        at: Timestamp,
    ) -> Result<u64, StoreError> {
        let mut tx = begin(self).await?;
        let ended = end_sessions_in(&mut tx, username, actor, &dialect::timestamp(&at)).await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// Records a new API token (`token.create`). A token with the same id gives
    /// [`StoreError::Conflict`] (draw another id), as does a user that does not exist or is
    /// disabled; nothing is written then.
    pub async fn create_api_token(&self, row: &ApiTokenRow, actor: &str) -> Result<(), StoreError> {
        let mut tx = begin(self).await?;
        require_active_user(&mut tx, &row.username).await?;
        let done = tx
            .query(&format!(
                "INSERT INTO api_tokens ({TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO NOTHING"
            ))
            .bind(row.id.as_str())
            .bind(row.token_hash.as_str())
            .bind(row.username.as_str())
            .bind(row.name.as_str())
            .bind(row.role.as_str())
            .bind(dialect::timestamp(&row.created_at))
            .bind(dialect::timestamp(&row.expires_at))
            .bind(row.last_used_at.as_ref().map(dialect::timestamp))
            .bind(row.revoked_at.as_ref().map(dialect::timestamp))
            .bind(row.revoked_by.as_deref())
            .execute(tx.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "an API token with id `{}` already exists",
                row.id
            )));
        }
        audit(
            &mut tx,
            &dialect::timestamp(&row.created_at),
            actor,
            "token.create",
            &row.id,
            None,
            Some(&token_json(row)),
        )
        .await?;
        tx.commit().await
    }

    pub async fn api_token(&self, id: &str) -> Result<Option<ApiTokenRow>, StoreError> {
        let row = self
            .query(&format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = ?"
            ))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(token_row).transpose()
    }

    /// API tokens, revoked and expired ones included: one user's, or everyone's (`None`), by
    /// user, then oldest first.
    pub async fn api_tokens(&self, username: Option<&str>) -> Result<Vec<ApiTokenRow>, StoreError> {
        let rows = match username {
            Some(username) => {
                self.query(&format!(
                    "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE username = ? \
                     ORDER BY username, created_at, id"
                ))
                .bind(username)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                self.query(&format!(
                    "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY username, created_at, id"
                ))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(token_row).collect()
    }

    /// Records a request made with a token: its `last_used_at` moves forward to `at` (never
    /// back). Not audited: it changes no one's rights.
    pub async fn touch_api_token(&self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        let at = dialect::timestamp(&at);
        let mut tx = begin(self).await?;
        tx.query(
            "UPDATE api_tokens SET last_used_at = ? \
             WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
        )
        .bind(&at)
        .bind(id)
        .bind(&at)
        .execute(tx.conn())
        .await?;
        tx.commit().await
    }

    /// Revokes a token (`token.revoke`, by `by`). Returns false when no token has the id or it
    /// was revoked already.
    pub async fn revoke_api_token(
        &self,
        id: &str,
        by: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = begin(self).await?;
        let token = tx
            .query(&format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = ?"
            ))
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
            .as_ref()
            .map(token_row)
            .transpose()?;
        let Some(token) = token.filter(|t| t.revoked_at.is_none()) else {
            return Ok(false);
        };
        revoke_in(&mut tx, &token, by, at).await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// The user linked to a single sign-on identity, inside `tx`.
async fn oidc_owner(
    tx: &mut WriteTx,
    issuer: &str,
    subject: &str,
) -> Result<Option<String>, StoreError> {
    let row = tx
        .query("SELECT username FROM platform_users WHERE oidc_issuer = ? AND oidc_subject = ?")
        .bind(issuer)
        .bind(subject)
        .fetch_optional(tx.conn())
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// Fails with [`StoreError::Conflict`] unless the user exists and is not disabled.
async fn require_active_user(tx: &mut WriteTx, username: &str) -> Result<(), StoreError> {
    match user_in(tx, username).await? {
        Some(user) if user.disabled_at.is_none() => Ok(()),
        Some(_) => Err(StoreError::Conflict(format!(
            "user `{username}` is disabled"
        ))),
        None => Err(StoreError::Conflict(format!("no user `{username}`"))),
    }
}

/// Ends a user's open sessions inside `tx`, with one audit row when there were any.
async fn end_sessions_in(
    tx: &mut WriteTx,
    username: &str,
    actor: &str,
    at: &str,
) -> Result<u64, StoreError> {
    let done = tx
        .query("UPDATE platform_sessions SET ended_at = ? WHERE username = ? AND ended_at IS NULL")
        .bind(at)
        .bind(username)
        .execute(tx.conn())
        .await?;
    let ended = done.rows_affected();
    if ended > 0 {
        let after = serde_json::json!({ "sessions_ended": ended }).to_string();
        audit(
            tx,
            at,
            actor,
            "session.end_all",
            username,
            None,
            Some(&after),
        )
        .await?;
    }
    Ok(ended)
}

/// Revokes one valid token inside `tx`, with its audit row.
async fn revoke_in(
    tx: &mut WriteTx,
    token: &ApiTokenRow,
    by: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    let at_text = dialect::timestamp(&at);
    tx.query("UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE id = ?")
        .bind(&at_text)
        .bind(by)
        .bind(token.id.as_str())
        .execute(tx.conn())
        .await?;
    let after = ApiTokenRow {
        revoked_at: Some(at),
        revoked_by: Some(by.to_string()),
        ..token.clone()
    };
    audit(
        tx,
        &at_text,
        by,
        "token.revoke",
        &token.id,
        Some(&token_json(token)),
        Some(&token_json(&after)),
    )
    .await
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    /// A role the core no longer knows (a stored value from a newer version, or edited by
    /// hand) is a decoding error naming the record, not a panic or a silent default.
    #[tokio::test]
    async fn an_unknown_stored_role_is_a_corrupt_record() {
        let store = Store::open_url("sqlite::memory:").await.unwrap();
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).single().unwrap();
        store
            .query(
                "INSERT INTO platform_users (username, role, created_at) VALUES ('eve', 'root', ?)",
            )
            .bind(dialect::timestamp(&at))
            .execute(&store.pool)
            .await
            .unwrap();
        let error = store.user("eve").await.unwrap_err();
        assert!(
            matches!(&error, StoreError::Corrupt { table: "platform_users", key, message }
                if key == "eve" && message.contains("root")),
            "{error:?}"
        );
        assert!(store.users().await.is_err());
    }

    #[test]
    fn debug_leaves_the_password_hash_out() {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).single().unwrap();
        let row = UserRow {
            username: "ana".into(),
            display_name: None,
            role: Role::Viewer,
            password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
            oidc_issuer: None,
            oidc_subject: None,
            created_at: at,
            disabled_at: None,
            failed_logins: 0,
            locked_until: None,
        };
        let shown = format!("{row:?}");
        assert!(!shown.contains("argon2id$"), "{shown}");
        assert!(shown.contains("<argon2id hash>"), "{shown}");
    }
}
