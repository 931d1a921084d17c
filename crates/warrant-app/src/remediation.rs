//! Remediation use cases: write a plan for an identity, decide on it, apply it through a
//! provider's executor, roll it back — each step recorded in the store's append-only journal and
//! audit trail. The executor comes from the front end (the CLI builds the AWS one), so this layer
//! never reaches a provider itself and a server can drive the same calls.

use std::collections::BTreeSet;

use serde::Serialize;
use warrant_core::{Attachment, Credential, FindingSource, Policy, Timestamp};
use warrant_lifecycle::apply::{self, Journal, Outcome, Pace, RunReport};
use warrant_lifecycle::propose::{self, ProposeError, Request, Subject};
use warrant_lifecycle::{
    Action, Approvals, Decision, Direction, Executor, GovernancePolicy, IdentityFacts, Plan,
    PlanStatus, Progress, StepOutput, StepRecord, StepState,
};
use warrant_store::{DecisionRow, JournalRow, PlanRow, Store, StoreError};

use crate::AppError;
use crate::error::StoreContext;
use crate::query::resolve_in;

/// What a person asks a plan for.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    pub action: Action,
    /// The identity, as `show` takes it (id, name or id suffix).
    pub identity: String,
    pub reason: Option<String>,
    pub key: Option<String>,
    pub secret: Option<String>,
    pub policy: Option<String>,
    pub grace_hours: Option<u32>,
    /// Rightsize: usage since this instant.
    pub usage_since: Timestamp,
}

/// A plan as the store holds it, with where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct PlanView {
    #[serde(flatten)]
    pub plan: Plan,
    pub status: PlanStatus,
    pub required_approvals: u8,
    pub approved_by: BTreeSet<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected_by: Option<String>,
    /// Approval waived by policy (break-glass containment).
    pub waived: bool,
    pub decisions: Vec<DecisionRow>,
    pub journal: Vec<JournalRow>,
}

impl PlanView {
    pub fn progress(&self) -> Progress {
        Progress::of(&self.plan, &records(&self.journal))
    }
}

/// A run's result and the plan as it stands after it.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    pub report: RunReport,
    pub plan: PlanView,
}

fn plan_error(e: ProposeError) -> AppError {
    AppError::Invalid(e.to_string())
}

fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::Apply => "apply",
        Direction::Undo => "undo",
    }
}

fn state_name(s: StepState) -> &'static str {
    match s {
        StepState::Started => "started",
        StepState::Done => "done",
        StepState::Waiting => "waiting",
        StepState::Failed => "failed",
    }
}

/// The journal's rows as the lifecycle engine replays them (rows it cannot read are skipped:
/// the schema's checks keep them to known values).
fn records(rows: &[JournalRow]) -> Vec<StepRecord> {
    rows.iter()
        .filter_map(|r| {
            let direction = match r.direction.as_str() {
                "apply" => Direction::Apply,
                "undo" => Direction::Undo,
                _ => return None,
            };
            let state = match r.state.as_str() {
                "started" => StepState::Started,
                "done" => StepState::Done,
                "waiting" => StepState::Waiting,
                "failed" => StepState::Failed,
                _ => return None,
            };
            Some(StepRecord {
                step: usize::try_from(r.step).ok()?,
                direction,
                state,
                at: r.at,
                output: r
                    .output
                    .as_deref()
                    .and_then(|o| serde_json::from_str::<StepOutput>(o).ok()),
                error: r.error.clone(),
            })
        })
        .collect()
}

fn decisions(rows: &[DecisionRow]) -> Vec<Decision> {
    rows.iter()
        .map(|d| Decision {
            by: d.decided_by.clone(),
            at: d.at,
            approve: d.decision != "reject",
            reason: d.reason.clone(),
            waived: d.decision == "waive",
        })
        .collect()
}

/// The Secrets Manager secret a rotation writes to: the request's, the user's
/// `warrant:secret` tag, or the policy's template.
fn secret_for(
    request: &PlanRequest,
    policy: &GovernancePolicy,
    identity: &warrant_core::Identity,
) -> Option<String> {
    request
        .secret
        .clone()
        .or_else(|| identity.tags.get("warrant:secret").cloned())
        .or_else(|| {
            policy.remediation.secret_name.as_ref().map(|t| {
                t.replace("{user}", &identity.name)
                    .replace("{account}", identity.account.as_deref().unwrap_or(""))
            })
        })
}

