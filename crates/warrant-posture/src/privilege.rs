//! Effective privilege per provider, as provider-neutral [`PrivilegeSummary`]s.
//!
//! AWS goes through `warrant-aws-policy`. Kubernetes RBAC and GitHub permissions are small
//! vocabularies, analysed here.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rayon::prelude::*;
use warrant_core::attribute;
use warrant_core::{
    AccessLevel, Attachment, Effect, Escalation, Grant, Identity, Policy, PolicyKind,
    PrivilegeSummary, Provider, ResourceAccess, inventory::InventoryIndex,
};

const K8S_VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

fn k8s_verb_level(verb: &str, resource: &str) -> AccessLevel {
    let rbac = resource.starts_with("rbac.authorization.k8s.io/")
        || resource.ends_with("/serviceaccounts/token");
    match verb {
        "bind" | "escalate" | "impersonate" | "*" => AccessLevel::PermissionsManagement,
        _ if rbac && !matches!(verb, "get" | "list" | "watch") => {
            AccessLevel::PermissionsManagement
        }
        "get" | "watch" => AccessLevel::Read,
        "list" => AccessLevel::List,
        _ => AccessLevel::Write,
    }
}

/// Kubernetes RBAC: `actions` are verbs, `resources` are `GROUP/RESOURCE[/NAME]` or `url:PATH`.
pub fn k8s_summary(policies: &[(&Attachment, &Policy)]) -> PrivilegeSummary {
    let mut summary = PrivilegeSummary::default();
    let mut pairs: BTreeMap<(String, String), AccessLevel> = BTreeMap::new();
    let mut resource_levels: BTreeMap<(String, String), AccessLevel> = BTreeMap::new();
    for (attachment, policy) in policies {
        let where_ = match &attachment.scope {
            Some(ns) => format!("in namespace {ns}"),
            None => "in every namespace".to_string(),
        };
        for statement in &policy.statements {
            if statement.effect != Effect::Allow {
                continue;
            }
            let mut max_level: Option<AccessLevel> = None;
            for resource in &statement.resources {
                let verbs: Vec<&str> = if statement.actions.iter().any(|v| v == "*") {
                    K8S_VERBS
                        .iter()
                        .copied()
                        .chain(["bind", "escalate", "impersonate"])
                        .collect()
                } else {
                    statement.actions.iter().map(String::as_str).collect()
                };
                let (group, rest) = resource.split_once('/').unwrap_or(("", resource));
                let service = if resource.starts_with("url:") {
                    "nonresource".to_string()
                } else if group.is_empty() {
                    "core".to_string()
                } else {
                    group.to_string()
                };
                let scoped_resource = match &attachment.scope {
                    Some(ns) => format!("{ns}/{rest}"),
                    None => format!("*/{rest}"),
                };
                for verb in verbs {
                    let level = k8s_verb_level(verb, resource);
                    max_level = max_level.max(Some(level));
                    let key = (
                        format!("{verb}:{resource}"),
                        attachment.scope.clone().unwrap_or_default(),
                    );
                    let entry = pairs.entry(key).or_insert(level);
                    *entry = (*entry).max(level);
                    let entry = resource_levels
                        .entry((scoped_resource.clone(), service.clone()))
                        .or_insert(level);
                    *entry = (*entry).max(level);
                    summary.services.insert(service.clone());
                }
            }
            let all_verbs = statement.actions.iter().any(|v| v == "*");
            let all_resources = statement.resources.iter().any(|r| r == "*/*" || r == "/*");
            let admin = all_verbs && all_resources && attachment.scope.is_none();
            let label = format!(
                "{} {} ({})",
                if policy.kind == PolicyKind::K8sClusterRole {
                    "ClusterRole"
                } else {
                    "Role"
                },
                policy.name,
                attachment.via.as_deref().unwrap_or("direct")
            );
            if admin {
                summary.admin_equivalent = true;
                summary.admin_evidence.push(format!(
                    "{label} allows every verb on every resource cluster-wide."
                ));
            }
            if all_verbs || all_resources {
                summary.wildcard_evidence.push(format!(
                    "{label} allows {} on {} {where_}.",
                    statement.actions.join(","),
                    statement.resources.join(",")
                ));
            }
            let reads_secrets =
                statement.resources.iter().any(|r| {
                    r == "/secrets" || r == "*/*" || r == "/*" || r.starts_with("/secrets/")
                }) && statement
                    .actions
                    .iter()
                    .any(|v| matches!(v.as_str(), "get" | "list" | "watch" | "*"));
            if reads_secrets {
                summary
                    .secrets_evidence
                    .push(format!("{label} can read secrets {where_}."));
            }
            let has_verb = |v: &str| statement.actions.iter().any(|a| a == v || a == "*");
            // A verb escalates only on the resources it applies to: `*` on secrets is not
            // impersonation, `bind` on configmaps grants nothing.
            let on = |r: &str| k8s_rule_covers(&statement.resources, r, false);
            // Impersonation and role grants may be limited to named objects; still a path.
            let on_named = |r: &str| k8s_rule_covers(&statement.resources, r, true);
            let mut escalate = |technique: &str, explanation: &str| {
                summary.escalations.push(Escalation {
                    technique: technique.to_string(),
                    actions: statement
                        .actions
                        .iter()
                        .map(|v| format!("{v} {}", statement.resources.join(",")))
                        .collect(),
                    explanation: format!("{explanation} ({label}, {where_})"),
                    ..Default::default()
                });
            };
            if (has_verb("bind") || has_verb("escalate"))
                && (on_named("rbac.authorization.k8s.io/roles")
                    || on_named("rbac.authorization.k8s.io/clusterroles"))
            {
                escalate("k8s-bind-escalate", "Can grant roles beyond its own");
            }
            if has_verb("impersonate")
                && (on_named("/users")
                    || on_named("/groups")
                    || on_named("/serviceaccounts")
                    || on_named("authentication.k8s.io/userextras")
                    || on_named("authentication.k8s.io/uids"))
            {
                escalate(
                    "k8s-impersonate",
                    "Can impersonate other users, groups or service accounts",
                );
            }
            if has_verb("create") && on("/pods") {
                escalate(
                    "k8s-create-pods",
                    "Can start pods that run as any service account of the namespace and read its token",
                );
            }
            if has_verb("create") && (on("/pods/exec") || on("/serviceaccounts/token")) {
                escalate(
                    "k8s-exec-or-token",
                    "Can exec into pods or mint service-account tokens",
                );
            }
            if on("/nodes/proxy") {
                escalate(
                    "k8s-nodes-proxy",
                    "Can reach kubelets directly through nodes/proxy",
                );
            }
            summary.grants.push(Grant {
                policy: policy.id.clone(),
                via: attachment.via.clone(),
                effect: statement.effect,
                actions: statement.actions.clone(),
                resources: statement.resources.clone(),
                conditions: None,
                access_level: max_level,
                n_actions: statement.actions.len() * statement.resources.len(),
                admin,
            });
        }
    }
    for level in pairs.values() {
        *summary.actions_by_level.entry(*level).or_default() += 1;
    }
    summary.resource_access = resource_levels
        .into_iter()
        .map(|((resource, service), level)| ResourceAccess {
            resource,
            level,
            service,
        })
        .collect();
    summary.escalations.sort();
    summary.escalations.dedup();
    summary
}

