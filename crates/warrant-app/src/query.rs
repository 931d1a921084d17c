//! The read side: what `inventory`, `findings`, `show`, `alerts` and `rightsize` show, from the
//! store (and a posture evaluation over it where risk is involved).

use warrant_core::{
    Environment, Finding, FindingSource, Identity, IdentityKind, OwaspNhi, PrivilegeSummary,
    Provider, Severity, Timestamp, UsageRecord,
};
use warrant_report::IdentityView;
use warrant_store::{
    FindingFilter, FindingStatus, SecretOccurrence, Store, StoredFinding, StoredIdentity,
};

use crate::assess::{Evaluation, evaluate, identity_views};
use crate::error::StoreContext;
use crate::{AppError, PostureConfig, Progress};

/// Which identities `inventory` lists.
#[derive(Debug, Clone, Default)]
pub struct InventoryFilter {
    pub provider: Option<Provider>,
    pub kind: Option<IdentityKind>,
    pub environment: Option<Environment>,
    /// Only identities without an owner.
    pub no_owner: bool,
    /// Only identities with at least this risk (0–100).
    pub min_risk: f64,
}

/// The stored identities with their risk at `now`, riskiest first, filtered.
pub async fn inventory(
    store: &Store,
    posture: &PostureConfig,
    now: Timestamp,
    filter: &InventoryFilter,
    progress: &dyn Progress,
) -> Result<Vec<IdentityView>, AppError> {
    let evaluation = evaluate(store, posture, now, progress).await?;
    Ok(identity_views(&evaluation)
        .into_iter()
        .filter(|i| filter.provider.is_none_or(|p| i.provider == p))
        .filter(|i| filter.kind.is_none_or(|k| i.kind == k))
        .filter(|i| filter.environment.is_none_or(|e| i.environment == e))
        .filter(|i| !filter.no_owner || i.owners.is_empty())
        .filter(|i| i.risk >= filter.min_risk)
        .collect())
}

/// Which findings `findings` lists.
#[derive(Debug, Clone, Default)]
pub struct FindingsFilter {
    /// Only findings at or above this severity.
    pub severity: Option<Severity>,
    pub owasp: Option<OwaspNhi>,
    pub rule: Option<warrant_core::RuleId>,
    pub identity: Option<String>,
    pub source: Option<FindingSource>,
}

/// Current findings (posture evaluated at `now`, plus the stored secret and activity findings).
#[derive(Debug)]
pub struct FindingsView {
    pub findings: Vec<Finding>,
    /// Identity id → the file it was read from, for SARIF locations.
    pub origins: std::collections::HashMap<String, String>,
}

/// Current findings over the stored inventory, filtered.
pub async fn findings(
    store: &Store,
    posture: &PostureConfig,
    now: Timestamp,
    filter: &FindingsFilter,
    progress: &dyn Progress,
) -> Result<FindingsView, AppError> {
    let mut evaluation = evaluate(store, posture, now, progress).await?;
    // Only the findings and their origins are needed from here on: the inventory goes, and the
    // findings are filtered in place rather than copied (hundreds of thousands at scale).
    evaluation.inventory = warrant_core::Inventory::default();
    let mut findings = std::mem::take(&mut evaluation.assessment.findings);
    findings.retain(|f| {
        filter.severity.is_none_or(|s| f.severity >= s)
            && filter.owasp.is_none_or(|o| f.owasp == o)
            && filter.rule.is_none_or(|r| f.rule == r)
            && filter.identity.as_ref().is_none_or(|i| &f.identity == i)
            && filter.source.is_none_or(|s| f.source == s)
    });
    Ok(FindingsView {
        findings,
        origins: evaluation.origins,
    })
}

/// Sets a stored finding's status by hand: `Accepted` (a person decided to live with it; `note`
/// says why, and later runs do not reopen it) or `Open` again. An unknown id is an error.
pub async fn set_finding_status(
    store: &Store,
    id: &str,
    status: warrant_store::FindingStatus,
    note: Option<&str>,
) -> Result<(), AppError> {
    let found = store
        .set_finding_status(id, status, note)
        .await
        .context("setting the finding's status")?;
    if found {
        Ok(())
    } else {
        Err(AppError::Invalid(format!(
            "no finding has the id `{id}` (see `warrant findings --format json`)"
        )))
    }
}

/// The instant the latest saved posture assessment used, so commands that evaluate the stored
/// inventory can say whether they look at the same moment.
pub async fn last_assessed(store: &Store) -> Result<Option<Timestamp>, AppError> {
    store
        .last_assessed(FindingSource::Posture)
        .await
        .context("reading the last assessment's date")
}

/// Which alerts `alerts` lists.
#[derive(Debug, Clone, Default)]
pub struct AlertsFilter {
    /// External id, or `shadow:…` for unknown principals.
    pub identity: Option<String>,
    pub severity: Option<Severity>,
    /// Only this detection (rule id).
    pub detection: Option<String>,
    /// Include resolved and accepted alerts.
    pub all: bool,
}

