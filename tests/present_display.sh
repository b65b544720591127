#!/usr/bin/env bash
# The presenter in a real window under Xvfb (Mesa llvmpipe): what is on screen is the
# loop's portrait, geometry (fit/fill/stretch, rotation, side by side) by reading pixels
# back, pacing with a slow loop (crossfade frames in between), shader fallbacks, no
# display, recreating the window, SIGTERM. Starts its own Xvfb; exits 77 (skipped) with the
# reason when there is no Xvfb or no GL. Test hooks: see runtime/piece/show.h.
#   present_display.sh MNEMO DATA
source "$(dirname "$0")/cli_lib.sh"
TOOL="$(dirname "$MNEMO")/tests/png_tool"
SRC="$(cd "$(dirname "$0")/.." && pwd)"

command -v Xvfb >/dev/null || { echo "skipped: no Xvfb (apt-get install xvfb)"; exit 77; }
for n in $(seq 0 20); do # a free display number
  d=$((100 + (RANDOM % 400)))
  [ -e "/tmp/.X11-unix/X$d" ] || [ -e "/tmp/.X$d-lock" ] || break
done
Xvfb ":$d" -screen 0 1280x720x24 -nolisten tcp >"$TMP/xvfb.log" 2>&1 &
XVFB=$!
trap 'kill $XVFB 2>/dev/null; wait $XVFB 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$d" ] && break; sleep 0.1; done
[ -e "/tmp/.X11-unix/X$d" ] || { echo "skipped: Xvfb did not start: $(cat "$TMP/xvfb.log")"; exit 77; }
export DISPLAY=":$d"
# Under SANITIZE=1: Mesa's GL driver is dlclose()d at exit, so LeakSanitizer sees its
# allocations with no module to blame ("<unknown module>") and fails every GL run. Our
# own allocations are leak-checked by the unit tests (test_present covers the loop thread)
# and the headless tests; here leaks are not checked.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

SMALL=(-o "loop.painter=$DATA/unet_bn.onnx" -o "loop.sketcher=$DATA/resnet_in_op13.onnx"
  -o loop.size=64 --backend cpu --windowed -o present.width=320 -o present.height=180)
EXACT=(-o present.grain=0 -o present.vignette=0 -o present.interpolate=cut)

# present N SNAP args...: N frames, snapshot to SNAP, log in $TMP/log
present() {
  local n=$1 snap=$2
  shift 2
  MNEMO_PRESENT_EXIT_AFTER=$n MNEMO_PRESENT_SNAPSHOT=$snap timeout 60 "$MNEMO" run "${SMALL[@]}" \
    "$@" >"$TMP/log" 2>&1
}

if ! MNEMO_PRESENT_PATTERN=1 present 2 "$TMP/probe.png"; then
  if grep -q "OpenGL\|GLEW\|no display" "$TMP/log"; then
    echo "skipped: no usable GL under Xvfb: $(tail -n1 "$TMP/log")"
    exit 77
  fi
fi

