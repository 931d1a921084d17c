//! The detections. Each is a function from one identity's input to its findings; ids come from
//! `Finding::new` with a discriminator that names what fired (action, network, hour), so a
//! re-run over the same events gives the same ids.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration};
use warrant_core::{ActorKind, Environment, Finding, FindingSource, OwaspNhi, Severity, Timestamp};

use super::catalog::{Category, SensitiveAction, discovery_technique, sensitive_action};
use super::{DetectConfig, Environments, IdentityContext, TACTICS_PREFIX};
use crate::baseline::{
    Baseline, hour_index, hour_of_week, iam_action, network_of, user_agent_family,
};
use crate::event::{Actor, Event, Outcome, Principal};

pub const PRIVILEGE_CHANGE: &str = "activity-privilege-change";
pub const DEFENSE_EVASION: &str = "activity-defense-evasion";
pub const CREDENTIAL_ACCESS: &str = "activity-credential-access";
pub const EXFILTRATION: &str = "activity-exfiltration";
pub const SENSITIVE_ACTION: &str = "activity-sensitive-action";
pub const VOLUME_SPIKE: &str = "activity-volume-spike";
pub const NEW_NETWORK: &str = "activity-new-network";
pub const NEW_USER_AGENT: &str = "activity-new-user-agent";
pub const OFF_SCHEDULE: &str = "activity-off-schedule";
pub const FAILURE_BURST: &str = "activity-failure-burst";
pub const DISCOVERY_BURST: &str = "activity-discovery-burst";
pub const CREDENTIAL_REUSE: &str = "activity-credential-reuse";
pub const CONSOLE_USE: &str = "activity-console-use";
pub const CROSS_ENVIRONMENT: &str = "activity-cross-environment";
pub const DORMANT_ACTIVE: &str = "activity-dormant-active";
pub const UNDECLARED_TOOL: &str = "activity-agent-undeclared-tool";
pub const SHADOW_IDENTITY: &str = "activity-shadow-identity";

/// Every activity rule id with a one-line description (for `warrant rules` and config checks).
pub const ALL_RULES: &[(&str, &str)] = &[
    (
        PRIVILEGE_CHANGE,
        "IAM changes that persist access or escalate privilege (T1098, T1136)",
    ),
    (
        DEFENSE_EVASION,
        "Logging or security tooling turned off or altered (T1562)",
    ),
    (
        CREDENTIAL_ACCESS,
        "Secrets or passwords read for the first time or in a burst (T1555.006, T1552)",
    ),
    (
        EXFILTRATION,
        "Snapshots, images or buckets shared outside the account (T1537)",
    ),
    (
        SENSITIVE_ACTION,
        "First use of remote execution, lateral movement or resource-hijacking calls",
    ),
    (
        VOLUME_SPIKE,
        "A day's calls far above the identity's learned daily volume",
    ),
    (NEW_NETWORK, "Calls from a network the identity never used"),
    (
        NEW_USER_AGENT,
        "Calls from a client (user-agent family) the identity never used",
    ),
    (
        OFF_SCHEDULE,
        "Calls in hours of the week the identity is never active",
    ),
    (
        FAILURE_BURST,
        "A burst of denied or failed-authentication calls (reconnaissance)",
    ),
    (
        DISCOVERY_BURST,
        "Many never-used list/describe calls in one hour (discovery)",
    ),
    (
        CREDENTIAL_REUSE,
        "One credential used from several workloads at once (NHI9)",
    ),
    (
        CONSOLE_USE,
        "Console or browser use of a machine identity (NHI10)",
    ),
    (
        CROSS_ENVIRONMENT,
        "An identity of one environment acting on or from another (NHI8)",
    ),
    (DORMANT_ACTIVE, "A dormant identity suddenly active"),
    (
        UNDECLARED_TOOL,
        "An agent calling tools outside its declared tool set",
    ),
    (
        SHADOW_IDENTITY,
        "Activity by a principal that is not in the inventory",
    ),
];

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
}

type RuleFn = fn(&Input) -> Vec<Finding>;

