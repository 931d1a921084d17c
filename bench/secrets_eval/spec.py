"""Building blocks for the format tables: alphabets, value generators and checksums.

A provider entry is `P(provider, family, value, names=[...], ...)`; `value` is a generator made
with `tok(...)` (literal text and random runs from an alphabet), `ctx(...)` (a random string that
only its name identifies) or one of the structured makers in `keys.py` (JWT, PEM keys, ...).
Every random run is drawn from the seeded RNG handed in at generation time and is rejected when
it contains a run of three equal characters or four consecutive alphabet characters, so no
positive value looks like a placeholder.
"""

import base64
import json
import zlib

DIGITS = "0123456789"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER = "abcdefghijklmnopqrstuvwxyz"
HEX = "0123456789abcdef"
HEXU = "0123456789ABCDEF"
ALNUM = DIGITS + UPPER + LOWER  # base62 order, as GitHub's checksum uses it
LALNUM = DIGITS + LOWER
UALNUM = DIGITS + UPPER
ALPHA = UPPER + LOWER
B64 = ALNUM + "+/"
B64U = ALNUM + "-_"
B32 = UPPER + "234567"
B32L = LOWER + "234567"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _plausible(s, alphabet):
    """No runs of 3 equal characters, no 4 consecutive ones, and a mix of classes when long."""
    for i in range(len(s) - 2):
        if s[i] == s[i + 1] == s[i + 2]:
            return False
    for i in range(len(s) - 3):
        a = [alphabet.find(c) for c in s[i:i + 4]]
        if -1 not in a and (all(a[j + 1] - a[j] == 1 for j in range(3))
                            or all(a[j] - a[j + 1] == 1 for j in range(3))):
            return False
    if len(s) >= 16:
        has_d = any(c in DIGITS for c in alphabet)
        has_l = any(c in ALPHA for c in alphabet)
        if has_d and has_l and (not any(c in DIGITS for c in s) or not any(c in ALPHA for c in s)):
            return False
        if any(c in UPPER for c in alphabet) and any(c in LOWER for c in alphabet):
            if not any(c in UPPER for c in s) or not any(c in LOWER for c in s):
                return False
    return True


def rand(rng, alphabet, n):
    while True:
        s = "".join(rng.choice(alphabet) for _ in range(n))
        if _plausible(s, alphabet):
            return s


class R:
    """A random run: `R(ALNUM, 36)` or `R(HEX, 32, 40)` (length drawn in the range)."""

    def __init__(self, alphabet, lo, hi=None):
        self.alphabet, self.lo, self.hi = alphabet, lo, hi if hi is not None else lo

    def make(self, rng):
        return rand(rng, self.alphabet, rng.randint(self.lo, self.hi))


class Gen:
    """A value maker. `literal_prefix` is what a distinctive format starts with ('' when only the
    name it is assigned to identifies it)."""

    literal_prefix = ""
    checksum = None
    multiline = False

    def make(self, rng):
        raise NotImplementedError

    def repeated(self, rng):
        """Same prefix and shape, but a repeated or sequential body (a near-miss)."""
        return None

    def broken(self, rng):
        """A value whose checksum does not verify (only for checksummed formats)."""
        return None


def base62(n, width):
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = ALNUM[r] + out
    return out.rjust(width, "0")


def crc32_base62(body):
    return base62(zlib.crc32(body.encode()) & 0xFFFFFFFF, 6)


def bech32_polymod(values):
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        b = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if ((b >> i) & 1) else 0
    return chk


def bech32_encode(hrp, data8):
    acc, bits, data5 = 0, 0, []
    for b in data8:
        acc = (acc << 8) | b
        bits += 8
        while bits >= 5:
            bits -= 5
            data5.append((acc >> bits) & 31)
    if bits:
        data5.append((acc << (5 - bits)) & 31)
    hv = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    pm = bech32_polymod(hv + data5 + [0] * 6) ^ 1
    chk = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32[d] for d in data5 + chk)


def _seq(alphabet, n, start=0):
    return "".join(alphabet[(start + i) % len(alphabet)] for i in range(n))


