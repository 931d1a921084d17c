//! Bounded reads of outside input, and the one directory walk ([`walk`]).
//!
//! Exports, logs, configuration files, standard input and archive members come from people and
//! systems Warrant does not control: a file may be far larger than its metadata said when it was
//! listed (it grew, or it is a device such as `/dev/zero` that reports size 0), and a stream has
//! no size at all. Every read of such input goes through this crate, which stops one byte past
//! the caller's limit and reports the overflow as an error naming the input.
//!
//! `std::fs::read`, `std::fs::read_to_string`, `Read::read_to_end` and `Read::read_to_string`
//! are disallowed elsewhere in the workspace by `clippy.toml`; this crate is where they are used,
//! on a reader already cut to the limit.
//!
//! INVARIANT: no function here allocates more than `limit + 1` bytes for the data it returns.

pub mod walk;

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The limit for small files a person writes (configuration, allowlists, baselines, rule files,
/// keys): far above any real one, far below what would hurt.
pub const SMALL_FILE_LIMIT: u64 = 16 * 1024 * 1024;

/// Why a bounded read failed, without naming the input (see [`InputError`]).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 { offset: usize },
}

/// A failed read of a named input: "`name`: reason".
#[derive(Debug, thiserror::Error)]
#[error("{name}: {source}")]
pub struct InputError {
    /// The file (as given) or stream (e.g. "standard input") that was read.
    pub name: String,
    #[source]
    pub source: ReadError,
}

impl InputError {
    pub fn new(name: impl Into<String>, source: ReadError) -> InputError {
        InputError {
            name: name.into(),
            source,
        }
    }

    /// Whether the input was over its limit (rather than unreadable).
    pub fn is_too_large(&self) -> bool {
        matches!(self.source, ReadError::TooLarge { .. })
    }
}

/// Appends all of `reader` to `buf` (cleared first), failing with [`ReadError::TooLarge`] as
/// soon as more than `limit` bytes arrive. `buf` keeps its capacity, so a caller reading many
/// inputs reuses one allocation.
pub fn read_into(reader: impl Read, limit: u64, buf: &mut Vec<u8>) -> Result<(), ReadError> {
    buf.clear();
    let mut bounded = reader.take(limit.saturating_add(1));
    #[allow(clippy::disallowed_methods, reason = "the reader is cut to limit + 1")]
    bounded.read_to_end(buf)?;
    if buf.len() as u64 > limit {
        buf.clear();
        return Err(ReadError::TooLarge { limit });
    }
    Ok(())
}

/// The first `n` bytes of `reader` (fewer when it is shorter) into `buf`, cleared first; a
/// longer input is not an error: the caller asked for a prefix (format sniffing).
pub fn read_prefix(reader: impl Read, n: u64, buf: &mut Vec<u8>) -> Result<(), ReadError> {
    buf.clear();
    let mut prefix = reader.take(n);
    #[allow(clippy::disallowed_methods, reason = "the reader is cut to n bytes")]
    prefix.read_to_end(buf)?;
    Ok(())
}

/// All of `reader`, up to `limit` bytes.
pub fn read_bounded(reader: impl Read, limit: u64) -> Result<Vec<u8>, ReadError> {
    let mut buf = Vec::new();
    read_into(reader, limit, &mut buf)?;
    Ok(buf)
}

/// All of `reader` as UTF-8 text, up to `limit` bytes.
pub fn read_bounded_string(reader: impl Read, limit: u64) -> Result<String, ReadError> {
    utf8(read_bounded(reader, limit)?)
}

/// The contents of the file at `path`, up to `limit` bytes.
///
/// The buffer is sized from the file's metadata (never past `limit`) before reading: a reader
/// cut to the limit gives no size hint, and growing by doubling holds a 200 MB file in a 256 MiB
/// buffer after copying it out of a 128 MiB one. A file that is larger than its metadata said
/// (it grew, or a device) still reads correctly.
pub fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    let name = || path.display().to_string();
    let file = File::open(path).map_err(|e| InputError::new(name(), e.into()))?;
    let mut buf = Vec::new();
    reserve_for(&file, limit, &mut buf);
    read_into(file, limit, &mut buf).map_err(|e| InputError::new(name(), e))?;
    Ok(buf)
}