/// Whether RBAC resources (`GROUP/RESOURCE[/NAME]`, `*` for any group or resource) cover
/// `target` (`GROUP/RESOURCE`, the core group empty). With `named`, a grant on named objects
/// of the resource counts; without, only the resource itself (the connector writes names
/// and subresources alike as `RESOURCE/…`, and `pods/exec` is not `pods`).
pub(crate) fn k8s_rule_covers(resources: &[String], target: &str, named: bool) -> bool {
    let (group, resource) = target.split_once('/').unwrap_or(("", target));
    resources.iter().any(|r| {
        let (g, rest) = r.split_once('/').unwrap_or(("", r));
        let group_ok = g == group || g == "*";
        let resource_ok = rest == "*"
            || rest == resource
            || (named
                && rest
                    .strip_prefix(resource)
                    .is_some_and(|tail| tail.starts_with('/')));
        group_ok && resource_ok
    })
}

fn github_level(level: &str) -> Option<AccessLevel> {
    match level {
        "read" => Some(AccessLevel::Read),
        "write" => Some(AccessLevel::Write),
        "admin" => Some(AccessLevel::PermissionsManagement),
        _ => None,
    }
}

/// GitHub: `PERMISSION:LEVEL` (`contents:write`) and classic scopes (`scope:repo`).
pub fn github_summary(policies: &[(&Attachment, &Policy)]) -> PrivilegeSummary {
    let mut summary = PrivilegeSummary::default();
    let mut levels: BTreeMap<String, AccessLevel> = BTreeMap::new();
    for (attachment, policy) in policies {
        for statement in policy
            .statements
            .iter()
            .filter(|s| s.effect == Effect::Allow)
        {
            let all_repos = statement.resources.iter().any(|r| r == "*");
            let mut max_level = None;
            for action in &statement.actions {
                let (permission, level) = match action.split_once(':') {
                    Some(("scope", scope)) => {
                        let level = match scope {
                            "admin:org" | "admin:repo_hook" | "admin:org_hook"
                            | "admin:enterprise" | "delete_repo" => {
                                AccessLevel::PermissionsManagement
                            }
                            "repo" | "workflow" | "write:packages" | "admin:public_key"
                            | "write:org" => AccessLevel::Write,
                            s if s.starts_with("read:") => AccessLevel::Read,
                            _ => AccessLevel::Write,
                        };
                        (format!("scope:{scope}"), level)
                    }
                    Some((permission, level)) => match github_level(level) {
                        Some(l) => (permission.to_string(), l),
                        None => continue,
                    },
                    None => continue,
                };
                max_level = max_level.max(Some(level));
                let entry = levels.entry(permission.clone()).or_insert(level);
                *entry = (*entry).max(level);
                summary.services.insert(permission.clone());
                let dangerous = matches!(
                    permission.as_str(),
                    "administration"
                        | "members"
                        | "organization_administration"
                        | "scope:admin:org"
                ) && level >= AccessLevel::Write;
                if dangerous && all_repos {
                    summary.admin_equivalent = true;
                    summary.admin_evidence.push(format!(
                        "{} grants {permission}:{} on every repository.",
                        policy.name, level
                    ));
                }
                if matches!(
                    permission.as_str(),
                    "secrets" | "organization_secrets" | "actions_variables" | "environments"
                ) {
                    summary
                        .secrets_evidence
                        .push(format!("{} grants {permission}:{level}.", policy.name));
                }
                if matches!(permission.as_str(), "workflows" | "scope:workflow")
                    && level >= AccessLevel::Write
                {
                    summary.escalations.push(Escalation {
                        technique: "github-workflows-write".into(),
                        actions: vec![action.clone()],
                        explanation: "Can change CI workflows, which run with the repository's secrets and OIDC trust.".into(),
                        ..Default::default()
                    });
                }
                if permission == "scope:repo" {
                    summary.secrets_evidence.push(
                        "Classic `repo` scope reaches every private repository the owner can."
                            .into(),
                    );
                }
            }
            if all_repos && max_level >= Some(AccessLevel::Write) {
                summary.wildcard_evidence.push(format!(
                    "{} applies to every repository of the organisation.",
                    policy.name
                ));
            }
            summary.grants.push(Grant {
                policy: policy.id.clone(),
                via: attachment.via.clone(),
                effect: statement.effect,
                actions: statement.actions.clone(),
                resources: statement.resources.clone(),
                conditions: None,
                access_level: max_level,
                n_actions: statement.actions.len(),
                admin: summary.admin_equivalent,
            });
            for resource in &statement.resources {
                if let Some(level) = max_level {
                    summary.resource_access.push(ResourceAccess {
                        resource: resource.clone(),
                        level,
                        service: "github".into(),
                    });
                }
            }
        }
    }
    for level in levels.values() {
        *summary.actions_by_level.entry(*level).or_default() += 1;
    }
    summary.escalations.sort();
    summary.escalations.dedup();
    summary
}

