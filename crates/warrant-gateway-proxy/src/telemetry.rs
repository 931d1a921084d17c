//! Every call through the gateway as an OpenTelemetry span (issue 15 §6), exported off the
//! request path to a JSONL file, an OTLP/HTTP collector and the audit trail.
//!
//! A `tools/call` is a GenAI `execute_tool` span (`gen_ai.operation.name`, `gen_ai.tool.name`,
//! `gen_ai.agent.id`, …) with the MCP attributes (`mcp.method.name`, `mcp.session.id`, …), so
//! `warrant ingest` reads the gateway's traffic as agent tool calls; other decided methods are
//! plain MCP server spans. What the gateway alone knows is under `warrant.gateway.*`: the
//! decision and the policies that made it, the approval, the arguments' digest and a redacted
//! view (never the arguments), the task, the result's size. Refused calls are spans too
//! (status error, with the reason), so the trail holds every attempt.
//!
//! The span's trace and parent come from the agent's W3C `traceparent` (the header, else
//! `params._meta.traceparent` as MCP's conventions carry it); otherwise a new trace starts.
//!
//! The request path only queues (`try_send` on a bounded channel): a background task digests
//! and redacts the arguments and hands batches to one task per sink, each with its own bounded
//! queue, so a slow collector delays neither calls nor the other sinks. What does not fit is
//! dropped, counted and logged.
//!
//! OTLP is built here as OTLP-JSON (the protocol's documented JSON mapping of
//! `ExportTraceServiceRequest`) and POSTed with reqwest, which rmcp already brings: the
//! `opentelemetry-otlp` exporter would bring its own SDK pipeline and batch processor (spans
//! are made from a tracer, not from records with given ids and times) and cannot write the
//! JSONL file `warrant ingest` reads, which must be the same bytes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};
use warrant_gateway::Decision;

use crate::auth::Principal;
use crate::jsonrpc;
use crate::redact::Redactor;
use crate::state::AuditTrail;

/// The instrumentation scope named in every export.
const SCOPE_NAME: &str = "warrant-gateway-proxy";
/// Calls per batch handed to the sinks (one JSONL line, one POST, one transaction).
const MAX_BATCH: usize = 512;
/// How long calls gather before a batch goes to the sinks (a flush sends at once).
const LINGER: Duration = Duration::from_millis(50);
/// Batches each sink may have waiting.
const SINK_QUEUE: usize = 16;
/// How long one POST to the collector may take.
const OTLP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `flush` waits for the sinks.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(15);
/// The longest redacted view of the arguments kept in a span (bytes of JSON text).
const MAX_ARGUMENTS_VIEW: usize = 4096;
/// OTLP span kind SERVER: the gateway receives the agent's request.
const SPAN_KIND_SERVER: u8 = 2;
/// OTLP status code ERROR.
const STATUS_ERROR: u8 = 2;

/// What the gateway decided about a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Allow,
    Deny,
    ApprovalRequired,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
            Verdict::ApprovalRequired => "approval_required",
        }
    }
}

/// Why a call did not end in a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallError {
    /// The span's `error.type`: `denied`, `approval_required`, `unauthorized`, `tool_error`
    /// (the tool ran and reported an error), or the JSON-RPC error code.
    pub kind: String,
    /// The JSON-RPC error code answered, if any.
    pub code: Option<i64>,
    /// The message the agent got (the gateway's reason, or the upstream's error).
    pub message: String,
}

/// One call through the gateway, as exported: never the raw arguments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GatewayCall {
    /// 32 hex digits: the agent's trace when it sent a `traceparent`, else a new one.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// The agent's span (from `traceparent`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<String>,
    pub start: DateTime<Utc>,
    pub latency_us: u64,
    pub agent: String,
    pub task: Option<String>,
    /// The upstream (`/mcp/{server}`).
    pub server: String,
    /// The MCP method (`tools/call`, `tools/list`, `resources/read`, …).
    pub method: String,
    /// The tool's name at the upstream (`tools/call`).
    pub tool: Option<String>,
    /// `resources/read`'s URI.
    pub resource_uri: Option<String>,
    /// `prompts/get`'s prompt.
    pub prompt: Option<String>,
    /// The JSON-RPC request id.
    pub request_id: Option<String>,
    /// `Mcp-Session-Id` (2025-11-25 sessions).
    pub session: Option<String>,
    /// `Mcp-Protocol-Version`.
    pub protocol_version: Option<String>,
    pub client_address: Option<String>,
    /// SHA-256 (hex) of the canonical JSON of the arguments, as held calls are stored.
    pub arguments_sha256: Option<String>,
    /// The arguments with secrets redacted (the scanner's rules), as JSON text, cut at 4 KiB.
    pub arguments_redacted: Option<String>,
    /// `None` when the call failed before a decision (unknown method, missing parameters).
    pub decision: Option<Verdict>,
    /// The policies that decided (`task-token` for the task token's own limits).
    pub policies: Vec<String>,
    /// Why a call was refused or held.
    pub reason: Option<String>,
    pub approval_id: Option<String>,
    /// `pending`, `approved` (forwarded, the approval spent) or `denied`.
    pub approval_status: Option<String>,
    /// Bytes of the JSON result the agent got.
    pub result_bytes: Option<u64>,
    pub error: Option<CallError>,
}

