//! Scans through the use case: sources, and links to the stored inventory.

use warrant_app::{Cancel, NoProgress};
use warrant_core::{Finding, FindingSource, RuleId, Severity};
use warrant_scan::ScanOptions;

use crate::common::{demo_store, fingerprinter, now};

/// svc-dev-seeder's access key id in the demo organisation.
const KEY_ID: &str = "AKIAZP6WDFRWPBJ3NNUJ";
const SEEDER: &str = "arn:aws:iam::222222222222:user/svc-dev-seeder";

#[tokio::test]
async fn a_leaked_key_id_links_to_its_identity_and_records_an_nhi2_finding() {
    let store = demo_store().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("seed.sh"),
        format!(
            "export AWS_ACCESS_KEY_ID={KEY_ID}\nexport AWS_SECRET_ACCESS_KEY=q8Rb2Lw7XzN4vKp1Ts9Hc6Ym3Df0Gj5Ua2Ei7OkW\n"
        ),
    )
    .unwrap();
    let options = ScanOptions {
        paths: vec![dir.path().to_path_buf()],
        threads: 1,
        ..ScanOptions::default()
    };
    let outcome = warrant_app::scan(
        &options,
        None,
        &fingerprinter(),
        Some(&store),
        now(),
        &NoProgress,
        &Cancel::new(),
    )
    .await
    .unwrap();
    assert!(
        outcome.report.findings.len() >= 2,
        "{:#?}",
        outcome.report.findings
    );
    assert!(
        outcome
            .links
            .iter()
            .any(|l| l.identity == SEEDER && l.by == "key id"),
        "{:#?}",
        outcome.links
    );
    let stored = store.open_findings(FindingSource::Secret).await.unwrap();
    assert!(
        stored
            .iter()
            .any(|f| f.identity == SEEDER && f.rule == "leaked-secret")
    );
    assert!(
        !store
            .secret_occurrences_for_identity(SEEDER)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Issue 12: stores hold leaked-secret findings raised per secret (their id made from the
/// secret's fingerprint). The first scan that finds the secret again raises the finding of its
/// credential and resolves the per-secret one, so one leak is not two open findings.
#[tokio::test]
async fn a_credential_finding_supersedes_the_per_secret_finding_of_earlier_versions() {
    const SECRET: &str = "q8Rb2Lw7XzN4vKp1Ts9Hc6Ym3Df0Gj5Ua2Ei7OkW";
    let store = demo_store().await;
    let old = Finding::new(
        RuleId::LeakedSecret,
        "Leaked secret",
        Severity::Critical,
        SEEDER,
        &fingerprinter().fingerprint(SECRET.as_bytes()),
        vec!["found before issue 12".into()],
        "rotate",
    );
    store
        .record_findings(now(), std::slice::from_ref(&old))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("seed.sh"),
        format!("export AWS_ACCESS_KEY_ID={KEY_ID}\nexport AWS_SECRET_ACCESS_KEY={SECRET}\n"),
    )
    .unwrap();
    let options = ScanOptions {
        paths: vec![dir.path().to_path_buf()],
        threads: 1,
        ..ScanOptions::default()
    };
    warrant_app::scan(
        &options,
        None,
        &fingerprinter(),
        Some(&store),
        now(),
        &NoProgress,
        &Cancel::new(),
    )
    .await
    .unwrap();
    let open: Vec<String> = store
        .open_findings(FindingSource::Secret)
        .await
        .unwrap()
        .into_iter()
        .filter(|f| f.identity == SEEDER)
        .map(|f| f.id)
        .collect();
    assert_eq!(
        open,
        [warrant_scan::link::leaked_secret_id(SEEDER, KEY_ID)],
        "the credential's finding only"
    );
    assert_ne!(open[0], old.id);
}

#[tokio::test]
async fn a_scan_without_a_store_links_nothing_and_nothing_to_scan_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.env"), format!("KEY={KEY_ID}\n")).unwrap();
    let options = ScanOptions {
        paths: vec![dir.path().to_path_buf()],
        threads: 1,
        ..ScanOptions::default()
    };
    let outcome = warrant_app::scan(
        &options,
        None,
        &fingerprinter(),
        None,
        now(),
        &NoProgress,
        &Cancel::new(),
    )
    .await
    .unwrap();
    assert!(!outcome.report.findings.is_empty());
    assert!(outcome.links.is_empty());
    let nothing = warrant_app::scan(
        &ScanOptions::default(),
        None,
        &fingerprinter(),
        None,
        now(),
        &NoProgress,
        &Cancel::new(),
    )
    .await;
    assert!(nothing.is_err());
}

#[tokio::test]
async fn validation_with_an_unknown_provider_fails_before_anything_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.env"), "nothing here\n").unwrap();
    let options = ScanOptions {
        paths: vec![dir.path().to_path_buf()],
        threads: 1,
        ..ScanOptions::default()
    };
    let endpoints = std::collections::BTreeMap::from([(
        "gihtub".to_string(),
        "http://127.0.0.1:9".to_string(),
    )]);
    let err = warrant_app::scan(
        &options,
        Some(&endpoints),
        &fingerprinter(),
        None,
        now(),
        &NoProgress,
        &Cancel::new(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, warrant_app::AppError::Validate(_)), "{err:?}");
    assert!(err.to_string().contains("gihtub"), "{err}");
}
