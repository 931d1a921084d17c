//! Risk scoring; the formula is documented at the crate root.

use std::collections::HashMap;
use std::sync::Arc;

use warrant_core::{
    AccessLevel, Environment, Finding, Inventory, PrincipalKind, PrivilegeSummary, RiskComponent,
    RiskScore, Sensitivity, Severity, inventory::InventoryIndex,
};

use crate::config::PostureConfig;

fn level_points(level: AccessLevel) -> f64 {
    match level {
        AccessLevel::List => 10.0,
        AccessLevel::Tagging => 20.0,
        AccessLevel::Read => 25.0,
        AccessLevel::Write => 40.0,
        AccessLevel::PermissionsManagement => 60.0,
    }
}

fn environment_factor(env: Environment) -> f64 {
    match env {
        Environment::Production => 1.0,
        Environment::Unknown => 0.85,
        Environment::Staging => 0.8,
        Environment::Development | Environment::Test => 0.6,
    }
}

fn finding_probability(severity: Severity) -> f64 {
    match severity {
        Severity::Info => 0.0,
        Severity::Low => 0.05,
        Severity::Medium => 0.12,
        Severity::High => 0.25,
        Severity::Critical => 0.40,
    }
}

/// The most sensitive thing an identity reaches, and why.
fn sensitivity(
    privilege: &PrivilegeSummary,
    from_policies: Option<&(Sensitivity, String)>,
    config: &PostureConfig,
) -> (Sensitivity, String) {
    if privilege.admin_equivalent {
        return (
            Sensitivity::Critical,
            "administrator access reaches everything".into(),
        );
    }
    let mut best = (Sensitivity::Low, "no sensitive resources".to_string());
    if privilege.n_actions() > 0 {
        best = (Sensitivity::Medium, "ordinary resources".into());
    }
    if let Some((level, why)) = from_policies
        && *level > best.0
    {
        best = (*level, why.clone());
    }
    // Resource lists are present for Kubernetes and GitHub (small) and for detailed AWS summaries.
    for access in &privilege.resource_access {
        if let Some(level) = config.sensitivity_of(&access.resource)
            && level > best.0
        {
            best = (
                level,
                format!("{} matches a sensitivity rule", access.resource),
            );
        }
    }
    if privilege.max_level() >= Some(AccessLevel::Write)
        && let Some(service) = privilege
            .services
            .iter()
            .find(|s| warrant_core::CONTROL_SERVICES.contains(&s.as_str()))
        && Sensitivity::High > best.0
    {
        best = (
            Sensitivity::High,
            format!("write access includes {service}"),
        );
    }
    if !privilege.secrets_evidence.is_empty() && Sensitivity::High > best.0 {
        best = (Sensitivity::High, "it can read secrets".into());
    }
    best
}

/// The most sensitive resource each policy names, by the configured patterns; computed once per
/// policy because many identities share policies.
fn policy_sensitivity<'a>(
    inventory: &'a Inventory,
    config: &PostureConfig,
) -> HashMap<&'a str, (Sensitivity, String)> {
    inventory
        .policies
        .iter()
        .filter_map(|p| {
            p.statements
                .iter()
                .filter(|s| s.effect == warrant_core::Effect::Allow)
                .flat_map(|s| s.resources.iter())
                .filter_map(|r| config.sensitivity_of(r).map(|level| (level, r)))
                .max_by_key(|(level, _)| *level)
                .map(|(level, r)| {
                    (
                        p.id.as_str(),
                        (level, format!("{r} matches a sensitivity rule")),
                    )
                })
        })
        .collect()
}

