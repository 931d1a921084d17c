#![no_main]
//! Fuzz target: any bytes, as any log kind or sniffed, give events and placed bad records,
//! never a panic or a hang. Small buffers exercise refills mid-record.

use libfuzzer_sys::fuzz_target;
use warrant_activity::LogKind;
use warrant_activity::ingest::{IngestOptions, ingest_reader};

fuzz_target!(|data: &[u8]| {
    let forced = [
        None,
        Some(LogKind::CloudTrail),
        Some(LogKind::KubernetesAudit),
        Some(LogKind::GitHubAudit),
        Some(LogKind::OtelGenAi),
        Some(LogKind::OktaSystemLog),
    ];
    for format in forced {
        let options = IngestOptions {
            format,
            buffer_bytes: 64,
            max_record_bytes: 1 << 16,
            ..IngestOptions::default()
        };
        let mut n = 0u64;
        let report = ingest_reader("fuzz", data, &options, &mut |_| n += 1);
        assert_eq!(report.events, n);
    }
});
