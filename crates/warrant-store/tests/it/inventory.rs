//! Import, history and load of the inventory graph.
#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions may unwrap too.

use std::collections::BTreeMap;

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;
use warrant_core::*;
use warrant_store::{Backend, Store, StoreError, TrustDirection, TrustWalk};

fn t(day: u32) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 3, day, 12, 0, 0)
        .single()
        .unwrap()
}

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("nested/dir/warrant.db"))
        .await
        .unwrap();
    (dir, store)
}

fn prov(source: &str) -> Provenance {
    Provenance {
        source: source.into(),
        location: Some("/exports/auth.json".into()),
    }
}

/// A small but realistic AWS + Kubernetes inventory touching every field.
pub(crate) fn realistic() -> Inventory {
    let mut role = Identity::new(
        "arn:aws:iam::111122223333:role/deployer",
        IdentityKind::AwsRole,
        Provider::Aws,
        "deployer",
    );
    role.account = Some("111122223333".into());
    role.namespace = Some("/ci/".into());
    role.environment = Environment::Production;
    role.created = Some(t(1));
    role.last_used = Some(t(2));
    role.owners = vec![OwnerRef {
        id: "alice@example.com".into(),
        source: "tag:owner".into(),
    }];
    role.purpose = Some("deploys the web tier".into());
    role.tags = BTreeMap::from([("team".into(), "platform".into())]);
    role.provenance = prov("aws-authorization-details");
    role.attributes
        .insert("max_session".into(), serde_json::json!(3600));

    let mut user = Identity::new(
        "arn:aws:iam::111122223333:user/ci-bot",
        IdentityKind::AwsUser,
        Provider::Aws,
        "ci-bot",
    );
    user.account = Some("111122223333".into());
    user.login = Some(InteractiveLogin {
        password_enabled: true,
        password_last_used: Some(t(3)),
        password_last_changed: None,
        mfa_active: false,
    });
    user.provenance = prov("aws-authorization-details");

    let mut sa = Identity::new(
        "system:serviceaccount:payments:api",
        IdentityKind::K8sServiceAccount,
        Provider::Kubernetes,
        "api",
    );
    sa.account = Some("prod-eu".into());
    sa.provenance = prov("kubernetes");

    let mut key = Credential::new(
        "AKIAEXAMPLEEXAMPLE01",
        user.id.clone(),
        CredentialKind::AccessKey,
    );
    key.created = Some(t(1));
    key.last_used = Some(t(4));
    key.storage = Some("aws-iam".into());
    key.provenance = prov("aws-authorization-details");
    let mut leaked = Credential::new("fp:abc123", user.id.clone(), CredentialKind::Secret);
    leaked.fingerprint = Some("abc123".into());
    leaked.preview = Some("AKIA…01".into());
    leaked.active = false;
    leaked.expires = Some(t(28));
    leaked.provenance = prov("aws-authorization-details");

    let policy = Policy {
        id: "arn:aws:iam::111122223333:policy/deploy".into(),
        name: "deploy".into(),
        provider: Provider::Aws,
        kind: PolicyKind::CustomerManaged,
        statements: vec![
            Statement {
                sid: Some("S3".into()),
                effect: Effect::Allow,
                actions: vec!["s3:*".into()],
                not_actions: vec![],
                resources: vec!["arn:aws:s3:::web/*".into()],
                not_resources: vec![],
                conditions: Some(serde_json::json!({"Bool": {"aws:SecureTransport": "true"}})),
            },
            Statement {
                sid: None,
                effect: Effect::Deny,
                actions: vec![],
                not_actions: vec!["iam:Get*".into()],
                resources: vec![],
                not_resources: vec!["*".into()],
                conditions: None,
            },
        ],
        provenance: prov("aws-authorization-details"),
    };
    let managed = Policy {
        id: "arn:aws:iam::aws:policy/ReadOnlyAccess".into(),
        name: "ReadOnlyAccess".into(),
        provider: Provider::Aws,
        kind: PolicyKind::AwsManaged,
        statements: vec![],
        provenance: prov("aws-authorization-details"),
    };
    let attachments = vec![
        Attachment {
            identity: role.id.clone(),
            policy: policy.id.clone(),
            via: None,
            scope: None,
        },
        Attachment {
            identity: user.id.clone(),
            policy: managed.id.clone(),
            via: Some("group:arn:aws:iam::111122223333:group/bots".into()),
            scope: None,
        },
    ];
    let edge = TrustEdge {
        from: user.id.clone(),
        from_kind: PrincipalKind::Identity,
        to: role.id.clone(),
        kind: TrustKind::AssumeRole,
        conditions: None,
        provenance: prov("aws-authorization-details"),
    };
    let resource = Resource {
        id: "arn:aws:s3:::web".into(),
        kind: "s3_bucket".into(),
        account: Some("111122223333".into()),
        environment: Environment::Production,
        sensitivity: Sensitivity::High,
        tags: BTreeMap::new(),
        provenance: prov("aws-authorization-details"),
        runs_as: None,
    };
    let owner = Owner {
        id: "alice@example.com".into(),
        display_name: Some("Alice".into()),
        email: Some("alice@example.com".into()),
        login: None,
        kind: OwnerKind::Person,
        status: OwnerStatus::Active,
        manager: Some("bob@example.com".into()),
        department: None,
        provenance: Provenance {
            source: "okta".into(),
            location: Some("/exports/okta.json".into()),
        },
    };
    let account = Account {
        id: "111122223333".into(),
        name: Some("prod".into()),
        provider: Provider::Aws,
        environment: Environment::Production,
        status: Some("ACTIVE".into()),
        email: None,
        provenance: prov("aws-organizations"),
    };
    Inventory {
        identities: vec![role, user, sa],
        credentials: vec![key, leaked],
        policies: vec![policy, managed],
        attachments,
        trust_edges: vec![edge],
        resources: vec![resource],
        owners: vec![owner],
        accounts: vec![account],
        scopes: vec![SourceScope {
            source: "aws-authorization-details".into(),
            scope: "111122223333".into(),
        }],
    }
}

