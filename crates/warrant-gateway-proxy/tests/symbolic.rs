#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! `policy diff` with the real cvc5 solver (scripts/test installs it; `CVC5` names another).

use warrant_gateway::policy::{Access, PolicyDiff, Proof, Symbolic, diff};
use warrant_gateway::{PolicyEngine, Source};
use warrant_gateway_proxy::symbolic::{SolverOptions, compare};

const SCHEMA: &str = "type Args = { amount?: Long, repo?: String };";

fn engine(policies: &str) -> PolicyEngine {
    PolicyEngine::load(
        Some(&Source::new("args.cedarschema", SCHEMA)),
        &[Source::new("p.cedar", policies)],
    )
    .unwrap()
}

fn solver() -> SolverOptions {
    SolverOptions::new(std::env::var("CVC5").unwrap_or_else(|_| "cvc5".to_string()))
}

async fn compared(old: &str, new: &str) -> (Symbolic, PolicyDiff) {
    let (old, new) = (engine(old), engine(new));
    let symbolic = compare(&old, &new, &solver()).await;
    (symbolic.clone(), diff(&old, &new).with_symbolic(symbolic))
}

const PAY: &str = r#"@id("pay") permit (principal, action == Action::"tools/call", resource == Tool::"payments::refund");
"#;

fn refund_forbid(annotation: &str, limit: i64) -> String {
    format!(
        "@id(\"big\") {annotation} forbid (principal, action == Action::\"tools/call\", resource == Tool::\"payments::refund\") when {{ context.args has amount && context.args.amount > {limit} }};\n"
    )
}

#[tokio::test]
async fn a_forbid_over_a_lower_limit_is_proven_narrowing() {
    let old = format!("{PAY}{}", refund_forbid("", 1000));
    let new = format!("{PAY}{}", refund_forbid("", 100));
    let (symbolic, d) = compared(&old, &new).await;
    assert!(
        matches!(symbolic, Symbolic::Narrows { environments } if environments > 0),
        "{symbolic:?}"
    );
    // The text alone cannot tell: the forbid changed.
    assert!(!d.may_widen.is_empty());
    assert!(d.narrows_only);
    assert_eq!(d.proof, Some(Proof::Symbolic));
}

#[tokio::test]
async fn a_condition_added_to_a_permit_is_proven_narrowing() {
    let old = r#"@id("read") permit (principal, action == Action::"tools/call", resource in Server::"github");"#;
    let new = r#"@id("read") permit (principal, action == Action::"tools/call", resource in Server::"github") when { context.args has repo && context.args.repo like "acme/*" && principal.owner_active };"#;
    let (symbolic, d) = compared(old, new).await;
    assert!(matches!(symbolic, Symbolic::Narrows { .. }), "{symbolic:?}");
    assert!(d.narrows_only);
    // And the reverse widens: the solver names a call only the looser permit allows.
    let (symbolic, d) = compared(new, old).await;
    let Symbolic::Widens { examples } = symbolic else {
        panic!("{symbolic:?}")
    };
    assert!(!d.narrows_only);
    assert_eq!(d.proof, None);
    let e = &examples[0];
    assert_eq!(e.action, r#"Action::"tools/call""#);
    assert_eq!((e.old, e.new), (Access::Deny, Access::Allow));
}

#[tokio::test]
async fn a_forbid_over_a_higher_limit_widens_with_the_amount_that_shows_it() {
    let old = format!("{PAY}{}", refund_forbid("", 100));
    let new = format!("{PAY}{}", refund_forbid("", 1000));
    let (symbolic, d) = compared(&old, &new).await;
    let Symbolic::Widens { examples } = symbolic else {
        panic!("{symbolic:?}")
    };
    assert!(!d.narrows_only);
    assert_eq!(examples.len(), 1, "{examples:?}");
    let e = &examples[0];
    assert_eq!(e.resource, r#"Tool::"payments::refund""#);
    assert_eq!((e.old, e.new), (Access::Deny, Access::Allow));
    // The amount the solver chose is one the old forbid caught and the new one does not.
    let amount: i64 = e
        .context
        .split("amount: ")
        .nth(1)
        .and_then(|rest| {
            rest.split(|c: char| !(c.is_ascii_digit() || c == '-'))
                .next()
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no amount in {}", e.context));
    assert!((101..=1000).contains(&amount), "{amount} in {}", e.context);
}

#[tokio::test]
async fn equal_sets_narrow() {
    let policies = format!("{PAY}{}", refund_forbid("@approval", 100));
    let (symbolic, _) = compared(&policies, &policies).await;
    assert!(matches!(symbolic, Symbolic::Narrows { .. }), "{symbolic:?}");
}

#[tokio::test]
async fn approval_counts_between_allow_and_deny() {
    let held = format!("{PAY}{}", refund_forbid("@approval", 100));
    let denied = format!("{PAY}{}", refund_forbid("", 100));
    // Held → denied narrows; allowed → held narrows.
    let (symbolic, _) = compared(&held, &denied).await;
    assert!(matches!(symbolic, Symbolic::Narrows { .. }), "{symbolic:?}");
    let (symbolic, _) = compared(PAY, &held).await;
    assert!(matches!(symbolic, Symbolic::Narrows { .. }), "{symbolic:?}");
    // Denied → held widens (only the "allowed or approvable" check sees it).
    let (symbolic, _) = compared(&denied, &held).await;
    let Symbolic::Widens { examples } = symbolic else {
        panic!("{symbolic:?}")
    };
    assert_eq!(
        (examples[0].old, examples[0].new),
        (Access::Deny, Access::RequireApproval)
    );
    // Held → allowed widens.
    let (symbolic, _) = compared(&held, PAY).await;
    let Symbolic::Widens { examples } = symbolic else {
        panic!("{symbolic:?}")
    };
    assert_eq!(
        (examples[0].old, examples[0].new),
        (Access::RequireApproval, Access::Allow)
    );
}

#[tokio::test]
async fn an_old_forbid_that_can_fail_leaves_the_question_open() {
    // `amount * 2` overflows for large amounts: the gateway then denies (fails closed), which
    // Cedar's semantics, and so the implication, do not see.
    let old = format!(
        "{PAY}@id(\"double\") forbid (principal, action, resource) when {{ context.args has amount && context.args.amount * 2 > 200 }};\n"
    );
    let new = format!("{PAY}{}", refund_forbid("", 100));
    let (symbolic, d) = compared(&old, &new).await;
    let Symbolic::Inconclusive { reason } = symbolic else {
        panic!("{symbolic:?}")
    };
    assert!(reason.contains("`double`"), "{reason}");
    assert!(!d.narrows_only, "the structural verdict stands");
}

#[tokio::test]
async fn without_the_solver_the_structural_verdict_stands() {
    let old = format!("{PAY}{}", refund_forbid("", 1000));
    let new = format!("{PAY}{}", refund_forbid("", 100));
    let (old, new) = (engine(&old), engine(&new));
    let options = SolverOptions::new("/nonexistent/cvc5");
    let symbolic = compare(&old, &new, &options).await;
    let Symbolic::Unavailable { reason } = &symbolic else {
        panic!("{symbolic:?}")
    };
    assert!(
        reason.contains("cannot start the solver `/nonexistent/cvc5`"),
        "{reason}"
    );
    let d = diff(&old, &new).with_symbolic(symbolic);
    assert!(!d.narrows_only);
    assert_eq!(d.proof, None);
}
