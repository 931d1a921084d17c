#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
#![allow(
    clippy::indexing_slicing,
    reason = "tests, examples and benchmarks index their own data"
)]
//! The executor against moto server, a real AWS API emulator on loopback, through the official
//! SDK: every call is made for real, its effect read back with the SDK, then made again to show
//! it is idempotent.

use aws_config::SdkConfig;
use aws_sdk_iam::types::StatusType;
use warrant_aws_live::testing::MotoServer;
use warrant_aws_write::{AwsExecutor, WriteError};
use warrant_core::Timestamp;
use warrant_lifecycle::{
    Applied, AwsCall, Check, Executor, Expect, KeyRef, Principal, StepContext, StepOutput,
};

const DENY_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;
const ALLOW_READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

async fn config(endpoint: &str, key: &str, secret: &str) -> SdkConfig {
    config_in(endpoint, "us-east-1", key, secret).await
}

async fn config_in(endpoint: &str, region: &'static str, key: &str, secret: &str) -> SdkConfig {
    warrant_aws_live::config_loader()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(region))
        .credentials_provider(aws_sdk_iam::config::Credentials::new(
            key, secret, None, None, "test",
        ))
        // Moto is local: a failure is an answer, not a network hiccup worth retrying.
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await
}

struct Env {
    moto: MotoServer,
    executor: AwsExecutor,
    iam: aws_sdk_iam::Client,
    secrets: aws_sdk_secretsmanager::Client,
}

async fn env() -> Env {
    let moto = MotoServer::start().expect("moto server (pip install 'moto[server]')");
    let admin = config(&moto.endpoint(), "testing", "testing").await;
    Env {
        executor: AwsExecutor::new(&admin),
        iam: aws_sdk_iam::Client::new(&admin),
        secrets: aws_sdk_secretsmanager::Client::new(&admin),
        moto,
    }
}

impl Env {
    async fn apply(
        &self,
        call: AwsCall,
        outputs: &[Option<StepOutput>],
        now: Timestamp,
    ) -> Applied {
        self.try_apply(call, outputs, now, false).await.unwrap()
    }

    async fn try_apply(
        &self,
        call: AwsCall,
        outputs: &[Option<StepOutput>],
        now: Timestamp,
        resumed: bool,
    ) -> Result<Applied, WriteError> {
        let ctx = StepContext {
            outputs,
            now,
            resumed,
            started: None,
        };
        self.executor.apply(&call, ctx).await
    }

    async fn check(&self, expect: Expect) -> Check {
        self.executor.check(&expect).await.unwrap()
    }

    async fn keys(&self, user: &str) -> Vec<(String, StatusType)> {
        self.iam
            .list_access_keys()
            .user_name(user)
            .send()
            .await
            .unwrap()
            .access_key_metadata()
            .iter()
            .map(|k| {
                (
                    k.access_key_id().unwrap().to_string(),
                    k.status().unwrap().clone(),
                )
            })
            .collect()
    }

    async fn create_key(&self, user: &str) -> (String, String, Timestamp) {
        let out = self
            .iam
            .create_access_key()
            .user_name(user)
            .send()
            .await
            .unwrap();
        let key = out.access_key().unwrap();
        let created = key.create_date().unwrap();
        (
            key.access_key_id().to_string(),
            key.secret_access_key().to_string(),
            chrono::DateTime::from_timestamp(created.secs(), created.subsec_nanos()).unwrap(),
        )
    }

    /// Makes a call signed with the key, so the emulator records its last use.
    async fn use_key(&self, id: &str, secret: &str) {
        let as_key = config(&self.moto.endpoint(), id, secret).await;
        aws_sdk_iam::Client::new(&as_key)
            .list_users()
            .send()
            .await
            .unwrap();
    }

