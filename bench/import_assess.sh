#!/usr/bin/env bash
# Scale benchmark: a synthetic organisation of 100k identities and 1M policy statements (real
# export formats), imported into a fresh SQLite store and assessed. Prints wall time and peak
# memory (RSS) of each step. Usage: bench/import_assess.sh [IDENTITIES] [STATEMENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
identities=${1:-100000}
statements=${2:-1000000}
out=bench/out
org=$out/org-$identities-$statements
mkdir -p "$out"
if ! [ -x /usr/bin/time ]; then
  echo "installing GNU time (Debian package 'time')"
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi
cargo build --release --locked -p warrant-cli
bin=${CARGO_TARGET_DIR:-target}/release/warrant
[ -d "$org" ] || python3 bench/gen_org.py "$org" --identities "$identities" --statements "$statements"
rm -f "$out/bench.db" "$out/bench.db-wal" "$out/bench.db-shm" "$out/fingerprint.key"

measure() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" > "$out/$label.out" 2> "$out/$label.err" || { cat "$out/$label.err"; exit 1; }
  read -r secs kib < "$out/time.txt"
  printf '%-44s %8.1f s %8.0f MiB\n' "$label" "$secs" "$(echo "$kib / 1024" | bc -l)"
}

echo "organisation: $(du -sh "$org" | cut -f1) in $(ls "$org" | wc -l) files, $identities identities, $statements statements"
printf '%-44s %10s %12s\n' step wall "peak RSS"
# The headline figure: import + assess in one command on an empty store.
measure "assess, fresh store (import + assess)" "$bin" --store "$out/bench.db" --as-of 2026-11-01 assess "$org" --format json
cp "$out/assess, fresh store (import + assess).out" "$out/assess.json"
rm -f "$out/bench.db" "$out/bench.db-wal" "$out/bench.db-shm"
# The same work as two commands, then a second assessment of unchanged exports.
measure "import (fresh store)" "$bin" --store "$out/bench.db" --as-of 2026-11-01 import "$org"
measure "assess (re-import unchanged + assess)" "$bin" --store "$out/bench.db" --as-of 2026-11-01 assess "$org" --format json
measure "findings (assess the stored inventory)" "$bin" --store "$out/bench.db" --as-of 2026-11-01 findings --format json
python3 - "$out/assess.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
print(f"assessed {doc['summary']['identities']} identities, {doc['summary']['findings']} findings, "
      f"{doc['summary']['admin_equivalent']} administrator-equivalent")
PY
