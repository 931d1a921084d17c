//! Calls named in the sensitive-action catalogue: privilege changes, defence evasion, credential
//! access, exfiltration and other high-impact actions.

use super::*;
use crate::detect::judge::{Judgement, judge};

pub(super) fn sensitive(input: &Input, category: Category) -> Vec<Finding> {
    let mut by_action: BTreeMap<&'static str, Vec<&Event>> = BTreeMap::new();
    let mut entries: BTreeMap<&'static str, &'static SensitiveAction> = BTreeMap::new();
    let mut judged: BTreeMap<&'static str, Vec<Judgement>> = BTreeMap::new();
    for (event, entry) in input.events.iter().zip(&input.sensitive) {
        if let Some(entry) = entry
            && entry.category == category
            && !input.config.is_service_principal(&event.principal)
            && let Some(judgement) = judge(entry, event)
        {
            by_action.entry(entry.action).or_default().push(event);
            entries.insert(entry.action, entry);
            judged.entry(entry.action).or_default().push(judgement);
        }
    }
    let mut findings = Vec::new();
    for (action, events) in by_action {
        let Some(entry) = entries.get(action).copied() else {
            continue;
        };
        let judgements = judged.remove(action).unwrap_or_default();
        let always = entry.always || judgements.iter().any(|j| j.always);
        let top_severity = judgements
            .iter()
            .map(|j| j.severity)
            .max()
            .unwrap_or(entry.severity);
        let mut notes: Vec<String> = judgements.into_iter().filter_map(|j| j.note).collect();
        notes.sort();
        notes.dedup();
        let total = events.len() as u64;
        // Any error means the call did not take effect, whatever the error code.
        let failed = events
            .iter()
            .filter(|e| e.outcome != Outcome::Success)
            .count() as u64;
        let known = !input.changes && input.baseline.actions().contains(action);
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
        if known && !always && burst.is_none() {
            continue;
        }
        let (Some(first), Some(last)) = (events.first(), events.last()) else {
            continue;
        };
        let mut evidence = vec![format!(
            "{action} ({}) was called {} between {} and {} ({} succeeded, {} refused or failed).",
            entry.effect,
            plural(total, "time", "times"),
            when(&first.time),
            when(&last.time),
            thousands(total - failed),
            thousands(failed),
        )];
        evidence.extend(notes.into_iter().take(3));
        if input.changes {
            let callers: BTreeSet<String> = events.iter().map(|e| caller(&e.principal)).collect();
            evidence.push(format!(
                "The calls changed this identity; they were made by {}.",
                examples(callers.iter().map(String::as_str), 3)
            ));
        }
        match burst {
            Some((day, n, mean)) => evidence.push(format!(
                "On {} it was called {} times against a learned mean of {mean:.1} a day.",
                day_label(day),
                thousands(n),
            )),
            None if input.changes => {}
            None if known => evidence.push(format!(
                "This action is raised every time, even though the identity has called it before ({} in its baseline).",
                thousands(input.baseline.actions().count(action).unwrap_or(0)),
            )),
            None => {
                evidence.push(format!("This identity had never called {action} before."));
                evidence.push(baseline_sentence(input));
            }
        }
        // What the requests asked for, when the detection judged their content.
        let facts: BTreeSet<String> = events
            .iter()
            .flat_map(|e| e.facts.iter())
            .filter(|(k, _)| *k != "object.kind")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !facts.is_empty() {
            evidence.push(format!(
                "Request details: {}.",
                examples(facts.iter().map(String::as_str), 6)
            ));
        }
        let subjects: BTreeSet<&str> = events
            .iter()
            .filter_map(|e| e.subject.as_ref()?.name.as_deref())
            .collect();
        if !subjects.is_empty() {
            evidence.push(format!(
                "It changes the machine identity {}.",
                examples(subjects, 3)
            ));
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
        if machine && category == Category::PrivilegeChange && !input.changes {
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
        let mut severity = top_severity;
        if failed == total {
            severity = step_down(severity);
            evidence.push("Every attempt was refused or failed, so nothing changed: an attempt still shows intent.".to_string());
        }
        if input.context.actor == ActorKind::Human && !always {
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
        let (title, discriminator) = if input.changes {
            (
                format!("{title} (made to this identity)"),
                format!("to:{action}"),
            )
        } else {
            (title, action.to_string())
        };
        findings.push(make(
            category.rule(),
            title,
            severity,
            &input.context.id,
            &discriminator,
            evidence,
            entry.tactics,
            entry.techniques,
            remediation,
        ));
    }
    findings
}
