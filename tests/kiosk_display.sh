#!/usr/bin/env bash
# The kiosk's presenter half under Xvfb (issue 8): READY only once a portrait is on screen,
# a frozen presenter stops the watchdog pings, and under --supervise the display going away
# (X server killed) and coming back: the piece is restarted, waits for the display, and
# runs again. Starts its own Xvfb; exits 77 (skipped) with the reason when there is none.
#   kiosk_display.sh MNEMO DATA
source "$(dirname "$0")/cli_lib.sh"
LISTEN="$(dirname "$MNEMO")/tests/notify_listen"

source "$(dirname "$0")/xvfb_lib.sh"
xvfb_open 640x360

SMALL=(-o "loop.painter=$DATA/unet_bn.onnx" -o "loop.sketcher=$DATA/resnet_in_op13.onnx"
  -o loop.size=64 --backend cpu --windowed -o present.width=320 -o present.height=180
  -o loop.rate=10)

if ! MNEMO_PRESENT_EXIT_AFTER=2 timeout 60 "$MNEMO" run "${SMALL[@]}" >"$TMP/probe" 2>&1; then
  echo "skipped: no usable GL under Xvfb: $(tail -n1 "$TMP/probe")"
  exit 77
fi

# ---- READY after the first portrait; a frozen presenter stops the pings ------------------
"$LISTEN" "$TMP/n1" 120 >"$TMP/n1.log" &
listener=$!
sleep 0.2
NOTIFY_SOCKET="$TMP/n1" WATCHDOG_USEC=2000000 MNEMO_TEST_FREEZE=presenter@40 \
  "$MNEMO" run "${SMALL[@]}" 2>"$TMP/p1.err" &
piece=$!
wait_for "$TMP/n1.log" 'READY=1' 60 || fail "no READY from the presenter: $(cat "$TMP/p1.err")"
grep -q 'fps' "$TMP/n1.log" || wait_for "$TMP/n1.log" 'STATUS=.*fps' 10 || fail "STATUS without fps"
wait_for "$TMP/p1.err" 'hangs here for good' 60 || fail "the presenter never froze"
sleep 3 # a full interval past the freeze (a slow frame on a loaded machine may pause pings too)
grep -q 'the presenter has made no progress' "$TMP/p1.err" ||
  fail "a frozen presenter was not noticed: $(cat "$TMP/p1.err")"
before=$(grep -c 'WATCHDOG=1' "$TMP/n1.log")
sleep 3
after=$(grep -c 'WATCHDOG=1' "$TMP/n1.log")
[ "$before" -ge 1 ] || fail "no ping before the freeze"
[ "$after" -eq "$before" ] || fail "pings went on while the presenter was frozen ($before, $after)"
kill -9 "$piece" 2>/dev/null; wait "$piece" 2>/dev/null
kill "$listener"; wait "$listener"
passed=$((passed + 1))

# ---- the display goes away and comes back under --supervise --------------------------------
"$MNEMO" run --supervise --watchdog 5 "${SMALL[@]}" 2>"$TMP/s.err" &
sup=$!
wait_for "$TMP/s.err" 'the piece is running' 60 || fail "supervised presenter not ready: $(cat "$TMP/s.err")"
kill "$XVFB"; wait "$XVFB" 2>/dev/null
wait_for "$TMP/s.err" 'restart 1 in' 20 || fail "losing the display did not restart the piece: $(cat "$TMP/s.err")"
wait_for "$TMP/s.err" 'waiting for one' 20 || fail "the restarted piece did not wait for a display: $(cat "$TMP/s.err")"
kill -0 "$sup" 2>/dev/null || fail "the supervisor gave up without a display"
xvfb_start || fail "Xvfb did not come back"
wait_for "$TMP/s.err" 'a display is here now' 20 || fail "the display coming back was not seen: $(cat "$TMP/s.err")"
for ((i = 0; i < 300; i++)); do
  [ "$(grep -c 'the piece is running' "$TMP/s.err")" -ge 2 ] && break
  sleep 0.1
done
[ "$(grep -c 'the piece is running' "$TMP/s.err")" -ge 2 ] || fail "the piece did not run again: $(cat "$TMP/s.err")"
kill -TERM "$sup"; wait "$sup" || fail "supervisor exit $? on SIGTERM"
passed=$((passed + 1))

finish
