//! Structure validators: a secret whose format has an inner structure (a serialised macaroon,
//! a DER or OpenSSH key under base64) is kept only when that structure parses. Random
//! look-alikes, placeholders and hand-typed bodies in docs and tests fail the parse, so these
//! drop matches that the pattern and entropy alone cannot.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// A PyPI API token: `pypi-` and the unpadded base64url of a macaroon in the libmacaroons v2
/// binary format, walked to its last byte:
///
/// ```text
/// 0x02  [location] identifier EOS  { [location] identifier [vid] EOS }  EOS  signature
/// ```
///
/// where each field is a type byte (1 location, 2 identifier, 4 verification id, 6 signature),
/// a LEB128 length and that many bytes, EOS is a 0x00 byte, and the signature is 32 bytes and
/// ends the token. PyPI issues every token this way, and a fixed prefix (the location) with
/// random characters after it almost never parses, so this drops fabricated and truncated
/// tokens that keep the real prefix.
pub(crate) fn pypi_macaroon(secret: &[u8]) -> bool {
    let encoded = secret.strip_prefix(b"pypi-").unwrap_or(secret);
    URL_SAFE_NO_PAD
        .decode(encoded)
        .is_ok_and(|bytes| macaroon_v2(&bytes).is_some())
}

const MACAROON_V2: u8 = 2;
const EOS: u8 = 0;
const LOCATION: u8 = 1;
const IDENTIFIER: u8 = 2;
const VID: u8 = 4;
const SIGNATURE: u8 = 6;
const SIGNATURE_LEN: usize = 32;

