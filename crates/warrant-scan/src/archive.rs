//! Archive members as blobs: zip, tar and gzip (`.gz`, `.tgz`/`.tar.gz`), recognised by their
//! magic bytes and opened recursively in memory.
//!
//! Nothing is ever written to disk, so member names such as `../../etc/passwd` are only names,
//! and tar symlinks and hard links are reported as skipped rather than followed. Archives are
//! outside input, so every size is bounded: a nesting depth, the bytes decompressed under one
//! top-level archive, each member's size, the compression ratio and the number of members. A
//! limit that is hit skips the member (or the rest of the archive, for the totals) with a
//! message that names the place, and the rest is still scanned.

use std::io::{Cursor, Read};

use crate::origin::{BlobSink, Origin};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// Bounds that keep hostile archives (bombs, deep nests) from exhausting memory or time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// How many archive levels are opened: 1 opens only the top-level archive, 4 (default)
    /// also opens archives nested three deep inside it. A `.tar.gz` counts as one level.
    pub max_depth: usize,
    /// Bytes decompressed (gzip streams and zip members) under one top-level archive,
    /// nested archives included. Default 1 GiB.
    pub max_total_bytes: u64,
    /// Size of any one member. Default 256 MiB.
    pub max_member_bytes: u64,
    /// Largest accepted ratio of decompressed to compressed size (default 200). Only checked
    /// once a member's output exceeds [`Self::ratio_floor_bytes`], so small, very repetitive
    /// files are unaffected.
    pub max_ratio: u64,
    /// Output size below which the ratio is not checked. Default 1 MiB.
    pub ratio_floor_bytes: u64,
    /// Members (files and nested archives) under one top-level archive, the top-level archive
    /// itself included. Default 100 000.
    pub max_members: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        Self {
            max_depth: 4,
            max_total_bytes: GIB,
            max_member_bytes: 256 * MIB,
            max_ratio: 200,
            ratio_floor_bytes: MIB,
            max_members: 100_000,
        }
    }
}

/// What one [`scan_archive`] call did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveStats {
    /// Archives opened, the top-level one and nested ones.
    pub archives: u64,
    /// Members handed to [`BlobSink::blob`].
    pub members: u64,
    /// Members not handed on because they are binary (a NUL byte in the first 8000 bytes).
    pub binary: u64,
    /// Bytes decompressed (gzip streams and zip members).
    pub bytes_decompressed: u64,
    /// Calls to [`BlobSink::skipped`].
    pub skipped: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Zip,
    Tar,
    Gzip,
}

fn detect(data: &[u8]) -> Option<Kind> {
    if data.starts_with(b"PK\x03\x04")
        || data.starts_with(b"PK\x05\x06")
        || data.starts_with(b"PK\x07\x08")
    {
        Some(Kind::Zip)
    } else if data.starts_with(&[0x1f, 0x8b]) {
        Some(Kind::Gzip)
    } else if is_tar(data) {
        Some(Kind::Tar)
    } else {
        None
    }
}

/// POSIX/GNU tar headers carry `ustar` at offset 257; pre-POSIX (v7) headers have no magic,
/// so for them the header checksum has to match instead.
fn is_tar(data: &[u8]) -> bool {
    // A fixed-size array: its constant indexes are checked at compile time.
    let Some(header) = data.first_chunk::<512>() else {
        return false;
    };
    if &header[257..262] == b"ustar" {
        return true;
    }
    if header[0] == 0 {
        return false;
    }
    let field = &header[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|b| *b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(b))
        .collect();
    if digits.is_empty() {
        return false;
    }
    let Ok(text) = std::str::from_utf8(&digits) else {
        return false;
    };
    let Ok(expected) = u64::from_str_radix(text, 8) else {
        return false;
    };
    let sum: u64 = header
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                u64::from(b' ')
            } else {
                u64::from(*b)
            }
        })
        .sum();
    sum == expected
}

