#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! Every public CloudTrail sample in `../shared/data/cloudtrail` ingests without a bad record,
//! and every action it yields is an IAM action (or a known non-IAM event).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use warrant_activity::actions::{is_catalogued, is_non_iam_event};
use warrant_activity::ingest::{IngestOptions, ingest_paths};
use warrant_activity::{Actor, LogKind, PrincipalKind};

fn shared() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cloudtrail");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: {} is absent", dir.display());
        None
    }
}

#[test]
fn shared_cloudtrail_ingests_cleanly() {
    let Some(dir) = shared() else { return };
    let events = Mutex::new(Vec::new());
    let report = ingest_paths(&[dir], &IngestOptions::default(), &|e| {
        events.lock().unwrap().push(e)
    });
    let events = events.into_inner().unwrap();
    for f in &report.files {
        assert_eq!(
            f.format,
            Some(LogKind::CloudTrail),
            "{}: {:?}",
            f.file,
            f.not_ingested
        );
        assert!(f.events > 0, "{}", f.file);
    }
    assert_eq!(report.bad_count, 0, "{:#?}", report.bad);
    assert!(report.files.len() >= 90);
    assert_eq!(report.events as usize, events.len());

    let mut unknown: BTreeMap<String, usize> = BTreeMap::new();
    for e in &events {
        if !is_catalogued(&e.action) && !is_non_iam_event(&e.action) {
            *unknown.entry(e.action.clone()).or_default() += 1;
        }
    }
    eprintln!(
        "{} events; actions not in the IAM catalogue: {unknown:?}",
        events.len()
    );
    assert!(
        unknown.is_empty(),
        "unmapped CloudTrail actions: {unknown:?}"
    );

    // Principals and actors are recognised.
    assert!(events.iter().all(|e| e.principal.kind.is_some()));
    let roles = events
        .iter()
        .filter(|e| e.principal.kind == Some(PrincipalKind::AwsAssumedRole))
        .count();
    assert!(roles > 0);
    for e in events
        .iter()
        .filter(|e| e.principal.kind == Some(PrincipalKind::AwsAssumedRole))
    {
        let arn = e.principal.arn.as_deref().unwrap_or("");
        assert!(
            arn.contains(":role/"),
            "role ARN, not the STS session: {arn}"
        );
    }
    assert!(events.iter().any(|e| e.actor == Actor::Automation));
    assert!(
        events
            .iter()
            .any(|e| e.action == "signin:ConsoleLogin" && e.console)
    );
}
