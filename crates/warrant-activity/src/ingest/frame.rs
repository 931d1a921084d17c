//! Splits a byte stream into JSON records without parsing them, so each record can be parsed
//! from a borrowed slice and dropped: memory stays bounded by the largest record, whatever the
//! size of the file.
//!
//! Three containers are understood: a top-level array (`[r, r, …]`), CloudTrail's delivery
//! object (`{"Records":[r, r, …]}`), and a stream of top-level values (JSON Lines or
//! concatenated, possibly pretty-printed, objects). A value stream whose first record fits on
//! one line is framed line by line, so one broken line cannot desynchronise the rest.

use std::io::{self, Read};
use std::ops::Range;

/// Where a record starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Place {
    /// 1-based line.
    pub line: u64,
    /// Byte offset in the (decompressed) stream.
    pub offset: u64,
    /// 0-based record index in the file.
    pub index: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Container {
    /// `[ … ]`
    Array,
    /// `{"Records": [ … ]}` (CloudTrail as delivered).
    Records,
    /// JSON Lines or concatenated values.
    Values,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Lines,
    Values,
    Array,
}

/// What a direct parse is given: the buffer from the record's start on, as text when that much
/// of it is known to be UTF-8 (validated once per buffer, so the parser need not check each
/// string), else as bytes.
pub(crate) enum Input<'a> {
    Text(&'a str),
    Bytes(&'a [u8]),
}

/// What a direct parse made of the bytes it was given.
pub(crate) enum Direct {
    /// A record of this many bytes was parsed and handled.
    Done(usize),
    /// The bytes end before the record does.
    NeedMore,
    /// Anything else: frame the record and report it.
    Failed,
}

pub(crate) enum Frame {
    Record { range: Range<usize>, place: Place },
    Bad { place: Place, reason: String },
    End,
}

enum Fill {
    More,
    Eof,
    Full,
}

pub(crate) struct Framer<R> {
    reader: R,
    buf: Vec<u8>,
    /// Next unconsumed byte; a record being framed always starts here.
    pos: usize,
    end: usize,
    eof: bool,
    read_error: Option<io::Error>,
    /// Stream offset of `buf[0]`.
    base: u64,
    /// Line at `pos`.
    line: u64,
    mode: Mode,
    max_record: usize,
    index: u64,
    done: bool,
}

impl<R: Read> Framer<R> {
    pub fn new(reader: R, buffer: usize, max_record: usize) -> Framer<R> {
        let buffer = buffer.clamp(64, max_record.max(64));
        Framer {
            reader,
            buf: vec![0; buffer],
            pos: 0,
            end: 0,
            eof: false,
            read_error: None,
            base: 0,
            line: 1,
            mode: Mode::Values,
            max_record: max_record.max(64),
            index: 0,
            done: false,
        }
    }

    /// Bytes read from the stream so far.
    pub fn bytes_read(&self) -> u64 {
        self.base + self.end as u64
    }

    pub fn slice(&self, range: Range<usize>) -> &[u8] {
        self.buf.get(range).unwrap_or(&[])
    }

    fn fill(&mut self) -> Fill {
        if self.eof {
            return Fill::Eof;
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.base += self.pos as u64;
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            if self.buf.len() >= self.max_record {
                return Fill::Full;
            }
            let grown = (self.buf.len() * 2).min(self.max_record);
            self.buf.resize(grown, 0);
        }
        // `end < buf.len()` here: the buffer was just compacted or grown.
        let Some(spare) = self.buf.get_mut(self.end..) else {
            self.eof = true;
            return Fill::Eof;
        };
        loop {
            match self.reader.read(spare) {
                Ok(0) => {
                    self.eof = true;
                    return Fill::Eof;
                }
                Ok(n) => {
                    self.end += n;
                    return Fill::More;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.read_error = Some(e);
                    self.eof = true;
                    return Fill::Eof;
                }
            }
        }
    }

    fn place(&self) -> Place {
        Place {
            line: self.line,
            offset: self.base + self.pos as u64,
            index: self.index,
        }
    }

    /// Skips whitespace and a UTF-8 byte-order mark; false at end of input.
    fn skip_space(&mut self) -> bool {
        loop {
            while self.pos < self.end
                && let Some(&byte) = self.buf.get(self.pos)
            {
                match byte {
                    b'\n' => self.line += 1,
                    b' ' | b'\t' | b'\r' => {}
                    _ => return true,
                }
                self.pos += 1;
            }
            if !matches!(self.fill(), Fill::More) {
                return false;
            }
        }
    }

    /// Looks at the start of the stream and decides how records are laid out. `None` when the
    /// stream is empty or does not start like JSON.
    pub fn open(&mut self) -> Option<Container> {
        // Enough bytes to see `{"Records":[` through generous whitespace.
        while self.end < 256 && matches!(self.fill(), Fill::More) {}
        if self
            .buf
            .get(self.pos..self.end)
            .is_some_and(|head| head.starts_with(b"\xEF\xBB\xBF"))
        {
            self.pos += 3;
        }
        if !self.skip_space() {
            return None;
        }
        match self.buf.get(self.pos) {
            Some(b'[') => {
                self.pos += 1;
                self.mode = Mode::Array;
                Some(Container::Array)
            }
            Some(b'{') => {
                let window = self.buf.get(self.pos..self.end).unwrap_or_default();
                if let Some(prefix) = records_prefix(window).and_then(|skip| window.get(..skip)) {
                    self.line += memchr::memchr_iter(b'\n', prefix).count() as u64;
                    self.pos += prefix.len();
                    self.mode = Mode::Array;
                    Some(Container::Records)
                } else {
                    self.mode = Mode::Values;
                    Some(Container::Values)
                }
            }
            _ => None,
        }
    }

    /// The next record, a framing problem, or the end.
    pub fn next_frame(&mut self) -> Frame {
        if let Some(end) = self.skip_separators() {
            return end;
        }
        let place = self.place();
        self.index += 1;
        match self.mode {
            Mode::Lines => self.frame_line(place),
            Mode::Values | Mode::Array => self.frame_value(place),
        }
    }

    /// Moves to the start of the next record; `Some` when there is none.
    fn skip_separators(&mut self) -> Option<Frame> {
        if self.done {
            return Some(Frame::End);
        }
        loop {
            if self.pos == self.end {
                if matches!(self.fill(), Fill::More) {
                    continue;
                }
                return Some(self.at_eof());
            }
            let Some(&byte) = self.buf.get(self.pos) else {
                return Some(self.at_eof());
            };
            match byte {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                b',' if self.mode == Mode::Array => {}
                b']' if self.mode == Mode::Array => {
                    // Whatever follows the array (CloudTrail's closing brace) holds no records.
                    self.done = true;
                    return Some(Frame::End);
                }
                _ => return None,
            }
            self.pos += 1;
        }
    }

    /// Whether records are framed structurally (not line by line), where [`Self::next_direct`]
    /// pays off.
    pub fn structural(&self) -> bool {
        self.mode != Mode::Lines
    }

    /// Lets `parse` read records straight from the buffer, saving the framing pass: `parse`
    /// gets the input from a record's start to the end of the buffer and says how far the
    /// record went. Parses every record the buffer holds, then one more across the refill;
    /// `None` when all went well, otherwise the record is framed the ordinary way (returned for
    /// the caller to parse and report) or the input ended.
    pub fn next_direct(&mut self, parse: &mut dyn FnMut(Input<'_>) -> Direct) -> Option<Frame> {
        if let Some(end) = self.skip_separators() {
            return Some(end);
        }
        if let Some(end) = self.direct_text(parse) {
            return Some(end);
        }
        if let Some(end) = self.skip_separators() {
            return Some(end);
        }
        // The record that crosses the end of the buffer (or of its UTF-8 prefix): parsed from
        // bytes, refilling as needed.
        let place = self.place();
        loop {
            let window = self.buf.get(self.pos..self.end).unwrap_or_default();
            let parsed = parse(Input::Bytes(window));
            if let Direct::Done(consumed) = parsed
                && consumed > 0
                && let Some(record) = window.get(..consumed)
            {
                self.line += memchr::memchr_iter(b'\n', record).count() as u64;
                self.pos += consumed;
                self.index += 1;
                return None;
            }
            match parsed {
                Direct::NeedMore if !self.eof => match self.fill() {
                    Fill::More => continue,
                    Fill::Full => {
                        self.index += 1;
                        return Some(self.oversize(place));
                    }
                    Fill::Eof => break,
                },
                _ => break,
            }
        }
        self.index += 1;
        Some(self.frame_value(place))
    }

    /// Parses the records that lie wholly in the buffer's valid UTF-8 from `pos` on, without
    /// refilling. Stops at the first record that does not parse or does not end in the text;
    /// `Some(End)` at the array's close.
    fn direct_text(&mut self, parse: &mut dyn FnMut(Input<'_>) -> Direct) -> Option<Frame> {
        let start = self.pos;
        let window = self.buf.get(start..self.end).unwrap_or_default();
        let text = match simdutf8::compat::from_utf8(window) {
            Ok(text) => text,
            Err(e) => match window
                .get(..e.valid_up_to())
                .map(simdutf8::basic::from_utf8)
            {
                Some(Ok(text)) => text,
                _ => return None,
            },
        };
        let bytes = text.as_bytes();
        let array = self.mode == Mode::Array;
        let mut at = 0;
        let mut closed = false;
        'records: while let Some(&byte) = bytes.get(at) {
            match byte {
                b' ' | b'\t' | b'\r' | b'\n' => {
                    at += 1;
                    continue;
                }
                b',' if array => {
                    at += 1;
                    continue;
                }
                b']' if array => {
                    closed = true;
                    break;
                }
                _ => {}
            }
            // `at` is at an ASCII byte, so on a character boundary.
            let Some(rest) = text.get(at..) else { break };
            match parse(Input::Text(rest)) {
                Direct::Done(consumed) if consumed > 0 && consumed <= rest.len() => {
                    at += consumed;
                    self.index += 1;
                }
                _ => break 'records,
            }
        }
        // Lines of everything consumed, counted in one pass rather than per record.
        // `at <= bytes.len()`: it only moves past bytes that are there.
        let consumed = bytes.get(..at).unwrap_or(bytes);
        self.line += memchr::memchr_iter(b'\n', consumed).count() as u64;
        self.pos = start + consumed.len();
        if closed {
            // Whatever follows the array (CloudTrail's closing brace) holds no records.
            self.done = true;
            return Some(Frame::End);
        }
        None
    }

    fn at_eof(&mut self) -> Frame {
        self.done = true;
        let place = self.place();
        if let Some(e) = self.read_error.take() {
            return Frame::Bad {
                place,
                reason: format!("read error, input ends here: {e}"),
            };
        }
        if self.mode == Mode::Array {
            return Frame::Bad {
                place,
                reason: "unexpected end of input: the JSON array is not closed (truncated file?)"
                    .into(),
            };
        }
        Frame::End
    }

    fn truncated(&mut self, place: Place) -> Frame {
        self.done = true;
        let why = match self.read_error.take() {
            Some(e) => format!("read error: {e}"),
            None => "end of input".into(),
        };
        Frame::Bad {
            place,
            reason: format!("truncated record: {why} before the record ends"),
        }
    }

    fn oversize(&mut self, place: Place) -> Frame {
        self.done = true;
        Frame::Bad {
            place,
            reason: format!(
                "record larger than {} bytes; the rest of the input is not read",
                self.max_record
            ),
        }
    }

    fn frame_line(&mut self, place: Place) -> Frame {
        let mut scanned = 0;
        loop {
            let from = self.pos + scanned;
            let window = self.buf.get(from..self.end).unwrap_or_default();
            if let Some(k) = memchr::memchr(b'\n', window) {
                let nl = from + k;
                let mut stop = nl;
                if stop > self.pos && self.buf.get(stop - 1) == Some(&b'\r') {
                    stop -= 1;
                }
                let range = self.pos..stop;
                self.pos = nl + 1;
                self.line += 1;
                return Frame::Record { range, place };
            }
            scanned = self.end - self.pos;
            match self.fill() {
                Fill::More => {}
                Fill::Full => return self.oversize(place),
                Fill::Eof => {
                    if self.read_error.is_some() {
                        return self.truncated(place);
                    }
                    let range = self.pos..self.end;
                    self.pos = self.end;
                    return Frame::Record { range, place };
                }
            }
        }
    }

    fn frame_value(&mut self, place: Place) -> Frame {
        let mut i = 0usize;
        let mut depth: u32 = 0;
        let mut in_str = false;
        let mut newlines = 0u64;
        let first = self.buf.get(self.pos);
        let scalar = !matches!(first, Some(b'{' | b'[' | b'"'));
        let finished = 'scan: loop {
            if self.pos + i >= self.end {
                match self.fill() {
                    Fill::More => continue,
                    Fill::Full => return self.oversize(place),
                    Fill::Eof => {
                        if scalar && self.read_error.is_none() {
                            break 'scan i.min(self.end - self.pos);
                        }
                        return self.truncated(place);
                    }
                }
            }
            let Some(window) = self.buf.get(self.pos..self.end) else {
                return self.truncated(place);
            };
            if in_str {
                // Most JSON strings are short: a plain loop beats memchr's set-up for them.
                let rest = window.get(i..).unwrap_or_default();
                let (short, long) = rest.split_at_checked(24).unwrap_or((rest, &[]));
                let found = match short.iter().position(|&b| b == b'"' || b == b'\\') {
                    Some(k) => Some(k),
                    None if long.is_empty() => None,
                    None => memchr::memchr2(b'"', b'\\', long).map(|k| k + 24),
                };
                match found {
                    Some(k) => {
                        let j = i + k;
                        if rest.get(k) == Some(&b'\\') {
                            i = j + 2;
                        } else {
                            in_str = false;
                            i = j + 1;
                            if depth == 0 {
                                break 'scan i;
                            }
                        }
                    }
                    None => i = window.len(),
                }
                continue;
            }
            while let Some(&c) = window.get(i) {
                i += 1;
                match c {
                    b'"' => {
                        in_str = true;
                        break;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        if scalar && depth == 0 {
                            break 'scan i - 1;
                        }
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            break 'scan i;
                        }
                    }
                    b',' | b' ' | b'\t' | b'\r' if scalar && depth == 0 => break 'scan i - 1,
                    b'\n' => {
                        if scalar && depth == 0 {
                            break 'scan i - 1;
                        }
                        newlines += 1;
                    }
                    _ => {}
                }
            }
        };
        // A stray `,` `]` or `}` where a value should start is a zero-length scalar: take it
        // as a (bad) record of one byte so framing always advances.
        let finished = finished.max(1);
        let range = self.pos..self.pos + finished;
        self.pos += finished;
        self.line += newlines;
        if self.mode == Mode::Values && place.index == 0 && newlines == 0 {
            // One record per line: frame by lines from now on, so a broken line is one bad
            // record instead of a desynchronised rest of file.
            let rest = self.buf.get(self.pos..self.end).unwrap_or_default();
            let next = rest.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\r'));
            if matches!(next, None | Some(b'\n')) {
                self.mode = Mode::Lines;
            }
        }
        Frame::Record { range, place }
    }
}

