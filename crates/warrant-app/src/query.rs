//! The read side: what `inventory`, `findings`, `show`, `alerts` and `rightsize` show.
//!
//! `inventory`, `findings` and `show` answer from the last assessment `assess` saved, reading
//! one row at a time, while it is current: the store's revision has not moved since (nothing it
//! read changed) and the caller asked for its instant or none. Otherwise they evaluate posture
//! over the stored inventory afresh, as `assess` would without saving, and say why ([`Basis`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use warrant_core::{
    Environment, Finding, FindingSource, Identity, IdentityKind, IdentityStatus, Inventory,
    OwaspNhi, PrincipalKind, PrivilegeSummary, Provider, Severity, Timestamp, TrustKind,
    UsageRecord,
};
use warrant_posture::IdentityAssessment;
use warrant_report::IdentityView;
use warrant_store::{
    FindingFilter, FindingStatus, SavedRun, SecretOccurrence, Store, StoreError, StoredFinding,
    StoredIdentity, TrustDirection, TrustWalk,
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
    /// The governance policy tier it was judged by (summaries saved before tiers were kept
    /// have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
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
    pub status: Option<IdentityStatus>,
    /// Only identities of this account (exactly as stored).
    pub account: Option<String>,
    /// Only identities with an owner reference containing this (ASCII case-insensitive).
    pub owner: Option<String>,
    /// Only identities without an owner.
    pub no_owner: bool,
    /// Only identities with at least this risk (0–100).
    pub min_risk: f64,
    /// Only identities with at most this risk.
    pub max_risk: Option<f64>,
    /// Only identities whose id or name contains this (ASCII case-insensitive).
    pub search: Option<String>,
    /// Only identities judged by this governance policy tier (`defaults`: no tier matched).
    pub tier: Option<String>,
    /// Only identities with an open finding of this OWASP NHI risk.
    pub owasp: Option<OwaspNhi>,
    /// Only identities an approved registration sanctions (`true`), or only shadow ones.
    pub sanctioned: Option<bool>,
}

impl InventoryFilter {
    /// Whether `i`, judged by `tier`, passes; `facts` answers the filters that need more than
    /// the row (open findings by OWASP risk, registrations).
    fn admits_with(&self, i: &IdentityView, tier: Option<&str>, facts: &Facts) -> bool {
        self.admits(i)
            && self
                .tier
                .as_deref()
                .is_none_or(|t| tier.unwrap_or(DEFAULT_TIER).eq_ignore_ascii_case(t))
            && facts
                .owasp
                .as_ref()
                .is_none_or(|ids| ids.contains(i.id.as_str()))
            && self.sanctioned.is_none_or(|wanted| {
                let sanctioned = facts
                    .approved
                    .iter()
                    .any(|r| r.matches_parts(i.kind, &i.name, i.account.as_deref()));
                sanctioned == wanted
            })
    }

    fn admits(&self, i: &IdentityView) -> bool {
        let contains = |hay: &str, needle: &str| {
            hay.to_ascii_lowercase()
                .contains(&needle.to_ascii_lowercase())
        };
        self.provider.is_none_or(|p| i.provider == p)
            && self.kind.is_none_or(|k| i.kind == k)
            && self.environment.is_none_or(|e| i.environment == e)
            && self.status.is_none_or(|s| i.status == s)
            && self
                .account
                .as_ref()
                .is_none_or(|a| i.account.as_ref() == Some(a))
            && self
                .owner
                .as_ref()
                .is_none_or(|o| i.owners.iter().any(|x| contains(x, o)))
            && (!self.no_owner || i.owners.is_empty())
            && i.risk >= self.min_risk
            && self.max_risk.is_none_or(|m| i.risk <= m)
            && self
                .search
                .as_ref()
                .is_none_or(|q| contains(&i.id, q) || contains(&i.name, q))
    }
}

/// The tier name of identities no policy tier matches.
pub const DEFAULT_TIER: &str = "defaults";

/// The name `value` has on the wire (its serde form), which summaries and the store's facet
/// columns hold.
fn wire<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// An identity's facets as a saved run stores them for filtered listings.
#[derive(Debug, Clone)]
pub(crate) struct Facets {
    provider: String,
    kind: String,
    environment: String,
    status: String,
    account: Option<String>,
    owners: String,
    name: String,
}

impl Facets {
    pub(crate) fn of(view: &IdentityView) -> Facets {
        Facets {
            provider: wire(&view.provider),
            kind: wire(&view.kind),
            environment: wire(&view.environment),
            status: wire(&view.status),
            account: view.account.clone(),
            owners: view
                .owners
                .iter()
                .map(|o| o.to_ascii_lowercase().replace('\n', " "))
                .collect::<Vec<_>>()
                .join("\n"),
            name: view.name.to_ascii_lowercase(),
        }
    }

