#!/usr/bin/env bash
# The kiosk through the binary (issue 8), headless: the notify protocol and watchdog
# against a fake NOTIFY_SOCKET (notify_listen), SIGTERM and SIGHUP, --supervise restarting
# a piece that dies or hangs, and faults a show must survive. Models are the 64x64
# fixtures. Usage: cli_kiosk.sh MNEMO DATA
source "$(dirname "$0")/cli_lib.sh"
M=$MNEMO
LISTEN="$(dirname "$M")/tests/notify_listen"
SMALL=(-o loop.painter="$DATA/unet_bn.onnx" -o loop.sketcher="$DATA/resnet_in_op13.onnx"
       -o loop.size=64)

# listen_start NAME: a notify socket $TMP/NAME that logs what it hears to $TMP/NAME.log
listen_start() {
  "$LISTEN" "$TMP/$1" 60 >"$TMP/$1.log" &
  listener=$!
  sleep 0.2
}
listen_stop() { kill "$listener"; wait "$listener"; }

# ---- notify: READY once, STATUS with it/s, pings every half interval, STOPPING ----------
listen_start n1
NOTIFY_SOCKET="$TMP/n1" WATCHDOG_USEC=2000000 \
  "$M" run --headless --iterations 60 -o loop.rate=20 "${SMALL[@]}" 2>"$TMP/n1.err" ||
  fail "notify run exited $?: $(cat "$TMP/n1.err")"
sleep 0.2
listen_stop
[ "$(grep -c 'READY=1' "$TMP/n1.log")" -eq 1 ] || fail "READY=1 not sent exactly once: $(cat "$TMP/n1.log")"
[ "$(grep -c 'WATCHDOG=1' "$TMP/n1.log")" -ge 2 ] || fail "fewer than 2 watchdog pings in 3 s: $(cat "$TMP/n1.log")"
grep -q 'STATUS=.*it/s, iteration [1-9]' "$TMP/n1.log" || fail "no STATUS with it/s: $(cat "$TMP/n1.log")"
tail -n1 "$TMP/n1.log" | grep -q 'STOPPING=1' || fail "STOPPING=1 not last: $(tail -n2 "$TMP/n1.log")"
passed=$((passed + 1))

# ---- the watchdog: a hung loop (a GPU call that never returns) stops the pings ----------
listen_start n2
NOTIFY_SOCKET="$TMP/n2" WATCHDOG_USEC=2000000 MNEMO_TEST_FREEZE=loop@5 \
  "$M" run --headless --iterations 100000 -o loop.rate=20 "${SMALL[@]}" 2>"$TMP/n2.err" &
piece=$!
# (a slow iteration on a loaded machine may also stop the pings for a while: count only
# once the hang is in place)
wait_for "$TMP/n2.log" 'STATUS=.*iteration 5' 60 || fail "the loop never reached iteration 5"
wait_for "$TMP/n2.err" "hangs here for good" 10 || fail "the freeze hook did not fire"
sleep 3 # a full interval past the hang: the pings have stopped by now
before=$(grep -c 'WATCHDOG=1' "$TMP/n2.log")
sleep 2
after=$(grep -c 'WATCHDOG=1' "$TMP/n2.log")
grep -q "the loop has made no progress" "$TMP/n2.err" || fail "a hung loop was not reported: $(cat "$TMP/n2.err")"
[ "$before" -ge 1 ] || fail "no ping before the hang"
[ "$after" -eq "$before" ] || fail "pings went on while the loop hung ($before then $after)"
grep -q 'STATUS=.*iteration 5' "$TMP/n2.log" || fail "STATUS did not stay at iteration 5"
! grep -q 'STATUS=.*iteration 6' "$TMP/n2.log" || fail "the loop went on past the hang"
kill -9 "$piece" 2>/dev/null; wait "$piece" 2>/dev/null
listen_stop
passed=$((passed + 1))

