//! The gateway end to end, in-process on loopback, with real MCP parts: a Rust upstream built
//! with `rmcp` (Streamable HTTP), the official Python `mcp-server-time` (stdio), and agents
//! driven by plain JSON-RPC over HTTP and by the official Python `mcp` client.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Value, json};
use warrant_core::clock::{Clock, SystemClock};
use warrant_gateway::token::{self, Narrowing};
use warrant_gateway::{ArgConstraint, GatewayConfig, Grant, TokenAuthority};
use warrant_gateway_proxy::{
    ApprovalQueue, MemoryApprovalQueue, MemoryGrantUses, MemoryRevocationList, MemoryTaintStore,
    Options, State,
};

/// The secret the gateway presents to the Rust upstream (its own credential, from a file).
const UPSTREAM_SECRET: &str = "upstream-secret-1234";

// ---------------------------------------------------------------------------------------------
// The Rust test upstream (rmcp server over Streamable HTTP).

#[derive(Clone)]
struct TestUpstream;

fn tool(name: &'static str, description: &'static str, properties: Value) -> Tool {
    let schema = json!({ "type": "object", "properties": properties });
    let Value::Object(schema) = schema else {
        unreachable!()
    };
    Tool::new(name, description, Arc::new(schema))
}

impl ServerHandler for TestUpstream {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .build(),
        )
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListResourcesResult, ErrorData> {
        Ok(serde_json::from_value(json!({"resources": [
            {"uri": "file:///workspace/readme.md", "name": "readme"},
            {"uri": "file:///etc/shadow", "name": "shadow"},
        ]}))
        .unwrap())
    }

    async fn read_resource(
        &self,
        request: rmcp::model::ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ReadResourceResponse, ErrorData> {
        let result: rmcp::model::ReadResourceResult = serde_json::from_value(json!({
            "contents": [{"uri": request.uri, "text": format!("contents of {}", request.uri)}]
        }))
        .unwrap();
        Ok(result.into())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListPromptsResult, ErrorData> {
        Ok(
            serde_json::from_value(json!({"prompts": [{"name": "greet"}, {"name": "jailbreak"}]}))
                .unwrap(),
        )
    }

    async fn get_prompt(
        &self,
        request: rmcp::model::GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::GetPromptResponse, ErrorData> {
        let result: rmcp::model::GetPromptResult = serde_json::from_value(json!({
            "messages": [{"role": "user", "content": {"type": "text", "text": format!("prompt {}", request.name)}}]
        }))
        .unwrap();
        Ok(result.into())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(vec![
            tool(
                "echo",
                "Echoes its text",
                json!({"text": {"type": "string"}}),
            ),
            tool(
                "fs_write",
                "Writes a file",
                json!({"path": {"type": "string"}, "content": {"type": "string"}}),
            ),
            tool("refund", "Refunds", json!({"amount": {"type": "integer"}})),
            tool("fetch", "Reads the web", json!({})),
            tool("crm", "Reads customer records", json!({})),
            tool("send", "Sends an email", json!({})),
            tool("secret_tool", "Never allowed", json!({})),
        ]))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = request.arguments.unwrap_or_default();
        let text = match request.name.as_ref() {
            "echo" => args
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            "fs_write" => format!(
                "wrote {} bytes to {}",
                args.get("content")
                    .and_then(Value::as_str)
                    .map_or(0, str::len),
                args.get("path").and_then(Value::as_str).unwrap_or("")
            ),
            "refund" => format!(
                "refunded {}",
                args.get("amount").cloned().unwrap_or(Value::Null)
            ),
            other => format!("{other} done"),
        };
        Ok(CallToolResult::success(vec![ContentBlock::text(text)]).into())
    }
}

/// Every `Authorization` header the upstream received (`None` for a request without one).
type Seen = Arc<Mutex<Vec<Option<String>>>>;

async fn record_authorization(
    axum::extract::State(seen): axum::extract::State<Seen>,
    request: Request,
    next: Next,
) -> Response {
    let value = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    seen.lock().unwrap().push(value);
    next.run(request).await
}

async fn start_upstream() -> (String, Seen) {
    let service: StreamableHttpService<TestUpstream, LocalSessionManager> =
        StreamableHttpService::new(
            || Ok(TestUpstream),
            Default::default(),
            StreamableHttpServerConfig::default(),
        );
    let seen: Seen = Arc::default();
    let router =
        axum::Router::new()
            .nest_service("/mcp", service)
            .layer(middleware::from_fn_with_state(
                seen.clone(),
                record_authorization,
            ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (format!("http://{addr}/mcp"), seen)
}

// ---------------------------------------------------------------------------------------------
// The gateway under test.

struct Harness {
    _dir: tempfile::TempDir,
    base: String,
    authority: TokenAuthority,
    revocations: Arc<MemoryRevocationList>,
    approvals: Arc<MemoryApprovalQueue>,
    grant_uses: Arc<MemoryGrantUses>,
    upstream_seen: Seen,
    http: reqwest::Client,
    /// The gateway's clock: the wall clock, moved by `ShiftedClock::shift`.
    clock: Arc<ShiftedClock>,
}

/// The wall clock plus an offset a test can move (to make tokens expire for the gateway).
#[derive(Default)]
struct ShiftedClock(Mutex<Duration>);

impl ShiftedClock {
    fn shift(&self, by: Duration) {
        *self.0.lock().unwrap() = by;
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        SystemClock.now() + *self.0.lock().unwrap()
    }
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

async fn start(max_body: usize) -> Harness {
    start_with(max_body, "").await
}

/// A gateway whose gateway.toml ends with `extra` (more tables, e.g. `[oauth]`).
async fn start_with(max_body: usize, extra: &str) -> Harness {
    let (upstream_url, upstream_seen) = start_upstream().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let authority = TokenAuthority::generate();
    std::fs::write(dir.path().join("root.key"), authority.private_key_hex()).unwrap();
    std::fs::write(
        dir.path().join("upstream.token"),
        format!("{UPSTREAM_SECRET}\n"),
    )
    .unwrap();
    let config_text = format!(
        r#"
version = 1
[server]
listen = "127.0.0.1:0"
max_body_bytes = {max_body}
resource = "http://{addr}"
authorization_servers = ["https://idp.example.com"]

[[upstream]]
name = "rust"
url = "{upstream_url}"
auth_header_file = "upstream.token"

[[upstream]]
name = "time"
command = ["mcp-server-time", "--local-timezone", "UTC"]

[[upstream]]
name = "envcheck"
command = ["python3", "{env_server}"]
env = {{ GREETING = "hi" }}

[tools."rust::fetch"]
labels = ["untrusted_input"]
[tools."rust::crm"]
labels = ["sensitive_data"]
[tools."rust::send"]
labels = ["external_action"]

[policy]
schema = "{schema}"
files = ["{policies}"]

[tokens]
root_key_file = "root.key"

[agents.bot]
owner = "alice@example.com"
owner_active = true
tier = "production"
risk = 10

{extra}
"#,
        schema = data("schema.cedarschema").display(),
        policies = data("policies.cedar").display(),
        env_server = data("env_server.py").display(),
    );
    let config_path = dir.path().join("gateway.toml");
    std::fs::write(&config_path, &config_text).unwrap();
    let config = GatewayConfig::from_toml(&config_text, "gateway.toml").unwrap();
    let revocations = Arc::new(MemoryRevocationList::default());
    let approvals = Arc::new(MemoryApprovalQueue::default());
    let grant_uses = Arc::new(MemoryGrantUses::default());
    let state = State {
        agents: Arc::new(warrant_gateway_proxy::load::directory(&config_path, &config).unwrap()),
        taint: Arc::new(MemoryTaintStore::default()),
        revocations: revocations.clone(),
        approvals: approvals.clone(),
        grant_uses: grant_uses.clone(),
    };
    let clock = Arc::new(ShiftedClock::default());
    let options = Options {
        path: std::env::var_os("PATH"),
        env: Box::new(|_| None),
        clock: clock.clone(),
    };
    let gateway = Arc::new(
        warrant_gateway_proxy::build_with_state(&config_path, config, state, options).unwrap(),
    );
    tokio::spawn(gateway.serve(listener, std::future::pending()));
    Harness {
        _dir: dir,
        base: format!("http://{addr}"),
        authority,
        revocations,
        approvals,
        grant_uses,
        upstream_seen,
        http: reqwest::Client::new(),
        clock,
    }
}

fn now() -> DateTime<Utc> {
    SystemClock.now()
}

impl Harness {
    fn token(&self, agent: &str, task: &str, tools: &[&str]) -> String {
        self.token_until(agent, task, tools, now() + Duration::hours(1))
    }

    fn token_until(
        &self,
        agent: &str,
        task: &str,
        tools: &[&str],
        expires: DateTime<Utc>,
    ) -> String {
        self.authority
            .mint(&Grant {
                agent: agent.to_string(),
                task: task.to_string(),
                tools: tools.iter().map(|t| (*t).to_string()).collect(),
                args: Vec::new(),
                expires,
            })
            .unwrap()
            .token
    }

    fn url(&self, server: &str) -> String {
        format!("{}/mcp/{server}", self.base)
    }

    /// POSTs a raw body; returns the status, headers and the JSON body (Null if none).
    async fn post_raw(
        &self,
        server: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: String,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut request = self
            .http
            .post(self.url(server))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, headers, body)
    }

    async fn rpc(&self, server: &str, token: &str, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let (status, _, body) = self
            .post_raw(server, Some(token), &[], body.to_string())
            .await;
        assert_eq!(status, 200, "{method}: {body}");
        body
    }

    async fn call(&self, token: &str, tool: &str, arguments: Value) -> Value {
        self.rpc(
            "rust",
            token,
            "tools/call",
            json!({"name": tool, "arguments": arguments}),
        )
        .await
    }
}

fn text_of(response: &Value) -> String {
    response["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text result: {response}"))
        .to_string()
}

fn error_of(response: &Value) -> (i64, String) {
    let error = &response["error"];
    (
        error["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("no error: {response}")),
        error["message"].as_str().unwrap_or("").to_string(),
    )
}

const ALL_RUST: &[&str] = &[
    "rust::echo",
    "rust::fs_write",
    "rust::refund",
    "rust::fetch",
    "rust::crm",
    "rust::send",
    "rust::secret_tool",
];

// ---------------------------------------------------------------------------------------------
// Tests.

#[tokio::test]
async fn allows_denies_on_arguments_and_never_forwards_the_agent_token() {
    let h = start(1 << 20).await;
    let token = h.token("bot", "t1", ALL_RUST);
    assert_eq!(
        text_of(&h.call(&token, "echo", json!({"text": "hi"})).await),
        "hi"
    );
    assert_eq!(
        text_of(
            &h.call(
                &token,
                "fs_write",
                json!({"path": "/workspace/a.txt", "content": "abc"})
            )
            .await
        ),
        "wrote 3 bytes to /workspace/a.txt"
    );
    let (code, message) = error_of(
        &h.call(
            &token,
            "fs_write",
            json!({"path": "/etc/passwd", "content": "x"}),
        )
        .await,
    );
    assert_eq!(code, warrant_gateway_proxy::jsonrpc::DENIED);
    assert_eq!(message, "fs_write may only write under /workspace");
    let (code, _) = error_of(&h.call(&token, "secret_tool", json!({})).await);
    assert_eq!(code, warrant_gateway_proxy::jsonrpc::DENIED);
    // A secret in a tool's result reaches the agent only as a redacted preview.
    let secret = "glpat-Q7w_Zk2Rm9Tx4Vb-8Nc1";
    let echoed = text_of(
        &h.call(&token, "echo", json!({"text": format!("token={secret}")}))
            .await,
    );
    assert!(!echoed.contains(secret), "{echoed}");
    assert!(
        echoed.starts_with("token=") && echoed.contains("[redacted]"),
        "{echoed}"
    );

    // The upstream saw the gateway's own credential on every request, never the agent's token.
    let seen = h.upstream_seen.lock().unwrap().clone();
    assert!(!seen.is_empty());
    for header in &seen {
        assert_eq!(
            header.as_deref(),
            Some(format!("Bearer {UPSTREAM_SECRET}").as_str())
        );
        assert!(!header.as_deref().unwrap_or("").contains(&token));
    }
}

#[tokio::test]
async fn lists_only_the_tools_policy_and_token_allow() {
    let h = start(1 << 20).await;
    let names = |response: &Value| -> BTreeSet<String> {
        response["result"]["tools"]
            .as_array()
            .unwrap_or_else(|| panic!("{response}"))
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    };
    let full = h.token("bot", "t", ALL_RUST);
    let listed = names(&h.rpc("rust", &full, "tools/list", json!({})).await);
    assert!(listed.contains("echo") && listed.contains("fs_write") && listed.contains("refund"));
    assert!(
        !listed.contains("secret_tool"),
        "the policy forbids it whatever the arguments"
    );

    let narrow = h.token("bot", "t", &["rust::echo", "rust::secret_tool"]);
    let listed = names(&h.rpc("rust", &narrow, "tools/list", json!({})).await);
    assert_eq!(listed, BTreeSet::from(["echo".to_string()]));
}

#[tokio::test]
async fn refuses_missing_expired_and_revoked_tokens() {
    let h = start(1 << 20).await;
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string();

    let (status, headers, _) = h.post_raw("rust", None, &[], body.clone()).await;
    assert_eq!(status, 401);
    let challenge = headers["www-authenticate"].to_str().unwrap().to_string();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    let metadata_url = challenge
        .split("resource_metadata=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let metadata: Value = h
        .http
        .get(&metadata_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["resource"], format!("{}/mcp/rust", h.base));
    assert_eq!(
        metadata["authorization_servers"],
        json!(["https://idp.example.com"])
    );

    let (status, _, _) = h
        .post_raw("rust", Some("not-a-token"), &[], body.clone())
        .await;
    assert_eq!(status, 401);

    let expired = h.token_until("bot", "t", ALL_RUST, now() - Duration::minutes(1));
    let (status, headers, _) = h.post_raw("rust", Some(&expired), &[], body.clone()).await;
    assert_eq!(status, 401);
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );

    let other_key = TokenAuthority::generate()
        .mint(&Grant {
            agent: "bot".into(),
            task: "t".into(),
            tools: vec!["rust::echo".into()],
            args: Vec::new(),
            expires: now() + Duration::hours(1),
        })
        .unwrap();
    let (status, _, _) = h
        .post_raw("rust", Some(&other_key.token), &[], body.clone())
        .await;
    assert_eq!(status, 401, "a token signed by another root key");

    let token = h.token("bot", "t", ALL_RUST);
    assert_eq!(
        text_of(&h.call(&token, "echo", json!({"text": "before"})).await),
        "before"
    );
    let first = token::revocation_ids(&token).unwrap()[0].clone();
    h.revocations.revoke(&first);
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "after"}}});
    let (status, _, body) = h
        .post_raw("rust", Some(&token), &[], call.to_string())
        .await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
}