pub(crate) const RULE_FNS: &[(&str, RuleFn)] = &[
    (PRIVILEGE_CHANGE, |i| {
        sensitive(i, Category::PrivilegeChange)
    }),
    (DEFENSE_EVASION, |i| sensitive(i, Category::DefenseEvasion)),
    (CREDENTIAL_ACCESS, |i| {
        sensitive(i, Category::CredentialAccess)
    }),
    (EXFILTRATION, |i| sensitive(i, Category::Exfiltration)),
    (SENSITIVE_ACTION, |i| sensitive(i, Category::Sensitive)),
    (VOLUME_SPIKE, volume_spike),
    (NEW_NETWORK, new_network),
    (NEW_USER_AGENT, new_user_agent),
    (OFF_SCHEDULE, off_schedule),
    (FAILURE_BURST, failure_burst),
    (DISCOVERY_BURST, discovery_burst),
    (CREDENTIAL_REUSE, credential_reuse),
    (CONSOLE_USE, console_use),
    (CROSS_ENVIRONMENT, cross_environment),
    (DORMANT_ACTIVE, dormant_active),
    (UNDECLARED_TOOL, undeclared_tool),
];

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
    rule: &str,
    title: String,
    owasp: OwaspNhi,
    severity: Severity,
    identity: &str,
    discriminator: &str,
    mut evidence: Vec<String>,
    tactics: &[&str],
    techniques: &[&str],
    remediation: &str,
) -> Finding {
    if !tactics.is_empty() {
        evidence.push(format!("{TACTICS_PREFIX}{}.", tactics.join(", ")));
    }
    let mut finding = Finding::new(
        rule,
        title,
        owasp,
        severity,
        identity,
        discriminator,
        evidence,
        remediation,
        FindingSource::Activity,
    );
    let mut attack: Vec<String> = techniques.iter().map(|t| t.to_string()).collect();
    attack.sort();
    attack.dedup();
    finding.attack = attack;
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

fn sensitive(input: &Input, category: Category) -> Vec<Finding> {
    let mut by_action: BTreeMap<&'static str, Vec<&Event>> = BTreeMap::new();
    let mut entries: BTreeMap<&'static str, &'static SensitiveAction> = BTreeMap::new();
    for (event, entry) in input.events.iter().zip(&input.sensitive) {
        if let Some(entry) = entry
            && entry.category == category
        {
            by_action.entry(entry.action).or_default().push(event);
            entries.insert(entry.action, entry);
        }
    }
    let mut findings = Vec::new();
    for (action, events) in by_action {
        let Some(entry) = entries.get(action).copied() else {
            continue;
        };
        let total = events.len() as u64;
        let denied = events.iter().filter(|e| is_failure(e)).count() as u64;
        let known = input.baseline.actions().contains(action);
        let mut burst = None;
        if known && category == Category::CredentialAccess {
            let learned_days = input.baseline.daily_volume().periods.max(1);
            let mean =
                input.baseline.actions().count(action).unwrap_or(0) as f64 / learned_days as f64;
            let threshold =
                (input.config.secret_burst_min as f64).max(input.config.secret_burst_factor * mean);
            if let Some((day, n)) = per_day(events.iter())
                .into_iter()
                .filter(|(_, n)| *n as f64 > threshold)
                .max_by_key(|(_, n)| *n)
            {
                burst = Some((day, n, mean));
            }
        }
        if known && !entry.always && burst.is_none() {
            continue;
        }
        let (Some(first), Some(last)) = (events.first(), events.last()) else {
            continue;
        };
        let mut evidence = vec![format!(
            "{action} ({}) was called {} between {} and {} ({} succeeded, {} denied or failed).",
            entry.effect,
            plural(total, "time", "times"),
            when(&first.time),
            when(&last.time),
            thousands(total - denied),
            thousands(denied),
        )];
        match burst {
            Some((day, n, mean)) => evidence.push(format!(
                "On {} it was called {} times against a learned mean of {mean:.1} a day.",
                day_label(day),
                thousands(n),
            )),
            None if known => evidence.push(format!(
                "This action is raised every time, even though the identity has called it before ({} in its baseline).",
                thousands(input.baseline.actions().count(action).unwrap_or(0)),
            )),
            None => {
                evidence.push(format!("This identity had never called {action} before."));
                evidence.push(baseline_sentence(input));
            }
        }
        let resources: BTreeSet<&str> = events
            .iter()
            .flat_map(|e| e.resources.iter().map(String::as_str))
            .collect();
        if !resources.is_empty() {
            evidence.push(format!("Resources: {}.", examples(resources, 3)));
        }
        let sources: BTreeSet<String> = events
            .iter()
            .filter_map(|e| e.source_ip.as_deref().map(network_of))
            .collect();
        let agents: BTreeSet<String> = events
            .iter()
            .filter_map(|e| e.user_agent.as_deref().map(user_agent_family))
            .collect();
        if !sources.is_empty() || !agents.is_empty() {
            evidence.push(format!(
                "From networks {} with clients {}.",
                examples(sources.iter().map(String::as_str), 3),
                examples(agents.iter().map(String::as_str), 3),
            ));
        }
        let machine = input.context.actor != ActorKind::Human;
        if machine && category == Category::PrivilegeChange {
            evidence.push(format!(
                "The caller is a {} identity ({}), which should not change IAM at run time.",
                if input.context.actor == ActorKind::Machine {
                    "machine"
                } else {
                    "non-human or unclassified"
                },
                input.context.kind,
            ));
        }
        let mut severity = entry.severity;
        if denied == total {
            severity = step_down(severity);
            evidence.push("Every attempt was refused: an attempt still shows intent.".to_string());
        }
        if input.context.actor == ActorKind::Human && !entry.always {
            severity = step_down(severity);
        }
        let (title, remediation) = match category {
            Category::PrivilegeChange => (
                format!("Privilege change or persistence: {action}"),
                "Confirm the change was intended; if not, revert it (delete the new key, user, login profile, policy, member or role binding), rotate the caller's credentials, and take access-management rights (IAM or RBAC writes, organisation admin) away from identities that do not manage access.",
            ),
            Category::DefenseEvasion => (
                format!("Defence evasion: {action}"),
                "Restore the logging or security control at once, find what else the caller did while it was off, rotate the caller's credentials, and deny these actions with a service control policy.",
            ),
            Category::CredentialAccess => (
                format!("Credential access: {action}"),
                "Check which secrets were read and whether the identity needs them; rotate any secret read without a reason, and scope secret access to the named secrets the workload uses.",
            ),
            Category::Exfiltration => (
                format!("Possible exfiltration: {action}"),
                "Check the shared resource's new permissions; revoke sharing with unknown accounts or the public, and rotate the caller's credentials if the change was not planned.",
            ),
            Category::Sensitive => (
                format!("First use of a sensitive action: {action}"),
                "Confirm the call was intended by the identity's owner; if not, contain the affected resources, rotate the caller's credentials, and remove the permission if the workload does not need it.",
            ),
        };
        findings.push(make(
            category.rule(),
            title,
            OwaspNhi::Nhi5,
            severity,
            &input.context.id,
            action,
            evidence,
            entry.tactics,
            entry.techniques,
            remediation,
        ));
    }
    findings
}

fn volume_spike(input: &Input) -> Vec<Finding> {
    let stats = input.baseline.daily_volume();
    if !input.mature || stats.periods < input.config.spike_min_active_days {
        return Vec::new();
    }
    let c = input.config;
    let threshold = (c.spike_min_events as f64)
        .max(c.spike_factor * stats.mean)
        .max(stats.mean + c.spike_sigmas * stats.std_dev);
    // day → action → calls
    let mut days: BTreeMap<i64, BTreeMap<&str, u64>> = BTreeMap::new();
    for e in input.events {
        *days
            .entry(hour_index(&e.time).div_euclid(24))
            .or_default()
            .entry(iam_action(&e.action))
            .or_insert(0) += 1;
    }
    let mut findings = Vec::new();
    for (day, actions) in days {
        let n: u64 = actions.values().sum();
        let mut top: Vec<(&str, u64)> = actions.iter().map(|(a, k)| (*a, *k)).collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let top_text = top
            .iter()
            .take(3)
            .map(|(a, k)| format!("{a} {}", thousands(*k)))
            .collect::<Vec<_>>()
            .join(", ");
        let (evidence, spiking, discriminator, severity) = if n as f64 > threshold {
            let evidence = vec![
                format!(
                    "On {} the identity made {} calls; its learned daily volume is {:.0} on average (standard deviation {:.0}, busiest day {}) over {} active days.",
                    day_label(day),
                    thousands(n),
                    stats.mean,
                    stats.std_dev,
                    thousands(stats.max),
                    stats.periods,
                ),
                format!(
                    "That is {:.0} times the daily mean; the threshold was {}.",
                    n as f64 / stats.mean.max(1.0),
                    thousands(threshold.ceil() as u64),
                ),
                format!("Most frequent calls that day: {top_text}."),
            ];
            let severity = if n as f64 > threshold * 10.0 {
                Severity::High
            } else {
                Severity::Medium
            };
            let lead = top.first().map(|(a, _)| *a).unwrap_or("");
            (evidence, lead, day_label(day), severity)
        } else {
            // One action can spike while the identity's total hides it (a key that mostly
            // writes starts reading in bulk): compare each action with its own daily mean.
            let Some((action, k, mean, limit)) = top.iter().find_map(|(action, k)| {
                let learned = input.baseline.actions().count(action).unwrap_or(0);
                let mean = learned as f64 / stats.periods as f64;
                let limit = (c.spike_min_events as f64).max(c.spike_factor * mean);
                (*k as f64 > limit).then_some((*action, *k, mean, limit))
            }) else {
                continue;
            };
            let evidence = vec![
                format!(
                    "On {} the identity called {action} {} times; its learned mean for that action is {mean:.1} a day over {} active days.",
                    day_label(day),
                    thousands(k),
                    stats.periods,
                ),
                format!(
                    "The threshold was {}; the identity's {} calls that day stayed within its overall volume (mean {:.0} a day).",
                    thousands(limit.ceil() as u64),
                    thousands(n),
                    stats.mean,
                ),
                format!("Most frequent calls that day: {top_text}."),
            ];
            let severity = if k as f64 > limit * 10.0 {
                Severity::High
            } else {
                Severity::Medium
            };
            (
                evidence,
                action,
                format!("{}/{action}", day_label(day)),
                severity,
            )
        };
        let storage_read = spiking.starts_with("s3:Get") || spiking.starts_with("dynamodb:");
        let techniques: &[&str] = if storage_read { &["T1530"] } else { &[] };
        findings.push(make(
            VOLUME_SPIKE,
            format!("Volume spike on {}: {spiking}", day_label(day)),
            OwaspNhi::Nhi2,
            severity,
            &input.context.id,
            &discriminator,
            evidence,
            &["collection", "exfiltration"],
            techniques,
            "Find out what the identity read or wrote and why; if its owner cannot explain the volume, treat the credential as stolen: rotate it and review the data touched.",
        ));
    }
    findings
}

/// Values of one event attribute never seen in the baseline, with their events.
fn novel<'a>(
    input: &Input<'a>,
    value: impl Fn(&Event) -> Option<String>,
    known: impl Fn(&str) -> bool,
) -> BTreeMap<String, Vec<&'a Event>> {
    let mut out: BTreeMap<String, Vec<&Event>> = BTreeMap::new();
    for event in input.events {
        if let Some(v) = value(event)
            && v != "cloud-service"
            && !known(&v)
        {
            out.entry(v).or_default().push(event);
        }
    }
    out
}

