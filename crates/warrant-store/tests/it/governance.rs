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
    // Pages from a key; "in force" leaves out the withdrawn and the expired.
    let ids = |rows: Option<Vec<warrant_store::ExceptionRow>>| rows.unwrap().into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(store.exceptions_after(None, None, 1).await.unwrap()), ["exc-a"]);
    assert_eq!(ids(store.exceptions_after(None, Some("exc-a"), 5).await.unwrap()), ["exc-b"]);
    assert_eq!(ids(store.exceptions_after(Some(&t(5)), None, 5).await.unwrap()), ["exc-b"]);
    assert!(ids(store.exceptions_after(Some(&t(20)), None, 5).await.unwrap()).is_empty(), "expired at 20");
    assert!(store.exceptions_after(None, Some("exc-none"), 5).await.unwrap().is_none());

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

fn plan(id: &str, created: u32) -> warrant_store::PlanRow {
    warrant_store::PlanRow {
        id: id.into(),
        identity: "arn:aws:iam::123456789012:user/ci".into(),
        action: "rotate-key".into(),
        requested_by: "alice@example.com".into(),
        created: t(created),
        required_approvals: 1,
        data: format!(r#"{{"id":"{id}"}}"#),
    }
}

fn record(plan: &str, step: i64, state: &str) -> warrant_store::JournalRow {
    warrant_store::JournalRow {
        seq: 0,
        plan: plan.into(),
        step,
        direction: "apply".into(),
        state: state.into(),
        at: t(3),
        actor: "bob@example.com".into(),
        output: (state == "done").then(|| r#"{"access_key_id":"AKIAEXAMPLE"}"#.to_string()),
        error: None,
    }
}

conformance! {
/// Plans are stored once (their id is their content), found by prefix, and decided and applied
/// only by appending; a journal append made against a stale end is refused, so two applies of
/// one plan cannot interleave. Every write is audited and none changes the store's revision.
#[tokio::test]
async fn plans_decisions_and_journals_are_appended_and_audited(db) {
    let store = db.open().await;
    let revision = store.revision().await.unwrap();
    assert!(store.save_plan(&plan("plan-aaaa000000000001", 1)).await.unwrap());
    assert!(store.save_plan(&plan("plan-bbbb000000000002", 2)).await.unwrap());
    assert!(!store.save_plan(&plan("plan-aaaa000000000001", 1)).await.unwrap());
    let ids: Vec<String> = store.plans().await.unwrap().into_iter().map(|p| p.id).collect();
    assert_eq!(ids, ["plan-bbbb000000000002", "plan-aaaa000000000001"], "newest first");
    assert_eq!(store.plan("plan-aaaa000000000001").await.unwrap(), Some(plan("plan-aaaa000000000001", 1)));
    assert_eq!(store.plans_with_prefix("plan-aa").await.unwrap().len(), 1);
    assert_eq!(store.plans_with_prefix("plan-%").await.unwrap().len(), 2, "wildcards are not patterns");
    // Pages continue after a key in the same order; plans of one instant go by id.
    assert!(store.save_plan(&plan("plan-cccc000000000003", 2)).await.unwrap());
    let page = |after: Option<&'static str>, limit: u64| {
        let store = &store;
        async move {
            store.plans_after(None, after, limit).await.unwrap().unwrap().into_iter().map(|p| p.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(page(None, 2).await, ["plan-bbbb000000000002", "plan-cccc000000000003"]);
    assert_eq!(page(Some("plan-bbbb000000000002"), 2).await, ["plan-cccc000000000003", "plan-aaaa000000000001"]);
    assert_eq!(page(Some("plan-cccc000000000003"), 2).await, ["plan-aaaa000000000001"]);
    assert!(store.plans_after(Some("nobody"), None, 5).await.unwrap().unwrap().is_empty());
    assert!(store.plans_after(None, Some("plan-ffff000000000000"), 5).await.unwrap().is_none());

    store.decide_plan("plan-aaaa000000000001", "bob@example.com", t(2), "approve", Some("looks right")).await.unwrap();
    let decisions = store.plan_decisions("plan-aaaa000000000001").await.unwrap();
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].decision, "approve");
    assert_eq!(decisions[0].reason.as_deref(), Some("looks right"));
    let of_page = store.plan_decisions_of(&["plan-aaaa000000000001", "plan-bbbb000000000002"]).await.unwrap();
    assert_eq!(of_page, decisions);
    assert!(store.plan_decisions_of(&["plan-bbbb000000000002"]).await.unwrap().is_empty());

    let first = store.append_journal(&record("plan-aaaa000000000001", 0, "started"), 0).await.unwrap();
    let second = store.append_journal(&record("plan-aaaa000000000001", 0, "done"), first).await.unwrap();
    assert!(second > first);
    // A second apply that read the journal before `second` was written.
    let stale = store.append_journal(&record("plan-aaaa000000000001", 1, "started"), first).await;
    assert!(matches!(stale, Err(warrant_store::StoreError::Conflict(_))), "{stale:?}");
    let journal = store.plan_journal("plan-aaaa000000000001").await.unwrap();
    assert_eq!(journal.iter().map(|r| r.state.as_str()).collect::<Vec<_>>(), ["started", "done"]);
    assert_eq!(journal[1].output.as_deref(), Some(r#"{"access_key_id":"AKIAEXAMPLE"}"#));
    assert_eq!(store.plan_journals_of(&["plan-aaaa000000000001", "plan-cccc000000000003"]).await.unwrap(), journal);

    let actions: Vec<String> = store.audit_log().await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["plan.propose", "plan.propose", "plan.propose", "plan.approve", "plan.apply.started", "plan.apply.done"]);
    assert_eq!(store.revision().await.unwrap(), revision, "plans are not inputs of an assessment");
}
}

conformance! {
/// Owner assignments are a history (the latest per identity is in force, a withdrawal is an
/// empty owner), registrations are requested once and decided by appending; owners and
/// approvals raise the revision (they change what an assessment reads), a request does not.
#[tokio::test]
async fn owners_are_a_history_and_registrations_are_decided_by_appending(db) {
    let store = db.open().await;
    let r0 = store.revision().await.unwrap();
    store.assign_owner("u1", "dana@example.com", "bob@example.com", t(1), Some("team lead")).await.unwrap();
    store.assign_owner("u1", "erin@example.com", "bob@example.com", t(2), None).await.unwrap();
    store.assign_owner("u2", "", "bob@example.com", t(2), Some("back to the tag")).await.unwrap();
    assert!(store.revision().await.unwrap() > r0);
    let history = store.owner_history("u1").await.unwrap();
    assert_eq!(history.iter().map(|a| a.owner.as_str()).collect::<Vec<_>>(), ["dana@example.com", "erin@example.com"]);
    assert_eq!(history[0].reason.as_deref(), Some("team lead"));
    let latest = store.latest_owner_assignments().await.unwrap();
    assert_eq!(
        latest.iter().map(|a| (a.identity.as_str(), a.owner.as_str())).collect::<Vec<_>>(),
        [("u1", "erin@example.com"), ("u2", "")]
    );

    let row = warrant_store::RegistrationRow {
        id: "reg-0000000000000001".into(),
        name: "svc-export".into(),
        kind: "aws_user".into(),
        owner: "dana@example.com".into(),
        requested_by: "dana@example.com".into(),
        created: t(3),
        expires: Some(t(28)),
        data: r#"{"id":"reg-0000000000000001"}"#.into(),
        decision: None,
    };
    let r1 = store.revision().await.unwrap();
    assert!(store.register(&row).await.unwrap());
    assert!(!store.register(&row).await.unwrap());
    assert_eq!(store.revision().await.unwrap(), r1, "a request sanctions nothing");
    assert_eq!(store.registrations().await.unwrap(), vec![row.clone()]);
    store.decide_registration(&row.id, "bob@example.com", t(4), "approve", None).await.unwrap();
    assert!(store.revision().await.unwrap() > r1);
    let listed = store.registrations().await.unwrap();
    assert_eq!(listed[0].decision, Some(("approve".to_string(), "bob@example.com".to_string())));

    let actions: Vec<String> = store.audit_log().await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["owner.set", "owner.set", "owner.clear", "registration.request", "registration.approve"]);
}
}

conformance! {
/// Owner evidence (creators, CODEOWNERS) is added, never overwritten: the same evidence twice
/// is one row; new evidence raises the revision, a repeat does not.
#[tokio::test]
async fn owner_evidence_is_kept_once_and_raises_the_revision(db) {
    let store = db.open().await;
    let creator = |owner: &str, event: &str, at| warrant_store::OwnerEvidence {
        identity: "arn:aws:iam::111122223333:role/etl".into(),
        owner: owner.into(),
        source: "creator".into(),
        detail: format!("cloudtrail:iam:CreateRole:{event}"),
        at: t(at),
    };
    let codeowners = warrant_store::OwnerEvidence {
        identity: "u2".into(),
        owner: "@acme/platform".into(),
        source: "codeowners".into(),
        detail: ".github/CODEOWNERS:3:deploy/ci.yml".into(),
        at: t(2),
    };
    let r0 = store.revision().await.unwrap();
    let rows = [creator("dana@example.com", "e1", 1), codeowners.clone()];
    assert_eq!(store.record_owner_evidence(&rows, t(3)).await.unwrap(), 2);
    let r1 = store.revision().await.unwrap();
    assert!(r1 > r0);
    assert_eq!(store.record_owner_evidence(&rows, t(4)).await.unwrap(), 0);
    assert_eq!(store.revision().await.unwrap(), r1, "nothing new, nothing to reassess");
    assert_eq!(store.record_owner_evidence(&[creator("erin@example.com", "e2", 2)], t(4)).await.unwrap(), 1);
    let of_role = store.owner_evidence(Some("arn:aws:iam::111122223333:role/etl")).await.unwrap();
    assert_eq!(of_role.iter().map(|e| e.owner.as_str()).collect::<Vec<_>>(), ["dana@example.com", "erin@example.com"]);
    assert_eq!(store.owner_evidence(None).await.unwrap().len(), 3);
    let bad = warrant_store::OwnerEvidence { source: "guess".into(), ..codeowners };
    assert!(store.record_owner_evidence(&[bad], t(5)).await.is_err(), "the source is checked");
}
}

conformance! {
/// Ownership changes are history: an import that changes the owners an identity's provider
/// records adds an `owner.provider` audit row with the owners before and after; an unchanged
/// re-import, another change to the identity, or a new identity adds none.
#[tokio::test]
async fn provider_owner_changes_are_audited_on_import(db) {
    let store = db.open().await;
    const ROLE: &str = "arn:aws:iam::111122223333:role/deployer";
    let mut inventory = crate::inventory::realistic();
    store.import(&inventory, t(1)).await.unwrap();
    store.import(&inventory, t(2)).await.unwrap();
    let role = inventory.identities.iter_mut().find(|i| i.id == ROLE).unwrap();
    role.purpose = Some("deploys the web and api tiers".into());
    store.import(&inventory, t(3)).await.unwrap();
    assert!(store.audit_of(ROLE, "owner.").await.unwrap().is_empty());

    let role = inventory.identities.iter_mut().find(|i| i.id == ROLE).unwrap();
    role.owners = vec![warrant_core::OwnerRef { id: "bob@example.com".into(), source: "tag:owner".into() }];
    store.import(&inventory, t(4)).await.unwrap();
    let changes = store.audit_of(ROLE, "owner.").await.unwrap();
    assert_eq!(changes.len(), 1);
    let change = &changes[0];
    assert_eq!((change.action.as_str(), change.at), ("owner.provider", t(4)));
    assert_eq!(change.actor, "provider:aws-authorization-details");
    assert!(change.before.as_deref().unwrap().contains("alice@example.com"));
    assert!(change.after.as_deref().unwrap().contains("bob@example.com"));
    assert!(store.audit_of(ROLE, "exception.").await.unwrap().is_empty());
}
}
