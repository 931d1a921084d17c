//! Applying a plan: the approval rules, the journal of what was applied, the state a plan is in
//! (derived from its approvals and journal, never stored apart from them), and the executor
//! trait each provider implements.
//!
//! The journal is append-only: a step is recorded as started before its call is made and as
//! done (with its output) after, so an apply killed between the two is known on the next run,
//! which asks the provider whether the step took effect instead of guessing.

use std::collections::BTreeSet;
use std::future::Future;

use serde::{Deserialize, Serialize};
use warrant_core::Timestamp;

use crate::plan::{AwsCall, Call, Expect, KeyRef, Plan, Principal};

/// What a step produced, as the journal keeps it. Never a secret: a created key's id (public
/// by AWS's design) and the secret versions written, not the secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepOutput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// When the key was created (a wait's grace period counts from it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_created: Option<Timestamp>,
    /// The secret version this step wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_version: Option<String>,
    /// The version that was current before it (none when the secret was created).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret_version: Option<String>,
    /// What happened, when it is worth saying (nothing to do, done by hand, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Whether an expectation holds at the provider now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    Holds,
    /// It does not; what was found instead.
    Drift(String),
}

/// The result of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Done(StepOutput),
    /// Not yet (a wait whose condition is not met): applying stops here, and the next apply
    /// asks again.
    Waiting(String),
}

/// What an executor needs to know to make one call.
#[derive(Debug, Clone, Copy)]
pub struct StepContext<'a> {
    /// Outputs of the plan's steps so far, by step index (`None`: not applied).
    pub outputs: &'a [Option<StepOutput>],
    pub now: Timestamp,
    /// The step was started before and the apply was interrupted: the executor finds out
    /// whether the call took effect rather than making it twice.
    pub resumed: bool,
    /// When a resumed step was first started (what it made cannot be older).
    pub started: Option<Timestamp>,
}

/// A provider's write side. Implementations make exactly the calls they are given; deciding
/// what to call is the plan's job.
pub trait Executor {
    type Error: std::error::Error + Send + Sync + 'static;

    /// Whether `expect` holds now.
    fn check(&self, expect: &Expect) -> impl Future<Output = Result<Check, Self::Error>> + Send;

    /// Makes `call`. A call whose effect is already in place (the key already inactive, the
    /// policy already detached) succeeds without changing anything, so applying is idempotent.
    fn apply(
        &self,
        call: &AwsCall,
        ctx: StepContext<'_>,
    ) -> impl Future<Output = Result<Applied, Self::Error>> + Send;
}

/// Which way a journal record goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Apply,
    Undo,
}

/// Where one step stands in one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Started,
    Done,
    Waiting,
    Failed,
}

/// One journal record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    pub step: usize,
    pub direction: Direction,
    pub state: StepState,
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<StepOutput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A person's decision on a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub by: String,
    pub at: Timestamp,
    pub approve: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Approval waived by policy (break-glass containment), recorded as such.
    #[serde(default)]
    pub waived: bool,
}

/// Where a plan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanStatus {
    /// Waiting for approvals.
    Proposed,
    Rejected,
    Approved,
    /// Some steps applied; the rest to go (an apply was interrupted).
    Applying,
    /// Stopped at a wait step whose condition is not met yet.
    Waiting,
    /// A step failed; what was applied before it is recorded.
    Failed,
    Applied,
    /// Being undone, or partly undone.
    RollingBack,
    RolledBack,
}

impl PlanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Proposed => "proposed",
            PlanStatus::Rejected => "rejected",
            PlanStatus::Approved => "approved",
            PlanStatus::Applying => "applying",
            PlanStatus::Waiting => "waiting",
            PlanStatus::Failed => "failed",
            PlanStatus::Applied => "applied",
            PlanStatus::RollingBack => "rolling-back",
            PlanStatus::RolledBack => "rolled-back",
        }
    }
}

