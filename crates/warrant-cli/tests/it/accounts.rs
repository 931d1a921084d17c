#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! Warrant's own users and API tokens through the binary: `user add|list|set-role|disable`
//! with the password from `WARRANT_NEW_PASSWORD`, and `token create|list|revoke`, checking
//! that listings never show a password hash or a token and that a token is printed once.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const PASSWORD: &str = "correct horse battery staple";

/// `warrant --store STORE ARGS…` with the new-password variable set (or removed).
fn warrant(store: &Path, password: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_warrant"));
    command
        .arg("--store")
        .arg(store)
        .args(args)
        .env_remove("WARRANT_CONFIG")
        .env_remove("WARRANT_FINGERPRINT_KEY")
        .env_remove("WARRANT_USER")
        .env("NO_COLOR", "1")
        .current_dir(store.parent().unwrap());
    match password {
        Some(p) => command.env("WARRANT_NEW_PASSWORD", p),
        None => command.env_remove("WARRANT_NEW_PASSWORD"),
    };
    command.output().expect("the warrant binary runs")
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Exit 2 with `needle` in the error.
fn refused(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
}

#[test]
fn users_are_added_listed_and_disabled_without_showing_a_hash() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let added = ok(&warrant(
        &store,
        Some(PASSWORD),
        &[
            "user",
            "add",
            "ana",
            "--admin",
            "--display-name",
            "Ana López",
        ],
    ));
    assert!(added.contains("Added ana (role admin)"), "{added}");
    ok(&warrant(
        &store,
        Some(PASSWORD),
        &["user", "add", "bob", "--role", "Owner"],
    ));
    ok(&warrant(
        &store,
        None,
        &["user", "add", "sso", "--no-password"],
    ));

    refused(
        &warrant(&store, Some(PASSWORD), &["user", "add", "ana"]),
        "already exists",
    );
    refused(
        &warrant(&store, Some("short"), &["user", "add", "cy"]),
        "at least 12 characters",
    );
    // No variable and no terminal: no password to read.
    refused(
        &warrant(&store, None, &["user", "add", "dee"]),
        "WARRANT_NEW_PASSWORD",
    );
    let bad_role = warrant(
        &store,
        Some(PASSWORD),
        &["user", "add", "eve", "--role", "root"],
    );
    assert_eq!(bad_role.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad_role.stderr).contains("viewer, owner, reviewer"),
        "{}",
        String::from_utf8_lossy(&bad_role.stderr)
    );

    let json = ok(&warrant(
        &store,
        None,
        &["user", "list", "--format", "json"],
    ));
    assert!(!json.contains("argon2"), "{json}");
    assert!(!json.contains("password_hash"), "{json}");
    assert!(!json.contains(PASSWORD), "{json}");
    let users: Value = serde_json::from_str(&json).unwrap();
    let users = users.as_array().unwrap();
    let names: Vec<&str> = users
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ana", "bob", "sso"]);
    assert_eq!(users[0]["role"], "admin");
    assert_eq!(users[0]["display_name"], "Ana López");
    assert_eq!(users[0]["has_password"], true);
    assert_eq!(users[1]["role"], "owner");
    assert_eq!(users[2]["has_password"], false);

    ok(&warrant(
        &store,
        None,
        &["user", "set-role", "bob", "reviewer"],
    ));
    ok(&warrant(&store, None, &["user", "disable", "bob"]));
    refused(
        &warrant(&store, None, &["user", "disable", "nobody"]),
        "no user `nobody`",
    );
    let table = ok(&warrant(&store, None, &["user", "list"]));
    let bob = table.lines().find(|l| l.starts_with("bob")).unwrap();
    assert!(
        bob.contains("reviewer") && bob.contains("disabled"),
        "{table}"
    );
    assert!(table.contains("3 user(s)."), "{table}");
    assert!(!table.contains("argon2"), "{table}");
}

