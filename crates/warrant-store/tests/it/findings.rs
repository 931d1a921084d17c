//! Findings across runs, risks, leak locations, usage, baselines and checkpoints.
#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions may unwrap too.

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use warrant_core::*;
use warrant_store::{FindingFilter, FindingStatus, IngestedFile, SecretOccurrence, Store};

const NO_FINDINGS: &[Finding] = &[];
const NO_RISKS: &[(&str, RiskScore)] = &[];

fn t(day: u32) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 4, day, 8, 30, 0)
        .single()
        .unwrap()
}

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("w.db")).await.unwrap();
    (dir, store)
}

fn finding(rule: RuleId, identity: &str, severity: Severity) -> Finding {
    Finding::new(
        rule,
        format!("{rule} on {identity}"),
        severity,
        identity,
        "",
        vec!["evidence".into()],
        "rotate it",
    )
}

fn risk(score: f64) -> RiskScore {
    RiskScore {
        score,
        blast_radius: score / 2.0,
        exposure: score / 3.0,
        components: vec![RiskComponent {
            factor: "exposure".into(),
            label: "old key".into(),
            points: 3.0,
            explanation: "key older than 90 days".into(),
        }],
    }
}

async fn status_of(store: &Store, id: &str) -> warrant_store::StoredFinding {
    store
        .findings(&FindingFilter::default())
        .await
        .unwrap()
        .into_iter()
        .find(|f| f.finding.id == id)
        .unwrap()
}

