//! The library-level scan: directory walk, binary and size skips, symlinks, .gitignore, inline
//! markers, baselines, allowlists, and every output format (SARIF validated against the official
//! 2.1.0 schema).
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use warrant_core::Fingerprinter;
use warrant_scan::allow::AllowlistConfig;
use warrant_scan::{Allowlist, Baseline, Confidence, RuleSet, ScanOptions, ScanReport, output};

const GH: &str = "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";
const GH2: &str = "ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

fn rules() -> RuleSet {
    let mut set = RuleSet::default();
    set.add_file(
        "test.toml",
        r#"[[rule]]
id = "github.pat-classic"
name = "GitHub personal access token (classic)"
provider = "github"
kind = "token"
pattern = '''\b(ghp_[A-Za-z0-9]{36})\b'''
keywords = ["ghp_"]
validator = "github-crc32"
confidence = "high"
references = ["https://docs.github.com/en/authentication"]
examples = ["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"]

[[rule]]
id = "test.plain"
name = "Test plain token"
provider = "test"
pattern = '''\b(tst_[A-Za-z0-9]{36})\b'''
keywords = ["tst_"]
confidence = "low"
examples = ["tst_Qm7Rk2Zp9Lx4Vt8Wn3Bc6Hy1Dj5Fs0GaE2uK"]
"#,
    )
    .unwrap();
    set
}

fn fp() -> Fingerprinter {
    Fingerprinter::new(b"test-key")
}

fn run(options: &ScanOptions) -> ScanReport {
    warrant_scan::scan(options, &rules(), &fp(), &|_| {}).unwrap()
}

fn options(root: &Path) -> ScanOptions {
    ScanOptions {
        paths: vec![root.to_path_buf()],
        threads: 2,
        ..ScanOptions::default()
    }
}

fn write(root: &Path, rel: &str, content: &[u8]) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

fn paths(report: &ScanReport) -> Vec<String> {
    report
        .findings
        .iter()
        .map(|f| f.origin.display_path())
        .collect()
}

#[test]
fn walks_a_tree_and_finds_secrets_with_locations_and_no_raw_secret() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "a/config.env",
        format!("X=1\nTOKEN={GH}\n").as_bytes(),
    );
    write(root, ".hidden/.env", GH.as_bytes());
    write(root, "clean.txt", b"nothing here ghp_ but a prefix\n");
    write(root, ".git/config", GH.as_bytes());
    let progress = AtomicU64::new(0);
    let report = warrant_scan::scan(&options(root), &rules(), &fp(), &|b| {
        progress.fetch_max(b, Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(report.findings.len(), 2, "{:?}", report.findings);
    assert_eq!(report.files_scanned, 3, ".git is never entered");
    assert_eq!(progress.load(Ordering::Relaxed), report.bytes_scanned);
    let f = report
        .findings
        .iter()
        .find(|f| f.origin.display_path().ends_with("config.env"))
        .unwrap();
    assert_eq!((f.line, f.column, f.end_line, f.end_column), (2, 7, 2, 46));
    assert_eq!(f.rule, "github.pat-classic");
    assert_eq!(f.confidence, Confidence::High);
    assert_eq!(f.preview, "ghp_…gY");
    assert_eq!(f.snippet_redacted, "TOKEN=ghp_…gY");
    assert_eq!(f.fingerprint, fp().fingerprint(GH.as_bytes()));
    let all = serde_json::to_string(&report.findings).unwrap();
    assert!(!all.contains(GH), "raw secret serialised");
    assert!(report.revealed.is_empty());
}

#[test]
fn checksum_failures_are_not_reported() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "x.txt", GH2.as_bytes());
    assert!(run(&options(dir.path())).findings.is_empty());
}

