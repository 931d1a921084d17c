#![no_main]
//! Fuzz target: any text is a set of gateway policies (then decided on a call) or a list of
//! problems naming the file, never a panic. The first line, when it starts with `type Args`, is
//! the operator's schema extension.

use libfuzzer_sys::fuzz_target;
use warrant_gateway::{Agent, Call, Method, PolicyEngine, PolicyError, Source, TaintState, Target, ToolRef};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (schema, policies) = match text.split_once('\n') {
        Some((first, rest)) if first.starts_with("type Args") => (Some(Source::new("s", first)), rest),
        _ => (None, text),
    };
    match PolicyEngine::load(schema.as_ref(), &[Source::new("fuzz.cedar", policies)]) {
        Ok(engine) => {
            let agent = Agent {
                id: "a".into(),
                name: "a".into(),
                owner: "o".into(),
                owner_active: false,
                tier: "t".into(),
                risk: 1,
            };
            let target = Target::Tool(ToolRef::new("s", "t"));
            let arguments = serde_json::json!({"repo": "acme/api", "n": 3, "x": [1, "a"]});
            let _ = engine.decide(&Call {
                agent: &agent,
                method: Method::ToolsCall,
                target: &target,
                arguments: &arguments,
                taint: &TaintState::new(),
                task: None,
                now: chrono::DateTime::UNIX_EPOCH,
                source: None,
            });
            let _ = engine.visible_tools(&agent, &[ToolRef::new("s", "t")]);
        }
        Err(PolicyError::Invalid { problems }) => assert!(!problems.is_empty()),
    }
});
