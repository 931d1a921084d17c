//! Streaming ingestion of activity logs into [`Event`]s.
//!
//! Formats are recognised by content, not by file name: gzip by its magic bytes, then the JSON
//! layout (CloudTrail's `{"Records":[…]}`, a JSON array, or JSON Lines / concatenated values),
//! then the log kind from the first record's keys. Records are framed without parsing
//! ([`frame`]) and parsed from borrowed bytes into typed structs that read only the fields used,
//! so memory is bounded by the largest record and a 10 GB file streams like a small one.
//!
//! A bad record is counted and reported with its file, line, record index and byte offset, and
//! ingestion goes on; a truncated gzip stream or a broken JSON structure reports the place and
//! keeps the events before it.

mod classify;
mod cloudtrail;
mod cloudtrail_facts;
mod de;
mod frame;
mod github;
mod k8s;
mod okta;
mod otel;

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::event::{Event, LogKind};
use frame::{Container, Frame, Framer, Place};

/// How ingestion reads its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestOptions {
    /// Parse every file as this kind instead of sniffing it.
    pub format: Option<LogKind>,
    /// Records larger than this stop the file with a bad record (default 64 MiB).
    pub max_record_bytes: usize,
    /// Initial read buffer per file (default 1 MiB); grows up to `max_record_bytes`.
    pub buffer_bytes: usize,
    /// Bad records kept in detail per file; all are counted (default 1000).
    pub max_bad_per_file: usize,
    /// Cluster name put in the `region` of Kubernetes audit events (the log does not say).
    pub kubernetes_cluster: Option<String>,
    /// Records inspected to recognise a file's format before giving up on it (default 8).
    pub sniff_records: u64,
    /// Keep the pages of files read in the page cache. By default (false) a file that was not
    /// cached when opened is read once and its pages are dropped behind the reader, so a large
    /// ingestion neither evicts other data nor pays for fresh cache pages; files already cached
    /// are left as they are. Set it when the same files will be read again soon.
    pub keep_page_cache: bool,
    /// Hash each file's raw bytes while reading it (`FileReport::sha256`), so a caller that
    /// skips content it has seen before needs no second read of the file.
    pub digest: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            format: None,
            max_record_bytes: 64 << 20,
            buffer_bytes: 1 << 20,
            max_bad_per_file: 1000,
            kubernetes_cluster: None,
            sniff_records: 8,
            keep_page_cache: false,
            digest: false,
        }
    }
}

/// A record that could not be turned into an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadRecord {
    pub file: String,
    /// 1-based line where the record starts (CloudTrail delivery files are one line: see
    /// `record`).
    pub line: u64,
    /// 0-based index of the record in the file.
    pub record: u64,
    /// Byte offset of the record in the decompressed stream.
    pub offset: u64,
    pub reason: String,
}

impl fmt::Display for BadRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: record {} (byte {}): {}",
            self.file, self.line, self.record, self.offset, self.reason
        )
    }
}

/// What one file (or stream) gave.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FileReport {
    pub file: String,
    /// The log kind recognised (or forced); `None` when the file was not an activity log.
    pub format: Option<LogKind>,
    pub gzip: bool,
    /// Decompressed bytes read.
    pub bytes: u64,
    /// Records framed (an OTLP record holds many spans).
    pub records: u64,
    pub events: u64,
    /// Records deliberately not turned into events (Kubernetes intermediate stages, non-tool
    /// spans).
    pub skipped: u64,
    pub bad_count: u64,
    /// The first `max_bad_per_file` bad records.
    pub bad: Vec<BadRecord>,
    /// Why the file was not ingested at all (unreadable, not an activity log).
    pub not_ingested: Option<String>,
    /// The file should have been read and could not be (an I/O error, a permission, a walk
    /// limit): an input error, unlike a file that was read and is simply not a log.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unreadable: bool,
    /// SHA-256 (hex) of the file's raw bytes, as stored (compressed for `.gz`), when
    /// `IngestOptions::digest` asked for it and the whole file could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// What a whole ingestion gave.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IngestReport {
    /// Per file, sorted by name.
    pub files: Vec<FileReport>,
    pub events: u64,
    pub bad_count: u64,
    /// Bad records of every file (each file's list capped at `max_bad_per_file`).
    pub bad: Vec<BadRecord>,
}

impl IngestReport {
    /// Adds one file's report to the totals.
    pub fn add(&mut self, file: FileReport) {
        self.events += file.events;
        self.bad_count += file.bad_count;
        self.bad.extend(file.bad.iter().cloned());
        self.files.push(file);
    }

