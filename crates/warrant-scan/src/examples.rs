//! A rule's own examples, checked through the full engine: every positive example yields a
//! finding of that rule (alone, embedded in other text, and beside every other rule), no
//! negative example yields one, and every example holds one of the rule's keywords (or the
//! prefilter would never look at it). CI runs this on the built-in rules; `warrant scan
//! --check-rules FILE` runs it on a user's rule file.

use crate::rules::RuleError;
use crate::{RuleSet, Scanner};

/// What fails in the examples of `checked`'s rules, one line each, with `all` (the rule set
/// the rules will run in) for the check beside the other rules.
pub fn example_failures(checked: &RuleSet, all: &RuleSet) -> Result<Vec<String>, RuleError> {
    let everything = Scanner::new(all)?;
    let mut all_scratch = everything.scratch();
    let mut failures = Vec::new();
    for rule in checked.iter() {
        let scanner = Scanner::new(&RuleSet::of(rule.clone()))?;
        let mut scratch = scanner.scratch();
        let mut found = |text: &str| {
            scanner
                .scan(text.as_bytes(), &mut scratch)
                .iter()
                .filter(|m| scanner.rules().get(m.rule).is_some_and(|r| r.id == rule.id))
                .count()
        };
        for ex in &rule.examples {
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
            // Alone, and embedded in other text (not at the start or end of the blob).
            if found(ex) == 0 {
                failures.push(format!("{}: example not found: {ex}", rule.id));
            }
            let embedded = format!("line one\r\n{ex}\nline three\n");
            if found(&embedded) == 0 {
                failures.push(format!("{}: embedded example not found: {ex}", rule.id));
            }
            if everything
                .scan(embedded.as_bytes(), &mut all_scratch)
                .is_empty()
            {
                failures.push(format!("{}: not found with all rules: {ex}", rule.id));
            }
        }
        for ex in &rule.negative_examples {
            if found(ex) > 0 {
                failures.push(format!("{}: negative example found: {ex}", rule.id));
            }
        }
    }
    Ok(failures)
}