    /// The secret's current value as (AccessKeyId, SecretAccessKey), and its version id.
    async fn secret_value(&self, secret: &str) -> ((String, String), String) {
        let out = self
            .secrets
            .get_secret_value()
            .secret_id(secret)
            // Named: without it moto 5.2 returns the version last written, not AWSCURRENT.
            .version_stage("AWSCURRENT")
            .send()
            .await
            .unwrap();
        let value: serde_json::Value = serde_json::from_str(out.secret_string().unwrap()).unwrap();
        (
            (
                value["AccessKeyId"].as_str().unwrap().to_string(),
                value["SecretAccessKey"].as_str().unwrap().to_string(),
            ),
            out.version_id().unwrap().to_string(),
        )
    }
}

fn done(applied: Applied) -> StepOutput {
    match applied {
        Applied::Done(output) => output,
        Applied::Waiting(why) => panic!("expected Done, got Waiting({why})"),
    }
}

fn assert_already(applied: Applied) {
    let note = done(applied).note.unwrap_or_default();
    assert!(note.starts_with("already in place"), "{note}");
}

fn assert_changed(applied: Applied) {
    let output = done(applied);
    assert_eq!(
        output.note, None,
        "a change has nothing to note: {output:?}"
    );
}

fn drift(check: Check) -> String {
    match check {
        Check::Drift(found) => found,
        Check::Holds => panic!("expected drift, the expectation holds"),
    }
}

fn user(name: &str) -> Principal {
    Principal::User(name.to_string())
}

