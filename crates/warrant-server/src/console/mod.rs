//! The web console: server-rendered HTML (maud) with htmx for the few actions that change
//! state. Read-only pages work without JavaScript; every list is paginated on the server
//! through the same functions the API uses; nothing input-derived reaches the page unescaped
//! (maud escapes every interpolation).

pub mod charts;
pub mod lifecycle;

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;
use warrant_app::NoProgress;
use warrant_app::accounts;
use warrant_app::query::{self, Overview};

use crate::api::dto::{
    FindingDto, IdentityDetailDto, IdentityPageDto, IdentitySummary, TrustChainDto,
};
use crate::api::{self, FindingQuery, IdentityQuery};
use crate::auth::{Caller, csrf_token};
use crate::error::ApiError;
use crate::state::ServerState;
use charts::{SEVERITIES, risk_class};

type Shared = State<Arc<ServerState>>;
type Who = Option<axum::Extension<Caller>>;

/// The console's stylesheet and the vendored htmx, embedded in the binary.
const CSS: &str = include_str!("../../assets/warrant.css");
const HTMX: &[u8] = include_bytes!("../../assets/vendor/htmx.min.js");

/// `GET /assets/{name}`.
pub async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind): (&[u8], &str) = match name.as_str() {
        "warrant.css" => (CSS.as_bytes(), "text/css; charset=utf-8"),
        "htmx.min.js" => (HTMX, "text/javascript; charset=utf-8"),
        _ => return ApiError::not_found("no such asset").into_response(),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

/// Where an identity's page is.
pub fn identity_href(id: &str) -> String {
    format!("/identities/{}", encode(id))
}

/// `text` percent-encoded for a path segment or a query value.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn page(title: &str, caller: Option<&Caller>, current: &str, body: Markup) -> Html<String> {
    // The CSRF token rides on every htmx request as a header (hx-headers is inherited).
    let headers = caller
        .and_then(|c| c.session.as_deref())
        .map(|s| serde_json::json!({ "X-CSRF-Token": csrf_token(s) }).to_string());
    let nav = [
        ("/", "Overview"),
        ("/inventory", "Inventory"),
        ("/findings", "Findings"),
        ("/alerts", "Alerts"),
        ("/secrets", "Secrets"),
        ("/reviews", "Reviews"),
        ("/approvals", "Approvals"),
    ];
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    // htmx must not add an inline <style>: the CSP forbids it.
                    meta name="htmx-config" content=r#"{"includeIndicatorStyles":false,"allowScriptTags":false,"allowEval":false}"#;
                    title { (title) " · Warrant" }
                    link rel="stylesheet" href="/assets/warrant.css";
                    script src="/assets/htmx.min.js" defer {}
                }
                body hx-headers=[headers] {
                    a class="skip" href="#main" { "Skip to content" }
                    header class="top" {
                        span class="brand" { "Warrant" }
                        @if caller.is_some() {
                            nav aria-label="Main" {
                                @for (href, label) in nav {
                                    @if href == current {
                                        a href=(href) aria-current="page" { (label) }
                                    } @else {
                                        a href=(href) { (label) }
                                    }
                                }
                            }
                        }
                        @if let Some(c) = caller {
                            span class="who" {
                                (c.principal.username) " · " (c.principal.role.as_str())
                                @if c.session.is_some() {
                                    " "
                                    button type="button" class="link" hx-post="/logout" { "Sign out" }
                                }
                            }
                        }
                    }
                    main id="main" { (body) }
                }
            }
        }
        .into_string(),
    )
}

fn caller(who: &Who) -> Option<&Caller> {
    who.as_ref().map(|axum::Extension(c)| c)
}

/// The error as a page (the API answers problem documents instead).
fn error_page(who: &Who, error: ApiError) -> Response {
    let status = error.status;
    let detail = error
        .detail
        .clone()
        .unwrap_or_else(|| "Something went wrong on our side; it has been logged.".into());
    let mut response = page(
        status.canonical_reason().unwrap_or("Error"),
        caller(who),
        "",
        html! {
            h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) }
            p class="error" role="alert" { (detail) }
        },
    )
    .into_response();
    *response.status_mut() = status;
    response
}

