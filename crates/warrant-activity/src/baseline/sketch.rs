//! [`SketchSet`]: a bounded multiset, exact while small, a sample with a Bloom filter and a
//! HyperLogLog past its cap.

use super::*;

const BLOOM_WORDS: usize = 256; // 16384 bits: ~2% false positives at 2,000 keys
const BLOOM_HASHES: u64 = 4;
const HLL_BITS: u32 = 8; // 256 registers, ~6.5% standard error

/// A stable 64-bit hash (FNV-1a with a SplitMix64 finaliser): the same on every platform and
/// run, which sampling and sketches need so merges and stored blobs agree.
pub fn stable_hash(text: &str, seed: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for byte in text.as_bytes() {
        h ^= u64::from(*byte);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// A bounded multiset of strings.
///
/// Up to `cap` distinct keys it is exact. Beyond that it keeps the `cap` keys with the smallest
/// stable hash (a uniform sample whose counts stay exact), and answers membership from a Bloom
/// filter and the distinct count from a HyperLogLog, both built over every key ever added.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SketchSet {
    cap: u32,
    entries: BTreeMap<String, u64>,
    /// Present once the set has overflowed its cap.
    overflow: Option<Overflow>,
    /// Largest sample hash while overflowed: new keys above it are not sampled, which keeps
    /// high-cardinality sets (object keys) cheap. A cache: not stored, not compared.
    #[serde(skip)]
    cutoff: Option<u64>,
}

impl PartialEq for SketchSet {
    fn eq(&self, other: &SketchSet) -> bool {
        self.cap == other.cap && self.entries == other.entries && self.overflow == other.overflow
    }
}

impl Eq for SketchSet {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Overflow {
    bloom: Vec<u64>,
    hll: Vec<u8>,
}

impl Overflow {
    fn new() -> Overflow {
        Overflow {
            bloom: vec![0; BLOOM_WORDS],
            hll: vec![0; 1 << HLL_BITS],
        }
    }

    fn add(&mut self, key: &str) {
        let h1 = stable_hash(key, 1);
        let h2 = stable_hash(key, 2) | 1;
        let bits = (BLOOM_WORDS * 64) as u64;
        for i in 0..BLOOM_HASHES {
            let bit = h1.wrapping_add(i.wrapping_mul(h2)) % bits;
            if let Some(word) = self.bloom.get_mut((bit / 64) as usize) {
                *word |= 1 << (bit % 64);
            }
        }
        let h = stable_hash(key, 3);
        let index = (h >> (64 - HLL_BITS)) as usize;
        let rank = ((h << HLL_BITS) | (1 << (HLL_BITS - 1))).leading_zeros() as u8 + 1;
        if let Some(register) = self.hll.get_mut(index) {
            *register = (*register).max(rank);
        }
    }

    fn may_contain(&self, key: &str) -> bool {
        let h1 = stable_hash(key, 1);
        let h2 = stable_hash(key, 2) | 1;
        let bits = (BLOOM_WORDS * 64) as u64;
        (0..BLOOM_HASHES).all(|i| {
            let bit = h1.wrapping_add(i.wrapping_mul(h2)) % bits;
            self.bloom
                .get((bit / 64) as usize)
                .is_some_and(|word| word & (1 << (bit % 64)) != 0)
        })
    }

    fn union(&mut self, other: &Overflow) {
        for (a, b) in self.bloom.iter_mut().zip(&other.bloom) {
            *a |= b;
        }
        for (a, b) in self.hll.iter_mut().zip(&other.hll) {
            *a = (*a).max(*b);
        }
    }

    fn estimate(&self) -> f64 {
        let m = self.hll.len() as f64;
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let sum: f64 = self.hll.iter().map(|r| 2f64.powi(-i32::from(*r))).sum();
        let raw = alpha * m * m / sum;
        let zeros = self.hll.iter().filter(|r| **r == 0).count();
        if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        }
    }
}

impl SketchSet {
    pub fn new(cap: usize) -> SketchSet {
        SketchSet {
            cap: u32::try_from(cap.max(1)).unwrap_or(u32::MAX),
            entries: BTreeMap::new(),
            overflow: None,
            cutoff: None,
        }
    }

    pub fn add(&mut self, key: &str, count: u64) {
        if let Some(count_in) = self.entries.get_mut(key) {
            *count_in += count;
            return;
        }
        if let Some(overflow) = &mut self.overflow {
            overflow.add(key);
            let cutoff = match self.cutoff {
                Some(c) => c,
                None => {
                    let c = self
                        .entries
                        .keys()
                        .map(|k| stable_hash(k, 0))
                        .max()
                        .unwrap_or(u64::MAX);
                    self.cutoff = Some(c);
                    c
                }
            };
            if stable_hash(key, 0) > cutoff {
                // Would be dropped again at once: the sample keeps the smallest hashes.
                return;
            }
        }
        self.entries.insert(key.to_string(), count);
        self.truncate();
    }

    /// Keeps the `cap` keys with the smallest hash; on first overflow builds the sketches from
    /// the (still complete) entries.
    fn truncate(&mut self) {
        if self.entries.len() <= self.cap as usize {
            return;
        }
        if self.overflow.is_none() {
            let mut overflow = Overflow::new();
            for key in self.entries.keys() {
                overflow.add(key);
            }
            self.overflow = Some(overflow);
        }
        let mut ranked: Vec<(u64, String)> = self
            .entries
            .keys()
            .map(|k| (stable_hash(k, 0), k.clone()))
            .collect();
        ranked.sort();
        self.cutoff = ranked
            .get((self.cap as usize).saturating_sub(1))
            .map(|(h, _)| *h);
        for (_, key) in ranked.into_iter().skip(self.cap as usize) {
            self.entries.remove(&key);
        }
    }

    /// Whether `key` was ever added (Bloom filter once overflowed: rare false positives, never
    /// false negatives).
    pub fn contains(&self, key: &str) -> bool {
        if self.entries.contains_key(key) {
            return true;
        }
        self.overflow.as_ref().is_some_and(|o| o.may_contain(key))
    }

    /// Exact count while the set is exact or `key` is in the sample.
    pub fn count(&self, key: &str) -> Option<u64> {
        self.entries.get(key).copied()
    }

    /// Number of distinct keys ever added (estimated once overflowed).
    pub fn distinct(&self) -> u64 {
        match &self.overflow {
            None => self.entries.len() as u64,
            Some(o) => (o.estimate().round() as u64).max(self.entries.len() as u64),
        }
    }

    pub fn is_exact(&self) -> bool {
        self.overflow.is_none()
    }

    /// The retained keys with their counts (all keys while exact).
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), *v))
    }

    pub fn merge(&mut self, other: &SketchSet) {
        self.cutoff = None;
        self.cap = self.cap.min(other.cap);
        match (&mut self.overflow, &other.overflow) {
            (Some(mine), Some(theirs)) => mine.union(theirs),
            (Some(mine), None) => other.entries.keys().for_each(|k| mine.add(k)),
            (None, Some(theirs)) => {
                let mut overflow = theirs.clone();
                self.entries.keys().for_each(|k| overflow.add(k));
                self.overflow = Some(overflow);
            }
            (None, None) => {}
        }
        for (key, count) in &other.entries {
            *self.entries.entry(key.clone()).or_insert(0) += count;
        }
        self.truncate();
    }
}
