#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! Activity end to end through the binary: the demo organisation, a week of CloudTrail for one
//! of its roles with an incident on the last day, and an unknown principal.

use crate::common::{copy_dir, demo_org, warrant};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};

pub fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub const ROLE: &str = "arn:aws:iam::111111111111:role/config-loader";

fn record(n: usize, time: &str, role: &str, source: &str, name: &str, params: Value) -> Value {
    let session = format!(
        "{}/worker",
        role.replace(":iam::", ":sts::")
            .replace(":role/", ":assumed-role/")
    );
    json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLEID:worker",
            "arn": session,
            "accountId": "111111111111",
            "accessKeyId": "ASIAEXAMPLEKEY000001",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEID", "arn": role,
                                  "accountId": "111111111111", "userName": role.rsplit('/').next().unwrap()},
                "attributes": {"creationDate": time, "mfaAuthenticated": "false"}
            }
        },
        "eventTime": time,
        "eventSource": source,
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "10.20.1.15",
        "userAgent": "aws-sdk-go-v2/1.30.0 os/linux lang/go#1.22",
        "requestParameters": params,
        "responseElements": null,
        "requestID": format!("req-{n}"),
        "eventID": format!("00000000-0000-4000-8000-{n:012}"),
        "readOnly": name.starts_with("Get") || name.starts_with("List"),
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "111111111111"
    })
}

/// Six days of a config loader reading its secret during working hours, then a last day on
/// which it creates an access key for another user and stops a trail; and a role the
/// inventory does not know.
pub fn write_logs(dir: &Path) {
    let mut records = Vec::new();
    let mut n = 0;
    for day in 1..=6 {
        for hour in [9, 11, 13, 15] {
            for minute in [5, 25, 45] {
                n += 1;
                records.push(record(
                    n,
                    &format!("2026-10-{day:02}T{hour:02}:{minute:02}:00Z"),
                    ROLE,
                    "secretsmanager.amazonaws.com",
                    "GetSecretValue",
                    json!({"secretId": "arn:aws:secretsmanager:eu-west-1:111111111111:secret:app-config"}),
                ));
            }
        }
    }
    n += 1;
    records.push(record(
        n,
        "2026-10-07T10:00:00Z",
        ROLE,
        "iam.amazonaws.com",
        "CreateAccessKey",
        json!({"userName": "deploy-bot"}),
    ));
    n += 1;
    records.push(record(
        n,
        "2026-10-07T10:05:00Z",
        ROLE,
        "cloudtrail.amazonaws.com",
        "StopLogging",
        json!({"name": "arn:aws:cloudtrail:eu-west-1:111111111111:trail/org-trail"}),
    ));
    n += 1;
    records.push(record(
        n,
        "2026-10-07T10:06:00Z",
        "arn:aws:iam::111111111111:role/ghost-runner",
        "s3.amazonaws.com",
        "ListBuckets",
        json!({}),
    ));
    let aws_logs = dir.join("AWSLogs/111111111111/CloudTrail/eu-west-1/2026/10/07");
    std::fs::create_dir_all(&aws_logs).unwrap();
    std::fs::write(
        aws_logs.join("111111111111_CloudTrail_eu-west-1_20261007T1010Z_abc.json"),
        serde_json::to_vec(&json!({"Records": records})).unwrap(),
    )
    .unwrap();
    // A broken record in a JSONL export: reported with its line, the rest still counted.
    std::fs::write(
        dir.join("lake-export.jsonl"),
        format!(
            "{}\n{{\"eventTime\": \"not a record\n{}\n",
            serde_json::to_string(&record(9001, "2026-10-07T11:00:00Z", ROLE,
                "secretsmanager.amazonaws.com", "GetSecretValue",
                json!({"secretId": "arn:aws:secretsmanager:eu-west-1:111111111111:secret:app-config"}))).unwrap(),
            serde_json::to_string(&record(9002, "2026-10-07T11:01:00Z", ROLE,
                "secretsmanager.amazonaws.com", "ListSecrets", json!({}))).unwrap(),
        ),
    )
    .unwrap();
}

