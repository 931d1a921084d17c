//! The MCP gateway over the API: approvers list held calls and approve or deny each one, and
//! list upstream tools and approve (pin) their definitions (role `approver` or `admin`). Every
//! gateway on the store sees the decisions.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use warrant_app::gateway::{self, ApprovalView};
use warrant_store::ApprovalStatus;

use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::ServerState;

type Shared = State<Arc<ServerState>>;
type Who = Option<axum::Extension<Caller>>;

/// A tool call an agent made that waits for a person.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalDto {
    /// Hash of agent, task, tool and arguments.
    pub id: String,
    pub agent: String,
    pub task: Option<String>,
    /// `server::tool`.
    pub tool: String,
    /// The call's arguments, secrets redacted.
    #[schema(value_type = Object)]
    pub arguments: serde_json::Value,
    /// SHA-256 of the canonical arguments: the approval holds for exactly these.
    pub arguments_sha256: String,
    /// The task's taint labels when the call was held.
    pub taint: Vec<String>,
    /// Why it needs approval.
    pub reason: String,
    pub requested_at: DateTime<Utc>,
    /// A pending call is denied after this.
    pub expires_at: DateTime<Utc>,
    /// `pending`, `approved`, `denied` or `expired`.
    pub status: String,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub note: Option<String>,
}

impl From<ApprovalView> for ApprovalDto {
    fn from(view: ApprovalView) -> ApprovalDto {
        ApprovalDto {
            status: view.status.as_str().to_string(),
            id: view.id,
            agent: view.agent,
            task: view.task,
            tool: view.tool,
            arguments: view.arguments,
            arguments_sha256: view.arguments_sha256,
            taint: view.taint,
            reason: view.reason,
            requested_at: view.requested_at,
            expires_at: view.expires_at,
            decided_at: view.decided_at,
            decided_by: view.decided_by,
            note: view.note,
        }
    }
}

/// Which held calls to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApprovalQuery {
    /// `pending`, `approved`, `denied` or `expired` (default: all).
    pub status: Option<String>,
}

/// Why a held call is approved or denied.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ApprovalDecisionRequest {
    /// Required to deny: the agent is shown it.
    #[serde(default)]
    pub note: Option<String>,
}

fn status_of(text: &str) -> Result<ApprovalStatus, ApiError> {
    match text {
        "pending" => Ok(ApprovalStatus::Pending),
        "approved" => Ok(ApprovalStatus::Approved),
        "denied" => Ok(ApprovalStatus::Denied),
        "expired" => Ok(ApprovalStatus::Expired),
        other => Err(ApiError::bad_request(format!(
            "unknown status `{other}` (pending, approved, denied, expired)"
        ))),
    }
}

