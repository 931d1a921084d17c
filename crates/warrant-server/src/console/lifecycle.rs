//! The lifecycle pages: the **reviews** inbox (the items the signed-in user is to decide, across
//! open campaigns), the **approvals** inbox (plans waiting for someone other than their
//! requester, plans ready to apply, exceptions) and a plan's page with the change each step
//! makes. Decisions post small htmx forms through the same functions as the API.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Shared, Who, caller, encode, error_page, identity_href, page};
use crate::api::lifecycle::{
    self, CampaignDto, DecideReviewRequest, PlanDto, PlanQuery, ReviewItemDto, Run,
};
use crate::auth::{Action, allows};

fn may(who: &Who, action: Action) -> bool {
    caller(who).is_some_and(|c| allows(c.principal.role, action))
}

fn me(who: &Who) -> String {
    caller(who).map_or_else(String::new, |c| c.principal.username.clone())
}

/// A campaign's progress as a bar (decided of all items).
fn progress(c: &CampaignDto) -> Markup {
    let max = c.items.max(1);
    html! {
        progress value=(c.decided) max=(max) aria-label=(format!("{} of {} decided", c.decided, c.items)) {
            (c.decided) " of " (c.items)
        }
    }
}

const VERDICTS: [&str; 5] = ["keep", "rightsize", "rotate", "disable", "decommission"];

fn item_row(campaign: &str, i: &ReviewItemDto, can_decide: bool) -> Markup {
    let key = format!("{}-{}", encode(campaign), i.item);
    html! {
        tr id=(format!("item-{key}")) {
            td { (campaign) " #" (i.item) }
            td { a href=(identity_href(&i.identity)) { (i.name) } br; small class="id" { (i.identity) } }
            td { small { (i.evidence_summary) } }
            td {
                @if i.state == "overdue" { span class="pill sev-high" { "overdue" } } @else { (i.state) }
                br; small { "assigned: " (i.assigned_because) }
            }
            td {
                @if let Some(d) = &i.decision {
                    strong { (d.decision) } " by " (d.decided_by)
                    @if let Some(p) = &d.plan { br; a href=(format!("/plans/{}", encode(p))) { "plan " (p) } }
                    @if let Some(e) = &d.plan_error { br; small class="warn" { "no plan: " (e) } }
                } @else if can_decide {
                    form class="accept" hx-post=(format!("/reviews/{}/items/{}", encode(campaign), i.item))
                        hx-target="closest tr" hx-swap="outerHTML" {
                        label for=(format!("verdict-{key}")) class="visually-hidden" { "Decision" }
                        select id=(format!("verdict-{key}")) name="verdict" {
                            @for v in VERDICTS { option value=(v) { (v) } }
                        }
                        label for=(format!("why-{key}")) class="visually-hidden" { "Reason" }
                        input id=(format!("why-{key}")) name="reason" placeholder="reason (required to keep)";
                        button type="submit" { "Decide" }
                    }
                } @else {
                    "with " (i.reviewer_now)
                }
            }
        }
    }
}

/// `GET /reviews`: what the signed-in user is to decide, and every campaign's progress.
pub async fn reviews(
    State(state): Shared,
    who: Who,
    query: Result<Query<ReviewsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => return error_page(&who, e.into()),
    };
    let campaigns = match warrant_app::review::list(&state.store, state.now()).await {
        Ok(c) => c,
        Err(e) => return error_page(&who, e.into()),
    };
    let me = me(&who);
    let can_decide = may(&who, Action::DecideReviews);
    let open: Vec<&str> = campaigns
        .iter()
        .filter(|c| c.status == "open")
        .map(|c| c.name.as_str())
        .collect();
    let (mine, next) = match inbox(&state, &open, &me, q.after.as_deref()).await {
        Ok(page) => page,
        Err(e) => return error_page(&who, e),
    };
    let first = q.after.as_deref().is_none_or(str::is_empty);
    let campaigns: Vec<CampaignDto> = campaigns.into_iter().map(CampaignDto::from).collect();
    let body = html! {
        h1 { "Access reviews" }
        section aria-labelledby="inbox" {
            h2 id="inbox" { "Waiting for you" }
            @if mine.is_empty() {
                p class="count" { "Nothing to decide: no pending item of an open campaign is assigned to you." }
            } @else {
                p class="count" {
                    @if first && next.is_none() { (mine.len()) " items to decide. " }
                    "Every decision but keep writes a remediation plan for an approver."
                }
                table class="findings" {
                    thead { tr {
                        th scope="col" { "Item" } th scope="col" { "Identity" } th scope="col" { "Evidence" }
                        th scope="col" { "State" } th scope="col" { "Decision" }
                    } }
                    tbody { @for (c, i) in &mine { (item_row(c, i, can_decide)) } }
                }
            }
            @if next.is_some() || !first {
                nav class="pages" aria-label="Pages of your items" {
                    @if !first { a href="/reviews" { "« First page" } " " }
                    @if let Some(next) = &next {
                        a href=(format!("/reviews?after={}", encode(next))) rel="next" { "Next page »" }
                    }
                }
            }
        }
        section aria-labelledby="campaigns" {
            h2 id="campaigns" { "Campaigns" }
            @if campaigns.is_empty() {
                p class="count" { "No campaign yet: start one with " code { "warrant review start" } "." }
            } @else {
                table {
                    thead { tr {
                        th scope="col" { "Campaign" } th scope="col" { "Scope" } th scope="col" { "Due" }
                        th scope="col" { "Status" } th scope="col" { "Progress" } th scope="col" { "Overdue" }
                    } }
                    tbody {
                        @for c in &campaigns {
                            tr {
                                td { (c.name) } td { (c.scope) } td { (c.due.to_string()) }
                                td { (c.status) } td { (progress(c)) }
                                td class="num" { @if c.overdue > 0 { span class="warn" { (c.overdue) } } @else { "0" } }
                            }
                        }
                    }
                }
            }
        }
    };
    page("Reviews", caller(&who), "/reviews", body).into_response()
}

