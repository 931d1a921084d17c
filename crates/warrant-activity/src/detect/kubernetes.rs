//! Kubernetes audit events judged by what the request asked for (the `facts` the ingester
//! read from `requestObject`/`responseObject`), and the control-plane identities whose normal
//! work is not reported.

use warrant_core::{Severity, Tactic};

use super::catalog::{Category, SensitiveAction};
use crate::event::{Event, LogKind};

macro_rules! content {
    ($action:literal, $cat:ident, $sev:ident, $tactics:expr, [$($t:literal),*], $effect:literal) => {
        SensitiveAction {
            action: $action,
            category: Category::$cat,
            severity: Severity::$sev,
            // Judged by content, so every occurrence is reported, routine or not.
            always: true,
            tactics: $tactics,
            techniques: &[$(warrant_core::technique!($t)),*],
            effect: $effect,
        }
    };
}

const PRIVESC_PERSIST: &[Tactic] = &[Tactic::PrivilegeEscalation, Tactic::Persistence];

pub const PRIVILEGED_WORKLOAD: SensitiveAction = content!(
    "kubernetes:privileged-workload",
    PrivilegeChange,
    High,
    &[Tactic::PrivilegeEscalation, Tactic::DefenseEvasion],
    ["T1610", "T1611"],
    "creates or changes a pod or workload template that runs privileged, shares the host's PID, network or IPC namespace, mounts a sensitive host path or adds dangerous capabilities"
);
pub const PERMISSIVE_ROLE: SensitiveAction = content!(
    "kubernetes:permissive-role",
    PrivilegeChange,
    High,
    PRIVESC_PERSIST,
    ["T1098.006"],
    "writes a Role or ClusterRole with wildcards, nodes/proxy, or the escalate, bind or impersonate verbs"
);
pub const SYSTEM_RBAC_CHANGED: SensitiveAction = content!(
    "kubernetes:system-rbac-changed",
    PrivilegeChange,
    High,
    PRIVESC_PERSIST,
    ["T1098.006"],
    "patches or updates a built-in `system:` role or binding"
);
pub const CLUSTER_ADMIN_BINDING: SensitiveAction = content!(
    "kubernetes:cluster-admin-binding",
    PrivilegeChange,
    Critical,
    PRIVESC_PERSIST,
    ["T1098.006"],
    "binds cluster-admin, or binds a role to anonymous or every authenticated caller"
);
pub const ADMISSION_WEBHOOK: SensitiveAction = content!(
    "kubernetes:admission-webhook-created",
    Sensitive,
    High,
    &[Tactic::Persistence, Tactic::CredentialAccess],
    ["T1546", "T1557"],
    "registers an admission webhook that sees (and, if mutating, rewrites) the objects sent to the API server"
);
pub const CLIENT_CERTIFICATE: SensitiveAction = content!(
    "kubernetes:client-certificate-approved",
    CredentialAccess,
    High,
    &[Tactic::CredentialAccess],
    ["T1649"],
    "approves a certificate signing request for a client certificate the API server accepts"
);
pub const TOKEN_REQUESTED: SensitiveAction = content!(
    "kubernetes:service-account-token",
    CredentialAccess,
    Medium,
    &[Tactic::CredentialAccess],
    ["T1528"],
    "mints a service-account token not bound to a pod, or bound for longer than a day"
);

/// Every content-judged Kubernetes entry.
pub const CONTENT_ACTIONS: &[SensitiveAction] = &[
    PRIVILEGED_WORKLOAD,
    PERMISSIVE_ROLE,
    SYSTEM_RBAC_CHANGED,
    CLUSTER_ADMIN_BINDING,
    ADMISSION_WEBHOOK,
    CLIENT_CERTIFICATE,
    TOKEN_REQUESTED,
];

/// Control-plane identities whose normal work (scheduling, controllers creating pods from
/// workloads, kubelets requesting tokens and mirroring static pods, role aggregation) would
/// otherwise look like the detections here. `*` matches any run of characters.
pub const DEFAULT_SYSTEM_IDENTITIES: &[&str] = &[
    "system:apiserver",
    "system:kube-controller-manager",
    "system:kube-scheduler",
    "system:kube-proxy",
    "system:volume-scheduler",
    "system:addon-manager",
    "system:gcp-controller-manager",
    "system:node:*",
    "system:serviceaccount:kube-system:*-controller",
    "system:serviceaccount:kube-system:generic-garbage-collector",
    "system:serviceaccount:kube-system:horizontal-pod-autoscaler",
    "system:serviceaccount:kube-system:persistent-volume-binder",
    "system:serviceaccount:kube-system:bootstrap-signer",
    "system:serviceaccount:kube-system:token-cleaner",
    "eks:*",
];

