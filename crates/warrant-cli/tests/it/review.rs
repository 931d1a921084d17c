#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! An access-review campaign on the demo organisation through the binary, from start to the
//! auditor's evidence: scope and assignment, decisions (kept, and ones that write plans or say
//! why none could be written), a correction, escalation of overdue items, close refused while
//! items are pending and then with them expired, and the report as CSV, JSON and HTML.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::common::{copy_dir, demo_org, warrant};

const LEAD: &str = "lead@acme-analytics.example";
const SECOPS: &str = "secops@acme-analytics.example";
const ALICE: &str = "alice.chen@acme-analytics.example";
const DANA: &str = "dana.ng@acme-analytics.example";
const FRANK: &str = "frank.li@acme-analytics.example";
const GRACE: &str = "grace.kim@acme-analytics.example";
const HENRY: &str = "henry.adams@acme-analytics.example";

const POLICY: &str = r#"
fallback_reviewer = "secops@acme-analytics.example"

[[tier]]
name = "prod"
match = { tags = { environment = "prod" }, provider = "aws" }

[remediation]
secret_name = "warrant/{account}/{user}"
"#;

fn ok(out: &Output) -> String {
    crate::activity::ok(out)
}

/// Exit 2 with `needle` in the error.
fn refused(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
}

/// Plan ids hash the plan's content, which holds the store's revision and the instant: stable
/// for this test, but replaced so a change in how plans are written does not churn the
/// snapshots (the test checks the ids against `plan list` instead).
fn redact_plan_ids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("plan-") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 5..];
        let hex = after.chars().take_while(char::is_ascii_hexdigit).count();
        if hex == 16 {
            out.push_str("plan-[id]");
            rest = &after[16..];
        } else {
            out.push_str("plan-");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn a_campaign_from_start_to_the_auditors_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    // The demo organisation with a month of CloudTrail for the config loader, so its review
    // shows granted against used permissions and a rightsize decision can write its plan.
    let org = dir.path().join("org");
    copy_dir(&demo_org(), &org);
    crate::activity::write_logs(&org.join("logs"));
    // Without the export the activity tests plant a broken record in.
    std::fs::remove_file(org.join("logs/lake-export.jsonl")).unwrap();
    std::fs::write(dir.path().join("warrant-policy.toml"), POLICY).unwrap();
    let run = |args: &[&str]| warrant(&store, args);
    let at = |day: &'static str, args: &[&str]| -> Output {
        warrant(&store, &[&["--as-of", day][..], args].concat())
    };
    let start = ["2026-11-01"];
    ok(&at(start[0], &["assess", "org", "--format", "json"]));

    // Scopes and policies that cannot make a campaign are refused, naming the problem.
    let begin = |scope: &str, due: &str, policy: &str| {
        at(
            "2026-11-01",
            &[
                "review", "start", "--name", "2026-Q4", "--scope", scope, "--due", due, "--as",
                LEAD, "--policy", policy,
            ],
        )
    };
    refused(
        &begin("team=data", "2026-12-31", "warrant-policy.toml"),
        "unknown scope key `team` in `team=data`",
    );
    refused(
        &begin("tier=crown", "2026-12-31", "warrant-policy.toml"),
        "the scope names the tier `crown`, which the governance policy does not have (its tiers: prod)",
    );
    refused(
        &begin("tier=prod", "2026-10-01", "warrant-policy.toml"),
        "the due date 2026-10-01 is before today (2026-11-01)",
    );
    std::fs::write(
        dir.path().join("no-fallback.toml"),
        POLICY.replace("fallback_reviewer", "# fallback_reviewer"),
    )
    .unwrap();
    refused(
        &begin("tier=prod", "2026-12-31", "no-fallback.toml"),
        "identities in scope have no owner able to review them",
    );

    // Opened: one item per production AWS identity, each with its owner or the fallback.
    let opened = ok(&begin(
        "tier=prod,provider=aws",
        "2026-12-31",
        "warrant-policy.toml",
    ));
    assert!(
        opened.starts_with("Opened 2026-Q4: 37 identities in scope `tier=prod,provider=aws`, due 2026-12-31 (evidence from the assessment saved as of 2026-11-01 00:00 UTC)."),
        "{opened}"
    );
    assert!(
        opened.contains("4 item(s) went to the fallback reviewer"),
        "{opened}"
    );
    refused(
        &begin("all", "2026-12-31", "warrant-policy.toml"),
        "a review campaign named 2026-Q4 exists already",
    );
    let fallback = ok(&at(
        "2026-11-01",
        &["review", "show", "2026-Q4", "--reviewer", SECOPS],
    ));
    insta::assert_snapshot!("review_show_fallback_reviewer", fallback);

    // Decisions, each by the item's reviewer.
    let decide = |who: &str, item: &str, decision: &str, reason: Option<&str>| {
        let mut args = vec!["review", "decide", "2026-Q4", item, decision, "--as", who];
        if let Some(reason) = reason {
            args.extend(["--reason", reason]);
        }
        at("2026-11-02", &args)
    };
    let kept = ok(&decide(
        DANA,
        "billing-worker",
        "keep",
        Some("nightly billing run"),
    ));
    assert!(
        kept.contains("keep by dana.ng@acme-analytics.example on 2026-11-02"),
        "{kept}"
    );
    refused(
        &decide(DANA, "billing-worker", "disable", None),
        "was already decided (keep by dana.ng@acme-analytics.example)",
    );
    refused(
        &decide(ALICE, "feature-flags", "keep", None),
        "`keep` needs a reason",
    );
    refused(
        &decide(FRANK, "feature-flags", "keep", Some("mine now")),
        "is assigned to alice.chen@acme-analytics.example (it escalates to secops@acme-analytics.example after 2026-12-31); frank.li@acme-analytics.example may not decide it",
    );
    refused(
        &decide(ALICE, "feature-flags", "expired", None),
        "`expired` is recorded by",
    );
    for (who, item, decision) in [
        (GRACE, "svc-metrics-legacy", "rotate"),
        (HENRY, "svc-unused-key", "disable"),
        (ALICE, "config-loader", "rightsize"),
        (FRANK, "campaign-2024-importer", "decommission"),
    ] {
        let out = ok(&decide(who, item, decision, Some("found in the Q4 review")));
        assert!(out.contains("Plan plan-"), "{item}: {out}");
    }
    let no_plan = ok(&decide(FRANK, "analytics-crawler", "rightsize", None));
    assert!(
        no_plan.contains("No plan was written: no use of arn:aws:iam::111111111111:role/analytics-crawler recorded"),
        "{no_plan}"
    );
    // A correction is a new decision naming the one it replaces.
    let corrected = ok(&at(
        "2026-11-03",
        &[
            "review",
            "decide",
            "2026-Q4",
            "3",
            "decommission",
            "--supersede",
            "--reason",
            "billing moved to the new platform",
            "--as",
            DANA,
        ],
    ));
    assert!(
        corrected.contains("decommission by dana.ng@acme-analytics.example"),
        "{corrected}"
    );

    // Past the due date, pending items are overdue and with the fallback reviewer.
    let late = "2027-01-05";
    let queue = ok(&at(
        late,
        &[
            "review",
            "show",
            "2026-Q4",
            "--pending",
            "--reviewer",
            SECOPS,
        ],
    ));
    assert!(
        queue.contains("37 item(s), 6 decided, 31 pending, 31 overdue."),
        "{queue}"
    );
    assert!(
        queue.contains("reviewer alice.chen@acme-analytics.example · owner (tag:owner), escalated to secops@acme-analytics.example"),
        "{queue}"
    );
    let escalated = ok(&at(
        late,
        &[
            "review",
            "decide",
            "2026-Q4",
            "feature-flags",
            "keep",
            "--reason",
            "flags service, owner on leave",
            "--as",
            SECOPS,
        ],
    ));
    assert!(escalated.contains("(escalated)"), "{escalated}");
    refused(
        &at(
            late,
            &[
                "review",
                "decide",
                "2026-Q4",
                "gha-deploy",
                "keep",
                "--reason",
                "x",
                "--as",
                HENRY,
            ],
        ),
        "(overdue: escalated to secops@acme-analytics.example)",
    );

    // Closing waits for every item, or expires the pending ones on request.
    refused(
        &at(late, &["review", "close", "2026-Q4", "--as", LEAD]),
        "30 item(s) of campaign 2026-Q4 are still pending",
    );
    refused(
        &at(
            late,
            &[
                "review",
                "close",
                "2026-Q4",
                "--as",
                HENRY,
                "--expire-pending",
            ],
        ),
        "only they or the fallback reviewer secops@acme-analytics.example may close it",
    );
    let closed = ok(&at(
        late,
        &[
            "review",
            "close",
            "2026-Q4",
            "--as",
            LEAD,
            "--expire-pending",
        ],
    ));
    assert_eq!(
        closed.trim(),
        "Closed 2026-Q4: 37 item(s), 7 decided by reviewers, 30 expired."
    );
    refused(
        &at(
            late,
            &[
                "review",
                "decide",
                "2026-Q4",
                "gha-deploy",
                "keep",
                "--reason",
                "x",
                "--as",
                ALICE,
            ],
        ),
        "campaign 2026-Q4 is closed",
    );
    let listed: Value =
        serde_json::from_str(&ok(&at(late, &["--format", "json", "review", "list"]))).unwrap();
    assert_eq!(listed[0]["status"], "closed");
    assert_eq!(listed[0]["counts"]["decided"], 37);
    assert_eq!(listed[0]["counts"]["by_verdict"]["expired"], 30);

    // The auditor's evidence.
    let json = ok(&at(
        late,
        &["review", "report", "2026-Q4", "--format", "json"],
    ));
    let report: Value = serde_json::from_str(&json).unwrap();
    let plans: Value =
        serde_json::from_str(&ok(&run(&["--format", "json", "plan", "list"]))).unwrap();
    let plan_ids: Vec<&str> = plans
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    let items = report["items"].as_array().unwrap();
    let with_plans: Vec<&Value> = items.iter().filter(|i| i["plan"].is_string()).collect();
    assert_eq!(
        with_plans.len(),
        5,
        "rotate, disable, rightsize, decommission, and the correction's decommission"
    );
    for item in &with_plans {
        assert!(plan_ids.contains(&item["plan"].as_str().unwrap()));
        assert_eq!(item["plan_status"], "proposed");
        assert_eq!(item["decided_by"], item["reviewer"]);
    }
    let config_loader = items.iter().find(|i| i["name"] == "config-loader").unwrap();
    assert!(
        config_loader["evidence"]["usage"]["used_actions"]
            .as_u64()
            .unwrap()
            >= 1
    );
    let billing = items
        .iter()
        .find(|i| i["name"] == "billing-worker")
        .unwrap();
    assert_eq!(billing["decision"], "decommission");
    assert_eq!(billing["superseded"][0]["decision"], "keep");
    insta::assert_snapshot!("review_report_json", redact_plan_ids(&json));
    let csv = ok(&at(
        late,
        &["review", "report", "2026-Q4", "--format", "csv"],
    ));
    assert_eq!(csv.lines().count(), 38, "a header and a row per item");
    insta::assert_snapshot!("review_report_csv", redact_plan_ids(&csv));
    ok(&at(
        late,
        &["review", "report", "2026-Q4", "-o", "evidence.html"],
    ));
    let html = std::fs::read_to_string(dir.path().join("evidence.html")).unwrap();
    assert!(html.contains("<svg") && !html.contains("<script"));
    insta::assert_snapshot!("review_report_html", redact_plan_ids(&html));

    // Every state change is in the audit trail.
    let audit: Value = serde_json::from_str(&ok(&run(&["--format", "json", "audit"]))).unwrap();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .filter(|a| a.starts_with("review."))
        .collect();
    let count = |action: &str| actions.iter().filter(|a| **a == action).count();
    assert_eq!(
        (
            count("review.start"),
            count("review.decide"),
            count("review.expire"),
            count("review.close")
        ),
        (1, 8, 30, 1)
    );
    assert_eq!(actions.first(), Some(&"review.start"));
    assert_eq!(actions.last(), Some(&"review.close"));
    assert!(Path::new(&store).exists());
}

