//! Access-review use cases: open a campaign over the identities a scope selects (one item each,
//! assigned to its owner or the fallback reviewer, with the evidence of that moment), list and
//! show campaigns, record reviewers' decisions (each decision but `keep` writes a remediation
//! plan through [`crate::remediation::propose`]), close, and assemble the auditor's report.
//!
//! Opening reads the saved assessment when it is current (risks, open findings) and evaluates
//! posture once otherwise; privilege summaries are computed once for the whole inventory, so a
//! campaign of ten thousand identities opens in one pass and one transaction.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use serde::Serialize;
use warrant_core::{Finding, IdentityStatus, PrivilegeSummary, Provider, RuleId, Timestamp};
use warrant_lifecycle::review::{
    self, Candidate, CredentialEvidence, DecisionContext, DirectoryRecord, ExceptionEvidence,
    FindingEvidence, OwnerEvidence, PrivilegeEvidence, Standing, UsageEvidence,
};
use warrant_lifecycle::{
    Counts, Evidence, GovernancePolicy, IdentityFacts, ItemState, ReviewError, Scope, Verdict,
};
use warrant_posture::PostureConfig;
use warrant_report::review::{
    CONTROLS, CampaignInfo, PriorDecision, REVIEW_SCHEMA, ReviewCounts, ReviewReport,
    ReviewReportItem,
};
use warrant_store::{
    CampaignRow, CloseOutcome, FindingFilter, FindingStatus, ReviewDecisionRow, ReviewItemRow,
    Store, StoreError,
};

use crate::error::StoreContext;
use crate::query::{Basis, SavedIdentity, When, basis};
use crate::remediation::{self, PlanRequest, PlanView};
use crate::{AppError, Progress, Rules};

fn invalid(e: ReviewError) -> AppError {
    AppError::Invalid(e.to_string())
}

fn corrupt(table: &'static str, key: String, message: String) -> AppError {
    AppError::Store {
        context: "reading the review campaign",
        source: StoreError::Corrupt {
            table,
            key,
            message,
        },
    }
}

/// What opening a campaign asks for.
#[derive(Debug, Clone)]
pub struct StartRequest {
    /// The campaign's name, e.g. `2026-Q4`.
    pub name: String,
    pub scope: Scope,
    /// The last day to decide.
    pub due: NaiveDate,
    /// How far back observed use is read for the evidence (and for right-sizing decisions).
    pub usage_window: Duration,
}

/// A campaign with its items counted as of an instant.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignView {
    pub name: String,
    pub scope: String,
    pub due: NaiveDate,
    /// `open` or `closed`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_reviewer: Option<String>,
    pub usage_since: Timestamp,
    pub basis: String,
    pub started_by: String,
    pub started_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
    pub counts: Counts,
}

impl CampaignView {
    fn new(row: CampaignRow, counts: Counts) -> CampaignView {
        CampaignView {
            status: if row.closed_at.is_some() {
                "closed"
            } else {
                "open"
            },
            name: row.id,
            scope: row.scope,
            due: row.due,
            fallback_reviewer: row.fallback_reviewer,
            usage_since: row.usage_since,
            basis: row.basis,
            started_by: row.started_by,
            started_at: row.started_at,
            closed_by: row.closed_by,
            closed_at: row.closed_at,
            counts,
        }
    }
}

/// One item with where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct ItemView {
    pub item: i64,
    pub identity: String,
    pub name: String,
    /// Who it was assigned to, and why them.
    pub reviewer: String,
    pub assigned_because: String,
    /// Who it is with now (the fallback reviewer once it is overdue).
    pub reviewer_now: String,
    #[serde(flatten)]
    pub state: ItemState,
    /// Its decision (the latest), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<ReviewDecisionRow>,
    /// Decisions corrections replaced, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub superseded: Vec<ReviewDecisionRow>,
    pub evidence: Evidence,
}

/// What `start` opened.
#[derive(Debug, Clone, Serialize)]
pub struct Started {
    pub campaign: CampaignView,
    /// Items per reviewer.
    pub by_reviewer: BTreeMap<String, usize>,
    /// Items assigned to the fallback reviewer because no owner could review them.
    pub to_fallback: usize,
}

/// Which items `show` lists.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    /// Only items assigned to, or now with, this reviewer.
    pub reviewer: Option<String>,
    /// Only pending (overdue included) items.
    pub pending: bool,
}

