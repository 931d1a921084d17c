//! The MCP gateway's shared state: revocations every gateway sees at once, grants and their
//! uses, taint that only accumulates, and held calls decided once, each decision audited.
#![allow(clippy::unwrap_used)]

use chrono::{TimeZone, Utc};
use warrant_core::Timestamp;
use warrant_store::{ApprovalRow, ApprovalStatus, GrantRow, StoreError};

fn t(minute: u32) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 12, 7, 9, minute, 0)
        .single()
        .unwrap()
}

fn grant(id: &str) -> GrantRow {
    GrantRow {
        id: id.into(),
        agent: "agent:triage-bot".into(),
        task: "triage ticket 123".into(),
        grant_json: r#"{"tools":["github::get_issue"]}"#.into(),
        revocation_ids: vec![id.into(), format!("{id}b1")],
        issued_at: t(0),
        expires_at: t(15),
        issued_by: "dana@example.com".into(),
        uses: 0,
        refused: 0,
        first_used_at: None,
        last_used_at: None,
    }
}

fn held(id: &str) -> ApprovalRow {
    ApprovalRow {
        id: id.into(),
        agent: "agent:pay-bot".into(),
        task: Some("refund order 9".into()),
        tool: "payments::refund".into(),
        arguments_sha256: "ab".repeat(32),
        arguments_view: r#"{"amount":250,"card":"4111…[redacted]"}"#.into(),
        taint: vec!["untrusted_input".into()],
        reason: "refunds over 100 need approval".into(),
        requested_at: t(1),
        expires_at: t(6),
        status: ApprovalStatus::Pending,
        decided_at: None,
        decided_by: None,
        note: None,
        used_at: None,
    }
}

conformance! {
/// A revocation is seen by every reader at once, revoking twice changes nothing, and each is
/// audited; grants count their uses and refusals and are found by any block's id.
#[tokio::test]
async fn revocations_and_grants_are_shared(db) {
    let store = db.open().await;
    let revision = store.revision().await.unwrap();
    store.record_grant(&grant("aa01")).await.unwrap();
    assert!(matches!(store.record_grant(&grant("aa01")).await, Err(StoreError::Conflict(_))));
    store.record_grant_use("aa01", true, t(2)).await.unwrap();
    store.record_grant_use("aa01", true, t(3)).await.unwrap();
    store.record_grant_use("aa01", false, t(4)).await.unwrap();
    store.record_grant_use("unknown", true, t(4)).await.unwrap();
    let g = store.grant_of("aa01b1").await.unwrap().unwrap();
    assert_eq!((g.uses, g.refused), (2, 1));
    assert_eq!(g.first_used_at, Some(t(2)));
    assert_eq!(g.last_used_at, Some(t(4)));
    assert!(store.grant_of("aa0").await.unwrap().is_none(), "ids match whole");
    assert_eq!(store.grants(Some(t(15))).await.unwrap().len(), 1);
    assert!(store.grants(Some(t(14))).await.unwrap().is_empty());

    let ids = vec!["aa01b1".to_string(), "ff99".to_string()];
    assert!(store.revoked_among(&ids).await.unwrap().is_empty());
    let newly = store.revoke_tokens(&["aa01b1".into()], "dana@example.com", "task done", t(5)).await.unwrap();
    assert_eq!(newly, ["aa01b1"]);
    assert!(store.revoke_tokens(&["aa01b1".into()], "dana@example.com", "again", t(6)).await.unwrap().is_empty());
    let revoked = store.revoked_among(&ids).await.unwrap();
    assert_eq!(revoked.into_iter().collect::<Vec<_>>(), ["aa01b1"]);
    let listed = store.revocations().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].reason, "task done");
    let audit = store.audit_log().await.unwrap();
    assert!(audit.iter().any(|e| e.action == "gateway.revoke" && e.subject == "aa01b1"));
    assert_eq!(store.revision().await.unwrap(), revision, "no assessment input changed");
}
}

