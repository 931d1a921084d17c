//! Data destruction at volume (T1485): a bucket emptied object by object. One `DeleteObject`
//! is routine; hundreds in an hour across a bucket, or versions deleted so that nothing can be
//! restored, is how ransomware and wipers finish.

use super::*;

const DELETE: &str = "s3:DeleteObject";

/// The bucket and object key of an S3 object call, from its resources (`arn:aws:s3:::B/K`).
/// CloudTrail lists the object and its bucket in either order; the object's ARN says both.
fn bucket_and_key(event: &Event) -> Option<(&str, &str)> {
    let paths = || {
        event
            .resources
            .iter()
            .filter_map(|r| r.strip_prefix("arn:aws:s3:::"))
    };
    paths()
        .find_map(|path| path.split_once('/'))
        .or_else(|| paths().next().map(|bucket| (bucket, "")))
}

/// Deletions in one bucket within an hour.
#[derive(Default)]
struct Window<'a> {
    deletes: u64,
    versions: u64,
    bulk: u64,
    prefixes: BTreeMap<&'a str, u64>,
}

/// What one deletion adds to a window: (version deleted, bulk request, top-level prefix).
fn traits<'a>(event: &Event, key: &'a str) -> (bool, bool, &'a str) {
    (
        event.facts.get("object.version_deleted") == Some("true"),
        event.facts.get("call") == Some("DeleteObjects"),
        key.split_once('/').map_or("", |(p, _)| p),
    )
}

impl<'a> Window<'a> {
    fn add(&mut self, event: &Event, key: &'a str) {
        let (version, bulk, prefix) = traits(event, key);
        self.deletes += 1;
        self.versions += u64::from(version);
        self.bulk += u64::from(bulk);
        *self.prefixes.entry(prefix).or_insert(0) += 1;
    }

    fn remove(&mut self, event: &Event, key: &'a str) {
        let (version, bulk, prefix) = traits(event, key);
        self.deletes = self.deletes.saturating_sub(1);
        self.versions = self.versions.saturating_sub(u64::from(version));
        self.bulk = self.bulk.saturating_sub(u64::from(bulk));
        if let Some(n) = self.prefixes.get_mut(prefix) {
            *n -= 1;
            if *n == 0 {
                self.prefixes.remove(prefix);
            }
        }
    }
}

pub(super) fn bucket_emptied(input: &Input) -> Vec<Finding> {
    if input.changes {
        return Vec::new();
    }
    let config = input.config;
    let mut by_bucket: BTreeMap<&str, Vec<(&Event, &str)>> = BTreeMap::new();
    for event in input.events.iter().copied() {
        if event.outcome == Outcome::Success
            && event.action == DELETE
            && !config.is_service_principal(&event.principal)
            && let Some((bucket, key)) = bucket_and_key(event)
        {
            by_bucket.entry(bucket).or_default().push((event, key));
        }
    }
    // What the identity deletes on an ordinary day: a clean-up job is judged against itself.
    let learned_daily = if input.mature {
        let days = input.baseline.daily_volume().periods.max(1);
        input
            .baseline
            .actions()
            .count(DELETE)
            .map(|n| n as f64 / days as f64)
    } else {
        None
    };
    let mut findings = Vec::new();
    for (bucket, deletes) in by_bucket {
        let (mut lo, mut hi) = (0, 0);
        let mut window = Window::default();
        while let Some(&(first, first_key)) = deletes.get(lo) {
            let limit = first.time + Duration::hours(1);
            while let Some(&(next, key)) = deletes.get(hi) {
                if next.time >= limit {
                    break;
                }
                window.add(next, key);
                hi += 1;
            }
            let permanent = window.versions >= config.bucket_version_delete_min;
            let volume = window.deletes >= config.bucket_delete_min;
            let unusual = match learned_daily {
                Some(mean) => window.deletes as f64 > config.spike_factor * mean.max(1.0),
                None => window.prefixes.len() >= config.bucket_delete_min_prefixes,
            };
            if permanent || (volume && unusual) {
                let span = deletes.get(lo..hi).unwrap_or_default();
                if let (Some((start, _)), Some((end, _))) = (span.first(), span.last()) {
                    findings.push(emptied(input, bucket, &window, learned_daily, start, end));
                }
                window = Window::default();
                lo = hi;
            } else {
                window.remove(first, first_key);
                lo += 1;
            }
            hi = hi.max(lo);
        }
    }
    findings
}