#[tokio::test]
async fn an_attenuated_token_is_narrower() {
    let h = start(1 << 20).await;
    let parent = h.token("bot", "t", ALL_RUST);
    let child = token::attenuate(
        &parent,
        &Narrowing {
            tools: Some(vec!["rust::echo".into()]),
            args: vec![ArgConstraint::parse("text=hello*").unwrap()],
            expires: None,
        },
    )
    .unwrap()
    .token;
    assert_eq!(
        text_of(&h.call(&child, "echo", json!({"text": "hello you"})).await),
        "hello you"
    );
    let (code, message) = error_of(&h.call(&child, "echo", json!({"text": "bye"})).await);
    assert_eq!(code, warrant_gateway_proxy::jsonrpc::DENIED);
    assert!(message.contains("constraint"), "{message}");
    let (code, message) = error_of(
        &h.call(&child, "fs_write", json!({"path": "/workspace/x"}))
            .await,
    );
    assert_eq!(code, warrant_gateway_proxy::jsonrpc::DENIED);
    assert!(
        message.contains("does not allow the tool rust::fs_write"),
        "{message}"
    );
    // The parent still may.
    text_of(
        &h.call(&parent, "fs_write", json!({"path": "/workspace/x"}))
            .await,
    );
    // Uses count for the root grant; refusals are calls outside it.
    let grant = token::revocation_ids(&parent).unwrap()[0].clone();
    assert_eq!(h.grant_uses.uses(&grant), (2, 2));

    // An attenuation that expired already: 401, though the parent's expiry is later.
    let expired = token::attenuate(
        &parent,
        &Narrowing {
            tools: None,
            args: Vec::new(),
            expires: Some(now() - Duration::minutes(1)),
        },
    )
    .unwrap()
    .token;
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "x"}}});
    let (status, _, _) = h
        .post_raw("rust", Some(&expired), &[], call.to_string())
        .await;
    assert_eq!(status, 401);
    let ping = json!({"jsonrpc": "2.0", "id": 3, "method": "ping"});
    let (status, _, _) = h
        .post_raw("rust", Some(&expired), &[], ping.to_string())
        .await;
    assert_eq!(status, 401, "no method outlives an attenuated expiry");
}

