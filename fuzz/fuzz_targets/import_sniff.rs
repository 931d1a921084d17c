#![no_main]
//! Fuzz target: arbitrary bytes must give a result or a located error, never a panic.

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = warrant_connectors::sniff(Path::new("x.json"), data);
});