/// Load order is by key; sort the input the same way to compare.
fn normalised(mut inv: Inventory) -> Inventory {
    inv.identities.sort_by(|a, b| a.id.cmp(&b.id));
    inv.credentials.sort_by(|a, b| a.id.cmp(&b.id));
    inv.policies.sort_by(|a, b| a.id.cmp(&b.id));
    inv.attachments.sort();
    inv.trust_edges.sort_by(|a, b| a.from.cmp(&b.from));
    inv.resources.sort_by(|a, b| a.id.cmp(&b.id));
    inv.owners.sort_by(|a, b| a.id.cmp(&b.id));
    inv.accounts.sort_by(|a, b| a.id.cmp(&b.id));
    inv.scopes.clear();
    inv
}

conformance! {
#[tokio::test]
async fn round_trip_preserves_every_field(db) {
    let store = db.open().await;
    let inv = realistic();
    let stats = store.import(&inv, t(5)).await.unwrap();
    assert_eq!(stats.identities.new, 3);
    assert_eq!(stats.total().new, 13);
    let loaded = store.load_inventory().await.unwrap();
    assert_eq!(loaded, normalised(inv));
}
}

conformance! {
#[tokio::test]
async fn reimport_is_idempotent_and_keeps_first_seen(db) {
    let store = db.open().await;
    let inv = realistic();
    store.import(&inv, t(5)).await.unwrap();
    let stats = store.import(&inv, t(6)).await.unwrap();
    let total = stats.total();
    assert_eq!((total.new, total.changed, total.removed), (0, 0, 0));
    assert_eq!(total.unchanged, 13);
    let stored = store
        .identity("arn:aws:iam::111122223333:user/ci-bot")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.first_seen, t(5));
    assert_eq!(stored.last_seen, t(6));
    assert_eq!(stored.removed_at, None);
    assert_eq!(stored.credentials.len(), 2);
    assert_eq!(stored.credentials[0].first_seen, t(5));
    assert_eq!(store.identity("nobody").await.unwrap(), None);
    let first_seen = store.identities_first_seen().await.unwrap();
    assert_eq!(first_seen.len(), inv.identities.len());
    assert!(first_seen.iter().all(|(_, at)| *at == t(5)));
}
}

