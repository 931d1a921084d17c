//! Decision latency of the gateway's policy engine: 1,000 Cedar policies, mixed calls, in
//! process. Run: `cargo run --release -p warrant-gateway --example decision_bench [CALLS]`.
//! Prints p50, p90, p99 and p99.9 of `PolicyEngine::decide` and of `visible_tools` (issue 15's
//! target: decision p99 ≤ 20 µs).
//!
//! The benchmark runs on mimalloc, the global allocator of the `warrant` binary (same crate
//! features as crates/warrant-cli), so it measures what the gateway runs; comment the
//! `#[global_allocator]` out to compare with glibc's.
//!
//! Measured 2026-12-07 (2 cores, one of them busy with another session's work; see
//! bench/README.md): p50 7.4–8.4 µs, p90 10.4–11.3 µs, p99 14.7–16.0 µs, p99.9 36–42 µs on
//! mimalloc (glibc: p50 8.7–9.1, p99 17.2–17.6 µs); `visible_tools` p50 1.8 ms. The warm-up calls reach every
//! (agent, tool) pair the measured calls use, so these are decisions with the pair's entities
//! cached, as a running gateway's repeated calls are; a pair's first call costs about 8 µs more.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::indexing_slicing,
    reason = "tests, examples and benchmarks index their own data"
)]

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use serde_json::json;
use warrant_gateway::{
    Agent, Call, Decision, Label, Method, PolicyEngine, Source, TaintState, Target, ToolRef,
};

// The allocator the `warrant` binary runs on (crates/warrant-cli, same features), so the
// figures are the product's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SERVERS: usize = 20;
const TOOLS_PER_SERVER: usize = 25;

/// 1,000 policies: per tool, a permit on its argument and a forbid on a path or the owner;
/// plus a few broad ones (every tool, whole servers, approval on amounts).
fn policies() -> String {
    let mut text = String::new();
    let mut n = 0;
    for s in 0..SERVERS {
        for t in 0..TOOLS_PER_SERVER {
            let tool = format!("srv{s}::tool{t}");
            writeln!(
                text,
                "@id(\"p{n}\") permit (principal, action == Action::\"tools/call\", resource == Tool::\"{tool}\") when {{ context.args has repo && context.args.repo like \"org{s}/*\" }};"
            )
            .unwrap();
            n += 1;
            if n >= 990 {
                break;
            }
            let forbid = if t % 2 == 0 {
                format!(
                    "unless {{ context.args has path && context.args.path like \"/workspace/{t}/*\" }}"
                )
            } else {
                "unless { principal.owner_active && principal.risk < 90 }".to_string()
            };
            writeln!(
                text,
                "@id(\"p{n}\") @reason(\"tool {tool} is restricted\") forbid (principal, action == Action::\"tools/call\", resource == Tool::\"{tool}\") {forbid};"
            )
            .unwrap();
            n += 1;
        }
    }
    while n < 1000 {
        let s = n % SERVERS;
        writeln!(
            text,
            "@id(\"p{n}\") @approval forbid (principal, action == Action::\"tools/call\", resource in Server::\"srv{s}\") when {{ context.args has amount && context.args.amount > {n} }};"
        )
        .unwrap();
        n += 1;
    }
    text
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name}: n={} p50={:.2} µs p90={:.2} µs p99={:.2} µs p99.9={:.2} µs max={:.2} µs",
        samples.len(),
        percentile(&samples, 0.50).as_secs_f64() * 1e6,
        percentile(&samples, 0.90).as_secs_f64() * 1e6,
        percentile(&samples, 0.99).as_secs_f64() * 1e6,
        percentile(&samples, 0.999).as_secs_f64() * 1e6,
        samples.last().copied().unwrap_or_default().as_secs_f64() * 1e6,
    );
}

fn main() {
    let calls: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let text = policies();
    let started = Instant::now();
    let engine = PolicyEngine::load(
        Some(&Source::new(
            "bench.cedarschema",
            "type Args = { repo?: String, path?: String, amount?: Long };",
        )),
        &[Source::new("bench.cedar", text)],
    )
    .unwrap();
    println!(
        "{} policies loaded and validated in {:.1} ms",
        engine.len(),
        started.elapsed().as_secs_f64() * 1e3
    );

    let agents = [
        Agent {
            id: "a1".into(),
            name: "a1".into(),
            owner: "o".into(),
            owner_active: true,
            tier: "prod".into(),
            risk: 10,
        },
        Agent {
            id: "a2".into(),
            name: "a2".into(),
            owner: "o".into(),
            owner_active: false,
            tier: "dev".into(),
            risk: 95,
        },
    ];
    let mut targets = Vec::new();
    for s in 0..SERVERS {
        for t in 0..TOOLS_PER_SERVER {
            let labels = match t % 3 {
                0 => vec![Label::UntrustedInput],
                1 => vec![Label::SensitiveData],
                _ => vec![],
            };
            targets.push(Target::Tool(
                ToolRef::new(&format!("srv{s}"), &format!("tool{t}")).with_labels(labels),
            ));
        }
    }
    // Mixed arguments: matching, not matching, missing, with amounts and nested data.
    let arguments = [
        |s: usize, t: usize| json!({"repo": format!("org{s}/api"), "path": format!("/workspace/{t}/a.rs")}),
        |s: usize, _t: usize| json!({"repo": format!("org{}/api", s + 1)}),
        |_s: usize, _t: usize| json!({}),
        |s: usize, t: usize| json!({"repo": format!("org{s}/x"), "path": format!("/workspace/{t}/b"), "amount": 995, "meta": {"labels": ["a", "b"], "n": 3}}),
    ];
    let taint = TaintState::new();
    let now = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();

    let mut counts = [0usize; 3];
    let mut samples = Vec::with_capacity(calls);
    // A warm-up pass, then the measured calls (a simple LCG picks them, the same every run).
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..(calls + calls / 10) {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let pick = usize::try_from(seed >> 33).unwrap();
        let (s, t) = ((pick / 7) % SERVERS, (pick / 131) % TOOLS_PER_SERVER);
        let args = arguments[pick % arguments.len()](s, t);
        let call = Call {
            agent: &agents[pick % 2],
            method: Method::ToolsCall,
            target: &targets[s * TOOLS_PER_SERVER + t],
            arguments: &args,
            taint: &taint,
            task: Some("bench"),
            now,
            source: None,
        };
        let started = Instant::now();
        let decision = engine.decide(&call);
        let elapsed = started.elapsed();
        if i >= calls / 10 {
            samples.push(elapsed);
            counts[match decision {
                Decision::Allow => 0,
                Decision::Deny { .. } => 1,
                Decision::RequireApproval { .. } => 2,
            }] += 1;
        }
    }
    println!(
        "decisions: {} allow, {} deny, {} require approval",
        counts[0], counts[1], counts[2]
    );
    report("decide (tools/call)", samples);

    let tools: Vec<ToolRef> = targets
        .iter()
        .filter_map(|t| match t {
            Target::Tool(tool) => Some(tool.clone()),
            _ => None,
        })
        .collect();
    let mut list_samples = Vec::new();
    for i in 0..40 {
        let started = Instant::now();
        let visible = engine.visible_tools(&agents[i % 2], &tools);
        list_samples.push(started.elapsed());
        assert!(!visible.is_empty());
    }
    report(
        &format!("visible_tools ({} tools)", tools.len()),
        list_samples,
    );
}