fn new_network(input: &Input) -> Vec<Finding> {
    // Workloads that already roam many networks (serverless, mobile clients) make "new
    // network" meaningless.
    if !input.mature || input.baseline.networks().distinct() > input.config.novelty_max_known {
        return Vec::new();
    }
    let found = novel(
        input,
        |e| e.source_ip.as_deref().map(network_of),
        |v| input.baseline.networks().contains(v),
    );
    found
        .into_iter()
        .filter_map(|(network, events)| {
            let first = events.first()?;
            let actions: BTreeSet<&str> = events.iter().map(|e| iam_action(&e.action)).collect();
            let known: Vec<&str> = input.baseline.networks().iter().map(|(k, _)| k).collect();
            let env = input.environments.of_network(&network);
            let mut evidence = vec![
                format!(
                    "{} came from network {network}, first at {}.",
                    plural(events.len() as u64, "call", "calls"),
                    when(&first.time)
                ),
                format!(
                    "The baseline saw {}: {}.",
                    plural(input.baseline.networks().distinct(), "network", "networks"),
                    examples(known, 5)
                ),
                format!("Actions from the new network: {}.", examples(actions, 5)),
            ];
            if env != Environment::Unknown {
                evidence.push(format!("The network belongs to the {env} environment."));
            }
            Some(make(
                NEW_NETWORK,
                format!("Calls from a new network: {network}"),
                OwaspNhi::Nhi2,
                Severity::Medium,
                &input.context.id,
                &network,
                evidence,
                &["initial-access", "defense-evasion"],
                &["T1078.004"],
                "Confirm with the owner that the workload moved or gained a new egress; otherwise treat the credential as leaked: rotate it and restrict it to known networks with an aws:SourceIp or aws:SourceVpc condition.",
            ))
        })
        .collect()
}