conformance! {
#[tokio::test]
async fn findings_open_resolve_reopen_and_stay_accepted_across_runs(db) {
    let store = db.open().await;
    let old_key = finding(RuleId::AccessKeyOld, "u1", Severity::High);
    let no_owner = finding(RuleId::NoOwner, "u2", Severity::Medium);
    let leak = finding(RuleId::LeakedSecret, "u1", Severity::Critical);

    let run1 = store
        .save_assessment(
            t(1),
            FindingSource::Posture,
            &[old_key.clone(), no_owner.clone()],
            &[("u1", risk(60.0))],
        )
        .await
        .unwrap();
    store
        .save_assessment(
            t(1),
            FindingSource::Secret,
            std::slice::from_ref(&leak),
            NO_RISKS,
        )
        .await
        .unwrap();

    // Run 2 of posture: the no-owner finding is gone; the secret finding is another source's.
    let run2 = store
        .save_assessment(
            t(2),
            FindingSource::Posture,
            std::slice::from_ref(&old_key),
            &[("u1", risk(40.0))],
        )
        .await
        .unwrap();
    assert!(run2 > run1);
    let k = status_of(&store, &old_key.id).await;
    assert_eq!(
        (k.status, k.first_seen, k.last_seen),
        (FindingStatus::Open, t(1), t(2))
    );
    let o = status_of(&store, &no_owner.id).await;
    assert_eq!(
        (o.status, o.resolved_at),
        (FindingStatus::Resolved, Some(t(2)))
    );
    let l = status_of(&store, &leak.id).await;
    assert_eq!(l.status, FindingStatus::Open);
    assert_eq!(
        store.open_findings(FindingSource::Secret).await.unwrap(),
        vec![leak.clone()]
    );

    // Accepted findings stay accepted when raised again; resolved ones reopen.
    assert!(
        store
            .set_finding_status(
                &old_key.id,
                FindingStatus::Accepted,
                Some("break-glass key, ok'd by sec")
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_finding_status("nope", FindingStatus::Accepted, None)
            .await
            .unwrap()
    );
    store
        .save_assessment(
            t(3),
            FindingSource::Posture,
            &[old_key.clone(), no_owner.clone()],
            NO_RISKS,
        )
        .await
        .unwrap();
    let k = status_of(&store, &old_key.id).await;
    assert_eq!(k.status, FindingStatus::Accepted);
    assert_eq!(k.note.as_deref(), Some("break-glass key, ok'd by sec"));
    let o = status_of(&store, &no_owner.id).await;
    assert_eq!(
        (o.status, o.resolved_at, o.first_seen, o.last_seen),
        (FindingStatus::Open, None, t(1), t(3))
    );
    // An empty run resolves open findings of its source but not accepted ones.
    store
        .save_assessment(t(4), FindingSource::Posture, NO_FINDINGS, NO_RISKS)
        .await
        .unwrap();
    assert_eq!(
        status_of(&store, &old_key.id).await.status,
        FindingStatus::Accepted
    );
    assert_eq!(
        status_of(&store, &no_owner.id).await.status,
        FindingStatus::Resolved
    );
    assert_eq!(
        status_of(&store, &leak.id).await.status,
        FindingStatus::Open
    );

    // Filters.
    let critical = store
        .findings(&FindingFilter {
            min_severity: Some(Severity::High),
            ..FindingFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(critical.len(), 2);
    assert_eq!(critical[0].finding.severity, Severity::Critical);
    let for_u2 = store
        .findings(&FindingFilter {
            identity: Some("u2".into()),
            status: Some(FindingStatus::Resolved),
            ..FindingFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(for_u2.len(), 1);

    // Risks: the latest run's score per identity.
    let risks = store.latest_risks().await.unwrap();
    assert_eq!(risks, vec![("u1".to_string(), risk(40.0))]);
}
}

conformance! {
#[tokio::test]
async fn back_dated_run_widens_finding_history(db) {
    let store = db.open().await;
    let f = finding(RuleId::AccessKeyOld, "u1", Severity::High);
    store
        .save_assessment(
            t(9),
            FindingSource::Posture,
            std::slice::from_ref(&f),
            NO_RISKS,
        )
        .await
        .unwrap();
    store
        .save_assessment(
            t(4),
            FindingSource::Posture,
            std::slice::from_ref(&f),
            NO_RISKS,
        )
        .await
        .unwrap();
    let s = status_of(&store, &f.id).await;
    assert_eq!((s.first_seen, s.last_seen), (t(4), t(9)));
}
}

conformance! {
#[tokio::test]
async fn large_runs_span_several_statements_and_a_repeated_id_keeps_its_last_version(db) {
    let store = db.open().await;
    // More rows than one multi-row statement holds, for findings and risks alike.
    let n: u32 = 7_500;
    let mut findings: Vec<Finding> = (0..n)
        .map(|i| finding(RuleId::AccessKeyOld, &format!("u{i}"), Severity::Medium))
        .collect();
    let mut repeated = findings[10].clone();
    repeated.severity = Severity::Critical;
    findings.push(repeated.clone());
    let risks: Vec<(String, RiskScore)> = (0..n)
        .map(|i| (format!("u{i}"), risk(f64::from(i % 90))))
        .collect();
    store
        .save_assessment(t(1), FindingSource::Posture, &findings, &risks)
        .await
        .unwrap();
    let stored = store.findings(&FindingFilter::default()).await.unwrap();
    assert_eq!(stored.len(), n as usize);
    assert_eq!(
        status_of(&store, &repeated.id).await.finding.severity,
        Severity::Critical
    );
    assert_eq!(store.latest_risks().await.unwrap().len(), n as usize);

    // The next run raises half of them: the other half resolve, across statement chunks too.
    let half: Vec<Finding> = findings[..(n as usize / 2)].to_vec();
    store
        .save_assessment(t(2), FindingSource::Posture, &half, NO_RISKS)
        .await
        .unwrap();
    let open = store
        .findings(&FindingFilter {
            status: Some(FindingStatus::Open),
            ..FindingFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(open.len(), n as usize / 2);
}
}

conformance! {
#[tokio::test]
async fn invalid_risk_rolls_back_the_whole_run(db) {
    let store = db.open().await;
    let f = finding(RuleId::AccessKeyOld, "u1", Severity::High);
    let err = store
        .save_assessment(t(1), FindingSource::Posture, &[f], &[("u1", risk(250.0))])
        .await;
    assert!(err.is_err());
    assert!(
        store
            .findings(&FindingFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.latest_risks().await.unwrap().is_empty());
}
}

conformance! {
#[tokio::test]
async fn secret_occurrences_are_kept_once_and_listed_by_identity(db) {
    let store = db.open().await;
    let mut occ = SecretOccurrence {
        fingerprint: "fp1".into(),
        rule: "aws-access-key".into(),
        path: "src/config.py".into(),
        commit: Some("abc123".into()),
        line: 12,
        column: 5,
        author: Some("dev@example.com".into()),
        date: Some(t(1)),
        identity: None,
        credential: None,
    };
    store
        .record_secret_occurrences(std::slice::from_ref(&occ))
        .await
        .unwrap();
    assert!(
        store
            .secret_occurrences_for_identity("u1")
            .await
            .unwrap()
            .is_empty()
    );
    // Re-recorded once linked to an identity; the working-tree copy is a second location.
    occ.identity = Some("u1".into());
    occ.credential = Some("AKIA1".into());
    let mut tree = occ.clone();
    tree.commit = None;
    tree.author = None;
    tree.date = None;
    store
        .record_secret_occurrences(&[occ.clone(), tree.clone()])
        .await
        .unwrap();
    let found = store.secret_occurrences_for_identity("u1").await.unwrap();
    assert_eq!(found, vec![tree, occ]);
}
}

fn usage(action: &str, first: u32, last: u32, count: u64, errors: u64) -> UsageRecord {
    UsageRecord {
        identity: "u1".into(),
        credential: Some("AKIA1".into()),
        action: action.into(),
        resource: None,
        first_seen: t(first),
        last_seen: t(last),
        count,
        errors,
    }
}

conformance! {
#[tokio::test]
async fn usage_upsert_sums_counts_and_widens_the_window(db) {
    let store = db.open().await;
    store
        .record_usage(&[
            usage("s3:GetObject", 5, 6, 10, 1),
            usage("s3:AbortUpload", 2, 2, 1, 0),
        ])
        .await
        .unwrap();
    // Same key twice in one batch and once more later: all summed.
    store
        .record_usage(&[
            usage("s3:GetObject", 3, 4, 5, 0),
            usage("s3:GetObject", 7, 9, 2, 2),
        ])
        .await
        .unwrap();
    let all = store.usage_for("u1", None).await.unwrap();
    assert_eq!(all.len(), 2);
    // Most used first, not alphabetical.
    assert_eq!(all[0], usage("s3:GetObject", 3, 9, 17, 3));
    assert_eq!(all[1], usage("s3:AbortUpload", 2, 2, 1, 0));
    let recent = store.usage_for("u1", Some(t(5))).await.unwrap();
    assert_eq!(recent, vec![usage("s3:GetObject", 3, 9, 17, 3)]);
    assert!(store.usage_for("u2", None).await.unwrap().is_empty());
}
}

conformance! {
#[tokio::test]
async fn baselines_and_ingestion_checkpoints(db) {
    let store = db.open().await;
    store.put_baseline("u1", b"\x00\x01v1").await.unwrap();
    store.put_baseline("u1", b"v2").await.unwrap();
    store.put_baseline("u0", b"").await.unwrap();
    assert_eq!(
        store.baselines().await.unwrap(),
        vec![
            ("u0".to_string(), vec![]),
            ("u1".to_string(), b"v2".to_vec())
        ]
    );
    assert_eq!(store.baseline("u1").await.unwrap(), Some(b"v2".to_vec()));
    assert_eq!(store.baseline("u9").await.unwrap(), None);
    let sha = "a".repeat(64);
    assert!(!store.ingested(&sha).await.unwrap());
    let first = IngestedFile {
        path: "logs/1.json.gz",
        sha256: &sha,
        events: 42,
        size: Some(1000),
        modified: Some(t(5)),
    };
    store.mark_ingested(&first, t(1)).await.unwrap();
    assert!(store.ingested(&sha).await.unwrap());
    assert!(store.ingested(&sha.to_uppercase()).await.unwrap());
    // Path, size and modification time must all match for a file to count as unchanged.
    assert!(
        store
            .ingested_unchanged("logs/1.json.gz", 1000, t(5))
            .await
            .unwrap()
    );
    assert!(
        !store
            .ingested_unchanged("logs/1.json.gz", 1001, t(5))
            .await
            .unwrap()
    );
    assert!(
        !store
            .ingested_unchanged("logs/1.json.gz", 1000, t(3))
            .await
            .unwrap()
    );
    assert!(
        !store
            .ingested_unchanged("logs/2.json.gz", 1000, t(5))
            .await
            .unwrap()
    );
    // The same content found again under another name takes the newest name and stamp.
    let copy = IngestedFile {
        path: "logs/copy.json.gz",
        modified: Some(t(2)),
        ..first
    };
    store.mark_ingested(&copy, t(2)).await.unwrap();
    assert!(
        store
            .ingested_unchanged("logs/copy.json.gz", 1000, t(2))
            .await
            .unwrap()
    );
    assert!(
        !store
            .ingested_unchanged("logs/1.json.gz", 1000, t(5))
            .await
            .unwrap()
    );
    // A file without a stamp is remembered by content only.
    let other = "b".repeat(64);
    let unstamped = IngestedFile {
        path: "logs/3.json",
        sha256: &other,
        events: 1,
        size: None,
        modified: None,
    };
    store.mark_ingested(&unstamped, t(4)).await.unwrap();
    assert!(store.ingested(&other).await.unwrap());
    assert!(
        !store
            .ingested_unchanged("logs/3.json", 0, t(4))
            .await
            .unwrap()
    );
}
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    /// However usage arrives (one batch or many), the stored aggregate is the same sum.
    #[test]
    fn usage_aggregate_is_independent_of_batching(
        parts in prop::collection::vec((1u32..28, 0u32..5, 0u64..1000, 0u64..10), 1..12),
        split in 0usize..12,
    ) {
        let records: Vec<UsageRecord> = parts
            .iter()
            .map(|(first, len, count, errors)| {
                usage("iam:PassRole", *first, (*first + *len).min(28), *count + *errors, *errors)
            })
            .collect();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (_dir, store) = store().await;
            let split = split.min(records.len());
            store.record_usage(&records[..split]).await.unwrap();
            store.record_usage(&records[split..]).await.unwrap();
            let got = store.usage_for("u1", None).await.unwrap();
            prop_assert_eq!(got.len(), 1);
            let g = &got[0];
            prop_assert_eq!(g.count, records.iter().map(|r| r.count).sum::<u64>());
            prop_assert_eq!(g.errors, records.iter().map(|r| r.errors).sum::<u64>());
            prop_assert_eq!(g.first_seen, records.iter().map(|r| r.first_seen).min().unwrap());
            prop_assert_eq!(g.last_seen, records.iter().map(|r| r.last_seen).max().unwrap());
            Ok(())
        })?;
    }
}

conformance! {
#[tokio::test]
async fn partial_runs_add_findings_without_resolving_others(db) {
    let store = db.open().await;
    let leak_a = finding(RuleId::LeakedSecret, "role/a", Severity::Critical);
    let leak_b = finding(RuleId::LeakedSecret, "role/b", Severity::Critical);
    store
        .record_findings(t(1), std::slice::from_ref(&leak_a))
        .await
        .unwrap();
    // A scan of another path raises only b: a stays open, because a partial run proves nothing
    // about what it did not look at.
    store
        .record_findings(t(2), std::slice::from_ref(&leak_b))
        .await
        .unwrap();
    store
        .record_findings(t(3), std::slice::from_ref(&leak_b))
        .await
        .unwrap();
    let a = status_of(&store, &leak_a.id).await;
    let b = status_of(&store, &leak_b.id).await;
    assert_eq!(a.status, FindingStatus::Open);
    assert_eq!((b.first_seen, b.last_seen), (t(2), t(3)));
    // A posture run leaves secret findings alone.
    store
        .save_assessment(t(4), FindingSource::Posture, NO_FINDINGS, NO_RISKS)
        .await
        .unwrap();
    assert_eq!(
        store
            .open_findings(FindingSource::Secret)
            .await
            .unwrap()
            .len(),
        2
    );
}
}

conformance! {
#[tokio::test]
async fn a_rescan_forgets_fixed_locations_and_names_secrets_left_nowhere(db) {
    let store = db.open().await;
    let at = |fingerprint: &str, path: &str, commit: Option<&str>, identity: &str| SecretOccurrence {
        fingerprint: fingerprint.into(),
        rule: "aws.secret-access-key".into(),
        path: path.into(),
        commit: commit.map(str::to_string),
        line: 2,
        column: 5,
        author: None,
        date: None,
        identity: Some(identity.into()),
        credential: None,
    };
    store
        .record_secret_occurrences(&[
            at("fp1:a", "repo/src/a.sh", None, "u1"),
            at("fp1:a", "repo/src/b.sh", None, "u1"),
            at("fp1:b", "repo/src/c.sh", None, "u2"),
            at("fp1:b", "repo/src/c.sh", Some("abc123"), "u2"),
            at("fp1:c", "repo/srcx/d.sh", None, "u3"),
            at("fp1:d", "repo/src/big.bin", None, "u4"),
        ])
        .await
        .unwrap();
    // A rescan of repo/src finds fp1:a in b.sh only and skipped big.bin.
    let gone = store
        .prune_secret_occurrences(
            &["repo/src/".to_string()],
            &[at("fp1:a", "repo/src/b.sh", None, "u1")],
            &["repo/src/big.bin".to_string()],
        )
        .await
        .unwrap();
    // fp1:a is still in b.sh; fp1:b is still in history; repo/srcx is another directory.
    assert!(gone.is_empty(), "{gone:?}");
    assert_eq!(store.secret_occurrences_for_identity("u1").await.unwrap().len(), 1);
    assert_eq!(store.secret_occurrences_for_identity("u2").await.unwrap().len(), 1);
    assert_eq!(store.secret_occurrences_for_identity("u3").await.unwrap().len(), 1);
    assert_eq!(store.secret_occurrences_for_identity("u4").await.unwrap().len(), 1);
    // Fixed in b.sh too: fp1:a is nowhere now.
    let gone = store
        .prune_secret_occurrences(&["repo/src/b.sh".to_string()], &[], &[])
        .await
        .unwrap();
    assert_eq!(gone, [("fp1:a".to_string(), "u1".to_string())]);

    // Resolving its finding: open ones resolve, accepted ones stay accepted.
    let open = Finding::new(RuleId::LeakedSecret, "leak", Severity::Critical, "u1", "fp1:a", vec![], "rotate");
    let accepted = Finding::new(RuleId::LeakedSecret, "leak", Severity::Critical, "u2", "fp1:b", vec![], "rotate");
    assert_eq!(open.id, Finding::id_of(RuleId::LeakedSecret, "u1", "fp1:a"));
    store.record_findings(t(3), &[open.clone(), accepted.clone()]).await.unwrap();
    store.set_finding_status(&accepted.id, FindingStatus::Accepted, Some("fixture")).await.unwrap();
    let resolved = store
        .resolve_findings(&[open.id.clone(), accepted.id.clone()], t(5))
        .await
        .unwrap();
    assert_eq!(resolved, 1);
    assert_eq!(status_of(&store, &open.id).await.status, FindingStatus::Resolved);
    assert_eq!(status_of(&store, &accepted.id).await.status, FindingStatus::Accepted);
}
}

conformance! {
/// Issue 12: a leak is one credential's, whatever pieces of it were found: it is fixed when no
/// location of any secret of the credential is left, and a key id left behind keeps nothing.
#[tokio::test]
async fn a_credential_leak_is_gone_when_none_of_its_secrets_is_left(db) {
    let store = db.open().await;
    let at = |fingerprint: &str, path: &str, credential: Option<&str>| SecretOccurrence {
        fingerprint: fingerprint.into(),
        rule: "aws.secret-access-key".into(),
        path: path.into(),
        commit: None,
        line: 2,
        column: 5,
        author: None,
        date: None,
        identity: Some("u1".into()),
        credential: credential.map(str::to_string),
    };
    store
        .record_secret_occurrences(&[
            // The key id names the credential; the secret is in two files.
            at("fp1:keyid", "repo/a.sh", None),
            at("fp1:secret", "repo/a.sh", Some("AKIA1")),
            at("fp1:secret", "repo/b.sh", Some("AKIA1")),
            // A location recorded before schema 11: no credential.
            at("fp1:old", "repo/c.sh", None),
        ])
        .await
        .unwrap();
    // The secret is removed from a.sh; the key id stays there, and b.sh still holds the secret.
    let gone = store
        .prune_secret_occurrences(
            &["repo".to_string()],
            &[
                at("fp1:keyid", "repo/a.sh", None),
                at("fp1:secret", "repo/b.sh", Some("AKIA1")),
                at("fp1:old", "repo/c.sh", None),
            ],
            &[],
        )
        .await
        .unwrap();
    assert!(gone.is_empty(), "{gone:?}");
    // Gone from b.sh too: the credential's leak is fixed though its key id is still in a.sh.
    let gone = store
        .prune_secret_occurrences(
            &["repo".to_string()],
            &[
                at("fp1:keyid", "repo/a.sh", None),
                at("fp1:old", "repo/c.sh", None),
            ],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(gone, [("AKIA1".to_string(), "u1".to_string())]);
    // The location without a credential is fixed by its fingerprint, as before.
    let gone = store
        .prune_secret_occurrences(&["repo/c.sh".to_string()], &[], &[])
        .await
        .unwrap();
    assert_eq!(gone, [("fp1:old".to_string(), "u1".to_string())]);
    let left = store.secret_occurrences_for_identity("u1").await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].fingerprint, "fp1:keyid");
}
}

conformance! {
/// A saved run is current until an input changes: an import that changes records, a new or
/// reopened secret or activity finding, a changed status. Saving a run, re-importing the same
/// records and seeing the same findings again leave it current.
#[tokio::test]
async fn a_saved_run_stays_current_until_an_input_changes(db) {
    let store = db.open().await;
    assert_eq!(store.revision().await.unwrap(), 0);
    assert!(store.last_run(FindingSource::Posture).await.unwrap().is_none());
    let inv = crate::inventory::realistic();
    store.import(&inv, t(1)).await.unwrap();
    let after_import = store.revision().await.unwrap();
    assert!(after_import > 0);
    store.import(&inv, t(2)).await.unwrap();
    assert_eq!(store.revision().await.unwrap(), after_import, "unchanged re-import");

    let posture = finding(RuleId::NoOwner, "u1", Severity::Medium);
    let r = risk(40.0);
    let scored = [warrant_store::ScoredIdentity {
        identity: "u1",
        risk: &r,
        summary: Some(r#"{"name":"u1"}"#),
        facets: None,
    }];
    let run = store
        .save_run(
            t(3),
            FindingSource::Posture,
            Some(after_import),
            &[posture],
            &scored,
            &|_| {},
        )
        .await
        .unwrap();
    assert_eq!(store.revision().await.unwrap(), after_import, "saving is not an input");
    let last = store.last_run(FindingSource::Posture).await.unwrap().unwrap();
    assert_eq!((last.id, last.as_of, last.revision), (run, t(3), Some(after_import)));

    let secret = finding(RuleId::LeakedSecret, "u1", Severity::Critical);
    store.record_findings(t(4), std::slice::from_ref(&secret)).await.unwrap();
    let after_secret = store.revision().await.unwrap();
    assert!(after_secret > after_import, "a new secret finding");
    store.record_findings(t(5), std::slice::from_ref(&secret)).await.unwrap();
    assert_eq!(store.revision().await.unwrap(), after_secret, "the same finding again");
    assert!(
        store
            .set_finding_status(&secret.id, FindingStatus::Accepted, Some("test key"))
            .await
            .unwrap()
    );
    assert!(store.revision().await.unwrap() > after_secret, "a status changed");

    let rows = {
        let mut rows = Vec::new();
        store
            .each_scored_identity(run, 0.0, |row| {
                rows.push(row);
                Ok::<(), warrant_store::StoreError>(())
            })
            .await
            .unwrap();
        rows
    };
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].summary.as_deref(), Some(r#"{"name":"u1"}"#));
    // Open findings now: the posture one (the secret was accepted).
    assert_eq!(rows[0].open_findings, 1);
    let (saved, summary) = store.scored_identity(run, "u1").await.unwrap().unwrap();
    assert_eq!((saved, summary.is_some()), (r, true));
}
}

conformance! {
/// Listings stream most severe first, then by identity, rule and id, and stop at a limit; the
/// filters run in the database.
#[tokio::test]
async fn findings_stream_most_severe_first_and_stop_at_a_limit(db) {
    let store = db.open().await;
    let raised = vec![
        finding(RuleId::NoOwner, "b", Severity::Medium),
        finding(RuleId::LeakedSecret, "z", Severity::Critical),
        finding(RuleId::NoOwner, "a", Severity::Medium),
        finding(RuleId::LeakedSecret, "a", Severity::Critical),
        finding(RuleId::NoOwner, "c", Severity::Low),
    ];
    store
        .save_assessment(t(1), FindingSource::Posture, &raised, NO_RISKS)
        .await
        .unwrap();
    let listed = |filter: FindingFilter, limit: Option<u64>| {
        let store = &store;
        async move {
            let mut out = Vec::new();
            store
                .each_finding(&filter, limit, |f| {
                    out.push((f.finding.severity, f.finding.identity));
                    Ok::<(), warrant_store::StoreError>(())
                })
                .await
                .unwrap();
            out
        }
    };
    let all = listed(FindingFilter::default(), None).await;
    let expected: Vec<(Severity, String)> = vec![
        (Severity::Critical, "a".into()),
        (Severity::Critical, "z".into()),
        (Severity::Medium, "a".into()),
        (Severity::Medium, "b".into()),
        (Severity::Low, "c".into()),
    ];
    assert_eq!(all, expected);
    assert_eq!(listed(FindingFilter::default(), Some(2)).await, expected[..2]);
    let by_rule = FindingFilter {
        rule: Some(RuleId::NoOwner.as_str().into()),
        min_severity: Some(Severity::Medium),
        ..FindingFilter::default()
    };
    assert_eq!(listed(by_rule.clone(), None).await, expected[2..4]);
    assert_eq!(store.count_findings(&by_rule).await.unwrap(), 2);
    let by_owasp = FindingFilter {
        owasp: Some(raised[1].owasp.code().into()),
        ..FindingFilter::default()
    };
    assert_eq!(store.count_findings(&by_owasp).await.unwrap(), 2);

    // Pages continue after a key, in the same order, even once the key's finding is resolved.
    let page = |after: Option<String>, limit: u64| {
        let store = &store;
        async move {
            let (items, more) = store
                .findings_after(&FindingFilter::default(), after.as_deref(), limit)
                .await
                .unwrap()
                .unwrap();
            let ids: Vec<String> = items.iter().map(|f| f.finding.id.clone()).collect();
            (items, ids, more)
        }
    };
    let (first, first_ids, more) = page(None, 2).await;
    assert!(more);
    assert_eq!(
        first
            .iter()
            .map(|f| (f.finding.severity, f.finding.identity.clone()))
            .collect::<Vec<_>>(),
        expected[..2]
    );
    let last_of_first = first_ids[1].clone();
    store
        .set_finding_status(&last_of_first, FindingStatus::Resolved, None)
        .await
        .unwrap();
    let (second, _, more) = page(Some(last_of_first), 2).await;
    assert!(more);
    assert_eq!(
        second
            .iter()
            .map(|f| (f.finding.severity, f.finding.identity.clone()))
            .collect::<Vec<_>>(),
        expected[2..4]
    );
    let (third, _, more) = page(Some(second[1].finding.id.clone()), 2).await;
    assert!(!more);
    assert_eq!(third.len(), 1);
    assert!(
        store
            .findings_after(&FindingFilter::default(), Some("no-such-finding"), 2)
            .await
            .unwrap()
            .is_none()
    );
}
}

conformance! {
/// A saved run's facets filter its pages and counts in the database: exact facets, an owner,
/// a tier (the defaults being no tier), an open finding's OWASP risk, a risk range.
#[tokio::test]
async fn saved_identities_filter_by_their_facets(db) {
    use warrant_store::{
        ScoredFacets, ScoredFilter, ScoredIdentity, ScoredKey, ScoredOrder, ScoredSort, TierFilter,
    };
    let store = db.open().await;
    let risks: Vec<RiskScore> = [90.0, 70.0, 50.0, 30.0].into_iter().map(risk).collect();
    let facet = |provider, kind, owners: &'static str, tier, name| ScoredFacets {
        provider,
        kind,
        environment: "production",
        status: "active",
        account: Some("111122223333"),
        tier,
        owned: !owners.is_empty(),
        owners,
        name,
    };
    let facets = [
        facet("aws", "aws_role", "ana@example.com\nteam-data", Some("Crown-Jewels"), "deploy"),
        facet("aws", "aws_user", "", None, "backup_100%"),
        facet("kubernetes", "k8s_service_account", "", None, "argo"),
        facet("aws", "aws_role", "bo@example.com", None, "ci"),
    ];
    let ids = ["a", "b", "c", "d"];
    let scored: Vec<ScoredIdentity<'_>> = (0..4)
        .map(|i| ScoredIdentity {
            identity: ids[i],
            risk: &risks[i],
            summary: Some("{}"),
            facets: Some(facets[i]),
        })
        .collect();
    let open = finding(RuleId::NoOwner, "b", Severity::Medium);
    let run = store
        .save_run(t(1), FindingSource::Posture, None, std::slice::from_ref(&open), &scored, &|_| {})
        .await
        .unwrap();
    let listed = |filter: ScoredFilter| {
        let store = &store;
        async move {
            let page: Vec<String> = store
                .scored_identity_page(run, &filter, ScoredOrder { by: ScoredSort::Score, descending: true }, None, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.identity)
                .collect();
            assert_eq!(store.count_scored(run, &filter).await.unwrap(), page.len() as u64);
            page
        }
    };
    assert_eq!(listed(ScoredFilter::default()).await, ["a", "b", "c", "d"]);
    let roles = ScoredFilter { kind: Some("aws_role".into()), ..ScoredFilter::default() };
    assert_eq!(listed(roles).await, ["a", "d"]);
    let aws_unowned = ScoredFilter {
        provider: Some("aws".into()),
        owned: Some(false),
        ..ScoredFilter::default()
    };
    assert_eq!(listed(aws_unowned).await, ["b"]);
    let tier = |name: &str, untiered| ScoredFilter {
        tier: Some(TierFilter { name: name.into(), untiered }),
        ..ScoredFilter::default()
    };
    assert_eq!(listed(tier("crown-jewels", false)).await, ["a"]);
    assert_eq!(listed(tier("defaults", true)).await, ["b", "c", "d"]);
    let owasp = ScoredFilter { owasp: Some(open.owasp.code().into()), ..ScoredFilter::default() };
    assert_eq!(listed(owasp).await, ["b"]);
    let band = ScoredFilter { min_score: 40.0, max_score: Some(80.0), ..ScoredFilter::default() };
    assert_eq!(listed(band).await, ["b", "c"]);
    let elsewhere = ScoredFilter { account: Some("999".into()), ..ScoredFilter::default() };
    assert!(listed(elsewhere).await.is_empty());
    // Search in ids and names, owners by substring within one owner; LIKE's characters are
    // plain characters.
    let search = |q: &str| ScoredFilter { search: Some(q.into()), ..ScoredFilter::default() };
    assert_eq!(listed(search("ARGO")).await, ["c"]);
    assert_eq!(listed(search("100%")).await, ["b"]);
    assert_eq!(listed(search("_")).await, ["b"]);
    assert_eq!(listed(search("a")).await, ["a", "b", "c"], "an id or a name holds an a");
    let owner = |o: &str| ScoredFilter { owner: Some(o.into()), ..ScoredFilter::default() };
    assert_eq!(listed(owner("TEAM-data")).await, ["a"]);
    assert_eq!(listed(owner("@example.com")).await, ["a", "d"]);
    assert!(listed(owner("com\nteam")).await.is_empty(), "not across two owners");
    // A page continues after a key within the filter, in either order, by score or name.
    let roles = ScoredFilter { kind: Some("aws_role".into()), ..ScoredFilter::default() };
    let page = |order: ScoredOrder, after: Option<(ScoredKey, &'static str)>| {
        let (store, roles) = (&store, &roles);
        async move {
            store
                .scored_identity_page(run, roles, order, after.as_ref().map(|(k, id)| (k, *id)), 10)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.identity)
                .collect::<Vec<_>>()
        }
    };
    let by = |by, descending| ScoredOrder { by, descending };
    assert_eq!(page(by(ScoredSort::Score, true), Some((ScoredKey::Score(90.0), "a"))).await, ["d"]);
    assert_eq!(page(by(ScoredSort::Score, false), None).await, ["d", "a"]);
    assert_eq!(page(by(ScoredSort::Name, false), None).await, ["d", "a"], "ci before deploy");
    assert_eq!(page(by(ScoredSort::Name, true), None).await, ["a", "d"]);
    assert_eq!(page(by(ScoredSort::Name, false), Some((ScoredKey::Name("ci".into()), "d"))).await, ["a"]);
    assert!(
        store
            .scored_identity_page(run, &roles, by(ScoredSort::Name, false), Some((&ScoredKey::Score(1.0), "a")), 10)
            .await
            .is_err(),
        "a key of another order"
    );
}
}

fn excepted(mut f: Finding, id: &str) -> Finding {
    f.exception = Some(warrant_core::ExceptionRef {
        id: id.into(),
        owner: "alice@example.com".into(),
        expires: t(20),
        reason: "vendor migration".into(),
    });
    f
}

conformance! {
/// A finding an exception covers is stored accepted with a note naming the exception, reopens
/// when no exception covers it, and follows a renewed exception; an acceptance made by hand is
/// never reopened by a run. Other engines' findings follow through `apply_exceptions`.
#[tokio::test]
async fn exceptions_accept_and_reopen_findings_but_never_a_hand_acceptance(db) {
    let store = db.open().await;
    let old_key = finding(RuleId::AccessKeyOld, "u1", Severity::High);
    let no_owner = finding(RuleId::NoOwner, "u2", Severity::Medium);
    let leak = finding(RuleId::LeakedSecret, "u1", Severity::Critical);
    store.save_assessment(t(1), FindingSource::Secret, std::slice::from_ref(&leak), NO_RISKS).await.unwrap();
    store
        .save_assessment(t(1), FindingSource::Posture, &[excepted(old_key.clone(), "exc-0000000000000001"), no_owner.clone()], NO_RISKS)
        .await
        .unwrap();
    let k = status_of(&store, &old_key.id).await;
    assert_eq!(k.status, FindingStatus::Accepted);
    assert!(k.note.as_deref().unwrap().starts_with("exception exc-0000000000000001 until 2026-04-20"), "{:?}", k.note);
    // By hand: no-owner accepted; a later run leaves it accepted whatever exceptions say.
    store.set_finding_status(&no_owner.id, FindingStatus::Accepted, Some("known vendor")).await.unwrap();

    // A renewed exception replaces the note; the finding stays accepted.
    store
        .save_assessment(t(2), FindingSource::Posture, &[excepted(old_key.clone(), "exc-0000000000000002"), no_owner.clone()], NO_RISKS)
        .await
        .unwrap();
    let k = status_of(&store, &old_key.id).await;
    assert_eq!(k.status, FindingStatus::Accepted);
    assert!(k.note.as_deref().unwrap().contains("exc-0000000000000002"));

    // Expired: raised without an exception, it is open again; the hand acceptance stays.
    store
        .save_assessment(t(3), FindingSource::Posture, &[old_key.clone(), no_owner.clone()], NO_RISKS)
        .await
        .unwrap();
    let k = status_of(&store, &old_key.id).await;
    assert_eq!((k.status, k.note), (FindingStatus::Open, None));
    let o = status_of(&store, &no_owner.id).await;
    assert_eq!((o.status, o.note.as_deref()), (FindingStatus::Accepted, Some("known vendor")));

    // Other engines' findings.
    assert_eq!(store.apply_exceptions(&[excepted(leak.clone(), "exc-0000000000000003")]).await.unwrap(), 1);
    assert_eq!(status_of(&store, &leak.id).await.status, FindingStatus::Accepted);
    assert_eq!(store.apply_exceptions(&[excepted(leak.clone(), "exc-0000000000000003")]).await.unwrap(), 0, "nothing to change");
    assert_eq!(store.apply_exceptions(std::slice::from_ref(&leak)).await.unwrap(), 1);
    assert_eq!(status_of(&store, &leak.id).await.status, FindingStatus::Open);
}
}
