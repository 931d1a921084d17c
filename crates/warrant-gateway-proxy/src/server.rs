//! The agent-facing side: one Streamable HTTP endpoint per upstream (`POST /mcp/{server}`),
//! answering JSON (`application/json`, never an SSE stream).
//!
//! Each request is authenticated, parsed, decided with the pure core (`warrant_gateway`) and,
//! when allowed, forwarded upstream with the gateway's own credential. Both protocol styles are
//! served: 2025-11-25 (`initialize`, then `Mcp-Session-Id`) and 2026-07-28 (stateless:
//! `server/discover`, no session, `Mcp-Method`/`Mcp-Name` headers checked against the body,
//! results stamped with `resultType` and, for lists, `cacheScope: "private"` since they are
//! filtered per agent). A request without a handshake is accepted either way. A session only
//! remembers its agent and server: taint is per task, not per transport session.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use warrant_core::clock::Clock;
use warrant_gateway::config::{GatewayConfig, NewTools, SecretHandling};
use warrant_gateway::pinning::{self, ToolDefinition};
use warrant_gateway::{
    Agent, Call, Decision, Method, PolicyEngine, TaintState, Target, TokenError, ToolRef,
};

use crate::auth::{AuthError, Authenticator, Principal, bearer};
use crate::jsonrpc::{self, RpcError};
use crate::state::{ApprovalRequest, ApprovalStatus, ListedTool, PinState, State};
use crate::upstream::{Upstream, UpstreamError};

/// Protocol versions with an `initialize` handshake this gateway answers, newest first.
const HANDSHAKE_VERSIONS: [&str; 4] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];
/// The stateless protocol version (no handshake; `server/discover`; results say their type).
const MODERN_VERSION: &str = "2026-07-28";
/// The `_meta` key prefix of the protocol's own per-request fields (protocol version, client
/// info and capabilities in 2026-07-28 requests): the gateway's upstream connection has its own.
const PROTOCOL_META_PREFIX: &str = "io.modelcontextprotocol/";
/// How long a client may take to send its request body: a slow client then gets HTTP 408 and
/// holds no connection slot longer.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// How many sessions one gateway keeps; the oldest is dropped beyond it (sessions are cheap to
/// re-create, and a client cannot grow memory without bound).
const MAX_SESSIONS: usize = 10_000;

/// Everything a gateway needs; built by `load::build` or by hand (tests, other front ends).
pub struct Gateway {
    pub(crate) engine: PolicyEngine,
    pub(crate) config: GatewayConfig,
    pub(crate) authenticator: Authenticator,
    pub(crate) state: State,
    pub(crate) upstreams: BTreeMap<String, Upstream>,
    pub(crate) clock: Arc<dyn Clock>,
    /// Finds secrets in tool results, which the agent gets redacted.
    pub(crate) redactor: Arc<crate::redact::Redactor>,
    /// A span per decided call (set by `load` from `[telemetry]`).
    pub(crate) telemetry: crate::telemetry::Telemetry,
    sessions: Mutex<Sessions>,
    /// One lock per task with labelled calls in flight (see `TaskGuard`).
    task_locks: TaskLocks,
    /// Each upstream's tools as last listed, and where each stands against its pin.
    tools: Mutex<HashMap<String, ListedTools>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data behind: keep serving.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One upstream's tools as the gateway last listed them.
struct ListedTools {
    at: Instant,
    definitions: BTreeMap<String, ToolDefinition>,
    /// By tool name: its fingerprint as last listed.
    fingerprints: HashMap<String, String>,
    states: HashMap<String, PinState>,
}

/// How long a call trusts a tool's pin state before it lists the upstream's tools again (so a
/// definition changed upstream blocks the tool even for an agent that does not list again).
const PIN_REFRESH: std::time::Duration = std::time::Duration::from_secs(30);
/// The most `tools/list` pages read from one upstream when the gateway lists it itself.
const MAX_TOOL_PAGES: usize = 100;

type TaskLocks = Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>;

/// Holds a task's lock from the taint check to the taint record of a labelled call, so two
/// concurrent calls of one task cannot both pass the Rule of Two against the same old taint
/// (within this process; a shared store needs its own). Unlabelled calls neither read nor
/// change taint and are not serialised. Dropping it forgets the lock when no one else waits.
struct TaskGuard<'a> {
    locks: &'a TaskLocks,
    key: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl<'a> TaskGuard<'a> {
    async fn acquire(locks: &'a TaskLocks, key: &str) -> TaskGuard<'a> {
        let lock = locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key.to_string())
            .or_default()
            .clone();
        TaskGuard {
            locks,
            key: key.to_string(),
            guard: Some(lock.lock_owned().await),
        }
    }
}

impl Drop for TaskGuard<'_> {
    fn drop(&mut self) {
        self.guard = None;
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        if locks
            .get(&self.key)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            locks.remove(&self.key);
        }
    }
}

#[derive(Default)]
struct Sessions {
    by_id: HashMap<String, Session>,
    order: std::collections::VecDeque<String>,
}