#[test]
fn every_review_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    for sub in ["start", "list", "show", "decide", "close", "report"] {
        let out = warrant(&store, &["review", sub, "--help"]);
        assert!(out.status.success(), "review {sub} --help");
        assert!(!out.stdout.is_empty());
    }
    let help = ok(&warrant(&store, &["review", "report", "--help"]));
    assert!(help.contains("Formats: json, csv, html"), "{help}");
}

/// The policy's review cadence, judged by `assess`: an identity is due a review a cadence after
/// its last one (or after it became known), and at once when the policies it holds change
/// after its review.
#[test]
fn reviews_fall_due_on_the_cadence_and_after_a_privilege_change() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("w.db");
    let org = dir.path().join("org");
    copy_dir(&demo_org(), &org);
    std::fs::write(
        dir.path().join("warrant-policy.toml"),
        "fallback_reviewer = \"secops@acme-analytics.example\"\n\n[defaults]\nreview_every_days = 60\n",
    )
    .unwrap();
    const DEPLOYER: &str = "arn:aws:iam::111111111111:user/ci-deployer";
    let at = |day: &str, args: &[&str]| -> Output {
        warrant(&store, &[&["--as-of", day][..], args].concat())
    };
    let review_findings = |day: &str| -> Vec<(String, String)> {
        let out = at(day, &["assess", "org", "--format", "json"]);
        assert!(out.status.code().is_some_and(|c| c <= 1), "{}", ok(&out));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"].as_str().is_some_and(|r| r.starts_with("review-")))
            .map(|f| {
                (
                    f["rule"].as_str().unwrap().to_string(),
                    f["identity"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    // Known since today: nothing is due yet, however old the identities are.
    assert!(review_findings("2026-11-01").is_empty());

    ok(&at(
        "2026-12-01",
        &[
            "review",
            "start",
            "--name",
            "2026-12",
            "--scope",
            "kind=aws_user",
            "--due",
            "2026-12-15",
            "--as",
            LEAD,
        ],
    ));
    ok(&at(
        "2026-12-01",
        &[
            "review",
            "decide",
            "2026-12",
            "ci-deployer",
            "keep",
            "--reason",
            "deploys production until the OIDC move",
            "--as",
            ALICE,
        ],
    ));

    // Two months on: everything never reviewed is overdue; the deployer, reviewed a month ago,
    // is not, and the same export re-imported is no privilege change.
    let due = review_findings("2027-01-05");
    assert!(due.iter().any(|(rule, _)| rule == "review-overdue"));
    assert!(
        due.iter().all(|(rule, _)| rule == "review-overdue"),
        "{due:?}"
    );
    assert!(!due.iter().any(|(_, id)| id == DEPLOYER), "{due:?}");

    // A policy attached to the deployer after its review calls for a review now.
    let details = org.join("aws/prod/authorization-details.json");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&details).unwrap()).unwrap();
    let users = doc["UserDetailList"].as_array_mut().unwrap();
    let deployer = users
        .iter_mut()
        .find(|u| u["UserName"] == "ci-deployer")
        .unwrap();
    deployer["AttachedManagedPolicies"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "PolicyName": "IAMFullAccess",
            "PolicyArn": "arn:aws:iam::aws:policy/IAMFullAccess"
        }));
    std::fs::write(&details, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let changed = review_findings("2027-01-05");
    assert!(
        changed.contains(&(
            "review-after-privilege-change".to_string(),
            DEPLOYER.to_string()
        )),
        "{changed:?}"
    );
}
