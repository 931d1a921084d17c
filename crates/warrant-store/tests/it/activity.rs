//! Exactly-once application of activity events: ledger, usage, last use, counts, pruning.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;
use warrant_core::*;
use warrant_store::{ActivityWrites, AppliedEvent, ApplyOutcome, LedgerKey, Store};

const USER: &str = "arn:aws:iam::111122223333:user/ci-bot";
const KEY: &str = "AKIAEXAMPLEEXAMPLE01";

fn t(hour: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).single().unwrap() + Duration::hours(hour)
}

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("w.db")).await.unwrap();
    (dir, store)
}

/// One ci-bot user with one access key, so last-use updates have rows to raise.
async fn with_inventory(store: &Store) {
    let mut inv = Inventory::default();
    let mut user = Identity::new(USER, IdentityKind::AwsUser, Provider::Aws, "ci-bot");
    user.account = Some("111122223333".into());
    user.provenance = Provenance {
        source: "aws-authorization-details".into(),
        location: Some("/exports/auth.json".into()),
    };
    inv.identities.push(user);
    let mut key = Credential::new(KEY, USER, CredentialKind::AccessKey);
    key.provenance = Provenance {
        source: "aws-authorization-details".into(),
        location: Some("/exports/auth.json".into()),
    };
    inv.credentials.push(key);
    store.import(&inv, t(0)).await.unwrap();
}

fn event(id: &str, hour: i64, identity: Option<&str>, action: &str, failed: bool) -> AppliedEvent {
    AppliedEvent {
        event_id: id.into(),
        log: "cloud_trail".into(),
        time: t(hour),
        identity: identity.map(String::from),
        credential: identity.map(|_| KEY.to_string()),
        usage: identity
            .map(|identity| UsageRecord {
                identity: identity.into(),
                credential: Some(KEY.into()),
                action: action.into(),
                resource: None,
                first_seen: t(hour),
                last_seen: t(hour),
                count: 1,
                errors: u64::from(failed),
            })
            .into_iter()
            .collect(),
    }
}

fn batch() -> Vec<AppliedEvent> {
    vec![
        event("e1", 3, Some(USER), "s3:GetObject", false),
        event("e2", 5, Some(USER), "s3:GetObject", true),
        event("e3", 4, Some(USER), "s3:PutObject", false),
        event("e4", 6, None, "", false),
    ]
}

/// Everything `apply_events` may change, to compare before and after a repeat.
async fn snapshot(store: &Store) -> String {
    let usage = store.usage_for(USER, None).await.unwrap();
    let counts = store.activity_counts().await.unwrap();
    let ids = store.activity_seen_ids("cloud_trail").await.unwrap();
    let stored = store.identity(USER).await.unwrap().unwrap();
    format!(
        "{usage:?}\n{counts:?}\n{ids:?}\n{:?}\n{:?}",
        stored.identity.last_used, stored.credentials[0].record.last_used
    )
}

conformance! {
#[tokio::test]
async fn applying_the_same_batch_twice_changes_nothing_the_second_time(db) {
    let store = db.open().await;
    with_inventory(&store).await;

    let first = store.apply_events(&batch()).await.unwrap();
    assert_eq!(
        first,
        ApplyOutcome {
            applied: 4,
            duplicates: 0,
            expired: 0,
            rejected: 0,
            applied_indices: vec![0, 1, 2, 3],
        }
    );
    let after_first = snapshot(&store).await;

    let usage = store.usage_for(USER, None).await.unwrap();
    let get = usage.iter().find(|u| u.action == "s3:GetObject").unwrap();
    assert_eq!((get.count, get.errors), (2, 1));
    assert_eq!((get.first_seen, get.last_seen), (t(3), t(5)));
    let put = usage.iter().find(|u| u.action == "s3:PutObject").unwrap();
    assert_eq!(put.count, 1);
    let stored = store.identity(USER).await.unwrap().unwrap();
    assert_eq!(stored.identity.last_used, Some(t(5)));
    assert_eq!(stored.credentials[0].record.last_used, Some(t(5)));
    let counts = store.activity_counts().await.unwrap();
    assert_eq!(counts.len(), 2);
    assert_eq!((counts[0].identity.as_deref(), counts[0].events), (None, 1));
    assert_eq!(
        (counts[1].identity.as_deref(), counts[1].events),
        (Some(USER), 3)
    );
    assert_eq!((counts[1].first_event, counts[1].last_event), (t(3), t(5)));

    let second = store.apply_events(&batch()).await.unwrap();
    assert_eq!(
        second,
        ApplyOutcome {
            applied: 0,
            duplicates: 4,
            expired: 0,
            rejected: 0,
            applied_indices: vec![],
        }
    );
    assert_eq!(snapshot(&store).await, after_first);
}
}