impl std::fmt::Display for PlanStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the journal says about each step.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Progress {
    /// Per step: its output once applied.
    pub outputs: Vec<Option<StepOutput>>,
    /// Per step: undone since it was applied.
    pub undone: Vec<bool>,
    /// Per step: whether it can be undone (from the plan).
    pub reversible: Vec<bool>,
    /// A step started and not finished (the apply was interrupted), and which way.
    pub interrupted: Option<(usize, Direction)>,
    pub waiting: Option<(usize, String)>,
    pub failed: Option<(usize, Direction, String)>,
}

impl Progress {
    /// Replays the journal (in the order it was written).
    pub fn of(plan: &Plan, journal: &[StepRecord]) -> Progress {
        let n = plan.content.steps.len();
        let mut p = Progress {
            outputs: vec![None; n],
            undone: vec![false; n],
            reversible: plan.content.steps.iter().map(|s| s.reversible).collect(),
            ..Progress::default()
        };
        for r in journal {
            if r.step >= n {
                continue;
            }
            match (r.direction, r.state) {
                (direction, StepState::Started) => {
                    p.interrupted = Some((r.step, direction));
                }
                (Direction::Apply, StepState::Done) => {
                    if let Some(o) = p.outputs.get_mut(r.step) {
                        *o = Some(r.output.clone().unwrap_or_default());
                    }
                    if let Some(u) = p.undone.get_mut(r.step) {
                        *u = false;
                    }
                    p.interrupted = None;
                    p.waiting = None;
                    p.failed = None;
                }
                (Direction::Undo, StepState::Done) => {
                    if let Some(u) = p.undone.get_mut(r.step) {
                        *u = true;
                    }
                    p.interrupted = None;
                    p.failed = None;
                }
                (_, StepState::Waiting) => {
                    p.interrupted = None;
                    p.waiting = Some((r.step, r.error.clone().unwrap_or_default()));
                }
                (direction, StepState::Failed) => {
                    p.interrupted = None;
                    p.failed = Some((r.step, direction, r.error.clone().unwrap_or_default()));
                }
            }
        }
        p
    }

    /// The first step not applied yet.
    pub fn next(&self) -> Option<usize> {
        self.outputs.iter().position(Option::is_none)
    }

    pub fn applied(&self) -> impl Iterator<Item = usize> + '_ {
        self.outputs
            .iter()
            .enumerate()
            .filter(|(i, o)| o.is_some() && !self.undone.get(*i).copied().unwrap_or(false))
            .map(|(i, _)| i)
    }

    pub fn status(&self, approved: bool, rejected: bool) -> PlanStatus {
        let any_applied = self.outputs.iter().any(Option::is_some);
        let any_undone = self.undone.iter().any(|u| *u);
        if rejected && !any_applied {
            return PlanStatus::Rejected;
        }
        if any_undone || matches!(self.interrupted, Some((_, Direction::Undo))) {
            let reversible_left = self
                .applied()
                .any(|i| self.reversible.get(i).copied().unwrap_or(false));
            return if !reversible_left {
                PlanStatus::RolledBack
            } else {
                PlanStatus::RollingBack
            };
        }
        if matches!(self.failed, Some((_, Direction::Undo, _))) {
            return PlanStatus::RollingBack;
        }
        if self.failed.is_some() {
            return PlanStatus::Failed;
        }
        if self.waiting.is_some() {
            return PlanStatus::Waiting;
        }
        if self.next().is_none() {
            return PlanStatus::Applied;
        }
        if any_applied || self.interrupted.is_some() {
            return PlanStatus::Applying;
        }
        if approved {
            PlanStatus::Approved
        } else {
            PlanStatus::Proposed
        }
    }
}

/// Why an approval was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    #[error(
        "{0} asked for this plan and cannot approve it too: it needs another person (four eyes)"
    )]
    OwnApproval(String),
    #[error("{0} has already decided on this plan")]
    AlreadyDecided(String),
    #[error("the plan is {0}; only a proposed plan can be approved or rejected")]
    NotProposed(PlanStatus),
    #[error("`{0}` is not an email address: decisions are made by named people")]
    NotAPerson(String),
}

