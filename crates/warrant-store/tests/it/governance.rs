//! Exceptions and the audit trail.
#![allow(clippy::unwrap_used)]

use chrono::{TimeZone, Utc};
use warrant_core::Timestamp;
use warrant_store::ExceptionRow;

fn t(day: u32) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 12, day, 9, 0, 0)
        .single()
        .unwrap()
}

fn row(id: &str, expires: u32) -> ExceptionRow {
    ExceptionRow {
        id: id.into(),
        owner: "alice@example.com".into(),
        expires: t(expires),
        created: t(1),
        data: format!(r#"{{"id":"{id}"}}"#),
        removed_at: None,
        removed_by: None,
    }
}

conformance! {
/// Granting is idempotent, withdrawing marks and never deletes, and each change (only a real
/// one) appends one audit row with who, when and the state before and after.
#[tokio::test]
async fn exceptions_are_granted_once_withdrawn_by_mark_and_audited(db) {
    let store = db.open().await;
    let start = store.revision().await.unwrap();
    assert!(store.grant_exception(&row("exc-b", 20), "bob@example.com", t(1)).await.unwrap());
    assert!(store.grant_exception(&row("exc-a", 10), "bob@example.com", t(1)).await.unwrap());
    let granted = store.revision().await.unwrap();
    assert!(granted > start);
    assert!(!store.grant_exception(&row("exc-a", 10), "bob@example.com", t(2)).await.unwrap());
    assert_eq!(store.revision().await.unwrap(), granted, "nothing changed");

    let listed = store.exceptions().await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["exc-a", "exc-b"], "soonest to expire first");
    assert_eq!(listed[0], row("exc-a", 10));

    assert!(store.withdraw_exception("exc-a", "carol@example.com", t(3)).await.unwrap());
    assert!(!store.withdraw_exception("exc-a", "carol@example.com", t(4)).await.unwrap());
    assert!(!store.withdraw_exception("exc-none", "carol@example.com", t(4)).await.unwrap());
    let withdrawn = &store.exceptions().await.unwrap()[0];
    assert_eq!(withdrawn.removed_at, Some(t(3)));
    assert_eq!(withdrawn.removed_by.as_deref(), Some("carol@example.com"));

    let audit = store.audit_log().await.unwrap();
    let summary: Vec<(&str, &str, &str)> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.subject.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("exception.grant", "exc-b", "bob@example.com"),
            ("exception.grant", "exc-a", "bob@example.com"),
            ("exception.withdraw", "exc-a", "carol@example.com"),
        ]
    );
    assert!(audit.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(audit[2].at, t(3));
    assert_eq!(audit[2].before.as_deref(), Some(r#"{"id":"exc-a"}"#));
    assert_eq!((audit[0].before.as_deref(), audit[0].after.as_deref()), (None, Some(r#"{"id":"exc-b"}"#)));
}
}
