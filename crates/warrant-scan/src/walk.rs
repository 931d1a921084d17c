//! Files, directories and standard input as blobs: a parallel directory walk (the `ignore`
//! crate's walker), binary files skipped by sniffing, a per-file size limit, `.gitignore` only on
//! request, `.git` directories never entered, symlinks followed only on request.
//!
//! Files are read whole into a per-thread buffer that is reused from file to file. Memory-mapping
//! would need `unsafe` (a file truncated under a mapping is undefined behaviour), which the
//! workspace forbids; source files are small, and the size limit bounds the rest.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ignore::WalkState;

use crate::origin::{BlobSink, Origin};

/// Default per-file limit: 256 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 256 * 1024 * 1024;
/// Bytes sniffed for NUL to call a file binary.
pub const SNIFF_LEN: usize = 8192;
/// A read buffer grown beyond this for one big file is released afterwards.
const KEEP_BUFFER: usize = 8 * 1024 * 1024;

/// Offered every file before the text scan: returns `true` when it handled the bytes itself
/// (e.g. an archive reader that reports members to the sink), so the file is not scanned as text.
pub type ArchiveHook = Arc<dyn Fn(&Origin, &[u8], &dyn BlobSink) -> bool + Send + Sync>;

/// How to walk.
#[derive(Clone)]
pub struct WalkOptions {
    /// Worker threads; 0 means one per available CPU.
    pub threads: usize,
    pub max_file_size: u64,
    pub respect_gitignore: bool,
    pub follow_symlinks: bool,
    pub archive_hook: Option<ArchiveHook>,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            threads: 0,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            respect_gitignore: false,
            follow_symlinks: false,
            archive_hook: None,
        }
    }
}

impl std::fmt::Debug for WalkOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalkOptions")
            .field("threads", &self.threads)
            .field("max_file_size", &self.max_file_size)
            .field("respect_gitignore", &self.respect_gitignore)
            .field("follow_symlinks", &self.follow_symlinks)
            .field("archive_hook", &self.archive_hook.is_some())
            .finish()
    }
}

/// Counts of what the walk saw besides scanned blobs.
#[derive(Debug, Default)]
pub struct WalkStats {
    pub files: AtomicU64,
    pub binary_files: AtomicU64,
    pub archives: AtomicU64,
    pub symlinks_not_followed: AtomicU64,
}