    /// Files recognised as activity logs.
    pub fn ingested_files(&self) -> impl Iterator<Item = &FileReport> {
        self.files.iter().filter(|f| f.format.is_some())
    }
}

/// Collects a parser's output for one record.
pub(crate) struct Emit<'s> {
    sink: &'s mut dyn FnMut(Event),
    events: u64,
    skipped: u64,
    bad: Vec<String>,
}

impl Emit<'_> {
    pub(crate) fn event(&mut self, event: Event) {
        self.events += 1;
        (self.sink)(event);
    }
    pub(crate) fn skip(&mut self) {
        self.skipped += 1;
    }
    pub(crate) fn bad(&mut self, reason: String) {
        self.bad.push(reason);
    }
}

/// Keys that tell the log kinds apart.
#[derive(Deserialize)]
struct Sniff {
    #[serde(rename = "eventSource")]
    event_source: Option<serde::de::IgnoredAny>,
    #[serde(rename = "eventName")]
    event_name: Option<serde::de::IgnoredAny>,
    #[serde(rename = "auditID")]
    audit_id: Option<serde::de::IgnoredAny>,
    #[serde(rename = "apiVersion")]
    api_version: Option<String>,
    #[serde(rename = "resourceSpans")]
    resource_spans: Option<serde::de::IgnoredAny>,
    action: Option<serde::de::IgnoredAny>,
    actor: Option<serde::de::IgnoredAny>,
    #[serde(rename = "@timestamp")]
    timestamp: Option<serde::de::IgnoredAny>,
    #[serde(rename = "_document_id")]
    document_id: Option<serde::de::IgnoredAny>,
    #[serde(rename = "eventType")]
    event_type: Option<serde::de::IgnoredAny>,
    published: Option<serde::de::IgnoredAny>,
    uuid: Option<serde::de::IgnoredAny>,
}

fn sniff(bytes: &[u8]) -> Option<LogKind> {
    let s: Sniff = serde_json::from_slice(bytes).ok()?;
    if s.resource_spans.is_some() {
        Some(LogKind::OtelGenAi)
    } else if s.audit_id.is_some()
        || s.api_version
            .as_deref()
            .is_some_and(|v| v.starts_with("audit.k8s.io"))
    {
        Some(LogKind::KubernetesAudit)
    } else if s.event_source.is_some() && s.event_name.is_some() {
        Some(LogKind::CloudTrail)
    } else if s.action.is_some()
        && (s.actor.is_some() || s.timestamp.is_some() || s.document_id.is_some())
    {
        Some(LogKind::GitHubAudit)
    } else if s.event_type.is_some() && (s.published.is_some() || s.uuid.is_some()) {
        // Okta LogEvent: `eventType` with `published` and `uuid`.
        Some(LogKind::OktaSystemLog)
    } else {
        None
    }
}

enum Parser {
    CloudTrail(cloudtrail::CloudTrail),
    Kubernetes,
    GitHub,
    Otel,
    Okta,
}

impl Parser {
    fn new(kind: LogKind) -> Parser {
        match kind {
            LogKind::CloudTrail => Parser::CloudTrail(cloudtrail::CloudTrail::default()),
            LogKind::KubernetesAudit => Parser::Kubernetes,
            LogKind::GitHubAudit => Parser::GitHub,
            LogKind::OtelGenAi => Parser::Otel,
            LogKind::OktaSystemLog => Parser::Okta,
        }
    }

    fn parse(
        &mut self,
        bytes: &[u8],
        options: &IngestOptions,
        out: &mut Emit<'_>,
    ) -> Result<(), String> {
        match self {
            Parser::CloudTrail(ct) => ct.parse(bytes, out),
            Parser::Kubernetes => k8s::parse(bytes, options.kubernetes_cluster.as_deref(), out),
            Parser::GitHub => github::parse(bytes, out),
            Parser::Otel => otel::parse(bytes, out),
            Parser::Okta => okta::parse(bytes, out),
        }
    }
}

