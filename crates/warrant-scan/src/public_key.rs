//! The public half of a found private key, in OpenSSH `authorized_keys` form
//! (`ssh-ed25519 AAAA…`): what GitHub lists for a deploy key, so a leaked private key links to
//! the deploy key it opens.
//!
//! Only what the key text itself holds is read, with no cryptography: an OpenSSH private key
//! carries its public key in the clear (encrypted or not), and an RSA key (PKCS #1, or unencrypted
//! PKCS #8) carries its modulus and public exponent. Other keys give none: an EC or Ed25519
//! PKCS #8 key would need elliptic-curve arithmetic to recompute its public point, and an
//! encrypted PEM key its passphrase.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The OpenSSH public key of a PEM private key (`-----BEGIN … PRIVATE KEY-----`, newlines
/// real or escaped as `\n` in a JSON or YAML string), when the text holds it.
pub fn openssh_public_key(pem: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(pem).ok()?;
    let begin = text.find("-----BEGIN ")?;
    let after = text.get(begin + "-----BEGIN ".len()..)?;
    let label_end = after.find("-----")?;
    let label = after.get(..label_end)?;
    let body = after.get(label_end + "-----".len()..)?;
    let body = body
        .find("-----END")
        .map_or(body, |end| body.get(..end).unwrap_or(body));
    // A `Proc-Type: 4,ENCRYPTED` header means an encrypted legacy PEM: nothing readable.
    if body.contains("Proc-Type:") {
        return None;
    }
    let der = decode_base64(body)?;
    match label {
        "OPENSSH PRIVATE KEY" => openssh_key_v1(&der),
        "RSA PRIVATE KEY" => rsa_private_key(&der),
        "PRIVATE KEY" => pkcs8_rsa(&der),
        _ => None,
    }
}

/// Base64 with whitespace and escaped newlines (`\n`, `\r`) left out. A key cut short (a match
/// without its END line) is decoded up to its last whole group: an OpenSSH key's public half
/// comes first.
fn decode_base64(body: &str) -> Option<Vec<u8>> {
    let cleaned = body.replace("\\n", "").replace("\\r", "");
    let mut b64: String = cleaned
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        .collect();
    if !b64.ends_with('=') {
        b64.truncate(b64.len() - b64.len() % 4);
    }
    STANDARD.decode(b64).ok()
}

/// Reads SSH wire-format values (`uint32` lengths, big-endian).
struct Wire<'a>(&'a [u8]);

impl<'a> Wire<'a> {
    fn u32(&mut self) -> Option<u32> {
        let (head, rest) = self.0.split_first_chunk::<4>()?;
        self.0 = rest;
        Some(u32::from_be_bytes(*head))
    }

    fn string(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.u32()?).ok()?;
        let value = self.0.get(..n)?;
        self.0 = self.0.get(n..)?;
        Some(value)
    }
}

fn put_string(out: &mut Vec<u8>, value: &[u8]) -> Option<()> {
    out.extend_from_slice(&u32::try_from(value.len()).ok()?.to_be_bytes());
    out.extend_from_slice(value);
    Some(())
}

/// `openssh-key-v1`: magic, cipher, KDF, KDF options, key count, then each public key blob in
/// the clear (the private section after them may be encrypted).
fn openssh_key_v1(data: &[u8]) -> Option<String> {
    let mut wire = Wire(data.strip_prefix(b"openssh-key-v1\0")?);
    wire.string()?; // cipher
    wire.string()?; // KDF
    wire.string()?; // KDF options
    if wire.u32()? == 0 {
        return None;
    }
    let blob = wire.string()?;
    let key_type = Wire(blob).string()?;
    let key_type = std::str::from_utf8(key_type).ok()?;
    if key_type.is_empty() || !key_type.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    Some(format!("{key_type} {}", STANDARD.encode(blob)))
}

/// One DER element: its tag and contents, and what follows it.
fn der(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = data.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = rest.get(..n)?;
        let len = bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, rest.get(n..)?)
    };
    Some((tag, rest.get(..len)?, rest.get(len..)?))
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const OBJECT_IDENTIFIER: u8 = 0x06;
/// 1.2.840.113549.1.1.1, rsaEncryption.
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// The next DER element if it has `tag`: its content and what follows it.
fn element(data: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (found, content, rest) = der(data)?;
    (found == tag).then_some((content, rest))
}

