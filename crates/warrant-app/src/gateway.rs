//! The MCP gateway's calls held for a person's approval: who sees them and who decides. The CLI
//! (`warrant gateway approvals|approve|deny`) and the server's API call these; the gateway
//! holds the calls and polls their status through the store.

use serde::Serialize;
use warrant_core::Timestamp;
use warrant_store::{ApprovalRow, ApprovalStatus, Store, StoreError};

use crate::AppError;

/// A held call as approvers see it: the exact tool, the arguments (redacted) and their digest,
/// the agent, its task and taint, and where the request stands now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApprovalView {
    pub id: String,
    pub agent: String,
    pub task: Option<String>,
    /// `server::tool`.
    pub tool: String,
    /// The call's arguments, secrets redacted.
    pub arguments: serde_json::Value,
    /// SHA-256 of the canonical arguments: an approval holds for exactly these.
    pub arguments_sha256: String,
    pub taint: Vec<String>,
    pub reason: String,
    pub requested_at: Timestamp,
    pub expires_at: Timestamp,
    /// `pending`, `approved`, `denied` or `expired`, at the time asked.
    pub status: ApprovalStatus,
    pub decided_at: Option<Timestamp>,
    pub decided_by: Option<String>,
    pub note: Option<String>,
}

impl ApprovalView {
    fn of(row: ApprovalRow, now: Timestamp) -> ApprovalView {
        ApprovalView {
            status: row.status_at(now),
            arguments: serde_json::from_str(&row.arguments_view)
                .unwrap_or(serde_json::Value::String(row.arguments_view)),
            id: row.id,
            agent: row.agent,
            task: row.task,
            tool: row.tool,
            arguments_sha256: row.arguments_sha256,
            taint: row.taint,
            reason: row.reason,
            requested_at: row.requested_at,
            expires_at: row.expires_at,
            decided_at: row.decided_at,
            decided_by: row.decided_by,
            note: row.note,
        }
    }
}

/// Held calls, oldest first: all, or those with `status` at `now`.
pub async fn approvals(
    store: &Store,
    status: Option<ApprovalStatus>,
    now: Timestamp,
) -> Result<Vec<ApprovalView>, AppError> {
    let rows = store
        .approvals(status)
        .await
        .map_err(|source| AppError::Store {
            context: "reading the held calls",
            source,
        })?;
    Ok(rows
        .into_iter()
        .map(|row| ApprovalView::of(row, now))
        .filter(|view| status.is_none_or(|s| view.status == s))
        .collect())
}

/// Approves or denies a held call as `actor`. `approvers` (gateway.toml's `approval.approvers`;
/// empty: anyone the caller's role lets approve) limits who may. An unknown id is
/// [`AppError::NotFound`]; a call decided already or past its deadline [`AppError::Conflict`].
pub async fn decide(
    store: &Store,
    id: &str,
    actor: &str,
    approve: bool,
    note: Option<&str>,
    approvers: &[String],
    now: Timestamp,
) -> Result<ApprovalView, AppError> {
    if !approvers.is_empty() && !approvers.iter().any(|a| a.eq_ignore_ascii_case(actor)) {
        return Err(AppError::Forbidden(format!(
            "{actor} is not one of the gateway's approvers"
        )));
    }
    if !approve && note.is_none_or(|n| n.trim().is_empty()) {
        return Err(AppError::Invalid(
            "a denial needs a note: the agent is shown why".into(),
        ));
    }
    match store.decide_approval(id, approve, actor, note, now).await {
        Ok(Some(row)) => Ok(ApprovalView::of(row, now)),
        Ok(None) => Err(AppError::NotFound(format!("no held call {id}"))),
        Err(StoreError::Conflict(message)) => Err(AppError::Conflict(message)),
        Err(source) => Err(AppError::Store {
            context: "deciding the held call",
            source,
        }),
    }
}
