#![allow(
    clippy::disallowed_methods,
    reason = "a benchmark reading its own corpus and /proc"
)]
#![allow(
    clippy::indexing_slicing,
    reason = "tests, examples and benchmarks index their own data"
)]
//! Self-measure of the scanner: `cargo bench -p warrant-scan --bench scan_throughput -- DIR
//! [THREADS]` scans DIR with the built-in rules and prints throughput, peak RSS and findings.
//! `bench/scan-engine.sh` builds a corpus of real source text and runs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use warrant_core::Fingerprinter;
use warrant_scan::{RuleSet, ScanOptions, scan};

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    // `cargo bench` passes `--bench`; ignore flags.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: scan_throughput DIR [THREADS]");
        return;
    };
    let threads: usize = args.get(1).and_then(|t| t.parse().ok()).unwrap_or(2);
    let rules = RuleSet::builtin().unwrap();
    let options = ScanOptions {
        paths: vec![PathBuf::from(dir)],
        threads,
        ..ScanOptions::default()
    };
    let fp = Fingerprinter::new(b"bench");
    let start = Instant::now();
    let report = scan(&options, &rules, &fp, &|_| {}).unwrap();
    let secs = start.elapsed().as_secs_f64();
    let mb = report.bytes_scanned as f64 / 1e6;
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &report.findings {
        *by_rule.entry(f.rule.as_str()).or_default() += 1;
    }
    println!("rules            {}", rules.len());
    println!("threads          {threads}");
    println!("files scanned    {}", report.files_scanned);
    println!("binary skipped   {}", report.binary_skipped);
    println!("MB scanned       {mb:.1}");
    println!("seconds          {secs:.2}");
    println!("MB/s             {:.1}", mb / secs);
    if let Some(kib) = peak_rss_kib() {
        println!("peak RSS MiB     {:.1}", kib as f64 / 1024.0);
    }
    println!("findings         {}", report.findings.len());
    for (rule, n) in by_rule {
        println!("  {n:>7}  {rule}");
    }
    if std::env::var_os("SCAN_BENCH_KEYWORDS").is_some() {
        keyword_hits(&rules, dir);
    }
    if std::env::var_os("SCAN_BENCH_LIST").is_some() {
        for f in &report.findings {
            println!(
                "{}\t{}:{}\t{}",
                f.rule,
                f.origin.display_path(),
                f.line,
                f.preview
            );
        }
    }
}

/// How often each keyword occurs in the corpus: the prefilter's cost driver, for tuning rules.
fn keyword_hits(rules: &RuleSet, dir: &str) {
    let mut keywords: Vec<String> = rules
        .iter()
        .flat_map(|r| r.keywords.iter().map(|k| k.to_ascii_lowercase()))
        .collect();
    keywords.sort();
    keywords.dedup();
    let prefilter = warrant_scan::prefilter::Keywords::new(&keywords);
    let mut counts = vec![0u64; keywords.len()];
    let mut stack = vec![PathBuf::from(dir)];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            for e in std::fs::read_dir(&p).unwrap().flatten() {
                stack.push(e.path());
            }
        } else if let Ok(data) = std::fs::read(&p) {
            prefilter.for_each(&data, |hit| counts[hit.keyword as usize] += 1);
        }
    }
    let mut ranked: Vec<(u64, &String)> = counts.iter().copied().zip(&keywords).collect();
    ranked.sort_by(|a, b| b.cmp(a));
    println!("keyword hits (top 40):");
    for (n, k) in ranked.iter().take(40) {
        let owners: Vec<&str> = rules
            .iter()
            .filter(|r| r.keywords.iter().any(|x| x.eq_ignore_ascii_case(k)))
            .map(|r| r.id.as_str())
            .collect();
        println!("  {n:>9}  {k:?}  {}", owners.join(", "));
    }
}
