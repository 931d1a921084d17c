//! The read side: what `inventory`, `findings`, `show`, `alerts` and `rightsize` show.
//!
//! `inventory`, `findings` and `show` answer from the last assessment `assess` saved, reading
//! one row at a time, while it is current: the store's revision has not moved since (nothing it
//! read changed) and the caller asked for its instant or none. Otherwise they evaluate posture
//! over the stored inventory afresh, as `assess` would without saving, and say why ([`Basis`]).

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use warrant_core::{
    Environment, Finding, FindingSource, Identity, IdentityKind, Inventory, OwaspNhi,
    PrivilegeSummary, Provider, Severity, Timestamp, UsageRecord,
};
use warrant_posture::IdentityAssessment;
use warrant_report::IdentityView;
use warrant_store::{
    FindingFilter, FindingStatus, SavedRun, SecretOccurrence, Store, StoredFinding, StoredIdentity,
};

use crate::assess::{evaluate, identity_views};
use crate::error::StoreContext;
use crate::{AppError, Progress, Rules};

/// Which instant a query is about: the one the caller asked for (`--as-of`), if any, and the
/// current one otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When {
    pub asked: Option<Timestamp>,
    pub now: Timestamp,
}

impl From<Timestamp> for When {
    /// That instant, asked for.
    fn from(at: Timestamp) -> When {
        When {
            asked: Some(at),
            now: at,
        }
    }
}

/// What an answer was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// The assessment `assess` saved as of this instant, still current.
    Saved { as_of: Timestamp },
    /// Posture evaluated afresh at `as_of`, because of `reason`.
    Evaluated { as_of: Timestamp, reason: Fresh },
}

/// Why a query evaluated afresh instead of reading the saved assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fresh {
    /// No assessment has been saved.
    NeverAssessed,
    /// The store changed after the assessment saved as of this instant.
    ChangedSince(Timestamp),
    /// The caller asked for another instant than the saved assessment's (this one).
    OtherInstant(Timestamp),
}

impl Basis {
    /// The instant the answer is about.
    pub fn as_of(&self) -> Timestamp {
        match self {
            Basis::Saved { as_of } | Basis::Evaluated { as_of, .. } => *as_of,
        }
    }

    /// One line saying what the answer was computed from, and how to get the other view.
    pub fn describe(&self) -> String {
        let at = |t: &Timestamp| t.format("%Y-%m-%d %H:%M UTC").to_string();
        match self {
            Basis::Saved { as_of } => {
                format!(
                    "As of {}, from the assessment `warrant assess` saved.",
                    at(as_of)
                )
            }
            Basis::Evaluated { as_of, reason } => {
                let why = match reason {
                    Fresh::NeverAssessed => "no assessment is saved; `warrant assess` saves one \
                         and then this answers at once"
                        .to_string(),
                    Fresh::ChangedSince(last) => format!(
                        "the store changed after the assessment as of {}; `warrant assess` \
                         brings it up to date and then this answers at once",
                        at(last)
                    ),
                    Fresh::OtherInstant(last) => format!(
                        "the last assessment was as of {} (pass --as-of {} for that view)",
                        at(last),
                        last.format("%Y-%m-%d")
                    ),
                };
                format!("As of {}, evaluated now: {why}.", at(as_of))
            }
        }
    }
}

/// Decides whether the saved posture run answers `when`.
pub async fn basis(store: &Store, when: When) -> Result<(Basis, Option<SavedRun>), AppError> {
    let run = store
        .last_run(FindingSource::Posture)
        .await
        .context("reading the last assessment")?;
    let revision = store
        .revision()
        .await
        .context("reading the store's revision")?;
    let at = when.asked.unwrap_or(when.now);
    let reason = match run {
        None => Fresh::NeverAssessed,
        Some(run) if run.revision != Some(revision) => Fresh::ChangedSince(run.as_of),
        Some(run) if when.asked.is_some_and(|asked| asked != run.as_of) => {
            Fresh::OtherInstant(run.as_of)
        }
        Some(run) => return Ok((Basis::Saved { as_of: run.as_of }, Some(run))),
    };
    Ok((Basis::Evaluated { as_of: at, reason }, None))
}

/// Why a walk over stored rows stopped: the store failed, or the caller's `each` did.
enum Stop<E> {
    Store(warrant_store::StoreError),
    Caller(E),
}