#[test]
fn binary_files_are_skipped_by_sniffing_and_hooks_see_them_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut bin = b"\x00\x01binary".to_vec();
    bin.extend_from_slice(GH.as_bytes());
    write(dir.path(), "blob.bin", &bin);
    let mut late = vec![b'a'; 9000];
    late.push(0);
    late.extend_from_slice(format!("\n{GH}\n").as_bytes());
    write(dir.path(), "late-nul.txt", &late);
    let report = run(&options(dir.path()));
    assert_eq!(report.binary_skipped, 1);
    assert_eq!(paths(&report).len(), 1);
    assert!(paths(&report)[0].ends_with("late-nul.txt"));

    // An archive hook claims the binary file and reports a member of its own.
    let mut opts = options(dir.path());
    opts.archive_hook = Some(std::sync::Arc::new(|origin, data, sink| {
        if data.starts_with(b"\x00\x01") {
            let member = warrant_scan::Origin::Archive {
                container: Box::new(origin.clone()),
                member: "inner.txt".into(),
            };
            sink.blob(&member, &data[8..]);
            true
        } else {
            false
        }
    }));
    let report = run(&opts);
    assert_eq!(report.archives, 1);
    assert!(
        paths(&report)
            .iter()
            .any(|p| p.ends_with("blob.bin!inner.txt"))
    );
}

#[test]
fn files_over_the_size_limit_are_skipped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "big.txt",
        format!("{GH}{}", " ".repeat(200)).as_bytes(),
    );
    write(dir.path(), "small.txt", GH.as_bytes());
    let mut opts = options(dir.path());
    opts.max_file_size = 100;
    let report = run(&opts);
    assert_eq!(paths(&report).len(), 1);
    assert_eq!(report.skipped.len(), 1);
    assert!(report.skipped[0].origin.display_path().ends_with("big.txt"));
    assert!(
        report.skipped[0]
            .reason
            .contains("exceeds the limit of 100 bytes")
    );
}

#[test]
fn gitignore_is_honoured_only_on_request() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".gitignore", b"ignored/\n");
    write(dir.path(), "ignored/a.env", GH.as_bytes());
    write(dir.path(), "kept.env", GH.as_bytes());
    assert_eq!(run(&options(dir.path())).findings.len(), 2);
    let mut opts = options(dir.path());
    opts.respect_gitignore = true;
    let report = run(&opts);
    assert_eq!(report.findings.len(), 1);
    assert!(paths(&report)[0].ends_with("kept.env"));
}

#[cfg(unix)]
#[test]
fn symlinks_are_not_followed_by_default_and_loops_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "real/secret.env", GH.as_bytes());
    std::os::unix::fs::symlink(root.join("real"), root.join("link")).unwrap();
    // A loop: real/loop -> real's parent.
    std::os::unix::fs::symlink(root, root.join("real/loop")).unwrap();
    let report = run(&options(root));
    assert_eq!(report.findings.len(), 1, "{:?}", paths(&report));

    let mut opts = options(root);
    opts.follow_symlinks = true;
    let report = run(&opts);
    assert!(report.findings.len() >= 2, "{:?}", paths(&report));
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.reason.contains("symbolic link loop")),
        "{:?}",
        report.skipped
    );
}

/// Defect (issue 10's hostile corpus, `tests/hostile` case deep-dirs): the walk stopped at its
/// depth limit without a word, so a secret below 256 levels was missed and the report said
/// "0 not scanned". The directory not entered is now reported, as `import` and `ingest` do.
#[test]
fn a_tree_deeper_than_the_walk_limit_is_reported_not_cut_silently() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "top.env", GH.as_bytes());
    let limit = warrant_input::walk::DEFAULT_MAX_DEPTH;
    let deep = vec!["d"; limit + 4].join("/");
    write(root, &format!("{deep}/bottom.env"), GH.as_bytes());
    let report = run(&options(root));
    assert_eq!(paths(&report), [root.join("top.env").display().to_string()]);
    let not_entered = root.join(vec!["d"; limit].join("/"));
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
    assert_eq!(
        report.skipped[0].origin.display_path(),
        not_entered.display().to_string()
    );
    assert_eq!(
        report.skipped[0].reason,
        format!("not entered: nested deeper than the walk's limit of {limit} levels")
    );
}

/// A device or FIFO named as a path is not read (a FIFO would block the reader) but is named
/// among the skipped instead of vanishing; inside a tree such entries are passed over quietly.
#[cfg(unix)]
#[test]
fn a_device_named_as_a_path_is_reported_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.env", GH.as_bytes());
    let mut opts = options(root);
    opts.paths.push("/dev/null".into());
    let report = run(&opts);
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
    assert_eq!(report.skipped[0].origin.display_path(), "/dev/null");
    assert!(
        report.skipped[0].reason.starts_with("not a regular file"),
        "{:?}",
        report.skipped
    );
}