/// MCP servers hold no policy: what they can do is what their credentials unlock, which the
/// config does not say. A server with a credential counts as able to write through it.
pub fn mcp_summary(identity: &Identity, n_credentials: usize) -> PrivilegeSummary {
    let mut summary = PrivilegeSummary::default();
    if n_credentials > 0 {
        let service = identity
            .attributes
            .get(attribute::PACKAGE)
            .and_then(|p| p.as_str())
            .unwrap_or("mcp")
            .to_string();
        summary
            .actions_by_level
            .insert(AccessLevel::Write, n_credentials);
        summary.services.insert(service.clone());
        summary.resource_access.push(ResourceAccess {
            resource: "*".into(),
            level: AccessLevel::Write,
            service,
        });
    }
    summary
}

/// Privilege of every identity, keyed by identity id. AWS policies are expanded once each, and
/// identities holding the same set of policies share one summary. Date conditions stay
/// undecided; [`summarize_all_at`] decides them.
pub fn summarize_all(index: &InventoryIndex<'_>) -> HashMap<String, Arc<PrivilegeSummary>> {
    summarize_all_at(index, None)
}

/// [`summarize_all`] as of `now`: AWS date conditions (`aws:CurrentTime`,
/// `aws:TokenIssueTime`) are decided against it.
pub fn summarize_all_at(
    index: &InventoryIndex<'_>,
    now: Option<warrant_core::Timestamp>,
) -> HashMap<String, Arc<PrivilegeSummary>> {
    summarize_all_with_reach(index, now, &[]).0
}