#[test]
fn ingest_attributes_alerts_rightsizes_and_skips_what_it_has_seen() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let logs = dir.path().join("logs");
    write_logs(&logs);
    ok(&warrant(&store, &["import", demo_org().to_str().unwrap()]));

    let out = warrant(
        &store,
        &["--format", "json", "ingest", logs.to_str().unwrap()],
    );
    // The planted bad record makes the run exit 2 (input not understood); the rest is ingested.
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Named on stderr with its place.
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("(a bad record, skipped)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["events"], 77, "{doc:#}");
    assert_eq!(doc["bad_records"], 1);
    let bad = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"].as_str().unwrap().ends_with("lake-export.jsonl"))
        .unwrap();
    assert_eq!(bad["bad"][0]["line"], 2, "{bad:#}");
    let alerts = doc["alerts"].as_array().unwrap();
    let rules_on = |identity: &str| -> Vec<String> {
        alerts
            .iter()
            .filter(|a| a["identity"] == identity)
            .map(|a| a["rule"].as_str().unwrap().to_string())
            .collect()
    };
    let on_role = rules_on(ROLE);
    assert!(
        on_role.contains(&"activity-privilege-change".to_string()),
        "{on_role:?}"
    );
    assert!(
        on_role.contains(&"activity-defense-evasion".to_string()),
        "{on_role:?}"
    );
    let shadow = rules_on("shadow:arn:aws:iam::111111111111:role/ghost-runner");
    assert_eq!(shadow, vec!["activity-shadow-identity".to_string()]);

    // Alerts are kept and filterable.
    let listed = ok(&warrant(
        &store,
        &[
            "--format",
            "json",
            "alerts",
            "--identity",
            ROLE,
            "--detection",
            "activity-defense-evasion",
        ],
    ));
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(
        listed[0]["finding"]["owasp"]
            .as_str()
            .unwrap()
            .starts_with("NHI")
    );
    assert!(
        !listed[0]["finding"]["attack"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Activity alerts count in the assessment of the identity.
    let findings = ok(&warrant(
        &store,
        &[
            "--as-of",
            "2026-10-08",
            "--format",
            "json",
            "findings",
            "--identity",
            ROLE,
            "--source",
            "activity",
        ],
    ));
    let findings: Value = serde_json::from_str(&findings).unwrap();
    assert!(findings.as_array().unwrap().len() >= 2);

    // Right-sizing: the role may read and list secrets; it only read one.
    let report = ok(&warrant(
        &store,
        &[
            "--as-of",
            "2026-10-08",
            "--format",
            "json",
            "rightsize",
            ROLE,
            "--since",
            "30d",
        ],
    ));
    let report: Value = serde_json::from_str(&report).unwrap();
    assert_eq!(
        report["used"]["secretsmanager:GetSecretValue"], 73,
        "{report:#}"
    );
    assert_eq!(report["used"]["secretsmanager:ListSecrets"], 1);
    let statements = report["policy"]["Statement"].as_array().unwrap();
    let actions: Vec<&str> = statements
        .iter()
        .flat_map(|s| {
            s["Action"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
        })
        .collect();
    assert!(actions.contains(&"secretsmanager:GetSecretValue"));
    assert!(
        !actions.iter().any(|a| a.starts_with("iam:")),
        "{actions:?}"
    );
    // Calls the policies do not grant are reported, not put in the policy.
    assert!(
        report["used_not_granted"]["iam:CreateAccessKey"]
            .as_u64()
            .unwrap()
            >= 1
    );

    // Re-ingesting the same files counts nothing twice.
    let again: Value = serde_json::from_str(&ok(&warrant(
        &store,
        &["--format", "json", "ingest", logs.to_str().unwrap()],
    )))
    .unwrap();
    assert_eq!(again["events"], 0);
    assert_eq!(again["already_ingested"].as_array().unwrap().len(), 2);
    let report: Value = serde_json::from_str(&ok(&warrant(
        &store,
        &[
            "--as-of",
            "2026-10-08",
            "--format",
            "json",
            "rightsize",
            ROLE,
        ],
    )))
    .unwrap();
    assert_eq!(report["used"]["secretsmanager:GetSecretValue"], 73);

    // The same content under a new name, or touched, is read, recognised by its hash and not
    // counted; a file with its recorded path, size and time is not even read, so what it holds
    // now (here bytes of the same length that are no log at all) goes unnoticed.
    let export = logs.join("lake-export.jsonl");
    std::fs::copy(&export, logs.join("lake-export-copy.jsonl")).unwrap();
    let touched = std::fs::File::options().write(true).open(&export).unwrap();
    touched
        .set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1 << 30))
        .unwrap();
    drop(touched);
    let trail = walk(&logs)
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let (len, modified) = {
        let meta = std::fs::metadata(&trail).unwrap();
        (meta.len(), meta.modified().unwrap())
    };
    std::fs::write(&trail, vec![b'x'; usize::try_from(len).unwrap()]).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&trail)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    for _ in 0..2 {
        let again: Value = serde_json::from_str(&ok(&warrant(
            &store,
            &["--format", "json", "ingest", logs.to_str().unwrap()],
        )))
        .unwrap();
        assert_eq!(again["events"], 0, "{again:#}");
        assert_eq!(
            again["already_ingested"].as_array().unwrap().len(),
            3,
            "{again:#}"
        );
    }
}

/// The acceptance run over the shared CloudTrail data: every file is processed.
/// The same week delivered as one CloudTrail file per day and read one file at a time
/// (`batch_mib = 0`): each day is judged against the baselines the days before it left in the
/// store, and the last day's incidents are flagged as when the week is read at once.
#[test]
fn logs_read_in_batches_flag_the_same_incidents() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let week = dir.path().join("week");
    write_logs(&week);
    let whole = week.join("AWSLogs/111111111111/CloudTrail/eu-west-1/2026/10/07");
    let file = std::fs::read_dir(&whole)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let logs = dir.path().join("daily");
    let mut by_day: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for record in doc["Records"].as_array().unwrap() {
        let day = record["eventTime"].as_str().unwrap()[8..10].to_string();
        by_day.entry(day).or_default().push(record.clone());
    }
    assert_eq!(by_day.len(), 7);
    for (day, records) in &by_day {
        let at = logs.join(format!(
            "AWSLogs/111111111111/CloudTrail/eu-west-1/2026/10/{day}"
        ));
        std::fs::create_dir_all(&at).unwrap();
        std::fs::write(
            at.join(format!(
                "111111111111_CloudTrail_eu-west-1_202610{day}T2355Z_d.json"
            )),
            serde_json::to_vec(&json!({"Records": records})).unwrap(),
        )
        .unwrap();
    }
    let config = dir.path().join("warrant.toml");
    std::fs::write(&config, "[activity]\nbatch_mib = 0\n").unwrap();
    ok(&warrant(&store, &["import", demo_org().to_str().unwrap()]));
    let out = warrant(
        &store,
        &[
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
            "ingest",
            logs.to_str().unwrap(),
        ],
    );
    let doc: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(doc["events"], 75, "{doc:#}");
    let alerts = doc["alerts"].as_array().unwrap();
    let on_role: BTreeSet<&str> = alerts
        .iter()
        .filter(|a| a["identity"] == ROLE)
        .map(|a| a["rule"].as_str().unwrap())
        .collect();
    assert!(on_role.contains("activity-privilege-change"), "{on_role:?}");
    assert!(on_role.contains("activity-defense-evasion"), "{on_role:?}");
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), 7, "{files:#?}");
    let shadow: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["rule"] == "activity-shadow-identity")
        .collect();
    assert_eq!(shadow.len(), 1, "{alerts:#?}");
}