    pub(crate) fn scored<'a>(&'a self, tier: Option<&'a str>) -> warrant_store::ScoredFacets<'a> {
        warrant_store::ScoredFacets {
            provider: &self.provider,
            kind: &self.kind,
            environment: &self.environment,
            status: &self.status,
            account: self.account.as_deref(),
            tier,
            owned: !self.owners.is_empty(),
            owners: &self.owners,
            name: &self.name,
        }
    }
}

impl InventoryFilter {
    /// The same filter over a saved run's facet columns, when every part of it has one
    /// (sanctioned/shadow needs the registrations).
    fn scored(&self) -> Option<warrant_store::ScoredFilter> {
        if self.sanctioned.is_some() {
            return None;
        }
        Some(warrant_store::ScoredFilter {
            min_score: self.min_risk,
            max_score: self.max_risk,
            provider: self.provider.as_ref().map(wire),
            kind: self.kind.as_ref().map(wire),
            environment: self.environment.as_ref().map(wire),
            status: self.status.as_ref().map(wire),
            account: self.account.clone(),
            owned: self.no_owner.then_some(false),
            tier: self.tier.as_ref().map(|t| warrant_store::TierFilter {
                name: t.clone(),
                untiered: t.eq_ignore_ascii_case(DEFAULT_TIER),
            }),
            owasp: self.owasp.map(|o| o.code().to_string()),
            search: self.search.clone(),
            owner: self.owner.clone(),
        })
    }
}

/// What the filters beyond an identity's row need, read once per listing.
#[derive(Debug, Default)]
struct Facts {
    /// Identities with an open finding of the OWASP risk asked for.
    owasp: Option<HashSet<String>>,
    /// Approved registrations, when sanctioned/shadow is asked for.
    approved: Vec<warrant_lifecycle::register::Registration>,
}

impl Facts {
    async fn for_filter(
        store: &Store,
        filter: &InventoryFilter,
        run: Option<&SavedRun>,
    ) -> Result<Facts, AppError> {
        let mut facts = Facts::default();
        if let (Some(owasp), Some(_)) = (filter.owasp, run) {
            let open = FindingFilter {
                status: Some(FindingStatus::Open),
                owasp: Some(owasp.code().to_string()),
                ..FindingFilter::default()
            };
            let mut ids = HashSet::new();
            store
                .each_finding(&open, None, |f| {
                    ids.insert(f.finding.identity);
                    Ok::<(), StoreError>(())
                })
                .await
                .context("reading open findings")?;
            facts.owasp = Some(ids);
        }
        if filter.sanctioned.is_some() {
            facts.approved = crate::ownership::approved(store).await?;
        }
        Ok(facts)
    }
}

/// How a page of identities is ordered (ties: by id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentitySort {
    /// Riskiest first unless ascending.
    #[default]
    Risk,
    Name,
    LastUsed,
    Findings,
}

/// One page of identities, and how to ask for the next.
#[derive(Debug)]
pub struct IdentityPage {
    pub items: Vec<IdentityView>,
    /// Pass as `after` for the next page; `None` on the last one.
    pub next: Option<String>,
    /// Identities matching the filter, on every page together.
    pub matched: u64,
    pub basis: Basis,
}

/// Where a page ends: the last item's sort key and id, so the next page starts after it even
/// when rows were added or removed in between (keyset, not offset).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cursor {
    sort: IdentitySort,
    descending: bool,
    key: SortKey,
    id: String,
    /// Made by a page read in the store's own order (unrounded score, then id).
    #[serde(default)]
    store_order: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum SortKey {
    Number(f64),
    Text(String),
    Time(Option<Timestamp>),
}

fn sort_key(view: &IdentityView, sort: IdentitySort) -> SortKey {
    match sort {
        // Rounded as every listing shows it, so equal-looking risks order by id.
        IdentitySort::Risk => SortKey::Number((view.risk * 10.0).round() / 10.0),
        IdentitySort::Name => SortKey::Text(view.name.to_ascii_lowercase()),
        IdentitySort::LastUsed => SortKey::Time(view.last_used),
        IdentitySort::Findings => SortKey::Number(view.n_findings as f64),
    }
}

fn compare_keys(a: &SortKey, b: &SortKey) -> std::cmp::Ordering {
    match (a, b) {
        (SortKey::Number(x), SortKey::Number(y)) => x.total_cmp(y),
        (SortKey::Text(x), SortKey::Text(y)) => x.cmp(y),
        (SortKey::Time(x), SortKey::Time(y)) => x.cmp(y),
        _ => std::cmp::Ordering::Equal,
    }
}

/// Order of (key, id) pairs: by key (reversed when descending), then by id.
fn compare(a: (&SortKey, &str), b: (&SortKey, &str), descending: bool) -> std::cmp::Ordering {
    let by_key = compare_keys(a.0, b.0);
    let by_key = if descending { by_key.reverse() } else { by_key };
    by_key.then_with(|| a.1.cmp(b.1))
}

