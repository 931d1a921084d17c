#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! Right-sizing against real policy documents: granted versus used, and a generated policy
//! that grants exactly the used actions.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use warrant_activity::rightsize::{rightsize, rightsize_policies};
use warrant_activity::{Actor, Event, LogKind, Outcome, Principal};
use warrant_aws_policy::{Analyzer, parse_policy_document_str};
use warrant_core::{Attachment, Policy, PolicyKind, Provenance, Provider};

const APP_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "App", "Effect": "Allow", "Action": ["s3:*", "dynamodb:*", "sqs:*"], "Resource": "*"},
    {"Sid": "Look", "Effect": "Allow", "Action": ["ec2:Describe*", "iam:Get*", "iam:List*"], "Resource": "*"},
    {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}
  ]
}"#;

fn policy(id: &str, document: &str) -> Policy {
    Policy {
        id: id.to_string(),
        name: id.rsplit('/').next().unwrap_or(id).to_string(),
        provider: Provider::Aws,
        kind: PolicyKind::CustomerManaged,
        statements: parse_policy_document_str(document).unwrap(),
        provenance: Provenance::default(),
    }
}

fn attach(identity: &str, policy: &Policy) -> Attachment {
    Attachment {
        identity: identity.to_string(),
        policy: policy.id.clone(),
        via: None,
        scope: None,
    }
}

fn event(n: u32, action: &str, resources: &[&str], outcome: Outcome) -> Event {
    Event {
        id: format!("e{n}"),
        time: Utc
            .timestamp_opt(1_772_000_000 + i64::from(n) * 60, 0)
            .unwrap(),
        log: LogKind::CloudTrail,
        principal: Principal::default(),
        actor: Actor::Application,
        action: action.to_string(),
        resources: resources.iter().map(|r| r.to_string()).collect(),
        source_ip: Some("10.0.0.1".into()),
        user_agent: Some("Boto3/1.34.0".into()),
        outcome,
        error_code: None,
        region: Some("eu-west-1".into()),
        read_only: None,
        console: false,
        subject: None,
        facts: Default::default(),
    }
}

fn app_events() -> Vec<Event> {
    let mut events = Vec::new();
    let mut n = 0;
    let mut push = |action: &str, resources: &[&str], outcome: Outcome| {
        n += 1;
        events.push(event(n, action, resources, outcome));
    };
    for i in 0..90 {
        let key = format!("arn:aws:s3:::acme-prod-data/reports/{}.csv", i % 3);
        push("s3:GetObject", &[key.as_str()], Outcome::Success);
    }
    push(
        "s3:PutObject",
        &["arn:aws:s3:::acme-prod-data/out/a.csv"],
        Outcome::Success,
    );
    push(
        "s3:PutObject",
        &["arn:aws:s3:::acme-prod-data/out/b.csv"],
        Outcome::Success,
    );
    push(
        "dynamodb:GetItem",
        &["arn:aws:dynamodb:eu-west-1:111111111111:table/orders"],
        Outcome::Success,
    );
    // Errors other than refusals were still authorised.
    push(
        "dynamodb:GetItem",
        &["arn:aws:dynamodb:eu-west-1:111111111111:table/orders"],
        Outcome::Error,
    );
    push("sqs:SendMessage", &[], Outcome::Success);
    push("ec2:DescribeInstances", &[], Outcome::Success);
    push(
        "s3:DeleteBucket",
        &["arn:aws:s3:::acme-prod-data"],
        Outcome::Denied,
    );
    push("kms:Decrypt", &[], Outcome::Success);
    events
}

