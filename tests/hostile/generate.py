#!/usr/bin/env python3
"""Writes the hostile-input corpus of issue 10: one directory per kind of hostile input, each
holding the hostile thing and, beside it, good input that must still be processed.

Every case directory holds the same three good inputs:

  good-authorization-details.json  `aws iam get-account-authorization-details` with the user
                                   svc-hostile-good (and its key in good-access-keys.json)
  good-cloudtrail.json             a CloudTrail delivery file of three calls by that user
  good.env                         a planted, fabricated GitHub token (ghp_…, made here at run
                                   time with a valid checksum; it unlocks nothing)

so a run asserts, whatever the hostile input did, that the user is in the inventory (import),
that the trail's events were ingested (ingest) and that the token was found (scan).

MANIFEST.json lists, per case: the hostile paths, the paths a run also gives on the command line
(`named`), the planted tokens (which no command may print) and further good input it holds
(`other_users`, `other_token_files`). What each command must do with them (exit code, what
stderr names) is the business of run.sh and crates/warrant-cli/tests/it/hostile.rs.

Cases:

  symlink-loops     self -> ., sub/up -> .., a -> b -> a, a dangling link
  deep-dirs         directories nested deeper than the walk's bound (256 levels)
  deep-json         10^5 (large: 10^7) nested '[' in files sniffed as an IAM export and as
                    CloudTrail, and a CloudTrail record nesting objects 10^5 deep
  bombs             gzip of GiBs of NULs, a CloudTrail .gz whose one record inflates past the
                    record limit, a valid empty CloudTrail .gz padded with GiBs of blanks, a zip
                    whose central directory lists one deflated member many times (declaring a
                    false small size), gzip nested in gzip nested in gzip
  giant-lines       a single-line IAM export and a single-line CloudTrail file (large: 200 MB
                    each, small: 4 MB), and a single-line text file with a token at its very end
  binary            random bytes and an ELF header under .json/.log names, an IAM export and a
                    trail turning into random bytes after a valid start, invalid UTF-8 in a
                    JSON string
  unreadable        a link to /proc/self/mem (opens, then every read fails: reliable as root),
                    a directory whose path is longer than PATH_MAX (unreadable for anyone), a
                    FIFO (a reader that opens it waits forever), and a file and a directory with
                    mode 000 (unreadable only when not running as root: MANIFEST says)
  non-utf8-names    an IAM export, a trail directory and a .env file whose names are not UTF-8
                    (all good input: they must be read like any other)
  empty             empty, blank, `{}`, `[]` and `null` files under export and log names, an
                    empty .gz, an empty directory; the empty trail is also named on the command line
  wrong-types       an IAM export full of unknown fields (good), one with wrong types, access
                    keys that are not a list, CloudTrail records with wrong types

Everything is deterministic except the FIFO and mode bits, which depend on the file system.
Sizes are set by --scale: `small` (a few MB, seconds to generate; what the integration test
uses) or `large` (run.sh's default: ~700 MB on disk, bombs inflating to tens of GiB, about
30 s to write).

usage: generate.py OUT [--scale small|large] [--case NAME ...]
"""
import argparse
import base64
import json
import os
import random
import struct
import sys
import zlib

ACCOUNT = "111111111111"
GOOD_USER = "svc-hostile-good"
GOOD_KEY = "AKIA" + "HOSTILEGOOD2345Q"  # 16 base32 characters after AKIA: a key id's shape
NON_UTF8_USER = "svc-hostile-latin1"
NON_UTF8_KEY = "AKIA" + "HOSTILELATINXYZ2"
DEEP_USER = "svc-hostile-deep"
MIB = 1 << 20
GIB = 1 << 30