/// Writes the plan `request` asks for, as `actor` at `now`, and stores it. The same plan asked
/// for again (same content) is the same plan, stored once.
pub async fn propose(
    store: &Store,
    policy: &GovernancePolicy,
    request: &PlanRequest,
    now: Timestamp,
    actor: &str,
) -> Result<PlanView, AppError> {
    if !actor.contains('@') {
        return Err(AppError::Invalid(format!(
            "`{actor}` is not an email address: plans are requested by named people (--as EMAIL or WARRANT_USER)"
        )));
    }
    let id = resolve_in(store, &request.identity).await?;
    let inventory = store
        .load_neighbourhood(&id)
        .await
        .context("loading the identity")?;
    let identity = inventory
        .identities
        .iter()
        .find(|i| i.id == id)
        .ok_or_else(|| AppError::Invalid(format!("no identity `{id}` in the store")))?;
    let credentials: Vec<&Credential> = inventory
        .credentials
        .iter()
        .filter(|c| c.identity == id)
        .collect();
    let attachments: Vec<(&Attachment, Option<&Policy>)> = inventory
        .attachments
        .iter()
        .filter(|a| a.identity == id)
        .map(|a| (a, inventory.policies.iter().find(|p| p.id == a.policy)))
        .collect();

    let blast_radius = match store
        .last_run(FindingSource::Posture)
        .await
        .context("reading the last assessment")?
    {
        Some(run) => store
            .scored_identity(run.id, &id)
            .await
            .context("reading the identity's risk")?
            .map_or(0.0, |(risk, _)| risk.blast_radius),
        None => 0.0,
    };
    let facts = IdentityFacts {
        tags: &identity.tags,
        environment: identity.environment,
        provider: identity.provider,
        kind: identity.kind,
        blast_radius,
    };
    let (_, thresholds) = policy.tier_for(&facts);
    let required = thresholds.approvals;

    let mut ask = Request::new(request.action, actor, now);
    ask.reason = request
        .reason
        .clone()
        .unwrap_or_else(|| format!("{} requested by {actor}", request.action));
    ask.revision = store
        .revision()
        .await
        .context("reading the store's revision")?;
    ask.key = request.key.clone();
    ask.secret = secret_for(request, policy, identity);
    ask.grace_hours = request
        .grace_hours
        .unwrap_or(policy.remediation.grace_hours);
    ask.policy = request.policy.clone();
    if request.action == Action::Decommission {
        ask.deadline_days = Some(policy.remediation.decommission_days);
    }
    if request.action == Action::Rightsize {
        let sized = crate::query::rightsize_id(store, &id, request.usage_since).await?;
        if sized.report.used.is_empty() {
            return Err(AppError::Invalid(format!(
                "no use of {id} recorded since {}: ingest its activity first (warrant ingest), or a right-sized policy would allow nothing",
                request.usage_since.format("%Y-%m-%d")
            )));
        }
        ask.document = Some(
            serde_json::to_string(&sized.report.policy)
                .map_err(|e| AppError::Invalid(format!("cannot write the policy: {e}")))?,
        );
    }
    if request.action == Action::Contain {
        ask.notify = consumers(store, &id).await?;
    }
    let plan = propose::propose(
        Subject {
            identity,
            credentials: &credentials,
            attachments: &attachments,
        },
        &ask,
    )
    .map_err(plan_error)?;
    save(store, &plan, required).await?;
    if request.action == Action::Contain && policy.remediation.containment_without_approval {
        let existing = store
            .plan_decisions(&plan.id)
            .await
            .context("reading the plan's decisions")?;
        if existing.iter().all(|d| d.decision != "waive") {
            store
                .decide_plan(
                    &plan.id,
                    actor,
                    now,
                    "waive",
                    Some("containment: approval waived by policy (remediation.containment_without_approval)"),
                )
                .await
                .context("recording the waiver")?;
        }
    }
    view(store, &plan.id).await
}

async fn save(store: &Store, plan: &Plan, required: u8) -> Result<bool, AppError> {
    let row = PlanRow {
        id: plan.id.clone(),
        identity: plan.content.identity.clone(),
        action: plan.content.action.to_string(),
        requested_by: plan.content.requested_by.clone(),
        created: plan.content.created,
        required_approvals: i64::from(required),
        data: serde_json::to_string(plan)
            .map_err(|e| AppError::Invalid(format!("cannot record the plan: {e}")))?,
    };
    store.save_plan(&row).await.context("recording the plan")
}

