#!/usr/bin/env bash
# Presenter benchmark (`make bench-present`): display frames per second and dropped
# frames of `mnemo run` full-screen under Xvfb (Mesa llvmpipe, no vsync: the presenter
# paces itself to present.fps), per upscaling filter, at 1280x720. Writes the "present"
# section of bench/RESULTS.md. Not a test. Uses build/mnemo as it is.
#
#   tools/bench/present.sh [--seconds N] [--out FILE]
#   env: MNEMO (build/mnemo), THREADS (2)
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MNEMO=${MNEMO:-$ROOT/build/mnemo}
THREADS=${THREADS:-2}
SECONDS_EACH=8
OUT="$ROOT/bench/RESULTS.md"
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "present.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$MNEMO" ] || { echo "present.sh: $MNEMO not built (make build)" >&2; exit 1; }
command -v Xvfb >/dev/null || { echo "present.sh: no Xvfb (tools/install-deps.sh)" >&2; exit 1; }
export OMP_NUM_THREADS=$THREADS
WORK=$(mktemp -d /tmp/mnemo-present-bench-XXXXXX)
d=$((500 + RANDOM % 400))
Xvfb ":$d" -screen 0 1280x720x24 -nolisten tcp >"$WORK/xvfb.log" 2>&1 &
XVFB=$!
trap 'kill $XVFB 2>/dev/null; wait $XVFB 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$d" ] && break; sleep 0.1; done
export DISPLAY=":$d"
DATA="$ROOT/tests/data"
MODELS=(-o "loop.painter=$DATA/unet_bn.onnx" -o "loop.sketcher=$DATA/resnet_in_op13.onnx"
  -o loop.size=64)

# row label args...: runs SECONDS_EACH s, then SIGTERM; fps = mean of the stats lines after
# the first two seconds; dropped per second from the final line.
row() {
  local label=$1
  shift
  "$MNEMO" run --fullscreen "${MODELS[@]}" --backend cpu --stats "$WORK/s.jsonl" "$@" \
    >"$WORK/log" 2>&1 &
  local pid=$!
  sleep "$SECONDS_EACH"
  kill -TERM $pid 2>/dev/null
  wait $pid
  local final fps dropped
  final=$(grep '"final":true' "$WORK/s.jsonl")
  if [ -z "$final" ]; then
    echo "| $label | n/a: $(tail -n1 "$WORK/log" | cut -c1-100) | | |"
    return
  fi
  fps=$(grep -v final "$WORK/s.jsonl" | sed 's/.*"t":\([0-9.]*\),.*"display_fps":\([0-9.]*\).*/\1 \2/' |
    awk '$1 > 2 { s += $2; n++ } END { if (n) printf "%.1f", s / n; else print "n/a" }')
  dropped=$(echo "$final" | sed 's/.*"t":\([0-9.]*\),.*"display_frames":\([0-9]*\),.*"dropped":\([0-9]*\).*/\3 \2 \1/' |
    awk '{ printf "%d of %d frames in %.1f s", $1, $2, $3 }')
  local rate
  rate=$(echo "$final" | sed 's/.*"t":\([0-9.]*\),"iterations":\([0-9]*\),.*/\2 \1/' | awk '{ printf "%.1f", $1 / $2 }')
  echo "| $label | $fps | $dropped | $rate |"
}

{
  echo "# Presenter benchmark: display frames per second under Xvfb"
  echo
  echo "Written by \`tools/bench/present.sh\`; do not edit by hand, run it again."
  echo
  echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores; load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit \`$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' + local changes')\`; $THREADS loop threads"
  echo "- Xvfb 1280x720x24, Mesa llvmpipe (software GL on the same CPU cores as the loop), no vsync: the presenter paces itself to present.fps; a frame later than 1.5 intervals counts as dropped"
  echo "- loop: test fixtures unet_bn + resnet_in at 64², loop.rate 8, cpu backend; ${SECONDS_EACH} s per row, fps averaged after the first 2 s"
  echo
  echo "| presenter settings | display fps | dropped | loop it/s |"
  echo "| --- | --- | --- | --- |"
  row "fullscreen 1280x720, catmull_rom (default), present.fps 60"
  row "fullscreen 1280x720, lanczos3, present.fps 60" -o present.filter=lanczos3
  row "fullscreen 1280x720, bilinear, present.fps 60" -o present.filter=bilinear
  row "fullscreen 1280x720, catmull_rom, side_by_side" -o present.layout=side_by_side
  row "window 640x360, catmull_rom, present.fps 60" --windowed -o present.width=640 -o present.height=360
} >"$WORK/present.md"
"$ROOT/tools/bench/section.sh" "$OUT" present <"$WORK/present.md"
cat "$WORK/present.md"