# WATCHDOG_PID of another process: the watchdog is not ours (READY still goes out).
listen_start n3
NOTIFY_SOCKET="$TMP/n3" WATCHDOG_USEC=300000 WATCHDOG_PID=1 \
  "$M" run --headless --iterations 20 -o loop.rate=20 "${SMALL[@]}" 2>/dev/null
listen_stop
grep -q 'READY=1' "$TMP/n3.log" || fail "READY missing with a foreign WATCHDOG_PID"
! grep -q 'WATCHDOG=1' "$TMP/n3.log" || fail "pinged a watchdog meant for pid 1"
passed=$((passed + 1))

# WATCHDOG_USEC=1 (a unit's typo) would ping in a busy loop: it is kept at 0.2 s, and said.
# (A 2 s run pings about 20 times at one ping per 0.1 s; unclamped it sends thousands.)
listen_start n5
NOTIFY_SOCKET="$TMP/n5" WATCHDOG_USEC=1 \
  "$M" run --headless --iterations 40 -o loop.rate=20 "${SMALL[@]}" 2>"$TMP/n5.err" ||
  fail "WATCHDOG_USEC=1 run exited $?: $(cat "$TMP/n5.err")"
sleep 0.2
listen_stop
grep -q "warning: WATCHDOG_USEC asks for a 1e-06 s watchdog, .*mnemo keeps 0.2 s" "$TMP/n5.err" ||
  fail "the clamp was not logged: $(cat "$TMP/n5.err")"
pings=$(grep -c 'WATCHDOG=1' "$TMP/n5.log")
[ "$pings" -ge 1 ] && [ "$pings" -le 300 ] ||
  fail "WATCHDOG_USEC=1: $pings pings in a 2 s run, want about 20 (at most 300)"
passed=$((passed + 1))

# ---- SIGTERM: a clean stop within 2 s, final stats line written ------------------------
"$M" run --headless --iterations 100000 -o loop.rate=30 "${SMALL[@]}" --stats "$TMP/t.jsonl" \
  2>"$TMP/t.err" &
piece=$!
wait_for "$TMP/t.jsonl" '"iterations"' 20 || fail "no stats before SIGTERM"
start=$(date +%s.%N)
kill -TERM "$piece"
wait "$piece"
code=$?
took=$(echo "$(date +%s.%N) - $start" | bc)
[ "$code" -eq 0 ] || fail "SIGTERM: exit $code, want 0: $(cat "$TMP/t.err")"
[ "$(echo "$took < 2" | bc)" -eq 1 ] || fail "SIGTERM took $took s (at most 2 s)"
tail -n1 "$TMP/t.jsonl" | grep -q '"final":true' || fail "no final stats line after SIGTERM"
passed=$((passed + 1))

# ---- SIGHUP: reload the config now (watching off); without --config, SIGHUP is harmless --
printf 'control = { watch = false; };\nperturb = { noise = 0.05; };\n' >"$TMP/h.cfg"
"$M" run --config "$TMP/h.cfg" --headless --iterations 100000 -o loop.rate=20 "${SMALL[@]}" \
  --stats "$TMP/h.jsonl" 2>"$TMP/h.err" &
piece=$!
wait_for "$TMP/h.jsonl" '"iterations"' 20 || fail "no stats before SIGHUP"
printf 'control = { watch = false; };\nperturb = { noise = 0.2; };\n' >"$TMP/h.cfg"
sleep 0.5
grep -q 'changed perturb.noise' "$TMP/h.err" && fail "reloaded with watching off and no SIGHUP"
kill -HUP "$piece"
wait_for "$TMP/h.err" 'changed perturb.noise' 10 || fail "SIGHUP did not reload: $(cat "$TMP/h.err")"
wait_for "$TMP/h.jsonl" '"perturb_noise":0.2' 10 || fail "the reloaded value never reached the loop"
kill -0 "$piece" 2>/dev/null || fail "SIGHUP ended the piece"
kill -TERM "$piece"; wait "$piece"
"$M" run --headless --iterations 100000 -o loop.rate=20 "${SMALL[@]}" --stats "$TMP/h2.jsonl" \
  2>/dev/null &