impl<E> From<warrant_store::StoreError> for Stop<E> {
    fn from(e: warrant_store::StoreError) -> Self {
        Stop::Store(e)
    }
}

impl<E: From<AppError>> Stop<E> {
    fn into_caller(self, context: &'static str) -> E {
        match self {
            Stop::Store(source) => E::from(AppError::Store { context, source }),
            Stop::Caller(e) => e,
        }
    }
}

/// How `assess` saves each identity's row (the report's view and where it was read from), so
/// listings need not load the inventory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SavedIdentity {
    #[serde(flatten)]
    pub view: IdentityView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

fn decode_saved(identity: &str, summary: Option<&str>) -> Result<SavedIdentity, AppError> {
    let corrupt = |message: String| AppError::Store {
        context: "reading the saved assessment",
        source: warrant_store::StoreError::Corrupt {
            table: "risks",
            key: identity.to_string(),
            message,
        },
    };
    let summary = summary.ok_or_else(|| corrupt("the saved run has no summary".into()))?;
    serde_json::from_str(summary).map_err(|e| corrupt(e.to_string()))
}

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

impl InventoryFilter {
    fn admits(&self, i: &IdentityView) -> bool {
        self.provider.is_none_or(|p| i.provider == p)
            && self.kind.is_none_or(|k| i.kind == k)
            && self.environment.is_none_or(|e| i.environment == e)
            && (!self.no_owner || i.owners.is_empty())
            && i.risk >= self.min_risk
    }
}

/// What a listing found: what it was computed from, and how many rows matched (a limited
/// listing shows fewer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listed {
    pub basis: Basis,
    pub matched: u64,
}

/// Calls `each` for the first `limit` (all when `None`) identities matching `filter`, riskiest
/// first, with their risk as of `when`; counts every match.
pub async fn each_identity<E: From<AppError>>(
    store: &Store,
    rules: Rules<'_>,
    when: When,
    filter: &InventoryFilter,
    limit: Option<u64>,
    progress: &dyn Progress,
    mut each: impl FnMut(IdentityView) -> Result<(), E>,
) -> Result<Listed, E> {
    let (basis, run) = basis(store, when).await?;
    let mut matched = 0u64;
    let mut emit = |view: IdentityView| -> Result<(), E> {
        if filter.admits(&view) {
            if limit.is_none_or(|l| matched < l) {
                each(view)?;
            }
            matched += 1;
        }
        Ok(())
    };
    match run {
        Some(run) => store
            // Rows show risk rounded to a tenth: let the database pass everything that could
            // round up to the threshold, and `admits` decide on the rounded value.
            .each_scored_identity(run.id, filter.min_risk - 0.05, |row| {
                let mut saved = decode_saved(&row.identity, row.summary.as_deref())
                    .map_err(|e| Stop::Caller(E::from(e)))?;
                saved.view.n_findings = usize::try_from(row.open_findings).unwrap_or(usize::MAX);
                emit(saved.view).map_err(Stop::Caller)
            })
            .await
            .map_err(|stop| stop.into_caller("reading the saved assessment"))?,
        None => {
            let evaluation = evaluate(store, rules, basis.as_of(), progress).await?;
            for view in identity_views(&evaluation) {
                emit(view)?;
            }
        }
    }
    Ok(Listed { basis, matched })
}

