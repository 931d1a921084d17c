//! `warrant scan`: leaked secrets in files, standard input, git history or the staged index,
//! linked to the identities they unlock when the store knows them.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use warrant_core::{Finding, Fingerprinter, Inventory, RuleId, Severity};
use warrant_scan::archive::{ArchiveLimits, scan_if_archive};
use warrant_scan::collect::Collector;
use warrant_scan::git::{GitOptions, scan_history, scan_staged};
use warrant_scan::{
    Allowlist, Baseline, Confidence, Filters, Origin, RuleSet, ScanReport, ScanSummary, Scanner,
    SecretFinding, output as scan_output,
};
use warrant_store::SecretOccurrence;

use crate::app::App;
use crate::output::{self, Format};

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Files and directories to scan; `-` reads standard input.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Scan the whole history of this git repository: every ref, every blob once, reported
    /// with the commit that introduced it.
    #[arg(long, value_name = "REPO")]
    pub git: Option<PathBuf>,
    /// Scan the files staged for commit in this repository (default: the current directory),
    /// as a pre-commit hook does.
    #[arg(long, value_name = "REPO", num_args = 0..=1, default_missing_value = ".")]
    pub staged: Option<PathBuf>,
    /// Write the report to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Accept the findings listed in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write every finding of this run to a baseline file (then exit 0).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Allowlist (TOML: `paths` globs, `rules`, `fingerprints`).
    #[arg(long, value_name = "FILE")]
    pub allowlist: Option<PathBuf>,
    /// Extra rule files (TOML, same shape as the built-in ones; same id overrides).
    #[arg(long = "rules", value_name = "FILE")]
    pub rule_files: Vec<PathBuf>,
    /// Do not run this rule (repeatable).
    #[arg(long = "disable-rule", value_name = "ID")]
    pub disabled_rules: Vec<String>,
    /// Honour .gitignore files while walking directories.
    #[arg(long)]
    pub gitignore: bool,
    /// Follow symbolic links (loops are detected and reported).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Worker threads (default: one per CPU).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Skip files larger than this many MiB.
    #[arg(long, default_value_t = 256)]
    pub max_file_mib: u64,
    /// Do not open archives (zip, tar, gzip).
    #[arg(long)]
    pub no_archives: bool,
    /// Print raw secrets. Only honoured when standard output is a terminal; never stored.
    #[arg(long)]
    pub show_secrets: bool,
    /// Exit with code 1 when a finding is at least this confident (low, medium, high).
    #[arg(long, default_value = "low", value_parser = parse_confidence)]
    pub fail_on: Confidence,
    /// Always exit 0 when the scan itself succeeded.
    #[arg(long)]
    pub exit_zero: bool,
    /// Do not link findings to the inventory nor record them in the store.
    #[arg(long)]
    pub no_store: bool,
    /// Ask the providers whether found secrets are live (GitHub, GitLab, OpenAI, Slack, Stripe).
    /// Off by default: it sends each secret to its own provider, once, rate-limited.
    #[arg(long)]
    pub validate: bool,
    /// Send validation for PROVIDER to URL instead (https, or http to loopback), e.g. a test
    /// double or an enterprise host: `github=https://github.example.com/api/v3`.
    #[arg(
        long = "validate-endpoint",
        value_name = "PROVIDER=URL",
        requires = "validate"
    )]
    pub validate_endpoints: Vec<String>,
}

fn parse_confidence(text: &str) -> Result<Confidence, String> {
    match text.to_ascii_lowercase().as_str() {
        "low" => Ok(Confidence::Low),
        "medium" => Ok(Confidence::Medium),
        "high" => Ok(Confidence::High),
        _ => Err(format!("`{text}`: use low, medium or high")),
    }
}

/// How long a file walk may run before the bar appears is up to indicatif; this only styles it.
fn byte_bar() -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} Scanning: {bytes} ({bytes_per_sec}) {elapsed}",
    ) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