conformance! {
/// Taint labels only accumulate, per task.
#[tokio::test]
async fn taint_accumulates_per_task(db) {
    let store = db.open().await;
    let after = store.add_taint("task-1", &["untrusted_input".into()], "web::fetch", t(1)).await.unwrap();
    assert_eq!(after.into_iter().collect::<Vec<_>>(), ["untrusted_input"]);
    let after = store
        .add_taint("task-1", &["sensitive_data".into(), "untrusted_input".into()], "db::query", t(2))
        .await
        .unwrap();
    assert_eq!(after.into_iter().collect::<Vec<_>>(), ["sensitive_data", "untrusted_input"]);
    assert!(store.taint_of("task-2").await.unwrap().is_empty());

    // Two gateway processes decided on the same old taint: the first claim wins, the second
    // learns the taint moved and decides again.
    let seen: std::collections::BTreeSet<String> = ["sensitive_data".to_string(), "untrusted_input".to_string()].into();
    let first = store.add_taint_if("task-1", &seen, &["external_action".into()], "mail::send", t(3)).await.unwrap();
    assert_eq!(first.map(|l| l.len()), Some(3));
    let second = store.add_taint_if("task-1", &seen, &["external_action".into()], "chat::post", t(3)).await.unwrap();
    assert_eq!(second, None);
    assert_eq!(store.add_taint_if("task-3", &Default::default(), &["untrusted_input".into()], "web::fetch", t(4)).await.unwrap().map(|l| l.len()), Some(1));
}
}

conformance! {
/// A held call is asked once, decided once (audited with its arguments' digest, never the
/// arguments), and a pending one past its deadline can no longer be approved.
#[tokio::test]
async fn held_calls_are_decided_once(db) {
    let store = db.open().await;
    let first = store.request_approval(&held("h1")).await.unwrap();
    assert_eq!(first.status, ApprovalStatus::Pending);
    let again = store.request_approval(&ApprovalRow { reason: "other".into(), ..held("h1") }).await.unwrap();
    assert_eq!(again.reason, "refunds over 100 need approval", "the same call asks once");
    store.request_approval(&held("h2")).await.unwrap();
    assert_eq!(store.approvals(Some(ApprovalStatus::Pending)).await.unwrap().len(), 2);

    let decided = store.decide_approval("h1", true, "secops@example.com", Some("ok"), t(2)).await.unwrap().unwrap();
    assert_eq!(decided.status, ApprovalStatus::Approved);
    let twice = store.decide_approval("h1", false, "secops@example.com", None, t(3)).await;
    assert!(matches!(twice, Err(StoreError::Conflict(ref m)) if m.contains("approved")), "{twice:?}");
    assert!(store.decide_approval("nope", true, "secops@example.com", None, t(3)).await.unwrap().is_none());
    // h2 waited past its deadline.
    let late = store.decide_approval("h2", true, "secops@example.com", None, t(7)).await;
    assert!(matches!(late, Err(StoreError::Conflict(ref m)) if m.contains("expired")), "{late:?}");
    let h2 = store.approval("h2").await.unwrap().unwrap();
    assert_eq!(h2.status_at(t(7)), ApprovalStatus::Expired);
    assert_eq!(h2.status_at(t(5)), ApprovalStatus::Pending);
    assert_eq!(store.approval("h1").await.unwrap().unwrap().decided_by.as_deref(), Some("secops@example.com"));
    // An approval is spent by the one call it covers; the same call asked again opens a new
    // request, while a denial stands until its deadline.
    assert!(store.consume_approval("h1", t(3)).await.unwrap());
    assert!(!store.consume_approval("h1", t(3)).await.unwrap(), "used once");
    assert_eq!(store.approval("h1").await.unwrap().unwrap().status_at(t(3)), ApprovalStatus::Used);
    let reopened = store.request_approval(&ApprovalRow { requested_at: t(4), expires_at: t(9), ..held("h1") }).await.unwrap();
    assert_eq!(reopened.status, ApprovalStatus::Pending);
    assert_eq!(store.approval("h1").await.unwrap().unwrap().status_at(t(4)), ApprovalStatus::Pending);
    assert!(!store.consume_approval("h1", t(4)).await.unwrap(), "pending is not approved");

    let audit = store.audit_log().await.unwrap();
    let entry = audit.iter().find(|e| e.action == "gateway.approve").unwrap();
    let after = entry.after.as_deref().unwrap();
    assert!(after.contains(&"ab".repeat(32)) && !after.contains("4111"), "{after}");
}
}

