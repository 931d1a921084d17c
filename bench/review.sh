#!/usr/bin/env bash
# Access-review campaigns at scale: a synthetic organisation (bench/gen_org.py, default 10k
# identities and 100k policy statements) is assessed into a fresh SQLite store, then a campaign
# over every identity is opened (one item each, with its evidence), a few items are decided
# (each `disable` writes a remediation plan), and the auditor's report is rendered as HTML, CSV
# and JSON; the campaign is closed with its pending items expired and reported again. Prints
# wall time and peak memory (RSS) of each step; the target is under 5 s for opening and for
# each report.
# Usage: bench/review.sh [IDENTITIES] [STATEMENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
identities=${1:-10000}
statements=${2:-$((identities * 10))}
out=bench/out
org=$out/org-$identities-$statements
work=$out/review-$identities
mkdir -p "$out"
if ! [ -x /usr/bin/time ]; then
  echo "installing GNU time (Debian package 'time')"
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi
cargo build --release --locked -p warrant-cli
bin=${CARGO_TARGET_DIR:-target}/release/warrant
[ -d "$org" ] || python3 bench/gen_org.py "$org" --identities "$identities" --statements "$statements"
rm -rf "$work"
mkdir -p "$work"
store=$work/review.db
export WARRANT_FINGERPRINT_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
unset WARRANT_USER WARRANT_CONFIG
# The generator tags every identity with an environment and 85 % with an owner (10 % of the
# owners suspended or gone): the rest go to the fallback reviewer.
cat > "$work/policy.toml" <<'EOF'
fallback_reviewer = "secops@bench.example"

[[tier]]
name = "prod"
match = { tags = { environment = "prod" } }
EOF

measure() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" > "$work/step.out" 2> "$work/step.err" || { cat "$work/step.err"; exit 1; }
  read -r secs kib < "$work/time.txt"
  printf '%-48s %8.2f s %8.0f MiB\n' "$label" "$secs" "$(echo "$kib / 1024" | bc -l)"
}

w=("$bin" --store "$store")

echo "organisation: $(du -sh "$org" | cut -f1), $identities identities, $statements statements"
printf '%-48s %10s %12s\n' step wall "peak RSS"
measure "assess (setup: import + assess + save)" "${w[@]}" --as-of 2026-11-01 assess "$org" --format json
measure "review start --scope all (saved assessment)" \
  "${w[@]}" --as-of 2026-11-01 review start --name bench --scope all --due 2026-12-31 --as lead@bench.example --policy "$work/policy.toml"
items=$("${w[@]}" --format json review list | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["counts"]["items"])')
echo "  campaign opened with $items items"
measure "review start --scope tier=prod,kind=aws_user" \
  "${w[@]}" --as-of 2026-11-01 review start --name bench-users --scope tier=prod,kind=aws_user --due 2026-12-31 --as lead@bench.example --policy "$work/policy.toml"
# Another instant than the saved assessment's: posture is evaluated once for the campaign.
measure "review start --scope all (evaluated once)" \
  "${w[@]}" --as-of 2026-11-05 review start --name bench-evaluated --scope all --due 2026-12-31 --as lead@bench.example --policy "$work/policy.toml"
measure "review list" "${w[@]}" --as-of 2026-11-02 review list
measure "review show (all items, table)" "${w[@]}" --as-of 2026-11-02 review show bench
measure "review show --format json (all items)" "${w[@]}" --as-of 2026-11-02 --format json review show bench
# Twenty users' keys disabled by their reviewers: twenty plans for the report to look up.
"${w[@]}" --as-of 2026-11-02 --format json review show bench > "$work/items.json"
python3 - "$work/items.json" > "$work/decisions.txt" <<'PY'
import json, sys
items = json.load(open(sys.argv[1]))["items"]
users = [i for i in items if i["evidence"]["kind"] == "aws_user" and i["evidence"]["credentials"]][:20]
for i in users:
    print(i["item"], i["reviewer"])
PY
start=$(date +%s.%N)
while read -r item reviewer; do
  "${w[@]}" --as-of 2026-11-02 review decide bench "$item" disable --reason "bench" --as "$reviewer" --policy "$work/policy.toml" > /dev/null
done < "$work/decisions.txt"
printf '%-48s %8.2f s\n' "review decide x$(wc -l < "$work/decisions.txt") (disable, each writes a plan)" "$(echo "$(date +%s.%N) - $start" | bc -l)"
measure "review report --format html (open)" "${w[@]}" --as-of 2026-11-02 review report bench -o "$work/report.html"
measure "review report --format csv (open)" "${w[@]}" --as-of 2026-11-02 review report bench -o "$work/report.csv"
measure "review report --format json (open)" "${w[@]}" --as-of 2026-11-02 review report bench -o "$work/report.json"
measure "review close --expire-pending" "${w[@]}" --as-of 2027-01-05 review close bench --as lead@bench.example --expire-pending
measure "review report --format html (closed)" "${w[@]}" --as-of 2027-01-05 review report bench -o "$work/closed.html"
echo "report sizes: html $(du -h "$work/report.html" | cut -f1), csv $(du -h "$work/report.csv" | cut -f1), json $(du -h "$work/report.json" | cut -f1)"
