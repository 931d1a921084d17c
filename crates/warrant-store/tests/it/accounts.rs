//! Warrant's own users, sessions and API tokens: kept as given (hashes only), every change
//! audited without a hash in the trail, nothing raising the revision.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, TimeZone, Utc};
use warrant_core::Timestamp;
use warrant_core::access::Role;
use warrant_store::{ApiTokenRow, SessionRow, StoreError, UserRow};

fn t(hour: u32) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 12, 1, hour, 0, 0)
        .single()
        .unwrap()
}

const PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

fn user(name: &str, role: Role) -> UserRow {
    UserRow {
        username: name.into(),
        display_name: Some(format!("{name} (display)")),
        role,
        password_hash: Some(PHC.into()),
        oidc_issuer: None,
        oidc_subject: None,
        created_at: t(1),
        disabled_at: None,
        failed_logins: 0,
        locked_until: None,
    }
}

fn hash(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn session(n: u8, username: &str) -> SessionRow {
    SessionRow {
        token_hash: hash(n),
        username: username.into(),
        created_at: t(2),
        last_seen_at: t(2),
        expires_at: t(14),
        ended_at: None,
    }
}

fn token(id: &str, n: u8, username: &str, role: Role) -> ApiTokenRow {
    ApiTokenRow {
        id: id.into(),
        token_hash: hash(n),
        username: username.into(),
        name: format!("ci {id}"),
        role,
        created_at: t(3),
        expires_at: t(3) + Duration::days(30),
        last_used_at: None,
        revoked_at: None,
        revoked_by: None,
    }
}

conformance! {
/// Users are added once (a second add is a conflict), listed by name, their role and password
/// replaced, linked once to one single sign-on identity; each change is audited without the
/// password hash, and none raises the revision.
#[tokio::test]
async fn users_are_added_once_changed_and_audited(db) {
    let store = db.open().await;
    let revision = store.revision().await.unwrap();
    store.add_user(&user("zoe", Role::Viewer), "root@example.com").await.unwrap();
    store.add_user(&user("ana", Role::Admin), "root@example.com").await.unwrap();
    let again = store.add_user(&user("ana", Role::Viewer), "root@example.com").await;
    assert!(matches!(again, Err(StoreError::Conflict(ref m)) if m.contains("already exists")), "{again:?}");

    assert_eq!(store.user("ana").await.unwrap(), Some(user("ana", Role::Admin)));
    assert_eq!(store.user("nobody").await.unwrap(), None);
    let names: Vec<String> = store.users().await.unwrap().into_iter().map(|u| u.username).collect();
    assert_eq!(names, ["ana", "zoe"]);

    assert!(store.set_user_role("zoe", Role::Approver, "ana", t(2)).await.unwrap());
    assert!(!store.set_user_role("nobody", Role::Admin, "ana", t(2)).await.unwrap());
    assert_eq!(store.user("zoe").await.unwrap().unwrap().role, Role::Approver);

    assert!(store.set_password_hash("zoe", None, "ana", t(2)).await.unwrap());
    assert_eq!(store.user("zoe").await.unwrap().unwrap().password_hash, None);
    assert!(!store.set_password_hash("nobody", Some(PHC), "ana", t(2)).await.unwrap());

    // Single sign-on: one identity per user, one user per identity.
    let issuer = "https://login.example.com";
    assert_eq!(store.user_by_oidc(issuer, "sub-1").await.unwrap(), None);
    assert!(store.link_oidc("zoe", issuer, "sub-1", "zoe", t(3)).await.unwrap());
    assert!(store.link_oidc("zoe", issuer, "sub-1", "zoe", t(3)).await.unwrap(), "again: no-op");
    assert!(!store.link_oidc("nobody", issuer, "sub-9", "x", t(3)).await.unwrap());
    assert_eq!(store.user_by_oidc(issuer, "sub-1").await.unwrap().unwrap().username, "zoe");
    let taken = store.link_oidc("ana", issuer, "sub-1", "ana", t(3)).await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    let relink = store.link_oidc("zoe", issuer, "sub-2", "zoe", t(3)).await;
    assert!(matches!(relink, Err(StoreError::Conflict(_))), "{relink:?}");
    let mut linked = user("max", Role::Viewer);
    linked.oidc_issuer = Some(issuer.into());
    linked.oidc_subject = Some("sub-1".into());
    let duplicate = store.add_user(&linked, "ana").await;
    assert!(matches!(duplicate, Err(StoreError::Conflict(_))), "{duplicate:?}");
    assert_eq!(store.user("max").await.unwrap(), None);

    assert_eq!(store.revision().await.unwrap(), revision, "accounts are not assessment inputs");
    let actions: Vec<String> = store.audit_of("zoe", "user.").await.unwrap()
        .into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["user.add", "user.set_role", "user.set_password", "user.link_oidc"]);
    for entry in store.audit_log().await.unwrap() {
        let text = format!("{:?} {:?}", entry.before, entry.after);
        assert!(!text.contains("argon2id"), "{text}");
    }
}
}

