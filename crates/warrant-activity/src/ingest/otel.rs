//! OpenTelemetry GenAI spans in OTLP JSON (`resourceSpans[].scopeSpans[].spans[]`): each
//! `execute_tool` span is one agent tool call.

use serde::Deserialize;
use serde_json::Value;

use super::Emit;
use super::de::{Opt, from_nanos};
use crate::event::{Actor, Event, Facts, LogKind, Outcome, Principal, PrincipalKind};

#[derive(Deserialize)]
struct Export<'a> {
    #[serde(rename = "resourceSpans", borrow, default)]
    resource_spans: Vec<ResourceSpans<'a>>,
}

#[derive(Deserialize)]
struct ResourceSpans<'a> {
    #[serde(default)]
    resource: Option<Resource>,
    #[serde(rename = "scopeSpans", borrow, default)]
    scope_spans: Vec<ScopeSpans<'a>>,
}

#[derive(Deserialize)]
struct Resource {
    #[serde(default)]
    attributes: Vec<KeyValue>,
}

#[derive(Deserialize)]
struct ScopeSpans<'a> {
    #[serde(borrow, default)]
    spans: Vec<Span<'a>>,
}

#[derive(Deserialize)]
struct Span<'a> {
    #[serde(rename = "traceId", borrow, default)]
    trace_id: Opt<'a>,
    #[serde(rename = "spanId", borrow, default)]
    span_id: Opt<'a>,
    #[serde(rename = "startTimeUnixNano", default)]
    start: Option<Value>,
    #[serde(default)]
    attributes: Vec<KeyValue>,
    #[serde(default)]
    status: Option<Status>,
}

#[derive(Deserialize)]
struct KeyValue {
    key: String,
    #[serde(default)]
    value: Value,
}

#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    code: Value,
}

/// The scalar inside an OTLP `AnyValue` (`{"stringValue": …}`, `{"intValue": "5"}`, …).
fn any_value(v: &Value) -> Option<String> {
    let obj = v.as_object()?;
    for (k, inner) in obj {
        match (k.as_str(), inner) {
            ("stringValue", Value::String(s)) => return Some(s.clone()),
            ("intValue", Value::String(s)) => return Some(s.clone()),
            ("intValue" | "doubleValue", Value::Number(n)) => return Some(n.to_string()),
            ("boolValue", Value::Bool(b)) => return Some(b.to_string()),
            _ => {}
        }
    }
    None
}

fn attr(attrs: &[KeyValue], key: &str) -> Option<String> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| any_value(&kv.value))
        .filter(|s| !s.is_empty())
}

fn nanos(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// OTLP status codes: 2 (or `STATUS_CODE_ERROR`) is an error.
fn is_error(status: Option<&Status>) -> bool {
    match status.map(|s| &s.code) {
        Some(Value::Number(n)) => n.as_u64() == Some(2),
        Some(Value::String(s)) => s == "STATUS_CODE_ERROR" || s == "2",
        _ => false,
    }
}

pub(crate) fn parse(bytes: &[u8], out: &mut Emit<'_>) -> Result<(), String> {
    let export: Export = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    for (ri, rs) in export.resource_spans.iter().enumerate() {
        let resource_attrs = rs
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or(&[]);
        let service = attr(resource_attrs, "service.name");
        for (si, ss) in rs.scope_spans.iter().enumerate() {
            for (pi, span) in ss.spans.iter().enumerate() {
                let attrs = &span.attributes;
                let op = attr(attrs, "gen_ai.operation.name");
                let tool = attr(attrs, "gen_ai.tool.name");
                if op.as_deref() != Some("execute_tool") {
                    out.skip();
                    continue;
                }
                let place = format!("resourceSpans[{ri}].scopeSpans[{si}].spans[{pi}]");
                let Some(tool) = tool else {
                    out.bad(format!(
                        "{place}: execute_tool span without gen_ai.tool.name"
                    ));
                    continue;
                };
                let Some(time) = span.start.as_ref().and_then(nanos).and_then(from_nanos) else {
                    out.bad(format!("{place}: missing or invalid startTimeUnixNano"));
                    continue;
                };
                let agent_name = attr(attrs, "gen_ai.agent.name")
                    .or_else(|| attr(resource_attrs, "gen_ai.agent.name"));
                let agent_id = attr(attrs, "gen_ai.agent.id")
                    .or_else(|| attr(resource_attrs, "gen_ai.agent.id"));
                let name = agent_name
                    .or_else(|| agent_id.clone())
                    .or_else(|| service.clone());
                let session =
                    attr(attrs, "gen_ai.conversation.id").or_else(|| span.trace_id.owned());
                let error_type = attr(attrs, "error.type");
                let outcome = if is_error(span.status.as_ref()) || error_type.is_some() {
                    let lower = error_type.as_deref().unwrap_or("").to_ascii_lowercase();
                    // A call held for a human's approval (Warrant's gateway says
                    // `approval_required`) was refused too: it did not run.
                    if lower.contains("denied")
                        || lower.contains("forbidden")
                        || lower.contains("permission")
                        || lower.contains("approval")
                    {
                        Outcome::Denied
                    } else if lower.contains("unauthori") || lower.contains("auth") {
                        Outcome::AuthFailed
                    } else {
                        Outcome::Error
                    }
                } else {
                    Outcome::Success
                };
                let id = match (span.trace_id.as_deref(), span.span_id.as_deref()) {
                    (Some(t), Some(s)) => format!("{t}/{s}"),
                    (None, Some(s)) => s.to_string(),
                    _ => {
                        out.bad(format!("{place}: span without spanId"));
                        continue;
                    }
                };
                let mut resources = Vec::new();
                if let Some(server) = attr(attrs, "server.address") {
                    resources.push(server);
                }
                out.event(Event {
                    id,
                    time,
                    log: LogKind::OtelGenAi,
                    principal: Principal {
                        kind: Some(PrincipalKind::Agent),
                        arn: None,
                        credential: agent_id,
                        account: service.clone(),
                        name,
                        session,
                    },
                    actor: Actor::Agent,
                    action: format!("tool:{tool}"),
                    resources,
                    source_ip: attr(attrs, "client.address"),
                    user_agent: None,
                    outcome,
                    error_code: error_type,
                    region: None,
                    read_only: None,
                    console: false,
                    subject: None,
                    facts: Facts::default(),
                });
            }
        }
    }
    Ok(())
}