/// The approvals a plan has, counted as the policy counts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approvals {
    pub approvers: BTreeSet<String>,
    pub rejected_by: Option<String>,
    pub waived: bool,
    pub required: u8,
}

impl Approvals {
    pub fn of(decisions: &[Decision], required: u8) -> Approvals {
        let mut a = Approvals {
            approvers: BTreeSet::new(),
            rejected_by: None,
            waived: false,
            required,
        };
        for d in decisions {
            if d.waived {
                a.waived = true;
            } else if d.approve {
                a.approvers.insert(d.by.to_ascii_lowercase());
            } else if a.rejected_by.is_none() {
                a.rejected_by = Some(d.by.clone());
            }
        }
        a
    }

    pub fn approved(&self) -> bool {
        self.rejected_by.is_none()
            && (self.waived || self.approvers.len() >= usize::from(self.required))
    }

    /// Whether `by` may record a decision on `plan` now.
    pub fn may_decide(
        &self,
        plan: &Plan,
        status: PlanStatus,
        by: &str,
    ) -> Result<(), ApprovalError> {
        if !by.contains('@') {
            return Err(ApprovalError::NotAPerson(by.to_string()));
        }
        if status != PlanStatus::Proposed {
            return Err(ApprovalError::NotProposed(status));
        }
        if by.eq_ignore_ascii_case(&plan.content.requested_by) {
            return Err(ApprovalError::OwnApproval(by.to_string()));
        }
        if self.approvers.contains(&by.to_ascii_lowercase()) {
            return Err(ApprovalError::AlreadyDecided(by.to_string()));
        }
        Ok(())
    }
}

/// The calls that undo the applied steps, last applied first.
pub fn undo_order(plan: &Plan, progress: &Progress) -> Vec<usize> {
    let mut steps: Vec<usize> = progress.applied().collect();
    steps.reverse();
    steps.retain(|i| {
        plan.content
            .steps
            .get(*i)
            .is_some_and(|s| !matches!(s.call, Call::Manual(_)))
    });
    steps
}

