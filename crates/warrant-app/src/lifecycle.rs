//! Governance use cases: exceptions granted under the governance policy, and the audit trail
//! every governance change is written to.

use chrono::Duration;
use serde::Serialize;
use warrant_core::Timestamp;
use warrant_lifecycle::{Exception, ExceptionState, GovernancePolicy, NewException};
use warrant_store::{AuditEntry, ExceptionRow, Store};

use crate::AppError;
use crate::error::StoreContext;

/// An exception as listed: what it is, where it stands now, and whether it was withdrawn.
#[derive(Debug, Clone, Serialize)]
pub struct ExceptionView {
    #[serde(flatten)]
    pub exception: Exception,
    pub scope: String,
    #[serde(flatten)]
    pub state: ExceptionState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn_by: Option<String>,
}

impl ExceptionView {
    /// In force: neither expired nor withdrawn.
    pub fn in_force(&self) -> bool {
        self.withdrawn_at.is_none() && self.state != ExceptionState::Expired
    }
}

/// Grants `request` under `policy` at `now` as `actor`, recording it and its audit entry. The
/// same request at the same instant is the same exception (granted once).
pub async fn grant_exception(
    store: &Store,
    policy: &GovernancePolicy,
    request: NewException,
    now: Timestamp,
    actor: &str,
) -> Result<Exception, AppError> {
    let exception = request
        .grant(policy, now, actor)
        .map_err(|e| AppError::Invalid(e.to_string()))?;
    let row = ExceptionRow {
        id: exception.id.clone(),
        owner: exception.owner.clone(),
        expires: exception.expires,
        created: exception.created,
        data: serde_json::to_string(&exception)
            .map_err(|e| AppError::Invalid(format!("cannot record the exception: {e}")))?,
        removed_at: None,
        removed_by: None,
    };
    store
        .grant_exception(&row, &exception.created_by, now)
        .await
        .context("recording the exception")?;
    Ok(exception)
}

/// Every exception, soonest to expire first, with its state at `now` (`soon`: the window in
/// which an active one counts as expiring).
pub async fn exceptions(
    store: &Store,
    now: Timestamp,
    soon: Duration,
) -> Result<Vec<ExceptionView>, AppError> {
    let rows = store.exceptions().await.context("loading exceptions")?;
    rows.into_iter()
        .map(|row| {
            let exception: Exception =
                serde_json::from_str(&row.data).map_err(|e| AppError::Store {
                    context: "loading exceptions",
                    source: warrant_store::StoreError::Corrupt {
                        table: "exceptions",
                        key: row.id.clone(),
                        message: e.to_string(),
                    },
                })?;
            Ok(ExceptionView {
                scope: exception.scope(),
                state: exception.state(now, soon),
                exception,
                withdrawn_at: row.removed_at,
                withdrawn_by: row.removed_by,
            })
        })
        .collect()
}

/// Withdraws an exception in force before it expires, as `actor`.
pub async fn withdraw_exception(
    store: &Store,
    id: &str,
    now: Timestamp,
    actor: &str,
) -> Result<(), AppError> {
    let actor = actor.trim().to_ascii_lowercase();
    if actor.is_empty() {
        return Err(AppError::Invalid(
            "the person withdrawing it is not named (--as EMAIL or WARRANT_USER)".into(),
        ));
    }
    let done = store
        .withdraw_exception(id, &actor, now)
        .await
        .context("withdrawing the exception")?;
    if done {
        Ok(())
    } else {
        Err(AppError::Invalid(format!(
            "no exception in force has the id `{id}` (see `warrant exception list --all`)"
        )))
    }
}

/// The audit trail of governance changes, oldest first.
pub async fn audit(store: &Store) -> Result<Vec<AuditEntry>, AppError> {
    store.audit_log().await.context("loading the audit trail")
}
