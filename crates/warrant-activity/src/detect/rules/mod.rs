//! The detections, one module per family. Each is a function from one identity's input to its
//! findings; ids come from `Finding::new` with a discriminator that names what fired (action,
//! network, hour), so a re-run over the same events gives the same ids.

mod burst;
mod destruction;
mod deviation;
mod misuse;
mod sensitive;
mod theft;
mod unregistered;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration};
use warrant_core::{
    ActorKind, Environment, Finding, FindingSource, RuleId, Severity, Tactic, Technique, Timestamp,
    technique,
};

use super::catalog::{Category, SensitiveAction, discovery_technique, sensitive_action};
use super::{DetectConfig, Environments, IdentityContext, TACTICS_PREFIX};
use crate::baseline::{
    Baseline, hour_index, hour_of_week, iam_action, network_of, user_agent_family,
};
use crate::event::{Actor, Event, Outcome, Principal};

use burst::{discovery_burst, failure_burst};
use destruction::bucket_emptied;
use deviation::{new_network, new_user_agent, off_schedule, volume_spike};
pub(crate) use misuse::shadow_identity;
use misuse::{console_use, credential_reuse, cross_environment, dormant_active, undeclared_tool};
use sensitive::sensitive;
use theft::{session_two_networks, theft};
use unregistered::unregistered_credential;

pub const PRIVILEGE_CHANGE: RuleId = RuleId::ActivityPrivilegeChange;
pub const DEFENSE_EVASION: RuleId = RuleId::ActivityDefenseEvasion;
pub const CREDENTIAL_ACCESS: RuleId = RuleId::ActivityCredentialAccess;
pub const EXFILTRATION: RuleId = RuleId::ActivityExfiltration;
pub const SENSITIVE_ACTION: RuleId = RuleId::ActivitySensitiveAction;
pub const VOLUME_SPIKE: RuleId = RuleId::ActivityVolumeSpike;
pub const NEW_NETWORK: RuleId = RuleId::ActivityNewNetwork;
pub const NEW_USER_AGENT: RuleId = RuleId::ActivityNewUserAgent;
pub const OFF_SCHEDULE: RuleId = RuleId::ActivityOffSchedule;
pub const FAILURE_BURST: RuleId = RuleId::ActivityFailureBurst;
pub const DISCOVERY_BURST: RuleId = RuleId::ActivityDiscoveryBurst;
pub const CREDENTIAL_REUSE: RuleId = RuleId::ActivityCredentialReuse;
pub const CONSOLE_USE: RuleId = RuleId::ActivityConsoleUse;
pub const CROSS_ENVIRONMENT: RuleId = RuleId::ActivityCrossEnvironment;
pub const DORMANT_ACTIVE: RuleId = RuleId::ActivityDormantActive;
pub const UNDECLARED_TOOL: RuleId = RuleId::ActivityAgentUndeclaredTool;
pub const SHADOW_IDENTITY: RuleId = RuleId::ActivityShadowIdentity;
pub const UNREGISTERED_CREDENTIAL: RuleId = RuleId::ActivityUnregisteredCredential;
/// Activity alerts the MCP gateway raises (through `warrant_app::gateway`), not these detectors:
/// upstream tools changed or poisoned, task tokens unused or used outside their task.
pub const RAISED_BY_THE_GATEWAY: [RuleId; 4] = [
    RuleId::ActivityMcpToolChanged,
    RuleId::ActivityMcpToolPoisoned,
    RuleId::ActivityTaskTokenUnused,
    RuleId::ActivityTaskTokenMisused,
];

/// Every activity rule, in registry order (their metadata is in `warrant_core::rules`).
pub fn all_rules() -> impl Iterator<Item = RuleId> {
    warrant_core::rules::of_engine(FindingSource::Activity).map(|spec| spec.id)
}

pub(crate) struct Input<'a> {
    pub config: &'a DetectConfig,
    pub environments: &'a Environments,
    pub context: &'a IdentityContext,
    pub baseline: &'a Baseline,
    /// The baseline has enough data for novelty and volume comparisons.
    pub mature: bool,
    /// Sorted by time, then id; duplicates removed.
    pub events: &'a [&'a Event],
    /// The catalogue entry of each event's action, aligned with `events`.
    pub sensitive: Vec<Option<&'static SensitiveAction>>,
    /// The events are calls other principals made to this identity, not its own calls.
    pub changes: bool,
}

/// The rules that judge single calls (the catalogued ones, and credentials created); the only
/// ones run over changes made to an identity.
pub(crate) const CATALOGUE_RULES: &[RuleId] = &[
    PRIVILEGE_CHANGE,
    DEFENSE_EVASION,
    CREDENTIAL_ACCESS,
    EXFILTRATION,
    SENSITIVE_ACTION,
    UNREGISTERED_CREDENTIAL,
];

type RuleFn = fn(&Input) -> Vec<Finding>;