/// What a reviewer decides.
#[derive(Debug, Clone)]
pub struct DecideRequest {
    pub campaign: String,
    /// The item's number, or its identity (id, name or the end of its id).
    pub item: String,
    pub verdict: Verdict,
    pub reason: Option<String>,
    /// Record a correction of the item's decision.
    pub supersede: bool,
}

/// A recorded decision, the item after it and the plan it wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Decided {
    pub item: ItemView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanView>,
}

/// What closing did.
#[derive(Debug, Clone, Serialize)]
pub struct Closed {
    pub campaign: CampaignView,
    /// Pending items recorded as expired.
    pub expired: u64,
}

/// One identity's posture as the campaign reads it.
struct Posture {
    risk: f64,
    blast_radius: f64,
    exposure: f64,
    status: IdentityStatus,
    privilege: Option<Arc<PrivilegeSummary>>,
}

/// Opens a campaign as `actor` at `when`: every current identity the scope selects becomes an
/// item assigned to its reviewer, with its evidence. Refused, writing nothing, when the name is
/// taken, the scope names an unknown tier, or an identity has no owner able to review it and
/// the policy names no fallback reviewer.
pub async fn start(
    store: &Store,
    posture: &PostureConfig,
    policy: &GovernancePolicy,
    request: &StartRequest,
    when: When,
    actor: &str,
    progress: &dyn Progress,
) -> Result<Started, AppError> {
    let now = when.now;
    let name = review::check_name(&request.name).map_err(invalid)?;
    let actor = review::check_person(actor).map_err(invalid)?;
    review::check_due(request.due, now).map_err(invalid)?;
    request.scope.check_against(policy).map_err(invalid)?;
    if store
        .review_campaign(&name)
        .await
        .context("reading review campaigns")?
        .is_some()
    {
        return Err(AppError::Invalid(format!(
            "a review campaign named {name} exists already (see `warrant review list`)"
        )));
    }
    let fallback = policy
        .fallback_reviewer
        .as_deref()
        .map(|f| f.trim().to_ascii_lowercase());
    let usage_since = now - request.usage_window;

    // The posture of every identity: from the saved assessment while it is current, else
    // evaluated once.
    let (basis, run) = basis(store, when).await?;
    let mut postures: HashMap<String, Posture> = HashMap::new();
    let mut findings: HashMap<String, Vec<Finding>> = HashMap::new();
    // Rules of the findings exceptions cover, per identity.
    let mut excepted: HashMap<String, Vec<RuleId>> = HashMap::new();
    let inventory = match run {
        Some(run) => {
            let inventory = store
                .load_inventory()
                .await
                .context("loading the inventory")?;
            store
                .each_scored_identity(run.id, f64::MIN, |row| {
                    let saved: SavedIdentity = row
                        .summary
                        .as_deref()
                        .and_then(|s| serde_json::from_str(s).ok())
                        .ok_or_else(|| StoreError::Corrupt {
                            table: "risks",
                            key: row.identity.clone(),
                            message: "the saved run's summary cannot be read".into(),
                        })?;
                    postures.insert(
                        row.identity,
                        Posture {
                            risk: saved.view.risk,
                            blast_radius: saved.view.blast_radius,
                            exposure: saved.view.exposure,
                            status: saved.view.status,
                            privilege: None,
                        },
                    );
                    Ok::<(), StoreError>(())
                })
                .await
                .context("reading the saved assessment")?;
            let open = FindingFilter {
                status: Some(FindingStatus::Open),
                ..FindingFilter::default()
            };
            store
                .each_finding(&open, None, |f| {
                    findings
                        .entry(f.finding.identity.clone())
                        .or_default()
                        .push(f.finding);
                    Ok::<(), StoreError>(())
                })
                .await
                .context("reading open findings")?;
            // Findings an exception accepted are not open, but the exception is evidence.
            let accepted = FindingFilter {
                status: Some(FindingStatus::Accepted),
                ..FindingFilter::default()
            };
            store
                .each_finding(&accepted, None, |f| {
                    if f.note
                        .as_deref()
                        .is_some_and(|n| n.starts_with(warrant_store::EXCEPTION_NOTE))
                    {
                        excepted
                            .entry(f.finding.identity.clone())
                            .or_default()
                            .push(f.finding.rule);
                    }
                    Ok::<(), StoreError>(())
                })
                .await
                .context("reading excepted findings")?;
            let privileges = warrant_posture::summarize_all(&inventory.index());
            for (id, privilege) in privileges {
                if let Some(p) = postures.get_mut(&id) {
                    p.privilege = Some(privilege);
                }
            }
            inventory
        }
        None => {
            let rules = Rules {
                posture,
                governance: Some(policy),
            };
            let evaluation = crate::assess::evaluate(store, rules, basis.as_of(), progress).await?;
            let accepted = store
                .finding_ids_with_status(FindingStatus::Accepted)
                .await
                .context("loading accepted findings")?;
            for f in evaluation.assessment.findings {
                if f.exception.is_some() {
                    excepted.entry(f.identity.clone()).or_default().push(f.rule);
                } else if !accepted.contains(&f.id) {
                    findings.entry(f.identity.clone()).or_default().push(f);
                }
            }
            for a in evaluation.assessment.identities {
                postures.insert(
                    a.id,
                    Posture {
                        risk: a.risk.score,
                        blast_radius: a.risk.blast_radius,
                        exposure: a.risk.exposure,
                        status: a.status,
                        privilege: Some(a.privilege),
                    },
                );
            }
            evaluation.inventory
        }
    };

    let exceptions: Vec<warrant_lifecycle::Exception> =
        crate::lifecycle::exceptions(store, now, Duration::zero())
            .await?
            .into_iter()
            .filter(crate::lifecycle::ExceptionView::in_force)
            .map(|v| v.exception)
            .collect();
    let used: HashSet<String> = store
        .identities_used_since(usage_since)
        .await
        .context("reading recorded use")?
        .into_iter()
        .collect();

    let index = inventory.index();
    let directory_loaded = !inventory.owners.is_empty();
    let mut identities: Vec<&warrant_core::Identity> = inventory.identities.iter().collect();
    identities.sort_by(|a, b| a.id.cmp(&b.id));
    let mut items: Vec<ReviewItemRow> = Vec::new();
    let mut by_reviewer: BTreeMap<String, usize> = BTreeMap::new();
    let mut to_fallback = 0usize;
    let mut unassignable: Vec<(String, String)> = Vec::new();
    for identity in identities {
        let posture_of = postures.get(identity.id.as_str());
        let blast_radius = posture_of.map_or(0.0, |p| p.blast_radius);
        let facts = IdentityFacts {
            tags: &identity.tags,
            environment: identity.environment,
            provider: identity.provider,
            kind: identity.kind,
            blast_radius,
        };
        let tier = policy.tier_for(&facts).0.map(|t| t.name.as_str());
        if !request.scope.holds(&facts, tier) {
            continue;
        }

        // Owners, and who reviews.
        let mut owners = Vec::with_capacity(identity.owners.len());
        let mut candidates_ids = Vec::with_capacity(identity.owners.len());
        for owner in &identity.owners {
            let record = index.owner(&owner.id);
            let standing = Standing::of(
                record.map(|r| (r.kind, r.status)),
                directory_loaded,
                posture.is_shared_mailbox(&owner.id),
            );
            // A login the directory knows reviews as its email address.
            let address = record
                .and_then(|r| r.email.clone())
                .unwrap_or_else(|| owner.id.clone());
            candidates_ids.push((address, owner.source.clone(), standing));
            owners.push(OwnerEvidence {
                id: owner.id.clone(),
                source: owner.source.clone(),
                standing,
                directory: record.map(|r| DirectoryRecord {
                    kind: r.kind,
                    status: r.status,
                    source: r.provenance.source.clone(),
                }),
            });
        }
        let candidates: Vec<Candidate<'_>> = candidates_ids
            .iter()
            .map(|(id, source, standing)| Candidate {
                id,
                source,
                standing: *standing,
            })
            .collect();
        let assignment = match review::assign(&candidates, fallback.as_deref()) {
            Ok(assignment) => assignment,
            Err(why) => {
                unassignable.push((identity.id.clone(), why));
                continue;
            }
        };
        if assignment.because.starts_with("fallback") {
            to_fallback += 1;
        }

        // Findings, exceptions, credentials, use.
        let open: &[Finding] = findings
            .get(identity.id.as_str())
            .map_or(&[], Vec::as_slice);
        let rules: Vec<RuleId> = open
            .iter()
            .map(|f| f.rule)
            .chain(
                excepted
                    .get(identity.id.as_str())
                    .into_iter()
                    .flatten()
                    .copied(),
            )
            .collect();
        let credentials: Vec<CredentialEvidence> = index
            .credentials_by_identity
            .get(identity.id.as_str())
            .into_iter()
            .flatten()
            .map(|c| CredentialEvidence {
                id: c.id.clone(),
                kind: c.kind.to_string(),
                active: c.active,
                created: c.created,
                last_rotated: c.last_rotated,
                last_used: c.last_used,
                expires: c.expires,
            })
            .collect();
        let usage = if identity.provider == Provider::Aws && used.contains(&identity.id) {
            let sized = crate::query::rightsize_id(store, &identity.id, usage_since).await?;
            let report = sized.report;
            let n_actions: usize = report.policy.statement.iter().map(|s| s.action.len()).sum();
            Some(UsageEvidence {
                since: usage_since,
                granted_actions: report.granted_actions,
                used_actions: report.used.len(),
                unused_actions: report.unused_actions,
                unused_services: report
                    .unused_services
                    .iter()
                    .take(review::EVIDENCE_LIST_LIMIT)
                    .cloned()
                    .collect(),
                summary: report.summary,
                rightsized_policy: format!(
                    "{} statement(s) allowing {n_actions} action(s)",
                    report.policy.statement.len()
                ),
            })
        } else {
            None
        };
        let evidence = Evidence {
            kind: identity.kind,
            provider: identity.provider,
            environment: identity.environment,
            account: identity.account.clone(),
            status: posture_of.map_or(identity.status, |p| p.status),
            tier: tier.map(str::to_string),
            risk: posture_of.map_or(0.0, |p| p.risk),
            blast_radius,
            exposure: posture_of.map_or(0.0, |p| p.exposure),
            privilege: PrivilegeEvidence {
                holdings: Some(warrant_posture::holdings(&index, identity)),
                ..posture_of
                    .and_then(|p| p.privilege.as_deref())
                    .map(PrivilegeEvidence::of)
                    .unwrap_or_default()
            },
            last_used: identity.last_used,
            credentials,
            usage,
            findings: open
                .iter()
                .map(|f| FindingEvidence {
                    id: f.id.clone(),
                    rule: f.rule,
                    severity: f.severity,
                    title: f.title.clone(),
                })
                .collect(),
            exceptions: exceptions
                .iter()
                .filter(|e| review::exception_covers(e, &identity.id, &identity.tags, &rules, now))
                .map(ExceptionEvidence::of)
                .collect(),
            owners,
        };
        *by_reviewer.entry(assignment.reviewer.clone()).or_default() += 1;
        items.push(ReviewItemRow {
            campaign: name.clone(),
            item: i64::try_from(items.len() + 1).unwrap_or(i64::MAX),
            identity: identity.id.clone(),
            name: identity.name.clone(),
            reviewer: assignment.reviewer,
            assigned: assignment.because,
            evidence: serde_json::to_string(&evidence)
                .map_err(|e| AppError::Invalid(format!("cannot record the evidence: {e}")))?,
        });
    }
    if let Some((example, why)) = unassignable.first() {
        return Err(invalid(ReviewError::NoReviewer {
            count: unassignable.len(),
            example: example.clone(),
            why: why.clone(),
        }));
    }
    if items.is_empty() {
        return Err(AppError::Invalid(format!(
            "no identity is in scope `{}`: nothing to review",
            request.scope
        )));
    }
    let row = CampaignRow {
        id: name.clone(),
        scope: request.scope.to_string(),
        due: request.due,
        fallback_reviewer: fallback,
        usage_since,
        basis: describe_basis(&basis),
        started_by: actor,
        started_at: now,
        closed_by: None,
        closed_at: None,
    };
    let n = items.len();
    if !store
        .start_review(&row, &items)
        .await
        .context("recording the campaign")?
    {
        return Err(AppError::Invalid(format!(
            "a review campaign named {name} was opened meanwhile (see `warrant review list`)"
        )));
    }
    let counts = Counts {
        items: n,
        pending: n,
        overdue: if review::is_overdue(row.due, now) {
            n
        } else {
            0
        },
        ..Counts::default()
    };
    Ok(Started {
        campaign: CampaignView::new(row, counts),
        by_reviewer,
        to_fallback,
    })
}

