//! JSON-RPC 2.0 envelopes and the error codes the gateway answers with.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Invalid JSON was received.
pub const PARSE_ERROR: i64 = -32700;
/// The JSON is not a valid request object (or is too large).
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const INTERNAL_ERROR: i64 = -32603;
/// The gateway refused the call: a policy, the task token, a human, or the Rule of Two.
/// The message is the reason, written for the agent to show.
pub const DENIED: i64 = -32003;
/// The call needs a human's approval; `data.approval_id` names it. The same call (same agent,
/// task, tool and arguments) goes through once it is approved.
pub const APPROVAL_REQUIRED: i64 = -32004;
/// The `Mcp-Session-Id` names no session of this agent on this server.
pub const SESSION_NOT_FOUND: i64 = -32001;

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    #[must_use]
    pub fn with_data(mut self, data: Value) -> RpcError {
        self.data = Some(data);
        self
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let (Some(data), Some(object)) = (&self.data, error.as_object_mut()) {
            object.insert("data".to_string(), data.clone());
        }
        error
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A successful response.
pub fn result(id: &Value, result: Value) -> Response {
    json_response(
        StatusCode::OK,
        &json!({ "jsonrpc": "2.0", "id": id, "result": result }),
    )
}

/// An error response (HTTP 200: the request was delivered and answered, as MCP expects).
pub fn error(id: &Value, error: &RpcError) -> Response {
    error_with_status(StatusCode::OK, id, error)
}

/// An error answered with an HTTP error status (malformed, too large, unknown session).
pub fn error_with_status(status: StatusCode, id: &Value, error: &RpcError) -> Response {
    json_response(
        status,
        &json!({ "jsonrpc": "2.0", "id": id, "error": error.to_json() }),
    )
}