/// What each AWS identity's policies reach, for the escalation graph (`paths`), by identity.
pub type ReachMap = HashMap<String, Arc<Vec<warrant_aws_policy::Reach>>>;

/// [`summarize_all_at`] plus what each AWS identity's policies reach (only identities that
/// reach something have an entry).
pub fn summarize_all_with_reach(
    index: &InventoryIndex<'_>,
    now: Option<warrant_core::Timestamp>,
    capabilities: &[warrant_aws_policy::Capability],
) -> (HashMap<String, Arc<PrivilegeSummary>>, ReachMap) {
    let inventory = index.inventory;
    let aws_policies: Vec<&Policy> = inventory
        .policies
        .iter()
        .filter(|p| p.provider == Provider::Aws)
        .collect();
    // Statements naming a capability's actions keep their resources, which compact analyses
    // otherwise drop.
    let keep = (!capabilities.is_empty()).then(|| {
        let mut set = warrant_aws_policy::catalog().empty_set();
        for capability in capabilities {
            set.union_with(&capability.action_set());
        }
        set
    });
    let analyses: Vec<(String, warrant_aws_policy::PolicyAnalysis)> = aws_policies
        .par_iter()
        .map(|p| {
            (
                p.id.clone(),
                warrant_aws_policy::PolicyAnalysis::new_compact_keeping(p, keep.as_ref()),
            )
        })
        .collect();
    // Compact: grant and resource lists for 100k identities would cost gigabytes; `show` asks
    // for one identity's detail through `privilege_detail`.
    let mut analyzer = warrant_aws_policy::Analyzer::new()
        .compact()
        .with_capabilities(capabilities.to_vec());
    if let Some(now) = now {
        analyzer = analyzer.at(now);
    }
    for (id, analysis) in analyses {
        analyzer.insert(id, analysis);
    }

    // Group identities by what they hold (and the account whose SCPs limit them).
    type Key = (
        Provider,
        Vec<(String, Option<String>, Option<String>)>,
        Option<String>,
        Option<String>,
    );
    let mut groups: HashMap<Key, Vec<&Identity>> = HashMap::new();
    for identity in &inventory.identities {
        let mut held: Vec<(String, Option<String>, Option<String>)> = index
            .attachments_by_identity
            .get(identity.id.as_str())
            .into_iter()
            .flatten()
            .map(|a| (a.policy.clone(), a.via.clone(), a.scope.clone()))
            .collect();
        held.sort();
        let boundary = identity
            .attributes
            .get(attribute::PERMISSIONS_BOUNDARY)
            .and_then(|b| b.as_str())
            .map(str::to_string);
        let key = if identity.provider == Provider::Mcp {
            // MCP summaries depend on the identity itself.
            (
                identity.provider,
                vec![(identity.id.clone(), None, None)],
                None,
                None,
            )
        } else {
            let limited_in = scp_account(index, identity).map(str::to_string);
            (identity.provider, held, boundary, limited_in)
        };
        groups.entry(key).or_default().push(identity);
    }
    let groups: Vec<(Key, Vec<&Identity>)> = groups.into_iter().collect();
    type Computed = (
        Vec<String>,
        PrivilegeSummary,
        Vec<warrant_aws_policy::Reach>,
    );
    let computed: Vec<Computed> = groups
        .par_iter()
        .map(|(_, members)| {
            let Some(first) = members.first() else {
                return (Vec::new(), PrivilegeSummary::default(), Vec::new());
            };
            // Members share provider, held policies and boundary (the group key), so the first
            // member's summary is everyone's.
            let (summary, reach) = if first.provider == Provider::Aws {
                summarize_aws(first, index, &analyzer)
            } else {
                (summarize_identity(first, index, &analyzer), Vec::new())
            };
            (
                members.iter().map(|m| m.id.clone()).collect(),
                summary,
                reach,
            )
        })
        .collect();
    let mut out = HashMap::with_capacity(inventory.identities.len());
    let mut reaches = HashMap::new();
    for (ids, summary, reach) in computed {
        let shared = Arc::new(summary);
        let reach = (!reach.is_empty()).then(|| Arc::new(reach));
        for id in ids {
            if let Some(reach) = &reach {
                reaches.insert(id.clone(), Arc::clone(reach));
            }
            out.insert(id, Arc::clone(&shared));
        }
    }
    drop_unusable_resource_techniques(index, &mut out, &reaches);
    (out, reaches)
}