/// Blast radius of one identity on its own, with its components.
fn own_blast(
    env: Environment,
    privilege: &PrivilegeSummary,
    from_policies: Option<&(Sensitivity, String)>,
    config: &PostureConfig,
) -> (f64, Vec<RiskComponent>) {
    let mut components = Vec::new();
    let mut push = |label: &str, points: f64, explanation: String| {
        components.push(RiskComponent {
            factor: "blast_radius".into(),
            label: label.into(),
            points,
            explanation,
        });
    };
    let mut points;
    if privilege.admin_equivalent {
        points = 90.0;
        push(
            "administrator",
            90.0,
            privilege
                .admin_evidence
                .first()
                .cloned()
                .unwrap_or_else(|| "administrator-equivalent".into()),
        );
    } else {
        let level = privilege.max_level();
        points = level.map(level_points).unwrap_or(0.0);
        push(
            "highest access level",
            points,
            match level {
                Some(l) => format!("it can {l}"),
                None => "it holds no permissions".into(),
            },
        );
        let n_powerful = privilege
            .actions_by_level
            .get(&AccessLevel::Write)
            .copied()
            .unwrap_or(0)
            + privilege
                .actions_by_level
                .get(&AccessLevel::PermissionsManagement)
                .copied()
                .unwrap_or(0);
        if n_powerful > 0 {
            let breadth = (3.0 * (1.0 + n_powerful as f64).log2()).min(20.0);
            points += breadth;
            push(
                "breadth",
                breadth,
                format!("{n_powerful} write or permissions-management actions"),
            );
        }
        if !privilege.escalations.is_empty() {
            points += 15.0;
            push(
                "escalation",
                15.0,
                format!(
                    "{} privilege-escalation path(s)",
                    privilege.escalations.len()
                ),
            );
        }
        if !privilege.secrets_evidence.is_empty() {
            points += 10.0;
            push(
                "secrets",
                10.0,
                privilege
                    .secrets_evidence
                    .first()
                    .cloned()
                    .unwrap_or_default(),
            );
        }
        if points > 85.0 {
            push(
                "cap",
                85.0 - points,
                "short of administrator, privilege points stop at 85".into(),
            );
            points = 85.0;
        }
    }
    let env_factor = environment_factor(env);
    let (sens, why) = sensitivity(privilege, from_policies, config);
    let sens_factor = 0.8 + 0.08 * (sens.weight() - 1.0);
    let with_sensitivity = points * sens_factor;
    let with_environment = with_sensitivity * env_factor;
    let total = with_environment.clamp(0.0, 100.0);
    push(
        "sensitivity",
        with_sensitivity - points,
        format!("{sens}: {why} (×{sens_factor:.2})"),
    );
    push(
        "environment",
        with_environment - with_sensitivity,
        format!("{env} (×{env_factor:.2})"),
    );
    if with_environment > total {
        push(
            "cap",
            total - with_environment,
            "blast radius is capped at 100".into(),
        );
    }
    (total, components)
}