/// Makes room in `buf` (cleared) for the whole of `file` as its metadata gives its size, up to
/// `limit` bytes, so reading it whole allocates once instead of doubling (and copying) its way
/// there. Only a hint: nothing is reserved when the metadata cannot be read, and the read that
/// follows still enforces `limit`.
pub fn reserve_for(file: &File, limit: u64, buf: &mut Vec<u8>) {
    buf.clear();
    let size = file.metadata().map_or(0, |m| m.len()).min(limit);
    // A size beyond the address space cannot be read into memory anyway: read_into reports it.
    if let Ok(size) = usize::try_from(size) {
        let _ = buf.try_reserve_exact(size);
    }
}

/// The contents of the file at `path` as UTF-8 text, up to `limit` bytes.
pub fn read_file_to_string(path: &Path, limit: u64) -> Result<String, InputError> {
    let bytes = read_file(path, limit)?;
    utf8(bytes).map_err(|e| InputError::new(path.display().to_string(), e))
}

fn utf8(bytes: Vec<u8>) -> Result<String, ReadError> {
    String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8 {
        offset: e.utf8_error().valid_up_to(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_file_over_the_limit_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.json");
        std::fs::write(&path, vec![b'x'; 101]).unwrap();
        let err = read_file(&path, 100).unwrap_err();
        assert!(err.is_too_large());
        assert_eq!(
            err.to_string(),
            format!("{}: larger than the limit of 100 bytes", path.display())
        );
        assert_eq!(read_file(&path, 101).unwrap().len(), 101);
    }

    /// A device that reports size 0 and never ends is stopped at the limit.
    #[cfg(unix)]
    #[test]
    fn an_endless_device_stops_at_the_limit() {
        let err = read_file(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(err.is_too_large(), "{err}");
    }

    /// A file is read into a buffer of its size (plus the one-byte probe at most), not one
    /// grown by doubling to the next power of two past it.
    #[test]
    fn a_file_is_read_into_a_buffer_of_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.json");
        let size = 3 * 1024 * 1024 + 17;
        std::fs::write(&path, vec![b'x'; size]).unwrap();
        let bytes = read_file(&path, 64 << 20).unwrap();
        assert_eq!(bytes.len(), size);
        assert!(bytes.capacity() <= size + 1, "{}", bytes.capacity());
        // The limit still holds when the metadata hint is larger than it.
        assert!(read_file(&path, 1024).unwrap_err().is_too_large());
    }

    #[test]
    fn missing_files_and_bad_text_name_the_file_and_place() {
        let err = read_file(Path::new("/nonexistent/warrant.toml"), 10).unwrap_err();
        assert!(err.to_string().starts_with("/nonexistent/warrant.toml: "));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latin1.txt");
        std::fs::write(&path, b"caf\xe9").unwrap();
        let err = read_file_to_string(&path, 10).unwrap_err();
        assert!(
            err.to_string().ends_with("invalid byte at offset 3)"),
            "{err}"
        );
    }

    proptest! {
        /// Any input of at most `limit` bytes comes back whole; any longer one is refused, and
        /// a reused buffer never holds more than limit + 1 bytes.
        #[test]
        fn bounded_reads_are_exact(data in proptest::collection::vec(any::<u8>(), 0..512), limit in 0u64..600) {
            let mut buf = Vec::with_capacity(8);
            match read_into(&data[..], limit, &mut buf) {
                Ok(()) => { prop_assert!(data.len() as u64 <= limit); prop_assert_eq!(&buf, &data); }
                Err(ReadError::TooLarge { .. }) => { prop_assert!(data.len() as u64 > limit); prop_assert!(buf.is_empty()); }
                Err(e) => prop_assert!(false, "{e}"),
            }
        }
    }
}
