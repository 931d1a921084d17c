#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! The bundled demo organisation against its oracle (`examples/demo-org/expected.json`): every
//! planted problem is found, every healthy identity is clean, and the report is schema-valid.

use std::path::PathBuf;
use std::process::Command;

fn demo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/demo-org")
        .canonicalize()
        .unwrap()
}

fn matches(found: &str, expected: &str) -> bool {
    // Ids do not depend on where warrant ran or how the path was typed (MCP ids start at the
    // config owner's directory), so the oracle's ids are the ids.
    found == expected
}

#[test]
fn every_planted_problem_is_found_and_healthy_identities_are_clean() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_warrant"))
        .args([
            "--store",
            dir.path().join("w.db").to_str().unwrap(),
            "assess",
            demo().to_str().unwrap(),
            "--as-of",
            "2026-11-01",
            "--format",
            "json",
        ])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let oracle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(demo().join("expected.json")).unwrap())
            .unwrap();
    let findings = doc["findings"].as_array().unwrap();
    let mut missing = Vec::new();
    for e in oracle["findings"].as_array().unwrap() {
        let (rule, identity) = (e["rule"].as_str().unwrap(), e["identity"].as_str().unwrap());
        if !findings
            .iter()
            .any(|f| f["rule"] == rule && matches(f["identity"].as_str().unwrap(), identity))
        {
            missing.push(format!("{rule} on {identity}"));
        }
    }
    assert!(
        missing.is_empty(),
        "planted problems not found: {missing:#?}"
    );
    let mut noisy = Vec::new();
    for clean in oracle["clean"].as_array().unwrap() {
        let clean = clean.as_str().unwrap();
        for f in findings
            .iter()
            .filter(|f| matches(f["identity"].as_str().unwrap(), clean))
        {
            noisy.push(format!("{} on {clean}", f["rule"]));
        }
        assert!(
            doc["identities"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| matches(i["id"].as_str().unwrap(), clean)),
            "{clean} was not imported"
        );
    }
    assert!(
        noisy.is_empty(),
        "findings on healthy identities: {noisy:#?}"
    );
    // The never-expiring legacy token is insecure authentication and a long-lived secret.
    let legacy = findings
        .iter()
        .find(|f| f["rule"] == "legacy-sa-token")
        .unwrap();
    assert_eq!(legacy["owasp"], "NHI4");
    assert_eq!(legacy["related"], serde_json::json!(["NHI7"]));
    // Every posture rule is exercised by the demo, but those only a governance policy's tier
    // turns on (tests/it/governance.rs and the posture crate's tests/rules.rs plant them).
    let needs_a_policy = [
        "no-purpose",
        "no-expiry",
        "environment-not-allowed",
        "review-overdue",
        "review-after-privilege-change",
    ];
    let rules: Vec<&str> = warrant_posture::rules()
        .iter()
        .map(|r| r.id.as_str())
        .filter(|r| !needs_a_policy.contains(r))
        .collect();
    for rule in rules {
        assert!(
            findings.iter().any(|f| f["rule"] == rule),
            "no planted instance of rule {rule}"
        );
    }
    assert!(
        doc["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["error"].is_null()),
        "every demo file imports cleanly"
    );
    // The raw secrets in the demo's MCP configs never reach the store: only fingerprints and
    // redacted previews do.
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            demo().join("mcp/alice.chen@acme-analytics.example/.cursor/mcp.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let token = config["mcpServers"]["github"]["env"]["GITHUB_PERSONAL_ACCESS_TOKEN"]
        .as_str()
        .unwrap()
        .to_string();
    let uri = config["mcpServers"]["warehouse"]["args"][2]
        .as_str()
        .unwrap();
    let password = uri
        .split(':')
        .nth(2)
        .unwrap()
        .split('@')
        .next()
        .unwrap()
        .to_string();
    assert!(token.len() > 30 && password.len() > 10);
    let mut stored = std::fs::read(dir.path().join("w.db")).unwrap();
    stored.extend(std::fs::read(dir.path().join("w.db-wal")).unwrap_or_default());
    assert!(stored.len() > 10_000, "the store holds the import");
    for secret in [&token, &password] {
        assert!(
            !stored.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "a raw secret reached the store"
        );
    }
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        !report.contains(&token) && !report.contains(&password),
        "a raw secret reached the report"
    );
}

/// Defect: MCP identity ids embedded the config path as typed, so importing the same configs
/// from another directory added 8 duplicates (72 → 80 identities) that were never marked gone.
#[test]
fn importing_the_demo_from_another_directory_updates_the_same_identities() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let demo = demo();
    let count = |cwd: &std::path::Path, path: &str| -> usize {
        let out = crate::common::warrant_at(cwd, &store, &["import", path]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = crate::common::warrant(&store, &["--format", "json", "inventory"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        doc.as_array().unwrap().len()
    };
    let absolute = count(dir.path(), demo.to_str().unwrap());
    let from_parent = count(demo.parent().unwrap(), "demo-org");
    let from_inside = count(&demo.join("mcp"), "..");
    assert_eq!(absolute, 72);
    assert_eq!((from_parent, from_inside), (72, 72));
}
