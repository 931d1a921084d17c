//! Copying a store to another backend (`warrant store migrate`): nothing lost, verified.
#![allow(clippy::unwrap_used)]

use chrono::{TimeZone, Utc};
use warrant_core::*;
use warrant_store::{AppliedEvent, IngestedFile, SecretOccurrence, Store, StoreError};

use crate::backends::TestDb;
use crate::inventory::realistic;

fn t(day: u32) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 6, day, 9, 0, 0)
        .single()
        .unwrap()
}

/// A store with a row in every table, NULLs and blobs included.
async fn populated(store: &Store) {
    store.import(&realistic(), t(1)).await.unwrap();
    store.meta_set("installation_id", "abc").await.unwrap();
    let finding = Finding::new(
        RuleId::AccessKeyOld,
        "old key on deployer",
        Severity::High,
        "arn:aws:iam::111122223333:role/deployer",
        "",
        vec!["evidence".into()],
        "rotate it",
    );
    let risk = RiskScore {
        score: 42.5,
        blast_radius: 0.1,
        exposure: 1.0 / 3.0,
        components: Vec::new(),
    };
    store
        .save_assessment(
            t(2),
            FindingSource::Posture,
            std::slice::from_ref(&finding),
            &[("arn:aws:iam::111122223333:role/deployer", risk)],
        )
        .await
        .unwrap();
    store
        .record_secret_occurrences(&[SecretOccurrence {
            fingerprint: "fp1:abcd".into(),
            rule: "aws-access-key".into(),
            path: "src/config.py".into(),
            commit: None,
            line: 3,
            column: 7,
            author: None,
            date: None,
            identity: Some("arn:aws:iam::111122223333:user/ci-bot".into()),
            credential: Some("AKIA1".into()),
        }])
        .await
        .unwrap();
    store
        .put_baseline("u1", b"\x00\x01\xffbaseline")
        .await
        .unwrap();
    store
        .mark_ingested(
            &IngestedFile {
                path: "/logs/a.json",
                sha256: &"a".repeat(64),
                events: 3,
                size: None,
                modified: Some(t(3)),
            },
            t(3),
        )
        .await
        .unwrap();
    let identity = "arn:aws:iam::111122223333:user/ci-bot";
    store
        .apply_events(&[AppliedEvent {
            event_id: "e1".into(),
            log: "cloud_trail".into(),
            time: t(4),
            identity: Some(identity.into()),
            credential: None,
            usage: vec![UsageRecord {
                identity: identity.into(),
                credential: None,
                action: "s3:GetObject".into(),
                resource: Some("arn:aws:s3:::bucket".into()),
                first_seen: t(4),
                last_seen: t(4),
                count: 1,
                errors: 0,
            }],
        }])
        .await
        .unwrap();
    // Governance: an exception granted and withdrawn, so both tables hold rows.
    let exception = warrant_store::ExceptionRow {
        id: "exc-0123456789abcdef".into(),
        owner: "alice@example.com".into(),
        expires: t(20),
        created: t(4),
        data: r#"{"id":"exc-0123456789abcdef","reason":"vendor"}"#.into(),
        removed_at: None,
        removed_by: None,
    };
    store
        .grant_exception(&exception, "bob@example.com", t(4))
        .await
        .unwrap();
    store
        .withdraw_exception(&exception.id, "carol@example.com", t(5))
        .await
        .unwrap();
    // Ownership and registration: an assignment, a registration and a decision on it.
    store
        .assign_owner(
            "u1",
            "alice@example.com",
            "bob@example.com",
            t(5),
            Some("lead"),
        )
        .await
        .unwrap();
    let registration = warrant_store::RegistrationRow {
        id: "reg-0123456789abcdef".into(),
        name: "svc-export".into(),
        kind: "aws_user".into(),
        owner: "alice@example.com".into(),
        requested_by: "alice@example.com".into(),
        created: t(5),
        expires: Some(t(25)),
        data: r#"{"id":"reg-0123456789abcdef"}"#.into(),
        decision: None,
    };
    store.register(&registration).await.unwrap();
    store
        .record_owner_evidence(
            &[warrant_store::OwnerEvidence {
                identity: "u1".into(),
                owner: "carol@example.com".into(),
                source: "creator".into(),
                detail: "cloudtrail:iam:CreateUser:ev-1".into(),
                at: t(4),
            }],
            t(5),
        )
        .await
        .unwrap();
    store
        .decide_registration(&registration.id, "bob@example.com", t(5), "approve", None)
        .await
        .unwrap();
    // Remediation: a plan, a decision on it and a journal record.
    let plan = warrant_store::PlanRow {
        id: "plan-0123456789abcdef".into(),
        identity: "arn:aws:iam::123456789012:user/ci".into(),
        action: "disable-key".into(),
        requested_by: "alice@example.com".into(),
        created: t(5),
        required_approvals: 1,
        data: r#"{"id":"plan-0123456789abcdef"}"#.into(),
    };
    store.save_plan(&plan).await.unwrap();
    store
        .decide_plan(&plan.id, "bob@example.com", t(5), "approve", Some("ok"))
        .await
        .unwrap();
    store
        .append_journal(
            &warrant_store::JournalRow {
                seq: 0,
                plan: plan.id.clone(),
                step: 0,
                direction: "apply".into(),
                state: "done".into(),
                at: t(6),
                actor: "bob@example.com".into(),
                output: Some(r#"{"note":"already in place"}"#.into()),
                error: None,
            },
            0,
        )
        .await
        .unwrap();
    // Reviews: a campaign with an item and a decision on it.
    let campaign = warrant_store::CampaignRow {
        id: "2026-Q4".into(),
        scope: "tier=prod".into(),
        due: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        fallback_reviewer: Some("secops@example.com".into()),
        usage_since: t(1),
        basis: "evaluated".into(),
        started_by: "alice@example.com".into(),
        started_at: t(6),
        closed_by: None,
        closed_at: None,
    };
    let item = warrant_store::ReviewItemRow {
        campaign: campaign.id.clone(),
        item: 1,
        identity: "arn:aws:iam::123456789012:user/ci".into(),
        name: "ci".into(),
        reviewer: "bob@example.com".into(),
        assigned: "owner (tag:owner)".into(),
        evidence: r#"{"risk":1.5}"#.into(),
    };
    store.start_review(&campaign, &[item]).await.unwrap();
    store
        .record_review_decision(&warrant_store::ReviewDecisionRow {
            seq: 0,
            campaign: campaign.id.clone(),
            item: 1,
            decision: "disable".into(),
            reason: None,
            decided_by: "bob@example.com".into(),
            authority: "assigned".into(),
            at: t(7),
            plan: Some(plan.id.clone()),
            plan_error: None,
            supersedes: None,
        })
        .await
        .unwrap();
    // Warrant's own users: a user with a session and an API token.
    store
        .add_user(
            &warrant_store::UserRow {
                username: "alice".into(),
                display_name: Some("Alice".into()),
                role: warrant_core::access::Role::Admin,
                password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into()),
                oidc_issuer: Some("https://login.example.com".into()),
                oidc_subject: Some("sub-1".into()),
                created_at: t(7),
                disabled_at: None,
                failed_logins: 1,
                locked_until: None,
            },
            "root",
        )
        .await
        .unwrap();
    store
        .create_session(&warrant_store::SessionRow {
            token_hash: "a".repeat(64),
            username: "alice".into(),
            created_at: t(7),
            last_seen_at: t(7),
            expires_at: t(8),
            ended_at: None,
        })
        .await
        .unwrap();
    store
        .create_api_token(
            &warrant_store::ApiTokenRow {
                id: "0a1b2c3d".into(),
                token_hash: "b".repeat(64),
                username: "alice".into(),
                name: "ci".into(),
                role: warrant_core::access::Role::Viewer,
                created_at: t(7),
                expires_at: t(20),
                last_used_at: Some(t(8)),
                revoked_at: None,
                revoked_by: None,
            },
            "alice",
        )
        .await
        .unwrap();
    // The gateway's shared state.
    store
        .record_grant(&warrant_store::GrantRow {
            id: "aa01".into(),
            agent: "agent:triage".into(),
            task: "triage 123".into(),
            grant_json: r#"{"tools":["github::get_issue"]}"#.into(),
            revocation_ids: vec!["aa01".into()],
            issued_at: t(7),
            expires_at: t(8),
            issued_by: "alice".into(),
            uses: 0,
            refused: 0,
            first_used_at: None,
            last_used_at: None,
        })
        .await
        .unwrap();
    store.record_grant_use("aa01", true, t(7)).await.unwrap();
    store
        .revoke_tokens(&["aa01".into()], "alice", "done", t(8))
        .await
        .unwrap();
    store
        .add_taint(
            "triage 123",
            &["untrusted_input".into()],
            "web::fetch",
            t(7),
        )
        .await
        .unwrap();
    store
        .request_approval(&warrant_store::ApprovalRow {
            id: "h1".into(),
            agent: "agent:pay".into(),
            task: None,
            tool: "payments::refund".into(),
            arguments_sha256: "c".repeat(64),
            arguments_view: r#"{"amount":250}"#.into(),
            taint: vec![],
            reason: "over 100".into(),
            requested_at: t(7),
            expires_at: t(9),
            status: warrant_store::ApprovalStatus::Pending,
            decided_at: None,
            decided_by: None,
            note: None,
            used_at: None,
        })
        .await
        .unwrap();
    store
        .observe_tools(
            &[warrant_store::SeenTool {
                server: "calc".into(),
                tool: "add".into(),
                fingerprint: "d".repeat(64),
                definition: r#"{"name":"add"}"#.into(),
                concerns: "[]".into(),
            }],
            true,
            "gateway",
            t(7),
        )
        .await
        .unwrap();
}

