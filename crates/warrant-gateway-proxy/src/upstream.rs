//! The gateway's side of each upstream MCP server, through the official SDK's client (`rmcp`):
//! a child process over stdio, or a Streamable HTTP endpoint. One connection per upstream,
//! opened on first use and opened again after the transport fails.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, GetPromptRequestParams, PaginatedRequestParams,
    ReadResourceRequestParams, ServerResult,
};
use rmcp::service::{RoleClient, RunningService, ServiceError};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{ErrorData, ServiceExt as _};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// How long connecting and the MCP handshake may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one forwarded request may take: a hung upstream must not hold the agent (and its
/// connection) forever. Generous, since a tool may legitimately run for minutes.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// How to reach an upstream.
#[derive(Clone)]
pub enum Target {
    /// Streamable HTTP at exactly this URL, with the upstream's own bearer token if any.
    Http { url: String, token: Option<String> },
    /// A child process over stdio with a minimal environment: `PATH` and `env` only.
    Stdio {
        program: String,
        args: Vec<String>,
        env: BTreeMap<String, String>,
        path: Option<OsString>,
    },
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the upstream's token nor its environment's values (they may be secrets).
        match self {
            Target::Http { url, token } => f
                .debug_struct("Http")
                .field("url", url)
                .field("token", &token.as_ref().map(|_| "…"))
                .finish(),
            Target::Stdio {
                program, args, env, ..
            } => f
                .debug_struct("Stdio")
                .field("program", program)
                .field("args", args)
                .field("env", &env.keys().collect::<Vec<_>>())
                .finish(),
        }
    }
}

/// Why an upstream did not answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    #[error("upstream `{server}` is unavailable: {message}")]
    Unavailable { server: String, message: String },
    /// The upstream answered with a JSON-RPC error: passed on to the agent as it is.
    #[error("upstream error {}: {}", .0.code.0, .0.message)]
    Mcp(ErrorData),
    #[error("invalid params: {0}")]
    InvalidParams(String),
}

type Connection = Arc<RunningService<RoleClient, ()>>;

/// One upstream server.
pub struct Upstream {
    pub name: String,
    target: Target,
    connection: tokio::sync::Mutex<Option<Connection>>,
}

/// How long an idle connection to an HTTP upstream is kept for the next call.
const IDLE_CONNECTION: Duration = Duration::from_secs(90);

/// The client for a Streamable HTTP upstream. It keeps connections open between calls: opening
/// a TCP connection per call costs more than everything else the gateway does for it. The SDK's
/// own client does not, against stalls on Linux's delayed ACKs when a response body is left
/// unread; every answer here is read to its end, and requests go out with `TCP_NODELAY`.
/// Redirects are not followed: an upstream is reached at exactly its configured URL, and its
/// credential goes nowhere else.
fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .pool_idle_timeout(IDLE_CONNECTION)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("name", &self.name)
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// rustls without a default provider (no aws-lc): give it ring, once per process.
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn params<T: DeserializeOwned>(value: Value) -> Result<T, UpstreamError> {
    serde_json::from_value(value).map_err(|e| UpstreamError::InvalidParams(e.to_string()))
}