/// What the evidence was read from, in words the report keeps.
fn describe_basis(basis: &Basis) -> String {
    let day = |t: &Timestamp| t.format("%Y-%m-%d %H:%M UTC").to_string();
    match basis {
        Basis::Saved { as_of } => format!("the assessment saved as of {}", day(as_of)),
        Basis::Evaluated { as_of, .. } => format!("posture evaluated as of {}", day(as_of)),
    }
}

/// Every campaign, newest first, counted as of `now`.
pub async fn list(store: &Store, now: Timestamp) -> Result<Vec<CampaignView>, AppError> {
    let rows = store
        .review_campaigns()
        .await
        .context("reading review campaigns")?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let counts = tally(store, &row.campaign, row.items, now).await?;
        out.push(CampaignView::new(row.campaign, counts));
    }
    Ok(out)
}

/// The latest decision of each item and the ones it superseded.
fn by_item(decisions: Vec<ReviewDecisionRow>) -> HashMap<i64, Vec<ReviewDecisionRow>> {
    let mut out: HashMap<i64, Vec<ReviewDecisionRow>> = HashMap::new();
    for d in decisions {
        out.entry(d.item).or_default().push(d);
    }
    out
}

fn verdict_of(row: &ReviewDecisionRow) -> Result<Verdict, AppError> {
    Verdict::from_stored(&row.decision).ok_or_else(|| {
        corrupt(
            "review_decisions",
            row.seq.to_string(),
            format!("unknown decision `{}`", row.decision),
        )
    })
}

