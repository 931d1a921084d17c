//! Posture: what each identity can do, what is wrong with it (OWASP NHI1–NHI10), and how risky
//! it is.
//!
//! Pure and deterministic: [`assess`] takes the inventory, findings from other engines, the
//! configuration and `now`, and returns the same answer every time.
//!
//! # Risk score
//!
//! Every identity gets, on 0–100 scales:
//! - **blast radius** = privilege points × environment factor × sensitivity factor, where privilege
//!   points are 90 for administrator-equivalence, otherwise the highest access level (list 10,
//!   read 25, tagging 20, write 40, permissions management 60) plus up to 20 for breadth (number
//!   of write and permissions-management actions, logarithmic), 15 for escalation paths and 10
//!   for secrets access, capped at 85; environment factor 1.0 production, 0.85 unknown,
//!   0.8 staging, 0.6 development/test; sensitivity factor 0.8 + 0.08 × (weight − 1) for the most
//!   sensitive resource it reaches (configured patterns, or high for IAM/KMS/secrets services,
//!   critical for administrators). An identity that can assume another (trust edges from its id,
//!   or from its account when it may call `sts:AssumeRole`) has at least 95 % of that one's blast
//!   radius, walked to a fixed point so cycles terminate.
//! - **exposure** = 100 × (1 − Π(1 − pᵢ)) over its findings, with p = 0.05 low, 0.12 medium,
//!   0.25 high, 0.40 critical: each finding adds, with diminishing returns, never past 100.
//! - **score** = blast radius × (0.3 + 0.7 × exposure / 100): a powerful identity with no known
//!   weakness still ranks, a weak one with no power ranks low.

mod compute;
pub mod config;
pub mod governance;
mod paths;
mod privilege;
mod risk;
pub mod rules;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use warrant_core::{
    Environment, Finding, IdentityKind, IdentityStatus, Inventory, PrivilegeSummary, Provider,
    RiskScore, Sensitivity, Timestamp,
};

pub use config::{CapabilityRule, PostureConfig, SensitivityRule};
pub use governance::{Governance, NoGovernance, ReviewRecord, TierRules};
pub use paths::{AdminPath, admin_paths, capability_paths};
pub use privilege::{
    HOLDINGS_VERSION, ReachMap, admin_groups, github_summary, holdings, k8s_summary,
    privilege_detail, privilege_detail_at, summarize_all, summarize_all_at,
    summarize_all_with_reach,
};

/// One identity's assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityAssessment {
    pub id: String,
    pub kind: IdentityKind,
    pub provider: Provider,
    pub name: String,
    pub account: Option<String>,
    pub environment: Environment,
    /// The source's status, or `dormant` when unused for `dormant_days`.
    pub status: IdentityStatus,
    pub owners: Vec<String>,
    pub risk: RiskScore,
    /// The governance policy tier it was judged by (absent without a policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// Shared between identities holding the same policies; compact (no grant or resource
    /// lists) — see [`privilege_detail`] for one identity's full detail.
    pub privilege: Arc<PrivilegeSummary>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Assessment {
    /// Highest risk first, then by id.
    pub identities: Vec<IdentityAssessment>,
    /// Most severe first, then by identity and rule.
    pub findings: Vec<Finding>,
}

/// Every posture rule's registered metadata, in registry order.
pub fn rules() -> Vec<&'static warrant_core::RuleSpec> {
    warrant_core::rules::of_engine(warrant_core::FindingSource::Posture).collect()
}

/// How many identities pass between two progress reports of [`assess_observed`].
pub const PROGRESS_STEP: u64 = 1000;

/// Assesses every identity of `inventory`. `extra_findings` (leaked secrets, activity alerts)
/// count towards exposure and are returned with the posture findings.
pub fn assess(
    inventory: &Inventory,
    extra_findings: &[Finding],
    config: &PostureConfig,
    now: Timestamp,
) -> Assessment {
    assess_observed(inventory, extra_findings, config, now, &|_| {})
}

/// [`assess`], calling `evaluated` with the number of identities whose rules have run so far
/// (every [`PROGRESS_STEP`] identities and at the end), from whichever thread evaluated them.
pub fn assess_observed(
    inventory: &Inventory,
    extra_findings: &[Finding],
    config: &PostureConfig,
    now: Timestamp,
    evaluated: &(dyn Fn(u64) + Sync),
) -> Assessment {
    assess_governed(
        inventory,
        extra_findings,
        config,
        &NoGovernance,
        now,
        evaluated,
    )
}

