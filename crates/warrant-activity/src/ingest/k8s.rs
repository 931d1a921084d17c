//! Kubernetes audit events (`audit.k8s.io/v1` `Event`, one per line).

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::Emit;
use super::classify::k8s_actor;
use super::de::{Opt, Str, content_id, lenient_bool, parse_time};
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
    /// Bodies are kept as raw slices of the record (no allocation, no parsing) and parsed
    /// only for the few resources detections read, so ordinary events cost a scan only.
    #[serde(rename = "requestObject", borrow, default)]
    request_object: Option<&'a RawValue>,
    #[serde(rename = "responseObject", borrow, default)]
    response_object: Option<&'a RawValue>,
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
    let mut facts = Facts::default();
    let mut subject = None;
    if let Some(o) = &e.object_ref {
        let resource = o.resource.as_deref().unwrap_or_default();
        let subresource = o.subresource.as_deref().unwrap_or_default();
        let namespace = o.namespace.as_deref().filter(|s| !s.is_empty());
        let name = o.name.as_deref().filter(|s| !s.is_empty());
        if resource == "serviceaccounts"
            && let (Some(ns), Some(name)) = (namespace, name)
            && (subresource == "token" || verb == "create")
        {
            // A token requested for (or a new) service account changes that identity.
            subject = Some(service_account(ns, name));
        }
        if body_wanted(verb, resource, subresource) {
            // A create or update is judged by what the caller sent (not by what admission
            // webhooks added, such as a mesh's init container); a patch sends only the
            // difference, so the response (the object as stored) comes first for it. A failed
            // call's response is a `Status`, not the object: then the request says what was
            // attempted.
            let order = if verb == "patch" {
                [e.response_object, e.request_object]
            } else {
                [e.request_object, e.response_object]
            };
            let body = order
                .into_iter()
                .flatten()
                .filter_map(|raw| serde_json::from_str::<Body>(raw.get()).ok())
                .find(|b| b.kind.as_deref() != Some("Status"));
            if let Some(body) = body {
                body_facts(&body, &mut facts, &mut subject);
            }
        }
    }
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
        subject,
        facts,
    });
    Ok(())
}

fn service_account(namespace: &str, name: &str) -> Principal {
    Principal {
        kind: Some(PrincipalKind::KubernetesServiceAccount),
        arn: None,
        credential: None,
        account: Some(namespace.to_string()),
        name: Some(format!("system:serviceaccount:{namespace}:{name}")),
        session: None,
    }
}

/// Workload resources whose pod template detections read.
const WORKLOADS: &[&str] = &[
    "pods",
    "deployments",
    "daemonsets",
    "statefulsets",
    "replicasets",
    "jobs",
    "cronjobs",
    "replicationcontrollers",
];

/// Whether the body of a request is read: writes to workloads, RBAC and CSR approvals, token
/// requests. Everything else (reads, watches, ordinary writes) is never parsed.
fn body_wanted(verb: &str, resource: &str, subresource: &str) -> bool {
    if !matches!(verb, "create" | "update" | "patch") {
        return false;
    }
    match subresource {
        "" => {
            WORKLOADS.contains(&resource)
                || matches!(
                    resource,
                    "roles" | "clusterroles" | "rolebindings" | "clusterrolebindings"
                )
        }
        "approval" => resource == "certificatesigningrequests",
        "token" => resource == "serviceaccounts",
        "ephemeralcontainers" => resource == "pods",
        _ => false,
    }
}