#[tokio::test]
async fn approval_is_required_then_granted_for_that_exact_call() {
    let h = start(1 << 20).await;
    let token = h.token("bot", "refunds", ALL_RUST);
    assert_eq!(
        text_of(&h.call(&token, "refund", json!({"amount": 50})).await),
        "refunded 50"
    );

    let held = h.call(&token, "refund", json!({"amount": 500})).await;
    let (code, message) = error_of(&held);
    assert_eq!(code, warrant_gateway_proxy::jsonrpc::APPROVAL_REQUIRED);
    assert!(message.contains("refunds over 100"), "{message}");
    let id = held["error"]["data"]["approval_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        id,
        warrant_gateway_proxy::approval_id(
            "bot",
            Some("refunds"),
            "rust::refund",
            &json!({"amount": 500})
        )
    );
    assert_eq!(h.approvals.pending().len(), 1);

    // Still held until a human decides; then the same call goes through.
    let (code, _) = error_of(&h.call(&token, "refund", json!({"amount": 500})).await);
    assert_eq!(code, warrant_gateway_proxy::jsonrpc::APPROVAL_REQUIRED);
    assert!(h.approvals.decide(&id, true).await.unwrap());
    assert_eq!(
        text_of(&h.call(&token, "refund", json!({"amount": 500})).await),
        "refunded 500"
    );
    // The approval covered that one call: made again, it is held again.
    let replay = h.call(&token, "refund", json!({"amount": 500})).await;
    assert_eq!(
        error_of(&replay).0,
        warrant_gateway_proxy::jsonrpc::APPROVAL_REQUIRED,
        "an approval is spent by its call"
    );

    // A changed call needs its own approval; a denied one is refused.
    let other = h.call(&token, "refund", json!({"amount": 501})).await;
    assert_eq!(
        error_of(&other).0,
        warrant_gateway_proxy::jsonrpc::APPROVAL_REQUIRED
    );
    let other_id = other["error"]["data"]["approval_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(other_id, id);
    assert!(h.approvals.decide(&other_id, false).await.unwrap());
    let (code, message) = error_of(&h.call(&token, "refund", json!({"amount": 501})).await);
    assert_eq!(code, warrant_gateway_proxy::jsonrpc::DENIED);
    assert!(message.contains("denied"), "{message}");
}

#[tokio::test]
async fn taint_blocks_the_third_leg() {
    let h = start(1 << 20).await;
    let token = h.token("bot", "research", ALL_RUST);
    text_of(&h.call(&token, "fetch", json!({})).await);
    text_of(&h.call(&token, "crm", json!({})).await);
    let (code, message) = error_of(&h.call(&token, "send", json!({})).await);
    assert_eq!(code, warrant_gateway_proxy::jsonrpc::APPROVAL_REQUIRED);
    assert!(message.contains("Rule of Two"), "{message}");
    // A sub-agent's attenuated token shares its task's taint.
    let child = token::attenuate(
        &token,
        &Narrowing {
            tools: Some(vec!["rust::send".into()]),
            ..Narrowing::default()
        },
    )
    .unwrap()
    .token;
    assert_eq!(
        error_of(&h.call(&child, "send", json!({})).await).0,
        warrant_gateway_proxy::jsonrpc::APPROVAL_REQUIRED
    );
    // Two legs sent at once on a task that holds the third: one goes through, the other is
    // held, never both against the same old taint.
    let racing = h.token("bot", "race", ALL_RUST);
    text_of(&h.call(&racing, "crm", json!({})).await);
    let (fetch, send) = tokio::join!(
        h.call(&racing, "fetch", json!({})),
        h.call(&racing, "send", json!({}))
    );
    let held = [&fetch, &send]
        .iter()
        .filter(|r| r["error"]["code"] == warrant_gateway_proxy::jsonrpc::APPROVAL_REQUIRED)
        .count();
    assert_eq!(held, 1, "{fetch} {send}");
    // Another task has no taint.
    let fresh = h.token("bot", "mail", ALL_RUST);
    assert_eq!(
        text_of(&h.call(&fresh, "send", json!({})).await),
        "send done"
    );
}

#[tokio::test]
async fn malformed_oversized_and_unknown_requests_get_clear_errors() {
    let h = start(64 * 1024).await;
    let token = h.token("bot", "t", ALL_RUST);

    let (status, _, body) = h
        .post_raw("rust", Some(&token), &[], "{not json".into())
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], -32700);

    let (status, _, body) = h.post_raw("rust", Some(&token), &[], "[]".into()).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], -32600);

    let (status, _, body) = h
        .post_raw(
            "rust",
            Some(&token),
            &[],
            json!({"jsonrpc": "2.0", "id": 1}).to_string(),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], -32600);

    let big = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "x".repeat(100 * 1024)}}});
    let (status, _, body) = h.post_raw("rust", Some(&token), &[], big.to_string()).await;
    assert_eq!(status, 413);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("65536 bytes")
    );

    let unknown = h.rpc("rust", &token, "tools/explode", json!({})).await;
    assert_eq!(unknown["error"]["code"], -32601);

    // Routing headers must agree with the body.
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "x"}}});
    let (status, _, _) = h
        .post_raw(
            "rust",
            Some(&token),
            &[("mcp-method", "tools/list")],
            call.to_string(),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _, body) = h
        .post_raw(
            "rust",
            Some(&token),
            &[("mcp-method", "tools/call"), ("mcp-name", "echo")],
            call.to_string(),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(text_of(&body), "x");

    // Notifications are accepted; the gateway still serves afterwards.
    let (status, _, _) = h
        .post_raw("rust", Some(&token), &[], json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}}).to_string())
        .await;
    assert_eq!(status, 202);
    assert_eq!(
        text_of(&h.call(&token, "echo", json!({"text": "still here"})).await),
        "still here"
    );
}

