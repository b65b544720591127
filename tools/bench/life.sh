#!/usr/bin/env bash
# The life of the loop (not a timed test): runs `mnemo run --headless` for N iterations with
# one frame per iteration recorded (side_by_side 512x256, lossless ffv1), then
# tools/bench/life.py measures it: share of frames with a face, identity stretches (people
# per hour, longest stretch, returns), reseeds and guard events per 1,000 iterations,
# stall and repeat shares, colour drift; and writes contact sheets (every 50th iteration;
# the first 300, every 2nd). What the measures are and what fools them: life.py's
# docstring and bench/RESULTS.md ("life of the loop").
#
#   tools/bench/life.sh [--iterations N] [--seed S] [--painter M.onnx] [--sketcher M.onnx]
#                       [--config F] [--out DIR] [--label NAME] [-o name=value]...
#   env: MNEMO (build/mnemo), THREADS (1), PY (/usr/bin/python3)
# The default config (configs/default.cfg) unless --config, loop.rate 0 (as fast as it goes;
# per-hour figures assume the piece's loop.rate 8). The first run calibrates the identity
# and face measures on ../shared/data/portraits (cached in /work/train-runs/life; the
# portraits are read from there, never copied into the repository).
set -uo pipefail
# The whole script is one function, read before it runs: a long run survives edits to this file.
main() {

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MNEMO=${MNEMO:-$ROOT/build/mnemo}
THREADS=${THREADS:-1}
PY=${PY:-/usr/bin/python3}
ITERATIONS=10000
SEED=5
PAINTER=$ROOT/models/painter-small.onnx
SKETCHER=$ROOT/models/sketcher-small.onnx
CONFIG=$ROOT/configs/default.cfg
OUT=
LABEL=
CACHE=${LIFE_CACHE:-/work/train-runs/life}
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --iterations) ITERATIONS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --painter) PAINTER=$(realpath "$2"); shift 2 ;;
    --sketcher) SKETCHER=$(realpath "$2"); shift 2 ;;
    --config) CONFIG=$(realpath "$2"); shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --label) LABEL=$2; shift 2 ;;
    -o) extra+=(-o "$2"); shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "life.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$MNEMO" ] || { echo "life.sh: $MNEMO not built (make build)" >&2; exit 1; }
OUT=${OUT:-/work/train-runs/life-runs/$(basename "$PAINTER" .onnx)-seed$SEED-$ITERATIONS}
LABEL=${LABEL:-$(basename "$PAINTER" .onnx) + $(basename "$SKETCHER" .onnx), seed $SEED}
mkdir -p "$OUT"
export OMP_NUM_THREADS=$THREADS
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

# The face measure's melted set: the first default models (git history, before the
# loop-trained pair), run with the guard and the memory off, melt into scribble strips
# within ~100 iterations; their recordings are what a face measure must not pass.
MELT_REV=c8e15d7
record_melts() {
  local dir=$CACHE/melted
  mkdir -p "$dir"
  git -C "$ROOT" show "$MELT_REV:models/painter-small.onnx" > "$dir/painter.onnx" &&
    git -C "$ROOT" show "$MELT_REV:models/sketcher-small.onnx" > "$dir/sketcher.onnx" ||
    { echo "life.sh: no git history here ($MELT_REV): calibrating without the melted set"; return; }
  for s in 1 2 3; do
    "$MNEMO" run --config "$ROOT/configs/default.cfg" --seed $s -o loop.rate=0 \
      -o loop.painter="$dir/painter.onnx" -o loop.sketcher="$dir/sketcher.onnx" \
      -o guard.enabled=false -o memory.anchor=0 -o loop.seed_source=procedural \
      -o capture.codec=ffv1 -o capture.frames_per_iteration=1 -o capture.stream=side_by_side \
      -o capture.width=512 -o capture.height=256 --headless --frames 400 \
      --out "$dir/melt$s.mkv" > "$dir/melt$s.log" 2>&1 || { cat "$dir/melt$s.log"; exit 1; }
  done
}

if [ ! -f "$CACHE/life-space.npz" ] || [ ! -f "$CACHE/life-face.json" ]; then
  echo "life.sh: calibrating the measures on the portraits (once) -> $CACHE"
  mkdir -p "$CACHE"
  record_melts
  "$PY" "$ROOT/tools/bench/life.py" calibrate --cache "$CACHE" --painter "$PAINTER" \
    --mnemo "$MNEMO" --melted "$CACHE"/melted/melt*.mkv > "$CACHE.calibrate.log" 2>&1 ||
    { cat "$CACHE.calibrate.log"; exit 1; }
fi

echo "life.sh: $LABEL: $ITERATIONS iterations -> $OUT"
start=$(date +%s)
"$MNEMO" run --config "$CONFIG" --seed "$SEED" \
  -o loop.rate=0 -o loop.painter="$PAINTER" -o loop.sketcher="$SKETCHER" \
  -o capture.codec=ffv1 -o capture.frames_per_iteration=1 -o capture.stream=side_by_side \
  -o capture.width=512 -o capture.height=256 "${extra[@]}" \
  --headless --frames "$ITERATIONS" --out "$OUT/run.mkv" --stats "$OUT/stats.jsonl" \
  > "$OUT/mnemo.log" 2>&1 || { echo "life.sh: mnemo failed:"; tail -5 "$OUT/mnemo.log"; exit 1; }
echo "life.sh: recorded in $(( $(date +%s) - start )) s; measuring"
"$PY" "$ROOT/tools/bench/life.py" measure --cache "$CACHE" --video "$OUT/run.mkv" \
  --stats "$OUT/stats.jsonl" --out "$OUT" --label "$LABEL" || exit 1
echo "life.sh: $OUT/life.json, $OUT/sheet_every50.png, $OUT/sheet_first300.png"
}
main "$@"
