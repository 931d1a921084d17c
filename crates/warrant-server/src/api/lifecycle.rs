//! The lifecycle engine over HTTP: access-review campaigns and their items (an owner decides
//! their own items), remediation plans (list, show the change each step makes, approve or reject
//! — never one's own — apply and roll back as jobs, a dry run unless asked otherwise) and
//! exceptions (list, grant, withdraw).
//!
//! Every change is made as the signed-in user: the use cases record them as the actor, and
//! their four-eyes and assignment rules answer 403 when the user may not act.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use warrant_app::lifecycle::ExceptionView;
use warrant_app::remediation::{self, Paced, PlanFilter, PlanView};
use warrant_app::review::{self, CampaignView, ItemFilter, ItemView};
use warrant_lifecycle::{
    ExceptionState, GovernancePolicy, Match, NewException, PlanStatus, Verdict,
};

use super::empty_as_none;
use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::jobs::JobDto;
use crate::state::ServerState;

type Shared = State<Arc<ServerState>>;
type Who = Option<axum::Extension<Caller>>;

/// The signed-in user, who every change here is made as.
fn actor(who: &Who) -> Result<String, ApiError> {
    who.as_ref()
        .map(|c| c.0.principal.username.clone())
        .ok_or_else(ApiError::unauthenticated)
}

/// The governance policy the lifecycle follows (the defaults without one).
pub fn policy(state: &ServerState) -> GovernancePolicy {
    state.governance.clone().unwrap_or_default()
}

/// A day (`2026-12-31`, the end of that day in UTC) or an RFC 3339 instant.
pub fn parse_expiry(name: &str, value: &str) -> Result<DateTime<Utc>, ApiError> {
    let value = value.trim();
    if let Ok(day) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return day
            .and_hms_opt(23, 59, 59)
            .map(|t| t.and_utc())
            .ok_or_else(|| ApiError::bad_request(format!("`{name}`: not a day")));
    }
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ApiError::bad_request(format!(
                "`{name}`: `{value}` is neither a day (YYYY-MM-DD) nor an RFC 3339 instant"
            ))
        })
}

// ---------------------------------------------------------------- reviews

/// A review campaign and its progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignDto {
    pub name: String,
    /// The conditions that selected its identities.
    pub scope: String,
    /// The last day to decide.
    pub due: NaiveDate,
    /// `open` or `closed`.
    pub status: String,
    /// Who overdue items escalate to.
    pub fallback_reviewer: Option<String>,
    pub started_by: String,
    pub started_at: DateTime<Utc>,
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub items: usize,
    pub decided: usize,
    /// Pending items, overdue ones included.
    pub pending: usize,
    pub overdue: usize,
    /// Decided items per decision.
    pub by_decision: BTreeMap<String, usize>,
}

impl From<CampaignView> for CampaignDto {
    fn from(c: CampaignView) -> CampaignDto {
        CampaignDto {
            name: c.name,
            scope: c.scope,
            due: c.due,
            status: c.status.to_string(),
            fallback_reviewer: c.fallback_reviewer,
            started_by: c.started_by,
            started_at: c.started_at,
            closed_by: c.closed_by,
            closed_at: c.closed_at,
            items: c.counts.items,
            decided: c.counts.decided,
            pending: c.counts.pending,
            overdue: c.counts.overdue,
            by_decision: c
                .counts
                .by_verdict
                .iter()
                .map(|(v, n)| (v.as_str().to_string(), *n))
                .collect(),
        }
    }
}

/// A recorded decision on a review item.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewDecisionDto {
    /// `keep`, `rightsize`, `rotate`, `disable`, `decommission` or `expired`.
    pub decision: String,
    pub reason: Option<String>,
    pub decided_by: String,
    /// `assigned`, `escalated` or `close`.
    pub authority: String,
    pub at: DateTime<Utc>,
    /// The remediation plan the decision wrote.
    pub plan: Option<String>,
    /// Why no plan could be written, when one was called for.
    pub plan_error: Option<String>,
}

/// One identity to review, with the evidence gathered when the campaign opened.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewItemDto {
    pub item: i64,
    pub identity: String,
    pub name: String,
    /// Who it was assigned to, and why them.
    pub reviewer: String,
    pub assigned_because: String,
    /// Who it is with now (the fallback reviewer once it is overdue).
    pub reviewer_now: String,
    /// `pending`, `overdue` or `decided`.
    pub state: String,
    pub decision: Option<ReviewDecisionDto>,
    /// The evidence in one line.
    pub evidence_summary: String,
    /// Owners, privilege, usage, credentials, findings and exceptions at the campaign's start.
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
}

