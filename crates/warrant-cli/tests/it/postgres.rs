//! Several `warrant` processes sharing one PostgreSQL store give the result of running them
//! one after another, and `warrant store migrate` copies a SQLite store to PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use crate::common::demo_org;

#[path = "../../../warrant-store/tests/it/pg.rs"]
mod pg;

const AS_OF: &str = "2026-11-01";
/// A fixed fingerprint key, so both stores fingerprint secrets alike.
const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const SOURCES: [&str; 5] = ["aws", "github", "kubernetes", "mcp", "okta"];

fn warrant(cwd: &Path, store: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_warrant"));
    command
        .arg("--store")
        .arg(store)
        .args(args)
        .env_remove("WARRANT_CONFIG")
        .env_remove("WARRANT_STORE")
        .env("WARRANT_FINGERPRINT_KEY", KEY)
        .env("NO_COLOR", "1")
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "warrant failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn import(cwd: &Path, store: &str, source: &str) -> Command {
    let path = demo_org().join(source);
    let path = path.to_str().unwrap().to_string();
    warrant(cwd, store, &["import", &path, "--as-of", AS_OF])
}

fn inventory(cwd: &Path, store: &str) -> String {
    ok(warrant(
        cwd,
        store,
        &["inventory", "--format", "json", "--as-of", AS_OF],
    )
    .output()
    .unwrap())
}

#[test]
fn concurrent_imports_into_postgres_match_sequential_imports_into_sqlite() {
    let Some(url) = pg::fresh_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("w.db").to_str().unwrap().to_string();
    for source in SOURCES {
        ok(import(dir.path(), &sqlite, source).output().unwrap());
    }

    // Every source at once, each in its own process; twice, so re-imports race too.
    for _ in 0..2 {
        let children: Vec<Child> = SOURCES
            .iter()
            .map(|source| import(dir.path(), &url, source).spawn().unwrap())
            .collect();
        for child in children {
            ok(child.wait_with_output().unwrap());
        }
    }
    let sequential = inventory(dir.path(), &sqlite);
    assert!(sequential.len() > 1000, "{sequential}");
    assert_eq!(inventory(dir.path(), &url), sequential);

    // The same store assessed from PostgreSQL reports what SQLite reports.
    let assess = |store: &str| {
        let demo = demo_org();
        ok(warrant(
            dir.path(),
            store,
            &[
                "assess",
                demo.to_str().unwrap(),
                "--format",
                "json",
                "--as-of",
                AS_OF,
            ],
        )
        .output()
        .unwrap())
    };
    assert_eq!(assess(&url), assess(&sqlite));
}

#[test]
fn store_migrate_copies_sqlite_to_postgres_and_verifies_it() {
    let Some(url) = pg::fresh_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("w.db").to_str().unwrap().to_string();
    let demo = demo_org();
    ok(warrant(
        dir.path(),
        &sqlite,
        &["assess", demo.to_str().unwrap(), "--as-of", AS_OF],
    )
    .output()
    .unwrap());
    let from = format!("sqlite:{sqlite}");
    let report = ok(warrant(
        dir.path(),
        &sqlite,
        &["store", "migrate", "--from", &from, "--to", &url],
    )
    .output()
    .unwrap());
    assert!(
        report.contains("row counts and checksums match"),
        "{report}"
    );
    assert!(report.contains("identities"), "{report}");
    assert_eq!(inventory(dir.path(), &url), inventory(dir.path(), &sqlite));
    let findings = |store: &str| {
        ok(
            warrant(dir.path(), store, &["findings", "--format", "json"])
                .output()
                .unwrap(),
        )
    };
    assert_eq!(findings(&url), findings(&sqlite));

    // A second copy into the now filled database is refused.
    let again = warrant(
        dir.path(),
        &sqlite,
        &["store", "migrate", "--from", &from, "--to", &url],
    )
    .output()
    .unwrap();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("not empty"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}
