#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `[posture]` settings of `warrant.toml` reaching every path an owner can take.

use std::path::Path;

use serde_json::{Value, json};

use crate::common::warrant;

/// One role owned by `dev@`, and an Okta export that lists `dev@` as an ordinary active user
/// (no `userType` saying it is shared).
fn write_exports(dir: &Path) {
    let aws = dir.join("exports/aws");
    let okta = dir.join("exports/okta");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::create_dir_all(&okta).unwrap();
    let role = json!({
        "Path": "/",
        "RoleName": "deployer",
        "RoleId": "AROAEXAMPLEDEPLOYER01",
        "Arn": "arn:aws:iam::111111111111:role/deployer",
        "CreateDate": "2025-03-11T09:00:00Z",
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole"
            }]
        },
        "InstanceProfileList": [],
        "RolePolicyList": [],
        "AttachedManagedPolicies": [],
        "Tags": [{"Key": "owner", "Value": "dev@acme.example"}],
        "RoleLastUsed": {"LastUsedDate": "2026-10-31T09:00:00Z", "Region": "eu-west-1"}
    });
    let details = json!({
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": [role],
        "Policies": []
    });
    std::fs::write(
        aws.join("authorization-details.json"),
        serde_json::to_vec_pretty(&details).unwrap(),
    )
    .unwrap();
    let users = json!([{
        "id": "00udev",
        "status": "ACTIVE",
        "profile": {"login": "dev@acme.example", "email": "dev@acme.example", "firstName": "Dev", "lastName": "Person"}
    }]);
    std::fs::write(
        okta.join("users.json"),
        serde_json::to_vec_pretty(&users).unwrap(),
    )
    .unwrap();
}

/// The rules that fired on the role, after an assessment with the given `warrant.toml`.
fn rules_on_role(config: Option<&str>) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    write_exports(dir.path());
    let store = dir.path().join("w.db");
    let config_path = dir.path().join("warrant.toml");
    let mut args: Vec<String> = Vec::new();
    if let Some(text) = config {
        std::fs::write(&config_path, text).unwrap();
        args.extend(["--config".into(), config_path.display().to_string()]);
    }
    let exports = dir.path().join("exports").display().to_string();
    args.extend(
        [
            "assess",
            &exports,
            "--as-of",
            "2026-11-01",
            "--format",
            "json",
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = warrant(&store, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["identity"] == "arn:aws:iam::111111111111:role/deployer")
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

/// Regression: the Okta import kept its own list of shared-mailbox names, so `dev@` stayed a
/// shared mailbox after `dev` was removed from `[posture] shared_mailboxes`.
#[test]
fn dev_removed_from_posture_shared_mailboxes_is_not_shared_through_the_okta_import() {
    // The default list names `dev`, so the test sees the classification it then turns off.
    let default_rules = rules_on_role(None);
    assert!(
        default_rules.iter().any(|r| r == "owner-shared-mailbox"),
        "{default_rules:?}"
    );
    let configured = rules_on_role(Some(
        "[posture]\nshared_mailboxes = [\"devops\", \"team-*\"]\n",
    ));
    assert!(
        !configured.iter().any(|r| r == "owner-shared-mailbox"),
        "{configured:?}"
    );
}
