//! Calls held for a person's approval, as each protocol era can wait for them.
//!
//! - A 2026-07-28 client gets an `InputRequiredResult` carrying only a `requestState`: it
//!   retries the same call with that state (the official SDKs do so with a back-off) and gets
//!   the result once a person approved, or the denial.
//! - An older client that asked for progress (`_meta.progressToken`) and accepts an SSE answer
//!   is held on the open response: a `notifications/progress` every few seconds while a person
//!   decides, then the call's result, or a denial when `approval.timeout` runs out.
//! - Any other client is answered at once with error -32004 and the approval id; the same call
//!   made again after approval goes through.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::jsonrpc::{self, RpcError};
use crate::server::{Gateway, Outcome};
use crate::state::ApprovalStatus;

/// The prefix of the `requestState` the gateway gives a held call: a state it did not give (an
/// upstream's own multi round-trip state) is forwarded upstream untouched.
pub const STATE_PREFIX: &str = "warrant-approval:";
/// How often a held call looks at its approval.
const POLL: Duration = Duration::from_millis(500);
/// How often a held older client is told the call still waits.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// The approval id of an approval-required error.
pub fn approval_of(error: &RpcError) -> Option<String> {
    if error.code != jsonrpc::APPROVAL_REQUIRED {
        return None;
    }
    error
        .data
        .as_ref()
        .and_then(|d| d.get("approval_id"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The 2026-07-28 answer to a held call: retry with this state.
pub fn input_required(approval: &str, error: &RpcError) -> Value {
    json!({
        "resultType": "input_required",
        "requestState": format!("{STATE_PREFIX}{approval}"),
        "_meta": { "dev.warrant/approval": error.data.clone().unwrap_or(Value::Null) },
    })
}

/// Removes the gateway's own `requestState` from a retried call's params (the upstream never
/// gave it).
pub fn strip_own_state(params: &mut Value) {
    if let Some(object) = params.as_object_mut()
        && object
            .get("requestState")
            .and_then(Value::as_str)
            .is_some_and(|s| s.starts_with(STATE_PREFIX))
    {
        object.remove("requestState");
    }
}

fn event(message: &Value) -> Bytes {
    Bytes::from(format!("event: message\ndata: {message}\n\n"))
}

/// What one held call needs to be decided again once a person answered.
pub struct Held {
    pub id: Value,
    pub principal: Principal,
    pub server: String,
    pub params: Value,
    pub source: SocketAddr,
    pub approval: String,
    pub progress_token: Value,
    pub reason: String,
    /// The request's headers, for the span of the call's second decision (its `traceparent`).
    pub headers: HeaderMap,
}

/// Holds an older client's call on an SSE response until a person decides or the approval
/// times out; the call is then decided again (an approval is spent as it is forwarded).
pub fn hold(gateway: Arc<Gateway>, held: Held) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    let timeout = Duration::from_secs(
        warrant_gateway::duration::parse_seconds(&gateway.config.approval.timeout)
            .ok()
            .and_then(|s| u64::try_from(s).ok())
            .unwrap_or(300),
    );
    tokio::spawn(async move {
        let started = tokio::time::Instant::now();
        let mut next_progress = started;
        let mut progress = 0u64;
        let timed_out = loop {
            if tokio::time::Instant::now() >= next_progress {
                progress += 1;
                let note = json!({
                    "jsonrpc": "2.0",
                    "method": "notifications/progress",
                    "params": {
                        "progressToken": held.progress_token,
                        "progress": progress,
                        "message": format!("waiting for a person to approve (approval {}): {}", held.approval, held.reason),
                    },
                });
                if tx.send(event(&note)).await.is_err() {
                    // The client went away: nothing to answer.
                    return;
                }
                next_progress += PROGRESS_EVERY;
            }
            match gateway.state.approvals.status(&held.approval).await {
                Ok(Some(ApprovalStatus::Approved | ApprovalStatus::Denied)) => break false,
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(approval = %held.approval, error = %e, "approval status unavailable");
                    break false;
                }
            }
            if started.elapsed() >= timeout {
                break true;
            }
            tokio::time::sleep(POLL).await;
        };
        // The call is decided a second time (or denied for want of an answer): a span and an
        // audit row of its own, as for any call.
        let span = gateway.telemetry.start(
            &held.principal,
            &held.server,
            "tools/call",
            &held.params,
            &held.headers,
            held.source,
            &held.id,
            gateway.clock.now(),
        );
        let approval = held.approval.clone();
        let handling = async {
            crate::telemetry::note_approval(&approval);
            if timed_out {
                let reason = format!(
                    "no one approved the call within {} s (approval {approval}): it is denied",
                    timeout.as_secs(),
                );
                crate::telemetry::note_decision(&warrant_gateway::Decision::Deny {
                    reason: reason.clone(),
                    policy: None,
                });
                Outcome::Error(RpcError::new(jsonrpc::DENIED, reason))
            } else {
                gateway
                    .dispatch(
                        &held.principal,
                        &held.server,
                        "tools/call",
                        held.params,
                        held.source,
                    )
                    .await
            }
        };
        let outcome = gateway.traced(span, handling).await;
        let message = match outcome {
            Outcome::Result(result) => json!({ "jsonrpc": "2.0", "id": held.id, "result": result }),
            Outcome::Error(error) => {
                json!({ "jsonrpc": "2.0", "id": held.id, "error": error.to_json() })
            }
            Outcome::Unauthorized(error) => json!({
                "jsonrpc": "2.0",
                "id": held.id,
                "error": RpcError::new(jsonrpc::DENIED, error.to_string()).to_json(),
            }),
        };
        let _ = tx.send(event(&message)).await;
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|bytes| (Ok::<_, Infallible>(bytes), rx))
    });
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