fn role(name: &str) -> Principal {
    Principal::Role(name.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn rotation_stores_the_new_key_only_in_the_secret_and_every_call_is_idempotent() {
    let env = env().await;
    env.iam.create_user().user_name("ci").send().await.unwrap();
    let (old, _, t0) = env.create_key("ci").await;
    assert_eq!(
        env.check(Expect::KeySlotFree { user: "ci".into() }).await,
        Check::Holds
    );
    assert_eq!(
        env.check(Expect::AccessKey {
            user: "ci".into(),
            key: old.clone(),
            active: true,
            unused_since: Some(t0),
        })
        .await,
        Check::Holds
    );

    // Step 0: the new key, into a secret that does not exist yet.
    let create = AwsCall::CreateAccessKeyIntoSecret {
        user: "ci".into(),
        secret: "ci/aws".into(),
    };
    let applied = env.apply(create.clone(), &[], t0).await;
    let debug = format!("{applied:?}");
    let out = done(applied);
    let new = out.access_key_id.clone().expect("the new key's id");
    assert_ne!(new, old);
    let ((stored_id, stored_secret), version) = env.secret_value("ci/aws").await;
    assert_eq!(stored_id, new);
    assert!(!stored_secret.is_empty());
    let journal = serde_json::to_string(&out).unwrap();
    assert!(!journal.contains(&stored_secret), "{journal}");
    assert!(!debug.contains(&stored_secret), "{debug}");
    assert_eq!(out.secret_version.as_deref(), Some(version.as_str()));
    assert_eq!(
        out.previous_secret_version, None,
        "the step created the secret"
    );
    assert!(out.key_created.is_some());
    assert_eq!(out.note.as_deref(), Some("created secret ci/aws"));
    assert!(drift(env.check(Expect::KeySlotFree { user: "ci".into() }).await).contains("2 keys"));

    // A resumed apply of the same step finds it took effect and changes nothing.
    let again = done(env.try_apply(create, &[], t0, true).await.unwrap());
    assert!(again.note.unwrap().starts_with("already in place"));
    assert_eq!(again.access_key_id.as_deref(), Some(new.as_str()));
    assert_eq!(again.secret_version.as_deref(), Some(version.as_str()));
    assert_eq!(again.previous_secret_version, None);
    assert_eq!(env.keys("ci").await.len(), 2);

    let outputs = vec![Some(out.clone())];
    let created = out.key_created.unwrap();
    let wait = |grace_hours| AwsCall::AwaitKeyUse {
        user: "ci".into(),
        key: KeyRef::CreatedByStep(0),
        grace_hours,
    };
    let no_grace = done(env.apply(wait(0), &outputs, created).await);
    assert!(no_grace.note.unwrap().contains("not used"));
    let one_hour_later = created + chrono::Duration::hours(1);
    match env.apply(wait(48), &outputs, one_hour_later).await {
        Applied::Waiting(why) => assert!(why.contains(&new), "{why}"),
        other => panic!("expected Waiting, got {other:?}"),
    }
    let two_days_later = created + chrono::Duration::hours(48);
    let over = done(env.apply(wait(48), &outputs, two_days_later).await);
    assert!(over.note.unwrap().contains("grace period over"));
    // Once the new key is used, the wait is over whatever the time.
    env.use_key(&new, &stored_secret).await;
    let used = done(env.apply(wait(48), &outputs, one_hour_later).await);
    assert!(used.note.unwrap().starts_with("used at"));

    let disable = AwsCall::SetAccessKeyStatus {
        user: "ci".into(),
        key: KeyRef::Id(old.clone()),
        active: false,
    };
    assert_changed(env.apply(disable.clone(), &outputs, created).await);
    assert!(
        env.keys("ci")
            .await
            .contains(&(old.clone(), StatusType::Inactive))
    );
    assert_already(env.apply(disable, &outputs, created).await);
    assert!(
        env.keys("ci")
            .await
            .contains(&(old.clone(), StatusType::Inactive))
    );

    let delete = AwsCall::DeleteAccessKey {
        user: "ci".into(),
        key: KeyRef::Id(old.clone()),
    };
    assert_changed(env.apply(delete.clone(), &outputs, created).await);
    assert_eq!(
        env.keys("ci").await,
        vec![(new.clone(), StatusType::Active)]
    );
    assert_already(env.apply(delete, &outputs, created).await);
    assert_eq!(
        env.keys("ci").await,
        vec![(new.clone(), StatusType::Active)]
    );

    // A key named by the step that created it resolves through that step's output.
    let disable_new = AwsCall::SetAccessKeyStatus {
        user: "ci".into(),
        key: KeyRef::CreatedByStep(0),
        active: false,
    };
    assert_changed(env.apply(disable_new, &outputs, created).await);
    assert_eq!(
        env.keys("ci").await,
        vec![(new.clone(), StatusType::Inactive)]
    );
    let missing = env
        .try_apply(
            AwsCall::DeleteAccessKey {
                user: "ci".into(),
                key: KeyRef::CreatedByStep(0),
            },
            &[None],
            created,
            false,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(missing, WriteError::MissingOutput { step: 0, .. }),
        "{missing}"
    );

    // Undoing the secret write of a step that created the secret schedules its deletion.
    let restore = AwsCall::RestoreSecretVersion {
        secret: "ci/aws".into(),
        step: 0,
    };
    let restored = done(env.apply(restore.clone(), &outputs, created).await);
    assert!(
        restored.note.unwrap().contains("scheduled for deletion"),
        "the secret is deleted with a recovery window"
    );
    let described = env
        .secrets
        .describe_secret()
        .secret_id("ci/aws")
        .send()
        .await
        .unwrap();
    assert!(described.deleted_date().is_some());
    assert_already(env.apply(restore, &outputs, created).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn restoring_a_secret_version_moves_awscurrent_back_to_the_value_before_the_step() {
    let env = env().await;
    env.iam.create_user().user_name("app").send().await.unwrap();
    let (old, old_secret, t0) = env.create_key("app").await;
    let original = env
        .secrets
        .create_secret()
        .name("app/aws")
        .secret_string(
            serde_json::json!({"AccessKeyId": old, "SecretAccessKey": old_secret}).to_string(),
        )
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_string();

    let out = done(
        env.apply(
            AwsCall::CreateAccessKeyIntoSecret {
                user: "app".into(),
                secret: "app/aws".into(),
            },
            &[],
            t0,
        )
        .await,
    );
    assert_eq!(
        out.previous_secret_version.as_deref(),
        Some(original.as_str())
    );
    assert_eq!(
        out.note, None,
        "the secret existed: PutSecretValue, not CreateSecret"
    );
    let ((stored, _), version) = env.secret_value("app/aws").await;
    assert_eq!(Some(stored), out.access_key_id);
    assert_eq!(Some(version.clone()), out.secret_version);

    let outputs = vec![Some(out)];
    let restore = AwsCall::RestoreSecretVersion {
        secret: "app/aws".into(),
        step: 0,
    };
    assert_changed(env.apply(restore.clone(), &outputs, t0).await);
    let ((stored, stored_secret), current) = env.secret_value("app/aws").await;
    assert_eq!((stored, current), (old.clone(), original.clone()));
    assert_eq!(stored_secret, old_secret);
    assert_already(env.apply(restore.clone(), &outputs, t0).await);

    // A secret written again after the step is not moved back: that would lose the new value.
    // (A second secret: moto 5.2 keeps writing after its own idea of the current version, which
    // UpdateSecretVersionStage does not update, so a write after the restore above would not
    // become AWSCURRENT.)
    env.iam
        .create_user()
        .user_name("app2")
        .send()
        .await
        .unwrap();
    env.secrets
        .create_secret()
        .name("app/second")
        .secret_string("{}")
        .send()
        .await
        .unwrap();
    let out = done(
        env.apply(
            AwsCall::CreateAccessKeyIntoSecret {
                user: "app2".into(),
                secret: "app/second".into(),
            },
            &[],
            t0,
        )
        .await,
    );
    env.secrets
        .put_secret_value()
        .secret_id("app/second")
        .secret_string(r#"{"AccessKeyId":"AKIAWRITTENBYHAND000","SecretAccessKey":"by-hand"}"#)
        .send()
        .await
        .unwrap();
    let refused = env
        .try_apply(
            AwsCall::RestoreSecretVersion {
                secret: "app/second".into(),
                step: 0,
            },
            &[Some(out)],
            t0,
            false,
        )
        .await
        .unwrap_err();
    assert!(matches!(refused, WriteError::Refused { .. }), "{refused}");
    assert!(refused.to_string().contains("changed since"), "{refused}");
    let ((stored, _), _) = env.secret_value("app/second").await;
    assert_eq!(stored, "AKIAWRITTENBYHAND000");
}

#[tokio::test(flavor = "multi_thread")]
async fn quarantine_calls_take_effect_undo_and_repeat_without_change() {
    let env = env().await;
    let t0 = chrono::DateTime::UNIX_EPOCH;
    env.iam.create_user().user_name("svc").send().await.unwrap();
    env.iam
        .create_role()
        .role_name("vendor")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    let policy_arn = env
        .iam
        .create_policy()
        .policy_name("read")
        .policy_document(ALLOW_READ)
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();

    // A deny-all inline policy on the role, and its undo.
    let put = AwsCall::PutInlinePolicy {
        principal: role("vendor"),
        name: "warrant-quarantine".into(),
        document: DENY_ALL.into(),
    };
    let present = |present| Expect::InlinePolicy {
        principal: role("vendor"),
        name: "warrant-quarantine".into(),
        present,
    };
    assert_eq!(env.check(present(false)).await, Check::Holds);
    assert_changed(env.apply(put.clone(), &[], t0).await);
    assert_eq!(env.check(present(true)).await, Check::Holds);
    assert_already(env.apply(put, &[], t0).await);
    let changed_document = AwsCall::PutInlinePolicy {
        principal: role("vendor"),
        name: "warrant-quarantine".into(),
        document: ALLOW_READ.into(),
    };
    assert_changed(env.apply(changed_document, &[], t0).await);
    let delete = AwsCall::DeleteInlinePolicy {
        principal: role("vendor"),
        name: "warrant-quarantine".into(),
    };
    assert_changed(env.apply(delete.clone(), &[], t0).await);
    assert_eq!(env.check(present(false)).await, Check::Holds);
    assert!(
        env.iam
            .list_role_policies()
            .role_name("vendor")
            .send()
            .await
            .unwrap()
            .policy_names()
            .is_empty()
    );
    assert_already(env.apply(delete, &[], t0).await);

    // Managed policies on a user and a role.
    for principal in [user("svc"), role("vendor")] {
        let attached = |attached| Expect::PolicyAttached {
            principal: principal.clone(),
            policy_arn: policy_arn.clone(),
            attached,
        };
        let attach = AwsCall::AttachPolicy {
            principal: principal.clone(),
            policy_arn: policy_arn.clone(),
        };
        let detach = AwsCall::DetachPolicy {
            principal: principal.clone(),
            policy_arn: policy_arn.clone(),
        };
        assert_changed(env.apply(attach.clone(), &[], t0).await);
        assert_eq!(env.check(attached(true)).await, Check::Holds);
        assert_already(env.apply(attach, &[], t0).await);
        assert_changed(env.apply(detach.clone(), &[], t0).await);
        assert_eq!(env.check(attached(false)).await, Check::Holds);
        assert_already(env.apply(detach, &[], t0).await);
    }

    // A permissions boundary on the role.
    let boundary = |policy_arn: Option<&str>| Expect::Boundary {
        principal: role("vendor"),
        policy_arn: policy_arn.map(str::to_string),
    };
    let put = AwsCall::PutPermissionsBoundary {
        principal: role("vendor"),
        policy_arn: policy_arn.clone(),
    };
    let delete = AwsCall::DeletePermissionsBoundary {
        principal: role("vendor"),
    };
    assert_changed(env.apply(put.clone(), &[], t0).await);
    let got = env.iam.get_role().role_name("vendor").send().await.unwrap();
    assert_eq!(
        got.role()
            .unwrap()
            .permissions_boundary()
            .unwrap()
            .permissions_boundary_arn(),
        Some(policy_arn.as_str())
    );
    assert_eq!(env.check(boundary(Some(&policy_arn))).await, Check::Holds);
    assert_already(env.apply(put, &[], t0).await);
    assert_changed(env.apply(delete.clone(), &[], t0).await);
    assert_eq!(env.check(boundary(None)).await, Check::Holds);
    assert_already(env.apply(delete, &[], t0).await);

    // On a user. Moto 5.2 does not implement PutUserPermissionsBoundary (it answers HTTP 500);
    // the executor reports that as a failed call naming operation and target. Against a moto
    // that does, the boundary is checked like the role's.
    let put = AwsCall::PutPermissionsBoundary {
        principal: user("svc"),
        policy_arn: policy_arn.clone(),
    };
    match env.try_apply(put, &[], t0, false).await {
        Ok(applied) => {
            assert_changed(applied);
            assert_eq!(
                env.check(Expect::Boundary {
                    principal: user("svc"),
                    policy_arn: Some(policy_arn.clone()),
                })
                .await,
                Check::Holds
            );
            let delete = AwsCall::DeletePermissionsBoundary {
                principal: user("svc"),
            };
            assert_changed(env.apply(delete.clone(), &[], t0).await);
            assert_already(env.apply(delete, &[], t0).await);
        }
        Err(WriteError::Call {
            call,
            operation,
            target,
            message,
        }) => {
            eprintln!("moto does not implement PutUserPermissionsBoundary: {message}");
            assert_eq!(
                (call, operation),
                ("PutUserPermissionsBoundary", "PutUserPermissionsBoundary")
            );
            assert_eq!(target, format!("boundary {policy_arn} on user svc"));
        }
        Err(other) => panic!("{other}"),
    }
    // Deleting a boundary the user does not have is read first, so it needs no delete call.
    assert_already(
        env.apply(
            AwsCall::DeletePermissionsBoundary {
                principal: user("svc"),
            },
            &[],
            t0,
        )
        .await,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn decommission_removes_everything_then_the_user_and_the_role() {
    let env = env().await;
    let t0 = chrono::DateTime::UNIX_EPOCH;
    let iam = &env.iam;
    iam.create_user().user_name("old-bot").send().await.unwrap();
    iam.create_login_profile()
        .user_name("old-bot")
        .password("Correct-Horse-9")
        .send()
        .await
        .unwrap();
    iam.create_group().group_name("devs").send().await.unwrap();
    iam.add_user_to_group()
        .user_name("old-bot")
        .group_name("devs")
        .send()
        .await
        .unwrap();
    let policy_arn = iam
        .create_policy()
        .policy_name("read")
        .policy_document(ALLOW_READ)
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    iam.attach_user_policy()
        .user_name("old-bot")
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name("old-bot")
        .policy_name("inline-read")
        .policy_document(ALLOW_READ)
        .send()
        .await
        .unwrap();
    let (key1, _, _) = env.create_key("old-bot").await;
    let (key2, _, _) = env.create_key("old-bot").await;

    assert_eq!(
        env.check(Expect::LoginProfile {
            user: "old-bot".into(),
            present: true
        })
        .await,
        Check::Holds
    );
    let member = |member| Expect::GroupMember {
        user: "old-bot".into(),
        group: "devs".into(),
        member,
    };
    assert_eq!(env.check(member(true)).await, Check::Holds);

    // Deleting the user first fails, naming the call, the target and AWS's reason.
    let delete_user = AwsCall::DeleteUser {
        user: "old-bot".into(),
    };
    let early = env
        .try_apply(delete_user.clone(), &[], t0, false)
        .await
        .unwrap_err();
    let message = early.to_string();
    assert!(
        message.starts_with("DeleteUser on user old-bot: AWS DeleteUser failed"),
        "{message}"
    );
    assert!(message.contains("DeleteConflict"), "{message}");

    let plan = [
        AwsCall::DeleteLoginProfile {
            user: "old-bot".into(),
        },
        AwsCall::RemoveUserFromGroup {
            user: "old-bot".into(),
            group: "devs".into(),
        },
        AwsCall::DetachPolicy {
            principal: user("old-bot"),
            policy_arn: policy_arn.clone(),
        },
        AwsCall::DeleteInlinePolicy {
            principal: user("old-bot"),
            name: "inline-read".into(),
        },
        AwsCall::DeleteAccessKey {
            user: "old-bot".into(),
            key: KeyRef::Id(key1),
        },
        AwsCall::DeleteAccessKey {
            user: "old-bot".into(),
            key: KeyRef::Id(key2),
        },
        delete_user,
    ];
    for call in &plan {
        assert_changed(env.apply(call.clone(), &[], t0).await);
    }
    assert_eq!(
        drift(
            env.check(Expect::Exists {
                principal: user("old-bot")
            })
            .await
        ),
        "user old-bot does not exist"
    );
    // Everything is gone, so the whole plan again changes nothing.
    for call in &plan {
        assert_already(env.apply(call.clone(), &[], t0).await);
    }

    // A role in an instance profile.
    iam.create_role()
        .role_name("web")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    iam.create_instance_profile()
        .instance_profile_name("web")
        .send()
        .await
        .unwrap();
    let in_profile = |present| Expect::InstanceProfileRole {
        role: "web".into(),
        profile: "web".into(),
        present,
    };
    let add = AwsCall::AddRoleToInstanceProfile {
        role: "web".into(),
        profile: "web".into(),
    };
    assert!(drift(env.check(in_profile(true)).await).contains("does not hold role web"));
    assert_changed(env.apply(add.clone(), &[], t0).await);
    assert_eq!(env.check(in_profile(true)).await, Check::Holds);
    assert_already(env.apply(add, &[], t0).await);

    let remove = AwsCall::RemoveRoleFromInstanceProfile {
        role: "web".into(),
        profile: "web".into(),
    };
    let delete_role = AwsCall::DeleteRole { role: "web".into() };
    assert_changed(env.apply(remove.clone(), &[], t0).await);
    assert_eq!(env.check(in_profile(false)).await, Check::Holds);
    assert_changed(env.apply(delete_role.clone(), &[], t0).await);
    assert_eq!(
        drift(
            env.check(Expect::Exists {
                principal: role("web")
            })
            .await
        ),
        "role web does not exist"
    );
    assert_already(env.apply(remove, &[], t0).await);
    assert_already(env.apply(delete_role, &[], t0).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn checks_report_drift_with_what_was_found() {
    let env = env().await;
    env.iam.create_user().user_name("svc").send().await.unwrap();
    let (key, secret, created) = env.create_key("svc").await;
    let expect_active = Expect::AccessKey {
        user: "svc".into(),
        key: key.clone(),
        active: true,
        unused_since: None,
    };
    assert_eq!(env.check(expect_active.clone()).await, Check::Holds);

    // Used after the plan said it was unused.
    let unused_since = |since| Expect::AccessKey {
        user: "svc".into(),
        key: key.clone(),
        active: true,
        unused_since: Some(since),
    };
    assert_eq!(env.check(unused_since(created)).await, Check::Holds);
    env.use_key(&key, &secret).await;
    let found = drift(env.check(unused_since(created)).await);
    assert!(found.contains("was used at"), "{found}");
    let later = created + chrono::Duration::days(1);
    assert_eq!(env.check(unused_since(later)).await, Check::Holds);

    // Made inactive by someone else.
    env.iam
        .update_access_key()
        .user_name("svc")
        .access_key_id(&key)
        .status(StatusType::Inactive)
        .send()
        .await
        .unwrap();
    assert_eq!(
        drift(env.check(expect_active.clone()).await),
        format!("key {key} of user svc is Inactive")
    );

    // Deleted.
    env.iam
        .delete_access_key()
        .user_name("svc")
        .access_key_id(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        drift(env.check(expect_active).await),
        format!("key {key} of user svc no longer exists")
    );

    let policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess".to_string();
    let found = drift(
        env.check(Expect::PolicyAttached {
            principal: user("svc"),
            policy_arn: policy_arn.clone(),
            attached: true,
        })
        .await,
    );
    assert_eq!(
        found,
        format!("{policy_arn} is not attached to user svc (attached: none)")
    );
    assert!(
        drift(
            env.check(Expect::LoginProfile {
                user: "svc".into(),
                present: true
            })
            .await
        )
        .contains("has no console password")
    );
    assert!(
        drift(
            env.check(Expect::Boundary {
                principal: user("svc"),
                policy_arn: Some(policy_arn.clone()),
            })
            .await
        )
        .contains("has no permissions boundary")
    );

    // A principal that is gone is drift, whatever was expected of it.
    for expect in [
        Expect::Exists {
            principal: role("ghost"),
        },
        Expect::KeySlotFree {
            user: "ghost".into(),
        },
        Expect::LoginProfile {
            user: "ghost".into(),
            present: false,
        },
        Expect::PolicyAttached {
            principal: role("ghost"),
            policy_arn: policy_arn.clone(),
            attached: false,
        },
        Expect::InlinePolicy {
            principal: user("ghost"),
            name: "x".into(),
            present: false,
        },
        Expect::GroupMember {
            user: "ghost".into(),
            group: "devs".into(),
            member: false,
        },
    ] {
        let found = drift(env.check(expect).await);
        assert!(found.ends_with("ghost does not exist"), "{found}");
    }
    assert_eq!(
        drift(
            env.check(Expect::InstanceProfileRole {
                role: "ghost".into(),
                profile: "nowhere".into(),
                present: false,
            })
            .await
        ),
        "instance profile nowhere does not exist"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resumed_rotation_deletes_its_orphaned_key_and_stores_a_new_one() {
    let env = env().await;
    env.iam.create_user().user_name("ci").send().await.unwrap();
    let (old, old_secret, t0) = env.create_key("ci").await;
    env.secrets
        .create_secret()
        .name("ci/aws")
        .secret_string(
            serde_json::json!({"AccessKeyId": old, "SecretAccessKey": old_secret}).to_string(),
        )
        .send()
        .await
        .unwrap();
    let (_, original) = env.secret_value("ci/aws").await;
    // The interrupted apply: the key was created, the secret never written.
    let (orphan, _, _) = env.create_key("ci").await;

    let create = AwsCall::CreateAccessKeyIntoSecret {
        user: "ci".into(),
        secret: "ci/aws".into(),
    };
    let out = done(env.try_apply(create.clone(), &[], t0, true).await.unwrap());
    let new = out.access_key_id.clone().unwrap();
    assert!(new != old && new != orphan);
    let mut keys: Vec<String> = env.keys("ci").await.into_iter().map(|k| k.0).collect();
    keys.sort();
    let mut expected = vec![old.clone(), new.clone()];
    expected.sort();
    assert_eq!(keys, expected, "the orphan is gone, the old key kept");
    let ((stored, _), version) = env.secret_value("ci/aws").await;
    assert_eq!(stored, new);
    assert_eq!(out.secret_version.as_deref(), Some(version.as_str()));
    assert_eq!(
        out.previous_secret_version.as_deref(),
        Some(original.as_str())
    );

    // Resumed again (killed after the write this time): recognised, with the same output.
    let again = done(env.try_apply(create.clone(), &[], t0, true).await.unwrap());
    assert!(
        again
            .note
            .as_deref()
            .unwrap()
            .starts_with("already in place")
    );
    assert_eq!(
        (
            again.access_key_id,
            again.secret_version,
            again.previous_secret_version
        ),
        (
            out.access_key_id,
            out.secret_version,
            out.previous_secret_version
        )
    );
    assert_eq!(env.keys("ci").await.len(), 2);

    // A newer key that is not in the secret but has been used is someone's: refused, kept.
    env.iam.create_user().user_name("web").send().await.unwrap();
    env.create_key("web").await;
    let (theirs, theirs_secret, _) = env.create_key("web").await;
    env.use_key(&theirs, &theirs_secret).await;
    let refused = env
        .try_apply(
            AwsCall::CreateAccessKeyIntoSecret {
                user: "web".into(),
                secret: "web/aws".into(),
            },
            &[],
            t0,
            true,
        )
        .await
        .unwrap_err();
    assert!(matches!(refused, WriteError::Refused { .. }), "{refused}");
    assert!(refused.to_string().contains("resolve by hand"), "{refused}");
    assert_eq!(env.keys("web").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_secret_write_deletes_the_new_key_again() {
    let env = env().await;
    env.iam.create_user().user_name("ci").send().await.unwrap();
    // A replica of a secret takes no value in its own region: the write fails after the key
    // has been created.
    env.secrets
        .create_secret()
        .name("ci/aws")
        .secret_string("{}")
        .add_replica_regions(
            aws_sdk_secretsmanager::types::ReplicaRegionType::builder()
                .region("eu-west-1")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let in_replica_region =
        AwsExecutor::new(&config_in(&env.moto.endpoint(), "eu-west-1", "testing", "testing").await);
    let ctx = StepContext {
        outputs: &[],
        now: chrono::DateTime::UNIX_EPOCH,
        resumed: false,
        started: None,
    };
    let error = in_replica_region
        .apply(
            &AwsCall::CreateAccessKeyIntoSecret {
                user: "ci".into(),
                secret: "ci/aws".into(),
            },
            ctx,
        )
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with(
            "CreateAccessKey+PutSecretValue on user ci, secret ci/aws: AWS PutSecretValue failed"
        ),
        "{message}"
    );
    assert!(message.contains("was deleted again"), "{message}");
    assert!(
        env.keys("ci").await.is_empty(),
        "no key outlives a failed write"
    );
}