class Tok(Gen):
    """Literal text and random runs, with an optional checksum scheme."""

    def __init__(self, *parts, checksum=None):
        self.parts = parts
        self.checksum = checksum
        self.literal_prefix = parts[0] if parts and isinstance(parts[0], str) else ""

    def _parts(self, rng, fill=None):
        out = []
        for p in self.parts:
            if isinstance(p, str):
                out.append(p)
            elif fill is not None:
                out.append(fill(p, rng.randint(p.lo, p.hi)))
            else:
                out.append(p.make(rng))
        return "".join(out)

    def make(self, rng):
        body = self._parts(rng)
        if self.checksum in ("github-crc32", "npm-crc32"):
            body += crc32_base62(body[len(self.literal_prefix):])
        return body

    def repeated(self, rng):
        style = rng.randrange(3)
        if style == 0:
            ch = rng.choice("xX0a")
            fill = lambda p, n: (ch if ch in p.alphabet else p.alphabet[0]) * n
        elif style == 1:
            fill = lambda p, n: _seq(p.alphabet, n)
        else:
            def fill(p, n):
                base = "abc123" if all(c in p.alphabet for c in "abc123") else p.alphabet[:6]
                return (base * (n // len(base) + 1))[:n]
        body = self._parts(rng, fill)
        if self.checksum in ("github-crc32", "npm-crc32"):
            body += _seq(ALNUM, 6)
        return body

    def broken(self, rng):
        if self.checksum not in ("github-crc32", "npm-crc32"):
            return None
        good = self.make(rng)
        i = len(good) - 1 - rng.randrange(6)
        c = good[i]
        bad = ALNUM[(ALNUM.index(c) + 1 + rng.randrange(60)) % 62]
        return good[:i] + bad + good[i + 1:]


def tok(*parts, checksum=None):
    return Tok(*parts, checksum=checksum)


class Ctx(Tok):
    """A random string recognisable only by the name it is assigned to."""


def ctx(charset, length, hi=None, pre="", post=""):
    parts = ([pre] if pre else []) + [R(charset, length, hi)] + ([post] if post else [])
    g = Ctx(*parts)
    g.literal_prefix = ""
    return g


class B64Bytes(Ctx):
    """Canonical base64 of n random bytes (padding included), recognisable only by its name."""

    def __init__(self, n, url=False, pre=""):
        super().__init__(R(B64U if url else B64, (n * 4 + 2) // 3))
        self.n, self.url, self.pre = n, url, pre
        self.literal_prefix = pre

    def make(self, rng):
        while True:
            raw = bytes(rng.randrange(256) for _ in range(self.n))
            enc = (base64.urlsafe_b64encode if self.url else base64.b64encode)(raw).decode()
            if _plausible(enc.rstrip("="), B64U if self.url else B64):
                return self.pre + enc

    def repeated(self, rng):
        return self.pre + Tok.repeated(self, rng)


def b64bytes(n, url=False, pre=""):
    return B64Bytes(n, url, pre)


class Uuid(Gen):
    def __init__(self, upper=False):
        self.upper = upper

    def make(self, rng):
        h = rand(rng, HEX, 32)
        h = h[:12] + "4" + h[13:16] + rng.choice("89ab") + h[17:]
        u = "-".join((h[:8], h[8:12], h[12:16], h[16:20], h[20:]))
        return u.upper() if self.upper else u

    def repeated(self, rng):
        return rng.choice(["00000000-0000-0000-0000-000000000000",
                           "12345678-1234-1234-1234-123456789012",
                           "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"])


def uuid(upper=False):
    return Uuid(upper)


class Join(Gen):
    """Concatenate generators and text (e.g. a UUID inside a wider format)."""

    def __init__(self, *parts):
        self.parts = parts
        self.literal_prefix = parts[0] if isinstance(parts[0], str) else ""

    def make(self, rng):
        return "".join(p if isinstance(p, str) else p.make(rng) for p in self.parts)


def join(*parts):
    return Join(*parts)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Jwt(Gen):
    """A structurally valid JWT: base64url JSON header with "alg", JSON claims, random signature."""

    def __init__(self, claims, alg="HS256", prefix="", kid=False):
        self.claims, self.alg, self.kid = claims, alg, kid
        self.literal_prefix = prefix + "eyJ"
        self.prefix = prefix

    def make(self, rng):
        header = {"alg": self.alg, "typ": "JWT"}
        if self.kid:
            header["kid"] = rand(rng, B64U, 22)
        iat = 1_700_000_000 + rng.randrange(40_000_000)
        claims = {}
        for k, v in self.claims.items():
            if callable(v):
                v = v(rng)
            claims[k] = v
        claims.setdefault("iat", iat)
        if "exp" in claims and claims["exp"] is True:
            claims["exp"] = iat + 10 * 365 * 86400
        sig_len = 32 if self.alg.startswith("HS") else 256
        sig = bytes(rng.randrange(256) for _ in range(sig_len))
        enc = lambda o: b64url(json.dumps(o, separators=(",", ":")).encode())
        return self.prefix + enc(header) + "." + enc(claims) + "." + b64url(sig)


def jwt(claims, alg="HS256", prefix="", kid=False):
    return Jwt(claims, alg, prefix, kid)


class Fn(Gen):
    """A value made by a function of the RNG (for structured formats)."""

    def __init__(self, fn, prefix="", multiline=False):
        self.fn, self.literal_prefix, self.multiline = fn, prefix, multiline

    def make(self, rng):
        return self.fn(rng)


def P(provider, family, value, names, host=None, header=None, url=None, files=None, public=None, objid=None):
    """One credential format of one provider.

    names:  the variable / config-key names the provider's docs use (first = canonical)
    host:   the API host its SDK calls (used in the surrounding code)
    header: ("Header-Name", "scheme ") to send it as an HTTP header
    url:    a template with {s} where the value sits (webhook URLs, DSNs, connection strings)
    files:  special files it is rendered into first (see render.SPECIAL)
    public: a generator of the provider's PUBLIC counterpart (publishable key, site key): a near-miss
    objid:  a generator of a non-secret object id of the provider (price id, workspace id): a near-miss
    """
    return dict(provider=provider, family=family, value=value, names=list(names),
                host=host or f"api.{provider.split('-')[0]}.com", header=header, url=url,
                files=files, public=public, objid=objid)
