#!/usr/bin/env bash
# Loop benchmark (`make bench-loop`): iterations per second of the whole loop (painter +
# sketcher + perturb/simplify/guard), headless, nothing recorded, on the CPU backends, for
# the default models (configs/default.cfg) and the test fixtures; and the rate of a
# recording (1024x1024 PNG frames). Writes the "loop" section of bench/RESULTS.md. Not a
# test. Uses build/mnemo as it is.
#
#   tools/bench/loop.sh [--iterations N] [--out FILE]
#   env: MNEMO (build/mnemo), THREADS (2)
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MNEMO=${MNEMO:-$ROOT/build/mnemo}
THREADS=${THREADS:-2}
ITERATIONS=200
OUT="$ROOT/bench/RESULTS.md"
while [ $# -gt 0 ]; do
  case "$1" in
    --iterations) ITERATIONS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "loop.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$MNEMO" ] || { echo "loop.sh: $MNEMO not built (make build)" >&2; exit 1; }
export OMP_NUM_THREADS=$THREADS
WORK=$(mktemp -d /tmp/mnemo-loop-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
DATA="$ROOT/tests/data"

# iterations/s over the whole run: from the final --stats line (iterations / seconds).
rate_of() { # stats.jsonl -> "it/s"
  grep '"final":true' "$1" | sed 's/.*"t":\([0-9.]*\),"iterations":\([0-9]*\),.*/\2 \1/' |
    awk '{ if ($2 > 0) printf "%.1f", $1 / $2; else print "n/a" }'
}

row() { # label backend args... -> one table row (or n/a with the reason)
  local label=$1 backend=$2
  shift 2
  if "$MNEMO" run --config "$ROOT/configs/default.cfg" --headless --backend "$backend" \
       --stats "$WORK/s.jsonl" "$@" >"$WORK/log" 2>&1; then
    echo "| $label | $backend | $(rate_of "$WORK/s.jsonl") |"
  else
    echo "| $label | $backend | n/a: $(grep -v '^\s*$' "$WORK/log" | tail -n1 | cut -c1-120) |"
  fi
}

{
  echo "# Loop benchmark: whole iterations per second, headless"
  echo
  echo "Written by \`tools/bench/loop.sh\` (\`make bench-loop\`); do not edit by hand, run it again."
  echo
  echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores; load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit \`$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' + local changes')\`; $THREADS threads"
  echo "- one iteration = perturb + painter + blend + sketcher + simplify + measure + guard; $ITERATIONS iterations after load, nothing recorded (\`--iterations\`), rate = iterations / wall time from \`--stats\`"
  echo
  echo "| models | backend | iterations/s |"
  echo "| --- | --- | --- |"
  for b in cpu ref; do
    n=$ITERATIONS
    [ "$b" = ref ] && n=$((ITERATIONS / 10 > 5 ? ITERATIONS / 10 : 5))
    row "default (configs/default.cfg), 256²" "$b" --iterations "$n" -o loop.rate=0
  done
  row "test fixtures unet_bn + resnet_in, 64²" cpu --iterations "$ITERATIONS" \
    -o loop.painter="$DATA/unet_bn.onnx" -o loop.sketcher="$DATA/resnet_in_op13.onnx" \
    -o loop.size=64 -o loop.rate=0
  echo
  echo "Recording (iterations/s while writing 1024x1024 PNG frames, one per iteration):"
  echo
  echo "| models | backend | iterations/s |"
  echo "| --- | --- | --- |"
  row "default, 256² -> 1024² PNG" cpu --frames 50 --out "$WORK/frames" \
    -o capture.frames_per_iteration=1
} >"$WORK/loop.md"
"$ROOT/tools/bench/section.sh" "$OUT" loop <"$WORK/loop.md"
cat "$WORK/loop.md"
