//! Departures from the learned baseline: volume spikes, new networks and clients, activity off
//! the usual schedule.

use super::*;

pub(super) fn volume_spike(input: &Input) -> Vec<Finding> {
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
        let techniques: &[Technique] = if storage_read {
            &[technique!("T1530")]
        } else {
            &[]
        };
        findings.push(make(
            VOLUME_SPIKE,
            format!("Volume spike on {}: {spiking}", day_label(day)),
            severity,
            &input.context.id,
            &discriminator,
            evidence,
            &[Tactic::Collection, Tactic::Exfiltration],
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

pub(super) fn new_network(input: &Input) -> Vec<Finding> {
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
                Severity::Medium,
                &input.context.id,
                &network,
                evidence,
                &[Tactic::InitialAccess, Tactic::DefenseEvasion],
                &[technique!("T1078.004")],
                "Confirm with the owner that the workload moved or gained a new egress; otherwise treat the credential as leaked: rotate it and restrict it to known networks with an aws:SourceIp or aws:SourceVpc condition.",
            ))
        })
        .collect()
}

pub(super) fn new_user_agent(input: &Input) -> Vec<Finding> {
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
                Severity::Low,
                &input.context.id,
                &family,
                evidence,
                &[Tactic::InitialAccess, Tactic::DefenseEvasion],
                &[technique!("T1078.004")],
                "Confirm the workload changed its tooling; a credential used from an unfamiliar client is a common sign of theft: rotate it if the owner cannot explain the change.",
            ))
        })
        .collect()
}

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

pub(super) fn off_schedule(input: &Input) -> Vec<Finding> {
    if !input.mature {
        return Vec::new();
    }
    let profile = input.baseline.hour_of_week_profile();
    let tolerance = input.config.off_schedule_tolerance_hours;
    let n = profile.len();
    if n == 0 {
        return Vec::new();
    }
    // Hours of the day the identity was active in, on any day of the week.
    let mut by_hour_of_day = [0u64; 24];
    for (bucket, count) in profile.iter().enumerate() {
        if let Some(slot) = by_hour_of_day.get_mut(bucket % 24) {
            *slot += count;
        }
    }
    let hours_of_day = by_hour_of_day.iter().filter(|c| **c > 0).count();
    // A job that runs around the clock has no schedule to depart from.
    if hours_of_day >= input.config.off_schedule_around_the_clock_hours {
        return Vec::new();
    }
    // A baseline shorter than a week has not seen every day of the week: judging by hour of
    // the week would call a five-minute job's first Sunday "off schedule". Until it has, only
    // the hour of the day is judged.
    let whole_week = input.baseline.span_days() >= 7.0;
    let expected = |bucket: usize| {
        (0..=2 * tolerance).any(|offset| {
            if whole_week {
                let b = (bucket + n + offset - tolerance) % n;
                profile.get(b).is_some_and(|c| *c > 0)
            } else {
                let h = (bucket % 24 + 24 + offset - tolerance) % 24;
                by_hour_of_day.get(h).is_some_and(|c| *c > 0)
            }
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
        format!(
            "The baseline was active in {active} of the week's 168 hours ({hours_of_day} of the day's 24){}.",
            if whole_week {
                ""
            } else {
                "; it spans less than a week, so only the hour of the day was judged"
            }
        ),
        format!("Actions off schedule: {}.", examples(actions, 5)),
    ];
    vec![make(
        OFF_SCHEDULE,
        "Activity outside the identity's schedule".to_string(),
        Severity::Low,
        &input.context.id,
        &day_label(hour_index(&first.time).div_euclid(24)),
        evidence,
        &[Tactic::InitialAccess, Tactic::DefenseEvasion],
        &[technique!("T1078.004")],
        "Ask the owner whether the job's schedule changed; activity at hours a workload never runs is a sign someone else holds its credential.",
    )]
}