#[tokio::test]
async fn concurrent_sessions_stay_apart() {
    let h = start(1 << 20).await;
    let alice = h.token("bot", "a", ALL_RUST);
    let bob = h.token("other-bot", "b", ALL_RUST);
    let init = |token: String| {
        let h = &h;
        async move {
            let body = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
            let (status, headers, body) = h
                .post_raw("rust", Some(&token), &[], body.to_string())
                .await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["result"]["protocolVersion"], "2025-11-25");
            headers["mcp-session-id"].to_str().unwrap().to_string()
        }
    };
    let (session_a, session_b) = tokio::join!(init(alice.clone()), init(bob.clone()));
    assert_ne!(session_a, session_b);

    let echo = |token: String, session: String, text: String| {
        let h = &h;
        async move {
            let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": text}}});
            let (status, _, body) = h
                .post_raw(
                    "rust",
                    Some(&token),
                    &[("mcp-session-id", &session)],
                    body.to_string(),
                )
                .await;
            (status, body)
        }
    };
    let mut calls = Vec::new();
    for i in 0..10 {
        calls.push(echo(alice.clone(), session_a.clone(), format!("a{i}")));
        calls.push(echo(bob.clone(), session_b.clone(), format!("b{i}")));
    }
    // Polled together: every request is in flight before the first answer is read.
    let results = futures_util::future::join_all(calls).await;
    for (i, (status, body)) in results.iter().enumerate() {
        assert_eq!(*status, 200);
        let expected = if i % 2 == 0 {
            format!("a{}", i / 2)
        } else {
            format!("b{}", i / 2)
        };
        assert_eq!(text_of(body), expected);
    }
    // One agent cannot use another's session.
    let (status, body) = echo(bob.clone(), session_a.clone(), "x".into()).await;
    assert_eq!(status, 404, "{body}");
    // Ending a session.
    let response = h
        .http
        .delete(h.url("rust"))
        .bearer_auth(&alice)
        .header("mcp-session-id", &session_a)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    let (status, _) = echo(alice.clone(), session_a.clone(), "x".into()).await;
    assert_eq!(status, 404);
}