/// Activity alerts in the store (from ingestion and stream consumers).
pub async fn alerts(store: &Store, filter: &AlertsFilter) -> Result<Vec<StoredFinding>, AppError> {
    let query = FindingFilter {
        identity: filter.identity.clone(),
        source: Some(FindingSource::Activity),
        status: (!filter.all).then_some(FindingStatus::Open),
        min_severity: filter.severity,
    };
    let stored = store.findings(&query).await.context("loading alerts")?;
    Ok(stored
        .into_iter()
        .filter(|s| {
            filter
                .detection
                .as_ref()
                .is_none_or(|d| &s.finding.rule == d)
        })
        .collect())
}

/// Everything known about one identity.
#[derive(Debug)]
pub struct IdentityDetail {
    /// The posture evaluation the identity was found in (the whole store's).
    pub evaluation: Evaluation,
    /// The resolved identity's id.
    pub id: String,
    /// The full privilege detail (the bulk assessment keeps compact summaries).
    pub privilege: PrivilegeSummary,
    /// First and last seen.
    pub stored: Option<StoredIdentity>,
    /// Where its secrets were found.
    pub leaks: Vec<SecretOccurrence>,
    /// Observed use since `usage_since`.
    pub usage: Vec<UsageRecord>,
    pub usage_since: Timestamp,
}

impl IdentityDetail {
    pub fn identity(&self) -> Option<&Identity> {
        self.evaluation
            .inventory
            .identities
            .iter()
            .find(|i| i.id == self.id)
    }
}

/// Exact id first; otherwise a unique identity whose name equals, or whose id ends with, the text.
pub fn resolve<'a>(identities: &'a [Identity], wanted: &str) -> Result<&'a Identity, AppError> {
    if let Some(exact) = identities.iter().find(|i| i.id == wanted) {
        return Ok(exact);
    }
    let candidates: Vec<&Identity> = identities
        .iter()
        .filter(|i| {
            i.name == wanted
                || i.id.ends_with(&format!("/{wanted}"))
                || i.id.ends_with(&format!(":{wanted}"))
        })
        .collect();
    match candidates.as_slice() {
        [one] => Ok(one),
        [] => Err(AppError::Invalid(format!(
            "no identity `{wanted}` in the store (try `warrant inventory`)"
        ))),
        many => {
            let ids: Vec<&str> = many.iter().take(10).map(|i| i.id.as_str()).collect();
            Err(AppError::Invalid(format!(
                "`{wanted}` matches {} identities; use the full id:\n  {}",
                many.len(),
                ids.join("\n  ")
            )))
        }
    }
}

/// One identity (by id, name or id suffix) with its risk at `now`, privilege detail, leaks and
/// the use observed since `usage_since`.
pub async fn show(
    store: &Store,
    posture: &PostureConfig,
    now: Timestamp,
    wanted: &str,
    usage_since: Timestamp,
    progress: &dyn Progress,
) -> Result<IdentityDetail, AppError> {
    let evaluation = evaluate(store, posture, now, progress).await?;
    let id = resolve(&evaluation.inventory.identities, wanted)?
        .id
        .clone();
    let privilege = warrant_posture::privilege_detail(&evaluation.inventory, &id);
    let stored = store.identity(&id).await.context("loading the identity")?;
    let leaks = store
        .secret_occurrences_for_identity(&id)
        .await
        .context("loading where its secrets were found")?;
    let usage = store
        .usage_for(&id, Some(usage_since))
        .await
        .context("loading usage")?;
    Ok(IdentityDetail {
        evaluation,
        id,
        privilege,
        stored,
        leaks,
        usage,
        usage_since,
    })
}

/// What `rightsize` found for one identity.
#[derive(Debug)]
pub struct RightSized {
    pub report: warrant_activity::rightsize::RightSizeReport,
    /// Usage records the comparison read (empty: nothing ingested in the window).
    pub usage: Vec<UsageRecord>,
    pub since: Timestamp,
}

/// Compares what identity `wanted` (an id, a name or an id suffix, as `show` takes) is granted
/// with what it used since `since`, and proposes a least-privilege policy covering the observed
/// use.
pub async fn rightsize(
    store: &Store,
    wanted: &str,
    since: Timestamp,
) -> Result<RightSized, AppError> {
    let inventory = store
        .load_inventory()
        .await
        .context("loading the inventory")?;
    let id = resolve(&inventory.identities, wanted)?.id.clone();
    let id = id.as_str();
    let granted = {
        let index = inventory.index();
        let policies = index.policies_of(id);
        let analyzer =
            warrant_aws_policy::Analyzer::prepare(policies.iter().map(|(_, policy)| *policy));
        analyzer.allowed_actions(&policies)
    };
    drop(inventory);
    let usage = store
        .usage_for(id, Some(since))
        .await
        .context("loading usage")?;
    let report = warrant_activity::rightsize::rightsize_usage(id, &granted, &usage);
    Ok(RightSized {
        report,
        usage,
        since,
    })
}