/// Whether `data` starts like a zip, gzip or tar archive (magic bytes, not the file name).
pub fn is_archive(data: &[u8]) -> bool {
    detect(data).is_some()
}

/// Opens `data` with [`scan_archive`] when it is an archive and says whether it was one:
/// the shape of a directory walk's archive hook.
pub fn scan_if_archive(
    origin: &Origin,
    data: &[u8],
    limits: &ArchiveLimits,
    sink: &dyn BlobSink,
) -> bool {
    if is_archive(data) {
        scan_archive(origin, data, limits, sink);
        true
    } else {
        false
    }
}

/// git's heuristic: a NUL byte within the first 8000 bytes means binary.
pub(crate) fn is_binary(data: &[u8]) -> bool {
    memchr::memchr(0, data.get(..8000).unwrap_or(data)).is_some()
}

/// Reads the archive in `data` (which came from `origin`) and reports each member through
/// `sink` as [`Origin::Archive`], opening nested archives up to `limits.max_depth`.
///
/// Never fails: unreadable parts, limits and link entries are reported with
/// [`BlobSink::skipped`], naming `archive!member`, and the rest is still read. Members that
/// were read before a corrupt or truncated part are reported as usual; a member cut short
/// is reported with what could be read and a `skipped` message. `data` that is not an archive
/// at all yields one `skipped` message.
pub fn scan_archive(
    origin: &Origin,
    data: &[u8],
    limits: &ArchiveLimits,
    sink: &dyn BlobSink,
) -> ArchiveStats {
    let mut walk = Walk {
        limits,
        sink,
        stats: ArchiveStats::default(),
        exhausted: false,
    };
    match detect(data) {
        Some(kind) => walk.archive(origin, kind, data, 1),
        None => walk.skip(
            origin,
            format!("{}: not a zip, tar or gzip archive", origin.display_path()),
        ),
    }
    walk.stats
}

/// Why reading a member stopped early.
enum Stop {
    /// A limit: the message fragment says which.
    Limit(String),
    /// The data itself is bad (corrupt stream, truncated input).
    Corrupt(std::io::Error),
}

struct Walk<'a> {
    limits: &'a ArchiveLimits,
    sink: &'a dyn BlobSink,
    stats: ArchiveStats,
    /// A total (bytes or members) was reached: nothing more is read under this top-level
    /// archive.
    exhausted: bool,
}

