//! Values that have a secret's shape but are not secrets: providers' documented example keys,
//! placeholders, and strings no random generator produces (long runs of one character,
//! counting sequences). Structure decides, not luck: each test is something a real token of
//! the rule's alphabet fails with negligible probability.

/// Example credentials providers publish in their own documentation (format facts).
const DOCUMENTED_EXAMPLES: &[&str] = &[
    // AWS, in every IAM and CLI guide.
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    // Stripe's API reference test keys.
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    "pk_test_TYooMQauvdEDq54NiTphI7jx",
];

/// Words placeholders are made of; a random token of 16+ characters holds one of these with
/// probability well under one in a million.
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "xxxxx",
    "placeholder",
    "changeme",
    "change_me",
    "your_",
    "yourkey",
    "yourtoken",
    "yoursecret",
    "yourapikey",
    "dummy",
    "redacted",
    "replace_me",
    "replaceme",
    "insert_",
    "notreal",
    "not_real",
    "not-a-real",
    "sample",
];

/// How long a run of one character, or of consecutive characters, may be in a random value.
const MAX_RUN: usize = 6;

/// Whether `secret` is a placeholder, a documented example or a patterned fake rather than a
/// credential. Private keys and connection strings are not judged here: their bodies hold
/// legitimate runs (DER padding) and their hosts legitimately say `example`.
pub fn looks_fake(secret: &[u8], kind: Option<&str>) -> bool {
    if matches!(
        kind,
        Some("private-key" | "connection-uri" | "connection-string" | "dsn" | "webhook")
    ) {
        return false;
    }
    if secret.iter().any(u8::is_ascii_whitespace) || secret.len() > 512 {
        return false;
    }
    if DOCUMENTED_EXAMPLES
        .iter()
        .any(|e| secret.windows(e.len()).any(|w| w == e.as_bytes()))
    {
        return true;
    }
    let lower = secret.to_ascii_lowercase();
    if PLACEHOLDER_WORDS
        .iter()
        .any(|w| lower.windows(w.len()).any(|x| x == w.as_bytes()))
    {
        return true;
    }
    patterned(secret)
}

/// A run of more than [`MAX_RUN`] identical alphanumerics, or of alphanumerics counting up or
/// down by one (`0123456789`, `abcdefgh`).
fn patterned(secret: &[u8]) -> bool {
    // A run the value starts with is padding some formats carry (X's app-only bearer tokens
    // begin with a run of `A`, base64 of leading zero bytes): judge what follows it.
    let lead = secret
        .iter()
        .take_while(|&&b| secret.first() == Some(&b))
        .count();
    let secret = if lead > MAX_RUN {
        secret.get(lead..).unwrap_or_default()
    } else {
        secret
    };
    let mut same = 1;
    let mut up = 1;
    let mut down = 1;
    for (&a, &b) in secret.iter().zip(secret.iter().skip(1)) {
        let alnum = a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric();
        same = if alnum && a == b { same + 1 } else { 1 };
        up = if alnum && b == a.wrapping_add(1) {
            up + 1
        } else {
            1
        };
        down = if alnum && a == b.wrapping_add(1) {
            down + 1
        } else {
            1
        };
        if same > MAX_RUN || up > MAX_RUN || down > MAX_RUN {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_examples_placeholders_and_patterns_are_fake() {
        for fake in [
            "AKIAIOSFODNN7EXAMPLE",
            "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
            "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "sk_live_YOUR_SECRET_KEY_here_1234",
            "xoxb-0000000000-0000000000-aaaaaaaaaaaaaaaaaaaaaaaa",
            "sk_live_1234567890abcdefghijABCD",
            "api_key_replace_me_with_a_real_one",
            "Zyxwvutsrq9876543210",
        ] {
            assert!(looks_fake(fake.as_bytes(), Some("api-key")), "{fake}");
        }
    }

    #[test]
    fn random_tokens_keys_and_connection_strings_are_not() {
        for real in [
            "ghp_k9Qz2Lm7Xw4Rt8Vn1Bc6Hy3Dp5Fs0GjA1b2C",
            "sk_live_51Hq8Lz3Wm9Xv2Np7Rt4Ys6Uc1Fg5Jh0Ke3Ai",
            "AKIAZP6WDFRWPBJ3NNUJ",
            "0f3a9c1e7b2d48a6950c1d7e3f8b2a64",
        ] {
            assert!(!looks_fake(real.as_bytes(), Some("api-key")), "{real}");
        }
        // Leading padding is judged by what follows it.
        assert!(!looks_fake(
            b"AAAAAAAAAAAAAAAAAAAAAMLh4QEAAAAAq7bJq%2FX9kZ3mWp0Lr5Tn8Vy2Gd4Hs6Jf1Ke",
            Some("token")
        ));
        assert!(!looks_fake(
            b"postgres://app:Xk9vQ2mLp7@db.example.com/app",
            Some("connection-uri")
        ));
        assert!(!looks_fake(
            b"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAB",
            Some("private-key")
        ));
    }
}