impl From<ItemView> for ReviewItemDto {
    fn from(i: ItemView) -> ReviewItemDto {
        let state = if i.state.is_pending() {
            i.state.as_str()
        } else {
            "decided"
        };
        ReviewItemDto {
            item: i.item,
            state: state.to_string(),
            evidence_summary: i.evidence.summary(),
            evidence: serde_json::to_value(&i.evidence).unwrap_or_default(),
            identity: i.identity,
            name: i.name,
            reviewer: i.reviewer,
            assigned_because: i.assigned_because,
            reviewer_now: i.reviewer_now,
            decision: i.decision.map(|d| ReviewDecisionDto {
                decision: d.decision,
                reason: d.reason,
                decided_by: d.decided_by,
                authority: d.authority,
                at: d.at,
                plan: d.plan,
                plan_error: d.plan_error,
            }),
        }
    }
}

/// A campaign with its items.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignDetailDto {
    pub campaign: CampaignDto,
    /// A page of its items, in item order.
    pub items: Vec<ReviewItemDto>,
    /// Pass as `after` for the next page; null on the last one.
    pub next: Option<String>,
}

/// Which items of a campaign to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemQuery {
    /// Only items assigned to, or now with, this reviewer (`me`: the signed-in user).
    pub reviewer: Option<String>,
    /// Only items still to decide (overdue included).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub pending: Option<bool>,
    /// Page size, 1–1000 (default 50).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub limit: Option<usize>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
}

/// An item cursor (`next` of a page: an item number).
fn item_cursor(after: Option<&str>) -> Result<Option<i64>, ApiError> {
    after
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| {
            a.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                ApiError::bad_request(format!("`{a}` is not a cursor this listing gave"))
            })
        })
        .transpose()
}