/// Glob match with `*` as any run of characters (names are short; patterns few).
pub fn glob(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else {
        return pattern == name;
    };
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = parts.collect();
    let Some((last, middle)) = pieces.split_last() else {
        return rest.is_empty();
    };
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = rest.get(at + piece.len()..).unwrap_or(""),
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// Whether the event's caller is one of the configured system identities.
pub fn is_system_identity(event: &Event, patterns: &[String]) -> bool {
    event.log == LogKind::KubernetesAudit
        && event
            .principal
            .name
            .as_deref()
            .is_some_and(|name| patterns.iter().any(|p| glob(p, name)))
}

const WORKLOADS: &[&str] = &[
    "pods",
    "pods/ephemeralcontainers",
    "deployments",
    "daemonsets",
    "statefulsets",
    "replicasets",
    "jobs",
    "cronjobs",
    "replicationcontrollers",
];

/// Capabilities that break out of a container or reach the host's kernel or network.
const DANGEROUS_CAPABILITIES: &[&str] = &[
    "ALL",
    "SYS_ADMIN",
    "SYS_PTRACE",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_BOOT",
    "NET_ADMIN",
    "DAC_READ_SEARCH",
    "BPF",
];

/// Host paths that give a container the node: its root, configuration, credentials, the
/// container runtime's socket or the kubelet's state.
const SENSITIVE_HOST_PATHS: &[&str] = &[
    "/etc",
    "/root",
    "/home",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/var/run",
    "/run",
    "/var/lib/kubelet",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/lib/etcd",
];

/// Log directories collectors read, below the sensitive paths above.
const LOG_PATHS: &[&str] = &["/var/lib/docker/containers", "/var/log"];

fn sensitive_host_path(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    let under = |p: &str| path == p || path.strip_prefix(p).is_some_and(|r| r.starts_with('/'));
    if LOG_PATHS.iter().any(|p| under(p)) {
        return false;
    }
    path.is_empty()
        || SENSITIVE_HOST_PATHS.iter().any(|p| {
            path == *p
                || path
                    .strip_prefix(p)
                    .is_some_and(|rest| rest.starts_with('/'))
        })
}

fn dangerous_capability(cap: &str) -> bool {
    let cap = cap.trim().to_ascii_uppercase();
    let cap = cap.strip_prefix("CAP_").unwrap_or(&cap);
    DANGEROUS_CAPABILITIES.contains(&cap)
}

/// Role rules (`VERB:RESOURCE`) that grant more than they name.
fn permissive_rule(rule: &str) -> bool {
    let (verb, resource) = rule.split_once(':').unwrap_or((rule, ""));
    verb == "*"
        || resource == "*"
        || resource == "nodes/proxy"
        || matches!(verb, "escalate" | "bind" | "impersonate")
}

/// Groups a binding must never hand a role to.
const EVERYONE: &[&str] = &[
    "Group:system:anonymous",
    "Group:system:unauthenticated",
    "Group:system:authenticated",
    "User:system:anonymous",
];

/// Client signers: certificates the API server accepts as an identity.
const CLIENT_SIGNERS: &[&str] = &[
    "kubernetes.io/kube-apiserver-client",
    "kubernetes.io/kube-apiserver-client-kubelet",
    "kubernetes.io/legacy-unknown",
];

/// What a Kubernetes event's content says.
#[derive(Debug, Clone, Copy)]
pub enum Judgement {
    /// The request matches a content-judged entry.
    Report(&'static SensitiveAction),
    /// The request was read and shows nothing to report.
    Harmless,
    /// Nothing to judge by content (no body kept, or not a request judged here): the action
    /// catalogue decides.
    ByAction,
}

/// Judges a Kubernetes event by what it asked for.
pub fn classify(event: &Event) -> Judgement {
    match judge(event) {
        Ok(Some(entry)) => Judgement::Report(entry),
        Ok(None) => Judgement::Harmless,
        Err(NoBody) => Judgement::ByAction,
    }
}

/// No body to judge by.
struct NoBody;

fn judge(event: &Event) -> Result<Option<&'static SensitiveAction>, NoBody> {
    let (verb, resource) = event.action.split_once(':').unwrap_or(("", ""));
    if verb == "get" && resource == "secrets" && reads_own_namespace(event) {
        // A workload reading a Secret of its own namespace is how Secrets are meant to be
        // used; reading another namespace's is not.
        return Ok(None);
    }
    let write = matches!(verb, "create" | "update" | "patch");
    let facts = &event.facts;
    if verb == "create"
        && matches!(
            resource,
            "mutatingwebhookconfigurations" | "validatingwebhookconfigurations"
        )
    {
        return Ok(Some(&ADMISSION_WEBHOOK));
    }
    if matches!(verb, "update" | "patch")
        && matches!(
            resource,
            "roles" | "clusterroles" | "rolebindings" | "clusterrolebindings"
        )
        && event
            .resources
            .first()
            .and_then(|r| r.rsplit('/').next())
            .is_some_and(|name| name.starts_with("system:"))
    {
        return Ok(Some(&SYSTEM_RBAC_CHANGED));
    }
    let has_body = facts.get("object.kind").is_some();
    if write && WORKLOADS.contains(&resource) {
        if !has_body {
            return Err(NoBody);
        }
        let privileged = [
            "pod.privileged",
            "pod.host_pid",
            "pod.host_ipc",
            "pod.host_network",
        ]
        .iter()
        .any(|k| facts.get(k) == Some("true"))
            || facts.all("pod.host_path").any(sensitive_host_path)
            || facts.all("pod.capability").any(dangerous_capability);
        if privileged {
            return Ok(Some(&PRIVILEGED_WORKLOAD));
        }
        // A debugging container is execution in a running pod, privileged or not.
        return if resource == "pods/ephemeralcontainers" {
            Err(NoBody)
        } else {
            Ok(None)
        };
    }
    if write && matches!(resource, "roles" | "clusterroles") {
        if !has_body {
            return Err(NoBody);
        }
        return Ok(facts
            .all("role.rule")
            .any(permissive_rule)
            .then_some(&PERMISSIVE_ROLE));
    }
    if write && matches!(resource, "rolebindings" | "clusterrolebindings") {
        if !has_body {
            return Err(NoBody);
        }
        // cluster-admin granted to anyone by a machine identity (or to a service account by
        // anyone: a person's binding reaches here only through its service-account subject).
        let cluster_admin = facts.get("binding.role") == Some("ClusterRole/cluster-admin");
        let everyone = facts.all("binding.subject").any(|s| EVERYONE.contains(&s));
        return Ok((cluster_admin || everyone).then_some(&CLUSTER_ADMIN_BINDING));
    }
    if resource == "certificatesigningrequests/approval" && write {
        if !has_body {
            return Err(NoBody);
        }
        let approved = facts.all("csr.condition").any(|c| c == "Approved");
        let client = facts
            .get("csr.signer")
            .is_some_and(|s| CLIENT_SIGNERS.contains(&s));
        return Ok((approved && client).then_some(&CLIENT_CERTIFICATE));
    }
    if verb == "create" && resource == "serviceaccounts/token" {
        if !has_body {
            return Err(NoBody);
        }
        let bound = facts
            .get("token.bound_kind")
            .is_some_and(|k| matches!(k, "Pod" | "Secret" | "Node"));
        // The API server's default is one hour.
        let seconds = facts
            .get("token.expiration_seconds")
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(3600);
        return Ok((!bound || seconds > 86_400).then_some(&TOKEN_REQUESTED));
    }
    Err(NoBody)
}

/// Whether a service account's call is on an object of its own namespace (`NS/…`).
fn reads_own_namespace(event: &Event) -> bool {
    let Some(own) = event
        .principal
        .name
        .as_deref()
        .and_then(|n| n.strip_prefix("system:serviceaccount:"))
        .and_then(|rest| rest.split(':').next())
    else {
        return false;
    };
    event
        .resources
        .first()
        .and_then(|r| r.split_once('/'))
        .is_some_and(|(namespace, _)| namespace == own)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("system:node:*", "system:node:ip-10-0-0-1"));
        assert!(!glob("system:node:*", "system:nodes"));
        assert!(glob(
            "system:serviceaccount:kube-system:*-controller",
            "system:serviceaccount:kube-system:daemon-set-controller"
        ));
        assert!(!glob(
            "system:serviceaccount:kube-system:*-controller",
            "system:serviceaccount:kube-system:controller-x"
        ));
        assert!(glob("eks:*", "eks:node-manager"));
        assert!(glob("exact", "exact") && !glob("exact", "exactly"));
    }

    #[test]
    fn host_paths_and_capabilities() {
        assert!(sensitive_host_path("/"));
        assert!(sensitive_host_path("/var/run/docker.sock"));
        assert!(sensitive_host_path("/etc/"));
        assert!(!sensitive_host_path("/var/log"));
        assert!(!sensitive_host_path("/var/lib/docker/containers"));
        assert!(sensitive_host_path("/var/lib/docker"));
        assert!(!sensitive_host_path("/etcetera"));
        assert!(dangerous_capability("CAP_SYS_ADMIN"));
        assert!(dangerous_capability("net_admin"));
        assert!(!dangerous_capability("NET_BIND_SERVICE"));
    }
}