/// Groups whose policies alone make their members administrators, by group ARN (AWS groups
/// are not identities; their policies reach members through `group:ARN` attachments).
pub fn admin_groups(index: &InventoryIndex<'_>) -> std::collections::HashSet<String> {
    let mut by_group: BTreeMap<&str, Vec<&warrant_core::Attachment>> = BTreeMap::new();
    for a in &index.inventory.attachments {
        if let Some(group) = a.via.as_deref().and_then(|v| v.strip_prefix("group:")) {
            let held = by_group.entry(group).or_default();
            if !held.iter().any(|h| h.policy == a.policy) {
                held.push(a);
            }
        }
    }
    let analyzer = warrant_aws_policy::Analyzer::new().compact();
    by_group
        .into_iter()
        .filter(|(_, held)| {
            let policies: Vec<(&warrant_core::Attachment, &Policy)> = held
                .iter()
                .filter_map(|a| {
                    index
                        .policy_by_id
                        .get(a.policy.as_str())
                        .filter(|p| p.provider == Provider::Aws)
                        .map(|p| (*a, *p))
                })
                .collect();
            !policies.is_empty() && analyzer.summarize(&policies, None).admin_equivalent
        })
        .map(|(group, _)| group.to_string())
        .collect()
}

fn summarize_aws(
    identity: &Identity,
    index: &InventoryIndex<'_>,
    analyzer: &warrant_aws_policy::Analyzer,
) -> (PrivilegeSummary, Vec<warrant_aws_policy::Reach>) {
    let held = index.policies_of(&identity.id);
    let boundary = identity
        .attributes
        .get(attribute::PERMISSIONS_BOUNDARY)
        .and_then(|b| b.as_str())
        .and_then(|b| index.policy_by_id.get(b).copied());
    analyzer.summarize_with_reach_under(&held, boundary, &scp_levels(index, identity))
}