/// The parts of a request or response body detections read. Every field is optional and
/// lenient: a body of another shape gives fewer facts, never a bad record.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Body {
    kind: Option<String>,
    spec: Option<Spec>,
    rules: Option<Vec<Rule>>,
    #[serde(rename = "roleRef")]
    role_ref: Option<RoleRef>,
    subjects: Option<Vec<Subject>>,
    status: Option<Status>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Spec {
    // Pod spec.
    #[serde(rename = "hostPID", deserialize_with = "lenient_bool")]
    host_pid: Option<bool>,
    #[serde(rename = "hostNetwork", deserialize_with = "lenient_bool")]
    host_network: Option<bool>,
    #[serde(rename = "hostIPC", deserialize_with = "lenient_bool")]
    host_ipc: Option<bool>,
    containers: Option<Vec<Container>>,
    #[serde(rename = "initContainers")]
    init_containers: Option<Vec<Container>>,
    #[serde(rename = "ephemeralContainers")]
    ephemeral_containers: Option<Vec<Container>>,
    volumes: Option<Vec<Volume>>,
    // Workload templates: Deployment & co. (`template`), CronJob (`jobTemplate`).
    template: Option<Box<Template>>,
    #[serde(rename = "jobTemplate")]
    job_template: Option<Box<Template>>,
    // CertificateSigningRequest.
    #[serde(rename = "signerName")]
    signer_name: Option<String>,
    usages: Option<Vec<String>>,
    username: Option<String>,
    // TokenRequest.
    #[serde(rename = "expirationSeconds")]
    expiration_seconds: Option<i64>,
    #[serde(rename = "boundObjectRef")]
    bound_object_ref: Option<BoundRef>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Template {
    spec: Option<Spec>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Container {
    #[serde(rename = "securityContext")]
    security_context: Option<SecurityContext>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SecurityContext {
    #[serde(deserialize_with = "lenient_bool")]
    privileged: Option<bool>,
    capabilities: Option<Capabilities>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Capabilities {
    add: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Volume {
    #[serde(rename = "hostPath")]
    host_path: Option<HostPath>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct HostPath {
    path: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BoundRef {
    kind: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Rule {
    verbs: Option<Vec<String>>,
    resources: Option<Vec<String>>,
    #[serde(rename = "apiGroups")]
    api_groups: Option<Vec<String>>,
    #[serde(rename = "nonResourceURLs")]
    non_resource_urls: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RoleRef {
    kind: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Subject {
    kind: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Status {
    conditions: Option<Vec<Condition>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Condition {
    #[serde(rename = "type")]
    kind: Option<String>,
    status: Option<String>,
}

/// Verbs and resources of a role rule worth a fact: what grants more than it names.
fn notable_rule(verb: &str, resource: &str) -> bool {
    verb == "*"
        || resource == "*"
        || matches!(verb, "escalate" | "bind" | "impersonate")
        || resource == "nodes/proxy"
}

fn body_facts(body: &Body, facts: &mut Facts, subject: &mut Option<Principal>) {
    if let Some(kind) = body.kind.as_deref() {
        facts.push("object.kind", kind);
    }
    if let Some(spec) = &body.spec {
        pod_facts(spec, facts, 0);
        if let Some(signer) = &spec.signer_name {
            facts.push("csr.signer", signer);
        }
        for usage in spec.usages.iter().flatten() {
            facts.push("csr.usage", usage);
        }
        if let Some(user) = &spec.username {
            facts.push("csr.requestor", user);
        }
        if let Some(seconds) = spec.expiration_seconds {
            facts.push("token.expiration_seconds", &seconds.to_string());
        }
        if let Some(kind) = spec
            .bound_object_ref
            .as_ref()
            .and_then(|b| b.kind.as_deref())
        {
            facts.push("token.bound_kind", kind);
        }
    }
    for condition in body
        .status
        .iter()
        .flat_map(|s| s.conditions.iter().flatten())
    {
        if condition.status.as_deref() == Some("True")
            && let Some(kind) = condition.kind.as_deref()
        {
            facts.push("csr.condition", kind);
        }
    }
    for rule in body.rules.iter().flatten() {
        let groups = rule.api_groups.as_deref().unwrap_or_default();
        let any_group = groups.iter().any(|g| g == "*");
        for verb in rule.verbs.iter().flatten() {
            for resource in rule.resources.iter().flatten() {
                let resource = if any_group && resource == "*" {
                    "*"
                } else {
                    resource.as_str()
                };
                if notable_rule(verb, resource) {
                    facts.push("role.rule", &format!("{verb}:{resource}"));
                }
            }
            for url in rule.non_resource_urls.iter().flatten() {
                if url == "*" && verb == "*" {
                    facts.push("role.rule", "*:url:*");
                }
            }
        }
    }
    if let Some(role) = &body.role_ref {
        facts.push(
            "binding.role",
            &format!(
                "{}/{}",
                role.kind.as_deref().unwrap_or("?"),
                role.name.as_deref().unwrap_or("?")
            ),
        );
    }
    for s in body.subjects.iter().flatten() {
        let kind = s.kind.as_deref().unwrap_or("?");
        let name = s.name.as_deref().unwrap_or("?");
        match (kind, s.namespace.as_deref()) {
            ("ServiceAccount", Some(ns)) => {
                facts.push("binding.subject", &format!("ServiceAccount:{ns}/{name}"));
                // The first service account bound is the identity the binding changes.
                if subject.is_none() {
                    *subject = Some(service_account(ns, name));
                }
            }
            _ => facts.push("binding.subject", &format!("{kind}:{name}")),
        }
    }
}

/// Facts of a pod spec, or of the pod template a workload spec holds (depth-limited: a
/// CronJob nests two templates).
fn pod_facts(spec: &Spec, facts: &mut Facts, depth: u8) {
    if depth > 3 {
        return;
    }
    for (flag, key) in [
        (spec.host_pid, "pod.host_pid"),
        (spec.host_network, "pod.host_network"),
        (spec.host_ipc, "pod.host_ipc"),
    ] {
        if flag == Some(true) {
            facts.push(key, "true");
        }
    }
    let containers = [
        &spec.containers,
        &spec.init_containers,
        &spec.ephemeral_containers,
    ];
    for c in containers.into_iter().flatten().flatten() {
        let Some(sc) = &c.security_context else {
            continue;
        };
        if sc.privileged == Some(true) && facts.get("pod.privileged").is_none() {
            facts.push("pod.privileged", "true");
        }
        for cap in sc.capabilities.iter().flat_map(|c| c.add.iter().flatten()) {
            facts.push("pod.capability", cap);
        }
    }
    for v in spec.volumes.iter().flatten() {
        if let Some(path) = v.host_path.as_ref().and_then(|h| h.path.as_deref()) {
            facts.push("pod.host_path", path);
        }
    }
    for template in [&spec.template, &spec.job_template].into_iter().flatten() {
        if let Some(inner) = &template.spec {
            pod_facts(inner, facts, depth + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(json: &str) -> Event {
        let mut events = Vec::new();
        let mut sink = |e| events.push(e);
        let mut emit = Emit {
            sink: &mut sink,
            events: 0,
            skipped: 0,
            bad: Vec::new(),
        };
        parse(json.as_bytes(), None, &mut emit).unwrap();
        events.pop().unwrap()
    }

    fn record(verb: &str, resource: &str, sub: &str, body: &str, code: u16) -> String {
        format!(
            r#"{{"auditID":"a1","stage":"ResponseComplete","verb":"{verb}","user":{{"username":"system:serviceaccount:ci:bot"}},
            "objectRef":{{"resource":"{resource}","subresource":"{sub}","namespace":"ns","name":"obj"}},
            "responseStatus":{{"code":{code}}},"stageTimestamp":"2026-11-03T14:00:00Z",
            "requestObject":{body},"responseObject":{{"kind":"Status","code":{code}}}}}"#
        )
    }

    #[test]
    fn workload_templates_give_pod_facts() {
        let body = r#"{"kind":"CronJob","spec":{"jobTemplate":{"spec":{"template":{"spec":{
            "hostPID":true,"hostNetwork":"true",
            "containers":[{"securityContext":{"privileged":true,"capabilities":{"add":["SYS_ADMIN"]}}}],
            "volumes":[{"hostPath":{"path":"/etc"}},{"emptyDir":{}}]}}}}}}"#;
        let e = one(&record("create", "cronjobs", "", body, 403));
        assert_eq!(e.facts.get("object.kind"), Some("CronJob"));
        assert_eq!(e.facts.get("pod.privileged"), Some("true"));
        assert_eq!(e.facts.get("pod.host_pid"), Some("true"));
        assert_eq!(e.facts.get("pod.host_network"), Some("true"));
        assert_eq!(e.facts.get("pod.capability"), Some("SYS_ADMIN"));
        assert_eq!(e.facts.get("pod.host_path"), Some("/etc"));
        assert_eq!(e.outcome, Outcome::Denied);
    }

    #[test]
    fn rbac_bodies_give_rules_bindings_and_subjects() {
        let role = r#"{"kind":"ClusterRole","rules":[
            {"apiGroups":["*"],"resources":["*"],"verbs":["*"]},
            {"apiGroups":[""],"resources":["pods"],"verbs":["get","list"]},
            {"apiGroups":[""],"resources":["serviceaccounts"],"verbs":["impersonate"]}]}"#;
        let e = one(&record("create", "clusterroles", "", role, 201));
        let rules: Vec<&str> = e.facts.all("role.rule").collect();
        assert_eq!(rules, ["*:*", "impersonate:serviceaccounts"]);
        let binding = r#"{"kind":"ClusterRoleBinding","roleRef":{"kind":"ClusterRole","name":"cluster-admin"},
            "subjects":[{"kind":"Group","name":"ops"},{"kind":"ServiceAccount","name":"agent","namespace":"mon"}]}"#;
        let e = one(&record("create", "clusterrolebindings", "", binding, 201));
        assert_eq!(
            e.facts.get("binding.role"),
            Some("ClusterRole/cluster-admin")
        );
        let subject = e.subject.unwrap();
        assert_eq!(
            subject.name.as_deref(),
            Some("system:serviceaccount:mon:agent")
        );
    }

    #[test]
    fn token_requests_name_their_service_account_and_other_bodies_are_not_read() {
        let token = r#"{"kind":"TokenRequest","spec":{"expirationSeconds":7200,"boundObjectRef":{"kind":"Pod","name":"p"}}}"#;
        let e = one(&record("create", "serviceaccounts", "token", token, 201));
        assert_eq!(
            e.subject.and_then(|s| s.name),
            Some("system:serviceaccount:ns:obj".to_string())
        );
        assert_eq!(e.facts.get("token.expiration_seconds"), Some("7200"));
        assert_eq!(e.facts.get("token.bound_kind"), Some("Pod"));
        // A ConfigMap's body is never parsed, whatever it holds.
        let e = one(&record(
            "create",
            "configmaps",
            "",
            r#"{"kind":"ConfigMap","spec":{"hostPID":true}}"#,
            201,
        ));
        assert!(e.facts.is_empty());
        // A body of an unexpected shape gives no facts, not a bad record.
        let e = one(&record(
            "create",
            "pods",
            "",
            r#"{"kind":"Pod","spec":[1,2]}"#,
            201,
        ));
        assert!(e.facts.get("pod.privileged").is_none());
    }
}
