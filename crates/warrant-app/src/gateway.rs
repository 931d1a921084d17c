//! The MCP gateway's calls held for a person's approval: who sees them and who decides. The CLI
//! (`warrant gateway approvals|approve|deny`) and the server's API call these; the gateway
//! holds the calls and polls their status through the store. [`agent_profile`]: what the
//! inventory knows of an agent, for the gateway's policies.

use serde::Serialize;
use warrant_core::{Environment, FindingSource, IdentityKind, OwnerStatus, Timestamp};
use warrant_store::{ApprovalRow, ApprovalStatus, Store, StoreError};

use crate::AppError;
use crate::error::StoreContext;

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

/// What Warrant's inventory knows of an agent the MCP gateway sees, for its policies: the
/// identity, its owner in force and whether that owner is still with the organisation, its
/// environment (the policy's tier) and the risk the last assessment gave it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentProfile {
    /// The inventory id (`mcp:PATH#SERVER`, …).
    pub identity: String,
    pub name: String,
    pub kind: IdentityKind,
    /// The first owner in force (an explicit assignment first, then the provider's records).
    pub owner: Option<String>,
    /// False when no owner is left: none at all, or every one suspended or deprovisioned in
    /// the imported directory (as posture's ownership rules judge it). Team handles and names
    /// the directory does not resolve still count as an owner.
    pub owner_active: bool,
    pub environment: Environment,
    /// 0–100, from the last saved assessment; `None` before one scored it.
    pub risk: Option<f64>,
}

/// The agent `wanted` names in the inventory: the current identity of kind `ai_agent` (or,
/// as the activity attribution reads agents, `mcp_server`) with that id, else the single one
/// with that name (an `ai_agent` before an `mcp_server`). `None` when no identity or more than
/// one fits: the gateway then refuses the agent unless gateway.toml lists it.
pub async fn agent_profile(store: &Store, wanted: &str) -> Result<Option<AgentProfile>, AppError> {
    let is_agent =
        |kind: IdentityKind| matches!(kind, IdentityKind::AiAgent | IdentityKind::McpServer);
    let by_id = store
        .current_identities(&[wanted.to_string()])
        .await
        .context("looking the agent up")?;
    let id = match by_id.into_iter().find(|i| is_agent(i.kind)) {
        Some(identity) => identity.id,
        None => {
            let named: Vec<String> = store
                .identity_names()
                .await
                .context("looking the agent up by name")?
                .into_iter()
                .filter(|(_, name)| name == wanted)
                .map(|(id, _)| id)
                .collect();
            if named.is_empty() {
                return Ok(None);
            }
            let found = store
                .current_identities(&named)
                .await
                .context("looking the agent up by name")?;
            let of_kind = |kind: IdentityKind| -> Vec<String> {
                found
                    .iter()
                    .filter(|i| i.kind == kind)
                    .map(|i| i.id.clone())
                    .collect()
            };
            let agents = of_kind(IdentityKind::AiAgent);
            let servers = of_kind(IdentityKind::McpServer);
            match (agents.as_slice(), servers.as_slice()) {
                ([one], _) | ([], [one]) => one.clone(),
                _ => return Ok(None),
            }
        }
    };
    let mut neighbourhood = store
        .load_neighbourhood(&id)
        .await
        .context("loading the agent")?;
    crate::ownership::apply_owners(store, &mut neighbourhood).await?;
    let Some(identity) = neighbourhood.identities.iter().find(|i| i.id == id) else {
        return Ok(None);
    };
    let status = |owner: &str| {
        neighbourhood
            .owners
            .iter()
            .find(|o| o.id.eq_ignore_ascii_case(owner))
            .map(|o| o.status)
    };
    let left = |owner: &str| {
        matches!(
            status(owner),
            Some(OwnerStatus::Suspended | OwnerStatus::Deprovisioned)
        )
    };
    let in_force = identity.owners.iter().find(|o| !left(&o.id));
    let owner = in_force.or(identity.owners.first()).map(|o| o.id.clone());
    let risk = match store
        .last_run(FindingSource::Posture)
        .await
        .context("reading the last assessment")?
    {
        Some(run) => store
            .scored_identity(run.id, &id)
            .await
            .context("loading the agent's risk")?
            .map(|(risk, _)| risk.score),
        None => None,
    };
    Ok(Some(AgentProfile {
        identity: identity.id.clone(),
        name: identity.name.clone(),
        kind: identity.kind,
        owner,
        owner_active: in_force.is_some(),
        environment: identity.environment,
        risk,
    }))
}
