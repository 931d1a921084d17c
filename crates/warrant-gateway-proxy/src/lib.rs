//! The MCP gateway's I/O (issue 15): an HTTP server exposing each upstream MCP server as one
//! Streamable HTTP endpoint (`POST /mcp/{server}`), in front of which every call is
//! authenticated, decided by `warrant_gateway`'s pure core and, when allowed, forwarded upstream.
//!
//! - [`server`]: the agent-facing JSON-RPC layer (axum), sessions, decisions, approvals, taint.
//! - [`upstream`]: the upstream side, through the official MCP SDK's client (`rmcp`): a child
//!   process over stdio with a minimal environment, or Streamable HTTP to the configured URL
//!   with the upstream's own credential.
//! - [`hold`]: calls held for a person's approval, as each protocol era waits for them.
//! - [`auth`]: who the caller is: a Warrant task token or an OAuth 2.1 access token
//!   ([`oauth`]: a JWT from the configured issuer, checked against its JWKS, whose audience is
//!   the gateway).
//! - [`state`]: taint, revocations, approvals and the agent directory behind traits, with
//!   in-memory implementations.
//! - [`load`]: builds a gateway from `gateway.toml`.
//! - [`telemetry`]: a span per decided call (OTel GenAI `execute_tool` for `tools/call`) to a
//!   JSONL file and/or an OTLP/HTTP collector, and the audit trail, off the request path.
//! - [`symbolic`]: `policy diff` with Cedar's symbolic compiler and the cvc5 solver (a child
//!   process): whether new policies can only narrow access, or a call they widen.
//!
//! Invariants: the agent's `Authorization` header is never forwarded (upstream requests are
//! made by `rmcp` with the upstream's configured credential only); every `tools/call` is decided
//! before it is forwarded; stdio upstreams get `PATH` and their configured `env`, nothing else.
//!
//! An example `gateway.toml` (see `warrant_gateway::config` for every key):
//!
//! ```toml
//! version = 1
//! [server]
//! listen = "127.0.0.1:8700"
//! resource = "https://gateway.example.com"
//! [[upstream]]
//! name = "time"
//! command = ["mcp-server-time", "--local-timezone", "UTC"]
//! [[upstream]]
//! name = "github"
//! url = "https://api.githubcopilot.com/mcp/"
//! auth_header_env = "GITHUB_MCP_TOKEN"
//! [tools."github::create_issue"]
//! labels = ["external_action"]
//! [policy]
//! files = ["policies.cedar"]
//! [tokens]
//! root_key_file = "jit-root.key"
//! [oauth]
//! issuer = "https://idp.example.com"
//! agent_claim = "client_id"
//! [agents."triage-bot"]
//! owner = "alice@example.com"
//! owner_active = true
//! tier = "production"
//! risk = 40
//! [telemetry]
//! jsonl = "gateway-spans.jsonl"
//! otlp_endpoint = "http://127.0.0.1:4318"
//! ```

pub mod auth;
pub mod hold;
pub mod jsonrpc;
pub mod load;
pub mod oauth;
pub mod redact;
pub mod server;
pub mod state;
pub mod symbolic;
pub mod telemetry;
pub mod upstream;

pub use load::{LoadError, Options, build, build_with_state};
pub use server::{Gateway, approval_id};
pub use state::{
    AgentDirectory, ApprovalQueue, ApprovalRequest, ApprovalStatus, AuditTrail, BoxFuture,
    GrantUses, ListedTool, MemoryApprovalQueue, MemoryAuditTrail, MemoryGrantUses,
    MemoryRevocationList, MemoryTaintStore, MemoryToolPins, PinState, RevocationList, State,
    StateError, StaticDirectory, TaintStore, ToolPins,
};
pub use telemetry::{GatewayCall, Telemetry, Verdict};