/// Reads the first bytes of a stream and gives them back in front of the rest.
fn peek<R: Read>(mut reader: R, n: usize) -> io::Result<(Vec<u8>, R)> {
    let mut head = vec![0u8; n];
    let mut got = 0;
    while let Some(spare) = head.get_mut(got..).filter(|spare| !spare.is_empty()) {
        match reader.read(spare) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(got);
    Ok((head, reader))
}

/// Ingests one stream: a file's content (plain or gzip), a message body. `name` is used in
/// reports. Events go to `sink` in stream order; nothing is kept but the current record.
pub fn ingest_reader(
    name: &str,
    reader: impl Read,
    options: &IngestOptions,
    sink: &mut dyn FnMut(Event),
) -> FileReport {
    let mut report = FileReport {
        file: name.to_string(),
        ..FileReport::default()
    };
    let (head, rest) = match peek(reader, 2) {
        Ok(x) => x,
        Err(e) => {
            report.not_ingested = Some(format!("cannot read: {e}"));
            report.unreadable = true;
            return report;
        }
    };
    report.gzip = head == [0x1f, 0x8b];
    let joined = io::Cursor::new(head).chain(rest);
    let stream: Box<dyn Read> = if report.gzip {
        Box::new(flate2::read::MultiGzDecoder::new(
            io::BufReader::with_capacity(1 << 18, joined),
        ))
    } else {
        Box::new(joined)
    };
    let mut framer = Framer::new(stream, options.buffer_bytes, options.max_record_bytes);
    let container = framer.open();
    run(&mut framer, container, options, sink, &mut report);
    report.bytes = framer.bytes_read();
    report
}

fn run<R: Read>(
    framer: &mut Framer<R>,
    container: Option<Container>,
    options: &IngestOptions,
    sink: &mut dyn FnMut(Event),
    report: &mut FileReport,
) {
    let Some(container) = container else {
        report.not_ingested = Some("not JSON: the content does not start with '[' or '{'".into());
        return;
    };
    let mut kind = options.format.or(match container {
        Container::Records => Some(LogKind::CloudTrail),
        _ => None,
    });
    let mut parser = kind.map(Parser::new);
    // Records seen before the format was recognised: reported as bad once it is, dropped with
    // the file if it never is.
    let mut unrecognised: Vec<Place> = Vec::new();
    let mut emit = Emit {
        sink,
        events: 0,
        skipped: 0,
        bad: Vec::new(),
    };
    loop {
        // CloudTrail in an array is parsed straight from the read buffer; only records that
        // fail are framed separately, to be re-parsed for their error.
        let frame = match parser.as_mut() {
            Some(Parser::CloudTrail(ct)) if framer.structural() => {
                let before = emit.events;
                let frame = framer.next_direct(&mut |input| ct.parse_prefix(input, &mut emit));
                // One event per CloudTrail record parsed directly.
                report.records += emit.events - before;
                match frame {
                    Some(frame) => frame,
                    None => continue,
                }
            }
            _ => framer.next_frame(),
        };
        match frame {
            Frame::End => break,
            Frame::Bad { place, reason } => push_bad(report, options, place, reason),
            Frame::Record { range, place } => {
                report.records += 1;
                let bytes = framer.slice(range);
                if parser.is_none() {
                    match sniff(bytes) {
                        Some(k) => {
                            kind = Some(k);
                            parser = Some(Parser::new(k));
                            for p in std::mem::take(&mut unrecognised) {
                                push_bad(
                                    report,
                                    options,
                                    p,
                                    "record of no known log format".into(),
                                );
                            }
                        }
                        None => {
                            unrecognised.push(place);
                            if place.index + 1 >= options.sniff_records {
                                break;
                            }
                            continue;
                        }
                    }
                }
                let Some(p) = parser.as_mut() else { continue };
                if let Err(reason) = p.parse(bytes, options, &mut emit) {
                    push_bad(report, options, place, reason);
                }
                for reason in std::mem::take(&mut emit.bad) {
                    push_bad(report, options, place, reason);
                }
            }
        }
    }
    report.format = kind;
    report.events = emit.events;
    report.skipped = emit.skipped;
    if kind.is_none() {
        report.bad.clear();
        report.bad_count = 0;
        report.not_ingested = Some(format!(
            "not an activity log: none of the first {} records is CloudTrail, Kubernetes audit, GitHub audit, Okta System Log or OTLP spans",
            report.records
        ));
    }
}

fn push_bad(report: &mut FileReport, options: &IngestOptions, place: Place, reason: String) {
    report.bad_count += 1;
    if report.bad.len() < options.max_bad_per_file {
        report.bad.push(BadRecord {
            file: report.file.clone(),
            line: place.line,
            record: place.index,
            offset: place.offset,
            reason,
        });
    }
}

/// A file read once, front to back. When the file was not in the page cache when opened (and
/// `keep_page_cache` is not set), the pages the reads pull in are dropped behind the reader:
/// a multi-gigabyte ingestion then recycles a few megabytes of cache instead of evicting
/// everyone else's and paying the kernel for fresh pages (measured: system time 17 s → 4 s
/// for 12 GB read cold; see `bench/activity/README.md`).
struct OnePass {
    file: File,
    /// Bytes read so far (the file position).
    read: u64,
    /// Pages before this offset have been dropped; `None` when nothing is dropped.
    dropped: Option<u64>,
}

/// Read-ahead is dropped in steps of this many bytes.
#[cfg(target_os = "linux")]
const DROP_STEP: u64 = 8 << 20;

impl OnePass {
    fn new(file: File, keep_page_cache: bool) -> OnePass {
        #[cfg(target_os = "linux")]
        {
            // Only a file known not to be cached: one someone read recently stays cached.
            let drop_behind = !keep_page_cache && starts_cached(&file) == Some(false);
            if drop_behind {
                // Larger read-ahead for a file read straight through; advice only, so a
                // refusal changes nothing but speed.
                let _ = rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::Sequential);
            }
            OnePass {
                file,
                read: 0,
                dropped: drop_behind.then_some(0),
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = keep_page_cache;
            OnePass {
                file,
                read: 0,
                dropped: None,
            }
        }
    }

    /// Drops the cached pages of everything read so far (`to_end`: and the rest of the file).
    #[cfg(target_os = "linux")]
    fn drop_behind(&mut self, to_end: bool) {
        let Some(from) = self.dropped else { return };
        let len = if to_end {
            None
        } else {
            match std::num::NonZeroU64::new(self.read - from) {
                Some(len) => Some(len),
                None => return,
            }
        };
        let _ = rustix::fs::fadvise(&self.file, from, len, rustix::fs::Advice::DontNeed);
        self.dropped = if to_end { None } else { Some(self.read) };
    }
}

/// Whether the file's first page is in the page cache: a read that would have to wait for the
/// disk fails with `EAGAIN` under `RWF_NOWAIT`. `None` when the file system cannot tell.
#[cfg(target_os = "linux")]
fn starts_cached(file: &File) -> Option<bool> {
    let mut page = [0u8; 4096];
    let mut bufs = [io::IoSliceMut::new(&mut page)];
    match rustix::io::preadv2(file, &mut bufs, 0, rustix::io::ReadWriteFlags::NOWAIT) {
        Ok(_) => Some(true),
        Err(rustix::io::Errno::AGAIN) => Some(false),
        Err(_) => None,
    }
}

impl Drop for OnePass {
    /// A file left early (not an activity log, an oversized record) drops its read-ahead too.
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        self.drop_behind(true);
    }
}

