//! Kubernetes: `kubectl get serviceaccounts,secrets,roles,clusterroles,rolebindings,clusterrolebindings -A -o json`.
//!
//! Service accounts become identities (`system:serviceaccount:NS:NAME`), Roles and ClusterRoles
//! become policies (one statement per rule: verbs as actions, `GROUP/RESOURCE[/NAME]` as
//! resources, `url:PATH` for non-resource URLs), bindings become attachments (scoped to the
//! namespace for RoleBindings), legacy token secrets become credentials, IRSA / GKE workload
//! identity annotations become trust edges. The cluster is named after the file (its stem), the
//! way `kubectl` users name per-cluster exports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::Value;
use warrant_core::{
    Attachment, Credential, CredentialKind, Effect, Environment, Identity, IdentityKind, Inventory,
    Policy, PolicyKind, PrincipalKind, Provenance, Provider, Resource, Sensitivity, SourceScope,
    Statement, TrustEdge, TrustKind,
};
use warrant_core::{attribute, credential_id_from_fingerprint};

use crate::common::{environment_from, owners_from, parse_date, purpose_from};
use crate::{ConnectorError, ImportContext};

pub const SOURCE: &str = "kubernetes";

#[derive(Debug, Deserialize)]
struct List {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    items: Vec<Object>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Object {
    kind: String,
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    rules: Option<Vec<Rule>>,
    #[serde(default)]
    role_ref: Option<RoleRef>,
    #[serde(default)]
    subjects: Option<Vec<Subject>>,
    #[serde(default, rename = "type")]
    secret_type: Option<String>,
    #[serde(default)]
    data: Option<BTreeMap<String, String>>,
    #[serde(default)]
    automount_service_account_token: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    uid: Option<String>,
    #[serde(default)]
    creation_timestamp: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    #[serde(default)]
    verbs: Vec<String>,
    #[serde(default)]
    api_groups: Vec<String>,
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    resource_names: Vec<String>,
    #[serde(default, rename = "nonResourceURLs")]
    non_resource_urls: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct RoleRef {
    kind: String,
    name: String,
}

#[derive(Debug, Deserialize)]
struct Subject {
    kind: String,
    name: String,
    #[serde(default)]
    namespace: Option<String>,
}

/// `system:serviceaccount:NS:NAME`, the name Kubernetes authenticates a service account as.
pub fn service_account_id(namespace: &str, name: &str) -> String {
    format!("system:serviceaccount:{namespace}:{name}")
}

fn cluster_role_id(cluster: &str, name: &str) -> String {
    format!("k8s:{cluster}/clusterrole/{name}")
}

fn role_id(cluster: &str, namespace: &str, name: &str) -> String {
    format!("k8s:{cluster}/role/{namespace}/{name}")
}

fn rule_statement(rule: &Rule) -> Statement {
    let mut resources = Vec::new();
    let groups: Vec<&str> = if rule.api_groups.is_empty() {
        vec![""]
    } else {
        rule.api_groups.iter().map(String::as_str).collect()
    };
    for group in &groups {
        for resource in &rule.resources {
            if rule.resource_names.is_empty() {
                resources.push(format!("{group}/{resource}"));
            } else {
                for name in &rule.resource_names {
                    resources.push(format!("{group}/{resource}/{name}"));
                }
            }
        }
    }
    resources.extend(rule.non_resource_urls.iter().map(|u| format!("url:{u}")));
    Statement {
        sid: None,
        effect: Effect::Allow,
        actions: rule.verbs.clone(),
        not_actions: vec![],
        resources,
        not_resources: vec![],
        conditions: None,
    }
}

/// Built-in ClusterRoles that exports often leave out but bindings reference.
fn builtin_cluster_role(name: &str) -> Option<Vec<Rule>> {
    let rule = |verbs: &[&str], groups: &[&str], resources: &[&str]| Rule {
        verbs: verbs.iter().map(|s| s.to_string()).collect(),
        api_groups: groups.iter().map(|s| s.to_string()).collect(),
        resources: resources.iter().map(|s| s.to_string()).collect(),
        resource_names: vec![],
        non_resource_urls: vec![],
    };
    let read = ["get", "list", "watch"];
    let write = ["create", "delete", "deletecollection", "patch", "update"];
    match name {
        "cluster-admin" => Some(vec![
            rule(&["*"], &["*"], &["*"]),
            Rule {
                verbs: vec!["*".into()],
                api_groups: vec![],
                resources: vec![],
                resource_names: vec![],
                non_resource_urls: vec!["*".into()],
            },
        ]),
        "admin" => Some(vec![
            rule(
                &["*"],
                &[
                    "",
                    "apps",
                    "batch",
                    "autoscaling",
                    "networking.k8s.io",
                    "policy",
                ],
                &["*"],
            ),
            rule(
                &["*"],
                &["rbac.authorization.k8s.io"],
                &["roles", "rolebindings"],
            ),
        ]),
        "edit" => Some(vec![rule(
            &[&read[..], &write[..]].concat(),
            &[
                "",
                "apps",
                "batch",
                "autoscaling",
                "networking.k8s.io",
                "policy",
            ],
            &[
                "pods",
                "pods/exec",
                "deployments",
                "services",
                "configmaps",
                "secrets",
                "serviceaccounts",
                "jobs",
                "cronjobs",
                "statefulsets",
                "daemonsets",
                "replicasets",
                "ingresses",
                "persistentvolumeclaims",
            ],
        )]),
        "view" => Some(vec![rule(
            &read,
            &[
                "",
                "apps",
                "batch",
                "autoscaling",
                "networking.k8s.io",
                "policy",
            ],
            &[
                "pods",
                "deployments",
                "services",
                "configmaps",
                "jobs",
                "cronjobs",
                "statefulsets",
                "daemonsets",
                "replicasets",
                "ingresses",
                "persistentvolumeclaims",
            ],
        )]),
        _ => None,
    }
}

/// The cluster name for a file: its stem (`prod-eks.json` → `prod-eks`).
pub fn cluster_name(origin: &Path) -> String {
    origin
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "cluster".to_string())
}

pub fn parse(
    origin: &Path,
    bytes: &[u8],
    ctx: &ImportContext,
) -> Result<Inventory, ConnectorError> {
    let list: List = crate::common::decode_json(origin, bytes)?;
    if list.kind.as_deref().is_some_and(|k| k != "List") {
        return Err(ConnectorError::file(
            origin,
            format!(
                "expected a kubectl `List`, found kind `{}`",
                list.kind.unwrap_or_default()
            ),
        ));
    }
    let cluster = cluster_name(origin);
    let provenance = Provenance {
        source: SOURCE.to_string(),
        location: Some(origin.display().to_string()),
    };
    let cluster_env = Environment::guess(&cluster);
    let mut inventory = Inventory::default();
    let mut service_accounts: BTreeSet<(String, String)> = BTreeSet::new();
    let mut roles_present: BTreeSet<String> = BTreeSet::new();

    for object in &list.items {
        let meta = &object.metadata;
        let namespace = meta.namespace.clone().unwrap_or_default();
        match object.kind.as_str() {
            "ServiceAccount" => {
                let id = service_account_id(&namespace, &meta.name);
                service_accounts.insert((namespace.clone(), meta.name.clone()));
                let mut identity = Identity::new(
                    id.clone(),
                    IdentityKind::K8sServiceAccount,
                    Provider::Kubernetes,
                    meta.name.clone(),
                );
                identity.account = Some(cluster.clone());
                identity.namespace = Some(namespace.clone());
                identity.created = meta.creation_timestamp.as_deref().and_then(parse_date);
                let mut labels = meta.labels.clone();
                labels.extend(
                    meta.annotations
                        .iter()
                        .filter(|(k, _)| !k.starts_with("kubectl.kubernetes.io/"))
                        .map(|(k, v)| (k.clone(), v.clone())),
                );
                identity.owners = owners_from(&meta.labels, "label", &ctx.owner_keys);
                for owner in owners_from(&meta.annotations, "annotation", &ctx.owner_keys) {
                    if !identity.owners.contains(&owner) {
                        identity.owners.push(owner);
                    }
                }
                identity.purpose = purpose_from(&labels);
                identity.environment = match environment_from(&labels) {
                    Environment::Unknown => match Environment::guess(&namespace) {
                        Environment::Unknown => cluster_env,
                        env => env,
                    },
                    env => env,
                };
                identity.tags = meta.labels.clone();
                if let Some(automount) = object.automount_service_account_token {
                    identity.attributes.insert(
                        "automount_service_account_token".into(),
                        Value::Bool(automount),
                    );
                }
                if let Some(uid) = &meta.uid {
                    identity
                        .attributes
                        .insert("uid".into(), Value::String(uid.clone()));
                }
                if meta.name == "default" {
                    identity
                        .attributes
                        .insert(attribute::DEFAULT_SERVICE_ACCOUNT.into(), Value::Bool(true));
                }
                identity.provenance = provenance.clone();
                for (annotation, kind) in [
                    ("eks.amazonaws.com/role-arn", "aws"),
                    ("iam.gke.io/gcp-service-account", "gcp"),
                    ("azure.workload.identity/client-id", "azure"),
                ] {
                    if let Some(target) = meta.annotations.get(annotation) {
                        identity.attributes.insert(
                            format!("workload_identity_{kind}"),
                            Value::String(target.clone()),
                        );
                        inventory.trust_edges.push(TrustEdge {
                            from: id.clone(),
                            from_kind: PrincipalKind::Identity,
                            to: target.clone(),
                            kind: TrustKind::AssumeRoleWithWebIdentity,
                            conditions: None,
                            provenance: provenance.clone(),
                        });
                    }
                }
                inventory.identities.push(identity);
            }
            "ClusterRole" | "Role" => {
                let id = if object.kind == "ClusterRole" {
                    cluster_role_id(&cluster, &meta.name)
                } else {
                    role_id(&cluster, &namespace, &meta.name)
                };
                roles_present.insert(id.clone());
                inventory.policies.push(Policy {
                    id,
                    name: meta.name.clone(),
                    provider: Provider::Kubernetes,
                    kind: if object.kind == "ClusterRole" {
                        PolicyKind::K8sClusterRole
                    } else {
                        PolicyKind::K8sRole
                    },
                    statements: object.rules.iter().flatten().map(rule_statement).collect(),
                    provenance: provenance.clone(),
                });
            }
            "Secret" => {
                let secret_type = object.secret_type.as_deref().unwrap_or("Opaque");
                if secret_type == "kubernetes.io/service-account-token" {
                    let Some(sa) = meta.annotations.get("kubernetes.io/service-account.name")
                    else {
                        continue;
                    };
                    let owner = service_account_id(&namespace, sa);
                    let token = object
                        .data
                        .as_ref()
                        .and_then(|d| d.get("token"))
                        .and_then(|t| {
                            base64::engine::general_purpose::STANDARD
                                .decode(t.trim())
                                .ok()
                        });
                    let fingerprint = token.as_deref().map(|t| ctx.fingerprinter.fingerprint(t));
                    let mut credential = Credential::new(
                        fingerprint
                            .as_deref()
                            .map(credential_id_from_fingerprint)
                            .unwrap_or_else(|| {
                                format!("k8s:{cluster}/secret/{namespace}/{}", meta.name)
                            }),
                        owner,
                        CredentialKind::ServiceAccountToken,
                    );
                    credential.fingerprint = fingerprint;
                    credential.preview = token
                        .as_deref()
                        .map(|t| warrant_core::redact(&String::from_utf8_lossy(t)));
                    credential.created = meta.creation_timestamp.as_deref().and_then(parse_date);
                    credential.last_rotated = credential.created;
                    credential.storage = Some(format!("k8s-secret:{namespace}/{}", meta.name));
                    credential
                        .attributes
                        .insert(attribute::LEGACY.into(), Value::Bool(true));
                    credential.provenance = provenance.clone();
                    inventory.credentials.push(credential);
                } else {
                    // Other secrets are data an identity may read, never a credential we keep.
                    inventory.resources.push(Resource {
                        id: format!("k8s:{cluster}/secret/{namespace}/{}", meta.name),
                        kind: "k8s-secret".into(),
                        account: Some(cluster.clone()),
                        environment: match Environment::guess(&namespace) {
                            Environment::Unknown => cluster_env,
                            e => e,
                        },
                        sensitivity: Sensitivity::High,
                        tags: meta.labels.clone(),
                        provenance: provenance.clone(),
                        runs_as: None,
                    });
                }
            }
            _ => {}
        }
    }

    // Bindings, after every service account is known (group subjects expand to them).
    for object in &list.items {
        let meta = &object.metadata;
        let namespace = meta.namespace.clone().unwrap_or_default();
        let (binding_kind, scope) = match object.kind.as_str() {
            "RoleBinding" => ("rolebinding", Some(namespace.clone())),
            "ClusterRoleBinding" => ("clusterrolebinding", None),
            _ => continue,
        };
        let Some(role_ref) = &object.role_ref else {
            continue;
        };
        let policy_id = if role_ref.kind == "ClusterRole" {
            cluster_role_id(&cluster, &role_ref.name)
        } else {
            role_id(&cluster, &namespace, &role_ref.name)
        };
        if role_ref.kind == "ClusterRole"
            && !roles_present.contains(&policy_id)
            && let Some(rules) = builtin_cluster_role(&role_ref.name)
        {
            roles_present.insert(policy_id.clone());
            inventory.policies.push(Policy {
                id: policy_id.clone(),
                name: role_ref.name.clone(),
                provider: Provider::Kubernetes,
                kind: PolicyKind::K8sClusterRole,
                statements: rules.iter().map(rule_statement).collect(),
                provenance: Provenance {
                    source: "warrant-builtin".into(),
                    location: None,
                },
            });
        }
        let via = if binding_kind == "rolebinding" {
            format!("rolebinding:{namespace}/{}", meta.name)
        } else {
            format!("clusterrolebinding:{}", meta.name)
        };
        let mut targets: BTreeSet<String> = BTreeSet::new();
        for subject in object.subjects.iter().flatten() {
            match subject.kind.as_str() {
                "ServiceAccount" => {
                    let ns = subject
                        .namespace
                        .clone()
                        .unwrap_or_else(|| namespace.clone());
                    targets.insert(service_account_id(&ns, &subject.name));
                }
                "Group" if subject.name == "system:serviceaccounts" => {
                    targets.extend(
                        service_accounts
                            .iter()
                            .map(|(ns, n)| service_account_id(ns, n)),
                    );
                }
                "Group" if subject.name.starts_with("system:serviceaccounts:") => {
                    let ns = subject.name.trim_start_matches("system:serviceaccounts:");
                    targets.extend(
                        service_accounts
                            .iter()
                            .filter(|(n, _)| n == ns)
                            .map(|(n, s)| service_account_id(n, s)),
                    );
                }
                _ => {} // people and other groups are not non-human identities
            }
        }
        for target in targets {
            inventory.attachments.push(Attachment {
                identity: target,
                policy: policy_id.clone(),
                via: Some(via.clone()),
                scope: scope.clone(),
            });
        }
    }
    inventory.scopes.push(SourceScope {
        source: SOURCE.to_string(),
        scope: cluster,
    });
    Ok(inventory)
}

#[cfg(test)]
mod tests {
    use super::*;
    use warrant_core::Fingerprinter;