/// Where the reviews inbox starts: `CAMPAIGN/ITEM`, the `next` of the previous page.
#[derive(Debug, Default, Deserialize)]
pub struct ReviewsQuery {
    pub after: Option<String>,
}

/// Items shown per page of the reviews inbox.
const INBOX_PAGE: usize = 50;

/// A page of `me`'s pending items across the `open` campaigns (in that order), after the
/// `CAMPAIGN/ITEM` cursor `after`, and the cursor of the next page.
async fn inbox(
    state: &crate::state::ServerState,
    open: &[&str],
    me: &str,
    after: Option<&str>,
) -> Result<(Vec<(String, ReviewItemDto)>, Option<String>), crate::error::ApiError> {
    let bad = || crate::error::ApiError::bad_request("`after` is not a cursor this page gave");
    let start = match after.filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => {
            let (campaign, item) = a.rsplit_once('/').ok_or_else(bad)?;
            let item = item.parse::<i64>().map_err(|_| bad())?;
            let at = open.iter().position(|c| *c == campaign).ok_or_else(bad)?;
            Some((at, item))
        }
    };
    let filter = warrant_app::review::ItemFilter {
        reviewer: Some(me.to_string()),
        pending: true,
    };
    let mut mine: Vec<(String, ReviewItemDto)> = Vec::new();
    let first = start.map_or(0, |(at, _)| at);
    for (at, campaign) in open.iter().enumerate().skip(first) {
        let after = start.filter(|(s, _)| *s == at).map(|(_, item)| item);
        let room = INBOX_PAGE - mine.len();
        // With the page full, one more item anywhere means a next page.
        let detail =
            lifecycle::campaign_detail(state, campaign, &filter, after, room.max(1)).await?;
        if room == 0 {
            if !detail.items.is_empty() {
                let last = mine.last().map(|(c, i)| format!("{c}/{}", i.item));
                return Ok((mine, last));
            }
            continue;
        }
        let more = detail.next.is_some();
        mine.extend(detail.items.into_iter().map(|i| (campaign.to_string(), i)));
        if more {
            let last = mine.last().map(|(c, i)| format!("{c}/{}", i.item));
            return Ok((mine, last));
        }
    }
    Ok((mine, None))
}

