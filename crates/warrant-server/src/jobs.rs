//! Long operations run as jobs: the request that starts one answers `202 Accepted` with the
//! job's status resource at once, and the work goes on in the background. The server keeps the
//! latest jobs in memory (a restart forgets them; what they did is in the store and its audit
//! trail), with their outcome and how long they took.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// How many finished jobs are remembered.
const KEEP: usize = 200;

/// A job and how it went.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobDto {
    pub id: String,
    /// What it does (`import`).
    pub kind: String,
    /// `running`, `succeeded` or `failed`.
    pub state: String,
    /// Who started it.
    pub requested_by: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// What it did, when it succeeded.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// Why it failed.
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub struct Jobs {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    jobs: HashMap<String, JobDto>,
    order: VecDeque<String>,
}

impl Jobs {
    /// Records a new running job and returns it.
    pub fn start(&self, kind: &str, requested_by: &str, now: DateTime<Utc>) -> JobDto {
        let mut bytes = [0u8; 12];
        // A job id only needs to be unique and unguessable enough not to collide; if the
        // system's source fails, the time keeps it unique.
        if getrandom::fill(&mut bytes).is_err() {
            bytes[..8].copy_from_slice(&now.timestamp_nanos_opt().unwrap_or(0).to_le_bytes());
        }
        let job = JobDto {
            id: hex::encode(bytes),
            kind: kind.to_string(),
            state: "running".into(),
            requested_by: requested_by.to_string(),
            created_at: now,
            finished_at: None,
            result: None,
            error: None,
        };
        if let Ok(mut inner) = self.inner.lock() {
            inner.order.push_back(job.id.clone());
            inner.jobs.insert(job.id.clone(), job.clone());
            while inner.order.len() > KEEP {
                if let Some(old) = inner.order.pop_front() {
                    inner.jobs.remove(&old);
                }
            }
        }
        job
    }

    /// Records how job `id` ended.
    pub fn finish(&self, id: &str, now: DateTime<Utc>, outcome: Result<serde_json::Value, String>) {
        if let Ok(mut inner) = self.inner.lock()
            && let Some(job) = inner.jobs.get_mut(id)
        {
            job.finished_at = Some(now);
            match outcome {
                Ok(result) => {
                    job.state = "succeeded".into();
                    job.result = Some(result);
                }
                Err(error) => {
                    job.state = "failed".into();
                    job.error = Some(error);
                }
            }
        }
    }

    pub fn get(&self, id: &str) -> Option<JobDto> {
        self.inner.lock().ok()?.jobs.get(id).cloned()
    }

    /// The remembered jobs, newest first.
    pub fn list(&self) -> Vec<JobDto> {
        let Ok(inner) = self.inner.lock() else {
            return Vec::new();
        };
        inner
            .order
            .iter()
            .rev()
            .filter_map(|id| inner.jobs.get(id).cloned())
            .collect()
    }
}

/// Starts `work` as a job of `kind` requested by `who`: it runs in the background, its outcome
/// and duration are recorded (and counted in the metrics); returns the job as it starts.
pub fn spawn<F>(
    state: &std::sync::Arc<crate::state::ServerState>,
    kind: &'static str,
    who: &str,
    work: impl FnOnce(std::sync::Arc<crate::state::ServerState>) -> F,
) -> JobDto
where
    F: std::future::Future<Output = Result<serde_json::Value, String>> + Send + 'static,
{
    let job = state.jobs.start(kind, who, state.now());
    let id = job.id.clone();
    let task = state.clone();
    let running = work(state.clone());
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        let outcome = running.await;
        let ok = outcome.is_ok();
        task.jobs.finish(&id, task.now(), outcome);
        task.metrics
            .job_finished(kind, ok, started.elapsed().as_secs_f64());
    });
    job
}
