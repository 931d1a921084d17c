#!/usr/bin/env python3
"""Score secret scanners' JSON reports against OUTDIR/truth.json.

    python3 bench/secrets_eval/score.py OUTDIR NAME=REPORT [NAME=REPORT ...] [--time NAME=SECONDS ...]

NAME is one of warrant, kingfisher, gitleaks, betterleaks (it picks the report parser). A missing
or unreadable report is "not available". A planted secret counts as found when the tool reports a
finding in its file on the planted line +-1; the false-positive rate is the share of negative
files with any finding; extra alarms are findings in positive files away from the planted line.
Details (per provider, per negative kind, every miss) go to OUTDIR/reports/score.json.
"""

import collections
import json
import os
import sys

CONF_RANK = {"low": 1, "medium": 2, "high": 3}


def rel(path):
    path = path.replace("\\", "/")
    i = path.find("files/repo")
    return path[i:] if i >= 0 else path.lstrip("./")


def parse(tool, path):
    """-> list of (relpath, line, rule, confidence or None)"""
    with open(path, encoding="utf-8") as f:
        text = f.read().strip()
    if not text:
        return []
    if tool == "warrant":
        doc = json.loads(text)
        out = []
        for x in doc.get("findings", []):
            origin = x.get("origin", {})
            p = origin.get("path") or origin.get("file") or ""
            out.append((rel(p), int(x.get("line") or 0), x.get("rule"), x.get("confidence")))
        return out
    if tool == "kingfisher":
        doc = json.loads(text)
        items = doc.get("findings", []) if isinstance(doc, dict) else doc
        return [(rel(x["finding"].get("path", "")), int(x["finding"].get("line") or 0), x["rule"].get("id"),
                 x["finding"].get("confidence")) for x in items]
    if tool == "gitleaks":
        doc = json.loads(text)
        return [(rel(x.get("File", "")), int(x.get("StartLine") or 0), x.get("RuleID"), None) for x in doc]
    if tool == "betterleaks":
        doc = json.loads(text)
        items = doc.get("findings", []) if isinstance(doc, dict) else doc
        return [(rel(x["location"]["path"]), int(x["location"].get("start_line") or 0), x.get("rule_id"),
                 x.get("confidence")) for x in items]
    raise SystemExit(f"unknown tool {tool}")


def evaluate(truth, findings):
    by_file = collections.defaultdict(list)
    for p, line, rule, conf in findings:
        by_file[p].append((line, rule, conf))
    pos_files = {p["path"] for p in truth["positives"]}
    res = {"found": [], "missed": [], "extra": 0, "extra_files": 0, "fp_files": [], "findings": len(findings)}
    for p in truth["positives"]:
        hits = [f for f in by_file.get(p["path"], []) if abs(f[0] - p["line"]) <= 1]
        (res["found"] if hits else res["missed"]).append(p)
    for path in pos_files:
        planted = [p["line"] for p in truth["positives"] if p["path"] == path]
        extra = [f for f in by_file.get(path, []) if all(abs(f[0] - l) > 1 for l in planted)]
        res["extra"] += len(extra)
        res["extra_files"] += bool(extra)
    for n in truth["negatives"]:
        if by_file.get(n["path"]):
            res["fp_files"].append((n, sorted({f[1] or "?" for f in by_file[n["path"]]})))
    return res