impl Cursor {
    fn encode(&self) -> String {
        hex::encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(text: &str) -> Result<Cursor, AppError> {
        let invalid = || AppError::Invalid(format!("`{text}` is not a cursor this listing gave"));
        let bytes = hex::decode(text).map_err(|_| invalid())?;
        serde_json::from_slice(&bytes).map_err(|_| invalid())
    }
}

/// The page of at most `limit` identities matching `filter` that comes after `after` (a cursor
/// a previous page returned; the first page without), in `sort` order.
#[allow(
    clippy::too_many_arguments,
    reason = "one query's parameters, each named at the call"
)]
pub async fn identity_page(
    store: &Store,
    rules: Rules<'_>,
    when: When,
    filter: &InventoryFilter,
    sort: IdentitySort,
    descending: bool,
    after: Option<&str>,
    limit: usize,
    progress: &dyn Progress,
) -> Result<IdentityPage, AppError> {
    let after = after.map(Cursor::decode).transpose()?;
    if let Some(cursor) = &after
        && (cursor.sort != sort || cursor.descending != descending)
    {
        return Err(AppError::Invalid(
            "the cursor belongs to a listing in another order".into(),
        ));
    }
    // A listing of a saved assessment riskiest first, filtered by what the run keeps in
    // indexed columns, is read a page at a time from the store: the same cost at any depth of
    // 100k identities.
    let (basis_now, run) = basis(store, when).await?;
    let by = match sort {
        IdentitySort::Risk => Some(warrant_store::ScoredSort::Score),
        IdentitySort::Name => Some(warrant_store::ScoredSort::Name),
        IdentitySort::LastUsed | IdentitySort::Findings => None,
    };
    let indexed = by.zip(filter.scored());
    if let (Some(run), Some((by, scored))) = (&run, &indexed) {
        let order = warrant_store::ScoredOrder {
            by: *by,
            descending,
        };
        return saved_page(store, *run, basis_now, scored, order, after.as_ref(), limit).await;
    }
    if after.as_ref().is_some_and(|c| c.store_order) {
        return Err(AppError::Invalid(
            "the assessment changed since this cursor was made: start from the first page".into(),
        ));
    }
    let mut rows: Vec<(SortKey, IdentityView)> = Vec::new();
    let listed = each_identity(store, rules, when, filter, None, progress, |view| {
        let key = sort_key(&view, sort);
        let later = after
            .as_ref()
            .is_none_or(|c| compare((&key, &view.id), (&c.key, &c.id), descending).is_gt());
        if later {
            rows.push((key, view));
        }
        Ok::<(), AppError>(())
    })
    .await?;
    rows.sort_by(|a, b| compare((&a.0, &a.1.id), (&b.0, &b.1.id), descending));
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = match rows.last() {
        Some((key, view)) if more => Some(
            Cursor {
                sort,
                descending,
                key: key.clone(),
                id: view.id.clone(),
                store_order: false,
            }
            .encode(),
        ),
        _ => None,
    };
    Ok(IdentityPage {
        items: rows.into_iter().map(|(_, v)| v).collect(),
        next,
        matched: listed.matched,
        basis: listed.basis,
    })
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
    let facts = Facts::for_filter(store, filter, run.as_ref()).await?;
    let mut emit = |view: IdentityView, tier: Option<&str>| -> Result<(), E> {
        if filter.admits_with(&view, tier, &facts) {
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
                emit(saved.view, saved.tier.as_deref()).map_err(Stop::Caller)
            })
            .await
            .map_err(|stop| stop.into_caller("reading the saved assessment"))?,
        None => {
            let evaluation = evaluate(store, rules, basis.as_of(), progress).await?;
            let facts = Facts {
                owasp: filter.owasp.map(|o| {
                    evaluation
                        .assessment
                        .findings
                        .iter()
                        .filter(|f| f.exception.is_none() && f.owasp == o)
                        .map(|f| f.identity.clone())
                        .collect()
                }),
                approved: facts.approved.clone(),
            };
            let mut emit = |view: IdentityView, tier: Option<&str>| -> Result<(), E> {
                if filter.admits_with(&view, tier, &facts) {
                    if limit.is_none_or(|l| matched < l) {
                        each(view)?;
                    }
                    matched += 1;
                }
                Ok(())
            };
            let tiers: Vec<Option<String>> = evaluation
                .assessment
                .identities
                .iter()
                .map(|i| i.tier.clone())
                .collect();
            for (view, tier) in identity_views(&evaluation).into_iter().zip(tiers) {
                emit(view, tier.as_deref())?;
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
            ..FindingFilter::default()
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

/// A page of the saved assessment in the store's order (riskiest first, then by id).
async fn saved_page(
    store: &Store,
    run: SavedRun,
    basis: Basis,
    filter: &warrant_store::ScoredFilter,
    order: warrant_store::ScoredOrder,
    after: Option<&Cursor>,
    limit: usize,
) -> Result<IdentityPage, AppError> {
    use warrant_store::{ScoredKey, ScoredSort};
    let sort = match order.by {
        ScoredSort::Score => IdentitySort::Risk,
        ScoredSort::Name => IdentitySort::Name,
    };
    let after = match after {
        Some(Cursor {
            key,
            id,
            store_order: true,
            ..
        }) => Some((
            match (key, order.by) {
                (SortKey::Number(score), ScoredSort::Score) => ScoredKey::Score(*score),
                (SortKey::Text(name), ScoredSort::Name) => ScoredKey::Name(name.clone()),
                _ => {
                    return Err(AppError::Invalid(
                        "the cursor belongs to a listing in another order".into(),
                    ));
                }
            },
            id.as_str(),
        )),
        Some(_) => {
            return Err(AppError::Invalid(
                "the assessment changed since this cursor was made: start from the first page"
                    .into(),
            ));
        }
        None => None,
    };
    let want = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let rows = store
        .scored_identity_page(
            run.id,
            filter,
            order,
            after.as_ref().map(|(k, id)| (k, *id)),
            want,
        )
        .await
        .context("reading a page of the saved assessment")?;
    let matched = store
        .count_scored(run.id, filter)
        .await
        .context("counting the saved assessment")?;
    let more = rows.len() > limit;
    let mut items = Vec::with_capacity(limit.min(rows.len()));
    let mut last = None;
    for row in rows.into_iter().take(limit) {
        let mut saved = decode_saved(&row.identity, row.summary.as_deref())?;
        saved.view.n_findings = usize::try_from(row.open_findings).unwrap_or(usize::MAX);
        let key = match order.by {
            ScoredSort::Score => SortKey::Number(row.score),
            ScoredSort::Name => SortKey::Text(saved.view.name.to_ascii_lowercase()),
        };
        last = Some((key, row.identity));
        items.push(saved.view);
    }
    let next = match last {
        Some((key, id)) if more => Some(
            Cursor {
                sort,
                descending: order.descending,
                key,
                id,
                store_order: true,
            }
            .encode(),
        ),
        _ => None,
    };
    Ok(IdentityPage {
        items,
        next,
        matched,
        basis,
    })
}

/// One page of open findings, and how to ask for the next.
#[derive(Debug)]
pub struct FindingPage {
    pub findings: Vec<Finding>,
    /// Pass as `after` for the next page; `None` on the last one.
    pub next: Option<String>,
    pub matched: u64,
    pub basis: Basis,
}

/// The page of at most `limit` open findings matching `filter` after the one `after` names (a
/// cursor a previous page returned), in [`each_finding`]'s order: most severe first, then by
/// identity and rule.
pub async fn finding_page(
    store: &Store,
    rules: Rules<'_>,
    when: When,
    filter: &FindingsFilter,
    after: Option<&str>,
    limit: usize,
    progress: &dyn Progress,
) -> Result<FindingPage, AppError> {
    let after = after
        .map(|c| {
            hex::decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    AppError::Invalid(format!("`{c}` is not a cursor this listing gave"))
                })
        })
        .transpose()?;
    // The order is total (severity, identity, rule, then id), so the position after the
    // cursor's finding is well defined; a cursor whose finding was resolved since is refused
    // rather than silently restarting.
    let mut seen_cursor = after.is_none();
    let mut findings = Vec::new();
    let mut more = false;
    let listed = each_finding(store, rules, when, filter, None, progress, |f| {
        if !seen_cursor {
            seen_cursor = after.as_deref() == Some(f.id.as_str());
        } else if findings.len() < limit {
            findings.push(f);
        } else {
            more = true;
        }
        Ok::<(), AppError>(())
    })
    .await?;
    if !seen_cursor {
        return Err(AppError::Invalid(
            "the finding this cursor continues from is no longer open: start from the first page"
                .into(),
        ));
    }
    let next = match findings.last() {
        Some(last) if more => Some(hex::encode(last.id.as_bytes())),
        _ => None,
    };
    Ok(FindingPage {
        findings,
        next,
        matched: listed.matched,
        basis: listed.basis,
    })
}

/// What the console's overview shows: from a saved run's aggregates, or aggregated in one pass
/// over identities and one over findings (nothing is held per identity but the ten riskiest).
#[derive(Debug, Clone)]
pub struct Overview {
    pub basis: Basis,
    pub identities: u64,
    /// Identities by kind, most common first.
    pub by_kind: Vec<(IdentityKind, u64)>,
    /// Identities by risk band: 0–20, 20–40, 40–60, 60–80, 80–100.
    pub by_risk: [u64; 5],
    pub admin_equivalent: u64,
    pub without_owner: u64,
    /// The ten riskiest identities.
    pub riskiest: Vec<IdentityView>,
    /// Owners by the risk of the identities they own (sum), with how many they own; top ten.
    pub owners: Vec<(String, f64, u64)>,
    /// Open findings by OWASP NHI risk, then severity.
    pub findings: std::collections::BTreeMap<OwaspNhi, std::collections::BTreeMap<Severity, u64>>,
    pub open_findings: u64,
    /// The posture findings each of the latest saved assessments raised, oldest first.
    pub trend: Vec<(Timestamp, u64)>,
}

/// How many riskiest identities and owners the overview lists.
const OVERVIEW_TOP: usize = 10;
/// How many saved assessments the overview's trend shows.
const OVERVIEW_TREND: u64 = 30;

/// What an overview shows of a run's identities: counted once when the run is saved, or while
/// streaming identities when there is no saved run to read them from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunAggregates {
    identities: u64,
    by_kind: Vec<(IdentityKind, u64)>,
    by_risk: [u64; 5],
    admin_equivalent: u64,
    without_owner: u64,
    /// Owner, summed risk, identities owned: the top ten once finished.
    owners: Vec<(String, f64, u64)>,
    #[serde(skip)]
    kinds: HashMap<IdentityKind, u64>,
    #[serde(skip)]
    owned: HashMap<String, (f64, u64)>,
}

