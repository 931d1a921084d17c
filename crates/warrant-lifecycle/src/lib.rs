//! Lifecycle governance, as pure domain logic: what the organisation's governance policy
//! requires of each identity (its tier and that tier's thresholds), and the exceptions people
//! grant to it — each with an owner, a reason and an expiry.
//!
//! No I/O, no clock: callers pass text they read and the instant they mean. The store keeps
//! exceptions; the application layer applies them to findings; front ends (the CLI, the coming
//! server) call the application layer.

pub mod exception;
pub mod policy;

pub use exception::{Exception, ExceptionError, ExceptionState, Match, NewException};
pub use policy::{
    Criticality, GovernancePolicy, IdentityFacts, PolicyError, Selector, Thresholds, Tier,
};
