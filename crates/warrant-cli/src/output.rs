//! Output plumbing: formats, colour and terminal detection, logging, progress.

use std::io::IsTerminal;

use anyhow::bail;
use chrono::{NaiveDate, TimeZone, Utc};
use warrant_core::Timestamp;
use warrant_report::table::TableStyle;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Csv,
    Html,
    Sarif,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Html => "html",
            Format::Sarif => "sarif",
        }
    }
}

/// The format asked for, or the command's default; refuses formats the command cannot write.
pub fn choose(
    asked: Option<Format>,
    default: Format,
    supported: &[Format],
) -> anyhow::Result<Format> {
    let format = asked.unwrap_or(default);
    if !supported.contains(&format) {
        let names: Vec<_> = supported.iter().map(|f| f.name()).collect();
        bail!(
            "this command does not support --format {}; use one of: {}",
            format.name(),
            names.join(", ")
        );
    }
    Ok(format)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

pub fn stdout_is_tty() -> bool {
    std::io::stdout().is_terminal()
}

pub fn stderr_is_tty() -> bool {
    std::io::stderr().is_terminal()
}

/// Colour only on a terminal, and never when `NO_COLOR` is set (https://no-color.org).
pub fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            stdout_is_tty() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

pub fn table_style(choice: ColorChoice) -> TableStyle {
    let width = if stdout_is_tty() {
        terminal_width()
    } else {
        None
    };
    TableStyle {
        color: use_color(choice),
        width,
    }
}

fn terminal_width() -> Option<u16> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .or(Some(160))
}

/// `2026-11-01` (midnight UTC) or any RFC 3339 instant.
pub fn parse_instant(text: &str) -> Result<Timestamp, String> {
    if let Ok(instant) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(instant.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(midnight) = date.and_hms_opt(0, 0, 0)
    {
        return Ok(Utc.from_utc_datetime(&midnight));
    }
    Err(format!(
        "`{text}` is neither a date (2026-11-01) nor an RFC 3339 instant (2026-11-01T12:00:00Z)"
    ))
}

/// `90d`, `12h`, `2w` → a duration.
pub fn parse_window(text: &str) -> Result<chrono::Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: i64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 90d, 12h or 2w"))?;
    match unit {
        "d" | "" => Ok(chrono::Duration::days(n)),
        "h" => Ok(chrono::Duration::hours(n)),
        "w" => Ok(chrono::Duration::weeks(n)),
        _ => Err(format!("`{text}`: unknown unit `{unit}`; use d, h or w")),
    }
}