#[test]
fn inline_markers_baselines_and_allowlists_suppress_and_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let tst = "tst_Qm7Rk2Zp9Lx4Vt8Wn3Bc6Hy1Dj5Fs0GaE2uK";
    write(
        root,
        "src/a.py",
        format!("t = '{GH}'  # warrant:allow\n# warrant:allow\nu = '{tst}'\nv = '{tst}'\n")
            .as_bytes(),
    );
    write(root, "fixtures/b.env", GH.as_bytes());
    let report = run(&options(root));
    assert_eq!(report.suppressed.inline, 2);
    assert_eq!(report.findings.len(), 2);

    // Baseline of the current findings: the next scan reports nothing new.
    let baseline = Baseline::from_findings(&report.findings);
    let path = root.join("baseline.json");
    fs::write(&path, baseline.to_json()).unwrap();
    let mut opts = options(root);
    opts.baseline = Some(path.clone());
    let report = run(&opts);
    assert!(report.findings.is_empty());
    assert_eq!(report.suppressed.baseline, 2);

    // Allowlist by path glob and by rule.
    let mut opts = options(root);
    opts.allowlist = Some(
        Allowlist::new(&AllowlistConfig {
            paths: vec!["**/fixtures/**".into()],
            rules: vec!["test.plain".into()],
            fingerprints: vec![],
        })
        .unwrap(),
    );
    let report = run(&opts);
    assert!(report.findings.is_empty(), "{:?}", paths(&report));
    assert_eq!(report.suppressed.allowlist, 2);

    // A broken baseline file is an error naming the file.
    fs::write(&path, "{ not json").unwrap();
    let mut opts = options(root);
    opts.baseline = Some(path);
    let err = warrant_scan::scan(&opts, &rules(), &fp(), &|_| {}).unwrap_err();
    assert!(err.to_string().contains("baseline.json"), "{err}");
}

#[test]
fn disabled_and_extra_rules_change_the_rule_set() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "a.txt",
        format!("{GH}\nmy_8f3a1c9e2b7d4605\n").as_bytes(),
    );
    write(
        root,
        "extra.toml",
        br#"[[rule]]
id = "user.mine"
name = "Mine"
provider = "user"
pattern = '''\bmy_[0-9a-f]{16}\b'''
keywords = ["my_"]
confidence = "medium"
examples = ["my_8f3a1c9e2b7d4605"]
"#,
    );
    let mut opts = options(&root.join("a.txt"));
    opts.extra_rule_files = vec![root.join("extra.toml")];
    opts.disabled_rules = vec!["github.pat-classic".into()];
    let report = run(&opts);
    let rules: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, vec!["user.mine"]);
    opts.disabled_rules = vec!["nope".into()];
    assert!(warrant_scan::scan(&opts, &rules_set(), &fp(), &|_| {}).is_err());
}

fn rules_set() -> RuleSet {
    rules()
}

#[test]
fn missing_path_and_nothing_to_scan_are_errors() {
    let opts = ScanOptions {
        paths: vec!["/definitely/not/here".into()],
        ..ScanOptions::default()
    };
    let err = warrant_scan::scan(&opts, &rules(), &fp(), &|_| {}).unwrap_err();
    assert!(err.to_string().contains("/definitely/not/here"));
    let err = warrant_scan::scan(&ScanOptions::default(), &rules(), &fp(), &|_| {}).unwrap_err();
    assert!(err.to_string().contains("nothing to scan"));
}

#[test]
fn reveal_keeps_raw_secrets_apart_from_findings() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.env", GH.as_bytes());
    let mut opts = options(dir.path());
    opts.reveal_secrets = true;
    let report = run(&opts);
    let f = &report.findings[0];
    assert_eq!(report.revealed.get(&f.fingerprint), Some(GH));
    assert!(!format!("{report:?}").contains(GH));
}

