//! Shannon entropy: how random a string looks, for telling a secret from a word.
//!
//! The scanner's per-rule thresholds and the connectors' "looks like a secret" test both read
//! this one function, so a value judged random in a file is judged random in a config too.

/// Shannon entropy in bits per byte (0 for an empty input, at most 8).
pub fn shannon_entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &byte in bytes {
        if let Some(count) = counts.get_mut(usize::from(byte)) {
            *count += 1;
        }
    }
    let n = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&count| count > 0)
        .map(|&count| {
            let p = f64::from(count) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_uniform_and_constant_strings() {
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
        assert_eq!(shannon_entropy(b""), 0.0);
        let every_byte: Vec<u8> = (0..=255).collect();
        assert!((shannon_entropy(&every_byte) - 8.0).abs() < 1e-9);
    }
}
