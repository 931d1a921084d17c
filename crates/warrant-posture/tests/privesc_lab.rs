#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::disallowed_methods, reason = "tests read their own fixtures")]
#![allow(
    clippy::indexing_slicing,
    reason = "tests, examples and benchmarks index their own data"
)]
//! The privilege-escalation lab (`tests/data/privesc-lab`, written by its `generate.py`): one
//! principal per technique and not-exploitable look-alikes, in the real
//! `get-account-authorization-details` shape, read through the real connector. Every
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
}

fn lab_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/privesc-lab")
}

fn lab() -> (Inventory, BTreeMap<String, Expected>) {
    let path = lab_dir().join("authorization-details.json");
    let bytes = std::fs::read(&path).unwrap();
    let ctx = ImportContext::new(Fingerprinter::new(b"lab"));
    let inventory = aws::authorization_details::parse(Path::new(&path), &bytes, &ctx).unwrap();
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
    let (privileges, reach) = warrant_posture::summarize_all_with_reach(&index, Some(now()));
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