#[test]
fn tokens_are_printed_once_listed_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    ok(&warrant(
        &store,
        Some(PASSWORD),
        &["user", "add", "ana", "--role", "owner"],
    ));

    let created = ok(&warrant(
        &store,
        None,
        &[
            "token",
            "create",
            "--user",
            "ana",
            "--name",
            "nightly export",
            "--role",
            "owner",
            "--expires-in-days",
            "30",
        ],
    ));
    let raw: Vec<&str> = created
        .split_whitespace()
        .filter(|w| w.starts_with("wat_"))
        .collect();
    assert_eq!(raw.len(), 1, "printed once: {created}");
    let raw = raw[0];
    assert_eq!(created.matches(raw).count(), 1, "printed once: {created}");
    assert!(created.contains("shown only once"), "{created}");
    let id = raw.trim_start_matches("wat_").split('_').next().unwrap();
    assert_eq!(id.len(), 8, "{raw}");

    // A role above the user's, or no expiry within a year, is refused.
    refused(
        &warrant(
            &store,
            None,
            &[
                "token",
                "create",
                "--user",
                "ana",
                "--name",
                "x",
                "--role",
                "admin",
                "--expires-in-days",
                "30",
            ],
        ),
        "can have role owner or viewer",
    );
    let too_long = warrant(
        &store,
        None,
        &[
            "token",
            "create",
            "--user",
            "ana",
            "--name",
            "x",
            "--role",
            "viewer",
            "--expires-in-days",
            "400",
        ],
    );
    assert_eq!(too_long.status.code(), Some(2));

    // JSON creation carries the token once too, with the note.
    let json = ok(&warrant(
        &store,
        None,
        &[
            "token",
            "create",
            "--user",
            "ana",
            "--name",
            "ci",
            "--role",
            "viewer",
            "--expires-in-days",
            "7",
            "--format",
            "json",
        ],
    ));
    let doc: Value = serde_json::from_str(&json).unwrap();
    let second = doc["token"].as_str().unwrap();
    assert!(second.starts_with("wat_"), "{json}");
    assert_eq!(json.matches(second).count(), 1, "{json}");
    assert_eq!(doc["info"]["role"], "viewer");
    assert!(doc["note"].as_str().unwrap().contains("only once"));

    // Listings never show a token or its hash.
    let listed = ok(&warrant(
        &store,
        None,
        &["token", "list", "--user", "ana", "--format", "json"],
    ));
    assert!(
        !listed.contains(raw) && !listed.contains(second),
        "{listed}"
    );
    assert!(!listed.contains("hash"), "{listed}");
    let tokens: Value = serde_json::from_str(&listed).unwrap();
    let tokens = tokens.as_array().unwrap();
    assert_eq!(tokens.len(), 2);
    assert!(tokens.iter().all(|t| t["revoked"] == false));
    let table = ok(&warrant(&store, None, &["token", "list"]));
    assert!(
        table.contains(id) && table.contains("nightly export"),
        "{table}"
    );
    assert!(!table.contains("wat_"), "{table}");
    refused(
        &warrant(&store, None, &["token", "list", "--user", "nobody"]),
        "no user `nobody`",
    );

    let revoked = ok(&warrant(
        &store,
        None,
        &["token", "revoke", id, "--as", "ana"],
    ));
    assert!(
        revoked.contains(&format!("Revoked token {id}")),
        "{revoked}"
    );
    refused(
        &warrant(&store, None, &["token", "revoke", id]),
        "revoked already",
    );
    let table = ok(&warrant(&store, None, &["token", "list"]));
    let line = table.lines().find(|l| l.starts_with(id)).unwrap();
    assert!(line.contains("revoked"), "{table}");

    // The audit trail names who revoked it.
    let audit = ok(&warrant(&store, None, &["audit", "--format", "json"]));
    let entries: Value = serde_json::from_str(&audit).unwrap();
    let revoke = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "token.revoke")
        .unwrap();
    assert_eq!(revoke["actor"], "ana");
    assert!(!audit.contains(raw) && !audit.contains(second), "{audit}");
}
