#!/usr/bin/env python3
"""Per-technique recall and false positives of Warrant and Cloudsplaining on the privilege-
escalation lab (crates/warrant-posture/tests/data/privesc-lab). Called by privesc_peers.sh with
Warrant's JSON assessment and Cloudsplaining's findings file of the same export.

A principal counts as found by Warrant for a technique when its privilege-escalation finding
names that technique (or it is reported administrator-equivalent). Cloudsplaining reports
escalation per policy, with its own technique names: a principal counts as found by it when any
policy it holds (directly or through a group) has a PrivilegeEscalation finding. That is the
more lenient test, so Cloudsplaining's recall here is an upper bound. A look-alike (`neg-…`)
counts as a false positive for a tool that flags it at all.
"""

import json
import sys
import tomllib
from collections import defaultdict


def warrant_flags(assessment):
    found = defaultdict(set)
    for f in assessment["findings"]:
        if f["rule"] == "privilege-escalation":
            for line in f["evidence"]:
                found[f["identity"]].add(line.split(" (", 1)[0])
        elif f["rule"] == "admin-equivalent":
            found[f["identity"]].add("*admin*")
    return found


def cloudsplaining_flags(findings):
    escalating = set()
    for kind in ["inline_policies", "customer_managed_policies", "aws_managed_policies"]:
        for pid, p in findings.get(kind, {}).items():
            if p.get("PrivilegeEscalation", {}).get("findings"):
                escalating.add(pid)
    group_flag = {}
    for g in findings.get("groups", {}).values():
        held = [*g.get("inline_policies", {}), *g.get("customer_managed_policies", {}), *g.get("aws_managed_policies", {})]
        group_flag[g["name"]] = any(p in escalating for p in held)
    flagged = set()
    for kind in ["users", "roles"]:
        for p in findings.get(kind, {}).values():
            held = [*p.get("inline_policies", {}), *p.get("customer_managed_policies", {}), *p.get("aws_managed_policies", {})]
            via_groups = any(group_flag.get(g, False) for g in p.get("groups", {}))
            if any(h in escalating for h in held) or via_groups:
                flagged.add(p["arn"])
    return flagged


def main():
    expect_path, warrant_path, cs_path, cs_all_path = sys.argv[1:5]
    expect = tomllib.load(open(expect_path, "rb"))
    warrant = warrant_flags(json.load(open(warrant_path)))
    cs = cloudsplaining_flags(json.load(open(cs_path)))
    cs_all = cloudsplaining_flags(json.load(open(cs_all_path)))

    by_technique = defaultdict(list)
    look_alikes = []
    for principal, e in expect.items():
        if e.get("admin"):
            continue
        for t in e["techniques"]:
            by_technique[t].append(principal)
        if "/neg-" in principal:
            look_alikes.append(principal)

    print(f"{'technique':38} {'principals':>10} {'Warrant':>8} {'CS default':>11} {'CS -aR':>8}")
    totals = [0, 0, 0, 0]
    full = [0, 0, 0]
    for t in sorted(by_technique):
        principals = by_technique[t]
        w = sum(1 for p in principals if t in warrant.get(p, ()) or "*admin*" in warrant.get(p, ()))
        c = sum(1 for p in principals if p in cs)
        a = sum(1 for p in principals if p in cs_all)
        n = len(principals)
        for i, v in enumerate([n, w, c, a]):
            totals[i] += v
        for i, v in enumerate([w, c, a]):
            full[i] += v == n
        print(f"{t:38} {n:>10} {w:>4}/{n:<3} {c:>7}/{n:<3} {a:>4}/{n:<3}")
    n_total = totals[0]
    print(f"{'recall (technique × principal)':38} {n_total:>10} {totals[1] / n_total:>8.0%} {totals[2] / n_total:>11.0%} {totals[3] / n_total:>8.0%}")
    k = len(by_technique)
    print(f"{'techniques fully found':38} {k:>10} {full[0]:>4}/{k:<3} {full[1]:>7}/{k:<3} {full[2]:>4}/{k:<3}")
    print()
    print(f"{'look-alike (not exploitable)':38} {'':>10} {'Warrant':>8} {'CS default':>11} {'CS -aR':>8}")
    fp = [0, 0, 0]
    for p in sorted(look_alikes):
        flags = [bool(warrant.get(p)), p in cs, p in cs_all]
        for i, f in enumerate(flags):
            fp[i] += f
        name = p.rsplit("/", 1)[-1]
        w, c, a = ("FP" if f else "ok" for f in flags)
        print(f"{name:38} {'':>10} {w:>8} {c:>11} {a:>8}")
    n = len(look_alikes)
    print(f"{'false positives':38} {n:>10} {fp[0]:>4}/{n:<3} {fp[1]:>7}/{n:<3} {fp[2]:>4}/{n:<3}")
    # Principals with no expected technique that only a path makes dangerous are not scored.


if __name__ == "__main__":
    main()
