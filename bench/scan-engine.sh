#!/usr/bin/env bash
# Quick self-measure of the secret-scanning engine (the peer comparison is bench/README's job):
# builds a corpus of real source text from what is on this machine (toolchain sources, C headers,
# Python packages), plants a few fabricated secrets, and prints MB/s and peak RSS of a 2-thread
# scan with the built-in rules.
#
#   bench/scan-engine.sh [CORPUS_MB] [THREADS]      (defaults: 600, 2)
#
# The corpus is kept in ${SCAN_CORPUS:-/tmp/warrant-scan-corpus} and rebuilt only when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-600}
THREADS=${2:-2}
CORPUS=${SCAN_CORPUS:-/tmp/warrant-scan-corpus}

if [ ! -f "$CORPUS/.complete" ]; then
  rm -rf "$CORPUS"; mkdir -p "$CORPUS"
  limit=$((MB * 1024 * 1024)); total=0; n=0
  # Text files only (by extension), so the figure is MB of source, not of skipped binaries.
  while IFS= read -r -d '' f; do
    size=$(stat -c %s "$f")
    [ "$size" -gt 0 ] && [ "$size" -lt 8388608 ] || continue
    n=$((n + 1)); dest="$CORPUS/$((n % 256))/$n-$(basename "$f")"
    mkdir -p "$(dirname "$dest")"; cp "$f" "$dest"
    total=$((total + size)); [ "$total" -ge "$limit" ] && break
  done < <(find "$HOME/.rustup/toolchains" "$HOME/.cargo/registry/src" /usr/include /usr/lib/python3* \
             "$HOME/.pyenv/versions" /usr/share/doc -type f \
             \( -name '*.rs' -o -name '*.h' -o -name '*.py' -o -name '*.c' -o -name '*.md' \
                -o -name '*.toml' -o -name '*.json' -o -name '*.js' -o -name '*.txt' -o -name '*.hpp' \) \
             -print0 2>/dev/null)
  # Planted secrets (fabricated; valid format and checksum).
  mkdir -p "$CORPUS/planted"
  printf 'export GITHUB_TOKEN=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\n' > "$CORPUS/planted/a.sh"
  printf 'aws_access_key_id = AKIAQWERTYUIOPASDFGH\n' > "$CORPUS/planted/b.ini"
  printf 'SLACK=xoxb-730492816253-4091827364519-Qm7RkZp9Lx4VtWn3Bc6Hy1Dj\n' > "$CORPUS/planted/c.env"
  printf '%s\n' '-----BEGIN OPENSSH PRIVATE KEY-----' \
    'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW' \
    'QyNTUxOQAAACBxbd1Vd3q2nTgJ4S1mQ2k7XyVf0hV9mXrE5cK3fP6bWgAAAJgbE2EhGxNh' \
    '-----END OPENSSH PRIVATE KEY-----' > "$CORPUS/planted/id_ed25519"
  touch "$CORPUS/.complete"
fi
echo "corpus: $CORPUS ($(du -sm "$CORPUS" | cut -f1) MB on disk)"
CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target} cargo bench -q -p warrant-scan --bench scan_throughput -- "$CORPUS" "$THREADS"