/// Lists review campaigns, newest first.
#[utoipa::path(get, path = "/api/v1/reviews", tag = "reviews",
    responses(
        (status = 200, description = "Campaigns", body = Vec<CampaignDto>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_campaigns(State(state): Shared) -> Result<Json<Vec<CampaignDto>>, ApiError> {
    let campaigns = review::list(&state.store, state.now()).await?;
    Ok(Json(campaigns.into_iter().map(CampaignDto::from).collect()))
}

/// One campaign and its items.
#[utoipa::path(get, path = "/api/v1/reviews/{name}", tag = "reviews", params(
        ("name" = String, Path, description = "The campaign's name"), ItemQuery),
    responses(
        (status = 200, description = "The campaign", body = CampaignDetailDto),
        (status = 400, description = "A parameter is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such campaign", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_campaign(
    State(state): Shared,
    who: Who,
    name: Result<Path<String>, axum::extract::rejection::PathRejection>,
    query: Result<Query<ItemQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<CampaignDetailDto>, ApiError> {
    let Path(name) = name?;
    let Query(query) = query?;
    let reviewer = match query.reviewer.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("me") => Some(actor(&who)?),
        Some(other) => Some(other.to_string()),
    };
    let filter = ItemFilter {
        reviewer,
        pending: query.pending.unwrap_or(false),
    };
    let after = item_cursor(query.after.as_deref())?;
    let limit = super::page_limit(query.limit)?;
    Ok(Json(
        campaign_detail(&state, &name, &filter, after, limit).await?,
    ))
}

/// A page of campaign `name`'s items matching `filter`, after item `after`.
pub async fn campaign_detail(
    state: &ServerState,
    name: &str,
    filter: &ItemFilter,
    after: Option<i64>,
    limit: usize,
) -> Result<CampaignDetailDto, ApiError> {
    let (campaign, page) =
        review::show_page(&state.store, name, state.now(), filter, after, limit).await?;
    Ok(CampaignDetailDto {
        campaign: campaign.into(),
        items: page.items.into_iter().map(ReviewItemDto::from).collect(),
        next: page.next.map(|n| n.to_string()),
    })
}

/// A reviewer's decision on an item.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DecideReviewRequest {
    /// `keep`, `rightsize`, `rotate`, `disable` or `decommission`.
    pub verdict: String,
    /// Why (required to `keep`: access that stays is what an auditor asks about).
    #[serde(default)]
    pub reason: Option<String>,
    /// Record a correction of the item's earlier decision.
    #[serde(default)]
    pub supersede: bool,
}

/// A recorded decision, the item after it and the plan it wrote.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecidedDto {
    pub item: ReviewItemDto,
    pub plan: Option<PlanDto>,
}

/// Decides a review item as the signed-in user, who must be its reviewer (its owner), or the
/// fallback reviewer once it is overdue. Every decision but `keep` writes a remediation plan
/// for an approver.
#[utoipa::path(post, path = "/api/v1/reviews/{name}/items/{item}/decision", tag = "reviews",
    params(("name" = String, Path, description = "The campaign's name"),
        ("item" = String, Path, description = "The item's number, or its identity")),
    request_body = DecideReviewRequest,
    responses(
        (status = 201, description = "Recorded", body = DecidedDto),
        (status = 400, description = "Unknown verdict, no reason, already decided, a closed campaign", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not this item's reviewer, or a role that does not review", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "JSON without a verdict", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn decide_item(
    State(state): Shared,
    who: Who,
    path: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
    body: Result<Json<DecideReviewRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<DecidedDto>), ApiError> {
    let Path((name, item)) = path?;
    let Json(body) = body?;
    let decided = decide(&state, &actor(&who)?, &name, &item, &body).await?;
    Ok((StatusCode::CREATED, Json(decided)))
}

pub async fn decide(
    state: &ServerState,
    actor: &str,
    campaign: &str,
    item: &str,
    body: &DecideReviewRequest,
) -> Result<DecidedDto, ApiError> {
    let verdict: Verdict = body
        .verdict
        .trim()
        .parse()
        .map_err(|e: warrant_lifecycle::ReviewError| ApiError::bad_request(e.to_string()))?;
    let request = review::DecideRequest {
        campaign: campaign.to_string(),
        item: item.to_string(),
        verdict,
        reason: body.reason.clone(),
        supersede: body.supersede,
    };
    let decided =
        review::decide(&state.store, &policy(state), &request, state.now(), actor).await?;
    Ok(DecidedDto {
        item: decided.item.into(),
        plan: decided.plan.map(PlanDto::from),
    })
}

// ---------------------------------------------------------------- plans

/// One step of a plan: the call it makes and the change, before and after.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanStepDto {
    /// The provider call (`UpdateAccessKey`, …) or `manual`.
    pub call: String,
    /// The call and its target in words.
    pub summary: String,
    /// The state before the step, as a person reads it.
    pub before: String,
    /// The state after it.
    pub after: String,
    /// Whether rolling back can undo it.
    pub reversible: bool,
    /// `pending`, `applied`, `undone`, `waiting` or `failed`.
    pub state: String,
}

/// A decision on a plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanDecisionDto {
    pub by: String,
    /// `approve`, `reject` or `waive`.
    pub decision: String,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// A remediation plan: what it changes, who asked, who approved, how far it went.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanDto {
    /// `plan-` and the hash of its content: a changed plan is a different plan.
    pub id: String,
    /// `rotate-key`, `disable-key`, `quarantine`, `decommission`, …
    pub action: String,
    pub identity: String,
    pub reason: String,
    pub requested_by: String,
    pub created: DateTime<Utc>,
    /// Apply before this, or write the plan again.
    pub deadline: Option<DateTime<Utc>>,
    /// `proposed`, `approved`, `rejected`, `applying`, `waiting`, `failed`, `applied`,
    /// `rolling-back` or `rolled-back`.
    pub status: String,
    pub required_approvals: u8,
    pub approved_by: Vec<String>,
    pub rejected_by: Option<String>,
    /// Approval waived by policy (break-glass containment).
    pub waived: bool,
    pub steps: Vec<PlanStepDto>,
    pub decisions: Vec<PlanDecisionDto>,
}