/// What a call changes or an expectation is about: an expectation is checked before a plan
/// starts unless an earlier step of the same plan changes its subject (then it describes the
/// state that step leaves, and is checked just before its own step).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Subject<'a> {
    Key(&'a str, &'a str),
    KeySlots(&'a str),
    Login(&'a str),
    Attached(&'a Principal, &'a str),
    Inline(&'a Principal, &'a str),
    Boundary(&'a Principal),
    Group(&'a str, &'a str),
    Profile(&'a str, &'a str),
    Exists(&'a Principal),
    Nothing,
}

fn subjects_of_call(call: &AwsCall) -> Vec<Subject<'_>> {
    use AwsCall as C;
    match call {
        C::CreateAccessKeyIntoSecret { user, .. } => vec![Subject::KeySlots(user)],
        C::SetAccessKeyStatus { user, key, .. } => match key {
            KeyRef::Id(id) => vec![Subject::Key(user, id)],
            KeyRef::CreatedByStep(_) => Vec::new(),
        },
        C::DeleteAccessKey { user, key } => match key {
            KeyRef::Id(id) => vec![Subject::Key(user, id), Subject::KeySlots(user)],
            KeyRef::CreatedByStep(_) => vec![Subject::KeySlots(user)],
        },
        C::DeleteLoginProfile { user } => vec![Subject::Login(user)],
        C::AttachPolicy {
            principal,
            policy_arn,
        }
        | C::DetachPolicy {
            principal,
            policy_arn,
        } => vec![Subject::Attached(principal, policy_arn)],
        C::PutInlinePolicy {
            principal, name, ..
        }
        | C::DeleteInlinePolicy { principal, name } => vec![Subject::Inline(principal, name)],
        C::PutPermissionsBoundary { principal, .. }
        | C::DeletePermissionsBoundary { principal } => {
            vec![Subject::Boundary(principal)]
        }
        C::AddUserToGroup { user, group } | C::RemoveUserFromGroup { user, group } => {
            vec![Subject::Group(user, group)]
        }
        C::AddRoleToInstanceProfile { role, profile }
        | C::RemoveRoleFromInstanceProfile { role, profile } => {
            vec![Subject::Profile(role, profile)]
        }
        C::AwaitKeyUse { .. } | C::RestoreSecretVersion { .. } => vec![Subject::Nothing],
        // Deleting a principal is last in every plan; nothing after it expects anything of it.
        C::DeleteUser { .. } | C::DeleteRole { .. } => vec![Subject::Nothing],
    }
}

fn subject_of_expect(expect: &Expect) -> Subject<'_> {
    match expect {
        Expect::AccessKey { user, key, .. } => Subject::Key(user, key),
        Expect::KeySlotFree { user } => Subject::KeySlots(user),
        Expect::LoginProfile { user, .. } => Subject::Login(user),
        Expect::PolicyAttached {
            principal,
            policy_arn,
            ..
        } => Subject::Attached(principal, policy_arn),
        Expect::InlinePolicy {
            principal, name, ..
        } => Subject::Inline(principal, name),
        Expect::Boundary { principal, .. } => Subject::Boundary(principal),
        Expect::GroupMember { user, group, .. } => Subject::Group(user, group),
        Expect::InstanceProfileRole { role, profile, .. } => Subject::Profile(role, profile),
        Expect::Exists { principal } => Subject::Exists(principal),
    }
}

/// The expectations to check before applying anything more: those of the steps still to go
/// that no earlier step still to go changes.
pub fn expectations_to_check<'p>(plan: &'p Plan, progress: &Progress) -> Vec<(usize, &'p Expect)> {
    let mut changed: Vec<Subject<'p>> = Vec::new();
    let mut out = Vec::new();
    for (i, step) in plan.content.steps.iter().enumerate() {
        if progress.outputs.get(i).is_some_and(Option::is_some) {
            continue;
        }
        // An interrupted step may have taken effect: its expectations no longer describe now.
        if progress.interrupted.is_none_or(|(s, _)| s != i) {
            for e in &step.expect {
                if !changed.contains(&subject_of_expect(e)) {
                    out.push((i, e));
                }
            }
        }
        if let Call::Aws(call) = &step.call {
            changed.extend(subjects_of_call(call));
        }
    }
    out
}

/// Where the journal goes (the store, in the application).
pub trait Journal {
    type Error: std::error::Error + Send + Sync + 'static;
    fn record(
        &mut self,
        record: StepRecord,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// The time and the pace of an apply: the application gives the clock and a rate limit.
pub trait Pace {
    fn now(&self) -> Timestamp;
    /// Called before each provider call after the first.
    fn wait(&self) -> impl Future<Output = ()> + Send;
}

/// An expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    pub step: usize,
    pub expected: String,
    pub found: String,
}

/// How an apply or rollback ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// Every step is applied (now or before: applying again changes nothing).
    Applied,
    /// Stopped at a wait; apply again later.
    Waiting { step: usize, reason: String },
    /// The provider no longer looks as the plan expects: nothing more was changed.
    Refused { drift: Vec<Drift> },
    /// A call failed; the steps before it are applied (see the journal), the rest not.
    Failed { step: usize, error: String },
    /// Every applied step that can be undone is undone; `irreversible` lists those that cannot.
    RolledBack { irreversible: Vec<usize> },
    /// Undoing a step failed; what was undone before it stays undone.
    RollbackFailed { step: usize, error: String },
    /// Checked only (dry run): this is what applying would do.
    WouldApply { steps: Vec<usize> },
}

/// What a run did, step by step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunReport {
    pub outcome: Outcome,
    /// Steps applied (or undone) by this run, in order, with their notes.
    pub done: Vec<(usize, Option<String>)>,
}

