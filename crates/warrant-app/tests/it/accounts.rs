//! Warrant's own users: sign-in, lockout, session timeouts, API tokens and their role rules,
//! and that no raw password or token ever reaches the store.

use chrono::Duration;
use warrant_app::AppError;
use warrant_app::accounts::{self, Role, SessionPolicy, Via};
use warrant_core::Timestamp;
use warrant_store::Store;

use crate::common::{now, store};

const PASSWORD: &str = "correct horse battery staple";

fn policy() -> SessionPolicy {
    SessionPolicy::default()
}

fn unauthenticated(result: Result<impl std::fmt::Debug, AppError>) -> String {
    match result {
        Err(AppError::Unauthenticated(message)) => message,
        other => panic!("expected Unauthenticated, got {other:?}"),
    }
}

async fn with_user(name: &str, role: Role) -> Store {
    let store = store().await;
    accounts::add_user(&store, name, None, role, Some(PASSWORD), now())
        .await
        .unwrap();
    store
}

#[tokio::test]
async fn users_are_added_once_and_listed_without_their_hash() {
    let store = store().await;
    let ana = accounts::add_user(
        &store,
        "ana",
        Some("Ana López"),
        Role::Admin,
        Some(PASSWORD),
        now(),
    )
    .await
    .unwrap();
    assert!(ana.has_password && !ana.disabled && !ana.oidc_linked);
    accounts::add_user(&store, "bob", None, Role::Viewer, None, now())
        .await
        .unwrap();
    let again = accounts::add_user(&store, "ana", None, Role::Viewer, None, now()).await;
    assert!(
        matches!(&again, Err(AppError::Conflict(m)) if m.contains("already exists")),
        "{again:?}"
    );
    let short = accounts::add_user(&store, "cy", None, Role::Viewer, Some("short"), now()).await;
    assert!(matches!(short, Err(AppError::Invalid(_))), "{short:?}");
    let bad_name = accounts::add_user(&store, "a b", None, Role::Viewer, None, now()).await;
    assert!(
        matches!(bad_name, Err(AppError::Invalid(_))),
        "{bad_name:?}"
    );

    let users = accounts::users(&store).await.unwrap();
    let names: Vec<&str> = users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["ana", "bob"]);
    assert!(!users[1].has_password);
    let json = serde_json::to_string(&users).unwrap();
    assert!(!json.contains("argon2"), "{json}");
    assert!(!json.contains("password_hash"), "{json}");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let store = with_user("ana", Role::Owner).await;
    let wrong =
        unauthenticated(accounts::login(&store, "ana", "not the password", now(), &policy()).await);
    let unknown = unauthenticated(accounts::login(&store, "zed", PASSWORD, now(), &policy()).await);
    assert_eq!(wrong, "invalid username or password");
    assert_eq!(unknown, wrong);

    let session = accounts::login(&store, "ana", PASSWORD, now(), &policy())
        .await
        .unwrap();
    assert!(session.token.starts_with("ws_"), "{}", session.token);
    assert_eq!(session.expires_at, now() + Duration::hours(12));
    assert_eq!(session.principal.username, "ana");
    assert_eq!(session.principal.role, Role::Owner);
    assert_eq!(session.principal.via, Via::Session);
    let principal = accounts::session(&store, &session.token, now(), &policy())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(principal.username, "ana");

    // A user without a password (single sign-on only) cannot sign in with one.
    accounts::add_user(&store, "sso", None, Role::Viewer, None, now())
        .await
        .unwrap();
    assert_eq!(
        unauthenticated(accounts::login(&store, "sso", "", now(), &policy()).await),
        wrong
    );
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_until_the_lock_runs_out() {
    let store = with_user("ana", Role::Viewer).await;
    let policy = policy();
    let t0 = now();
    for attempt in 1..=4 {
        let message =
            unauthenticated(accounts::login(&store, "ana", "guess guess guess", t0, &policy).await);
        assert_eq!(message, "invalid username or password", "attempt {attempt}");
    }
    let fifth =
        unauthenticated(accounts::login(&store, "ana", "guess guess guess", t0, &policy).await);
    assert_eq!(fifth, "too many failed sign-ins; try again later");
    // Locked: even the right password is refused, and says why.
    let locked = unauthenticated(
        accounts::login(&store, "ana", PASSWORD, t0 + Duration::minutes(14), &policy).await,
    );
    assert_eq!(locked, fifth);

    let later = t0 + Duration::minutes(15);
    accounts::login(&store, "ana", PASSWORD, later, &policy)
        .await
        .unwrap();
    let user = store.user("ana").await.unwrap().unwrap();
    assert_eq!((user.failed_logins, user.locked_until), (0, None));
    // The count starts again from zero.
    for _ in 1..=4 {
        unauthenticated(accounts::login(&store, "ana", "guess guess guess", later, &policy).await);
    }
    accounts::login(&store, "ana", PASSWORD, later, &policy)
        .await
        .unwrap();
}