impl RunAggregates {
    pub(crate) fn add(&mut self, v: &IdentityView) {
        self.identities += 1;
        *self.kinds.entry(v.kind).or_default() += 1;
        let band = ((v.risk / 20.0).floor().max(0.0) as usize).min(4);
        if let Some(n) = self.by_risk.get_mut(band) {
            *n += 1;
        }
        self.admin_equivalent += u64::from(v.admin_equivalent);
        self.without_owner += u64::from(v.owners.is_empty());
        for owner in &v.owners {
            let entry = self.owned.entry(owner.clone()).or_default();
            entry.0 += v.risk;
            entry.1 += 1;
        }
    }

    /// Sorted and cut to what the overview lists.
    pub(crate) fn finish(mut self) -> RunAggregates {
        let mut by_kind: Vec<(IdentityKind, u64)> = self.kinds.drain().collect();
        by_kind.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.as_str().cmp(b.0.as_str())));
        let mut owners: Vec<(String, f64, u64)> = self
            .owned
            .drain()
            // Rounded as shown: sums in another order differ in the last bits.
            .map(|(o, (risk, n))| (o, (risk * 10.0).round() / 10.0, n))
            .collect();
        owners.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        owners.truncate(OVERVIEW_TOP);
        RunAggregates {
            by_kind,
            owners,
            ..self
        }
    }
}

