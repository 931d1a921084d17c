#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! `warrant discover aws --live` against moto server (a real AWS API emulator on loopback):
//! resources created through the official SDK are discovered with their last use.

use std::process::Command;

use warrant_aws_live::testing::MotoServer;

async fn sdk(endpoint: &str, key: &str, secret: &str) -> aws_config::SdkConfig {
    warrant_aws_live::config_loader()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_iam::config::Credentials::new(
            key, secret, None, None, "test",
        ))
        .load()
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn discover_aws_live_finds_identities_and_last_use() {
    let moto = MotoServer::start().expect("moto server (pip install 'moto[server]')");
    let endpoint = moto.endpoint();
    let iam = aws_sdk_iam::Client::new(&sdk(&endpoint, "testing", "testing").await);
    iam.create_user().user_name("svc-etl").send().await.unwrap();
    iam.create_user()
        .user_name("svc-unused")
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("etl-runner")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name("svc-etl")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    iam.create_access_key()
        .user_name("svc-unused")
        .send()
        .await
        .unwrap();
    // A call signed with the key: the emulator records its use.
    aws_sdk_sts::Client::new(&sdk(&endpoint, key.access_key_id(), key.secret_access_key()).await)
        .get_caller_identity()
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let warrant = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_warrant"))
            .arg("--store")
            .arg(&store)
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap()
    };
    let out = warrant(&[
        "discover",
        "aws",
        "--live",
        "--endpoint-url",
        &endpoint,
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["account"], "123456789012");
    assert!(summary["identities"].as_u64().unwrap() >= 3);

    let show = warrant(&["show", "svc-etl", "--format", "json"]);
    assert!(
        show.status.success(),
        "{}",
        String::from_utf8_lossy(&show.stderr)
    );
    let detail: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(
        detail["identity"]["id"],
        "arn:aws:iam::123456789012:user/svc-etl"
    );
    let credential = &detail["credentials"][0];
    assert_eq!(credential["id"], key.access_key_id());
    assert!(
        credential["last_used"].is_string(),
        "last use discovered: {credential}"
    );
    let unused = warrant(&["show", "svc-unused", "--format", "json"]);
    let detail: serde_json::Value = serde_json::from_slice(&unused.stdout).unwrap();
    assert!(detail["credentials"][0]["last_used"].is_null());
    let inventory = warrant(&["inventory", "--format", "json"]);
    let identities: serde_json::Value = serde_json::from_slice(&inventory.stdout).unwrap();
    assert!(
        identities
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == "arn:aws:iam::123456789012:role/etl-runner")
    );
}
