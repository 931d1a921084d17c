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

# The lab directory holds the export only (expect.toml and generate.py are not exports).
rm -rf "$OUT/export" && mkdir -p "$OUT/export"
cp "$LAB/authorization-details.json" "$OUT/export/"
rm -f "$OUT/warrant.db"
"$WARRANT_BIN" --store "$OUT/warrant.db" --as-of 2026-11-01 assess "$OUT/export" --format json > "$OUT/warrant.json"
rm -rf "$OUT/cloudsplaining" && mkdir -p "$OUT/cloudsplaining"
"$OUT/venv/bin/cloudsplaining" scan -i "$OUT/export/authorization-details.json" -o "$OUT/cloudsplaining" -s > "$OUT/cloudsplaining.log" 2>&1
python3 bench/privesc_peers.py "$LAB/expect.toml" "$OUT/warrant.json" "$OUT/cloudsplaining/iam-findings-authorization-details.json"