conformance! {
#[tokio::test]
async fn repeats_within_a_batch_and_across_log_kinds(db) {
    let store = db.open().await;
    let mut b = vec![
        event("x", 1, Some(USER), "s3:GetObject", false),
        event("x", 1, Some(USER), "s3:GetObject", false),
    ];
    // The same id in another log kind is another event.
    let mut other = event("x", 1, Some(USER), "s3:GetObject", false);
    other.log = "kubernetes_audit".into();
    b.push(other);
    let outcome = store.apply_events(&b).await.unwrap();
    assert_eq!((outcome.applied, outcome.duplicates), (2, 1));
    assert_eq!(outcome.applied_indices, vec![0, 2]);
    assert_eq!(store.usage_for(USER, None).await.unwrap()[0].count, 2);
}
}

conformance! {
#[tokio::test]
async fn a_malformed_event_is_refused_and_the_rest_applied(db) {
    let store = db.open().await;
    let mut bad_usage = event("bad", 1, Some(USER), "s3:GetObject", false);
    bad_usage.usage[0].errors = 5;
    let mut no_id = event("", 1, Some(USER), "s3:GetObject", false);
    no_id.event_id.clear();
    let good = event("good", 2, Some(USER), "s3:GetObject", false);
    let outcome = store.apply_events(&[bad_usage, no_id, good]).await.unwrap();
    assert_eq!((outcome.applied, outcome.rejected), (1, 2));
    assert_eq!(outcome.applied_indices, vec![2]);
    assert_eq!(
        store.activity_seen_ids("cloud_trail").await.unwrap(),
        vec!["good".to_string()]
    );
    // Refused events are not in the ledger: once fixed, they apply.
    let mut fixed = event("bad", 1, Some(USER), "s3:GetObject", false);
    fixed.usage[0].errors = 1;
    assert_eq!(store.apply_events(&[fixed]).await.unwrap().applied, 1);
}
}

conformance! {
#[tokio::test]
async fn pruning_forgets_old_ids_and_refuses_events_before_the_cutoff(db) {
    let store = db.open().await;
    let events: Vec<_> = (0..10)
        .map(|h| event(&format!("e{h}"), h, Some(USER), "s3:GetObject", false))
        .collect();
    store.apply_events(&events).await.unwrap();
    assert_eq!(store.prune_seen_before(t(4)).await.unwrap(), 4);
    assert_eq!(
        store.activity_seen_ids("cloud_trail").await.unwrap().len(),
        6
    );
    // A pruned event comes back: refused, not applied a second time.
    let again = store.apply_events(&events).await.unwrap();
    assert_eq!((again.applied, again.duplicates, again.expired), (0, 6, 4));
    assert_eq!(store.usage_for(USER, None).await.unwrap()[0].count, 10);
    // Counts survive pruning.
    assert_eq!(store.activity_counts().await.unwrap()[0].events, 10);
    // An earlier cut-off does not readmit anything.
    store.prune_seen_before(t(1)).await.unwrap();
    let late = event("late", 2, Some(USER), "s3:GetObject", false);
    assert_eq!(store.apply_events(&[late]).await.unwrap().expired, 1);
}
}

conformance! {
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appliers_of_overlapping_batches_apply_each_event_once(db) {
    let first = db.open().await;
    // A second handle is a second pool of connections: like another consumer process.
    let second = db.open().await;
    let events: Vec<_> = (0..400)
        .map(|i| event(&format!("e{i}"), i % 24, Some(USER), "s3:GetObject", false))
        .collect();
    let (a, b) = tokio::join!(
        async {
            let mut total = ApplyOutcome::default();
            for chunk in events.chunks(50) {
                let o = first.apply_events(chunk).await.unwrap();
                total.applied += o.applied;
                total.duplicates += o.duplicates;
            }
            total
        },
        async {
            let mut total = ApplyOutcome::default();
            for chunk in events.rchunks(70) {
                let o = second.apply_events(chunk).await.unwrap();
                total.applied += o.applied;
                total.duplicates += o.duplicates;
            }
            total
        }
    );
    assert_eq!(a.applied + b.applied, 400);
    assert_eq!(a.duplicates + b.duplicates, 400);
    assert_eq!(first.usage_for(USER, None).await.unwrap()[0].count, 400);
}
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// However a stream of events is split into batches and redelivered, the result equals
    /// applying each distinct event once.
    #[test]
    fn any_redelivery_pattern_counts_each_event_once(
        picks in prop::collection::vec((0usize..30, 0usize..3, any::<bool>()), 1..80),
        batch_len in 1usize..12,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let (_dir, store) = store().await;
            let actions = ["s3:GetObject", "s3:PutObject", "iam:ListUsers"];
            let events: Vec<_> = picks
                .iter()
                .map(|(id, action, failed)| {
                    event(&format!("e{id}"), (*id % 24) as i64, Some(USER), actions[*action % 3], *failed)
                })
                .collect();
            // Distinct events: the first occurrence of each id wins.
            let mut expected = std::collections::BTreeMap::new();
            for e in &events {
                expected.entry(e.event_id.clone()).or_insert_with(|| e.clone());
            }
            let mut applied = 0;
            for chunk in events.chunks(batch_len) {
                applied += store.apply_events(chunk).await.unwrap().applied;
            }
            prop_assert_eq!(applied, expected.len() as u64);
            let total: u64 = store.usage_for(USER, None).await.unwrap().iter().map(|u| u.count).sum();
            prop_assert_eq!(total, expected.len() as u64);
            let errors: u64 = store.usage_for(USER, None).await.unwrap().iter().map(|u| u.errors).sum();
            let expected_errors: u64 = expected.values().map(|e| e.usage[0].errors).sum();
            prop_assert_eq!(errors, expected_errors);
            Ok(())
        })?;
    }
}