/// A campaign's counts as of `now`, from its `n_items` items and its decisions (the items'
/// evidence is not read).
async fn tally(
    store: &Store,
    campaign: &CampaignRow,
    n_items: u64,
    now: Timestamp,
) -> Result<Counts, AppError> {
    let decisions = by_item(
        store
            .review_decisions(&campaign.id)
            .await
            .context("reading the campaign's decisions")?,
    );
    counts_of(campaign, &decisions, n_items, now)
}

async fn campaign(store: &Store, name: &str) -> Result<CampaignRow, AppError> {
    store
        .review_campaign(name.trim())
        .await
        .context("reading the review campaign")?
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "no review campaign `{}` (see `warrant review list`)",
                name.trim()
            ))
        })
}

fn item_view(
    campaign: &CampaignRow,
    row: ReviewItemRow,
    mut decisions: Vec<ReviewDecisionRow>,
    now: Timestamp,
) -> Result<ItemView, AppError> {
    let evidence: Evidence = serde_json::from_str(&row.evidence).map_err(|e| {
        corrupt(
            "review_items",
            format!("{}#{}", row.campaign, row.item),
            e.to_string(),
        )
    })?;
    let decision = decisions.pop();
    let latest = decision.as_ref().map(verdict_of).transpose()?;
    let state = ItemState::of(latest, campaign.due, now);
    let reviewer_now =
        review::reviewer_now(&row.reviewer, campaign.fallback_reviewer.as_deref(), state)
            .to_string();
    Ok(ItemView {
        item: row.item,
        identity: row.identity,
        name: row.name,
        reviewer: row.reviewer,
        assigned_because: row.assigned,
        reviewer_now,
        state,
        decision,
        superseded: decisions,
        evidence,
    })
}

