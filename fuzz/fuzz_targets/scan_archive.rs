#![no_main]
//! Fuzz target: arbitrary bytes as an archive must yield members or skip messages, never a
//! panic, and stay within the limits.

use libfuzzer_sys::fuzz_target;
use warrant_scan::archive::{ArchiveLimits, scan_archive};
use warrant_scan::{BlobSink, Origin};

struct Discard;

impl BlobSink for Discard {
    fn blob(&self, _: &Origin, data: &[u8]) {
        std::hint::black_box(data);
    }
    fn skipped(&self, _: &Origin, reason: &str) {
        std::hint::black_box(reason);
    }
}

fuzz_target!(|data: &[u8]| {
    // Smaller limits than the defaults keep each run fast; the logic is the same.
    let limits = ArchiveLimits {
        max_total_bytes: 64 << 20,
        max_member_bytes: 16 << 20,
        ..ArchiveLimits::default()
    };
    let origin = Origin::File {
        path: "fuzz".to_string(),
    };
    scan_archive(&origin, data, &limits, &Discard);
});
