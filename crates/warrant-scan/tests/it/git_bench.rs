#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
//! Throughput of the history reader (not a pass/fail test). Run on a repository of your
//! choice, in release mode:
//!
//! ```sh
//! WARRANT_GIT_BENCH_REPO=/path/to/repo \
//!   cargo test --release -p warrant-scan --test it -- git_bench --ignored --nocapture
//! ```
//!
//! Prints, per thread count, distinct blobs and bytes delivered, wall time, blobs/s and MB/s.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use warrant_scan::git::{GitOptions, scan_history};
use warrant_scan::{BlobSink, Origin};

#[derive(Default)]
struct Count {
    blobs: AtomicU64,
    bytes: AtomicU64,
    skipped: AtomicU64,
}

impl BlobSink for Count {
    fn blob(&self, _: &Origin, data: &[u8]) {
        self.blobs.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
    }
    fn skipped(&self, _: &Origin, _: &str) {
        self.skipped.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
#[ignore = "benchmark: needs WARRANT_GIT_BENCH_REPO, run with --release --ignored --nocapture"]
fn history_throughput() {
    let Some(repo) = std::env::var_os("WARRANT_GIT_BENCH_REPO").map(PathBuf::from) else {
        println!("WARRANT_GIT_BENCH_REPO not set; nothing measured");
        return;
    };
    let threads: Vec<usize> = std::env::var("WARRANT_GIT_BENCH_THREADS")
        .ok()
        .map(|t| t.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 2]);
    println!("repository: {}", repo.display());
    for n in threads {
        let sink = Count::default();
        let options = GitOptions {
            threads: n,
            ..GitOptions::default()
        };
        let start = Instant::now();
        let stats = scan_history(&repo, &options, &sink).unwrap();
        let secs = start.elapsed().as_secs_f64();
        let blobs = sink.blobs.load(Ordering::Relaxed);
        let bytes = sink.bytes.load(Ordering::Relaxed);
        println!(
            "threads={n}: {} refs, {} commits, {} trees, {} distinct blobs ({} to sink, {} skipped), {:.1} MB in {:.2} s: {:.0} blobs/s, {:.1} MB/s",
            stats.refs,
            stats.commits,
            stats.trees,
            stats.blobs,
            blobs,
            sink.skipped.load(Ordering::Relaxed),
            bytes as f64 / 1e6,
            secs,
            stats.blobs as f64 / secs,
            bytes as f64 / 1e6 / secs,
        );
    }
}
