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

/// Paths longer than this are not searched: real chains are short, and the bound keeps the
/// search linear in the inventory.
pub const MAX_STEPS: usize = 6;

/// The shortest way one identity becomes an administrator.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminPath {
    pub steps: usize,
    /// The administrator (identity or group ARN) at the end.
    pub admin: String,
    /// identity, step, identity, step, … administrator.
    pub path: Vec<String>,
    /// The technique of each step.
    pub techniques: Vec<String>,
    pub confidence: Confidence,
}

impl AdminPath {
    /// One sentence for evidence.
    pub fn sentence(&self) -> String {
        format!(
            "Reaches administrator in {} step{}: {}.",
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
    let inventory = index.inventory;
    let aws: Vec<&Identity> = inventory
        .identities
        .iter()
        .filter(|i| i.provider == Provider::Aws)
        .collect();
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

    let mut reached: HashMap<&str, Step<'_>> = HashMap::new();
    let mut frontier: Vec<&str> = aws
        .iter()
        .filter(|i| privileges.get(&i.id).is_some_and(|p| p.admin_equivalent))
        .map(|i| i.id.as_str())
        .collect();
    for id in &frontier {
        reached.insert(
            id,
            Step {
                steps: 0,
                next: id,
                technique: String::new(),
                confidence: Confidence::High,
            },
        );
    }
    let mut groups: Vec<&str> = admin_groups.iter().map(String::as_str).collect();
    groups.sort_unstable();
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
        if let Some(last) = path.last_mut() {
            last.push_str(" (administrator)");
        }
        out.insert(
            (*id).to_string(),
            AdminPath {
                steps: step.steps,
                admin,
                path,
                techniques,
                confidence: step.confidence,
            },
        );
    }
    out
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