piece=$!
wait_for "$TMP/h2.jsonl" '"iterations"' 20
kill -HUP "$piece"
sleep 0.5
kill -0 "$piece" 2>/dev/null || fail "SIGHUP without --config ended the piece"
kill -TERM "$piece"; wait "$piece"
passed=$((passed + 1))

# ---- faults the show survives -------------------------------------------------------------
# The config deleted while running: said once, last good values kept; back again: reloaded.
printf 'perturb = { noise = 0.05; };\n' >"$TMP/d.cfg"
"$M" run --config "$TMP/d.cfg" --headless --iterations 100000 -o loop.rate=20 "${SMALL[@]}" \
  --stats "$TMP/d.jsonl" 2>"$TMP/d.err" &
piece=$!
wait_for "$TMP/d.jsonl" '"iterations"' 20
rm "$TMP/d.cfg"
wait_for "$TMP/d.err" 'd.cfg: cannot open.*keeps its last good values' 10 ||
  fail "a deleted config was not reported: $(cat "$TMP/d.err")"
kill -0 "$piece" 2>/dev/null || fail "deleting the config ended the piece"
printf 'perturb = { noise = 0.15; };\n' >"$TMP/d.cfg"
wait_for "$TMP/d.jsonl" '"perturb_noise":0.15' 10 || fail "the config put back was not reloaded"
kill -TERM "$piece"; wait "$piece" || fail "exit $? after the config came back"
passed=$((passed + 1))

# A FIFO (or a directory) where the state file goes is refused without blocking the start:
# the piece says so and starts fresh.
mkdir -p "$TMP/fifo_state"
mkfifo "$TMP/fifo_state/mnemo.state"
timeout -k 5 30 "$M" run --headless --iterations 10 "${SMALL[@]}" -o kiosk.state_dir="$TMP/fifo_state" \
  2>"$TMP/fs.err"
code=$?
[ "$code" -eq 0 ] || fail "a FIFO as the state file: exit $code (124: blocked): $(cat "$TMP/fs.err")"
grep -q "ignoring the checkpoint .*mnemo.state: is a FIFO (named pipe), not a regular file" \
  "$TMP/fs.err" || fail "the FIFO state file was not named: $(cat "$TMP/fs.err")"
passed=$((passed + 1))

# The models removed after start: already loaded, the piece carries on to the end.
mkdir -p "$TMP/models"
cp "$DATA/unet_bn.onnx" "$DATA/resnet_in_op13.onnx" "$TMP/models/"
"$M" run --headless --iterations 80 -o loop.rate=20 -o loop.size=64 \
  -o loop.painter="$TMP/models/unet_bn.onnx" -o loop.sketcher="$TMP/models/resnet_in_op13.onnx" \
  --stats "$TMP/m.jsonl" 2>"$TMP/m.err" &
piece=$!
wait_for "$TMP/m.jsonl" '"iterations"' 20
rm -rf "$TMP/models"
wait "$piece"
code=$?
[ "$code" -eq 0 ] || fail "models removed after start: exit $code: $(cat "$TMP/m.err")"
grep -q '"iterations":80' "$TMP/m.jsonl" || fail "models removed: did not reach 80 iterations"
passed=$((passed + 1))

# The log on a full disk: lines are lost, the piece is not.
"$M" run --headless --iterations 30 "${SMALL[@]}" -o perturb.noise=0 --stats "$TMP/f.jsonl" \
  2>/dev/full
code=$?
[ "$code" -eq 0 ] || fail "stderr on /dev/full: exit $code"
grep -q '"iterations":30' "$TMP/f.jsonl" || fail "stderr on /dev/full: did not finish"
passed=$((passed + 1))

# Out of memory at load: one clear line saying what to change, exit 1. On the ref backend:
# oneDNN 2.6 itself segfaults in dnnl_primitive_create when its JIT code cannot be mapped
# (seen here 2026-11-30), which no caller can catch. (ASan reserves terabytes of address
# space, so a sanitizer build cannot run under ulimit -v.)
if ldd "$M" | grep -q libasan; then
  echo "skip out-of-memory at load: ASan build"
