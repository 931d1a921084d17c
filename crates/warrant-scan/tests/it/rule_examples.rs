//! Every built-in rule's own examples, checked at the regex level: positives match, negatives
//! do not. The engine-level test (prefilter, entropy, checksums) lives beside the engine.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use warrant_scan::RuleSet;

#[test]
fn builtin_rules_load_and_their_examples_hold_at_regex_level() {
    let rules = RuleSet::builtin().unwrap();
    let mut failures = Vec::new();
    for rule in rules.iter() {
        let re = regex::Regex::new(&rule.pattern).unwrap();
        for ex in &rule.examples {
            if !re.is_match(ex) {
                failures.push(format!("{}: example not matched: {ex}", rule.id));
            }
            let lower = ex.to_ascii_lowercase();
            if !rule
                .keywords
                .iter()
                .any(|k| lower.contains(&k.to_ascii_lowercase()))
            {
                failures.push(format!(
                    "{}: example contains none of the keywords: {ex}",
                    rule.id
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every built-in rule through the full engine (prefilter, windows, entropy, validators,
/// placeholders): see `warrant_scan::examples`.
#[test]
fn builtin_rule_examples_hold_through_the_full_engine() {
    let rules = RuleSet::builtin().unwrap();
    let failures = warrant_scan::examples::example_failures(&rules, &rules).unwrap();
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