/// The stored identities with their risk as of `when`, riskiest first, filtered.
pub async fn inventory(
    store: &Store,
    rules: Rules<'_>,
    when: impl Into<When>,
    filter: &InventoryFilter,
    progress: &dyn Progress,
) -> Result<Vec<IdentityView>, AppError> {
    let mut views = Vec::new();
    each_identity(store, rules, when.into(), filter, None, progress, |v| {
        views.push(v);
        Ok::<(), AppError>(())
    })
    .await?;
    Ok(views)
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

impl FindingsFilter {
    fn admits(&self, f: &Finding) -> bool {
        self.severity.is_none_or(|s| f.severity >= s)
            && self.owasp.is_none_or(|o| f.owasp == o)
            && self.rule.is_none_or(|r| f.rule == r)
            && self.identity.as_ref().is_none_or(|i| &f.identity == i)
            && self.source.is_none_or(|s| f.source == s)
    }

    /// The open findings matching in the store.
    fn stored(&self) -> FindingFilter {
        FindingFilter {
            identity: self.identity.clone(),
            source: self.source,
            status: Some(FindingStatus::Open),
            min_severity: self.severity,
            rule: self.rule.map(|r| r.as_str().to_string()),
            owasp: self.owasp.map(|o| o.code().to_string()),
        }
    }
}

/// Calls `each` for the first `limit` (all when `None`) open findings matching `filter` as of
/// `when`, most severe first, then by identity and rule; counts every match. Accepted findings
/// are left out.
pub async fn each_finding<E: From<AppError>>(
    store: &Store,
    rules: Rules<'_>,
    when: When,
    filter: &FindingsFilter,
    limit: Option<u64>,
    progress: &dyn Progress,
    mut each: impl FnMut(Finding) -> Result<(), E>,
) -> Result<Listed, E> {
    let (basis, run) = basis(store, when).await?;
    if run.is_some() {
        let stored = filter.stored();
        let matched = store
            .count_findings(&stored)
            .await
            .context("counting findings")?;
        store
            .each_finding(&stored, limit, |f: StoredFinding| {
                each(f.finding).map_err(Stop::Caller)
            })
            .await
            .map_err(|stop| stop.into_caller("reading findings"))?;
        return Ok(Listed { basis, matched });
    }
    let mut evaluation = evaluate(store, rules, basis.as_of(), progress).await?;
    evaluation.inventory = Inventory::default();
    let accepted = store
        .finding_ids_with_status(FindingStatus::Accepted)
        .await
        .context("loading accepted findings")?;
    let mut matched = 0u64;
    for f in std::mem::take(&mut evaluation.assessment.findings) {
        if filter.admits(&f) && !accepted.contains(&f.id) {
            if limit.is_none_or(|l| matched < l) {
                each(f)?;
            }
            matched += 1;
        }
    }
    Ok(Listed { basis, matched })
}

/// Current findings (posture evaluated at `now`, plus the stored secret and activity findings).
#[derive(Debug)]
pub struct FindingsView {
    pub findings: Vec<Finding>,
    /// Identity id → the file it was read from, for SARIF locations.
    pub origins: HashMap<String, String>,
    pub basis: Basis,
}

/// Every open finding matching `filter` as of `when`, with the files the identities concerned
/// were read from (for SARIF).
pub async fn findings(
    store: &Store,
    rules: Rules<'_>,
    when: impl Into<When>,
    filter: &FindingsFilter,
    progress: &dyn Progress,
) -> Result<FindingsView, AppError> {
    let mut findings = Vec::new();
    let listed = each_finding(store, rules, when.into(), filter, None, progress, |f| {
        findings.push(f);
        Ok::<(), AppError>(())
    })
    .await?;
    let wanted: std::collections::HashSet<&str> =
        findings.iter().map(|f| f.identity.as_str()).collect();
    let mut origins = HashMap::new();
    match store
        .last_run(FindingSource::Posture)
        .await
        .context("reading the last assessment")?
    {
        Some(run) if matches!(listed.basis, Basis::Saved { .. }) => store
            .each_scored_identity(run.id, 0.0, |row| {
                if wanted.contains(row.identity.as_str()) {
                    let saved = decode_saved(&row.identity, row.summary.as_deref())
                        .map_err(Stop::Caller)?;
                    if let Some(location) = saved.location {
                        origins.insert(row.identity, location);
                    }
                }
                Ok::<(), Stop<AppError>>(())
            })
            .await
            .map_err(|stop| stop.into_caller("reading the saved assessment"))?,
        _ => {
            for id in wanted {
                if let Some(stored) = store.identity(id).await.context("loading an identity")?
                    && let Some(location) = stored.identity.provenance.location
                {
                    origins.insert(id.to_string(), location);
                }
            }
        }
    }
    Ok(FindingsView {
        findings,
        origins,
        basis: listed.basis,
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
        rule: filter.detection.clone(),
        owasp: None,
    };
    store.findings(&query).await.context("loading alerts")
}

/// Everything known about one identity.
#[derive(Debug)]
pub struct IdentityDetail {
    pub basis: Basis,
    /// The resolved identity's id.
    pub id: String,
    /// The identity with its credentials, policies, trust edges into and out of it, and its
    /// owners' directory records.
    pub neighbourhood: Inventory,
    /// Its risk and status as of the basis.
    pub assessment: IdentityAssessment,
    /// Its open findings as of the basis.
    pub findings: Vec<Finding>,
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
        self.neighbourhood
            .identities
            .iter()
            .find(|i| i.id == self.id)
    }
}

/// Exact id first; otherwise a unique identity whose name equals, or whose id ends with, the
/// text. `identities` are (id, name) pairs.
pub fn resolve<'a>(identities: &'a [(String, String)], wanted: &str) -> Result<&'a str, AppError> {
    if let Some((exact, _)) = identities.iter().find(|(id, _)| id == wanted) {
        return Ok(exact);
    }
    let candidates: Vec<&str> = identities
        .iter()
        .filter(|(id, name)| {
            name == wanted
                || id.ends_with(&format!("/{wanted}"))
                || id.ends_with(&format!(":{wanted}"))
        })
        .map(|(id, _)| id.as_str())
        .collect();
    match candidates.as_slice() {
        [one] => Ok(one),
        [] => Err(AppError::Invalid(format!(
            "no identity `{wanted}` in the store (try `warrant inventory`)"
        ))),
        many => Err(AppError::Invalid(format!(
            "`{wanted}` matches {} identities; use the full id:\n  {}",
            many.len(),
            many.iter()
                .take(10)
                .copied()
                .collect::<Vec<_>>()
                .join("\n  ")
        ))),
    }
}