/// Length of a `{"Records":[` prefix (whitespace allowed between tokens), if `bytes` starts
/// with one.
fn records_prefix(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while bytes.get(*i).is_some_and(|b| b.is_ascii_whitespace()) {
            *i += 1;
        }
    };
    for token in [&b"{"[..], b"\"Records\"", b":", b"["] {
        skip_ws(&mut i);
        if bytes.get(i..i + token.len())? != token {
            return None;
        }
        i += token.len();
    }
    Some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Framed = Vec<Result<(String, Place), String>>;

    fn frames(input: &[u8], buffer: usize) -> (Option<Container>, Framed) {
        let mut framer = Framer::new(input, buffer, 1 << 20);
        let container = framer.open();
        let mut out = Vec::new();
        if container.is_some() {
            loop {
                match framer.next_frame() {
                    Frame::End => break,
                    Frame::Bad { reason, .. } => out.push(Err(reason)),
                    Frame::Record { range, place } => out.push(Ok((
                        String::from_utf8_lossy(framer.slice(range)).into_owned(),
                        place,
                    ))),
                }
            }
        }
        (container, out)
    }

    #[test]
    fn records_object_on_one_line() {
        let input = br#"{"Records":[{"a":"x]}"},{"b":[1,{"c":"\"}"}]}]}"#;
        for buffer in [64, 7, 1 << 16] {
            let (c, out) = frames(input, buffer);
            assert_eq!(c, Some(Container::Records));
            let recs: Vec<_> = out.iter().map(|r| r.clone().unwrap().0).collect();
            assert_eq!(recs, vec![r#"{"a":"x]}"}"#, r#"{"b":[1,{"c":"\"}"}]}"#]);
        }
    }

    #[test]
    fn pretty_array_tracks_lines() {
        let input = b"[\n  {\n    \"a\": 1\n  },\n  {\n    \"b\": 2\n  }\n]\n";
        let (c, out) = frames(input, 64);
        assert_eq!(c, Some(Container::Array));
        let places: Vec<_> = out.iter().map(|r| r.clone().unwrap().1.line).collect();
        assert_eq!(places, vec![2, 5]);
    }

    #[test]
    fn json_lines_resynchronise_after_a_broken_line() {
        let input = b"{\"a\":1}\n{\"b\":\"unterminated}\n\n{\"c\":3}\n";
        let (c, out) = frames(input, 64);
        assert_eq!(c, Some(Container::Values));
        let recs: Vec<_> = out.iter().map(|r| r.clone().unwrap()).collect();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[1].0, "{\"b\":\"unterminated}");
        assert_eq!(recs[1].1.line, 2);
        assert_eq!(recs[2].1.line, 4);
    }

    #[test]
    fn truncated_array_reports_the_end() {
        let input = br#"{"Records":[{"a":1},{"b":"#;
        let (_, out) = frames(input, 64);
        assert_eq!(out.len(), 2);
        assert!(out[0].is_ok());
        assert!(out[1].clone().unwrap_err().contains("truncated"));
    }

    #[test]
    fn unclosed_array_is_reported() {
        let (_, out) = frames(b"[{\"a\":1}", 64);
        assert!(out[0].is_ok());
        assert!(out[1].clone().unwrap_err().contains("not closed"));
    }

    #[test]
    fn stray_closers_in_a_value_stream_advance() {
        let (c, out) = frames(b"{\"a\":1} } , ] {\"b\":2}", 64);
        assert_eq!(c, Some(Container::Values));
        let recs: Vec<_> = out.into_iter().map(|r| r.unwrap().0).collect();
        assert_eq!(recs, vec!["{\"a\":1}", "}", ",", "]", "{\"b\":2}"]);
    }

    #[test]
    fn not_json_is_not_opened() {
        assert_eq!(frames(b"hello", 64).0, None);
        assert_eq!(frames(b"   ", 64).0, None);
    }

    #[test]
    fn oversize_record_stops_with_a_reason() {
        let mut framer = Framer::new(&b"[{\"a\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}]"[..], 64, 64);
        framer.open();
        match framer.next_frame() {
            Frame::Bad { reason, .. } => assert!(reason.contains("larger than")),
            _ => panic!("expected a bad frame"),
        }
    }
}