/// The networks and user agents seen using an identity's credentials (from its behaviour
/// baseline), to tell before cutting them off.
async fn consumers(store: &Store, id: &str) -> Result<Vec<String>, AppError> {
    let Some(bytes) = store
        .baseline(id)
        .await
        .context("loading the identity's baseline")?
    else {
        return Ok(Vec::new());
    };
    let Ok(baseline) = warrant_activity::baseline::Baseline::from_bytes(&bytes) else {
        return Ok(Vec::new());
    };
    let mut out: Vec<String> = baseline
        .networks()
        .iter()
        .map(|(n, count)| format!("source {n} ({count} calls)"))
        .collect();
    out.extend(
        baseline
            .user_agents()
            .iter()
            .map(|(ua, count)| format!("user agent {ua} ({count} calls)")),
    );
    Ok(out)
}

/// Reads a plan file (as `plan show --format json` writes it), refusing one whose content does
/// not hash to its id, and stores it.
pub async fn import_plan(
    store: &Store,
    policy: &GovernancePolicy,
    text: &str,
    origin: &str,
) -> Result<PlanView, AppError> {
    let plan = Plan::from_json(text, origin).map_err(|e| AppError::Invalid(e.to_string()))?;
    // Approvals come from the identity's tier now, not from the file.
    let required = match store
        .load_neighbourhood(&plan.content.identity)
        .await
        .context("loading the identity")?
        .identities
        .first()
    {
        Some(identity) => {
            policy
                .tier_for(&IdentityFacts {
                    tags: &identity.tags,
                    environment: identity.environment,
                    provider: identity.provider,
                    kind: identity.kind,
                    blast_radius: 0.0,
                })
                .1
                .approvals
        }
        None => policy.defaults.approvals,
    };
    save(store, &plan, required).await?;
    view(store, &plan.id).await
}

/// Finds a plan by its id or a unique prefix of it.
async fn find(store: &Store, wanted: &str) -> Result<PlanRow, AppError> {
    let wanted = wanted.trim();
    if let Some(row) = store.plan(wanted).await.context("loading the plan")? {
        return Ok(row);
    }
    let prefix = if wanted.starts_with("plan-") {
        wanted.to_string()
    } else {
        format!("plan-{wanted}")
    };
    let mut rows = store
        .plans_with_prefix(&prefix)
        .await
        .context("loading plans")?;
    match rows.len() {
        1 => Ok(rows.remove(0)),
        0 => Err(AppError::NotFound(format!(
            "no plan `{wanted}` (try `warrant plan list`)"
        ))),
        n => Err(AppError::Invalid(format!(
            "`{wanted}` is the start of {n} plans' ids; give more of it"
        ))),
    }
}

fn parse(row: &PlanRow) -> Result<Plan, AppError> {
    // What the store holds was hashed when written; a row that no longer hashes to its id was
    // changed behind Warrant's back and is not applied.
    Plan::from_json(&row.data, &format!("stored plan {}", row.id))
        .map_err(|e| AppError::Invalid(e.to_string()))
}

/// One plan with its decisions, journal and status.
pub async fn view(store: &Store, wanted: &str) -> Result<PlanView, AppError> {
    let row = find(store, wanted).await?;
    let decision_rows = store
        .plan_decisions(&row.id)
        .await
        .context("loading the plan's decisions")?;
    let journal = store
        .plan_journal(&row.id)
        .await
        .context("loading the plan's journal")?;
    view_of(&row, decision_rows, journal)
}

fn view_of(
    row: &PlanRow,
    decision_rows: Vec<DecisionRow>,
    journal: Vec<JournalRow>,
) -> Result<PlanView, AppError> {
    let plan = parse(row)?;
    let required = u8::try_from(row.required_approvals).unwrap_or(u8::MAX);
    let approvals = Approvals::of(&decisions(&decision_rows), required);
    let status = Progress::of(&plan, &records(&journal))
        .status(approvals.approved(), approvals.rejected_by.is_some());
    Ok(PlanView {
        plan,
        status,
        required_approvals: required,
        approved_by: approvals.approvers,
        rejected_by: approvals.rejected_by,
        waived: approvals.waived,
        decisions: decision_rows,
        journal,
    })
}

