//! The keyword prefilter: every occurrence of every rule keyword in a blob, ASCII
//! case-insensitively, overlapping occurrences included.
//!
//! Thousands of keywords make a classic Aho-Corasick automaton walk one dependent table lookup
//! per byte (about 360 MB/s on this project's 2,700 keywords, whatever the automaton's size).
//! This filter instead runs a bucketed shift-or over trigrams, the idea of
//! Hyperscan's FDR matcher in portable scalar code:
//!
//! - every byte folds to 6 bits (ASCII letters of either case to the same value; other bytes
//!   may share a value, which can only add candidates, never lose one), and the last three
//!   folded bytes index a table of 2^17 entries (the oldest byte loses its sixth bit, which
//!   sets letters apart from digits: a 1 MiB table leaves room for the data in a 2 MiB L2
//!   cache, where the 2 MiB one of full trigrams did not, and the filter was 8% faster);
//! - keywords fall into 8 buckets by length; an entry is a `u64` of 8 lanes of 8 bucket bits,
//!   lane `7 - j` having bucket `b`'s bit clear when some keyword of `b` has that trigram `j`
//!   positions before its end (bytes before a keyword's start, and lanes past its length, match
//!   anything);
//! - the state shifts one lane per byte and ORs the entry in: a clear bit in the top lane means
//!   the last ten bytes agree with some keyword of that bucket on every trigram, and only then
//!   is the keyword itself compared.
//!
//! The top lanes of 8 positions are ANDed and a block is stepped through again only when one of
//! them is open. On real source trees about one byte in a thousand reaches the comparison, and
//! the filter runs at about 950 MB/s per core (`bench/scan_peers.sh` measures the whole scan).

use std::collections::HashMap;

/// Bits of the trigram index: three folded bytes of 6 bits, cut to 17 by the mask.
const INDEX_BITS: u32 = 17;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
/// Folded byte values.
const FOLDED: usize = 64;
type Table = [u64; INDEX_MASK + 1];
/// Lanes of the state: trigrams checked before a keyword is compared.
const LANES: usize = 8;
const BUCKETS: usize = 8;

/// One occurrence: `start..end` in the blob, and the keyword's index as given to
/// [`Keywords::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    pub start: usize,
    pub end: usize,
    pub keyword: u32,
}

/// A compiled keyword set.
pub struct Keywords {
    /// A fixed size, so that a masked index needs no bounds check in the loop.
    table: Box<Table>,
    /// Per bucket: a keyword's last three bytes (ASCII-lowercased, packed) to the keywords
    /// of that bucket ending so.
    confirm: [HashMap<u32, Vec<u32>>; BUCKETS],
    /// Keywords of one or two bytes (bucket 0), compared whenever that bucket is open.
    short: Vec<u32>,
    keywords: Vec<Box<[u8]>>,
}

impl std::fmt::Debug for Keywords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keywords")
            .field("keywords", &self.keywords.len())
            .finish_non_exhaustive()
    }
}

const fn fold(byte: u8) -> usize {
    ((byte & 0x1F) | ((byte & 0x40) >> 1)) as usize
}

/// [`fold`] of every byte, as a lookup (cheaper per byte than its four operations).
#[allow(
    clippy::indexing_slicing,
    reason = "a constant block, where `get_mut` is not available; `b` < 256"
)]
const FOLD: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = fold(b as u8) as u32;
        b += 1;
    }
    table
};

/// Keywords of similar length share a bucket, so that short keywords (which constrain few
/// lanes) do not loosen the check for long ones.
fn bucket(len: usize) -> usize {
    match len {
        0..=4 => 0,
        5 => 1,
        6 => 2,
        7 => 3,
        8 => 4,
        9..=10 => 5,
        11..=13 => 6,
        _ => 7,
    }
}

/// The last (up to) three bytes, lower-cased and packed: the confirmation key.
fn tail(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .skip(bytes.len().saturating_sub(3))
        .fold(0u32, |acc, b| {
            (acc << 8) | u32::from(b.to_ascii_lowercase())
        })
}