def pct(a, b):
    return f"{100.0 * a / b:5.1f}%" if b else "   - "


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    out, args = args[0], args[1:]
    times = {}
    reports = []
    it = iter(args)
    for a in it:
        if a == "--time":
            k, v = next(it).split("=", 1)
            times[k] = v
        else:
            reports.append(a.split("=", 1))
    with open(os.path.join(out, "truth.json"), encoding="utf-8") as f:
        truth = json.load(f)
    npos, nneg = len(truth["positives"]), len(truth["negatives"])
    providers = len({p["provider"] for p in truth["positives"]})
    print(f"\nevaluation set: {providers} providers, {npos} positive files "
          f"({sum(p['kind'] == 'prefix' for p in truth['positives'])} distinctive prefix, "
          f"{sum(p['kind'] == 'context' for p in truth['positives'])} recognisable by name only), {nneg} negative files")

    results, details = {}, {}
    for name, path in reports:
        try:
            findings = parse(name, path)
        except (OSError, ValueError, KeyError, TypeError) as e:
            print(f"{name}: not available ({type(e).__name__}: {str(e)[:200]})")
            continue
        results[name] = (findings, evaluate(truth, findings))

    if not results:
        print("no tool produced a report")
        return
    print()
    print(f"{'tool':<12} {'wall':>7} {'findings':>8} {'recall':>15} {'prefix':>7} {'by name':>7} "
          f"{'FP rate':>15} {'extra alarms':>13}")
    for name, (findings, r) in results.items():
        found = r["found"]
        kp = sum(p["kind"] == "prefix" for p in truth["positives"])
        fp_ = sum(p["kind"] == "prefix" for p in found)
        wall = times.get(name, "")
        print(f"{name:<12} {wall:>7} {r['findings']:>8} {len(found):>5}/{npos:<4} {pct(len(found), npos)} "
              f"{pct(fp_, kp):>7} {pct(len(found) - fp_, npos - kp):>7} "
              f"{len(r['fp_files']):>5}/{nneg:<4} {pct(len(r['fp_files']), nneg)} "
              f"{r['extra']:>5} in {r['extra_files']:>3} f")
    for name, _ in reports:
        if name not in results:
            print(f"{name:<12} not available")

    # per family
    fams = sorted({p["family"] for p in truth["positives"]})
    names = list(results)
    print("\nper family: recall / false-positive rate")
    print(f"{'family':<15} {'pos':>4} {'neg':>4} " + " ".join(f"{n:>15}" for n in names))
    for fam in fams:
        fpos = [p for p in truth["positives"] if p["family"] == fam]
        fneg = [n for n in truth["negatives"] if n["family"] == fam]
        cells = []
        for n in names:
            r = results[n][1]
            got = sum(p["family"] == fam for p in r["found"])
            bad = sum(x[0]["family"] == fam for x in r["fp_files"])
            cells.append(f"{100 * got / len(fpos):5.1f} / {100 * bad / max(1, len(fneg)):5.1f}")
        print(f"{fam:<15} {len(fpos):>4} {len(fneg):>4} " + " ".join(f"{c:>15}" for c in cells))

    # false positives by negative kind
    kinds = sorted({n["kind"] for n in truth["negatives"]})
    print("\nnegative files alarmed, by kind of near-miss")
    print(f"{'kind':<16} {'files':>5} " + " ".join(f"{n:>12}" for n in names))
    for k in kinds:
        total = sum(n["kind"] == k for n in truth["negatives"])
        cells = [sum(x[0]["kind"] == k for x in results[n][1]["fp_files"]) for n in names]
        print(f"{k:<16} {total:>5} " + " ".join(f"{c:>12}" for c in cells))

    # Warrant by confidence threshold
    if "warrant" in results:
        findings = results["warrant"][0]
        print("\nwarrant by confidence threshold")
        print(f"{'threshold':<12} {'findings':>8} {'recall':>15} {'FP rate':>15} {'extra alarms':>12}")
        for label, lo in (("high", 3), ("medium+", 2), ("all", 1)):
            sub = [f for f in findings if CONF_RANK.get(f[3], 1) >= lo]
            r = evaluate(truth, sub)
            print(f"{label:<12} {len(sub):>8} {len(r['found']):>5}/{npos:<4} {pct(len(r['found']), npos)} "
                  f"{len(r['fp_files']):>5}/{nneg:<4} {pct(len(r['fp_files']), nneg)} {r['extra']:>12}")

    for name, (findings, r) in results.items():
        missed_by_provider = collections.Counter(p["provider"] for p in r["missed"])
        details[name] = {
            "findings": r["findings"], "found": len(r["found"]), "positives": npos,
            "false_positive_files": len(r["fp_files"]), "negatives": nneg, "extra_alarms": r["extra"],
            "missed": [{"path": p["path"], "provider": p["provider"], "line": p["line"]} for p in r["missed"]],
            "missed_by_provider": dict(sorted(missed_by_provider.items())),
            "false_positives": [{"path": n["path"], "kind": n["kind"], "provider": n["provider"], "rules": rules}
                                for n, rules in r["fp_files"]],
        }
    os.makedirs(os.path.join(out, "reports"), exist_ok=True)
    with open(os.path.join(out, "reports", "score.json"), "w", encoding="utf-8") as f:
        json.dump(details, f, indent=1)
    print(f"\ndetails (every miss and false positive): {os.path.join(out, 'reports', 'score.json')}")


if __name__ == "__main__":
    main()