fn new_user_agent(input: &Input) -> Vec<Finding> {
    if !input.mature || input.baseline.user_agents().distinct() > input.config.novelty_max_known {
        return Vec::new();
    }
    let found = novel(
        input,
        |e| e.user_agent.as_deref().map(user_agent_family),
        |v| input.baseline.user_agents().contains(v),
    );
    found
        .into_iter()
        .filter_map(|(family, events)| {
            let first = events.first()?;
            let known: Vec<&str> = input.baseline.user_agents().iter().map(|(k, _)| k).collect();
            let networks: BTreeSet<String> = events
                .iter()
                .filter_map(|e| e.source_ip.as_deref().map(network_of))
                .collect();
            let evidence = vec![
                format!(
                    "{} used client `{family}`, first at {}.",
                    plural(events.len() as u64, "call", "calls"),
                    when(&first.time)
                ),
                format!("The baseline saw only: {}.", examples(known, 5)),
                format!(
                    "From networks: {}.",
                    examples(networks.iter().map(String::as_str), 3)
                ),
            ];
            Some(make(
                NEW_USER_AGENT,
                format!("Calls from a new client: {family}"),
                OwaspNhi::Nhi2,
                Severity::Low,
                &input.context.id,
                &family,
                evidence,
                &["initial-access", "defense-evasion"],
                &["T1078.004"],
                "Confirm the workload changed its tooling; a credential used from an unfamiliar client is a common sign of theft: rotate it if the owner cannot explain the change.",
            ))
        })
        .collect()
}

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn off_schedule(input: &Input) -> Vec<Finding> {
    if !input.mature {
        return Vec::new();
    }
    let profile = input.baseline.hour_of_week_profile();
    let tolerance = input.config.off_schedule_tolerance_hours;
    let n = profile.len();
    if n == 0 {
        return Vec::new();
    }
    let expected = |bucket: usize| {
        (0..=2 * tolerance).any(|offset| {
            let b = (bucket + n + offset - tolerance) % n;
            profile.get(b).is_some_and(|c| *c > 0)
        })
    };
    let off: Vec<&&Event> = input
        .events
        .iter()
        .filter(|e| !expected(hour_of_week(&e.time)))
        .collect();
    if (off.len() as u64) < input.config.off_schedule_min_events {
        return Vec::new();
    }
    let Some(first) = off.first() else {
        return Vec::new();
    };
    let hours: BTreeSet<usize> = off.iter().map(|e| hour_of_week(&e.time)).collect();
    let hour_names: Vec<String> = hours
        .iter()
        .map(|h| format!("{} {:02}:00", DAYS.get(h / 24).unwrap_or(&"?"), h % 24))
        .collect();
    let active = profile.iter().filter(|c| **c > 0).count();
    let actions: BTreeSet<&str> = off.iter().map(|e| iam_action(&e.action)).collect();
    let evidence = vec![
        format!(
            "{} fell in hours of the week the identity was never active in (±{tolerance} h), first at {}.",
            plural(off.len() as u64, "call", "calls"),
            when(&first.time),
        ),
        format!(
            "Off-schedule hours (UTC): {}.",
            examples(hour_names.iter().map(String::as_str), 6)
        ),
        format!("The baseline was active in {active} of the week's 168 hours."),
        format!("Actions off schedule: {}.", examples(actions, 5)),
    ];
    vec![make(
        OFF_SCHEDULE,
        "Activity outside the identity's schedule".to_string(),
        OwaspNhi::Nhi2,
        Severity::Low,
        &input.context.id,
        &day_label(hour_index(&first.time).div_euclid(24)),
        evidence,
        &["initial-access", "defense-evasion"],
        &["T1078.004"],
        "Ask the owner whether the job's schedule changed; activity at hours a workload never runs is a sign someone else holds its credential.",
    )]
}

