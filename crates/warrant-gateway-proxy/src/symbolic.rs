//! `warrant gateway policy diff` with a solver: whether new policies can only narrow access,
//! decided by Cedar's symbolic compiler (`cedar-policy-symcc`) and the cvc5 SMT solver, run as a
//! child process (hence here, with the gateway's I/O, and not in the pure `warrant_gateway`).
//!
//! **What "narrows" means.** The gateway orders what it does with a call Deny < RequireApproval
//! < Allow; a change narrows when no call moves up. Two Cedar decisions capture that order (see
//! `warrant_gateway::policy`): the whole set allows a call *outright*; the set without its
//! `@approval` forbids allows it *outright or after approval*. So for every request environment
//! of the schema (agent, MCP method, target type) the solver is asked two implications, each
//! "every request the new set allows, the old allows":
//! 1. new ⇒ old over the whole sets: nothing newly allowed outright (this catches an approval
//!    dropped, Approval → Allow, and Deny → Allow);
//! 2. new ⇒ old over the sets without `@approval` forbids: nothing newly allowed or approvable
//!    (this catches Deny → RequireApproval, e.g. a forbid weakened to `@approval`).
//!
//! Together they say the new decision is never above the old one.
//!
//! **Failing closed.** Cedar skips a policy whose evaluation errors; the gateway denies when a
//! *forbid* errors. The solver reasons with Cedar's semantics, so a proof also needs every old
//! forbid to never error (asked too): otherwise a call the old set denied by a failing forbid
//! could be allowed by the new one without the implication noticing. New forbids failing only
//! deny more. A counterexample is replayed through `PolicyEngine::access` (the gateway's
//! semantics) before it is reported, so every reported example is a real widening.
//!
//! **Scope.** The solver ranges over requests that match the schema: arguments of the types
//! `Args` declares. The gateway does not check arguments against `Args` at run time; an argument
//! of another type makes every policy reading it fail (forbids then deny, permits do not apply),
//! which the proof does not cover. The Rule of Two is configuration, not policy, and the same on
//! both sides.

use std::path::PathBuf;
use std::time::Duration;

use cedar_policy::{ActionConstraint, Effect, PolicySet, RequestEnv, Schema};
use cedar_policy_symcc::err::{Error as SymccError, SolverError};
use cedar_policy_symcc::solver::LocalSolver;
use cedar_policy_symcc::{CedarSymCompiler, CompiledPolicy, CompiledPolicySet, Env};
use warrant_gateway::PolicyEngine;
use warrant_gateway::policy::{Counterexample, Symbolic};

/// How to run the solver.
#[derive(Debug, Clone)]
pub struct SolverOptions {
    /// The cvc5 executable: a path, or a name looked up on `PATH`.
    pub program: PathBuf,
    /// The most one question may take (cvc5's `--tlimit-per`); past it the answer is "unknown".
    pub per_question: Duration,
    /// The most the whole comparison may take.
    pub total: Duration,
}

impl SolverOptions {
    /// `program` with 20 s per question and 2 min in all.
    pub fn new(program: impl Into<PathBuf>) -> SolverOptions {
        SolverOptions {
            program: program.into(),
            per_question: Duration::from_secs(20),
            total: Duration::from_secs(120),
        }
    }
}

/// Why a comparison stopped without a verdict.
enum Stop {
    /// The solver could not answer: `Symbolic::Unavailable`.
    Unavailable(String),
    /// The question is outside what the analysis decides: `Symbolic::Inconclusive`.
    Inconclusive(String),
}

/// Compares `old` with `new` (both loaded with the same schema) symbolically. Never fails: a
/// missing solver, a timeout or a policy the symbolic compiler does not support is an outcome
/// (`Unavailable` or `Inconclusive`) with the reason, and the caller keeps its structural verdict.
pub async fn compare(old: &PolicyEngine, new: &PolicyEngine, options: &SolverOptions) -> Symbolic {
    let mut solver = match spawn(options) {
        Ok(solver) => solver,
        Err(reason) => return Symbolic::Unavailable { reason },
    };
    let outcome =
        tokio::time::timeout(options.total, questions(old, new, &mut solver, options)).await;
    // The solver is a child process: end it whatever happened (kill_on_drop covers a panic).
    let _ = solver.solver_mut().clean_up().await;
    match outcome {
        Err(_) => Symbolic::Unavailable {
            reason: format!(
                "the solver did not finish within {} s",
                options.total.as_secs()
            ),
        },
        Ok(Ok(symbolic)) => symbolic,
        Ok(Err(Stop::Unavailable(reason))) => Symbolic::Unavailable { reason },
        Ok(Err(Stop::Inconclusive(reason))) => Symbolic::Inconclusive { reason },
    }
}

fn spawn(options: &SolverOptions) -> Result<CedarSymCompiler<LocalSolver>, String> {
    let program = options.program.display().to_string();
    let mut command = tokio::process::Command::new(&options.program);
    command
        .args(["--lang", "smt"])
        .arg(format!("--tlimit-per={}", options.per_question.as_millis()))
        .kill_on_drop(true);
    let solver = LocalSolver::from_command(&mut command).map_err(|e| match e {
        SolverError::Io(io) => format!(
            "cannot start the solver `{program}`: {io} (install cvc5, or point CVC5 or --solver at it)"
        ),
        other => format!("cannot start the solver `{program}`: {other}"),
    })?;
    CedarSymCompiler::new(solver).map_err(|e| format!("cannot start the solver `{program}`: {e}"))
}

