//! A fast MCP server over Streamable HTTP for `bench/gateway/proxy.sh`: the upstream that the
//! load generator calls directly, through nginx and through the gateway. It lists `tool0` …
//! `tool24` and answers every `tools/call` at once with a short text, in JSON (no SSE stream) and
//! without sessions, so each POST is one complete call that a load generator can replay.
//!
//! Run: `cargo run --release -p warrant-gateway-proxy --example bench_upstream [ADDR]`
//! (default `127.0.0.1:0`); it prints `http://ADDR/mcp` on its first line once it listens.
#![allow(
    clippy::print_stdout,
    reason = "the script reads the address from stdout"
)]

use std::io::Write as _;
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Map, Value};

/// Tools per server, as in `bench/gateway/decision_bench.rs`'s policy set.
const TOOLS: usize = 25;

#[derive(Clone)]
struct BenchUpstream {
    tools: Arc<Vec<Tool>>,
}

impl BenchUpstream {
    fn new() -> BenchUpstream {
        let mut properties = Map::new();
        for name in ["repo", "path"] {
            let mut property = Map::new();
            property.insert("type".into(), Value::from("string"));
            properties.insert(name.into(), Value::Object(property));
        }
        let mut schema = Map::new();
        schema.insert("type".into(), Value::from("object"));
        schema.insert("properties".into(), Value::Object(properties));
        let schema = Arc::new(schema);
        let tools = (0..TOOLS)
            .map(|t| Tool::new(format!("tool{t}"), "A benchmark tool", schema.clone()))
            .collect();
        BenchUpstream {
            tools: Arc::new(tools),
        }
    }
}

impl ServerHandler for BenchUpstream {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.to_vec()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        Ok(
            CallToolResult::success(vec![ContentBlock::text(format!("{} done", request.name))])
                .into(),
        )
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_string());
    let config = StreamableHttpServerConfig::default()
        // No sessions and plain JSON answers: one POST is one call, replayable by a load
        // generator without a handshake.
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None);
    let upstream = BenchUpstream::new();
    let service: StreamableHttpService<BenchUpstream, LocalSessionManager> =
        StreamableHttpService::new(move || Ok(upstream.clone()), Arc::default(), config);
    let router = axum::Router::new().nest_service("/mcp", service);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "http://{local}/mcp")?;
    stdout.flush()?;
    axum::serve(listener, router).await
}