/// Non-overlapping windows of at most one hour (start index, end index exclusive) over
/// time-sorted `events` in which `enough` holds for the window's events. Two pointers, so
/// linear in the events however dense they are.
fn hour_windows<'a, T>(
    events: &[&'a Event],
    state: &mut T,
    add: impl Fn(&mut T, &'a Event),
    remove: impl Fn(&mut T, &'a Event),
    clear: impl Fn(&mut T),
    enough: impl Fn(&T) -> bool,
) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let (mut lo, mut hi) = (0, 0);
    while lo < events.len() {
        let Some(first) = events.get(lo).copied() else {
            break;
        };
        let limit = first.time + Duration::hours(1);
        while let Some(next) = events.get(hi).copied() {
            if next.time >= limit {
                break;
            }
            add(state, next);
            hi += 1;
        }
        if enough(state) {
            out.push((lo, hi));
            clear(state);
            lo = hi;
        } else {
            remove(state, first);
            lo += 1;
        }
        hi = hi.max(lo);
    }
    out
}

/// Windows of at most one hour holding at least `threshold` events.
fn bursts(events: &[&Event], threshold: u64) -> Vec<(usize, usize)> {
    let threshold = threshold.max(1);
    hour_windows(
        events,
        &mut 0u64,
        |n, _| *n += 1,
        |n, _| *n = n.saturating_sub(1),
        |n| *n = 0,
        |n| *n >= threshold,
    )
}

fn failure_burst(input: &Input) -> Vec<Finding> {
    let failures: Vec<&Event> = input
        .events
        .iter()
        .copied()
        .filter(|e| is_failure(e))
        .collect();
    let learned = input.baseline.max_hourly_failures();
    let threshold = (input.config.failure_burst_min as f64)
        .max(input.config.failure_burst_factor * learned as f64)
        .ceil() as u64;
    bursts(&failures, threshold)
        .into_iter()
        .filter_map(|(start, end)| {
            let window = failures.get(start..end)?;
            let first = window.first()?;
            let last = window.last()?;
            let mut actions: BTreeMap<&str, u64> = BTreeMap::new();
            let mut codes: BTreeMap<&str, u64> = BTreeMap::new();
            let mut services = BTreeSet::new();
            let mut auth_failed = 0u64;
            for e in window {
                let action = iam_action(&e.action);
                *actions.entry(action).or_insert(0) += 1;
                if let Some(code) = &e.error_code {
                    *codes.entry(code.as_str()).or_insert(0) += 1;
                }
                services.insert(action.split(':').next().unwrap_or(""));
                if e.outcome == Outcome::AuthFailed {
                    auth_failed += 1;
                }
            }
            let n = window.len() as u64;
            let action_text = actions
                .iter()
                .map(|(a, k)| format!("{a} ×{k}"))
                .collect::<Vec<_>>();
            let code_text = codes
                .iter()
                .map(|(c, k)| format!("{c} ×{k}"))
                .collect::<Vec<_>>();
            let mut evidence = vec![
                format!(
                    "{} were denied or failed authentication between {} and {}.",
                    plural(n, "call", "calls"),
                    when(&first.time),
                    when(&last.time),
                ),
                format!(
                    "The baseline's worst hour had {}; the threshold was {}.",
                    plural(learned, "failure", "failures"),
                    thousands(threshold)
                ),
                format!("Refused calls: {}.", examples(action_text.iter().map(String::as_str), 6)),
            ];
            if !code_text.is_empty() {
                evidence.push(format!("Error codes: {}.", examples(code_text.iter().map(String::as_str), 4)));
            }
            let mut techniques: Vec<&str> = services.iter().map(|s| discovery_technique(s)).collect();
            let tactics: &[&str] = if auth_failed * 2 > n {
                techniques.push("T1110");
                &["credential-access", "discovery"]
            } else {
                &["discovery"]
            };
            Some(make(
                FAILURE_BURST,
                format!("Burst of {n} refused calls"),
                OwaspNhi::Nhi5,
                if n >= threshold * 5 { Severity::High } else { Severity::Medium },
                &input.context.id,
                &when(&first.time),
                evidence,
                tactics,
                &techniques,
                "A workload does not usually probe for permissions it lacks: find who holds the credential, rotate it if the owner cannot explain the calls, and keep its permissions scoped.",
            ))
        })
        .collect()
}

fn is_read(event: &Event) -> bool {
    if let Some(read_only) = event.read_only {
        return read_only;
    }
    let name = iam_action(&event.action).split(':').nth(1).unwrap_or("");
    ["List", "Describe", "Get"]
        .iter()
        .any(|verb| name.starts_with(verb))
}

fn discovery_burst(input: &Input) -> Vec<Finding> {
    if !input.mature {
        return Vec::new();
    }
    let reads: Vec<&Event> = input
        .events
        .iter()
        .copied()
        .filter(|e| is_read(e) && !input.baseline.actions().contains(iam_action(&e.action)))
        .collect();
    let min = input.config.discovery_min_new_actions.max(1);
    let windows = hour_windows(
        &reads,
        &mut BTreeMap::<&str, usize>::new(),
        |m, e| *m.entry(event_action(e)).or_insert(0) += 1,
        |m, e| {
            let key = event_action(e);
            if let Some(n) = m.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    m.remove(key);
                }
            }
        },
        |m| m.clear(),
        |m| m.len() >= min,
    );
    let mut findings = Vec::new();
    for (start, end) in windows {
        let window = reads.get(start..end).unwrap_or(&[]);
        let Some(first) = window.first() else {
            continue;
        };
        let distinct: BTreeSet<&str> = window.iter().map(|e| iam_action(&e.action)).collect();
        let services: BTreeSet<&str> = distinct
            .iter()
            .map(|a| a.split(':').next().unwrap_or(""))
            .collect();
        let techniques: Vec<&str> = services.iter().map(|s| discovery_technique(s)).collect();
        let evidence = vec![
            format!(
                "{} distinct list/describe/get actions the identity had never used were called {} times within an hour from {}.",
                distinct.len(),
                thousands(window.len() as u64),
                when(&first.time),
            ),
            format!(
                "Services enumerated: {}.",
                examples(services.iter().copied(), 8)
            ),
            format!("Actions: {}.", examples(distinct.iter().copied(), 8)),
            baseline_sentence(input),
        ];
        findings.push(make(
            DISCOVERY_BURST,
            format!(
                "Discovery burst: {} new read actions in an hour",
                distinct.len()
            ),
            OwaspNhi::Nhi5,
            Severity::Medium,
            &input.context.id,
            &when(&first.time),
            evidence,
            &["discovery"],
            &techniques,
            "Enumeration by a workload that never did it is typical of a stolen credential being explored: confirm with the owner, rotate the credential otherwise, and remove list/describe permissions it does not need.",
        ));
    }
    findings
}