/// [`assess_observed`] under a governance policy: each identity is judged by its tier's
/// thresholds and requirements (its findings name the tier), and findings an exception covers
/// carry it and count towards no exposure.
pub fn assess_governed(
    inventory: &Inventory,
    extra_findings: &[Finding],
    config: &PostureConfig,
    governance: &dyn Governance,
    now: Timestamp,
    evaluated: &(dyn Fn(u64) + Sync),
) -> Assessment {
    let index = inventory.index();
    let capabilities: Vec<warrant_aws_policy::Capability> = config
        .capabilities
        .iter()
        .map(config::CapabilityRule::to_capability)
        .collect();
    let (mut privileges, reach) =
        privilege::summarize_all_with_reach(&index, Some(now), &capabilities);
    let admin_groups = privilege::admin_groups(&index);
    let admin_paths = paths::admin_paths(&index, &privileges, &reach, &admin_groups);
    // Paths to a named capability matter for identities that cannot become administrators
    // (an administrator's path says it all).
    let capability_paths: Vec<(Sensitivity, HashMap<String, paths::AdminPath>)> = config
        .capabilities
        .iter()
        .map(|rule| {
            let mut found =
                paths::capability_paths(&index, &privileges, &reach, &admin_groups, &rule.name);
            found.retain(|id, _| {
                !admin_paths.contains_key(id)
                    && !privileges.get(id).is_some_and(|p| p.admin_equivalent)
            });
            (rule.level, found)
        })
        .collect();
    drop(reach);
    // A path through other principals is the escalation that matters most: first in the list,
    // with its steps as evidence. (A self-grant is already listed as its technique.)
    let through_others = admin_paths
        .iter()
        .filter(|(id, path)| path.admin != **id)
        .map(|(id, path)| (id, path, paths::PATH_TO_ADMIN))
        .chain(capability_paths.iter().rev().flat_map(|(_, found)| {
            found
                .iter()
                .map(|(id, path)| (id, path, paths::PATH_TO_CAPABILITY))
        }));
    for (id, path, technique) in through_others {
        if let Some(summary) = privileges.get_mut(id) {
            Arc::make_mut(summary).escalations.insert(
                0,
                warrant_core::Escalation {
                    technique: technique.to_string(),
                    actions: path.techniques.clone(),
                    explanation: path.sentence(),
                    confidence: path.confidence,
                    caveats: if path.confidence == warrant_core::Confidence::Low {
                        vec![
                            "A step rests on what the exports do not show: a condition not \
                             decided statically, service-account token secrets, or which \
                             repositories a GitHub identity holds."
                                .to_string(),
                        ]
                    } else {
                        Vec::new()
                    },
                    path: path.path.clone(),
                },
            );
        }
    }

    let mut our_accounts: HashSet<String> = inventory
        .accounts
        .iter()
        .filter(|a| a.provider == Provider::Aws)
        .map(|a| a.id.clone())
        .collect();
    // Accounts we hold exports of are ours too.
    our_accounts.extend(
        inventory
            .identities
            .iter()
            .filter(|i| i.provider == Provider::Aws)
            .filter_map(|i| i.account.clone()),
    );
    let mut account_environment: HashMap<String, Environment> = inventory
        .accounts
        .iter()
        .filter(|a| a.environment != Environment::Unknown)
        .map(|a| (a.id.clone(), a.environment))
        .collect();
    // Without an Organizations export, an account's environment is the one its identities share.
    for identity in inventory
        .identities
        .iter()
        .filter(|i| i.provider == Provider::Aws)
    {
        if let Some(account) = &identity.account
            && identity.environment != Environment::Unknown
        {
            account_environment
                .entry(account.clone())
                .or_insert(identity.environment);
        }
    }
    let mut fingerprint_holders: HashMap<&str, Vec<&str>> = HashMap::new();
    for credential in &inventory.credentials {
        if let Some(fp) = credential.fingerprint.as_deref()
            && credential.kind != warrant_core::CredentialKind::DeployKey
        {
            let holders = fingerprint_holders.entry(fp).or_default();
            if !holders.contains(&credential.identity.as_str()) {
                holders.push(credential.identity.as_str());
            }
        }
    }
    let blast = risk::blast_all(
        inventory,
        &index,
        &privileges,
        &admin_paths,
        &capability_paths,
        config,
    );
    let shared = rules::Context {
        index: &index,
        config,
        tier: None,
        review: None,
        known_since: None,
        now,
        privileges: &privileges,
        our_accounts: &our_accounts,
        account_environment: &account_environment,
        fingerprint_holders: &fingerprint_holders,
        directory_loaded: !inventory.owners.is_empty(),
    };

    let done = std::sync::atomic::AtomicU64::new(0);
    let mut findings: Vec<Finding> = inventory
        .identities
        .par_iter()
        .flat_map_iter(|identity| {
            let blast_radius = blast.get(identity.id.as_str()).map_or(0.0, |b| b.0);
            let tier = governance.tier(identity, blast_radius);
            let ctx = rules::Context {
                config: tier.map_or(config, |t| &t.config),
                tier,
                review: tier.and_then(|_| governance.last_review(identity)),
                known_since: tier.and_then(|_| governance.known_since(identity)),
                ..shared
            };
            let mut emitter = rules::Emitter::new(config);
            rules::evaluate(identity, &ctx, &mut emitter);
            if let Some(tier) = tier {
                for f in &mut emitter.findings {
                    f.tier = Some(tier.name.clone());
                }
            }
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if n.is_multiple_of(PROGRESS_STEP) {
                evaluated(n);
            }
            emitter.findings
        })
        .collect();
    evaluated(inventory.identities.len() as u64);
    let known: HashSet<&str> = inventory.identities.iter().map(|i| i.id.as_str()).collect();
    findings.extend(
        extra_findings
            .iter()
            .filter(|f| known.contains(f.identity.as_str()) || f.identity.starts_with("shadow:"))
            .cloned(),
    );
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.identity.cmp(&b.identity))
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.id.cmp(&b.id))
    });
    findings.dedup_by(|a, b| a.id == b.id);
    for f in &mut findings {
        let identity = index.identity_by_id.get(f.identity.as_str()).copied();
        f.exception = governance.exception(f, identity);
    }

    // Tiers are matched again here, cheaply, rather than carried out of the parallel loop.
    let tiers: Vec<Option<String>> = inventory
        .identities
        .iter()
        .map(|identity| {
            let blast_radius = blast.get(identity.id.as_str()).map_or(0.0, |b| b.0);
            governance
                .tier(identity, blast_radius)
                .map(|t| t.name.clone())
        })
        .collect();
    let mut scores = risk::score_all(inventory, blast, &findings);
    let empty = Arc::new(PrivilegeSummary::default());
    let mut identities: Vec<IdentityAssessment> = inventory
        .identities
        .iter()
        .zip(tiers)
        .map(|(identity, tier)| IdentityAssessment {
            id: identity.id.clone(),
            kind: identity.kind,
            provider: identity.provider,
            name: identity.name.clone(),
            account: identity.account.clone(),
            environment: identity.environment,
            status: rules::derived_status(identity, config, now),
            owners: identity.owners.iter().map(|o| o.id.clone()).collect(),
            // Moved, not copied: at 100k identities the explanations take over 100 MB.
            risk: scores.remove(&identity.id).unwrap_or_default(),
            tier,
            privilege: Arc::clone(privileges.get(&identity.id).unwrap_or(&empty)),
        })
        .collect();
    identities.sort_by(|a, b| {
        b.risk
            .score
            .total_cmp(&a.risk.score)
            .then_with(|| a.id.cmp(&b.id))
    });
    Assessment {
        identities,
        findings,
    }
}

/// Every point of an identity's score, one sentence each (for `warrant show`).
pub fn explain(assessment: &IdentityAssessment) -> Vec<String> {
    let r = &assessment.risk;
    let mut lines = vec![format!(
        "Risk {:.0} = blast radius {:.0} × (0.3 + 0.7 × exposure {:.0} / 100).",
        r.score, r.blast_radius, r.exposure
    )];
    for c in &r.components {
        lines.push(format!(
            "  {} {:>+6.1}  {}: {}",
            c.factor, c.points, c.label, c.explanation
        ));
    }
    lines
}