/// Every plan, newest first, with its status (three queries, whatever the number of plans).
pub async fn list(store: &Store) -> Result<Vec<PlanView>, AppError> {
    use std::collections::HashMap;
    let rows = store.plans().await.context("loading plans")?;
    let mut decided: HashMap<String, Vec<DecisionRow>> = HashMap::new();
    for d in store
        .all_plan_decisions()
        .await
        .context("loading decisions")?
    {
        decided.entry(d.plan.clone()).or_default().push(d);
    }
    let mut journals: HashMap<String, Vec<JournalRow>> = HashMap::new();
    for j in store
        .all_plan_journals()
        .await
        .context("loading journals")?
    {
        journals.entry(j.plan.clone()).or_default().push(j);
    }
    rows.iter()
        .map(|row| {
            view_of(
                row,
                decided.remove(&row.id).unwrap_or_default(),
                journals.remove(&row.id).unwrap_or_default(),
            )
        })
        .collect()
}

/// Which plans a [`page`] lists.
#[derive(Debug, Clone, Default)]
pub struct PlanFilter {
    /// Only plans in one of these states (none: every state).
    pub statuses: Vec<PlanStatus>,
    /// Only plans for this identity (its id, exactly).
    pub identity: Option<String>,
}

/// A page of plans.
#[derive(Debug)]
pub struct PlanPage {
    pub items: Vec<PlanView>,
    /// Pass as `after` for the next page; `None` on the last one.
    pub next: Option<String>,
}

/// At most `limit` plans matching `filter`, newest first as [`list`] orders them, after the
/// plan `after` names (a `next` a previous page returned). Plans are read from the store a
/// chunk at a time with the decisions and journals of that chunk only, because a plan's
/// status is worked out from them rather than stored.
pub async fn page(
    store: &Store,
    filter: &PlanFilter,
    after: Option<&str>,
    limit: usize,
) -> Result<PlanPage, AppError> {
    use std::collections::HashMap;
    let chunk = u64::try_from(limit.saturating_mul(2).max(64)).unwrap_or(u64::MAX);
    let mut cursor = after.map(str::to_string);
    let mut items = Vec::new();
    let mut more = false;
    'chunks: loop {
        let rows = store
            .plans_after(filter.identity.as_deref(), cursor.as_deref(), chunk)
            .await
            .context("loading plans")?
            .ok_or_else(|| {
                AppError::Invalid(format!(
                    "`{}` is not a cursor this listing gave",
                    cursor.as_deref().unwrap_or_default()
                ))
            })?;
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let mut decided: HashMap<String, Vec<DecisionRow>> = HashMap::new();
        for d in store
            .plan_decisions_of(&ids)
            .await
            .context("loading decisions")?
        {
            decided.entry(d.plan.clone()).or_default().push(d);
        }
        let mut journals: HashMap<String, Vec<JournalRow>> = HashMap::new();
        for j in store
            .plan_journals_of(&ids)
            .await
            .context("loading journals")?
        {
            journals.entry(j.plan.clone()).or_default().push(j);
        }
        for row in &rows {
            let view = view_of(
                row,
                decided.remove(&row.id).unwrap_or_default(),
                journals.remove(&row.id).unwrap_or_default(),
            )?;
            if !filter.statuses.is_empty() && !filter.statuses.contains(&view.status) {
                continue;
            }
            if items.len() == limit {
                more = true;
                break 'chunks;
            }
            items.push(view);
        }
        if (rows.len() as u64) < chunk {
            break;
        }
        cursor = rows.last().map(|r| r.id.clone());
    }
    let next = more
        .then(|| items.last().map(|v| v.plan.id.clone()))
        .flatten();
    Ok(PlanPage { items, next })
}

/// Records `by`'s decision on a proposed plan (four eyes: never the requester's own).
pub async fn decide(
    store: &Store,
    wanted: &str,
    by: &str,
    approve: bool,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<PlanView, AppError> {
    let current = view(store, wanted).await?;
    let approvals = Approvals {
        approvers: current.approved_by.clone(),
        rejected_by: current.rejected_by.clone(),
        waived: current.waived,
        required: current.required_approvals,
    };
    approvals
        .may_decide(&current.plan, current.status, by)
        .map_err(|e| match e {
            // Four eyes: the requester is known and may never approve their own plan.
            warrant_lifecycle::apply::ApprovalError::OwnApproval(_) => {
                AppError::Forbidden(e.to_string())
            }
            other => AppError::Invalid(other.to_string()),
        })?;
    if !approve && reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(AppError::Invalid(
            "a rejection needs a reason (--reason)".into(),
        ));
    }
    store
        .decide_plan(
            &current.plan.id,
            by,
            now,
            if approve { "approve" } else { "reject" },
            reason,
        )
        .await
        .context("recording the decision")?;
    view(store, &current.plan.id).await
}