/// A fixed report for the output formats.
fn sample_report() -> ScanReport {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "src/main.rs",
        format!("let t = \"{GH}\";\n").as_bytes(),
    );
    write(
        root,
        "deploy/a b.env",
        b"X=1\nT=tst_Qm7Rk2Zp9Lx4Vt8Wn3Bc6Hy1Dj5Fs0GaE2uK\n",
    );
    write(root, "big.txt", &vec![b'x'; 300]);
    let mut opts = options(root);
    opts.max_file_size = 200;
    let mut report = run(&opts);
    // Make paths independent of the temp dir for snapshots.
    let prefix = format!("{}/", root.display());
    for f in &mut report.findings {
        if let warrant_scan::Origin::File { path } = &mut f.origin {
            *path = path.replace(&prefix, "");
        }
    }
    for s in &mut report.skipped {
        if let warrant_scan::Origin::File { path } = &mut s.origin {
            *path = path.replace(&prefix, "");
        }
    }
    report.bytes_scanned = 0;
    report
}

#[test]
fn table_json_and_jsonl_outputs() {
    let report = sample_report();
    let mut table = Vec::new();
    output::write_table(&report, false, &mut table).unwrap();
    let table = String::from_utf8(table).unwrap();
    insta::assert_snapshot!("table", table);
    assert!(!table.contains(GH));

    let mut json = Vec::new();
    output::write_json(&report, &mut json).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&json).unwrap();
    // Keys sorted by insta, whatever order serde_json's map keeps (Cedar elsewhere in the
    // build turns on `preserve_order`).
    insta::with_settings!({sort_maps => true}, {
        insta::assert_json_snapshot!("json", doc);
    });

    let mut lines = Vec::new();
    output::write_jsonl(&report, &mut lines).unwrap();
    let lines = String::from_utf8(lines).unwrap();
    assert_eq!(lines.lines().count(), 2);
    for line in lines.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["fingerprint"].as_str().unwrap().starts_with("fp1:"));
    }
    for text in [&String::from_utf8(json).unwrap(), &lines] {
        assert!(!text.contains(GH));
    }
}

#[test]
fn exit_code_policy() {
    let report = sample_report();
    let s = warrant_scan::ScanSummary::of(&report);
    assert_eq!((s.high, s.low), (1, 1));
    assert_eq!(s.exit_code(Some(Confidence::Low)), 1);
    assert_eq!(s.exit_code(Some(Confidence::High)), 1);
    assert_eq!(s.exit_code(None), 0);
    let empty = warrant_scan::ScanSummary::default();
    assert_eq!(empty.exit_code(Some(Confidence::Low)), 0);
}

fn sarif_validator() -> jsonschema::Validator {
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-2.1.0.json");
    let schema: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(schema_path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let report = sample_report();
    let log = output::sarif(&report, &rules(), None);
    let validator = sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    insta::assert_json_snapshot!("sarif", log);

    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let r = results
        .iter()
        .find(|r| r["ruleId"] == "github.pat-classic")
        .unwrap();
    assert_eq!(r["level"], "error");
    let region = &r["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (
            &region["startLine"],
            &region["startColumn"],
            &region["endColumn"]
        ),
        (&1.into(), &10.into(), &50.into())
    );
    assert_eq!(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "src/main.rs"
    );
    assert!(
        r["partialFingerprints"]["warrantSecret/v1"]
            .as_str()
            .unwrap()
            .starts_with("fp1:")
    );
    let rule_index = r["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(
        log["runs"][0]["tool"]["driver"]["rules"][rule_index]["id"],
        "github.pat-classic"
    );
    assert!(!log.to_string().contains(GH));

    // The validator is not vacuous: a broken log fails.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&broken));
}

#[test]
fn sarif_git_origins_carry_the_commit() {
    let mut report = sample_report();
    for f in &mut report.findings {
        f.origin = warrant_scan::Origin::Git {
            repo: "/srv/repo".into(),
            commit: "0123456789abcdef0123456789abcdef01234567".into(),
            path: f.origin.display_path(),
            author: Some("Dev".into()),
            email: Some("dev@example.com".into()),
            date: None,
        };
    }
    let log = output::sarif(&report, &rules(), None);
    let errors: Vec<String> = sarif_validator()
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let run = &log["runs"][0];
    assert_eq!(
        run["results"][0]["properties"]["commit"],
        "0123456789abcdef0123456789abcdef01234567"
    );
    assert_eq!(
        run["versionControlProvenance"][0]["revisionId"],
        "0123456789abcdef0123456789abcdef01234567"
    );
    assert_eq!(
        run["versionControlProvenance"][0]["repositoryUri"],
        "file:///srv/repo"
    );
}