impl Keywords {
    /// Compiles `keywords` (empty ones are ignored; duplicates each report their own hits).
    pub fn new<K: AsRef<[u8]>>(keywords: &[K]) -> Keywords {
        let keywords: Vec<Box<[u8]>> = keywords
            .iter()
            .map(|k| k.as_ref().to_vec().into_boxed_slice())
            .collect();
        // Lanes past a bucket's shortest keyword accept every trigram for that bucket.
        let mut base = !0u64;
        for k in keywords.iter().filter(|k| !k.is_empty()) {
            let b = bucket(k.len());
            for j in k.len()..LANES {
                base &= !bit(LANES - 1 - j, b);
            }
        }
        let mut table: Box<Table> = match vec![base; INDEX_MASK + 1].into_boxed_slice().try_into() {
            Ok(table) => table,
            Err(_) => unreachable!("the vector has the table's length"),
        };
        let mut confirm: [HashMap<u32, Vec<u32>>; BUCKETS] = Default::default();
        let mut short = Vec::new();
        // Bits to clear in every entry whose last two (last one) folded bytes are the index.
        let mut any_first = vec![!0u64; FOLDED * FOLDED];
        let mut any_first_two = vec![!0u64; FOLDED];
        for (id, k) in keywords.iter().enumerate() {
            if k.is_empty() {
                continue;
            }
            let Ok(id) = u32::try_from(id) else { break };
            let b = bucket(k.len());
            if k.len() < 3 {
                short.push(id);
            } else if let Some(list) = confirm.get_mut(b) {
                list.entry(tail(k)).or_default().push(id);
            }
            for j in 0..k.len().min(LANES) {
                let clear = !bit(LANES - 1 - j, b);
                // The trigram ending `j` bytes before the keyword's end; bytes before its start
                // can be anything.
                let end = k.len() - 1 - j;
                let at = |back: usize| {
                    end.checked_sub(back)
                        .and_then(|p| k.get(p))
                        .map(|&c| fold(c))
                };
                let (first, second, third) = (at(2), at(1), at(0).unwrap_or(0));
                // Trigrams reaching before the keyword's start match whatever comes first:
                // gathered by their known bytes and applied to the table once at the end
                // (writing 4,096 entries per keyword took most of the start-up).
                let gathered = match (first, second) {
                    (Some(x), Some(y)) => {
                        table.get_mut(((x << 12) | (y << 6) | third) & INDEX_MASK)
                    }
                    (None, Some(y)) => any_first.get_mut((y << 6) | third),
                    (_, None) => any_first_two.get_mut(third),
                };
                if let Some(entry) = gathered {
                    *entry &= clear;
                }
            }
        }
        for (index, entry) in table.iter_mut().enumerate() {
            let low12 = any_first.get(index & 0xFFF).copied().unwrap_or(!0);
            let low6 = any_first_two.get(index & 0x3F).copied().unwrap_or(!0);
            *entry &= low12 & low6;
        }
        Keywords {
            table,
            confirm,
            short,
            keywords,
        }
    }

    pub fn len(&self) -> usize {
        self.keywords.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keywords.is_empty()
    }

    /// Calls `hit` for every occurrence, in order of end position (ties: in bucket order, by
    /// length).
    pub fn for_each(&self, data: &[u8], mut hit: impl FnMut(Hit)) {
        // Before the first byte every lane is open: a keyword at the very start has nothing
        // before it to check.
        let mut state = Lanes::default();
        let mut offset = 0;
        // Blocks of 8 bytes: the top lanes of the block's positions are ANDed, and only a block
        // where one of them is open is stepped through again position by position.
        let mut blocks = data.chunks_exact(8);
        for block in blocks.by_ref() {
            // A fixed-size block lets the compiler unroll the steps.
            if let Ok(block) = <&[u8; 8]>::try_from(block) {
                self.block(data, block, &mut state, &mut offset, &mut hit);
            }
        }
        // The last bytes, one block of one byte each.
        for byte in blocks.remainder() {
            self.block(data, &[*byte], &mut state, &mut offset, &mut hit);
        }
    }

    /// One block of `N` bytes: stepped through again only when a top lane opened in it.
    #[inline(always)]
    fn block<const N: usize>(
        &self,
        data: &[u8],
        block: &[u8; N],
        state: &mut Lanes,
        offset: &mut usize,
        hit: &mut impl FnMut(Hit),
    ) {
        let start = *state;
        let mut all = !0u64;
        for &byte in block {
            all &= state.step(&self.table, byte);
        }
        if all >> 56 != 0xFF {
            let mut again = start;
            for (j, &byte) in block.iter().enumerate() {
                let open = !(again.step(&self.table, byte) >> 56) as u8;
                if open != 0 {
                    self.confirm(data, *offset + j + 1, open, hit);
                }
            }
        }
        *offset += block.len();
    }

    /// Compares the keywords of the `open` buckets that end at `end`.
    #[inline(never)]
    fn confirm(&self, data: &[u8], end: usize, open: u8, hit: &mut impl FnMut(Hit)) {
        let key = tail(data.get(end.saturating_sub(3)..end).unwrap_or_default());
        let mut buckets = open;
        while buckets != 0 {
            let b = buckets.trailing_zeros() as usize;
            buckets &= buckets - 1;
            if b == 0 {
                self.compare(data, end, &self.short, hit);
            }
            if let Some(ids) = self.confirm.get(b).and_then(|m| m.get(&key)) {
                self.compare(data, end, ids, hit);
            }
        }
    }

