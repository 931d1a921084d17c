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

/// Every built-in rule through the full engine (prefilter, windows, entropy, validators): each
/// positive example yields a finding of that rule, no negative example yields one of that rule.
/// Each rule runs in a scanner of its own (with all rules loaded, the engine reports a secret
/// span once, under the most confident rule); the full set must still find every example.
#[test]
fn builtin_rule_examples_hold_through_the_full_engine() {
    let rules = RuleSet::builtin().unwrap();
    let all = warrant_scan::Scanner::new(&rules).unwrap();
    let mut all_scratch = all.scratch();
    let mut failures = Vec::new();
    for rule in rules.iter() {
        let mut only = RuleSet::default();
        let toml = format!("[[rule]]\n{}", toml::to_string(rule).unwrap());
        only.add_file(&rule.id, &toml).unwrap();
        let scanner = warrant_scan::Scanner::new(&only).unwrap();
        let mut scratch = scanner.scratch();
        let mut found = |text: &str| scanner.scan(text.as_bytes(), &mut scratch).len();
        for ex in &rule.examples {
            // Alone, and embedded in other text (not at the start or end of the blob).
            if found(ex) == 0 {
                failures.push(format!("{}: example not found: {ex}", rule.id));
            }
            let embedded = format!("line one\r\n{ex}\nline three\n");
            if found(&embedded) == 0 {
                failures.push(format!("{}: embedded example not found: {ex}", rule.id));
            }
            if all.scan(embedded.as_bytes(), &mut all_scratch).is_empty() {
                failures.push(format!("{}: not found with all rules: {ex}", rule.id));
            }
        }
        for ex in &rule.negative_examples {
            if found(ex) > 0 {
                failures.push(format!("{}: negative example found: {ex}", rule.id));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