/// Copies between two test databases and checks the result through the public API too.
async fn copy_and_compare(from: &TestDb, to: &TestDb) {
    let source = from.open().await;
    populated(&source).await;
    let target = to.open().await;
    let report = source.copy_to(&target).await.unwrap();
    assert!(report.tables.iter().all(|t| t.rows > 0), "{report:?}");
    assert_eq!(report.tables, target.content_summary().await.unwrap());
    assert_eq!(
        target.load_inventory_including_removed().await.unwrap(),
        source.load_inventory_including_removed().await.unwrap()
    );
    assert_eq!(
        target.load_inventory().await.unwrap(),
        source.load_inventory().await.unwrap()
    );
    let all = warrant_store::FindingFilter::default();
    assert_eq!(
        target.findings(&all).await.unwrap(),
        source.findings(&all).await.unwrap()
    );
    assert_eq!(
        target.latest_risks().await.unwrap(),
        source.latest_risks().await.unwrap()
    );
    assert_eq!(
        target.baselines().await.unwrap(),
        source.baselines().await.unwrap()
    );
    assert_eq!(
        target.activity_counts().await.unwrap(),
        source.activity_counts().await.unwrap()
    );

    // Generated run numbers continue after the copied ones.
    let next = target
        .save_assessment(
            t(5),
            FindingSource::Secret,
            &[] as &[Finding],
            &[] as &[(&str, RiskScore)],
        )
        .await
        .unwrap();
    assert_eq!(next.0, 2);

    // A second copy into the now non-empty target is refused, and changes nothing.
    let before = target.content_summary().await.unwrap();
    let err = source.copy_to(&target).await.unwrap_err();
    assert!(matches!(err, StoreError::Unsupported(_)), "{err}");
    assert_eq!(target.content_summary().await.unwrap(), before);
}

#[tokio::test]
async fn sqlite_copies_to_postgres_with_nothing_lost() {
    let Some(to) = TestDb::postgres() else {
        return;
    };
    copy_and_compare(&TestDb::sqlite(), &to).await;
}

#[tokio::test]
async fn postgres_copies_back_to_sqlite_with_nothing_lost() {
    let Some(from) = TestDb::postgres() else {
        return;
    };
    copy_and_compare(&from, &TestDb::sqlite()).await;
}

#[tokio::test]
async fn sqlite_copies_to_sqlite_and_checksums_match() {
    copy_and_compare(&TestDb::sqlite(), &TestDb::sqlite()).await;
}