#[test]
fn stdin_is_scanned_as_its_own_origin() {
    use warrant_scan::walk::{WalkOptions, WalkStats, scan_stdin};
    let scanner = warrant_scan::Scanner::new(&rules()).unwrap();
    let filters = warrant_scan::Filters::new(None, None);
    let fpr = fp();
    let collector = warrant_scan::Collector::new(&scanner, &fpr, &filters, false, None);
    let stats = WalkStats::default();
    let text = format!("echo {GH}\n");
    let mut input: &[u8] = text.as_bytes();
    let input_ref: &mut dyn std::io::Read = &mut input;
    scan_stdin(input_ref, &WalkOptions::default(), &collector, &stats);
    let out = collector.finish();
    assert_eq!(out.findings.len(), 1);
    assert_eq!(out.findings[0].origin, warrant_scan::Origin::Stdin);
    let _ = Allowlist::default();
}

/// A caller-supplied stream (the CLI passes the process's standard input) is scanned through
/// the high-level API as the stdin origin, once, even when the options are cloned.
#[test]
fn a_supplied_stream_is_scanned_once_as_stdin() {
    let text = format!("token = \"{GH}\"\n").into_bytes();
    let options = ScanOptions {
        stdin: Some(warrant_scan::InputStream::new(std::io::Cursor::new(text))),
        ..ScanOptions::default()
    };
    let copy = options.clone();
    let report = run(&options);
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].origin, warrant_scan::Origin::Stdin);
    // The clone shares the stream, which the first scan consumed.
    assert!(run(&copy).findings.is_empty());
}

/// A secret in test code or fixture data is kept and flagged, one confidence level lower;
/// configured globs replace the defaults, and an empty list turns the lowering off.
#[test]
fn findings_in_test_material_are_flagged_one_level_lower_not_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "src/config.env", format!("TOKEN={GH}\n").as_bytes());
    write(
        root,
        "tests/fixtures/config.env",
        format!("TOKEN={GH}\n").as_bytes(),
    );
    write(root, "qa/seed.env", format!("TOKEN={GH}\n").as_bytes());
    let by_path = |report: &ScanReport| -> Vec<(String, Confidence, bool)> {
        let mut out: Vec<(String, Confidence, bool)> = report
            .findings
            .iter()
            .map(|f| {
                let path = f.origin.display_path();
                let rel = path
                    .rsplit_once(root.to_str().unwrap())
                    .unwrap()
                    .1
                    .to_string();
                (rel, f.confidence, f.fixture)
            })
            .collect();
        out.sort();
        out
    };
    let report = run(&options(root));
    assert_eq!(
        by_path(&report),
        vec![
            ("/qa/seed.env".into(), Confidence::High, false),
            ("/src/config.env".into(), Confidence::High, false),
            (
                "/tests/fixtures/config.env".into(),
                Confidence::Medium,
                true
            ),
        ]
    );
    let mut json = Vec::new();
    output::write_json(&report, &mut json).unwrap();
    let json = String::from_utf8(json).unwrap();
    assert_eq!(
        json.matches("\"fixture\":true").count() + json.matches("\"fixture\": true").count(),
        1,
        "{json}"
    );

    let mut custom = options(root);
    custom.fixture_paths = Some(vec!["**/qa/**".into()]);
    let flagged: Vec<String> = by_path(&run(&custom))
        .into_iter()
        .filter(|(_, _, fixture)| *fixture)
        .map(|(p, _, _)| p)
        .collect();
    assert_eq!(flagged, vec!["/qa/seed.env".to_string()]);

    let mut none = options(root);
    none.fixture_paths = Some(Vec::new());
    assert!(
        by_path(&run(&none))
            .iter()
            .all(|(_, c, f)| *c == Confidence::High && !f)
    );
    let mut bad = options(root);
    bad.fixture_paths = Some(vec!["[".into()]);
    assert!(warrant_scan::scan(&bad, &rules(), &fp(), &|_| {}).is_err());
}