/// A campaign and its items as of `now`, in item order, filtered.
pub async fn show(
    store: &Store,
    name: &str,
    now: Timestamp,
    filter: &ItemFilter,
) -> Result<(CampaignView, Vec<ItemView>), AppError> {
    let row = campaign(store, name).await?;
    let (counts, items) = items(store, &row, now).await?;
    let reviewer = filter.reviewer.as_deref().map(str::trim);
    let items = items
        .into_iter()
        .filter(|i| !filter.pending || i.state.is_pending())
        .filter(|i| {
            reviewer.is_none_or(|r| {
                i.reviewer.eq_ignore_ascii_case(r) || i.reviewer_now.eq_ignore_ascii_case(r)
            })
        })
        .collect();
    Ok((CampaignView::new(row, counts), items))
}

/// A page of a campaign's items.
#[derive(Debug)]
pub struct ItemPage {
    pub items: Vec<ItemView>,
    /// Pass as `after` for the next page (an item number); `None` on the last one.
    pub next: Option<i64>,
}

/// A campaign as of `now` and at most `limit` of its items matching `filter` numbered above
/// `after`, in item order. Items are read from the store a chunk at a time (and only the
/// page's evidence decoded); the counts come from the decisions alone, so a campaign of 100k
/// identities answers a page without reading them all.
pub async fn show_page(
    store: &Store,
    name: &str,
    now: Timestamp,
    filter: &ItemFilter,
    after: Option<i64>,
    limit: usize,
) -> Result<(CampaignView, ItemPage), AppError> {
    let row = campaign(store, name).await?;
    let mut decisions = by_item(
        store
            .review_decisions(&row.id)
            .await
            .context("reading the campaign's decisions")?,
    );
    let n_items = store
        .review_campaigns()
        .await
        .context("reading review campaigns")?
        .into_iter()
        .find(|c| c.campaign.id == row.id)
        .map_or(0, |c| c.items);
    let counts = counts_of(&row, &decisions, n_items, now)?;
    let reviewer = filter
        .reviewer
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    // Once the campaign is overdue its pending items are with the fallback reviewer, whoever
    // they were assigned to: the store cannot narrow by assignee for that reviewer.
    let with_fallback = review::is_overdue(row.due, now)
        && row
            .fallback_reviewer
            .as_deref()
            .zip(reviewer)
            .is_some_and(|(f, r)| f.eq_ignore_ascii_case(r));
    let narrowed = reviewer.filter(|_| !with_fallback);
    let chunk = u64::try_from(limit.saturating_mul(2).max(64)).unwrap_or(u64::MAX);
    let mut cursor = after.unwrap_or(0);
    let mut items = Vec::new();
    let mut more = false;
    'chunks: loop {
        let rows = store
            .review_items_after(&row.id, narrowed, cursor, chunk)
            .await
            .context("reading the campaign's items")?;
        let fetched = rows.len() as u64;
        for item in rows {
            cursor = item.item;
            let latest = decisions
                .get(&item.item)
                .and_then(|h| h.last())
                .map(verdict_of)
                .transpose()?;
            let state = ItemState::of(latest, row.due, now);
            if filter.pending && !state.is_pending() {
                continue;
            }
            let now_with =
                review::reviewer_now(&item.reviewer, row.fallback_reviewer.as_deref(), state);
            if reviewer.is_some_and(|r| {
                !item.reviewer.eq_ignore_ascii_case(r) && !now_with.eq_ignore_ascii_case(r)
            }) {
                continue;
            }
            if items.len() == limit {
                more = true;
                break 'chunks;
            }
            let history = decisions.remove(&item.item).unwrap_or_default();
            items.push(item_view(&row, item, history, now)?);
        }
        if fetched < chunk {
            break;
        }
    }
    let next = more.then(|| items.last().map(|i| i.item)).flatten();
    Ok((CampaignView::new(row, counts), ItemPage { items, next }))
}