conformance! {
/// Wrong passwords count up to a lock; a lock that ran out starts the count again; a reset
/// (a successful sign-in) clears both.
#[tokio::test]
async fn wrong_passwords_lock_then_the_lock_runs_out(db) {
    let store = db.open().await;
    store.add_user(&user("ana", Role::Viewer), "root").await.unwrap();
    let lock_for = Duration::minutes(15);
    for i in 1..=2 {
        assert!(!store.record_login_failure("ana", t(2), 3, lock_for).await.unwrap());
        assert_eq!(store.user("ana").await.unwrap().unwrap().failed_logins, i);
    }
    assert!(store.record_login_failure("ana", t(2), 3, lock_for).await.unwrap(), "third locks");
    let locked = store.user("ana").await.unwrap().unwrap();
    assert_eq!((locked.failed_logins, locked.locked_until), (3, Some(t(2) + lock_for)));

    // After the lock: one failure counts as the first of a new series.
    let later = t(3);
    assert!(!store.record_login_failure("ana", later, 3, lock_for).await.unwrap());
    let counted = store.user("ana").await.unwrap().unwrap();
    assert_eq!((counted.failed_logins, counted.locked_until), (1, None));

    store.reset_login_failures("ana", later).await.unwrap();
    let reset = store.user("ana").await.unwrap().unwrap();
    assert_eq!((reset.failed_logins, reset.locked_until), (0, None));
    // Nothing to reset: nothing written.
    store.reset_login_failures("ana", later).await.unwrap();
    assert!(!store.record_login_failure("nobody", later, 3, lock_for).await.unwrap());
    // 0: never lock.
    for _ in 0..10 {
        assert!(!store.record_login_failure("ana", later, 0, lock_for).await.unwrap());
    }

    let actions: Vec<String> = store.audit_of("ana", "user.login").await.unwrap()
        .into_iter().map(|e| e.action).collect();
    assert_eq!(actions.iter().filter(|a| *a == "user.login_reset").count(), 1);
    assert_eq!(actions.iter().filter(|a| *a == "user.login_failed").count(), 14);
}
}

conformance! {
/// Sessions: created for active users only, touched forward, ended one by one or all at once.
#[tokio::test]
async fn sessions_are_touched_forward_and_ended(db) {
    let store = db.open().await;
    let revision = store.revision().await.unwrap();
    store.add_user(&user("ana", Role::Viewer), "root").await.unwrap();
    store.create_session(&session(1, "ana")).await.unwrap();
    store.create_session(&session(2, "ana")).await.unwrap();
    let missing = store.create_session(&session(3, "nobody")).await;
    assert!(matches!(missing, Err(StoreError::Conflict(_))), "{missing:?}");
    assert_eq!(store.session(&hash(1)).await.unwrap(), Some(session(1, "ana")));
    assert_eq!(store.session(&hash(3)).await.unwrap(), None);

    store.touch_session(&hash(1), t(4)).await.unwrap();
    store.touch_session(&hash(1), t(3)).await.unwrap();
    assert_eq!(store.session(&hash(1)).await.unwrap().unwrap().last_seen_at, t(4), "never back");

    assert!(store.end_session(&hash(1), t(5)).await.unwrap());
    assert!(!store.end_session(&hash(1), t(6)).await.unwrap(), "once");
    assert_eq!(store.session(&hash(1)).await.unwrap().unwrap().ended_at, Some(t(5)));
    store.touch_session(&hash(1), t(7)).await.unwrap();
    assert_eq!(store.session(&hash(1)).await.unwrap().unwrap().last_seen_at, t(4), "ended: not touched");

    store.create_session(&session(4, "ana")).await.unwrap();
    assert_eq!(store.end_sessions_of("ana", "root", t(6)).await.unwrap(), 2);
    assert_eq!(store.end_sessions_of("ana", "root", t(6)).await.unwrap(), 0);
    assert_eq!(store.session(&hash(2)).await.unwrap().unwrap().ended_at, Some(t(6)));

    assert_eq!(store.revision().await.unwrap(), revision);
    let actions: Vec<String> = store.audit_of("ana", "session.").await.unwrap()
        .into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["session.start", "session.start", "session.end", "session.start", "session.end_all"]);
}
}