/// `iam_action` of an event, borrowed from the event (for window state keyed by action).
fn event_action(event: &Event) -> &str {
    iam_action(&event.action)
}

fn credential_reuse(input: &Input) -> Vec<Finding> {
    // credential → hour → (networks, user-agent families)
    type Sources = (BTreeSet<String>, BTreeSet<String>);
    let mut by_credential: BTreeMap<&str, BTreeMap<i64, Sources>> = BTreeMap::new();
    for e in input.events {
        let Some(credential) = e.principal.credential.as_deref() else {
            continue;
        };
        let slot = by_credential
            .entry(credential)
            .or_default()
            .entry(hour_index(&e.time))
            .or_default();
        if let Some(ip) = &e.source_ip {
            let network = network_of(ip);
            if network != "cloud-service" {
                slot.0.insert(network);
            }
        }
        if let Some(ua) = &e.user_agent {
            let family = user_agent_family(ua);
            if family != "cloud-service" && family != "console" {
                slot.1.insert(family);
            }
        }
    }
    let min = input.config.reuse_min_sources;
    let mut findings = Vec::new();
    for (credential, hours) in by_credential {
        let hit = hours.iter().find(|(_, (networks, agents))| {
            let enough = networks.len() >= min || agents.len() >= min;
            // A workload that always runs from several places at once is its baseline.
            let unfamiliar = !input.mature
                || networks
                    .iter()
                    .any(|n| !input.baseline.networks().contains(n))
                || agents
                    .iter()
                    .any(|a| !input.baseline.user_agents().contains(a));
            enough && unfamiliar
        });
        let Some((hour, (networks, agents))) = hit else {
            continue;
        };
        let start = DateTime::from_timestamp(hour * 3600, 0)
            .map(|t| when(&t))
            .unwrap_or_default();
        let evidence = vec![
            format!(
                "Credential {credential} was used from {} ({}) and {} ({}) in the hour from {start}.",
                plural(networks.len() as u64, "network", "networks"),
                examples(networks.iter().map(String::as_str), 5),
                plural(agents.len() as u64, "client", "clients"),
                examples(agents.iter().map(String::as_str), 5),
            ),
            format!(
                "One workload uses one credential; {min} or more sources at once means it is shared or copied."
            ),
        ];
        findings.push(make(
            CREDENTIAL_REUSE,
            format!("Credential used by several workloads at once: {credential}"),
            OwaspNhi::Nhi9,
            Severity::High,
            &input.context.id,
            credential,
            evidence,
            &["initial-access", "defense-evasion"],
            &["T1078.004"],
            "Give each workload its own identity and credential; if the extra sources are unknown, the credential has leaked: rotate it now.",
        ));
    }
    findings
}

