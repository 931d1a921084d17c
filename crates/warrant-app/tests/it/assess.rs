//! Import, assessment and the queries over the stored result, on the demo organisation.

use std::collections::BTreeSet;

use warrant_app::query::{self, AlertsFilter, FindingsFilter, InventoryFilter};
use warrant_app::{AppError, Cancel, NoProgress};
use warrant_core::{FindingSource, Provider};

use crate::common::{config, demo_org, fingerprinter, now, store};

/// The (rule, identity suffix) pairs `examples/demo-org/expected.json` lists.
fn expected() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(demo_org().join("expected.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["findings"]
        .as_array()
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

/// Ids do not depend on where the demo was imported from, so the oracle's ids are the ids.
fn same_identity(found: &str, expected: &str) -> bool {
    found == expected
}

#[tokio::test]
async fn assess_finds_what_the_demo_organisation_plants_and_the_queries_agree() {
    let store = store().await;
    let config = config();
    let assessed = warrant_app::assess(
        &store,
        config.settings(),
        &fingerprinter(),
        &[demo_org()],
        now(),
        &NoProgress,
        &Cancel::new(),
    )
    .await
    .unwrap();
    assert!(assessed.imported.n_records > 0);
    assert!(assessed.imported.inputs.iter().all(|i| i.error.is_none()));
    let findings = &assessed.evaluation.assessment.findings;
    for (rule, identity) in expected() {
        assert!(
            findings
                .iter()
                .any(|f| f.rule == rule && same_identity(&f.identity, &identity)),
            "{rule} on {identity} is missing"
        );
    }

    // The saved run is what the queries read.
    let views = query::inventory(
        &store,
        config.settings().rules(),
        now(),
        &InventoryFilter::default(),
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(views.len(), assessed.evaluation.assessment.identities.len());
    let aws_only = query::inventory(
        &store,
        config.settings().rules(),
        now(),
        &InventoryFilter {
            provider: Some(Provider::Aws),
            ..InventoryFilter::default()
        },
        &NoProgress,
    )
    .await
    .unwrap();
    assert!(!aws_only.is_empty() && aws_only.len() < views.len());

    let listed = query::findings(
        &store,
        config.settings().rules(),
        now(),
        &FindingsFilter {
            source: Some(FindingSource::Posture),
            ..FindingsFilter::default()
        },
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(
        listed.findings.len(),
        findings
            .iter()
            .filter(|f| f.source == FindingSource::Posture)
            .count()
    );

    let detail = query::show(
        &store,
        config.settings().rules(),
        now(),
        "legacy-report-runner",
        now() - chrono::Duration::days(90),
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(
        detail.id,
        "arn:aws:iam::111111111111:role/legacy-report-runner"
    );
    assert!(detail.stored.is_some());
    let missing = query::show(
        &store,
        config.settings().rules(),
        now(),
        "no-such-identity",
        now(),
        &NoProgress,
    )
    .await;
    assert!(matches!(missing, Err(AppError::NotFound(_))));

    let rightsized = query::rightsize(
        &store,
        "arn:aws:iam::111111111111:role/legacy-report-runner",
        now() - chrono::Duration::days(90),
    )
    .await
    .unwrap();
    assert!(rightsized.usage.is_empty());
    assert!(
        query::rightsize(&store, "arn:aws:iam::1:role/none", now())
            .await
            .is_err()
    );
    // `rightsize` takes the names `show` takes: a short name or an id suffix.
    let by_name = query::rightsize(
        &store,
        "legacy-report-runner",
        now() - chrono::Duration::days(90),
    )
    .await
    .unwrap();
    assert_eq!(by_name.report.identity, rightsized.report.identity);

    assert!(
        query::alerts(&store, &AlertsFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn an_import_of_a_missing_path_is_refused() {
    let store = store().await;
    let result = warrant_app::import_paths(
        &store,
        config().settings(),
        &fingerprinter(),
        &[demo_org().join("no-such-dir")],
        now(),
        &NoProgress,
        &Cancel::new(),
    )
    .await;
    assert!(
        matches!(&result, Err(AppError::Invalid(m)) if m.ends_with("does not exist")),
        "{result:?}"
    );
}

#[tokio::test]
async fn the_overview_from_a_saved_runs_aggregates_matches_one_counted_afresh() {
    let store = assessed_demo().await;
    let config = config();
    let rules = config.settings().rules();
    let saved = query::overview(
        &store,
        rules,
        query::When {
            asked: None,
            now: now(),
        },
        &NoProgress,
    )
    .await
    .unwrap();
    assert!(
        matches!(saved.basis, query::Basis::Saved { .. }),
        "{:?}",
        saved.basis
    );
    // A second later posture is evaluated again: the same counts, streamed.
    let fresh = query::overview(
        &store,
        rules,
        (now() + chrono::Duration::seconds(1)).into(),
        &NoProgress,
    )
    .await
    .unwrap();
    assert!(
        matches!(fresh.basis, query::Basis::Evaluated { .. }),
        "{:?}",
        fresh.basis
    );
    assert!(saved.identities > 50);
    assert_eq!(saved.identities, fresh.identities);
    assert_eq!(saved.by_kind, fresh.by_kind);
    assert_eq!(saved.by_risk, fresh.by_risk);
    assert_eq!(saved.admin_equivalent, fresh.admin_equivalent);
    assert_eq!(saved.without_owner, fresh.without_owner);
    assert_eq!(saved.owners, fresh.owners);
    assert_eq!(saved.findings, fresh.findings);
    assert_eq!(saved.open_findings, fresh.open_findings);
    let ids = |o: &query::Overview| o.riskiest.iter().map(|v| v.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&saved), ids(&fresh));
}

/// A filtered listing read from the saved run's facet columns lists what evaluating afresh
/// lists, for every filter those columns answer.
#[tokio::test]
async fn filtered_listings_of_the_saved_run_match_a_fresh_evaluation() {
    use warrant_app::query::{IdentitySort, When};
    use warrant_core::{Environment, IdentityKind, IdentityStatus, OwaspNhi};
    let store = assessed_demo().await;
    let config = config();
    let ordered = |filter: InventoryFilter, when: When, sort: IdentitySort, descending: bool| {
        let (store, config) = (&store, &config);
        async move {
            let page = query::identity_page(
                store,
                config.settings().rules(),
                when,
                &filter,
                sort,
                descending,
                None,
                1000,
                &NoProgress,
            )
            .await
            .unwrap();
            let ids: Vec<String> = page.items.iter().map(|i| i.id.clone()).collect();
            (page.basis, page.matched, ids)
        }
    };
    let list = |filter: InventoryFilter, when: When| async move {
        let (basis, matched, ids) = ordered(filter, when, IdentitySort::Risk, true).await;
        (
            basis,
            matched,
            ids.into_iter().collect::<BTreeSet<String>>(),
        )
    };
    let everyone = list(InventoryFilter::default(), When::from(now())).await.2;
    let account = everyone
        .iter()
        .find_map(|id| {
            id.strip_prefix("arn:aws:iam::")
                .and_then(|r| r.split(':').next())
        })
        .unwrap()
        .to_string();
    let filters = [
        InventoryFilter {
            provider: Some(Provider::Aws),
            ..InventoryFilter::default()
        },
        InventoryFilter {
            kind: Some(IdentityKind::AwsRole),
            ..InventoryFilter::default()
        },
        InventoryFilter {
            environment: Some(Environment::Production),
            ..InventoryFilter::default()
        },
        InventoryFilter {
            status: Some(IdentityStatus::Dormant),
            ..InventoryFilter::default()
        },
        InventoryFilter {
            account: Some(account),
            ..InventoryFilter::default()
        },
        InventoryFilter {
            no_owner: true,
            ..InventoryFilter::default()
        },
        InventoryFilter {
            tier: Some("defaults".into()),
            ..InventoryFilter::default()
        },
        InventoryFilter {
            owasp: Some(OwaspNhi::Nhi5),
            ..InventoryFilter::default()
        },
        InventoryFilter {
            min_risk: 50.0,
            max_risk: Some(80.0),
            ..InventoryFilter::default()
        },
        InventoryFilter {
            provider: Some(Provider::Aws),
            environment: Some(Environment::Production),
            min_risk: 20.0,
            ..InventoryFilter::default()
        },
        InventoryFilter {
            search: Some("DEPLOY".into()),
            ..InventoryFilter::default()
        },
        InventoryFilter {
            search: Some("111111111111".into()),
            ..InventoryFilter::default()
        },
        InventoryFilter {
            owner: Some("Alice".into()),
            ..InventoryFilter::default()
        },
    ];
    let fresh_at = When::from(now() + chrono::Duration::seconds(1));
    for filter in filters {
        let (saved_basis, saved_n, saved) = list(filter.clone(), When::from(now())).await;
        let (fresh_basis, fresh_n, fresh) = list(filter.clone(), fresh_at).await;
        assert!(
            matches!(saved_basis, query::Basis::Saved { .. }),
            "{filter:?}"
        );
        assert!(
            matches!(fresh_basis, query::Basis::Evaluated { .. }),
            "{filter:?}"
        );
        assert!(!saved.is_empty(), "{filter:?} matches some demo identity");
        assert_eq!((saved_n, &saved), (fresh_n, &fresh), "{filter:?}");
        // By name either way, the order itself agrees (ties by id on both paths).
        for descending in [false, true] {
            let saved = ordered(
                filter.clone(),
                When::from(now()),
                IdentitySort::Name,
                descending,
            )
            .await;
            let fresh = ordered(filter.clone(), fresh_at, IdentitySort::Name, descending).await;
            assert!(matches!(saved.0, query::Basis::Saved { .. }));
            assert_eq!((saved.1, saved.2), (fresh.1, fresh.2), "{filter:?} by name");
        }
    }
}

/// A store with the demo organisation imported and assessed (its run saved).
async fn assessed_demo() -> warrant_store::Store {
    let store = store().await;
    warrant_app::assess(
        &store,
        config().settings(),
        &fingerprinter(),
        &[demo_org()],
        now(),
        &NoProgress,
        &Cancel::new(),
    )
    .await
    .unwrap();
    store
}