#[derive(Debug, Clone)]
struct Session {
    agent: String,
    server: String,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("upstreams", &self.upstreams.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// What a request's handling ends in.
pub(crate) enum Outcome {
    Result(Value),
    Error(RpcError),
    /// The credential stopped being valid mid-request (expired or revoked): HTTP 401.
    Unauthorized(AuthError),
}

impl Outcome {
    fn telemetry_end(&self) -> crate::telemetry::End<'_> {
        match self {
            Outcome::Result(result) => crate::telemetry::End::Result(result),
            Outcome::Error(error) => crate::telemetry::End::Error {
                code: error.code,
                message: &error.message,
            },
            Outcome::Unauthorized(error) => crate::telemetry::End::Unauthorized(error.to_string()),
        }
    }
}

impl From<RpcError> for Outcome {
    fn from(error: RpcError) -> Self {
        Outcome::Error(error)
    }
}

fn denied(reason: impl Into<String>, policy: Option<&str>) -> Outcome {
    let mut error = RpcError::new(jsonrpc::DENIED, reason);
    if let Some(policy) = policy {
        error = error.with_data(json!({ "policy": policy }));
    }
    Outcome::Error(error)
}

fn upstream_error(error: UpstreamError) -> Outcome {
    match error {
        UpstreamError::Mcp(data) => Outcome::Error(RpcError {
            code: i64::from(data.code.0),
            message: data.message.to_string(),
            data: data.data,
        }),
        UpstreamError::InvalidParams(message) => {
            Outcome::Error(RpcError::new(jsonrpc::INVALID_PARAMS, message))
        }
        unavailable @ UpstreamError::Unavailable { .. } => Outcome::Error(RpcError::new(
            jsonrpc::INTERNAL_ERROR,
            unavailable.to_string(),
        )),
    }
}

/// The JSON text of `value` with every object's keys sorted: the same call hashes the same
/// whatever order its client wrote the arguments in.
pub fn canonical_json(value: &Value) -> String {
    warrant_core::canonical::canonical_json(value)
}

/// The approval id of a call: SHA-256 over agent, task, tool and canonical arguments, so an
/// approval covers exactly that call and a changed call needs a new one.
pub fn approval_id(agent: &str, task: Option<&str>, tool: &str, arguments: &Value) -> String {
    let text = canonical_json(&json!([agent, task, tool, canonical_json(arguments)]));
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Whether a request speaks 2026-07-28 (by its header or its `_meta`).
fn is_modern(headers: &HeaderMap, params: &Value) -> bool {
    header_text(headers, "mcp-protocol-version") == Some(MODERN_VERSION)
        || params
            .pointer("/_meta/io.modelcontextprotocol~1protocolVersion")
            .and_then(Value::as_str)
            == Some(MODERN_VERSION)
}

/// The params sent upstream: without the agent's per-request protocol fields, which belong to
/// the agent's connection to the gateway, not the gateway's to the upstream.
fn upstream_params(mut params: Value) -> Value {
    if let Some(object) = params.as_object_mut() {
        let empty = match object.get_mut("_meta").and_then(Value::as_object_mut) {
            Some(meta) => {
                meta.retain(|key, _| !key.starts_with(PROTOCOL_META_PREFIX));
                meta.is_empty()
            }
            None => false,
        };
        if empty {
            object.remove("_meta");
        }
    }
    params
}

/// What a 2026-07-28 result must say about itself: its type and, for lists, how it may be
/// cached. Lists are filtered per agent, so only the requesting client may cache them.
fn stamp_modern(method: &str, result: &mut Value) {
    let Some(object) = result.as_object_mut() else {
        return;
    };
    object
        .entry("resultType")
        .or_insert_with(|| Value::from("complete"));
    if method.ends_with("/list") {
        object.insert("cacheScope".to_string(), Value::from("private"));
        object.entry("ttlMs").or_insert_with(|| Value::from(0));
    }
}

/// A credential without a task of its own (an OAuth access token without a task claim) takes
/// the task an `X-Warrant-Task` header names, keyed under the agent so agents cannot share a
/// task's state; without one, its taint is the token's own (`jti`). A task token's or a task
/// claim's task always wins: the header could otherwise start a fresh, clean taint whenever the
/// agent liked.
fn apply_task_header(principal: &mut Principal, headers: &HeaderMap) {
    if principal.task_key.is_some() {
        return;
    }
    if let Some(task) = header_text(headers, "x-warrant-task").map(str::trim)
        && !task.is_empty()
    {
        principal.task_key = Some(format!("agent:{}:task:{task}", principal.agent));
        principal.task = Some(task.to_string());
    } else if let Some(jti) = &principal.token_id {
        principal.task_key = Some(format!("agent:{}:token:{jti}", principal.agent));
    }
}

fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl Gateway {
    pub(crate) fn new(
        engine: PolicyEngine,
        config: GatewayConfig,
        authenticator: Authenticator,
        state: State,
        upstreams: BTreeMap<String, Upstream>,
        clock: Arc<dyn Clock>,
        redactor: Arc<crate::redact::Redactor>,
    ) -> Gateway {
        Gateway {
            engine,
            config,
            authenticator,
            state,
            upstreams,
            clock,
            redactor,
            telemetry: crate::telemetry::Telemetry::disabled(),
            sessions: Mutex::new(Sessions::default()),
            task_locks: Mutex::new(HashMap::new()),
            tools: Mutex::new(HashMap::new()),
        }
    }

    /// The state the gateway uses (to revoke, approve, … from the embedding program).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Appends every decided call to `trail` too (off the request path, as spans are).
    #[must_use]
    pub fn with_audit_trail(mut self, trail: Arc<dyn crate::state::AuditTrail>) -> Gateway {
        self.telemetry
            .add_sink(crate::telemetry::Sink::Audit(trail));
        self
    }

    /// Waits until the spans of every call so far are exported (`serve` does on shutdown).
    pub async fn flush_telemetry(&self) {
        self.telemetry.flush().await;
    }

    /// Spans dropped (a full queue) and spans not exported (a sink's error) so far.
    pub fn telemetry_lost(&self) -> (u64, u64) {
        self.telemetry.lost()
    }

    /// The HTTP routes; serve them with `serve` (the source address comes from the connection).
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route(
                "/mcp/{server}",
                post(mcp_post).get(mcp_get).delete(mcp_delete),
            )
            .route(
                "/.well-known/oauth-protected-resource",
                get(resource_metadata_root),
            )
            .route(
                "/.well-known/oauth-protected-resource/mcp/{server}",
                get(resource_metadata_server),
            )
            .with_state(self)
    }

    /// Serves until `shutdown` completes.
    pub async fn serve(
        self: Arc<Self>,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let served = axum::serve(
            listener,
            self.clone()
                .router()
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        self.flush_telemetry().await;
        served
    }

    fn base_url(&self, headers: &HeaderMap) -> String {
        match &self.config.server.resource {
            Some(resource) => resource.trim_end_matches('/').to_string(),
            None => format!(
                "http://{}",
                header_text(headers, "host").unwrap_or(&self.config.server.listen)
            ),
        }
    }

    fn unauthorized(&self, headers: &HeaderMap, server: &str, error: &AuthError) -> Response {
        if let AuthError::Unavailable(_) = error {
            tracing::error!(error = %error, "cannot authenticate");
            return jsonrpc::error_with_status(
                StatusCode::SERVICE_UNAVAILABLE,
                &Value::Null,
                &RpcError::new(jsonrpc::INTERNAL_ERROR, error.to_string()),
            );
        }
        let metadata = format!(
            "{}/.well-known/oauth-protected-resource/mcp/{server}",
            self.base_url(headers)
        );
        let mut challenge = format!("Bearer resource_metadata=\"{metadata}\"");
        if let Some(code) = error.code() {
            // The reason is ours (no quotes in it), safe inside a quoted string.
            let description = error.to_string().replace('"', "'");
            challenge.push_str(&format!(
                ", error=\"{code}\", error_description=\"{description}\""
            ));
        }
        let mut response = jsonrpc::error_with_status(
            StatusCode::UNAUTHORIZED,
            &Value::Null,
            &RpcError::new(jsonrpc::INVALID_REQUEST, error.to_string()),
        );
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }

    async fn revoked(&self, ids: &[String]) -> Result<BTreeSet<String>, AuthError> {
        self.state
            .revocations
            .revoked_among(ids)
            .await
            .map_err(|e| AuthError::Invalid(e.to_string()))
    }

    async fn authenticate(
        &self,
        headers: &HeaderMap,
        server: &str,
    ) -> Result<Principal, AuthError> {
        let token = bearer(header_text(headers, "authorization"))?;
        let opened = self.authenticator.task_token(token);
        let ids = opened
            .as_ref()
            .map(|o| o.revocation_ids().to_vec())
            .unwrap_or_default();
        // A task token's taint is read with its revocations, side by side: a call then waits
        // for one read of the store instead of two in turn.
        let key = ids.first().map(|id| crate::auth::task_token_key(id));
        let taint = async {
            match &key {
                Some(key) => self.state.taint.load(key).await.ok(),
                None => None,
            }
        };
        let (revoked, taint) = tokio::join!(self.revoked(&ids), taint);
        let revoked = revoked?;
        let now = self.clock.now();
        let mut principal = self
            .authenticator
            .authenticate_opened(token, opened, server, now, &revoked)
            .await?;
        if principal.task_key.is_some() && principal.task_key == key {
            principal.taint = taint;
        }
        Ok(principal)
    }

    /// An attenuation may expire before its parent: every block's time check runs for methods
    /// other than `tools/call` (whose own check runs them all), so no method (ping, lists,
    /// reads) outlives the token. Other refusals need a real call.
    fn check_expiry(&self, principal: &Principal) -> Result<(), AuthError> {
        let probe = Value::Object(Map::new());
        match self.authenticator.check_call(
            principal,
            "",
            &probe,
            self.clock.now(),
            &BTreeSet::new(),
        ) {
            Err(TokenError::Expired) => Err(TokenError::Expired.into()),
            _ => Ok(()),
        }
    }

    fn session(&self, id: &str) -> Option<Session> {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .by_id
            .get(id)
            .cloned()
    }

    fn new_session(&self, agent: &str, server: &str) -> String {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        while sessions.order.len() >= MAX_SESSIONS {
            if let Some(old) = sessions.order.pop_front() {
                sessions.by_id.remove(&old);
            }
        }
        sessions.by_id.insert(
            id.clone(),
            Session {
                agent: agent.to_string(),
                server: server.to_string(),
            },
        );
        sessions.order.push_back(id.clone());
        id
    }

    fn end_session(&self, id: &str) -> bool {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.order.retain(|s| s != id);
        sessions.by_id.remove(id).is_some()
    }

    /// What the policy knows of an agent; an unknown agent has no owner, no tier and risk 0
    /// (`owner_active` false), so policies about owners and tiers treat it strictly, or is
    /// refused when the directory says so.
    async fn agent(&self, id: &str) -> Result<Agent, RpcError> {
        let known = self
            .state
            .agents
            .agent(id)
            .await
            .map_err(|e| RpcError::new(jsonrpc::INTERNAL_ERROR, e.to_string()))?;
        if known.is_none() && self.state.agents.refuses_unknown() {
            tracing::info!(agent = %id, "unknown agent refused");
            return Err(RpcError::new(
                jsonrpc::DENIED,
                format!(
                    "agent `{id}` is unknown: no single agent or MCP server identity in Warrant's inventory has this id or name, and gateway.toml's [agents] does not list it"
                ),
            )
            .with_data(json!({ "policy": "unknown-agent" })));
        }
        Ok(known.unwrap_or_else(|| Agent {
            id: id.to_string(),
            name: id.to_string(),
            owner: String::new(),
            owner_active: false,
            tier: String::new(),
            risk: 0,
        }))
    }

    /// Counts a call under the principal's task token (a failure is logged: the call's fate
    /// does not depend on the bookkeeping).
    async fn record_use(
        &self,
        principal: &Principal,
        allowed: bool,
        at: chrono::DateTime<chrono::Utc>,
    ) {
        if principal.token.is_none() {
            return;
        }
        if let Some(grant) = principal.revocation_ids.first()
            && let Err(e) = self.state.grant_uses.record_use(grant, allowed, at).await
        {
            tracing::error!(grant = %grant, error = %e, "grant use not recorded");
        }
    }

    fn tool_ref(&self, server: &str, name: &str) -> ToolRef {
        let tool = ToolRef::new(server, name);
        let labels = self.config.labels(&tool.qualified());
        tool.with_labels(labels)
    }

    /// Runs a call's `handling`, and ends its span (if telemetry follows it) with what the
    /// decision points noted.
    pub(crate) async fn traced(
        &self,
        span: Option<crate::telemetry::Started>,
        handling: impl std::future::Future<Output = Outcome>,
    ) -> Outcome {
        match span {
            Some(span) => {
                let (outcome, notes) = crate::telemetry::noting(handling).await;
                self.telemetry.finish(span, notes, outcome.telemetry_end());
                outcome
            }
            None => handling.await,
        }
    }

    pub(crate) async fn dispatch(
        &self,
        principal: &Principal,
        server: &str,
        method: &str,
        params: Value,
        source: SocketAddr,
    ) -> Outcome {
        let Some(upstream) = self.upstreams.get(server) else {
            return RpcError::new(jsonrpc::INVALID_PARAMS, format!("no server `{server}`")).into();
        };
        match method {
            "ping" => Outcome::Result(json!({})),
            "tools/call" => self.call_tool(principal, upstream, params, source).await,
            "tools/list" => self.list_tools(principal, upstream, params, source).await,
            "resources/list" | "prompts/list" => {
                let method = if method == "resources/list" {
                    Method::ResourcesList
                } else {
                    Method::PromptsList
                };
                let target = Target::Server(server.to_string());
                self.decided(
                    principal,
                    method,
                    &target,
                    &Value::Null,
                    source,
                    upstream,
                    params,
                )
                .await
            }
            "resources/read" => {
                let Some(uri) = params.get("uri").and_then(Value::as_str) else {
                    return RpcError::new(jsonrpc::INVALID_PARAMS, "resources/read needs `uri`")
                        .into();
                };
                let target = Target::Resource {
                    server: server.to_string(),
                    uri: uri.to_string(),
                };
                self.decided(
                    principal,
                    Method::ResourcesRead,
                    &target,
                    &Value::Null,
                    source,
                    upstream,
                    params.clone(),
                )
                .await
            }
            "prompts/get" => {
                let Some(name) = params.get("name").and_then(Value::as_str) else {
                    return RpcError::new(jsonrpc::INVALID_PARAMS, "prompts/get needs `name`")
                        .into();
                };
                let target = Target::Prompt {
                    server: server.to_string(),
                    name: name.to_string(),
                };
                let arguments = params.get("arguments").cloned().unwrap_or(Value::Null);
                self.decided(
                    principal,
                    Method::PromptsGet,
                    &target,
                    &arguments,
                    source,
                    upstream,
                    params.clone(),
                )
                .await
            }
            other => RpcError::new(
                jsonrpc::METHOD_NOT_FOUND,
                format!("method `{other}` is not supported by the gateway"),
            )
            .into(),
        }
    }

    /// Loads the task's taint (none without a task).
    async fn taint(&self, principal: &Principal) -> Result<TaintState, RpcError> {
        if let Some(taint) = principal.taint.as_ref().filter(|_| principal.fresh()) {
            return Ok(taint.clone());
        }
        self.load_taint(principal).await
    }

    /// Reads the task's taint from the state (none without a task), not the one read with the
    /// revocations: for a call that adds to it.
    async fn load_taint(&self, principal: &Principal) -> Result<TaintState, RpcError> {
        match &principal.task_key {
            Some(key) => self
                .state
                .taint
                .load(key)
                .await
                .map_err(|e| RpcError::new(jsonrpc::INTERNAL_ERROR, e.to_string())),
            None => Ok(TaintState::new()),
        }
    }

    /// Decides a method other than `tools/call` and forwards it when allowed.
    #[allow(clippy::too_many_arguments)]
    async fn decided(
        &self,
        principal: &Principal,
        method: Method,
        target: &Target,
        arguments: &Value,
        source: SocketAddr,
        upstream: &Upstream,
        params: Value,
    ) -> Outcome {
        let started = Instant::now();
        let agent = match self.agent(&principal.agent).await {
            Ok(agent) => agent,
            Err(error) => return error.into(),
        };
        let taint = match self.taint(principal).await {
            Ok(taint) => taint,
            Err(error) => return error.into(),
        };
        let call = Call {
            agent: &agent,
            method,
            target,
            arguments,
            taint: &taint,
            task: principal.task.as_deref(),
            now: self.clock.now(),
            source: Some(source.ip()),
        };
        let (decision, permits) = self.engine.decide_explained(&call);
        log_decision(
            principal,
            method,
            &describe(target),
            &decision,
            started,
            &permits,
        );
        match decision {
            Decision::Allow => match upstream.request(method.as_str(), params).await {
                Ok(result) => Outcome::Result(result),
                Err(error) => upstream_error(error),
            },
            Decision::Deny { reason, policy } => denied(reason, policy.as_deref()),
            // Approval of list and read methods is not held for a human yet: refuse clearly.
            Decision::RequireApproval { reason, policy } => denied(
                format!("{reason} (approval applies to tools/call only)"),
                policy.as_deref(),
            ),
        }
    }

    async fn list_tools(
        &self,
        principal: &Principal,
        upstream: &Upstream,
        params: Value,
        source: SocketAddr,
    ) -> Outcome {
        let target = Target::Server(upstream.name.clone());
        let mut result = match self
            .decided(
                principal,
                Method::ToolsList,
                &target,
                &Value::Null,
                source,
                upstream,
                params,
            )
            .await
        {
            Outcome::Result(result) => result,
            other => return other,
        };
        let agent = match self.agent(&principal.agent).await {
            Ok(agent) => agent,
            Err(error) => return error.into(),
        };
        let revoked = match self.revoked(&principal.revocation_ids).await {
            Ok(revoked) => revoked,
            Err(error) => return Outcome::Unauthorized(error),
        };
        let now = self.clock.now();
        if let Some(tools) = result.get_mut("tools").and_then(Value::as_array_mut) {
            // Tools nobody approved, or changed since, are not offered.
            let pins = match self.pin_states(&upstream.name, tools).await {
                Ok(pins) => pins,
                Err(error) => return error.into(),
            };
            let mut index = 0;
            tools.retain(|_| {
                let keep = pins.get(index) == Some(&PinState::Pinned);
                index += 1;
                keep
            });
            let refs: Vec<ToolRef> = tools
                .iter()
                .map(|t| {
                    self.tool_ref(
                        &upstream.name,
                        t.get("name").and_then(Value::as_str).unwrap_or(""),
                    )
                })
                .collect();
            let visible: BTreeSet<String> = self
                .engine
                .visible_tools(&agent, &refs)
                .into_iter()
                .map(ToolRef::qualified)
                .collect();
            // The token's own tool list narrows further; its argument constraints cannot be
            // judged without arguments, so they do not hide a tool.
            let allowed = |qualified: &str| match self.authenticator.check_call(
                principal,
                qualified,
                &Value::Object(Map::new()),
                now,
                &revoked,
            ) {
                Ok(()) | Err(TokenError::ArgumentRefused { .. }) => true,
                Err(_) => false,
            };
            let mut index = 0;
            tools.retain(|_| {
                let keep = refs.get(index).is_some_and(|tool| {
                    let qualified = tool.qualified();
                    !tool.name.is_empty() && visible.contains(&qualified) && allowed(&qualified)
                });
                index += 1;
                keep
            });
        }
        Outcome::Result(result)
    }

    async fn call_tool(
        &self,
        principal: &Principal,
        upstream: &Upstream,
        params: Value,
        source: SocketAddr,
    ) -> Outcome {
        let started = Instant::now();
        let Some(name) = params.get("name").and_then(Value::as_str) else {
            return RpcError::new(jsonrpc::INVALID_PARAMS, "tools/call needs a tool `name`").into();
        };
        let arguments = params.get("arguments").cloned().unwrap_or(Value::Null);
        if !(arguments.is_object() || arguments.is_null()) {
            return RpcError::new(jsonrpc::INVALID_PARAMS, "`arguments` must be an object").into();
        }
        let tool = self.tool_ref(&upstream.name, name);
        let qualified = tool.qualified();
        let target = Target::Tool(tool.clone());
        let now = self.clock.now();

        // The task token first: its tools and argument constraints bound what any policy allows.
        // Its revocations were read at authentication, a moment ago; a held call forwarded
        // after a person's approval reads them again.
        let revoked = if principal.fresh() {
            BTreeSet::new()
        } else {
            match self.revoked(&principal.revocation_ids).await {
                Ok(revoked) => revoked,
                Err(error) => return Outcome::Unauthorized(error),
            }
        };
        match self
            .authenticator
            .check_call(principal, &qualified, &arguments, now, &revoked)
        {
            Ok(()) => {}
            Err(
                error @ (TokenError::Expired | TokenError::Revoked { .. } | TokenError::Invalid(_)),
            ) => {
                return Outcome::Unauthorized(error.into());
            }
            Err(refused) => {
                self.record_use(principal, false, now).await;
                return refuse_call(
                    principal,
                    &qualified,
                    started,
                    refused.to_string(),
                    "task-token",
                );
            }
        }

        // A secret in the arguments leaves through the tool (a key pasted into an issue).
        let mut params = params;
        let (redacted, rules) = self.redactor.redact(&arguments);
        if !rules.is_empty() {
            let rules: Vec<&str> = rules.iter().map(String::as_str).collect();
            match self.config.secrets_in_arguments(&qualified) {
                SecretHandling::Block => {
                    let reason = format!(
                        "the arguments carry a secret ({}): the gateway does not forward secrets to {qualified}; pass a reference the tool resolves instead",
                        rules.join(", ")
                    );
                    return refuse_call(principal, &qualified, started, reason, "secrets");
                }
                SecretHandling::Redact => {
                    tracing::warn!(agent = %principal.agent, tool = %qualified, rules = %rules.join(","), "secrets redacted from a call's arguments");
                    if let Some(slot) = params.get_mut("arguments") {
                        *slot = redacted;
                    }
                }
                SecretHandling::Allow => {}
            }
        }

        let agent = match self.agent(&principal.agent).await {
            Ok(agent) => agent,
            Err(error) => return error.into(),
        };
        let _task_guard = match &principal.task_key {
            Some(key) if !tool.labels.is_empty() => {
                Some(TaskGuard::acquire(&self.task_locks, key).await)
            }
            _ => None,
        };
        // Decide on the task's taint as read, then claim it: the labels are added only if the
        // taint is still what the decision saw. Another gateway process (on the same store)
        // may have added labels since: then decide again, so two processes cannot both pass
        // the Rule of Two against the same old taint.
        let mut attempts = 0;
        loop {
            // A tool without labels adds no taint: the taint read with the revocations serves
            // (no other call of the task can be misled by this one reading it a moment earlier).
            // One with labels reads it under the task's lock, to add to it.
            let taint = if tool.labels.is_empty() {
                self.taint(principal).await
            } else {
                self.load_taint(principal).await
            };
            let taint = match taint {
                Ok(taint) => taint,
                Err(error) => return error.into(),
            };
            let call = Call {
                agent: &agent,
                method: Method::ToolsCall,
                target: &target,
                arguments: &arguments,
                taint: &taint,
                task: principal.task.as_deref(),
                now,
                source: Some(source.ip()),
            };
            let (decision, permits) = self.engine.decide_explained(&call);
            // A call the policy would let through (or hold for a person) reaches only a tool
            // whose definition a person approved as it is now.
            if !matches!(decision, Decision::Deny { .. })
                && let Err(refused) = self.check_pin(upstream, &tool.name).await
            {
                return refuse_call(principal, &qualified, started, refused, "tool-pinning");
            }
            log_decision(
                principal,
                Method::ToolsCall,
                &qualified,
                &decision,
                started,
                &permits,
            );
            match decision {
                Decision::Allow => {}
                Decision::Deny { reason, policy } => return denied(reason, policy.as_deref()),
                Decision::RequireApproval { reason, policy } => {
                    let id = approval_id(
                        &principal.agent,
                        principal.task.as_deref(),
                        &qualified,
                        &arguments,
                    );
                    crate::telemetry::note_approval(&id);
                    let status = match self.state.approvals.status(&id).await {
                        Ok(status) => status,
                        Err(e) => {
                            return RpcError::new(jsonrpc::INTERNAL_ERROR, e.to_string()).into();
                        }
                    };
                    // An approval covers one call: spend it, or (lost to another call) ask again.
                    let status = match status {
                        Some(ApprovalStatus::Approved) => {
                            match self.state.approvals.consume(&id).await {
                                Ok(true) => Some(ApprovalStatus::Approved),
                                Ok(false) => None,
                                Err(e) => {
                                    return RpcError::new(jsonrpc::INTERNAL_ERROR, e.to_string())
                                        .into();
                                }
                            }
                        }
                        other => other,
                    };
                    match status {
                        Some(ApprovalStatus::Approved) => {
                            tracing::info!(approval_id = %id, tool = %qualified, "approved call forwarded");
                        }
                        Some(ApprovalStatus::Denied) => {
                            return denied(
                                format!("a human denied this call (approval {id}): {reason}"),
                                policy.as_deref(),
                            );
                        }
                        Some(ApprovalStatus::Pending) | None => {
                            let request = ApprovalRequest {
                                id: id.clone(),
                                agent: principal.agent.clone(),
                                task: principal.task.clone(),
                                tool: qualified.clone(),
                                arguments: arguments.clone(),
                                taint: taint.labels().map(|l| l.as_str().to_string()).collect(),
                                reason: reason.clone(),
                                policy: policy.clone(),
                            };
                            if let Err(e) = self.state.approvals.submit(request).await {
                                return RpcError::new(jsonrpc::INTERNAL_ERROR, e.to_string())
                                    .into();
                            }
                            return RpcError::new(
                                jsonrpc::APPROVAL_REQUIRED,
                                format!(
                                    "approval required: {reason}. Approval id {id}; the same call goes through once a human approves it."
                                ),
                            )
                            .with_data(json!({ "approval_id": id, "reason": reason, "policy": policy }))
                            .into();
                        }
                    }
                }
            }
            let Some(key) = principal
                .task_key
                .as_deref()
                .filter(|_| !tool.labels.is_empty())
            else {
                break;
            };
            match self
                .state
                .taint
                .record(key, &taint, &qualified, &tool.labels, now)
                .await
            {
                Ok(true) => break,
                Ok(false) if attempts < 3 => attempts += 1,
                Ok(false) => {
                    return RpcError::new(
                        jsonrpc::INTERNAL_ERROR,
                        "the task's other calls kept changing its taint while this one was decided: call again",
                    )
                    .into();
                }
                // Fail closed: a call whose taint cannot be recorded is not forwarded.
                Err(e) => return RpcError::new(jsonrpc::INTERNAL_ERROR, e.to_string()).into(),
            }
        }

        // The grant's use is counted while the upstream works: the call waits for both.
        let (_, answer) = tokio::join!(
            self.record_use(principal, true, now),
            upstream.request("tools/call", params)
        );
        match answer {
            Ok(result) => {
                // A secret a tool returns (a config file read, a key echoed) reaches the agent
                // only as a redacted preview, or not at all.
                let handling = self.config.secrets_in_results(&qualified);
                if handling == SecretHandling::Allow {
                    return Outcome::Result(result);
                }
                let (redacted, rules) = self.redactor.redact(&result);
                if rules.is_empty() {
                    return Outcome::Result(result);
                }
                let rules: Vec<&str> = rules.iter().map(String::as_str).collect();
                tracing::warn!(
                    agent = %principal.agent,
                    tool = %qualified,
                    rules = %rules.join(","),
                    handling = ?handling,
                    "secrets in a tool result"
                );
                if handling == SecretHandling::Block {
                    return denied(
                        format!(
                            "the result of {qualified} carries a secret ({}) and is withheld",
                            rules.join(", ")
                        ),
                        Some("secrets"),
                    );
                }
                Outcome::Result(redacted)
            }
            Err(error) => upstream_error(error),
        }
    }

    /// Records one upstream's listed tools against their pins (alerts are the pin store's) and
    /// returns where each stands, in order. Concerns about a tool are judged against every
    /// server's tools the gateway has listed, so a name shadowing another server's is seen.
    async fn pin_states(&self, server: &str, tools: &[Value]) -> Result<Vec<PinState>, RpcError> {
        let definitions: Vec<ToolDefinition> = tools
            .iter()
            .map(|tool| ToolDefinition {
                server: server.to_string(),
                name: tool
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                description: tool
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                input_schema: tool.get("inputSchema").cloned().unwrap_or(Value::Null),
            })
            .collect();
        let fingerprints: Vec<String> = definitions
            .iter()
            .map(ToolDefinition::fingerprint)
            .collect();
        // Listed again unchanged, every tool pinned, within `PIN_REFRESH`: nothing to record or
        // read for poisoning again (an agent listing often costs no store write).
        let unchanged = {
            let known = lock(&self.tools);
            known
                .get(server)
                .filter(|listed| listed.at.elapsed() < PIN_REFRESH)
                .and_then(|listed| {
                    definitions
                        .iter()
                        .zip(&fingerprints)
                        .map(|(d, f)| {
                            (listed.fingerprints.get(&d.name) == Some(f)
                                && listed.states.get(&d.name) == Some(&PinState::Pinned))
                            .then_some(PinState::Pinned)
                        })
                        .collect::<Option<Vec<PinState>>>()
                })
        };
        if let Some(states) = unchanged {
            return Ok(states);
        }
        let mut everything: Vec<ToolDefinition> = {
            let known = lock(&self.tools);
            known
                .iter()
                .filter(|(name, _)| name.as_str() != server)
                .flat_map(|(_, listed)| listed.definitions.values().cloned())
                .collect()
        };
        everything.extend(definitions.iter().cloned());
        let concerns = pinning::inspect(&everything);
        let listed: Vec<ListedTool> = definitions
            .iter()
            .zip(&fingerprints)
            .map(|(definition, fingerprint)| {
                let qualified = definition.qualified();
                ListedTool {
                    fingerprint: fingerprint.clone(),
                    concerns: concerns
                        .iter()
                        .filter(|c| c.tool == qualified)
                        .cloned()
                        .collect(),
                    definition: definition.clone(),
                }
            })
            .collect();
        let pin_new = self.config.pinning.new_tools == NewTools::PinFirstSeen;
        let states = self
            .state
            .pins
            .observe(&listed, pin_new, self.clock.now())
            .await
            .map_err(|e| RpcError::new(jsonrpc::INTERNAL_ERROR, e.to_string()))?;
        let mut known = lock(&self.tools);
        let entry = known
            .entry(server.to_string())
            .or_insert_with(|| ListedTools {
                at: Instant::now(),
                definitions: BTreeMap::new(),
                fingerprints: HashMap::new(),
                states: HashMap::new(),
            });
        entry.at = Instant::now();
        for ((definition, state), fingerprint) in
            definitions.into_iter().zip(&states).zip(fingerprints)
        {
            entry
                .fingerprints
                .insert(definition.name.clone(), fingerprint);
            if *state != PinState::Pinned {
                tracing::warn!(tool = %definition.qualified(), state = ?state, "tool withheld from agents until a person approves it");
            }
            entry.states.insert(definition.name.clone(), *state);
            entry
                .definitions
                .insert(definition.name.clone(), definition);
        }
        Ok(states)
    }

    /// Lists every page of one upstream's tools and records them against their pins.
    async fn list_upstream_tools(&self, upstream: &Upstream) -> Result<usize, Outcome> {
        let mut cursor: Option<String> = None;
        let mut count = 0;
        for _ in 0..MAX_TOOL_PAGES {
            let params = match &cursor {
                Some(cursor) => json!({ "cursor": cursor }),
                None => json!({}),
            };
            let page = upstream
                .request("tools/list", params)
                .await
                .map_err(upstream_error)?;
            let tools = page
                .get("tools")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            count += tools.len();
            self.pin_states(&upstream.name, &tools).await?;
            cursor = page
                .get("nextCursor")
                .and_then(Value::as_str)
                .map(str::to_string);
            if cursor.is_none() {
                break;
            }
        }
        Ok(count)
    }

    /// Lists every upstream's tools now and records them against their pins (at start-up, so
    /// pins, alerts and `warrant gateway tools` do not wait for an agent to list): the number
    /// of tools of each upstream, or why it could not be listed.
    pub async fn refresh_tools(&self) -> Vec<(String, Result<usize, String>)> {
        let mut out = Vec::new();
        for (name, upstream) in &self.upstreams {
            let listed = match self.list_upstream_tools(upstream).await {
                Ok(count) => Ok(count),
                Err(Outcome::Error(error)) => Err(error.message),
                Err(Outcome::Unauthorized(error)) => Err(error.to_string()),
                Err(Outcome::Result(_)) => Err("unexpected result".to_string()),
            };
            out.push((name.clone(), listed));
        }
        out
    }

    /// Whether `name` of `upstream` may be called as far as pinning goes: its definition as
    /// last listed (at most `PIN_REFRESH` ago, else listed again) is the one a person approved.
    async fn check_pin(&self, upstream: &Upstream, name: &str) -> Result<(), String> {
        let fresh_state = |gateway: &Gateway| {
            let known = lock(&gateway.tools);
            known.get(&upstream.name).and_then(|listed| {
                (listed.at.elapsed() < PIN_REFRESH)
                    .then(|| listed.states.get(name).copied())
                    .flatten()
            })
        };
        let state = match fresh_state(self) {
            Some(PinState::Pinned) => Some(PinState::Pinned),
            // Not fresh, unknown or blocked: list again (a person may have approved it since).
            _ => {
                if let Err(outcome) = self.list_upstream_tools(upstream).await {
                    let why = match outcome {
                        Outcome::Error(error) => error.message,
                        Outcome::Unauthorized(error) => error.to_string(),
                        Outcome::Result(_) => String::new(),
                    };
                    return Err(format!(
                        "the tools of {} could not be checked against their pins: {why}",
                        upstream.name
                    ));
                }
                lock(&self.tools)
                    .get(&upstream.name)
                    .and_then(|listed| listed.states.get(name).copied())
            }
        };
        let qualified = format!("{}::{name}", upstream.name);
        match state {
            Some(PinState::Pinned) => Ok(()),
            Some(PinState::Unapproved) => Err(format!(
                "tool {qualified} has not been approved: a person reviews it and pins it with `warrant gateway tools approve {qualified}`"
            )),
            Some(PinState::Changed) => Err(format!(
                "tool {qualified} changed since it was approved (its name, description or input schema): it is blocked until a person reviews the change and approves it again (`warrant gateway tools`)"
            )),
            None => Err(format!("{} does not list a tool {name}", upstream.name)),
        }
    }

    fn initialize(&self, principal: &Principal, server: &str, params: &Value) -> (Value, String) {
        let requested = params
            .get("protocolVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let version = HANDSHAKE_VERSIONS
            .iter()
            .find(|v| **v == requested)
            .copied()
            .unwrap_or(HANDSHAKE_VERSIONS[0]);
        let session = self.new_session(&principal.agent, server);
        let result = json!({
            "protocolVersion": version,
            "capabilities": { "tools": {}, "resources": {}, "prompts": {} },
            "serverInfo": {
                "name": format!("warrant-gateway/{server}"),
                "version": env!("CARGO_PKG_VERSION"),
            },
            "instructions": "Calls pass through Warrant's gateway: each is authorized on its arguments; a refusal's message says why.",
        });
        (result, session)
    }

    fn discover(server: &str) -> Value {
        let mut versions = vec![MODERN_VERSION];
        versions.extend(HANDSHAKE_VERSIONS);
        json!({
            "resultType": "complete",
            "supportedVersions": versions,
            "capabilities": { "tools": {}, "resources": {}, "prompts": {} },
            "instructions": "Calls pass through Warrant's gateway: each is authorized on its arguments; a refusal's message says why.",
            "ttlMs": 0,
            "cacheScope": "private",
            "_meta": {
                "io.modelcontextprotocol/serverInfo": {
                    "name": format!("warrant-gateway/{server}"),
                    "version": env!("CARGO_PKG_VERSION"),
                }
            },
        })
    }
}

fn describe(target: &Target) -> String {
    match target {
        Target::Tool(tool) => tool.qualified(),
        Target::Server(name) => name.clone(),
        Target::Resource { server, uri } => format!("{server} {uri}"),
        Target::Prompt { server, name } => format!("{server}::{name}"),
    }
}

/// Denies a `tools/call` for a reason of the gateway's own (the task token, a secret, a pin),
/// logged and noted for its span as a policy's decision is.
fn refuse_call(
    principal: &Principal,
    tool: &str,
    started: Instant,
    reason: String,
    policy: &str,
) -> Outcome {
    let decision = Decision::Deny {
        reason: reason.clone(),
        policy: Some(policy.to_string()),
    };
    log_decision(principal, Method::ToolsCall, tool, &decision, started, &[]);
    denied(reason, Some(policy))
}

fn log_decision(
    principal: &Principal,
    method: Method,
    target: &str,
    decision: &Decision,
    started: Instant,
    permits: &[String],
) {
    crate::telemetry::note_decision(decision);
    crate::telemetry::note_permits(permits);
    let permitted;
    let (verdict, policy) = match decision {
        Decision::Allow => {
            permitted = permits.join(",");
            ("allow", Some(permitted.as_str()))
        }
        Decision::Deny { policy, .. } => ("deny", policy.as_deref()),
        Decision::RequireApproval { policy, .. } => ("require_approval", policy.as_deref()),
    };
    tracing::info!(
        agent = %principal.agent,
        task = principal.task.as_deref().unwrap_or(""),
        method = method.as_str(),
        target = %target,
        decision = verdict,
        policy = policy.unwrap_or(""),
        latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        "gateway decision"
    );
}

/// Reads the body, refusing one larger than `limit` (by its `Content-Length` or as it streams).
async fn read_body(body: Body, headers: &HeaderMap, limit: usize) -> Result<Bytes, Response> {
    let too_large = || {
        jsonrpc::error_with_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            &Value::Null,
            &RpcError::new(
                jsonrpc::INVALID_REQUEST,
                format!("the request is larger than the gateway's limit of {limit} bytes"),
            ),
        )
    };
    let declared = header_text(headers, "content-length").and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let Ok(read) = tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, limit)).await
    else {
        return Err(jsonrpc::error_with_status(
            StatusCode::REQUEST_TIMEOUT,
            &Value::Null,
            &RpcError::new(
                jsonrpc::INVALID_REQUEST,
                format!(
                    "the request body did not arrive within {} s",
                    BODY_TIMEOUT.as_secs()
                ),
            ),
        ));
    };
    match read {
        Ok(bytes) => Ok(bytes),
        Err(error) => {
            let over = std::error::Error::source(&error)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if over {
                Err(too_large())
            } else {
                Err(jsonrpc::error_with_status(
                    StatusCode::BAD_REQUEST,
                    &Value::Null,
                    &RpcError::new(
                        jsonrpc::INVALID_REQUEST,
                        format!("cannot read the request: {error}"),
                    ),
                ))
            }
        }
    }
}