/// The account whose service control policies limit an AWS identity, when the inventory
/// holds any for it. Service-linked roles are never limited by SCPs.
fn scp_account<'i>(index: &InventoryIndex<'i>, identity: &'i Identity) -> Option<&'i str> {
    if identity.provider != Provider::Aws || identity.id.contains(":role/aws-service-role/") {
        return None;
    }
    let account = identity.account.as_deref()?;
    index
        .attachments_by_identity
        .contains_key(warrant_core::scp_holder(account).as_str())
        .then_some(account)
}

/// The SCPs limiting an identity, by level of the organisation tree (root first).
fn scp_levels<'i>(index: &InventoryIndex<'i>, identity: &'i Identity) -> Vec<Vec<&'i Policy>> {
    let Some(account) = scp_account(index, identity) else {
        return Vec::new();
    };
    let mut levels: BTreeMap<usize, Vec<&Policy>> = BTreeMap::new();
    for a in index
        .attachments_by_identity
        .get(warrant_core::scp_holder(account).as_str())
        .into_iter()
        .flatten()
    {
        if let (Some(level), Some(policy)) = (
            a.via.as_deref().and_then(warrant_core::scp_level),
            index.policy_by_id.get(a.policy.as_str()),
        ) {
            levels.entry(level).or_default().push(policy);
        }
    }
    levels.into_values().collect()
}

/// A fingerprint of what an identity holds: the policies it holds (directly, through groups or
/// bindings, with their scope), each policy's statements, and its permissions boundary. Any
/// change of its privilege changes it; the same holdings give the same text on every machine.
pub fn holdings(index: &InventoryIndex<'_>, identity: &Identity) -> String {
    use sha2::{Digest, Sha256};
    let mut held: Vec<&warrant_core::Attachment> = index
        .attachments_by_identity
        .get(identity.id.as_str())
        .map(|v| v.to_vec())
        .unwrap_or_default();
    held.sort();
    held.dedup();
    let mut hash = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    for a in held {
        field(a.policy.as_bytes());
        field(a.via.as_deref().unwrap_or("").as_bytes());
        field(a.scope.as_deref().unwrap_or("").as_bytes());
        // The fields that decide what a statement grants, each written out, so a later
        // change in how statements are serialised is no privilege change. `sid` is a label.
        let statements = index
            .policy_by_id
            .get(a.policy.as_str())
            .map_or(&[][..], |p| p.statements.as_slice());
        field(&(statements.len() as u64).to_le_bytes());
        for st in statements {
            field(st.effect.as_str().as_bytes());
            for list in [
                &st.actions,
                &st.not_actions,
                &st.resources,
                &st.not_resources,
            ] {
                field(&(list.len() as u64).to_le_bytes());
                for item in list {
                    field(item.as_bytes());
                }
            }
            // Keys sorted whatever order the source wrote them in: the same condition, the
            // same text.
            let conditions = st
                .conditions
                .as_ref()
                .map(warrant_core::canonical_json)
                .unwrap_or_default();
            field(conditions.as_bytes());
        }
    }
    let boundary = identity
        .attributes
        .get(attribute::PERMISSIONS_BOUNDARY)
        .map(warrant_core::canonical_json)
        .unwrap_or_default();
    field(boundary.as_bytes());
    let digest = hash.finalize();
    let short = digest.get(..16).unwrap_or(&digest);
    format!("{HOLDINGS_VERSION}:{}", hex::encode(short))
}

/// Prefix of [`holdings`] fingerprints; bumped whenever what they cover changes, so a
/// fingerprint from an older scheme is not mistaken for a privilege change.
pub const HOLDINGS_VERSION: &str = "h1";

/// The full privilege of one identity, with every grant and resource (for `warrant show`).
pub fn privilege_detail(inventory: &warrant_core::Inventory, id: &str) -> PrivilegeSummary {
    privilege_detail_at(inventory, id, None)
}

