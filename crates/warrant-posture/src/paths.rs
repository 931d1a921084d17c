//! Escalation as a graph: which identities can become an administrator, in how many steps,
//! and by which shortest path.
//!
//! Nodes are AWS identities (and groups that make their members administrators). An edge
//! `X → Y` means X can act as Y: Y's trust policy names X's ARN in X's account (no identity
//! policy needed there), or an account-level trust plus X's `sts:AssumeRole` on Y, or X passes
//! Y to new compute of a service Y trusts, or X creates credentials for user Y, or X rewrites
//! Y's trust policy, or X adds itself to administrator group Y. The policies say which
//! principals each technique reaches (`warrant_aws_policy::Reach`); this module resolves those
//! patterns against the inventory, so a permission on a role that does not exist, or on one
//! no stronger than the caller, is no path.
//!
//! The search runs backwards from the administrators, one layer per step, so every identity
//! gets its shortest path in O(layers × edges) without building every edge (a `*` pattern
//! stops at the first administrator it matches).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use warrant_aws_policy::Reach;
use warrant_aws_policy::analyze::Family;
use warrant_aws_policy::catalog::glob_match_ci;
use warrant_core::{
    Confidence, Identity, IdentityKind, PrincipalKind, PrivilegeSummary, Provider,
    inventory::InventoryIndex,
};

/// The technique name of an escalation through other principals (its `path` lists the steps).
pub const PATH_TO_ADMIN: &str = "path-to-admin";

/// The technique name of a way, through other principals, to a named sensitive capability
/// (`[[posture.capability]]`) the identity does not hold itself.
pub const PATH_TO_CAPABILITY: &str = "path-to-capability";

/// Paths longer than this are not searched: real chains are short, and the bound keeps the
/// search linear in the inventory.
pub const MAX_STEPS: usize = 6;

/// The shortest way one identity becomes an administrator, or reaches a named capability.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminPath {
    pub steps: usize,
    /// The administrator or capability holder (identity or group ARN) at the end.
    pub admin: String,
    /// The capability sought (`None`: administrator).
    pub capability: Option<String>,
    /// identity, step, identity, step, … administrator.
    pub path: Vec<String>,
    /// The technique of each step.
    pub techniques: Vec<String>,
    pub confidence: Confidence,
}

impl AdminPath {
    /// One sentence for evidence.
    pub fn sentence(&self) -> String {
        let goal = match &self.capability {
            None => "administrator".to_string(),
            Some(name) => format!("capability {name}"),
        };
        format!(
            "Reaches {goal} in {} step{}: {}.",
            self.steps,
            if self.steps == 1 { "" } else { "s" },
            self.path.join(" → ")
        )
    }
}

struct Step<'a> {
    steps: usize,
    next: &'a str,
    technique: String,
    confidence: Confidence,
}

/// Shortest paths to administrator for every AWS identity that has one and is not an
/// administrator already. `reach` holds what each identity's policies reach (identities
/// without an entry reach nothing through their policies; trust can still lead somewhere).
pub fn admin_paths(
    index: &InventoryIndex<'_>,
    privileges: &HashMap<String, Arc<PrivilegeSummary>>,
    reach: &HashMap<String, Arc<Vec<Reach>>>,
    admin_groups: &HashSet<String>,
) -> HashMap<String, AdminPath> {
    shortest_paths(index, privileges, reach, admin_groups, None)
}

/// Shortest paths to the named capability (as `reach` reports its holders, see
/// [`warrant_aws_policy::HOLDS_CAPABILITY`]) for every identity that does not hold it itself.
/// An administrator holds every capability, so paths to one count too.
pub fn capability_paths(
    index: &InventoryIndex<'_>,
    privileges: &HashMap<String, Arc<PrivilegeSummary>>,
    reach: &HashMap<String, Arc<Vec<Reach>>>,
    admin_groups: &HashSet<String>,
    capability: &str,
) -> HashMap<String, AdminPath> {
    shortest_paths(index, privileges, reach, admin_groups, Some(capability))
}