fn bad_request(id: &Value, code: i64, message: impl Into<String>) -> Response {
    jsonrpc::error_with_status(StatusCode::BAD_REQUEST, id, &RpcError::new(code, message))
}

async fn mcp_post(
    AxumState(gateway): AxumState<Arc<Gateway>>,
    Path(server): Path<String>,
    ConnectInfo(source): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if !gateway.upstreams.contains_key(&server) {
        return (
            StatusCode::NOT_FOUND,
            format!("no MCP server `{server}` here\n"),
        )
            .into_response();
    }
    let mut principal = match gateway.authenticate(&headers, &server).await {
        Ok(principal) => principal,
        Err(error) => {
            tracing::info!(server = %server, %source, error = %error, "unauthenticated request");
            return gateway.unauthorized(&headers, &server, &error);
        }
    };
    apply_task_header(&mut principal, &headers);
    let bytes = match read_body(body, &headers, gateway.config.server.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let message: Value = match serde_json::from_slice(&bytes) {
        Ok(message) => message,
        Err(error) => {
            return bad_request(
                &Value::Null,
                jsonrpc::PARSE_ERROR,
                format!("the body is not JSON: {error}"),
            );
        }
    };
    let Some(object) = message.as_object() else {
        let what = if message.is_array() {
            "JSON-RPC batches are not supported: send one message per request"
        } else {
            "a JSON-RPC message must be an object"
        };
        return bad_request(&Value::Null, jsonrpc::INVALID_REQUEST, what);
    };
    let id = object.get("id").cloned();
    let id_for_errors = id.clone().unwrap_or(Value::Null);
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return bad_request(
            &id_for_errors,
            jsonrpc::INVALID_REQUEST,
            "`jsonrpc` must be \"2.0\"",
        );
    }
    let Some(method) = object.get("method").and_then(Value::as_str) else {
        if id.is_some() && (object.contains_key("result") || object.contains_key("error")) {
            // A response to a request of ours: the gateway sends none, nothing to do.
            return StatusCode::ACCEPTED.into_response();
        }
        return bad_request(
            &id_for_errors,
            jsonrpc::INVALID_REQUEST,
            "a request needs a `method`",
        );
    };
    if method != "tools/call"
        && let Err(error) = gateway.check_expiry(&principal)
    {
        return gateway.unauthorized(&headers, &server, &error);
    }
    if let Some(id) = &id
        && !(id.is_string() || id.is_i64() || id.is_u64())
    {
        return bad_request(
            &Value::Null,
            jsonrpc::INVALID_REQUEST,
            "`id` must be a string or an integer",
        );
    }
    let params = object.get("params").cloned().unwrap_or(Value::Null);
    if !(params.is_object() || params.is_null()) {
        return bad_request(
            &id_for_errors,
            jsonrpc::INVALID_REQUEST,
            "`params` must be an object",
        );
    }
    // 2026-07-28 routing headers must agree with the body, or a proxy could route on one and
    // the server act on the other.
    if let Some(header_method) = header_text(&headers, "mcp-method")
        && header_method != method
    {
        return bad_request(
            &id_for_errors,
            jsonrpc::INVALID_REQUEST,
            format!(
                "the Mcp-Method header `{header_method}` does not match the body's method `{method}`"
            ),
        );
    }
    if let Some(header_name) = header_text(&headers, "mcp-name") {
        let body_name = params
            .get("name")
            .or_else(|| params.get("uri"))
            .and_then(Value::as_str);
        if body_name != Some(header_name) {
            return bad_request(
                &id_for_errors,
                jsonrpc::INVALID_REQUEST,
                format!("the Mcp-Name header `{header_name}` does not match the body"),
            );
        }
    }
    if let Some(session_id) = header_text(&headers, "mcp-session-id")
        && method != "initialize"
    {
        let known = gateway
            .session(session_id)
            .is_some_and(|s| s.agent == principal.agent && s.server == server);
        if !known {
            return jsonrpc::error_with_status(
                StatusCode::NOT_FOUND,
                &id_for_errors,
                &RpcError::new(
                    jsonrpc::SESSION_NOT_FOUND,
                    "no such session for this agent: initialize again",
                ),
            );
        }
    }

    let Some(id) = id else {
        // Notifications (initialized, cancelled, …) need no answer. Requests are answered in
        // one response each, so a cancellation has nothing left to stop.
        tracing::debug!(method, "notification accepted");
        return StatusCode::ACCEPTED.into_response();
    };

    let modern = is_modern(&headers, &params);
    let progress_token = params.pointer("/_meta/progressToken").cloned();
    let accepts_stream =
        header_text(&headers, "accept").is_some_and(|a| a.contains("text/event-stream"));
    if method == "server/discover" {
        return jsonrpc::result(&id, Gateway::discover(&server));
    }
    if method == "initialize" {
        let (result, session) = gateway.initialize(&principal, &server, &params);
        let mut response = jsonrpc::result(&id, result);
        if let Ok(value) = HeaderValue::from_str(&session) {
            response.headers_mut().insert("mcp-session-id", value);
        }
        return response;
    }
    let span = (method != "ping").then(|| {
        let now = gateway.clock.now();
        gateway.telemetry.start(
            &principal, &server, method, &params, &headers, source, &id, now,
        )
    });
    let mut params = upstream_params(params);
    crate::hold::strip_own_state(&mut params);
    // Only a held call is decided again (no copy on the hot path of other methods).
    let retry =
        (method == "tools/call" && !modern && progress_token.is_some()).then(|| params.clone());
    let handling = gateway.dispatch(&principal, &server, method, params, source);
    let outcome = gateway.traced(span.flatten(), handling).await;
    match outcome {
        Outcome::Result(mut result) => {
            if modern {
                stamp_modern(method, &mut result);
            }
            jsonrpc::result(&id, result)
        }
        Outcome::Error(error) => match crate::hold::approval_of(&error) {
            Some(approval) if modern => {
                jsonrpc::result(&id, crate::hold::input_required(&approval, &error))
            }
            Some(approval) if accepts_stream && retry.is_some() => crate::hold::hold(
                gateway.clone(),
                crate::hold::Held {
                    id,
                    principal,
                    server,
                    params: retry.unwrap_or_default(),
                    source,
                    approval,
                    progress_token: progress_token.unwrap_or(Value::Null),
                    reason: error.message.clone(),
                    headers: headers.clone(),
                },
            ),
            _ => jsonrpc::error(&id, &error),
        },
        Outcome::Unauthorized(error) => gateway.unauthorized(&headers, &server, &error),
    }
}