// ---- Sign-in ----

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    pub next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    pub username: String,
    pub password: String,
    pub next: Option<String>,
}

/// Only a path on this server: never an open redirect. Printable ASCII only: browsers drop
/// tabs and newlines from URLs (`/<TAB>/evil.example` would become `//evil.example`), and a
/// `Location` header cannot carry anything else.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && n.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

/// The sign-in page: the password form and, when single sign-on is configured, a plain link
/// to it (works without JavaScript).
pub(crate) fn login_form(
    state: &ServerState,
    next: &str,
    error: Option<&str>,
    username: &str,
) -> Html<String> {
    let sso = state.oidc.as_ref().map(|oidc| {
        (
            format!("/auth/oidc/login?next={}", encode(next)),
            oidc.display_name(),
        )
    });
    page(
        "Sign in",
        None,
        "",
        html! {
            section class="login" {
                h1 { "Sign in to Warrant" }
                @if let Some(e) = error {
                    p class="error" role="alert" { (e) }
                }
                @if let Some((href, name)) = &sso {
                    a class="sso" href=(href) { "Sign in with " (name) }
                    p class="hint or" { "or with a Warrant password:" }
                }
                form method="post" action="/login" {
                    input type="hidden" name="next" value=(next);
                    label for="username" { "Username" }
                    input id="username" name="username" autocomplete="username" required value=(username);
                    label for="password" { "Password" }
                    input id="password" name="password" type="password" autocomplete="current-password" required;
                    button type="submit" { "Sign in" }
                }
            }
        },
    )
}

/// After single sign-on: the browser goes on to `next` from this page rather than through a
/// redirect, because the provider started the navigation: a browser does not send a
/// SameSite=Strict cookie (the session's) along a redirect chain another site started, and the
/// first page would look signed out. A refresh from this page is a same-site navigation.
pub(crate) fn signed_in_page(next: &str) -> Html<String> {
    let next = safe_next(Some(next));
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta http-equiv="refresh" content={ "0;url=" (next) };
                    title { "Signed in · Warrant" }
                    link rel="stylesheet" href="/assets/warrant.css";
                }
                body {
                    main id="main" {
                        p { "Signed in. " a href=(next) { "Continue" } }
                    }
                }
            }
        }
        .into_string(),
    )
}

/// `GET /login`.
pub async fn login_page(State(state): Shared, Query(q): Query<LoginQuery>) -> Html<String> {
    login_form(&state, &safe_next(q.next.as_deref()), None, "")
}

/// `POST /login` (a plain form: signing in works without JavaScript).
pub async fn login(State(state): Shared, Form(form): Form<LoginForm>) -> Response {
    let next = safe_next(form.next.as_deref());
    match api::session::sign_in(&state, &form.username, &form.password).await {
        Ok((_, cookie)) => {
            let mut response = Redirect::to(&next).into_response();
            api::session::set_cookie(&mut response, &cookie);
            response
        }
        Err(e) => {
            let mut response =
                login_form(&state, &next, e.detail.as_deref(), &form.username).into_response();
            *response.status_mut() = e.status;
            response
        }
    }
}