#[test]
fn shared_cloudtrail_ingests_every_file() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cloudtrail");
    if !data.exists() {
        eprintln!("skipping: {} is absent", data.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let out = warrant(
        &store,
        &["--format", "json", "ingest", data.to_str().unwrap()],
    );
    let doc: Value = serde_json::from_str(&ok(&out)).unwrap();
    let files = doc["files"].as_array().unwrap();
    let n_json = walk(&data).len();
    let ingested = files.iter().filter(|f| !f["format"].is_null()).count();
    assert_eq!(
        ingested, n_json,
        "every file is an activity log that was read"
    );
    assert_eq!(doc["bad_records"], 0);
    assert!(doc["events"].as_u64().unwrap() >= 3_000);
    // Every Stratus Red Team tactic shows in the alerts, though no inventory names the callers.
    let alerts = doc["alerts"].as_array().unwrap();
    let evidence: String = alerts
        .iter()
        .flat_map(|a| a["evidence"].as_array().unwrap().iter())
        .filter_map(|e| e.as_str())
        .filter(|e| e.starts_with("MITRE ATT&CK tactics: "))
        .collect::<Vec<_>>()
        .join(" ");
    for tactic in [
        "persistence",
        "privilege-escalation",
        "defense-evasion",
        "credential-access",
        "exfiltration",
    ] {
        let spaced = tactic.replace('-', " ");
        assert!(
            evidence.contains(tactic) || evidence.contains(&spaced),
            "no alert carries {tactic}: {evidence}"
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    out
}

/// `warrant assess DIR` takes the logs it finds in DIR into account: the alerts show in the
/// assessment and raise the identity's exposure.
#[test]
fn assess_includes_alerts_from_logs_in_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let org = dir.path().join("org");
    copy_dir(&demo_org(), &org);
    let before = ok(&warrant(
        &store,
        &[
            "--as-of",
            "2026-10-08",
            "--format",
            "json",
            "assess",
            org.to_str().unwrap(),
        ],
    ));
    let before: Value = serde_json::from_str(&before).unwrap();
    write_logs(&org.join("logs"));
    let fresh = dir.path().join("w2.db");
    let out = warrant(
        &fresh,
        &[
            "--as-of",
            "2026-10-08",
            "--format",
            "json",
            "assess",
            org.to_str().unwrap(),
        ],
    );
    // The logs hold one planted bad record: named, exit 2, and the rest assessed.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("(a bad record, skipped)"), "{stderr}");
    let after = String::from_utf8_lossy(&out.stdout).into_owned();
    let after: Value = serde_json::from_str(&after).unwrap();
    let activity: Vec<&Value> = after["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["source"] == "activity" && f["identity"] == ROLE)
        .collect();
    assert!(activity.len() >= 2, "{activity:#?}");
    let exposure = |doc: &Value| {
        doc["identities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == ROLE)
            .unwrap()["exposure"]
            .as_f64()
            .unwrap()
    };
    assert!(exposure(&after) > exposure(&before));
}

/// Defect: `ingest` exited 0 with "No activity logs found" on garbage, binary, empty or
/// unreadable files, the reason only in `--format json`. Now exit 2, each named on stderr, and
/// the good log beside them is still ingested.
#[test]
fn bad_input_to_ingest_exits_2_naming_each_file_and_keeps_the_good_log() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let good = dir.path().join("good.json");
    let trail = json!({"Records": [record(1, "2026-10-05T10:00:00Z", ROLE, "s3.amazonaws.com", "GetObject", json!({}))]});
    std::fs::write(&good, trail.to_string()).unwrap();
    let garbage = dir.path().join("garbage.log");
    std::fs::write(&garbage, "this is not a log\n").unwrap();
    let binary = dir.path().join("binary.bin");
    std::fs::write(&binary, [0u8, 159, 146, 150, 1, 2, 3]).unwrap();
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, "").unwrap();
    let dangling = dir.path().join("dangling.json");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
    let named = [&good, &garbage, &binary, &empty, &dangling];
    let mut args = vec!["--format", "json", "ingest"];
    args.extend(named.iter().map(|p| p.to_str().unwrap()));
    let out = warrant(&store, &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for bad in [&garbage, &binary, &empty, &dangling] {
        assert!(
            stderr.contains(&bad.display().to_string()),
            "{} is named:\n{stderr}",
            bad.display()
        );
    }
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["events"], 1, "the good log is ingested: {doc:#}");

    // Nothing usable at all: exit 2 in the table view too, with the reason on stderr.
    let out = warrant(&store, &["ingest", garbage.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no activity logs found"));

    // A directory holding other files beside logs is fine: they are not inputs that failed.
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::copy(&good, logs.join("a.json")).unwrap();
    std::fs::write(logs.join("README.md"), "# logs\n").unwrap();
    let out = warrant(&store, &["ingest", logs.to_str().unwrap()]);
    ok(&out);
}

/// A person creates two access keys for the demo's `svc-jenkins`: one the inventory already
/// holds (its import came after the call) and one it does not. Only the second is a credential
/// nobody registered, raised on the user whoever made the call.
#[test]
fn a_key_created_for_a_machine_user_that_the_inventory_lacks_is_an_alert_on_the_user() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let create = |n: usize, time: &str, key: &str| {
        json!({
            "eventVersion": "1.09",
            "userIdentity": {
                "type": "AssumedRole",
                "principalId": "AROAADMINEXAMPLE:dana.ng@acme-analytics.example",
                "arn": "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_Admin_0123/dana.ng@acme-analytics.example",
                "accountId": "111111111111",
                "accessKeyId": "ASIAEXAMPLEKEY000077",
                "sessionContext": {
                    "sessionIssuer": {"type": "Role", "principalId": "AROAADMINEXAMPLE",
                        "arn": "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123",
                        "accountId": "111111111111", "userName": "AWSReservedSSO_Admin_0123"},
                    "attributes": {"creationDate": time, "mfaAuthenticated": "false"}
                }
            },
            "eventTime": time,
            "eventSource": "iam.amazonaws.com",
            "eventName": "CreateAccessKey",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "203.0.113.40",
            "userAgent": "aws-cli/2.17.0 Python/3.11.8 Linux/6.1 exe/x86_64.ubuntu.22",
            "requestParameters": {"userName": "svc-jenkins"},
            "responseElements": {"accessKey": {
                "userName": "svc-jenkins", "accessKeyId": key, "status": "Active",
                "createDate": "Nov 20, 2026, 10:30:00 AM"}},
            "requestID": format!("req-{n}"),
            "eventID": format!("00000000-0000-4000-9000-{n:012}"),
            "readOnly": false,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "recipientAccountId": "111111111111"
        })
    };
    let records = vec![
        create(1, "2026-09-17T09:00:00Z", "AKIA0WVHO7K5MZCZPS1U"),
        create(2, "2026-11-20T10:30:00Z", "AKIA0WVHO7K5NEWKEY77"),
    ];
    std::fs::write(
        logs.join("trail.json"),
        serde_json::to_vec(&json!({"Records": records})).unwrap(),
    )
    .unwrap();
    ok(&warrant(&store, &["import", demo_org().to_str().unwrap()]));
    let out = ok(&warrant(
        &store,
        &["--format", "json", "ingest", logs.to_str().unwrap()],
    ));
    let doc: Value = serde_json::from_str(&out).unwrap();
    let user = "arn:aws:iam::111111111111:user/svc-jenkins";
    let unregistered: Vec<&Value> = doc["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["rule"] == "activity-unregistered-credential")
        .collect();
    assert_eq!(unregistered.len(), 1, "{:#}", doc["alerts"]);
    let alert = unregistered[0];
    assert_eq!(alert["identity"], user);
    let evidence = alert["evidence"].to_string();
    assert!(evidence.contains("AKIA0WVHO7K5NEWKEY77"), "{evidence}");
    assert!(!evidence.contains("AKIA0WVHO7K5MZCZPS1U"), "{evidence}");
    assert!(
        evidence.contains("dana.ng@acme-analytics.example"),
        "{evidence}"
    );
    assert_eq!(alert["owasp"], "NHI7", "{alert:#}");
    assert!(
        alert["attack"].to_string().contains("T1098.001"),
        "{alert:#}"
    );
    // The caller is a person through an IAM Identity Center permission set, not a machine
    // identity missing from the inventory.
    let shadow: Vec<&Value> = doc["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["rule"] == "activity-shadow-identity")
        .collect();
    assert!(shadow.is_empty(), "{shadow:#?}");
}
