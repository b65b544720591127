#!/usr/bin/env bash
# Opening hours (kiosk.hours) on a real window under Xvfb, with the test clock
# (MNEMO_TEST_TIME=<epoch>x<speed>, runtime/params/schedule.h) set just before closing time: the
# screen goes black, the loop's iterations (--stats) stand still while closed and resume
# after opening, the closed presenter runs slowly; kiosk.closed = dpms falls back to black
# where the X server has no DPMS (Xvfb); a config reload changes the hours live; under a
# supervisor (fake NOTIFY_SOCKET) closed hours are READY and keep the watchdog pinging.
# Starts its own Xvfb; exits 77 (skipped) with the reason when there is no Xvfb or no GL.
#   schedule_display.sh MNEMO DATA
source "$(dirname "$0")/cli_lib.sh"
TOOL="$(dirname "$MNEMO")/tests/png_tool"

source "$(dirname "$0")/xvfb_lib.sh"
xvfb_open 1280x720

# The wall clock of the tests: Berlin, Wednesday 2026-06-10, closed 10:00-10:01.
export TZ=Europe/Berlin
BEFORE_10=$(date -d '2026-06-10 09:59:40' +%s) # 20 s before closing
HOURS='daily 00:00-10:00 10:01-24:00'
SMALL=(-o "loop.painter=$DATA/unet_bn.onnx" -o "loop.sketcher=$DATA/resnet_in_op13.onnx"
  -o loop.size=64 --backend cpu --windowed -o present.width=320 -o present.height=180
  -o present.fps=30 -o present.grain=0 -o present.vignette=0)

if ! MNEMO_PRESENT_EXIT_AFTER=2 MNEMO_PRESENT_SNAPSHOT="$TMP/probe.png" timeout 60 "$MNEMO" run \
  "${SMALL[@]}" >"$TMP/log" 2>&1; then
  if grep -q "OpenGL\|GLEW\|no display" "$TMP/log"; then
    echo "skipped: no usable GL under Xvfb: $(tail -n1 "$TMP/log")"
    exit 77
  fi
fi

# field NAME < lines: the value of "NAME": on each line
field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p"; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

echo "== open, closed at 10:00 (black, loop paused, slow frames), open again at 10:01"
# Clock 10x: 2 s open, 6 s closed, then open. At most 30 fps open and 4 fps closed, so by
# frame 130 the presenter has been open again for at least 45 frames.
if MNEMO_TEST_TIME="${BEFORE_10}x10" MNEMO_PRESENT_EXIT_AFTER=130 \
  MNEMO_PRESENT_SNAPSHOT="$TMP/reopen.png" timeout 120 "$MNEMO" run "${SMALL[@]}" \
  -o "kiosk.hours=$HOURS" --stats "$TMP/cycle.jsonl" >"$TMP/log" 2>&1; then
  cat "$TMP/log"
  grep -v '"final"' "$TMP/cycle.jsonl" >"$TMP/lines"
  mapfile -t closed < <(field closed <"$TMP/lines")
  mapfile -t its < <(field iterations <"$TMP/lines")
  mapfile -t fps < <(field display_fps <"$TMP/lines")
  first=-1 last=-1
  for i in "${!closed[@]}"; do
    [ "${closed[i]}" = true ] && { [ $first -lt 0 ] && first=$i; last=$i; }
  done
  echo "   closed stats lines $first..$last; iterations: ${its[*]}"
  if [ $first -lt 0 ] || [ $((last - first)) -lt 4 ]; then
    fail "closed for fewer than 5 stats lines (6 s expected): $(cat "$TMP/cycle.jsonl")"
  else
    # The line that spans the closing may hold one more iteration (the one running then).
    # display_fps is over the presenter's last whole second (up to 1.25 s at 4 fps): from
    # the fourth closed line on, that second lies wholly in closed hours.
    steady=${its[first + 1]}
    ok=1
    for i in $(seq $((first + 1)) "$last"); do
      [ "${its[i]}" = "$steady" ] || ok=0
      [ "$i" -lt $((first + 3)) ] || le "${fps[i]}" 4.5 ||
        { ok=0; echo "   closed line $i: display_fps ${fps[i]} > 4"; }
    done
    [ $ok = 1 ] && [ "$steady" -gt 0 ] && passed=$((passed + 1)) ||
      fail "while closed the iterations moved or the presenter ran fast: $(sed -n "$((first + 1)),$((last + 1))p" "$TMP/lines")"
    final=$(grep '"final"' "$TMP/cycle.jsonl" | field iterations)
    [ "${final:-0}" -gt "$steady" ] && passed=$((passed + 1)) ||
      fail "the loop did not resume after opening: $steady while closed, $final at the end"
  fi
  [ "$(grep -c 'closed (kiosk.hours): screens black until Wed 10:01' "$TMP/log")" -eq 1 ] &&
    [ "$(grep -c 'open (kiosk.hours): the piece runs until Thu 10:00' "$TMP/log")" -eq 1 ] &&
    [ "$(grep -c 'open (kiosk.hours): the piece runs until Wed 10:00' "$TMP/log")" -eq 1 ] &&
    passed=$((passed + 1)) || fail "want one log line per change of state: $(cat "$TMP/log")"
  read -r mean sd < <("$TOOL" stats "$TMP/reopen.png")
  le 5 "$sd" && passed=$((passed + 1)) || fail "after opening the screen is flat (sd $sd)"