/// `POST /logout` (htmx): ends the session and sends the browser to the sign-in page.
pub async fn logout(State(state): Shared, who: Who) -> Response {
    if let Some(token) = caller(&who).and_then(|c| c.session.as_deref())
        && let Err(e) = accounts::logout(&state.store, token, state.now()).await
    {
        return error_page(&who, e.into());
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    api::session::set_cookie(&mut response, &api::session::session_cookie(None, 0));
    response
        .headers_mut()
        .insert("hx-redirect", HeaderValue::from_static("/login"));
    response
}

// ---- Overview ----

/// `GET /`.
pub async fn overview(State(state): Shared, who: Who) -> Response {
    match query::overview(&state.store, state.rules(), state.when(), &NoProgress).await {
        Ok(o) => page("Overview", caller(&who), "/", overview_body(&o)).into_response(),
        Err(e) => error_page(&who, e.into()),
    }
}

fn overview_body(o: &Overview) -> Markup {
    let kinds: Vec<(String, u64)> = o
        .by_kind
        .iter()
        .map(|(k, n)| (k.as_str().replace('_', " "), *n))
        .collect();
    let bands = ["0–20", "20–40", "40–60", "60–80", "80–100"];
    let risk: Vec<(String, u64)> = bands
        .iter()
        .zip(o.by_risk)
        .map(|(b, n)| (format!("risk {b}"), n))
        .collect();
    let band_class = |i: usize| {
        [
            "risk-minimal",
            "risk-low",
            "risk-medium",
            "risk-high",
            "risk-critical",
        ]
        .get(i)
        .copied()
        .unwrap_or("risk-minimal")
    };
    let owasp: Vec<(String, [u64; 5])> = o
        .findings
        .iter()
        .map(|(risk, by)| {
            let mut counts = [0u64; 5];
            for (sev, n) in by {
                if let Some(i) = SEVERITIES.iter().position(|s| *s == sev.as_str())
                    && let Some(c) = counts.get_mut(i)
                {
                    *c = *n;
                }
            }
            (risk.code().to_string(), counts)
        })
        .collect();
    html! {
        h1 { "Overview" }
        p class="basis" { (o.basis.describe()) }
        ul class="tiles" {
            li { span class="big" { (o.identities) } " identities" }
            li { span class="big" { (o.open_findings) } " open findings" }
            li { span class="big" { (o.admin_equivalent) } " administrator-equivalent" }
            li { a href="/inventory?no_owner=true" { span class="big" { (o.without_owner) } " without an owner" } }
        }
        div class="grid" {
            section aria-labelledby="by-kind" {
                h2 id="by-kind" { "Identities by kind" }
                (charts::bars("Identities by kind", &kinds, |_| "bar"))
            }
            section aria-labelledby="by-risk" {
                h2 id="by-risk" { "Identities by risk" }
                (charts::bars("Identities by risk band", &risk, band_class))
            }
            section aria-labelledby="trend" {
                h2 id="trend" { "Findings over the latest assessments" }
                @if o.trend.is_empty() {
                    p { "No assessment saved yet: run " code { "warrant assess" } "." }
                } @else {
                    (charts::trend("Posture findings raised by each saved assessment", &o.trend))
                }
            }
            section aria-labelledby="by-owasp" {
                h2 id="by-owasp" { "Open findings by OWASP NHI risk and severity" }
                (charts::stacked("Open findings by OWASP NHI risk and severity", &owasp))
            }
        }
        div class="grid" {
            section aria-labelledby="riskiest" {
                h2 id="riskiest" { "Riskiest identities" }
                (identity_table(&o.riskiest.iter().cloned().map(IdentitySummary::from).collect::<Vec<_>>()))
            }
            section aria-labelledby="owners" {
                h2 id="owners" { "Owners with the most risk" }
                table {
                    thead { tr { th scope="col" { "Owner" } th scope="col" class="num" { "Identities" } th scope="col" class="num" { "Total risk" } } }
                    tbody {
                        @for (owner, risk, n) in &o.owners {
                            tr {
                                td { a href=(format!("/inventory?owner={}", encode(owner))) { (owner) } }
                                td class="num" { (n) }
                                td class="num" { (format!("{risk:.1}")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn identity_table(items: &[IdentitySummary]) -> Markup {
    html! {
        table class="identities" {
            thead {
                tr {
                    th scope="col" { "Identity" }
                    th scope="col" { "Kind" }
                    th scope="col" { "Provider" }
                    th scope="col" { "Owners" }
                    th scope="col" class="num" { "Risk" }
                    th scope="col" class="num" { "Findings" }
                    th scope="col" { "Last used" }
                }
            }
            tbody {
                @for i in items {
                    tr {
                        td { a href=(identity_href(&i.id)) { (i.name) } br; small class="id" { (i.id) } }
                        td { (i.kind.replace('_', " ")) }
                        td { (i.provider) }
                        td { @if i.owners.is_empty() { span class="warn" { "none" } } @else { (i.owners.join(", ")) } }
                        td class="num" { span class=(format!("pill {}", risk_class(i.risk))) { (format!("{:.1}", i.risk)) } }
                        td class="num" { (i.open_findings) }
                        td { (i.last_used.map_or("never".to_string(), |t| t.format("%Y-%m-%d").to_string())) }
                    }
                }
            }
        }
    }
}

// ---- Inventory ----

/// The query string of `query` without its cursor, for links that keep the filters.
fn filters_query(q: &IdentityQuery) -> String {
    let mut parts = Vec::new();
    let mut add = |name: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            parts.push(format!("{name}={}", encode(&v)));
        }
    };
    add("q", q.q.clone());
    add("kind", q.kind.clone());
    add("provider", q.provider.clone());
    add("environment", q.environment.clone());
    add("status", q.status.clone());
    add("account", q.account.clone());
    add("owner", q.owner.clone());
    add("tier", q.tier.clone());
    add("owasp", q.owasp.clone());
    add("registration", q.registration.clone());
    add("no_owner", q.no_owner.filter(|b| *b).map(|_| "true".into()));
    add("min_risk", q.min_risk.map(|r| r.to_string()));
    add("max_risk", q.max_risk.map(|r| r.to_string()));
    add("sort", q.sort.clone());
    add("order", q.order.clone());
    add("limit", q.limit.map(|l| l.to_string()));
    parts.join("&")
}

/// `GET /inventory`.
pub async fn inventory(
    State(state): Shared,
    who: Who,
    query: Result<Query<IdentityQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => return error_page(&who, e.into()),
    };
    match api::identity_page(&state, &q).await {
        Ok(p) => page(
            "Inventory",
            caller(&who),
            "/inventory",
            inventory_body(&q, &p, &tiers(&state)),
        )
        .into_response(),
        Err(e) => error_page(&who, e),
    }
}

fn select(name: &str, label: &str, current: Option<&str>, values: &[&str]) -> Markup {
    html! {
        div class="field" {
            label for=(name) { (label) }
            select id=(name) name=(name) {
                option value="" { "any" }
                @for v in values {
                    option value=(v) selected[current == Some(*v)] { (v.replace('_', " ")) }
                }
            }
        }
    }
}

/// The governance policy's tier names, and `defaults` (what no tier matched).
fn tiers(state: &ServerState) -> Vec<String> {
    let mut names: Vec<String> = state
        .governance
        .iter()
        .flat_map(|g| g.tiers.iter().map(|t| t.name.clone()))
        .collect();
    names.push(query::DEFAULT_TIER.to_string());
    names
}

fn inventory_body(q: &IdentityQuery, p: &IdentityPageDto, tiers: &[String]) -> Markup {
    let tiers: Vec<&str> = tiers.iter().map(String::as_str).collect();
    let owasp: Vec<&str> = warrant_core::OwaspNhi::ALL
        .iter()
        .map(|o| o.code())
        .collect();
    let kinds: Vec<&str> = warrant_core::IdentityKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    let providers: Vec<&str> = warrant_core::Provider::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    let statuses: Vec<&str> = warrant_core::IdentityStatus::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    let kept = filters_query(q);
    html! {
        h1 { "Inventory" }
        form class="filters" method="get" action="/inventory" role="search" {
            div class="field" {
                label for="q" { "Search" }
                input id="q" name="q" type="search" value=(q.q.clone().unwrap_or_default()) placeholder="id or name";
            }
            (select("kind", "Kind", q.kind.as_deref(), &kinds))
            (select("provider", "Provider", q.provider.as_deref(), &providers))
            (select("status", "Status", q.status.as_deref(), &statuses))
            (select("tier", "Tier", q.tier.as_deref(), &tiers))
            (select("owasp", "OWASP NHI", q.owasp.as_deref(), &owasp))
            (select("registration", "Registration", q.registration.as_deref(), &["sanctioned", "shadow"]))
            div class="field" {
                label for="owner" { "Owner" }
                input id="owner" name="owner" value=(q.owner.clone().unwrap_or_default());
            }
            div class="field" {
                label for="min_risk" { "Risk at least" }
                input id="min_risk" name="min_risk" type="number" min="0" max="100" step="any" value=(q.min_risk.map(|r| r.to_string()).unwrap_or_default());
            }
            div class="field" {
                label for="max_risk" { "Risk at most" }
                input id="max_risk" name="max_risk" type="number" min="0" max="100" step="any" value=(q.max_risk.map(|r| r.to_string()).unwrap_or_default());
            }
            (select("sort", "Sort by", q.sort.as_deref(), &["risk", "name", "last_used", "findings"]))
            label class="check" { input type="checkbox" name="no_owner" value="true" checked[q.no_owner == Some(true)]; " without an owner" }
            button type="submit" { "Apply" }
        }
        p class="count" {
            (p.matched) " identities match. "
            a href=(format!("/inventory.csv?{kept}")) download { "Download this view as CSV" }
        }
        (identity_table(&p.items))
        nav class="pages" aria-label="Pages" {
            @if q.after.is_some() {
                a href=(format!("/inventory?{kept}")) { "« First page" }
            }
            @if let Some(next) = &p.next {
                a href=(format!("/inventory?{kept}&after={}", encode(next))) rel="next" { "Next page »" }
            }
        }
    }
}

/// `GET /inventory.csv`: every identity matching the filters, in the view's order (not only
/// one page), written as `warrant inventory --format csv` writes it.
pub async fn inventory_csv(
    State(state): Shared,
    who: Who,
    query: Result<Query<IdentityQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => return error_page(&who, e.into()),
    };
    let (filter, (sort, descending)) = match (q.filter(), q.order()) {
        (Ok(f), Ok(o)) => (f, o),
        (Err(e), _) | (_, Err(e)) => return error_page(&who, e),
    };
    let page = match query::identity_page(
        &state.store,
        state.rules(),
        state.when(),
        &filter,
        sort,
        descending,
        None,
        usize::MAX,
        &NoProgress,
    )
    .await
    {
        Ok(p) => p,
        Err(e) => return error_page(&who, e.into()),
    };
    let mut out = Vec::new();
    let written = warrant_report::IdentitiesCsv::new(&mut out).and_then(|mut csv| {
        page.items.iter().try_for_each(|v| csv.row(v))?;
        csv.finish()
    });
    if written.is_err() {
        return error_page(&who, ApiError::internal());
    }
    let mut response = out.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"warrant-inventory.csv\""),
    );
    response
}

// ---- One identity ----

/// `GET /identities/{id}`.
pub async fn identity(State(state): Shared, who: Who, Path(id): Path<String>) -> Response {
    match api::identity_detail(&state, &id).await {
        Ok(d) => {
            let can_triage = caller(&who).is_some_and(|c| {
                crate::auth::allows(c.principal.role, crate::auth::Action::TriageFindings)
            });
            page(
                &d.identity.name.clone(),
                caller(&who),
                "/inventory",
                identity_body(&d, can_triage),
            )
            .into_response()
        }
        Err(e) => error_page(&who, e),
    }
}

fn identity_body(d: &IdentityDetailDto, can_triage: bool) -> Markup {
    let i = &d.identity;
    html! {
        h1 { (i.name) " " span class=(format!("pill {}", risk_class(i.risk))) { "risk " (format!("{:.1}", i.risk)) } }
        p class="id" { (i.id) }
        dl class="facts" {
            dt { "Kind" } dd { (i.kind.replace('_', " ")) }
            dt { "Provider" } dd { (i.provider) }
            dt { "Account" } dd { (i.account.clone().unwrap_or_else(|| "—".into())) }
            dt { "Environment" } dd { (i.environment) }
            dt { "Status" } dd { (i.status) }
            dt { "Owners" } dd {
                @if d.owners.is_empty() { span class="warn" { "none" } }
                @for o in &d.owners { (o.id) " " small { "(" (o.source) ")" } " " }
            }
            dt { "Purpose" } dd { (d.purpose.clone().unwrap_or_else(|| "—".into())) }
            dt { "Created" } dd { (d.created.map_or("unknown".into(), |t| t.format("%Y-%m-%d").to_string())) }
            dt { "Last used" } dd { (i.last_used.map_or("never".into(), |t| t.format("%Y-%m-%d").to_string())) }
        }
        section aria-labelledby="graph" {
            h2 id="graph" { "Blast radius" }
            p class="hint" { "Who can become this identity, what it holds, and what it can reach. Identities are links; hover or focus a node for details." }
            div class=(if charts::is_wide(d) { "graph-frame graph-frame-wide" } else { "graph-frame" }) {
                (charts::blast_radius(d, identity_href))
            }
        }
        section aria-labelledby="chains" {
            h2 id="chains" { "Who can become whom" }
            @if d.chains_in.is_empty() && d.chains_out.is_empty() {
                p { "No principal can become this identity, and it can become no identity." }
            }
            @if !d.chains_in.is_empty() {
                h3 { "Who can become it" }
                ol class="chains" {
                    @for c in &d.chains_in { li { (chain_text(c, &i.id)) } }
                }
            }
            @if !d.chains_out.is_empty() {
                h3 { "Whom it can become" }
                ol class="chains" {
                    @for c in &d.chains_out { li { (chain_text(c, &i.id)) } }
                }
            }
            @if d.chains_truncated {
                p class="hint" {
                    "Chains stop at " (warrant_app::query::CHAIN_MAX_HOPS) " hops and "
                    (warrant_app::query::CHAIN_MAX_PRINCIPALS)
                    " principals each way; more principals lie beyond."
                }
            }
        }
        section aria-labelledby="risk" {
            h2 id="risk" { "Why this risk" }
            p { "Blast radius " (format!("{:.1}", d.risk.blast_radius)) " × exposure " (format!("{:.1}", d.risk.exposure)) "." }
            table {
                thead { tr { th scope="col" { "Factor" } th scope="col" { "What" } th scope="col" class="num" { "Points" } th scope="col" { "Why" } } }
                tbody {
                    @for c in &d.risk.components {
                        tr { td { (c.factor.replace('_', " ")) } td { (c.label) } td class="num" { (format!("{:.1}", c.points)) } td { (c.explanation) } }
                    }
                }
            }
        }
        section aria-labelledby="findings" {
            h2 id="findings" { "Open findings (" (d.findings.len()) ")" }
            (findings_table(&d.findings, can_triage))
        }
        @if !d.leaks.is_empty() {
            section aria-labelledby="leaks" {
                h2 id="leaks" { "Where its secrets were found" }
                table {
                    thead { tr { th scope="col" { "Where" } th scope="col" { "Rule" } th scope="col" { "Fingerprint" } th scope="col" { "Commit" } } }
                    tbody {
                        @for l in &d.leaks {
                            tr { td { (l.path) ":" (l.line) } td { (l.rule) } td class="id" { (l.fingerprint) } td { (l.commit.clone().unwrap_or_else(|| "working tree".into())) } }
                        }
                    }
                }
            }
        }
        section aria-labelledby="timeline" {
            h2 id="timeline" { "Timeline" }
            ol class="timeline" {
                @for (when, what) in timeline(d) {
                    li { time datetime=(when.to_rfc3339()) { (when.format("%Y-%m-%d")) } " " (what) }
                }
            }
        }
    }
}

/// A chain as text: each principal (a link where it is an identity of the inventory, with its
/// risk) and, between them, how one becomes the next.
fn chain_text(chain: &TrustChainDto, me: &str) -> Markup {
    html! {
        @for (n, hop) in chain.hops.iter().enumerate() {
            @if let (true, Some(via)) = (n > 0, &hop.via) {
                " → " span class="chain-via" { (via.replace('_', " ")) } " → "
            }
            @let label = hop.name.clone().unwrap_or_else(|| hop.id.clone());
            span class="chain-hop" title=(hop.id) {
                @if hop.id == me {
                    strong { (label) }
                } @else if hop.kind.is_some() {
                    a href=(identity_href(&hop.id)) { (label) }
                } @else {
                    (label) " " small { "(" (hop.principal) ")" }
                }
                @if let Some(risk) = hop.risk {
                    " " span class=(format!("pill {}", risk_class(risk))) { "risk " (format!("{risk:.1}")) }
                }
            }
        }
    }
}

/// The identity's dated events, newest first: creation, rotations, use, findings first seen.
fn timeline(d: &IdentityDetailDto) -> Vec<(chrono::DateTime<chrono::Utc>, String)> {
    let mut events = Vec::new();
    if let Some(t) = d.created {
        events.push((t, "created".to_string()));
    }
    if let Some(t) = d.first_seen {
        events.push((t, "first seen by Warrant".to_string()));
    }
    for c in &d.credentials {
        if let Some(t) = c.created {
            events.push((t, format!("credential {} created", c.kind)));
        }
        if let Some(t) = c.last_rotated {
            events.push((t, format!("credential {} rotated", c.kind)));
        }
        if let Some(t) = c.last_used {
            events.push((t, format!("credential {} last used", c.kind)));
        }
    }
    for u in &d.usage {
        events.push((u.last_seen, format!("{} × {} (last)", u.count, u.action)));
    }
    for f in &d.findings {
        if let Some(t) = f.first_seen {
            events.push((t, format!("finding raised: {}", f.title)));
        }
    }
    events.sort_by_key(|e| std::cmp::Reverse(e.0));
    events
}

fn findings_table(findings: &[FindingDto], can_triage: bool) -> Markup {
    html! {
        table class="findings" {
            thead { tr {
                th scope="col" { "Severity" } th scope="col" { "OWASP" } th scope="col" { "Finding" }
                th scope="col" { "Identity" } th scope="col" { "Fix" }
                @if can_triage { th scope="col" { "Accept" } }
            } }
            tbody {
                @for f in findings {
                    tr id=(format!("finding-{}", encode(&f.id))) {
                        td { span class=(format!("pill sev-{}", f.severity)) { (f.severity) } }
                        td { (f.owasp) }
                        td { strong { (f.title) } @for e in &f.evidence { br; small { (e) } } }
                        td { a href=(identity_href(&f.identity)) { (f.identity) } }
                        td { small { (f.remediation) } }
                        @if can_triage {
                            td {
                                form class="accept" hx-post=(format!("/findings/{}/accept", encode(&f.id)))
                                    hx-target="closest tr" hx-swap="outerHTML" {
                                    label for=(format!("reason-{}", encode(&f.id))) class="visually-hidden" { "Reason for accepting" }
                                    input id=(format!("reason-{}", encode(&f.id))) name="reason" required placeholder="reason";
                                    label for=(format!("until-{}", encode(&f.id))) { "until" }
                                    input id=(format!("until-{}", encode(&f.id))) name="expires" type="date" title="Leave empty to accept until someone reopens it";
                                    button type="submit" { "Accept" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

// ---- Findings and alerts ----

/// `GET /findings`.
pub async fn findings(
    State(state): Shared,
    who: Who,
    query: Result<Query<FindingQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => return error_page(&who, e.into()),
    };
    let can_triage = caller(&who).is_some_and(|c| {
        crate::auth::allows(c.principal.role, crate::auth::Action::TriageFindings)
    });
    match api::finding_page(&state, &q).await {
        Ok(p) => {
            let mut kept = Vec::new();
            for (name, value) in [
                ("severity", &q.severity),
                ("owasp", &q.owasp),
                ("identity", &q.identity),
                ("source", &q.source),
            ] {
                if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
                    kept.push(format!("{name}={}", encode(v)));
                }
            }
            let kept = kept.join("&");
            let owasp: Vec<&str> = warrant_core::OwaspNhi::ALL
                .iter()
                .map(|o| o.code())
                .collect();
            let body = html! {
                h1 { "Findings" }
                form class="filters" method="get" action="/findings" role="search" {
                    (select("severity", "At least", q.severity.as_deref(), &["critical", "high", "medium", "low", "info"]))
                    (select("owasp", "OWASP NHI", q.owasp.as_deref(), &owasp))
                    (select("source", "Source", q.source.as_deref(), &["posture", "secrets", "activity"]))
                    button type="submit" { "Apply" }
                }
                p class="count" { (p.matched) " open findings. " (p.basis.description) }
                (findings_table(&p.items, can_triage))
                nav class="pages" aria-label="Pages" {
                    @if let Some(next) = &p.next {
                        a href=(format!("/findings?{kept}&after={}", encode(next))) rel="next" { "Next page »" }
                    }
                }
            };
            page("Findings", caller(&who), "/findings", body).into_response()
        }
        Err(e) => error_page(&who, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct AcceptForm {
    pub reason: String,
    /// Until when (a day); empty: until reopened.
    #[serde(default)]
    pub expires: Option<String>,
}

/// `POST /findings/{id}/accept` (htmx): accepts and returns the row's replacement.
pub async fn accept(
    State(state): Shared,
    who: Who,
    Path(id): Path<String>,
    Form(form): Form<AcceptForm>,
) -> Response {
    let until = form
        .expires
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    match api::accept(&state, caller(&who), &id, &form.reason, until).await {
        Ok(()) => Html(
            html! {
                tr class="accepted" { td colspan="6" {
                    "Accepted: " (form.reason.trim())
                    @if let Some(day) = until { " — until " (day) ", then it reopens" }
                } }
            }
            .into_string(),
        )
        .into_response(),
        Err(e) => error_page(&who, e),
    }
}

/// `GET /alerts`: open activity alerts, filtered, a page at a time; triage roles accept them
/// as findings.
pub async fn alerts(
    State(state): Shared,
    who: Who,
    query: Result<Query<api::AlertQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => return error_page(&who, e.into()),
    };
    let can_triage = caller(&who).is_some_and(|c| {
        crate::auth::allows(c.principal.role, crate::auth::Action::TriageFindings)
    });
    match api::alert_page(&state, &q).await {
        Ok(p) => {
            let mut kept = Vec::new();
            for (name, value) in [("severity", &q.severity), ("detection", &q.detection)] {
                if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
                    kept.push(format!("{name}={}", encode(v)));
                }
            }
            let kept = kept.join("&");
            let body = html! {
                h1 { "Alerts" }
                form class="filters" method="get" action="/alerts" role="search" {
                    (select("severity", "At least", q.severity.as_deref(), &["critical", "high", "medium", "low", "info"]))
                    div class="field" {
                        label for="detection" { "Detection" }
                        input id="detection" name="detection" value=(q.detection.clone().unwrap_or_default());
                    }
                    button type="submit" { "Apply" }
                }
                p class="count" { (p.matched) " open alerts from activity." }
                (findings_table(&p.items, can_triage))
                nav class="pages" aria-label="Pages" {
                    @if let Some(next) = &p.next {
                        a href=(format!("/alerts?{kept}&after={}", encode(next))) rel="next" { "Next page »" }
                    }
                }
            };
            page("Alerts", caller(&who), "/alerts", body).into_response()
        }
        Err(e) => error_page(&who, e),
    }
}

/// `GET /secrets`: where each leak was found and which identity it unlocks.
pub async fn secrets(
    State(state): Shared,
    who: Who,
    query: Result<Query<api::SecretQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => return error_page(&who, e.into()),
    };
    match api::secret_page(&state, &q).await {
        Ok(p) => {
            let body = html! {
                h1 { "Leaked secrets" }
                p class="count" { (p.total) " places where a secret was found. Warrant keeps a keyed fingerprint of each, never the secret." }
                table {
                    thead { tr {
                        th scope="col" { "Unlocks" } th scope="col" { "Where" } th scope="col" { "Rule" }
                        th scope="col" { "Commit" } th scope="col" { "Fingerprint" }
                    } }
                    tbody {
                        @for s in &p.items {
                            tr {
                                td { @if let Some(i) = &s.identity { a href=(identity_href(i)) { (i) } } @else { span class="warn" { "not linked" } } }
                                td { (s.path) ":" (s.line) }
                                td { (s.rule) }
                                td { (s.commit.clone().map_or_else(|| "working tree".to_string(), |c| c.chars().take(12).collect())) }
                                td class="id" { (s.fingerprint) }
                            }
                        }
                    }
                }
                nav class="pages" aria-label="Pages" {
                    @if let Some(next) = &p.next {
                        a href=(format!("/secrets?after={}", encode(next))) rel="next" { "Next page »" }
                    }
                }
            };
            page("Secrets", caller(&who), "/secrets", body).into_response()
        }
        Err(e) => error_page(&who, e),
    }
}
