//! Loading the documented example policies, and agents and calls to decide.

use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use warrant_gateway::{Agent, Call, Decision, Method, PolicyEngine, Source, TaintState, Target};

pub fn docs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

pub fn example_engine() -> PolicyEngine {
    let schema = std::fs::read_to_string(docs().join("gateway.cedarschema")).unwrap();
    let policies = std::fs::read_to_string(docs().join("gateway-policies.cedar")).unwrap();
    PolicyEngine::load(
        Some(&Source::new("gateway.cedarschema", schema)),
        &[Source::new("gateway-policies.cedar", policies)],
    )
    .unwrap()
}

pub fn agent(id: &str, owner_active: bool) -> Agent {
    Agent {
        id: id.to_string(),
        name: format!("{id} bot"),
        owner: "alice@example.com".to_string(),
        owner_active,
        tier: "production".to_string(),
        risk: 40,
    }
}

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap()
}

/// Decides a `tools/call` of `target` with `arguments` and an empty taint.
pub fn decide(engine: &PolicyEngine, agent: &Agent, target: &Target, arguments: Value) -> Decision {
    decide_tainted(engine, agent, target, arguments, &TaintState::new())
}

pub fn decide_tainted(
    engine: &PolicyEngine,
    agent: &Agent,
    target: &Target,
    arguments: Value,
    taint: &TaintState,
) -> Decision {
    engine.decide(&Call {
        agent,
        method: Method::ToolsCall,
        target,
        arguments: &arguments,
        taint,
        task: Some("triage ticket 123"),
        now: now(),
        source: Some("10.0.0.7".parse().unwrap()),
    })
}

pub fn is_deny(decision: &Decision) -> bool {
    matches!(decision, Decision::Deny { .. })
}

pub fn is_approval(decision: &Decision) -> bool {
    matches!(decision, Decision::RequireApproval { .. })
}
