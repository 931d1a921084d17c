//! `/api/v1/imports`, `/api/v1/scans` and `/api/v1/jobs`: uploading an export (or an archive of
//! a directory of them) runs the same import as `warrant import`, then re-assesses and saves;
//! uploading a file or archive to scan looks for leaked secrets as `warrant scan` does. Both
//! run as jobs.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;
use warrant_app::{Cancel, NoProgress};

use crate::auth::Caller;
use crate::error::{ApiError, Problem};
use crate::jobs::JobDto;
use crate::state::ServerState;

/// The largest upload accepted.
pub const MAX_UPLOAD: usize = 256 * 1024 * 1024;

/// Which file the body is.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The file's name as the provider's tool wrote it (`authorization-details.json`,
    /// `credential-report.csv`, …), or the archive's name. Formats are recognised by content;
    /// the name shows in reports.
    pub name: String,
}

/// The upload's name and bytes, or a 400 when either is missing.
fn upload(
    query: Result<Query<ImportQuery>, axum::extract::rejection::QueryRejection>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(String, Bytes), ApiError> {
    let Query(query) = query?;
    let body = body.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    let name = query.name.trim().to_string();
    if name.is_empty() {
        return Err(ApiError::bad_request("parameter `name` must name the file"));
    }
    if body.is_empty() {
        return Err(ApiError::bad_request("the upload is empty"));
    }
    Ok((name, body))
}

/// Uploads an export file, or a zip/tar/gzip archive of a directory of exports, and imports
/// it as a job; the store is then assessed again.
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports", params(ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes"),
    responses(
        (status = 202, description = "The import runs; poll the job", body = JobDto,
            headers(("location" = String, description = "The job's status resource"))),
        (status = 400, description = "No name, or an empty body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than 256 MiB", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_import(
    State(state): State<Arc<ServerState>>,
    caller: Option<axum::Extension<Caller>>,
    query: Result<Query<ImportQuery>, axum::extract::rejection::QueryRejection>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let (name, body) = upload(query, body)?;
    let who = caller.map_or_else(|| "anonymous".to_string(), |c| c.0.principal.username);
    let job = crate::jobs::spawn(&state, "import", &who, move |task| async move {
        run_import(&task, &name, body.to_vec()).await
    });
    Ok(crate::api::lifecycle::accepted(job))
}

async fn run_import(
    state: &ServerState,
    name: &str,
    data: Vec<u8>,
) -> Result<serde_json::Value, String> {
    let now = state.now();
    let settings = state.settings();
    let failed = job_error;
    let uploaded = warrant_app::upload::import_upload(
        &state.store,
        settings,
        &state.fingerprinter,
        name,
        data,
        now,
        &NoProgress,
        &Cancel::new(),
    )
    .await
    .map_err(failed)?;
    let evaluation = warrant_app::evaluate(&state.store, settings.rules(), now, &NoProgress)
        .await
        .map_err(failed)?;
    warrant_app::save(&state.store, &evaluation, now, &NoProgress)
        .await
        .map_err(failed)?;
    Ok(serde_json::json!({
        "files": uploaded.files,
        "identities_imported": uploaded.import.n_records,
        "inputs": uploaded.import.inputs,
        "notes": uploaded.import.notes,
        "skipped": uploaded.skipped,
        "assessed": true,
    }))
}

/// Uploads a file, or a zip/tar/gzip archive of a repository or directory, and scans it for
/// leaked secrets as a job: each found secret is linked to the identity it unlocks and
/// recorded (fingerprint, redacted preview and place — the upload and member — only).
#[utoipa::path(post, path = "/api/v1/scans", tag = "imports", params(ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes"),
    responses(
        (status = 202, description = "The scan runs; poll the job", body = JobDto,
            headers(("location" = String, description = "The job's status resource"))),
        (status = 400, description = "No name, or an empty body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than 256 MiB", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_scan(
    State(state): State<Arc<ServerState>>,
    caller: Option<axum::Extension<Caller>>,
    query: Result<Query<ImportQuery>, axum::extract::rejection::QueryRejection>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let (name, body) = upload(query, body)?;
    let who = caller.map_or_else(|| "anonymous".to_string(), |c| c.0.principal.username);
    let job = crate::jobs::spawn(&state, "scan", &who, move |task| async move {
        warrant_app::upload::scan_upload(
            &task.store,
            &task.fingerprinter,
            &name,
            body.to_vec(),
            task.now(),
            &Cancel::new(),
        )
        .await
        .map_err(job_error)
        .and_then(|o| serde_json::to_value(o).map_err(|e| e.to_string()))
    });
    Ok(crate::api::lifecycle::accepted(job))
}

/// What a failed job tells its caller: what a person can act on; internals go to the log.
fn job_error(e: warrant_app::AppError) -> String {
    match e {
        warrant_app::AppError::Invalid(message) => message,
        other => {
            tracing::error!(error = %other, "job failed");
            "the job failed on the server's side; it has been logged".to_string()
        }
    }
}

/// One job's status.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "imports",
    params(("id" = String, Path, description = "The job's id")),
    responses(
        (status = 200, description = "The job", body = JobDto),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job (or forgotten after a restart)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_job(
    State(state): State<Arc<ServerState>>,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Json<JobDto>, ApiError> {
    let Path(id) = id?;
    state
        .jobs
        .get(&id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no job has the id `{id}`")))
}

/// The latest jobs, newest first.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "imports",
    responses(
        (status = 200, description = "Jobs", body = Vec<JobDto>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_jobs(State(state): State<Arc<ServerState>>) -> Json<Vec<JobDto>> {
    Json(state.jobs.list())
}
