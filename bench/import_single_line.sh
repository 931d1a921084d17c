#!/usr/bin/env bash
# Peak memory of importing one large single-line IAM export (issue 10, defect 11: a 200 MB
# single-line `get-account-authorization-details` took 3 GB; the target is under 1 GiB).
#
# Merges the synthetic organisation's per-account exports (bench/gen_org.py, as
# bench/import_assess.sh makes them) into one minified file of about MB megabytes, imports it
# into a fresh SQLite store with the release binary and prints wall time and peak RSS, and
# whether the peak is under the bound.
#
#   bench/import_single_line.sh [MB]            (default 200)
#   BASELINE_BIN=/path/to/older/warrant        also imports with an older build first
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-200}
BOUND_MIB=${BOUND_MIB:-1024}
ORG=bench/out/org-100000-1000000
OUT=${IMPORT_SINGLE_LINE_DIR:-/tmp/warrant-import-single-line}
if ! [ -x /usr/bin/time ]; then
  echo "installing GNU time (Debian package 'time')"
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi
cargo build --release --locked -p warrant-cli >/dev/null
BIN=${CARGO_TARGET_DIR:-target}/release/warrant
[ -d "$ORG" ] || python3 bench/gen_org.py "$ORG" --identities 100000 --statements 1000000

mkdir -p "$OUT/export-$MB"
file="$OUT/export-$MB/authorization-details.json"
if [ ! -f "$file" ]; then
  python3 - "$ORG" "$file" "$MB" <<'PY'
import json, pathlib, sys
org, target, mb = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), int(sys.argv[3])
merged = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
size = 0
for f in sorted(org.glob("*-authorization-details.json")):
    if size >= mb * 1_000_000:
        break
    doc = json.loads(f.read_text())
    for key in merged:
        merged[key].extend(doc.get(key, []))
    size += f.stat().st_size
target.write_text(json.dumps(merged, separators=(",", ":")))
PY
fi
echo "input: $(du -h "$file" | cut -f1), $(wc -l < "$file") newlines"

run() {
  local label=$1 bin=$2 store="$OUT/store.db"
  rm -f "$store" "$store-wal" "$store-shm"
  /usr/bin/time -f "%e %M" -o "$OUT/time.txt" "$bin" --store "$store" --as-of 2026-11-01 \
    import "$OUT/export-$MB" > "$OUT/$label.out" 2> "$OUT/$label.err" || { cat "$OUT/$label.err"; exit 1; }
  read -r secs kib < "$OUT/time.txt"
  local mib=$((kib / 1024)) verdict=ok
  [ "$mib" -lt "$BOUND_MIB" ] || verdict="OVER the ${BOUND_MIB} MiB bound"
  printf '%-10s %7.1f s %7d MiB peak RSS  %s\n' "$label" "$secs" "$mib" "$verdict"
  [ "$verdict" = ok ] || [ "$label" != now ] || return 1
}
[ -z "${BASELINE_BIN:-}" ] || run before "$BASELINE_BIN"
run now "$BIN"
head -1 "$OUT/now.out"