/// Each identity's blast radius with its explanation: privilege × sensitivity × environment,
/// then raised through trust to what it can become. Independent of findings, so governance
/// tiers (which go by criticality) are known before the rules run.
pub(crate) fn blast_all<'i>(
    inventory: &'i Inventory,
    index: &InventoryIndex<'_>,
    privileges: &HashMap<String, Arc<PrivilegeSummary>>,
    admin_paths: &HashMap<String, crate::paths::AdminPath>,
    capability_paths: &[(Sensitivity, HashMap<String, crate::paths::AdminPath>)],
    config: &PostureConfig,
) -> HashMap<&'i str, (f64, Vec<RiskComponent>)> {
    let empty = PrivilegeSummary::default();
    let by_policy = policy_sensitivity(inventory, config);
    let mut blast: HashMap<&str, (f64, Vec<RiskComponent>)> = inventory
        .identities
        .iter()
        .map(|i| {
            let privilege = privileges.get(&i.id).map(|p| &**p).unwrap_or(&empty);
            let from_policies = index
                .policies_of(&i.id)
                .iter()
                .filter_map(|(_, p)| by_policy.get(p.id.as_str()))
                .max_by_key(|(level, _)| *level);
            (
                i.id.as_str(),
                own_blast(i.environment, privilege, from_policies, config),
            )
        })
        .collect();

    // Who can become whom. Identity edges are kept as they are; account-level trust ("any
    // principal of account X with sts:AssumeRole") is kept per account, not expanded to every
    // identity of X, which would be accounts × identities.
    let can_assume = |privilege: &PrivilegeSummary| {
        privilege.admin_equivalent || privilege.services.contains("sts")
    };
    let mut direct: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut by_account: HashMap<&str, Vec<&str>> = HashMap::new();
    for edge in &inventory.trust_edges {
        if !index.identity_by_id.contains_key(edge.to.as_str()) {
            continue;
        }
        match edge.from_kind {
            PrincipalKind::Identity if index.identity_by_id.contains_key(edge.from.as_str()) => {
                direct
                    .entry(edge.from.as_str())
                    .or_default()
                    .push(edge.to.as_str());
            }
            PrincipalKind::Account => {
                by_account
                    .entry(edge.from.as_str())
                    .or_default()
                    .push(edge.to.as_str());
            }
            _ => {}
        }
    }
    let assumers: Vec<(&str, Option<&str>)> = inventory
        .identities
        .iter()
        .map(|i| {
            let privilege = privileges.get(&i.id).map(|p| &**p).unwrap_or(&empty);
            let account = i
                .account
                .as_deref()
                .filter(|a| can_assume(privilege) && by_account.contains_key(a));
            (i.id.as_str(), account)
        })
        .filter(|(id, account)| account.is_some() || direct.contains_key(id))
        .collect();
    // An identity that can make itself or become an administrator has, N steps away, an
    // administrator's blast radius (in its own environment), discounted 5% a step as trust is;
    // one that reaches a named capability, that capability's (weighed by its level).
    let all_paths = admin_paths
        .iter()
        .map(|(id, path)| (id, path, Sensitivity::Critical))
        .chain(
            capability_paths
                .iter()
                .flat_map(|(level, found)| found.iter().map(|(id, path)| (id, path, *level))),
        );
    for (id, path, level) in all_paths {
        let Some(identity) = index.identity_by_id.get(id.as_str()) else {
            continue;
        };
        let Some(entry) = blast.get_mut(id.as_str()) else {
            continue;
        };
        let goal = (90.0
            * (0.8 + 0.08 * (level.weight() - 1.0))
            * environment_factor(identity.environment))
        .clamp(0.0, 100.0);
        // A path resting on undecided conditions counts for less, not nothing.
        let certainty = if path.confidence == warrant_core::Confidence::Low {
            0.8
        } else {
            1.0
        };
        let reached =
            goal * certainty * 0.95f64.powi(i32::try_from(path.steps).unwrap_or(i32::MAX));
        if reached > entry.0 + 0.01 {
            entry.1.push(RiskComponent {
                factor: "blast_radius".into(),
                label: "escalation path".into(),
                points: reached - entry.0,
                explanation: path.sentence(),
            });
            entry.0 = reached;
        }
    }
    let own: HashMap<&str, f64> = blast.iter().map(|(id, b)| (*id, b.0)).collect();
    let mut effective = own.clone();
    let mut inherited_from: HashMap<&str, &str> = HashMap::new();
    // Fixed point: each round lets blast radius travel one more hop; cycles stop changing.
    for _ in 0..16 {
        let best_of_account: HashMap<&str, (f64, &str)> = by_account
            .iter()
            .filter_map(|(account, targets)| {
                targets
                    .iter()
                    .filter_map(|t| effective.get(t).map(|b| (*b, *t)))
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|best| (*account, best))
            })
            .collect();
        let mut changed = false;
        for (id, account) in &assumers {
            let current = effective.get(id).copied().unwrap_or(0.0);
            let via_direct = direct
                .get(id)
                .into_iter()
                .flatten()
                .filter(|t| *t != id)
                .filter_map(|t| effective.get(t).map(|b| (*b, *t)));
            let via_account = account
                .and_then(|a| best_of_account.get(a))
                .filter(|(_, t)| t != id)
                .copied();
            let best = via_direct
                .chain(via_account)
                .max_by(|a, b| a.0.total_cmp(&b.0));
            if let Some((target_blast, target)) = best {
                let inherited = target_blast * 0.95;
                if inherited > current + 0.01 {
                    effective.insert(id, inherited);
                    inherited_from.insert(id, target);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    for (id, target) in &inherited_from {
        let (Some(eff), Some(own_blast)) = (effective.get(id), own.get(id)) else {
            continue;
        };
        if let Some(entry) = blast.get_mut(id) {
            entry.1.push(RiskComponent {
                factor: "blast_radius".into(),
                label: "trust".into(),
                points: eff - own_blast,
                explanation: format!(
                    "it can assume {target}, whose blast radius is {:.0}",
                    eff / 0.95
                ),
            });
            entry.0 = *eff;
        }
    }

    blast
}

/// Blast radius and exposure into each identity's score. Findings covered by an exception in
/// force do not count towards exposure.
pub(crate) fn score_all(
    inventory: &Inventory,
    mut blast: HashMap<&str, (f64, Vec<RiskComponent>)>,
    findings: &[Finding],
) -> HashMap<String, RiskScore> {
    let mut by_identity: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for f in findings.iter().filter(|f| f.exception.is_none()) {
        by_identity.entry(f.identity.as_str()).or_default().push(f);
    }
    inventory
        .identities
        .iter()
        .map(|identity| {
            let (blast_radius, mut components) = blast
                .remove(identity.id.as_str())
                .unwrap_or((0.0, Vec::new()));
            let mut survive = 1.0;
            for f in by_identity.get(identity.id.as_str()).into_iter().flatten() {
                let p = finding_probability(f.severity);
                let before = 100.0 * (1.0 - survive);
                survive *= 1.0 - p;
                components.push(RiskComponent {
                    factor: "exposure".into(),
                    label: format!("{} {}", f.owasp.code(), f.rule),
                    points: 100.0 * (1.0 - survive) - before,
                    explanation: format!("{} ({})", f.title, f.severity),
                });
            }
            let exposure = (100.0 * (1.0 - survive)).clamp(0.0, 100.0);
            let score = (blast_radius * (0.3 + 0.7 * exposure / 100.0)).clamp(0.0, 100.0);
            (
                identity.id.clone(),
                RiskScore {
                    score,
                    blast_radius,
                    exposure,
                    components,
                },
            )
        })
        .collect()
}