// ---------------------------------------------------------------------------------------------
// Official Python parts: `mcp-server-time` upstream (stdio) and the `mcp` client as the agent.

/// Whether a Python part is installed; under CI (`CI` set) a missing one fails the test, as
/// `scripts/test` installs it; elsewhere the test is skipped with a note.
fn python_part(check: &str, what: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", check])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let message = format!("{what} is not installed: pip install mcp mcp-server-time");
        if std::env::var_os("CI").is_some() {
            panic!("{message} (required under CI)");
        }
        eprintln!("skipped: {message}");
    }
    ok
}

fn have_time_server() -> bool {
    python_part("import mcp_server_time", "mcp-server-time")
        && Command::new("mcp-server-time")
            .arg("--help")
            .output()
            .is_ok_and(|o| o.status.success())
}

fn have_python_client() -> bool {
    python_part("import mcp.client.streamable_http", "the Python mcp SDK")
}

#[tokio::test]
async fn fronts_the_official_time_server_over_stdio() {
    if !have_time_server() {
        return;
    }
    let h = start(1 << 20).await;
    let token = h.token("bot", "t", &["time::get_current_time"]);
    let listed = h.rpc("time", &token, "tools/list", json!({})).await;
    let names: Vec<&str> = listed["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"))
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["get_current_time"],
        "convert_time is not in the token"
    );
    let now = h
        .rpc(
            "time",
            &token,
            "tools/call",
            json!({"name": "get_current_time", "arguments": {"timezone": "UTC"}}),
        )
        .await;
    assert!(text_of(&now).contains("UTC"), "{now}");
    let refused = h
        .rpc(
            "time",
            &token,
            "tools/call",
            json!({"name": "convert_time", "arguments": {}}),
        )
        .await;
    assert_eq!(error_of(&refused).0, warrant_gateway_proxy::jsonrpc::DENIED);
}

