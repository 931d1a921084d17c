#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::disallowed_methods, reason = "tests read their own fixtures")]
#![allow(
    clippy::indexing_slicing,
    reason = "tests, examples and benchmarks index their own data"
)]
//! The privilege-escalation lab (`tests/data/privesc-lab`, written by its `generate.py`): one
//! principal per technique and not-exploitable look-alikes, in the real
//! `get-account-authorization-details` shape (with `lambda list-functions` and `ec2
//! describe-instances` listings of what runs as which role), read through the real connectors. Every
//! expectation of `expect.toml` must hold exactly: every technique found, no look-alike
//! flagged.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use warrant_connectors::{ImportContext, aws};
use warrant_core::{Confidence, Fingerprinter, Inventory};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    techniques: BTreeSet<String>,
    #[serde(default)]
    low_confidence: BTreeSet<String>,
    #[serde(default)]
    admin: bool,
    #[serde(default)]
    reaches_admin_in: Option<usize>,
    #[serde(default)]
    holds_capability: bool,
    #[serde(default)]
    reaches_capability_in: Option<usize>,
}

/// The lab's named capability: reading the production secrets.
fn prod_secrets() -> warrant_posture::CapabilityRule {
    toml::from_str(
        r#"
        name = "prod-secrets"
        actions = ["secretsmanager:GetSecretValue"]
        resources = ["arn:aws:secretsmanager:*:*:secret:prod/*"]
        "#,
    )
    .unwrap()
}

fn lab_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/privesc-lab")
}

fn lab() -> (Inventory, BTreeMap<String, Expected>) {
    let path = lab_dir().join("authorization-details.json");
    let bytes = std::fs::read(&path).unwrap();
    let ctx = ImportContext::new(Fingerprinter::new(b"lab"));
    let mut inventory = aws::authorization_details::parse(Path::new(&path), &bytes, &ctx).unwrap();
    // What runs as which role: the functions and instances existing-resource paths go through.
    for (file, listing) in [
        (
            "lambda-functions.json",
            aws::compute::Listing::LambdaFunctions,
        ),
        ("ec2-instances.json", aws::compute::Listing::Ec2Instances),
    ] {
        let path = lab_dir().join(file);
        let bytes = std::fs::read(&path).unwrap();
        inventory.extend(aws::compute::parse(&path, &bytes, listing, &ctx).unwrap());
    }
    let expect: BTreeMap<String, Expected> =
        toml::from_str(&std::fs::read_to_string(lab_dir().join("expect.toml")).unwrap()).unwrap();
    (inventory, expect)
}

fn now() -> warrant_core::Timestamp {
    chrono::DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc)
}