/// A run could not go on because the journal could not be written: the last call made may not
/// be recorded, so the next apply treats its step as interrupted.
#[derive(Debug, thiserror::Error)]
#[error("recording step {step}: {source}")]
pub struct JournalError<E: std::error::Error + 'static> {
    pub step: usize,
    #[source]
    pub source: E,
}

async fn check_all<E: Executor>(
    executor: &E,
    expectations: &[(usize, &Expect)],
) -> Result<Vec<Drift>, (usize, E::Error)> {
    let mut drift = Vec::new();
    for (step, e) in expectations {
        match executor.check(e).await {
            Ok(Check::Holds) => {}
            Ok(Check::Drift(found)) => drift.push(Drift {
                step: *step,
                expected: e.to_string(),
                found,
            }),
            Err(err) => return Err((*step, err)),
        }
    }
    Ok(drift)
}

fn record(step: usize, direction: Direction, state: StepState, at: Timestamp) -> StepRecord {
    StepRecord {
        step,
        direction,
        state,
        at,
        output: None,
        error: None,
    }
}

/// Applies what is left of an approved plan: checks every expectation first (refusing on any
/// drift, having changed nothing), then each step in order, re-checking its own expectations
/// just before it, recording it as started and then as done. Stops at a wait, at drift found
/// between steps, or at the first failure. `dry_run` checks and reports only.
pub async fn run<E: Executor, J: Journal, P: Pace>(
    plan: &Plan,
    journal_so_far: &[StepRecord],
    executor: &E,
    journal: &mut J,
    pace: &P,
    dry_run: bool,
) -> Result<RunReport, JournalError<J::Error>> {
    let mut records: Vec<StepRecord> = journal_so_far.to_vec();
    let mut progress = Progress::of(plan, &records);
    let mut done = Vec::new();
    if progress.next().is_none() {
        return Ok(RunReport {
            outcome: Outcome::Applied,
            done,
        });
    }
    let expectations = expectations_to_check(plan, &progress);
    match check_all(executor, &expectations).await {
        Ok(drift) if !drift.is_empty() => {
            return Ok(RunReport {
                outcome: Outcome::Refused { drift },
                done,
            });
        }
        Ok(_) => {}
        Err((step, err)) => {
            return Ok(RunReport {
                outcome: Outcome::Failed {
                    step,
                    error: format!("checking the provider: {err}"),
                },
                done,
            });
        }
    }
    if dry_run {
        let steps = (0..plan.content.steps.len())
            .filter(|i| progress.outputs.get(*i).is_some_and(Option::is_none))
            .collect();
        return Ok(RunReport {
            outcome: Outcome::WouldApply { steps },
            done,
        });
    }
    let mut first = true;
    while let Some(i) = progress.next() {
        let Some(step) = plan.content.steps.get(i) else {
            break;
        };
        let resumed = progress
            .interrupted
            .is_some_and(|(s, d)| s == i && d == Direction::Apply)
            || progress.waiting.as_ref().is_some_and(|(s, _)| *s == i);
        if !first {
            pace.wait().await;
        }
        first = false;
        if !resumed {
            let own: Vec<(usize, &Expect)> = step.expect.iter().map(|e| (i, e)).collect();
            match check_all(executor, &own).await {
                Ok(drift) if !drift.is_empty() => {
                    return Ok(RunReport {
                        outcome: Outcome::Refused { drift },
                        done,
                    });
                }
                Ok(_) => {}
                Err((step, err)) => {
                    return Ok(RunReport {
                        outcome: Outcome::Failed {
                            step,
                            error: format!("checking the provider: {err}"),
                        },
                        done,
                    });
                }
            }
        }
        let started = record(i, Direction::Apply, StepState::Started, pace.now());
        journal
            .record(started.clone())
            .await
            .map_err(|source| JournalError { step: i, source })?;
        let result = match &step.call {
            Call::Aws(call) => {
                let first_started = records
                    .iter()
                    .find(|r| {
                        r.step == i
                            && r.direction == Direction::Apply
                            && r.state == StepState::Started
                    })
                    .map(|r| r.at);
                let ctx = StepContext {
                    outputs: &progress.outputs,
                    now: pace.now(),
                    resumed,
                    started: if resumed { first_started } else { None },
                };
                executor.apply(call, ctx).await
            }
            // Written out for a person: applying hands it over, the report shows it.
            Call::Manual(m) => Ok(Applied::Done(StepOutput {
                note: Some(format!("for a person to do ({}): {}", m.system, m.summary)),
                ..StepOutput::default()
            })),
        };
        let mut finished = record(i, Direction::Apply, StepState::Done, pace.now());
        let outcome = match result {
            Ok(Applied::Done(output)) => {
                done.push((i, output.note.clone()));
                finished.output = Some(output);
                None
            }
            Ok(Applied::Waiting(reason)) => {
                finished.state = StepState::Waiting;
                finished.error = Some(reason.clone());
                Some(Outcome::Waiting { step: i, reason })
            }
            Err(err) => {
                finished.state = StepState::Failed;
                finished.error = Some(err.to_string());
                Some(Outcome::Failed {
                    step: i,
                    error: err.to_string(),
                })
            }
        };
        journal
            .record(finished.clone())
            .await
            .map_err(|source| JournalError { step: i, source })?;
        records.push(started);
        records.push(finished);
        progress = Progress::of(plan, &records);
        if let Some(outcome) = outcome {
            return Ok(RunReport { outcome, done });
        }
    }
    Ok(RunReport {
        outcome: Outcome::Applied,
        done,
    })
}