impl From<PlanView> for PlanDto {
    fn from(view: PlanView) -> PlanDto {
        let progress = view.progress();
        let content = &view.plan.content;
        let steps = content
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                let applied = progress.outputs.get(i).is_some_and(Option::is_some);
                let undone = progress.undone.get(i).copied().unwrap_or(false);
                let state = if applied && undone {
                    "undone"
                } else if applied {
                    "applied"
                } else if progress.waiting.as_ref().is_some_and(|(s, _)| *s == i) {
                    "waiting"
                } else if progress.failed.as_ref().is_some_and(|(s, _, _)| *s == i) {
                    "failed"
                } else {
                    "pending"
                };
                PlanStepDto {
                    call: match &step.call {
                        warrant_lifecycle::Call::Aws(call) => call.name().to_string(),
                        warrant_lifecycle::Call::Manual(_) => "manual".to_string(),
                    },
                    summary: step.call.summary(),
                    before: step.before.clone(),
                    after: step.after.clone(),
                    reversible: step.reversible,
                    state: state.to_string(),
                }
            })
            .collect();
        PlanDto {
            id: view.plan.id.clone(),
            action: content.action.to_string(),
            identity: content.identity.clone(),
            reason: content.reason.clone(),
            requested_by: content.requested_by.clone(),
            created: content.created,
            deadline: content.deadline,
            status: view.status.to_string(),
            required_approvals: view.required_approvals,
            approved_by: view.approved_by.iter().cloned().collect(),
            rejected_by: view.rejected_by.clone(),
            waived: view.waived,
            steps,
            decisions: view
                .decisions
                .iter()
                .map(|d| PlanDecisionDto {
                    by: d.decided_by.clone(),
                    decision: d.decision.clone(),
                    reason: d.reason.clone(),
                    at: d.at,
                })
                .collect(),
        }
    }
}

/// Which plans to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanQuery {
    /// Only plans in this status (`proposed`, `approved`, `applied`, …); several separated by
    /// commas.
    pub status: Option<String>,
    /// Only plans for this identity (its id, exactly).
    pub identity: Option<String>,
    /// Page size, 1–1000 (default 50).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub limit: Option<usize>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
}

/// Every state a plan can be in.
const PLAN_STATUSES: [PlanStatus; 9] = [
    PlanStatus::Proposed,
    PlanStatus::Rejected,
    PlanStatus::Approved,
    PlanStatus::Applying,
    PlanStatus::Waiting,
    PlanStatus::Failed,
    PlanStatus::Applied,
    PlanStatus::RollingBack,
    PlanStatus::RolledBack,
];

impl PlanQuery {
    pub fn filter(&self) -> Result<PlanFilter, ApiError> {
        let mut statuses = Vec::new();
        for wanted in self
            .status
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let status = PLAN_STATUSES
                .into_iter()
                .find(|s| s.as_str() == wanted)
                .ok_or_else(|| {
                    let known: Vec<&str> = PLAN_STATUSES.iter().map(|s| s.as_str()).collect();
                    ApiError::bad_request(format!(
                        "`status`: `{wanted}` is not a plan status (one of {})",
                        known.join(", ")
                    ))
                })?;
            statuses.push(status);
        }
        Ok(PlanFilter {
            statuses,
            identity: self
                .identity
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        })
    }
}

/// A page of plans.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanPageDto {
    pub items: Vec<PlanDto>,
    /// Pass as `after` for the next page; null on the last one.
    pub next: Option<String>,
}