#[test]
fn granted_versus_used_with_a_real_policy() {
    let p = policy("arn:aws:iam::111111111111:policy/app", APP_POLICY);
    let id = "arn:aws:iam::111111111111:role/app";
    let a = attach(id, &p);
    let analyzer = Analyzer::prepare([&p]);
    let report = rightsize_policies(id, &analyzer, &[(&a, &p)], &app_events());

    let used: Vec<&str> = report.used.keys().map(String::as_str).collect();
    assert_eq!(
        used,
        [
            "dynamodb:GetItem",
            "ec2:DescribeInstances",
            "s3:GetObject",
            "s3:PutObject",
            "sqs:SendMessage"
        ]
    );
    assert_eq!(report.used["s3:GetObject"], 90);
    assert_eq!(report.used["dynamodb:GetItem"], 2);
    assert_eq!(report.unused_services, ["iam"]);
    assert_eq!(report.granted_services, 5);
    assert!(report.granted_actions > 300, "{}", report.granted_actions);
    assert_eq!(report.unused_actions, report.granted_actions - 5);
    assert_eq!(
        report.unused_actions_by_service.values().sum::<usize>(),
        report.unused_actions
    );
    // Denied by the explicit Deny: reported, never put in the policy.
    assert_eq!(report.denied.get("s3:DeleteBucket"), Some(&1));
    assert_eq!(report.used_not_granted.get("kms:Decrypt"), Some(&1));
    assert!(
        report.summary.contains(&format!(
            "uses 5 of {} granted actions in 4 of 5 services",
            warrant_activity_thousands(report.granted_actions)
        )),
        "{}",
        report.summary
    );
    assert!(
        report.notes.iter().any(|n| n.contains("sqs:SendMessage")),
        "{:?}",
        report.notes
    );

    // The generated policy grants exactly what was used, no more.
    let generated = report.policy.to_json_pretty();
    let gp = policy("generated", &generated);
    let allowed = Analyzer::new().allowed_actions(&[(&attach(id, &gp), &gp)]);
    let expected: BTreeSet<String> = report.used.keys().cloned().collect();
    assert_eq!(allowed, expected);
    let policy = serde_json::to_value(&report.policy).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    let sids: BTreeSet<&str> = statements
        .iter()
        .map(|s| s["Sid"].as_str().unwrap())
        .collect();
    assert_eq!(sids.len(), statements.len(), "Sids are unique");
    // Resource ARNs are kept where the events name them.
    let get_object = statements
        .iter()
        .find(|s| s["Action"][0] == "s3:GetObject")
        .unwrap();
    assert_eq!(get_object["Resource"].as_array().unwrap().len(), 3);
    assert!(generated.starts_with("{\n  \"Version\": \"2012-10-17\""));
    insta::assert_snapshot!("rightsize_app_policy", generated);
}

fn warrant_activity_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn many_objects_widen_to_the_bucket() {
    let granted: BTreeSet<String> = ["s3:GetObject".to_string()].into();
    let events: Vec<Event> = (0..50)
        .map(|i| {
            event(
                i,
                "s3:getobject",
                &[format!("arn:aws:s3:::bulk/{i}.json").as_str()],
                Outcome::Success,
            )
        })
        .collect();
    let report = rightsize("id", &granted, &events);
    assert_eq!(report.used.get("s3:GetObject"), Some(&50));
    let policy = serde_json::to_value(&report.policy).unwrap();
    assert_eq!(
        policy["Statement"][0]["Resource"],
        serde_json::json!("arn:aws:s3:::bulk/*")
    );
    assert!(report.notes.iter().any(|n| n.contains("widened")));
}

#[test]
fn nothing_used_gives_an_empty_policy() {
    let granted: BTreeSet<String> = ["s3:GetObject".to_string(), "sqs:SendMessage".into()].into();
    let report = rightsize("id", &granted, &[]);
    assert!(report.used.is_empty());
    assert_eq!(report.unused_services, ["s3", "sqs"]);
    assert!(report.policy.statement.is_empty());
    assert!(
        report
            .summary
            .ends_with("uses 0 of 2 granted actions in 0 of 2 services")
    );
}

#[test]
fn aws_managed_read_only_policy() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/aws/managed-policies/AmazonS3ReadOnlyAccess.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipping: {} is absent", path.display());
        return;
    };
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let document = serde_json::to_string(&value["document"]).unwrap();
    let p = policy("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", &document);
    let a = attach("reader", &p);
    let events = vec![
        event(
            1,
            "s3:GetObject",
            &["arn:aws:s3:::logs/x"],
            Outcome::Success,
        ),
        event(2, "s3:ListBucket", &["arn:aws:s3:::logs"], Outcome::Success),
        event(3, "s3:PutObject", &["arn:aws:s3:::logs/y"], Outcome::Denied),
    ];
    let report = rightsize_policies("reader", &Analyzer::new(), &[(&a, &p)], &events);
    assert_eq!(report.used.len(), 2, "{:?}", report.used);
    assert!(report.granted_actions > report.used.len());
    assert_eq!(report.denied.get("s3:PutObject"), Some(&1));
    assert!(!report.policy.statement.is_empty());
}