/// The overview as of `when`. From a current saved run it reads the aggregates kept with the
/// run, the top of its risk index and a count of open findings grouped in the store: the same
/// few queries at any size. Otherwise it counts while streaming the identities.
pub async fn overview(
    store: &Store,
    rules: Rules<'_>,
    when: When,
    progress: &dyn Progress,
) -> Result<Overview, AppError> {
    let trend = store
        .run_history(FindingSource::Posture, OVERVIEW_TREND)
        .await
        .context("reading the assessment history")?;
    if let (basis_now, Some(run)) = basis(store, when).await?
        && let Some(text) = store
            .run_aggregates(run.id)
            .await
            .context("reading the assessment's aggregates")?
    {
        let aggregates: RunAggregates =
            serde_json::from_str(&text).map_err(|e| AppError::Store {
                context: "reading the assessment's aggregates",
                source: warrant_store::StoreError::Corrupt {
                    table: "assessments",
                    key: run.id.0.to_string(),
                    message: e.to_string(),
                },
            })?;
        let riskiest = saved_page(
            store,
            run,
            basis_now,
            &warrant_store::ScoredFilter::default(),
            warrant_store::ScoredOrder {
                by: warrant_store::ScoredSort::Score,
                descending: true,
            },
            None,
            OVERVIEW_TOP,
        )
        .await?
        .items;
        let mut findings: std::collections::BTreeMap<
            OwaspNhi,
            std::collections::BTreeMap<Severity, u64>,
        > = std::collections::BTreeMap::new();
        let mut open_findings = 0u64;
        for (owasp, severity, n) in store
            .open_findings_by_owasp_and_severity()
            .await
            .context("counting open findings")?
        {
            // The schema's checks keep both to known values; anything else is not counted.
            if let (Ok(owasp), Ok(severity)) = (owasp.parse::<OwaspNhi>(), severity.parse()) {
                *findings
                    .entry(owasp)
                    .or_default()
                    .entry(severity)
                    .or_default() += n;
                open_findings += n;
            }
        }
        return Ok(Overview {
            trend,
            basis: basis_now,
            identities: aggregates.identities,
            by_kind: aggregates.by_kind,
            by_risk: aggregates.by_risk,
            admin_equivalent: aggregates.admin_equivalent,
            without_owner: aggregates.without_owner,
            riskiest,
            owners: aggregates.owners,
            findings,
            open_findings,
        });
    }
    let mut aggregates = RunAggregates::default();
    let mut riskiest: Vec<IdentityView> = Vec::new();
    let listed = each_identity(
        store,
        rules,
        when,
        &InventoryFilter::default(),
        None,
        progress,
        |v| {
            aggregates.add(&v);
            // Identities arrive riskiest first from a saved run, in any order when evaluated.
            riskiest.push(v);
            if riskiest.len() > 4 * OVERVIEW_TOP {
                riskiest.sort_by(|a, b| b.risk.total_cmp(&a.risk).then_with(|| a.id.cmp(&b.id)));
                riskiest.truncate(OVERVIEW_TOP);
            }
            Ok::<(), AppError>(())
        },
    )
    .await?;
    riskiest.sort_by(|a, b| b.risk.total_cmp(&a.risk).then_with(|| a.id.cmp(&b.id)));
    riskiest.truncate(OVERVIEW_TOP);
    let aggregates = aggregates.finish();
    let mut findings: std::collections::BTreeMap<
        OwaspNhi,
        std::collections::BTreeMap<Severity, u64>,
    > = std::collections::BTreeMap::new();
    let mut open_findings = 0u64;
    each_finding(
        store,
        rules,
        when,
        &FindingsFilter::default(),
        None,
        progress,
        |f| {
            *findings
                .entry(f.owasp)
                .or_default()
                .entry(f.severity)
                .or_default() += 1;
            open_findings += 1;
            Ok::<(), AppError>(())
        },
    )
    .await?;
    Ok(Overview {
        trend,
        basis: listed.basis,
        identities: listed.matched,
        by_kind: aggregates.by_kind,
        by_risk: aggregates.by_risk,
        admin_equivalent: aggregates.admin_equivalent,
        without_owner: aggregates.without_owner,
        riskiest,
        owners: aggregates.owners,
        findings,
        open_findings,
    })
}

