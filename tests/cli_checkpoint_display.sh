#!/usr/bin/env bash
# The loop's state in presenter mode, under Xvfb: SIGTERM saves the state at exit, the
# next run resumes it, and a sticky backend fault (MNEMO_FAULT) saves the state and exits
# 75. Starts its own Xvfb; exits 77 (skipped) with the reason when there is no Xvfb or GL.
#   cli_checkpoint_display.sh MNEMO DATA
source "$(dirname "$0")/cli_lib.sh"

command -v Xvfb >/dev/null || { echo "skipped: no Xvfb (apt-get install xvfb)"; exit 77; }
for n in $(seq 0 20); do # a free display number
  d=$((100 + (RANDOM % 400)))
  [ -e "/tmp/.X11-unix/X$d" ] || [ -e "/tmp/.X$d-lock" ] || break
done
Xvfb ":$d" -screen 0 640x360x24 -nolisten tcp >"$TMP/xvfb.log" 2>&1 &
XVFB=$!
trap 'kill $XVFB 2>/dev/null; wait $XVFB 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$d" ] && break; sleep 0.1; done
[ -e "/tmp/.X11-unix/X$d" ] || { echo "skipped: Xvfb did not start: $(cat "$TMP/xvfb.log")"; exit 77; }
export DISPLAY=":$d"
# Mesa's GL driver is dlclose()d at exit: LeakSanitizer cannot blame its allocations (see
# present_display.sh); leaks are checked by the unit and headless tests.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

SMALL=(-o "loop.painter=$DATA/unet_bn.onnx" -o "loop.sketcher=$DATA/resnet_in_op13.onnx"
  -o loop.size=64 --backend cpu --windowed -o present.width=320 -o present.height=180
  -o loop.rate=20 -o kiosk.state_dir="$TMP/state" -o kiosk.checkpoint_s=0)

if ! MNEMO_PRESENT_EXIT_AFTER=2 timeout 60 "$MNEMO" run "${SMALL[@]}" >"$TMP/probe.log" 2>&1; then
  if grep -q "OpenGL\|GLEW\|no display" "$TMP/probe.log"; then
    echo "skipped: no usable GL under Xvfb: $(tail -n1 "$TMP/probe.log")"
    exit 77
  fi
fi
rm -rf "$TMP/state"

echo "== SIGTERM saves the state; the next run resumes it"
"$MNEMO" run "${SMALL[@]}" --stats "$TMP/t.jsonl" >"$TMP/t.log" 2>&1 &
pid=$!
for _ in $(seq 300); do
  n=$(grep -o '"iterations":[0-9]*' "$TMP/t.jsonl" 2>/dev/null | tail -n1 | cut -d: -f2)
  [ "${n:-0}" -ge 5 ] && break
  sleep 0.1
done
kill -TERM $pid
# A second SIGTERM while it shuts down (timeout(1) sends two, an impatient supervisor): the
# handler must still be there (signal() in strict C11 resets it after the first: killed,
# unsaved).
sleep 0.01
kill -TERM $pid 2>/dev/null
for _ in $(seq 300); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill -KILL $pid 2>/dev/null # hung: the test fails, the suite goes on
wait $pid
code=$?
saved=$(grep -o 'saved iteration [0-9]*' "$TMP/t.log" | cut -d' ' -f3)
echo "   exit $code, saved iteration ${saved:-none}"
[ "$code" -eq 0 ] && [ "${saved:-0}" -ge 5 ] && passed=$((passed + 1)) ||
  fail "SIGTERM: exit $code, saved '${saved:-}': $(cat "$TMP/t.log")"
MNEMO_PRESENT_EXIT_AFTER=5 timeout 60 "$MNEMO" run "${SMALL[@]}" >"$TMP/r.log" 2>&1
grep -q "resumed from $TMP/state/mnemo.state at iteration $saved " "$TMP/r.log" &&
  passed=$((passed + 1)) || fail "the next run did not resume at $saved: $(cat "$TMP/r.log")"

echo "== a sticky backend fault: the state is saved, exit 75"
rm -rf "$TMP/state"
MNEMO_FAULT=backend:sticky@9 timeout 60 "$MNEMO" run "${SMALL[@]}" >"$TMP/f.log" 2>&1
code=$?
echo "   exit $code"
[ "$code" -eq 75 ] && grep -q "saved iteration 4 to $TMP/state/mnemo.state" "$TMP/f.log" &&
  ! grep -q retrying "$TMP/f.log" && passed=$((passed + 1)) ||
  fail "sticky fault in the presenter: exit $code, want 75 and iteration 4 saved: $(cat "$TMP/f.log")"

finish
