#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! `warrant serve` in front of moto server (a real AWS API emulator on loopback): a plan written
//! with the CLI is approved, applied and rolled back through the REST API, as jobs, by another
//! person's API token; the change is checked through the official SDK.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use warrant_aws_live::testing::MotoServer;

const PASSWORD: &str = "correct horse battery staple";

fn warrant(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warrant"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("WARRANT_NEW_PASSWORD", PASSWORD)
        .env_remove("WARRANT_USER")
        .output()
        .unwrap()
}

fn ok(store: &Path, args: &[&str]) -> String {
    let out = warrant(store, args);
    assert!(
        out.status.success(),
        "warrant {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `warrant serve` on a free loopback port; killed on drop.
struct Served {
    child: Child,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(store: &Path, endpoint: &str) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_warrant"))
        .arg("--store")
        .arg(store)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--endpoint-url",
            endpoint,
        ])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // It says where it listens on its first line.
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Served { child, base }
}

struct Api {
    agent: ureq::Agent,
    base: String,
    token: String,
}

impl Api {
    fn post(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value, Option<String>) {
        let mut response = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .send(body.to_string())
            .unwrap();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = response.body_mut().read_to_string().unwrap();
        (
            response.status().as_u16(),
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
            location,
        )
    }

    fn get(&self, path: &str) -> serde_json::Value {
        let mut response = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {}", self.token))
            .call()
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "GET {path}");
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
    }

    /// Starts a run and waits for its job to end.
    fn run(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let (status, job, location) = self.post(path, body);
        assert_eq!(status, 202, "POST {path}: {job}");
        let location = location.expect("a Location header");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let job = self.get(&location);
            if job["state"] != "running" {
                return job;
            }
            assert!(
                Instant::now() < deadline,
                "the job at {location} did not end"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_is_approved_applied_and_rolled_back_through_the_server() {
    let moto = MotoServer::start().expect("moto server (pip install 'moto[server]')");
    let endpoint = moto.endpoint();
    let iam = aws_sdk_iam::Client::new(&crate::remediation_live::sdk(&endpoint).await);
    iam.create_role()
        .role_name("etl-runner")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .unwrap();
    let inline = || {
        let iam = iam.clone();
        async move {
            iam.list_role_policies()
                .role_name("etl-runner")
                .send()
                .await
                .unwrap()
                .policy_names()
                .to_vec()
        }
    };

    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    ok(
        &store,
        &["discover", "aws", "--live", "--endpoint-url", &endpoint],
    );
    ok(
        &store,
        &["user", "add", "ada@acme.example", "--role", "approver"],
    );
    ok(
        &store,
        &["user", "add", "bob@acme.example", "--role", "approver"],
    );
    let token = |user: &str| -> String {
        let out = ok(
            &store,
            &[
                "token",
                "create",
                "--user",
                user,
                "--name",
                "e2e",
                "--role",
                "approver",
                "--expires-in-days",
                "1",
                "--format",
                "json",
            ],
        );
        let created: serde_json::Value = serde_json::from_str(&out).unwrap();
        created["token"].as_str().unwrap().to_string()
    };
    let (ada, bob) = (token("ada@acme.example"), token("bob@acme.example"));
    let plan: serde_json::Value = serde_json::from_str(&ok(
        &store,
        &[
            "plan",
            "quarantine",
            "--identity",
            "etl-runner",
            "--as",
            "ada@acme.example",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    let plan = plan["id"].as_str().unwrap().to_string();

    let served = serve(&store, &endpoint);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let as_ada = Api {
        agent: agent.clone(),
        base: served.base.clone(),
        token: ada,
    };
    let as_bob = Api {
        agent,
        base: served.base.clone(),
        token: bob,
    };

    // Four eyes: ada asked for it and may not approve it; applying it unapproved is refused.
    let (status, problem, _) = as_ada.post(
        &format!("/api/v1/plans/{plan}/approve"),
        serde_json::json!({}),
    );
    assert_eq!(status, 403, "{problem}");
    let (status, problem, _) = as_bob.post(
        &format!("/api/v1/plans/{plan}/apply"),
        serde_json::json!({"dry_run": false}),
    );
    assert_eq!(status, 400, "{problem}");
    let (status, approved, _) = as_bob.post(
        &format!("/api/v1/plans/{plan}/approve"),
        serde_json::json!({}),
    );
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["status"], "approved");

    // A dry run (the default) changes nothing.
    let dry = as_bob.run(
        &format!("/api/v1/plans/{plan}/apply"),
        serde_json::json!({}),
    );
    assert_eq!(dry["state"], "succeeded", "{dry}");
    assert_eq!(dry["kind"], "plan-dry-run");
    assert!(inline().await.is_empty());

    let applied = as_bob.run(
        &format!("/api/v1/plans/{plan}/apply"),
        serde_json::json!({"dry_run": false}),
    );
    assert_eq!(applied["state"], "succeeded", "{applied}");
    assert_eq!(applied["result"]["plan"]["status"], "applied", "{applied}");
    assert_eq!(inline().await, ["WarrantQuarantine"]);

    let back = as_bob.run(
        &format!("/api/v1/plans/{plan}/rollback"),
        serde_json::json!({}),
    );
    assert_eq!(back["state"], "succeeded", "{back}");
    assert!(inline().await.is_empty());
    let shown = as_ada.get(&format!("/api/v1/plans/{plan}"));
    assert_eq!(shown["status"], "rolled-back", "{shown}");
    // The journal names who applied it: the CLI shows the server's runs too.
    let listed = ok(&store, &["plan", "show", &plan]);
    assert!(listed.contains("status rolled-back"), "{listed}");
    drop(served);
}