/// Peak resident memory of this process so far, in MiB, where the OS reports it (Linux), for
/// progress logs on large inventories.
fn peak_rss_mib() -> Option<u64> {
    let status = warrant_input::read_file_to_string(
        std::path::Path::new("/proc/self/status"),
        warrant_input::SMALL_FILE_LIMIT,
    )
    .ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

/// Logs (at `-v`) that a phase of a long command ended: time since `started` and peak memory.
pub fn log_phase(started: std::time::Instant, what: &str) {
    tracing::info!(elapsed = ?started.elapsed(), peak_rss_mib = peak_rss_mib(), "{what}");
}

/// The most the HTTP, TLS and messaging libraries may log, whatever `-v` or `WARRANT_LOG` ask:
/// below these levels they dump what goes over the wire — request heads with `Authorization`
/// (a secret under validation, a provider token), signing inputs with session tokens, response
/// bodies with temporary credentials, frames as hex. Added last, so they override a user's
/// directive for the same target.
pub const WIRE_LOG_CAPS: &[&str] = &[
    "ureq=info",
    "ureq_proto=off",
    "h2=info",
    "hyper=info",
    "hyper_util=info",
    "rustls=info",
    "aws_smithy_runtime=debug",
    "aws_smithy_http_client=info",
    "aws_sigv4=debug",
    "aws_config=debug",
    "async_nats=info",
];

/// A line on stderr for a person, where a closed stderr is no error: a server keeps serving
/// when whoever read its messages went away (`eprintln!` would panic).
pub fn notice(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Logs go to stderr; `WARRANT_LOG` (an env-filter directive) overrides `-v`/`-q`, within
/// [`WIRE_LOG_CAPS`].
pub fn init_logging(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
    // sqlx reports every statement over a second at WARN; on large inventories that is expected
    // and only noise, so it speaks at -vv and above.
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn,sqlx=error",
        (false, 1) => "info,sqlx=error",
        // sqlx logs every statement at debug, the schema's at every start: trace level only.
        (false, 2) => "debug,sqlx=info",
        (false, _) => "trace",
    };
    let mut filter =
        EnvFilter::try_from_env("WARRANT_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    // A cap only ever lowers: a directive for a target also raises it above a quieter default
    // (`aws_smithy_runtime=debug` under `warn` would print its debug lines), so a cap is added
    // only when the filter would let more than it through.
    let most = filter
        .max_level_hint()
        .unwrap_or(tracing_subscriber::filter::LevelFilter::TRACE);
    for cap in WIRE_LOG_CAPS {
        let level = cap
            .split_once('=')
            .and_then(|(_, l)| l.parse::<tracing_subscriber::filter::LevelFilter>().ok());
        if level.is_some_and(|l| l >= most) {
            continue;
        }
        if let Ok(directive) = cap.parse() {
            filter = filter.add_directive(directive);
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(stderr_is_tty())
        // A log line that cannot be written is lost, not a panic: the subscriber would report
        // it with `eprintln!` on the same closed stderr (a server outlives its log reader).
        .log_internal_errors(false)
        .try_init();
}

/// `--quiet`: only errors, and no progress bars either.
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether progress bars are drawn: on a terminal, unless `--quiet`.
fn bars() -> bool {
    stderr_is_tty() && !QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// A spinner/bar on stderr when it is a terminal; hidden otherwise (CI logs stay clean) and
/// with `--quiet`.
pub fn progress(len: Option<u64>, message: &str) -> indicatif::ProgressBar {
    if !bars() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = match len {
        Some(n) => indicatif::ProgressBar::new(n),
        None => indicatif::ProgressBar::new_spinner(),
    };
    let template = if len.is_some() {
        "{spinner} {msg} [{bar:30}] {human_pos}/{human_len} ({per_sec}, {elapsed}, {eta} left)"
    } else {
        "{spinner} {msg} {human_pos} ({per_sec}, {elapsed})"
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// The use cases' progress on the terminal: one indicatif bar per phase, on stderr when it is
/// a terminal (hidden otherwise, as for [`progress`]).
pub struct BarProgress {
    bar: std::sync::Mutex<Option<indicatif::ProgressBar>>,
    started: std::time::Instant,
    /// Off a terminal: the phase being logged and when its last progress line was written.
    logged: std::sync::Mutex<Option<LoggedPhase>>,
    /// How often a progress line is logged off a terminal.
    every: std::time::Duration,
}

struct LoggedPhase {
    phase: warrant_app::Phase,
    total: Option<u64>,
    since: std::time::Instant,
    last: std::time::Instant,
}

/// Off a terminal, a long phase logs one progress line this often (`WARRANT_PROGRESS_SECS`
/// overrides it).
const PROGRESS_LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

impl BarProgress {
    pub fn new() -> BarProgress {
        let every = std::env::var("WARRANT_PROGRESS_SECS")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map_or(PROGRESS_LOG_EVERY, std::time::Duration::from_secs_f64);
        BarProgress {
            bar: std::sync::Mutex::new(None),
            started: std::time::Instant::now(),
            logged: std::sync::Mutex::new(None),
            every,
        }
    }

    /// Off a terminal (CI, a service's log), where no bar is drawn: a line every `every` saying
    /// how far the phase is and how fast it goes.
    fn log_progress(&self, position: u64) {
        if stderr_is_tty() {
            return;
        }
        let mut guard = self.logged.lock().unwrap_or_else(|e| e.into_inner());
        let Some(logged) = guard.as_mut() else {
            return;
        };
        let now = std::time::Instant::now();
        if now.duration_since(logged.last) < self.every {
            return;
        }
        logged.last = now;
        let secs = now.duration_since(logged.since).as_secs_f64().max(0.001);
        let rate = position as f64 / secs;
        let (done, unit) = match logged.phase {
            phase if phase.counts_bytes() => (
                format!("{:.1} MB", position as f64 / 1e6),
                format!("{:.1} MB/s", rate / 1e6),
            ),
            _ => (position.to_string(), format!("{rate:.0}/s")),
        };
        let of = logged.total.map(|t| format!(" of {t}")).unwrap_or_default();
        tracing::info!(
            "{}: {done}{of} ({unit}, {:.0} s)",
            logged.phase.label(),
            secs
        );
    }

    fn with_bar(&self, f: impl FnOnce(&mut Option<indicatif::ProgressBar>)) {
        // A poisoned lock only means another thread panicked while drawing; the bar is cosmetic.
        let mut guard = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard);
    }
}

/// A spinner counting bytes, for the scan.
fn byte_bar(message: &str) -> indicatif::ProgressBar {
    if !bars() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{{spinner}} {message}: {{bytes}} ({{bytes_per_sec}}) {{elapsed}}"
    )) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

impl warrant_app::Progress for BarProgress {
    fn phase(&self, phase: warrant_app::Phase, total: Option<u64>) {
        {
            let now = std::time::Instant::now();
            let mut logged = self.logged.lock().unwrap_or_else(|e| e.into_inner());
            *logged = Some(LoggedPhase {
                phase,
                total,
                since: now,
                last: now,
            });
        }
        self.with_bar(|slot| {
            if let Some(old) = slot.take() {
                old.finish_and_clear();
            }
            *slot = Some(match phase {
                phase if phase.counts_bytes() => byte_bar(phase.label()),
                _ => progress(total, phase.label()),
            });
        });
    }

    fn position(&self, position: u64) {
        self.with_bar(|slot| {
            if let Some(bar) = slot {
                bar.set_position(position);
            }
        });
        self.log_progress(position);
    }

    fn done(&self, phase: warrant_app::Phase) {
        self.with_bar(|slot| {
            if let Some(bar) = slot.take() {
                bar.finish_and_clear();
            }
        });
        use warrant_app::Phase;
        let what = match phase {
            Phase::ReadingExports => "Exports read.",
            Phase::StoringInventory => "Inventory stored.",
            Phase::LoadingInventory => "Inventory loaded.",
            Phase::IngestingActivity => "Activity logs ingested.",
            Phase::Scanning => "Secrets scanned.",
            Phase::Validating => "Secrets validated.",
            Phase::Assessing => "Posture assessed.",
            Phase::Saving => "Saved.",
            Phase::Planning => "Plans written.",
        };
        log_phase(self.started, what);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_accept_dates_and_rfc3339() {
        assert_eq!(
            parse_instant("2026-11-01").map(|t| t.to_rfc3339()),
            Ok("2026-11-01T00:00:00+00:00".to_string())
        );
        assert!(parse_instant("2026-11-01T10:00:00+02:00").is_ok());
        assert!(parse_instant("yesterday").is_err());
    }

    #[test]
    fn windows_parse_units() {
        assert_eq!(parse_window("90d"), Ok(chrono::Duration::days(90)));
        assert_eq!(parse_window("2w"), Ok(chrono::Duration::days(14)));
        assert!(parse_window("3y").is_err());
    }

    #[test]
    fn unsupported_formats_are_refused_with_the_alternatives() {
        let err = choose(
            Some(Format::Html),
            Format::Table,
            &[Format::Table, Format::Json],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "this command does not support --format html; use one of: table, json"
        );
    }
}
