//! Each example policy of docs/gateway-policies.cedar decides as its comment says.

use serde_json::json;
use warrant_gateway::{Decision, Target, ToolRef};

use crate::common::{agent, decide, example_engine, is_approval, is_deny};

fn tool(server: &str, name: &str) -> Target {
    Target::Tool(ToolRef::new(server, name))
}

#[test]
fn create_issue_only_in_acme_repositories() {
    let engine = example_engine();
    let a = agent("triage-bot", true);
    let create = tool("github", "create_issue");
    assert_eq!(
        decide(
            &engine,
            &a,
            &create,
            json!({"repo": "acme/api", "title": "x"})
        ),
        Decision::Allow
    );
    for refused in [
        json!({"repo": "evil/api"}),
        json!({"repo": "acme"}),
        json!({"title": "no repo"}),
        json!({"repo": 7}),
    ] {
        let decision = decide(&engine, &a, &create, refused.clone());
        assert!(is_deny(&decision), "{refused}: {decision:?}");
    }
    // Another GitHub tool has no permit at all.
    assert!(is_deny(&decide(
        &engine,
        &a,
        &tool("github", "delete_repo"),
        json!({"repo": "acme/api"})
    )));
}

#[test]
fn fs_write_only_under_workspace() {
    let engine = example_engine();
    let a = agent("coder", true);
    let write = tool("fs", "write");
    assert_eq!(
        decide(
            &engine,
            &a,
            &write,
            json!({"path": "/workspace/src/main.rs"})
        ),
        Decision::Allow
    );
    for outside in [
        "/etc/passwd",
        "/workspace",
        "/workspace/../etc/passwd",
        "workspace/x",
    ] {
        let decision = decide(&engine, &a, &write, json!({ "path": outside }));
        assert_eq!(
            decision,
            Decision::Deny {
                reason: "fs.write may only write under /workspace".to_string(),
                policy: Some("fs-write-outside-workspace".to_string())
            },
            "{outside}"
        );
    }
    assert!(is_deny(&decide(&engine, &a, &write, json!({}))));
}

#[test]
fn refunds_over_100_need_approval() {
    let engine = example_engine();
    let a = agent("support-bot", true);
    let refund = tool("payments", "refund");
    assert_eq!(
        decide(&engine, &a, &refund, json!({"amount": 100})),
        Decision::Allow
    );
    assert_eq!(
        decide(&engine, &a, &refund, json!({"amount": 40.0})),
        Decision::Allow
    );
    let held = decide(&engine, &a, &refund, json!({"amount": 101}));
    assert_eq!(
        held,
        Decision::RequireApproval {
            reason: "refunds over 100 need a human's approval".to_string(),
            policy: Some("payments-refund-over-100".to_string())
        }
    );
    assert!(is_approval(&decide(&engine, &a, &refund, json!({}))));
    // 100.5 is a decimal: `<= 100` errors on it, and the @approval forbid then fails closed.
    assert!(is_deny(&decide(
        &engine,
        &a,
        &refund,
        json!({"amount": 100.5})
    )));
}

#[test]
fn shell_exec_forbidden_when_the_owner_has_left() {
    let engine = example_engine();
    let exec = tool("shell", "exec");
    assert_eq!(
        decide(
            &engine,
            &agent("ops-bot", true),
            &exec,
            json!({"command": "ls"})
        ),
        Decision::Allow
    );
    assert_eq!(
        decide(
            &engine,
            &agent("orphan-bot", false),
            &exec,
            json!({"command": "ls"})
        ),
        Decision::Deny {
            reason: "shell.exec is forbidden for agents whose owner has left".to_string(),
            policy: Some("shell-exec-owner-left".to_string())
        }
    );
}

#[test]
fn tools_list_shows_what_could_be_allowed() {
    let engine = example_engine();
    let tools = vec![
        ToolRef::new("github", "create_issue"),
        ToolRef::new("github", "delete_repo"),
        ToolRef::new("fs", "write"),
        ToolRef::new("payments", "refund"),
        ToolRef::new("shell", "exec"),
    ];
    let names = |agent_active: bool| -> Vec<String> {
        engine
            .visible_tools(&agent("a", agent_active), &tools)
            .iter()
            .map(|t| t.qualified())
            .collect()
    };
    // delete_repo has no permit; create_issue depends on arguments, so it is listed.
    assert_eq!(
        names(true),
        [
            "github::create_issue",
            "fs::write",
            "payments::refund",
            "shell::exec"
        ]
    );
    // The owner-left forbid holds whatever the arguments: shell.exec is hidden.
    assert_eq!(
        names(false),
        ["github::create_issue", "fs::write", "payments::refund"]
    );
}
