#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
#![allow(
    clippy::indexing_slicing,
    reason = "tests, examples and benchmarks index their own data"
)]
//! Plans, applying and rolling back, against a model of an IAM account held in memory. The model
//! is not AWS (that is `warrant-aws-write`'s moto tests); it lets property tests apply thousands
//! of generated plans, fail them at any step and interrupt them anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::sync::Mutex;

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;
use warrant_core::{
    Attachment, Credential, CredentialKind, Effect, Identity, IdentityKind, InteractiveLogin,
    Policy, PolicyKind, Provider, Statement, Timestamp,
};
use warrant_lifecycle::apply::{self, Journal, Outcome, Pace};
use warrant_lifecycle::propose::{self, QUARANTINE_POLICY, Request, Subject};
use warrant_lifecycle::{
    Action, Applied, Approvals, AwsCall, Call, Check, Decision, Direction, Executor, Expect,
    KeyRef, Plan, PlanFileError, PlanStatus, Principal, Progress, StepContext, StepOutput,
    StepRecord,
};

fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Key {
    active: bool,
    created: Timestamp,
    used: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Holder {
    exists: bool,
    keys: BTreeMap<String, Key>,
    login: bool,
    attached: BTreeSet<String>,
    inline: BTreeMap<String, String>,
    boundary: Option<String>,
    groups: BTreeSet<String>,
    profiles: BTreeSet<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct State {
    users: BTreeMap<String, Holder>,
    roles: BTreeMap<String, Holder>,
    /// Secret → (versions in order, current version index).
    secrets: BTreeMap<String, (Vec<String>, usize)>,
    next_key: u32,
}

/// An IAM account in memory, failing the `fail_at`-th write when asked to.
struct Sim {
    state: Mutex<State>,
    writes: Mutex<usize>,
    fail_at: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct SimError(String);

impl Sim {
    fn new(state: State) -> Sim {
        Sim {
            state: Mutex::new(state),
            writes: Mutex::new(0),
            fail_at: None,
        }
    }
    fn state(&self) -> State {
        self.state.lock().unwrap().clone()
    }
}

fn holder<'a>(s: &'a mut State, p: &Principal) -> Option<&'a mut Holder> {
    match p {
        Principal::User(n) => s.users.get_mut(n),
        Principal::Role(n) => s.roles.get_mut(n),
    }
    .filter(|h| h.exists)
}

fn resolve(key: &KeyRef, outputs: &[Option<StepOutput>]) -> Result<String, SimError> {
    match key {
        KeyRef::Id(id) => Ok(id.clone()),
        KeyRef::CreatedByStep(i) => outputs
            .get(*i)
            .and_then(|o| o.as_ref())
            .and_then(|o| o.access_key_id.clone())
            .ok_or_else(|| SimError(format!("step {i} created no key"))),
    }
}

impl Executor for Sim {
    type Error = SimError;

    async fn check(&self, expect: &Expect) -> Result<Check, SimError> {
        let mut s = self.state.lock().unwrap();
        let found = |ok: bool, what: &str| {
            if ok {
                Check::Holds
            } else {
                Check::Drift(what.to_string())
            }
        };
        Ok(match expect {
            Expect::AccessKey {
                user, key, active, ..
            } => match holder(&mut s, &Principal::User(user.clone())).and_then(|h| h.keys.get(key))
            {
                Some(k) => found(k.active == *active, "status differs"),
                None => Check::Drift(format!("key {key} no longer exists")),
            },
            Expect::KeySlotFree { user } => found(
                holder(&mut s, &Principal::User(user.clone())).is_some_and(|h| h.keys.len() < 2),
                "two keys",
            ),
            Expect::LoginProfile { user, present } => found(
                holder(&mut s, &Principal::User(user.clone())).is_some_and(|h| h.login == *present),
                "login differs",
            ),
            Expect::PolicyAttached {
                principal,
                policy_arn,
                attached,
            } => found(
                holder(&mut s, principal)
                    .is_some_and(|h| h.attached.contains(policy_arn) == *attached),
                "attachment differs",
            ),
            Expect::InlinePolicy {
                principal,
                name,
                present,
            } => found(
                holder(&mut s, principal).is_some_and(|h| h.inline.contains_key(name) == *present),
                "inline differs",
            ),
            Expect::Boundary {
                principal,
                policy_arn,
            } => found(
                holder(&mut s, principal).is_some_and(|h| &h.boundary == policy_arn),
                "boundary differs",
            ),
            Expect::GroupMember {
                user,
                group,
                member,
            } => found(
                holder(&mut s, &Principal::User(user.clone()))
                    .is_some_and(|h| h.groups.contains(group) == *member),
                "membership differs",
            ),
            Expect::InstanceProfileRole {
                role,
                profile,
                present,
            } => found(
                holder(&mut s, &Principal::Role(role.clone()))
                    .is_some_and(|h| h.profiles.contains(profile) == *present),
                "profile differs",
            ),
            Expect::Exists { principal } => found(holder(&mut s, principal).is_some(), "absent"),
        })
    }

    async fn apply(&self, call: &AwsCall, ctx: StepContext<'_>) -> Result<Applied, SimError> {
        {
            let mut writes = self.writes.lock().unwrap();
            *writes += 1;
            if self.fail_at == Some(*writes) {
                return Err(SimError(format!("injected failure at write {}", *writes)));
            }
        }
        let mut s = self.state.lock().unwrap();
        let mut out = StepOutput::default();
        let missing = |what: &str| SimError(format!("NoSuchEntity: {what}"));
        match call {
            AwsCall::CreateAccessKeyIntoSecret { user, secret } => {
                // As the AWS executor does: an interrupted step whose key reached the secret
                // took effect.
                if ctx.resumed
                    && let Some((versions, current)) = s.secrets.get(secret)
                    && let Some(id) = versions.get(*current).cloned()
                    && s.users.get(user).is_some_and(|h| h.keys.contains_key(&id))
                {
                    out.previous_secret_version = current.checked_sub(1).map(|v| format!("v{v}"));
                    out.secret_version = Some(format!("v{current}"));
                    out.access_key_id = Some(id);
                    out.key_created = Some(ctx.now);
                    return Ok(Applied::Done(out));
                }
                s.next_key += 1;
                let id = format!("AKIANEW{:013}", s.next_key);
                let h =
                    holder(&mut s, &Principal::User(user.clone())).ok_or_else(|| missing(user))?;
                if h.keys.len() >= 2 {
                    return Err(SimError("LimitExceeded".into()));
                }
                h.keys.insert(
                    id.clone(),
                    Key {
                        active: true,
                        created: ctx.now,
                        used: false,
                    },
                );
                let entry = s.secrets.entry(secret.clone()).or_default();
                out.previous_secret_version =
                    (!entry.0.is_empty()).then(|| format!("v{}", entry.1));
                entry.0.push(id.clone());
                entry.1 = entry.0.len() - 1;
                out.secret_version = Some(format!("v{}", entry.1));
                out.access_key_id = Some(id);
                out.key_created = Some(ctx.now);
            }
            AwsCall::AwaitKeyUse {
                user,
                key,
                grace_hours,
            } => {
                let id = resolve(key, ctx.outputs)?;
                let h =
                    holder(&mut s, &Principal::User(user.clone())).ok_or_else(|| missing(user))?;
                let k = h.keys.get(&id).ok_or_else(|| missing(&id))?;
                if !(k.used || ctx.now - k.created >= Duration::hours(i64::from(*grace_hours))) {
                    return Ok(Applied::Waiting(format!("{id} not used yet")));
                }
            }
            AwsCall::SetAccessKeyStatus { user, key, active } => {
                let id = resolve(key, ctx.outputs)?;
                let h =
                    holder(&mut s, &Principal::User(user.clone())).ok_or_else(|| missing(user))?;
                h.keys.get_mut(&id).ok_or_else(|| missing(&id))?.active = *active;
            }
            AwsCall::DeleteAccessKey { user, key } => {
                let id = resolve(key, ctx.outputs)?;
                let h =
                    holder(&mut s, &Principal::User(user.clone())).ok_or_else(|| missing(user))?;
                h.keys.remove(&id);
            }
            AwsCall::RestoreSecretVersion { secret, step } => {
                let previous = ctx
                    .outputs
                    .get(*step)
                    .and_then(|o| o.as_ref())
                    .and_then(|o| o.previous_secret_version.clone());
                match previous {
                    Some(v) => {
                        let entry = s.secrets.get_mut(secret).ok_or_else(|| missing(secret))?;
                        entry.1 = v.trim_start_matches('v').parse().unwrap();
                    }
                    None => {
                        s.secrets.remove(secret);
                    }
                }
            }
            AwsCall::DeleteLoginProfile { user } => {
                holder(&mut s, &Principal::User(user.clone()))
                    .ok_or_else(|| missing(user))?
                    .login = false;
            }
            AwsCall::AttachPolicy {
                principal,
                policy_arn,
            } => {
                holder(&mut s, principal)
                    .ok_or_else(|| missing(principal.name()))?
                    .attached
                    .insert(policy_arn.clone());
            }
            AwsCall::DetachPolicy {
                principal,
                policy_arn,
            } => {
                holder(&mut s, principal)
                    .ok_or_else(|| missing(principal.name()))?
                    .attached
                    .remove(policy_arn);
            }
            AwsCall::PutInlinePolicy {
                principal,
                name,
                document,
            } => {
                holder(&mut s, principal)
                    .ok_or_else(|| missing(principal.name()))?
                    .inline
                    .insert(name.clone(), document.clone());
            }
            AwsCall::DeleteInlinePolicy { principal, name } => {
                holder(&mut s, principal)
                    .ok_or_else(|| missing(principal.name()))?
                    .inline
                    .remove(name);
            }
            AwsCall::PutPermissionsBoundary {
                principal,
                policy_arn,
            } => {
                holder(&mut s, principal)
                    .ok_or_else(|| missing(principal.name()))?
                    .boundary = Some(policy_arn.clone());
            }
            AwsCall::DeletePermissionsBoundary { principal } => {
                holder(&mut s, principal)
                    .ok_or_else(|| missing(principal.name()))?
                    .boundary = None;
            }
            AwsCall::AddUserToGroup { user, group } => {
                holder(&mut s, &Principal::User(user.clone()))
                    .ok_or_else(|| missing(user))?
                    .groups
                    .insert(group.clone());
            }
            AwsCall::RemoveUserFromGroup { user, group } => {
                holder(&mut s, &Principal::User(user.clone()))
                    .ok_or_else(|| missing(user))?
                    .groups
                    .remove(group);
            }
            AwsCall::AddRoleToInstanceProfile { role, profile } => {
                holder(&mut s, &Principal::Role(role.clone()))
                    .ok_or_else(|| missing(role))?
                    .profiles
                    .insert(profile.clone());
            }
            AwsCall::RemoveRoleFromInstanceProfile { role, profile } => {
                holder(&mut s, &Principal::Role(role.clone()))
                    .ok_or_else(|| missing(role))?
                    .profiles
                    .remove(profile);
            }
            AwsCall::DeleteUser { user } => {
                let Some(h) = holder(&mut s, &Principal::User(user.clone())) else {
                    return Ok(Applied::Done(out));
                };
                if !(h.keys.is_empty()
                    && h.attached.is_empty()
                    && h.inline.is_empty()
                    && h.groups.is_empty()
                    && !h.login)
                {
                    return Err(SimError(
                        "DeleteConflict: user still has attachments".into(),
                    ));
                }
                h.exists = false;
            }
            AwsCall::DeleteRole { role } => {
                let Some(h) = holder(&mut s, &Principal::Role(role.clone())) else {
                    return Ok(Applied::Done(out));
                };
                if !(h.attached.is_empty() && h.inline.is_empty() && h.profiles.is_empty()) {
                    return Err(SimError(
                        "DeleteConflict: role still has attachments".into(),
                    ));
                }
                h.exists = false;
            }
        }
        Ok(Applied::Done(out))
    }
}

#[derive(Default)]
struct Memory(Vec<StepRecord>);

impl Journal for Memory {
    type Error = Infallible;
    async fn record(&mut self, record: StepRecord) -> Result<(), Infallible> {
        self.0.push(record);
        Ok(())
    }
}

struct Clock(Timestamp);

impl Pace for Clock {
    fn now(&self) -> Timestamp {
        self.0
    }
    async fn wait(&self) {}
}

/// One user or role, as an import of the state would show it.
struct Seed {
    identity: Identity,
    credentials: Vec<Credential>,
    attachments: Vec<Attachment>,
    policies: Vec<Policy>,
}

impl Seed {
    fn run<T>(&self, f: impl FnOnce(Subject<'_>) -> T) -> T {
        let creds: Vec<&Credential> = self.credentials.iter().collect();
        let attachments: Vec<(&Attachment, Option<&Policy>)> = self
            .attachments
            .iter()
            .map(|a| (a, self.policies.iter().find(|p| p.id == a.policy)))
            .collect();
        f(Subject {
            identity: &self.identity,
            credentials: &creds,
            attachments: &attachments,
        })
    }
}

fn seed_of(state: &State, role: bool, name: &str) -> Seed {
    let h = if role {
        &state.roles[name]
    } else {
        &state.users[name]
    };
    let arn = format!(
        "arn:aws:iam::111122223333:{}/{name}",
        if role { "role" } else { "user" }
    );
    let mut identity = Identity::new(
        arn.clone(),
        if role {
            IdentityKind::AwsRole
        } else {
            IdentityKind::AwsUser
        },
        Provider::Aws,
        name,
    );
    if h.login {
        identity.login = Some(InteractiveLogin {
            password_enabled: true,
            password_last_used: None,
            password_last_changed: None,
            mfa_active: false,
        });
    }
    if !h.groups.is_empty() {
        identity.attributes.insert(
            "groups".into(),
            serde_json::Value::from(h.groups.iter().cloned().collect::<Vec<_>>()),
        );
    }
    if !h.profiles.is_empty() {
        identity.attributes.insert(
            "instance_profiles".into(),
            serde_json::Value::from(h.profiles.iter().cloned().collect::<Vec<_>>()),
        );
    }
    if let Some(b) = &h.boundary {
        identity.attributes.insert(
            "permissions_boundary".into(),
            serde_json::Value::String(b.clone()),
        );
    }
    identity
        .tags
        .insert("warrant:secret".into(), format!("svc/{name}"));
    let credentials = h
        .keys
        .iter()
        .map(|(id, k)| {
            let mut c = Credential::new(id.clone(), arn.clone(), CredentialKind::AccessKey);
            c.active = k.active;
            c.created = Some(k.created);
            c
        })
        .collect();
    let mut attachments = Vec::new();
    let mut policies = Vec::new();
    for a in &h.attached {
        attachments.push(Attachment {
            identity: arn.clone(),
            policy: a.clone(),
            via: None,
            scope: None,
        });
    }
    for n in h.inline.keys() {
        let id = format!("{arn}#inline/{n}");
        attachments.push(Attachment {
            identity: arn.clone(),
            policy: id.clone(),
            via: None,
            scope: None,
        });
        policies.push(Policy {
            id,
            name: n.clone(),
            provider: Provider::Aws,
            kind: PolicyKind::Inline,
            statements: vec![Statement {
                sid: None,
                effect: Effect::Allow,
                actions: vec![format!("s3:Get{n}")],
                not_actions: Vec::new(),
                resources: vec!["*".into()],
                not_resources: Vec::new(),
                conditions: None,
            }],
            provenance: Default::default(),
        });
    }
    Seed {
        identity,
        credentials,
        attachments,
        policies,
    }
}

/// The inline documents the inventory would reconstruct: what the sim stores must match what
/// `policy_document` writes back, or a rollback would "restore" a different policy.
fn normalise(state: &mut State, seed_docs: &Seed, role: bool, name: &str) {
    let h = if role {
        state.roles.get_mut(name).unwrap()
    } else {
        state.users.get_mut(name).unwrap()
    };
    for p in &seed_docs.policies {
        if let Some(doc) = h.inline.get_mut(&p.name) {
            *doc = propose::policy_document(&p.statements);
        }
    }
}

fn holder_strategy(role: bool) -> impl Strategy<Value = Holder> {
    (
        0usize..=2,
        any::<[bool; 2]>(),
        any::<bool>(),
        proptest::collection::btree_set("[a-c]", 0..3),
        proptest::collection::btree_set("[a-c]", 0..3),
        proptest::option::of("[xy]"),
        proptest::collection::btree_set("[a-c]", 0..3),
    )
        .prop_map(
            move |(n_keys, active, login, attached, inline, boundary, extra)| {
                let keys = (0..n_keys)
                    .map(|i| {
                        (
                            format!("AKIAOLD{i:013}"),
                            Key {
                                active: active[i],
                                created: t0() - Duration::days(400 + i as i64),
                                used: true,
                            },
                        )
                    })
                    .collect();
                Holder {
                    exists: true,
                    keys: if role { BTreeMap::new() } else { keys },
                    login: login && !role,
                    attached: attached
                        .into_iter()
                        .map(|a| format!("arn:aws:iam::aws:policy/P{a}"))
                        .collect(),
                    inline: inline
                        .into_iter()
                        .map(|n| (n.clone(), String::new()))
                        .collect(),
                    boundary: boundary.map(|b| format!("arn:aws:iam::111122223333:policy/B{b}")),
                    groups: if role { BTreeSet::new() } else { extra.clone() },
                    profiles: if role { extra } else { BTreeSet::new() },
                }
            },
        )
}

fn action_strategy() -> impl Strategy<Value = Action> {
    prop::sample::select(Action::ALL.to_vec())
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

/// A generated account, one identity in it, and the plan an action gives (when it gives one).
fn setup(role: bool, holder: Holder, action: Action) -> Option<(State, Plan)> {
    let mut state = State::default();
    let name = "svc".to_string();
    if role {
        state.roles.insert(name.clone(), holder);
    } else {
        state.users.insert(name.clone(), holder);
    }
    state
        .secrets
        .insert(format!("svc/{name}"), (vec!["seed".into()], 0));
    let seed = seed_of(&state, role, &name);
    normalise(&mut state, &seed, role, &name);
    let mut request = Request::new(action, "ada@acme.example", t0());
    request.grace_hours = 0;
    request.policy = match action {
        Action::AddBoundary => Some("arn:aws:iam::111122223333:policy/Bz".into()),
        _ => seed
            .attachments
            .first()
            .map(|a| a.policy.rsplit("#inline/").next().unwrap().to_string()),
    };
    request.document = Some(r#"{"Version":"2012-10-17","Statement":[]}"#.into());
    let plan = seed
        .run(|subject| propose::propose(subject, &request))
        .ok()?;
    Some((state, plan))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Every proposed plan is valid, survives its file form, and applying it twice leaves the
    /// account as applying it once.
    #[test]
    fn applying_twice_equals_applying_once(
        role in any::<bool>(),
        holder in any::<bool>().prop_flat_map(holder_strategy),
        action in action_strategy(),
    ) {
        let Some((state, plan)) = setup(role, holder, action) else { return Ok(()) };
        prop_assert!(plan.validate().is_ok(), "{:?}", plan.validate());
        let text = serde_json::to_string_pretty(&plan).unwrap();
        prop_assert_eq!(Plan::from_json(&text, "plan.json").unwrap(), plan.clone());

        let sim = Sim::new(state);
        let mut journal = Memory::default();
        let clock = Clock(t0());
        let first = block_on(apply::run(&plan, &[], &sim, &mut journal, &clock, false)).unwrap();
        prop_assert_eq!(&first.outcome, &Outcome::Applied, "{:#?}", plan);
        let once = sim.state();
        let so_far = journal.0.clone();
        let again = block_on(apply::run(&plan, &so_far, &sim, &mut journal, &clock, false)).unwrap();
        prop_assert_eq!(again.outcome, Outcome::Applied);
        prop_assert!(again.done.is_empty());
        prop_assert_eq!(sim.state(), once.clone());

        // Even with the journal lost, applying again changes nothing: the plan refuses (the
        // account no longer looks as it expects) or its calls find their effect in place.
        let fresh = block_on(apply::run(&plan, &[], &sim, &mut Memory::default(), &clock, false)).unwrap();
        let refused_or_no_change = matches!(fresh.outcome, Outcome::Refused { .. } | Outcome::Applied);
        prop_assert!(refused_or_no_change, "{:?}", fresh.outcome);
        prop_assert_eq!(anonymous(sim.state()), anonymous(once));
    }

    /// A plan failing at any step, then rolled back, leaves the account as it was before, when
    /// the failure came before the plan's first irreversible step.
    #[test]
    fn rollback_after_a_failed_step_restores_the_recorded_state(
        role in any::<bool>(),
        holder in any::<bool>().prop_flat_map(holder_strategy),
        action in action_strategy(),
        fail in 1usize..12,
    ) {
        let Some((state, plan)) = setup(role, holder, action) else { return Ok(()) };
        let first_irreversible = plan.content.steps.iter().position(|s| !s.reversible).unwrap_or(usize::MAX);
        let mut sim = Sim::new(state.clone());
        sim.fail_at = Some(fail);
        let mut journal = Memory::default();
        let clock = Clock(t0());
        let report = block_on(apply::run(&plan, &[], &sim, &mut journal, &clock, false)).unwrap();
        let Outcome::Failed { step, .. } = report.outcome else { return Ok(()) };
        let progress = Progress::of(&plan, &journal.0);
        prop_assert_eq!(progress.status(true, false), PlanStatus::Failed);
        if step > first_irreversible {
            return Ok(());
        }
        sim.fail_at = None;
        let so_far = journal.0.clone();
        let back = block_on(apply::rollback(&plan, &so_far, &sim, &mut journal, &clock)).unwrap();
        prop_assert_eq!(back.outcome, Outcome::RolledBack { irreversible: vec![] });
        prop_assert_eq!(anonymous(sim.state()), anonymous(state));
        let expected = if progress.applied().next().is_some() { PlanStatus::RolledBack } else { PlanStatus::Failed };
        prop_assert_eq!(Progress::of(&plan, &journal.0).status(true, false), expected);
    }

    /// An apply killed after recording a step as started — its call made or not — resumes to
    /// the same account as an apply never interrupted.
    #[test]
    fn an_interrupted_apply_resumes_to_the_same_end(
        role in any::<bool>(),
        holder in any::<bool>().prop_flat_map(holder_strategy),
        action in action_strategy(),
        cut in 0usize..10,
        call_made in any::<bool>(),
    ) {
        let Some((state, plan)) = setup(role, holder, action) else { return Ok(()) };
        let Some(step) = plan.content.steps.get(cut) else { return Ok(()) };
        let clock = Clock(t0());
        let whole = Sim::new(state.clone());
        let report = block_on(apply::run(&plan, &[], &whole, &mut Memory::default(), &clock, false)).unwrap();
        prop_assert_eq!(report.outcome, Outcome::Applied);

        // The process dies while recording how step `cut` ended: the journal holds its start.
        let mut sim = Sim::new(state);
        if !call_made && matches!(step.call, Call::Aws(_)) {
            let calls_before = plan.content.steps[..cut].iter().filter(|s| matches!(s.call, Call::Aws(_))).count();
            sim.fail_at = Some(calls_before + 1);
        }
        let mut crashing = Crashing { records: Vec::new(), crash_at: 2 * cut + 1 };
        let crashed = block_on(apply::run(&plan, &[], &sim, &mut crashing, &clock, false));
        prop_assert!(crashed.is_err());
        prop_assert_eq!(crashing.records.len(), 2 * cut + 1);
        prop_assert_eq!(Progress::of(&plan, &crashing.records).interrupted, Some((cut, Direction::Apply)));
        sim.fail_at = None;

        let kept = crashing.records.clone();
        let report = block_on(apply::run(&plan, &kept, &sim, &mut Memory(kept.clone()), &clock, false)).unwrap();
        prop_assert_eq!(report.outcome, Outcome::Applied);
        prop_assert_eq!(anonymous(sim.state()), anonymous(whole.state()));
    }
}

/// A journal whose process dies when asked to write record number `crash_at` (0-based).
struct Crashing {
    records: Vec<StepRecord>,
    crash_at: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("the process was killed")]
struct Killed;

impl Journal for Crashing {
    type Error = Killed;
    async fn record(&mut self, record: StepRecord) -> Result<(), Killed> {
        if self.records.len() == self.crash_at {
            return Err(Killed);
        }
        self.records.push(record);
        Ok(())
    }
}

/// The model names created keys by a counter; two runs that create keys at different moments
/// end with different names for the same thing.
fn anonymous(mut s: State) -> State {
    s.next_key = 0;
    for h in s.users.values_mut() {
        let keys = std::mem::take(&mut h.keys);
        h.keys = keys
            .into_iter()
            .map(|(id, k)| {
                (
                    if id.starts_with("AKIANEW") {
                        "AKIANEW".into()
                    } else {
                        id
                    },
                    k,
                )
            })
            .collect();
    }
    // Secrets Manager keeps every version; what a consumer reads is the current one.
    for v in s.secrets.values_mut() {
        let mut current = v.0.get(v.1).cloned().unwrap_or_default();
        if current.starts_with("AKIANEW") {
            current = "AKIANEW".into();
        }
        *v = (vec![current], 0);
    }
    s
}

fn user_state() -> State {
    let mut state = State::default();
    let mut h = Holder {
        exists: true,
        login: true,
        ..Holder::default()
    };
    h.keys.insert(
        "AKIAOLD0000000000001".into(),
        Key {
            active: true,
            created: t0() - Duration::days(400),
            used: true,
        },
    );
    h.attached
        .insert("arn:aws:iam::aws:policy/PowerUserAccess".into());
    h.groups.insert("deployers".into());
    state.users.insert("ci-deployer".into(), h);
    state
        .secrets
        .insert("svc/ci-deployer".into(), (vec!["seed".into()], 0));
    state
}

fn rotation() -> (State, Plan) {
    let state = user_state();
    let seed = seed_of(&state, false, "ci-deployer");
    let mut request = Request::new(Action::RotateKey, "ada@acme.example", t0());
    request.reason = "access-key-old".into();
    let plan = seed.run(|s| propose::propose(s, &request)).unwrap();
    (state, plan)
}

#[test]
fn a_rotation_creates_waits_deactivates_then_deletes() {
    let (_, plan) = rotation();
    let calls: Vec<&str> = plan
        .content
        .steps
        .iter()
        .map(|s| match &s.call {
            Call::Aws(c) => c.name(),
            Call::Manual(_) => "manual",
        })
        .collect();
    assert_eq!(
        calls,
        [
            "CreateAccessKey+PutSecretValue",
            "GetAccessKeyLastUsed (wait)",
            "UpdateAccessKey",
            "DeleteAccessKey"
        ]
    );
    assert!(plan.id.starts_with("plan-") && plan.id.len() == 21);
    assert!(!plan.reversible(), "deleting the old key cannot be undone");
    // Before anything is applied, the deletion's "old key inactive" is not checked: the step
    // before it makes it so.
    let checks = apply::expectations_to_check(&plan, &Progress::of(&plan, &[]));
    assert!(checks.iter().all(|(step, _)| *step < 3), "{checks:?}");
}

#[test]
fn a_rotation_waits_for_the_grace_period_then_resumes() {
    let (state, plan) = rotation();
    let sim = Sim::new(state);
    let mut journal = Memory::default();
    let report = block_on(apply::run(
        &plan,
        &[],
        &sim,
        &mut journal,
        &Clock(t0()),
        false,
    ))
    .unwrap();
    assert!(
        matches!(report.outcome, Outcome::Waiting { step: 1, .. }),
        "{report:?}"
    );
    assert_eq!(
        Progress::of(&plan, &journal.0).status(true, false),
        PlanStatus::Waiting
    );
    let so_far = journal.0.clone();
    let later = Clock(t0() + Duration::hours(25));
    let report = block_on(apply::run(
        &plan,
        &so_far,
        &sim,
        &mut journal,
        &later,
        false,
    ))
    .unwrap();
    assert_eq!(report.outcome, Outcome::Applied);
    let s = sim.state();
    let keys: Vec<&String> = s.users["ci-deployer"].keys.keys().collect();
    assert_eq!(keys.len(), 1);
    assert!(keys[0].starts_with("AKIANEW"));
    assert_eq!(s.secrets["svc/ci-deployer"].0.last(), Some(keys[0]));
}

#[test]
fn drift_refuses_before_anything_changes() {
    let (mut state, plan) = rotation();
    state
        .users
        .get_mut("ci-deployer")
        .unwrap()
        .keys
        .get_mut("AKIAOLD0000000000001")
        .unwrap()
        .active = false;
    let sim = Sim::new(state.clone());
    let report = block_on(apply::run(
        &plan,
        &[],
        &sim,
        &mut Memory::default(),
        &Clock(t0()),
        false,
    ))
    .unwrap();
    let Outcome::Refused { drift } = report.outcome else {
        panic!("{report:?}")
    };
    assert!(drift[0].expected.contains("AKIAOLD0000000000001"));
    assert_eq!(sim.state(), state, "nothing changed");
}

#[test]
fn a_dry_run_checks_and_changes_nothing() {
    let (state, plan) = rotation();
    let sim = Sim::new(state.clone());
    let mut journal = Memory::default();
    let report = block_on(apply::run(
        &plan,
        &[],
        &sim,
        &mut journal,
        &Clock(t0()),
        true,
    ))
    .unwrap();
    assert_eq!(
        report.outcome,
        Outcome::WouldApply {
            steps: vec![0, 1, 2, 3]
        }
    );
    assert!(journal.0.is_empty());
    assert_eq!(sim.state(), state);
}

#[test]
fn a_decommission_empties_the_user_before_deleting_it() {
    let state = user_state();
    let seed = seed_of(&state, false, "ci-deployer");
    let mut request = Request::new(Action::Decommission, "ada@acme.example", t0());
    request.deadline_days = Some(14);
    let plan = seed.run(|s| propose::propose(s, &request)).unwrap();
    assert_eq!(plan.content.deadline, Some(t0() + Duration::days(14)));
    let last = plan.content.steps.last().unwrap();
    assert!(matches!(last.call, Call::Aws(AwsCall::DeleteUser { .. })));
    let first_irreversible = plan
        .content
        .steps
        .iter()
        .position(|s| !s.reversible)
        .unwrap();
    assert!(
        plan.content.steps[first_irreversible..]
            .iter()
            .all(|s| !s.reversible),
        "what can be undone comes first"
    );
    let sim = Sim::new(state);
    let report = block_on(apply::run(
        &plan,
        &[],
        &sim,
        &mut Memory::default(),
        &Clock(t0()),
        false,
    ))
    .unwrap();
    assert_eq!(report.outcome, Outcome::Applied);
    assert!(!sim.state().users["ci-deployer"].exists);
}

#[test]
fn quarantine_rolls_back() {
    let state = user_state();
    let seed = seed_of(&state, false, "ci-deployer");
    let request = Request::new(Action::Quarantine, "ada@acme.example", t0());
    let plan = seed.run(|s| propose::propose(s, &request)).unwrap();
    let sim = Sim::new(state.clone());
    let mut journal = Memory::default();
    block_on(apply::run(
        &plan,
        &[],
        &sim,
        &mut journal,
        &Clock(t0()),
        false,
    ))
    .unwrap();
    assert!(
        sim.state().users["ci-deployer"]
            .inline
            .contains_key(QUARANTINE_POLICY)
    );
    let so_far = journal.0.clone();
    let report = block_on(apply::rollback(
        &plan,
        &so_far,
        &sim,
        &mut journal,
        &Clock(t0()),
    ))
    .unwrap();
    assert_eq!(
        report.outcome,
        Outcome::RolledBack {
            irreversible: vec![]
        }
    );
    assert_eq!(sim.state(), state);
    assert_eq!(
        Progress::of(&plan, &journal.0).status(true, false),
        PlanStatus::RolledBack
    );
}

#[test]
fn a_changed_plan_file_is_refused_and_a_malformed_one_named_with_its_line() {
    let (_, plan) = rotation();
    let text = serde_json::to_string_pretty(&plan).unwrap();
    let tampered = text.replace("\"grace_hours\": 24", "\"grace_hours\": 0");
    assert_ne!(tampered, text);
    match Plan::from_json(&tampered, "plan.json") {
        Err(PlanFileError::HashMismatch { claimed, .. }) => assert_eq!(claimed, plan.id),
        other => panic!("{other:?}"),
    }
    let broken = text.replacen("\"steps\"", "\"stepz\"", 1);
    match Plan::from_json(&broken, "plan.json") {
        Err(e @ PlanFileError::Malformed { line, .. }) => {
            assert!(line > 1);
            assert!(e.to_string().starts_with("plan.json: line "), "{e}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn four_eyes() {
    let (_, plan) = rotation();
    let approvals = Approvals::of(&[], 1);
    let status = Progress::of(&plan, &[]).status(approvals.approved(), false);
    assert_eq!(status, PlanStatus::Proposed);
    assert!(
        approvals
            .may_decide(&plan, status, "ADA@acme.example")
            .is_err()
    );
    assert!(approvals.may_decide(&plan, status, "ops-bot").is_err());
    assert!(
        approvals
            .may_decide(&plan, status, "bob@acme.example")
            .is_ok()
    );
    let decisions = [Decision {
        by: "bob@acme.example".into(),
        at: t0(),
        approve: true,
        reason: None,
        waived: false,
    }];
    let approvals = Approvals::of(&decisions, 2);
    assert!(!approvals.approved(), "this tier needs two people");
    assert!(
        approvals
            .may_decide(&plan, PlanStatus::Proposed, "bob@acme.example")
            .is_err()
    );
    let approvals = Approvals::of(&decisions, 1);
    assert!(approvals.approved());
    assert_eq!(
        Progress::of(&plan, &[]).status(approvals.approved(), false),
        PlanStatus::Approved
    );
}

#[test]
fn identities_no_sdk_reaches_get_their_change_written_out() {
    let mut identity = Identity::new(
        "github:acme/api/deploy-key/42",
        IdentityKind::GitHubDeployKey,
        Provider::GitHub,
        "ci key",
    );
    identity.account = Some("acme".into());
    let request = Request::new(Action::Decommission, "ada@acme.example", t0());
    let plan = propose::propose(
        Subject {
            identity: &identity,
            credentials: &[],
            attachments: &[],
        },
        &request,
    )
    .unwrap();
    let Call::Manual(m) = &plan.content.steps[0].call else {
        panic!()
    };
    assert!(
        m.instructions.contains("DELETE /repos/acme/api/keys/42"),
        "{}",
        m.instructions
    );
    let _ = Direction::Undo;
}