/// Reads the v2 macaroon fields from the front of a byte string.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    fn peek(&self) -> Option<u8> {
        self.0.first().copied()
    }

    /// An unsigned LEB128 length, at most four bytes (under 256 MiB: a token is far shorter).
    fn varint(&mut self) -> Option<usize> {
        let mut value = 0usize;
        for shift in [0, 7, 14, 21] {
            let byte = self.byte()?;
            value |= usize::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    /// One field: its type and its data.
    fn field(&mut self) -> Option<(u8, &'a [u8])> {
        let kind = self.byte()?;
        let len = self.varint()?;
        let data = self.0.get(..len)?;
        self.0 = self.0.get(len..)?;
        Some((kind, data))
    }

    /// One section: an optional location, the identifier, an optional verification id (caveats
    /// only), and EOS.
    fn section(&mut self, caveat: bool) -> Option<()> {
        let (mut kind, _) = self.field()?;
        if kind == LOCATION {
            (kind, _) = self.field()?;
        }
        if kind != IDENTIFIER {
            return None;
        }
        if caveat && self.peek()? == VID {
            self.field()?;
        }
        (self.byte()? == EOS).then_some(())
    }
}

/// `Some` when `data` is exactly one v2 macaroon with a 32-byte signature.
fn macaroon_v2(data: &[u8]) -> Option<()> {
    let mut fields = Fields(data);
    if fields.byte()? != MACAROON_V2 {
        return None;
    }
    fields.section(false)?;
    while fields.peek()? != EOS {
        fields.section(true)?;
    }
    fields.byte()?; // the EOS ending the caveats
    let (kind, signature) = fields.field()?;
    (kind == SIGNATURE && signature.len() == SIGNATURE_LEN && fields.0.is_empty()).then_some(())
}

/// Fewer decoded bytes than this is no private key (an Ed25519 PKCS #8 key, the smallest in
/// use, is 48 bytes; so is the 64 base64 characters the PEM rules ask for).
const MIN_PEM_BYTES: usize = 48;
const OPENSSH_MAGIC: &[u8] = b"openssh-key-v1\0";

/// A PEM private key block, `-----BEGIN <label>-----`, base64 lines and (when the match reached
/// it) the `-----END <label>-----` line; newlines may be real or escaped as `\n`/`\r` inside
/// a string literal. The BEGIN/END lines, RFC 1421 header lines (`Proc-Type:`, `DEK-Info:`),
/// whitespace and escaped newlines are left out, and the rest must be base64 of what the label
/// promises:
///
/// - `OPENSSH PRIVATE KEY`: starts with `openssh-key-v1\0`;
/// - any other `… PRIVATE KEY` (RSA, EC, DSA, ENCRYPTED, plain PKCS #8): a DER SEQUENCE (0x30,
///   then a short or 1–3-byte long length), whose length covers exactly the decoded bytes when
///   the block is complete;
/// - with a `Proc-Type: 4,ENCRYPTED` header (legacy encrypted PEM) the body is ciphertext, so
///   only its base64 and block-cipher length are checked.
///
/// A complete block (END line present, same label) must be canonical padded base64; a block cut
/// short (the END line out of the match's reach) is decoded up to its last whole 4-character
/// group before any padding. At least [`MIN_PEM_BYTES`] must decode either way. Placeholder,
/// hand-typed and random bodies in docs and tests fail these checks; the keys OpenSSL,
/// ssh-keygen and the usual libraries write pass them.
pub(crate) fn pem_body(secret: &[u8]) -> bool {
    pem_body_checked(secret).is_some()
}

fn pem_body_checked(secret: &[u8]) -> Option<()> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    const END: &[u8] = b"-----END ";
    const DASHES: &[u8] = b"-----";
    let start = memchr::memmem::find(secret, BEGIN)?;
    let after = secret.get(start + BEGIN.len()..)?;
    let label_len = memchr::memmem::find(after, DASHES)?;
    let label = after.get(..label_len)?;
    let rest = after.get(label_len + DASHES.len()..)?;
    let (body, complete) = match memchr::memmem::find(rest, END) {
        Some(end) => {
            let end_label = rest.get(end + END.len()..)?;
            if end_label.strip_prefix(label)?.get(..DASHES.len())? != DASHES {
                return None;
            }
            (rest.get(..end)?, true)
        }
        None => (rest, false),
    };
    let (b64, encrypted) = pem_base64(body)?;
    let decoded = if complete {
        STANDARD.decode(&b64).ok()?
    } else {
        // Whole 4-character groups before the padding, if any (the data ends there; whatever
        // the match ran on into after it is not the key).
        let data_end = b64.iter().position(|&b| b == b'=').unwrap_or(b64.len());
        STANDARD.decode(b64.get(..data_end - data_end % 4)?).ok()?
    };
    if decoded.len() < MIN_PEM_BYTES {
        return None;
    }
    let well_formed = if encrypted {
        // CBC ciphertext (DES, 3DES, AES) is whole 8-byte blocks.
        !complete || decoded.len() % 8 == 0
    } else if label == b"OPENSSH PRIVATE KEY" {
        decoded.starts_with(OPENSSH_MAGIC)
    } else if label.ends_with(b"PRIVATE KEY") {
        der_sequence(&decoded, complete)
    } else {
        false
    };
    well_formed.then_some(())
}

/// The base64 characters of a PEM body (between the BEGIN and END lines) and whether a
/// `Proc-Type: …ENCRYPTED` header precedes them. `None` when a header line follows body data.
fn pem_base64(body: &[u8]) -> Option<(Vec<u8>, bool)> {
    // Escaped newlines (`\n`, `\r`: a key in a JSON, YAML or source string) become real ones.
    let mut text = Vec::with_capacity(body.len());
    let mut bytes = body.iter().copied().peekable();
    while let Some(b) = bytes.next() {
        if b == b'\\' && matches!(bytes.peek(), Some(b'n' | b'r')) {
            bytes.next();
            text.push(b'\n');
        } else {
            text.push(b);
        }
    }
    let mut b64 = Vec::with_capacity(text.len());
    let mut encrypted = false;
    for line in text.split(|&b| b == b'\n' || b == b'\r') {
        let line = line.trim_ascii();
        if line.contains(&b':') {
            // RFC 1421 headers come first, before a blank line and the data.
            if !b64.is_empty() {
                return None;
            }
            if line.starts_with(b"Proc-Type:") && memchr::memmem::find(line, b"ENCRYPTED").is_some()
            {
                encrypted = true;
            }
            continue;
        }
        b64.extend(line.iter().filter(|b| !b.is_ascii_whitespace()));
    }
    Some((b64, encrypted))
}