impl GatewayCall {
    /// `server::tool` for a tool call, else the server and what was asked for.
    pub fn subject(&self) -> String {
        match (&self.tool, &self.prompt, &self.resource_uri) {
            (Some(tool), _, _) => format!("{}::{tool}", self.server),
            (_, Some(prompt), _) => format!("{}::{prompt}", self.server),
            (_, _, Some(uri)) => format!("{} {uri}", self.server),
            _ => format!("{} {}", self.server, self.method),
        }
    }

    /// The audit action: `gateway.call.allow|deny|approval_required`, or `gateway.call`
    /// when no decision was reached.
    pub fn audit_action(&self) -> String {
        match self.decision {
            Some(verdict) => format!("gateway.call.{}", verdict.as_str()),
            None => "gateway.call".to_string(),
        }
    }
}

/// SHA-256 (hex) of the canonical JSON of `arguments`: the digest held calls carry too.
pub fn arguments_digest(arguments: &Value) -> String {
    hex::encode(Sha256::digest(
        crate::server::canonical_json(arguments).as_bytes(),
    ))
}

// ---------------------------------------------------------------------------------------------
// W3C trace context.

/// The trace and parent span of a W3C `traceparent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: String,
    pub parent_span_id: String,
}

fn is_lower_hex(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Reads a `traceparent` (`00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`). A later
/// version is read by the same first four fields, as the recommendation asks; an invalid or
/// all-zero id is ignored (a new trace starts).
pub fn parse_traceparent(text: &str) -> Option<TraceParent> {
    let text = text.trim();
    let mut fields = text.split('-');
    let version = fields.next()?;
    let trace_id = fields.next()?;
    let parent = fields.next()?;
    let flags = fields.next()?;
    let rest = fields.next();
    let valid = version.len() == 2
        && is_lower_hex(version)
        && version != "ff"
        && trace_id.len() == 32
        && is_lower_hex(trace_id)
        && trace_id.bytes().any(|b| b != b'0')
        && parent.len() == 16
        && is_lower_hex(parent)
        && parent.bytes().any(|b| b != b'0')
        && flags.len() == 2
        && is_lower_hex(flags)
        && (version != "00" || rest.is_none());
    valid.then(|| TraceParent {
        trace_id: trace_id.to_string(),
        parent_span_id: parent.to_string(),
    })
}

/// Random hex of `bytes` bytes (≤ 16), from a v4 UUID's random bits.
fn random_hex(bytes: usize) -> String {
    let uuid = uuid::Uuid::new_v4();
    hex::encode(uuid.as_bytes().get(..bytes).unwrap_or(uuid.as_bytes()))
}

// ---------------------------------------------------------------------------------------------
// What the handlers note while a call is decided.

/// The decision of the call being handled, noted where the decision is logged.
#[derive(Debug, Default)]
pub(crate) struct Notes {
    decision: Option<Verdict>,
    policies: Vec<String>,
    reason: Option<String>,
    approval_id: Option<String>,
}

tokio::task_local! {
    /// Set around a call's handling when telemetry follows it: the decision points note into
    /// it (through `note_decision`, beside their log line) without a parameter threaded
    /// through every handler, so a decision point added later is recorded too.
    static NOTES: Arc<Mutex<Notes>>;
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Notes the decision of the call being handled (nothing when telemetry is off).
pub(crate) fn note_decision(decision: &Decision) {
    let _ = NOTES.try_with(|notes| {
        let mut notes = lock(notes);
        let (verdict, reason, policy) = match decision {
            Decision::Allow => (Verdict::Allow, None, None),
            Decision::Deny { reason, policy } => (Verdict::Deny, Some(reason), policy.as_ref()),
            Decision::RequireApproval { reason, policy } => {
                (Verdict::ApprovalRequired, Some(reason), policy.as_ref())
            }
        };
        notes.decision = Some(verdict);
        notes.reason = reason.cloned();
        if let Some(policy) = policy
            && !notes.policies.contains(policy)
        {
            notes.policies.push(policy.clone());
        }
    });
}

/// Notes the policies that permitted the call being handled.
pub(crate) fn note_permits(names: &[String]) {
    let _ = NOTES.try_with(|notes| {
        let mut notes = lock(notes);
        for name in names {
            if !notes.policies.contains(name) {
                notes.policies.push(name.clone());
            }
        }
    });
}

/// Notes the approval id of the call being handled.
pub(crate) fn note_approval(id: &str) {
    let _ = NOTES.try_with(|notes| lock(notes).approval_id = Some(id.to_string()));
}

/// Runs `handling` with a place for its notes, and returns them with its output.
pub(crate) async fn noting<F: std::future::Future>(handling: F) -> (F::Output, Notes) {
    let notes = Arc::new(Mutex::new(Notes::default()));
    let output = NOTES.scope(notes.clone(), handling).await;
    let notes = std::mem::take(&mut *lock(&notes));
    (output, notes)
}

/// How a call's handling ended, as the span tells it.
pub(crate) enum End<'a> {
    Result(&'a Value),
    Error { code: i64, message: &'a str },
    Unauthorized(String),
}

/// A call whose span has started.
pub(crate) struct Started {
    call: GatewayCall,
    /// Digested and redacted off the request path, then dropped.
    arguments: Option<Value>,
    at: Instant,
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn id_text(id: &Value) -> Option<String> {
    match id {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Counts bytes written, to size a result without a second copy of it.
struct Counter(u64);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn json_len(value: &Value) -> u64 {
    let mut counter = Counter(0);
    // Writing a `Value` to a writer that never fails cannot fail.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

// ---------------------------------------------------------------------------------------------
// Export.

/// Where spans go.
#[derive(Clone)]
pub enum Sink {
    /// Appends one OTLP-JSON export per line.
    Jsonl(PathBuf),
    /// POSTs OTLP-JSON to a collector's `/v1/traces`.
    Otlp {
        url: String,
        /// Sent with every POST (values from the environment: never logged).
        headers: reqwest::header::HeaderMap,
        client: reqwest::Client,
    },
    /// Appends to the audit trail.
    Audit(Arc<dyn AuditTrail>),
}

impl Sink {
    fn name(&self) -> &'static str {
        match self {
            Sink::Jsonl(_) => "jsonl",
            Sink::Otlp { .. } => "otlp",
            Sink::Audit(_) => "audit",
        }
    }
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sink::Jsonl(path) => write!(f, "Jsonl({})", path.display()),
            Sink::Otlp { url, .. } => write!(f, "Otlp({url})"),
            Sink::Audit(_) => f.write_str("Audit"),
        }
    }
}

/// Why telemetry could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("telemetry.otlp_headers_env: `{0}` is not a valid header name")]
    HeaderName(String),
    #[error("telemetry.otlp_headers_env: the value of header `{0}` is not valid in a header")]
    HeaderValue(String),
    #[error("the OTLP client cannot be built: {0}")]
    Client(String),
}

/// The OTLP sink for `url` with `headers` (name, value).
pub fn otlp_sink(url: &str, headers: &[(String, String)]) -> Result<Sink, TelemetryError> {
    let mut map = reqwest::header::HeaderMap::new();
    for (name, value) in headers {
        let header_name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| TelemetryError::HeaderName(name.clone()))?;
        let mut header_value = reqwest::header::HeaderValue::from_str(value)
            .map_err(|_| TelemetryError::HeaderValue(name.clone()))?;
        header_value.set_sensitive(true);
        map.insert(header_name, header_value);
    }
    let client = reqwest::Client::builder()
        .timeout(OTLP_TIMEOUT)
        .build()
        .map_err(|e| TelemetryError::Client(e.to_string()))?;
    Ok(Sink::Otlp {
        url: url.to_string(),
        headers: map,
        client,
    })
}

/// Counts of what export lost.
#[derive(Debug, Default)]
struct Stats {
    /// Calls not queued, or not handed to a sink, because a queue was full.
    dropped: AtomicU64,
    /// Calls a sink failed to export (an I/O error, a collector's refusal).
    failed: AtomicU64,
}

impl Stats {
    fn drop_calls(&self, n: u64, sink: &str) {
        let before = self.dropped.fetch_add(n, Ordering::Relaxed);
        // The first drop, then one line per thousand: a stuck exporter must not flood the log.
        if before == 0 || before / 1000 != (before + n) / 1000 {
            tracing::warn!(
                sink,
                dropped_total = before + n,
                "telemetry queue full: gateway spans dropped (calls are not delayed for telemetry)"
            );
        }
    }

    fn fail_calls(&self, n: u64, sink: &str, error: &str) {
        let total = self.failed.fetch_add(n, Ordering::Relaxed) + n;
        tracing::warn!(
            sink,
            spans = n,
            failed_total = total,
            error,
            "gateway spans not exported"
        );
    }
}

enum Message {
    Call(Box<Started>),
    Flush(oneshot::Sender<()>),
}

enum SinkMessage {
    Calls(Arc<Vec<GatewayCall>>),
    Flush(oneshot::Sender<()>),
}

/// The resource every export names.
#[derive(Debug, Clone)]
struct Resource {
    service_name: String,
}

/// The gateway's span exporter. Inactive (nothing recorded) without sinks.
pub struct Telemetry {
    /// The sinks, until the first call starts the export tasks.
    sinks: Mutex<Vec<Sink>>,
    active: bool,
    queue: usize,
    resource: Resource,
    redactor: Option<Arc<Redactor>>,
    sender: OnceLock<Option<mpsc::Sender<Message>>>,
    stats: Arc<Stats>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("sinks", &*lock(&self.sinks))
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

impl Telemetry {
    /// No sinks: calls are not recorded.
    pub fn disabled() -> Telemetry {
        Telemetry::new(
            Vec::new(),
            warrant_gateway::config::DEFAULT_SERVICE_NAME,
            1,
            None,
        )
    }

    /// Exports to `sinks` as `service_name`, with up to `queue` calls waiting; `redactor`
    /// makes the arguments' redacted view (without one, spans carry only their digest).
    pub fn new(
        sinks: Vec<Sink>,
        service_name: &str,
        queue: usize,
        redactor: Option<Arc<Redactor>>,
    ) -> Telemetry {
        Telemetry {
            active: !sinks.is_empty(),
            sinks: Mutex::new(sinks),
            queue: queue.max(1),
            resource: Resource {
                service_name: service_name.to_string(),
            },
            redactor,
            sender: OnceLock::new(),
            stats: Arc::default(),
        }
    }

    /// Adds a sink (before the gateway serves: sinks are fixed once export starts).
    pub fn add_sink(&mut self, sink: Sink) {
        if self.sender.get().is_some() {
            tracing::warn!(
                sink = sink.name(),
                "telemetry already started: sink not added"
            );
            return;
        }
        lock(&self.sinks).push(sink);
        self.active = true;
    }

    /// Whether calls are recorded.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Spans dropped because a queue was full, and spans a sink failed to export.
    pub fn lost(&self) -> (u64, u64) {
        (
            self.stats.dropped.load(Ordering::Relaxed),
            self.stats.failed.load(Ordering::Relaxed),
        )
    }

    /// Starts a call's span (`None` when telemetry is off).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start(
        &self,
        principal: &Principal,
        server: &str,
        method: &str,
        params: &Value,
        headers: &HeaderMap,
        source: SocketAddr,
        id: &Value,
        now: DateTime<Utc>,
    ) -> Option<Started> {
        if !self.active {
            return None;
        }
        let parent = header(headers, "traceparent")
            .or_else(|| params.pointer("/_meta/traceparent").and_then(Value::as_str))
            .and_then(parse_traceparent);
        let name = params
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string);
        let arguments = match method {
            "tools/call" | "prompts/get" => params.get("arguments").cloned(),
            _ => None,
        };
        let call = GatewayCall {
            trace_id: parent
                .as_ref()
                .map_or_else(|| random_hex(16), |p| p.trace_id.clone()),
            span_id: random_hex(8),
            parent_span_id: parent.map(|p| p.parent_span_id),
            start: now,
            latency_us: 0,
            agent: principal.agent.clone(),
            task: principal.task.clone(),
            server: server.to_string(),
            method: method.to_string(),
            tool: if method == "tools/call" {
                name.clone()
            } else {
                None
            },
            resource_uri: if method == "resources/read" {
                params
                    .get("uri")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            } else {
                None
            },
            prompt: if method == "prompts/get" { name } else { None },
            request_id: id_text(id),
            session: header(headers, "mcp-session-id").map(str::to_string),
            protocol_version: header(headers, "mcp-protocol-version").map(str::to_string),
            client_address: Some(source.ip().to_string()),
            arguments_sha256: None,
            arguments_redacted: None,
            decision: None,
            policies: Vec::new(),
            reason: None,
            approval_id: None,
            approval_status: None,
            result_bytes: None,
            error: None,
        };
        Some(Started {
            call,
            arguments,
            at: Instant::now(),
        })
    }

    /// Ends a call's span and queues it for export: never waits.
    pub(crate) fn finish(&self, started: Started, notes: Notes, end: End<'_>) {
        let Started {
            mut call,
            arguments,
            at,
        } = started;
        call.latency_us = u64::try_from(at.elapsed().as_micros()).unwrap_or(u64::MAX);
        call.decision = notes.decision;
        call.policies = notes.policies;
        call.reason = notes.reason;
        match end {
            End::Result(result) => {
                call.result_bytes = Some(json_len(result));
                // The tool ran and said it failed (MCP's conventions: `tool_error`).
                if result.get("isError").and_then(Value::as_bool) == Some(true) {
                    call.error = Some(CallError {
                        kind: "tool_error".to_string(),
                        code: None,
                        message: "the tool reported an error".to_string(),
                    });
                }
            }
            End::Error { code, message } => {
                let kind = match code {
                    jsonrpc::DENIED => "denied".to_string(),
                    jsonrpc::APPROVAL_REQUIRED => "approval_required".to_string(),
                    other => other.to_string(),
                };
                call.error = Some(CallError {
                    kind,
                    code: Some(code),
                    message: message.to_string(),
                });
            }
            End::Unauthorized(message) => {
                call.error = Some(CallError {
                    kind: "unauthorized".to_string(),
                    code: None,
                    message,
                });
            }
        }
        if let Some(id) = notes.approval_id {
            call.approval_status = Some(
                match call.error.as_ref().and_then(|e| e.code) {
                    None => "approved",
                    Some(jsonrpc::APPROVAL_REQUIRED) => "pending",
                    Some(_) => "denied",
                }
                .to_string(),
            );
            call.approval_id = Some(id);
        }
        self.queue(Started {
            call,
            arguments,
            at,
        });
    }

    fn queue(&self, started: Started) {
        let Some(sender) = self.sender() else {
            return;
        };
        if sender.try_send(Message::Call(Box::new(started))).is_err() {
            self.stats.drop_calls(1, "queue");
        }
    }

    /// The export tasks' queue, started on first use (inside the runtime serving calls).
    fn sender(&self) -> Option<&mpsc::Sender<Message>> {
        if self.sender.get().is_none() && tokio::runtime::Handle::try_current().is_err() {
            return None;
        }
        self.sender.get_or_init(|| self.spawn()).as_ref()
    }

    fn spawn(&self) -> Option<mpsc::Sender<Message>> {
        let sinks = std::mem::take(&mut *lock(&self.sinks));
        if sinks.is_empty() {
            return None;
        }
        let mut outlets = Vec::new();
        for sink in sinks {
            let (tx, rx) = mpsc::channel(SINK_QUEUE);
            let name = sink.name();
            tokio::spawn(run_sink(
                sink,
                rx,
                self.resource.clone(),
                self.stats.clone(),
            ));
            outlets.push((name, tx));
        }
        let (tx, rx) = mpsc::channel(self.queue);
        tokio::spawn(prepare(
            rx,
            outlets,
            self.redactor.clone(),
            self.stats.clone(),
        ));
        Some(tx)
    }

    /// Waits (up to 15 s) until every call queued so far has been exported.
    pub async fn flush(&self) {
        let Some(sender) = self.sender.get().and_then(Option::as_ref) else {
            return;
        };
        let (tx, rx) = oneshot::channel();
        let done = async {
            if sender.send(Message::Flush(tx)).await.is_ok() {
                let _ = rx.await;
            }
        };
        if tokio::time::timeout(FLUSH_TIMEOUT, done).await.is_err() {
            tracing::warn!("telemetry flush timed out: some gateway spans may be lost");
        }
    }
}

/// Digests and redacts the arguments, then hands batches to every sink.
async fn prepare(
    mut rx: mpsc::Receiver<Message>,
    outlets: Vec<(&'static str, mpsc::Sender<SinkMessage>)>,
    redactor: Option<Arc<Redactor>>,
    stats: Arc<Stats>,
) {
    let mut messages = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut messages, MAX_BATCH).await > 0 {
        // Gather the calls of the next moment too: one write (a transaction, a POST) for many
        // calls, not one per call, unless a flush is waiting.
        let deadline = tokio::time::Instant::now() + LINGER;
        while messages.len() < MAX_BATCH && !messages.iter().any(|m| matches!(m, Message::Flush(_)))
        {
            let room = MAX_BATCH - messages.len();
            match tokio::time::timeout_at(deadline, rx.recv_many(&mut messages, room)).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let mut batch = Vec::new();
        for message in messages.drain(..) {
            match message {
                Message::Call(started) => batch.push(prepared(*started, redactor.as_deref())),
                Message::Flush(done) => {
                    hand_over(&outlets, std::mem::take(&mut batch), &stats);
                    let mut waits = Vec::new();
                    for (_, outlet) in &outlets {
                        let (tx, rx) = oneshot::channel();
                        if outlet.send(SinkMessage::Flush(tx)).await.is_ok() {
                            waits.push(rx);
                        }
                    }
                    for wait in waits {
                        let _ = wait.await;
                    }
                    let _ = done.send(());
                }
            }
        }
        hand_over(&outlets, batch, &stats);
    }
}

fn prepared(started: Started, redactor: Option<&Redactor>) -> GatewayCall {
    let mut call = started.call;
    if let Some(arguments) = &started.arguments {
        call.arguments_sha256 = Some(arguments_digest(arguments));
        if let Some(redactor) = redactor {
            let (view, _) = redactor.redact(arguments);
            call.arguments_redacted = Some(truncated(view.to_string(), MAX_ARGUMENTS_VIEW));
        }
    }
    call
}

fn truncated(mut text: String, limit: usize) -> String {
    if text.len() <= limit {
        return text;
    }
    let mut cut = limit;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    text.push_str("…[truncated]");
    text
}

fn hand_over(
    outlets: &[(&'static str, mpsc::Sender<SinkMessage>)],
    batch: Vec<GatewayCall>,
    stats: &Stats,
) {
    if batch.is_empty() {
        return;
    }
    let batch = Arc::new(batch);
    for (name, outlet) in outlets {
        if outlet.try_send(SinkMessage::Calls(batch.clone())).is_err() {
            stats.drop_calls(batch.len() as u64, name);
        }
    }
}

async fn run_sink(
    sink: Sink,
    mut rx: mpsc::Receiver<SinkMessage>,
    resource: Resource,
    stats: Arc<Stats>,
) {
    let mut file: Option<tokio::fs::File> = None;
    while let Some(message) = rx.recv().await {
        let calls = match message {
            SinkMessage::Calls(calls) => calls,
            SinkMessage::Flush(done) => {
                let _ = done.send(());
                continue;
            }
        };
        let result = match &sink {
            Sink::Jsonl(path) => write_jsonl(&mut file, path, &resource, &calls).await,
            Sink::Otlp {
                url,
                headers,
                client,
            } => post_otlp(client, url, headers, &resource, &calls).await,
            Sink::Audit(trail) => trail.append(&calls).await.map_err(|e| e.to_string()),
        };
        if let Err(error) = result {
            stats.fail_calls(calls.len() as u64, sink.name(), &error);
        }
    }
}

async fn write_jsonl(
    file: &mut Option<tokio::fs::File>,
    path: &std::path::Path,
    resource: &Resource,
    calls: &[GatewayCall],
) -> Result<(), String> {
    use tokio::io::AsyncWriteExt;
    if file.is_none() {
        let mut options = tokio::fs::OpenOptions::new();
        options.create(true).append(true);
        // Spans name agents, tasks and (redacted) arguments: readable by the gateway's user only.
        #[cfg(unix)]
        options.mode(0o600);
        *file = Some(
            options
                .open(path)
                .await
                .map_err(|e| format!("opening {}: {e}", path.display()))?,
        );
    }
    let mut line = export(resource, calls).to_string();
    line.push('\n');
    let Some(open) = file.as_mut() else {
        return Ok(());
    };
    let written = async {
        open.write_all(line.as_bytes()).await?;
        open.flush().await
    }
    .await;
    if let Err(e) = written {
        // Open it again next time (the file may have been rotated or its disk freed).
        *file = None;
        return Err(format!("writing {}: {e}", path.display()));
    }
    Ok(())
}

async fn post_otlp(
    client: &reqwest::Client,
    url: &str,
    headers: &reqwest::header::HeaderMap,
    resource: &Resource,
    calls: &[GatewayCall],
) -> Result<(), String> {
    let response = client
        .post(url)
        .headers(headers.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(export(resource, calls).to_string())
        .send()
        .await
        .map_err(|e| format!("POST {url}: {e}"))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("POST {url}: the collector answered {status}"))
    }
}

// ---------------------------------------------------------------------------------------------
// OTLP-JSON.

fn string(key: &str, value: &str) -> Value {
    json!({"key": key, "value": {"stringValue": value}})
}

fn int(key: &str, value: i64) -> Value {
    // OTLP-JSON writes 64-bit integers as strings.
    json!({"key": key, "value": {"intValue": value.to_string()}})
}

fn strings(key: &str, values: &[String]) -> Value {
    let values: Vec<Value> = values.iter().map(|v| json!({"stringValue": v})).collect();
    json!({"key": key, "value": {"arrayValue": {"values": values}}})
}

fn nanos(at: DateTime<Utc>) -> u64 {
    at.timestamp_nanos_opt()
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0)
}

/// One `ExportTraceServiceRequest` holding `calls`, from the service `resource` names.
fn export(resource: &Resource, calls: &[GatewayCall]) -> Value {
    let spans: Vec<Value> = calls.iter().map(span).collect();
    json!({"resourceSpans": [{
        "resource": {"attributes": [
            string("service.name", &resource.service_name),
            string("service.version", env!("CARGO_PKG_VERSION")),
        ]},
        "scopeSpans": [{
            "scope": {"name": SCOPE_NAME, "version": env!("CARGO_PKG_VERSION")},
            "spans": spans,
        }],
    }]})
}

/// One call as an OTLP span.
pub fn span(call: &GatewayCall) -> Value {
    let mut attributes = Vec::new();
    let tool_call = call.method == "tools/call";
    if tool_call {
        attributes.push(string("gen_ai.operation.name", "execute_tool"));
    }
    if let Some(tool) = &call.tool {
        attributes.push(string("gen_ai.tool.name", tool));
    }
    if let Some(prompt) = &call.prompt {
        attributes.push(string("gen_ai.prompt.name", prompt));
    }
    if let Some(id) = &call.request_id {
        attributes.push(string("jsonrpc.request.id", id));
        if tool_call {
            attributes.push(string("gen_ai.tool.call.id", id));
        }
    }
    attributes.push(string("gen_ai.agent.id", &call.agent));
    attributes.push(string("mcp.method.name", &call.method));
    if let Some(session) = &call.session {
        attributes.push(string("mcp.session.id", session));
    }
    if let Some(version) = &call.protocol_version {
        attributes.push(string("mcp.protocol.version", version));
    }
    if let Some(uri) = &call.resource_uri {
        attributes.push(string("mcp.resource.uri", uri));
    }
    // The upstream is named as agents and policies address it (`/mcp/{server}`,
    // `server::tool`); its URL or command is the gateway's configuration.
    attributes.push(string("server.address", &call.server));
    if let Some(client) = &call.client_address {
        attributes.push(string("client.address", client));
    }
    if let Some(task) = &call.task {
        attributes.push(string("warrant.gateway.task", task));
    }
    if let Some(decision) = call.decision {
        attributes.push(string("warrant.gateway.decision", decision.as_str()));
    }
    if !call.policies.is_empty() {
        attributes.push(strings("warrant.gateway.policies", &call.policies));
    }
    if let Some(reason) = &call.reason {
        attributes.push(string("warrant.gateway.reason", reason));
    }
    if let Some(id) = &call.approval_id {
        attributes.push(string("warrant.gateway.approval.id", id));
    }
    if let Some(status) = &call.approval_status {
        attributes.push(string("warrant.gateway.approval.status", status));
    }
    if let Some(digest) = &call.arguments_sha256 {
        attributes.push(string("warrant.gateway.args.sha256", digest));
    }
    if let Some(view) = &call.arguments_redacted {
        attributes.push(string("warrant.gateway.args.redacted", view));
    }
    if let Some(bytes) = call.result_bytes {
        attributes.push(int(
            "warrant.gateway.result.bytes",
            i64::try_from(bytes).unwrap_or(i64::MAX),
        ));
    }
    let mut status = None;
    if let Some(error) = &call.error {
        attributes.push(string("error.type", &error.kind));
        if let Some(code) = error.code {
            attributes.push(string("rpc.response.status_code", &code.to_string()));
        }
        status = Some(json!({"code": STATUS_ERROR, "message": error.message}));
    }
    let name = match (&call.tool, &call.prompt) {
        (Some(target), _) | (_, Some(target)) => format!("{} {target}", call.method),
        _ => call.method.clone(),
    };
    let start = nanos(call.start);
    let end = start.saturating_add(call.latency_us.saturating_mul(1000));
    let mut span = Map::new();
    span.insert("traceId".into(), Value::from(call.trace_id.as_str()));
    span.insert("spanId".into(), Value::from(call.span_id.as_str()));
    if let Some(parent) = &call.parent_span_id {
        span.insert("parentSpanId".into(), Value::from(parent.as_str()));
    }
    span.insert("name".into(), Value::from(name));
    span.insert("kind".into(), Value::from(SPAN_KIND_SERVER));
    span.insert("startTimeUnixNano".into(), Value::from(start.to_string()));
    span.insert("endTimeUnixNano".into(), Value::from(end.to_string()));
    span.insert("attributes".into(), Value::Array(attributes));
    if let Some(status) = status {
        span.insert("status".into(), status);
    }
    Value::Object(span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::MemoryAuditTrail;

    fn attributes(span: &Value) -> BTreeMap<String, Value> {
        span["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|kv| (kv["key"].as_str().unwrap().to_string(), kv["value"].clone()))
            .collect()
    }

    use std::collections::BTreeMap;

    fn principal() -> Principal {
        Principal {
            agent: "triage-bot".into(),
            task: Some("ticket 123".into()),
            task_key: Some("k".into()),
            token: None,
            revocation_ids: Vec::new(),
            credential: crate::auth::Credential::TaskToken,
            token_id: None,
            checked_at: std::time::Instant::now(),
            taint: None,
        }
    }

    #[test]
    fn traceparent_is_read_strictly() {
        let parent =
            parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
        assert_eq!(parent.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(parent.parent_span_id, "00f067aa0ba902b7");
        // A later version may add fields; version 00 may not.
        assert!(
            parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x")
                .is_some()
        );
        for bad in [
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "garbage",
        ] {
            assert!(parse_traceparent(bad).is_none(), "{bad}");
        }
    }

    fn call() -> GatewayCall {
        GatewayCall {
            trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
            span_id: "00f067aa0ba902b7".into(),
            parent_span_id: Some("1111111111111111".into()),
            start: DateTime::from_timestamp(1_765_100_000, 5).unwrap(),
            latency_us: 1500,
            agent: "triage-bot".into(),
            task: Some("ticket 123".into()),
            server: "payments".into(),
            method: "tools/call".into(),
            tool: Some("refund".into()),
            resource_uri: None,
            prompt: None,
            request_id: Some("7".into()),
            session: Some("s1".into()),
            protocol_version: None,
            client_address: Some("127.0.0.1".into()),
            arguments_sha256: Some("ab".repeat(32)),
            arguments_redacted: Some(r#"{"amount":500}"#.into()),
            decision: Some(Verdict::ApprovalRequired),
            policies: vec!["refund-over-100".into()],
            reason: Some("refunds over 100 need a human".into()),
            approval_id: Some("cd".repeat(32)),
            approval_status: Some("pending".into()),
            result_bytes: None,
            error: Some(CallError {
                kind: "approval_required".into(),
                code: Some(jsonrpc::APPROVAL_REQUIRED),
                message: "approval required".into(),
            }),
        }
    }

    #[test]
    fn a_tool_call_is_a_genai_execute_tool_server_span() {
        let span = span(&call());
        assert_eq!(span["name"], "tools/call refund");
        assert_eq!(span["kind"], 2);
        assert_eq!(span["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(span["parentSpanId"], "1111111111111111");
        assert_eq!(span["startTimeUnixNano"], "1765100000000000005");
        assert_eq!(span["endTimeUnixNano"], "1765100000001500005");
        assert_eq!(span["status"]["code"], 2);
        assert_eq!(span["status"]["message"], "approval required");
        let a = attributes(&span);
        let text = |key: &str| a[key]["stringValue"].as_str().unwrap().to_string();
        assert_eq!(text("gen_ai.operation.name"), "execute_tool");
        assert_eq!(text("gen_ai.tool.name"), "refund");
        assert_eq!(text("gen_ai.tool.call.id"), "7");
        assert_eq!(text("gen_ai.agent.id"), "triage-bot");
        assert_eq!(text("mcp.method.name"), "tools/call");
        assert_eq!(text("mcp.session.id"), "s1");
        assert_eq!(text("server.address"), "payments");
        assert_eq!(text("client.address"), "127.0.0.1");
        assert_eq!(text("error.type"), "approval_required");
        assert_eq!(text("rpc.response.status_code"), "-32004");
        assert_eq!(text("warrant.gateway.decision"), "approval_required");
        assert_eq!(text("warrant.gateway.task"), "ticket 123");
        assert_eq!(text("warrant.gateway.approval.id"), "cd".repeat(32));
        assert_eq!(text("warrant.gateway.approval.status"), "pending");
        assert_eq!(text("warrant.gateway.args.sha256"), "ab".repeat(32));
        assert_eq!(
            a["warrant.gateway.policies"]["arrayValue"]["values"][0]["stringValue"],
            "refund-over-100"
        );
        assert!(!a.contains_key("warrant.gateway.result.bytes"));

        // An allowed call: no error, no status (unset), its result's size.
        let allowed = GatewayCall {
            decision: Some(Verdict::Allow),
            policies: Vec::new(),
            reason: None,
            approval_id: None,
            approval_status: None,
            error: None,
            result_bytes: Some(42),
            ..call()
        };
        let span = super::span(&allowed);
        assert!(span.get("status").is_none());
        let a = attributes(&span);
        assert_eq!(a["warrant.gateway.result.bytes"]["intValue"], "42");
        assert!(!a.contains_key("error.type"));

        // Other methods are MCP spans, not tool executions.
        let list = GatewayCall {
            method: "tools/list".into(),
            tool: None,
            ..allowed
        };
        let span = super::span(&list);
        assert_eq!(span["name"], "tools/list");
        assert!(!attributes(&span).contains_key("gen_ai.operation.name"));
    }

    #[test]
    fn an_export_names_the_service_and_scope() {
        let resource = Resource {
            service_name: "gw-eu".into(),
        };
        let export = export(&resource, &[call(), call()]);
        let rs = &export["resourceSpans"][0];
        assert_eq!(
            rs["resource"]["attributes"][0],
            json!({"key": "service.name", "value": {"stringValue": "gw-eu"}})
        );
        assert_eq!(rs["scopeSpans"][0]["scope"]["name"], SCOPE_NAME);
        assert_eq!(rs["scopeSpans"][0]["spans"].as_array().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_decided_call_reaches_the_sinks_digested_and_redacted() {
        let trail = Arc::new(MemoryAuditTrail::default());
        let redactor = Arc::new(Redactor::builtin().unwrap());
        let mut telemetry = Telemetry::new(Vec::new(), "gw", 8, Some(redactor));
        assert!(!telemetry.is_active());
        telemetry.add_sink(Sink::Audit(trail.clone()));
        assert!(telemetry.is_active());

        // Shaped like a GitLab personal access token; made up.
        let secret = format!("glpat-{}", "Q7w_Zk2Rm9Tx4Vb-8Nc1");
        let params =
            json!({"name": "fs_write", "arguments": {"path": "/etc/passwd", "token": secret}});
        let mut headers = HeaderMap::new();
        headers.insert(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                .parse()
                .unwrap(),
        );
        let started = telemetry
            .start(
                &principal(),
                "rust",
                "tools/call",
                &params,
                &headers,
                "127.0.0.1:5000".parse().unwrap(),
                &json!(3),
                DateTime::from_timestamp(1_765_100_000, 0).unwrap(),
            )
            .unwrap();
        let ((), notes) = noting(async {
            note_decision(&Decision::Deny {
                reason: "fs_write may only write under /workspace".into(),
                policy: Some("fs-write-outside-workspace".into()),
            });
        })
        .await;
        telemetry.finish(
            started,
            notes,
            End::Error {
                code: jsonrpc::DENIED,
                message: "fs_write may only write under /workspace",
            },
        );
        telemetry.flush().await;
        let calls = trail.calls();
        assert_eq!(calls.len(), 1);
        let call = &calls[0];
        assert_eq!(call.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(call.parent_span_id.as_deref(), Some("00f067aa0ba902b7"));
        assert_eq!(call.span_id.len(), 16);
        assert_eq!(call.decision, Some(Verdict::Deny));
        assert_eq!(call.policies, ["fs-write-outside-workspace"]);
        assert_eq!(call.error.as_ref().unwrap().kind, "denied");
        assert_eq!(call.subject(), "rust::fs_write");
        assert_eq!(call.audit_action(), "gateway.call.deny");
        assert_eq!(
            call.arguments_sha256.as_deref(),
            Some(arguments_digest(&params["arguments"]).as_str())
        );
        let view = call.arguments_redacted.as_deref().unwrap();
        assert!(
            view.contains("/etc/passwd") && view.contains("[redacted]"),
            "{view}"
        );
        let exported = serde_json::to_string(call).unwrap();
        assert!(!exported.contains(&secret), "{exported}");
        assert_eq!(telemetry.lost(), (0, 0));
    }

    #[tokio::test]
    async fn a_full_queue_drops_and_counts_never_waits() {
        /// A sink that never finishes: every batch waits forever.
        struct Stuck;
        impl AuditTrail for Stuck {
            fn append<'a>(
                &'a self,
                _calls: &'a [GatewayCall],
            ) -> crate::state::BoxFuture<'a, Result<(), crate::state::StateError>> {
                Box::pin(std::future::pending())
            }
        }
        let telemetry = Telemetry::new(vec![Sink::Audit(Arc::new(Stuck))], "gw", 1, None);
        let params = json!({"name": "echo", "arguments": {}});
        let began = Instant::now();
        for _ in 0..5000 {
            let started = telemetry
                .start(
                    &principal(),
                    "rust",
                    "tools/call",
                    &params,
                    &HeaderMap::new(),
                    "127.0.0.1:5000".parse().unwrap(),
                    &json!(1),
                    DateTime::from_timestamp(1_765_100_000, 0).unwrap(),
                )
                .unwrap();
            telemetry.finish(started, Notes::default(), End::Result(&json!({})));
        }
        assert!(began.elapsed() < Duration::from_secs(5));
        let (dropped, _) = telemetry.lost();
        assert!(dropped > 0, "a stuck sink must cost spans, not calls");
    }

    #[test]
    fn long_views_are_cut_on_a_character_boundary() {
        let text = "é".repeat(3000);
        let cut = truncated(text, MAX_ARGUMENTS_VIEW);
        assert!(cut.ends_with("…[truncated]"));
        assert!(cut.len() <= MAX_ARGUMENTS_VIEW + "…[truncated]".len());
    }
}
