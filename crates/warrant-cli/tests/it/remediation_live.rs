#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! Plan → approve → apply against moto server (a real AWS API emulator on loopback), through the
//! `warrant` binary, with the outcome checked through the official SDK: a key rotation into
//! Secrets Manager, a quarantine and its rollback, a decommission, and drift refused.

use std::path::Path;
use std::process::{Command, Output};

use warrant_aws_live::testing::MotoServer;

pub(crate) async fn sdk(endpoint: &str) -> aws_config::SdkConfig {
    warrant_aws_live::config_loader()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_iam::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await
}

struct Env<'a> {
    store: &'a Path,
    dir: &'a Path,
    endpoint: String,
}

impl Env<'_> {
    fn warrant(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_warrant"))
            .current_dir(self.dir)
            .arg("--store")
            .arg(self.store)
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("WARRANT_USER")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.warrant(args);
        assert!(
            out.status.success(),
            "warrant {args:?} failed ({:?}):\n{}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn discover(&self) {
        self.ok(&[
            "discover",
            "aws",
            "--live",
            "--endpoint-url",
            &self.endpoint,
        ]);
    }

    /// Writes a plan as ada and returns its id.
    fn plan(&self, args: &[&str]) -> String {
        let mut all = vec!["plan"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--as", "ada@acme.example", "--format", "json"]);
        let view: serde_json::Value = serde_json::from_str(&self.ok(&all)).unwrap();
        assert_eq!(view["status"], "proposed");
        view["id"].as_str().unwrap().to_string()
    }

    fn apply(&self, plan: &str, extra: &[&str]) -> (Output, serde_json::Value) {
        let mut args = vec![
            "plan",
            "apply",
            plan,
            "--as",
            "bob@acme.example",
            "--rate",
            "50",
            "--endpoint-url",
            &self.endpoint,
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let out = self.warrant(&args);
        let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
        (out, json)
    }

    fn approve(&self, plan: &str) {
        self.ok(&["plan", "approve", plan, "--as", "bob@acme.example"]);
    }
}

fn old_key_findings(env: &Env<'_>, key: &str, as_of: &str) -> usize {
    let findings: serde_json::Value = serde_json::from_str(&env.ok(&[
        "findings",
        "--as-of",
        as_of,
        "--rule",
        "access-key-old",
        "--format",
        "json",
    ]))
    .unwrap();
    findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["evidence"].to_string().contains(key))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn rotation_quarantine_decommission_and_drift_against_moto() {
    let moto = MotoServer::start().expect("moto server (pip install 'moto[server]')");
    let endpoint = moto.endpoint();
    let config = sdk(&endpoint).await;
    let iam = aws_sdk_iam::Client::new(&config);
    let secrets = aws_sdk_secretsmanager::Client::new(&config);
    let tag = |k: &str, v: &str| {
        aws_sdk_iam::types::Tag::builder()
            .key(k)
            .value(v)
            .build()
            .unwrap()
    };
    iam.create_user()
        .user_name("ci-deployer")
        .tags(tag("owner", "dana@acme.example"))
        .tags(tag("warrant:secret", "ci/deployer"))
        .send()
        .await
        .unwrap();
    let old = iam
        .create_access_key()
        .user_name("ci-deployer")
        .send()
        .await
        .unwrap();
    let old = old.access_key().unwrap().access_key_id().to_string();
    let policy = iam
        .create_policy()
        .policy_name("deploy")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let policy_arn = policy.policy().unwrap().arn().unwrap().to_string();
    iam.create_user()
        .user_name("svc-retired")
        .send()
        .await
        .unwrap();
    iam.create_login_profile()
        .user_name("svc-retired")
        .password("Correct-Horse-9!")
        .send()
        .await
        .unwrap();
    iam.create_group()
        .group_name("builders")
        .send()
        .await
        .unwrap();
    iam.add_user_to_group()
        .user_name("svc-retired")
        .group_name("builders")
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name("svc-retired")
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name("svc-retired")
        .policy_name("extra")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    iam.create_access_key()
        .user_name("svc-retired")
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("etl-runner")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let env = Env {
        store: &dir.path().join("w.db"),
        dir: dir.path(),
        endpoint: endpoint.clone(),
    };
    env.discover();
    // 120 days on, the key is past the 90-day limit.
    let later = (chrono::Utc::now() + chrono::Duration::days(120))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    assert_eq!(old_key_findings(&env, &old, &later), 1);

    // Rotation: written by ada, refused to ada, approved by bob, a dry run changes nothing.
    let plan = env.plan(&["rotate-key", "--identity", "ci-deployer", "--grace", "0h"]);
    let own = env.warrant(&["plan", "approve", &plan, "--as", "ada@acme.example"]);
    assert_eq!(own.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&own.stderr).contains("four eyes"));
    let (unapproved, _) = env.apply(&plan, &["--yes"]);
    assert_eq!(
        unapproved.status.code(),
        Some(2),
        "an unapproved plan is not applied"
    );
    env.approve(&plan);
    let (dry, report) = env.apply(&plan, &[]);
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert_eq!(report["report"]["outcome"]["outcome"], "would-apply");
    // Saying so explicitly is the same dry run; with --yes it is a contradiction.
    let (explicit, report) = env.apply(&plan, &["--dry-run"]);
    assert!(explicit.status.success());
    assert_eq!(report["report"]["outcome"]["outcome"], "would-apply");
    let (both, _) = env.apply(&plan, &["--dry-run", "--yes"]);
    assert_eq!(both.status.code(), Some(2));
    let keys = |user: &'static str| {
        let iam = iam.clone();
        async move {
            iam.list_access_keys()
                .user_name(user)
                .send()
                .await
                .unwrap()
                .access_key_metadata()
                .iter()
                .map(|k| {
                    (
                        k.access_key_id().unwrap().to_string(),
                        k.status().unwrap().as_str().to_string(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        keys("ci-deployer").await,
        [(old.clone(), "Active".to_string())]
    );

    let (applied, report) = env.apply(&plan, &["--yes"]);
    assert!(
        applied.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&applied.stdout),
        String::from_utf8_lossy(&applied.stderr)
    );
    assert_eq!(report["report"]["outcome"]["outcome"], "applied");
    let now_keys = keys("ci-deployer").await;
    assert_eq!(now_keys.len(), 1);
    let new = now_keys[0].0.clone();
    assert_ne!(new, old, "the old key is deleted, the new one active");
    assert_eq!(now_keys[0].1, "Active");
    let stored = secrets
        .get_secret_value()
        .secret_id("ci/deployer")
        .send()
        .await
        .unwrap();
    let pair: serde_json::Value = serde_json::from_str(stored.secret_string().unwrap()).unwrap();
    assert_eq!(pair["AccessKeyId"], new.as_str());
    let secret_half = pair["SecretAccessKey"].as_str().unwrap();
    assert!(secret_half.len() >= 20);
    // Warrant never printed or stored the secret half.
    assert!(!String::from_utf8_lossy(&applied.stdout).contains(secret_half));
    let db = std::fs::read(env.store).unwrap();
    assert!(
        !db.windows(secret_half.len())
            .any(|w| w == secret_half.as_bytes())
    );
    // Applying again changes nothing.
    let (again, report) = env.apply(&plan, &["--yes"]);
    assert!(again.status.success());
    assert_eq!(report["report"]["done"], serde_json::json!([]));
    assert_eq!(keys("ci-deployer").await, now_keys);

    env.discover();
    assert_eq!(
        old_key_findings(&env, &old, &later),
        0,
        "the old key is gone"
    );
    let today = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    assert_eq!(
        old_key_findings(&env, "AKIA", &today),
        0,
        "no access key is past its age today"
    );

    // Quarantine and rollback on the role.
    let plan = env.plan(&["quarantine", "--identity", "etl-runner"]);
    env.approve(&plan);
    let (applied, _) = env.apply(&plan, &["--yes"]);
    assert!(applied.status.success());
    let inline = iam
        .list_role_policies()
        .role_name("etl-runner")
        .send()
        .await
        .unwrap();
    assert_eq!(inline.policy_names(), ["WarrantQuarantine"]);
    let back = env.warrant(&[
        "plan",
        "rollback",
        &plan,
        "--yes",
        "--as",
        "bob@acme.example",
        "--endpoint-url",
        &endpoint,
    ]);
    assert!(
        back.status.success(),
        "{}",
        String::from_utf8_lossy(&back.stdout)
    );
    let inline = iam
        .list_role_policies()
        .role_name("etl-runner")
        .send()
        .await
        .unwrap();
    assert!(inline.policy_names().is_empty());
    let listed = env.ok(&["plan", "show", &plan]);
    assert!(listed.contains("status rolled-back"), "{listed}");

    // Decommission: every attachment, then the user.
    let plan = env.plan(&["decommission", "--identity", "svc-retired"]);
    env.approve(&plan);
    let (applied, report) = env.apply(&plan, &["--yes"]);
    assert!(
        applied.status.success(),
        "{}",
        serde_json::to_string_pretty(&report).unwrap()
    );
    let gone = iam.get_user().user_name("svc-retired").send().await;
    assert!(gone.is_err(), "the user is deleted");

    // Drift: the key changes between plan and apply → refused, nothing changed.
    let plan = env.plan(&["disable-key", "--identity", "ci-deployer"]);
    env.approve(&plan);
    iam.update_access_key()
        .user_name("ci-deployer")
        .access_key_id(&new)
        .status(aws_sdk_iam::types::StatusType::Inactive)
        .send()
        .await
        .unwrap();
    let before = keys("ci-deployer").await;
    let (refused, report) = env.apply(&plan, &["--yes"]);
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(report["report"]["outcome"]["outcome"], "refused");
    assert_eq!(keys("ci-deployer").await, before);

    // Everything above is in the audit trail, with who did it.
    let audit: serde_json::Value =
        serde_json::from_str(&env.ok(&["audit", "--format", "json"])).unwrap();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "plan.propose",
        "plan.approve",
        "plan.apply.started",
        "plan.apply.done",
        "plan.undo.done",
    ] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
}

/// An apply killed (SIGKILL) part-way resumes from what the store recorded and ends as an
/// uninterrupted apply would.
#[tokio::test(flavor = "multi_thread")]
async fn an_apply_killed_part_way_resumes_from_the_journal() {
    let moto = MotoServer::start().expect("moto server (pip install 'moto[server]')");
    let endpoint = moto.endpoint();
    let iam = aws_sdk_iam::Client::new(&sdk(&endpoint).await);
    iam.create_user().user_name("svc-old").send().await.unwrap();
    iam.create_group()
        .group_name("builders")
        .send()
        .await
        .unwrap();
    iam.create_group()
        .group_name("readers")
        .send()
        .await
        .unwrap();
    for group in ["builders", "readers"] {
        iam.add_user_to_group()
            .user_name("svc-old")
            .group_name(group)
            .send()
            .await
            .unwrap();
    }
    for name in ["a", "b", "c"] {
        iam.put_user_policy()
            .user_name("svc-old")
            .policy_name(name)
            .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#)
            .send()
            .await
            .unwrap();
    }
    iam.create_access_key()
        .user_name("svc-old")
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let env = Env {
        store: &dir.path().join("w.db"),
        dir: dir.path(),
        endpoint: endpoint.clone(),
    };
    env.discover();
    let plan = env.plan(&["decommission", "--identity", "svc-old"]);
    env.approve(&plan);

    // One call a second, so the kill lands part-way.
    let mut child = Command::new(env!("CARGO_BIN_EXE_warrant"))
        .current_dir(dir.path())
        .arg("--store")
        .arg(env.store)
        .args([
            "plan",
            "apply",
            &plan,
            "--yes",
            "--as",
            "bob@acme.example",
            "--rate",
            "1",
            "--endpoint-url",
            &endpoint,
        ])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .spawn()
        .unwrap();
    // Killed once the journal shows a step applied (steps are a second apart, so the process
    // is between two steps or inside the next call).
    let status_of = || -> String {
        let listed: serde_json::Value =
            serde_json::from_str(&env.ok(&["plan", "list", "--format", "json"])).unwrap();
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == plan.as_str())
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while status_of() != "applying" {
        assert!(
            std::time::Instant::now() < deadline,
            "the apply never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let shown: serde_json::Value =
        serde_json::from_str(&env.ok(&["plan", "show", &plan, "--format", "json"])).unwrap();
    assert!(shown["id"] == plan.as_str());
    assert_eq!(status_of(), "applying", "killed part-way");

    let (resumed, report) = env.apply(&plan, &["--yes"]);
    assert!(
        resumed.status.success(),
        "{}\n{}",
        serde_json::to_string_pretty(&report).unwrap(),
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert_eq!(report["report"]["outcome"]["outcome"], "applied");
    assert_eq!(report["plan"]["status"], "applied");
    assert!(
        iam.get_user().user_name("svc-old").send().await.is_err(),
        "the user is deleted"
    );
}