SCALES = {
    "small": {
        "deep_dirs": 300,
        "json_depth": 100_000,
        "gz_zeros": GIB,
        "record_bomb": 96 * MIB,
        "blank_bomb": 128 * MIB,
        "zip_member": 64 * MIB,
        "zip_entries": 16,
        "nested_gz": 256 * MIB,
        "giant_iam": 4 * MIB,
        "giant_trail": 4 * MIB,
        "giant_text": 4 * MIB,
    },
    "large": {
        "deep_dirs": 1000,
        "json_depth": 10_000_000,
        "gz_zeros": 16 * GIB,
        "record_bomb": 4 * GIB,
        "blank_bomb": 16 * GIB,
        "zip_member": GIB,
        "zip_entries": 1024,
        "nested_gz": 8 * GIB,
        "giant_iam": 200 * MIB,
        "giant_trail": 200 * MIB,
        "giant_text": 200 * MIB,
    },
}

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def github_token(seed):
    """A fabricated classic GitHub token: ghp_, 30 base62 characters, and the base62 CRC32 of
    those 30 (the checksum GitHub's format carries, which the scanner checks). Built here so no
    token-shaped literal sits in the repository."""
    rng = random.Random(seed)
    body = "".join(rng.choice(BASE62) for _ in range(30))
    crc = zlib.crc32(body.encode())
    check = ""
    for _ in range(6):
        check = BASE62[crc % 62] + check
        crc //= 62
    return "ghp_" + body + check


def dump(value):
    return json.dumps(value, separators=(",", ":"))


def write(path, data):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# --- The formats ------------------------------------------------------------------------------


