#!/usr/bin/env bash
# The loop's state across processes, through the binary: a second run continues the
# iteration count, also from a folder that is not the repository's; SIGTERM saves at exit,
# promptly even with the control's thread stuck in a read (a FIFO config,
# MNEMO_FAULT=control:hang_on_reload); a second instance on one state folder is refused, a
# killed one lets it go, a supervised child killed outright is restarted onto it; a corrupt
# file is ignored; a transient backend fault is retried once; a sticky one saves the state
# and exits 75 (--iterations and headless recording), and the next run resumes.
# Usage: cli_checkpoint.sh MNEMO DATA
source "$(dirname "$0")/cli_lib.sh"
M=$MNEMO
SMALL=(-o loop.painter="$DATA/unet_bn.onnx" -o loop.sketcher="$DATA/resnet_in_op13.onnx"
       -o loop.size=64 -o loop.rate=0 -o capture.width=64 -o capture.height=64
       -o capture.frames_per_iteration=1)
STATE=(-o kiosk.state_dir="$TMP/state")

final_iterations() { # stats file -> the final line's iteration count
  grep '"final":true' "$1" | grep -o '"iterations":[0-9]*' | cut -d: -f2
}
check() { # condition message...: counts a pass or a failure
  if eval "$1"; then passed=$((passed + 1)); else shift; fail "$*"; fi
}

# ---- a second run continues where the first ended ------------------------------------------
expect_ok "$M" run --headless --iterations 15 "${SMALL[@]}" "${STATE[@]}" --stats "$TMP/1.jsonl"
check '[ "$(final_iterations "$TMP/1.jsonl")" = 15 ] && [ -s "$TMP/state/mnemo.state" ]' \
  "first run: want 15 iterations and a state file: $(cat "$TMP/err")"
grep -q "no checkpoint in $TMP/state yet" "$TMP/err" && grep -q "saved iteration 15" "$TMP/err" ||
  fail "first run's log: $(cat "$TMP/err")"
expect_ok "$M" run --headless --iterations 10 "${SMALL[@]}" "${STATE[@]}" --stats "$TMP/2.jsonl"
check '[ "$(final_iterations "$TMP/2.jsonl")" = 25 ]' \
  "second run: want iteration 25 (15 + 10): $(tail -n1 "$TMP/2.jsonl")"
check 'grep -q "resumed from $TMP/state/mnemo.state at iteration 15" "$TMP/err"' \
  "second run does not say it resumed: $(cat "$TMP/err")"

# ---- from a folder that is not the repository's, as a service runs (/var/lib/mnemo) --------
# The models are found through the data path (datapath.h), not in the working directory:
# the checkpoint must digest the files the loop loaded. First the default models (the
# build's data folders), then models kept beside the config.
mkdir -p "$TMP/elsewhere" "$TMP/piece/models"
cp "$DATA/unet_bn.onnx" "$TMP/piece/models/p.onnx"
cp "$DATA/resnet_in_op13.onnx" "$TMP/piece/models/s.onnx"
printf 'loop = { painter = "models/p.onnx"; sketcher = "models/s.onnx"; size = 64; rate = 0.0; };\n' \
  >"$TMP/piece/piece.cfg"
for how in defaults config; do
  args=(-o loop.size=64 -o loop.rate=0)
  [ "$how" = config ] && args=(--config "$TMP/piece/piece.cfg")
  for n in 1 2; do
    (cd "$TMP/elsewhere" && "$M" run --headless --iterations 20 "${args[@]}" \
      -o kiosk.state_dir="$TMP/far-$how" --stats "$TMP/far.jsonl" >"$TMP/out" 2>"$TMP/err")
    code=$?
    check '[ "$code" -eq 0 ] && ! grep -q "checkpoints off" "$TMP/err" && [ -s "$TMP/far-$how/mnemo.state" ]' \
      "$how, run $n from a foreign folder: no state written: $(cat "$TMP/err")"
  done
  check '[ "$(final_iterations "$TMP/far.jsonl")" = 40 ] && grep -q "resumed from $TMP/far-$how/mnemo.state at iteration 20" "$TMP/err"' \
    "$how, from a foreign folder: the second run did not resume: $(cat "$TMP/err")"
done

# ---- the same run, split in two, gives the same frames as in one go -----------------------
expect_ok "$M" run --headless --frames 12 --out "$TMP/whole" "${SMALL[@]}"
expect_ok "$M" run --headless --frames 7 --out "$TMP/part1" "${SMALL[@]}" \
  -o kiosk.state_dir="$TMP/split"