#[tokio::test]
async fn sessions_end_when_idle_too_long_or_at_their_absolute_end() {
    let store = with_user("ana", Role::Viewer).await;
    let policy = policy();
    let t0 = now();
    let idle = accounts::login(&store, "ana", PASSWORD, t0, &policy)
        .await
        .unwrap();
    let is_open = |token: String, at: Timestamp| {
        let store = store.clone();
        async move {
            accounts::session(&store, &token, at, &policy)
                .await
                .unwrap()
                .is_some()
        }
    };
    // Used after 29 minutes, then not for 31: over.
    assert!(is_open(idle.token.clone(), t0 + Duration::minutes(29)).await);
    assert!(is_open(idle.token.clone(), t0 + Duration::minutes(58)).await);
    assert!(!is_open(idle.token.clone(), t0 + Duration::minutes(89)).await);
    assert!(!is_open(idle.token.clone(), t0 + Duration::minutes(120)).await);

    // Used every 20 minutes, it still ends 12 hours after sign-in.
    let busy = accounts::login(&store, "ana", PASSWORD, t0, &policy)
        .await
        .unwrap();
    let mut at = t0;
    while at + Duration::minutes(20) < t0 + Duration::hours(12) {
        at += Duration::minutes(20);
        assert!(is_open(busy.token.clone(), at).await, "{at}");
    }
    assert!(!is_open(busy.token.clone(), t0 + Duration::hours(12)).await);

    // Signing out ends it; unknown and malformed tokens are simply not sessions.
    let out = accounts::login(&store, "ana", PASSWORD, t0, &policy)
        .await
        .unwrap();
    accounts::logout(&store, &out.token, t0).await.unwrap();
    accounts::logout(&store, &out.token, t0).await.unwrap();
    assert!(!is_open(out.token.clone(), t0).await);
    assert!(!is_open(format!("ws_{}", "0".repeat(64)), t0).await);
    assert!(!is_open("garbage".into(), t0).await);
}

#[tokio::test]
async fn a_disabled_user_loses_sessions_tokens_and_sign_in() {
    let store = with_user("ana", Role::Admin).await;
    accounts::add_user(&store, "bob", None, Role::Owner, Some(PASSWORD), now())
        .await
        .unwrap();
    let session = accounts::login(&store, "bob", PASSWORD, now(), &policy())
        .await
        .unwrap();
    let expires = now() + Duration::days(30);
    let (raw, _) = accounts::create_token(&store, "bob", "ci", Role::Owner, expires, now())
        .await
        .unwrap();
    assert!(
        accounts::authenticate_token(&store, &raw, now())
            .await
            .unwrap()
            .is_some()
    );

    accounts::disable_user(&store, "bob", now()).await.unwrap();
    let later = now() + Duration::minutes(1);
    assert!(
        accounts::session(&store, &session.token, later, &policy())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        accounts::authenticate_token(&store, &raw, later)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        accounts::tokens(&store, Some("bob"))
            .await
            .unwrap()
            .iter()
            .all(|t| t.revoked)
    );
    assert_eq!(
        unauthenticated(accounts::login(&store, "bob", PASSWORD, later, &policy()).await),
        "invalid username or password"
    );
    let token = accounts::create_token(&store, "bob", "ci", Role::Viewer, expires, later).await;
    assert!(matches!(token, Err(AppError::Invalid(_))), "{token:?}");
    let missing = accounts::disable_user(&store, "nobody", later).await;
    assert!(matches!(missing, Err(AppError::NotFound(_))), "{missing:?}");
    // The last active admin stays.
    let last = accounts::disable_user(&store, "ana", later).await;
    assert!(matches!(last, Err(AppError::Invalid(_))), "{last:?}");
    let demote = accounts::set_role(&store, "ana", Role::Viewer, later).await;
    assert!(matches!(demote, Err(AppError::Invalid(_))), "{demote:?}");
}