fn run_python_agent(url: &str, token: &str, era: &str, calls: &[(&str, Value)]) -> Value {
    let mut command = Command::new("python3");
    command.arg(data("agent.py")).arg(url).arg(token).arg(era);
    for (tool, args) in calls {
        command.arg(tool).arg(args.to_string());
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "agent.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test]
async fn the_official_python_client_is_allowed_and_denied() {
    if !have_python_client() {
        return;
    }
    let h = start(1 << 20).await;
    let token = h.token("bot", "py", &["rust::echo", "rust::fs_write"]);
    for (era, version) in [("handshake", "2025-11-25"), ("modern", "2026-07-28")] {
        let url = h.url("rust");
        let token = token.clone();
        let out = tokio::task::spawn_blocking(move || {
            run_python_agent(
                &url,
                &token,
                era,
                &[
                    ("echo", json!({"text": "from python"})),
                    (
                        "fs_write",
                        json!({"path": "/etc/cron.d/x", "content": "boom"}),
                    ),
                ],
            )
        })
        .await
        .unwrap();
        assert_eq!(out["protocol_version"], version, "{out}");
        assert_eq!(out["tools"], json!(["echo", "fs_write"]));
        assert_eq!(out["calls"][0]["text"], json!(["from python"]));
        assert_eq!(
            out["calls"][1]["error"]["code"],
            warrant_gateway_proxy::jsonrpc::DENIED
        );
        assert_eq!(
            out["calls"][1]["error"]["message"],
            "fs_write may only write under /workspace"
        );
    }
}

#[tokio::test]
async fn a_stdio_upstream_gets_path_and_its_env_only() {
    if !have_python_client() {
        return;
    }
    // Variables of the gateway's own process (cargo sets these for tests, as a shell's HOME is).
    assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
    let h = start(1 << 20).await;
    let token = h.token("bot", "t", &["envcheck::environment"]);
    let response = h
        .rpc(
            "envcheck",
            &token,
            "tools/call",
            json!({"name": "environment", "arguments": {}}),
        )
        .await;
    let names: BTreeSet<String> = text_of(&response).split(',').map(str::to_string).collect();
    assert!(
        names.contains("PATH") && names.contains("GREETING"),
        "{names:?}"
    );
    // Only what a launcher adds itself (a pyenv shim is a shell script; Python may set the
    // locale) besides PATH and GREETING: nothing of the gateway's environment.
    for name in &names {
        let launcher = ["PWD", "SHLVL", "_", "LC_CTYPE", "OLDPWD"].contains(&name.as_str())
            || name.contains("PYENV");
        assert!(
            launcher || name == "PATH" || name == "GREETING",
            "the upstream saw {name}: {names:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The official Rust SDK as the agent: the 2025-11-25 handshake, and 2026-07-28 (stateless,
// `server/discover`, no session).

async fn rmcp_agent(
    url: &str,
    token: &str,
    modern: bool,
) -> rmcp::service::RunningService<rmcp::RoleClient, ()> {
    use rmcp::ServiceExt as _;
    use rmcp::service::{ClientLifecycleMode, ClientServiceExt as _};
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

    let config = StreamableHttpClientTransportConfig::with_uri(url).auth_header(token);
    let transport = StreamableHttpClientTransport::from_config(config);
    if modern {
        ().serve_with_lifecycle(
            transport,
            ClientLifecycleMode::Discover {
                preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .unwrap()
    } else {
        ().serve(transport).await.unwrap()
    }
}

#[tokio::test]
async fn the_rust_sdk_client_speaks_both_protocol_eras_through_the_gateway() {
    let h = start(1 << 20).await;
    let token = h.token("bot", "sdk", ALL_RUST);
    for modern in [false, true] {
        let agent = rmcp_agent(&h.url("rust"), &token, modern).await;
        let expected = if modern { "2026-07-28" } else { "2025-11-25" };
        assert_eq!(
            agent
                .peer()
                .peer_info()
                .map(|i| i.protocol_version.to_string())
                .as_deref(),
            Some(expected)
        );
        let tools: BTreeSet<String> = agent
            .peer()
            .list_all_tools()
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.name.to_string())
            .collect();
        assert!(
            tools.contains("echo") && !tools.contains("secret_tool"),
            "{tools:?}"
        );
        let mut call = CallToolRequestParams::new("echo");
        call.arguments = json!({"text": "via rmcp"}).as_object().cloned();
        let result = agent.peer().call_tool(call).await.unwrap();
        assert_eq!(
            serde_json::to_value(&result.content).unwrap()[0]["text"],
            "via rmcp",
            "modern: {modern}"
        );
        let mut call = CallToolRequestParams::new("fs_write");
        call.arguments = json!({"path": "/etc/passwd"}).as_object().cloned();
        match agent.peer().call_tool(call).await {
            Err(rmcp::service::ServiceError::McpError(error)) => {
                assert_eq!(
                    i64::from(error.code.0),
                    warrant_gateway_proxy::jsonrpc::DENIED
                );
                assert_eq!(error.message, "fs_write may only write under /workspace");
            }
            other => panic!("expected a denial (modern: {modern}), got {other:?}"),
        }
        let _ = agent.cancel().await;
    }
}

#[tokio::test]
async fn resources_and_prompts_are_decided_too() {
    let h = start(1 << 20).await;
    let token = h.token("bot", "t", ALL_RUST);
    let listed = h.rpc("rust", &token, "resources/list", json!({})).await;
    assert_eq!(
        listed["result"]["resources"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );
    let read = h
        .rpc(
            "rust",
            &token,
            "resources/read",
            json!({"uri": "file:///workspace/readme.md"}),
        )
        .await;
    assert_eq!(
        read["result"]["contents"][0]["text"], "contents of file:///workspace/readme.md",
        "{read}"
    );
    let refused = h
        .rpc(
            "rust",
            &token,
            "resources/read",
            json!({"uri": "file:///etc/shadow"}),
        )
        .await;
    let (code, message) = error_of(&refused);
    assert_eq!(code, warrant_gateway_proxy::jsonrpc::DENIED);
    assert!(message.contains("no policy allows agent bot"), "{message}");

    let prompts = h.rpc("rust", &token, "prompts/list", json!({})).await;
    assert_eq!(
        prompts["result"]["prompts"].as_array().map(Vec::len),
        Some(2),
        "{prompts}"
    );
    let greet = h
        .rpc("rust", &token, "prompts/get", json!({"name": "greet"}))
        .await;
    assert_eq!(
        greet["result"]["messages"][0]["content"]["text"], "prompt greet",
        "{greet}"
    );
    let refused = h
        .rpc("rust", &token, "prompts/get", json!({"name": "jailbreak"}))
        .await;
    assert_eq!(error_of(&refused).0, warrant_gateway_proxy::jsonrpc::DENIED);
    let missing = h.rpc("rust", &token, "prompts/get", json!({})).await;
    assert_eq!(error_of(&missing).0, -32602);
}

// ---------------------------------------------------------------------------------------------
// OAuth 2.1 access tokens from a real authorization server: the npm package `oidc-provider`
// (tests/oidc-provider/provider.mjs, installed by scripts/test) issuing client-credentials
// JWTs with resource indicators.

const CLIENT_SECRET: &str = "a client secret for the gateway's test issuer";

/// The authorization server's node process: killed when dropped.
struct Issuer {
    child: std::process::Child,
    issuer: String,
    port: u16,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn oidc_provider_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc-provider");
    let node = Command::new("node").arg("--version").output().is_ok();
    if !node || !dir.join("node_modules/oidc-provider").is_dir() {
        let message = format!(
            "Node.js or oidc-provider is missing (run `npm ci` in {}; scripts/test does)",
            dir.display()
        );
        assert!(
            std::env::var_os("CI").is_none(),
            "{message}: required under CI"
        );
        eprintln!("skipped: {message}");
        return None;
    }
    Some(dir)
}

/// Starts the issuer on `port` (0: any), signing with the key in `key_file` (made if absent).
fn start_issuer(dir: &Path, key_file: &Path, port: u16) -> Issuer {
    use std::io::{BufRead, BufReader};
    let clients = json!([
        {"client_id": "bot", "client_secret": CLIENT_SECRET},
        {"client_id": "tasked-bot", "client_secret": CLIENT_SECRET, "task": "ticket-42"},
    ]);
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .arg(port.to_string())
        .current_dir(dir)
        .env("GW_OIDC_KEY_FILE", key_file)
        .env("GW_OIDC_CLIENTS", clients.to_string())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (ready_tx, ready) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(issuer) = line.strip_prefix("READY ") {
                let _ = ready_tx.send(issuer.to_string());
            }
        }
    });
    let issuer = ready
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the authorization server did not start");
    let port = issuer.rsplit(':').next().unwrap().parse().unwrap();
    Issuer {
        child,
        issuer,
        port,
    }
}

impl Issuer {
    /// A client-credentials access token for `resource` (RFC 8707).
    async fn token(&self, client: &str, resource: &str) -> String {
        let response: Value = reqwest::Client::new()
            .post(format!("{}/token", self.issuer))
            .basic_auth(client, Some(CLIENT_SECRET))
            .form(&[
                ("grant_type", "client_credentials"),
                ("resource", resource),
                ("scope", "mcp"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        response["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access token: {response}"))
            .to_string()
    }
}

/// A refused request's status, challenge and message.
async fn refused(h: &Harness, server: &str, token: &str) -> (u16, String, String) {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "hi"}}});
    let (status, headers, body) = h.post_raw(server, Some(token), &[], body.to_string()).await;
    let challenge = headers
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let message = body["error"]["message"].as_str().unwrap_or("").to_string();
    (status, challenge, message)
}

#[tokio::test]
async fn oauth_access_tokens_from_a_real_issuer() {
    let Some(dir) = oidc_provider_dir() else {
        return;
    };
    let keys = tempfile::tempdir().unwrap();
    let issuer = start_issuer(&dir, &keys.path().join("k1.json"), 0);
    let h = start_with(
        1 << 20,
        &format!(
            r#"[oauth]
issuer = "{}"
agent_claim = "client_id"
task_claim = "task"
jwks_min_refetch = "1s"
"#,
            issuer.issuer
        ),
    )
    .await;

    // The metadata sends agents to the issuer.
    let metadata: Value = h
        .http
        .get(format!(
            "{}/.well-known/oauth-protected-resource/mcp/rust",
            h.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["resource"], h.url("rust"));
    assert_eq!(metadata["authorization_servers"][0], issuer.issuer);

    // A token whose audience is the server's endpoint: the policy decides each call.
    let token = issuer.token("bot", &h.url("rust")).await;
    assert_eq!(
        text_of(&h.call(&token, "echo", json!({"text": "hi"})).await),
        "hi"
    );
    let (code, message) = error_of(
        &h.call(
            &token,
            "fs_write",
            json!({"path": "/etc/passwd", "content": "x"}),
        )
        .await,
    );
    assert_eq!(code, warrant_gateway_proxy::jsonrpc::DENIED);
    assert_eq!(message, "fs_write may only write under /workspace");
    let listed = h.rpc("rust", &token, "tools/list", json!({})).await;
    let names: Vec<&str> = listed["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"echo") && !names.contains(&"secret_tool"),
        "{names:?}"
    );
    // Its taint is the token's own: two legs, then the third is held.
    text_of(&h.call(&token, "fetch", json!({})).await);
    text_of(&h.call(&token, "crm", json!({})).await);
    assert_eq!(
        error_of(&h.call(&token, "send", json!({})).await).0,
        warrant_gateway_proxy::jsonrpc::APPROVAL_REQUIRED
    );
    // A token of the gateway's base resource is good for every server; another token (jti)
    // starts clean.
    let base_token = issuer.token("bot", &h.base).await;
    assert_eq!(
        text_of(&h.call(&base_token, "send", json!({})).await),
        "send done"
    );
    // A task claim names the task of held calls (and keys the taint).
    let tasked = issuer.token("tasked-bot", &h.url("rust")).await;
    assert_eq!(
        error_of(&h.call(&tasked, "refund", json!({"amount": 500})).await).0,
        warrant_gateway_proxy::jsonrpc::APPROVAL_REQUIRED
    );
    let pending = h.approvals.pending();
    let held = pending.iter().find(|r| r.agent == "tasked-bot").unwrap();
    assert_eq!(held.task.as_deref(), Some("ticket-42"));
    // Task tokens still work beside access tokens.
    let task_token = h.token("bot", "t", ALL_RUST);
    assert_eq!(
        text_of(
            &h.call(&task_token, "echo", json!({"text": "biscuit"}))
                .await
        ),
        "biscuit"
    );

    // The upstream never saw an access token: only the gateway's own credential.
    for header in h.upstream_seen.lock().unwrap().iter() {
        assert_eq!(
            header.as_deref(),
            Some(format!("Bearer {UPSTREAM_SECRET}").as_str())
        );
    }

    // Another resource's token, and this server's token at another server's endpoint.
    for (server, resource) in [
        ("rust", "http://127.0.0.1:1/mcp/rust".to_string()),
        ("envcheck", h.url("rust")),
    ] {
        let other = issuer.token("bot", &resource).await;
        let (status, challenge, message) = refused(&h, server, &other).await;
        assert_eq!(status, 401, "{resource} at {server}");
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        assert!(challenge.contains("resource_metadata=\""), "{challenge}");
        assert!(message.contains("audience"), "{message}");
    }

    // Another issuer signing with the very same key: refused on `iss`.
    let impostor = start_issuer(&dir, &keys.path().join("k1.json"), 0);
    let foreign = impostor.token("bot", &h.url("rust")).await;
    let (status, _, message) = refused(&h, "rust", &foreign).await;
    assert_eq!(status, 401);
    assert!(message.contains("another issuer"), "{message}");
    drop(impostor);

    // Expired, by the gateway's clock (beyond the leeway).
    h.clock.shift(Duration::hours(2));
    let (status, challenge, message) = refused(&h, "rust", &token).await;
    assert_eq!(status, 401);
    assert!(message.contains("expired"), "{message}");
    assert!(challenge.contains("invalid_token"), "{challenge}");
    h.clock.shift(Duration::zero());

    // The issuer rotates its key (restarted on its port with a new one): a token with the new
    // `kid` makes the gateway fetch the keys again, and the old key is gone with them.
    let port = issuer.port;
    let issuer_url = issuer.issuer.clone();
    drop(issuer);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let rotated = start_issuer(&dir, &keys.path().join("k2.json"), port);
    assert_eq!(rotated.issuer, issuer_url);
    let fresh = rotated.token("bot", &h.url("rust")).await;
    assert_eq!(
        text_of(&h.call(&fresh, "echo", json!({"text": "rotated"})).await),
        "rotated"
    );
    let (status, _, message) = refused(&h, "rust", &token).await;
    assert_eq!(status, 401);
    assert!(message.contains("does not publish"), "{message}");
}