conformance! {
#[tokio::test]
async fn back_dated_import_widens_history_instead_of_failing(db) {
    let store = db.open().await;
    let mut inv = realistic();
    store.import(&inv, t(10)).await.unwrap();
    store.import(&inv, t(3)).await.unwrap();
    inv.identities[0].purpose = Some("changed".into());
    store.import(&inv, t(2)).await.unwrap();
    let stored = store
        .identity(&inv.identities[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.first_seen, stored.last_seen), (t(2), t(10)));
    assert_eq!(stored.identity.purpose.as_deref(), Some("changed"));
    let user = store
        .identity(&inv.identities[1].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((user.first_seen, user.last_seen), (t(2), t(10)));
}
}

conformance! {
#[tokio::test]
async fn changed_records_update_and_keep_first_seen(db) {
    let store = db.open().await;
    let mut inv = realistic();
    store.import(&inv, t(5)).await.unwrap();
    inv.identities[0].purpose = Some("now also runs migrations".into());
    inv.policies[0].statements.pop();
    let stats = store.import(&inv, t(7)).await.unwrap();
    assert_eq!(stats.identities.changed, 1);
    assert_eq!(stats.identities.unchanged, 2);
    assert_eq!(stats.policies.changed, 1);
    let stored = store
        .identity(&inv.identities[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.first_seen, t(5));
    assert_eq!(stored.last_seen, t(7));
    assert_eq!(
        stored.identity.purpose.as_deref(),
        Some("now also runs migrations")
    );
    let loaded = store.load_inventory().await.unwrap();
    assert_eq!(loaded, normalised(inv));
}
}

conformance! {
#[tokio::test]
async fn complete_scope_marks_missing_records_removed_and_they_can_return(db) {
    let store = db.open().await;
    let full = realistic();
    store.import(&full, t(5)).await.unwrap();

    // The AWS account snapshot no longer lists the user, its keys, attachment and trust edge.
    let user = "arn:aws:iam::111122223333:user/ci-bot";
    let mut smaller = full.clone();
    smaller.identities.retain(|i| i.id != user);
    smaller.credentials.clear();
    smaller.attachments.retain(|a| a.identity != user);
    smaller.trust_edges.clear();
    // The Kubernetes record is absent too, but its scope is not declared complete: kept.
    smaller
        .identities
        .retain(|i| i.provider != Provider::Kubernetes);
    let stats = store.import(&smaller, t(6)).await.unwrap();
    assert_eq!(stats.identities.removed, 1);
    assert_eq!(stats.credentials.removed, 2);
    assert_eq!(stats.attachments.removed, 1);
    assert_eq!(stats.trust_edges.removed, 1);

    let now = store.load_inventory().await.unwrap();
    assert!(now.identities.iter().all(|i| i.id != user));
    assert!(
        now.identities
            .iter()
            .any(|i| i.id == "system:serviceaccount:payments:api")
    );
    assert!(now.credentials.is_empty());
    let everything = store.load_inventory_including_removed().await.unwrap();
    assert!(everything.identities.iter().any(|i| i.id == user));
    let gone = store.identity(user).await.unwrap().unwrap();
    assert_eq!(gone.removed_at, Some(t(6)));
    assert_eq!(gone.credentials[0].removed_at, Some(t(6)));

    // It comes back.
    let stats = store.import(&full, t(8)).await.unwrap();
    assert_eq!(stats.identities.changed, 1);
    assert_eq!(stats.identities.removed, 0);
    let back = store.identity(user).await.unwrap().unwrap();
    assert_eq!(back.removed_at, None);
    assert_eq!(back.first_seen, t(5));
    assert_eq!(back.last_seen, t(8));
    assert_eq!(store.load_inventory().await.unwrap(), normalised(full));
}
}

conformance! {
#[tokio::test]
async fn failed_import_leaves_the_previous_state_intact(db) {
    let store = db.open().await;
    let inv = realistic();
    store.import(&inv, t(5)).await.unwrap();
    let before = store.load_inventory().await.unwrap();

    // Identities are written first and succeed; the empty credential id violates a CHECK
    // constraint afterwards, so the whole transaction must roll back.
    let mut bad = inv.clone();
    bad.identities[0].purpose = Some("changed in the failed import".into());
    bad.identities.push(Identity::new(
        "arn:aws:iam::111122223333:role/new",
        IdentityKind::AwsRole,
        Provider::Aws,
        "new",
    ));
    bad.credentials
        .push(Credential::new("", "x", CredentialKind::ApiKey));
    let err = store.import(&bad, t(6)).await.unwrap_err();
    assert!(matches!(err, StoreError::Database(_)), "{err}");

    assert_eq!(store.load_inventory().await.unwrap(), before);
    let stored = store
        .identity(&inv.identities[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.last_seen, t(5));
}
}

conformance! {
#[tokio::test]
async fn dropped_import_future_commits_nothing(db) {
    let store = db.open().await;
    let inv = realistic();
    store.import(&inv, t(5)).await.unwrap();
    let before = store.load_inventory().await.unwrap();
    let mut bigger = inv.clone();
    for n in 0..2000 {
        let mut i = Identity::new(
            format!("arn:aws:iam::111122223333:role/r{n}"),
            IdentityKind::AwsRole,
            Provider::Aws,
            format!("r{n}"),
        );
        i.provenance = prov("aws-authorization-details");
        bigger.identities.push(i);
    }
    // Poll the import a few times, then drop it mid-flight.
    {
        let fut = store.import(&bigger, t(6));
        tokio::pin!(fut);
        for _ in 0..3 {
            let _ = futures_poll_once(fut.as_mut()).await;
        }
    }
    let after = store.load_inventory().await.unwrap();
    assert!(after == before, "a dropped import must not commit");
}
}

/// Polls a future once, returning whether it finished.
async fn futures_poll_once<F: std::future::Future>(fut: std::pin::Pin<&mut F>) -> bool {
    let mut fut = Some(fut);
    std::future::poll_fn(move |cx| {
        let done = fut.take().map(|f| f.poll(cx).is_ready()).unwrap_or(false);
        std::task::Poll::Ready(done)
    })
    .await
}

conformance! {
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_wait_instead_of_failing(db) {
    let store = db.open().await;
    let inv = realistic();
    let mut other = Inventory::default();
    for n in 0..500 {
        let mut i = Identity::new(
            format!("system:serviceaccount:ns:sa{n}"),
            IdentityKind::K8sServiceAccount,
            Provider::Kubernetes,
            format!("sa{n}"),
        );
        i.account = Some("dev".into());
        i.provenance = prov("kubernetes");
        other.identities.push(i);
    }
    let usage = UsageRecord {
        identity: "system:serviceaccount:ns:sa1".into(),
        credential: None,
        action: "get:/secrets".into(),
        resource: None,
        first_seen: t(1),
        last_seen: t(2),
        count: 1,
        errors: 0,
    };
    let (a, b, c, d) = tokio::join!(
        store.import(&inv, t(5)),
        store.import(&other, t(5)),
        store.record_usage(std::slice::from_ref(&usage)),
        store.load_inventory(),
    );
    a.unwrap();
    b.unwrap();
    c.unwrap();
    d.unwrap();
    assert_eq!(store.load_inventory().await.unwrap().identities.len(), 503);
}
}

conformance! {
#[tokio::test]
async fn touch_last_used_never_lowers(db) {
    let store = db.open().await;
    let inv = realistic();
    store.import(&inv, t(5)).await.unwrap();
    let user = "arn:aws:iam::111122223333:user/ci-bot".to_string();
    let key = Some("AKIAEXAMPLEEXAMPLE01".to_string());
    store
        .touch_last_used(&[(user.clone(), key.clone(), t(10))])
        .await
        .unwrap();
    store
        .touch_last_used(&[(user.clone(), key.clone(), t(9))])
        .await
        .unwrap();
    let stored = store.identity(&user).await.unwrap().unwrap();
    assert_eq!(stored.identity.last_used, Some(t(10)));
    let cred = &stored.credentials[0].record;
    assert_eq!(cred.id, "AKIAEXAMPLEEXAMPLE01");
    assert_eq!(cred.last_used, Some(t(10)));
    // Older than what the source says: the source value stays.
    store
        .touch_last_used(&[("arn:aws:iam::111122223333:role/deployer".into(), None, t(1))])
        .await
        .unwrap();
    let role = store
        .identity("arn:aws:iam::111122223333:role/deployer")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(role.identity.last_used, Some(t(2)));
    // A re-import reporting an older use does not lower what activity saw, and is unchanged.
    let stats = store.import(&inv, t(11)).await.unwrap();
    assert_eq!(stats.identities.changed, 0);
    let loaded = store.load_inventory().await.unwrap();
    let u = loaded.identities.iter().find(|i| i.id == user).unwrap();
    assert_eq!(u.last_used, Some(t(10)));
}
}

#[tokio::test]
async fn open_url_accepts_sqlite_urls_and_refuses_unknown_schemes() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("a/b.db").display());
    let store = Store::open_url(&url).await.unwrap();
    store.meta_set("installation_id", "abc").await.unwrap();
    store.meta_set("installation_id", "def").await.unwrap();
    assert_eq!(
        store.meta_get("installation_id").await.unwrap().as_deref(),
        Some("def")
    );
    assert_eq!(store.meta_get("missing").await.unwrap(), None);
    store.close().await;
    // Reopening runs migrations again without harm and keeps data.
    let again = Store::open_url(&url).await.unwrap();
    assert_eq!(
        again.meta_get("installation_id").await.unwrap().as_deref(),
        Some("def")
    );
    assert_eq!(again.backend(), Backend::Sqlite);
    let err = Store::open_url("mysql://x").await.unwrap_err();
    assert!(matches!(err, StoreError::Unsupported(_)));

    // In memory: every call sees the same database.
    let memory = Store::open_url("sqlite::memory:").await.unwrap();
    memory.import(&realistic(), t(5)).await.unwrap();
    for _ in 0..3 {
        assert_eq!(
            memory.load_inventory().await.unwrap(),
            normalised(realistic())
        );
    }
}

fn arb_identity() -> impl Strategy<Value = Identity> {
    (
        "[a-z0-9:/_-]{1,40}",
        prop::sample::select(IdentityKind::ALL.to_vec()),
        prop::sample::select(Provider::ALL.to_vec()),
        "\\PC{0,20}",
        prop::option::of("[0-9]{12}"),
        prop::option::of(0i64..4_000_000_000),
        prop::collection::btree_map("[a-z]{1,8}", "\\PC{0,12}", 0..4),
        prop::option::of("\\PC{0,30}"),
        prop::sample::select(IdentityStatus::ALL.to_vec()),
    )
        .prop_map(
            |(id, kind, provider, name, account, secs, tags, purpose, status)| {
                let mut i = Identity::new(id, kind, provider, name);
                i.account = account;
                i.last_used = secs.and_then(|s| Utc.timestamp_opt(s, 0).single());
                i.created = i.last_used.map(|l| l - Duration::days(3));
                i.tags = tags;
                i.purpose = purpose;
                i.status = status;
                i.provenance = prov("prop");
                i
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn arbitrary_identities_round_trip(identities in prop::collection::vec(arb_identity(), 0..20)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (_dir, store) = store().await;
            let mut inv = Inventory { identities, ..Inventory::default() };
            // Later duplicates win, as in the store.
            let mut seen = std::collections::HashMap::new();
            for (n, i) in inv.identities.iter().enumerate() {
                seen.insert(i.id.clone(), n);
            }
            let keep: Vec<Identity> = inv
                .identities
                .iter()
                .enumerate()
                .filter(|(n, i)| seen[&i.id] == *n)
                .map(|(_, i)| i.clone())
                .collect();
            inv.identities = keep;
            store.import(&inv, t(5)).await.unwrap();
            let loaded = store.load_inventory().await.unwrap();
            prop_assert_eq!(loaded, normalised(inv));
            Ok(())
        })?;
    }
}

conformance! {
/// Accounts imported one at a time share AWS managed policies: one account's snapshot dropping
/// such a policy must not remove it for the others.
#[tokio::test]
async fn an_account_snapshot_never_removes_shared_aws_managed_policies(db) {
    let store = db.open().await;
    let admin_id = "arn:aws:iam::aws:policy/AdministratorAccess";
    let account_batch = |account: &str, with_admin: bool| {
        let mut inv = Inventory::default();
        let user = format!("arn:aws:iam::{account}:user/ci");
        let mut identity = Identity::new(user.clone(), IdentityKind::AwsUser, Provider::Aws, "ci");
        identity.account = Some(account.to_string());
        identity.provenance = prov("aws-authorization-details");
        inv.identities.push(identity);
        if with_admin {
            inv.policies.push(Policy {
                id: admin_id.into(),
                name: "AdministratorAccess".into(),
                provider: Provider::Aws,
                kind: PolicyKind::AwsManaged,
                statements: vec![],
                provenance: prov("aws-authorization-details"),
            });
            inv.attachments.push(Attachment {
                identity: user,
                policy: admin_id.into(),
                via: None,
                scope: None,
            });
        }
        inv.scopes.push(SourceScope {
            source: "aws-authorization-details".into(),
            scope: account.into(),
        });
        inv
    };
    // Account 1 is imported first: a policy scoped by its first holder would be account 1's.
    store
        .import(&account_batch("111111111111", true), t(1))
        .await
        .unwrap();
    store
        .import(&account_batch("222222222222", true), t(2))
        .await
        .unwrap();
    // Account 1 stops using it; account 2 still holds it.
    store
        .import(&account_batch("111111111111", false), t(3))
        .await
        .unwrap();
    let inv = store.load_inventory().await.unwrap();
    assert!(
        inv.policies.iter().any(|p| p.id == admin_id),
        "the shared policy is still present"
    );
    let holders: Vec<&str> = inv
        .attachments
        .iter()
        .filter(|a| a.policy == admin_id)
        .map(|a| a.identity.as_str())
        .collect();
    assert_eq!(
        holders,
        ["arn:aws:iam::222222222222:user/ci"],
        "only account 1's attachment is gone"
    );
}
}

conformance! {
/// `show` reads one identity's part of the graph: itself, its credentials, the policies it
/// holds, trust edges into and out of it and its owners, and nothing else.
#[tokio::test]
async fn a_neighbourhood_holds_what_one_identity_needs(db) {
    let store = db.open().await;
    let inv = realistic();
    store.import(&inv, t(5)).await.unwrap();

    let user = store
        .load_neighbourhood("arn:aws:iam::111122223333:user/ci-bot")
        .await
        .unwrap();
    let ids = |v: &[Identity]| v.iter().map(|i| i.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&user.identities), ["arn:aws:iam::111122223333:user/ci-bot"]);
    assert_eq!(user.credentials.len(), 2);
    assert_eq!(user.attachments.len(), 1);
    assert_eq!(user.policies.len(), 1);
    assert_eq!(user.policies[0].id, "arn:aws:iam::aws:policy/ReadOnlyAccess");
    // The edge starts at the user: found by the key's prefix.
    assert_eq!(user.trust_edges.len(), 1);
    assert!(user.resources.is_empty() && user.owners.is_empty());

    let role = store
        .load_neighbourhood("arn:aws:iam::111122223333:role/deployer")
        .await
        .unwrap();
    assert!(role.credentials.is_empty());
    assert_eq!(role.policies.len(), 1);
    assert_eq!(role.policies[0].statements.len(), 2);
    // The edge ends at the role.
    assert_eq!(role.trust_edges.len(), 1);
    assert_eq!(role.owners.len(), 1);
    assert_eq!(role.owners[0].id, "alice@example.com");

    // A prefix of another id is not that id.
    let none = store
        .load_neighbourhood("arn:aws:iam::111122223333:user/ci")
        .await
        .unwrap();
    assert!(none.identities.is_empty() && none.trust_edges.is_empty());

    let names = store.identity_names().await.unwrap();
    assert_eq!(names.len(), 3);
    assert!(names.contains(&("system:serviceaccount:payments:api".into(), "api".into())));
}
}