/// A DER SEQUENCE header (tag 0x30, then a length of one byte under 0x80, or 0x81–0x83 and that
/// many length bytes). When the data is all there, the length must cover it exactly.
fn der_sequence(der: &[u8], complete: bool) -> bool {
    let Some((&0x30, rest)) = der.split_first() else {
        return false;
    };
    let Some((&first, rest)) = rest.split_first() else {
        return false;
    };
    let (len, content) = match first {
        0x00..=0x7f => (usize::from(first), rest),
        0x81..=0x83 => {
            let n = usize::from(first & 0x7f);
            let (Some(len_bytes), Some(content)) = (rest.get(..n), rest.get(n..)) else {
                return false;
            };
            let len = len_bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            (len, content)
        }
        _ => return false,
    };
    !complete || len == content.len()
}

/// HTTP Basic credentials (RFC 7617): standard base64 of `user-id:password` in printable
/// ASCII. Some providers put the key in the user part and leave the password empty, so either
/// side may be empty, but not both, and at least 8 characters besides the colon. Random
/// base64 after a `Basic` or under an `auth_header` name is not credentials.
pub(crate) fn basic_credentials(secret: &[u8]) -> bool {
    let Ok(decoded) = STANDARD.decode(secret) else {
        return false;
    };
    let Some(colon) = decoded.iter().position(|&b| b == b':') else {
        return false;
    };
    decoded.iter().all(|b| (0x20..0x7f).contains(b)) && decoded.len() > 8 && colon < 256
}