/// [`privilege_detail`] with date conditions decided at `now` (the assessment time), as
/// [`summarize_all_at`] decides them; `None` leaves them undecided (low confidence).
pub fn privilege_detail_at(
    inventory: &warrant_core::Inventory,
    id: &str,
    now: Option<warrant_core::Timestamp>,
) -> PrivilegeSummary {
    let index = inventory.index();
    let mut analyzer = warrant_aws_policy::Analyzer::new();
    if let Some(now) = now {
        analyzer = analyzer.at(now);
    }
    match index.identity_by_id.get(id) {
        // As the assessment does: existing-resource techniques go through resources that exist.
        Some(identity) if identity.provider == Provider::Aws => {
            let (summary, reach) = summarize_aws(identity, &index, &analyzer);
            let mut privileges = HashMap::from([(identity.id.clone(), Arc::new(summary))]);
            let reaches = HashMap::from([(identity.id.clone(), Arc::new(reach))]);
            drop_unusable_resource_techniques(&index, &mut privileges, &reaches);
            privileges
                .remove(&identity.id)
                .map(Arc::unwrap_or_clone)
                .unwrap_or_default()
        }
        Some(identity) => summarize_identity(identity, &index, &analyzer),
        None => PrivilegeSummary::default(),
    }
}

/// One identity's privilege, by provider. `analyzer` decides AWS detail (compact or full) and
/// carries prepared policy expansions.
fn summarize_identity(
    identity: &Identity,
    index: &InventoryIndex<'_>,
    analyzer: &warrant_aws_policy::Analyzer,
) -> PrivilegeSummary {
    let held = index.policies_of(&identity.id);
    match identity.provider {
        Provider::Aws => {
            let boundary = identity
                .attributes
                .get(attribute::PERMISSIONS_BOUNDARY)
                .and_then(|b| b.as_str())
                .and_then(|b| index.policy_by_id.get(b).copied());
            analyzer.summarize_under(&held, boundary, &scp_levels(index, identity))
        }
        Provider::Kubernetes => k8s_summary(&held),
        Provider::GitHub => github_summary(&held),
        Provider::Mcp => mcp_summary(
            identity,
            index
                .credentials_by_identity
                .get(identity.id.as_str())
                .map_or(0, Vec::len),
        ),
        _ => PrivilegeSummary::default(),
    }
}

