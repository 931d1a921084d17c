#![no_main]
//! Fuzz target: the input gzipped and cut at every fuzzer-chosen point keeps the events before
//! the cut and reports the rest, never a panic.

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use warrant_activity::ingest::{IngestOptions, ingest_reader};

fuzz_target!(|data: &[u8]| {
    let Some((&cut, body)) = data.split_first() else {
        return;
    };
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    if enc.write_all(body).is_err() {
        return;
    }
    let Ok(compressed) = enc.finish() else {
        return;
    };
    let keep = compressed.len() * usize::from(cut) / 255;
    let options = IngestOptions {
        buffer_bytes: 64,
        ..IngestOptions::default()
    };
    let _ = ingest_reader("fuzz.gz", &compressed[..keep], &options, &mut |_| {});
});
