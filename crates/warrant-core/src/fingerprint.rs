//! Keyed fingerprints and redacted previews: how Warrant recognises a secret again without ever
//! storing it.
//!
//! A plain hash of a low-entropy secret can be brute-forced from a leaked database; a keyed hash
//! (HMAC-SHA256 with an installation key kept outside the store) cannot without the key.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Prefix of every fingerprint string, versioned so the scheme can change.
pub const FINGERPRINT_PREFIX: &str = "fp1:";

/// Prefix of a credential id made from a secret's fingerprint (`fp:fp1:…`), for a credential
/// the provider gives no id of its own (a Kubernetes token secret). It is not versioned: the
/// fingerprint after it carries the version.
pub const FINGERPRINT_CREDENTIAL_ID_PREFIX: &str = "fp:";

/// Whether a string is a fingerprint made by [`Fingerprinter::fingerprint`] (any key).
pub fn is_fingerprint(text: &str) -> bool {
    text.starts_with(FINGERPRINT_PREFIX)
}

/// The credential id for a secret known only by its fingerprint.
pub fn credential_id_from_fingerprint(fingerprint: &str) -> String {
    format!("{FINGERPRINT_CREDENTIAL_ID_PREFIX}{fingerprint}")
}

/// Whether a credential id was made by [`credential_id_from_fingerprint`] rather than being a
/// provider's own key id (`AKIA…`, a token id), which scanners can find as text.
pub fn is_fingerprint_credential_id(id: &str) -> bool {
    id.starts_with(FINGERPRINT_CREDENTIAL_ID_PREFIX)
}

/// The fingerprint a GitHub token is linked by when the provider gives only its last eight
/// characters (`token_last_eight` of the credential-authorizations API): the keyed fingerprint
/// of the token's type prefix (`ghp_`) and those characters, in a namespace of its own so it
/// never equals the fingerprint of a whole secret. Connectors store this, never the characters.
pub fn github_token_last_eight_fingerprint(
    fingerprinter: &Fingerprinter,
    prefix: &str,
    last_eight: &str,
) -> String {
    fingerprinter.fingerprint(format!("github-token-last-eight\0{prefix}\0{last_eight}").as_bytes())
}

/// The fingerprint of an SSH public key in `authorized_keys` form (`ssh-ed25519 AAAA… comment`):
/// of its type and key only, so a comment or spacing does not change it. A deploy key's
/// credential carries it, and a private key found in code is linked through the public key it
/// holds.
pub fn public_key_fingerprint(fingerprinter: &Fingerprinter, authorized_key: &str) -> String {
    let key: Vec<&str> = authorized_key.split_ascii_whitespace().take(2).collect();
    fingerprinter.fingerprint(key.join(" ").as_bytes())
}

#[derive(Clone)]
pub struct Fingerprinter {
    key: Vec<u8>,
}

impl std::fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("Fingerprinter").finish_non_exhaustive()
    }
}

impl Fingerprinter {
    pub fn new(key: &[u8]) -> Fingerprinter {
        Fingerprinter { key: key.to_vec() }
    }

    /// `fp1:` followed by 32 hex digits (128 bits of HMAC-SHA256). Leading and trailing ASCII
    /// whitespace is ignored so a secret matches whether found in a file or an env block.
    pub fn fingerprint(&self, secret: &[u8]) -> String {
        let trimmed = secret.trim_ascii();
        // HMAC accepts keys of any length, so this cannot fail; fall back to an empty key rather
        // than panic if the library ever changes that.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.key) {
            Ok(mac) => mac,
            Err(_) => Hmac::<Sha256>::new(&Default::default()),
        };
        mac.update(trimmed);
        // A fixed-size array: slicing it by constants is checked at compile time.
        let digest: [u8; 32] = mac.finalize().into_bytes().into();
        format!("{FINGERPRINT_PREFIX}{}", hex::encode(&digest[..16]))
    }
}

/// A preview safe to show and store: a short known prefix and the last two characters, never more
/// than a quarter of the secret.
///
/// `ghp_AbCdEf…` → `ghp_…Ef`; `hunter2` → `…`.
pub fn redact(secret: &str) -> String {
    let chars: Vec<char> = secret.trim().chars().collect();
    let n = chars.len();
    if n < 12 {
        return "…".to_string();
    }
    // Keep a recognisable prefix up to the first separator (token types announce themselves
    // there: `ghp_`, `xoxb-`, `sk-`, `AKIA`), capped at a quarter of the length.
    let budget = n / 4;
    let prefix_len = chars
        .iter()
        .position(|c| *c == '_' || *c == '-')
        .map(|p| p + 1)
        .unwrap_or(4)
        .min(budget.saturating_sub(2))
        .min(8);
    let prefix: String = chars.iter().take(prefix_len).collect();
    let suffix: String = chars.iter().skip(n - 2).collect();
    format!("{prefix}…{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fingerprints_depend_on_the_key() {
        let a = Fingerprinter::new(b"key-a").fingerprint(b"secret");
        let b = Fingerprinter::new(b"key-b").fingerprint(b"secret");
        assert_ne!(a, b);
        assert!(a.starts_with(FINGERPRINT_PREFIX));
        assert!(is_fingerprint(&a));
        let id = credential_id_from_fingerprint(&a);
        assert!(is_fingerprint_credential_id(&id));
        assert!(!is_fingerprint_credential_id("AKIAIOSFODNN7EXAMPLE"));
        assert!(
            !is_fingerprint_credential_id(&a),
            "a bare fingerprint is not an id"
        );
        assert_eq!(a.len(), FINGERPRINT_PREFIX.len() + 32);
    }

    #[test]
    fn part_fingerprints_have_their_own_namespace() {
        let f = Fingerprinter::new(b"k");
        let tail = github_token_last_eight_fingerprint(&f, "ghp_", "abcd1234");
        assert!(is_fingerprint(&tail));
        assert_ne!(tail, f.fingerprint(b"abcd1234"));
        assert_ne!(tail, f.fingerprint(b"ghp_abcd1234"));
        assert_ne!(
            tail,
            github_token_last_eight_fingerprint(&f, "gho_", "abcd1234")
        );
        assert_ne!(
            tail,
            github_token_last_eight_fingerprint(&f, "ghp_", "abcd1235")
        );
        assert_eq!(
            public_key_fingerprint(&f, "ssh-ed25519  AAAAC3Nz deploy@ci\n"),
            f.fingerprint(b"ssh-ed25519 AAAAC3Nz")
        );
    }

    #[test]
    fn fingerprints_ignore_surrounding_whitespace() {
        let f = Fingerprinter::new(b"k");
        assert_eq!(f.fingerprint(b"  tok\n"), f.fingerprint(b"tok"));
    }

    #[test]
    fn redaction_keeps_the_type_prefix() {
        assert_eq!(
            redact("ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"),
            "ghp_…AB"
        );
        assert_eq!(redact("short"), "…");
    }

    proptest! {
        #[test]
        fn redaction_never_reveals_more_than_a_quarter(secret in "[ -~]{0,200}") {
            let preview = redact(&secret);
            let shown = preview.chars().filter(|c| *c != '…').count();
            prop_assert!(shown <= secret.trim().chars().count() / 4);
        }
    }
}