/// The store as the lifecycle engine's journal: each record appended only if the journal still
/// ends where this run last saw it.
struct StoreJournal<'a> {
    store: &'a Store,
    plan: String,
    actor: String,
    last_seq: i64,
}

impl Journal for StoreJournal<'_> {
    type Error = StoreError;

    async fn record(&mut self, record: StepRecord) -> Result<(), StoreError> {
        let output = record
            .output
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::Unsupported(format!("cannot record a step's output: {e}")))?;
        let row = JournalRow {
            seq: 0,
            plan: self.plan.clone(),
            step: i64::try_from(record.step).unwrap_or(i64::MAX),
            direction: direction_name(record.direction).into(),
            state: state_name(record.state).into(),
            at: record.at,
            actor: self.actor.clone(),
            output,
            error: record.error,
        };
        self.last_seq = self.store.append_journal(&row, self.last_seq).await?;
        Ok(())
    }
}

/// The clock and the rate limit of a run.
pub struct Paced<'a> {
    pub clock: &'a (dyn Fn() -> Timestamp + Sync),
    pub interval: std::time::Duration,
}

impl Pace for Paced<'_> {
    fn now(&self) -> Timestamp {
        (self.clock)()
    }
    async fn wait(&self) {
        tokio::time::sleep(self.interval).await;
    }
}

/// Applies an approved plan as `actor` (a dry run unless `dry_run` is false): checks the
/// provider still looks as the plan expects, then applies step by step, recording each.
pub async fn apply<E: Executor + Sync>(
    store: &Store,
    wanted: &str,
    executor: &E,
    actor: &str,
    pace: &Paced<'_>,
    dry_run: bool,
) -> Result<RunResult, AppError> {
    let current = view(store, wanted).await?;
    match current.status {
        PlanStatus::Proposed => {
            return Err(AppError::Invalid(format!(
                "plan {} needs {} approval(s) from someone other than {} before it is applied ({} so far): warrant plan approve {} --as EMAIL",
                current.plan.id,
                current.required_approvals,
                current.plan.content.requested_by,
                current.approved_by.len(),
                current.plan.id
            )));
        }
        PlanStatus::Rejected => {
            return Err(AppError::Invalid(format!(
                "plan {} was rejected by {}",
                current.plan.id,
                current.rejected_by.as_deref().unwrap_or("someone")
            )));
        }
        PlanStatus::RollingBack | PlanStatus::RolledBack => {
            return Err(AppError::Invalid(format!(
                "plan {} is {}: write a new plan rather than apply this one again",
                current.plan.id, current.status
            )));
        }
        PlanStatus::Approved
        | PlanStatus::Applying
        | PlanStatus::Waiting
        | PlanStatus::Failed
        | PlanStatus::Applied => {}
    }
    if current.status == PlanStatus::Approved
        && let Some(deadline) = current.plan.content.deadline
        && (pace.clock)() > deadline
    {
        return Err(AppError::Invalid(format!(
            "plan {} was to be applied by {}: the inventory may have changed since; write a new plan",
            current.plan.id,
            deadline.format("%Y-%m-%d")
        )));
    }
    let so_far = records(&current.journal);
    let mut journal = StoreJournal {
        store,
        plan: current.plan.id.clone(),
        actor: actor.to_string(),
        last_seq: current.journal.last().map_or(0, |r| r.seq),
    };
    let report = apply::run(
        &current.plan,
        &so_far,
        executor,
        &mut journal,
        pace,
        dry_run,
    )
    .await
    .map_err(|e| AppError::Store {
        context: "recording the apply (the step's call may have been made; apply again to resume)",
        source: e.source,
    })?;
    let plan = view(store, &current.plan.id).await?;
    Ok(RunResult { report, plan })
}

