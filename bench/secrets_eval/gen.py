#!/usr/bin/env python3
"""Generate the secret-detection evaluation set.

    python3 bench/secrets_eval/gen.py OUTDIR

Writes OUTDIR/files/** (one file per directory: positives with one planted credential each, and as
many near-miss negatives) and OUTDIR/truth.json. Standard library only, fixed seed: two runs give
identical files. Formats come from the formats_*.py tables beside this file; every value is made
by the seeded RNG (no example token is copied from anywhere).
"""

import collections
import importlib
import json
import os
import random
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # keep bench/secrets_eval free of __pycache__

import negatives  # noqa: E402
from render import ESCAPED, HEADER, MULTI, SINGLE, SPECIAL, Ctx, place  # noqa: E402

SEED = 20261206
MODULES = ["formats_cloud", "formats_dev", "formats_saas", "formats_ai", "formats_misc"]


def load_formats():
    specs = []
    for m in MODULES:
        try:
            mod = importlib.import_module(m)
        except ModuleNotFoundError as e:
            if e.name == m:
                continue
            raise
        specs += mod.FORMATS
    groups = collections.OrderedDict()
    for s in specs:
        groups.setdefault(s["provider"], []).append(s)
    return groups


def render_positive(rng, spec, name, spec_k, counter):
    value = spec["value"].make(rng)
    c = Ctx(rng, spec, name)
    c.neutral = bool(spec["url"])
    if spec["value"].multiline:
        fn = MULTI[counter % len(MULTI)]
        fname, lines = fn(c)
        text, line = place(lines, value, "escaped" if fn in ESCAPED else None)
        return fname, text, line, value
    placed = spec["url"].format(s=value) if spec["url"] else value
    if spec["files"] and spec_k < len(spec["files"]):
        fn = SPECIAL[spec["files"][spec_k]]
    elif spec["header"] and not spec["url"] and counter % 3 == 0:
        fn = HEADER[(counter // 3) % len(HEADER)]
    else:
        fn = SINGLE[counter % len(SINGLE)]
    fname, lines = fn(c)
    text, line = place(lines, placed)
    return fname, text, line, value


def generate(out):
    rng = random.Random(SEED)
    groups = load_formats()
    records = []
    counter = 0
    kind_counter = 0
    for provider, variants in groups.items():
        n = min(3, max(len(variants), rng.choice([1, 2, 2, 3])))
        for k in range(n):
            spec = variants[k % len(variants)]
            spec_k = k // len(variants)
            name = spec["names"][(k + spec_k) % len(spec["names"])]
            fname, text, line, value = render_positive(rng, spec, name, spec_k, counter)
            counter += 1
            records.append(dict(pos=True, fname=fname, text=text, provider=provider, family=spec["family"],
                                line=line, secret=value,
                                kind="prefix" if len(spec["value"].literal_prefix) >= 3 else "context"))
        for k in range(n):
            spec = variants[k % len(variants)]
            if k == 0 and negatives.applicable("broken_checksum", spec):
                kind = "broken_checksum"
            else:
                while True:
                    kind = negatives.KINDS[kind_counter % len(negatives.KINDS)]
                    kind_counter += 1
                    if negatives.applicable(kind, spec):
                        break
            fname, text, why = negatives.make(kind, rng, spec)
            records.append(dict(pos=False, fname=fname, text=text, provider=provider, family=spec["family"],
                                why=why, kind=kind))
    order = list(range(len(records)))
    rng.shuffle(order)
    files = os.path.join(out, "files")
    if os.path.isdir(files):
        shutil.rmtree(files)
    truth = {"seed": SEED, "positives": [], "negatives": []}
    for slot, idx in enumerate(order):
        r = records[idx]
        rel = f"files/repo{slot:04d}/{r['fname']}"
        path = os.path.join(out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(r["text"])
        r["path"] = rel
    for r in records:
        if r["pos"]:
            truth["positives"].append({k: r[k] for k in ("path", "provider", "family", "line", "secret", "kind")})
        else:
            truth["negatives"].append({k: r[k] for k in ("path", "provider", "family", "why", "kind")})
    with open(os.path.join(out, "truth.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(truth, f, indent=1, ensure_ascii=False)
        f.write("\n")
    return truth, groups


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    truth, groups = generate(out)
    fams = collections.Counter(p["family"] for p in truth["positives"])
    print(f"{len(groups)} providers, {len(truth['positives'])} positive files "
          f"({sum(p['kind'] == 'prefix' for p in truth['positives'])} distinctive-prefix, "
          f"{sum(p['kind'] == 'context' for p in truth['positives'])} name-only), "
          f"{len(truth['negatives'])} negative files -> {out}")
    print("families: " + ", ".join(f"{k} {v}" for k, v in sorted(fams.items())))
    kinds = collections.Counter(n["kind"] for n in truth["negatives"])
    print("negatives: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))


if __name__ == "__main__":
    main()