/// Number of worker threads for `threads` (0 = one per CPU).
pub fn effective_threads(threads: usize) -> usize {
    if threads > 0 {
        threads
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// Walks `paths` (files or directories) in parallel, reporting every readable text file to
/// `sink`, and unreadable, oversized or looping entries through `sink.skipped`.
pub fn walk(paths: &[PathBuf], options: &WalkOptions, sink: &dyn BlobSink, stats: &WalkStats) {
    // The shared rules (`.git` never entered, links followed only on request, loops reported,
    // depth bounded); the scanner adds `.gitignore` handling on request.
    let shared = warrant_input::walk::WalkOptions {
        follow_symlinks: options.follow_symlinks,
        ..warrant_input::walk::WalkOptions::default()
    };
    let Some(mut builder) = warrant_input::walk::builder(paths, &shared) else {
        return;
    };
    let max_depth = shared.max_depth;
    let gi = options.respect_gitignore;
    builder
        .threads(effective_threads(options.threads))
        .parents(gi)
        .ignore(gi)
        .git_ignore(gi)
        .git_global(gi)
        .git_exclude(gi)
        .require_git(false);
    builder.build_parallel().run(|| {
        let mut buf: Vec<u8> = Vec::new();
        Box::new(move |result| {
            match result {
                Ok(entry) => {
                    let Some(ft) = entry.file_type() else {
                        // Standard input as a path ("-"): not ours to read here.
                        return WalkState::Continue;
                    };
                    if ft.is_symlink() && entry.depth() == 0 {
                        // A root is always followed: the walker descends into a linked
                        // directory by itself; a linked file is scanned here.
                        if entry.path().metadata().is_ok_and(|m| m.is_file()) {
                            scan_file(entry.path(), options, sink, stats, &mut buf);
                        }
                    } else if ft.is_symlink() {
                        stats.symlinks_not_followed.fetch_add(1, Ordering::Relaxed);
                    } else if ft.is_file() {
                        scan_file(entry.path(), options, sink, stats, &mut buf);
                    } else if ft.is_dir() {
                        // The walker lists a directory at the depth limit without entering it:
                        // say so, or what lies below would be missed without a word.
                        if entry.depth() >= max_depth {
                            report_problem(
                                warrant_input::walk::too_deep(entry.path(), max_depth),
                                sink,
                            );
                        }
                    } else if entry.depth() == 0 {
                        // A device or FIFO given as a path is not read (it may never end or never
                        // start), but it was asked for: name it. Inside a tree they are passed
                        // over like links not followed.
                        report_problem(warrant_input::walk::not_regular(entry.path()), sink);
                    }
                }
                Err(err) => report_problem(warrant_input::walk::describe(&err), sink),
            }
            WalkState::Continue
        })
    });
}

fn report_problem(problem: warrant_input::walk::WalkProblem, sink: &dyn BlobSink) {
    let path = if problem.path.as_os_str().is_empty() {
        "<walk>".to_string()
    } else {
        problem.path.display().to_string()
    };
    if problem.unreadable {
        sink.unreadable(&Origin::File { path }, &problem.reason);
    } else {
        sink.skipped(&Origin::File { path }, &problem.reason);
    }
}

fn scan_file(
    path: &Path,
    options: &WalkOptions,
    sink: &dyn BlobSink,
    stats: &WalkStats,
    buf: &mut Vec<u8>,
) {
    let origin = Origin::File {
        path: path.display().to_string(),
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            sink.unreadable(&origin, &format!("cannot open: {e}"));
            return;
        }
    };
    let len = match file.metadata() {
        Ok(m) => m.len(),
        Err(e) => {
            sink.unreadable(&origin, &format!("cannot read metadata: {e}"));
            return;
        }
    };
    if len > options.max_file_size {
        sink.skipped(&origin, &size_message(len, options.max_file_size));
        return;
    }
    // Room for the whole file at once (a doubling buffer held a 200 MB file in 256 MiB after
    // copying it out of 128 MiB); bounded read: a file that grew since `metadata` still cannot
    // exceed the limit.
    // (`len` is within the limit here; asking `reserve_for` would stat the file again.)
    buf.clear();
    if let Ok(len) = usize::try_from(len) {
        let _ = buf.try_reserve_exact(len);
    }
    match warrant_input::read_into(file, options.max_file_size, buf) {
        Ok(()) => {
            stats.files.fetch_add(1, Ordering::Relaxed);
            scan_bytes(&origin, buf, options, sink, stats);
        }
        Err(warrant_input::ReadError::TooLarge { limit }) => {
            sink.skipped(
                &origin,
                &format!("file grew past the limit of {limit} bytes while being read; not scanned"),
            );
        }
        Err(e) => sink.unreadable(&origin, &format!("read error: {e}")),
    }
    if buf.capacity() > KEEP_BUFFER {
        *buf = Vec::new();
    }
}

fn size_message(len: u64, limit: u64) -> String {
    format!("file size {len} bytes exceeds the limit of {limit} bytes; not scanned")
}

/// Routes one blob: archive hook first, then binary sniffing, then the sink.
pub fn scan_bytes(
    origin: &Origin,
    data: &[u8],
    options: &WalkOptions,
    sink: &dyn BlobSink,
    stats: &WalkStats,
) {
    if let Some(hook) = &options.archive_hook
        && hook(origin, data, sink)
    {
        stats.archives.fetch_add(1, Ordering::Relaxed);
        return;
    }
    if is_binary(data) {
        stats.binary_files.fetch_add(1, Ordering::Relaxed);
        return;
    }
    sink.blob(origin, data);
}

/// A NUL byte in the first [`SNIFF_LEN`] bytes marks a file as binary (text encodings used for
/// source never contain one, except UTF-16, which secrets rarely hide in).
pub fn is_binary(data: &[u8]) -> bool {
    let head = data.get(..SNIFF_LEN).unwrap_or(data);
    memchr::memchr(0, head).is_some()
}

/// Reads standard input (up to the size limit) and routes it like a file.
pub fn scan_stdin(
    reader: &mut dyn Read,
    options: &WalkOptions,
    sink: &dyn BlobSink,
    stats: &WalkStats,
) {
    let mut buf = Vec::new();
    match warrant_input::read_into(reader, options.max_file_size, &mut buf) {
        Ok(()) => {}
        Err(warrant_input::ReadError::TooLarge { limit }) => {
            sink.skipped(
                &Origin::Stdin,
                &format!("input exceeds the limit of {limit} bytes; not scanned"),
            );
            return;
        }
        Err(e) => {
            sink.unreadable(&Origin::Stdin, &format!("read error: {e}"));
            return;
        }
    }
    stats.files.fetch_add(1, Ordering::Relaxed);
    scan_bytes(&Origin::Stdin, &buf, options, sink, stats);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_in_the_first_8k_is_binary() {
        assert!(is_binary(b"abc\0def"));
        assert!(!is_binary(b"plain text"));
        let mut late = vec![b'a'; SNIFF_LEN];
        late.push(0);
        assert!(!is_binary(&late));
    }
}