/// PKCS #1 `RSAPrivateKey`: version, modulus, public exponent, …; the SSH key is the type,
/// the exponent and the modulus as `mpint`s, which DER integers already are (two's complement,
/// minimal, big-endian).
fn rsa_private_key(data: &[u8]) -> Option<String> {
    let (fields, _) = element(data, SEQUENCE)?;
    let (_version, rest) = element(fields, INTEGER)?;
    let (modulus, rest) = element(rest, INTEGER)?;
    let (exponent, _) = element(rest, INTEGER)?;
    if modulus.len() < 64 || exponent.is_empty() {
        return None;
    }
    let mut blob = Vec::with_capacity(modulus.len() + exponent.len() + 24);
    put_string(&mut blob, b"ssh-rsa")?;
    put_string(&mut blob, exponent)?;
    put_string(&mut blob, modulus)?;
    Some(format!("ssh-rsa {}", STANDARD.encode(blob)))
}

/// PKCS #8 `PrivateKeyInfo` holding an RSA key.
fn pkcs8_rsa(data: &[u8]) -> Option<String> {
    let (fields, _) = element(data, SEQUENCE)?;
    let (_version, rest) = element(fields, INTEGER)?;
    let (algorithm, rest) = element(rest, SEQUENCE)?;
    let (oid, _) = element(algorithm, OBJECT_IDENTIFIER)?;
    if oid != RSA_ENCRYPTION {
        return None;
    }
    let (key, _) = element(rest, OCTET_STRING)?;
    rsa_private_key(key)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    // Throwaway keys made for these tests (`ssh-keygen -t ed25519 -N ''`, and
    // `openssl genrsa 1024` as PKCS #1 and PKCS #8); the expected public keys are what
    // `ssh-keygen -y -f KEY` prints for each.
    pub(crate) const ED25519: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACD7z9oIphv7+LJxAkKGXm/adP/DWwgKlim3RMlxK5uLmwAAAJDkVrM/5Faz
PwAAAAtzc2gtZWQyNTUxOQAAACD7z9oIphv7+LJxAkKGXm/adP/DWwgKlim3RMlxK5uLmw
AAAEC+aQKxQ4k9+RrlmIt6fCD0pZayOm3CGHYir0VUnI3+LvvP2gimG/v4snECQoZeb9p0
/8NbCAqWKbdEyXErm4ubAAAADXdhcnJhbnQtdGVzdHM=
-----END OPENSSH PRIVATE KEY-----
";
    pub(crate) const ED25519_PUBLIC: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPvP2gimG/v4snECQoZeb9p0/8NbCAqWKbdEyXErm4ub";
    const RSA_PKCS1: &str = "-----BEGIN RSA PRIVATE KEY-----
MIICXgIBAAKBgQDXK1cmzbNP+CCMW71OgQ4STMUDkxdGLajmdJV3BHNK3hZHsuKU
0O5BRKZPujJl+G7lWW/aUS66awDoeXWznuPJ/NZMHR9A3CeM7u84QzIK3Ji9mYEq
78cNmmoN779vdf33aI/+haPAO9o8bwXmDyID/ZFzukuBXCakRSU5240suQIDAQAB
AoGBAMQWZkUhnvEY8iiXjkzVxcodlknsqYA2Kj9jLbcaIiuve2R5/I2cXhSzCFGO
IVHWdtGikRHHfCs9SsWRsxcvjOwiK9LXHcxCF+mnTBoAe3muYMol1j+LgRq7iXBK
Kbmus4TPpVN9+CvsoqqjcMtcCVYqI2vS7ke3dHkcN/JxhGTlAkEA6+10md7IFFFu
r2wiSsdWwuAYO5nVw4rNePw4b4dq5ovyQspHHsc61QctFzoZ8BuhUp9CXvg2/4lv
7PA5e3H33wJBAOl5xCxRgzffDUpg//Hem+aMnETBEBh8S6qlYYybL8TRVA7PWfjH
Cd73neEoXYsrftXalGUPIqVcTZEI42BjzmcCQQCVDBe82cS3KVbu1ja33UVPqflF
NgOZHIiApX8V3oxHiCQN0/KoXB8r0/PFl7wpN5tsMhbhHpjISVB/dKgr960rAkEA
qqaj6rjRrl7MehcYPJO3Y/ZWqjJrL1p6fApRmNI9QiC2zfRlEN96qYxXy6ETboum
M22Gla9QZYln8KCMgYGx9QJADFi/uzbCmd0U041XWOgiy8PEtBTN7l6EjfzyhfDu
km1loisiAFjUbA1Q6NRkx1oBuqkJP3Zn9C66OAiPAz12AA==
-----END RSA PRIVATE KEY-----
";
    const RSA_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MIICeAIBADANBgkqhkiG9w0BAQEFAASCAmIwggJeAgEAAoGBANcrVybNs0/4IIxb
vU6BDhJMxQOTF0YtqOZ0lXcEc0reFkey4pTQ7kFEpk+6MmX4buVZb9pRLrprAOh5
dbOe48n81kwdH0DcJ4zu7zhDMgrcmL2ZgSrvxw2aag3vv291/fdoj/6Fo8A72jxv
BeYPIgP9kXO6S4FcJqRFJTnbjSy5AgMBAAECgYEAxBZmRSGe8RjyKJeOTNXFyh2W
SeypgDYqP2MttxoiK697ZHn8jZxeFLMIUY4hUdZ20aKREcd8Kz1KxZGzFy+M7CIr
0tcdzEIX6adMGgB7ea5gyiXWP4uBGruJcEopua6zhM+lU334K+yiqqNwy1wJVioj
a9LuR7d0eRw38nGEZOUCQQDr7XSZ3sgUUW6vbCJKx1bC4Bg7mdXDis14/Dhvh2rm
i/JCykcexzrVBy0XOhnwG6FSn0Je+Db/iW/s8Dl7cfffAkEA6XnELFGDN98NSmD/
8d6b5oycRMEQGHxLqqVhjJsvxNFUDs9Z+McJ3ved4Shdiyt+1dqUZQ8ipVxNkQjj
YGPOZwJBAJUMF7zZxLcpVu7WNrfdRU+p+UU2A5kciIClfxXejEeIJA3T8qhcHyvT
88WXvCk3m2wyFuEemMhJUH90qCv3rSsCQQCqpqPquNGuXsx6Fxg8k7dj9laqMmsv
Wnp8ClGY0j1CILbN9GUQ33qpjFfLoRNui6YzbYaVr1BliWfwoIyBgbH1AkAMWL+7
NsKZ3RTTjVdY6CLLw8S0FM3uXoSN/PKF8O6SbWWiKyIAWNRsDVDo1GTHWgG6qQk/
dmf0Lro4CI8DPXYA
-----END PRIVATE KEY-----
";
    const RSA_PUBLIC: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDXK1cmzbNP+CCMW71OgQ4STMUDkxdGLajmdJV3BHNK3hZHsuKU0O5BRKZPujJl+G7lWW/aUS66awDoeXWznuPJ/NZMHR9A3CeM7u84QzIK3Ji9mYEq78cNmmoN779vdf33aI/+haPAO9o8bwXmDyID/ZFzukuBXCakRSU5240suQ==";

    #[test]
    fn an_openssh_key_gives_the_public_key_it_holds() {
        assert_eq!(
            openssh_public_key(ED25519.as_bytes()).as_deref(),
            Some(ED25519_PUBLIC)
        );
        // Escaped in a JSON string, or cut before its END line: the same public key.
        let escaped = ED25519.replace('\n', "\\n");
        assert_eq!(
            openssh_public_key(escaped.as_bytes()).as_deref(),
            Some(ED25519_PUBLIC)
        );
        let cut = ED25519.get(..200).unwrap();
        assert_eq!(
            openssh_public_key(cut.as_bytes()).as_deref(),
            Some(ED25519_PUBLIC)
        );
    }

    #[test]
    fn an_rsa_key_gives_its_modulus_and_exponent_as_ssh_does() {
        for key in [RSA_PKCS1, RSA_PKCS8] {
            assert_eq!(
                openssh_public_key(key.as_bytes()).as_deref(),
                Some(RSA_PUBLIC),
                "{key}"
            );
        }
    }

    #[test]
    fn text_that_is_no_readable_key_gives_nothing() {
        for text in [
            "",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nMIIC\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIA==\n-----END EC PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----",
        ] {
            assert_eq!(openssh_public_key(text.as_bytes()), None, "{text}");
        }
    }
}
