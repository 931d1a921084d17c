//! Hour-long bursts: refused calls and never-used discovery calls.

use super::*;

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
pub(super) fn bursts(events: &[&Event], threshold: u64) -> Vec<(usize, usize)> {
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

pub(super) fn failure_burst(input: &Input) -> Vec<Finding> {
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
            let mut techniques: Vec<Technique> = services.iter().map(|s| discovery_technique(s)).collect();
            let tactics: &[Tactic] = if auth_failed * 2 > n {
                techniques.push(technique!("T1110"));
                &[Tactic::CredentialAccess, Tactic::Discovery]
            } else {
                &[Tactic::Discovery]
            };
            Some(make(
                FAILURE_BURST,
                format!("Burst of {n} refused calls"),
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

pub(super) fn discovery_burst(input: &Input) -> Vec<Finding> {
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
        let techniques: Vec<Technique> = services.iter().map(|s| discovery_technique(s)).collect();
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
            Severity::Medium,
            &input.context.id,
            &when(&first.time),
            evidence,
            &[Tactic::Discovery],
            &techniques,
            "Enumeration by a workload that never did it is typical of a stolen credential being explored: confirm with the owner, rotate the credential otherwise, and remove list/describe permissions it does not need.",
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

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
                subject: None,
                facts: Default::default(),
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
}