impl Read for OnePass {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read += n as u64;
        #[cfg(target_os = "linux")]
        if let Some(dropped) = self.dropped {
            if n == 0 {
                self.drop_behind(true);
            } else if self.read - dropped >= DROP_STEP {
                self.drop_behind(false);
            }
        }
        Ok(n)
    }
}

/// Hashes what passes through it.
struct Digesting<R> {
    inner: R,
    hasher: Option<Sha256>,
}

impl<R: Read> Digesting<R> {
    /// The hash of the whole stream: what parsing left unread (a file that is not an activity
    /// log, a record over the size limit) is read to the end first. `None` when not hashing or
    /// the rest cannot be read.
    fn finish(mut self) -> Option<String> {
        self.hasher.as_ref()?;
        io::copy(&mut self, &mut io::sink()).ok()?;
        self.hasher.map(|h| hex::encode(h.finalize()))
    }
}

impl<R: Read> Read for Digesting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let (Some(hasher), Some(read)) = (self.hasher.as_mut(), buf.get(..n)) {
            hasher.update(read);
        }
        Ok(n)
    }
}

/// Ingests one file.
pub fn ingest_file(
    path: &Path,
    options: &IngestOptions,
    sink: &mut dyn FnMut(Event),
) -> FileReport {
    let name = path.display().to_string();
    match File::open(path) {
        Ok(file) => {
            let mut reader = Digesting {
                inner: OnePass::new(file, options.keep_page_cache),
                hasher: options.digest.then(Sha256::new),
            };
            let mut report = ingest_reader(&name, &mut reader, options, sink);
            // A file that is not an activity log is not remembered, so it is not read to the end
            // for its hash.
            if report.format.is_some() {
                report.sha256 = reader.finish();
            }
            report
        }
        Err(e) => FileReport {
            file: name,
            not_ingested: Some(format!("cannot open: {e}")),
            unreadable: true,
            ..FileReport::default()
        },
    }
}