conformance! {
/// Activity detection reads agents' declared tools, not privilege: it loads the inventory with
/// only the MCP tool policies, and everything else whole.
#[tokio::test]
async fn an_inventory_can_be_loaded_with_the_policies_of_one_kind(db) {
    let store = db.open().await;
    let mut inv = realistic();
    inv.policies.push(Policy {
        id: "mcp:alice/.cursor/mcp.json#github/tools".into(),
        name: "github tools".into(),
        provider: Provider::Mcp,
        kind: PolicyKind::McpTools,
        statements: vec![Statement {
            sid: None,
            effect: Effect::Allow,
            actions: vec!["tool:create_issue".into()],
            not_actions: vec![],
            resources: vec!["*".into()],
            not_resources: vec![],
            conditions: None,
        }],
        provenance: prov("mcp"),
    });
    store.import(&inv, t(5)).await.unwrap();
    let whole = store.load_inventory().await.unwrap();
    assert_eq!(whole.policies.len(), 3);
    let tools = store
        .load_inventory_with_policies_of(PolicyKind::McpTools)
        .await
        .unwrap();
    assert_eq!(tools.policies.len(), 1);
    assert_eq!(tools.policies[0].kind, PolicyKind::McpTools);
    assert_eq!(tools.identities, whole.identities);
    assert_eq!(tools.attachments, whole.attachments);
    assert_eq!(tools.credentials, whole.credentials);
}
}

