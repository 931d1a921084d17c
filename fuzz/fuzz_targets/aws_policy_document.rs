#![no_main]
//! Fuzz target: arbitrary bytes must give a result or a located error, never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(statements) = warrant_aws_policy::parse_policy_document_str(text) {
            let policy = warrant_core::Policy {
                id: "p".into(),
                name: "p".into(),
                provider: warrant_core::Provider::Aws,
                kind: warrant_core::PolicyKind::Inline,
                statements,
                provenance: Default::default(),
            };
            let attachment = warrant_core::Attachment { identity: "i".into(), policy: "p".into(), via: None, scope: None };
            let _ = warrant_aws_policy::summarize(&[(&attachment, &policy)], None);
        }
    }
});