expect_ok "$M" run --headless --frames 5 --out "$TMP/part2" "${SMALL[@]}" \
  -o kiosk.state_dir="$TMP/split"
same=0
for i in 1 2 3 4 5; do
  cmp -s "$TMP/part2/frame_00000$i.png" "$TMP/whole/$(printf 'frame_%06d.png' $((i + 7)))" &&
    same=$((same + 1))
done
# The first frame of a recording crossfades from nothing; with one frame per iteration
# every frame is its iteration's portrait, so all 5 must match.
check '[ "$same" -eq 5 ]' "resumed recording: $same of 5 frames match frames 8-12 of the whole"

# ---- SIGTERM: the state is saved at exit --------------------------------------------------
rm -rf "$TMP/state"
"$M" run --headless --iterations 1000000 "${SMALL[@]}" "${STATE[@]}" -o loop.rate=50 \
  -o kiosk.checkpoint_s=0 --stats "$TMP/t.jsonl" 2>"$TMP/t.err" &
pid=$!
wait_iterations "$TMP/t.jsonl" 5 20
kill -TERM $pid # twice, as `timeout` or an impatient supervisor does: the handler stays
kill -TERM $pid
wait $pid
code=$?
saved=$(grep -o 'saved iteration [0-9]*' "$TMP/t.err" | cut -d' ' -f3)
check '[ "$code" -eq 0 ] && [ "${saved:-0}" -ge 5 ] && [ "$saved" = "$(final_iterations "$TMP/t.jsonl")" ]' \
  "SIGTERM: exit $code, saved '${saved:-}', want 0 and the final iteration: $(cat "$TMP/t.err")"
expect_ok "$M" run --headless --iterations 1 "${SMALL[@]}" "${STATE[@]}" --stats "$TMP/t2.jsonl"
check '[ "$(final_iterations "$TMP/t2.jsonl")" = "$((saved + 1))" ]' \
  "after SIGTERM at $saved the next run ended at $(final_iterations "$TMP/t2.jsonl")"

# ---- SIGTERM with the control's thread stuck in a read: saved first, out within seconds --
# (issue 20, item 4) The config swapped for a FIFO while running (renamed over it, as an
# editor saves): the reload's open() waits for a writer that never comes. The state must be
# saved before the control is joined, and the join must not wait for good.
sigterm_stuck() { # name, then extra arguments for mnemo: runs, stalls the control, SIGTERMs
  local name=$1
  shift
  rm -rf "$TMP/state"
  printf 'perturb = { noise = 0.05; };\n' >"$TMP/$name.cfg"
  "$M" run --config "$TMP/$name.cfg" --headless --iterations 1000000 "${SMALL[@]}" "${STATE[@]}" \
    -o loop.rate=50 -o kiosk.checkpoint_s=0 --stats "$TMP/$name.jsonl" "$@" 2>"$TMP/$name.err" &
  pid=$!
  wait_iterations "$TMP/$name.jsonl" 5 20
}
sigterm_check() { # name, what: SIGTERM now; out within 6 s, exit 0, the final iteration saved
  local name=$1 what=$2 start took code saved
  start=$(date +%s.%N)
  kill -TERM $pid
  wait_gone $pid 6
  took=$(echo "$(date +%s.%N) - $start" | bc)
  kill -KILL $pid 2>/dev/null # hung: the test fails, the suite goes on
  wait $pid
  code=$?
  saved=$(grep -o 'saved iteration [0-9]*' "$TMP/$name.err" | cut -d' ' -f3)
  check '[ "$code" -eq 0 ] && [ "${saved:-0}" -ge 5 ] && [ "$(echo "$took < 6" | bc)" -eq 1 ]' \
    "SIGTERM with $what: exit $code after $took s, saved '${saved:-}', want 0 within 6 s" \
    "and the state saved: $(cat "$TMP/$name.err")"
}
sigterm_stuck fifo
mkfifo "$TMP/fifo.new"
mv "$TMP/fifo.new" "$TMP/fifo.cfg"
sleep 1 # the watcher's reload has opened the FIFO by now (and waits there, unfixed)
sigterm_check fifo "the config swapped for a FIFO"
# The same stuck thread however the config reader treats FIFOs: the fault seam (control.h)
# hangs it at the reload SIGHUP asks for.
MNEMO_FAULT=control:hang_on_reload sigterm_stuck hang -o control.watch=false
kill -HUP $pid
wait_for "$TMP/hang.err" 'control thread hangs here' 10 || fail "the fault seam did not fire"
sigterm_check hang "the control thread hung (MNEMO_FAULT)"
grep -q 'control thread did not stop within 2 s' "$TMP/hang.err" ||
  fail "a stuck control thread was not reported: $(cat "$TMP/hang.err")"

