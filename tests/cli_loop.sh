#!/usr/bin/env bash
# The piece headless through the binary: frames, determinism, the guard, video, bad input.
# Models are the 64x64 fixtures (random weights: the pictures mean nothing, the loop's
# mechanics do). Usage: cli_loop.sh MNEMO DATA
source "$(dirname "$0")/cli_lib.sh"
M=$MNEMO
PNG_INFO="$(dirname "$M")/tests/png_info"
SMALL=(-o loop.painter="$DATA/unet_bn.onnx" -o loop.sketcher="$DATA/resnet_in_op13.onnx"
       -o loop.size=64 -o capture.width=64 -o capture.height=64
       -o capture.frames_per_iteration=1)

# ---- 300 iterations: 300 valid, non-constant frames; same seed = same files -------------
expect_ok "$M" run --headless --frames 300 --out "$TMP/a" --seed 7 "${SMALL[@]}"
count=$(ls "$TMP/a" | grep -c '^frame_[0-9]\{6\}\.png$')
[ "$count" -eq 300 ] || fail "300 frames wanted, $count written"
[ -f "$TMP/a/frame_000300.png" ] || fail "frame_000300.png missing"
"$PNG_INFO" "$TMP"/a/frame_*.png >"$TMP/info" || fail "a frame does not decode"
flat=$(awk '$3 == $4' "$TMP/info" | wc -l)
[ "$flat" -eq 0 ] || fail "$flat frames are a single colour"
sizes=$(awk '{print $1 "x" $2}' "$TMP/info" | sort -u)
[ "$sizes" = "64x64" ] || fail "frame sizes: $sizes"
cmp -s "$TMP/a/frame_000001.png" "$TMP/a/frame_000300.png" && fail "the stream stood still"
passed=$((passed + 1))

expect_ok "$M" run --headless --frames 300 --out "$TMP/b" --seed 7 "${SMALL[@]}"
diff -r "$TMP/a" "$TMP/b" >/dev/null && passed=$((passed + 1)) ||
  fail "the same seed gave different frames (cpu)"
expect_ok "$M" run --headless --frames 300 --out "$TMP/c" --seed 8 "${SMALL[@]}"
same=0
for f in 001 100 200 300; do
  cmp -s "$TMP/a/frame_000$f.png" "$TMP/c/frame_000$f.png" && same=$((same + 1))
done
[ "$same" -eq 0 ] && passed=$((passed + 1)) || fail "seed 8 repeated $same frames of seed 7"

# ref: deterministic too (shorter: it is slow on purpose).
expect_ok "$M" run --headless --frames 20 --out "$TMP/r1" --seed 7 --backend ref "${SMALL[@]}"
expect_ok "$M" run --headless --frames 20 --out "$TMP/r2" --seed 7 --backend ref "${SMALL[@]}"
diff -r "$TMP/r1" "$TMP/r2" >/dev/null && passed=$((passed + 1)) ||
  fail "the same seed gave different frames (ref)"

# ---- crossfade: frames_per_iteration frames per iteration, iterations in --stats ---------
expect_ok "$M" run --headless --frames 12 --out "$TMP/x" "${SMALL[@]}" \
  -o capture.frames_per_iteration=4 --stats "$TMP/x.jsonl"
grep -q '"final":true' "$TMP/x.jsonl" && grep '"final":true' "$TMP/x.jsonl" |
  grep -q '"iterations":3,' && passed=$((passed + 1)) ||
  fail "12 frames at 4 per iteration should take 3 iterations: $(cat "$TMP/x.jsonl")"

# ---- pacing: loop.rate caps iterations per second (6 iterations at 10/s: 5 waits) -------
expect_ok "$M" run --headless --iterations 6 "${SMALL[@]}" -o loop.rate=10 --stats "$TMP/p.jsonl"
t=$(grep '"final":true' "$TMP/p.jsonl" | sed 's/.*"t":\([0-9.]*\).*/\1/')
awk -v t="$t" 'BEGIN { exit !(t >= 0.45) }' && passed=$((passed + 1)) ||
  fail "6 iterations at loop.rate=10 took $t s, want >= 0.5"

# ---- the guard: a sketcher that returns blank paper; a painter that returns noise -------
stat_of() { # file key -> the final line's value of "key"
  grep '"final":true' "$1" | grep -o "\"$2\":[0-9]*" | head -n1 | cut -d: -f2
}
GUARD_SMALL=("${SMALL[@]}" -o loop.sketcher="$DATA/bad/const_sketcher.onnx")
expect_ok "$M" run --headless --frames 200 --out "$TMP/g1" "${GUARD_SMALL[@]}" \
  --stats "$TMP/g1.jsonl"
inkless=$(stat_of "$TMP/g1.jsonl" inkless)
reseeds=$(stat_of "$TMP/g1.jsonl" reseeds)
[ "${inkless:-0}" -gt 0 ] && [ "${reseeds:-0}" -gt 0 ] && passed=$((passed + 1)) ||
  fail "blank sketcher: inkless=$inkless reseeds=$reseeds: $(tail -n1 "$TMP/g1.jsonl")"
cmp -s "$TMP/g1/frame_000100.png" "$TMP/g1/frame_000200.png" &&
  fail "blank sketcher: the stream froze" || passed=$((passed + 1))