impl Walk<'_> {
    fn skip(&mut self, origin: &Origin, message: String) {
        self.stats.skipped += 1;
        self.sink.skipped(origin, &message);
    }

    /// Marks the walk exhausted and says so once, naming the archive where it happened.
    fn exhaust(&mut self, origin: &Origin, what: String) {
        if !self.exhausted {
            self.exhausted = true;
            let message = format!(
                "{}: {what}; the rest of the archive is not scanned",
                origin.display_path()
            );
            self.skip(origin, message);
        }
    }

    fn archive(&mut self, origin: &Origin, kind: Kind, data: &[u8], depth: usize) {
        if self.exhausted {
            return;
        }
        self.stats.archives += 1;
        match kind {
            Kind::Zip => self.zip(origin, data, depth),
            Kind::Tar => self.tar(origin, data, depth),
            Kind::Gzip => self.gzip(origin, data, depth),
        }
    }

    /// Counts a member against the member limit; false when the walk must stop.
    fn admit_member(&mut self, container: &Origin) -> bool {
        if self.exhausted {
            return false;
        }
        if self.stats.members + self.stats.archives >= self.limits.max_members {
            let limit = self.limits.max_members;
            self.exhaust(container, format!("member count limit {limit} reached"));
            return false;
        }
        true
    }

    /// Hands a member's content on: opens it when it is itself an archive (depth permitting),
    /// otherwise reports it as a blob.
    fn member(&mut self, origin: &Origin, data: &[u8], depth: usize) {
        match detect(data) {
            Some(_) if depth >= self.limits.max_depth => {
                let limit = self.limits.max_depth;
                self.skip(
                    origin,
                    format!(
                        "{}: nested archive exceeds the depth limit of {limit}; not opened",
                        origin.display_path()
                    ),
                );
            }
            Some(kind) => self.archive(origin, kind, data, depth + 1),
            // Binary members are counted, not reported: the same treatment as binary files
            // in a directory walk (a jar's classes would otherwise flood the skip list).
            None if is_binary(data) => self.stats.binary += 1,
            None => {
                self.stats.members += 1;
                self.sink.blob(origin, data);
            }
        }
    }

    /// Reads a decompressing stream into memory, enforcing the member, total and ratio
    /// limits as bytes arrive (declared sizes in headers can lie). Returns what was read and
    /// why reading stopped early, if it did.
    ///
    /// The three limits are known before the first byte, so the buffer never grows past the
    /// smallest of them: a bomb stopped at the 256 MiB member limit costs at most 256 MiB of
    /// buffer, not the 512 MiB a doubling vector reaches one chunk later (with the 256 MiB it
    /// was copied from, about 900 MiB resident for one bomb; issue 10's hostile corpus).
    fn read_bounded(&mut self, reader: &mut dyn Read, compressed: u64) -> (Vec<u8>, Option<Stop>) {
        /// Size from which a member's buffer takes the rest of its cap in one reservation.
        const GROW_WHOLE_AT: usize = 16 << 20;
        let limits = self.limits;
        let mut out = Vec::new();
        let mut chunk = vec![0u8; 64 * KIB as usize];
        let remaining_total = limits
            .max_total_bytes
            .saturating_sub(self.stats.bytes_decompressed);
        // The ratio is checked only above its floor: `len > floor && len > compressed * ratio`.
        let ratio_cap = limits
            .ratio_floor_bytes
            .max(compressed.saturating_mul(limits.max_ratio));
        let cap = limits.max_member_bytes.min(remaining_total).min(ratio_cap);
        // Bytes decompressed, including a last chunk that went past `cap` and was not kept.
        let mut len: u64 = 0;
        let stop = loop {
            let n = match reader.read(&mut chunk) {
                Ok(0) => break None,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => break Some(Stop::Corrupt(e)),
            };
            let Some(read) = chunk.get(..n) else {
                break Some(Stop::Corrupt(std::io::Error::other(
                    "the decompressor reported more bytes than its buffer holds",
                )));
            };
            len += n as u64;
            if len > cap {
                // Dropped by the caller: not kept, so the buffer stays within `cap`.
                break Some(Stop::Limit(if len > limits.max_member_bytes {
                    format!(
                        "uncompressed size exceeds {} limit (zip bomb?)",
                        human(limits.max_member_bytes)
                    )
                } else if len > remaining_total {
                    format!(
                        "total uncompressed size limit {} reached (zip bomb?)",
                        human(limits.max_total_bytes)
                    )
                } else {
                    format!(
                        "compression ratio exceeds {}:1 (zip bomb?)",
                        limits.max_ratio
                    )
                }));
            }
            // Doubling, but never past `cap` (`len <= cap` here, so this fits in usize). Past
            // `GROW_WHOLE_AT` the rest of `cap` is reserved at once: address space only, so
            // resident memory still follows what is written, and a large member is never
            // copied out of a buffer half its size (both resident at once, per thread).
            if out.capacity() - out.len() < n {
                let room = usize::try_from(cap).unwrap_or(usize::MAX) - out.len();
                let grow = if out.len() >= GROW_WHOLE_AT {
                    room
                } else {
                    out.len().max(n).min(room)
                };
                out.reserve_exact(grow);
            }
            out.extend_from_slice(read);
        };
        self.stats.bytes_decompressed += len;
        (out, stop)
    }

    /// Deals with a member read by [`Self::read_bounded`]: a limit drops it (and a total
    /// limit ends the walk); corruption keeps what was read and says the member is cut short.
    fn finish_member(&mut self, origin: &Origin, data: Vec<u8>, stop: Option<Stop>, depth: usize) {
        match stop {
            None => self.member(origin, &data, depth),
            Some(Stop::Limit(what)) => {
                let message = format!("{}: {what}", origin.display_path());
                self.skip(origin, message);
                if self.stats.bytes_decompressed >= self.limits.max_total_bytes {
                    self.exhausted = true;
                }
            }
            Some(Stop::Corrupt(e)) => {
                let message = format!(
                    "{}: corrupt or truncated data after {} bytes: {e}",
                    origin.display_path(),
                    data.len()
                );
                self.skip(origin, message);
                if !data.is_empty() {
                    self.member(origin, &data, depth);
                }
            }
        }
    }

    fn zip(&mut self, origin: &Origin, data: &[u8], depth: usize) {
        let mut archive = match zip::ZipArchive::new(Cursor::new(data)) {
            Ok(archive) => archive,
            Err(e) => {
                // A truncated zip loses its central directory (at the end); the local
                // headers before the cut are still readable in order.
                let message = format!(
                    "{}: zip central directory unreadable ({e}); reading local headers in order",
                    origin.display_path()
                );
                self.skip(origin, message);
                self.zip_stream(origin, data, depth);
                return;
            }
        };
        for index in 0..archive.len() {
            if !self.admit_member(origin) {
                return;
            }
            let name = match archive.name_for_index(index) {
                Some(Ok(name)) => name.into_owned(),
                _ => format!("#{index}"),
            };
            let member_origin = member_origin(origin, name);
            match archive.by_index(index) {
                Ok(mut file) => self.zip_member(&member_origin, &mut file, depth),
                Err(e) => {
                    let message = format!(
                        "{}: cannot read zip member {index}: {e}",
                        member_origin.display_path()
                    );
                    self.skip(&member_origin, message);
                }
            }
            if self.exhausted {
                return;
            }
        }
    }

    fn zip_stream(&mut self, origin: &Origin, data: &[u8], depth: usize) {
        let mut cursor = Cursor::new(data);
        loop {
            if !self.admit_member(origin) {
                return;
            }
            let offset = cursor.position();
            match zip::read::read_zipfile_from_stream(&mut cursor) {
                Ok(Some(mut file)) => {
                    let name = String::from_utf8_lossy(file.name_raw()).into_owned();
                    let member_origin = member_origin(origin, name);
                    self.zip_member(&member_origin, &mut file, depth);
                }
                Ok(None) => return,
                Err(e) => {
                    let message = format!(
                        "{}: corrupt zip at offset {offset}: {e}",
                        origin.display_path()
                    );
                    self.skip(origin, message);
                    return;
                }
            }
            if self.exhausted {
                return;
            }
        }
    }

    fn zip_member<R: Read>(
        &mut self,
        origin: &Origin,
        file: &mut zip::read::ZipFile<'_, R>,
        depth: usize,
    ) {
        if file.is_dir() {
            return;
        }
        if file.is_symlink() {
            let message = format!("{}: symbolic link not followed", origin.display_path());
            self.skip(origin, message);
            return;
        }
        if file.size() > self.limits.max_member_bytes {
            let message = format!(
                "{}: uncompressed size exceeds {} limit (zip bomb?)",
                origin.display_path(),
                human(self.limits.max_member_bytes)
            );
            self.skip(origin, message);
            return;
        }
        // Stored members have compressed == uncompressed; a zero compressed size with data
        // is itself suspicious, so it gets no ratio allowance beyond the floor.
        let compressed = file.compressed_size();
        let (data, stop) = self.read_bounded(file, compressed);
        self.finish_member(origin, data, stop, depth);
    }

    fn tar(&mut self, origin: &Origin, data: &[u8], depth: usize) {
        let mut archive = tar::Archive::new(Cursor::new(data));
        let entries = match archive.entries_with_seek() {
            Ok(entries) => entries,
            Err(e) => {
                let message = format!("{}: unreadable tar: {e}", origin.display_path());
                self.skip(origin, message);
                return;
            }
        };
        let mut last_good: Option<(String, u64)> = None;
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let place = match &last_good {
                        Some((name, offset)) => {
                            format!("after member {name} (header at offset {offset})")
                        }
                        None => "at the first header".to_string(),
                    };
                    let message = format!("{}: corrupt tar {place}: {e}", origin.display_path());
                    self.skip(origin, message);
                    return;
                }
            };
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let header_offset = entry.raw_header_position();
            last_good = Some((name.clone(), header_offset));
            let entry_type = entry.header().entry_type();
            let member_origin = member_origin(origin, name);
            if entry_type.is_symlink() || entry_type.is_hard_link() {
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .unwrap_or_default();
                let kind = if entry_type.is_symlink() {
                    "symbolic link"
                } else {
                    "hard link"
                };
                let message = format!(
                    "{}: {kind} to {target:?} not followed",
                    member_origin.display_path()
                );
                self.skip(&member_origin, message);
                continue;
            }
            // Only file content is scanned; directories, devices, FIFOs and pax global
            // headers carry none.
            if !(entry_type.is_file() || entry_type.is_contiguous() || entry_type.is_gnu_sparse()) {
                continue;
            }
            if !self.admit_member(origin) {
                return;
            }
            let size = entry.size();
            if size > self.limits.max_member_bytes {
                let message = format!(
                    "{}: uncompressed size exceeds {} limit",
                    member_origin.display_path(),
                    human(self.limits.max_member_bytes)
                );
                self.skip(&member_origin, message);
                continue;
            }
            // The tar is already in memory, so members are slices of it: no copy, and
            // nothing counted against the decompression budget. For GNU sparse files this
            // is the stored data without the holes, which is all that can hold a secret.
            let start = usize::try_from(entry.raw_file_position()).unwrap_or(usize::MAX);
            let len = usize::try_from(size).unwrap_or(usize::MAX);
            let end = start.saturating_add(len);
            match data.get(start..end) {
                Some(content) => self.member(&member_origin, content, depth),
                None => {
                    let available = data.get(start..).unwrap_or_default();
                    let message = format!(
                        "{}: truncated: header says {size} bytes, {} present",
                        member_origin.display_path(),
                        available.len()
                    );
                    self.skip(&member_origin, message);
                    if !available.is_empty() {
                        self.member(&member_origin, available, depth);
                    }
                    return;
                }
            }
            if self.exhausted {
                return;
            }
        }
    }

    fn gzip(&mut self, origin: &Origin, data: &[u8], depth: usize) {
        if !self.admit_member(origin) {
            return;
        }
        let mut decoder = flate2::read::MultiGzDecoder::new(data);
        let (out, stop) = self.read_bounded(&mut decoder, data.len() as u64);
        let stored_name = decoder
            .header()
            .and_then(|h| h.filename())
            .map(|n| String::from_utf8_lossy(n).into_owned());
        let name = stored_name.unwrap_or_else(|| gunzipped_name(&origin.display_path()));
        let member_origin = member_origin(origin, name);
        // A gzipped tar is one archive level: its members hang directly off the `.tgz`. A
        // truncated one still yields the members before the cut.
        match stop {
            None if is_tar(&out) => self.tar(origin, &out, depth),
            Some(Stop::Corrupt(e)) if is_tar(&out) => {
                let message = format!(
                    "{}: corrupt or truncated gzip stream after {} bytes: {e}",
                    origin.display_path(),
                    out.len()
                );
                self.skip(origin, message);
                self.tar(origin, &out, depth);
            }
            stop => self.finish_member(&member_origin, out, stop, depth),
        }
    }
}