    const LIST: &str = r#"{"apiVersion":"v1","kind":"List","items":[
      {"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"deployer","namespace":"ci","labels":{"team":"platform"},"annotations":{"eks.amazonaws.com/role-arn":"arn:aws:iam::1:role/deployer"},"creationTimestamp":"2024-01-01T00:00:00Z"}},
      {"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default","namespace":"ci"}},
      {"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/service-account-token","metadata":{"name":"deployer-token","namespace":"ci","annotations":{"kubernetes.io/service-account.name":"deployer"}},"data":{"token":"ZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRwWkNJNklpSjkuZXlKcGMzTWlPaUpyZFdKbGNtNWxkR1Z6TDNObGNuWnBZMlZoWTJOdmRXNTBJbjA="}},
      {"apiVersion":"v1","kind":"Secret","type":"Opaque","metadata":{"name":"db","namespace":"ci"},"data":{"password":"aHVudGVyMg=="}},
      {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"reader","namespace":"ci"},"rules":[{"apiGroups":[""],"resources":["secrets"],"verbs":["get","list"]}]},
      {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"deployer-reader","namespace":"ci"},"roleRef":{"kind":"Role","name":"reader"},"subjects":[{"kind":"ServiceAccount","name":"deployer"}]},
      {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"all-sa-admin"},"roleRef":{"kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"Group","name":"system:serviceaccounts:ci"},{"kind":"User","name":"alice"}]}
    ]}"#;

    fn ctx() -> ImportContext {
        ImportContext::new(Fingerprinter::new(b"test"))
    }

    #[test]
    fn service_accounts_roles_bindings_and_tokens() {
        let inv = parse(Path::new("/x/prod-eks.json"), LIST.as_bytes(), &ctx()).unwrap();
        assert_eq!(inv.identities.len(), 2);
        let deployer = &inv.identities[0];
        assert_eq!(deployer.id, "system:serviceaccount:ci:deployer");
        assert_eq!(deployer.account.as_deref(), Some("prod-eks"));
        assert_eq!(deployer.environment, Environment::Production);
        assert_eq!(deployer.owners[0].id, "platform");
        assert_eq!(inv.trust_edges[0].to, "arn:aws:iam::1:role/deployer");
        let token = &inv.credentials[0];
        assert_eq!(token.identity, deployer.id);
        assert!(
            token
                .fingerprint
                .as_deref()
                .is_some_and(warrant_core::is_fingerprint)
        );
        assert!(!token.preview.as_deref().unwrap_or("").contains("ZXlK"));
        assert_eq!(
            inv.resources.len(),
            1,
            "the opaque secret is a resource, not a credential"
        );
        let role = inv.policies.iter().find(|p| p.name == "reader").unwrap();
        assert_eq!(role.statements[0].resources, ["/secrets"]);
        let admin: Vec<_> = inv
            .attachments
            .iter()
            .filter(|a| a.policy.ends_with("clusterrole/cluster-admin"))
            .collect();
        assert_eq!(
            admin.len(),
            2,
            "the group subject expands to both service accounts of ci"
        );
        assert!(
            inv.policies.iter().any(|p| p.name == "cluster-admin"),
            "built-in cluster-admin is synthesised"
        );
        let scoped = inv
            .attachments
            .iter()
            .find(|a| a.policy.ends_with("role/ci/reader"))
            .unwrap();
        assert_eq!(scoped.scope.as_deref(), Some("ci"));
    }

    #[test]
    fn malformed_items_name_the_json_path() {
        let bad = r#"{"kind":"List","items":[{"kind":"Role","metadata":{"name":"r"},"rules":[{"verbs":"get"}]}]}"#;
        let err = parse(Path::new("c.json"), bad.as_bytes(), &ctx())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("c.json: at $.items[0].rules[0].verbs"),
            "{err}"
        );
    }
}