/// The search behind [`admin_paths`] and [`capability_paths`]: `capability` `None` seeks
/// administrators only.
fn shortest_paths(
    index: &InventoryIndex<'_>,
    privileges: &HashMap<String, Arc<PrivilegeSummary>>,
    reach: &HashMap<String, Arc<Vec<Reach>>>,
    admin_groups: &HashSet<String>,
    capability: Option<&str>,
) -> HashMap<String, AdminPath> {
    let inventory = index.inventory;
    // AWS identities, and GitHub identities that can change CI workflows (a workflow can take
    // any role whose trust admits the repository's OIDC subject).
    let aws: Vec<&Identity> = inventory
        .identities
        .iter()
        .filter(|i| {
            i.provider == Provider::Aws
                || (i.provider == Provider::GitHub
                    && privileges.get(&i.id).is_some_and(|p| {
                        p.escalations
                            .iter()
                            .any(|e| e.technique == GITHUB_WORKFLOWS_WRITE)
                    }))
        })
        .collect();
    // Kubernetes identities and what their RBAC lets them become.
    let k8s_moves: HashMap<&str, Vec<K8sMove>> = inventory
        .identities
        .iter()
        .filter(|i| i.provider == Provider::Kubernetes)
        .filter_map(|i| {
            let moves = k8s_moves_of(index, i);
            (!moves.is_empty()).then_some((i.id.as_str(), moves))
        })
        .collect();
    let aws: Vec<&Identity> = aws
        .into_iter()
        .chain(
            inventory
                .identities
                .iter()
                .filter(|i| k8s_moves.contains_key(i.id.as_str())),
        )
        .collect();
    // Roles GitHub Actions can assume, with the `sub` patterns their trust admits (empty: any).
    let mut github_trust: HashMap<&str, Vec<String>> = HashMap::new();
    for edge in &inventory.trust_edges {
        if edge.from_kind == PrincipalKind::Federated && edge.from.ends_with(GITHUB_OIDC_HOST) {
            github_trust
                .entry(edge.to.as_str())
                .or_default()
                .extend(crate::rules::subject_conditions(edge.conditions.as_ref()));
        }
    }
    // Trust, by who is trusted.
    let mut trusted_by_identity: HashMap<&str, Vec<(&str, bool)>> = HashMap::new();
    let mut trusted_by_account: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut services_of_role: HashMap<&str, Vec<&str>> = HashMap::new();
    for edge in &inventory.trust_edges {
        match edge.from_kind {
            PrincipalKind::Identity => trusted_by_identity
                .entry(edge.from.as_str())
                .or_default()
                .push((edge.to.as_str(), edge.conditions.is_some())),
            PrincipalKind::Account => trusted_by_account
                .entry(edge.from.as_str())
                .or_default()
                .push(edge.to.as_str()),
            PrincipalKind::Service => services_of_role
                .entry(edge.to.as_str())
                .or_default()
                .push(edge.from.as_str()),
            _ => {}
        }
    }

    let is_admin = |id: &str| privileges.get(id).is_some_and(|p| p.admin_equivalent);
    // How surely an identity holds the capability itself.
    let holds = |id: &str| -> Option<Confidence> {
        let name = capability?;
        reach
            .get(id)?
            .iter()
            .filter(|r| {
                r.technique == warrant_aws_policy::HOLDS_CAPABILITY
                    && r.targets.iter().any(|t| t == name)
            })
            .map(|r| r.confidence)
            .min()
    };
    let mut reached: HashMap<&str, Step<'_>> = HashMap::new();
    let mut frontier: Vec<&str> = Vec::new();
    for identity in &aws {
        let id = identity.id.as_str();
        let confidence = if is_admin(id) {
            Some(Confidence::High)
        } else {
            holds(id)
        };
        if let Some(confidence) = confidence {
            frontier.push(id);
            reached.insert(
                id,
                Step {
                    steps: 0,
                    next: id,
                    technique: String::new(),
                    confidence,
                },
            );
        }
    }
    let mut groups: Vec<&str> = admin_groups.iter().map(String::as_str).collect();
    groups.sort_unstable();
    // Functions, stacks and instances that run as a role: taking one over is a step to it.
    let compute = crate::compute::ComputeIndex::new(index);
    let resource_kind = crate::compute::resource_kinds();
    let self_grant: HashSet<&str> = warrant_aws_policy::analyze::techniques()
        .iter()
        .filter(|t| t.family == Family::SelfGrant)
        .map(|t| t.name.as_str())
        .collect();

    for layer in 0..MAX_STEPS {
        if frontier.is_empty() && (layer > 0 || groups.is_empty()) {
            break;
        }
        let frontier_set: HashSet<&str> = frontier.iter().copied().collect();
        // The frontier's roles and users per account, for patterns with wildcards.
        let mut roles_by_account: HashMap<&str, Vec<&Identity>> = HashMap::new();
        let mut users_by_account: HashMap<&str, Vec<&Identity>> = HashMap::new();
        for id in &frontier {
            let Some(identity) = index.identity_by_id.get(id) else {
                continue;
            };
            let account = identity.account.as_deref().unwrap_or("");
            match identity.kind {
                IdentityKind::AwsRole => {
                    roles_by_account.entry(account).or_default().push(identity)
                }
                IdentityKind::AwsUser => {
                    users_by_account.entry(account).or_default().push(identity)
                }
                _ => {}
            }
        }
        let k8s_frontier: Vec<&Identity> = frontier
            .iter()
            .filter_map(|id| index.identity_by_id.get(id).copied())
            .filter(|i| i.provider == Provider::Kubernetes)
            .collect();
        let mut next_frontier = Vec::new();
        for x in &aws {
            if reached.contains_key(x.id.as_str()) {
                continue;
            }
            let account = x.account.as_deref().unwrap_or("");
            let mut found: Option<(&str, String, Confidence)> = None;
            // Granting itself any permission makes X an administrator in one step.
            if layer == 0
                && let Some(e) = privileges.get(&x.id).and_then(|p| {
                    p.escalations
                        .iter()
                        .filter(|e| self_grant.contains(e.technique.as_str()))
                        .min_by_key(|e| e.confidence)
                })
            {
                found = Some((x.id.as_str(), e.technique.clone(), e.confidence));
            }
            // Trust that names X: nothing else needed in X's own account.
            for (role, conditional) in trusted_by_identity
                .get(x.id.as_str())
                .into_iter()
                .flatten()
                .filter(|_| found.is_none())
            {
                if frontier_set.contains(role) && same_account(index, role, account) {
                    let confidence = if *conditional {
                        Confidence::Low
                    } else {
                        Confidence::High
                    };
                    found = Some((role, "assume-role (trusted by name)".into(), confidence));
                    break;
                }
            }
            if found.is_none()
                && let Some(moves) = k8s_moves.get(x.id.as_str())
            {
                found = k8s_step(x, moves, layer, &k8s_frontier);
            }
            if found.is_none() && x.provider == Provider::GitHub {
                found = github_workflow_step(index, x, &frontier, &github_trust);
            }
            if found.is_none()
                && let Some(entries) = reach.get(&x.id)
            {
                for r in entries.iter() {
                    let hit = match (r.family, r.technique.as_str()) {
                        (None, "assume-role") => {
                            // Account-level trust: the identity policy decides.
                            trusted_by_account
                                .get(account)
                                .into_iter()
                                .flatten()
                                .find(|role| {
                                    frontier_set.contains(*role) && matches_any(&r.targets, role)
                                })
                                .copied()
                                .or_else(|| {
                                    // Trust naming X from another account needs the policy too.
                                    trusted_by_identity
                                        .get(x.id.as_str())
                                        .into_iter()
                                        .flatten()
                                        .map(|(role, _)| *role)
                                        .find(|role| {
                                            frontier_set.contains(role)
                                                && matches_any(&r.targets, role)
                                        })
                                })
                        }
                        (Some(Family::PassRole), _) => roles_by_account
                            .get(account)
                            .into_iter()
                            .flatten()
                            .find(|role| {
                                role.id != x.id
                                    && matches_any(&r.targets, &role.id)
                                    && services_of_role.get(role.id.as_str()).is_some_and(
                                        |services| {
                                            r.passed_to.is_empty()
                                                || services.iter().any(|s| {
                                                    r.passed_to
                                                        .iter()
                                                        .any(|p| p.eq_ignore_ascii_case(s))
                                                })
                                        },
                                    )
                            })
                            .map(|role| role.id.as_str()),
                        (Some(Family::Credentials), _) => users_by_account
                            .get(account)
                            .into_iter()
                            .flatten()
                            .find(|user| user.id != x.id && matches_any(&r.targets, &user.id))
                            .map(|user| user.id.as_str()),
                        (Some(Family::Trust), _) => roles_by_account
                            .get(account)
                            .into_iter()
                            .flatten()
                            .find(|role| role.id != x.id && matches_any(&r.targets, &role.id))
                            .map(|role| role.id.as_str()),
                        (Some(Family::Group), _)
                            if layer == 0 && x.kind == IdentityKind::AwsUser =>
                        {
                            groups.iter().find(|g| matches_any(&r.targets, g)).copied()
                        }
                        (Some(Family::ExistingResource), technique) => resource_kind
                            .get(technique)
                            .and_then(|kind| {
                                compute
                                    .reachable(kind, account, &r.targets)
                                    .find(|c| c.role != x.id && frontier_set.contains(c.role))
                            })
                            .map(|c| c.role),
                        _ => None,
                    };
                    if let Some(target) = hit {
                        found = Some((target, r.technique.clone(), r.confidence));
                        break;
                    }
                }
            }
            if let Some((target, technique, confidence)) = found {
                next_frontier.push((x.id.as_str(), target, technique, confidence));
            }
        }
        frontier = Vec::with_capacity(next_frontier.len());
        for (id, target, technique, confidence) in next_frontier {
            let confidence = confidence.max(
                reached
                    .get(target)
                    .map_or(Confidence::High, |s| s.confidence),
            );
            reached.insert(
                id,
                Step {
                    steps: layer + 1,
                    next: target,
                    technique,
                    confidence,
                },
            );
            frontier.push(id);
        }
    }

    let name = |id: &str| -> String {
        index
            .identity_by_id
            .get(id)
            .map_or_else(|| id.to_string(), |i| i.id.clone())
    };
    let mut out = HashMap::new();
    for (id, step) in &reached {
        if step.steps == 0 {
            continue;
        }
        let mut path = vec![name(id)];
        let mut techniques = Vec::new();
        let mut current = *id;
        let mut admin = current.to_string();
        while let Some(s) = reached.get(current) {
            if s.steps == 0 {
                break;
            }
            path.push(s.technique.clone());
            techniques.push(s.technique.clone());
            path.push(name(s.next));
            admin = s.next.to_string();
            if s.next == current {
                // It granted itself administrator.
                break;
            }
            current = s.next;
            // Groups are administrators without an identity entry: the path ends there.
            if !reached.contains_key(current) {
                break;
            }
        }
        // The end holds the capability itself unless it is (or made itself) an administrator.
        let end_is_admin = capability.is_none()
            || admin == *id
            || is_admin(&admin)
            || !reached.contains_key(admin.as_str());
        if let Some(last) = path.last_mut() {
            match capability {
                Some(name) if !end_is_admin => last.push_str(&format!(" (holds {name})")),
                _ => last.push_str(" (administrator)"),
            }
        }
        out.insert(
            (*id).to_string(),
            AdminPath {
                steps: step.steps,
                admin,
                capability: capability.map(str::to_string),
                path,
                techniques,
                confidence: step.confidence,
            },
        );
    }
    out
}

