#!/usr/bin/env bash
# Scanning a single-line file at the rate of the same bytes on many lines (issue 10: scanning was
# quadratic in line length — 28 s at 5 MB, 111 s at 10 MB, over 300 s at 20 MB on one line).
#
# Takes CloudTrail delivery files (bench/activity's generator, 1M events), writes the same
# records twice — all on one line as CloudTrail delivers them, and one record per line — and
# scans each with the release binary, printing wall time, MB/s and peak RSS.
#
#   bench/scan_single_line.sh [MB]              (default 200)
#   BASELINE_BIN=/path/to/older/warrant        also scans with an older build first, each run
#                                              cut off after ${BASELINE_TIMEOUT:-120} s
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-200}
DATA=${ACTIVITY_DATA:-/work/bench-data/activity-1m}
OUT=${SCAN_SINGLE_LINE_DIR:-/tmp/warrant-single-line}
cargo build --release --locked -p warrant-cli >/dev/null
BIN=${CARGO_TARGET_DIR:-target}/release/warrant
[ -d "$DATA/AWSLogs" ] || python3 bench/activity/gen_cloudtrail.py 1000000 "$DATA"

mkdir -p "$OUT"
if [ ! -f "$OUT/one-line-$MB.json" ]; then
  python3 - "$DATA" "$OUT" "$MB" <<'EOF'
import json, pathlib, sys
data, out, mb = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), int(sys.argv[3])
limit = mb * 1024 * 1024
records, size = [], 0
for f in sorted(data.rglob("*.json")):
    for r in json.loads(f.read_text())["Records"]:
        text = json.dumps(r, separators=(",", ":"))
        records.append(text)
        size += len(text) + 1
        if size >= limit:
            break
    if size >= limit:
        break
(out / f"one-line-{mb}.json").write_text('{"Records":[' + ",".join(records) + "]}")
(out / f"many-lines-{mb}.json").write_text('{"Records":[\n' + ",\n".join(records) + "\n]}\n")
EOF
fi

scan() { # LABEL BIN FILE [TIMEOUT]
  local label=$1 bin=$2 file=$3 limit=${4:-0} status=0
  local mbytes; mbytes=$(( $(stat -c %s "$file") / 1048576 ))
  if [ "$limit" -gt 0 ]; then
    /usr/bin/time -f "%e %M" -o "$OUT/time.txt" timeout "$limit" \
      "$bin" --store "$OUT/none.db" scan --no-store --exit-zero --format json "$file" >/dev/null 2>&1 || status=$?
  else
    /usr/bin/time -f "%e %M" -o "$OUT/time.txt" \
      "$bin" --store "$OUT/none.db" scan --no-store --exit-zero --format json "$file" >/dev/null 2>&1 || status=$?
  fi
  read -r secs kib < <(tail -1 "$OUT/time.txt")
  if [ "$status" = 124 ]; then
    printf '%-34s %5d MB  stopped after %s s (no result)\n' "$label" "$mbytes" "$limit"
  else
    printf '%-34s %5d MB %8.1f s %8.1f MB/s %7.0f MiB peak\n' "$label" "$mbytes" "$secs" \
      "$(bc -l <<<"$mbytes / ($secs + 0.001)")" "$(bc -l <<<"$kib / 1024")"
  fi
}

if [ -n "${BASELINE_BIN:-}" ]; then
  scan "baseline, many lines" "$BASELINE_BIN" "$OUT/many-lines-$MB.json" "${BASELINE_TIMEOUT:-120}"
  scan "baseline, one line" "$BASELINE_BIN" "$OUT/one-line-$MB.json" "${BASELINE_TIMEOUT:-120}"
fi
scan "many lines" "$BIN" "$OUT/many-lines-$MB.json"
scan "one line" "$BIN" "$OUT/one-line-$MB.json"
