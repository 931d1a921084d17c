#![allow(
    clippy::disallowed_methods,
    reason = "the raw-parse baseline reads whole files by design"
)]
#![allow(
    clippy::indexing_slicing,
    reason = "tests, examples and benchmarks index their own data"
)]
//! Throughput of activity ingestion against the raw JSON parse rate of the same bytes.
//!
//! usage: ingest_bench ingest|raw-ignored|raw-value PATH…
//!
//! `ingest` runs `ingest_paths` end to end (gzip, framing, typed parse, normalised events, a
//! sink that attributes each event against an empty inventory and counts it). `raw-ignored`
//! parses each file whole with serde_json into `{"Records": [IgnoredAny]}`; `raw-value` into
//! `serde_json::Value`. All modes run files in parallel on the rayon pool, so
//! `RAYON_NUM_THREADS=1` gives per-core figures. Prints one `key=value` line.

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;
use warrant_activity::ingest::{IngestOptions, collect_files, ingest_paths};
use warrant_activity::{Attribution, Attributor};

#[derive(serde::Deserialize)]
struct Delivery {
    #[serde(rename = "Records")]
    records: Vec<serde::de::IgnoredAny>,
}

fn read_all(path: &PathBuf) -> Vec<u8> {
    let mut bytes = Vec::new();
    let Ok(file) = std::fs::File::open(path) else {
        return bytes;
    };
    let mut reader: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(
            file,
        )))
    } else {
        Box::new(file)
    };
    if reader.read_to_end(&mut bytes).is_err() {
        bytes.clear();
    }
    bytes
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_default();
    let paths: Vec<PathBuf> = args.map(PathBuf::from).collect();
    let threads = rayon::current_num_threads();
    let start = Instant::now();
    let events = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    let bad = match mode.as_str() {
        "ingest" => {
            let attributor = Attributor::default();
            let shadows = AtomicU64::new(0);
            let report = ingest_paths(&paths, &IngestOptions::default(), &|event| {
                if matches!(attributor.attribute(&event), Attribution::Shadow(_)) {
                    shadows.fetch_add(1, Ordering::Relaxed);
                }
                events.fetch_add(1, Ordering::Relaxed);
            });
            bytes.store(
                report.files.iter().map(|f| f.bytes).sum(),
                Ordering::Relaxed,
            );
            report.bad_count
        }
        "raw-ignored" | "raw-value" => {
            let (files, _) = collect_files(&paths);
            files.par_iter().for_each(|path| {
                let data = read_all(path);
                bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
                let n = if mode == "raw-value" {
                    serde_json::from_slice::<serde_json::Value>(&data)
                        .ok()
                        .and_then(|v| v.get("Records").and_then(|r| r.as_array()).map(Vec::len))
                        .unwrap_or(0)
                } else {
                    serde_json::from_slice::<Delivery>(&data)
                        .map(|d| d.records.len())
                        .unwrap_or(0)
                };
                events.fetch_add(n as u64, Ordering::Relaxed);
            });
            0
        }
        _ => {
            eprintln!("usage: ingest_bench ingest|raw-ignored|raw-value PATH…");
            std::process::exit(2);
        }
    };
    let secs = start.elapsed().as_secs_f64();
    let events = events.load(Ordering::Relaxed);
    let bytes = bytes.load(Ordering::Relaxed);
    println!(
        "mode={mode} threads={threads} events={events} bad={bad} seconds={secs:.2} events_per_s={:.0} events_per_s_per_core={:.0} mb_per_s={:.0}",
        events as f64 / secs,
        events as f64 / secs / threads as f64,
        bytes as f64 / secs / 1e6,
    );
}
