#!/usr/bin/env bash
# Server load benchmark (issue 13): a synthetic organisation of 100k identities and 1M policy
# statements (bench/gen_org.py, real export formats) assessed into a SQLite store, `warrant serve`
# on loopback, and `oha` (crates.io; installed when missing) sending CONCURRENCY parallel requests
# for DURATION to each endpoint: the inventory list (API and console page, first page and a page
# deep in the list, filtered, searched and sorted listings), the console's overview, and one
# identity (API and console page). Prints requests per second, p50 and
# p99 latency per endpoint and the server's peak RSS.
#
#   bench/server_load.sh [IDENTITIES] [STATEMENTS]     (default 100000 1000000)
#   DURATION=20s CONCURRENCY=32 WARRANT_BIN=… bench/server_load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
identities=${1:-100000}
statements=${2:-1000000}
duration=${DURATION:-20s}
concurrency=${CONCURRENCY:-32}
out=bench/out
org=$out/org-$identities-$statements
store=$out/server-$identities.db
mkdir -p "$out"
if [ -n "${WARRANT_BIN:-}" ]; then
  bin=$(realpath "$WARRANT_BIN")
else
  cargo build --release --locked -q -p warrant-cli
  bin=${CARGO_TARGET_DIR:-target}/release/warrant
fi
command -v oha >/dev/null || { echo "installing oha (crates.io)"; cargo install oha --locked; }
[ -d "$org" ] || python3 bench/gen_org.py "$org" --identities "$identities" --statements "$statements"
export WARRANT_FINGERPRINT_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
if [ ! -f "$store.assessed" ] || [ "$org" -nt "$store.assessed" ] || [ "$bin" -nt "$store.assessed" ]; then
  rm -f "$store" "$store-wal" "$store-shm"
  echo "assessing $org into $store"
  "$bin" --store "$store" --as-of 2026-11-01 assess "$org" --format json > /dev/null
  touch "$store.assessed"
fi
user=bench@example.org
WARRANT_NEW_PASSWORD='bench load passphrase' "$bin" --store "$store" user add "$user" --admin \
  > /dev/null 2>&1 || true
token=$("$bin" --store "$store" --format json token create --user "$user" --name "load $(date +%s)" \
  --role admin --expires-in-days 1 | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" --store "$store" serve --listen "127.0.0.1:$port" 2> "$out/server.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -fs "$base/readyz" > /dev/null && break; sleep 0.1; done
auth="Authorization: Bearer $token"
# A cursor 50 pages deep, and an identity from the middle of the list.
deep=$(curl -fs -H "$auth" "$base/api/v1/identities?limit=1000" | python3 -c '
import json, sys, urllib.parse
page = json.load(sys.stdin)
print(urllib.parse.quote(page["next"] or ""))
print(urllib.parse.quote(page["items"][len(page["items"]) // 2]["id"], safe=""))')
after=$(echo "$deep" | sed -n 1p)
id=$(echo "$deep" | sed -n 2p)
echo "server: $bin on $base, store $store ($identities identities, $statements statements)"
printf '%-46s %9s %9s %9s %8s\n' endpoint "req/s" "p50 ms" "p99 ms" "errors"
measure() {
  local label=$1 url=$2
  oha -z "$duration" -c "$concurrency" --no-tui --output-format json -H "$auth" "$url" > "$out/oha.json"
  report "$label"
}
# Listings in an order the saved run keeps no column for (last used, open findings) are
# evaluated row by row over the saved summaries: one client, a few requests, so a slow answer is
# measured rather than timed out.
measure_alone() {
  local label=$1 url=$2
  oha -n 5 -c 1 --no-tui --output-format json -H "$auth" "$url" > "$out/oha.json"
  report "$label"
}
report() {
  local label=$1
  python3 - "$label" "$out/oha.json" <<'PY'
import json, sys
label, path = sys.argv[1], sys.argv[2]
doc = json.load(open(path))
summary, pct = doc["summary"], doc["latencyPercentiles"]
codes = doc.get("statusCodeDistribution", {})
errors = sum(n for code, n in codes.items() if not code.startswith("2"))
print(f"{label:<46} {summary['requestsPerSec']:9.1f} {pct['p50'] * 1000:9.1f} {pct['p99'] * 1000:9.1f} {errors:8d}")
PY
}
measure "GET /api/v1/identities (first page of 50)" "$base/api/v1/identities?limit=50"
measure "GET /api/v1/identities (1000 rows deep)" "$base/api/v1/identities?limit=50&after=$after"
measure "GET /inventory (console page)" "$base/inventory"
measure "GET /api/v1/identities?kind=aws_role" "$base/api/v1/identities?limit=50&kind=aws_role"
measure "GET /api/v1/identities?owasp=NHI5" "$base/api/v1/identities?limit=50&owasp=NHI5"
measure "GET /api/v1/identities?q=svc (search)" "$base/api/v1/identities?limit=50&q=svc"
measure "GET /inventory?sort=name" "$base/inventory?sort=name"
measure_alone "GET /api/v1/identities?sort=last_used (1 client)" "$base/api/v1/identities?limit=50&sort=last_used"
measure "GET / (console overview)" "$base/"
measure "GET /api/v1/identities/{id}" "$base/api/v1/identities/$id"
measure "GET /identities/{id} (console page)" "$base/identities/$id"
printf 'server peak RSS: %s MiB\n' "$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")"
