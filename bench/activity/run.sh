#!/usr/bin/env bash
# Activity ingestion benchmark: end-to-end CloudTrail ingestion against the raw serde_json parse
# rate of the same bytes, at 1M and 10M events, with peak RSS.
#
# usage: bench/activity/run.sh [DATA_DIR]   (default /work/bench-data/activity; ~13 GB of disk)
#
# Per-core rates are given two ways: events per wall second with RAYON_NUM_THREADS=1, and events
# per CPU second (user+sys from /usr/bin/time), which stays meaningful on a shared, loaded machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${1:-/work/bench-data/activity}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --locked -p warrant-activity --example ingest_bench >/dev/null
BIN=$CARGO_TARGET_DIR/release/examples/ingest_bench

for n in 1000000 10000000; do
  dir=$DATA-$((n / 1000000))m
  if [ ! -d "$dir/AWSLogs" ]; then
    python3 bench/activity/gen_cloudtrail.py "$n" "$dir"
  fi
done

measure() { # LABEL THREADS MODE DIR
  local out
  out=$( { RAYON_NUM_THREADS=$2 /usr/bin/time -f "cpu=%U+%S rss_kb=%M" "$BIN" "$3" "$4"; } 2>&1 )
  local events cpu rss
  events=$(grep -o 'events=[0-9]*' <<<"$out" | head -1 | cut -d= -f2)
  cpu=$(grep -o 'cpu=[0-9.+]*' <<<"$out" | cut -d= -f2 | bc)
  rss=$(grep -o 'rss_kb=[0-9]*' <<<"$out" | cut -d= -f2)
  printf '%-22s %s events_per_cpu_s=%.0f peak_rss_mb=%.0f\n' "$1" \
    "$(grep -o 'threads=.*' <<<"$out" | head -1)" "$(bc -l <<<"$events / $cpu")" "$(bc -l <<<"$rss / 1024")"
}

# The 1M set (1.2 GB) fits in the page cache: read it once so every 1M figure is from a warm
# cache, whatever ran before (ingestion drops the pages of files it found cold). The 10M set
# (12 GB) does not fit; its figures are from whatever the cache holds, mostly disk.
find "$DATA-1m" -type f -exec cat {} + >/dev/null

measure "1M raw IgnoredAny" 1 raw-ignored "$DATA-1m"
measure "1M raw Value" 1 raw-value "$DATA-1m"
measure "1M ingest 1 thread" 1 ingest "$DATA-1m"
measure "1M ingest all cores" "$(nproc)" ingest "$DATA-1m"
measure "10M raw IgnoredAny" 1 raw-ignored "$DATA-10m"
measure "10M ingest 1 thread" 1 ingest "$DATA-10m"
measure "10M ingest all cores" "$(nproc)" ingest "$DATA-10m"