/// Existing-resource techniques (updating a function's code, a stack, an instance's user data
/// …) need a resource that runs as a role. Where an imported listing covers that kind of
/// resource in the identity's account and the permission names none that runs as another
/// identity, the technique is no path, and is dropped from the identity's escalations.
pub(crate) fn drop_unusable_resource_techniques(
    index: &warrant_core::inventory::InventoryIndex<'_>,
    privileges: &mut HashMap<String, Arc<warrant_core::PrivilegeSummary>>,
    reach: &ReachMap,
) {
    let inventory = index.inventory;
    if inventory.resources.is_empty() {
        return;
    }
    let compute = crate::compute::ComputeIndex::new(index);
    let resource_kind = crate::compute::resource_kinds();
    for identity in inventory
        .identities
        .iter()
        .filter(|i| i.provider == Provider::Aws)
    {
        let Some(account) = identity.account.as_deref() else {
            continue;
        };
        let Some(summary) = privileges.get(&identity.id) else {
            continue;
        };
        let unusable = |technique: &str| {
            let Some(kind) = resource_kind.get(technique) else {
                return false;
            };
            if !compute.is_listed(kind, account) {
                return false;
            }
            let patterns = reach
                .get(&identity.id)
                .and_then(|r| r.iter().find(|r| r.technique == technique))
                .map_or(&[][..], |r| r.targets.as_slice());
            !compute
                .reachable(kind, account, patterns)
                .any(|c| c.role != identity.id)
        };
        if summary.escalations.iter().any(|e| unusable(&e.technique))
            && let Some(summary) = privileges.get_mut(&identity.id)
        {
            Arc::make_mut(summary)
                .escalations
                .retain(|e| !unusable(&e.technique));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warrant_core::{Provenance, Statement};

    fn escalations(verbs: &[&str], resources: &[&str]) -> Vec<String> {
        let attachment = Attachment {
            identity: "system:serviceaccount:ci:deployer".into(),
            policy: "k8s:c/clusterrole/r".into(),
            via: Some("clusterrolebinding:r".into()),
            scope: None,
        };
        let policy = Policy {
            id: "k8s:c/clusterrole/r".into(),
            name: "r".into(),
            provider: Provider::Kubernetes,
            kind: PolicyKind::K8sClusterRole,
            statements: vec![Statement {
                sid: None,
                effect: Effect::Allow,
                actions: verbs.iter().map(|v| v.to_string()).collect(),
                not_actions: vec![],
                resources: resources.iter().map(|r| r.to_string()).collect(),
                not_resources: vec![],
                conditions: None,
            }],
            provenance: Provenance::default(),
        };
        k8s_summary(&[(&attachment, &policy)])
            .escalations
            .into_iter()
            .map(|e| e.technique)
            .collect()
    }

    #[test]
    fn escalation_verbs_count_only_on_the_resources_they_apply_to() {
        // Everything on secrets reads secrets; it does not impersonate or grant roles.
        assert!(escalations(&["*"], &["/secrets"]).is_empty());
        assert!(escalations(&["bind", "escalate"], &["/configmaps"]).is_empty());
        assert_eq!(
            escalations(&["impersonate"], &["/serviceaccounts"]),
            ["k8s-impersonate"]
        );
        assert_eq!(
            escalations(&["impersonate"], &["/users/alice"]),
            ["k8s-impersonate"]
        );
        assert_eq!(
            escalations(&["bind"], &["rbac.authorization.k8s.io/clusterroles"]),
            ["k8s-bind-escalate"]
        );
        assert_eq!(
            escalations(&["escalate"], &["rbac.authorization.k8s.io/*"]),
            ["k8s-bind-escalate"]
        );
        // A subresource is not its resource: exec on pods is not creating pods.
        assert_eq!(
            escalations(&["create"], &["/pods/exec"]),
            ["k8s-exec-or-token"]
        );
        let all = escalations(&["*"], &["*/*"]);
        for technique in ["k8s-impersonate", "k8s-bind-escalate", "k8s-create-pods"] {
            assert!(all.iter().any(|t| t == technique), "{technique} in {all:?}");
        }
    }

    /// `warrant show` decides date conditions at the assessment time, like `assess`: an allow
    /// that expired is no escalation then, and without a time it stays low confidence.
    #[test]
    fn detail_at_an_instant_decides_date_conditions() {
        let document = serde_json::json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Action": "iam:CreatePolicyVersion",
            "Resource": "arn:aws:iam::111122223333:policy/*",
            "Condition": {"DateLessThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}}
        }]});
        let policy = Policy {
            id: "arn:aws:iam::111122223333:policy/temporary-grant".into(),
            name: "temporary-grant".into(),
            provider: Provider::Aws,
            kind: PolicyKind::CustomerManaged,
            statements: warrant_aws_policy::parse_policy_document(&document).unwrap_or_default(),
            provenance: Provenance::default(),
        };
        let id = "arn:aws:iam::111122223333:user/svc-build";
        let mut identity = Identity::new(
            id,
            warrant_core::IdentityKind::AwsUser,
            Provider::Aws,
            "svc-build",
        );
        identity.account = Some("111122223333".into());
        let mut inventory = warrant_core::Inventory::default();
        inventory.identities.push(identity);
        inventory.attachments.push(Attachment {
            identity: id.into(),
            policy: policy.id.clone(),
            via: None,
            scope: None,
        });
        inventory.policies.push(policy);
        let undecided = privilege_detail(&inventory, id);
        assert!(
            undecided
                .escalations
                .iter()
                .any(|e| e.technique == "create-policy-version"),
            "{:?}",
            undecided.escalations
        );
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
            .map(|t| t.with_timezone(&chrono::Utc))
            .ok();
        let decided = privilege_detail_at(&inventory, id, now);
        assert!(decided.escalations.is_empty(), "{:?}", decided.escalations);
    }
}