#[tokio::test]
async fn tokens_work_until_they_expire_or_are_revoked() {
    let store = with_user("ana", Role::Approver).await;
    let expires = now() + Duration::days(30);
    let (raw, info) =
        accounts::create_token(&store, "ana", "nightly", Role::Approver, expires, now())
            .await
            .unwrap();
    assert!(
        raw.starts_with(&format!("wat_{}_", info.id)),
        "{raw} {}",
        info.id
    );
    assert_eq!(info.id.len(), 8);
    assert_eq!(
        (info.role, info.expires_at, info.revoked),
        (Role::Approver, expires, false)
    );

    let principal = accounts::authenticate_token(&store, &raw, now() + Duration::days(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(principal.username, "ana");
    assert_eq!(principal.role, Role::Approver);
    assert_eq!(
        principal.via,
        Via::Token {
            id: info.id.clone()
        }
    );
    let listed = accounts::tokens(&store, Some("ana")).await.unwrap();
    assert_eq!(listed[0].last_used_at, Some(now() + Duration::days(1)));

    // A changed secret, another prefix or garbage: not a token.
    let mut tampered = raw.clone();
    tampered.pop();
    tampered.push(if raw.ends_with('0') { '1' } else { '0' });
    for wrong in [tampered.as_str(), &raw[1..], "wat_", "", "Bearer x"] {
        assert!(
            accounts::authenticate_token(&store, wrong, now())
                .await
                .unwrap()
                .is_none(),
            "{wrong}"
        );
    }
    // Expired.
    assert!(
        accounts::authenticate_token(&store, &raw, expires)
            .await
            .unwrap()
            .is_none()
    );
    // Revoked.
    assert!(
        accounts::revoke_token(&store, &info.id, "ana", now())
            .await
            .unwrap()
    );
    assert!(
        !accounts::revoke_token(&store, &info.id, "ana", now())
            .await
            .unwrap()
    );
    assert!(
        accounts::authenticate_token(&store, &raw, now())
            .await
            .unwrap()
            .is_none()
    );
    assert!(accounts::tokens(&store, None).await.unwrap()[0].revoked);
    let unknown = accounts::tokens(&store, Some("nobody")).await;
    assert!(matches!(unknown, Err(AppError::NotFound(_))), "{unknown:?}");
}

#[tokio::test]
async fn a_token_never_has_more_than_its_users_role() {
    let store = with_user("own", Role::Owner).await;
    accounts::add_user(&store, "adm", None, Role::Admin, Some(PASSWORD), now())
        .await
        .unwrap();
    let expires = now() + Duration::days(7);
    for role in [Role::Owner, Role::Viewer] {
        accounts::create_token(&store, "own", "ok", role, expires, now())
            .await
            .unwrap();
    }
    for role in [Role::Reviewer, Role::Approver, Role::Admin] {
        let refused = accounts::create_token(&store, "own", "no", role, expires, now()).await;
        assert!(
            matches!(refused, Err(AppError::Invalid(_))),
            "{role}: {refused:?}"
        );
    }
    for role in Role::ALL {
        accounts::create_token(&store, "adm", "any", role, expires, now())
            .await
            .unwrap();
    }
    // Every token expires: not in the past, not beyond a year.
    for bad in [
        now(),
        now() - Duration::days(1),
        now() + Duration::days(366),
    ] {
        let refused = accounts::create_token(&store, "own", "x", Role::Viewer, bad, now()).await;
        assert!(
            matches!(refused, Err(AppError::Invalid(_))),
            "{bad}: {refused:?}"
        );
    }
    accounts::create_token(
        &store,
        "own",
        "x",
        Role::Viewer,
        now() + Duration::days(365),
        now(),
    )
    .await
    .unwrap();
    let missing = accounts::create_token(&store, "nobody", "x", Role::Viewer, expires, now()).await;
    assert!(matches!(missing, Err(AppError::NotFound(_))), "{missing:?}");

    // An admin's admin token stops working when the user is no longer admin.
    let (admin_token, _) =
        accounts::create_token(&store, "adm", "root", Role::Admin, expires, now())
            .await
            .unwrap();
    accounts::add_user(&store, "adm2", None, Role::Admin, None, now())
        .await
        .unwrap();
    accounts::set_role(&store, "adm", Role::Owner, now())
        .await
        .unwrap();
    assert!(
        accounts::authenticate_token(&store, &admin_token, now())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn passwords_and_roles_change() {
    let store = with_user("ana", Role::Viewer).await;
    let new_password = "another long passphrase";
    accounts::set_password(&store, "ana", new_password, now())
        .await
        .unwrap();
    unauthenticated(accounts::login(&store, "ana", PASSWORD, now(), &policy()).await);
    accounts::login(&store, "ana", new_password, now(), &policy())
        .await
        .unwrap();
    let short = accounts::set_password(&store, "ana", "short", now()).await;
    assert!(matches!(short, Err(AppError::Invalid(_))), "{short:?}");
    let missing = accounts::set_password(&store, "nobody", new_password, now()).await;
    assert!(matches!(missing, Err(AppError::NotFound(_))), "{missing:?}");

    accounts::set_role(&store, "ana", Role::Reviewer, now())
        .await
        .unwrap();
    let session = accounts::login(&store, "ana", new_password, now(), &policy())
        .await
        .unwrap();
    assert_eq!(session.principal.role, Role::Reviewer);
    let missing = accounts::set_role(&store, "nobody", Role::Admin, now()).await;
    assert!(matches!(missing, Err(AppError::NotFound(_))), "{missing:?}");
}

#[tokio::test]
async fn single_sign_on_links_existing_users_only() {
    let store = with_user("ana", Role::Reviewer).await;
    let issuer = "https://login.example.com";
    let policy = policy();
    let not_linked = "this sign-in is not linked to an active Warrant user";
    assert_eq!(
        unauthenticated(accounts::login_oidc(&store, issuer, "sub-1", None, now(), &policy).await),
        not_linked
    );
    // Never creates a user.
    assert_eq!(
        unauthenticated(
            accounts::login_oidc(&store, issuer, "sub-1", Some("zed"), now(), &policy).await
        ),
        not_linked
    );
    assert!(store.user("zed").await.unwrap().is_none());

    let first = accounts::login_oidc(&store, issuer, "sub-1", Some("ana"), now(), &policy)
        .await
        .unwrap();
    assert_eq!(
        (first.principal.username.as_str(), first.principal.role),
        ("ana", Role::Reviewer)
    );
    assert!(accounts::users(&store).await.unwrap()[0].oidc_linked);
    // Linked: no hint needed; another subject cannot take the user over.
    accounts::login_oidc(&store, issuer, "sub-1", None, now(), &policy)
        .await
        .unwrap();
    assert_eq!(
        unauthenticated(
            accounts::login_oidc(&store, issuer, "sub-2", Some("ana"), now(), &policy).await
        ),
        not_linked
    );
    accounts::add_user(&store, "adm", None, Role::Admin, None, now())
        .await
        .unwrap();
    accounts::disable_user(&store, "ana", now()).await.unwrap();
    assert_eq!(
        unauthenticated(accounts::login_oidc(&store, issuer, "sub-1", None, now(), &policy).await),
        not_linked
    );
}

/// The raw session token, the raw API token (and its secret part) and the password appear
/// nowhere in the database file; their hashes do.
#[tokio::test]
async fn no_raw_password_or_token_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let store = Store::open(&path).await.unwrap();
    accounts::add_user(&store, "ana", None, Role::Admin, Some(PASSWORD), now())
        .await
        .unwrap();
    let session = accounts::login(&store, "ana", PASSWORD, now(), &policy())
        .await
        .unwrap();
    let expires = now() + Duration::days(30);
    let (raw, info) = accounts::create_token(&store, "ana", "ci", Role::Admin, expires, now())
        .await
        .unwrap();
    accounts::authenticate_token(&store, &raw, now())
        .await
        .unwrap()
        .unwrap();
    // Failed sign-ins with other secrets on record too.
    unauthenticated(accounts::login(&store, "ana", "wrong password here", now(), &policy()).await);
    accounts::logout(&store, &session.token, now())
        .await
        .unwrap();

    // Through the store's own reads as well as in the file.
    let token_row = store.api_token(&info.id).await.unwrap().unwrap();
    let user_row = store.user("ana").await.unwrap().unwrap();
    let audit = format!("{:?}", store.audit_log().await.unwrap());
    store.close().await;
    let mut bytes = std::fs::read(&path).unwrap();
    if let Ok(wal) = std::fs::read(dir.path().join("w.db-wal")) {
        bytes.extend(wal);
    }
    let contains = |needle: &str| {
        bytes
            .windows(needle.len())
            .any(|window| window == needle.as_bytes())
    };
    let secret = raw.rsplit('_').next().unwrap();
    let session_secret = session.token.trim_start_matches("ws_");
    for raw_value in [
        PASSWORD,
        "wrong password here",
        raw.as_str(),
        secret,
        session.token.as_str(),
        session_secret,
    ] {
        assert!(!contains(raw_value), "{raw_value} is in the database file");
        assert!(
            !audit.contains(raw_value),
            "{raw_value} is in the audit trail"
        );
        assert!(!token_row.token_hash.contains(raw_value));
    }
    assert!(!format!("{user_row:?}").contains(PASSWORD));
    // The search finds what is there: the token's hash and the password's PHC string.
    assert!(contains(&token_row.token_hash));
    assert!(contains(user_row.password_hash.as_deref().unwrap()));
    assert!(user_row.password_hash.unwrap().starts_with("$argon2id$"));
}