/// Current identities and open findings by severity, counted in the store (for monitoring).
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub identities: u64,
    /// Open findings per severity, every severity present (zero when none).
    pub open_findings: Vec<(Severity, u64)>,
}

/// [`Counts`], from the store's rows (not an evaluation): cheap enough to scrape.
pub async fn counts(store: &Store) -> Result<Counts, AppError> {
    let identities = store
        .count_identities()
        .await
        .context("counting identities")?;
    // At-least counts from the most severe down; each level is the difference.
    let mut open_findings = Vec::new();
    let mut above = 0u64;
    for severity in Severity::ALL.iter().rev() {
        let at_least = store
            .count_findings(&FindingFilter {
                status: Some(FindingStatus::Open),
                min_severity: Some(*severity),
                ..FindingFilter::default()
            })
            .await
            .context("counting open findings")?;
        open_findings.push((*severity, at_least.saturating_sub(above)));
        above = at_least;
    }
    Ok(Counts {
        identities,
        open_findings,
    })
}

/// Whether the store answers (a readiness probe).
pub async fn ping(store: &Store) -> Result<(), AppError> {
    store
        .revision()
        .await
        .map(|_| ())
        .context("reaching the store")
}

/// A page of where leaked secrets were found (fingerprints and places, never the secrets).
#[derive(Debug)]
pub struct SecretPage {
    pub items: Vec<SecretOccurrence>,
    /// Pass as `after` for the next page.
    pub next: Option<String>,
    pub total: u64,
}