/// No server-initiated stream: every answer comes in its POST's response.
async fn mcp_get() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, "POST, DELETE")],
        "this gateway answers each POST with JSON and opens no SSE stream\n",
    )
        .into_response()
}

async fn mcp_delete(
    AxumState(gateway): AxumState<Arc<Gateway>>,
    Path(server): Path<String>,
    headers: HeaderMap,
) -> Response {
    let principal = match gateway.authenticate(&headers, &server).await {
        Ok(principal) => principal,
        Err(error) => return gateway.unauthorized(&headers, &server, &error),
    };
    if let Err(error) = gateway.check_expiry(&principal) {
        return gateway.unauthorized(&headers, &server, &error);
    }
    let Some(id) = header_text(&headers, "mcp-session-id") else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let mine = gateway
        .session(id)
        .is_some_and(|s| s.agent == principal.agent && s.server == server);
    if mine && gateway.end_session(id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

fn metadata(gateway: &Gateway, headers: &HeaderMap, path: &str) -> Response {
    let body = json!({
        "resource": format!("{}{path}", gateway.base_url(headers)),
        "authorization_servers": gateway.config.authorization_servers(),
        "bearer_methods_supported": ["header"],
        "resource_name": "Warrant MCP gateway",
    });
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// RFC 9728 protected-resource metadata for the gateway as a whole.
async fn resource_metadata_root(
    AxumState(gateway): AxumState<Arc<Gateway>>,
    headers: HeaderMap,
) -> Response {
    metadata(&gateway, &headers, "")
}

/// RFC 9728 metadata for one server's endpoint (the `resource_metadata` of its challenges).
async fn resource_metadata_server(
    AxumState(gateway): AxumState<Arc<Gateway>>,
    Path(server): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !gateway.upstreams.contains_key(&server) {
        return StatusCode::NOT_FOUND.into_response();
    }
    metadata(&gateway, &headers, &format!("/mcp/{server}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_header_never_overrides_a_task_token() {
        let mut headers = HeaderMap::new();
        headers.insert("x-warrant-task", HeaderValue::from_static("ticket-9"));
        let mut from_token = Principal {
            agent: "bot".into(),
            credential: crate::auth::Credential::TaskToken,
            task: Some("t".into()),
            task_key: Some("task-token:abc".into()),
            token: None,
            revocation_ids: Vec::new(),
            token_id: None,
            checked_at: std::time::Instant::now(),
            taint: None,
        };
        apply_task_header(&mut from_token, &headers);
        assert_eq!(from_token.task_key.as_deref(), Some("task-token:abc"));
        let access = Principal {
            credential: crate::auth::Credential::AccessToken,
            task: None,
            task_key: None,
            token_id: Some("jti-1".into()),
            ..from_token
        };
        let mut without = access.clone();
        apply_task_header(&mut without, &headers);
        assert_eq!(without.task.as_deref(), Some("ticket-9"));
        assert_eq!(without.task_key.as_deref(), Some("agent:bot:task:ticket-9"));
        // No header: the access token's own id keys its taint.
        let mut by_token = access;
        apply_task_header(&mut by_token, &HeaderMap::new());
        assert_eq!(by_token.task, None);
        assert_eq!(by_token.task_key.as_deref(), Some("agent:bot:token:jti-1"));
    }

    #[test]
    fn approval_ids_ignore_key_order_only() {
        let a = approval_id(
            "bot",
            Some("t"),
            "p::refund",
            &json!({"amount": 500, "to": "x"}),
        );
        let b = approval_id(
            "bot",
            Some("t"),
            "p::refund",
            &json!({"to": "x", "amount": 500}),
        );
        let c = approval_id(
            "bot",
            Some("t"),
            "p::refund",
            &json!({"to": "x", "amount": 501}),
        );
        let d = approval_id(
            "bot",
            Some("u"),
            "p::refund",
            &json!({"to": "x", "amount": 500}),
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert_eq!(a.len(), 64);
    }
}
