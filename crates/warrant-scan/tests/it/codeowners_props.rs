//! CODEOWNERS parsing on arbitrary text: never a panic, every bad line reported once with its
//! number, and the deciding entry is always one of the file's lines.

use proptest::prelude::*;
use warrant_scan::codeowners::Codeowners;

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,40}",
        (
            "[a-z*/._-]{1,12}",
            prop::collection::vec("@[a-z]{1,6}(/[a-z]{1,6})?", 0..3)
        )
            .prop_map(|(p, o)| format!("{p} {}", o.join(" "))),
        Just("# comment".to_string()),
        Just("!negated @x".to_string()),
        Just("[ab].txt @x".to_string()),
    ]
}

proptest! {
    #[test]
    fn any_file_parses_and_any_path_has_a_line_of_it_or_none(
        lines in prop::collection::vec(line(), 0..20),
        path in "[a-z./_-]{0,30}",
    ) {
        let text = lines.join("\n");
        let c = Codeowners::parse("CODEOWNERS", &text);
        let count = lines.len();
        for (n, _) in &c.problems {
            prop_assert!(*n >= 1 && *n <= count);
        }
        if let Some(owned) = c.owners_of(&path) {
            prop_assert!(owned.line >= 1 && owned.line <= count);
            prop_assert!(!c.problems.iter().any(|(n, _)| *n == owned.line));
        }
    }
}