/// Leak locations, linked ones first, `limit` at a time from the cursor `after`.
pub async fn secrets(
    store: &Store,
    after: Option<&str>,
    limit: usize,
) -> Result<SecretPage, AppError> {
    let offset = match after {
        None => 0,
        Some(text) => text
            .strip_prefix("s")
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| {
                AppError::Invalid(format!("`{text}` is not a cursor this listing gave"))
            })?,
    };
    let limit = u64::try_from(limit).unwrap_or(u64::MAX);
    let (items, total) = store
        .secret_occurrences_page(offset, limit)
        .await
        .context("loading where secrets were found")?;
    let end = offset.saturating_add(items.len() as u64);
    Ok(SecretPage {
        next: (end < total && !items.is_empty()).then(|| format!("s{end}")),
        items,
        total,
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
        Err(AppError::NotFound(format!(
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

impl AlertsFilter {
    fn stored(&self) -> FindingFilter {
        FindingFilter {
            identity: self.identity.clone(),
            source: Some(FindingSource::Activity),
            status: (!self.all).then_some(FindingStatus::Open),
            min_severity: self.severity,
            rule: self.detection.clone(),
            ..FindingFilter::default()
        }
    }
}

/// Activity alerts in the store (from ingestion and stream consumers).
pub async fn alerts(store: &Store, filter: &AlertsFilter) -> Result<Vec<StoredFinding>, AppError> {
    store
        .findings(&filter.stored())
        .await
        .context("loading alerts")
}

/// A page of activity alerts.
#[derive(Debug)]
pub struct AlertPage {
    pub items: Vec<StoredFinding>,
    /// Pass as `after` for the next page; `None` on the last one.
    pub next: Option<String>,
    /// Alerts matching the filter, on every page.
    pub matched: u64,
}

/// At most `limit` alerts matching `filter` after the one `after` names (an alert id a previous
/// page returned as `next`), most severe first as [`alerts`] lists them. The database reads
/// only the page: an alert resolved since the previous page does not move the next one.
pub async fn alert_page(
    store: &Store,
    filter: &AlertsFilter,
    after: Option<&str>,
    limit: usize,
) -> Result<AlertPage, AppError> {
    let stored = filter.stored();
    let limit = u64::try_from(limit).unwrap_or(u64::MAX);
    let (items, more) = store
        .findings_after(&stored, after, limit)
        .await
        .context("loading alerts")?
        .ok_or_else(|| {
            AppError::Invalid(format!(
                "`{}` is not a cursor this listing gave",
                after.unwrap_or_default()
            ))
        })?;
    let matched = store
        .count_findings(&stored)
        .await
        .context("counting alerts")?;
    let next = more
        .then(|| items.last().map(|f| f.finding.id.clone()))
        .flatten();
    Ok(AlertPage {
        items,
        next,
        matched,
    })
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
    /// Who can become it and whom it can become, transitively, within [`CHAIN_MAX_HOPS`] and
    /// [`CHAIN_MAX_PRINCIPALS`].
    pub chains: TrustChains,
}

/// Hops a trust chain of an identity's detail follows at most.
pub const CHAIN_MAX_HOPS: usize = 4;

/// Principals each direction of an identity's trust chains reaches at most: a hub trusted by
/// thousands must not turn one page view into a walk of the whole graph.
pub const CHAIN_MAX_PRINCIPALS: usize = 30;

/// One principal on a trust chain.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainHop {
    /// An identity id, or an account id, federated provider, service principal or `*`.
    pub id: String,
    pub principal: PrincipalKind,
    /// Its kind, when the inventory holds it as an identity.
    pub kind: Option<IdentityKind>,
    /// Its name, when the inventory holds it as an identity.
    pub name: Option<String>,
    /// Its risk (0–100) as of the basis, when it was assessed.
    pub risk: Option<f64>,
    /// How the hop before it can become it; `None` on a chain's first hop.
    pub via: Option<TrustKind>,
}

/// Principals each able to become the next.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustChain {
    pub hops: Vec<ChainHop>,
}

/// An identity's who-can-become-whom chains. Each principal reached is on one chain, by one of
/// its shortest routes (so cycles end where they close); chains that another extends are left
/// out; shortest chains first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrustChains {
    /// Who can become the identity: chains ending at it.
    pub inward: Vec<TrustChain>,
    /// Whom it can become: chains starting at it.
    pub outward: Vec<TrustChain>,
    /// Whether the bounds left principals out.
    pub truncated: bool,
}

impl TrustChains {
    /// Every principal on the chains, the identity included, once each.
    pub fn principals(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self
            .inward
            .iter()
            .chain(&self.outward)
            .flat_map(|c| c.hops.iter().map(|h| h.id.as_str()))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    fn hops_mut(&mut self) -> impl Iterator<Item = &mut ChainHop> {
        self.inward
            .iter_mut()
            .chain(self.outward.iter_mut())
            .flat_map(|c| c.hops.iter_mut())
    }

    /// Sets each hop's risk from `risk` (by identity id).
    fn set_risks(&mut self, risk: impl Fn(&str) -> Option<f64>) {
        for hop in self.hops_mut() {
            hop.risk = risk(&hop.id);
        }
    }
}

/// What one direction's walk reached, as chains of bare hops (no names or risks yet).
fn chains_of(root: &str, walk: &TrustWalk, direction: TrustDirection) -> Vec<TrustChain> {
    // Each principal's step toward the root: (the principal nearer the root, its kind, the
    // edge's kind).
    let mut step: HashMap<&str, (&str, PrincipalKind, TrustKind)> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    for (_, edge) in &walk.reached {
        let (far, near, kind) = match direction {
            TrustDirection::Outward => (&edge.to, &edge.from, PrincipalKind::Identity),
            TrustDirection::Inward => (&edge.from, &edge.to, edge.from_kind),
        };
        step.insert(far, (near, kind, edge.kind));
        order.push(far);
    }
    let nearer: std::collections::HashSet<&str> = step.values().map(|s| s.0).collect();
    let hop = |id: &str, principal: PrincipalKind, via: Option<TrustKind>| ChainHop {
        id: id.to_string(),
        principal,
        kind: None,
        name: None,
        risk: None,
        via,
    };
    let mut chains: Vec<TrustChain> = order
        .iter()
        .filter(|id| !nearer.contains(*id))
        .map(|leaf| {
            // From the far end toward the root: the walk reached each principal from one it
            // had reached before, so this ends at the root (the length check only guards).
            let mut path: Vec<(&str, PrincipalKind, Option<TrustKind>)> = Vec::new();
            let mut at = *leaf;
            while let Some((near, kind, via)) = step.get(at)
                && path.len() <= walk.reached.len()
            {
                path.push((at, *kind, Some(*via)));
                at = near;
            }
            path.push((root, PrincipalKind::Identity, None));
            let hops = match direction {
                // Root first: each hop is reached by the edge recorded with it.
                TrustDirection::Outward => path
                    .iter()
                    .rev()
                    .map(|(id, principal, via)| hop(id, *principal, *via))
                    .collect(),
                // Far end first: each hop is reached by the edge of the hop before it.
                TrustDirection::Inward => {
                    let mut previous = None;
                    path.iter()
                        .map(|(id, principal, via)| {
                            let h = hop(id, *principal, previous);
                            previous = *via;
                            h
                        })
                        .collect()
                }
            };
            TrustChain { hops }
        })
        .collect();
    chains.sort_by(|a, b| {
        a.hops.len().cmp(&b.hops.len()).then_with(|| {
            let ids = |c: &TrustChain| c.hops.iter().map(|h| h.id.clone()).collect::<Vec<_>>();
            ids(a).cmp(&ids(b))
        })
    });
    chains
}

/// Walks `id`'s trust chains both ways within the bounds, with each identity's kind and name.
async fn trust_chains(store: &Store, id: &str) -> Result<TrustChains, AppError> {
    let mut chains = TrustChains::default();
    for direction in [TrustDirection::Inward, TrustDirection::Outward] {
        let walk = store
            .trust_walk(id, direction, CHAIN_MAX_HOPS, CHAIN_MAX_PRINCIPALS)
            .await
            .context("walking its trust chains")?;
        chains.truncated |= walk.truncated;
        let found = chains_of(id, &walk, direction);
        match direction {
            TrustDirection::Inward => chains.inward = found,
            TrustDirection::Outward => chains.outward = found,
        }
    }
    let ids: Vec<String> = chains
        .principals()
        .into_iter()
        .map(str::to_string)
        .collect();
    let known: HashMap<String, Identity> = store
        .current_identities(&ids)
        .await
        .context("loading the identities on its trust chains")?
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    for hop in chains.hops_mut() {
        if let Some(identity) = known.get(&hop.id) {
            hop.kind = Some(identity.kind);
            hop.name = Some(identity.name.clone());
        }
    }
    Ok(chains)
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
        [] => Err(AppError::NotFound(format!(
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
    // An exact id (what the API and the console pass) is one index lookup; names and id
    // suffixes need every identity's name.
    if store
        .has_identity(wanted)
        .await
        .context("looking up the identity")?
    {
        return Ok(wanted.to_string());
    }
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
    let mut chains = trust_chains(store, &id).await?;
    let (basis, run) = basis(store, when).await?;
    // Conditions are decided at the instant the rest of the answer is for, as `assess` does.
    let privilege = warrant_posture::privilege_detail_at(&neighbourhood, &id, Some(basis.as_of()));
    let saved = match run {
        Some(run) => store
            .scored_identity(run.id, &id)
            .await
            .context("loading its saved risk")?
            .map(|(risk, summary)| (run, risk, summary)),
        None => None,
    };
    let (assessment, findings) = match saved {
        Some((run, risk, summary)) => {
            let principals: Vec<String> = chains
                .principals()
                .into_iter()
                .map(str::to_string)
                .collect();
            let scores: HashMap<String, f64> = store
                .scores_of(run.id, &principals)
                .await
                .context("loading the risks of its trust chains")?
                .into_iter()
                .collect();
            chains.set_risks(|id| scores.get(id).copied());
            let SavedIdentity { view, tier, .. } = decode_saved(&id, summary.as_deref())?;
            let assessment = IdentityAssessment {
                tier,
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
            let scores: HashMap<&str, f64> = evaluation
                .assessment
                .identities
                .iter()
                .map(|a| (a.id.as_str(), a.risk.score))
                .collect();
            chains.set_risks(|id| scores.get(id).copied());
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
        chains,
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