/// Resolves a name a person typed (see [`resolve`]) against the store's current identities.
pub async fn resolve_in(store: &Store, wanted: &str) -> Result<String, AppError> {
    let names = store
        .identity_names()
        .await
        .context("loading identity names")?;
    resolve(&names, wanted).map(str::to_string)
}

/// One identity (by id, name or id suffix) with its risk as of `when`, privilege detail, leaks
/// and the use observed since `usage_since`.
pub async fn show(
    store: &Store,
    rules: Rules<'_>,
    when: impl Into<When>,
    wanted: &str,
    usage_since: Timestamp,
    progress: &dyn Progress,
) -> Result<IdentityDetail, AppError> {
    let when = when.into();
    let id = resolve_in(store, wanted).await?;
    let mut neighbourhood = store
        .load_neighbourhood(&id)
        .await
        .context("loading the identity")?;
    crate::ownership::apply_owners(store, &mut neighbourhood).await?;
    let privilege = warrant_posture::privilege_detail(&neighbourhood, &id);
    let (basis, run) = basis(store, when).await?;
    let saved = match run {
        Some(run) => store
            .scored_identity(run.id, &id)
            .await
            .context("loading its saved risk")?
            .map(|(risk, summary)| (run, risk, summary)),
        None => None,
    };
    let (assessment, findings) = match saved {
        Some((_, risk, summary)) => {
            let view = decode_saved(&id, summary.as_deref())?.view;
            let assessment = IdentityAssessment {
                id: view.id,
                kind: view.kind,
                provider: view.provider,
                name: view.name,
                account: view.account,
                environment: view.environment,
                status: view.status,
                owners: view.owners,
                risk,
                privilege: Arc::new(privilege.clone()),
            };
            let filter = FindingsFilter {
                identity: Some(id.clone()),
                ..FindingsFilter::default()
            };
            let findings = store
                .findings(&filter.stored())
                .await
                .context("loading its findings")?
                .into_iter()
                .map(|f| f.finding)
                .collect();
            (assessment, findings)
        }
        None => {
            // Not in the saved run (or none is current): evaluate the whole store, since risk
            // flows through trust edges from identities anywhere in it.
            let mut evaluation = evaluate(store, rules, basis.as_of(), progress).await?;
            let assessment = evaluation
                .assessment
                .identities
                .iter()
                .find(|a| a.id == id)
                .cloned()
                .ok_or_else(|| AppError::Invalid(format!("{id} was not assessed")))?;
            let findings = std::mem::take(&mut evaluation.assessment.findings)
                .into_iter()
                .filter(|f| f.identity == id)
                .collect();
            (assessment, findings)
        }
    };
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
        basis,
        id,
        neighbourhood,
        assessment,
        findings,
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
    let id = resolve_in(store, wanted).await?;
    rightsize_id(store, &id, since).await
}

/// [`rightsize`] for an identity named by its exact id (no look-up of every name: for callers
/// that size many identities).
pub async fn rightsize_id(
    store: &Store,
    id: &str,
    since: Timestamp,
) -> Result<RightSized, AppError> {
    let id = id.to_string();
    let inventory = store
        .load_neighbourhood(&id)
        .await
        .context("loading the identity")?;
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
