#!/usr/bin/env bash
# Runs the libFuzzer targets (`make fuzz`; build them first with MNEMO_FUZZ=ON, as the
# Makefile does into build-fuzz/), then minimises each corpus back into
# tools/fuzz/corpus/<target>/ (commit it: `make test` replays it) and copies every crash,
# hang or leak found into tools/fuzz/crashers/<target>/ (fix mnemo, then commit it).
#
#   tools/fuzz/run.sh [--build DIR] [--seconds N] [--parallel N] [--results FILE]
#                     [--report-only] [TARGET...]
#
#   --build DIR      the MNEMO_FUZZ=ON build (build-fuzz)
#   --seconds N      run time of each target (600: the ≥ 10 minutes issue 8 asks for)
#   --parallel N     targets at a time (1); each is one process on one core, under nice
#   --results FILE   write the "fuzz" section of FILE (bench/RESULTS.md) with the numbers
#   --report-only    run nothing: write --results from the last runs' summaries in DIR
#   TARGET...        onnx config osc web (all four)
#
# Every run: -timeout=10 (an input slower than 10 s is a hang), leak detection on, 2 GB
# RSS/malloc limit, inputs up to the target's max_len below (the committed corpus stays
# small). Work files, logs and raw corpora live in DIR/fuzz-work/. Exit status: 0 when
# every target ran its time without a finding, 1 otherwise.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$ROOT/build-fuzz
SECONDS_EACH=600
PARALLEL=1
RESULTS=""
REPORT_ONLY=0
TARGETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$(cd "$2" && pwd); shift 2 ;;
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --parallel) PARALLEL=$2; shift 2 ;;
    --results) RESULTS=$2; shift 2 ;;
    --report-only) REPORT_ONLY=1; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    onnx|config|osc|web) TARGETS+=("$1"); shift ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(onnx config osc web)
[ $REPORT_ONLY -eq 0 ] || TARGETS=()
WORK=$BUILD/fuzz-work
mkdir -p "$WORK"
export LSAN_OPTIONS=suppressions=$HERE/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}

# Largest input per target: ONNX up to the tiny seeds (25 KB; bigger models are mostly
# weights, mutating them finds little and bloats the corpus); configs and OSC
# packets are small by nature (an OSC packet over 8192 bytes is refused unread).
max_len() {
  case "$1" in onnx) echo 32768 ;; config) echo 16384 ;; osc) echo 9000 ;; web) echo 6000 ;; esac
}

# Seed folders besides the committed seeds, corpus and crashers.
extra_seeds() {
  case "$1" in
    onnx) echo "$ROOT/tests/data/bad $ROOT/tests/data" ;;
    config) echo "$ROOT/configs" ;;
    osc | web) echo "" ;;
  esac
}

# The static dictionary plus the registry's names, from configs/default.cfg (generated
# from the registry; a test keeps the two equal).
dict_make() { # target -> path of the dictionary
  local t=$1 out=$WORK/$1.dict cfg=$ROOT/configs/default.cfg
  cp "$HERE/$t.dict" "$out"
  if [ "$t" = config ]; then
    grep -oE '^[a-z_]+ = \{|^    [a-z_0-9]+ =' "$cfg" | sed 's/ = .*//; s/ *=$//; s/^ *//' |
      sort -u | sed 's/.*/"&"/' >>"$out"
  fi
  if [ "$t" = config ] || [ "$t" = osc ] || [ "$t" = web ]; then
    awk '/^[a-z_]+ = \{/ { g = $1 } /^    [a-z_0-9]+ =/ { print g "." $1 }' "$cfg" |
      while read -r name; do
        case $t in
          osc) printf '"/mnemo/%s\\x00"\n' "$name" ;;
          web) echo "\"/api/params/$name\"" ;;
          *) echo "\"$name\"" ;;
        esac
      done >>"$out"
  fi
  echo "$out"
}

stat_of() { # log name -> value of libFuzzer's final stat::name
  sed -n "s/^stat::$2: *//p" "$1" | tail -n1
}

