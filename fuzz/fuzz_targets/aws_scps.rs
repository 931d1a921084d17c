#![no_main]
//! Fuzz target: arbitrary bytes must give a result or a located error, never a panic.

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fn ctx() -> warrant_connectors::ImportContext {
    warrant_connectors::ImportContext::new(warrant_core::Fingerprinter::new(b"fuzz"))
}

fuzz_target!(|data: &[u8]| {
    let _ = warrant_connectors::aws::scps::parse(Path::new("fuzz.json"), data, &ctx());
});