pub(crate) const RULE_FNS: &[(RuleId, RuleFn)] = &[
    (PRIVILEGE_CHANGE, |i| {
        sensitive(i, Category::PrivilegeChange)
    }),
    (DEFENSE_EVASION, |i| sensitive(i, Category::DefenseEvasion)),
    (CREDENTIAL_ACCESS, |i| {
        let mut found = sensitive(i, Category::CredentialAccess);
        found.extend(theft(i));
        found
    }),
    (EXFILTRATION, |i| sensitive(i, Category::Exfiltration)),
    (SENSITIVE_ACTION, |i| {
        let mut found = sensitive(i, Category::Sensitive);
        found.extend(bucket_emptied(i));
        found
    }),
    (VOLUME_SPIKE, volume_spike),
    (NEW_NETWORK, new_network),
    (NEW_USER_AGENT, new_user_agent),
    (OFF_SCHEDULE, off_schedule),
    (FAILURE_BURST, failure_burst),
    (DISCOVERY_BURST, discovery_burst),
    (CREDENTIAL_REUSE, |i| {
        let mut found = credential_reuse(i);
        found.extend(session_two_networks(i));
        found
    }),
    (CONSOLE_USE, console_use),
    (CROSS_ENVIRONMENT, cross_environment),
    (DORMANT_ACTIVE, dormant_active),
    (UNDECLARED_TOOL, undeclared_tool),
    (UNREGISTERED_CREDENTIAL, unregistered_credential),
];

/// How the caller of a change is named in evidence.
pub(super) fn caller(principal: &Principal) -> String {
    let name = principal
        .arn
        .as_deref()
        .or(principal.name.as_deref())
        .unwrap_or("an unknown principal");
    match principal.session.as_deref() {
        Some(session) => format!("{name} (session {session})"),
        None => name.to_string(),
    }
}

/// `50000` → `50,000`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn when(t: &Timestamp) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{} {many}", thousands(n))
    }
}

fn examples<'a>(items: impl IntoIterator<Item = &'a str>, limit: usize) -> String {
    let all: Vec<&str> = items.into_iter().collect();
    let mut text = all
        .iter()
        .take(limit)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if all.len() > limit {
        text.push_str(&format!(" and {} more", all.len() - limit));
    }
    text
}

fn step_down(severity: Severity) -> Severity {
    match severity {
        Severity::Critical => Severity::High,
        Severity::High => Severity::Medium,
        Severity::Medium => Severity::Low,
        Severity::Low | Severity::Info => Severity::Info,
    }
}

#[allow(clippy::too_many_arguments)]
fn make(
    rule: RuleId,
    title: String,
    severity: Severity,
    identity: &str,
    discriminator: &str,
    mut evidence: Vec<String>,
    tactics: &[Tactic],
    techniques: &[Technique],
    remediation: &str,
) -> Finding {
    // The sentence keeps the tactics readable beside the evidence; the typed field is the one
    // programs read.
    if !tactics.is_empty() {
        let names: Vec<&str> = tactics.iter().map(|t| t.as_str()).collect();
        evidence.push(format!("{TACTICS_PREFIX}{}.", names.join(", ")));
    }
    let mut finding = Finding::new(
        rule,
        title,
        severity,
        identity,
        discriminator,
        evidence,
        remediation,
    );
    let mut attack = techniques.to_vec();
    attack.sort();
    attack.dedup();
    finding.attack = attack;
    finding.tactics = tactics.to_vec();
    finding
}

fn baseline_sentence(input: &Input) -> String {
    if input.baseline.is_empty() {
        "No baseline was learned for this identity.".to_string()
    } else {
        format!(
            "Its baseline has {} over {:.1} days using {}.",
            plural(input.baseline.events(), "call", "calls"),
            input.baseline.span_days(),
            plural(input.baseline.actions().distinct(), "action", "actions"),
        )
    }
}

fn is_failure(event: &Event) -> bool {
    matches!(event.outcome, Outcome::Denied | Outcome::AuthFailed)
}

/// Calls per UTC day (days since the epoch).
fn per_day<'a>(events: impl Iterator<Item = &'a &'a Event>) -> BTreeMap<i64, u64> {
    let mut days = BTreeMap::new();
    for e in events {
        *days.entry(hour_index(&e.time).div_euclid(24)).or_insert(0) += 1;
    }
    days
}

fn day_label(day: i64) -> String {
    DateTime::from_timestamp(day * 86_400, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| day.to_string())
}

/// `iam_action` of an event, borrowed from the event (for window state keyed by action).
fn event_action(event: &Event) -> &str {
    iam_action(&event.action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separates() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(50_000), "50,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn every_registered_activity_rule_runs_once() {
        let registered: Vec<RuleId> = all_rules().collect();
        for (rule, _) in RULE_FNS {
            assert_eq!(rule.engine(), FindingSource::Activity, "{rule}");
        }
        for rule in &registered {
            let runs = RULE_FNS.iter().filter(|(r, _)| r == rule).count();
            let expected =
                usize::from(*rule != SHADOW_IDENTITY && !RAISED_BY_THE_GATEWAY.contains(rule));
            assert_eq!(runs, expected, "{rule}");
        }
    }

    #[test]
    fn every_catalogue_entry_maps_within_its_rules_registered_attack_mapping() {
        for entry in super::super::catalog::all_sensitive_actions() {
            let spec = entry.category.rule().spec();
            for tactic in entry.tactics {
                assert!(spec.tactics.contains(tactic), "{} {tactic}", entry.action);
            }
            for technique in entry.techniques {
                assert!(
                    spec.techniques.contains(technique)
                        || spec.techniques.contains(&technique.parent()),
                    "{} {technique}",
                    entry.action
                );
            }
        }
        for service in ["iam", "ec2", "s3", "organizations", "other"] {
            let technique = discovery_technique(service);
            assert!(DISCOVERY_BURST.spec().techniques.contains(&technique));
            assert!(FAILURE_BURST.spec().techniques.contains(&technique));
        }
    }
}