    fn compare(&self, data: &[u8], end: usize, ids: &[u32], hit: &mut impl FnMut(Hit)) {
        for &id in ids {
            let Some(keyword) = self.keywords.get(id as usize) else {
                continue;
            };
            let Some(start) = end.checked_sub(keyword.len()) else {
                continue;
            };
            if data
                .get(start..end)
                .is_some_and(|w| w.eq_ignore_ascii_case(keyword))
            {
                hit(Hit {
                    start,
                    end,
                    keyword: id,
                });
            }
        }
    }
}

/// The filter's state: the lanes, and the last two folded bytes.
#[derive(Debug, Clone, Copy, Default)]
struct Lanes {
    lanes: u64,
    before: u32,
    last: u32,
}

impl Lanes {
    /// Takes one byte; the new lanes.
    #[inline(always)]
    fn step(&mut self, table: &Table, byte: u8) -> u64 {
        // The index from the last three folded bytes kept apart, not shifted into one running
        // value: that made a chain of dependent operations per byte and cost a quarter.
        let folded = FOLD.get(usize::from(byte)).copied().unwrap_or(0);
        let index = ((self.before << 12) | (self.last << 6) | folded) as usize & INDEX_MASK;
        (self.before, self.last) = (self.last, folded);
        self.lanes = (self.lanes << 8) | table.get(index).copied().unwrap_or(0);
        self.lanes
    }
}

/// The bit of bucket `bucket` in lane `lane`.
const fn bit(lane: usize, bucket: usize) -> u64 {
    1u64 << (lane * 8 + bucket)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(keywords: &[&[u8]], data: &[u8]) -> Vec<Hit> {
        let mut hits = Vec::new();
        for (id, k) in keywords.iter().enumerate() {
            if k.is_empty() {
                continue;
            }
            for start in 0..data.len() {
                if data
                    .get(start..start + k.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(k))
                {
                    hits.push(Hit {
                        start,
                        end: start + k.len(),
                        keyword: id as u32,
                    });
                }
            }
        }
        hits.sort();
        hits
    }

    fn found(keywords: &[&[u8]], data: &[u8]) -> Vec<Hit> {
        let compiled = Keywords::new(keywords);
        let mut hits = Vec::new();
        let mut last_end = 0;
        compiled.for_each(data, |h| {
            assert!(h.end >= last_end, "hits come in order of end");
            last_end = h.end;
            hits.push(h);
        });
        hits.sort();
        hits
    }

    #[test]
    fn finds_keywords_of_every_length_case_insensitively_and_overlapping() {
        let keywords: &[&[u8]] = &[
            b"q~",
            b"re_",
            b"sk-",
            b"sk-ant-",
            b"github_pat_",
            b"-----begin openssh private key-----",
            b"aaaa",
        ];
        let data =
            b"x Q~y RE_a sk-ant-api03 GitHub_PAT_11 -----BEGIN OPENSSH PRIVATE KEY----- aaaaaa";
        assert_eq!(found(keywords, data), naive(keywords, data));
        assert_eq!(found(keywords, data).len(), 9);
    }

    #[test]
    fn keywords_at_the_very_start_and_end_and_alone() {
        let keywords: &[&[u8]] = &[b"ab", b"abc", b"token"];
        for data in [
            &b"ab"[..],
            b"abc",
            b"token",
            b"xtoken",
            b"tokenx",
            b"a",
            b"",
        ] {
            assert_eq!(found(keywords, data), naive(keywords, data), "{data:?}");
        }
    }

    #[test]
    fn bytes_that_fold_together_are_told_apart_by_the_comparison() {
        // `_` (0x5F) and DEL (0x7F), `0` and 0x10 fold to the same values.
        let keywords: &[&[u8]] = &[b"re_", b"v0x"];
        let data = b"re\x7f v\x10x re_ v0x";
        assert_eq!(found(keywords, data), naive(keywords, data));
        assert_eq!(found(keywords, data).len(), 2);
    }

    proptest! {
        #[test]
        fn agrees_with_a_naive_search(
            keywords in proptest::collection::vec(proptest::collection::vec(
                prop_oneof![Just(b'a'), Just(b'B'), Just(b'_'), Just(b'-'), Just(0x7Fu8), Just(b'1'), any::<u8>()], 1..14), 1..40),
            data in proptest::collection::vec(
                prop_oneof![Just(b'a'), Just(b'b'), Just(b'A'), Just(b'_'), Just(b'-'), Just(b'1'), any::<u8>()], 0..400),
        ) {
            let keywords: Vec<&[u8]> = keywords.iter().map(Vec::as_slice).collect();
            prop_assert_eq!(found(&keywords, &data), naive(&keywords, &data));
        }
    }
}