# No perturbation, no ink, shape, explosion or repeat check (the random-weight painter looks like
# noise to the guard): the portrait stands exactly still and the stall fires.
expect_ok "$M" run --headless --frames 200 --out "$TMP/g2" "${GUARD_SMALL[@]}" \
  -o perturb.noise=0 -o perturb.zoom=0 -o perturb.rotate=0 -o perturb.drift=0 \
  -o perturb.erase_count=0 -o guard.ink_min=0 -o guard.explode_level=4 -o guard.repeat_bits=0 \
  -o guard.shape_min=0 -o guard.spread_min=0 \
  --stats "$TMP/g2.jsonl"
stalls=$(stat_of "$TMP/g2.jsonl" stall)
[ "${stalls:-0}" -gt 0 ] && passed=$((passed + 1)) ||
  fail "still stream: no stall counted: $(tail -n1 "$TMP/g2.jsonl")"
expect_ok "$M" run --headless --frames 100 --out "$TMP/g3" "${SMALL[@]}" \
  -o loop.painter="$DATA/bad/noise_painter.onnx" --stats "$TMP/g3.jsonl"
explode=$(stat_of "$TMP/g3.jsonl" explode)
[ "${explode:-0}" -gt 0 ] && passed=$((passed + 1)) ||
  fail "noise painter: no explosion counted: $(tail -n1 "$TMP/g3.jsonl")"
# A painter that returns NaN where its input is ink: said once, with the model and the share,
# counted in --stats, and the guard reseeds (the NaN itself never reaches the picture).
expect_ok "$M" run --headless --iterations 40 "${SMALL[@]}" \
  -o loop.painter="$DATA/bad/nan_painter.onnx" --stats "$TMP/nan.jsonl"
said=$(grep -c 'painter .*nan_painter.onnx: [0-9.]*% of its output is not a number' "$TMP/err")
nonfinite=$(stat_of "$TMP/nan.jsonl" nonfinite)
reseeds=$(stat_of "$TMP/nan.jsonl" reseeds)
[ "$said" = 1 ] && [ "${nonfinite:-0}" -gt 0 ] && [ "${reseeds:-0}" -gt 0 ] &&
  passed=$((passed + 1)) ||
  fail "NaN painter: said $said times, nonfinite=$nonfinite reseeds=$reseeds: $(cat "$TMP/err")"

# ---- video: exactly N frames --------------------------------------------------------------
if command -v ffprobe >/dev/null && command -v ffmpeg >/dev/null; then
  expect_ok "$M" run --headless --frames 50 --out "$TMP/v.mp4" "${SMALL[@]}"
  n=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
        -of csv=p=0 "$TMP/v.mp4")
  [ "$n" = "50" ] && passed=$((passed + 1)) || fail "v.mp4 has $n frames, want 50"
else
  echo "skip: video check (ffmpeg/ffprobe not installed)"
fi

# ---- bad input: one clear line, exit 1 (work failed) or 2 (command line) ------------------
expect_fail 1 "no_such.onnx" "$M" run --headless --frames 3 --out "$TMP/e1" "${SMALL[@]}" \
  -o loop.painter="$DATA/no_such.onnx"
expect_fail 1 "chain_b_mismatch.onnx" "$M" run --headless --frames 3 --out "$TMP/e2" \
  "${SMALL[@]}" -o loop.sketcher="$DATA/chain_b_mismatch.onnx"
printf 'loop = {\n  rate = 500.0;\n};\n' >"$TMP/bad.cfg"
expect_fail 1 "bad.cfg:2" "$M" run --config "$TMP/bad.cfg" --headless --frames 3 --out "$TMP/e3"
expect_fail 1 "bad.cfg:2" "$M" check "$TMP/bad.cfg"
expect_fail 2 "loop.rat" "$M" run --headless --frames 3 --out "$TMP/e4" -o loop.rat=5
expect_fail 2 "out of range" "$M" run --headless --frames 3 --out "$TMP/e5" -o perturb.noise=7
expect_fail 2 "--frames" "$M" run --headless --out "$TMP/e6"
expect_fail 2 "--headless" "$M" run --frames 3 --out "$TMP/e7"
expect_fail 74 "/proc/mnemo" "$M" run --headless --frames 3 --out /proc/mnemo "${SMALL[@]}"
[ -e "$TMP/e1" ] && fail "a failed run left $TMP/e1 behind" || passed=$((passed + 1))
# A full disk after 5 frames: an error naming the frame, exit 74, frames 1-5 whole, nothing
# after.
MNEMO_FAULT_DISK_FULL_AFTER=5 expect_fail 74 "No space left" \
  "$M" run --headless --frames 10 --out "$TMP/full" "${SMALL[@]}"
"$PNG_INFO" "$TMP"/full/frame_00000[1-5].png >/dev/null && [ ! -e "$TMP/full/frame_000006.png" ] &&
  [ "$(ls -A "$TMP/full" | wc -l)" -eq 5 ] && passed=$((passed + 1)) ||
  fail "disk full: want frames 1-5 whole and nothing else: $(ls -A "$TMP/full")"

# ---- params / check -----------------------------------------------------------------------
expect_ok "$M" params
grep -q '^loop.rate ' "$TMP/out" || fail "mnemo params does not list loop.rate"
expect_ok "$M" params --config
cmp -s "$TMP/out" "$(dirname "$0")/../configs/default.cfg" && passed=$((passed + 1)) ||
  fail "configs/default.cfg differs from 'mnemo params --config' (regenerate it)"
expect_ok "$M" check "$(dirname "$0")/../configs/default.cfg"

finish