# ---- two instances on one state folder: the second is refused, the first goes on ----------
rm -rf "$TMP/state"
"$M" run --headless --iterations 1000000 "${SMALL[@]}" "${STATE[@]}" -o loop.rate=50 \
  -o kiosk.checkpoint_s=0.05 --stats "$TMP/a.jsonl" 2>"$TMP/a.err" &
first=$!
wait_for "$TMP/a.jsonl" '"iterations":[1-9]' 20 || fail "the first instance never ran: $(cat "$TMP/a.err")"
check '[ "$(cat "$TMP/state/mnemo.lock" 2>/dev/null)" = "$first" ]' \
  "the lock file does not name the first instance ($first): '$(cat "$TMP/state/mnemo.lock" 2>&1)'"
expect_fail 1 "kiosk.state_dir $TMP/state is in use by another mnemo (pid $first)" \
  "$M" run --headless --iterations 5 "${SMALL[@]}" "${STATE[@]}"
check 'grep -q "stop the other one (kill $first" "$TMP/err" && grep -q "kiosk.state_dir of its own" "$TMP/err"' \
  "the refusal does not say what to do: $(cat "$TMP/err")"
check '[ "$(wc -l <"$TMP/err")" -eq 1 ]' "the refused instance said more than its refusal: $(cat "$TMP/err")"
# A second supervisor is refused before it starts any child (not restarted for ever).
expect_fail 1 "is in use by another mnemo (pid $first)" timeout 20 \
  "$M" run --supervise --headless --iterations 5 "${SMALL[@]}" "${STATE[@]}"
check '! grep -q "supervise: starting" "$TMP/err"' "the refused supervisor started a child: $(cat "$TMP/err")"
check 'kill -0 $first' "the first instance died when the second was refused"
n=$(grep -o '"iterations":[0-9]*' "$TMP/a.jsonl" | tail -n1 | cut -d: -f2)
kill -KILL $first # a power cut: the kernel lets the lock go with the process
wait $first 2>/dev/null
: >"$TMP/state/mnemo.state.424242.tmp" # as a writer killed before its rename leaves it
expect_ok "$M" run --headless --iterations 1 "${SMALL[@]}" "${STATE[@]}" --stats "$TMP/a2.jsonl"
check 'grep -q "resumed from $TMP/state/mnemo.state" "$TMP/err" && [ "$(final_iterations "$TMP/a2.jsonl")" -gt 1 ]' \
  "after the first was killed (at $n iterations) the next did not take the folder over: $(cat "$TMP/err")"
check '[ -z "$(ls "$TMP/state" | grep "\.tmp$")" ]' "temp files left behind: $(ls "$TMP/state")"

# --supervise: the supervisor holds no lock, so its restarted child is never refused; a
# child killed outright lets the lock go before the next one starts.
rm -rf "$TMP/state"
"$M" run --supervise --watchdog 5 --headless --iterations 1000000 "${SMALL[@]}" "${STATE[@]}" \
  -o loop.rate=50 -o kiosk.checkpoint_s=0.05 2>"$TMP/s.err" &
sup=$!
wait_for "$TMP/s.err" 'the piece is running' 20 || fail "supervised piece never ready: $(cat "$TMP/s.err")"
wait_for "$TMP/state/mnemo.lock" '[0-9]' 10
child=$(cat "$TMP/state/mnemo.lock")
check '[ -n "$child" ] && [ "$child" != "$sup" ] && kill -0 "$child"' \
  "the lock should name the child, not the supervisor ($sup): '$child'"
for _ in $(seq 100); do [ -s "$TMP/state/mnemo.state" ] && break; sleep 0.1; done
kill -KILL "$child"
wait_for "$TMP/s.err" 'resumed from' 20
check 'grep -q "resumed from $TMP/state/mnemo.state" "$TMP/s.err" && ! grep -q "in use by" "$TMP/s.err"' \
  "the restarted child did not take the folder and resume: $(cat "$TMP/s.err")"
kill -TERM "$sup"
wait "$sup"

# ---- periodic checkpoints while running (kiosk.checkpoint_s) ------------------------------
rm -rf "$TMP/state"
"$M" run --headless --iterations 1000000 "${SMALL[@]}" "${STATE[@]}" -o loop.rate=50 \
  -o kiosk.checkpoint_s=0.2 2>"$TMP/p.err" &