# close A B MAXDIFF: every channel of pixel colour "r g b" A within MAXDIFF of B
close() {
  local -a a=($1) b=($2)
  for i in 0 1 2; do
    local d=$((a[i] - b[i]))
    [ ${d#-} -le "$3" ] || return 1
  done
}

# probe SNAP X Y "R G B" what: the pixel is that colour (within 10)
probe() {
  local got
  got=$("$TOOL" pixel "$1" "$2" "$3")
  if close "$got" "$4" 10; then
    passed=$((passed + 1))
  else
    fail "$5: pixel $2,$3 of $1 is ($got), want ($4)"
  fi
}

# le A B: A <= B for decimals
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

echo "== the screen shows the loop's portrait"
if present 20 "$TMP/p.png" "${EXACT[@]}"; then
  read -r mean sd < <("$TOOL" stats "$TMP/p.png")
  read -r dmean dmax < <("$TOOL" diff "$TMP/p.png" "$TMP/p.png.ref.png")
  echo "   screen mean $mean sd $sd; vs the CPU-scaled portrait: mean diff $dmean, max $dmax"
  le 5 "$sd" || fail "the screen is flat (sd $sd): not the portrait"
  le "$dmean" 2.5 && passed=$((passed + 1)) ||
    fail "screen differs from the loop's portrait scaled on the CPU by $dmean on average"
else
  fail "windowed run failed: $(tail -n3 "$TMP/log")"
fi

# The test hooks' last frame is never the black before the first portrait: at loop.size 512
# the first iteration takes far longer than one frame, so frame 1 would be black.
if present 1 "$TMP/first.png" "${EXACT[@]}" -o loop.size=512; then
  read -r _ sd < <("$TOOL" stats "$TMP/first.png")
  le 5 "$sd" && passed=$((passed + 1)) ||
    fail "EXIT_AFTER=1 snapped the black before the first portrait (sd $sd)"
else
  fail "windowed run at loop.size 512 failed: $(tail -n3 "$TMP/log")"
fi

echo "== geometry: fit, fill, stretch, rotation, side by side (test card)"
R="255 0 0" G="0 255 0" B="0 0 255" W="255 255 255" K="0 0 0"
export MNEMO_PRESENT_PATTERN=1
present 3 "$TMP/fit.png" "${EXACT[@]}" || fail "fit run: $(tail -n2 "$TMP/log")"
probe "$TMP/fit.png" 110 45 "$R" "fit TL"
probe "$TMP/fit.png" 210 45 "$G" "fit TR"
probe "$TMP/fit.png" 110 135 "$B" "fit BL"
probe "$TMP/fit.png" 210 135 "$W" "fit BR"
probe "$TMP/fit.png" 30 90 "$K" "fit left bar"
probe "$TMP/fit.png" 290 90 "$K" "fit right bar"
present 3 "$TMP/rot.png" "${EXACT[@]}" -o present.rotate=90 || fail "rotate run"
probe "$TMP/rot.png" 110 45 "$B" "rotate 90: screen TL shows the picture's BL"
probe "$TMP/rot.png" 210 45 "$R" "rotate 90: screen TR shows the picture's TL"
probe "$TMP/rot.png" 210 135 "$G" "rotate 90: screen BR shows the picture's TR"
present 3 "$TMP/r180.png" "${EXACT[@]}" -o present.rotate=180 || fail "rotate 180 run"
probe "$TMP/r180.png" 110 45 "$W" "rotate 180: TL shows BR"
present 3 "$TMP/fill.png" "${EXACT[@]}" -o present.fit=fill || fail "fill run"
probe "$TMP/fill.png" 10 40 "$R" "fill covers the left edge"
probe "$TMP/fill.png" 310 140 "$W" "fill covers the right edge"
present 3 "$TMP/stretch.png" "${EXACT[@]}" -o present.fit=stretch || fail "stretch run"
probe "$TMP/stretch.png" 10 10 "$R" "stretch TL corner"
probe "$TMP/stretch.png" 310 170 "$W" "stretch BR corner"
present 3 "$TMP/sbs.png" "${EXACT[@]}" -o present.layout=side_by_side || fail "side by side run"
probe "$TMP/sbs.png" 40 50 "$R" "side by side: portrait on the left"
probe "$TMP/sbs.png" 200 50 "$W" "side by side: sketch (grey) on the right"
probe "$TMP/sbs.png" 280 50 "$K" "side by side: sketch's dark quadrant"
present 3 "$TMP/full.png" "${EXACT[@]}" --fullscreen || fail "fullscreen run"
read -r fw fh _ < <("$(dirname "$MNEMO")/tests/png_info" "$TMP/full.png")
[ "$fw x $fh" = "1280 x 720" ] && passed=$((passed + 1)) ||
  fail "fullscreen window is ${fw}x$fh, want the display's 1280x720"
unset MNEMO_PRESENT_PATTERN

echo "== pacing: loop at 2 it/s, presenter at 30 fps, crossfade frames in between"
if MNEMO_PRESENT_SNAPSHOT_MID=1 present 30 "$TMP/mid.png" -o present.grain=0 -o present.vignette=0 \
  -o loop.rate=2 -o present.fps=30 --stats "$TMP/mid.jsonl"; then
  t=$(sed 's/.*t=\([0-9.]*\).*/\1/' "$TMP/mid.png.txt")
  read -r d_ref _ < <("$TOOL" diff "$TMP/mid.png" "$TMP/mid.png.ref.png")
  read -r d_from _ < <("$TOOL" diff "$TMP/mid.png" "$TMP/mid.png.from.png")
  read -r d_to _ < <("$TOOL" diff "$TMP/mid.png" "$TMP/mid.png.to.png")
  echo "   t=$t; screen vs mix(t) $d_ref, vs from $d_from, vs to $d_to; $(cat "$TMP/mid.png.txt")"
  le 0.3 "$t" && le "$t" 0.7 || fail "snapshot not half way through a crossfade (t=$t)"
  le "$d_ref" 2.5 || fail "the crossfade frame is not mix(from, to, t): mean diff $d_ref"
  awk -v r="$d_ref" -v f="$d_from" -v o="$d_to" 'BEGIN { exit !(f > r && o > r) }' &&
    passed=$((passed + 1)) || fail "the frame is not between the two portraits ($d_from, $d_to vs $d_ref)"
  # rates over the whole run, from the final stats line (startup included: conservative)
  final=$(grep '"final":true' "$TMP/mid.jsonl")
  rates=$(echo "$final" | sed 's/.*"t":\([0-9.]*\),"iterations":\([0-9]*\),.*"display_frames":\([0-9]*\),.*/\1 \2 \3/' |
    awk '{ printf "%.1f %.2f", $3 / $1, $2 / $1 }')
  read -r dfps itps <<<"$rates"
  echo "   display $dfps fps, loop $itps it/s over the run"
  # behaviour, not speed: many frames per iteration (30 fps over 2 it/s would be 15; a
  # presenter that waited for the loop would show about 1), and the loop kept its rate
  awk -v d="$dfps" -v i="$itps" 'BEGIN { exit !(d >= 4 * i) }' && le "$itps" 2.5 &&
    passed=$((passed + 1)) || fail "presenter did not keep presenting with a slow loop: $final"
else
  fail "pacing run failed: $(tail -n3 "$TMP/log")"
fi

echo "== keyboard: HUD, tuning through the registry, quit only when allowed"
rate_param=$(sed -n 's/.*selected=\(loop\.rate\)=.*/\1/p' "$TMP/p.png.txt")
[ "$rate_param" = loop.rate ] || fail "first tunable parameter is not loop.rate: $(cat "$TMP/p.png.txt")"
if MNEMO_PRESENT_KEYS="h,=,=,Down,Up,-" present 5 "$TMP/keys.png" "${EXACT[@]}"; then
  grep -q "selected=loop.rate=10.4" "$TMP/keys.png.txt" && passed=$((passed + 1)) ||
    fail "h, +, +, down, up, - should leave loop.rate at 8 + 2.4 + 2.4 - 2.4 = 10.4: $(cat "$TMP/keys.png.txt")"
else
  fail "keys run: $(tail -n3 "$TMP/log")"
fi
MNEMO_PRESENT_KEYS="q,Escape" present 5 "$TMP/kq.png" -o present.allow_quit=false &&
  [ -e "$TMP/kq.png.txt" ] && passed=$((passed + 1)) || fail "q / Esc quit although present.allow_quit=false"
rm -f "$TMP/kq.png.txt"
MNEMO_PRESENT_KEYS="q" present 50 "$TMP/kq.png" && [ ! -e "$TMP/kq.png.txt" ] &&
  passed=$((passed + 1)) || fail "q did not quit with present.allow_quit=true"

# Shift+1 stores the live values as preset "1" (through the control, which --config starts).
printf 'loop = { rate = 8.0; };\n' >"$TMP/k.cfg"
MNEMO_PRESENT_KEYS="Shift+1" present 30 "$TMP/ps.png" --config "$TMP/k.cfg" \
  -o control.presets="$TMP/presets"
grep -q "rate" "$TMP/presets/1.cfg" 2>/dev/null && passed=$((passed + 1)) ||
  fail "Shift+1 did not store preset 1: $(ls "$TMP/presets" 2>&1; tail -n2 "$TMP/log")"

echo "== shaders: missing file, broken file"
mkdir -p "$TMP/sh" && cp "$SRC"/shaders/* "$TMP/sh/" && rm "$TMP/sh/present.frag"
if present 3 "$TMP/miss.png" -o present.shaders="$TMP/sh"; then
  grep -q "present.frag: cannot read it.*using the built-in present.frag" "$TMP/log" &&
    passed=$((passed + 1)) || fail "no fallback message for a missing shader: $(cat "$TMP/log")"
else
  fail "a missing shader stopped the presenter: $(tail -n3 "$TMP/log")"
fi
sed '12s/.*/    this is not glsl;/' "$SRC/shaders/present.frag" >"$TMP/sh/present.frag"
if present 3 "$TMP/broken.png" -o present.shaders="$TMP/sh"; then
  grep -q "$TMP/sh/present.frag:12: " "$TMP/log" && grep -q "using the built-in present.frag" "$TMP/log" &&
    [ "$(grep -c 'does not compile' "$TMP/log")" -eq 1 ] && passed=$((passed + 1)) ||
    fail "broken shader: want one report naming present.frag:12: $(cat "$TMP/log")"
  read -r _ sd < <("$TOOL" stats "$TMP/broken.png")
  le 5 "$sd" || fail "with the built-in shader the screen is flat (sd $sd)"
else
  fail "a broken shader stopped the presenter: $(tail -n3 "$TMP/log")"
fi

echo "== no display"
(unset DISPLAY WAYLAND_DISPLAY; expect_fail 1 "--headless" "$MNEMO" run "${SMALL[@]}")

echo "== several screens: a view list longer than the displays there are"
expect_fail 1 "present.display 1: this machine has 1 display(s)" "$MNEMO" run "${SMALL[@]}" \
  -o present.displays=portrait,sketch
if present 20 "$TMP/one.png" "${EXACT[@]}" -o present.displays=sketch; then
  read -r _ sd < <("$TOOL" stats "$TMP/one.png")
  le 5 "$sd" && passed=$((passed + 1)) || fail "present.displays=sketch shows a flat screen"
else
  fail "present.displays=sketch: $(tail -n3 "$TMP/log")"
fi

echo "== window and GL recreated (as after a display loss), then presenting on"
if MNEMO_PRESENT_RECREATE_AT=5 present 15 "$TMP/re.png" "${EXACT[@]}"; then
  read -r _ sd < <("$TOOL" stats "$TMP/re.png")
  grep -q "recreated" "$TMP/log" && le 5 "$sd" && passed=$((passed + 1)) ||
    fail "after recreating: sd $sd, log: $(cat "$TMP/log")"
else
  fail "recreate run failed: $(tail -n3 "$TMP/log")"
fi

echo "== headless capture through the same shaders (capture.renderer=gl, no DISPLAY)"
LOOK=(-o present.grain=0 -o present.vignette=0.3 -o present.contrast=1.2 -o present.saturation=0.8
  -o present.interpolate=cut)
CAP=(-o "loop.painter=$DATA/unet_bn.onnx" -o "loop.sketcher=$DATA/resnet_in_op13.onnx" -o loop.size=64
  --backend cpu --headless -o capture.width=320 -o capture.height=180 -o capture.frames_per_iteration=1)
MNEMO_PRESENT_PATTERN=1 present 3 "$TMP/look.png" "${LOOK[@]}" || fail "windowed look run"
if (unset DISPLAY; MNEMO_PRESENT_PATTERN=1 timeout 60 "$MNEMO" run "${CAP[@]}" "${LOOK[@]}" \
  -o capture.renderer=gl --frames 1 --out "$TMP/glcap" >"$TMP/log" 2>&1); then
  read -r dmean dmax < <("$TOOL" diff "$TMP/look.png" "$TMP/glcap/frame_000001.png")
  echo "   offscreen capture vs windowed readback: mean diff $dmean, max $dmax"
  [ "$dmax" -le 1 ] && passed=$((passed + 1)) ||
    fail "offscreen capture differs from the screen by up to $dmax/255"
else
  fail "offscreen capture failed: $(tail -n3 "$TMP/log")"
fi
(unset DISPLAY
  timeout 60 "$MNEMO" run "${CAP[@]}" "${EXACT[@]}" -o capture.renderer=gl --frames 3 --out "$TMP/g" &&
  timeout 60 "$MNEMO" run "${CAP[@]}" --frames 3 --out "$TMP/c") >"$TMP/log" 2>&1 ||
  fail "gl / cpu captures: $(tail -n3 "$TMP/log")"
read -r dmean dmax < <("$TOOL" diff "$TMP/g/frame_000003.png" "$TMP/c/frame_000003.png")
echo "   gl capture vs cpu capture of the same iteration: mean diff $dmean, max $dmax"
le "$dmean" 2.5 && passed=$((passed + 1)) || fail "gl and cpu captures differ by $dmean on average"

echo "== SIGTERM ends it cleanly within 2 s"
"$MNEMO" run "${SMALL[@]}" --stats "$TMP/term.jsonl" >"$TMP/term.log" 2>&1 & # as systemd would
pid=$!
(sleep 60 && kill -KILL $pid 2>/dev/null) & # a hung presenter must not hang the suite
guard=$!
for _ in $(seq 300); do grep -q display_frames "$TMP/term.jsonl" 2>/dev/null && break; sleep 0.1; done
grep -q display_frames "$TMP/term.jsonl" 2>/dev/null || fail "no stats line after 30 s: $(cat "$TMP/term.log")"
kill -TERM $pid
t0=$(date +%s.%N)
wait $pid
code=$?
kill $guard 2>/dev/null
dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
echo "   exit $code after ${dt}s"
[ $code -eq 0 ] && le "$dt" 2 && grep -q '"final":true' "$TMP/term.jsonl" && passed=$((passed + 1)) ||
  fail "SIGTERM: exit $code after ${dt}s: $(cat "$TMP/term.log")"

finish