fn seen(tool: &str, fingerprint: char, concerns: &str) -> warrant_store::SeenTool {
    warrant_store::SeenTool {
        server: "calc".into(),
        tool: tool.into(),
        fingerprint: fingerprint.to_string().repeat(64),
        definition: format!(r#"{{"name":"{tool}","description":"v{fingerprint}"}}"#),
        concerns: concerns.into(),
    }
}

conformance! {
/// A tool is unapproved until a person approves what they saw; a changed definition blocks it
/// and is reported once; trust-on-first-use pins only tools never pinned; every pin is audited.
#[tokio::test]
async fn tools_are_pinned_by_approval_and_changes_reported_once(db) {
    use warrant_store::ToolPinStatus::{Changed, Pinned, Unapproved};
    let store = db.open().await;
    let revision = store.revision().await.unwrap();
    let first = store.observe_tools(&[seen("add", 'a', "[]"), seen("sub", 'b', r#"[{"kind":"hidden_characters"}]"#)], false, "gateway", t(0)).await.unwrap();
    assert_eq!(first.iter().map(|o| (o.row.status(), o.report)).collect::<Vec<_>>(), [(Unapproved, false), (Unapproved, true)]);
    // Seen again unchanged: nothing new to report.
    let again = store.observe_tools(&[seen("sub", 'b', r#"[{"kind":"hidden_characters"}]"#)], false, "gateway", t(1)).await.unwrap();
    assert!(!again[0].report);

    // Approval binds to what the person read.
    let stale = store.approve_tool("calc", "add", Some(&"f".repeat(64)), "dana@example.com", t(2)).await;
    assert!(matches!(stale, Err(StoreError::Conflict(ref m)) if m.contains("changed again")), "{stale:?}");
    let approved = store.approve_tool("calc", "add", Some(&"a".repeat(64)), "dana@example.com", t(2)).await.unwrap().unwrap();
    assert_eq!((approved.status(), approved.pinned_by.as_deref()), (Pinned, Some("dana@example.com")));
    assert!(store.approve_tool("calc", "nope", None, "dana@example.com", t(2)).await.unwrap().is_none());

    // The rug pull: reported once, blocked until approved again.
    let pulled = store.observe_tools(&[seen("add", 'c', "[]")], true, "gateway", t(3)).await.unwrap();
    assert_eq!((pulled[0].row.status(), pulled[0].report), (Changed, true));
    assert_eq!(pulled[0].row.pinned_fingerprint.as_deref(), Some("a".repeat(64).as_str()), "pin_new never re-pins a changed tool");
    let still = store.observe_tools(&[seen("add", 'c', "[]")], true, "gateway", t(4)).await.unwrap();
    assert_eq!((still[0].row.status(), still[0].report), (Changed, false));
    store.approve_tool("calc", "add", None, "dana@example.com", t(5)).await.unwrap();
    // Trust on first use pins a new tool as seen.
    let tofu = store.observe_tools(&[seen("add", 'c', "[]"), seen("mul", 'd', "[]")], true, "gateway", t(6)).await.unwrap();
    assert_eq!(tofu.iter().map(|o| o.row.status()).collect::<Vec<_>>(), [Pinned, Pinned]);

    let listed = store.gateway_tools(Some("calc")).await.unwrap();
    assert_eq!(listed.iter().map(|r| r.tool.as_str()).collect::<Vec<_>>(), ["add", "mul", "sub"]);
    let audit = store.audit_log().await.unwrap();
    let pins: Vec<(&str, &str)> = audit.iter().filter(|e| e.action.starts_with("gateway.tool")).map(|e| (e.action.as_str(), e.subject.as_str())).collect();
    assert_eq!(pins.len(), 3, "{pins:?}");
    assert!(pins.contains(&("gateway.tool.pin-first-seen", "calc::mul")));
    assert_eq!(store.revision().await.unwrap(), revision);
}
}

conformance! {
/// Gateway calls join the audit trail in order, each with its decision as the action, and
/// change no assessment input.
#[tokio::test]
async fn gateway_calls_are_appended_to_the_audit_trail(db) {
    let store = db.open().await;
    let revision = store.revision().await.unwrap();
    store.audit_gateway_calls(&[]).await.unwrap();
    let call = |minute, action: &str, tool: &str| warrant_store::GatewayCallAudit {
        at: t(minute),
        agent: "triage-bot".into(),
        action: action.into(),
        subject: tool.into(),
        detail: format!(r#"{{"tool":"{tool}","arguments_sha256":"{}"}}"#, "cd".repeat(32)),
    };
    store
        .audit_gateway_calls(&[
            call(1, "gateway.call.allow", "github::get_issue"),
            call(2, "gateway.call.deny", "fs::write"),
        ])
        .await
        .unwrap();
    let audit = store.audit_log().await.unwrap();
    let calls: Vec<(&str, &str, &str)> = audit
        .iter()
        .filter(|e| e.action.starts_with("gateway.call"))
        .map(|e| (e.actor.as_str(), e.action.as_str(), e.subject.as_str()))
        .collect();
    assert_eq!(calls, [
        ("triage-bot", "gateway.call.allow", "github::get_issue"),
        ("triage-bot", "gateway.call.deny", "fs::write"),
    ]);
    assert_eq!(audit.last().unwrap().at, t(2));
    assert!(audit.last().unwrap().after.as_deref().unwrap().contains(&"cd".repeat(32)));
    assert_eq!(store.revision().await.unwrap(), revision, "no assessment input changed");
}
}