else
  fail "open/closed/open run failed: $(tail -n3 "$TMP/log")"
fi

echo "== closing time with kiosk.closed = dpms: no DPMS in Xvfb, so black, said once"
# 2 s open, then closed for the day; frame 80 is at least 5 s into closed hours.
if MNEMO_TEST_TIME="$(date -d '2026-06-10 09:59:58' +%s)" MNEMO_PRESENT_EXIT_AFTER=80 \
  MNEMO_PRESENT_SNAPSHOT="$TMP/black.png" timeout 120 "$MNEMO" run "${SMALL[@]}" \
  -o "kiosk.hours=daily 00:00-10:00" -o kiosk.closed=dpms --stats "$TMP/dpms.jsonl" \
  >"$TMP/log" 2>&1; then
  cat "$TMP/log"
  read -r mean sd < <("$TOOL" stats "$TMP/black.png")
  its=$(grep '"final"' "$TMP/dpms.jsonl" | field iterations)
  echo "   screen mean $mean sd $sd after $its iterations"
  [ "$mean" = 0.000 ] && [ "$sd" = 0.000 ] && [ "${its:-0}" -gt 0 ] && passed=$((passed + 1)) ||
    fail "after closing time the screen is not black (mean $mean sd $sd, $its iterations)"
  [ "$(grep -c 'cannot power the screens down (the X server has no DPMS extension); showing black' "$TMP/log")" -eq 1 ] &&
    grep -q 'closed (kiosk.hours): screens black until Thu 00:00' "$TMP/log" &&
    passed=$((passed + 1)) || fail "want one DPMS fallback line and the closing line: $(cat "$TMP/log")"
else
  fail "dpms run failed: $(tail -n3 "$TMP/log")"
fi

echo "== a config reload changes the hours; SIGTERM while closed ends it cleanly"
printf 'kiosk = { hours = ""; };\n' >"$TMP/k.cfg"
MNEMO_TEST_TIME="$BEFORE_10" "$MNEMO" run "${SMALL[@]}" --config "$TMP/k.cfg" \
  --stats "$TMP/live.jsonl" >"$TMP/live.log" 2>&1 &
PID=$!
wait_for "$TMP/live.jsonl" '"closed":false' 30 || fail "no stats line: $(cat "$TMP/live.log")"
printf 'kiosk = { hours = "sat,sun 11:00-17:00"; };\n' >"$TMP/k.cfg" # closed on a Wednesday
if wait_for "$TMP/live.log" 'closed (kiosk.hours): screens black until Sat 11:00' 30 &&
  wait_for "$TMP/live.jsonl" '"closed":true,"opens_at":' 30; then
  passed=$((passed + 1))
else
  fail "the reloaded hours did not close the kiosk: $(cat "$TMP/live.log")"
fi
kill -TERM $PID
wait $PID
code=$?
PID=
[ $code -eq 0 ] && grep -q '"final":true' "$TMP/live.jsonl" && passed=$((passed + 1)) ||
  fail "SIGTERM while closed: exit $code: $(cat "$TMP/live.log")"

echo "== started in closed hours under a fake systemd: READY, STATUS says closed, pings go on"
LISTEN="$(dirname "$MNEMO")/tests/notify_listen"
"$LISTEN" "$TMP/notify" 120 >"$TMP/notify.log" &
listener=$!
sleep 0.2
AFTER_10=$(date -d '2026-06-10 10:00:05' +%s) # closed until 10:01, 55 s away
NOTIFY_SOCKET="$TMP/notify" WATCHDOG_USEC=2000000 MNEMO_TEST_TIME="$AFTER_10" \
  "$MNEMO" run "${SMALL[@]}" -o "kiosk.hours=$HOURS" --stats "$TMP/sd.jsonl" >"$TMP/sd.log" 2>&1 &
PID=$!
if wait_for "$TMP/notify.log" 'READY=1' 30 && wait_for "$TMP/notify.log" 'closed until Wed 10:01' 30; then
  passed=$((passed + 1))
else
  fail "no READY or no closed STATUS in closed hours: $(cat "$TMP/notify.log" "$TMP/sd.log")"
fi
before=$(grep -c 'WATCHDOG=1' "$TMP/notify.log")
sleep 5 # more than two watchdog intervals, all in closed hours
after=$(grep -c 'WATCHDOG=1' "$TMP/notify.log")
echo "   watchdog pings: $before, 5 s later $after"
[ "$after" -ge $((before + 3)) ] && ! grep -q 'made no progress' "$TMP/sd.log" &&
  passed=$((passed + 1)) || fail "pings stopped in closed hours ($before, $after): $(cat "$TMP/sd.log")"
kill -TERM $PID
wait $PID
code=$?
PID=
kill $listener
wait $listener 2>/dev/null
[ $code -eq 0 ] && passed=$((passed + 1)) || fail "SIGTERM under the fake systemd: exit $code"
moved=$(field iterations <"$TMP/sd.jsonl" | sort -u | tr '\n' ' ')
[ "$moved" = "0 " ] && passed=$((passed + 1)) ||
  fail "started in closed hours, the loop ran iterations: $moved"

finish
