//! The MCP gateway's shared decisions: calls held for a person's approval (who sees them and who
//! decides), upstream tools pinned by approval (and the alerts a changed or poisoned definition
//! raises), alerts on task tokens unused or used outside their task, and [`agent_profile`]: what
//! the inventory knows of an agent, for the gateway's policies. The CLI (`warrant gateway
//! approvals|approve|deny|tools`, `warrant jit grants`) and the server's API call these;
//! gateways hold calls and record tools through the store.

use serde::Serialize;
use warrant_core::{
    Environment, Finding, FindingSource, IdentityKind, OwnerStatus, RuleId, Timestamp,
};
use warrant_store::{
    ApprovalRow, ApprovalStatus, ObservedTool, SeenTool, Store, StoreError, ToolPinStatus, ToolRow,
};

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

/// The identity gateway alerts about an upstream MCP server are raised on.
pub fn upstream_identity(server: &str) -> String {
    format!("mcp:gateway/{server}")
}

/// An upstream tool as approvers see it: what the gateway lists now, what a person approved,
/// and the signs of poisoning found in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolView {
    /// `server::tool`.
    pub tool: String,
    pub status: ToolPinStatus,
    /// SHA-256 of the definition as listed now.
    pub fingerprint: String,
    /// Name, description and input schema as listed now.
    pub definition: serde_json::Value,
    pub concerns: serde_json::Value,
    pub pinned_fingerprint: Option<String>,
    /// The approved definition, when it differs from the one listed now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned_definition: Option<serde_json::Value>,
    pub pinned_by: Option<String>,
    pub pinned_at: Option<Timestamp>,
    pub first_seen_at: Timestamp,
    pub seen_at: Timestamp,
}

fn json_or_text(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_string()))
}

impl ToolView {
    fn of(row: ToolRow) -> ToolView {
        let status = row.status();
        ToolView {
            tool: row.qualified(),
            status,
            fingerprint: row.seen_fingerprint,
            definition: json_or_text(&row.seen_definition),
            concerns: json_or_text(&row.seen_concerns),
            pinned_fingerprint: row.pinned_fingerprint,
            pinned_definition: (status == ToolPinStatus::Changed)
                .then(|| row.pinned_definition.as_deref().map(json_or_text))
                .flatten(),
            pinned_by: row.pinned_by,
            pinned_at: row.pinned_at,
            first_seen_at: row.first_seen_at,
            seen_at: row.seen_at,
        }
    }