/// A JSON Web Token that is a credential: three base64url segments, the header a JSON object
/// naming an `alg`, and not a token its provider publishes to browsers by design — Supabase's
/// `anon` key (`"role": "anon"`, issuer `supabase`) only grants what row-level security allows
/// anyone; its `service_role` sibling is a secret.
pub(crate) fn jwt(secret: &[u8]) -> bool {
    let mut parts = secret.split(|&b| b == b'.');
    let (Some(header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let json = |segment: &[u8]| match base64url_decode(segment)
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
    {
        Some(serde_json::Value::Object(map)) => Some(map),
        _ => None,
    };
    if payload.is_empty() || !json(header).is_some_and(|h| h.contains_key("alg")) {
        return false;
    }
    let published = json(payload).is_some_and(|claims| {
        claims.get("role").and_then(|r| r.as_str()) == Some("anon")
            && claims.get("iss").and_then(|i| i.as_str()) == Some("supabase")
    });
    !published
}

/// Base64url as tokens write it, leniently: `+`/`/` accepted too, stops at padding.
fn base64url_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in text {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // --- pypi-macaroon -------------------------------------------------------------------

    // Built for these tests by a throwaway script (random identifier, caveats and signature);
    // no real token.
    const PYPI: &str = "pypi-AgEIcHlwaS5vcmcCJDJkNTIzN2M1LWY3ZjYtNDkxOC1iNTM3LTdhMWU1MjY5YmYzNgACOnsidmVyc2lvbiI6IDEsICJwZXJtaXNzaW9ucyI6IHsicHJvamVjdHMiOiBbInFpem50a2p1ayJdfX0AAAYgeFwk4JEbxLIqB-Z2rN_9fYHUgNlAHEwsKTRWGnXzOvM";
    const TEST_PYPI: &str = "pypi-AgENdGVzdC5weXBpLm9yZwI4eyJub25jZSI6Ijk2NzIwNzJkYTJmODNiYzdlNDUyZTczMzAyYTE2OGNjIiwidmVyc2lvbiI6MX0AAiZ7Im5iZiI6IDE3NjI5Nzc0NzQsICJleHAiOiAxNzYzMDQ5NDc0fQAABiA59XOAmvoBQ8FSHXFuJJZGGu91477voUih1gMpdOoL_g";

    fn field(out: &mut Vec<u8>, kind: u8, data: &[u8]) {
        out.push(kind);
        let mut n = data.len();
        loop {
            let low = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(low);
                break;
            }
            out.push(low | 0x80);
        }
        out.extend_from_slice(data);
    }

    /// A v2 macaroon: location, identifier, then the given caveat sections (each a list of
    /// fields), then the signature.
    fn macaroon(caveats: &[&[(u8, &[u8])]], signature: &[u8]) -> Vec<u8> {
        let mut out = vec![MACAROON_V2];
        field(&mut out, LOCATION, b"pypi.org");
        field(
            &mut out,
            IDENTIFIER,
            b"4f0c2e9a-61d3-4b7e-9a85-c31f07d2b6e4",
        );
        out.push(EOS);
        for caveat in caveats {
            for (kind, data) in *caveat {
                field(&mut out, *kind, data);
            }
            out.push(EOS);
        }
        out.push(EOS);
        field(&mut out, SIGNATURE, signature);
        out
    }

    fn token(bytes: &[u8]) -> String {
        format!("pypi-{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    const SIG: &[u8; 32] = b"\x8e\x1d\x93\xa0\x5c\x27\xf4\x11\x6b\xd8\x03\x9a\x40\xe2\x77\x15\xc9\x3e\xa8\x52\x0f\xb6\x61\xd4\x2a\x98\x7c\x05\xe3\x4f\xb1\x6d";

    #[test]
    fn pypi_tokens_that_are_whole_macaroons_pass() {
        assert!(pypi_macaroon(PYPI.as_bytes()));
        assert!(pypi_macaroon(TEST_PYPI.as_bytes()));
        // No caveats; a third-party caveat (location, identifier, vid); a field longer than 127
        // bytes (a two-byte length).
        let long = [b'q'; 300];
        for bytes in [
            macaroon(&[], SIG),
            macaroon(
                &[&[
                    (LOCATION, b"https://auth.example"),
                    (IDENTIFIER, b"c9"),
                    (VID, &[7; 40]),
                ]],
                SIG,
            ),
            macaroon(&[&[(IDENTIFIER, &long)], &[(IDENTIFIER, b"[1]")]], SIG),
        ] {
            assert!(pypi_macaroon(token(&bytes).as_bytes()), "{}", token(&bytes));
        }
    }

    #[test]
    fn pypi_tokens_that_do_not_parse_fail() {
        // Every truncation of a good token, in bytes and in characters.
        let good = macaroon(&[&[(IDENTIFIER, br#"{"exp": 1767225600}"#)]], SIG);
        for cut in 0..good.len() {
            assert!(
                !pypi_macaroon(token(&good[..cut]).as_bytes()),
                "cut at {cut}"
            );
        }
        for cut in 0..PYPI.len() {
            assert!(!pypi_macaroon(&PYPI.as_bytes()[..cut]), "cut at {cut}");
        }
        // Trailing bytes after the signature.
        let mut extra = good.clone();
        extra.push(0);
        assert!(!pypi_macaroon(token(&extra).as_bytes()));
        // A character changed in the middle (a length or a type byte).
        let mut garbled = PYPI.as_bytes().to_vec();
        garbled[21] = b'Z';
        assert!(!pypi_macaroon(&garbled));
        // Wrong version, signature length, field types, a missing identifier.
        let mut v1 = good.clone();
        v1[0] = 1;
        assert!(!pypi_macaroon(token(&v1).as_bytes()));
        assert!(!pypi_macaroon(token(&macaroon(&[], &SIG[..31])).as_bytes()));
        assert!(!pypi_macaroon(
            token(&macaroon(&[&[(VID, b"x")]], SIG)).as_bytes()
        ));
        assert!(!pypi_macaroon(
            token(&macaroon(&[&[(IDENTIFIER, b"a"), (IDENTIFIER, b"b")]], SIG)).as_bytes()
        ));
        let mut no_id = vec![MACAROON_V2];
        field(&mut no_id, LOCATION, b"pypi.org");
        no_id.extend_from_slice(&[EOS, EOS]);
        field(&mut no_id, SIGNATURE, SIG);
        assert!(!pypi_macaroon(token(&no_id).as_bytes()));
        // Not base64url, padded, or a random tail behind the real prefix.
        assert!(!pypi_macaroon(format!("{PYPI}=").as_bytes()));
        assert!(!pypi_macaroon(PYPI.replace('_', "/").as_bytes()));
        assert!(!pypi_macaroon(
            b"pypi-AgEIcHlwaS5vcmcK9vQ2mLp7RtZs4Wx8bN3cF6hJ1kD5gT0yUaEiOqMrSzVwXnBlHuGjPe"
        ));
        assert!(!pypi_macaroon(b""));
        assert!(!pypi_macaroon(b"pypi-"));
    }

    // --- pem-body ------------------------------------------------------------------------

    // Throwaway keys generated for these tests (`openssl ecparam -genkey`, `ssh-keygen -t
    // ed25519 -N ''`, `openssl genpkey -algorithm ED25519 [-aes-256-cbc]`, `openssl genrsa
    // -traditional 512`, `openssl pkey -aes128 -traditional`).
    const EC: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEICkzI1Z74a2gS9QH/k/XVw/oslXdFFmY+d0JlSZrXp4noAoGCCqGSM49
AwEHoUQDQgAEQwCJX4SlrLNJyGIIMc90OpHMlMd+oy/615X0QWvjVM7QtBnTnU4z
injaTFXumyO/hmgbpu1L8OlSFaB2J6MrMA==
-----END EC PRIVATE KEY-----
";
    const OPENSSH: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACCkr6FFOsvFPpDO+bzHzKsEq1+4FtXl3++HvVL5p32U8gAAAJDUO7BO1Duw
TgAAAAtzc2gtZWQyNTUxOQAAACCkr6FFOsvFPpDO+bzHzKsEq1+4FtXl3++HvVL5p32U8g
AAAECqCg4ygkLlTJSJQ5TG9RfVe3YBz4MkHEwysxTTBbLzRaSvoUU6y8U+kM75vMfMqwSr
X7gW1eXf74e9UvmnfZTyAAAACXVuaXRAdGVzdAECAwQ=
-----END OPENSSH PRIVATE KEY-----
";
    const PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIAIb2H3P8Ofs5ncpWF/BAGZpRA+DmC0N7xC/7bR5+CXt
-----END PRIVATE KEY-----
";
    const ENCRYPTED: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----
MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAh9CkpsYNyrMQICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEENuvDfyFlKD3kpQvZMBT248EQLVU
ubAm8LCd0syZErbFwqnjoLlrG3txuxWRobpNzWMdRi6ai1YWzuefjebhfKBICuOL
tkp9cr5iDlwuz/Rd0Hw=
-----END ENCRYPTED PRIVATE KEY-----
";
    const RSA: &str = "-----BEGIN RSA PRIVATE KEY-----
MIIBOwIBAAJBAOQ7UaxAizZeFI2calvJ1vQoYiOf6zf7tz49AySNZiqJc4S9btq6
g/vBCeoOsNXr2AR2SbES4bXxFM6LdLjkAskCAwEAAQJBALd0Mw85hm06LF0z+I41
bNIvT8uA9Sq367BcjJUqD5BqDVf1FEsGRbFMAA24ymbFpljnX3rchiLwjW/FIl3t
wp0CIQDyH4D4yjmE4qzRrCrZsladafE5nhzew5CREdCFTXxxIwIhAPFP/2EftPd1
8qXRXtxxZlj6eDFRTheX0wedtp1G7XkjAiBGtFBzVoqJdbBF4mL5A40rlr5stvFz
U+SpmGwuITyPxQIhAILIp5E8/PhtPWAvNClncF/jB8c62Ici6uWizXk6GrRfAiBW
biXTkac2+xkzVw376Di3nps/ZyAJmJP5bUTo1is6Ew==
-----END RSA PRIVATE KEY-----
";
    const LEGACY_ENCRYPTED: &str = "-----BEGIN EC PRIVATE KEY-----
Proc-Type: 4,ENCRYPTED
DEK-Info: AES-128-CBC,A07C7961FCFBC80E471391F3DC990B25

YuDlB7EOD/HBggkUX6rpysFoGApU1GBtTW8qTUJs6GrIKT7os9FafdTprq/xOrPm
vycQlYGQOO0kiwctXnzR7Fx3UT2an0W+k+YC2yEL0S9jaGlOYYUTVx//gEW2JUng
Nwb/x+Na9z+tH9ksdJ/xzawuCo39fqzYJQtWPa4IcUY=
-----END EC PRIVATE KEY-----
";
    const KEYS: [&str; 6] = [EC, OPENSSH, PKCS8, ENCRYPTED, RSA, LEGACY_ENCRYPTED];

    /// The block without its END line.
    fn cut_before_end(key: &str) -> &str {
        &key[..key.find("-----END").unwrap()]
    }

    #[test]
    fn real_pem_keys_pass_whole_escaped_indented_and_cut_short() {
        for key in KEYS {
            assert!(pem_body(key.as_bytes()), "{key}");
            // The secret as matched: no trailing newline.
            assert!(pem_body(key.trim_end().as_bytes()), "{key}");
            // Inside a JSON string, `\n` or `\r\n` escaped.
            assert!(pem_body(key.replace('\n', "\\n").as_bytes()), "{key}");
            assert!(pem_body(key.replace('\n', "\\r\\n").as_bytes()), "{key}");
            // CRLF files, and a YAML block scalar (indented).
            assert!(pem_body(key.replace('\n', "\r\n").as_bytes()), "{key}");
            assert!(pem_body(key.replace('\n', "\n    ").as_bytes()), "{key}");
            // The END line out of the match's reach, or the block cut mid-line.
            assert!(pem_body(cut_before_end(key).as_bytes()), "{key}");
        }
        // Cut short, then whatever the match ran on into (base64 characters and padding).
        let run_on = format!("{}\n\nFOO=bar baz==", cut_before_end(PKCS8).trim_end());
        assert!(pem_body(run_on.as_bytes()), "{run_on}");
        for key in [EC, OPENSSH, ENCRYPTED, RSA] {
            for cut in [120, 150, 200] {
                assert!(pem_body(&key.as_bytes()[..cut]), "{key} cut at {cut}");
            }
        }
    }

    #[test]
    fn pem_blocks_without_a_key_structure_fail() {
        let ascii = STANDARD.encode(
            "This stands in for a private key in the setup guide; generate your own key \
             with ssh-keygen or openssl and keep it out of the repository.",
        );
        for label in ["RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED ", ""] {
            let fake = format!(
                "-----BEGIN {label}PRIVATE KEY-----\n{ascii}\n-----END {label}PRIVATE KEY-----"
            );
            assert!(!pem_body(fake.as_bytes()), "{fake}");
            let fake = format!("-----BEGIN {label}PRIVATE KEY-----\n{ascii}");
            assert!(!pem_body(fake.as_bytes()), "{fake}");
        }
        for text in [
            "",
            "-----BEGIN RSA PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----\n<your key here>\n-----END RSA PRIVATE KEY-----",
            // A real body under the wrong label, too short, or under a non-key label.
            &OPENSSH.replace("OPENSSH PRIVATE KEY", "RSA PRIVATE KEY"),
            &EC.replace("EC PRIVATE KEY", "OPENSSH PRIVATE KEY"),
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAIb2H3P8Ofs5ncpWF/BAGZpRA==\n-----END PRIVATE KEY-----",
            &EC.replace("EC PRIVATE KEY", "CERTIFICATE"),
            // END label differs from BEGIN.
            &EC.replace("-----END EC", "-----END RSA"),
        ] {
            assert!(!pem_body(text.as_bytes()), "{text}");
        }
    }

    #[test]
    fn pem_blocks_with_broken_base64_or_der_fail() {
        // A line dropped from a complete block: the DER length no longer matches, or the
        // padding is wrong.
        for key in [EC, RSA, ENCRYPTED] {
            let mut lines: Vec<&str> = key.lines().collect();
            lines.remove(2);
            let broken = lines.join("\n");
            assert!(!pem_body(broken.as_bytes()), "{broken}");
        }
        // Padding stripped, a character that is not base64, a header after the data.
        assert!(!pem_body(EC.replace("MA==", "MA").as_bytes()));
        assert!(!pem_body(RSA.replace("Ew==", "Ew").as_bytes()));
        assert!(!pem_body(EC.replacen("MHcC", "MH*C", 1).as_bytes()));
        assert!(!pem_body(
            EC.replacen("AwEH", "DEK-Info: x\nAwEH", 1).as_bytes()
        ));
        // The first byte is not a SEQUENCE, or its length form is not DER.
        assert!(!pem_body(EC.replacen("MHcC", "QHcC", 1).as_bytes()));
        assert!(!pem_body(RSA.replacen("MIIB", "MIQB", 1).as_bytes()));
        // The OpenSSH magic garbled.
        assert!(!pem_body(OPENSSH.replacen("b3Bl", "b3Bm", 1).as_bytes()));
        // Legacy encrypted: ciphertext that is not whole cipher blocks.
        assert!(!pem_body(
            LEGACY_ENCRYPTED.replace("IcUY=", "IcUYAAA=").as_bytes()
        ));
    }

    #[test]
    fn pem_der_length_forms() {
        let body = [0u8; 60];
        let mut short = vec![0x30, 60];
        short.extend_from_slice(&body);
        assert!(der_sequence(&short, true));
        assert!(!der_sequence(&short[..40], true));
        assert!(der_sequence(&short[..40], false));
        let mut long = vec![0x30, 0x82, 0x01, 0x00];
        long.extend_from_slice(&[0; 256]);
        assert!(der_sequence(&long, true));
        assert!(der_sequence(&long[..100], false));
        assert!(
            !der_sequence(&[0x30, 0x80, 0, 0], false),
            "indefinite length"
        );
        assert!(!der_sequence(&[0x30, 0x84, 0, 0, 1, 0], false));
        assert!(!der_sequence(&[0x30, 0x82, 0x01], false));
        assert!(!der_sequence(&[0x31, 0x10], false));
        assert!(!der_sequence(&[], false));
    }

    #[test]
    fn basic_credentials_are_base64_of_a_printable_pair() {
        let enc = |t: &str| STANDARD.encode(t);
        assert!(basic_credentials(enc("svc-export:4mQzR8kTfW2p").as_bytes()));
        assert!(basic_credentials(enc("sk_live_K7r2Vx9QmLp4:").as_bytes()));
        assert!(!basic_credentials(enc("no colon in this one").as_bytes()));
        assert!(!basic_credentials(enc("a:b").as_bytes()));
        assert!(!basic_credentials(b"VKQaFDTXGmQy4hhv3Lisbd1fZXqlQNP2"));
        assert!(!basic_credentials(b"not base64!"));
    }

    #[test]
    fn supabase_anon_keys_are_published_and_service_role_keys_are_not() {
        let token = |claims: &str| {
            format!(
                "{}.{}.c2lnbmF0dXJl",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
                URL_SAFE_NO_PAD.encode(claims)
            )
        };
        assert!(!jwt(token(
            r#"{"iss":"supabase","ref":"qwhdkeuvmzpralxbtsoy","role":"anon","exp":2043600417}"#
        )
        .as_bytes()));
        assert!(jwt(token(
            r#"{"iss":"supabase","ref":"qwhdkeuvmzpralxbtsoy","role":"service_role"}"#
        )
        .as_bytes()));
        assert!(jwt(
            token(r#"{"sub":"svc-billing","role":"anon"}"#).as_bytes()
        ));
        assert!(!jwt(b"eyJhbGciOiJIUzI1NiJ9"));
    }
}
