#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! Stratus Red Team's CloudTrail recordings: each file is named after the ATT&CK tactic and
//! technique it performs (`aws.persistence.iam-create-admin-user.json`). Every file must raise
//! at least one finding carrying that tactic, with no baseline and nothing known about the
//! caller. Skips when `../shared` is absent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use warrant_activity::Event;
use warrant_activity::detect::{Detector, IdentityContext};
use warrant_activity::ingest::{IngestOptions, ingest_file};

fn stratus_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/cloudtrail/stratus-red-team");
    dir.is_dir().then_some(dir)
}

#[test]
fn every_stratus_technique_raises_its_tactic() {
    let Some(dir) = stratus_dir() else {
        eprintln!("skipping: ../shared/data/cloudtrail/stratus-red-team is absent");
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "only {} files", files.len());
    let detector = Detector::default();
    let mut missed = Vec::new();
    let mut per_tactic: BTreeMap<String, usize> = BTreeMap::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let tactic = name.split('.').nth(1).unwrap().to_string();
        let mut events: Vec<Event> = Vec::new();
        let report = ingest_file(file, &IngestOptions::default(), &mut |e| events.push(e));
        assert_eq!(report.bad_count, 0, "{name}: {:?}", report.bad);
        assert!(!events.is_empty(), "{name}: no events");
        // Group by acting principal, as attribution would.
        let mut by_principal: BTreeMap<String, Vec<Event>> = BTreeMap::new();
        for e in events {
            let key = e
                .principal
                .arn
                .clone()
                .or_else(|| e.principal.name.clone())
                .unwrap_or_else(|| "unknown".into());
            by_principal.entry(key).or_default().push(e);
        }
        let mut tactics = BTreeSet::new();
        let mut rules = BTreeSet::new();
        for (principal, events) in &by_principal {
            let ctx = IdentityContext::unknown(principal);
            for f in detector.detect(&ctx, None, events) {
                tactics.extend(f.tactics.iter().map(|t| t.as_str().to_string()));
                rules.insert(f.rule);
                assert!(
                    !f.attack.is_empty() || f.rule.as_str().contains("tool"),
                    "{name}: {f:?}"
                );
            }
        }
        eprintln!("{name}: {rules:?}");
        if tactics.contains(&tactic) {
            *per_tactic.entry(tactic).or_insert(0) += 1;
        } else {
            missed.push(format!(
                "{name}: wanted {tactic}, got {tactics:?} from {rules:?}"
            ));
        }
    }
    assert!(missed.is_empty(), "missed:\n{}", missed.join("\n"));
    eprintln!("files flagged per tactic: {per_tactic:?}");
}
