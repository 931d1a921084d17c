//! Assessment: posture over the stored inventory (with the secret and activity findings the
//! store holds), saved so findings keep their first-seen dates and resolved ones close.

use std::collections::HashMap;
use std::path::PathBuf;

use warrant_core::{Finding, FindingSource, Fingerprinter, Inventory, Timestamp};
use warrant_report::IdentityView;
use warrant_store::Store;

use crate::error::StoreContext;
use crate::import::{ImportOutcome, import_paths};
use crate::lifecycle::PolicyGovernance;
use crate::query::SavedIdentity;
use crate::{AppError, Cancel, Phase, Progress, Rules, Settings};

/// Posture over the stored inventory.
#[derive(Debug)]
pub struct Evaluation {
    /// The store's revision before the inventory was read: the run is current while the
    /// store stays at it.
    pub revision: i64,
    pub inventory: Inventory,
    pub assessment: warrant_posture::Assessment,
    /// Identity id → the file it was read from, for SARIF locations.
    pub origins: HashMap<String, String>,
}

/// Evaluates posture over the store's inventory at `now`.
pub async fn evaluate(
    store: &Store,
    rules: Rules<'_>,
    now: Timestamp,
    progress: &dyn Progress,
) -> Result<Evaluation, AppError> {
    let revision = store
        .revision()
        .await
        .context("reading the store's revision")?;
    let records = store
        .count_current_records()
        .await
        .context("counting the inventory")?;
    progress.phase(Phase::LoadingInventory, Some(records));
    let mut inventory = store
        .load_inventory_observed(&|n| progress.position(n))
        .await
        .context("loading the inventory")?;
    crate::ownership::apply_owners(store, &mut inventory).await?;
    progress.done(Phase::LoadingInventory);
    let mut extra = Vec::new();
    for source in [FindingSource::Secret, FindingSource::Activity] {
        extra.extend(
            store
                .open_findings(source)
                .await
                .context("loading findings")?,
        );
    }
    let exceptions = crate::lifecycle::exceptions(store, now, chrono::Duration::zero()).await?;
    let mut governance = PolicyGovernance::new(rules.governance, rules.posture, exceptions, now);
    if governance.has_policy() {
        let reviews = store
            .last_reviews()
            .await
            .context("loading access reviews")?;
        let first_seen = store
            .identities_first_seen()
            .await
            .context("loading when identities were first seen")?;
        governance = governance.with_reviews(reviews, first_seen);
    }
    progress.phase(Phase::Assessing, Some(inventory.identities.len() as u64));
    let assessment = warrant_posture::assess_governed(
        &inventory,
        &extra,
        rules.posture,
        &governance,
        now,
        &|n| progress.position(n),
    );
    progress.done(Phase::Assessing);
    let origins = inventory
        .identities
        .iter()
        .filter_map(|i| i.provenance.location.clone().map(|l| (i.id.clone(), l)))
        .collect();
    Ok(Evaluation {
        revision,
        inventory,
        assessment,
        origins,
    })
}