/// Lists remediation plans, newest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/plans", tag = "plans", params(PlanQuery),
    responses(
        (status = 200, description = "A page of plans", body = PlanPageDto),
        (status = 400, description = "A parameter is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_plans(
    State(state): Shared,
    query: Result<Query<PlanQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PlanPageDto>, ApiError> {
    let Query(query) = query?;
    Ok(Json(plans(&state, &query).await?))
}

pub async fn plans(state: &ServerState, query: &PlanQuery) -> Result<PlanPageDto, ApiError> {
    let page = remediation::page(
        &state.store,
        &query.filter()?,
        query.after.as_deref().filter(|a| !a.is_empty()),
        super::page_limit(query.limit)?,
    )
    .await?;
    Ok(PlanPageDto {
        items: page.items.into_iter().map(PlanDto::from).collect(),
        next: page.next,
    })
}

/// One plan, with the change each step makes.
#[utoipa::path(get, path = "/api/v1/plans/{id}", tag = "plans",
    params(("id" = String, Path, description = "The plan's id")),
    responses(
        (status = 200, description = "The plan", body = PlanDto),
        (status = 404, description = "No such plan", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_plan(
    State(state): Shared,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Json<PlanDto>, ApiError> {
    let Path(id) = id?;
    Ok(Json(plan(&state, &id).await?))
}

pub async fn plan(state: &ServerState, id: &str) -> Result<PlanDto, ApiError> {
    Ok(PlanDto::from(view(state, id).await?))
}

/// The plan `id` names (404 when none does).
async fn view(state: &ServerState, id: &str) -> Result<PlanView, ApiError> {
    Ok(remediation::view(&state.store, id).await?)
}

/// Why a plan is approved or rejected.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PlanDecisionRequest {
    /// Required to reject.
    #[serde(default)]
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/plans/{id}/approve", tag = "plans",
    params(("id" = String, Path, description = "The plan's id")),
    request_body = PlanDecisionRequest,
    responses(
        (status = 200, description = "Approved (it may need more approvals)", body = PlanDto),
        (status = 400, description = "Not proposed, or already approved by this user", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The requester's own plan, or a role that does not approve", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
/// Approves a proposed plan as the signed-in user (never their own request).
pub async fn approve_plan(
    State(state): Shared,
    who: Who,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    body: Result<Json<PlanDecisionRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<PlanDto>, ApiError> {
    let Path(id) = id?;
    let Json(body) = body?;
    Ok(Json(
        decide_plan(&state, &actor(&who)?, &id, true, body.reason.as_deref()).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/plans/{id}/reject", tag = "plans",
    params(("id" = String, Path, description = "The plan's id")),
    request_body = PlanDecisionRequest,
    responses(
        (status = 200, description = "Rejected", body = PlanDto),
        (status = 400, description = "No reason, or not proposed", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The requester's own plan, or a role that does not approve", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
/// Rejects a proposed plan as the signed-in user, with a reason.
pub async fn reject_plan(
    State(state): Shared,
    who: Who,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    body: Result<Json<PlanDecisionRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<PlanDto>, ApiError> {
    let Path(id) = id?;
    let Json(body) = body?;
    Ok(Json(
        decide_plan(&state, &actor(&who)?, &id, false, body.reason.as_deref()).await?,
    ))
}

pub async fn decide_plan(
    state: &ServerState,
    actor: &str,
    id: &str,
    approve: bool,
    reason: Option<&str>,
) -> Result<PlanDto, ApiError> {
    let decided =
        remediation::decide(&state.store, id, actor, approve, reason, state.now()).await?;
    Ok(decided.into())
}

/// How to apply a plan.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ApplyRequest {
    /// Check and report what would change without changing anything (the default); `false`
    /// makes the changes.
    #[serde(default)]
    pub dry_run: Option<bool>,
}

#[utoipa::path(post, path = "/api/v1/plans/{id}/apply", tag = "plans",
    params(("id" = String, Path, description = "The plan's id")),
    request_body = ApplyRequest,
    responses(
        (status = 202, description = "The apply runs; poll the job", body = JobDto,
            headers(("location" = String, description = "The job's status resource"))),
        (status = 400, description = "Not approved, rejected, rolled back or stale", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
/// Applies an approved plan through the provider as a job: a dry run unless `dry_run` is
/// false; rate-limited by the governance policy; every step journaled with the user.
pub async fn apply_plan(
    State(state): Shared,
    who: Who,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    body: Result<Json<ApplyRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let Json(body) = body?;
    let dry_run = body.dry_run.unwrap_or(true);
    start_run(state, actor(&who)?, id, Run::Apply { dry_run }).await
}

#[utoipa::path(post, path = "/api/v1/plans/{id}/rollback", tag = "plans",
    params(("id" = String, Path, description = "The plan's id")),
    responses(
        (status = 202, description = "The rollback runs; poll the job", body = JobDto,
            headers(("location" = String, description = "The job's status resource"))),
        (status = 400, description = "Nothing applied to roll back", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
/// Undoes what applying a plan did, last step first, as a job.
pub async fn rollback_plan(
    State(state): Shared,
    who: Who,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    start_run(state, actor(&who)?, id, Run::Rollback).await
}

#[derive(Debug, Clone, Copy)]
pub enum Run {
    Apply { dry_run: bool },
    Rollback,
}

/// Checks the plan can run now (so the caller hears at once when it cannot), then runs it as
/// a job and answers 202 with the job.
pub async fn start_run(
    state: Arc<ServerState>,
    actor: String,
    id: String,
    run: Run,
) -> Result<Response, ApiError> {
    let current = view(&state, &id).await?;
    match run {
        Run::Apply { .. } => {
            use warrant_lifecycle::PlanStatus;
            if matches!(
                current.status,
                PlanStatus::Proposed
                    | PlanStatus::Rejected
                    | PlanStatus::RollingBack
                    | PlanStatus::RolledBack
            ) {
                return Err(ApiError::bad_request(format!(
                    "plan {} is {}: only an approved plan is applied",
                    current.plan.id, current.status
                )));
            }
        }
        Run::Rollback => {
            if current.progress().applied().next().is_none() {
                return Err(ApiError::bad_request(format!(
                    "plan {} has nothing applied to roll back (it is {})",
                    current.plan.id, current.status
                )));
            }
        }
    }
    let kind = match run {
        Run::Apply { dry_run: true } => "plan-dry-run",
        Run::Apply { dry_run: false } => "plan-apply",
        Run::Rollback => "plan-rollback",
    };
    let plan_id = current.plan.id.clone();
    let who = actor.clone();
    let job = crate::jobs::spawn(&state, kind, &who, move |task| async move {
        run_plan(&task, &plan_id, &actor, run).await
    });
    Ok(accepted(job))
}

/// `202 Accepted` with the job and where to poll it.
pub fn accepted(job: JobDto) -> Response {
    let location = format!("/api/v1/jobs/{}", job.id);
    let mut response = (StatusCode::ACCEPTED, Json(job)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

async fn run_plan(
    state: &ServerState,
    id: &str,
    actor: &str,
    run: Run,
) -> Result<serde_json::Value, String> {
    let executor = warrant_aws_write::AwsExecutor::from_options(&state.aws).await;
    let rate = policy(state).remediation.calls_per_second.max(1);
    let clock = || state.now();
    let pace = Paced {
        clock: &clock,
        interval: std::time::Duration::from_millis(1000 / u64::from(rate)),
    };
    let result = match run {
        Run::Apply { dry_run } => {
            remediation::apply(&state.store, id, &executor, actor, &pace, dry_run).await
        }
        Run::Rollback => remediation::rollback(&state.store, id, &executor, actor, &pace).await,
    };
    match result {
        Ok(result) => {
            let succeeded = remediation::succeeded(&result.report.outcome)
                || matches!(
                    result.report.outcome,
                    warrant_lifecycle::apply::Outcome::Waiting { .. }
                );
            if succeeded {
                Ok(serde_json::json!({
                    "outcome": result.report,
                    "plan": PlanDto::from(result.plan),
                }))
            } else {
                // What the journal recorded says where it stopped and why.
                Err(format!(
                    "the run stopped: {}",
                    serde_json::to_string(&result.report.outcome).unwrap_or_default()
                ))
            }
        }
        Err(warrant_app::AppError::Invalid(message)) => Err(message),
        Err(other) => {
            tracing::error!(error = %other, plan = id, "plan run failed");
            Err("the run failed on the server's side; it has been logged".to_string())
        }
    }
}

// ---------------------------------------------------------------- exceptions

/// How close to its end an exception in force is listed as `expiring`.
const EXPIRING_SOON: chrono::Duration = chrono::Duration::days(30);

/// An exception: findings it covers stay on record but are not open until it ends.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExceptionDto {
    pub id: String,
    /// What it covers, in words (identity, rule, tags; alternatives joined by "or").
    pub scope: String,
    pub reason: String,
    /// Who answers for it.
    pub owner: String,
    pub expires: DateTime<Utc>,
    pub created: DateTime<Utc>,
    pub created_by: String,
    /// `active`, `expiring` (within 30 days), `expired` or `withdrawn`.
    pub state: String,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_by: Option<String>,
}

impl From<ExceptionView> for ExceptionDto {
    fn from(v: ExceptionView) -> ExceptionDto {
        let state = if v.withdrawn_at.is_some() {
            "withdrawn"
        } else {
            match v.state {
                ExceptionState::Active => "active",
                ExceptionState::ExpiringSoon { .. } => "expiring",
                ExceptionState::Expired => "expired",
            }
        };
        ExceptionDto {
            id: v.exception.id,
            scope: v.scope,
            reason: v.exception.reason,
            owner: v.exception.owner,
            expires: v.exception.expires,
            created: v.exception.created,
            created_by: v.exception.created_by,
            state: state.to_string(),
            withdrawn_at: v.withdrawn_at,
            withdrawn_by: v.withdrawn_by,
        }
    }
}

/// Which exceptions to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExceptionQuery {
    /// Only exceptions in force now (neither withdrawn nor expired).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub in_force: Option<bool>,
    /// Page size, 1–1000 (default 50).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub limit: Option<usize>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
}

/// A page of exceptions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExceptionPageDto {
    pub items: Vec<ExceptionDto>,
    /// Pass as `after` for the next page; null on the last one.
    pub next: Option<String>,
}

/// Lists exceptions, soonest to expire first, a page at a time.
#[utoipa::path(get, path = "/api/v1/exceptions", tag = "exceptions", params(ExceptionQuery),
    responses(
        (status = 200, description = "A page of exceptions", body = ExceptionPageDto),
        (status = 400, description = "A parameter is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_exceptions(
    State(state): Shared,
    query: Result<Query<ExceptionQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ExceptionPageDto>, ApiError> {
    let Query(query) = query?;
    Ok(Json(exceptions(&state, &query).await?))
}

pub async fn exceptions(
    state: &ServerState,
    query: &ExceptionQuery,
) -> Result<ExceptionPageDto, ApiError> {
    let page = warrant_app::lifecycle::exception_page(
        &state.store,
        state.now(),
        EXPIRING_SOON,
        query.in_force.unwrap_or(false),
        query.after.as_deref().filter(|a| !a.is_empty()),
        super::page_limit(query.limit)?,
    )
    .await?;
    Ok(ExceptionPageDto {
        items: page.items.into_iter().map(ExceptionDto::from).collect(),
        next: page.next,
    })
}

/// What an exception covers, why, and until when.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GrantExceptionRequest {
    /// An identity's id, exactly.
    #[serde(default)]
    pub identity: Option<String>,
    /// A rule id.
    #[serde(default)]
    pub rule: Option<String>,
    /// Tags the identity carries, each equal.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub reason: String,
    /// Who answers for it (default: the signed-in user).
    #[serde(default)]
    pub owner: Option<String>,
    /// The last day (`YYYY-MM-DD`) or an RFC 3339 instant; at most the policy's limit.
    pub expires: String,
}

#[utoipa::path(post, path = "/api/v1/exceptions", tag = "exceptions",
    request_body = GrantExceptionRequest,
    responses(
        (status = 201, description = "Granted", body = ExceptionDto),
        (status = 400, description = "No scope or reason, an unknown rule, past or too far an expiry", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "JSON without a reason or expiry", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
/// Grants an exception under the governance policy, as the signed-in user. It takes effect
/// at the next assessment.
pub async fn grant_exception(
    State(state): Shared,
    who: Who,
    body: Result<Json<GrantExceptionRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<ExceptionDto>), ApiError> {
    let Json(body) = body?;
    let actor = actor(&who)?;
    let rule = body
        .rule
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| {
            r.parse::<warrant_core::RuleId>()
                .map_err(|e| ApiError::bad_request(format!("`rule`: {e}")))
        })
        .transpose()?;
    let request = NewException {
        matches: vec![Match {
            identity: body
                .identity
                .map(|i| i.trim().to_string())
                .filter(|i| !i.is_empty()),
            rule,
            tags: body.tags,
        }],
        reason: body.reason,
        owner: body.owner.unwrap_or_else(|| actor.clone()),
        expires: parse_expiry("expires", &body.expires)?,
    };
    let now = state.now();
    let exception = warrant_app::lifecycle::grant_exception(
        &state.store,
        &policy(&state),
        request,
        now,
        &actor,
    )
    .await?;
    let granted = ExceptionView {
        scope: exception.scope(),
        state: exception.state(now, EXPIRING_SOON),
        exception,
        withdrawn_at: None,
        withdrawn_by: None,
    };
    Ok((StatusCode::CREATED, Json(granted.into())))
}

#[utoipa::path(delete, path = "/api/v1/exceptions/{id}", tag = "exceptions",
    params(("id" = String, Path, description = "The exception's id")),
    responses(
        (status = 204, description = "Withdrawn: what it covered is open again at the next assessment"),
        (status = 404, description = "No exception in force has that id", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
/// Withdraws an exception before it expires, as the signed-in user.
pub async fn withdraw_exception(
    State(state): Shared,
    who: Who,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(id) = id?;
    warrant_app::lifecycle::withdraw_exception(&state.store, &id, state.now(), &actor(&who)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
