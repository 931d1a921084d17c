#!/usr/bin/env bash
# Scale benchmark: a synthetic organisation of 100k identities and 1M policy statements (real
# export formats), imported into a fresh store and assessed, on SQLite and then on PostgreSQL (a
# throwaway local cluster, default settings, started and stopped by this script; skipped with a
# note when PostgreSQL 15 is not installed). Prints wall time and peak memory (RSS) of each step.
# Usage: bench/import_assess.sh [IDENTITIES] [STATEMENTS]
# BASELINE_BIN=/path/to/older/warrant runs the SQLite steps with that binary first, so a change can
# be compared with the code before it in the same run (build the older commit in its own worktree
# and target directory).
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
rm -f "$out/fingerprint.key"
# One key for both backends, so their assessments can be compared byte for byte.
export WARRANT_FINGERPRINT_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff

measure() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" > "$out/$label.out" 2> "$out/$label.err" || { cat "$out/$label.err"; exit 1; }
  read -r secs kib < "$out/time.txt"
  printf '%-44s %8.1f s %8.0f MiB\n' "$label" "$secs" "$(echo "$kib / 1024" | bc -l)"
}

echo "organisation: $(du -sh "$org" | cut -f1) in $(ls "$org" | wc -l) files, $identities identities, $statements statements"

# The steps, on one store ($1: a path or URL; $2: a command emptying it).
run_steps() {
  local store=$1 reset=$2 backend=$3 bin=${4:-$bin}
  $reset
  printf '%-44s %10s %12s\n' "step ($backend)" wall "peak RSS"
  # The headline figure: import + assess in one command on an empty store.
  measure "assess, fresh store (import + assess)" "$bin" --store "$store" --as-of 2026-11-01 assess "$org" --format json
  cp "$out/assess, fresh store (import + assess).out" "$out/assess-$backend.json"
  $reset
  # The same work as two commands, then a second assessment of unchanged exports.
  measure "import (fresh store)" "$bin" --store "$store" --as-of 2026-11-01 import "$org"
  measure "assess (re-import unchanged + assess)" "$bin" --store "$store" --as-of 2026-11-01 assess "$org" --format json
  # The read side answers from the saved assessment: the first page, and the whole list streamed.
  measure "findings (table, first 100)" "$bin" --store "$store" findings
  measure "findings --format json (all, streamed)" "$bin" --store "$store" findings --format json
  measure "inventory (table, first 100)" "$bin" --store "$store" inventory
  measure "inventory --format json (all, streamed)" "$bin" --store "$store" inventory --format json
  measure "show (one identity)" "$bin" --store "$store" show role-0-1
  # Another instant than the saved one: evaluated afresh (what every read cost before).
  measure "findings --as-of another day (evaluated)" "$bin" --store "$store" --as-of 2026-11-02 findings --format json
}

reset_sqlite() { rm -f "$out/bench.db" "$out/bench.db-wal" "$out/bench.db-shm"; }
if [ -n "${BASELINE_BIN:-}" ]; then
  run_steps "$out/bench.db" reset_sqlite sqlite-baseline "$BASELINE_BIN"
  echo
fi
run_steps "$out/bench.db" reset_sqlite sqlite
if [ -n "${BASELINE_BIN:-}" ]; then
  if cmp -s "$out/assess-sqlite-baseline.json" "$out/assess-sqlite.json"; then
    echo "The baseline binary's assessment is identical."
  else
    echo "The baseline binary's assessment DIFFERS (see $out/assess-sqlite*.json)"
  fi
fi
cp "$out/assess-sqlite.json" "$out/assess.json"

pg_bin=/usr/lib/postgresql/15/bin
if [ -x "$pg_bin/initdb" ]; then
  # PostgreSQL refuses to run as root: the cluster belongs to the postgres user then.
  as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  pg_dir=$(mktemp -d /tmp/warrant-bench-pg-XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres: "$pg_dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_owner "$pg_bin/initdb" -A trust -U postgres -E UTF8 --locale=C -D "$pg_dir/data" >/dev/null
  as_owner "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
    -o "-h 127.0.0.1 -p $port -k $pg_dir" start >/dev/null
  trap 'as_owner "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null; rm -rf "$pg_dir"' EXIT
  pg_url="postgres://postgres@127.0.0.1:$port/bench"
  reset_postgres() {
    "$pg_bin/psql" -X -q -d "postgres://postgres@127.0.0.1:$port/postgres" \
      -c 'DROP DATABASE IF EXISTS bench' -c 'CREATE DATABASE bench'
  }
  echo
  run_steps "$pg_url" reset_postgres postgres
  if cmp -s "$out/assess-sqlite.json" "$out/assess-postgres.json"; then
    echo "PostgreSQL and SQLite assessments are identical."
  else
    echo "PostgreSQL and SQLite assessments DIFFER (see $out/assess-*.json)"; exit 1
  fi
else
  echo "PostgreSQL 15 is not installed (apt-get install postgresql): PostgreSQL steps skipped."
fi
python3 - "$out/assess.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
print(f"assessed {doc['summary']['identities']} identities, {doc['summary']['findings']} findings, "
      f"{doc['summary']['admin_equivalent']} administrator-equivalent")
PY
