//! Runtime authorization for agents' tool calls: the part of the MCP gateway (issue 15) that
//! decides, with no I/O.
//!
//! - [`policy`]: Cedar policies over a schema whose principal is the agent (from Warrant's
//!   inventory), whose actions are MCP methods, whose resource is `server::tool` and whose context
//!   carries the call's JSON arguments ([`args`]), the session's taint, the task, the time and the
//!   source address. A call is allowed, denied with a reason, or held for a human's approval.
//! - [`taint`]: the Rule of Two over the labels of the tools a task has used.
//! - [`token`]: just-in-time task tokens (Biscuit): mint, attenuate offline, verify on a call.
//! - [`pinning`]: upstream tools hashed and pinned on approval (a later change blocks them), and
//!   their descriptions read for poisoning (hidden characters, instructions to the model,
//!   credential references, shadowed tools).
//! - [`config`]: the `gateway.toml` model.
//!
//! Files, clocks and networks belong to the caller: sources come in as text, time as an argument,
//! and state (taint, revocations) as plain values the caller persists.

pub mod args;
pub mod config;
pub mod duration;
pub mod pinning;
pub mod policy;
pub mod schema;
pub mod taint;
pub mod token;

pub use args::{ArgsError, CedarValue};
pub use config::{ConfigError, GatewayConfig};
pub use policy::{
    Agent, Call, Decision, Method, PolicyEngine, PolicyError, PolicyProblem, Source, Target,
    ToolRef,
};
pub use taint::{Label, TaintState, TaintVerdict};
pub use token::{ArgConstraint, Grant, OpenedToken, TokenAuthority, TokenError, VerifiedToken};