pid=$!
for _ in $(seq 200); do [ -s "$TMP/state/mnemo.state" ] && break; sleep 0.1; done
check '[ -s "$TMP/state/mnemo.state" ]' "no periodic checkpoint within 20 s: $(cat "$TMP/p.err")"
kill -TERM $pid
wait $pid

# ---- a corrupt checkpoint: one warning naming it, a fresh start ---------------------------
printf 'garbage' | dd of="$TMP/state/mnemo.state" bs=1 seek=300 conv=notrunc 2>/dev/null
expect_ok "$M" run --headless --iterations 4 "${SMALL[@]}" "${STATE[@]}" --stats "$TMP/c.jsonl"
check 'grep -q "warning: ignoring the checkpoint $TMP/state/mnemo.state: checksum mismatch" "$TMP/err"' \
  "corrupt file: no warning naming it: $(cat "$TMP/err")"
check '[ "$(final_iterations "$TMP/c.jsonl")" = 4 ]' "corrupt file: the piece did not start fresh"

# ---- a folder that cannot be made: one warning, the piece goes on -------------------------
touch "$TMP/a_file"
expect_ok "$M" run --headless --iterations 30 "${SMALL[@]}" -o kiosk.state_dir="$TMP/a_file/x" \
  -o kiosk.checkpoint_s=0.01 --stats "$TMP/u.jsonl"
check '[ "$(grep -c "warning: cannot save" "$TMP/err")" -eq 1 ] && grep -q "kiosk.state_dir" "$TMP/err"' \
  "unwritable folder: want one warning naming kiosk.state_dir: $(cat "$TMP/err")"
check '[ "$(final_iterations "$TMP/u.jsonl")" = 30 ]' "unwritable folder: the piece stopped"

# ---- backend faults (MNEMO_FAULT, backend.h): run 21 is iteration 11's painter -------------
rm -rf "$TMP/state"
MNEMO_FAULT=backend:transient@21 expect_ok "$M" run --headless --iterations 30 "${SMALL[@]}" \
  --stats "$TMP/f1.jsonl"
check '[ "$(final_iterations "$TMP/f1.jsonl")" = 30 ] && [ "$(grep -c retrying "$TMP/err")" -eq 1 ]' \
  "transient fault: want 30 iterations and one retry: $(cat "$TMP/err")"
check 'grep -q "iteration 11 failed (painter: [a-z]* backend: injected transient fault at run 21" "$TMP/err" && grep -q "iteration 11 ran after 1 failed try" "$TMP/err"' \
  "transient fault: the log does not name iteration 11: $(cat "$TMP/err")"

MNEMO_FAULT=backend:sticky@21 "$M" run --headless --iterations 30 "${SMALL[@]}" "${STATE[@]}" \
  --stats "$TMP/f2.jsonl" >"$TMP/out" 2>"$TMP/err"
code=$?
check '[ "$code" -eq 75 ]' "sticky fault: exit $code, want 75: $(cat "$TMP/err")"
check 'grep -q "saved iteration 10 to $TMP/state/mnemo.state" "$TMP/err" && ! grep -q retrying "$TMP/err"' \
  "sticky fault: want iteration 10 saved and no retry: $(cat "$TMP/err")"
check 'grep -q "^mnemo: .*injected sticky fault at run 21.*exit code 75" "$TMP/err"' \
  "sticky fault: no error line naming the fault and the exit code: $(cat "$TMP/err")"
expect_ok "$M" run --headless --iterations 5 "${SMALL[@]}" "${STATE[@]}" --stats "$TMP/f3.jsonl"
check '[ "$(final_iterations "$TMP/f3.jsonl")" = 15 ]' \
  "after the sticky fault the next run should resume at 10 and end at 15: $(tail -n1 "$TMP/f3.jsonl")"

# The same in a headless recording: the frames so far stay, the state is saved, exit 75.
rm -rf "$TMP/state"
MNEMO_FAULT=backend:sticky@9 "$M" run --headless --frames 20 --out "$TMP/rec" "${SMALL[@]}" \
  "${STATE[@]}" >"$TMP/out" 2>"$TMP/err"
code=$?
check '[ "$code" -eq 75 ] && grep -q "saved iteration 4 " "$TMP/err" && [ -f "$TMP/rec/frame_000004.png" ]' \
  "sticky fault while recording: exit $code, want 75, iteration 4 saved, 4 frames: $(cat "$TMP/err")"

expect_fail 1 "backend:sticky@N" env MNEMO_FAULT=backend:sticky@soon \
  "$M" run --headless --iterations 3 "${SMALL[@]}"

finish