/// Records the posture run (a complete run: posture findings it no longer raises resolve).
pub async fn save(
    store: &Store,
    evaluation: &Evaluation,
    now: Timestamp,
    progress: &dyn Progress,
) -> Result<(), AppError> {
    let posture: Vec<&Finding> = evaluation
        .assessment
        .findings
        .iter()
        .filter(|f| f.source == FindingSource::Posture)
        .collect();
    // Each identity's row as the reports show it, so listings can answer from the store, and
    // the facets they filter by.
    let mut summaries = Vec::with_capacity(evaluation.assessment.identities.len());
    let mut facets = Vec::with_capacity(evaluation.assessment.identities.len());
    for (view, assessed) in identity_views(evaluation)
        .into_iter()
        .zip(&evaluation.assessment.identities)
    {
        facets.push(crate::query::Facets::of(&view));
        let location = evaluation.origins.get(&view.id).cloned();
        summaries.push(
            serde_json::to_string(&SavedIdentity {
                view,
                location,
                tier: assessed.tier.clone(),
            })
            .map_err(|e| AppError::Invalid(format!("cannot save an identity's summary: {e}")))?,
        );
    }
    let scored: Vec<warrant_store::ScoredIdentity<'_>> = evaluation
        .assessment
        .identities
        .iter()
        .zip(&summaries)
        .zip(&facets)
        .map(|((i, summary), f)| warrant_store::ScoredIdentity {
            identity: i.id.as_str(),
            risk: &i.risk,
            summary: Some(summary.as_str()),
            facets: Some(f.scored(i.tier.as_deref())),
        })
        .collect();
    progress.phase(Phase::Saving, Some((posture.len() + scored.len()) as u64));
    let run = store
        .save_run(
            now,
            FindingSource::Posture,
            Some(evaluation.revision),
            &posture,
            &scored,
            &|n| progress.position(n),
        )
        .await
        .context("saving the assessment")?;
    // What an overview shows of these identities, counted now rather than on every view.
    let mut aggregates = crate::query::RunAggregates::default();
    for view in identity_views(evaluation) {
        aggregates.add(&view);
    }
    let aggregates = serde_json::to_string(&aggregates.finish())
        .map_err(|e| AppError::Invalid(format!("cannot save the run's aggregates: {e}")))?;
    store
        .set_run_aggregates(run, &aggregates)
        .await
        .context("saving the assessment's aggregates")?;
    progress.done(Phase::Saving);
    // Leaked secrets and activity alerts are saved by their own runs; the exceptions this
    // evaluation applied to them decide whether they are open.
    let others: Vec<&Finding> = evaluation
        .assessment
        .findings
        .iter()
        .filter(|f| f.source != FindingSource::Posture)
        .collect();
    store
        .apply_exceptions(&others)
        .await
        .context("applying exceptions to secret and activity findings")?;
    Ok(())
}

/// What `assess` returns: the import's inputs and notes, and the saved evaluation.
#[derive(Debug)]
pub struct Assessed {
    pub imported: ImportOutcome,
    pub evaluation: Evaluation,
}

/// Imports `paths`, evaluates posture over the whole store and saves the run. The returned
/// inventory holds no policies: the report reads identities only, and policy statements are
/// most of a large inventory's memory.
pub async fn assess(
    store: &Store,
    settings: Settings<'_>,
    fingerprinter: &Fingerprinter,
    paths: &[PathBuf],
    now: Timestamp,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Assessed, AppError> {
    let imported =
        import_paths(store, settings, fingerprinter, paths, now, progress, cancel).await?;
    cancel.check()?;
    let mut evaluation = evaluate(store, settings.rules(), now, progress).await?;
    evaluation.inventory.policies = Vec::new();
    cancel.check()?;
    save(store, &evaluation, now, progress).await?;
    Ok(Assessed {
        imported,
        evaluation,
    })
}

/// One row per assessed identity, as the reports show them.
pub fn identity_views(evaluation: &Evaluation) -> Vec<IdentityView> {
    let mut n_findings: HashMap<&str, usize> = HashMap::new();
    for f in evaluation
        .assessment
        .findings
        .iter()
        .filter(|f| f.exception.is_none())
    {
        *n_findings.entry(f.identity.as_str()).or_default() += 1;
    }
    let last_used: HashMap<&str, _> = evaluation
        .inventory
        .identities
        .iter()
        .map(|i| (i.id.as_str(), i.last_used))
        .collect();
    evaluation
        .assessment
        .identities
        .iter()
        .map(|i| IdentityView {
            id: i.id.clone(),
            kind: i.kind,
            provider: i.provider,
            name: i.name.clone(),
            account: i.account.clone(),
            environment: i.environment,
            status: i.status,
            owners: i.owners.clone(),
            risk: round1(i.risk.score),
            blast_radius: round1(i.risk.blast_radius),
            exposure: round1(i.risk.exposure),
            admin_equivalent: i.privilege.admin_equivalent,
            last_used: last_used.get(i.id.as_str()).copied().flatten(),
            n_findings: n_findings.get(i.id.as_str()).copied().unwrap_or(0),
        })
        .collect()
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
