//! `warrant scan`: leaked secrets in files, standard input, git history or the staged index,
//! linked to the identities they unlock when the store knows them.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use warrant_scan::archive::ArchiveLimits;
use warrant_scan::link::where_found;
use warrant_scan::{
    Allowlist, Baseline, Confidence, InputStream, ScanOptions, ScanSummary, output as scan_output,
};

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
    /// Paths of test code and fixture data (glob, repeatable; replaces the defaults such as
    /// `**/tests/**`, `**/*_test.go`, `**/fixtures/**`): findings there are kept, flagged and one
    /// confidence level lower.
    #[arg(long = "fixture-path", value_name = "GLOB")]
    pub fixture_paths: Vec<String>,
    /// Treat no path as test material (findings keep their rule's confidence everywhere).
    #[arg(long, conflicts_with = "fixture_paths")]
    pub no_fixture_paths: bool,
    /// Do not run this rule (repeatable).
    #[arg(long = "disable-rule", value_name = "ID")]
    pub disabled_rules: Vec<String>,
    /// Instead of scanning, check the rules of the `--rules` files: each positive example
    /// found by its rule (alone, inside other text, and beside every other rule), no negative
    /// example found, every example holding a keyword. Exit 1 when one fails.
    #[arg(long, requires = "rule_files")]
    pub check_rules: bool,
    /// Instead of scanning, list the rules in force (built-in and `--rules` files, minus
    /// `--disable-rule`). Formats: table, json.
    #[arg(long, conflicts_with = "check_rules")]
    pub list_rules: bool,
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
    /// Ask the providers whether found secrets are live, each through its read-only "who am I"
    /// endpoint: Airtable, Anthropic, Asana, CircleCI, Cloudflare, DeepSeek, DigitalOcean,
    /// Discord, Doppler, Figma, GitHub, GitLab, Groq, Heroku, Hugging Face, Linear, Mistral,
    /// Netlify, Notion, npm, OpenAI, OpenRouter, Postman, Replicate, SendGrid, Slack, Stripe,
    /// Telegram, Vercel, xAI. Off by default: it sends each secret to its own provider, once,
    /// rate-limited.
    #[arg(long)]
    pub validate: bool,
    /// Send validation for PROVIDER to URL instead (https, or http to loopback), e.g. a test
    /// double or an enterprise host: `github=https://github.example.com/api/v3`. PROVIDER is the
    /// lower-case name rule files use (`github`, `huggingface`, `circleci`, `xai`, …).
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

/// The scan `args` ask for, in `warrant_scan`'s terms.
fn scan_options(args: &ScanArgs, reveal: bool) -> anyhow::Result<ScanOptions> {
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
    for path in &paths {
        if std::fs::symlink_metadata(path).is_err() {
            bail!("{} does not exist", path.display());
        }
    }
    let allowlist = match &args.allowlist {
        Some(path) => {
            let text = warrant_input::read_file_to_string(path, warrant_input::SMALL_FILE_LIMIT)
                .context("reading the allowlist")?;
            Some(Allowlist::from_toml(&path.display().to_string(), &text)?)
        }
        None => None,
    };
    let mut options = ScanOptions {
        paths,
        stdin: stdin.then(|| InputStream::new(std::io::stdin())),
        threads: args.threads,
        max_file_size: args.max_file_mib.saturating_mul(1024 * 1024),
        respect_gitignore: args.gitignore,
        follow_symlinks: args.follow_symlinks,
        baseline: args.baseline.clone(),
        allowlist,
        fixture_paths: if args.no_fixture_paths {
            Some(Vec::new())
        } else if args.fixture_paths.is_empty() {
            None
        } else {
            Some(args.fixture_paths.clone())
        },
        extra_rule_files: args.rule_files.clone(),
        disabled_rules: args.disabled_rules.clone(),
        reveal_secrets: reveal,
        git_history: args.git.clone(),
        staged: args.staged.clone(),
        ..ScanOptions::default()
    };
    options.git.threads = args.threads;
    if !args.no_archives {
        options.open_archives(ArchiveLimits::default());
    }
    Ok(options)
}