/// Undoes the applied steps, last first. A step that cannot be undone (a deleted key) is left
/// and named in the outcome; a step with nothing to undo (a wait) is marked undone. Stops at the
/// first undo call that fails; running it again goes on from there.
pub async fn rollback<E: Executor, J: Journal, P: Pace>(
    plan: &Plan,
    journal_so_far: &[StepRecord],
    executor: &E,
    journal: &mut J,
    pace: &P,
) -> Result<RunReport, JournalError<J::Error>> {
    let progress = Progress::of(plan, journal_so_far);
    let mut done = Vec::new();
    let mut irreversible = Vec::new();
    let mut first = true;
    for i in undo_order(plan, &progress) {
        let Some(step) = plan.content.steps.get(i) else {
            continue;
        };
        if !step.reversible {
            irreversible.push(i);
            continue;
        }
        let resumed = progress
            .interrupted
            .is_some_and(|(s, d)| s == i && d == Direction::Undo);
        journal
            .record(record(i, Direction::Undo, StepState::Started, pace.now()))
            .await
            .map_err(|source| JournalError { step: i, source })?;
        let mut notes = Vec::new();
        let mut failure = None;
        for call in &step.undo {
            let Call::Aws(call) = call else { continue };
            if !first {
                pace.wait().await;
            }
            first = false;
            let ctx = StepContext {
                outputs: &progress.outputs,
                now: pace.now(),
                resumed,
                started: None,
            };
            match executor.apply(call, ctx).await {
                Ok(Applied::Done(output)) => notes.extend(output.note),
                Ok(Applied::Waiting(reason)) => notes.push(reason),
                Err(err) => {
                    failure = Some(err.to_string());
                    break;
                }
            }
        }
        let mut finished = record(i, Direction::Undo, StepState::Done, pace.now());
        if let Some(error) = failure {
            finished.state = StepState::Failed;
            finished.error = Some(error.clone());
            journal
                .record(finished)
                .await
                .map_err(|source| JournalError { step: i, source })?;
            return Ok(RunReport {
                outcome: Outcome::RollbackFailed { step: i, error },
                done,
            });
        }
        let note = (!notes.is_empty()).then(|| notes.join("; "));
        finished.output = Some(StepOutput {
            note: note.clone(),
            ..StepOutput::default()
        });
        journal
            .record(finished)
            .await
            .map_err(|source| JournalError { step: i, source })?;
        done.push((i, note));
    }
    irreversible.sort_unstable();
    Ok(RunReport {
        outcome: Outcome::RolledBack { irreversible },
        done,
    })
}
