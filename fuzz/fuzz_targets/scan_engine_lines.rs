#![no_main]
//! Fuzz target: the scanning engine on arbitrary bytes (long lines, no newlines, invalid UTF-8)
//! never panics, and every match's position agrees with counting from the top; snippets and
//! inline-allow marks are bounded and never panic.

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use warrant_scan::allow::InlineMarks;
use warrant_scan::finding::snippet;
use warrant_scan::{RuleSet, Scanner};

fn scanner() -> &'static Scanner {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    SCANNER.get_or_init(|| {
        let rules = RuleSet::builtin().expect("the built-in rules load");
        Scanner::new(&rules).expect("the built-in rules compile")
    })
}

fuzz_target!(|data: &[u8]| {
    let scanner = scanner();
    let mut scratch = scanner.scratch();
    let marks = InlineMarks::of(data);
    for m in scanner.scan(data, &mut scratch).iter() {
        assert!(m.secret_start <= m.secret_end && m.secret_end <= data.len());
        let before = &data[..m.secret_start];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        assert_eq!(m.line, line);
        let _ = marks.allows(m.line);
        let text = snippet(data, m.secret_start, m.secret_end, "…");
        assert!(text.chars().count() <= 210);
    }
});