/// Every regular file under `paths`, sorted, by the shared walk (`warrant_input::walk`: loops
/// and links reported, depth and count bounded), passing over hidden entries and CloudTrail
/// digest files (they sign deliveries and hold no events). What was passed over or could not be
/// read comes back as reports naming the path.
pub fn collect_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<FileReport>) {
    let options = warrant_input::walk::WalkOptions {
        skip_hidden: true,
        prune: &["CloudTrail-Digest"],
        ..warrant_input::walk::WalkOptions::default()
    };
    let walked = warrant_input::walk::collect_files(paths, &options);
    let files = walked
        .files
        .into_iter()
        .filter(|f| {
            !f.file_name()
                .is_some_and(|n| n.to_string_lossy().contains("_CloudTrail-Digest_"))
        })
        .collect();
    let problems = walked
        .problems
        .into_iter()
        .map(|p| FileReport {
            file: p.path.display().to_string(),
            not_ingested: Some(p.reason),
            unreadable: p.unreadable,
            ..FileReport::default()
        })
        .collect();
    (files, problems)
}

/// Ingests files and directory trees (e.g. `AWSLogs/<account>/CloudTrail/<region>/…`), files in
/// parallel on the rayon pool. Events reach `sink` from several threads; per file they arrive in
/// file order.
pub fn ingest_paths(
    paths: &[PathBuf],
    options: &IngestOptions,
    sink: &(dyn Fn(Event) + Sync),
) -> IngestReport {
    let (files, problems) = collect_files(paths);
    let mut reports: Vec<FileReport> = largest_first(&files)
        .par_iter()
        .filter_map(|&i| files.get(i))
        .map(|path| ingest_file(path, options, &mut |e| sink(e)))
        .collect();
    reports.extend(problems);
    reports.sort_by(|a, b| a.file.cmp(&b.file));
    let mut report = IngestReport::default();
    for file in reports {
        report.add(file);
    }
    report
}

/// Indices of `files`, largest file first (ties in the given order), so one big file does not
/// start last and leave the other cores idle.
fn largest_first(files: &[PathBuf]) -> Vec<usize> {
    let mut order: Vec<(u64, usize)> = files
        .iter()
        .enumerate()
        .map(|(i, p)| (std::fs::metadata(p).map(|m| m.len()).unwrap_or(0), i))
        .collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    order.into_iter().map(|(_, i)| i).collect()
}

/// Reads `files` in parallel on the rayon pool and keeps each file's events apart: the result is
/// in the order of `files`, each report beside its file's events in file order. For callers that
/// decide per file, once it is read (by its `sha256`), whether its events count.
pub fn ingest_each(files: &[PathBuf], options: &IngestOptions) -> Vec<(FileReport, Vec<Event>)> {
    let mut read: Vec<(usize, FileReport, Vec<Event>)> = largest_first(files)
        .par_iter()
        .filter_map(|&i| {
            let path = files.get(i)?;
            let mut events = Vec::new();
            let report = ingest_file(path, options, &mut |e| events.push(e));
            Some((i, report, events))
        })
        .collect();
    read.sort_by_key(|(i, _, _)| *i);
    read.into_iter().map(|(_, r, e)| (r, e)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dropping pages behind the reader must not change what is read, across drop steps and
    /// at the end of the file.
    #[test]
    fn one_pass_reads_every_byte_while_dropping_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.bin");
        let data: Vec<u8> = (0..(9u32 << 20) + 12345).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        for keep in [false, true] {
            let mut reader = OnePass::new(File::open(&path).unwrap(), keep);
            // Force dropping even though the file just written is cached.
            if !keep {
                reader.dropped = Some(0);
            }
            let mut back = Vec::new();
            let mut chunk = vec![0u8; 1 << 20];
            let mut stepped = false;
            loop {
                let n = reader.read(&mut chunk).unwrap();
                if n == 0 {
                    break;
                }
                back.extend_from_slice(&chunk[..n]);
                stepped |= reader.dropped.is_some_and(|d| d > 0);
            }
            #[cfg(target_os = "linux")]
            assert_eq!(stepped, !keep, "pages dropped in steps while reading");
            assert_eq!(back.len(), data.len());
            assert!(back == data, "keep_page_cache {keep}");
            assert_eq!(reader.read, data.len() as u64);
            // Everything was dropped at the end of the file; nothing is left to drop.
            #[cfg(target_os = "linux")]
            assert_eq!(reader.dropped, None);
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_just_written_counts_as_cached() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("warm.json");
        std::fs::write(&path, b"{\"Records\":[]}").unwrap();
        let state = starts_cached(&File::open(&path).unwrap());
        assert!(matches!(state, Some(true) | None), "{state:?}");
        let reader = OnePass::new(File::open(&path).unwrap(), false);
        assert_eq!(reader.dropped, None);
    }
}