/// A campaign's counts from its decisions and its number of items.
fn counts_of(
    campaign: &CampaignRow,
    decisions: &HashMap<i64, Vec<ReviewDecisionRow>>,
    n_items: u64,
    now: Timestamp,
) -> Result<Counts, AppError> {
    let mut counts = Counts {
        items: usize::try_from(n_items).unwrap_or(usize::MAX),
        ..Counts::default()
    };
    for history in decisions.values() {
        if let Some(latest) = history.last() {
            counts.decided += 1;
            *counts.by_verdict.entry(verdict_of(latest)?).or_default() += 1;
        }
    }
    counts.pending = counts.items.saturating_sub(counts.decided);
    if review::is_overdue(campaign.due, now) {
        counts.overdue = counts.pending;
    }
    Ok(counts)
}

async fn items(
    store: &Store,
    campaign: &CampaignRow,
    now: Timestamp,
) -> Result<(Counts, Vec<ItemView>), AppError> {
    let rows = store
        .review_items(&campaign.id)
        .await
        .context("reading the campaign's items")?;
    let mut decisions = by_item(
        store
            .review_decisions(&campaign.id)
            .await
            .context("reading the campaign's decisions")?,
    );
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let history = decisions.remove(&row.item).unwrap_or_default();
        out.push(item_view(campaign, row, history, now)?);
    }
    let counts = Counts::tally(out.iter().map(|i| i.state));
    Ok((counts, out))
}

/// The item `wanted` names: its number, or its identity (id, name or the end of its id).
async fn find_item(
    store: &Store,
    campaign: &CampaignRow,
    wanted: &str,
) -> Result<ReviewItemRow, AppError> {
    let wanted = wanted.trim();
    if let Ok(n) = wanted.trim_start_matches('#').parse::<i64>() {
        return store
            .review_item(&campaign.id, n)
            .await
            .context("reading the item")?
            .ok_or_else(|| {
                AppError::NotFound(format!("campaign {} has no item {n}", campaign.id))
            });
    }
    let rows = store
        .review_items(&campaign.id)
        .await
        .context("reading the campaign's items")?;
    let names: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.identity.clone(), r.name.clone()))
        .collect();
    let id = crate::query::resolve(&names, wanted)
        .map_err(|_| {
            AppError::NotFound(format!(
                "campaign {} has no item for `{wanted}` (give the item's number, see `warrant review show {}`)",
                campaign.id, campaign.id
            ))
        })?
        .to_string();
    rows.into_iter()
        .find(|r| r.identity == id)
        .ok_or_else(|| AppError::NotFound(format!("campaign {} has no item for {id}", campaign.id)))
}