/// One way a Kubernetes identity becomes another: the technique, and the namespace it
/// applies in (`None`: every namespace).
#[derive(Debug, Clone)]
struct K8sMove {
    technique: &'static str,
    namespace: Option<String>,
}

/// What RBAC lets a Kubernetes identity become: run pods (as any service account of the
/// namespace), exec into them or mint their tokens, read the secrets that hold their tokens,
/// impersonate, or bind itself any role (cluster-wide: an administrator in one step).
fn k8s_moves_of(index: &InventoryIndex<'_>, identity: &Identity) -> Vec<K8sMove> {
    use crate::privilege::k8s_rule_covers as covers;
    let mut moves = Vec::new();
    for (attachment, policy) in index.policies_of(&identity.id) {
        if policy.provider != Provider::Kubernetes {
            continue;
        }
        for st in policy
            .statements
            .iter()
            .filter(|s| s.effect == warrant_core::Effect::Allow)
        {
            let has = |v: &str| st.actions.iter().any(|a| a == v || a == "*");
            let r = &st.resources;
            let mut add = |technique: &'static str| {
                moves.push(K8sMove {
                    technique,
                    namespace: attachment.scope.clone(),
                })
            };
            if has("create") && covers(r, "/pods", false) {
                add("k8s-create-pods");
            }
            if has("create")
                && (covers(r, "/pods/exec", false) || covers(r, "/serviceaccounts/token", true))
            {
                add("k8s-exec-or-token");
            }
            if (has("get") || has("list") || has("watch")) && covers(r, "/secrets", true) {
                add("k8s-read-secrets");
            }
            if has("impersonate")
                && (covers(r, "/serviceaccounts", true) || covers(r, "/users", true))
            {
                add("k8s-impersonate");
            }
            // The kubelet API behind `nodes/proxy` runs commands in any pod on the node
            // (exec over a GET upgrade): any service account whose pods run there.
            if (has("get") || has("create"))
                && attachment.scope.is_none()
                && covers(r, "/nodes/proxy", true)
            {
                add("k8s-nodes-proxy");
            }
            if (has("bind") || has("escalate"))
                && attachment.scope.is_none()
                && covers(r, "rbac.authorization.k8s.io/clusterroles", true)
            {
                add("k8s-bind-escalate");
            }
        }
    }
    moves
}

