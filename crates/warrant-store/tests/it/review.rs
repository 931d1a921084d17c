//! Access-review campaigns: items written once with the campaign, decisions only appended,
//! closing with pending items expired, everything audited and nothing raising the revision.
#![allow(clippy::unwrap_used)]

use chrono::{NaiveDate, TimeZone, Utc};
use warrant_core::Timestamp;
use warrant_store::{CampaignRow, CloseOutcome, ReviewDecisionRow, ReviewItemRow, StoreError};

fn t(day: u32) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 12, day, 9, 0, 0)
        .single()
        .unwrap()
}

fn campaign(id: &str) -> CampaignRow {
    CampaignRow {
        id: id.into(),
        scope: "tier=prod".into(),
        due: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        fallback_reviewer: Some("secops@example.com".into()),
        usage_since: t(1) - chrono::Duration::days(90),
        basis: "saved assessment as of 2026-12-01".into(),
        started_by: "lead@example.com".into(),
        started_at: t(1),
        closed_by: None,
        closed_at: None,
    }
}

fn item(n: i64) -> ReviewItemRow {
    ReviewItemRow {
        campaign: String::new(),
        item: n,
        identity: format!("arn:aws:iam::111122223333:user/svc-{n}"),
        name: format!("svc-{n}"),
        reviewer: "ana@example.com".into(),
        assigned: "owner (tag:owner)".into(),
        evidence: format!(r#"{{"risk":{n}}}"#),
    }
}

fn decision(
    campaign: &str,
    item: i64,
    decision: &str,
    supersedes: Option<i64>,
) -> ReviewDecisionRow {
    ReviewDecisionRow {
        seq: 0,
        campaign: campaign.into(),
        item,
        decision: decision.into(),
        reason: Some("still needed".into()),
        decided_by: "ana@example.com".into(),
        authority: "assigned".into(),
        at: t(2),
        plan: None,
        plan_error: None,
        supersedes,
    }
}

conformance! {
/// A campaign opens once with all its items; decisions are appended only against the latest
/// one the decider saw (a stale or duplicate decision is refused, a correction names what it
/// supersedes); closing is refused while items are pending unless they expire, which records
/// one `expired` decision each. Every write is audited; none raises the revision.
#[tokio::test]
async fn campaigns_items_and_decisions_are_appended_and_audited(db) {
    let store = db.open().await;
    let revision = store.revision().await.unwrap();
    let items: Vec<ReviewItemRow> = (1..=3).map(item).collect();
    assert!(store.start_review(&campaign("2026-Q4"), &items).await.unwrap());
    assert!(!store.start_review(&campaign("2026-Q4"), &items).await.unwrap(), "once");
    assert!(store.start_review(&campaign("2027-Q1"), &[]).await.unwrap());

    assert_eq!(store.review_campaign("2026-Q4").await.unwrap(), Some(campaign("2026-Q4")));
    assert_eq!(store.review_campaign("none").await.unwrap(), None);
    let stored = store.review_items("2026-Q4").await.unwrap();
    assert_eq!(stored.len(), 3);
    assert_eq!(stored[1], ReviewItemRow { campaign: "2026-Q4".into(), ..item(2) });
    assert_eq!(store.review_item("2026-Q4", 3).await.unwrap().unwrap().name, "svc-3");
    assert_eq!(store.review_item("2026-Q4", 4).await.unwrap(), None);

    let first = store.record_review_decision(&decision("2026-Q4", 1, "keep", None)).await.unwrap();
    // Someone else decided item 1 meanwhile: refused, nothing written.
    let twice = store.record_review_decision(&decision("2026-Q4", 1, "rotate", None)).await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    let mut correction = decision("2026-Q4", 1, "rotate", Some(first));
    correction.plan = Some("plan-0123456789abcdef".into());
    let second = store.record_review_decision(&correction).await.unwrap();
    assert!(second > first);
    let missing = store.record_review_decision(&decision("2026-Q4", 9, "keep", None)).await;
    assert!(matches!(missing, Err(StoreError::Conflict(_))), "{missing:?}");
    let mut failed = decision("2026-Q4", 2, "rightsize", None);
    failed.plan_error = Some("no use recorded".into());
    failed.authority = "escalated".into();
    failed.decided_by = "secops@example.com".into();
    store.record_review_decision(&failed).await.unwrap();

    let listed = store.review_campaigns().await.unwrap();
    let counts: Vec<(&str, u64, u64)> = listed
        .iter()
        .map(|c| (c.campaign.id.as_str(), c.items, c.decided))
        .collect();
    assert_eq!(counts, [("2026-Q4", 3, 2), ("2027-Q1", 0, 0)]);

    assert_eq!(
        store.close_review("2026-Q4", "lead@example.com", t(3), false, "pending at close").await.unwrap(),
        CloseOutcome::Pending(1)
    );
    assert_eq!(store.review_campaign("2026-Q4").await.unwrap().unwrap().closed_at, None);
    assert_eq!(
        store.close_review("2026-Q4", "lead@example.com", t(3), true, "pending at close").await.unwrap(),
        CloseOutcome::Closed { expired: 1 }
    );
    assert_eq!(
        store.close_review("2026-Q4", "lead@example.com", t(4), true, "x").await.unwrap(),
        CloseOutcome::AlreadyClosed
    );
    assert_eq!(
        store.close_review("none", "lead@example.com", t(4), true, "x").await.unwrap(),
        CloseOutcome::NotFound
    );
    assert_eq!(
        store.close_review("2027-Q1", "lead@example.com", t(4), false, "x").await.unwrap(),
        CloseOutcome::Closed { expired: 0 }
    );
    let closed = store.record_review_decision(&decision("2026-Q4", 3, "keep", Some(0))).await;
    assert!(matches!(closed, Err(StoreError::Conflict(_))), "{closed:?}");

    // Each reviewed identity's latest decision with the evidence its reviewer saw; an item
    // expired at close is no review.
    let last = store.last_reviews().await.unwrap();
    let seen: Vec<(&str, &str, &str)> = last
        .iter()
        .map(|l| (l.identity.as_str(), l.campaign.as_str(), l.evidence.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("arn:aws:iam::111122223333:user/svc-1", "2026-Q4", r#"{"risk":1}"#),
            ("arn:aws:iam::111122223333:user/svc-2", "2026-Q4", r#"{"risk":2}"#),
        ]
    );
    assert_eq!(last[0].at, t(2));

    let decisions = store.review_decisions("2026-Q4").await.unwrap();
    let summary: Vec<(i64, &str, Option<i64>, &str)> = decisions
        .iter()
        .map(|d| (d.item, d.decision.as_str(), d.supersedes, d.authority.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (1, "keep", None, "assigned"),
            (1, "rotate", Some(first), "assigned"),
            (2, "rightsize", None, "escalated"),
            (3, "expired", None, "close"),
        ]
    );
    assert_eq!(decisions[1].plan.as_deref(), Some("plan-0123456789abcdef"));
    assert_eq!(decisions[2].plan_error.as_deref(), Some("no use recorded"));
    assert_eq!((decisions[3].decided_by.as_str(), decisions[3].at), ("lead@example.com", t(3)));
    assert_eq!(decisions[3].reason.as_deref(), Some("pending at close"));
    let closed = store.review_campaign("2026-Q4").await.unwrap().unwrap();
    assert_eq!((closed.closed_by.as_deref(), closed.closed_at), (Some("lead@example.com"), Some(t(3))));

    let audit = store.audit_log().await.unwrap();
    let trail: Vec<(&str, &str)> = audit.iter().map(|e| (e.action.as_str(), e.subject.as_str())).collect();
    assert_eq!(
        trail,
        [
            ("review.start", "2026-Q4"),
            ("review.start", "2027-Q1"),
            ("review.decide", "2026-Q4#1"),
            ("review.decide", "2026-Q4#1"),
            ("review.decide", "2026-Q4#2"),
            ("review.expire", "2026-Q4#3"),
            ("review.close", "2026-Q4"),
            ("review.close", "2027-Q1"),
        ]
    );
    let start: serde_json::Value = serde_json::from_str(audit[0].after.as_deref().unwrap()).unwrap();
    assert_eq!(start["items"], 3);
    let correction: serde_json::Value = serde_json::from_str(audit[3].before.as_deref().unwrap()).unwrap();
    assert_eq!(correction["decision"], "keep", "a correction records what it replaced");
    assert_eq!(store.revision().await.unwrap(), revision, "reviews are not inputs of an assessment");
}
}

conformance! {
/// Ten thousand items open in one go (chunked under the bind limit) and all expire at close.
#[tokio::test]
async fn large_campaigns_open_and_close_in_one_transaction_each(db) {
    let store = db.open().await;
    let items: Vec<ReviewItemRow> = (1..=10_000).map(item).collect();
    assert!(store.start_review(&campaign("big"), &items).await.unwrap());
    assert_eq!(store.review_items("big").await.unwrap().len(), 10_000);
    // A page reads from a key: item numbers above the cursor, optionally one assignee's.
    let page: Vec<i64> = store.review_items_after("big", None, 9_997, 10).await.unwrap().iter().map(|i| i.item).collect();
    assert_eq!(page, [9_998, 9_999, 10_000]);
    assert_eq!(store.review_items_after("big", Some("ANA@example.com"), 0, 2).await.unwrap().len(), 2, "case aside");
    assert!(store.review_items_after("big", Some("bo@example.com"), 0, 2).await.unwrap().is_empty());
    assert_eq!(
        store.close_review("big", "lead@example.com", t(3), true, "pending").await.unwrap(),
        CloseOutcome::Closed { expired: 10_000 }
    );
    let audit = store.audit_log().await.unwrap();
    assert_eq!(audit.iter().filter(|e| e.action == "review.expire").count(), 10_000);
    assert_eq!(audit.last().unwrap().action, "review.close");
}
}