conformance! {
/// API tokens: ids are unique, listed per user, touched forward, revoked once; disabling a
/// user revokes their tokens and ends their sessions in the same transaction, and no later
/// session or token can be made for them.
#[tokio::test]
async fn tokens_are_revoked_and_disabling_a_user_ends_everything(db) {
    let store = db.open().await;
    let revision = store.revision().await.unwrap();
    store.add_user(&user("ana", Role::Admin), "root").await.unwrap();
    store.add_user(&user("bob", Role::Owner), "root").await.unwrap();
    store.create_api_token(&token("b0000001", 1, "bob", Role::Owner), "bob").await.unwrap();
    store.create_api_token(&token("a0000001", 2, "ana", Role::Viewer), "ana").await.unwrap();
    store.create_api_token(&token("b0000002", 3, "bob", Role::Viewer), "bob").await.unwrap();
    let duplicate = store.create_api_token(&token("b0000001", 4, "bob", Role::Owner), "bob").await;
    assert!(matches!(duplicate, Err(StoreError::Conflict(_))), "{duplicate:?}");
    let nobody = store.create_api_token(&token("c0000001", 5, "nobody", Role::Viewer), "x").await;
    assert!(matches!(nobody, Err(StoreError::Conflict(_))), "{nobody:?}");

    assert_eq!(store.api_token("b0000001").await.unwrap(), Some(token("b0000001", 1, "bob", Role::Owner)));
    assert_eq!(store.api_token("zzz").await.unwrap(), None);
    let ids = |tokens: Vec<ApiTokenRow>| tokens.into_iter().map(|t| t.id).collect::<Vec<_>>();
    assert_eq!(ids(store.api_tokens(None).await.unwrap()), ["a0000001", "b0000001", "b0000002"]);
    assert_eq!(ids(store.api_tokens(Some("bob")).await.unwrap()), ["b0000001", "b0000002"]);

    store.touch_api_token("a0000001", t(5)).await.unwrap();
    store.touch_api_token("a0000001", t(4)).await.unwrap();
    assert_eq!(store.api_token("a0000001").await.unwrap().unwrap().last_used_at, Some(t(5)));

    assert!(store.revoke_api_token("a0000001", "ana", t(6)).await.unwrap());
    assert!(!store.revoke_api_token("a0000001", "ana", t(7)).await.unwrap(), "once");
    assert!(!store.revoke_api_token("zzz", "ana", t(7)).await.unwrap());
    let revoked = store.api_token("a0000001").await.unwrap().unwrap();
    assert_eq!((revoked.revoked_at, revoked.revoked_by.as_deref()), (Some(t(6)), Some("ana")));

    store.create_session(&session(9, "bob")).await.unwrap();
    assert!(store.disable_user("bob", "ana", t(8)).await.unwrap());
    assert!(!store.disable_user("nobody", "ana", t(8)).await.unwrap());
    let bob = store.user("bob").await.unwrap().unwrap();
    assert_eq!(bob.disabled_at, Some(t(8)));
    assert_eq!(store.session(&hash(9)).await.unwrap().unwrap().ended_at, Some(t(8)));
    for t in store.api_tokens(Some("bob")).await.unwrap() {
        assert_eq!(t.revoked_by.as_deref(), Some("ana"), "{t:?}");
    }
    // Again: the first instant stays.
    assert!(store.disable_user("bob", "ana", t(9)).await.unwrap());
    assert_eq!(store.user("bob").await.unwrap().unwrap().disabled_at, Some(t(8)));
    let disabled = store.create_session(&session(10, "bob")).await;
    assert!(matches!(disabled, Err(StoreError::Conflict(ref m)) if m.contains("disabled")), "{disabled:?}");
    let disabled = store.create_api_token(&token("b0000003", 11, "bob", Role::Viewer), "bob").await;
    assert!(matches!(disabled, Err(StoreError::Conflict(_))), "{disabled:?}");

    assert_eq!(store.revision().await.unwrap(), revision);
    assert_eq!(
        store.audit_of("b0000001", "token.").await.unwrap().into_iter().map(|e| e.action).collect::<Vec<_>>(),
        ["token.create", "token.revoke"]
    );
    let bob_actions: Vec<String> = store.audit_of("bob", "").await.unwrap()
        .into_iter().map(|e| e.action).collect();
    assert_eq!(bob_actions, ["user.add", "session.start", "user.disable", "session.end_all"]);
    // No hash of any token or session in the trail.
    for entry in store.audit_log().await.unwrap() {
        let text = format!("{} {:?} {:?}", entry.subject, entry.before, entry.after);
        for n in [1, 2, 3, 9] {
            assert!(!text.contains(&hash(n)), "{text}");
        }
    }
}
}