#[derive(Debug, Deserialize)]
pub struct DecideForm {
    pub verdict: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST /reviews/{name}/items/{item}` (htmx): records the decision, returns the row.
pub async fn decide(
    State(state): Shared,
    who: Who,
    Path((name, item)): Path<(String, String)>,
    Form(form): Form<DecideForm>,
) -> Response {
    let request = DecideReviewRequest {
        verdict: form.verdict,
        reason: form.reason.filter(|r| !r.trim().is_empty()),
        supersede: false,
    };
    match lifecycle::decide(&state, &me(&who), &name, &item, &request).await {
        Ok(decided) => Html(item_row(&name, &decided.item, false).into_string()).into_response(),
        Err(e) => error_page(&who, e),
    }
}

fn status_pill(status: &str) -> Markup {
    let class = match status {
        "failed" | "rejected" => "pill sev-critical",
        "proposed" | "waiting" => "pill sev-medium",
        "applied" | "rolled-back" => "pill sev-low",
        _ => "pill sev-info",
    };
    html! { span class=(class) { (status) } }
}

fn plan_actions(p: &PlanDto, me: &str, can_approve: bool, can_apply: bool) -> Markup {
    let own = p.requested_by.eq_ignore_ascii_case(me);
    let href = format!("/plans/{}", encode(&p.id));
    html! {
        @if p.status == "proposed" && can_approve {
            @if own {
                small { "Your request: someone else approves it." }
            } @else if p.approved_by.iter().any(|a| a.eq_ignore_ascii_case(me)) {
                small { "You approved it; it needs another approver." }
            } @else {
                form class="accept" hx-post=(format!("{href}/approve")) hx-target="closest .plan-actions" hx-swap="innerHTML" {
                    button type="submit" { "Approve" }
                }
                form class="accept" hx-post=(format!("{href}/reject")) hx-target="closest .plan-actions" hx-swap="innerHTML" {
                    label for=(format!("reject-{}", p.id)) class="visually-hidden" { "Reason for rejecting" }
                    input id=(format!("reject-{}", p.id)) name="reason" required placeholder="why reject";
                    button type="submit" { "Reject" }
                }
            }
        } @else if can_apply && matches!(p.status.as_str(), "approved" | "waiting" | "failed" | "applying") {
            form class="accept" hx-post=(format!("{href}/apply")) hx-target="closest .plan-actions" hx-swap="innerHTML" {
                input type="hidden" name="dry_run" value="true";
                button type="submit" { "Dry run" }
            }
            form class="accept" hx-post=(format!("{href}/apply")) hx-target="closest .plan-actions" hx-swap="innerHTML"
                hx-confirm="Apply this plan to the provider now?" {
                input type="hidden" name="dry_run" value="false";
                button type="submit" { "Apply" }
            }
        }
    }
}

fn plans_table(plans: &[PlanDto], me: &str, can_approve: bool, can_apply: bool) -> Markup {
    html! {
        table class="findings" {
            thead { tr {
                th scope="col" { "Plan" } th scope="col" { "Action" } th scope="col" { "Identity" }
                th scope="col" { "Requested by" } th scope="col" { "Status" } th scope="col" { "Approvals" }
                th scope="col" { "Decide" }
            } }
            tbody {
                @for p in plans {
                    tr {
                        td { a href=(format!("/plans/{}", encode(&p.id))) class="id" { (p.id) } br; small { (p.reason) } }
                        td { (p.action) }
                        td { a href=(identity_href(&p.identity)) { (p.identity) } }
                        td { (p.requested_by) }
                        td { (status_pill(&p.status)) }
                        td class="num" { (p.approved_by.len()) " of " (p.required_approvals) }
                        td class="plan-actions" { (plan_actions(p, me, can_approve, can_apply)) }
                    }
                }
            }
        }
    }
}

/// `GET /approvals`: plans waiting for approval (never shown as approvable to their
/// requester), plans ready to apply, recent plans and the exceptions in force.
pub async fn approvals(
    State(state): Shared,
    who: Who,
    query: Result<Query<ApprovalsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => return error_page(&who, e.into()),
    };
    let sections = async {
        Ok::<_, crate::error::ApiError>((
            section(&state, &q, "waiting", "proposed").await?,
            section(&state, &q, "ready", "approved,waiting,failed,applying").await?,
            section(
                &state,
                &q,
                "done",
                "rejected,applied,rolling-back,rolled-back",
            )
            .await?,
        ))
    };
    let (waiting, ready, done) = match sections.await {
        Ok(s) => s,
        Err(e) => return error_page(&who, e),
    };
    let wanted = lifecycle::ExceptionQuery {
        in_force: Some(true),
        limit: Some(APPROVALS_PAGE),
        after: q.exceptions.clone(),
    };
    let in_force = match lifecycle::exceptions(&state, &wanted).await {
        Ok(p) => Section {
            first: q.exceptions.as_deref().is_none_or(str::is_empty),
            more: p.next.map(|next| q.with("exceptions", &next)),
            items: p.items,
        },
        Err(e) => return error_page(&who, e),
    };
    let me = me(&who);
    let (can_approve, can_apply) = (may(&who, Action::Approve), may(&who, Action::ApplyPlans));
    let body = html! {
        h1 { "Approvals" }
        p class="hint" { "Nothing changes in a provider without a plan that someone other than its requester approved. Applying is a dry run unless you choose Apply." }
        section aria-labelledby="waiting" {
            h2 id="waiting" { "Waiting for approval" (waiting.count()) }
            @if waiting.items.is_empty() { p class="count" { "No plan is waiting." } }
            @else { (plans_table(&waiting.items, &me, can_approve, can_apply)) }
            (waiting.pages("waiting"))
        }
        section aria-labelledby="ready" {
            h2 id="ready" { "Approved, to apply" (ready.count()) }
            @if ready.items.is_empty() { p class="count" { "No approved plan is waiting to be applied." } }
            @else { (plans_table(&ready.items, &me, can_approve, can_apply)) }
            (ready.pages("ready"))
        }
        section aria-labelledby="done" {
            h2 id="done" { "Other plans" (done.count()) }
            @if !done.items.is_empty() { (plans_table(&done.items, &me, can_approve, can_apply)) }
            (done.pages("done"))
        }
        section aria-labelledby="exceptions" {
            h2 id="exceptions" { "Exceptions in force" (in_force.count()) }
            @if in_force.items.is_empty() { p class="count" { "No exception is in force." } }
            @else {
                table {
                    thead { tr {
                        th scope="col" { "Exception" } th scope="col" { "Covers" } th scope="col" { "Reason" }
                        th scope="col" { "Owner" } th scope="col" { "Expires" } th scope="col" { "Granted by" }
                    } }
                    tbody {
                        @for e in &in_force.items {
                            tr {
                                td class="id" { (e.id) } td { (e.scope) } td { (e.reason) } td { (e.owner) }
                                td { (e.expires.format("%Y-%m-%d").to_string())
                                    @if e.state == "expiring" { " " span class="pill sev-medium" { "soon" } } }
                                td { (e.created_by) }
                            }
                        }
                    }
                }
            }
            (in_force.pages("exceptions"))
        }
    };
    page("Approvals", caller(&who), "/approvals", body).into_response()
}

/// Plans shown per section of the approvals inbox.
const APPROVALS_PAGE: usize = 50;

/// The page of section `key` (plans in `statuses`) the inbox's query asks for.
async fn section(
    state: &crate::state::ServerState,
    q: &ApprovalsQuery,
    key: &str,
    statuses: &str,
) -> Result<Section<PlanDto>, crate::error::ApiError> {
    let after = match key {
        "waiting" => &q.waiting,
        "ready" => &q.ready,
        _ => &q.done,
    };
    let wanted = PlanQuery {
        status: Some(statuses.to_string()),
        after: after.clone(),
        limit: Some(APPROVALS_PAGE),
        ..PlanQuery::default()
    };
    let p = lifecycle::plans(state, &wanted).await?;
    Ok(Section {
        first: after.as_deref().is_none_or(str::is_empty),
        more: p.next.map(|next| q.with(key, &next)),
        items: p.items,
    })
}

/// Where each section of the approvals inbox starts (each pages on its own).
#[derive(Debug, Default, Deserialize)]
pub struct ApprovalsQuery {
    pub waiting: Option<String>,
    pub ready: Option<String>,
    pub done: Option<String>,
    pub exceptions: Option<String>,
}

impl ApprovalsQuery {
    /// The inbox's address with section `key` moved on to `next`, the others kept.
    fn with(&self, key: &str, next: &str) -> String {
        let mut parts = Vec::new();
        for (name, value) in [
            ("waiting", &self.waiting),
            ("ready", &self.ready),
            ("done", &self.done),
            ("exceptions", &self.exceptions),
        ] {
            let value = if name == key {
                Some(next)
            } else {
                value.as_deref().filter(|v| !v.is_empty())
            };
            if let Some(v) = value {
                parts.push(format!("{name}={}", encode(v)));
            }
        }
        format!("/approvals?{}#{key}", parts.join("&"))
    }
}

/// One section's page (of plans or exceptions).
struct Section<T> {
    items: Vec<T>,
    /// Whether this is the section's first page.
    first: bool,
    /// The address of its next page.
    more: Option<String>,
}

impl<T> Section<T> {
    /// The count after the heading, when this page holds the whole section.
    fn count(&self) -> String {
        if self.first && self.more.is_none() {
            format!(" ({})", self.items.len())
        } else {
            String::new()
        }
    }

    fn pages(&self, key: &str) -> Markup {
        html! {
            @if self.more.is_some() || !self.first {
                nav class="pages" aria-label=(format!("Pages of {key}")) {
                    @if !self.first { a href=(format!("/approvals#{key}")) { "« First page" } " " }
                    @if let Some(next) = &self.more { a href=(next) rel="next" { "Next page »" } }
                }
            }
        }
    }
}

/// `GET /plans/{id}`: the plan, the change each step makes, who decided and how far it went.
pub async fn plan(State(state): Shared, who: Who, Path(id): Path<String>) -> Response {
    let p = match lifecycle::plan(&state, &id).await {
        Ok(p) => p,
        Err(e) => return error_page(&who, e),
    };
    let me = me(&who);
    let (can_approve, can_apply) = (may(&who, Action::Approve), may(&who, Action::ApplyPlans));
    let body = html! {
        h1 { "Plan " span class="id" { (p.id) } }
        dl class="facts" {
            dt { "Action" } dd { (p.action) }
            dt { "Identity" } dd { a href=(identity_href(&p.identity)) { (p.identity) } }
            dt { "Why" } dd { (p.reason) }
            dt { "Requested by" } dd { (p.requested_by) " on " (p.created.format("%Y-%m-%d %H:%M UTC").to_string()) }
            dt { "Status" } dd { (status_pill(&p.status)) " · " (p.approved_by.len()) " of " (p.required_approvals) " approvals"
                @if p.waived { " (waived by policy: break-glass)" } }
            @if let Some(d) = p.deadline { dt { "Apply by" } dd { (d.format("%Y-%m-%d").to_string()) } }
        }
        div class="plan-actions" { (plan_actions(&p, &me, can_approve, can_apply)) }
        h2 { "What it changes" }
        table class="findings" {
            thead { tr {
                th scope="col" { "#" } th scope="col" { "Call" } th scope="col" { "Before" }
                th scope="col" { "After" } th scope="col" { "Undo" } th scope="col" { "State" }
            } }
            tbody {
                @for (n, s) in p.steps.iter().enumerate() {
                    tr {
                        td class="num" { (n + 1) }
                        td { strong { (s.call) } br; small { (s.summary) } }
                        td { del { (s.before) } }
                        td { ins { (s.after) } }
                        td { @if s.reversible { "reversible" } @else { span class="warn" { "cannot be undone" } } }
                        td { (s.state) }
                    }
                }
            }
        }
        @if !p.decisions.is_empty() {
            h2 { "Decisions" }
            ul class="timeline" {
                @for d in &p.decisions {
                    li { time { (d.at.format("%Y-%m-%d %H:%M").to_string()) } " " strong { (d.decision) } " by " (d.by)
                        @if let Some(r) = &d.reason { ": " (r) } }
                }
            }
        }
    };
    page("Plan", caller(&who), "/approvals", body).into_response()
}

#[derive(Debug, Deserialize, Default)]
pub struct PlanForm {
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub dry_run: Option<String>,
}

/// `POST /plans/{id}/approve` and `/reject` (htmx): records the decision, returns the cell.
pub async fn approve(
    State(state): Shared,
    who: Who,
    Path(id): Path<String>,
    Form(form): Form<PlanForm>,
) -> Response {
    decided(&state, &who, &id, true, form.reason.as_deref()).await
}

pub async fn reject(
    State(state): Shared,
    who: Who,
    Path(id): Path<String>,
    Form(form): Form<PlanForm>,
) -> Response {
    decided(&state, &who, &id, false, form.reason.as_deref()).await
}

async fn decided(
    state: &crate::state::ServerState,
    who: &Who,
    id: &str,
    approve: bool,
    reason: Option<&str>,
) -> Response {
    match lifecycle::decide_plan(state, &me(who), id, approve, reason).await {
        Ok(p) => Html(
            html! { (status_pill(&p.status)) " " small { (p.approved_by.len()) " of " (p.required_approvals) " approvals" } }
                .into_string(),
        )
        .into_response(),
        Err(e) => error_page(who, e),
    }
}

/// `POST /plans/{id}/apply` (htmx): starts the run as a job and links to it.
pub async fn apply(
    State(state): Shared,
    who: Who,
    Path(id): Path<String>,
    Form(form): Form<PlanForm>,
) -> Response {
    let dry_run = form.dry_run.as_deref() != Some("false");
    match lifecycle::start_run(state, me(&who), id, Run::Apply { dry_run }).await {
        Ok(response) => {
            let job = response
                .headers()
                .get(axum::http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("/api/v1/jobs")
                .to_string();
            Html(
                html! {
                    (if dry_run { "Dry run started: " } else { "Apply started: " })
                    a href=(job) { "follow the job" }
                }
                .into_string(),
            )
            .into_response()
        }
        Err(e) => error_page(&who, e),
    }
}