/// Undoes what an apply did, last step first.
pub async fn rollback<E: Executor + Sync>(
    store: &Store,
    wanted: &str,
    executor: &E,
    actor: &str,
    pace: &Paced<'_>,
) -> Result<RunResult, AppError> {
    let current = view(store, wanted).await?;
    let progress = current.progress();
    if progress.applied().next().is_none() {
        return Err(AppError::Invalid(format!(
            "plan {} has nothing applied to roll back (it is {})",
            current.plan.id, current.status
        )));
    }
    let so_far = records(&current.journal);
    let mut journal = StoreJournal {
        store,
        plan: current.plan.id.clone(),
        actor: actor.to_string(),
        last_seq: current.journal.last().map_or(0, |r| r.seq),
    };
    let report = apply::rollback(&current.plan, &so_far, executor, &mut journal, pace)
        .await
        .map_err(|e| AppError::Store {
            context: "recording the rollback (run it again to go on)",
            source: e.source,
        })?;
    let plan = view(store, &current.plan.id).await?;
    Ok(RunResult { report, plan })
}

/// Whether a run ended well (every step applied, or rolled back, or a dry run that would apply).
pub fn succeeded(outcome: &Outcome) -> bool {
    matches!(
        outcome,
        Outcome::Applied | Outcome::RolledBack { .. } | Outcome::WouldApply { .. }
    )
}

/// What proposing in bulk did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Proposals {
    /// Plans written, as (plan id, identity, action).
    pub proposed: Vec<(String, String, Action)>,
    /// How many of them were not stored before.
    pub new: u64,
    /// (identity, action, why no plan was written).
    pub skipped: Vec<(String, Action, String)>,
}