fn member_origin(container: &Origin, member: String) -> Origin {
    Origin::Archive {
        container: Box::new(container.clone()),
        member,
    }
}

/// The name `gunzip` would give: `x.gz` -> `x`, `x.tgz` -> `x.tar`.
fn gunzipped_name(container: &str) -> String {
    let base = container
        .rsplit(['/', '\\', '!'])
        .next()
        .unwrap_or(container);
    if let Some(stem) = base.strip_suffix(".tgz") {
        format!("{stem}.tar")
    } else if let Some(stem) = base.strip_suffix(".gz").filter(|s| !s.is_empty()) {
        stem.to_string()
    } else {
        "<gunzipped>".to_string()
    }
}

fn human(bytes: u64) -> String {
    if bytes >= GIB && bytes.is_multiple_of(GIB) {
        format!("{} GiB", bytes / GIB)
    } else if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_magic() {
        assert_eq!(detect(b"PK\x03\x04rest"), Some(Kind::Zip));
        assert_eq!(detect(&[0x1f, 0x8b, 8, 0]), Some(Kind::Gzip));
        assert_eq!(detect(b"plain text"), None);
        assert_eq!(detect(&[]), None);
        let mut ustar = vec![0u8; 512];
        ustar[..5].copy_from_slice(b"a.txt");
        ustar[257..263].copy_from_slice(b"ustar\0");
        assert_eq!(detect(&ustar), Some(Kind::Tar));
    }

    #[test]
    fn v7_tar_needs_a_valid_checksum() {
        let mut header = vec![0u8; 512];
        header[..5].copy_from_slice(b"a.txt");
        let sum: u64 = header
            .iter()
            .enumerate()
            .map(|(i, b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    u64::from(*b)
                }
            })
            .sum();
        let field = format!("{sum:06o}\0 ");
        header[148..156].copy_from_slice(field.as_bytes());
        assert!(is_tar(&header));
        header[0] = b'b';
        assert!(!is_tar(&header));
    }

    struct Discard;
    impl BlobSink for Discard {
        fn blob(&self, _: &Origin, _: &[u8]) {}
        fn skipped(&self, _: &Origin, _: &str) {}
    }

    /// Defect (issue 10's hostile corpus, `tests/hostile` case bombs): the buffer of a member
    /// stopped at its limit had doubled past the limit first (a 256 MiB limit held 512 MiB, plus
    /// the 256 MiB copied from: ~900 MiB resident for one gzip bomb, per scanning thread).
    #[test]
    fn a_bomb_never_grows_the_buffer_past_the_limit() {
        let limits = ArchiveLimits {
            max_member_bytes: 3 * MIB,
            max_ratio: u64::MAX,
            ..ArchiveLimits::default()
        };
        let mut walk = Walk {
            limits: &limits,
            sink: &Discard,
            stats: ArchiveStats::default(),
            exhausted: false,
        };
        let mut zeros = std::io::repeat(0).take(64 * MIB);
        let (out, stop) = walk.read_bounded(&mut zeros, 1);
        let Some(Stop::Limit(message)) = stop else {
            panic!("stopped by the member limit");
        };
        assert_eq!(message, "uncompressed size exceeds 3 MiB limit (zip bomb?)");
        assert!(out.capacity() as u64 <= 3 * MIB, "{}", out.capacity());
        // Everything inflated counts against the total, the chunk that went past included.
        assert_eq!(walk.stats.bytes_decompressed, 3 * MIB + 64 * KIB);
        // A stream within the limits comes back whole.
        let mut small = std::io::repeat(7).take(3 * MIB);
        let (out, stop) = walk.read_bounded(&mut small, 1);
        assert!(stop.is_none());
        assert_eq!(out.len() as u64, 3 * MIB);
        assert!(out.iter().all(|b| *b == 7));
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(256 * MIB), "256 MiB");
        assert_eq!(human(GIB), "1 GiB");
        assert_eq!(human(1000), "1000 bytes");
    }

    #[test]
    fn gunzip_names() {
        assert_eq!(gunzipped_name("dir/x.env.gz"), "x.env");
        assert_eq!(gunzipped_name("a.zip!b.tgz"), "b.tar");
        assert_eq!(gunzipped_name("blob"), "<gunzipped>");
        assert_eq!(gunzipped_name(".gz"), "<gunzipped>");
    }
}