else
  expect_fail 1 "at loop.size 2048; set a smaller loop.size or free memory" \
    bash -c 'ulimit -v 300000; exec "$0" "$@"' "$M" run --headless --iterations 2 \
    --backend ref "${SMALL[@]:0:4}" -o loop.size=2048
fi

# ---- --supervise ----------------------------------------------------------------------------
# A child killed outright is started again; SIGTERM to the supervisor ends both.
"$M" run --supervise --watchdog 2 --headless --iterations 100000 -o loop.rate=20 "${SMALL[@]}" \
  2>"$TMP/s1.err" &
sup=$!
wait_for "$TMP/s1.err" 'the piece is running' 20 || fail "supervised piece never ready: $(cat "$TMP/s1.err")"
child=$(pgrep -P "$sup" | head -n1)
[ -n "$child" ] || fail "no child process under the supervisor"
kill -9 "$child"
wait_for "$TMP/s1.err" 'killed by signal 9.*restart 1 in 0.5 s' 10 ||
  fail "the killed child was not reported: $(cat "$TMP/s1.err")"
sleep 0.5
n=0
for ((i = 0; i < 150 && n < 2; i++)); do
  n=$(grep -c 'the piece is running' "$TMP/s1.err"); sleep 0.1
done
[ "$n" -ge 2 ] || fail "the piece was not restarted within 15 s: $(cat "$TMP/s1.err")"
start=$(date +%s.%N)
kill -TERM "$sup"; wait "$sup"
code=$?
[ "$code" -eq 0 ] || fail "supervisor SIGTERM: exit $code"
sleep 0.2
[ -z "$(pgrep -P "$sup")" ] || fail "the child outlived its supervisor"
passed=$((passed + 1))

# A hung child (no pings) is killed and restarted; the supervisor relays READY and pings
# to its own supervisor (systemd above it).
listen_start n4
NOTIFY_SOCKET="$TMP/n4" MNEMO_TEST_FREEZE=loop@10 \
  "$M" run --supervise --watchdog 1 --headless --iterations 100000 -o loop.rate=20 "${SMALL[@]}" \
  2>"$TMP/s2.err" &
sup=$!
wait_for "$TMP/s2.err" 'no watchdog ping.*killing it' 30 || fail "a hung child was not killed: $(cat "$TMP/s2.err")"
wait_for "$TMP/s2.err" 'restart 1 in' 30 || fail "a hung child was not restarted: $(cat "$TMP/s2.err")"
kill -TERM "$sup"; wait "$sup"
listen_stop
grep -q 'READY=1' "$TMP/n4.log" || fail "the supervisor did not relay READY"
grep -q 'WATCHDOG=1' "$TMP/n4.log" || fail "the supervisor did not relay pings"
grep -q 'STATUS=.*it/s' "$TMP/n4.log" || fail "the supervisor did not relay STATUS"
passed=$((passed + 1))

# A stalled child that recovers in time to handle the watchdog's SIGTERM exits 0: that 0 is
# "stopped as asked", not "done", so it is restarted like any child the supervisor killed
# (issue 20, item 2: the show used to end there for good).
"$M" run --supervise --watchdog 1 --headless --iterations 100000 -o loop.rate=20 "${SMALL[@]}" \
  2>"$TMP/s5.err" &
sup=$!
wait_for "$TMP/s5.err" 'the piece is running' 30 || fail "supervised piece never ready: $(cat "$TMP/s5.err")"
child=$(pgrep -P "$sup" | head -n1)
kill -STOP "$child"
wait_for "$TMP/s5.err" 'no watchdog ping.*killing it' 10 ||
  fail "a stopped child was not killed: $(cat "$TMP/s5.err")"
kill -CONT "$child" # within the 5 s grace: it takes the SIGTERM and exits 0
wait_for "$TMP/s5.err" 'was killed (no watchdog ping), then exited with 0.*restart 1 in' 10 ||
  fail "a killed child that exited 0 was not restarted: $(cat "$TMP/s5.err")"
