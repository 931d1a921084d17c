#!/usr/bin/env bash
# Remediation at scale: after assessing the synthetic organisation (100k identities, 1M policy
# statements; see import_assess.sh), propose a plan for every open finding a plan can fix, on
# SQLite. Prints wall time and peak memory (RSS). Target: < 10 s and < 1 GiB.
# Usage: bench/plans.sh [IDENTITIES] [STATEMENTS]
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
export WARRANT_FINGERPRINT_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
store=$out/plans.db
rm -f "$store" "$store-wal" "$store-shm"
# Rotations need a secret to put the new key in: the policy names one per user.
policy=$out/plans-policy.toml
printf '[remediation]\nsecret_name = "warrant/{account}/{user}"\n' > "$policy"

measure() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/time.txt" "$@" > "$out/$label.out" 2> "$out/$label.err" || { cat "$out/$label.err"; exit 1; }
  read -r secs kib < "$out/time.txt"
  printf '%-44s %8.1f s %8.0f MiB\n' "$label" "$secs" "$(echo "$kib / 1024" | bc -l)"
}

printf '%-44s %10s %12s\n' "step (sqlite)" wall "peak RSS"
measure "assess (import + assess)" "$bin" --store "$store" --as-of 2026-11-01 assess "$org" --format json
measure "plan propose (every open finding)" "$bin" --store "$store" --as-of 2026-11-01 plan propose --as bench@example.com --policy "$policy" --format json
python3 - "$out/plan propose (every open finding).out" <<'PY'
import json, sys, collections
p = json.load(open(sys.argv[1]))
by = collections.Counter(a for _, _, a in p["proposed"])
print(f"  {len(p['proposed'])} plans ({p['new']} new): " + ", ".join(f"{a} {n}" for a, n in sorted(by.items())))
print(f"  {len(p['skipped'])} (identity, action) pairs without a plan")
PY
measure "plan propose again (all stored already)" "$bin" --store "$store" --as-of 2026-11-01 plan propose --as bench@example.com --policy "$policy" --format json
measure "plan list --format json" "$bin" --store "$store" --as-of 2026-11-01 plan list --format json
