#!/usr/bin/env bash
# mnemo under valgrind's memcheck (`make valgrind`; ctest valgrind_memcheck, label slow):
# a short headless run of the whole piece on the cpu backend (oneDNN + OpenMP), a short
# PNG recording, and the config and model tools, each with --leak-check=full and
# --error-exitcode=1. Any invalid read/write, use of uninitialised memory or definite /
# possible leak fails the run. tools/valgrind.supp holds the few third-party reports that
# are not mnemo's (each explained there); nothing of ours is suppressed.
#
#   tools/valgrind.sh [--mnemo PATH] [--iterations N] [--frames N]
#
# Uses the 64x64 test fixtures (tests/data). Logs and a summary go to valgrind/ beside
# the binary (tools/fuzz/run.sh --results picks up build/valgrind/summary.md). Exit status
# 0 when every run was clean, 1 otherwise, 77 when the binary cannot run under valgrind
# (an ASan build) or valgrind is missing.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MNEMO=$ROOT/build/mnemo
ITERATIONS=20
FRAMES=6
while [ $# -gt 0 ]; do
  case "$1" in
    --mnemo) MNEMO=$2; shift 2 ;;
    --iterations) ITERATIONS=$2; shift 2 ;;
    --frames) FRAMES=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "valgrind.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed (apt install valgrind)" >&2; exit 77; }
[ -x "$MNEMO" ] || { echo "valgrind.sh: $MNEMO not built (make build)" >&2; exit 1; }
# No grep -q: it would stop reading, ldd would die of SIGPIPE and pipefail fail the test.
if ldd "$MNEMO" | grep libasan >/dev/null; then
  echo "skip: $MNEMO is an AddressSanitizer build; valgrind needs the plain one (build/)"
  exit 77
fi

OUT=$(cd "$(dirname "$MNEMO")" && pwd)/valgrind
rm -rf "$OUT" && mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/mnemo-valgrind-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
DATA=$ROOT/tests/data
SMALL=(--backend cpu --seed 7 -o loop.painter="$DATA/unet_bn.onnx"
       -o loop.sketcher="$DATA/resnet_in_op13.onnx" -o loop.size=64)
# Two OpenMP threads: the threaded paths run too (valgrind serialises them anyway).
export OMP_NUM_THREADS=2

VALGRIND=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,possible
          --errors-for-leak-kinds=definite,possible --error-exitcode=1 --num-callers=30
          --track-origins=yes --suppressions="$ROOT/tools/valgrind.supp")

failed=0
summary=()
iterations_done() {
  grep '"final":true' "$OUT/headless_iterations.jsonl" 2>/dev/null | grep -o '"iterations":[0-9]*' |
    cut -d: -f2
}
# "N bytes in M blocks" of one LEAK SUMMARY line ("definitely lost", ...) of a log.
leak_of() {
  sed -n "s/.*$2: \([0-9,]*\) bytes in \([0-9,]*\) blocks.*/\1 B in \2 blocks/p" "$1" | tail -n1
}

check() { # name args... -> runs mnemo args under memcheck, logs to $OUT/name.log
  local name=$1 start=$SECONDS
  shift
  "${VALGRIND[@]}" --log-file="$OUT/$name.log" "$MNEMO" "$@" >"$OUT/$name.out" 2>&1
  local rc=$?
  local log=$OUT/$name.log errors lost
  errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -n1)
  if grep -q 'All heap blocks were freed' "$log"; then
    lost="none: every heap block was freed"
  else
    lost="definite $(leak_of "$log" "definitely lost"), indirect $(leak_of "$log" "indirectly lost"), possible $(leak_of "$log" "possibly lost"); still reachable at exit $(leak_of "$log" "still reachable"); suppressed $(leak_of "$log" "suppressed")"
  fi
  local verdict=clean
  if [ $rc -ne 0 ]; then
    verdict="FAILED (exit $rc, see $log)"
    failed=1
  fi
  local shown="$*"
  shown=${shown/"${SMALL[*]}"/FIXTURES}
  shown=$(echo "$shown" | sed "s|$ROOT/||g; s|$TMP/||g; s|$OUT/||g")
  summary+=("| \`mnemo $shown\` | $((SECONDS - start)) s | ${errors:-?} | $lost | $verdict |")
  echo "valgrind $name: $verdict, ${errors:-?} errors, $((SECONDS - start)) s"
}

check headless_iterations run --headless --iterations "$ITERATIONS" "${SMALL[@]}" \
  --stats "$OUT/headless_iterations.jsonl"
check headless_png run --headless --frames "$FRAMES" --out "$TMP/frames" "${SMALL[@]}" \
  -o capture.width=64 -o capture.height=64 -o capture.frames_per_iteration=1
check check_config check "$ROOT/configs/default.cfg"
check inspect_model inspect "$DATA/unet_bn.onnx"
check bad_model inspect "$DATA/bad/fold_ops.onnx"

{
  echo "Valgrind memcheck (\`tools/valgrind.sh\`, \`make valgrind\`), $(valgrind --version):"
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit \`$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)\`, \`${MNEMO#"$ROOT"/}\` ($(iterations_done) iterations in the headless run), cpu backend (oneDNN), OMP_NUM_THREADS=2, FIXTURES = \`$(echo "${SMALL[*]}" | sed "s|$ROOT/||g")\`; --leak-check=full --track-origins=yes, definite and possible leaks count as errors; suppressed: libgomp's worker-thread TLS only (tools/valgrind.supp)"
  echo
  echo "| run | time | errors | leaks | result |"
  echo "| --- | --- | --- | --- | --- |"
  printf '%s\n' "${summary[@]}"
} >"$OUT/summary.md"
echo "valgrind.sh: summary in $OUT/summary.md"
exit $failed