for ((i = 0; i < 300; i++)); do
  [ "$(grep -c 'the piece is running' "$TMP/s5.err")" -ge 2 ] && break
  sleep 0.1
done
[ "$(grep -c 'the piece is running' "$TMP/s5.err")" -ge 2 ] ||
  fail "the piece did not run again after the watchdog kill: $(cat "$TMP/s5.err")"
kill -0 "$sup" 2>/dev/null || fail "the supervisor gave up after a watchdog kill"
kill -TERM "$sup"; wait "$sup"
passed=$((passed + 1))

# The GPU failing for good mid-run (the fault seam, on the CPU: every backend run from the
# 41st fails and the device counts as lost): exit 75 with the state saved, restarted
# within 5 s, and the piece resumes where it was instead of starting over.
MNEMO_FAULT=backend:sticky@41 "$M" run --supervise --headless --iterations 100000 \
  -o loop.rate=20 "${SMALL[@]}" -o kiosk.state_dir="$TMP/state" --stats "$TMP/g.jsonl" \
  2>"$TMP/g.err" &
sup=$!
wait_for "$TMP/g.err" 'exited with 75 (GPU lost).*restart 1 in 0.5 s' 30 ||
  fail "a lost device was not restarted at once (0.5 s): $(cat "$TMP/g.err")"
# (when it is running again depends on how fast the models load on this machine: the
# restart itself is the 0.5 s above; timing belongs in benchmarks)
for ((i = 0; i < 600; i++)); do
  [ "$(grep -c 'the piece is running' "$TMP/g.err")" -ge 2 ] && break
  sleep 0.1
done
[ "$(grep -c 'the piece is running' "$TMP/g.err")" -ge 2 ] ||
  fail "not running again after the lost device: $(cat "$TMP/g.err")"
# (from its log line, not --stats: the fault is inherited, so a later child may be
# truncating that file right now)
first=$(sed -n 's/.*resumed from .* at iteration \([0-9]*\).*/\1/p' "$TMP/g.err" | head -n1)
[ "${first:-0}" -ge 20 ] || fail "the restarted piece started over (iteration $first, want >= 20)"
kill -TERM "$sup"; wait "$sup"
passed=$((passed + 1))

# A child that keeps failing (here: a model that is not there) is restarted with a growing
# delay; a bad command line (exit 2) is not restarted at all.
"$M" run --supervise --headless --iterations 10 -o loop.painter="$TMP/none.onnx" \
  -o loop.sketcher="$DATA/resnet_in_op13.onnx" 2>"$TMP/s3.err" &
sup=$!
wait_for "$TMP/s3.err" 'restart 2 in 1.0 s' 20 || fail "no growing backoff: $(cat "$TMP/s3.err")"
kill -TERM "$sup"; wait "$sup" || fail "supervisor stopped during backoff: exit $?"
# A recording that hits a full disk is not restarted (a restart would record over it).
MNEMO_FAULT_DISK_FULL_AFTER=3 "$M" run --supervise --headless --frames 10 --out "$TMP/rec" \
  "${SMALL[@]}" -o capture.width=64 -o capture.height=64 2>"$TMP/s4.err"
code=$?
[ "$code" -eq 74 ] || fail "disk full under --supervise: exit $code, want 74: $(cat "$TMP/s4.err")"
grep -q 'not restarting' "$TMP/s4.err" || fail "disk full: the supervisor did not say why it stopped"
grep -q 'restart 1' "$TMP/s4.err" && fail "disk full: the recording was restarted"
[ "$(ls "$TMP/rec" | wc -l)" -eq 3 ] || fail "disk full: want frames 1-3 kept: $(ls "$TMP/rec")"
expect_fail 2 "unknown or incomplete option" "$M" run --supervise --headless --bogus
expect_fail 2 "--watchdog takes seconds" "$M" run --supervise --watchdog 0 --headless --iterations 1
expect_fail 2 "--watchdog goes with --supervise" "$M" run --watchdog 5 --headless --iterations 1
passed=$((passed + 1))

finish
