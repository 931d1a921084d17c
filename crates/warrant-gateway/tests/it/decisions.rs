//! Decisions beyond the examples: the Rule of Two, failing closed, other methods, and `check`.

use std::collections::BTreeSet;

use serde_json::json;
use warrant_gateway::policy::diff;
use warrant_gateway::{
    Call, Decision, Label, Method, PolicyEngine, PolicyError, Source, TaintState, Target, ToolRef,
};

use crate::common::{agent, decide, decide_tainted, example_engine, is_approval, now};

const ALLOW_ALL: &str = "@id(\"all\") permit (principal, action, resource);";

fn engine(policies: &str) -> PolicyEngine {
    PolicyEngine::load(
        Some(&Source::new(
            "s",
            "type Args = { n?: Long, repo?: String };",
        )),
        &[Source::new("p.cedar", policies)],
    )
    .unwrap()
}

#[test]
fn the_third_leg_of_the_rule_of_two_needs_approval() {
    let engine = engine(ALLOW_ALL);
    let a = agent("a", true);
    let fetch = Target::Tool(ToolRef::new("web", "fetch").with_labels([Label::UntrustedInput]));
    let crm = Target::Tool(ToolRef::new("crm", "lookup").with_labels([Label::SensitiveData]));
    let send = Target::Tool(ToolRef::new("mail", "send").with_labels([Label::ExternalAction]));
    let mut taint = TaintState::new();
    for (target, labels) in [
        (&fetch, [Label::UntrustedInput]),
        (&crm, [Label::SensitiveData]),
    ] {
        assert_eq!(
            decide_tainted(&engine, &a, target, json!({}), &taint),
            Decision::Allow
        );
        taint.record(&labels.into_iter().collect());
    }
    let held = decide_tainted(&engine, &a, &send, json!({}), &taint);
    assert!(is_approval(&held), "{held:?}");
    // A fresh task may send.
    assert_eq!(decide(&engine, &a, &send, json!({})), Decision::Allow);
}

#[test]
fn the_taint_reaches_the_policy_context() {
    let engine = engine(
        "permit (principal, action, resource);\n@id(\"no-send-after-untrusted\") forbid (principal, action == Action::\"tools/call\", resource == Tool::\"mail::send\") when { context.taint.contains(\"untrusted_input\") };",
    );
    let a = agent("a", true);
    let send = Target::Tool(ToolRef::new("mail", "send"));
    let mut taint = TaintState::new();
    assert_eq!(
        decide_tainted(&engine, &a, &send, json!({}), &taint),
        Decision::Allow
    );
    taint.record(&BTreeSet::from([Label::UntrustedInput]));
    assert!(matches!(
        decide_tainted(&engine, &a, &send, json!({}), &taint),
        Decision::Deny { policy: Some(p), .. } if p == "no-send-after-untrusted"
    ));
}

#[test]
fn a_forbid_that_cannot_be_evaluated_denies() {
    // `n` is declared Long, so the policy validates; a call sending a string makes `>` error.
    let engine = engine(&format!(
        "{ALLOW_ALL}\n@id(\"big-n\") forbid (principal, action, resource) when {{ context.args has n && context.args.n > 5 }};"
    ));
    let a = agent("a", true);
    let t = Target::Tool(ToolRef::new("x", "y"));
    assert_eq!(decide(&engine, &a, &t, json!({"n": 1})), Decision::Allow);
    assert!(matches!(
        decide(&engine, &a, &t, json!({"n": 9})),
        Decision::Deny { .. }
    ));
    let decision = decide(&engine, &a, &t, json!({"n": "nine"}));
    assert!(
        matches!(&decision, Decision::Deny { reason, policy: Some(p) } if p == "big-n" && reason.contains("could not be evaluated")),
        "{decision:?}"
    );
    // Arguments Cedar cannot hold deny too, saying which.
    assert!(matches!(
        decide(&engine, &a, &t, json!({"n": 0.123456})),
        Decision::Deny { reason, .. } if reason.contains("`n`")
    ));
}

#[test]
fn approval_cannot_allow_what_no_permit_allows() {
    let engine = engine("@approval forbid (principal, action, resource);");
    let a = agent("a", true);
    let t = Target::Tool(ToolRef::new("x", "y"));
    assert!(matches!(
        decide(&engine, &a, &t, json!({})),
        Decision::Deny { .. }
    ));
}

#[test]
fn other_methods_are_decided_on_their_resources() {
    let engine = engine(
        "permit (principal, action == Action::\"resources/read\", resource) when { resource.uri like \"file:///docs/*\" };",
    );
    let a = agent("a", true);
    let read = |uri: &str| {
        engine.decide(&Call {
            agent: &a,
            method: Method::ResourcesRead,
            target: &Target::Resource {
                server: "fs".to_string(),
                uri: uri.to_string(),
            },
            arguments: &serde_json::Value::Null,
            taint: &TaintState::new(),
            task: None,
            now: now(),
            source: None,
        })
    };
    assert_eq!(read("file:///docs/readme.md"), Decision::Allow);
    assert!(matches!(read("file:///etc/shadow"), Decision::Deny { .. }));
}