/// Records `actor`'s decision on an item at `now`. A decision other than `keep` writes a
/// remediation plan (requested by `actor`, with the reason); when the plan cannot be written
/// the decision is recorded all the same, with why.
pub async fn decide(
    store: &Store,
    policy: &GovernancePolicy,
    request: &DecideRequest,
    now: Timestamp,
    actor: &str,
) -> Result<Decided, AppError> {
    let actor = review::check_person(actor).map_err(invalid)?;
    let reason = request
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    review::check_verdict(request.verdict, reason).map_err(invalid)?;
    let row = campaign(store, &request.campaign).await?;
    let item = find_item(store, &row, &request.item).await?;
    let history: Vec<ReviewDecisionRow> = store
        .review_decisions(&row.id)
        .await
        .context("reading the campaign's decisions")?
        .into_iter()
        .filter(|d| d.item == item.item)
        .collect();
    let latest = history.last();
    let latest_verdict = latest.map(verdict_of).transpose()?;
    let context = DecisionContext {
        campaign: &row.id,
        closed: row.closed_at.is_some(),
        due: row.due,
        fallback_reviewer: row.fallback_reviewer.as_deref(),
        item: u32::try_from(item.item).unwrap_or(u32::MAX),
        assigned: &item.reviewer,
        latest: latest_verdict.zip(latest.map(|d| d.decided_by.as_str())),
        supersede: request.supersede,
    };
    let authority = review::authorize(&context, &actor, now).map_err(|e| match e {
        // Someone else's item: who is asking is known, and no retry changes the answer.
        ReviewError::NotReviewer { .. } => AppError::Forbidden(e.to_string()),
        other => invalid(other),
    })?;

    let mut plan = None;
    let mut plan_error = None;
    if let Some(action) = request.verdict.action() {
        let ask = PlanRequest {
            action,
            identity: item.identity.clone(),
            reason: Some(match reason {
                Some(r) => format!("access review {} item {}: {r}", row.id, item.item),
                None => format!(
                    "access review {} item {}: {} decided by {actor}",
                    row.id, item.item, request.verdict
                ),
            }),
            key: None,
            secret: None,
            policy: None,
            grace_hours: None,
            usage_since: row.usage_since,
        };
        match remediation::propose(store, policy, &ask, now, &actor).await {
            Ok(view) => plan = Some(view),
            // The request cannot be carried out (another provider, no key, no recorded use):
            // the decision stands, and says why no plan was written.
            Err(AppError::Invalid(why) | AppError::NotFound(why)) => plan_error = Some(why),
            Err(other) => return Err(other),
        }
    }
    let decision = ReviewDecisionRow {
        seq: 0,
        campaign: row.id.clone(),
        item: item.item,
        decision: request.verdict.as_str().to_string(),
        reason: reason.map(str::to_string),
        decided_by: actor,
        authority: match authority {
            warrant_lifecycle::Authority::Assigned => "assigned",
            warrant_lifecycle::Authority::Escalated => "escalated",
        }
        .to_string(),
        at: now,
        plan: plan.as_ref().map(|p| p.plan.id.clone()),
        plan_error,
        supersedes: latest.map(|d| d.seq),
    };
    store
        .record_review_decision(&decision)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(message) => AppError::Invalid(message),
            source => AppError::Store {
                context: "recording the decision",
                source,
            },
        })?;
    let mut history = history;
    history.push(decision);
    let view = item_view(&row, item, history, now)?;
    Ok(Decided { item: view, plan })
}