fn k8s_step<'a>(
    x: &'a Identity,
    moves: &[K8sMove],
    layer: usize,
    frontier: &[&'a Identity],
) -> Option<(&'a str, String, Confidence)> {
    if layer == 0
        && let Some(m) = moves.iter().find(|m| m.technique == "k8s-bind-escalate")
    {
        return Some((x.id.as_str(), m.technique.to_string(), Confidence::High));
    }
    for m in moves {
        let target = frontier.iter().find(|t| {
            t.id != x.id
                && t.account == x.account
                && (t.kind == IdentityKind::K8sServiceAccount || m.technique == "k8s-impersonate")
                && m.namespace
                    .as_ref()
                    .is_none_or(|ns| t.namespace.as_ref() == Some(ns))
        });
        if let Some(target) = target {
            // Reading secrets yields tokens only where service-account token secrets exist,
            // and a node proxy reaches only accounts with a running pod: neither shows in the
            // RBAC export.
            let confidence = if matches!(m.technique, "k8s-read-secrets" | "k8s-nodes-proxy") {
                Confidence::Low
            } else {
                Confidence::High
            };
            return Some((target.id.as_str(), m.technique.to_string(), confidence));
        }
    }
    None
}

/// The technique GitHub summaries report for write access to CI workflows.
const GITHUB_WORKFLOWS_WRITE: &str = "github-workflows-write";
const GITHUB_OIDC_HOST: &str = "token.actions.githubusercontent.com";

