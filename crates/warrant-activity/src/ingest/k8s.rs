//! Kubernetes audit events (`audit.k8s.io/v1` `Event`, one per line).

use std::collections::HashMap;

use serde::Deserialize;

use super::Emit;
use super::classify::k8s_actor;
use super::de::{Opt, Str, content_id, parse_time};
use crate::event::{Event, Facts, LogKind, Outcome, Principal, PrincipalKind};

#[derive(Deserialize)]
struct AuditEvent<'a> {
    #[serde(rename = "auditID", borrow, default)]
    audit_id: Opt<'a>,
    #[serde(borrow, default)]
    stage: Opt<'a>,
    #[serde(borrow)]
    verb: Str<'a>,
    #[serde(rename = "requestURI", borrow, default)]
    request_uri: Opt<'a>,
    #[serde(borrow)]
    user: User<'a>,
    #[serde(rename = "sourceIPs", borrow, default)]
    source_ips: Vec<Opt<'a>>,
    #[serde(rename = "userAgent", borrow, default)]
    user_agent: Opt<'a>,
    #[serde(rename = "objectRef", borrow, default)]
    object_ref: Option<ObjectRef<'a>>,
    #[serde(rename = "responseStatus", default)]
    response_status: Option<ResponseStatus>,
    #[serde(rename = "stageTimestamp", borrow, default)]
    stage_timestamp: Opt<'a>,
    #[serde(rename = "requestReceivedTimestamp", borrow, default)]
    received_timestamp: Opt<'a>,
}

#[derive(Deserialize)]
struct User<'a> {
    #[serde(borrow, default)]
    username: Opt<'a>,
    #[serde(borrow, default)]
    extra: HashMap<String, Vec<Opt<'a>>>,
}

#[derive(Deserialize)]
struct ObjectRef<'a> {
    #[serde(borrow, default)]
    resource: Opt<'a>,
    #[serde(borrow, default)]
    subresource: Opt<'a>,
    #[serde(borrow, default)]
    namespace: Opt<'a>,
    #[serde(borrow, default)]
    name: Opt<'a>,
}

#[derive(Deserialize)]
struct ResponseStatus {
    #[serde(default)]
    code: Option<u16>,
}

pub(crate) fn parse(bytes: &[u8], cluster: Option<&str>, out: &mut Emit<'_>) -> Result<(), String> {
    let e: AuditEvent = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    // Each request is logged at several stages with the same auditID; the final stage carries
    // the response, the earlier ones would only double-count.
    if matches!(
        e.stage.as_deref(),
        Some("RequestReceived" | "ResponseStarted")
    ) {
        out.skip();
        return Ok(());
    }
    let when = e
        .stage_timestamp
        .as_deref()
        .or(e.received_timestamp.as_deref())
        .ok_or("no stageTimestamp or requestReceivedTimestamp")?;
    let time = parse_time(when).ok_or_else(|| format!("timestamp {when:?} is not RFC 3339"))?;
    let username = e.user.username.owned().ok_or("user.username missing")?;
    let verb = e.verb.0.as_ref();
    let (action, resources) = match &e.object_ref {
        Some(o) if o.resource.as_deref().is_some() => {
            let resource = o.resource.as_deref().unwrap_or_default();
            let action = match o.subresource.as_deref().filter(|s| !s.is_empty()) {
                Some(sub) => format!("{verb}:{resource}/{sub}"),
                None => format!("{verb}:{resource}"),
            };
            let mut path = String::new();
            if let Some(ns) = o.namespace.as_deref().filter(|s| !s.is_empty()) {
                path.push_str(ns);
                path.push('/');
            }
            path.push_str(resource);
            if let Some(name) = o.name.as_deref().filter(|s| !s.is_empty()) {
                path.push('/');
                path.push_str(name);
            }
            (action, vec![path])
        }
        _ => {
            let uri = e.request_uri.as_deref().unwrap_or("");
            let path = uri.split('?').next().unwrap_or(uri);
            (format!("{verb}:{path}"), Vec::new())
        }
    };
    let (kind, account) = match username.strip_prefix("system:serviceaccount:") {
        Some(rest) => (
            PrincipalKind::KubernetesServiceAccount,
            rest.split(':').next().map(str::to_string),
        ),
        None => (PrincipalKind::KubernetesUser, None),
    };
    let extra = |key: &str| {
        e.user
            .extra
            .get(key)
            .and_then(|v| v.first())
            .and_then(Opt::owned)
    };
    let user_agent = e.user_agent.owned();
    let actor = k8s_actor(kind, &username, user_agent.as_deref());
    let code = e.response_status.as_ref().and_then(|s| s.code);
    let outcome = match code {
        Some(401) => Outcome::AuthFailed,
        Some(403) => Outcome::Denied,
        Some(c) if c >= 400 => Outcome::Error,
        _ => Outcome::Success,
    };
    let id = e
        .audit_id
        .owned()
        .unwrap_or_else(|| content_id("k8s", bytes));
    out.event(Event {
        id,
        time,
        log: LogKind::KubernetesAudit,
        principal: Principal {
            kind: Some(kind),
            arn: None,
            credential: extra("authentication.kubernetes.io/credential-id"),
            // The namespace is the narrowest "account" a service account belongs to; the
            // cluster, when known, is the event's region.
            account,
            name: Some(username),
            session: extra("authentication.kubernetes.io/pod-name"),
        },
        actor,
        action,
        resources,
        source_ip: e.source_ips.first().and_then(Opt::owned),
        user_agent,
        outcome,
        error_code: code.filter(|c| *c >= 400).map(|c| c.to_string()),
        region: cluster.map(str::to_string),
        read_only: Some(matches!(verb, "get" | "list" | "watch")),
        console: false,
        subject: None,
        facts: Facts::default(),
    });
    Ok(())
}