fuzz_one() { # target -> runs it, minimises, writes $WORK/<target>.summary
  local t=$1 bin=$BUILD/tools/fuzz/fuzz_$1 w=$WORK/$1
  [ -x "$bin" ] || { echo "run.sh: $bin not built (make fuzz builds it)" >&2; return 1; }
  rm -rf "$w" && mkdir -p "$w/corpus" "$w/artifacts" "$w/min"
  cp "$HERE/corpus/$t/"* "$w/corpus/" 2>/dev/null || true
  local dict seeds=("$HERE/seeds/$t" "$HERE/crashers/$t")
  dict=$(dict_make "$t")
  # shellcheck disable=SC2206
  seeds+=($(extra_seeds "$t"))
  local start=$SECONDS
  echo "fuzz $t: ${SECONDS_EACH}s, log $w/fuzz.log"
  # -close_fd_mask=2: mnemo's warnings (one per rejected input) stay out of the log;
  # libFuzzer and the sanitizers still report through their own copy of stderr.
  nice -n 10 "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -detect_leaks=1 \
    -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len="$(max_len "$t")" -dict="$dict" \
    -artifact_prefix="$w/artifacts/" -print_final_stats=1 -close_fd_mask=2 \
    "$w/corpus" "${seeds[@]}" >"$w/fuzz.log" 2>&1
  local rc=$? ran=$((SECONDS - start))
  local findings
  findings=$(find "$w/artifacts" -type f | wc -l)
  for f in "$w/artifacts"/*; do
    [ -f "$f" ] && cp "$f" "$HERE/crashers/$t/$(basename "$f")"
  done
  # Minimise: merge into the seeds' coverage, keep only what adds to it.
  cp "$HERE/seeds/$t/"* "$w/min/"
  nice -n 10 "$bin" -merge=1 -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$t")" \
    -close_fd_mask=2 "$w/min" "$w/corpus" >"$w/merge.log" 2>&1
  for f in "$HERE/seeds/$t/"*; do rm -f "$w/min/$(basename "$f")"; done
  if [ "$findings" -eq 0 ] && [ -n "$(ls "$w/min")" ]; then
    rm -rf "$HERE/corpus/$t" && mkdir -p "$HERE/corpus/$t" && cp "$w/min/"* "$HERE/corpus/$t/"
    touch "$HERE/corpus/$t/.gitkeep"
  fi
  local files bytes
  files=$(find "$HERE/corpus/$t" -type f ! -name '.*' | wc -l)
  bytes=$(du -cb "$HERE/corpus/$t" | tail -n1 | cut -f1)
  local cov
  cov=$(grep -E '^#[0-9]+' "$w/fuzz.log" | tail -n1 | grep -oE 'cov: [0-9]+ ft: [0-9]+')
  local commit
  commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)
  git -C "$ROOT" diff --quiet HEAD -- runtime kernels 'tools/fuzz/*.[ch]' 'tools/fuzz/*.supp' 2>/dev/null || commit="$commit+"
  printf '| %s | %s | %s | %d | %s | %s | %s | %d files, %d KB | %s |\n' "$t" \
    "$(date -u '+%Y-%m-%d %H:%M'), $PARALLEL at a time" "$commit" "$ran" \
    "$(stat_of "$w/fuzz.log" number_of_executed_units)" \
    "$(stat_of "$w/fuzz.log" average_exec_per_sec)" "${cov:-?}" "$files" $((bytes / 1024)) \
    "$([ "$findings" -eq 0 ] && [ $rc -eq 0 ] && echo none || echo "$findings (exit $rc): see $w/fuzz.log")" \
    >"$WORK/$t.summary"
  cat "$WORK/$t.summary"
  [ "$findings" -eq 0 ] && [ $rc -eq 0 ]
}

failed=0
running=0
for t in "${TARGETS[@]}"; do
  fuzz_one "$t" &
  running=$((running + 1))
  if [ $running -ge "$PARALLEL" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while [ $running -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done

if [ -n "$RESULTS" ]; then
  {
    echo "# Fuzzing and valgrind"
    echo
    echo "Written by \`tools/fuzz/run.sh --results\` (\`make fuzz\`); do not edit by hand, run it again."
    echo
    echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores shared with other work (load average now $(cut -d' ' -f1-3 /proc/loadavg)); each target one process under nice"
    echo "- written $(date -u '+%Y-%m-%d %H:%M UTC'); each row says when its run ended and at which commit (+: with uncommitted changes to runtime/, kernels/ or tools/fuzz/); $(clang --version | head -n1)"
    echo "- each target: libFuzzer + ASan + UBSan, -timeout=10 (hang), leak detection on, -rss_limit_mb=2048; corpus = minimised (-merge=1) inputs beyond the seeds, committed in tools/fuzz/corpus/, replayed by \`make test\` (fuzz_replay_*)"
    echo
    echo "| target | ended (UTC) | commit | seconds | executions | exec/s | coverage at end | committed corpus | crashes, hangs, leaks |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    for t in onnx config osc; do
      [ -f "$WORK/$t.summary" ] && cat "$WORK/$t.summary"
    done
    if [ -f "$HERE/FINDINGS.md" ]; then
      echo
      cat "$HERE/FINDINGS.md"
    fi
    VG=$ROOT/build/valgrind/summary.md
    echo
    if [ -f "$VG" ]; then cat "$VG"; else echo "Valgrind: not run on this machine yet (tools/valgrind.sh)."; fi
  } | "$ROOT/tools/bench/section.sh" "$RESULTS" fuzz
  echo "run.sh: wrote the fuzz section of $RESULTS"
fi
exit $failed
