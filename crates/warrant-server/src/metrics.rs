//! `/metrics` in the Prometheus (OpenMetrics) text format: request latency by route, and the
//! store's identities and open findings by severity, counted when scraped.

use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Arc;

use crate::error::ApiError;
use crate::state::ServerState;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route's pattern (`/api/v1/identities/{id}`), never the raw path: ids would make
    /// one series per identity.
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SeverityLabels {
    severity: String,
}

pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Histogram>,
    identities: Gauge,
    open_findings: Family<SeverityLabels, Gauge>,
    jobs: Family<JobLabels, Histogram>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    kind: String,
    outcome: String,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("warrant");
        let requests = Family::<RequestLabels, Histogram>::new_with_constructor(|| {
            // 1 ms to 10 s: the API's targets are in the tens of milliseconds.
            Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ])
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route and status",
            requests.clone(),
        );
        let identities = Gauge::default();
        registry.register(
            "identities",
            "Current (not removed) identities in the store",
            identities.clone(),
        );
        let open_findings = Family::<SeverityLabels, Gauge>::default();
        registry.register(
            "open_findings",
            "Open findings in the store, by severity",
            open_findings.clone(),
        );
        let jobs = Family::<JobLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0])
        });
        registry.register(
            "job_duration_seconds",
            "Time a background job took, by kind and outcome",
            jobs.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            requests,
            identities,
            open_findings,
            jobs,
        }
    }

    /// Records a finished job.
    pub fn job_finished(&self, kind: &str, succeeded: bool, seconds: f64) {
        self.jobs
            .get_or_create(&JobLabels {
                kind: kind.to_string(),
                outcome: if succeeded { "succeeded" } else { "failed" }.to_string(),
            })
            .observe(seconds);
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_string(),
                route: route.to_string(),
                status,
            })
            .observe(seconds);
    }
}

/// Times every request under its matched route.
pub async fn track(
    State(state): State<Arc<ServerState>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let response = next.run(request).await;
    state.metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<Arc<ServerState>>) -> Result<Response, ApiError> {
    let counts = warrant_app::query::counts(&state.store).await?;
    state
        .metrics
        .identities
        .set(i64::try_from(counts.identities).unwrap_or(i64::MAX));
    for (severity, n) in counts.open_findings {
        state
            .metrics
            .open_findings
            .get_or_create(&SeverityLabels {
                severity: severity.as_str().to_string(),
            })
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
    let mut text = String::new();
    {
        let registry = state
            .metrics
            .registry
            .lock()
            .map_err(|_| ApiError::internal())?;
        prometheus_client::encoding::text::encode(&mut text, &registry)
            .map_err(|_| ApiError::internal())?;
    }
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(response)
}