#[test]
fn every_technique_is_found_and_no_look_alike_is_flagged() {
    let (inventory, expect) = lab();
    let index = inventory.index();
    let privileges = warrant_posture::summarize_all_at(&index, Some(now()));
    let mut failures = Vec::new();
    for (principal, expected) in &expect {
        let Some(summary) = privileges.get(principal) else {
            failures.push(format!("{principal}: not in the inventory"));
            continue;
        };
        let found: BTreeSet<String> = summary
            .escalations
            .iter()
            .map(|e| e.technique.clone())
            .collect();
        // An administrator needs no escalation: what its policies would also allow is not
        // asserted.
        if !expected.admin && found != expected.techniques {
            failures.push(format!(
                "{principal}: expected {:?}, found {:?}",
                expected.techniques, found
            ));
        }
        let low: BTreeSet<String> = summary
            .escalations
            .iter()
            .filter(|e| e.confidence == Confidence::Low)
            .map(|e| e.technique.clone())
            .collect();
        if !expected.admin && low != expected.low_confidence {
            failures.push(format!(
                "{principal}: low confidence expected {:?}, found {:?}",
                expected.low_confidence, low
            ));
        }
        if summary.admin_equivalent != expected.admin {
            failures.push(format!(
                "{principal}: administrator {} expected {}",
                summary.admin_equivalent, expected.admin
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The lab covers the whole catalogue: every technique has a principal that must show it.
    let covered: BTreeSet<&str> = expect
        .values()
        .flat_map(|e| e.techniques.iter().map(String::as_str))
        .collect();
    let missing: Vec<&str> = warrant_aws_policy::analyze::techniques()
        .iter()
        .map(|t| t.name.as_str())
        .filter(|t| !covered.contains(t))
        .collect();
    assert!(
        missing.is_empty(),
        "techniques without a lab principal: {missing:?}"
    );
    // And every family has look-alikes.
    let negatives = expect.keys().filter(|p| p.contains("/neg-")).count();
    assert!(negatives >= 15, "{negatives} look-alikes");
}

#[test]
fn shortest_paths_to_administrator_follow_trust_pass_role_groups_and_credentials() {
    let (inventory, expect) = lab();
    let index = inventory.index();
    let (privileges, reach) = warrant_posture::summarize_all_with_reach(&index, Some(now()), &[]);
    let groups = warrant_posture::admin_groups(&index);
    assert!(
        groups.contains("arn:aws:iam::111122223333:group/lab-admins"),
        "{groups:?}"
    );
    let paths = warrant_posture::admin_paths(&index, &privileges, &reach, &groups);
    let mut failures = Vec::new();
    for (principal, expected) in &expect {
        let found = paths.get(principal).map(|p| p.steps);
        // Look-alikes reach nothing; positives whose target the lab holds name their steps.
        let wanted = match expected.reaches_admin_in {
            Some(n) => Some(n),
            None if expected.techniques.is_empty() => None,
            None => found,
        };
        if found != wanted {
            failures.push(format!(
                "{principal}: reaches administrator in {found:?}, expected {wanted:?} ({:?})",
                paths.get(principal).map(|p| p.sentence())
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let two = &paths["arn:aws:iam::111122223333:user/lab/chain-two-hops"];
    assert_eq!(
        two.path,
        [
            "arn:aws:iam::111122223333:user/lab/chain-two-hops",
            "assume-role (trusted by name)",
            "arn:aws:iam::111122223333:role/lab-deploy",
            "assume-role (trusted by name)",
            "arn:aws:iam::111122223333:role/lab-break-glass (administrator)",
        ]
    );
    let named = &paths["arn:aws:iam::111122223333:user/lab/chain-passrole-named"];
    assert_eq!(named.techniques, ["passrole-lambda"]);
    assert_eq!(
        named.admin,
        "arn:aws:iam::111122223333:role/lab-lambda-admin"
    );
    let key = &paths["arn:aws:iam::111122223333:user/lab/chain-access-key-named"];
    assert_eq!(key.techniques, ["create-access-key"]);
    // Through resources that exist: a named function running as an administrator role, and an
    // instance whose profile holds one.
    let function = &paths["arn:aws:iam::111122223333:user/lab/chain-update-named-function"];
    assert_eq!(function.techniques, ["lambda-update-code"]);
    assert_eq!(
        function.admin,
        "arn:aws:iam::111122223333:role/lab-lambda-admin"
    );
    let instance = &paths["arn:aws:iam::111122223333:user/lab/chain-ssm-named-instance"];
    assert_eq!(instance.techniques, ["ssm-command"]);
    assert_eq!(
        instance.admin,
        "arn:aws:iam::111122223333:role/lab-ec2-admin"
    );
}

#[test]
fn a_path_is_the_first_escalation_of_the_finding_and_raises_blast_radius() {
    let (inventory, _) = lab();
    let assessment = warrant_posture::assess(
        &inventory,
        &[],
        &warrant_posture::PostureConfig::default(),
        now(),
    );
    let two_hops = "arn:aws:iam::111122223333:user/lab/chain-two-hops";
    let finding = assessment
        .findings
        .iter()
        .find(|f| f.identity == two_hops && f.rule == warrant_core::RuleId::PrivilegeEscalation)
        .expect("a privilege-escalation finding");
    assert!(
        finding.evidence[0].starts_with("path-to-admin (assume-role (trusted by name) + "),
        "{:?}",
        finding.evidence
    );
    assert!(finding.evidence[0].contains("lab-break-glass (administrator)"));
    let blast = |id: &str| {
        assessment
            .identities
            .iter()
            .find(|i| i.id == id)
            .map(|i| i.risk.blast_radius)
            .unwrap()
    };
    // Holding no policy at all, it has nearly an administrator's blast radius; a look-alike
    // trusted only by a read-only role does not.
    // An administrator in an unknown environment, two steps away: 100 × 0.85 × 0.95².
    assert!(blast(two_hops) > 75.0, "{}", blast(two_hops));
    assert!(blast("arn:aws:iam::111122223333:user/lab/chain-trusted-weak") < 50.0);
}

#[test]
fn shortest_paths_to_a_named_capability_end_at_its_holders_or_an_administrator() {
    let (inventory, expect) = lab();
    let index = inventory.index();
    let capability = prod_secrets().to_capability();
    let (privileges, reach) =
        warrant_posture::summarize_all_with_reach(&index, Some(now()), &[capability]);
    let groups = warrant_posture::admin_groups(&index);
    let to_admin = warrant_posture::admin_paths(&index, &privileges, &reach, &groups);
    let to_secrets =
        warrant_posture::capability_paths(&index, &privileges, &reach, &groups, "prod-secrets");
    let mut failures = Vec::new();
    for (principal, expected) in &expect {
        let holds = reach.get(principal).is_some_and(|r| {
            r.iter()
                .any(|r| r.technique == warrant_aws_policy::HOLDS_CAPABILITY)
        });
        // An administrator holds every capability.
        if holds != (expected.holds_capability || expected.admin) {
            failures.push(format!(
                "{principal}: holds prod-secrets {holds}, expected {}",
                expected.holds_capability || expected.admin
            ));
        }
        let found = to_secrets.get(principal).map(|p| p.steps);
        // Administrators hold every capability: a way to one is a way to the capability,
        // never longer.
        let via_admin = to_admin.get(principal).map(|p| p.steps);
        let wanted = match (expected.reaches_capability_in, via_admin) {
            (Some(n), Some(a)) => Some(n.min(a)),
            (n, a) => n.or(a),
        };
        if found != wanted {
            failures.push(format!(
                "{principal}: reaches prod-secrets in {found:?}, expected {wanted:?} ({:?})",
                to_secrets.get(principal).map(|p| p.sentence())
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let two = &to_secrets["arn:aws:iam::111122223333:user/lab/cap-passrole-two-hops"];
    assert_eq!(
        two.path,
        [
            "arn:aws:iam::111122223333:user/lab/cap-passrole-two-hops",
            "passrole-lambda",
            "arn:aws:iam::111122223333:role/lab-secrets-lambda",
            "assume-role (trusted by name)",
            "arn:aws:iam::111122223333:role/lab-prod-secrets-reader-2 (holds prod-secrets)",
        ]
    );
    assert!(
        two.sentence()
            .starts_with("Reaches capability prod-secrets in 2 steps: "),
        "{}",
        two.sentence()
    );
}

#[test]
fn a_capability_path_is_an_escalation_finding_and_weighs_in_blast_radius() {
    let (inventory, _) = lab();
    let assess = |capabilities: Vec<warrant_posture::CapabilityRule>| {
        let config = warrant_posture::PostureConfig {
            capabilities,
            ..Default::default()
        };
        warrant_posture::assess(&inventory, &[], &config, now())
    };
    let without = assess(Vec::new());
    let with = assess(vec![prod_secrets()]);
    let user = "arn:aws:iam::111122223333:user/lab/cap-trusted-user";
    let escalation = |a: &warrant_posture::Assessment| {
        a.findings
            .iter()
            .find(|f| f.identity == user && f.rule == warrant_core::RuleId::PrivilegeEscalation)
            .map(|f| f.evidence.clone())
    };
    assert_eq!(escalation(&without), None);
    let evidence = escalation(&with).expect("a privilege-escalation finding");
    assert!(
        evidence[0].starts_with("path-to-capability (assume-role (trusted by name)): Reaches capability prod-secrets in 1 step"),
        "{evidence:?}"
    );
    assert!(
        evidence[0].ends_with("lab-prod-secrets-reader (holds prod-secrets)."),
        "{evidence:?}"
    );
    let blast = |a: &warrant_posture::Assessment, id: &str| {
        a.identities
            .iter()
            .find(|i| i.id == id)
            .map(|i| i.risk.blast_radius)
            .unwrap()
    };
    assert!(blast(&with, user) > blast(&without, user) + 30.0);
    // The look-alikes' trusted roles cannot read prod's secrets: nothing changes for them.
    for id in [
        "arn:aws:iam::111122223333:user/lab/cap-neg-trusted-staging",
        "arn:aws:iam::111122223333:user/lab/cap-neg-trusted-denied",
    ] {
        assert!(
            (blast(&with, id) - blast(&without, id)).abs() < 0.01,
            "{id}"
        );
        assert!(
            !with
                .findings
                .iter()
                .any(|f| f.identity == id && f.rule == warrant_core::RuleId::PrivilegeEscalation)
        );
    }
}

/// The lab's account under service control policies: FullAWSAccess at the root, a guardrail
/// OU that denies key and login creation and SageMaker outright, and `iam:PutUserPolicy` to
/// everyone but a break-glass role (a condition on the caller, not decided statically).
fn lab_under_scps(management: &str) -> Inventory {
    let (mut inventory, _) = lab();
    let scp = |statements: serde_json::Value| {
        serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string()
    };
    let bundle = serde_json::json!({
        "ManagementAccountId": management,
        "Parents": {"111122223333": "ou-lab1-guarded", "ou-lab1-guarded": "r-lab1"},
        "ServiceControlPolicies": [
            {"PolicySummary": {"Id": "p-FullAWSAccess", "Name": "FullAWSAccess", "Type": "SERVICE_CONTROL_POLICY", "AwsManaged": true},
             "Content": scp(serde_json::json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}])),
             "Targets": [{"TargetId": "r-lab1", "Type": "ROOT"}, {"TargetId": "ou-lab1-guarded", "Type": "ORGANIZATIONAL_UNIT"}, {"TargetId": "111122223333", "Type": "ACCOUNT"}]},
            {"PolicySummary": {"Id": "p-guardrails", "Name": "guardrails", "Type": "SERVICE_CONTROL_POLICY"},
             "Content": scp(serde_json::json!([
                 {"Effect": "Deny", "Action": ["iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile", "sagemaker:*"], "Resource": "*"},
                 {"Effect": "Deny", "Action": "iam:PutUserPolicy", "Resource": "*",
                  "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/lab-break-glass"}}}
             ])),
             "Targets": [{"TargetId": "ou-lab1-guarded", "Type": "ORGANIZATIONAL_UNIT"}]}
        ]
    });
    let ctx = ImportContext::new(Fingerprinter::new(b"lab"));
    let scps =
        aws::scps::parse(Path::new("scps.json"), bundle.to_string().as_bytes(), &ctx).unwrap();
    inventory.extend(scps);
    inventory
}

#[test]
fn service_control_policies_cancel_paths_at_every_level_of_the_tree() {
    let lab_arn = |name: &str| format!("arn:aws:iam::111122223333:{name}");
    let techniques = |inventory: &Inventory, principal: &str| {
        let index = inventory.index();
        let privileges = warrant_posture::summarize_all_at(&index, Some(now()));
        let summary = &privileges[&lab_arn(principal)];
        summary
            .escalations
            .iter()
            .map(|e| (e.technique.clone(), e.confidence, e.caveats.join(" ")))
            .collect::<Vec<_>>()
    };
    let guarded = lab_under_scps("999999999999");
    let names = |found: Vec<(String, Confidence, String)>| -> Vec<String> {
        found.into_iter().map(|(t, _, _)| t).collect()
    };
    assert!(names(techniques(&guarded, "user/lab/pos-create-access-key")).is_empty());
    assert!(names(techniques(&guarded, "user/lab/pos-create-login-profile")).is_empty());
    assert!(
        names(techniques(
            &guarded,
            "user/lab/pos-passrole-sagemaker-training"
        ))
        .is_empty()
    );
    assert_eq!(
        names(techniques(&guarded, "user/lab/pos-passrole-lambda")),
        ["passrole-lambda"]
    );
    let put = techniques(&guarded, "user/lab/pos-put-inline-policy");
    assert_eq!(put.len(), 1, "{put:?}");
    assert_eq!(put[0].1, Confidence::Low, "{put:?}");
    assert!(
        put[0].2.contains("Deny of iam:PutUserPolicy may apply"),
        "{put:?}"
    );
    // A guardrail of a few denies leaves administrators administrators.
    let index = guarded.index();
    let (privileges, reach) = warrant_posture::summarize_all_with_reach(&index, Some(now()), &[]);
    assert!(privileges[&lab_arn("role/lab-break-glass")].admin_equivalent);
    let groups = warrant_posture::admin_groups(&index);
    let paths = warrant_posture::admin_paths(&index, &privileges, &reach, &groups);
    assert!(!paths.contains_key(&lab_arn("user/lab/chain-access-key-named")));
    assert!(paths.contains_key(&lab_arn("user/lab/chain-two-hops")));

    // SCPs do not limit the management account.
    let management = lab_under_scps("111122223333");
    assert_eq!(
        names(techniques(&management, "user/lab/pos-create-access-key")),
        ["create-access-key"]
    );
}
