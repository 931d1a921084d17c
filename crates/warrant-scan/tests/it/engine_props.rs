//! Property tests of the engine: a planted token is found at any offset of random text with the
//! right line and column, and nothing that is not in the input is ever reported.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use warrant_scan::{RuleSet, Scanner};

const GH: &str = "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";

fn scanner() -> &'static Scanner {
    static SCANNER: std::sync::OnceLock<Scanner> = std::sync::OnceLock::new();
    SCANNER.get_or_init(build)
}

fn build() -> Scanner {
    let mut set = RuleSet::builtin().unwrap();
    set.add_file(
        "t.toml",
        r#"[[rule]]
id = "github.pat-classic"
name = "GitHub PAT"
provider = "github"
pattern = '''\b(ghp_[A-Za-z0-9]{36})\b'''
keywords = ["ghp_"]
validator = "github-crc32"
confidence = "high"
examples = ["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"]
"#,
    )
    .unwrap();
    Scanner::new(&set).unwrap()
}

/// Text that looks like source: words, punctuation, CR/LF, tabs, some non-ASCII, and fragments
/// of keywords that must not produce findings on their own.
fn noise() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[a-zA-Z0-9_]{1,12}",
            Just(" ".to_string()),
            Just("\n".to_string()),
            Just("\r\n".to_string()),
            Just("\t".to_string()),
            Just("= \"".to_string()),
            Just("ghp_".to_string()),
            Just("xoxb-".to_string()),
            Just("AKIA".to_string()),
            Just("password".to_string()),
            Just("é→".to_string()),
        ],
        0..400,
    )
    .prop_map(|parts| parts.concat())
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    (line, before[line_start..].chars().count() + 1)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn planted_token_is_found_anywhere(prefix in noise(), suffix in noise()) {
        let scanner = scanner();
        let mut scratch = scanner.scratch();
        let text = format!("{prefix} {GH} {suffix}");
        let offset = prefix.len() + 1;
        let matches = scanner.scan(text.as_bytes(), &mut scratch);
        let hits: Vec<_> = matches
            .iter()
            .filter(|m| scanner.rules()[m.rule].id == "github.pat-classic")
            .collect();
        prop_assert_eq!(hits.len(), 1);
        let m = hits[0];
        prop_assert_eq!(m.secret(text.as_bytes()), GH.as_bytes());
        prop_assert_eq!(m.secret_start, offset);
        prop_assert_eq!((m.line, m.column), line_col(&text, offset));
    }

    #[test]
    fn findings_are_always_slices_of_the_input(text in noise()) {
        let scanner = scanner();
        let mut scratch = scanner.scratch();
        for m in scanner.scan(text.as_bytes(), &mut scratch) {
            prop_assert!(m.start <= m.secret_start && m.secret_end <= m.end);
            prop_assert!(m.end <= text.len());
            prop_assert!(m.secret_start < m.secret_end);
            // The noise alphabet cannot form a checksummed GitHub token.
            prop_assert_ne!(scanner.rules()[m.rule].id.as_str(), "github.pat-classic");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..2000)) {
        let scanner = scanner();
        let mut scratch = scanner.scratch();
        let _ = scanner.scan(&data, &mut scratch);
    }
}
