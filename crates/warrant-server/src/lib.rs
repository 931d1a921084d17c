//! The Warrant server: the REST API under `/api/v1` (described by OpenAPI at
//! `/api/v1/openapi.json`), health and readiness probes, and Prometheus metrics, over the same
//! store and use cases as the CLI.
//!
//! Handlers are thin: they call `warrant_app`'s use cases, never connectors, posture or store
//! internals; errors become problem documents in one place ([`error`]).

pub mod api;
pub mod auth;
pub mod console;
pub mod error;
pub mod jobs;
pub mod metrics;
pub mod oidc;
pub mod ratelimit;
pub mod state;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};

pub use auth::API_ROUTES;
pub use error::{ApiError, Problem};
pub use state::{ServerConfig, ServerState};

/// Every route of the server.
pub fn router(state: Arc<ServerState>) -> Router {
    let api = Router::new()
        .route("/api/v1/identities", get(api::list_identities))
        .route("/api/v1/identities/{id}", get(api::get_identity))
        .route(
            "/api/v1/identities/{id}/rightsize",
            get(api::rightsize_identity),
        )
        .route("/api/v1/findings", get(api::list_findings))
        .route("/api/v1/findings/{id}/accept", post(api::accept_finding))
        .route("/api/v1/findings/{id}/reopen", post(api::reopen_finding))
        .route("/api/v1/alerts", get(api::list_alerts))
        .route(
            "/api/v1/imports",
            post(api::imports::create_import).layer(axum::extract::DefaultBodyLimit::max(
                api::imports::MAX_UPLOAD,
            )),
        )
        .route(
            "/api/v1/scans",
            post(api::imports::create_scan).layer(axum::extract::DefaultBodyLimit::max(
                api::imports::MAX_UPLOAD,
            )),
        )
        .route("/api/v1/secrets", get(api::list_secrets))
        .route("/api/v1/reviews", get(api::lifecycle::list_campaigns))
        .route("/api/v1/reviews/{name}", get(api::lifecycle::get_campaign))
        .route(
            "/api/v1/reviews/{name}/items/{item}/decision",
            post(api::lifecycle::decide_item),
        )
        .route("/api/v1/plans", get(api::lifecycle::list_plans))
        .route("/api/v1/plans/{id}", get(api::lifecycle::get_plan))
        .route(
            "/api/v1/plans/{id}/approve",
            post(api::lifecycle::approve_plan),
        )
        .route(
            "/api/v1/plans/{id}/reject",
            post(api::lifecycle::reject_plan),
        )
        .route("/api/v1/plans/{id}/apply", post(api::lifecycle::apply_plan))
        .route(
            "/api/v1/plans/{id}/rollback",
            post(api::lifecycle::rollback_plan),
        )
        .route(
            "/api/v1/exceptions",
            get(api::lifecycle::list_exceptions).post(api::lifecycle::grant_exception),
        )
        .route(
            "/api/v1/exceptions/{id}",
            axum::routing::delete(api::lifecycle::withdraw_exception),
        )
        .route(
            "/api/v1/gateway/approvals",
            get(api::gateway::list_approvals),
        )
        .route(
            "/api/v1/gateway/approvals/{id}/approve",
            post(api::gateway::approve),
        )
        .route(
            "/api/v1/gateway/approvals/{id}/deny",
            post(api::gateway::deny),
        )
        .route("/api/v1/gateway/tools", get(api::gateway::list_tools))
        .route(
            "/api/v1/gateway/tools/{tool}/approve",
            post(api::gateway::approve_tool),
        )
        .route("/api/v1/jobs", get(api::imports::list_jobs))
        .route("/api/v1/jobs/{id}", get(api::imports::get_job))
        .route(
            "/api/v1/session",
            post(api::session::login)
                .get(api::session::me)
                .delete(api::session::logout)
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    ratelimit::sign_in,
                )),
        )
        .route("/api/v1/openapi.json", get(api::openapi));
    Router::new()
        .merge(api)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::metrics))
        .route("/", get(console::overview))
        .route("/inventory", get(console::inventory))
        .route("/inventory.csv", get(console::inventory_csv))
        .route("/identities/{id}", get(console::identity))
        .route("/findings", get(console::findings))
        .route("/findings/{id}/accept", post(console::accept))
        .route("/alerts", get(console::alerts))
        .route("/secrets", get(console::secrets))
        .route("/reviews", get(console::lifecycle::reviews))
        .route(
            "/reviews/{name}/items/{item}",
            post(console::lifecycle::decide),
        )
        .route("/approvals", get(console::lifecycle::approvals))
        .route("/plans/{id}", get(console::lifecycle::plan))
        .route("/plans/{id}/approve", post(console::lifecycle::approve))
        .route("/plans/{id}/reject", post(console::lifecycle::reject))
        .route("/plans/{id}/apply", post(console::lifecycle::apply))
        .route(
            "/login",
            get(console::login_page).post(console::login).layer(
                axum::middleware::from_fn_with_state(state.clone(), ratelimit::sign_in),
            ),
        )
        .route("/logout", post(console::logout))
        .route("/auth/oidc/login", get(oidc::login))
        .route(oidc::CALLBACK_PATH, get(oidc::callback))
        .route("/assets/{name}", get(console::asset))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authorize,
        ))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state)
}

/// Headers on every response: a CSP that allows no inline script or style and nothing from
/// elsewhere, no framing, no MIME sniffing, no referrer leaving the site.
async fn security_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The store answers.
async fn readyz(State(state): State<Arc<ServerState>>) -> Result<&'static str, ApiError> {
    warrant_app::query::ping(&state.store).await.map_err(|e| {
        tracing::warn!(error = %e, "store not ready");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the store does not answer")
    })?;
    Ok("ready")
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such resource")
}

/// Serves `router(state)` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<ServerState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The client's address keys the sign-in rate limit.
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