/// Which of the two implications (see the module's documentation) a question is about.
#[derive(Clone, Copy)]
enum Check {
    Outright,
    OrApprovable,
}

async fn questions(
    old: &PolicyEngine,
    new: &PolicyEngine,
    compiler: &mut CedarSymCompiler<LocalSolver>,
    options: &SolverOptions,
) -> Result<Symbolic, Stop> {
    let schema = new.schema();
    let (old_hard, new_hard) = (old.without_approval(), new.without_approval());
    let mut examples = Vec::new();
    let mut doubt: Option<String> = None;
    let mut environments = 0;
    for env in schema.request_envs() {
        environments += 1;
        let pairs = [
            (Check::Outright, new.policies(), old.policies()),
            (Check::OrApprovable, &new_hard, &old_hard),
        ];
        for (check, new_set, old_set) in pairs {
            let compiled_new = compile_set(new_set, &env, schema, "new")?;
            let compiled_old = compile_set(old_set, &env, schema, "old")?;
            let found = compiler
                .check_implies_with_counterexample_opt(&compiled_new, &compiled_old)
                .await
                .map_err(|e| solver_stop(&e, options))?;
            let Some(found) = found else { continue };
            match example(old, new, &found) {
                Some(example) => {
                    examples.push(example);
                    // One example per environment is enough to show the change widens.
                    break;
                }
                None => {
                    doubt.get_or_insert_with(|| {
                        format!(
                            "the solver's example for {} ({}) is not wider under the gateway's rules (a forbid fails to evaluate on it), so the change is neither proven narrowing nor shown widening",
                            env.action(),
                            match check {
                                Check::Outright => "allowed outright",
                                Check::OrApprovable => "allowed or approvable",
                            }
                        )
                    });
                }
            }
        }
        if examples.is_empty()
            && doubt.is_none()
            && let Some(name) = old_forbid_may_fail(old, &env, schema, compiler, options).await?
        {
            doubt = Some(format!(
                "old forbid `{name}` can fail to evaluate on {} (e.g. an overflow), which the gateway treats as a denial and the solver's comparison does not see",
                env.action()
            ));
        }
    }
    Ok(if !examples.is_empty() {
        Symbolic::Widens { examples }
    } else if let Some(reason) = doubt {
        Symbolic::Inconclusive { reason }
    } else {
        Symbolic::Narrows { environments }
    })
}

fn compile_set(
    set: &PolicySet,
    env: &RequestEnv,
    schema: &Schema,
    which: &str,
) -> Result<CompiledPolicySet, Stop> {
    CompiledPolicySet::compile(set, env, schema).map_err(|e| {
        Stop::Inconclusive(format!(
            "the {which} policies for {} cannot be compiled symbolically: {e}",
            env.action()
        ))
    })
}

/// The first old forbid (by name) that applies to `env`'s action and may error on a request of it.
async fn old_forbid_may_fail(
    old: &PolicyEngine,
    env: &RequestEnv,
    schema: &Schema,
    compiler: &mut CedarSymCompiler<LocalSolver>,
    options: &SolverOptions,
) -> Result<Option<String>, Stop> {
    let mut forbids: Vec<_> = old
        .policies()
        .policies()
        .filter(|p| p.effect() == Effect::Forbid)
        .filter(|p| match p.action_constraint() {
            ActionConstraint::Any => true,
            ActionConstraint::Eq(uid) => &uid == env.action(),
            ActionConstraint::In(uids) => uids.contains(env.action()),
        })
        .collect();
    forbids.sort_by_key(|p| old.name_of(p.id()));
    for forbid in forbids {
        let compiled = CompiledPolicy::compile(forbid, env, schema).map_err(|e| {
            Stop::Inconclusive(format!(
                "old forbid `{}` cannot be compiled symbolically: {e}",
                old.name_of(forbid.id())
            ))
        })?;
        let never = compiler
            .check_never_errors_opt(&compiled)
            .await
            .map_err(|e| solver_stop(&e, options))?;
        if !never {
            return Ok(Some(old.name_of(forbid.id())));
        }
    }
    Ok(None)
}

fn solver_stop(error: &SymccError, options: &SolverOptions) -> Stop {
    match error {
        SymccError::SolverUnknown => Stop::Unavailable(format!(
            "the solver gave no answer within {} s for one question",
            options.per_question.as_secs()
        )),
        SymccError::SolverError(e) => Stop::Unavailable(format!("the solver failed: {e}")),
        SymccError::DecodeModel(_)
        | SymccError::ConcretizeError(_)
        | SymccError::ModelInvalid { .. } => Stop::Unavailable(format!(
            "the solver's counterexample could not be read (is it cvc5?): {error}"
        )),
        other => Stop::Inconclusive(format!("symbolic compilation failed: {other}")),
    }
}

/// The solver's request as a report, if the gateway really treats it more permissively under
/// the new policies.
fn example(old: &PolicyEngine, new: &PolicyEngine, found: &Env) -> Option<Counterexample> {
    let (before, after) = (
        old.access(&found.request, &found.entities),
        new.access(&found.request, &found.entities),
    );
    if after <= before {
        return None;
    }
    let show =
        |uid: Option<&cedar_policy::EntityUid>| uid.map(ToString::to_string).unwrap_or_default();
    Some(Counterexample {
        principal: show(found.request.principal()),
        action: show(found.request.action()),
        resource: show(found.request.resource()),
        context: found
            .request
            .context()
            .map(ToString::to_string)
            .unwrap_or_default(),
        entities: found
            .entities
            .to_json_value()
            .unwrap_or(serde_json::Value::Null),
        old: before,
        new: after,
    })
}
