//! `/api/v1`: thin handlers over `warrant_app`'s use cases, each described to OpenAPI by its
//! `#[utoipa::path]`. A handler parses its request, calls one use case and maps the result to a
//! [`dto`] type; authorization happens before it runs ([`crate::auth`]).

pub mod dto;
pub mod gateway;
pub mod imports;
pub mod lifecycle;
pub mod session;

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};
use warrant_app::NoProgress;
use warrant_app::query::{self, AlertsFilter, FindingsFilter, IdentitySort, InventoryFilter};
use warrant_core::{
    Environment, FindingSource, IdentityKind, IdentityStatus, OwaspNhi, Provider, Severity,
};
use warrant_store::FindingStatus;

use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::state::ServerState;
use dto::{
    AlertPageDto, FindingDto, FindingPageDto, IdentityDetailDto, IdentityPageDto, IdentitySummary,
};

/// A query value that may be sent empty (an HTML form's untouched field): empty is absent.
pub(crate) fn empty_as_none<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let text: Option<String> = Option::deserialize(deserializer)?;
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => v.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

/// Largest page a listing returns.
pub const MAX_LIMIT: usize = 1000;
const DEFAULT_LIMIT: usize = 50;

type Shared = State<Arc<ServerState>>;

/// `value` parsed as `T`, or a 400 naming the parameter and what was expected.
fn parse<T: std::str::FromStr>(name: &str, value: Option<&str>) -> Result<Option<T>, ApiError>
where
    T::Err: std::fmt::Display,
{
    value
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<T>()
                .map_err(|e| ApiError::bad_request(format!("parameter `{name}`: {e}")))
        })
        .transpose()
}

pub(crate) fn page_limit(limit: Option<usize>) -> Result<usize, ApiError> {
    match limit.unwrap_or(DEFAULT_LIMIT) {
        0 => Err(ApiError::bad_request(
            "parameter `limit` must be at least 1",
        )),
        n if n > MAX_LIMIT => Err(ApiError::bad_request(format!(
            "parameter `limit` must be at most {MAX_LIMIT}"
        ))),
        n => Ok(n),
    }
}

fn risk(name: &str, value: Option<f64>) -> Result<Option<f64>, ApiError> {
    match value {
        Some(r) if !(0.0..=100.0).contains(&r) => Err(ApiError::bad_request(format!(
            "parameter `{name}` must be between 0 and 100"
        ))),
        other => Ok(other),
    }
}

/// Filters, order and page of `GET /api/v1/identities`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IdentityQuery {
    /// Identity kind (`service_account`, `role`, `user`, `api_key`, …).
    pub kind: Option<String>,
    /// Provider (`aws`, `kubernetes`, `github`, …).
    pub provider: Option<String>,
    /// Environment (`production`, `staging`, …).
    pub environment: Option<String>,
    /// Status (`active`, `inactive`, `dormant`, …).
    pub status: Option<String>,
    /// Account id, exactly.
    pub account: Option<String>,
    /// Owner reference containing this text.
    pub owner: Option<String>,
    /// Only identities without an owner.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub no_owner: Option<bool>,
    /// Lowest risk, 0–100.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub min_risk: Option<f64>,
    /// Highest risk, 0–100.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub max_risk: Option<f64>,
    /// Text in the id or name.
    pub q: Option<String>,
    /// Governance policy tier (`defaults`: identities no tier matched).
    pub tier: Option<String>,
    /// Only identities with an open finding of this OWASP NHI risk (`NHI1` … `NHI10`).
    pub owasp: Option<String>,
    /// `sanctioned` (an approved registration matches) or `shadow` (none does).
    pub registration: Option<String>,
    /// `risk` (default), `name`, `last_used` or `findings`.
    pub sort: Option<String>,
    /// `desc` (default for risk and findings) or `asc`.
    pub order: Option<String>,
    /// Page size, 1–1000 (default 50).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub limit: Option<usize>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
}