fn console_use(input: &Input) -> Vec<Finding> {
    if input.context.actor == ActorKind::Human {
        return Vec::new();
    }
    let events: Vec<&&Event> = input
        .events
        .iter()
        .filter(|e| {
            e.console
                || e.actor == Actor::Human
                || iam_action(&e.action).eq_ignore_ascii_case("signin:ConsoleLogin")
        })
        .collect();
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Vec::new();
    };
    let logins = events
        .iter()
        .filter(|e| iam_action(&e.action).eq_ignore_ascii_case("signin:ConsoleLogin"))
        .count() as u64;
    let networks: BTreeSet<String> = events
        .iter()
        .filter_map(|e| e.source_ip.as_deref().map(network_of))
        .collect();
    let evidence = vec![
        format!(
            "{} came from the console or a browser between {} and {} ({}).",
            plural(events.len() as u64, "call", "calls"),
            when(&first.time),
            when(&last.time),
            plural(logins, "console sign-in", "console sign-ins"),
        ),
        format!(
            "The identity is a {} identity ({}); people should use their own identities.",
            if input.context.actor == ActorKind::Machine {
                "machine"
            } else {
                "non-human or unclassified"
            },
            input.context.kind,
        ),
        format!(
            "From networks: {}.",
            examples(networks.iter().map(String::as_str), 3)
        ),
    ];
    vec![make(
        CONSOLE_USE,
        "Console or browser use of a machine identity".to_string(),
        OwaspNhi::Nhi10,
        if input.context.actor == ActorKind::Machine {
            Severity::High
        } else {
            Severity::Medium
        },
        &input.context.id,
        "console",
        evidence,
        &["initial-access", "persistence"],
        &["T1078.004"],
        "Remove the identity's console password, find the person who signed in and give them their own SSO access, and rotate the identity's credentials they may have seen.",
    )]
}

fn cross_environment(input: &Input) -> Vec<Finding> {
    let own = input.context.environment;
    if own == Environment::Unknown {
        return Vec::new();
    }
    // other environment → (resource or network, calls)
    let mut hits: BTreeMap<Environment, BTreeMap<String, u64>> = BTreeMap::new();
    for e in input.events {
        let mut places: Vec<(Environment, String)> = e
            .resources
            .iter()
            .map(|r| (input.environments.of_resource(r), r.clone()))
            .collect();
        if let Some(ip) = &e.source_ip {
            let network = network_of(ip);
            places.push((
                input.environments.of_network(&network),
                format!("network {network}"),
            ));
        }
        for (env, place) in places {
            if env != Environment::Unknown
                && env != own
                && (env.is_production() || own.is_production())
            {
                *hits.entry(env).or_default().entry(place).or_insert(0) += 1;
            }
        }
    }
    hits.into_iter()
        .map(|(env, places)| {
            let total: u64 = places.values().sum();
            let evidence = vec![
                format!(
                    "This {own} identity made {} touching {env} resources or networks.",
                    plural(total, "call", "calls")
                ),
                format!("Places: {}.", examples(places.keys().map(String::as_str), 5)),
            ];
            make(
                CROSS_ENVIRONMENT,
                format!("{own} identity used across environments ({env})"),
                OwaspNhi::Nhi8,
                if env.is_production() { Severity::High } else { Severity::Medium },
                &input.context.id,
                env.as_str(),
                evidence,
                &["lateral-movement"],
                &["T1078.004"],
                "Give each environment its own identities and accounts; remove this identity's access to the other environment and check why it was used there.",
            )
        })
        .collect()
}

fn dormant_active(input: &Input) -> Vec<Finding> {
    let Some(first) = input.events.first() else {
        return Vec::new();
    };
    let before = [
        input.baseline.last_seen(),
        input.context.last_used.filter(|t| *t < first.time),
    ]
    .into_iter()
    .flatten()
    .max();
    let gap_days = before.map(|t| (first.time - t).num_days());
    let dormant_by_gap = gap_days.is_some_and(|d| d >= input.config.dormant_days);
    let marked = input.context.status == warrant_core::IdentityStatus::Dormant;
    if !dormant_by_gap && !marked {
        return Vec::new();
    }
    let mut evidence = vec![format!(
        "{} in the window, the first at {}.",
        plural(input.events.len() as u64, "call", "calls"),
        when(&first.time)
    )];
    match (before, gap_days) {
        (Some(t), Some(d)) => evidence.push(format!(
            "Before that it was last used at {}, {d} days earlier.",
            when(&t)
        )),
        _ => evidence.push("No earlier use is known.".to_string()),
    }
    if marked {
        evidence.push("The inventory marks the identity dormant.".to_string());
    }
    let actions: BTreeSet<&str> = input.events.iter().map(|e| iam_action(&e.action)).collect();
    evidence.push(format!("Actions: {}.", examples(actions, 5)));
    vec![make(
        DORMANT_ACTIVE,
        "Dormant identity became active".to_string(),
        OwaspNhi::Nhi1,
        Severity::Medium,
        &input.context.id,
        &day_label(hour_index(&first.time).div_euclid(24)),
        evidence,
        &["initial-access", "persistence"],
        &["T1078.004"],
        "Confirm with the owner that the identity was meant to come back; if nobody claims it, disable its credentials and decommission it.",
    )]
}