/// A GitHub identity that writes workflows in organisation `org` becomes a frontier role whose
/// trust admits a repository of `org` (or any subject). With access to selected repositories
/// only, which ones the export does not say: the step has low confidence.
fn github_workflow_step<'a>(
    index: &InventoryIndex<'a>,
    x: &Identity,
    frontier: &[&'a str],
    github_trust: &HashMap<&'a str, Vec<String>>,
) -> Option<(&'a str, String, Confidence)> {
    let org = x.account.as_deref()?.to_ascii_lowercase();
    let all_repos = index.policies_of(&x.id).iter().any(|(_, p)| {
        p.statements
            .iter()
            .any(|s| s.resources.iter().any(|r| r == "*"))
    });
    let repo_of_org = format!("repo:{org}/x:ref:refs/heads/main");
    frontier.iter().copied().find_map(|role| {
        let subjects = github_trust.get(role)?;
        let admits = subjects.is_empty()
            || subjects.iter().any(|p| {
                let p = p.to_ascii_lowercase();
                // A pattern for the organisation's repositories, or for any subject.
                p.starts_with(&format!("repo:{org}/")) || glob_match_ci(&p, &repo_of_org)
            });
        admits.then(|| {
            (
                role,
                format!("{GITHUB_WORKFLOWS_WRITE} (OIDC trust)"),
                if all_repos {
                    Confidence::High
                } else {
                    Confidence::Low
                },
            )
        })
    })
}

