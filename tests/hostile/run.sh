#!/usr/bin/env bash
# Runs the hostile-input corpus (issue 10) through `warrant import`, `ingest` and `scan` and
# checks, for every run: the exit code, that stderr names each hostile path the command could
# not read or understand, that the good input beside it was processed, that no planted secret
# was printed, and wall time and peak memory against the bounds below. Prints one table row per
# run and exits 1 when any check fails (2 on bad usage).
#
#   tests/hostile/run.sh BIN [DIR]
#
# BIN  the warrant binary. Measure a release build, made at the workspace root with
#        cargo build --release --locked --workspace        # BIN=target/release/warrant
#      (a debug build, target/debug/warrant, is for trying the small corpus: HOSTILE_SCALE=small).
# DIR  a corpus written by tests/hostile/generate.py. Without it, one is generated into a
#      temporary directory at HOSTILE_SCALE (default large: ~700 MB on disk, bombs inflating to
#      tens of GiB; about 30 s to write) and removed afterwards.
#
# Environment: HOSTILE_SCALE=small|large (when generating), HOSTILE_KEEP=1 (keep the work
# directory: stores, stdout and stderr of every run), HOSTILE_TIMEOUT (seconds before a run is
# killed and counted as a hang; default 600).
#
# Every command gets a fresh store, so each run shows what that command alone does. Commands run
# on at most two CPUs (taskset), the machine the bounds were set for: the scanner holds up to one
# archive member (256 MiB at most) per thread, so its memory grows with the thread count.
#
# Bounds (wall seconds, peak RSS MiB), for a release build on two cores:
#   small corpus: 30 s and 768 MiB for every run — nothing in it is large; the margin is for a
#     debug build (`cargo build`), which is what the small scale is for.
#   large corpus: 60 s and 1024 MiB for every run, except
#     - giant-lines import: the directory holds a 200 MB single-line IAM export (the issue's
#       target: under 1 GiB), a 200 MB CloudTrail file and a 200 MB text line; the same 1 GiB
#       holds for all three together.
#     - bombs ingest and import: a valid CloudTrail gzip padded with 16 GiB of blanks has nothing
#       to reject, only bytes to inflate and skip at a few hundred MB/s per core: 180 s. Memory
#       stays flat (ingestion holds one record; the scanner's archive limits stop the rest).
#   Everything else is linear in input that is at most 200 MB on disk, so a minute is generous;
#   what the bounds catch is a hang (killed at HOSTILE_TIMEOUT), quadratic work on one long
#   line, or memory that grows with inflated size instead of staying bounded.
set -uo pipefail

usage() {
  sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}