impl IdentityQuery {
    pub fn filter(&self) -> Result<InventoryFilter, ApiError> {
        Ok(InventoryFilter {
            provider: parse::<Provider>("provider", self.provider.as_deref())?,
            kind: parse::<IdentityKind>("kind", self.kind.as_deref())?,
            environment: parse::<Environment>("environment", self.environment.as_deref())?,
            status: parse::<IdentityStatus>("status", self.status.as_deref())?,
            account: self.account.clone().filter(|a| !a.is_empty()),
            owner: self.owner.clone().filter(|o| !o.is_empty()),
            no_owner: self.no_owner.unwrap_or(false),
            min_risk: risk("min_risk", self.min_risk)?.unwrap_or(0.0),
            max_risk: risk("max_risk", self.max_risk)?,
            search: self.q.clone().filter(|q| !q.is_empty()),
            tier: self.tier.clone().filter(|t| !t.trim().is_empty()),
            owasp: parse::<OwaspNhi>("owasp", self.owasp.as_deref())?,
            sanctioned: match self.registration.as_deref().map(str::trim) {
                None | Some("") => None,
                Some("sanctioned") => Some(true),
                Some("shadow") => Some(false),
                Some(other) => {
                    return Err(ApiError::bad_request(format!(
                        "parameter `registration`: `{other}` is not sanctioned or shadow"
                    )));
                }
            },
        })
    }

    pub fn order(&self) -> Result<(IdentitySort, bool), ApiError> {
        let sort = match self.sort.as_deref().unwrap_or("risk") {
            "risk" | "" => IdentitySort::Risk,
            "name" => IdentitySort::Name,
            "last_used" => IdentitySort::LastUsed,
            "findings" => IdentitySort::Findings,
            other => {
                return Err(ApiError::bad_request(format!(
                    "parameter `sort`: `{other}` is not one of risk, name, last_used, findings"
                )));
            }
        };
        let descending = match self.order.as_deref() {
            None | Some("") => matches!(sort, IdentitySort::Risk | IdentitySort::Findings),
            Some("desc") => true,
            Some("asc") => false,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "parameter `order`: `{other}` is not asc or desc"
                )));
            }
        };
        Ok((sort, descending))
    }
}