conformance! {
/// An identity's page walks who-can-become-whom a few hops out and in: each principal once by
/// a shortest chain, so a cycle ends where it closes; an id that merely starts with another's
/// is not it; the depth and principal bounds cut the walk and say so.
#[tokio::test]
async fn trust_chains_are_walked_a_bounded_number_of_hops(db) {
    let store = db.open().await;
    let id = |name: &str| format!("arn:aws:iam::111122223333:{name}");
    let mut inv = Inventory::default();
    inv.identities.push(Identity::new(id("user/ci"), IdentityKind::AwsUser, Provider::Aws, "ci"));
    for role in ["a", "ab", "b", "c", "d"] {
        inv.identities.push(Identity::new(
            id(&format!("role/{role}")),
            IdentityKind::AwsRole,
            Provider::Aws,
            role,
        ));
    }
    let edge = |from: &str, from_kind: PrincipalKind, to: &str| TrustEdge {
        from: from.into(),
        from_kind,
        to: to.into(),
        kind: TrustKind::AssumeRole,
        conditions: None,
        provenance: prov("aws-authorization-details"),
    };
    let identity = PrincipalKind::Identity;
    inv.trust_edges = vec![
        edge(&id("user/ci"), identity, &id("role/a")),
        edge(&id("role/a"), identity, &id("role/b")),
        edge(&id("role/b"), identity, &id("role/c")),
        // Back to the start of the chain: a cycle.
        edge(&id("role/c"), identity, &id("role/a")),
        edge(&id("role/c"), identity, &id("role/d")),
        // Out of `role/ab`, whose id starts with `role/a`'s.
        edge(&id("role/ab"), identity, &id("role/d")),
        edge("999988887777", PrincipalKind::Account, &id("role/a")),
        edge("ecs-tasks.amazonaws.com", PrincipalKind::Service, &id("role/b")),
    ];
    store.import(&inv, t(5)).await.unwrap();
    let hops = |walk: &TrustWalk| -> Vec<(usize, String, String)> {
        walk.reached
            .iter()
            .map(|(depth, e)| (*depth, e.from.clone(), e.to.clone()))
            .collect()
    };

    let out = store
        .trust_walk(&id("user/ci"), TrustDirection::Outward, 4, 60)
        .await
        .unwrap();
    assert_eq!(
        hops(&out),
        [
            (1, id("user/ci"), id("role/a")),
            (2, id("role/a"), id("role/b")),
            (3, id("role/b"), id("role/c")),
            (4, id("role/c"), id("role/d")),
        ]
    );
    assert!(!out.truncated);

    let into = store
        .trust_walk(&id("role/a"), TrustDirection::Inward, 4, 60)
        .await
        .unwrap();
    assert_eq!(
        hops(&into),
        [
            (1, "999988887777".to_string(), id("role/a")),
            (1, id("role/c"), id("role/a")),
            (1, id("user/ci"), id("role/a")),
            (2, id("role/b"), id("role/c")),
            (3, "ecs-tasks.amazonaws.com".to_string(), id("role/b")),
        ]
    );
    assert!(!into.truncated);

    // Bounds: two hops, or two principals, leave `role/c` and beyond unreached.
    for (depth, most) in [(2, 60), (4, 2)] {
        let cut = store
            .trust_walk(&id("user/ci"), TrustDirection::Outward, depth, most)
            .await
            .unwrap();
        assert_eq!(hops(&cut), hops(&out)[..2], "{depth} hops, {most} principals");
        assert!(cut.truncated, "{depth} hops, {most} principals");
    }

    // Nothing trusts or is trusted by an id no identity has.
    let none = store
        .trust_walk(&id("role/zz"), TrustDirection::Inward, 4, 60)
        .await
        .unwrap();
    assert_eq!(none, TrustWalk::default());

    let known = store
        .current_identities(&[id("role/d"), "999988887777".into(), id("user/ci")])
        .await
        .unwrap();
    let names: Vec<&str> = known.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["d", "ci"]);
}
}