pub struct ScanRun {
    pub report: ScanReport,
    pub rules: RuleSet,
}

/// Scans what `args` names. Shared with `import`, which scans the non-export files it finds.
pub fn run_scan(
    fingerprinter: &Fingerprinter,
    args: &ScanArgs,
    reveal: bool,
) -> anyhow::Result<ScanRun> {
    let stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
    let paths: Vec<PathBuf> = args
        .paths
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .cloned()
        .collect();
    if paths.is_empty() && !stdin && args.git.is_none() && args.staged.is_none() {
        bail!("nothing to scan: give paths, `-` for standard input, --git REPO or --staged");
    }
    let allowlist = match &args.allowlist {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the allowlist {}", path.display()))?;
            Some(Allowlist::from_toml(&path.display().to_string(), &text)?)
        }
        None => None,
    };
    let limits = ArchiveLimits::default();
    let hook_limits = limits.clone();
    let options = warrant_scan::ScanOptions {
        paths: paths.clone(),
        stdin,
        threads: args.threads,
        max_file_size: args.max_file_mib.saturating_mul(1024 * 1024),
        respect_gitignore: args.gitignore,
        follow_symlinks: args.follow_symlinks,
        baseline: args.baseline.clone(),
        allowlist: allowlist.clone(),
        extra_rule_files: args.rule_files.clone(),
        disabled_rules: args.disabled_rules.clone(),
        reveal_secrets: reveal,
        archive_hook: (!args.no_archives).then(|| {
            Arc::new(
                move |origin: &Origin, data: &[u8], sink: &dyn warrant_scan::BlobSink| {
                    scan_if_archive(origin, data, &hook_limits, sink)
                },
            ) as warrant_scan::walk::ArchiveHook
        }),
    };
    let rules = options.rule_set(&RuleSet::builtin()?)?;
    let scanner = Scanner::new(&rules)?;
    let baseline = match &args.baseline {
        Some(path) => Some(Baseline::load(path)?),
        None => None,
    };
    let filters = Filters::new(allowlist, baseline);
    let bar = byte_bar();
    let progress = |bytes: u64| bar.set_position(bytes);
    let collector = Collector::new(&scanner, fingerprinter, &filters, reveal, Some(&progress));
    let walk_options = options.walk_options();
    let stats = warrant_scan::walk::WalkStats::default();
    if stdin {
        warrant_scan::walk::scan_stdin(
            &mut std::io::stdin().lock(),
            &walk_options,
            &collector,
            &stats,
        );
    }
    if !paths.is_empty() {
        for path in &paths {
            if std::fs::symlink_metadata(path).is_err() {
                bail!("{} does not exist", path.display());
            }
        }
        warrant_scan::walk::walk(&paths, &walk_options, &collector, &stats);
    }
    let git_options = GitOptions {
        threads: args.threads,
        archives: (!args.no_archives).then_some(limits),
        ..GitOptions::default()
    };
    if let Some(repo) = &args.git {
        let git = scan_history(repo, &git_options, &collector)
            .with_context(|| format!("reading the history of {}", repo.display()))?;
        tracing::info!(
            commits = git.commits,
            blobs = git.blobs,
            "Git history scanned."
        );
    }
    if let Some(repo) = &args.staged {
        scan_staged(repo, &git_options, &collector)
            .with_context(|| format!("reading the staged files of {}", repo.display()))?;
    }
    let collection = collector.finish();
    bar.finish_and_clear();
    let report = ScanReport {
        findings: collection.findings,
        skipped: collection.skipped,
        bytes_scanned: collection.bytes_scanned,
        files_scanned: collection.blobs_scanned,
        binary_skipped: stats.binary_files.into_inner(),
        archives: stats.archives.into_inner(),
        suppressed: collection.suppressed,
        revealed: collection.revealed,
    };
    Ok(ScanRun { report, rules })
}

/// A found secret tied to the identity it unlocks.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Link {
    pub fingerprint: String,
    pub identity: String,
    /// How the link was made.
    pub by: &'static str,
}

