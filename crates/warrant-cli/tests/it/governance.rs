#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! The governance policy and exceptions applied by `warrant assess` on the demo organisation:
//! a covered finding carries its exception, leaves exposure, the totals and the open list, and
//! comes back when the exception expires; tiers' thresholds and requirements judge their
//! identities, and every finding names its tier.

use std::path::Path;
use std::process::Output;

use crate::common::{demo_org, warrant_at};

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const CI_DEPLOYER: &str = "arn:aws:iam::111111111111:user/ci-deployer";
const LEGACY_RUNNER: &str = "arn:aws:iam::111111111111:role/legacy-report-runner";

fn assess(dir: &Path, store: &Path, as_of: &str) -> serde_json::Value {
    let demo = demo_org();
    let out = warrant_at(
        dir,
        store,
        &[
            "--as-of",
            as_of,
            "assess",
            demo.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

fn finding<'a>(doc: &'a serde_json::Value, rule: &str, identity: &str) -> &'a serde_json::Value {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule && f["identity"] == identity)
        .unwrap_or_else(|| panic!("no {rule} on {identity}"))
}

fn exposure(doc: &serde_json::Value, identity: &str) -> f64 {
    doc["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == identity)
        .unwrap()["exposure"]
        .as_f64()
        .unwrap()
}

fn open_findings(dir: &Path, store: &Path, as_of: &str) -> Vec<(String, String)> {
    let out = warrant_at(
        dir,
        store,
        &["--as-of", as_of, "findings", "--format", "json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let list: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["identity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn an_exception_covers_its_findings_until_it_expires() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let before = assess(dir.path(), &store, "2026-11-01");
    assert!(finding(&before, "admin-equivalent", CI_DEPLOYER)["exception"].is_null());
    let exposed = exposure(&before, CI_DEPLOYER);
    assert!(exposed > 0.0);
    let total = before["summary"]["findings"].as_u64().unwrap();

    // One exception, two alternatives: a rule on one identity, or any no-owner on another.
    let out = warrant_at(
        dir.path(),
        &store,
        &[
            "--as-of",
            "2026-11-01",
            "exception",
            "add",
            "--identity",
            CI_DEPLOYER,
            "--rule",
            "admin-equivalent",
            "--match",
            &format!("identity={LEGACY_RUNNER},rule=no-owner"),
            "--reason",
            "break-glass deployer until the pipeline moves to OIDC",
            "--expires",
            "2026-12-31",
            "--by",
            "alice.chen@acme-analytics.example",
            "--as",
            "bob.kumar@acme-analytics.example",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let exception = stdout(&out).split_whitespace().nth(1).unwrap().to_string();

    let during = assess(dir.path(), &store, "2026-11-01");
    let covered = finding(&during, "admin-equivalent", CI_DEPLOYER);
    assert_eq!(covered["exception"]["id"], exception.as_str());
    assert_eq!(
        covered["exception"]["owner"],
        "alice.chen@acme-analytics.example"
    );
    assert_eq!(
        finding(&during, "no-owner", LEGACY_RUNNER)["exception"]["id"],
        exception.as_str()
    );
    assert_eq!(during["summary"]["excepted"], 2);
    assert_eq!(during["summary"]["findings"].as_u64().unwrap(), total - 2);
    assert!(
        exposure(&during, CI_DEPLOYER) < exposed,
        "a covered finding leaves exposure"
    );
    let open = open_findings(dir.path(), &store, "2026-11-01");
    assert!(!open.contains(&("admin-equivalent".into(), CI_DEPLOYER.into())));
    assert!(open.contains(&(
        "no-owner".into(),
        "system:serviceaccount:payments:default".into()
    )));
    let table = stdout(&warrant_at(
        dir.path(),
        &store,
        &[
            "--as-of",
            "2026-11-01",
            "assess",
            demo_org().to_str().unwrap(),
        ],
    ));
    assert!(
        table.contains("Covered by exceptions (2;") && table.contains(&exception),
        "{table}"
    );

    // After it expires the findings are open again and count again.
    let after = assess(dir.path(), &store, "2027-01-02");
    assert!(finding(&after, "admin-equivalent", CI_DEPLOYER)["exception"].is_null());
    assert!(after["summary"].get("excepted").is_none());
    let open = open_findings(dir.path(), &store, "2027-01-02");
    assert!(open.contains(&("admin-equivalent".into(), CI_DEPLOYER.into())));
    assert!(open.contains(&("no-owner".into(), LEGACY_RUNNER.into())));
}

#[test]
fn tiers_judge_their_identities_by_their_own_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let without = assess(dir.path(), &store, "2026-11-01");
    assert!(
        without["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f.get("tier").is_none()),
        "no policy, no tiers"
    );
    std::fs::write(
        dir.path().join("warrant-policy.toml"),
        r#"
[defaults]
rotation_days = 365

[[tier]]
name = "crown-jewels"
match = { criticality = "critical", environment = "production" }
require_purpose = true
require_expiry = true

[[tier]]
name = "vendor-apps"
match = { provider = "github" }
require_owner = false
require_purpose = true
"#,
    )
    .unwrap();
    let with = assess(dir.path(), &store, "2026-11-01");
    let findings = with["findings"].as_array().unwrap();
    assert!(
        findings.iter().all(|f| f["tier"].is_string()),
        "every finding names its tier"
    );
    // Critical production identities must record an expiry; the demo's record none.
    let expiry: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["rule"] == "no-expiry")
        .collect();
    assert!(!expiry.is_empty());
    assert!(expiry.iter().all(|f| f["tier"] == "crown-jewels"));
    // The vendor tier asks what each app is for; the demo's GitHub identities do not say.
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "no-purpose" && f["tier"] == "vendor-apps")
    );
    // GitHub identities need no owner under this policy, unless the first tier (critical
    // production) takes them: tiers are matched in order.
    let no_owner = |doc: &serde_json::Value| -> Vec<(String, String)> {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "no-owner")
            .map(|f| {
                (
                    f["identity"].as_str().unwrap().to_string(),
                    f["tier"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let (was, now) = (no_owner(&without), no_owner(&with));
    assert!(now.iter().all(|(_, tier)| tier != "vendor-apps"), "{now:?}");
    assert!(now.len() < was.len());
    assert!(now.contains(&(
        "github:acme-analytics/app/quickdeploy-ci".to_string(),
        "crown-jewels".to_string()
    )));
    assert!(
        !now.iter()
            .any(|(i, _)| i == "github:acme-analytics/app/dependabot")
    );
    // A mistake in the policy stops the assessment, naming the file and the key.
    std::fs::write(
        dir.path().join("warrant-policy.toml"),
        "[defaults]\nrotation_dayz = 30\n",
    )
    .unwrap();
    let out = warrant_at(
        dir.path(),
        &store,
        &["assess", demo_org().to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("warrant-policy.toml") && stderr(&out).contains("rotation_dayz"),
        "{}",
        stderr(&out)
    );
}

/// A webhook receiver on loopback: answers 200 to every POST and keeps the bodies.
fn receiver() -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks/warrant", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let _ = tx.send(String::from_utf8_lossy(&body).into_owned());
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (url, rx)
}

#[test]
fn plans_and_expiring_exceptions_notify_their_owners_through_webhooks() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let (url, bodies) = receiver();
    std::fs::write(
        dir.path().join("warrant.toml"),
        format!(
            "version = 1\n[[notify.targets]]\nname = \"secops\"\nkind = \"webhook\"\nurl = \"{url}\"\n"
        ),
    )
    .unwrap();
    assess(dir.path(), &store, "2026-11-01");
    let run = |args: &[&str]| {
        let out = warrant_at(
            dir.path(),
            &store,
            &[&["--as-of", "2026-11-01"][..], args].concat(),
        );
        assert!(out.status.success(), "{}", stderr(&out));
        out
    };
    run(&[
        "exception",
        "add",
        "--identity",
        CI_DEPLOYER,
        "--reason",
        "pipeline migration",
        "--expires",
        "2026-11-20",
        "--by",
        "alice.chen@acme-analytics.example",
        "--as",
        "bob.kumar@acme-analytics.example",
    ]);
    let out = run(&["exception", "list", "--expiring", "30d", "--notify"]);
    assert!(stderr(&out).contains("Notified: 1"), "{}", stderr(&out));
    let body: serde_json::Value = serde_json::from_str(
        &bodies
            .recv_timeout(std::time::Duration::from_secs(10))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(body["kind"], "exception.expiring");
    assert_eq!(body["owner"], "alice.chen@acme-analytics.example");

    run(&[
        "plan",
        "disable-key",
        "--identity",
        "svc-metrics-legacy",
        "--as",
        "bob.kumar@acme-analytics.example",
    ]);
    let body: serde_json::Value = serde_json::from_str(
        &bodies
            .recv_timeout(std::time::Duration::from_secs(10))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(body["kind"], "plan.proposed");
    assert_eq!(
        body["identity"],
        "arn:aws:iam::111111111111:user/svc-metrics-legacy"
    );
    assert!(
        body["summary"]
            .as_str()
            .unwrap()
            .contains("warrant plan approve")
    );

    // An access review tells each reviewer what they have to decide.
    std::fs::write(
        dir.path().join("warrant-policy.toml"),
        "fallback_reviewer = \"security@acme-analytics.example\"\n",
    )
    .unwrap();
    run(&[
        "review",
        "start",
        "--name",
        "2026-Q4",
        "--scope",
        "kind=aws_user",
        "--due",
        "2026-12-31",
        "--as",
        "bob.kumar@acme-analytics.example",
        "--notify",
    ]);
    let mut kinds = Vec::new();
    while let Ok(body) = bodies.recv_timeout(std::time::Duration::from_secs(3)) {
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        kinds.push((
            body["kind"].as_str().unwrap().to_string(),
            body["owner"].as_str().unwrap_or("").to_string(),
        ));
    }
    assert!(!kinds.is_empty());
    assert!(
        kinds
            .iter()
            .all(|(k, o)| k == "review.assigned" && o.contains('@')),
        "{kinds:?}"
    );
}

#[test]
fn plans_are_proposed_for_the_findings_a_plan_can_fix() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    assess(dir.path(), &store, "2026-11-01");
    let propose = || {
        let out = warrant_at(
            dir.path(),
            &store,
            &[
                "--as-of",
                "2026-11-01",
                "plan",
                "propose",
                "--as",
                "ada@acme-analytics.example",
                "--format",
                "json",
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_str::<serde_json::Value>(&stdout(&out)).unwrap()
    };
    let first = propose();
    let proposed: Vec<(String, String)> = first["proposed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[1].as_str().unwrap().to_string(),
                p[2].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(proposed.contains(&(
        "arn:aws:iam::111111111111:user/svc-jenkins".into(),
        "delete-login-profile".into()
    )));
    assert!(proposed.iter().any(|(_, a)| a == "disable-key"));
    assert_eq!(first["new"].as_u64().unwrap() as usize, proposed.len());
    // Without a secret to put a new key in, the old key's rotation is named, not planned.
    assert!(
        first["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s[1] == "rotate-key" && s[2].as_str().unwrap().contains("no secret"))
    );
    let again = propose();
    assert_eq!(again["new"], 0, "the same plans are the same plans");
    let list: serde_json::Value = serde_json::from_str(&stdout(&warrant_at(
        dir.path(),
        &store,
        &["plan", "list", "--format", "json"],
    )))
    .unwrap();
    assert_eq!(list.as_array().unwrap().len(), proposed.len());
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|p| p["status"] == "proposed")
    );
}

#[test]
fn owners_are_assigned_with_history_and_registrations_sanction_identities() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let before = assess(dir.path(), &store, "2026-11-01");
    assert!(
        before["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "no-owner" && f["identity"] == LEGACY_RUNNER)
    );
    let run = |args: &[&str]| {
        let out = warrant_at(
            dir.path(),
            &store,
            &[&["--as-of", "2026-11-01"][..], args].concat(),
        );
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    let refused = warrant_at(
        dir.path(),
        &store,
        &[
            "owner",
            "set",
            "legacy-report-runner",
            "platform-team",
            "--as",
            "bob@acme-analytics.example",
        ],
    );
    assert_eq!(refused.status.code(), Some(2));
    run(&[
        "owner",
        "set",
        "legacy-report-runner",
        "carol.diaz@acme-analytics.example",
        "--as",
        "bob.kumar@acme-analytics.example",
        "--reason",
        "runs the reports",
    ]);
    run(&[
        "owner",
        "set",
        "legacy-report-runner",
        "dana.ng@acme-analytics.example",
        "--as",
        "bob.kumar@acme-analytics.example",
    ]);
    let view: serde_json::Value = serde_json::from_str(&run(&[
        "owner",
        "show",
        "legacy-report-runner",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(view["owners"][0]["id"], "dana.ng@acme-analytics.example");
    assert_eq!(
        view["owners"][0]["source"],
        "explicit:bob.kumar@acme-analytics.example"
    );
    assert_eq!(
        view["history"].as_array().unwrap().len(),
        2,
        "changes are history, not overwrites"
    );
    // The assessment sees the owner.
    let after = assess(dir.path(), &store, "2026-11-01");
    assert!(
        !after["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "no-owner" && f["identity"] == LEGACY_RUNNER)
    );

    // Registration: requested, refused to its requester, approved by another.
    let out = run(&[
        "register",
        "add",
        "--name",
        "ci-deployer",
        "--kind",
        "aws_user",
        "--account",
        "111111111111",
        "--owner",
        "alice.chen@acme-analytics.example",
        "--purpose",
        "deploys the api",
        "--environment",
        "production",
        "--expires",
        "2026-11-20",
        "--as",
        "alice.chen@acme-analytics.example",
    ]);
    let id = out
        .split_whitespace()
        .nth(1)
        .unwrap()
        .trim_end_matches(':')
        .to_string();
    assert!(id.starts_with("reg-"), "{out}");
    let own = warrant_at(
        dir.path(),
        &store,
        &[
            "--as-of",
            "2026-11-01",
            "register",
            "approve",
            &id,
            "--as",
            "alice.chen@acme-analytics.example",
        ],
    );
    assert_eq!(own.status.code(), Some(2));
    run(&[
        "register",
        "approve",
        &id,
        "--as",
        "bob.kumar@acme-analytics.example",
    ]);
    let status: serde_json::Value =
        serde_json::from_str(&run(&["register", "status", "--format", "json"])).unwrap();
    let of = |identity: &str| {
        status
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["identity"] == identity)
            .unwrap()
            .clone()
    };
    assert_eq!(of(CI_DEPLOYER)["registration"], "sanctioned");
    assert_eq!(of(LEGACY_RUNNER)["registration"], "shadow");
    // Past the registration's expiry its identity is proposed for decommissioning; powerful
    // shadows for suspension.
    let later = warrant_at(
        dir.path(),
        &store,
        &[
            "--as-of",
            "2026-12-01",
            "plan",
            "propose",
            "--as",
            "ada@acme-analytics.example",
            "--format",
            "json",
        ],
    );
    assert!(later.status.success(), "{}", stderr(&later));
    let proposed: serde_json::Value = serde_json::from_str(&stdout(&later)).unwrap();
    let actions: Vec<(String, String)> = proposed["proposed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[1].as_str().unwrap().to_string(),
                p[2].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        actions.contains(&(CI_DEPLOYER.to_string(), "decommission".to_string())),
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|(_, a)| a == "quarantine"),
        "{actions:?}"
    );
    let audit = run(&["audit"]);
    assert!(
        audit.contains("owner.set") && audit.contains("registration.approve"),
        "{audit}"
    );
}

#[test]
fn a_plan_file_is_taken_back_unless_it_was_edited() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    assess(dir.path(), &store, "2026-11-01");
    let out = warrant_at(
        dir.path(),
        &store,
        &[
            "--as-of",
            "2026-11-01",
            "plan",
            "delete-login-profile",
            "--identity",
            "svc-jenkins",
            "--as",
            "ada@acme-analytics.example",
            "--format",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let id = serde_json::from_str::<serde_json::Value>(&stdout(&out)).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let file = stdout(&warrant_at(
        dir.path(),
        &store,
        &["plan", "show", &id, "--format", "json"],
    ));
    let path = dir.path().join("plan.json");
    std::fs::write(&path, &file).unwrap();
    let other = tempfile::tempdir().unwrap();
    let other_store = other.path().join("w.db");
    assess(other.path(), &other_store, "2026-11-01");
    let out = warrant_at(
        other.path(),
        &other_store,
        &["plan", "import", path.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(&id));
    // Edited after it was written: refused, naming the file.
    std::fs::write(&path, file.replace("svc-jenkins", "svc-other")).unwrap();
    let out = warrant_at(
        other.path(),
        &other_store,
        &["plan", "import", path.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("plan.json") && stderr(&out).contains("changed after it was written"),
        "{}",
        stderr(&out)
    );
    // Not JSON at all: the line and column.
    std::fs::write(&path, "{\n  \"id\": \"plan-1\",\n  oops\n}").unwrap();
    let out = warrant_at(
        other.path(),
        &other_store,
        &["plan", "import", path.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("line 3"), "{}", stderr(&out));
}

#[test]
fn owner_tag_keys_are_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let default = assess(dir.path(), &store, "2026-11-01");
    let owned = |doc: &serde_json::Value| {
        doc["identities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == CI_DEPLOYER)
            .unwrap()["owners"]
            .clone()
    };
    assert_eq!(
        owned(&default),
        serde_json::json!(["alice.chen@acme-analytics.example"])
    );
    // Only a `steward` tag names owners here: the demo's `owner` tags no longer do.
    let other = tempfile::tempdir().unwrap();
    std::fs::write(
        other.path().join("warrant.toml"),
        "version = 1\n[import]\nowner_keys = [\"steward\"]\n",
    )
    .unwrap();
    let configured = assess(other.path(), &other.path().join("w.db"), "2026-11-01");
    assert_eq!(owned(&configured), serde_json::json!([]));
    assert!(
        configured["summary"]["without_owner"].as_u64().unwrap()
            > default["summary"]["without_owner"].as_u64().unwrap()
    );
}

/// A CloudTrail record of an IAM call, as the trail delivers it.
fn trail_record(
    id: &str,
    time: &str,
    name: &str,
    identity: serde_json::Value,
    user_agent: &str,
    request: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": time,
        "eventSource": "iam.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.23",
        "userAgent": user_agent,
        "requestParameters": request,
        "responseElements": null,
        "requestID": format!("req-{id}"),
        "eventID": id,
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "111111111111",
        "eventCategory": "Management"
    })
}

#[test]
fn the_people_who_created_an_identity_or_its_key_are_its_owners_from_cloudtrail() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let before = assess(dir.path(), &store, "2026-11-01");
    assert!(finding(&before, "no-owner", LEGACY_RUNNER)["rule"] == "no-owner");

    const SSO_ROLE: &str = "AWSReservedSSO_PlatformAdmin_5c0ffee1d2e3f4a5";
    let sso = |person: &str| {
        serde_json::json!({
            "type": "AssumedRole",
            "principalId": format!("AROAEXAMPLESSOROLE01:{person}"),
            "arn": format!("arn:aws:sts::111111111111:assumed-role/{SSO_ROLE}/{person}"),
            "accountId": "111111111111",
            "accessKeyId": "ASIAEXAMPLESESSION42",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAEXAMPLESSOROLE01",
                    "arn": format!("arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/{SSO_ROLE}"),
                    "accountId": "111111111111",
                    "userName": SSO_ROLE
                },
                "attributes": {"creationDate": "2026-10-20T09:00:00Z", "mfaAuthenticated": "false"}
            }
        })
    };
    let terraform = serde_json::json!({
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLETERRAFRM1:GitHubActions",
        "arn": "arn:aws:sts::111111111111:assumed-role/terraform-apply/GitHubActions",
        "accountId": "111111111111",
        "accessKeyId": "ASIAEXAMPLESESSION43",
        "sessionContext": {"sessionIssuer": {
            "type": "Role",
            "arn": "arn:aws:iam::111111111111:role/terraform-apply",
            "accountId": "111111111111",
            "userName": "terraform-apply"
        }}
    });
    let records = serde_json::json!({"Records": [
            // A person (their SSO session, from the CLI) creates the role nobody owns.
            trail_record(
                "3f1c2a9e-0d4b-4e51-9a57-6b0c1d2e3f41",
                "2026-10-20T09:12:44Z",
                "CreateRole",
                sso("dana.ng@acme-analytics.example"),
                "aws-cli/2.17.40 md/awscrt#0.21.2 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.9",
                serde_json::json!({"roleName": "legacy-report-runner", "path": "/",
                    "assumeRolePolicyDocument": "{\"Version\":\"2012-10-17\"}"}),
            ),
            // Another person adds a key to a user whose tag already names its owner.
            trail_record(
                "3f1c2a9e-0d4b-4e51-9a57-6b0c1d2e3f42",
                "2026-10-21T14:02:10Z",
                "CreateAccessKey",
                sso("frank.li@acme-analytics.example"),
                "aws-cli/2.17.40 md/awscrt#0.21.2 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.9",
                serde_json::json!({"userName": "ci-deployer"}),
            ),
            // A pipeline creating a user answers for nothing.
            trail_record(
                "3f1c2a9e-0d4b-4e51-9a57-6b0c1d2e3f43",
                "2026-10-22T03:30:00Z",
                "CreateUser",
                terraform,
                "APN/1.0 HashiCorp/1.0 Terraform/1.9.5 (+https://www.terraform.io) terraform-provider-aws/5.70.0",
                serde_json::json!({"userName": "svc-payments-sync"}),
            ),
    ]});
    // A failed attempt is not a creation.
    let mut denied = trail_record(
        "3f1c2a9e-0d4b-4e51-9a57-6b0c1d2e3f44",
        "2026-10-22T08:00:00Z",
        "CreateAccessKey",
        sso("grace.kim@acme-analytics.example"),
        "aws-cli/2.17.40",
        serde_json::json!({"userName": "svc-payments-sync"}),
    );
    denied["errorCode"] = "AccessDenied".into();
    let mut records = records;
    records["Records"].as_array_mut().unwrap().push(denied);
    let logs = dir.path().join("trail.json");
    std::fs::write(&logs, serde_json::to_vec(&records).unwrap()).unwrap();
    let out = warrant_at(dir.path(), &store, &["ingest", logs.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    let show = |identity: &str| -> serde_json::Value {
        let out = warrant_at(
            dir.path(),
            &store,
            &["owner", "show", identity, "--format", "json"],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_str(&stdout(&out)).unwrap()
    };
    let runner = show("legacy-report-runner");
    assert_eq!(runner["owners"][0]["id"], "dana.ng@acme-analytics.example");
    assert_eq!(
        runner["owners"][0]["source"],
        "creator:cloudtrail:iam:CreateRole:3f1c2a9e-0d4b-4e51-9a57-6b0c1d2e3f41"
    );
    assert_eq!(runner["evidence"][0]["at"], "2026-10-20T09:12:44Z");
    // What the provider records outranks who created the key.
    let deployer = show("ci-deployer");
    let owners: Vec<(&str, &str)> = deployer["owners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["id"].as_str().unwrap(), o["source"].as_str().unwrap()))
        .collect();
    assert_eq!(owners[0].0, "alice.chen@acme-analytics.example");
    assert_eq!(owners[1].0, "frank.li@acme-analytics.example");
    assert!(
        owners[1]
            .1
            .starts_with("creator:cloudtrail:iam:CreateAccessKey:")
    );
    let payments = show("svc-payments-sync");
    assert!(payments["evidence"].as_array().unwrap().is_empty());

    // The assessment sees the creator as the owner: the role is no longer unowned.
    let after = assess(dir.path(), &store, "2026-11-01");
    assert!(
        !after["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "no-owner" && f["identity"] == LEGACY_RUNNER)
    );
    // An explicit assignment outranks the creator, who stays on record.
    let out = warrant_at(
        dir.path(),
        &store,
        &[
            "owner",
            "set",
            "legacy-report-runner",
            "carol.diaz@acme-analytics.example",
            "--as",
            "bob.kumar@acme-analytics.example",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let runner = show("legacy-report-runner");
    assert_eq!(
        runner["owners"][0]["id"],
        "carol.diaz@acme-analytics.example"
    );
    assert_eq!(runner["owners"][1]["id"], "dana.ng@acme-analytics.example");
    // Ingesting the same trail again adds nothing.
    let again = warrant_at(dir.path(), &store, &["ingest", logs.to_str().unwrap()]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(show("ci-deployer")["evidence"].as_array().unwrap().len(), 1);
}

#[test]
fn a_changed_owner_tag_is_history_not_an_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let org = dir.path().join("org");
    crate::common::copy_dir(&demo_org(), &org);
    let assess_org = |as_of: &str| {
        let out = warrant_at(
            dir.path(),
            &store,
            &["--as-of", as_of, "assess", "org", "--format", "json"],
        );
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{}",
            stderr(&out)
        );
    };
    assess_org("2026-11-01");
    let details = org.join("aws/prod/authorization-details.json");
    let text = std::fs::read_to_string(&details).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let user = doc["UserDetailList"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|u| u["UserName"] == "ci-deployer")
        .unwrap();
    for tag in user["Tags"].as_array_mut().unwrap() {
        if tag["Key"] == "owner" {
            tag["Value"] = "henry.adams@acme-analytics.example".into();
        }
    }
    std::fs::write(&details, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    assess_org("2026-11-20");

    let out = warrant_at(dir.path(), &store, &["owner", "show", "ci-deployer"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(
        table.contains(
            "2026-11-20 00:00 UTC  alice.chen@acme-analytics.example -> henry.adams@acme-analytics.example"
        ),
        "{table}"
    );
    let out = warrant_at(
        dir.path(),
        &store,
        &["owner", "show", "ci-deployer", "--format", "json"],
    );
    let view: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        view["owners"][0]["id"],
        "henry.adams@acme-analytics.example"
    );
    assert_eq!(view["provider_changes"].as_array().unwrap().len(), 1);
    // The change is in the audit trail with everything else.
    let out = warrant_at(dir.path(), &store, &["audit", "--format", "json"]);
    assert!(stdout(&out).contains("owner.provider"), "{}", stdout(&out));
}
