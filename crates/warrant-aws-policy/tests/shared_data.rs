#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
#![allow(
    clippy::disallowed_methods,
    reason = "tests read the shared reference data"
)]
#![allow(
    clippy::indexing_slicing,
    reason = "tests, examples and benchmarks index their own data"
)]
//! Every real AWS managed policy and the real authorization-details sample parse and classify.
//! Skips (saying so) when ../shared is absent.

use std::path::PathBuf;
use std::time::Instant;

use warrant_aws_policy::{Analyzer, catalog, parse_policy_document};
use warrant_core::{AccessLevel, Attachment, Policy, PolicyKind, Provenance, Provider};

fn shared() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/aws");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: {} is absent", dir.display());
        None
    }
}

fn policy(name: &str, document: &serde_json::Value) -> Policy {
    Policy {
        id: format!("arn:aws:iam::aws:policy/{name}"),
        name: name.to_string(),
        provider: Provider::Aws,
        kind: PolicyKind::AwsManaged,
        statements: parse_policy_document(document).unwrap_or_else(|e| panic!("{name}: {e}")),
        provenance: Provenance::default(),
    }
}

fn attachment(policy: &Policy) -> Attachment {
    Attachment {
        identity: "test".into(),
        policy: policy.id.clone(),
        via: None,
        scope: None,
    }
}

#[test]
fn every_managed_policy_parses_and_classifies() {
    let Some(dir) = shared() else { return };
    let mut files: Vec<_> = std::fs::read_dir(dir.join("managed-policies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() > 1500,
        "expected the full managed-policy set, found {}",
        files.len()
    );
    let started = Instant::now();
    let mut policies = Vec::new();
    for file in &files {
        // The dataset leaves a few very large policies out as empty files; they hold no document.
        if std::fs::metadata(file).unwrap().len() == 0 {
            eprintln!(
                "note: {} is empty in the dataset (policy omitted upstream)",
                file.display()
            );
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        let name = file.file_stem().unwrap().to_string_lossy().to_string();
        policies.push(policy(&name, &value["document"]));
    }
    let analyzer = Analyzer::prepare(&policies);
    let mut unclassified = std::collections::BTreeSet::new();
    let mut n_statements = 0;
    let mut literal = std::collections::BTreeSet::new();
    for p in &policies {
        for s in &p.statements {
            literal.extend(
                s.actions
                    .iter()
                    .filter(|a| !a.contains(['*', '?']))
                    .map(|a| a.to_ascii_lowercase()),
            );
        }
        let a = attachment(p);
        let summary = analyzer.summarize(&[(&a, p)], None);
        n_statements += p.statements.len();
        unclassified.extend(
            summary
                .unclassified_actions
                .iter()
                .map(|a| a.to_ascii_lowercase()),
        );
        for grant in &summary.grants {
            if grant.effect == warrant_core::Effect::Allow && grant.n_actions > 0 {
                assert!(
                    grant.access_level.is_some(),
                    "{}: a grant without a level",
                    p.name
                );
            }
        }
        let by_name = |name: &str| p.name == name;
        if by_name("AdministratorAccess") {
            assert!(
                summary.admin_equivalent,
                "AdministratorAccess must be admin-equivalent"
            );
        }
        if by_name("ReadOnlyAccess") {
            assert!(!summary.admin_equivalent);
            assert!(
                summary.escalations.is_empty(),
                "ReadOnlyAccess escalations: {:?}",
                summary.escalations
            );
            // AWS itself files a handful of Get*/List*/Describe* actions under Write (they start
            // exports or generate URLs), so a few appear; permissions management must not.
            let writes = summary
                .actions_by_level
                .get(&AccessLevel::Write)
                .copied()
                .unwrap_or(0);
            assert!(
                writes * 100 < summary.n_actions(),
                "ReadOnlyAccess: {writes} Write actions"
            );
            // Likewise a few reads of resource policies (billing:GetResourcePolicy, …).
            let managing = summary
                .actions_by_level
                .get(&AccessLevel::PermissionsManagement)
                .copied()
                .unwrap_or(0);
            assert!(
                managing < 5,
                "ReadOnlyAccess: {managing} permissions-management actions"
            );
        }
        if by_name("IAMFullAccess") {
            assert!(summary.admin_equivalent || !summary.escalations.is_empty());
        }
        if by_name("AmazonS3ReadOnlyAccess") {
            assert!(!summary.admin_equivalent);
            assert!(summary.max_level() <= Some(AccessLevel::Read));
        }
    }
    eprintln!(
        "{} managed policies, {n_statements} statements, {} catalogued actions: analysed in {:?}; {} actions not in the catalogue (levels inferred): {:?}",
        policies.len(),
        catalog().len(),
        started.elapsed(),
        unclassified.len(),
        unclassified.iter().take(20).collect::<Vec<_>>()
    );
    // The managed policies are newer than the catalogue, so some actions are unknown to it; they
    // still get a level from their verb. Only a small share may be unknown.
    assert!(
        unclassified.len() * 10 < literal.len(),
        "{} of {} distinct actions unclassified",
        unclassified.len(),
        literal.len()
    );
}

#[test]
fn every_policy_in_the_authorization_details_sample_parses() {
    let Some(dir) = shared() else { return };
    let text = std::fs::read_to_string(dir.join("authorization-details-example.json")).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut n = 0;
    for p in value["Policies"].as_array().unwrap() {
        for version in p["PolicyVersionList"].as_array().unwrap() {
            let statements = parse_policy_document(&version["Document"]).unwrap();
            for s in statements {
                for action in s.actions.iter().filter(|a| !a.contains('*')) {
                    let (_, _) = catalog().access_level(action);
                    n += 1;
                }
            }
        }
    }
    for list in ["UserDetailList", "RoleDetailList", "GroupDetailList"] {
        for item in value[list].as_array().unwrap() {
            for key in ["UserPolicyList", "RolePolicyList", "GroupPolicyList"] {
                for p in item[key].as_array().into_iter().flatten() {
                    parse_policy_document(&p["PolicyDocument"]).unwrap();
                }
            }
            if let Some(trust) = item.get("AssumeRolePolicyDocument") {
                parse_policy_document(trust).unwrap();
            }
        }
    }
    assert!(n > 100);
}