pub fn run(app: &App, args: ScanArgs) -> anyhow::Result<u8> {
    if args.check_rules {
        return check_rules(&args);
    }
    if args.list_rules {
        return list_rules(app, &args);
    }
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
    let options = scan_options(&args, reveal)?;
    let endpoints = if args.validate {
        let mut endpoints = std::collections::BTreeMap::new();
        for pair in &args.validate_endpoints {
            let Some((provider, url)) = pair.split_once('=') else {
                bail!("--validate-endpoint takes PROVIDER=URL, not `{pair}`");
            };
            endpoints.insert(provider.trim().to_string(), url.trim().to_string());
        }
        Some(endpoints)
    } else {
        None
    };
    let store = if !args.no_store && app.store_path.exists() {
        Some(app.open_existing_store()?)
    } else {
        None
    };
    let outcome = app.run(warrant_app::scan(
        &options,
        endpoints.as_ref(),
        &fingerprinter,
        store.as_ref(),
        app.now(),
        &app.progress(),
        &warrant_app::Cancel::new(),
    ))?;
    let report = &outcome.report;
    let links = &outcome.links;
    let validations = &outcome.validations;

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
        Format::Json => scan_output::JsonDocument::of(report)
            .with(Some(&links), args.validate.then_some(&validations))
            .write(&mut sink)?,
        Format::Jsonl => scan_output::write_jsonl(report, &mut sink)?,
        Format::Sarif => {
            let root = args
                .git
                .clone()
                .or_else(|| args.staged.clone())
                .or_else(|| std::env::current_dir().ok());
            scan_output::write_sarif(report, &outcome.rules, root.as_deref(), &mut sink)?
        }
        _ => {
            let colour = args.output.is_none() && output::table_style(app.color).color;
            scan_output::write_table(report, colour, &mut sink)?;
            for l in links {
                writeln!(
                    sink,
                    "Linked: {} is part of credential {} of {} (by {}); see `warrant show {}`.",
                    l.fingerprint, l.credential, l.identity, l.by, l.identity
                )?;
            }
            for v in validations {
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
    // Input that should have been read and could not be (an I/O error, a walk limit) makes the
    // scan incomplete: exit 2 once everything else is scanned and reported, as for import,
    // ingest and assess. What the scan's own limits leave out (size, archive bombs) is not.
    let unreadable: Vec<_> = report.skipped.iter().filter(|s| s.unreadable).collect();
    if !unreadable.is_empty() && !args.exit_zero {
        for skipped in unreadable.iter().take(50) {
            let place = skipped.origin.display_path();
            if skipped.reason.starts_with(&place) {
                eprintln!("warrant: could not scan {}", skipped.reason);
            } else {
                eprintln!("warrant: could not scan {place}: {}", skipped.reason);
            }
        }
        if unreadable.len() > 50 {
            eprintln!(
                "warrant: … and {} more could not be scanned",
                unreadable.len() - 50
            );
        }
        return Ok(crate::exit::ERROR);
    }
    let code = ScanSummary::of(report).exit_code(Some(args.fail_on));
    Ok(if args.exit_zero || code == 0 {
        crate::exit::OK
    } else {
        crate::exit::FINDINGS
    })
}

/// The built-in rules with the `--rules` files over them, minus `--disable-rule`.
fn rules_in_force(args: &ScanArgs) -> anyhow::Result<warrant_scan::RuleSet> {
    let mut rules = warrant_scan::RuleSet::builtin()?;
    for file in &args.rule_files {
        let text = warrant_input::read_file_to_string(file, 16 << 20)?;
        rules.add_file(&file.display().to_string(), &text)?;
    }
    for id in &args.disabled_rules {
        if rules.remove(id).is_none() {
            bail!("--disable-rule {id}: no such rule");
        }
    }
    Ok(rules)
}

fn check_rules(args: &ScanArgs) -> anyhow::Result<u8> {
    let all = rules_in_force(args)?;
    let mut failed = 0usize;
    for file in &args.rule_files {
        let name = file.display().to_string();
        let text = warrant_input::read_file_to_string(file, 16 << 20)?;
        let own = warrant_scan::RuleSet::from_file(&name, &text)?;
        let failures = warrant_scan::examples::example_failures(&own, &all)?;
        if failures.is_empty() {
            println!("{name}: {} rule(s), every example holds.", own.len());
        } else {
            println!("{name}: {} failure(s):", failures.len());
            for f in &failures {
                println!("  {f}");
            }
        }
        failed += failures.len();
    }
    Ok(if failed == 0 {
        crate::exit::OK
    } else {
        crate::exit::FINDINGS
    })
}

fn list_rules(app: &App, args: &ScanArgs) -> anyhow::Result<u8> {
    let format = output::choose(app.format, Format::Table, &[Format::Table, Format::Json])?;
    let rules = rules_in_force(args)?;
    if format == Format::Json {
        let rows: Vec<serde_json::Value> = rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "name": r.name,
                    "provider": r.provider,
                    "kind": r.kind,
                    "confidence": r.confidence,
                    "keywords": r.keywords,
                    "context": r.context.is_some(),
                    "references": r.references,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(crate::exit::OK);
    }
    let providers: std::collections::BTreeSet<&str> =
        rules.iter().map(|r| r.provider.as_str()).collect();
    for r in rules.iter() {
        println!(
            "{:<44} {:<8} {:<16} {}",
            r.id,
            format!("{:?}", r.confidence).to_ascii_lowercase(),
            r.kind.as_deref().unwrap_or("-"),
            r.name
        );
    }
    println!("{} rules, {} providers.", rules.len(), providers.len());
    Ok(crate::exit::OK)
}