fn same_account(index: &InventoryIndex<'_>, role: &str, account: &str) -> bool {
    index
        .identity_by_id
        .get(role)
        .is_some_and(|r| r.account.as_deref().unwrap_or("") == account)
}

fn matches_any(patterns: &[String], arn: &str) -> bool {
    patterns.iter().any(|p| {
        if p.contains(['*', '?']) {
            glob_match_ci(p, arn)
        } else {
            p.eq_ignore_ascii_case(arn)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use warrant_core::{
        Attachment, Effect, Inventory, Policy, PolicyKind, Provenance, Statement, TrustEdge,
        TrustKind,
    };

    fn policy(id: &str, provider: Provider, actions: &[&str], resources: &[&str]) -> Policy {
        Policy {
            id: id.into(),
            name: id.into(),
            provider,
            kind: PolicyKind::Inline,
            statements: vec![Statement {
                sid: None,
                effect: Effect::Allow,
                actions: actions.iter().map(|a| a.to_string()).collect(),
                not_actions: vec![],
                resources: resources.iter().map(|r| r.to_string()).collect(),
                not_resources: vec![],
                conditions: None,
            }],
            provenance: Provenance::default(),
        }
    }

    /// A GitHub App of `org` with workflow write on `repos`, and an administrator role that
    /// GitHub Actions of `acme`'s repositories may assume.
    fn inventory(org: &str, repos: &str) -> Inventory {
        let mut inv = Inventory::default();
        let mut role = Identity::new(
            "arn:aws:iam::111122223333:role/deploy",
            IdentityKind::AwsRole,
            Provider::Aws,
            "deploy",
        );
        role.account = Some("111122223333".into());
        let mut app = Identity::new(
            "github:acme/app/ci",
            IdentityKind::GitHubApp,
            Provider::GitHub,
            "ci",
        );
        app.account = Some(org.into());
        inv.policies
            .push(policy("admin", Provider::Aws, &["*"], &["*"]));
        inv.policies.push(policy(
            "ci-permissions",
            Provider::GitHub,
            &["workflows:write", "contents:write"],
            &[repos],
        ));
        for (identity, policy) in [(&role.id, "admin"), (&app.id, "ci-permissions")] {
            inv.attachments.push(Attachment {
                identity: identity.clone(),
                policy: policy.into(),
                via: None,
                scope: None,
            });
        }
        inv.trust_edges.push(TrustEdge {
            from: "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
                .into(),
            from_kind: PrincipalKind::Federated,
            to: role.id.clone(),
            kind: TrustKind::AssumeRoleWithWebIdentity,
            conditions: Some(serde_json::json!({
                "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/*"}
            })),
            provenance: Provenance::default(),
        });
        inv.identities.push(role);
        inv.identities.push(app);
        inv
    }

    fn paths_of(inv: &Inventory) -> HashMap<String, AdminPath> {
        let index = inv.index();
        let (privileges, reach) = crate::privilege::summarize_all_with_reach(&index, None, &[]);
        admin_paths(&index, &privileges, &reach, &HashSet::new())
    }

    #[test]
    fn workflow_write_reaches_roles_that_trust_the_organisations_repositories() {
        let inv = inventory("acme", "*");
        let paths = paths_of(&inv);
        let path = &paths["github:acme/app/ci"];
        assert_eq!(path.steps, 1);
        assert_eq!(path.admin, "arn:aws:iam::111122223333:role/deploy");
        assert_eq!(path.confidence, Confidence::High);
        // Selected repositories only: which ones is not known, so the path is uncertain.
        let selected = paths_of(&inventory("acme", "github:acme/selected"));
        assert_eq!(selected["github:acme/app/ci"].confidence, Confidence::Low);
        // Another organisation's workflows are not admitted by the trust.
        assert!(paths_of(&inventory("other", "*")).is_empty());
    }

    fn k8s_inventory(pods_namespace: &str) -> Inventory {
        let mut inv = Inventory::default();
        for (ns, name) in [("prod", "admin"), ("ci", "deployer")] {
            let mut sa = Identity::new(
                format!("system:serviceaccount:{ns}:{name}"),
                IdentityKind::K8sServiceAccount,
                Provider::Kubernetes,
                name,
            );
            sa.account = Some("c1".into());
            sa.namespace = Some(ns.into());
            inv.identities.push(sa);
        }
        let mut admin = policy("cluster-admin", Provider::Kubernetes, &["*"], &["*/*"]);
        admin.kind = PolicyKind::K8sClusterRole;
        let mut pods = policy(
            "run-pods",
            Provider::Kubernetes,
            &["create", "get"],
            &["/pods"],
        );
        pods.kind = PolicyKind::K8sRole;
        inv.attachments.push(Attachment {
            identity: "system:serviceaccount:prod:admin".into(),
            policy: admin.id.clone(),
            via: Some("clusterrolebinding:admin".into()),
            scope: None,
        });
        inv.attachments.push(Attachment {
            identity: "system:serviceaccount:ci:deployer".into(),
            policy: pods.id.clone(),
            via: Some("rolebinding:run-pods".into()),
            scope: Some(pods_namespace.into()),
        });
        inv.policies.extend([admin, pods]);
        inv
    }

    #[test]
    fn creating_pods_where_a_privileged_service_account_lives_is_a_path() {
        let paths = paths_of(&k8s_inventory("prod"));
        let path = &paths["system:serviceaccount:ci:deployer"];
        assert_eq!(path.techniques, ["k8s-create-pods"]);
        assert_eq!(path.admin, "system:serviceaccount:prod:admin");
        // Pods in its own namespace run as its own namespace's accounts only.
        assert!(paths_of(&k8s_inventory("ci")).is_empty());
    }

    /// `nodes/proxy` reaches the kubelet of every node, so any running pod's account: a path
    /// of low confidence (which accounts have pods running is not in the export). Held in one
    /// namespace it grants nothing (nodes are cluster-scoped), and `list` alone is not exec.
    #[test]
    fn node_proxy_cluster_wide_is_a_low_confidence_path() {
        let with = |verbs: &[&str], scope: Option<&str>| {
            let mut inv = k8s_inventory("ci");
            inv.attachments
                .retain(|a| a.identity != "system:serviceaccount:ci:deployer");
            let mut proxy = policy("node-proxy", Provider::Kubernetes, verbs, &["/nodes/proxy"]);
            proxy.kind = PolicyKind::K8sClusterRole;
            inv.attachments.push(Attachment {
                identity: "system:serviceaccount:ci:deployer".into(),
                policy: proxy.id.clone(),
                via: Some("clusterrolebinding:node-proxy".into()),
                scope: scope.map(str::to_string),
            });
            inv.policies.push(proxy);
            paths_of(&inv)
        };
        let paths = with(&["get"], None);
        let path = &paths["system:serviceaccount:ci:deployer"];
        assert_eq!(path.techniques, ["k8s-nodes-proxy"]);
        assert_eq!(path.confidence, Confidence::Low);
        assert!(with(&["get"], Some("ci")).is_empty());
        assert!(with(&["list"], None).is_empty());
    }
}