    /// The reasons of its concerns.
    pub fn concern_reasons(&self) -> Vec<String> {
        self.concerns
            .as_array()
            .map(|list| {
                list.iter()
                    .filter_map(|c| c.get("reason").and_then(|r| r.as_str()))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn store_error(context: &'static str) -> impl FnOnce(StoreError) -> AppError {
    move |source| AppError::Store { context, source }
}

/// The upstream tools gateways have listed (of one server), by server and name.
pub async fn tools(store: &Store, server: Option<&str>) -> Result<Vec<ToolView>, AppError> {
    let rows = store
        .gateway_tools(server)
        .await
        .map_err(store_error("reading the gateway's tools"))?;
    Ok(rows.into_iter().map(ToolView::of).collect())
}

/// Records the tools a gateway listed from one upstream (see [`Store::observe_tools`]) and
/// raises the alerts they call for, once per definition: a tool changed since it was approved
/// (`activity-mcp-tool-changed`), a definition with signs of poisoning
/// (`activity-mcp-tool-poisoned`).
pub async fn observe_tools(
    store: &Store,
    seen: &[SeenTool],
    pin_new: bool,
    at: Timestamp,
) -> Result<Vec<ObservedTool>, AppError> {
    let observed = store
        .observe_tools(seen, pin_new, "gateway (first seen)", at)
        .await
        .map_err(store_error("recording the upstream's tools"))?;
    let alerts: Vec<Finding> = observed
        .iter()
        .filter(|o| o.report)
        .flat_map(|o| tool_alerts(&ToolView::of(o.row.clone())))
        .collect();
    if !alerts.is_empty() {
        store
            .record_findings(at, &alerts)
            .await
            .map_err(store_error("recording the tool alerts"))?;
    }
    Ok(observed)
}

/// What a person reads first in a definition: its description, shortened.
fn description_of(definition: &serde_json::Value) -> String {
    let text = definition
        .get("description")
        .and_then(|d| d.as_str())
        .unwrap_or("(no description)");
    let short: String = text.chars().take(160).collect();
    if short.len() < text.len() {
        format!("{short}…")
    } else {
        short
    }
}

fn tool_alerts(view: &ToolView) -> Vec<Finding> {
    let server = view.tool.split("::").next().unwrap_or_default();
    let identity = upstream_identity(server);
    let discriminator = format!("{}@{}", view.tool, view.fingerprint);
    let mut out = Vec::new();
    if view.status == ToolPinStatus::Changed {
        let mut evidence = vec![format!(
            "{} was approved{}{} as definition {}.",
            view.tool,
            view.pinned_by
                .as_deref()
                .map(|by| format!(" by {by}"))
                .unwrap_or_default(),
            view.pinned_at
                .map(|at| format!(" on {}", at.format("%Y-%m-%d %H:%M UTC")))
                .unwrap_or_default(),
            view.pinned_fingerprint
                .as_deref()
                .map(|f| f.get(..12).unwrap_or(f))
                .unwrap_or("?"),
        )];
        if let Some(before) = &view.pinned_definition {
            evidence.push(format!(
                "Approved description: \"{}\".",
                description_of(before)
            ));
        }
        evidence.push(format!(
            "The upstream now lists definition {}: \"{}\". The gateway withholds and refuses the tool.",
            view.fingerprint.get(..12).unwrap_or(&view.fingerprint),
            description_of(&view.definition)
        ));
        out.push(Finding::of_rule(
            RuleId::ActivityMcpToolChanged,
            RuleId::ActivityMcpToolChanged.spec().default_severity,
            &identity,
            &discriminator,
            evidence,
        ));
    }
    let reasons = view.concern_reasons();
    if !reasons.is_empty() {
        let evidence = reasons
            .iter()
            .map(|r| format!("{}: {r}.", view.tool))
            .collect();
        out.push(Finding::of_rule(
            RuleId::ActivityMcpToolPoisoned,
            RuleId::ActivityMcpToolPoisoned.spec().default_severity,
            &identity,
            &discriminator,
            evidence,
        ));
    }
    out
}

/// A person approves an upstream tool (`server::tool`) as the gateway lists it now; with
/// `fingerprint`, only if that is still the definition listed (what they reviewed).
/// `approvers` (gateway.toml's `approval.approvers`) limits who may, as for held calls.
pub async fn approve_tool(
    store: &Store,
    tool: &str,
    fingerprint: Option<&str>,
    actor: &str,
    approvers: &[String],
    now: Timestamp,
) -> Result<ToolView, AppError> {
    if !approvers.is_empty() && !approvers.iter().any(|a| a.eq_ignore_ascii_case(actor)) {
        return Err(AppError::Forbidden(format!(
            "{actor} is not one of the gateway's approvers"
        )));
    }
    let Some((server, name)) = tool.split_once("::") else {
        return Err(AppError::Invalid(format!(
            "`{tool}` is not SERVER::TOOL (`warrant gateway tools` lists them)"
        )));
    };
    match store
        .approve_tool(server, name, fingerprint, actor, now)
        .await
    {
        Ok(Some(row)) => Ok(ToolView::of(row)),
        Ok(None) => Err(AppError::NotFound(format!(
            "no gateway has listed a tool {tool} (start the gateway, or `warrant gateway tools --refresh`)"
        ))),
        Err(StoreError::Conflict(message)) => Err(AppError::Conflict(message)),
        Err(source) => Err(AppError::Store {
            context: "approving the tool",
            source,
        }),
    }
}

/// Alerts on task tokens at `now`: expired without a call (`activity-task-token-unused`), or
/// presented for calls outside their grant (`activity-task-token-misused`). Recorded in the
/// store (again: an alert keeps its id, so re-running refreshes it) and returned.
pub async fn grant_alerts(store: &Store, now: Timestamp) -> Result<Vec<Finding>, AppError> {
    let grants = store
        .grants(None)
        .await
        .map_err(store_error("reading the task tokens"))?;
    let mut alerts = Vec::new();
    for grant in &grants {
        let minted = format!(
            "Task token {} for task \"{}\" was minted by {} on {}, valid until {}.",
            grant.id.get(..16).unwrap_or(&grant.id),
            grant.task,
            grant.issued_by,
            grant.issued_at.format("%Y-%m-%d %H:%M UTC"),
            grant.expires_at.format("%Y-%m-%d %H:%M UTC"),
        );
        if grant.refused > 0 {
            alerts.push(Finding::of_rule(
                RuleId::ActivityTaskTokenMisused,
                RuleId::ActivityTaskTokenMisused.spec().default_severity,
                &grant.agent,
                &grant.id,
                vec![
                    minted.clone(),
                    format!(
                        "The gateway refused {} call(s) under it for tools or arguments outside its grant ({} allowed).",
                        grant.refused, grant.uses
                    ),
                ],
            ));
        }
        if grant.uses == 0 && grant.refused == 0 && grant.expires_at <= now {
            alerts.push(Finding::of_rule(
                RuleId::ActivityTaskTokenUnused,
                RuleId::ActivityTaskTokenUnused.spec().default_severity,
                &grant.agent,
                &grant.id,
                vec![
                    minted,
                    "No call was made under it before it expired.".to_string(),
                ],
            ));
        }
    }
    if !alerts.is_empty() {
        store
            .record_findings(now, &alerts)
            .await
            .map_err(store_error("recording the task-token alerts"))?;
    }
    Ok(alerts)
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