#[utoipa::path(get, path = "/api/v1/gateway/approvals", tag = "gateway", params(ApprovalQuery),
    responses(
        (status = 200, description = "Held calls, oldest first", body = [ApprovalDto]),
        (status = 400, description = "An unknown status", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
/// Lists the agents' tool calls held for approval.
pub async fn list_approvals(
    State(state): Shared,
    query: Result<Query<ApprovalQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<ApprovalDto>>, ApiError> {
    let Query(query) = query?;
    let status = query
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(status_of)
        .transpose()?;
    let views = gateway::approvals(&state.store, status, state.now()).await?;
    Ok(Json(views.into_iter().map(ApprovalDto::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/gateway/approvals/{id}/approve", tag = "gateway",
    params(("id" = String, Path, description = "The held call's id")),
    request_body = ApprovalDecisionRequest,
    responses(
        (status = 200, description = "Approved: the gateway forwards exactly this call", body = ApprovalDto),
        (status = 403, description = "A role that does not approve", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such held call", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Decided already, or past its deadline", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
/// Approves a held call as the signed-in user.
pub async fn approve(
    State(state): Shared,
    who: Who,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    body: Result<Json<ApprovalDecisionRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<ApprovalDto>, ApiError> {
    decide(&state, who, id, body, true).await
}

#[utoipa::path(post, path = "/api/v1/gateway/approvals/{id}/deny", tag = "gateway",
    params(("id" = String, Path, description = "The held call's id")),
    request_body = ApprovalDecisionRequest,
    responses(
        (status = 200, description = "Denied: the agent gets the note", body = ApprovalDto),
        (status = 400, description = "No note", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A role that does not approve", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such held call", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Decided already, or past its deadline", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
/// Denies a held call as the signed-in user, with a note.
pub async fn deny(
    State(state): Shared,
    who: Who,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    body: Result<Json<ApprovalDecisionRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<ApprovalDto>, ApiError> {
    decide(&state, who, id, body, false).await
}

async fn decide(
    state: &ServerState,
    who: Who,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    body: Result<Json<ApprovalDecisionRequest>, axum::extract::rejection::JsonRejection>,
    approve: bool,
) -> Result<Json<ApprovalDto>, ApiError> {
    let Path(id) = id?;
    let Json(body) = body?;
    let actor = who
        .as_ref()
        .map(|c| c.0.principal.username.clone())
        .ok_or_else(ApiError::unauthenticated)?;
    let view = gateway::decide(
        &state.store,
        &id,
        &actor,
        approve,
        body.note.as_deref(),
        &[],
        state.now(),
    )
    .await?;
    Ok(Json(view.into()))
}

/// An upstream MCP tool as gateways list it, against the definition a person approved.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolDto {
    /// `server::tool`.
    pub tool: String,
    /// `pinned`, `unapproved` (withheld from agents) or `changed` (blocked until approved again).
    pub status: String,
    /// SHA-256 of the definition listed now: approve with it to approve what you reviewed.
    pub fingerprint: String,
    /// Name, description and input schema as listed now.
    #[schema(value_type = Object)]
    pub definition: serde_json::Value,
    /// Signs of poisoning found in it (kind, reason).
    #[schema(value_type = Vec<Object>)]
    pub concerns: serde_json::Value,
    pub pinned_fingerprint: Option<String>,
    /// The approved definition, when the one listed now differs.
    #[schema(value_type = Option<Object>)]
    pub pinned_definition: Option<serde_json::Value>,
    pub pinned_by: Option<String>,
    pub pinned_at: Option<DateTime<Utc>>,
    pub first_seen_at: DateTime<Utc>,
    pub seen_at: DateTime<Utc>,
}

impl From<gateway::ToolView> for ToolDto {
    fn from(view: gateway::ToolView) -> ToolDto {
        ToolDto {
            status: view.status.as_str().to_string(),
            tool: view.tool,
            fingerprint: view.fingerprint,
            definition: view.definition,
            concerns: view.concerns,
            pinned_fingerprint: view.pinned_fingerprint,
            pinned_definition: view.pinned_definition,
            pinned_by: view.pinned_by,
            pinned_at: view.pinned_at,
            first_seen_at: view.first_seen_at,
            seen_at: view.seen_at,
        }
    }
}

/// Which tool definition is approved.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ToolApprovalRequest {
    /// The fingerprint reviewed: refused (409) if the gateway now lists another definition.
    #[serde(default)]
    pub fingerprint: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/gateway/tools", tag = "gateway",
    responses(
        (status = 200, description = "Upstream tools by server and name", body = [ToolDto]),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
/// Lists the upstream MCP tools gateways have seen, with their pin status and concerns.
pub async fn list_tools(State(state): Shared) -> Result<Json<Vec<ToolDto>>, ApiError> {
    let views = gateway::tools(&state.store, None).await?;
    Ok(Json(views.into_iter().map(ToolDto::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/gateway/tools/{tool}/approve", tag = "gateway",
    params(("tool" = String, Path, description = "`server::tool`")),
    request_body = ToolApprovalRequest,
    responses(
        (status = 200, description = "Pinned: agents are offered the tool until its definition changes", body = ToolDto),
        (status = 400, description = "Not `server::tool`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A role that does not approve", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No gateway has listed such a tool", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The definition changed since the fingerprint given", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
/// Approves (pins) an upstream tool's definition as the signed-in user.
pub async fn approve_tool(
    State(state): Shared,
    who: Who,
    tool: Result<Path<String>, axum::extract::rejection::PathRejection>,
    body: Result<Json<ToolApprovalRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<ToolDto>, ApiError> {
    let Path(tool) = tool?;
    let Json(body) = body?;
    let actor = who
        .as_ref()
        .map(|c| c.0.principal.username.clone())
        .ok_or_else(ApiError::unauthenticated)?;
    let view = gateway::approve_tool(
        &state.store,
        &tool,
        body.fingerprint.as_deref(),
        &actor,
        &[],
        state.now(),
    )
    .await?;
    Ok(Json(view.into()))
}
