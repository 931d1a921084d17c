#![no_main]
//! Fuzz target: any CODEOWNERS text parses (bad lines are reported, never a panic), and any
//! path can be asked for its owners.

use libfuzzer_sys::fuzz_target;
use warrant_scan::codeowners::Codeowners;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (file, path) = text.split_once('\0').unwrap_or((&text, "src/main.rs"));
    let owners = Codeowners::parse("CODEOWNERS", file);
    let _ = owners.owners_of(path);
});