def iam_user(name, n_statements=1):
    statements = [
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": [f"arn:aws:s3:::{name}-bucket-{i}", f"arn:aws:s3:::{name}-bucket-{i}/*"],
        }
        for i in range(n_statements)
    ]
    user = {
        "Path": "/",
        "UserName": name,
        "UserId": "AIDA" + format(zlib.crc32(name.encode()), "016X"),
        "Arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
        "CreateDate": "2025-01-06T09:00:00Z",
        "GroupList": [],
        "AttachedManagedPolicies": [],
        "UserPolicyList": [
            {
                "PolicyName": "read",
                "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
            }
        ],
        "Tags": [
            {"Key": "owner", "Value": "alice@hostile.example"},
            {"Key": "purpose", "Value": "hostile-input corpus"},
        ],
    }
    return user


def authorization_details(users):
    return {
        "UserDetailList": users,
        "GroupDetailList": [],
        "RoleDetailList": [],
        "Policies": [],
    }


def access_keys(user, key):
    return {
        "AccessKeyMetadata": [
            {"UserName": user, "AccessKeyId": key, "Status": "Active", "CreateDate": "2026-09-01T09:00:00Z"}
        ]
    }


def cloudtrail_record(n, user, key, name="GetObject", source="s3.amazonaws.com", day=5, params=None):
    return {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDA" + format(zlib.crc32(user.encode()), "016X"),
            "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}",
            "accountId": ACCOUNT,
            "accessKeyId": key,
            "userName": user,
        },
        "eventTime": f"2026-10-{day:02d}T10:{n // 60 % 60:02d}:{n % 60:02d}Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "10.20.1.15",
        "userAgent": "aws-cli/2.17.0 Python/3.12 Linux/6.8",
        "requestParameters": params if params is not None else {"bucketName": f"{user}-bucket-0", "key": f"k/{n}"},
        "responseElements": None,
        "requestID": f"REQ{n:013d}",
        "eventID": f"00000000-0000-4000-8000-{n:012d}",
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": False,
        "recipientAccountId": ACCOUNT,
    }


def trail(records):
    return dump({"Records": records})


def write_good(case_dir, case):
    """The good inputs beside every hostile one. The trail's event ids carry the case's number so
    no two cases' trails have the same content."""
    write(os.path.join(case_dir, "good-authorization-details.json"), dump(authorization_details([iam_user(GOOD_USER)])))
    write(os.path.join(case_dir, "good-access-keys.json"), dump(access_keys(GOOD_USER, GOOD_KEY)))
    base = 1000 * (CASES.index(case) + 1)
    records = [cloudtrail_record(base + i, GOOD_USER, GOOD_KEY) for i in range(3)]
    write(os.path.join(case_dir, "good-cloudtrail.json"), trail(records))
    token = github_token(case)
    write(os.path.join(case_dir, "good.env"), f"# deploy settings\nGITHUB_TOKEN={token}\n")
    return token


# --- Compression bombs, written without compressing gigabytes -------------------------------------


def deflate_repeat(chunk):
    """The raw deflate encoding of `chunk` after a full flush: byte-aligned, with no reference to
    earlier data, so repeating it n times encodes `chunk` n times."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    c.compress(chunk)
    c.flush(zlib.Z_FULL_FLUSH)
    second = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    third = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    assert second == third, "a full-flushed block repeats byte for byte"
    return second


def deflate_part(data, final):
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    return c.compress(data) + c.flush(zlib.Z_FINISH if final else zlib.Z_FULL_FLUSH)


def crc_repeat(crc, chunk, times):
    for _ in range(times):
        crc = zlib.crc32(chunk, crc)
    return crc


def repeated_deflate(prefix, chunk, times, suffix):
    """(raw deflate stream, crc32, length) of prefix + chunk * times + suffix."""
    block = deflate_repeat(chunk)
    parts = [deflate_part(prefix, False), block * times, deflate_part(suffix, True)]
    crc = zlib.crc32(prefix)
    crc = crc_repeat(crc, chunk, times)
    crc = zlib.crc32(suffix, crc)
    return b"".join(parts), crc, len(prefix) + len(chunk) * times + len(suffix)


def gzip_wrap(deflated, crc, length):
    # mtime 0, no name: deterministic; ISIZE is the length modulo 2^32 as RFC 1952 says.
    header = b"\x1f\x8b\x08\x00" + b"\x00\x00\x00\x00" + b"\x02\xff"
    return header + deflated + struct.pack("<II", crc & 0xFFFFFFFF, length & 0xFFFFFFFF)


def gzip_bomb(prefix, fill, total, suffix=b""):
    chunk = fill * (MIB // len(fill))
    times = max(1, total // len(chunk))
    return gzip_wrap(*repeated_deflate(prefix, chunk, times, suffix))


def overlapping_zip(name, deflated, crc, length, entries, declared):
    """A zip whose central directory lists one local file `entries` times (the overlapping-file
    zip bomb): the data is stored once and inflated once per entry. Every entry has the local
    header's name (readers compare them) and declares `declared` as the uncompressed size, a lie
    when smaller than `length`: a reader must count what it inflates, not trust the header."""
    name_b = name.encode()
    local = struct.pack(
        "<IHHHHHIIIHH",
        0x04034B50, 20, 0, 8, 0, 0x21, crc & 0xFFFFFFFF, len(deflated), declared, len(name_b), 0,
    ) + name_b
    body = local + deflated
    central = b""
    for _ in range(entries):
        entry = name_b
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50, 0x0314, 20, 0, 8, 0, 0x21, crc & 0xFFFFFFFF, len(deflated), declared,
            len(entry), 0, 0, 0, 0, 0o100644 << 16, 0,
        ) + entry
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, entries, entries, len(central), len(body), 0)
    return body + central + end


# --- Cases --------------------------------------------------------------------------------------


def case_symlink_loops(d, scale):
    os.makedirs(os.path.join(d, "sub"))
    write(os.path.join(d, "sub", "nested-cloudtrail.json"), trail([cloudtrail_record(90, GOOD_USER, GOOD_KEY, day=6)]))
    os.symlink(".", os.path.join(d, "self"))
    os.symlink("..", os.path.join(d, "sub", "up"))
    os.symlink("b", os.path.join(d, "a"))
    os.symlink("a", os.path.join(d, "b"))
    os.symlink("nowhere.json", os.path.join(d, "dangling.json"))
    return {"hostile": ["self", "sub/up", "a", "b", "dangling.json"]}


def case_deep_dirs(d, scale):
    # Built with directory descriptors: the path outgrows what a shell would pass around.
    depth = scale["deep_dirs"]
    token = github_token("deep-bottom")
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        name = "deep"
        for level in range(depth):
            os.mkdir(name, dir_fd=fd)
            nfd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
            name = "d"
        bottom = os.open("bottom.env", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(bottom, f"GITHUB_TOKEN={token}\n".encode())
        os.close(bottom)
    finally:
        os.close(fd)
    # The walk stops at 256 levels below the root it was given: the first directory not entered
    # is deep/ followed by 255 more "d" components.
    return {"hostile": ["deep/d/d/d"], "depth": depth, "other_tokens": [token]}


def case_deep_json(d, scale):
    n = scale["json_depth"]
    head = b'{"UserDetailList":'
    write(os.path.join(d, "deep-authorization-details.json"), head + b"[" * n + b"]" * n + b"}")
    write(os.path.join(d, "deep-cloudtrail.json"), b'{"Records":' + b"[" * n + b"]" * n + b"}")
    # A valid record whose request parameters nest objects n deep, and a valid one after it.
    record = dump(cloudtrail_record(70, DEEP_USER, GOOD_KEY))
    nested = b'{"a":' * n + b"1" + b"}" * n
    record_b = record.encode().replace(b'"requestParameters":{', b'"requestParameters":{"deep":' + nested + b",", 1)
    after = dump(cloudtrail_record(71, DEEP_USER, GOOD_KEY)).encode()
    write(os.path.join(d, "deep-record-cloudtrail.json"), b'{"Records":[' + record_b + b"," + after + b"]}")
    # Unclosed: 'n' opening brackets and the end of the file.
    write(os.path.join(d, "unclosed-cloudtrail.json"), b'{"Records":[' + b"[" * n)
    return {
        "hostile": [
            "deep-authorization-details.json",
            "deep-cloudtrail.json",
            "deep-record-cloudtrail.json",
            "unclosed-cloudtrail.json",
        ]
    }


def case_bombs(d, scale):
    write(os.path.join(d, "zeros-cloudtrail.json.gz"), gzip_bomb(b"", b"\0", scale["gz_zeros"]))
    prefix = dump(cloudtrail_record(80, GOOD_USER, GOOD_KEY))[:-1].encode()
    prefix = b'{"Records":[' + prefix.replace(b'"requestParameters":{', b'"requestParameters":{"key":"', 1)
    write(
        os.path.join(d, "record-bomb-cloudtrail.json.gz"),
        gzip_bomb(prefix, b"A", scale["record_bomb"], b'"}}]}'),
    )
    # Text, not NULs: a scanner that trusted the declared size would read it all as source.
    deflated, crc, length = repeated_deflate(b"", b"A" * MIB, scale["zip_member"] // MIB, b"\n")
    write(
        os.path.join(d, "overlapping.zip"),
        overlapping_zip("config.env", deflated, crc, length, scale["zip_entries"], declared=4096),
    )
    # A valid, empty trail padded with GiBs of blanks: nothing to reject, only time to spend.
    write(
        os.path.join(d, "blank-bomb-cloudtrail.json.gz"),
        gzip_bomb(b'{"Records":[', b" ", scale["blank_bomb"], b"]}"),
    )
    inner = gzip_bomb(b"", b"\0", scale["nested_gz"])
    middle = gzip_wrap(deflate_part(inner, True), zlib.crc32(inner), len(inner))
    outer = gzip_wrap(deflate_part(middle, True), zlib.crc32(middle), len(middle))
    write(os.path.join(d, "nested.gz"), outer)
    return {
        "hostile": [
            "zeros-cloudtrail.json.gz",
            "record-bomb-cloudtrail.json.gz",
            "blank-bomb-cloudtrail.json.gz",
            "overlapping.zip",
            "nested.gz",
        ]
    }


def managed_policy(n, n_statements=50):
    name = f"giant-shared-{n:05d}"
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "dynamodb:Query", "sqs:SendMessage"],
                "Resource": f"arn:aws:s3:::giant-{n:05d}-{i:02d}/*",
            }
            for i in range(n_statements)
        ],
    }
    return {
        "PolicyName": name,
        "PolicyId": "ANPA" + format(n, "017X"),
        "Arn": f"arn:aws:iam::{ACCOUNT}:policy/{name}",
        "Path": "/",
        "DefaultVersionId": "v1",
        "AttachmentCount": 6,
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True,
        "CreateDate": "2025-01-06T09:00:00Z",
        "UpdateDate": "2025-01-06T09:00:00Z",
        "PolicyVersionList": [
            {"Document": document, "VersionId": "v1", "IsDefaultVersion": True, "CreateDate": "2025-01-06T09:00:00Z"}
        ],
    }


def giant_role(n, n_policies):
    name = f"svc-giant-{n:07d}"
    attached = [
        {"PolicyName": f"giant-shared-{k:05d}", "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/giant-shared-{k:05d}"}
        for k in {n % n_policies, (n * 7 + 3) % n_policies}
    ]
    inline = iam_user(name, n_statements=4)["UserPolicyList"]
    return {
        "Path": "/service/",
        "RoleName": name,
        "RoleId": "AROA" + format(n, "017X"),
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/service/{name}",
        "CreateDate": "2025-01-06T09:00:00Z",
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        },
        "InstanceProfileList": [],
        "RolePolicyList": inline,
        "AttachedManagedPolicies": attached,
        "Tags": [{"Key": "owner", "Value": f"team{n % 300:03d}@hostile.example"}],
        "RoleLastUsed": {"LastUsedDate": "2026-10-01T09:00:00Z", "Region": "eu-west-1"},
    }


def giant_iam(path, target):
    """One line of `get-account-authorization-details` output of `target` bytes, shaped like a
    large account (the shape of the 196 MB export issue 10 measured: ~70k identities, ~81k
    policies): service roles with an inline policy and one or two of the account's shared managed
    policies, half the bytes in roles and half in the managed policies (50 statements each).
    Returns the number of roles."""
    policy_bytes = len(dump(managed_policy(0)))
    n_policies = max(1, target // 2 // (policy_bytes + 1))
    n = 0
    written = 0
    with open(path, "wb") as f:
        f.write(b'{"UserDetailList":[],"GroupDetailList":[],"RoleDetailList":[')
        while written < target // 2:
            role = dump(giant_role(n, n_policies)).encode()
            if n:
                f.write(b",")
            f.write(role)
            written += len(role) + 1
            n += 1
        f.write(b'],"Policies":[')
        for k in range(n_policies):
            if k:
                f.write(b",")
            f.write(dump(managed_policy(k)).encode())
        f.write(b"]}")
    return n


def giant_trail(path, target):
    n = 0
    written = 0
    with open(path, "wb") as f:
        f.write(b'{"Records":[')
        while written < target:
            record = dump(cloudtrail_record(500_000 + n, f"svc-giant-{n % 5000:07d}", GOOD_KEY, day=1 + n % 28)).encode()
            if n:
                f.write(b",")
            f.write(record)
            written += len(record) + 1
            n += 1
        f.write(b"]}")
    return n


def case_giant_lines(d, scale):
    identities = giant_iam(os.path.join(d, "giant-authorization-details.json"), scale["giant_iam"])
    events = giant_trail(os.path.join(d, "giant-cloudtrail.json"), scale["giant_trail"])
    # Base64 of pseudo-random bytes on one line, and a token at its very end.
    rng = random.Random(10)
    token = github_token("giant-line")
    with open(os.path.join(d, "giant-line.txt"), "wb") as f:
        left = scale["giant_text"]
        while left > 0:
            block = base64.b64encode(rng.randbytes(min(left, 3 * MIB) // 4 * 3 or 3))
            f.write(block)
            left -= len(block)
        f.write(f" GITHUB_TOKEN={token}\n".encode())
    return {
        "hostile": ["giant-authorization-details.json", "giant-cloudtrail.json", "giant-line.txt"],
        "giant_identities": identities,
        "giant_events": events,
        "other_tokens": [token],
        "other_token_files": ["giant-line.txt"],
    }


def case_binary(d, scale):
    rng = random.Random(20)
    write(os.path.join(d, "random.json"), rng.randbytes(256 * 1024))
    write(os.path.join(d, "random.log"), rng.randbytes(64 * 1024))
    elf = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + struct.pack("<HHI", 2, 0x3E, 1) + rng.randbytes(64 * 1024)
    write(os.path.join(d, "elf-cloudtrail.json"), elf)
    # Random bytes without NULs after a valid start: sniffed as the format, then broken.
    noise = bytes(b for b in rng.randbytes(128 * 1024) if b)
    write(os.path.join(d, "broken-authorization-details.json"), b'{"UserDetailList":[' + noise)
    first = dump(cloudtrail_record(60, GOOD_USER, GOOD_KEY)).encode()
    write(os.path.join(d, "broken-cloudtrail.json"), b'{"Records":[' + first + b"," + noise)
    latin1 = dump(authorization_details([iam_user("svc-latin1-\u00e9")])).encode().replace(b"\xc3\xa9", b"\xe9")
    write(os.path.join(d, "latin1-authorization-details.json"), latin1)
    return {
        "hostile": [
            "random.json",
            "random.log",
            "elf-cloudtrail.json",
            "broken-authorization-details.json",
            "broken-cloudtrail.json",
            "latin1-authorization-details.json",
        ]
    }


def case_unreadable(d, scale):
    os.symlink("/proc/self/mem", os.path.join(d, "mem-cloudtrail.json"))
    # 25 levels of 200-character names: 5,000+ bytes, past PATH_MAX (4,096) from any root, so
    # opening the deepest directories by path fails for every user, root included.
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        name = "long"
        for _ in range(26):
            os.mkdir(name, dir_fd=fd)
            nfd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
            name = "n" * 200
        leaf = os.open("lost-cloudtrail.json", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(leaf, trail([cloudtrail_record(40, GOOD_USER, GOOD_KEY, day=7)]).encode())
        os.close(leaf)
    finally:
        os.close(fd)
    os.mkfifo(os.path.join(d, "fifo-cloudtrail.json"))
    locked = os.path.join(d, "locked-cloudtrail.json")
    write(locked, trail([cloudtrail_record(41, GOOD_USER, GOOD_KEY, day=8)]))
    os.makedirs(os.path.join(d, "locked-dir"))
    write(os.path.join(d, "locked-dir", "inner-cloudtrail.json"), trail([cloudtrail_record(42, GOOD_USER, GOOD_KEY, day=9)]))
    os.chmod(locked, 0)
    os.chmod(os.path.join(d, "locked-dir"), 0)
    # Whether mode 000 stops this process (not root, or root without CAP_DAC_OVERRIDE).
    try:
        open(locked, "rb").close()
        mode_bits_work = False
    except PermissionError:
        mode_bits_work = True
    return {
        "hostile": ["mem-cloudtrail.json", "long/", "fifo-cloudtrail.json", "locked-cloudtrail.json", "locked-dir"],
        "mode_bits_work": mode_bits_work,
        "named": ["mem-cloudtrail.json", "fifo-cloudtrail.json"],
    }


def case_non_utf8_names(d, scale):
    db = os.fsencode(d)
    os.makedirs(os.path.join(db, b"caf\xe9"))
    export = dump(authorization_details([iam_user(NON_UTF8_USER)])).encode()
    write(os.path.join(db, b"caf\xe9", b"authorization-details-\xff.json"), export)
    write(os.path.join(db, b"caf\xe9", b"keys-\xfe.json"), dump(access_keys(NON_UTF8_USER, NON_UTF8_KEY)).encode())
    records = [cloudtrail_record(50 + i, NON_UTF8_USER, NON_UTF8_KEY) for i in range(2)]
    write(os.path.join(db, b"logs-\xfe\xfd", b"trail-\x80.json"), trail(records).encode())
    token = github_token("non-utf8")
    write(os.path.join(db, b"secrets-\xff.env"), f"GITHUB_TOKEN={token}\n".encode())
    return {
        "hostile": ["caf\ufffd/", "logs-\ufffd\ufffd/", "secrets-\ufffd.env"],
        "other_users": [NON_UTF8_USER],
        "other_tokens": [token],
        "other_token_files": ["secrets-"],
    }


def case_empty(d, scale):
    write(os.path.join(d, "empty-authorization-details.json"), b"")
    write(os.path.join(d, "empty-cloudtrail.json"), b"")
    write(os.path.join(d, "blank-cloudtrail.json"), b" \n\t\n")
    write(os.path.join(d, "object.json"), b"{}")
    write(os.path.join(d, "array-cloudtrail.json"), b"[]")
    write(os.path.join(d, "null.json"), b"null")
    write(os.path.join(d, "empty.json.gz"), b"")
    write(os.path.join(d, "empty-records-cloudtrail.json"), b'{"Records":[]}')
    write(os.path.join(d, "empty-users-authorization-details.json"), b'{"UserDetailList":[]}')
    os.makedirs(os.path.join(d, "empty-dir"))
    return {
        "hostile": ["empty-authorization-details.json", "empty-cloudtrail.json", "blank-cloudtrail.json", "empty.json.gz"],
        "named": ["empty-cloudtrail.json"],
    }


def case_wrong_types(d, scale):
    user = iam_user("svc-hostile-unknown-fields")
    user["FutureField"] = {"nested": [1, 2, {"x": None}]}
    user["UserPolicyList"][0]["PolicyDocument"]["Statement"][0]["FutureCondition"] = True
    doc = authorization_details([user])
    doc["FutureDetailList"] = [{"Anything": 1}]
    doc["IsTruncated"] = False
    write(os.path.join(d, "unknown-fields-authorization-details.json"), dump(doc))
    wrong = iam_user("svc-hostile-wrong-types")
    wrong["UserName"] = 42
    wrong["Tags"] = "owner=nobody"
    write(os.path.join(d, "wrong-types-authorization-details.json"), dump(authorization_details([wrong])))
    write(os.path.join(d, "wrong-keys.json"), dump({"AccessKeyMetadata": "none"}))
    bad = cloudtrail_record(30, GOOD_USER, GOOD_KEY)
    bad["eventTime"] = 20261005
    bad["userIdentity"] = "root"
    good = cloudtrail_record(31, GOOD_USER, GOOD_KEY, day=6)
    write(os.path.join(d, "wrong-types-cloudtrail.json"), trail([bad, good, {"eventSource": 1, "eventName": []}]))
    return {
        "hostile": [
            "unknown-fields-authorization-details.json",
            "wrong-types-authorization-details.json",
            "wrong-keys.json",
            "wrong-types-cloudtrail.json",
        ],
        "other_users": ["svc-hostile-unknown-fields"],
    }


BUILDERS = {
    "symlink-loops": case_symlink_loops,
    "deep-dirs": case_deep_dirs,
    "deep-json": case_deep_json,
    "bombs": case_bombs,
    "giant-lines": case_giant_lines,
    "binary": case_binary,
    "unreadable": case_unreadable,
    "non-utf8-names": case_non_utf8_names,
    "empty": case_empty,
    "wrong-types": case_wrong_types,
}
CASES = list(BUILDERS)


def main():
    parser = argparse.ArgumentParser(
        description="Write the hostile-input corpus (issue 10): one directory per case, each "
        "with good input beside the hostile one, and MANIFEST.json describing them.",
        epilog="Run the corpus through warrant with tests/hostile/run.sh.",
    )
    parser.add_argument("out", help="output directory (created; must be empty or absent)")
    parser.add_argument("--scale", choices=sorted(SCALES), default="large", help="sizes (default: large)")
    parser.add_argument("--case", action="append", choices=CASES, help="only this case (repeatable)")
    args = parser.parse_args()
    if os.path.exists(args.out) and os.listdir(args.out):
        parser.error(f"{args.out} is not empty")
    scale = SCALES[args.scale]
    manifest = {
        "scale": args.scale,
        "good_user": GOOD_USER,
        "good_key": GOOD_KEY,
        "good_token_file": "good.env",
        "root": os.geteuid() == 0,
        "cases": {},
    }
    for case in args.case or CASES:
        d = os.path.join(args.out, case)
        os.makedirs(d)
        token = write_good(d, case)
        info = {"good_token": token, "named": []}
        info.update(BUILDERS[case](d, scale))
        manifest["cases"][case] = info
        print(f"{case}: written", file=sys.stderr)
    write(os.path.join(args.out, "MANIFEST.json"), json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