/// Lists identities with their risk, filtered, sorted and paginated.
#[utoipa::path(get, path = "/api/v1/identities", tag = "identities", params(IdentityQuery),
    responses(
        (status = 200, description = "A page of identities", body = IdentityPageDto),
        (status = 400, description = "A parameter is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_identities(
    State(state): Shared,
    query: Result<Query<IdentityQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<IdentityPageDto>, ApiError> {
    let Query(query) = query?;
    Ok(Json(identity_page(&state, &query).await?))
}

/// The page `query` asks for (shared with the console's inventory page).
pub async fn identity_page(
    state: &ServerState,
    query: &IdentityQuery,
) -> Result<IdentityPageDto, ApiError> {
    let filter = query.filter()?;
    let (sort, descending) = query.order()?;
    let page = query::identity_page(
        &state.store,
        state.rules(),
        state.when(),
        &filter,
        sort,
        descending,
        query.after.as_deref().filter(|a| !a.is_empty()),
        page_limit(query.limit)?,
        &NoProgress,
    )
    .await?;
    Ok(IdentityPageDto {
        items: page.items.into_iter().map(IdentitySummary::from).collect(),
        next: page.next,
        matched: page.matched,
        basis: (&page.basis).into(),
    })
}

/// One identity: credentials, policies, trust edges in and out, owners, risk and why, findings,
/// where its secrets leaked, and observed use (last 90 days).
#[utoipa::path(get, path = "/api/v1/identities/{id}", tag = "identities",
    params(("id" = String, Path, description = "The identity's id (percent-encoded), name or id suffix")),
    responses(
        (status = 200, description = "The identity", body = IdentityDetailDto),
        (status = 400, description = "Ambiguous identity", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such identity", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_identity(
    State(state): Shared,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Json<IdentityDetailDto>, ApiError> {
    let Path(id) = id?;
    Ok(Json(identity_detail(&state, &id).await?))
}

/// How far back an identity's observed use is shown.
const USAGE_DAYS: i64 = 90;

pub async fn identity_detail(state: &ServerState, id: &str) -> Result<IdentityDetailDto, ApiError> {
    let now = state.now();
    let detail = query::show(
        &state.store,
        state.rules(),
        state.when(),
        id,
        now - chrono::Duration::days(USAGE_DAYS),
        &NoProgress,
    )
    .await?;
    Ok(IdentityDetailDto::from(detail))
}

/// Granted versus used for one identity, and the least-privilege policy its use needs.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct RightSizeDto {
    pub identity: String,
    /// Usage read from this instant on.
    pub since: chrono::DateTime<chrono::Utc>,
    /// Usage records read (none: nothing ingested in the window, and nothing to size by).
    pub usage_records: usize,
    /// Concrete actions its policies allow, and in how many services.
    pub granted_actions: usize,
    pub granted_services: usize,
    /// Granted actions called successfully, with their call counts.
    pub used: std::collections::BTreeMap<String, u64>,
    /// Granted services never used.
    pub unused_services: Vec<String>,
    pub unused_actions: usize,
    /// Granted but unused actions per service.
    pub unused_actions_by_service: std::collections::BTreeMap<String, usize>,
    /// Calls refused, per action.
    pub denied: std::collections::BTreeMap<String, u64>,
    /// The least-privilege policy document covering the observed use (IAM JSON).
    #[schema(value_type = Object)]
    pub policy: serde_json::Value,
    /// Caveats of the generated policy.
    pub notes: Vec<String>,
    /// One line: "uses 7 of 2,300 granted actions in 3 of 40 services".
    pub summary: String,
}

/// Right-sizing: what the identity is granted against what it used (last 90 days), with the
/// least-privilege policy that covers its use.
#[utoipa::path(get, path = "/api/v1/identities/{id}/rightsize", tag = "identities",
    params(("id" = String, Path, description = "The identity's id (percent-encoded), name or id suffix")),
    responses(
        (status = 200, description = "Granted versus used", body = RightSizeDto),
        (status = 400, description = "Ambiguous identity", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such identity", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn rightsize_identity(
    State(state): Shared,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Json<RightSizeDto>, ApiError> {
    let Path(id) = id?;
    let since = state.now() - chrono::Duration::days(USAGE_DAYS);
    let sized = query::rightsize(&state.store, &id, since).await?;
    let r = sized.report;
    Ok(Json(RightSizeDto {
        identity: r.identity,
        since,
        usage_records: sized.usage.len(),
        granted_actions: r.granted_actions,
        granted_services: r.granted_services,
        used: r.used,
        unused_services: r.unused_services,
        unused_actions: r.unused_actions,
        unused_actions_by_service: r.unused_actions_by_service,
        denied: r.denied,
        policy: serde_json::to_value(&r.policy).unwrap_or_default(),
        notes: r.notes,
        summary: r.summary,
    }))
}

/// Filters and page of `GET /api/v1/findings`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindingQuery {
    /// Lowest severity (`info`, `low`, `medium`, `high`, `critical`).
    pub severity: Option<String>,
    /// OWASP NHI risk (`NHI1` … `NHI10`).
    pub owasp: Option<String>,
    /// Rule id.
    pub rule: Option<String>,
    /// Identity id, exactly.
    pub identity: Option<String>,
    /// `posture`, `secrets` or `activity`.
    pub source: Option<String>,
    /// Page size, 1–1000 (default 50).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub limit: Option<usize>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
}

impl FindingQuery {
    pub fn filter(&self) -> Result<FindingsFilter, ApiError> {
        Ok(FindingsFilter {
            severity: parse::<Severity>("severity", self.severity.as_deref())?,
            owasp: parse::<OwaspNhi>("owasp", self.owasp.as_deref())?,
            rule: parse::<warrant_core::RuleId>("rule", self.rule.as_deref())?,
            identity: self.identity.clone().filter(|i| !i.is_empty()),
            source: parse::<FindingSource>("source", self.source.as_deref())?,
        })
    }
}

/// Lists open findings, most severe first.
#[utoipa::path(get, path = "/api/v1/findings", tag = "findings", params(FindingQuery),
    responses(
        (status = 200, description = "A page of open findings", body = FindingPageDto),
        (status = 400, description = "A parameter is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_findings(
    State(state): Shared,
    query: Result<Query<FindingQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<FindingPageDto>, ApiError> {
    let Query(query) = query?;
    Ok(Json(finding_page(&state, &query).await?))
}

pub async fn finding_page(
    state: &ServerState,
    query: &FindingQuery,
) -> Result<FindingPageDto, ApiError> {
    let page = query::finding_page(
        &state.store,
        state.rules(),
        state.when(),
        &query.filter()?,
        query.after.as_deref().filter(|a| !a.is_empty()),
        page_limit(query.limit)?,
        &NoProgress,
    )
    .await?;
    Ok(FindingPageDto {
        items: page.findings.into_iter().map(FindingDto::from).collect(),
        next: page.next,
        matched: page.matched,
        basis: (&page.basis).into(),
    })
}

/// Why a finding is accepted.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AcceptRequest {
    /// Why the risk is accepted (required; kept with the finding and in the audit trail).
    pub reason: String,
    /// Until when (`YYYY-MM-DD` or RFC 3339; at most the governance policy's exception limit):
    /// an exception for this identity and rule is granted, and the finding reopens when it
    /// ends. Without it the acceptance stands until someone reopens it.
    #[serde(default)]
    pub expires: Option<String>,
}

/// Accepts a finding's risk: later assessments keep it accepted, out of the open findings.
#[utoipa::path(post, path = "/api/v1/findings/{id}/accept", tag = "findings",
    params(("id" = String, Path, description = "The finding's id")),
    request_body = AcceptRequest,
    responses(
        (status = 204, description = "Accepted"),
        (status = 400, description = "No reason, or an expiry in the past, malformed or beyond the policy's limit", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such finding", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "JSON without a reason", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn accept_finding(
    State(state): Shared,
    caller: Option<axum::Extension<Caller>>,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
    body: Result<Json<AcceptRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(id) = id?;
    let Json(body) = body?;
    accept(
        &state,
        caller.as_ref().map(|c| &c.0),
        &id,
        &body.reason,
        body.expires.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accepts finding `id` for `reason`, until `expires` when given; the note kept with it names
/// who accepted it.
pub async fn accept(
    state: &ServerState,
    caller: Option<&Caller>,
    id: &str,
    reason: &str,
    expires: Option<&str>,
) -> Result<(), ApiError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ApiError::bad_request(
            "a reason is required to accept a finding",
        ));
    }
    let Some(caller) = caller else {
        return Err(ApiError::unauthenticated());
    };
    let by = caller.principal.username.as_str();
    if let Some(expires) = expires.map(str::trim).filter(|e| !e.is_empty()) {
        let until = lifecycle::parse_expiry("expires", expires)?;
        warrant_app::lifecycle::accept_until(
            &state.store,
            &lifecycle::policy(state),
            id,
            reason,
            until,
            state.now(),
            by,
        )
        .await?;
        return Ok(());
    }
    let note = format!("{reason} (accepted by {by})");
    query::set_finding_status(&state.store, id, FindingStatus::Accepted, Some(&note)).await?;
    Ok(())
}

/// Reopens an accepted finding.
#[utoipa::path(post, path = "/api/v1/findings/{id}/reopen", tag = "findings",
    params(("id" = String, Path, description = "The finding's id")),
    responses(
        (status = 204, description = "Open again"),
        (status = 404, description = "No such finding", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn reopen_finding(
    State(state): Shared,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<StatusCode, ApiError> {
    let Path(id) = id?;
    query::set_finding_status(&state.store, &id, FindingStatus::Open, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Filters of `GET /api/v1/alerts`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// Identity id, or `shadow:…` for principals the inventory does not know.
    pub identity: Option<String>,
    /// Lowest severity.
    pub severity: Option<String>,
    /// Detection (rule id).
    pub detection: Option<String>,
    /// Include resolved and accepted alerts.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub all: Option<bool>,
    /// Page size, 1–1000 (default 50).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub limit: Option<usize>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
}

impl AlertQuery {
    pub fn filter(&self) -> Result<AlertsFilter, ApiError> {
        Ok(AlertsFilter {
            identity: self.identity.clone().filter(|i| !i.is_empty()),
            severity: parse::<Severity>("severity", self.severity.as_deref())?,
            detection: self.detection.clone().filter(|d| !d.is_empty()),
            all: self.all.unwrap_or(false),
        })
    }
}

/// Lists activity alerts, most severe first, a page at a time.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", params(AlertQuery),
    responses(
        (status = 200, description = "A page of alerts, most severe first", body = AlertPageDto),
        (status = 400, description = "A parameter is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_alerts(
    State(state): Shared,
    query: Result<Query<AlertQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AlertPageDto>, ApiError> {
    let Query(query) = query?;
    Ok(Json(alert_page(&state, &query).await?))
}

pub async fn alert_page(state: &ServerState, query: &AlertQuery) -> Result<AlertPageDto, ApiError> {
    let page = query::alert_page(
        &state.store,
        &query.filter()?,
        query.after.as_deref().filter(|a| !a.is_empty()),
        page_limit(query.limit)?,
    )
    .await?;
    Ok(AlertPageDto {
        items: page.items.into_iter().map(FindingDto::from).collect(),
        next: page.next,
        matched: page.matched,
    })
}

/// Page of `GET /api/v1/secrets`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SecretQuery {
    /// Page size, 1–1000 (default 50).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub limit: Option<usize>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
}

/// Where leaked secrets were found and which identity each unlocks: keyed fingerprints and
/// places only, never a secret.
#[utoipa::path(get, path = "/api/v1/secrets", tag = "secrets", params(SecretQuery),
    responses(
        (status = 200, description = "A page of leak locations", body = dto::SecretPageDto),
        (status = 400, description = "A parameter is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_secrets(
    State(state): Shared,
    query: Result<Query<SecretQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<dto::SecretPageDto>, ApiError> {
    let Query(query) = query?;
    Ok(Json(secret_page(&state, &query).await?))
}

pub async fn secret_page(
    state: &ServerState,
    query: &SecretQuery,
) -> Result<dto::SecretPageDto, ApiError> {
    let page = query::secrets(
        &state.store,
        query.after.as_deref().filter(|a| !a.is_empty()),
        page_limit(query.limit)?,
    )
    .await?;
    Ok(dto::SecretPageDto {
        items: page
            .items
            .into_iter()
            .map(dto::SecretOccurrenceDto::from)
            .collect(),
        next: page.next,
        total: page.total,
    })
}

/// The OpenAPI document of this API.
#[derive(OpenApi)]
#[openapi(
    info(title = "Warrant", description = "Non-human identity security: inventory, risk, findings and alerts."),
    paths(list_identities, get_identity, rightsize_identity, list_findings, accept_finding, reopen_finding, list_alerts,
        session::login, session::me, session::logout,
        imports::create_import, imports::create_scan, imports::get_job, imports::list_jobs, list_secrets,
        lifecycle::list_campaigns, lifecycle::get_campaign, lifecycle::decide_item,
        lifecycle::list_plans, lifecycle::get_plan, lifecycle::approve_plan,
        lifecycle::reject_plan, lifecycle::apply_plan, lifecycle::rollback_plan,
        lifecycle::list_exceptions, lifecycle::grant_exception, lifecycle::withdraw_exception,
        gateway::list_approvals, gateway::approve, gateway::deny, gateway::list_tools,
        gateway::approve_tool),
    components(schemas(Problem)),
    modifiers(&Security),
    tags(
        (name = "identities", description = "Machine identities with their risk"),
        (name = "findings", description = "Posture, secret and activity findings"),
        (name = "alerts", description = "Activity alerts"),
        (name = "secrets", description = "Where leaked secrets were found"),
        (name = "session", description = "Signing in and out"),
        (name = "imports", description = "Uploading exports to import and files to scan for secrets, and the jobs that do it"),
        (name = "reviews", description = "Access-review campaigns: owners decide their identities"),
        (name = "plans", description = "Remediation plans: approve (four eyes), apply, roll back"),
        (name = "exceptions", description = "Time-limited exceptions to findings"),
        (name = "gateway", description = "Agents' tool calls the MCP gateway holds for a person's approval, and the upstream tools it pins"),
    ),
    security(("bearer" = []), ("session" = []))
)]
pub struct ApiDoc;

/// The two ways to authenticate, declared in the document.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token from `warrant token create` (`wat_…`)"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

/// `GET /api/v1/openapi.json`.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