fn optional_params<T: DeserializeOwned>(value: Value) -> Result<Option<T>, UpstreamError> {
    if value.is_null() {
        Ok(None)
    } else {
        params(value).map(Some)
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl Upstream {
    pub fn new(name: &str, target: Target) -> Upstream {
        Upstream {
            name: name.to_string(),
            target,
            connection: tokio::sync::Mutex::new(None),
        }
    }

    fn unavailable(&self, message: impl std::fmt::Display) -> UpstreamError {
        UpstreamError::Unavailable {
            server: self.name.clone(),
            message: message.to_string(),
        }
    }

    async fn open(&self) -> Result<Connection, UpstreamError> {
        let connecting = async {
            match &self.target {
                Target::Http { url, token } => {
                    let mut config = StreamableHttpClientTransportConfig::with_uri(url.as_str());
                    if let Some(token) = token {
                        config = config.auth_header(token.clone());
                    }
                    let client = http_client().map_err(|e| self.unavailable(e))?;
                    let transport = StreamableHttpClientTransport::with_client(client, config);
                    ().serve(transport).await.map_err(|e| self.unavailable(e))
                }
                Target::Stdio {
                    program,
                    args,
                    env,
                    path,
                } => {
                    let mut command = tokio::process::Command::new(program);
                    // A minimal environment: the gateway's own secrets (and the agent's) are
                    // not the upstream's business.
                    command.args(args).env_clear();
                    if let Some(path) = path {
                        command.env("PATH", path);
                    }
                    command.envs(env);
                    let (transport, _) = TokioChildProcess::builder(command)
                        .stderr(std::process::Stdio::inherit())
                        .spawn()
                        .map_err(|e| self.unavailable(format!("cannot start {program}: {e}")))?;
                    ().serve(transport).await.map_err(|e| self.unavailable(e))
                }
            }
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, connecting).await {
            Ok(result) => result.map(Arc::new),
            Err(_) => Err(self.unavailable(format!(
                "no answer to the MCP handshake within {} s",
                CONNECT_TIMEOUT.as_secs()
            ))),
        }
    }

    async fn connection(&self) -> Result<Connection, UpstreamError> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref()
            && !connection.is_closed()
        {
            return Ok(connection.clone());
        }
        let connection = self.open().await?;
        *slot = Some(connection.clone());
        Ok(connection)
    }

    /// Forgets a connection whose transport failed, so the next call opens a new one.
    async fn reset(&self, failed: &Connection) {
        let mut slot = self.connection.lock().await;
        if slot.as_ref().is_some_and(|c| Arc::ptr_eq(c, failed)) {
            *slot = None;
        }
    }

    fn failed(&self, error: ServiceError) -> (UpstreamError, bool) {
        match error {
            ServiceError::McpError(data) => (UpstreamError::Mcp(data), false),
            ServiceError::TransportClosed | ServiceError::TransportSend(_) => {
                (self.unavailable(error), true)
            }
            other => (self.unavailable(other), false),
        }
    }

    /// Sends one MCP request (`method` with its JSON `params`) and returns the JSON result.
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, UpstreamError> {
        match tokio::time::timeout(REQUEST_TIMEOUT, self.forward(method, params)).await {
            Ok(result) => result,
            Err(_) => Err(self.unavailable(format!(
                "no answer to {method} within {} s",
                REQUEST_TIMEOUT.as_secs()
            ))),
        }
    }

    async fn forward(&self, method: &str, params_value: Value) -> Result<Value, UpstreamError> {
        let connection = self.connection().await?;
        let peer = connection.peer().clone();
        let result = match method {
            "tools/list" => peer
                .list_tools(optional_params::<PaginatedRequestParams>(params_value)?)
                .await
                .map(|r| to_json(&r)),
            "tools/call" => peer
                .call_tool_once(params::<CallToolRequestParams>(params_value)?)
                .await
                .map(|r| to_json(&ServerResult::from(r))),
            "resources/list" => peer
                .list_resources(optional_params::<PaginatedRequestParams>(params_value)?)
                .await
                .map(|r| to_json(&r)),
            "resources/read" => peer
                .read_resource_once(params::<ReadResourceRequestParams>(params_value)?)
                .await
                .map(|r| to_json(&ServerResult::from(r))),
            "prompts/list" => peer
                .list_prompts(optional_params::<PaginatedRequestParams>(params_value)?)
                .await
                .map(|r| to_json(&r)),
            "prompts/get" => peer
                .get_prompt_once(params::<GetPromptRequestParams>(params_value)?)
                .await
                .map(|r| to_json(&ServerResult::from(r))),
            other => {
                return Err(UpstreamError::InvalidParams(format!(
                    "{other} is not forwarded"
                )));
            }
        };
        match result {
            Ok(value) => Ok(value),
            Err(error) => {
                let (error, reset) = self.failed(error);
                if reset {
                    self.reset(&connection).await;
                }
                Err(error)
            }
        }
    }
}