fn undeclared_tool(input: &Input) -> Vec<Finding> {
    let Some(declared) = &input.context.declared_tools else {
        return Vec::new();
    };
    let mut calls: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    for e in input.events {
        if let Some(tool) = e.action.strip_prefix("tool:")
            && !declared.contains(tool)
            && !declared.contains(e.action.as_str())
        {
            calls.entry(tool).or_default().push(e);
        }
    }
    calls
        .into_iter()
        .filter_map(|(tool, events)| {
            let first = events.first()?;
            let resources: BTreeSet<&str> = events
                .iter()
                .flat_map(|e| e.resources.iter().map(String::as_str))
                .collect();
            let mut evidence = vec![
                format!(
                    "The agent called tool `{tool}` {}, first at {}.",
                    plural(events.len() as u64, "time", "times"),
                    when(&first.time)
                ),
                format!(
                    "Its declared tools are: {}.",
                    examples(declared.iter().map(String::as_str), 8)
                ),
            ];
            if !resources.is_empty() {
                evidence.push(format!("Touched: {}.", examples(resources, 3)));
            }
            Some(make(
                UNDECLARED_TOOL,
                format!("Agent called an undeclared tool: {tool}"),
                OwaspNhi::Nhi5,
                Severity::High,
                &input.context.id,
                tool,
                evidence,
                &["execution"],
                &[],
                "Restrict the agent to its declared tools in the MCP client or gateway configuration, and review the prompt or input that led it to the other tool.",
            ))
        })
        .collect()
}

pub(crate) fn shadow_identity(identity: &str, principal: &Principal, events: &[Event]) -> Finding {
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.id.cmp(&b.id)));
    let mut evidence = Vec::new();
    let described = [
        principal.arn.as_deref().map(|a| format!("ARN {a}")),
        principal.name.as_deref().map(|n| format!("name {n}")),
        principal.account.as_deref().map(|a| format!("account {a}")),
        principal
            .credential
            .as_deref()
            .map(|c| format!("credential {c}")),
        principal.kind.map(|k| format!("kind {k:?}")),
    ];
    let described: Vec<String> = described.into_iter().flatten().collect();
    evidence.push(format!(
        "A principal not in the inventory acted: {}.",
        if described.is_empty() {
            "no identifying details".to_string()
        } else {
            described.join(", ")
        }
    ));
    if let (Some(first), Some(last)) = (sorted.first(), sorted.last()) {
        evidence.push(format!(
            "{} between {} and {}.",
            plural(sorted.len() as u64, "call", "calls"),
            when(&first.time),
            when(&last.time)
        ));
    }
    let mut actions: BTreeMap<&str, u64> = BTreeMap::new();
    for e in &sorted {
        *actions.entry(iam_action(&e.action)).or_insert(0) += 1;
    }
    if !actions.is_empty() {
        let text: Vec<String> = actions.iter().map(|(a, n)| format!("{a} ×{n}")).collect();
        evidence.push(format!(
            "Actions: {}.",
            examples(text.iter().map(String::as_str), 6)
        ));
    }
    let networks: BTreeSet<String> = sorted
        .iter()
        .filter_map(|e| e.source_ip.as_deref().map(network_of))
        .collect();
    if !networks.is_empty() {
        evidence.push(format!(
            "From networks: {}.",
            examples(networks.iter().map(String::as_str), 3)
        ));
    }
    let sensitive_calls = actions.keys().any(|a| sensitive_action(a).is_some());
    make(
        SHADOW_IDENTITY,
        "Activity by an identity missing from the inventory".to_string(),
        OwaspNhi::Nhi1,
        if sensitive_calls {
            Severity::High
        } else {
            Severity::Medium
        },
        identity,
        "shadow",
        evidence,
        &["initial-access", "persistence"],
        &["T1078.004"],
        "Find who created and owns this identity; import its account so it is inventoried, or disable it if nobody claims it.",
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separates() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(50_000), "50,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    fn at(minutes: &[i64]) -> Vec<Event> {
        minutes
            .iter()
            .enumerate()
            .map(|(i, m)| Event {
                id: format!("e{i}"),
                time: DateTime::from_timestamp(1_800_000_000 + m * 60, 0).unwrap(),
                log: crate::event::LogKind::CloudTrail,
                principal: Principal::default(),
                actor: Actor::Automation,
                action: format!("ec2:Describe{}", i % 3),
                resources: vec![],
                source_ip: None,
                user_agent: None,
                outcome: Outcome::Denied,
                error_code: None,
                region: None,
                read_only: None,
                console: false,
            })
            .collect()
    }

    #[test]
    fn bursts_are_hour_long_and_do_not_overlap() {
        let events = at(&[0, 10, 20, 30, 59, 61, 62, 63, 200, 201]);
        let refs: Vec<&Event> = events.iter().collect();
        // 0..59 holds five events; 10..63 would hold seven, but windows do not overlap.
        assert_eq!(bursts(&refs, 5), vec![(0, 5)]);
        assert_eq!(bursts(&refs, 7), vec![(1, 8)]);
        assert_eq!(bursts(&refs, 8), vec![]);
        assert_eq!(bursts(&refs, 2), vec![(0, 5), (5, 8), (8, 10)]);
        assert_eq!(bursts(&[], 1), vec![]);
    }

    #[test]
    fn every_rule_runs_and_is_listed() {
        for (rule, _) in RULE_FNS {
            assert!(ALL_RULES.iter().any(|(r, _)| r == rule), "{rule}");
        }
        assert_eq!(ALL_RULES.len(), RULE_FNS.len() + 1);
    }
}