fn ledger_key(id: &str, hour: i64) -> LedgerKey {
    LedgerKey {
        event_id: id.into(),
        log: "cloud_trail".into(),
        time: t(hour),
        identity: Some(USER.into()),
    }
}

/// What a plan writes for the admitted events: one usage row each, a last-use raise, a
/// baseline extended with the event ids and one alert.
fn writes_for(
    keys: &[LedgerKey],
    outcome: &ApplyOutcome,
    stored: Vec<(String, Vec<u8>)>,
) -> ActivityWrites {
    let admitted: Vec<&LedgerKey> = outcome.applied_indices.iter().map(|&i| &keys[i]).collect();
    let mut baseline = stored
        .into_iter()
        .find(|(id, _)| id == USER)
        .map(|(_, data)| data)
        .unwrap_or_default();
    for key in &admitted {
        baseline.extend_from_slice(key.event_id.as_bytes());
    }
    let alert = Finding::new(
        RuleId::ActivityShadowIdentity,
        "seen",
        Severity::High,
        USER,
        "",
        Vec::new(),
        "look",
    );
    ActivityWrites {
        usage: admitted
            .iter()
            .map(|key| UsageRecord {
                identity: USER.into(),
                credential: None,
                action: "s3:GetObject".into(),
                resource: None,
                first_seen: key.time,
                last_seen: key.time,
                count: 1,
                errors: 0,
            })
            .collect(),
        last_used: admitted
            .iter()
            .map(|key| (USER.to_string(), Some(KEY.to_string()), key.time))
            .collect(),
        baselines: vec![(USER.to_string(), baseline)],
        findings: if admitted.is_empty() {
            Vec::new()
        } else {
            vec![alert]
        },
        owner_evidence: Vec::new(),
    }
}

conformance! {
#[tokio::test]
async fn record_activity_plans_only_new_events_and_commits_them_with_the_ledger(db) {
    let store = db.open().await;
    with_inventory(&store).await;
    let keys = vec![ledger_key("a", 1), ledger_key("b", 2), ledger_key("a", 1)];
    let (first, seen) = store
        .record_activity(&keys, &[USER], t(10), |outcome, stored| {
            (writes_for(&keys, outcome, stored.clone()), stored)
        })
        .await
        .unwrap();
    assert_eq!((first.applied, first.duplicates), (2, 1));
    assert_eq!(first.applied_indices, vec![0, 1]);
    assert!(seen.is_empty(), "no baseline stored yet");
    let usage = store.usage_for(USER, None).await.unwrap();
    assert_eq!(usage.len(), 1);
    assert_eq!(usage[0].count, 2);
    assert_eq!(store.baselines().await.unwrap(), vec![(USER.to_string(), b"ab".to_vec())]);
    assert_eq!(store.open_findings(FindingSource::Activity).await.unwrap().len(), 1);
    let counts = store.activity_counts().await.unwrap();
    assert_eq!(counts[0].events, 2);
    let identity = store.identity(USER).await.unwrap().unwrap();
    assert_eq!(identity.identity.last_used, Some(t(2)));

    // Redelivery with one new event: the plan sees only it, and the stored baseline.
    let again = vec![ledger_key("b", 2), ledger_key("c", 3)];
    let (second, seen) = store
        .record_activity(&again, &[USER], t(11), |outcome, stored| {
            (writes_for(&again, outcome, stored.clone()), stored)
        })
        .await
        .unwrap();
    assert_eq!((second.applied, second.duplicates), (1, 1));
    assert_eq!(second.applied_indices, vec![1]);
    assert_eq!(seen, vec![(USER.to_string(), b"ab".to_vec())]);
    assert_eq!(store.usage_for(USER, None).await.unwrap()[0].count, 3);
    assert_eq!(store.baselines().await.unwrap(), vec![(USER.to_string(), b"abc".to_vec())]);
    assert_eq!(store.activity_seen_ids("cloud_trail").await.unwrap(), ["a", "b", "c"]);

    // Without ledger keys (file ingestion) the plan alone decides.
    let (none, ()) = store
        .record_activity(&[], &[USER], t(12), |outcome, _| {
            assert_eq!(outcome.applied, 0);
            (ActivityWrites::default(), ())
        })
        .await
        .unwrap();
    assert_eq!(none, ApplyOutcome::default());
}
}
