//! Lifecycle governance, as pure domain logic: what the organisation's governance policy
//! requires of each identity (its tier and that tier's thresholds), and the exceptions people
//! grant to it — each with an owner, a reason and an expiry — and remediation: plans written
//! from the inventory ([`propose`]), content-addressed ([`plan`]), approved by someone other
//! than their requester and applied step by step through a provider's [`Executor`], with a
//! journal that makes an interrupted apply resumable and an applied one reversible ([`apply`]);
//! and access reviews ([`review`]): campaigns over the identities a scope selects, each item
//! assigned to its owner or the fallback reviewer, decided only by them (escalating when
//! overdue), with decisions appended and never overwritten.
//!
//! No I/O, no clock: callers pass text they read and the instant they mean, and the executor,
//! journal and pace that do the I/O. The store keeps exceptions, plans and journals; the
//! application layer wires them; front ends (the CLI, the coming server) call the application
//! layer.

pub mod apply;
pub mod exception;
pub mod plan;
pub mod policy;
pub mod propose;
pub mod register;
pub mod review;

pub use apply::{
    Applied, ApprovalError, Approvals, Check, Decision, Direction, Executor, PlanStatus, Progress,
    StepContext, StepOutput, StepRecord, StepState,
};
pub use exception::{Exception, ExceptionError, ExceptionState, Match, NewException};
pub use plan::{
    Action, AwsCall, Call, Expect, KeyRef, Manual, Plan, PlanContent, PlanFileError, Principal,
    Step,
};
pub use policy::{
    Criticality, GovernancePolicy, IdentityFacts, PolicyError, Remediation, Selector, Thresholds,
    Tier,
};
pub use review::{
    Assignment, Authority, Condition, Counts, Evidence, ItemState, ReviewError, Scope, Verdict,
};
