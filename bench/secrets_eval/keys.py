"""Real key material made from the seeded RNG (standard library only): RSA (PKCS#1, PKCS#8,
SubjectPublicKeyInfo, ssh-rsa), EC P-256 (SEC1), Ed25519 (OpenSSH, PuTTY v3), age identities."""

import base64
import hashlib
import hmac
import struct

from spec import Fn, bech32_encode

_SMALL_PRIMES = [p for p in range(3, 2000) if all(p % q for q in range(2, int(p ** 0.5) + 1))]


def _is_prime(n, rng):
    for p in _SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(12):
        a = rng.randrange(2, n - 2)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(rng, bits):
    while True:
        c = rng.getrandbits(bits) | (3 << (bits - 2)) | 1
        if _is_prime(c, rng):
            return c


def _der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def _tlv(tag, body):
    return bytes([tag]) + _der_len(len(body)) + body


def _int(n):
    b = n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big")
    return _tlv(0x02, b)


def _seq(*items):
    return _tlv(0x30, b"".join(items))


def _oid(dotted):
    parts = [int(x) for x in dotted.split(".")]
    out = bytes([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        enc = [p & 0x7F]
        p >>= 7
        while p:
            enc.append(0x80 | (p & 0x7F))
            p >>= 7
        out += bytes(reversed(enc))
    return _tlv(0x06, out)


def pem(label, der, width=64):
    b = base64.b64encode(der).decode()
    lines = [b[i:i + width] for i in range(0, len(b), width)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----"


def rsa_numbers(rng, bits=2048):
    e = 65537
    while True:
        p, q = _prime(rng, bits // 2), _prime(rng, bits // 2)
        if p == q:
            continue
        phi = (p - 1) * (q - 1)
        if phi % e:
            break
    n, d = p * q, pow(e, -1, (p - 1) * (q - 1))
    return dict(n=n, e=e, d=d, p=p, q=q, dp=d % (p - 1), dq=d % (q - 1), qi=pow(q, -1, p))


_RSA_ALG = _seq(_oid("1.2.840.113549.1.1.1"), b"\x05\x00")


def rsa_pkcs1_der(k):
    return _seq(*(_int(x) for x in (0, k["n"], k["e"], k["d"], k["p"], k["q"], k["dp"], k["dq"], k["qi"])))


def rsa_private_pem(rng, pkcs8=False, bits=2048):
    k = rsa_numbers(rng, bits)
    der = rsa_pkcs1_der(k)
    if pkcs8:
        return pem("PRIVATE KEY", _seq(_int(0), _RSA_ALG, _tlv(0x04, der)))
    return pem("RSA PRIVATE KEY", der)


def rsa_public_pem(rng, bits=2048):
    k = rsa_numbers(rng, bits)
    spki = _seq(_RSA_ALG, _tlv(0x03, b"\x00" + _seq(_int(k["n"]), _int(k["e"]))))
    return pem("PUBLIC KEY", spki)


def _ssh_str(b):
    if isinstance(b, str):
        b = b.encode()
    return struct.pack(">I", len(b)) + b


def _mpint(n):
    return _ssh_str(n.to_bytes((n.bit_length() + 8) // 8, "big"))


def ssh_rsa_public(rng, comment, bits=2048):
    k = rsa_numbers(rng, bits)
    blob = _ssh_str("ssh-rsa") + _mpint(k["e"]) + _mpint(k["n"])
    return "ssh-rsa " + base64.b64encode(blob).decode() + " " + comment


# --- EC P-256 ------------------------------------------------------------------------------
_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
_A = _P - 3
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_G = (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
      0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)


def _ec_add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % _P == 0:
        return None
    if a == b:
        lam = (3 * a[0] * a[0] + _A) * pow(2 * a[1], -1, _P) % _P
    else:
        lam = (b[1] - a[1]) * pow(b[0] - a[0], -1, _P) % _P
    x = (lam * lam - a[0] - b[0]) % _P
    return x, (lam * (a[0] - x) - a[1]) % _P


def _ec_mul(k, pt):
    r = None
    while k:
        if k & 1:
            r = _ec_add(r, pt)
        pt = _ec_add(pt, pt)
        k >>= 1
    return r


def ec_private_pem(rng):
    d = rng.randrange(1, _N)
    x, y = _ec_mul(d, _G)
    pub = b"\x00\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")
    der = _seq(_int(1), _tlv(0x04, d.to_bytes(32, "big")),
               _tlv(0xA0, _oid("1.2.840.10045.3.1.7")), _tlv(0xA1, _tlv(0x03, pub)))
    return pem("EC PRIVATE KEY", der)


# --- Ed25519 -------------------------------------------------------------------------------
_q = 2 ** 255 - 19
_d = -121665 * pow(121666, -1, _q) % _q
_I = pow(2, (_q - 1) // 4, _q)


def _xrecover(y):
    xx = (y * y - 1) * pow(_d * y * y + 1, -1, _q)
    x = pow(xx, (_q + 3) // 8, _q)
    if (x * x - xx) % _q:
        x = x * _I % _q
    return _q - x if x % 2 else x


_By = 4 * pow(5, -1, _q) % _q
_B = (_xrecover(_By), _By)


def _ed_add(p, r):
    x1, y1 = p
    x2, y2 = r
    t = _d * x1 * x2 * y1 * y2
    return ((x1 * y2 + x2 * y1) * pow(1 + t, -1, _q) % _q,
            (y1 * y2 + x1 * x2) * pow(1 - t, -1, _q) % _q)


def _ed_mul(k, pt):
    r = (0, 1)
    while k:
        if k & 1:
            r = _ed_add(r, pt)
        pt = _ed_add(pt, pt)
        k >>= 1
    return r


def ed25519_keypair(rng):
    seed = bytes(rng.randrange(256) for _ in range(32))
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    x, y = _ed_mul(a, _B)
    pub = (y | ((x & 1) << 255)).to_bytes(32, "little")
    return seed, pub


def openssh_ed25519_private(rng, comment):
    seed, pub = ed25519_keypair(rng)
    pub_blob = _ssh_str("ssh-ed25519") + _ssh_str(pub)
    check = struct.pack(">I", rng.getrandbits(32)) * 2
    priv = check + _ssh_str("ssh-ed25519") + _ssh_str(pub) + _ssh_str(seed + pub) + _ssh_str(comment)
    pad = 1
    while len(priv) % 8:
        priv += bytes([pad])
        pad += 1
    body = (b"openssh-key-v1\x00" + _ssh_str("none") + _ssh_str("none") + _ssh_str(b"")
            + struct.pack(">I", 1) + _ssh_str(pub_blob) + _ssh_str(priv))
    return pem("OPENSSH PRIVATE KEY", body, width=70)


def ssh_ed25519_public(rng, comment):
    _, pub = ed25519_keypair(rng)
    blob = _ssh_str("ssh-ed25519") + _ssh_str(pub)
    return "ssh-ed25519 " + base64.b64encode(blob).decode() + " " + comment


def putty_ed25519(rng, comment):
    seed, pub = ed25519_keypair(rng)
    pub_blob = _ssh_str("ssh-ed25519") + _ssh_str(pub)
    priv_blob = _ssh_str(seed)
    mac_data = b"".join(_ssh_str(x) for x in (b"ssh-ed25519", b"none", comment.encode(), pub_blob, priv_blob))
    mac = hmac.new(b"", mac_data, hashlib.sha256).hexdigest()
    wrap = lambda b: [b[i:i + 64] for i in range(0, len(b), 64)]
    pub_lines = wrap(base64.b64encode(pub_blob).decode())
    priv_lines = wrap(base64.b64encode(priv_blob).decode())
    return "\n".join(["PuTTY-User-Key-File-3: ssh-ed25519", "Encryption: none", f"Comment: {comment}",
                      f"Public-Lines: {len(pub_lines)}", *pub_lines,
                      f"Private-Lines: {len(priv_lines)}", *priv_lines, f"Private-MAC: {mac}"])


def age_identity(rng):
    key = bytes(rng.randrange(256) for _ in range(32))
    return bech32_encode("age-secret-key-", key).upper()


def _comment(rng):
    return rng.choice(["deploy", "ci", "build", "ops", "backup"]) + "@" + rng.choice(
        ["bastion-01", "runner-7", "web-2", "laptop", "jenkins"])


RSA_PKCS1 = Fn(lambda rng: rsa_private_pem(rng), "-----BEGIN RSA PRIVATE KEY-----", multiline=True)
RSA_PKCS8 = Fn(lambda rng: rsa_private_pem(rng, pkcs8=True), "-----BEGIN PRIVATE KEY-----", multiline=True)
EC_SEC1 = Fn(ec_private_pem, "-----BEGIN EC PRIVATE KEY-----", multiline=True)
OPENSSH = Fn(lambda rng: openssh_ed25519_private(rng, _comment(rng)), "-----BEGIN OPENSSH PRIVATE KEY-----",
             multiline=True)
PUTTY = Fn(lambda rng: putty_ed25519(rng, _comment(rng)), "PuTTY-User-Key-File-3", multiline=True)
AGE = Fn(age_identity, "AGE-SECRET-KEY-1")


def ec_public_pem(rng):
    d = rng.randrange(1, _N)
    x, y = _ec_mul(d, _G)
    pub = b"\x00\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")
    spki = _seq(_seq(_oid("1.2.840.10045.2.1"), _oid("1.2.840.10045.3.1.7")), _tlv(0x03, pub))
    return pem("PUBLIC KEY", spki)