fn emptied(
    input: &Input,
    bucket: &str,
    window: &Window,
    learned_daily: Option<f64>,
    start: &Event,
    end: &Event,
) -> Finding {
    let mut evidence = vec![format!(
        "{} in bucket {bucket} between {} and {}{}.",
        plural(window.deletes, "object deletion", "object deletions"),
        when(&start.time),
        when(&end.time),
        if window.bulk > 0 {
            format!(
                ", {} of them multi-object DeleteObjects requests",
                thousands(window.bulk)
            )
        } else {
            String::new()
        }
    )];
    if window.versions > 0 {
        evidence.push(format!(
            "{} deleted a specific object version: permanent, no delete marker to remove.",
            plural(window.versions, "call", "calls")
        ));
    }
    let mut prefixes: Vec<(&&str, &u64)> = window.prefixes.iter().collect();
    prefixes.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let shown: Vec<String> = prefixes
        .iter()
        .map(|(p, n)| {
            let p = if p.is_empty() { "(top level)" } else { p };
            format!("{p} ×{n}")
        })
        .collect();
    evidence.push(format!(
        "Across {}: {}.",
        plural(
            window.prefixes.len() as u64,
            "top-level prefix",
            "top-level prefixes"
        ),
        examples(shown.iter().map(String::as_str), 5)
    ));
    evidence.push(match learned_daily {
        Some(mean) => format!("Its baseline deletes {mean:.1} objects a day."),
        None => "No baseline shows this identity deleting objects.".to_string(),
    });
    let severity = if window.versions >= input.config.bucket_version_delete_min {
        Severity::Critical
    } else {
        Severity::High
    };
    make(
        SENSITIVE_ACTION,
        format!(
            "Bucket {bucket} emptied: {} objects deleted",
            thousands(window.deletes)
        ),
        severity,
        &input.context.id,
        &format!("bucket-emptied:{bucket}:{}", when(&start.time)),
        evidence,
        &[Tactic::Impact],
        &[technique!("T1485")],
        "Stop the identity (deactivate its keys or revoke its sessions), restore the objects from versions or backups, and turn on versioning with MFA delete or Object Lock for buckets that must survive this.",
    )
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::detect::{DetectConfig, Detector};
    use crate::event::{Actor, Facts, LogKind, PrincipalKind};

    fn delete(n: i64, key: &str, version: bool) -> Event {
        let mut facts = Facts::default();
        if version {
            facts.push("object.version_deleted", "true");
        }
        Event {
            id: format!("del-{n}"),
            time: chrono::Utc
                .with_ymd_and_hms(2026, 11, 20, 2, 0, 0)
                .single()
                .unwrap_or_default()
                + Duration::seconds(n * 5),
            log: LogKind::CloudTrail,
            principal: Principal {
                kind: Some(PrincipalKind::AwsUser),
                arn: Some("arn:aws:iam::111122223333:user/svc-sync".into()),
                credential: Some("AKIAEXAMPLESYNC00001".into()),
                account: Some("111122223333".into()),
                name: Some("svc-sync".into()),
                session: None,
            },
            subject: None,
            actor: Actor::Application,
            action: DELETE.into(),
            resources: vec![format!("arn:aws:s3:::finance-archive/{key}")],
            source_ip: Some("203.0.113.9".into()),
            user_agent: None,
            outcome: Outcome::Success,
            error_code: None,
            region: Some("eu-west-1".into()),
            read_only: Some(false),
            console: false,
            facts,
        }
    }

    fn emptied(events: &[Event]) -> Vec<Finding> {
        let detector = Detector::new(DetectConfig::default());
        detector
            .detect(&IdentityContext::unknown("user:svc-sync"), None, events)
            .into_iter()
            .filter(|f| f.id.contains("bucket-emptied") || f.title.contains("emptied"))
            .collect()
    }

    #[test]
    fn deletions_across_a_bucket_are_one_finding_and_a_scratch_prefix_is_none() {
        let across: Vec<Event> = (0..240)
            .map(|n| {
                delete(
                    n,
                    &format!(
                        "{}/2026/obj-{n}.parquet",
                        ["ledger", "invoices", "payroll"][n as usize % 3]
                    ),
                    false,
                )
            })
            .collect();
        let found = emptied(&across);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::High);
        assert!(found[0].evidence[0].contains("240 object deletions"));
        assert_eq!(found[0].attack, vec![technique!("T1485")]);

        let scratch: Vec<Event> = (0..400)
            .map(|n| delete(n, &format!("tmp/run-{n}.json"), false))
            .collect();
        assert!(emptied(&scratch).is_empty());
        let few: Vec<Event> = across.iter().take(150).cloned().collect();
        assert!(emptied(&few).is_empty());
    }

    #[test]
    fn deleting_versions_is_permanent_and_critical_even_in_one_prefix() {
        let versions: Vec<Event> = (0..120)
            .map(|n| delete(n, &format!("backups/db-{n}.dump"), true))
            .collect();
        let found = emptied(&versions);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Critical);
    }
}
