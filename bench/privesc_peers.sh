#!/usr/bin/env bash
# Privilege-escalation comparison on one export, in one run: Warrant beside Cloudsplaining
# (PyPI `cloudsplaining`, installed into bench/out/privesc/venv) on the lab of
# crates/warrant-posture/tests/data/privesc-lab. Prints per-technique recall and the
# look-alikes each tool flags (false positives); see privesc_peers.py for how each tool's
# output is read.
#
#   bench/privesc_peers.sh              (WARRANT_BIN=… to use a prebuilt binary)
set -euo pipefail
cd "$(dirname "$0")/.."
LAB=crates/warrant-posture/tests/data/privesc-lab
OUT=bench/out/privesc
mkdir -p "$OUT"
if [ -z "${WARRANT_BIN:-}" ]; then
  cargo build --locked -q -p warrant-cli
  WARRANT_BIN=${CARGO_TARGET_DIR:-target}/debug/warrant
fi
if ! [ -x "$OUT/venv/bin/cloudsplaining" ]; then
  python3 -m venv "$OUT/venv"
  "$OUT/venv/bin/pip" install -q cloudsplaining
fi
echo "Cloudsplaining $("$OUT/venv/bin/pip" show cloudsplaining | sed -n 's/^Version: //p'); Warrant $("$WARRANT_BIN" --version | awk '{print $2}')"

# The lab's exports (expect.toml and generate.py are not): the IAM export both tools read, and
# the compute listings (what runs as which role) that only Warrant reads.
rm -rf "$OUT/export" && mkdir -p "$OUT/export"
cp "$LAB"/*.json "$OUT/export/"
rm -f "$OUT/warrant.db"
"$WARRANT_BIN" --store "$OUT/warrant.db" --as-of 2026-11-01 assess "$OUT/export" --format json > "$OUT/warrant.json"
# Cloudsplaining twice: as it runs by default (only actions allowed on `*` count), and with
# --flag-all-risky-actions (resource constraints and conditions ignored), its most lenient mode.
for mode in default all-risky; do
  flag=""; [ "$mode" = all-risky ] && flag=-aR
  rm -rf "$OUT/cloudsplaining-$mode" && mkdir -p "$OUT/cloudsplaining-$mode"
  "$OUT/venv/bin/cloudsplaining" scan $flag -i "$OUT/export/authorization-details.json" -o "$OUT/cloudsplaining-$mode" -s > "$OUT/cloudsplaining-$mode.log" 2>&1
done
python3 bench/privesc_peers.py "$LAB/expect.toml" "$OUT/warrant.json" \
  "$OUT/cloudsplaining-default/iam-findings-authorization-details.json" \
  "$OUT/cloudsplaining-all-risky/iam-findings-authorization-details.json"