/// Proposes a plan for every open finding a plan can fix (an old or leaked key is rotated, an
/// unused key disabled, a machine's console password removed, an identity past its tier's
/// decommission threshold decommissioned, an administrator right-sized from its use), one per
/// identity and action, as `actor`. Plans are written from one load of the inventory and
/// stored in one transaction; identities a plan cannot be written for are listed with why.
pub async fn propose_from_findings(
    store: &Store,
    policy: &GovernancePolicy,
    now: Timestamp,
    actor: &str,
    usage_since: Timestamp,
    progress: &dyn crate::Progress,
) -> Result<Proposals, AppError> {
    use std::collections::{BTreeMap, HashMap};
    if !actor.contains('@') {
        return Err(AppError::Invalid(format!(
            "`{actor}` is not an email address: plans are requested by named people (--as EMAIL or WARRANT_USER)"
        )));
    }
    // What to do to whom, from the open findings (streamed: only the pairs are kept).
    let mut wanted: BTreeMap<(String, Action), String> = BTreeMap::new();
    for (identity, rule, severity) in store
        .open_finding_keys()
        .await
        .context("reading open findings")?
    {
        let (Ok(rule), Ok(severity)) = (
            rule.parse::<warrant_core::RuleId>(),
            severity.parse::<warrant_core::Severity>(),
        ) else {
            continue;
        };
        if let Some(action) = propose::action_for_rule(rule, severity) {
            wanted
                .entry((identity, action))
                .or_insert_with(|| format!("{} ({severity}): {}", rule, rule.spec().title));
        }
    }
    let mut out = Proposals::default();
    // Registration asks too, once the organisation registers identities: a powerful shadow
    // identity is suspended pending review, an expired registration decommissioned.
    let approved = crate::ownership::approved(store).await?;
    if wanted.is_empty() && approved.is_empty() {
        return Ok(out);
    }
    progress.phase(crate::Phase::LoadingInventory, None);
    // Plans need keys, console passwords and attachments; policies' statements (most of a
    // large inventory) only to put an inline policy back, so the few plans that delete inline
    // policies (decommission, rightsize) load their identity's neighbourhood instead.
    let inventory = store
        .load_identities_and_credentials()
        .await
        .context("loading the inventory")?;
    progress.done(crate::Phase::LoadingInventory);
    let index = inventory.index();
    let blast: HashMap<String, f64> = match store
        .last_run(FindingSource::Posture)
        .await
        .context("reading the last assessment")?
    {
        Some(_) => store
            .latest_risks()
            .await
            .context("reading risks")?
            .into_iter()
            .map(|(id, r)| (id, r.blast_radius))
            .collect(),
        None => HashMap::new(),
    };
    if !approved.is_empty() {
        for identity in &inventory.identities {
            let (sanction, registration) =
                warrant_lifecycle::register::sanction(identity, &approved);
            let blast_radius = blast.get(&identity.id).copied().unwrap_or(0.0);
            if let Some((action, why)) = warrant_lifecycle::register::registration_action(
                &sanction,
                registration,
                blast_radius,
                now,
            ) {
                wanted.entry((identity.id.clone(), action)).or_insert(why);
            }
        }
    }
    // Only identities with recorded use can be right-sized: one query instead of one per
    // administrator.
    let used: std::collections::HashSet<String> =
        if wanted.keys().any(|(_, a)| *a == Action::Rightsize) {
            store
                .identities_used_since(usage_since)
                .await
                .context("reading recorded use")?
                .into_iter()
                .collect()
        } else {
            std::collections::HashSet::new()
        };
    let revision = store
        .revision()
        .await
        .context("reading the store's revision")?;
    progress.phase(crate::Phase::Planning, Some(wanted.len() as u64));
    let mut rows = Vec::new();
    for (n, ((id, action), reason)) in wanted.into_iter().enumerate() {
        if n % 1000 == 0 {
            progress.position(n as u64);
        }
        let Some(identity) = index.identity_by_id.get(id.as_str()).copied() else {
            continue;
        };
        let credentials: Vec<&Credential> = index
            .credentials_by_identity
            .get(id.as_str())
            .cloned()
            .unwrap_or_default();
        if action == Action::Rightsize {
            // Checked before anything is loaded: most administrators have no recorded use.
            if propose::principal_of(identity).is_none() {
                out.skipped.push((
                    id,
                    action,
                    "right-sizing writes AWS IAM policies; change this identity's grants at its provider".into(),
                ));
                continue;
            }
            if !used.contains(&id) {
                out.skipped
                    .push((id, action, "no recorded use to size a policy from".into()));
                continue;
            }
        }
        let neighbourhood = if matches!(action, Action::Decommission | Action::Rightsize) {
            Some(
                store
                    .load_neighbourhood(&id)
                    .await
                    .context("loading the identity's policies")?,
            )
        } else {
            None
        };
        let attachments: Vec<(&Attachment, Option<&Policy>)> = match &neighbourhood {
            Some(n) => n
                .attachments
                .iter()
                .filter(|a| a.identity == id)
                .map(|a| (a, n.policies.iter().find(|p| p.id == a.policy)))
                .collect(),
            None => index
                .attachments_by_identity
                .get(id.as_str())
                .map(|list| list.iter().map(|a| (*a, None)).collect())
                .unwrap_or_default(),
        };
        let request = PlanRequest {
            action,
            identity: id.clone(),
            reason: Some(reason),
            key: None,
            secret: None,
            policy: None,
            grace_hours: None,
            usage_since,
        };
        let mut ask = Request::new(action, actor, now);
        ask.reason = request.reason.clone().unwrap_or_default();
        ask.revision = revision;
        ask.secret = secret_for(&request, policy, identity);
        ask.grace_hours = policy.remediation.grace_hours;
        if action == Action::Decommission {
            ask.deadline_days = Some(policy.remediation.decommission_days);
        }
        if action == Action::Rightsize {
            let sized = crate::query::rightsize_id(store, &id, usage_since).await?;
            if sized.report.used.is_empty() {
                out.skipped
                    .push((id, action, "no recorded use to size a policy from".into()));
                continue;
            }
            ask.document = serde_json::to_string(&sized.report.policy).ok();
        }
        let subject = Subject {
            identity,
            credentials: &credentials,
            attachments: &attachments,
        };
        match propose::propose(subject, &ask) {
            Ok(plan) => {
                let required = policy
                    .tier_for(&IdentityFacts {
                        tags: &identity.tags,
                        environment: identity.environment,
                        provider: identity.provider,
                        kind: identity.kind,
                        blast_radius: blast.get(&id).copied().unwrap_or(0.0),
                    })
                    .1
                    .approvals;
                rows.push(PlanRow {
                    id: plan.id.clone(),
                    identity: id.clone(),
                    action: action.to_string(),
                    requested_by: actor.to_string(),
                    created: now,
                    required_approvals: i64::from(required),
                    data: serde_json::to_string(&plan)
                        .map_err(|e| AppError::Invalid(format!("cannot record a plan: {e}")))?,
                });
                out.proposed.push((plan.id, id, action));
            }
            Err(e) => out.skipped.push((id, action, e.to_string())),
        }
    }
    progress.done(crate::Phase::Planning);
    progress.phase(crate::Phase::Saving, Some(rows.len() as u64));
    out.new = store.save_plans(&rows).await.context("recording plans")?;
    progress.done(crate::Phase::Saving);
    Ok(out)
}