#[test]
fn check_reports_every_problem_with_file_and_position() {
    let bad = "permit (principal, action, resource);\n\npermit (principal, action == Action::\"tools/call\", resource)\nwhen { context.args.repo == 3 };\n";
    let Err(PolicyError::Invalid { problems }) = PolicyEngine::load(
        Some(&Source::new(
            "schema.cedarschema",
            "type Args = { repo?: String };",
        )),
        &[Source::new("bad.cedar", bad)],
    ) else {
        panic!("a type error must be refused");
    };
    assert!(!problems.is_empty());
    let first = &problems[0];
    assert_eq!(first.file, "bad.cedar");
    assert_eq!(first.line, Some(4), "{first}");
    assert!(first.column.is_some());

    let Err(PolicyError::Invalid { problems }) = PolicyEngine::load(
        None,
        &[Source::new(
            "syntax.cedar",
            "permit (principal,\n  action resource);",
        )],
    ) else {
        panic!("a syntax error must be refused");
    };
    assert_eq!(problems[0].line, Some(2), "{}", problems[0]);

    let Err(PolicyError::Invalid { problems }) = PolicyEngine::load(
        Some(&Source::new(
            "s.cedarschema",
            "type Args = { repo?: Strin };",
        )),
        &[],
    ) else {
        panic!("a bad schema must be refused");
    };
    assert_eq!(problems[0].file, "s.cedarschema");
    assert_eq!(problems[0].line, Some(1), "{}", problems[0]);

    let Err(PolicyError::Invalid { problems }) = PolicyEngine::load(
        None,
        &[Source::new(
            "a.cedar",
            "@approval permit (principal, action, resource);",
        )],
    ) else {
        panic!("@approval on a permit must be refused");
    };
    assert!(problems[0].message.contains("@approval"));
}

#[test]
fn the_example_policies_pass_check() {
    assert_eq!(example_engine().len(), 8);
}

#[test]
fn diff_tells_narrowing_from_possible_widening() {
    let base = "@id(\"p\") permit (principal, action, resource) when { context.args has repo };\n@id(\"f\") forbid (principal, action, resource) when { context.args has n };";
    let old = engine(base);
    // Adding a forbid and an approval, with reworded reasons: narrowing.
    let narrower = engine(&format!(
        "{base}\n@id(\"g\") @approval forbid (principal, action, resource) when {{ context.hour > 20 }};"
    ));
    let d = diff(&old, &narrower);
    assert!(d.narrows_only, "{d:?}");
    assert_eq!(d.added.len(), 1);
    // Removing the forbid, or adding a permit: may widen.
    let wider =
        engine("@id(\"p\") permit (principal, action, resource) when { context.args has repo };");
    let d = diff(&old, &wider);
    assert!(!d.narrows_only);
    assert_eq!(d.removed.len(), 1);
    let d = diff(
        &old,
        &engine(&format!("{base}\npermit (principal, action, resource);")),
    );
    assert!(!d.narrows_only);
    // Turning a forbid into @approval weakens it.
    let d = diff(
        &old,
        &engine(
            "@id(\"p\") permit (principal, action, resource) when { context.args has repo };\n@id(\"f\") @approval forbid (principal, action, resource) when { context.args has n };",
        ),
    );
    assert!(!d.narrows_only);
    assert_eq!(d.changed.len(), 1);
    // The same policies under other names narrow nothing and widen nothing.
    assert!(diff(&old, &old).narrows_only);
}

#[test]
fn an_allowed_call_names_the_policies_that_permitted_it() {
    let engine = engine(
        r#"@id("repo") permit (principal, action == Action::"tools/call", resource)
             when { context.args has repo && context.args.repo like "acme/*" };
           @id("all-tools") permit (principal, action == Action::"tools/call", resource);
           @id("big") forbid (principal, action, resource)
             when { context.args has n && context.args.n > 10 };"#,
    );
    let a = agent("a", true);
    let tool = Target::Tool(ToolRef::new("gh", "create_issue"));
    let explain = |arguments: serde_json::Value| {
        engine.decide_explained(&Call {
            agent: &a,
            method: Method::ToolsCall,
            target: &tool,
            arguments: &arguments,
            taint: &TaintState::new(),
            task: None,
            now: now(),
            source: None,
        })
    };
    assert_eq!(
        explain(json!({"repo": "acme/api"})),
        (
            Decision::Allow,
            vec!["all-tools".to_string(), "repo".to_string()]
        )
    );
    assert_eq!(
        explain(json!({"repo": "other/api"})),
        (Decision::Allow, vec!["all-tools".to_string()])
    );
    // A denial names its policy in the decision, and no permit.
    let (denied, permits) = explain(json!({"n": 11}));
    assert!(
        matches!(&denied, Decision::Deny { policy: Some(p), .. } if p == "big"),
        "{denied:?}"
    );
    assert!(permits.is_empty());
}