/// Closes a campaign as `actor` at `now`: refused while items are pending, unless
/// `expire_pending`, which records each as `expired`.
pub async fn close(
    store: &Store,
    name: &str,
    now: Timestamp,
    actor: &str,
    expire_pending: bool,
) -> Result<Closed, AppError> {
    let actor = review::check_person(actor).map_err(invalid)?;
    let row = campaign(store, name).await?;
    let n_items = store
        .review_item_count(&row.id)
        .await
        .context("reading the campaign's items")?;
    let counts = tally(store, &row, n_items, now).await?;
    review::may_close(
        &row.id,
        row.closed_at.is_some(),
        &row.started_by,
        row.fallback_reviewer.as_deref(),
        &actor,
        counts.pending,
        expire_pending,
    )
    .map_err(invalid)?;
    let outcome = store
        .close_review(
            &row.id,
            &actor,
            now,
            expire_pending,
            &format!(
                "still pending when {actor} closed the campaign on {}",
                now.format("%Y-%m-%d")
            ),
        )
        .await
        .context("closing the campaign")?;
    let expired = match outcome {
        CloseOutcome::Closed { expired } => expired,
        CloseOutcome::Pending(pending) => {
            return Err(invalid(ReviewError::Pending {
                campaign: row.id,
                pending: usize::try_from(pending).unwrap_or(usize::MAX),
            }));
        }
        CloseOutcome::AlreadyClosed => return Err(invalid(ReviewError::Closed(row.id))),
        CloseOutcome::NotFound => {
            return Err(AppError::Invalid(format!(
                "no review campaign `{}`",
                row.id
            )));
        }
    };
    let row = campaign(store, &row.id).await?;
    let counts = tally(store, &row, n_items, now).await?;
    Ok(Closed {
        campaign: CampaignView::new(row, counts),
        expired,
    })
}

/// The auditor's evidence of a campaign as of `now`: its metadata, and per item the identity,
/// reviewer, decision, reason, when, the evidence summary, and the plan with its status.
pub async fn report(store: &Store, name: &str, now: Timestamp) -> Result<ReviewReport, AppError> {
    let row = campaign(store, name).await?;
    let (counts, items) = items(store, &row, now).await?;
    let mut statuses: HashMap<String, String> = HashMap::new();
    let mut out = Vec::with_capacity(items.len());
    for i in items {
        let plan = i.decision.as_ref().and_then(|d| d.plan.clone());
        let plan_status = match &plan {
            Some(id) => Some(match statuses.get(id) {
                Some(status) => status.clone(),
                None => {
                    let status = remediation::view(store, id)
                        .await?
                        .status
                        .as_str()
                        .to_string();
                    statuses.insert(id.clone(), status.clone());
                    status
                }
            }),
            None => None,
        };
        let evidence_summary = i.evidence.summary();
        let evidence = serde_json::to_value(&i.evidence)
            .map_err(|e| AppError::Invalid(format!("cannot write the evidence: {e}")))?;
        let decision = i.decision;
        out.push(ReviewReportItem {
            item: i.item,
            identity: i.identity,
            name: i.name,
            reviewer: i.reviewer,
            assigned_because: i.assigned_because,
            reviewer_now: i.reviewer_now,
            state: i.state.as_str().to_string(),
            decision: decision.as_ref().map(|d| d.decision.clone()),
            reason: decision.as_ref().and_then(|d| d.reason.clone()),
            decided_by: decision.as_ref().map(|d| d.decided_by.clone()),
            authority: decision.as_ref().map(|d| d.authority.clone()),
            decided_at: decision.as_ref().map(|d| d.at),
            plan,
            plan_status,
            plan_error: decision.as_ref().and_then(|d| d.plan_error.clone()),
            superseded: i
                .superseded
                .into_iter()
                .map(|d| PriorDecision {
                    decision: d.decision,
                    reason: d.reason,
                    decided_by: d.decided_by,
                    decided_at: d.at,
                })
                .collect(),
            evidence_summary,
            evidence,
        });
    }
    Ok(ReviewReport {
        schema: REVIEW_SCHEMA.to_string(),
        as_of: now,
        campaign: CampaignInfo {
            status: if row.closed_at.is_some() {
                "closed"
            } else {
                "open"
            }
            .to_string(),
            name: row.id,
            scope: row.scope,
            due: row.due.format("%Y-%m-%d").to_string(),
            started_by: row.started_by,
            started_at: row.started_at,
            closed_by: row.closed_by,
            closed_at: row.closed_at,
            fallback_reviewer: row.fallback_reviewer,
            basis: row.basis,
            usage_since: row.usage_since,
            controls: CONTROLS.iter().map(|c| (*c).to_string()).collect(),
        },
        counts: ReviewCounts {
            items: counts.items,
            decided: counts.decided,
            pending: counts.pending,
            overdue: counts.overdue,
            by_decision: counts
                .by_verdict
                .iter()
                .map(|(v, n)| (v.as_str().to_string(), *n))
                .collect(),
        },
        items: out,
    })
}