[ $# -ge 1 ] && [ $# -le 2 ] || usage
case "$1" in -h | --help) usage ;; esac
BIN=$(realpath -e "$1") || { echo "run.sh: $1 not found" >&2; exit 2; }
[ -x "$BIN" ] || { echo "run.sh: $BIN is not executable" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
TIMEOUT=${HOSTILE_TIMEOUT:-600}

if [ ! -x /usr/bin/time ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "run.sh: installing GNU time (apt-get install time) for peak memory figures" >&2
    apt-get update -qq && apt-get install -y -qq time >/dev/null || exit 2
  else
    echo "run.sh: needs GNU time at /usr/bin/time (apt-get install time)" >&2
    exit 2
  fi
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/warrant-hostile.XXXXXX")
cleanup() {
  # Mode-000 entries of the corpus (when generated here) and of nothing else need their bits
  # back before removal; rm copes with the paths longer than PATH_MAX.
  chmod -R u+rwX "$WORK" 2>/dev/null
  if [ "${HOSTILE_KEEP:-}" = 1 ]; then
    echo "run.sh: kept $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

if [ $# -eq 2 ]; then
  CORPUS=$(realpath -e "$2") || exit 2
else
  CORPUS=$WORK/corpus
  echo "run.sh: generating the ${HOSTILE_SCALE:-large} corpus in $CORPUS" >&2
  python3 "$HERE/generate.py" "$CORPUS" --scale "${HOSTILE_SCALE:-large}" || exit 2
fi
MANIFEST=$CORPUS/MANIFEST.json
[ -f "$MANIFEST" ] || { echo "run.sh: $MANIFEST missing (not a generate.py corpus?)" >&2; exit 2; }
SCALE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["scale"])' "$MANIFEST")

PIN=()
if command -v taskset >/dev/null && [ "$(nproc)" -gt 2 ]; then
  PIN=(taskset -c 0,1)
fi

# case | label | arguments after the subcommand ({D} is the case directory) | exit | paths
# (relative to {D}) that stderr must name, '-' for none. Expected exit codes are the README's:
# import, ingest and scan exit 2 when an input could not be read or understood (an unreadable
# file or directory, a directory past the walk limit, a malformed export, bad log records, a
# named file that is not an activity log), each named on stderr, after processing everything
# else; otherwise scan exits 1 when it finds a secret (every case plants one), and lists what its
# own limits left out (archive bombs, sizes) and links it passed over without failing for them. Links inside a tree are passed over quietly
# unless --follow-symlinks.
EXPECT=$(cat <<'EOF'
symlink-loops|import|import {D}|0|-
symlink-loops|ingest|ingest {D}|0|-
symlink-loops|scan|scan {D}|1|-
symlink-loops|scan --follow-symlinks|scan --follow-symlinks {D}|1|self,sub/up,a,b,dangling.json
deep-dirs|import|import {D}|2|deep/d/d/d
deep-dirs|ingest|ingest {D}|2|deep/d/d/d
deep-dirs|scan|scan {D}|2|deep/d/d/d
deep-json|import|import {D}|2|deep-authorization-details.json,deep-cloudtrail.json,unclosed-cloudtrail.json
deep-json|ingest|ingest {D}|2|deep-cloudtrail.json,unclosed-cloudtrail.json
deep-json|scan|scan {D}|1|-
bombs|import|import {D}|2|record-bomb-cloudtrail.json.gz
bombs|ingest|ingest {D}|2|record-bomb-cloudtrail.json.gz
bombs|scan|scan {D}|1|zeros-cloudtrail.json.gz,record-bomb-cloudtrail.json.gz,blank-bomb-cloudtrail.json.gz,overlapping.zip,nested.gz
giant-lines|import|import {D}|0|-
giant-lines|ingest|ingest {D}|0|-
giant-lines|scan|scan {D}|1|-
binary|import|import {D}|2|broken-authorization-details.json,broken-cloudtrail.json
binary|ingest|ingest {D}|2|broken-cloudtrail.json
binary|scan|scan {D}|1|-
unreadable|import|import {D} {D}/mem-cloudtrail.json {D}/fifo-cloudtrail.json|2|mem-cloudtrail.json,long/,fifo-cloudtrail.json
unreadable|ingest|ingest {D} {D}/mem-cloudtrail.json {D}/fifo-cloudtrail.json|2|mem-cloudtrail.json,long/,fifo-cloudtrail.json
unreadable|scan|scan {D} {D}/mem-cloudtrail.json {D}/fifo-cloudtrail.json|2|mem-cloudtrail.json,long/,fifo-cloudtrail.json
non-utf8-names|import|import {D}|0|-
non-utf8-names|ingest|ingest {D}|0|-
non-utf8-names|scan|scan {D}|1|-
empty|import|import {D} {D}/empty-cloudtrail.json|0|-
empty|ingest|ingest {D} {D}/empty-cloudtrail.json|2|empty-cloudtrail.json
empty|scan|scan {D} {D}/empty-cloudtrail.json|1|-
wrong-types|import|import {D}|2|wrong-types-authorization-details.json,wrong-keys.json,wrong-types-cloudtrail.json
wrong-types|ingest|ingest {D}|2|wrong-types-cloudtrail.json
wrong-types|scan|scan {D}|1|-
EOF
)

bounds() { # CASE VERB -> "WALL_S RSS_MIB SOFT" (SOFT: 1 when 1.0-1.1x the RSS bound is OVER)
  if [ "$SCALE" = small ]; then
    echo "30 768 0"
  elif [ "$1" = bombs ] && { [ "$2" = ingest ] || [ "$2" = import ]; }; then
    echo "180 1024 0"
  else
    echo "60 1024 0"
  fi
}

# The good input's checks and the no-secret-printed check, in Python (JSON and bytes).
check_good() { # VERB CASE CASE_DIR STORE STDOUT STDERR -> prints problems, one per line
  python3 - "$@" <<'EOF'
import json, os, subprocess, sys
verb, case, case_dir, store, out_path, err_path = sys.argv[1:7]
manifest = json.load(open(os.path.join(os.path.dirname(case_dir), "MANIFEST.json")))
info = manifest["cases"][case]
out = open(out_path, "rb").read()
err = open(err_path, "rb").read()
problems = []
for token in [manifest["cases"][case]["good_token"], *info.get("other_tokens", [])]:
    if token.encode() in out or token.encode() in err:
        problems.append("a planted secret was printed")
if verb == "import":
    inv = subprocess.run([os.environ["BIN"], "--store", store, "--format", "json", "inventory"],
                         capture_output=True)
    try:
        identities = {i["name"]: i for i in json.loads(inv.stdout)}
    except ValueError:
        identities = {}
        problems.append("inventory --format json failed")
    for user in [manifest["good_user"], *info.get("other_users", [])]:
        if user not in identities:
            problems.append(f"{user} not imported")
        elif user == manifest["good_user"] and not identities[user].get("last_used"):
            problems.append(f"{user}: no activity ingested (last_used empty)")
    if b"Found " not in out:
        problems.append("no secret found by the import's scan")
elif verb == "ingest":
    try:
        files = {os.path.basename(f["file"]): f for f in json.loads(out)["files"]}
    except (ValueError, KeyError):
        files = {}
        problems.append("no JSON report")
    if files.get("good-cloudtrail.json", {}).get("events") != 3:
        problems.append("good-cloudtrail.json: not 3 events")
elif verb == "scan":
    try:
        findings = json.loads(out)["findings"]
    except (ValueError, KeyError):
        findings = []
        problems.append("no JSON report")
    wanted = [manifest["good_token_file"], *info.get("other_token_files", [])]
    for name in wanted:
        if not any(f["rule"] == "github.pat-classic" and os.path.basename(f["origin"].get("path", "")).startswith(name)
                   for f in findings):
            problems.append(f"token in {name} not found")
print("\n".join(problems))
EOF
}

export BIN
FAILED=0
printf '%-15s %-24s %4s %4s %8s %9s  %s\n' case command exit want "wall s" "RSS MiB" result
while IFS='|' read -r CASE LABEL ARGS WANT NAMES; do
  [ -n "$CASE" ] || continue
  D=$CORPUS/$CASE
  [ -d "$D" ] || continue # a corpus written with --case
  VERB=${LABEL%% *}
  STORE=$WORK/stores/$CASE-${LABEL// /_}.db
  mkdir -p "$WORK/stores" "$WORK/out"
  OUT=$WORK/out/$CASE-${LABEL// /_}.stdout
  ERR=$WORK/out/$CASE-${LABEL// /_}.stderr
  TIMES=$WORK/out/$CASE-${LABEL// /_}.time
  read -r -a ARGV <<<"${ARGS//\{D\}/$D}"
  FORMAT=()
  [ "$VERB" = import ] || FORMAT=(--format json)
  /usr/bin/time -f '%e %M' -o "$TIMES" "${PIN[@]}" timeout -k 10 "$TIMEOUT" \
    "$BIN" --store "$STORE" "${FORMAT[@]}" "${ARGV[@]}" >"$OUT" 2>"$ERR" </dev/null
  CODE=$?
  read -r WALL KIB < <(tail -n 1 "$TIMES")
  RSS=$(( ${KIB:-0} / 1024 ))
  read -r MAX_WALL MAX_RSS SOFT < <(bounds "$CASE" "$VERB")
  PROBLEMS=()
  if [ "$CODE" = 124 ] || [ "$CODE" = 137 ]; then
    PROBLEMS+=("killed after ${TIMEOUT} s (hang?)")
  elif [ "$CODE" -gt 128 ]; then
    PROBLEMS+=("died of signal $((CODE - 128))")
  elif [ "$CODE" != "$WANT" ]; then
    PROBLEMS+=("exit $CODE, expected $WANT")
  fi
  if grep -qa 'panicked at' "$ERR"; then PROBLEMS+=("panicked"); fi
  if [ "$NAMES" != - ]; then
    IFS=, read -r -a WANT_NAMES <<<"$NAMES"
    for NAME in "${WANT_NAMES[@]}"; do
      grep -qaF -- "$D/$NAME" "$ERR" || PROBLEMS+=("stderr does not name $NAME")
    done
  fi
  while IFS= read -r P; do [ -n "$P" ] && PROBLEMS+=("$P"); done \
    < <(check_good "$VERB" "$CASE" "$D" "$STORE" "$OUT" "$ERR")
  RESULT=PASS
  if awk -v w="$WALL" -v m="$MAX_WALL" 'BEGIN { exit !(w > m) }'; then
    PROBLEMS+=("wall ${WALL} s over ${MAX_WALL} s")
  fi
  if [ "$RSS" -gt "$MAX_RSS" ]; then
    if [ "$SOFT" = 1 ] && [ "$RSS" -le $(( MAX_RSS * 11 / 10 )) ]; then
      RESULT=OVER
    else
      PROBLEMS+=("peak RSS ${RSS} MiB over ${MAX_RSS} MiB")
    fi
  fi
  if [ ${#PROBLEMS[@]} -gt 0 ]; then
    RESULT="FAIL: $(IFS=';'; echo "${PROBLEMS[*]}" | sed 's/;/; /g')"
    FAILED=1
  fi
  printf '%-15s %-24s %4s %4s %8.2f %9d  %s\n' "$CASE" "$LABEL" "$CODE" "$WANT" "$WALL" "$RSS" "$RESULT"
done <<<"$EXPECT"
exit $FAILED