/// Links findings to inventory credentials: the same keyed fingerprint as a recorded credential
/// (MCP config secrets, Kubernetes tokens), an access key id the inventory lists, or an AWS
/// secret key a few lines from a linked key id in the same file.
pub fn link(
    fingerprinter: &Fingerprinter,
    inventory: &Inventory,
    findings: &[SecretFinding],
) -> Vec<Link> {
    let mut by_fingerprint: HashMap<String, (&str, &'static str)> = HashMap::new();
    for credential in &inventory.credentials {
        if let Some(fp) = &credential.fingerprint {
            by_fingerprint.insert(fp.clone(), (credential.identity.as_str(), "fingerprint"));
        }
        // Provider key ids (AKIA…, token ids) are the credential's id; scanners find them as
        // text, so their fingerprints meet.
        if !credential.id.starts_with("fp:") {
            by_fingerprint
                .entry(fingerprinter.fingerprint(credential.id.as_bytes()))
                .or_insert((credential.identity.as_str(), "key id"));
        }
    }
    let mut links: Vec<Link> = Vec::new();
    let mut linked_at: Vec<(&SecretFinding, &str)> = Vec::new();
    for f in findings {
        if let Some((identity, by)) = by_fingerprint.get(&f.fingerprint) {
            links.push(Link {
                fingerprint: f.fingerprint.clone(),
                identity: identity.to_string(),
                by,
            });
            linked_at.push((f, identity));
        }
    }
    // A secret access key travels with its key id: link it to the key id's identity when both
    // sit within a few lines of each other in one blob.
    for f in findings {
        if f.provider != "aws" || by_fingerprint.contains_key(&f.fingerprint) {
            continue;
        }
        if let Some((_, identity)) = linked_at.iter().find(|(k, _)| {
            k.provider == "aws" && k.origin == f.origin && k.line.abs_diff(f.line) <= 5
        }) {
            links.push(Link {
                fingerprint: f.fingerprint.clone(),
                identity: identity.to_string(),
                by: "next to its key id",
            });
        }
    }
    links.sort_by(|a, b| (&a.identity, &a.fingerprint).cmp(&(&b.identity, &b.fingerprint)));
    links.dedup_by(|a, b| a.identity == b.identity && a.fingerprint == b.fingerprint);
    links
}

fn where_found(f: &SecretFinding) -> String {
    match &f.origin {
        Origin::Git {
            commit,
            author,
            date,
            ..
        } => format!(
            "{}:{} in commit {}{}{}",
            f.origin.display_path(),
            f.line,
            &commit[..commit.len().min(12)],
            author
                .as_deref()
                .map(|a| format!(" by {a}"))
                .unwrap_or_default(),
            date.map(|d| format!(" on {}", d.format("%Y-%m-%d")))
                .unwrap_or_default()
        ),
        _ => format!("{}:{}", f.origin.display_path(), f.line),
    }
}

/// NHI2 findings for the identities whose secrets leaked, one per identity and secret.
pub fn leak_findings(findings: &[SecretFinding], links: &[Link]) -> Vec<Finding> {
    let mut out = Vec::new();
    for link in links {
        let places: Vec<&SecretFinding> = findings
            .iter()
            .filter(|f| f.fingerprint == link.fingerprint)
            .collect();
        let Some(first) = places.first() else {
            continue;
        };
        let mut evidence = vec![format!(
            "Secret of type \"{}\" ({}), which belongs to this identity, was found in {} place(s); matched by {}.",
            first.rule_name,
            first.preview,
            places.len(),
            link.by
        )];
        evidence.extend(
            places
                .iter()
                .take(10)
                .map(|f| format!("Found at {}.", where_found(f))),
        );
        if places.len() > 10 {
            evidence.push(format!("… and {} more places.", places.len() - 10));
        }
        let in_history = places
            .iter()
            .any(|f| matches!(f.origin, Origin::Git { .. }));
        let finding = Finding::new(
            RuleId::LeakedSecret,
            RuleId::LeakedSecret.spec().title,
            Severity::Critical,
            &link.identity,
            &link.fingerprint,
            evidence,
            if in_history {
                "Revoke and rotate the credential now (removing it from the files does not \
                 un-leak it), then purge it from git history and check the identity's activity \
                 since the first commit that held it."
            } else {
                RuleId::LeakedSecret.spec().remediation
            },
        );
        out.push(finding);
    }
    out
}

fn occurrences(findings: &[SecretFinding], links: &[Link]) -> Vec<SecretOccurrence> {
    let identity_of: HashMap<&str, &str> = links
        .iter()
        .map(|l| (l.fingerprint.as_str(), l.identity.as_str()))
        .collect();
    findings
        .iter()
        .map(|f| {
            let (author, date) = match &f.origin {
                Origin::Git { author, date, .. } => (author.clone(), *date),
                _ => (None, None),
            };
            SecretOccurrence {
                fingerprint: f.fingerprint.clone(),
                rule: f.rule.clone(),
                path: f.origin.display_path(),
                commit: f.origin.commit().map(str::to_string),
                line: u32::try_from(f.line).unwrap_or(u32::MAX),
                column: u32::try_from(f.column).unwrap_or(u32::MAX),
                author,
                date,
                identity: identity_of
                    .get(f.fingerprint.as_str())
                    .map(|s| s.to_string()),
            }
        })
        .collect()
}

/// Links findings to the store's inventory and records occurrences and NHI2 findings.
pub fn record(
    app: &App,
    store: &warrant_store::Store,
    inventory: &Inventory,
    fingerprinter: &Fingerprinter,
    findings: &[SecretFinding],
) -> anyhow::Result<Vec<Link>> {
    let links = link(fingerprinter, inventory, findings);
    app.block_on(store.record_secret_occurrences(&occurrences(findings, &links)))
        .context("saving where secrets were found")?;
    app.block_on(store.record_findings(app.now(), &leak_findings(findings, &links)))
        .context("saving leaked-secret findings")?;
    Ok(links)
}

pub fn run(app: &App, args: ScanArgs) -> anyhow::Result<u8> {
    let format = output::choose(
        app.format,
        Format::Table,
        &[Format::Table, Format::Json, Format::Jsonl, Format::Sarif],
    )?;
    let fingerprinter = app.fingerprinter()?;
    let reveal = args.show_secrets && std::io::stdout().is_terminal() && args.output.is_none();
    if args.show_secrets && !reveal {
        eprintln!("warrant: --show-secrets is ignored: output is not a terminal.");
    }
    // Validation needs the raw values for the length of the run; they are printed only with
    // `reveal` and never stored.
    let run = run_scan(&fingerprinter, &args, reveal || args.validate)?;
    let report = &run.report;
    let validations = if args.validate {
        let mut overrides = std::collections::BTreeMap::new();
        for pair in &args.validate_endpoints {
            let Some((provider, url)) = pair.split_once('=') else {
                bail!("--validate-endpoint takes PROVIDER=URL, not `{pair}`");
            };
            overrides.insert(provider.trim().to_string(), url.trim().to_string());
        }
        let mut validators = warrant_scan::validate::validators_with_base(&overrides)?;
        // Providers without an override keep their real endpoint.
        for default in warrant_scan::validate::default_validators() {
            if !validators
                .iter()
                .any(|v| v.provider() == default.provider())
            {
                validators.push(default);
            }
        }
        warrant_scan::validate::validate_report(report, &validators)
    } else {
        Vec::new()
    };

    let mut links = Vec::new();
    if !args.no_store && app.store_exists() {
        let store = app.open_existing_store()?;
        let inventory = app
            .block_on(store.load_inventory())
            .context("loading the inventory")?;
        links = record(app, &store, &inventory, &fingerprinter, &report.findings)?;
    }

    if let Some(path) = &args.write_baseline {
        std::fs::write(path, Baseline::from_findings(&report.findings).to_json())
            .with_context(|| format!("writing the baseline {}", path.display()))?;
        eprintln!(
            "Wrote {} finding(s) to the baseline {}.",
            report.findings.len(),
            path.display()
        );
        return Ok(crate::exit::OK);
    }

    let mut sink: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match format {
        Format::Json => {
            let mut doc = scan_output::json_document(report);
            if let Some(map) = doc.as_object_mut() {
                map.insert("links".into(), serde_json::to_value(&links)?);
                if args.validate {
                    map.insert("validations".into(), serde_json::to_value(&validations)?);
                }
            }
            serde_json::to_writer_pretty(&mut sink, &doc)?;
            writeln!(sink)?;
        }
        Format::Jsonl => scan_output::write_jsonl(report, &mut sink)?,
        Format::Sarif => {
            let root = args
                .git
                .clone()
                .or_else(|| args.staged.clone())
                .or_else(|| std::env::current_dir().ok());
            scan_output::write_sarif(report, &run.rules, root.as_deref(), &mut sink)?
        }
        _ => {
            let colour = args.output.is_none() && output::table_style(app.color).color;
            scan_output::write_table(report, colour, &mut sink)?;
            for l in &links {
                writeln!(
                    sink,
                    "Linked: {} unlocks {} (by {}); see `warrant show {}`.",
                    l.fingerprint, l.identity, l.by, l.identity
                )?;
            }
            for v in &validations {
                writeln!(
                    sink,
                    "Validated: {} ({}) with {}: {}",
                    v.fingerprint,
                    v.rule,
                    v.provider,
                    serde_json::to_string(&v.verdict)?
                )?;
            }
            if reveal {
                for f in &report.findings {
                    if let Some(secret) = report.revealed.get(&f.fingerprint) {
                        writeln!(sink, "{}: {}", where_found(f), secret)?;
                    }
                }
            }
        }
    }
    sink.flush()?;
    if let Some(path) = &args.output {
        eprintln!("Wrote the {} report to {}.", format.name(), path.display());
    }
    for skipped in report.skipped.iter().take(20) {
        tracing::warn!(
            place = %skipped.origin.display_path(),
            reason = %skipped.reason,
            "Not scanned."
        );
    }
    let code = ScanSummary::of(report).exit_code(Some(args.fail_on));
    Ok(if args.exit_zero || code == 0 {
        crate::exit::OK
    } else {
        crate::exit::FINDINGS
    })
}

/// Scans the files under an imported directory that are not provider exports (source trees,
/// agent configs, env files), so `warrant import DIR` finds leaks next to the inventory.
pub fn scan_import_files(
    app: &App,
    store: &warrant_store::Store,
    files: &[&Path],
) -> anyhow::Result<(usize, Vec<Link>)> {
    if files.is_empty() {
        return Ok((0, Vec::new()));
    }
    let fingerprinter = app.fingerprinter()?;
    let args = ScanArgs {
        paths: files.iter().map(|p| p.to_path_buf()).collect(),
        git: None,
        staged: None,
        output: None,
        baseline: None,
        write_baseline: None,
        allowlist: None,
        rule_files: Vec::new(),
        disabled_rules: Vec::new(),
        gitignore: false,
        follow_symlinks: false,
        threads: 0,
        max_file_mib: app.config.import.max_file_mib,
        no_archives: false,
        show_secrets: false,
        fail_on: Confidence::Low,
        exit_zero: true,
        no_store: false,
        validate: false,
        validate_endpoints: Vec::new(),
    };
    let run = run_scan(&fingerprinter, &args, false)?;
    if run.report.findings.is_empty() {
        return Ok((0, Vec::new()));
    }
    let inventory = app
        .block_on(store.load_inventory())
        .context("loading the inventory")?;
    let links = record(app, store, &inventory, &fingerprinter, &run.report.findings)?;
    Ok((run.report.findings.len(), links))
}
