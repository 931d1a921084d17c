#!/usr/bin/env bash
# Activity ingestion benchmark: end-to-end CloudTrail ingestion against the raw serde_json parse
# rate of the same bytes, at 1M and 10M events, with peak RSS.
#
# usage: bench/activity/run.sh [DATA_DIR]   (default /work/bench-data/activity; ~13 GB of disk)
#   SIZES="1"        only the 1M set (default "1 10")
#   BASELINE_BIN=PATH  an older build's ingest_bench example, measured first on the same data in
#                    the same run (build the older commit in its own worktree and target dir)
#
# Per-core rates are given two ways: events per wall second with RAYON_NUM_THREADS=1, and events
# per CPU second (user+sys from /usr/bin/time), which stays meaningful on a shared, loaded machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${1:-/work/bench-data/activity}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --locked -p warrant-activity --example ingest_bench >/dev/null
BIN=$CARGO_TARGET_DIR/release/examples/ingest_bench

SIZES=${SIZES:-1 10}
for m in $SIZES; do
  n=$((m * 1000000))
  dir=$DATA-${m}m
  if [ ! -d "$dir/AWSLogs" ]; then
    python3 bench/activity/gen_cloudtrail.py "$n" "$dir"
  fi
done

measure() { # LABEL THREADS MODE DIR [BIN]
  local out bin=${5:-$BIN}
  out=$( { RAYON_NUM_THREADS=$2 /usr/bin/time -f "cpu=%U+%S rss_kb=%M" "$bin" "$3" "$4"; } 2>&1 )
  local events cpu rss
  events=$(grep -o 'events=[0-9]*' <<<"$out" | head -1 | cut -d= -f2)
  cpu=$(grep -o 'cpu=[0-9.+]*' <<<"$out" | cut -d= -f2 | bc)
  rss=$(grep -o 'rss_kb=[0-9]*' <<<"$out" | cut -d= -f2)
  printf '%-32s %s events_per_cpu_s=%.0f peak_rss_mb=%.0f\n' "$1" \
    "$(grep -o 'threads=.*' <<<"$out" | head -1)" "$(bc -l <<<"$events / $cpu")" "$(bc -l <<<"$rss / 1024")"
}

for m in $SIZES; do
  dir=$DATA-${m}m
  # The 1M set (1.2 GB) fits in the page cache: read it once so every 1M figure is from a warm
  # cache, whatever ran before (ingestion drops the pages of files it found cold). The 10M set
  # (12 GB) does not fit; its figures are from whatever the cache holds, mostly disk.
  [ "$m" = 1 ] && find "$dir" -type f -exec cat {} + >/dev/null
  measure "${m}M raw IgnoredAny" 1 raw-ignored "$dir"
  [ "$m" = 1 ] && measure "${m}M raw Value" 1 raw-value "$dir"
  if [ -n "${BASELINE_BIN:-}" ]; then
    measure "${m}M ingest 1 thread (baseline)" 1 ingest "$dir" "$BASELINE_BIN"
  fi
  measure "${m}M ingest 1 thread" 1 ingest "$dir"
  if [ -n "${BASELINE_BIN:-}" ]; then
    measure "${m}M ingest all cores (baseline)" "$(nproc)" ingest "$dir" "$BASELINE_BIN"
  fi
  measure "${m}M ingest all cores" "$(nproc)" ingest "$dir"
done
