#!/usr/bin/env bash
# The config file through the binary, as a hostile gallery week tried it (issue 20): an
# @include of a directory, a FIFO, a device or a huge file is refused at start with the
# file:line of the @include (exit 1, never libconfig's exit 2, which --supervise does not
# restart) and never blocks; on a live reload it is a rejected reload that keeps the last
# good values, and the control thread goes on reloading. Absolute @include paths work, an
# include is watched wherever mnemo was started, a symlinked config is reloaded when its
# target is edited, and the start does not claim "restart needed" for what the process set
# itself (systemd's StateDirectory, --windowed) or undo the live values a checkpoint
# restored. Usage: cli_config.sh MNEMO DATA
source "$(dirname "$0")/cli_lib.sh"
M=$MNEMO
OSC="$(dirname "$M")/tests/osc_client"
SMALL=(-o loop.painter="$DATA/unet_bn.onnx" -o loop.sketcher="$DATA/resnet_in_op13.onnx"
       -o loop.size=32 -o loop.rate=0)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT

last() { tail -n1 "$1" 2>/dev/null | grep -o "\"$2\":[0-9.e-]*" | cut -d: -f2; }
# wait_value STATS KEY VALUE: up to 10 s for the last --stats line to show it.
wait_value() {
  for _ in $(seq 100); do
    [ "$(last "$1" "$2")" = "$3" ] && return 0
    sleep 0.1
  done
  return 1
}
# start NAME args...: a headless piece in the background, its log in $TMP/NAME.log and
# its --stats in $TMP/NAME.jsonl; PID is its process.
start() {
  local name=$1
  shift
  OMP_NUM_THREADS=1 "$M" run "$@" "${SMALL[@]}" --headless --iterations 100000000 \
    --stats "$TMP/$name.jsonl" 2>"$TMP/$name.log" &
  PID=$!
  PIDS+=("$PID")
}
stop() {
  kill -TERM "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

# ---- at start: what is no file is refused at the line of its @include ------------------
mkdir -p "$TMP/start/palettes"
mkfifo "$TMP/start/pipe.cfg"
ln -s /dev/zero "$TMP/start/zero.cfg"
head -c 2000000 /dev/zero | tr '\0' ' ' >"$TMP/start/big.cfg"
printf 'perturb = { noise = 0.1; };\n@include "palettes"\n' >"$TMP/start/dir.cfg"
expect_fail 1 'dir.cfg:2: @include "palettes": ' timeout -k 5 20 "$M" run --config "$TMP/start/dir.cfg" \
  --headless --iterations 2 "${SMALL[@]}"
grep -q "is a directory" "$TMP/err" || fail "the directory is not named as one: $(cat "$TMP/err")"
printf '# palette\n\n@include "pipe.cfg"\n' >"$TMP/start/fifo.cfg"
expect_fail 1 'fifo.cfg:3: @include "pipe.cfg": ' timeout -k 5 20 "$M" check "$TMP/start/fifo.cfg"
expect_fail 1 "pipe.cfg: is a FIFO" timeout -k 5 20 "$M" run --config "$TMP/start/pipe.cfg" --headless \
  --iterations 2 "${SMALL[@]}"
printf '@include "zero.cfg"\n' >"$TMP/start/dev.cfg"
expect_fail 1 "zero.cfg: is a device" timeout -k 5 20 "$M" check "$TMP/start/dev.cfg"
printf '@include "big.cfg"\n' >"$TMP/start/huge.cfg"
expect_fail 1 "over the 1 MiB" timeout -k 5 20 "$M" check "$TMP/start/huge.cfg"
# Under --supervise a bad include at start is a failure to restart from (1), not a usage
# error (2) that ends the show.
expect_fail 1 'dir.cfg:2: @include "palettes"' timeout -k 5 20 "$M" run --supervise \
  --config "$TMP/start/dir.cfg" --headless --iterations 2 "${SMALL[@]}"

# An absolute @include works, from any working directory.
printf 'perturb = { noise = 0.35; };\n' >"$TMP/start/abs_part.cfg"
printf '@include "%s"\n' "$TMP/start/abs_part.cfg" >"$TMP/start/abs.cfg"
(cd / && OMP_NUM_THREADS=1 "$M" run --config "$TMP/start/abs.cfg" "${SMALL[@]}" --headless \
  --iterations 3 --stats "$TMP/abs.jsonl" 2>"$TMP/abs.log") || fail "absolute include: $(cat "$TMP/abs.log")"
[ "$(last "$TMP/abs.jsonl" perturb_noise)" = 0.35 ] && passed=$((passed + 1)) ||
  fail "absolute include not applied: $(tail -n1 "$TMP/abs.jsonl") $(cat "$TMP/abs.log")"

# ---- live: includes edited, broken, and put right while the piece runs -----------------
L=$TMP/live
mkdir -p "$L/sub"
mkfifo "$L/pipe.cfg"
printf 'perturb = { noise = 0.1; };\n' >"$L/part.cfg"
printf 'control = { glide_ms = 0; };\n@include "part.cfg"\n' >"$L/piece.cfg"
# (started from another directory: includes are watched where they are, not relative to
# the working directory)
cd /
start live --config "$L/piece.cfg"
cd - >/dev/null
wait_value "$TMP/live.jsonl" perturb_noise 0.1 && passed=$((passed + 1)) ||
  fail "live start: $(tail -n1 "$TMP/live.jsonl") $(cat "$TMP/live.log")"
printf 'perturb = { noise = 0.2; };\n' >"$L/part.cfg"
wait_value "$TMP/live.jsonl" perturb_noise 0.2 && passed=$((passed + 1)) ||
  fail "an edit of the include was not reloaded: $(cat "$TMP/live.log")"
printf 'control = { glide_ms = 0; };\n@include "sub"\n' >"$L/piece.cfg"
wait_for "$TMP/live.log" 'piece.cfg:2: @include "sub": .*is a directory.*keeps its last good values' 10 &&
  passed=$((passed + 1)) || fail "an include of a directory was not rejected: $(cat "$TMP/live.log")"
printf 'control = { glide_ms = 0; };\n\n@include "pipe.cfg"\n' >"$L/piece.cfg"
wait_for "$TMP/live.log" 'piece.cfg:3: @include "pipe.cfg": .*is a FIFO.*keeps its last good values' 10 &&
  passed=$((passed + 1)) || fail "an include of a FIFO was not rejected: $(cat "$TMP/live.log")"
[ "$(last "$TMP/live.jsonl" perturb_noise)" = 0.2 ] && passed=$((passed + 1)) ||
  fail "a rejected reload changed the piece: $(tail -n1 "$TMP/live.jsonl")"
# the control thread is not stuck on the FIFO: the next good save is taken
printf 'perturb = { noise = 0.3; };\n' >"$L/abs.cfg"
printf 'control = { glide_ms = 0; };\n@include "%s"\n' "$L/abs.cfg" >"$L/piece.cfg"
wait_value "$TMP/live.jsonl" perturb_noise 0.3 && passed=$((passed + 1)) ||
  fail "no reload after the rejected ones (absolute include): $(cat "$TMP/live.log")"
kill -0 "$PID" 2>/dev/null && passed=$((passed + 1)) || fail "the piece died: $(cat "$TMP/live.log")"
stop "$PID"

# ---- a symlinked config is reloaded when its target is edited --------------------------
mkdir -p "$TMP/etc" "$TMP/art"
printf 'control = { glide_ms = 0; };\nperturb = { noise = 0.1; };\n' >"$TMP/art/piece.cfg"
ln -s "$TMP/art/piece.cfg" "$TMP/etc/kiosk.cfg"
start link --config "$TMP/etc/kiosk.cfg"
wait_value "$TMP/link.jsonl" perturb_noise 0.1 || fail "link start: $(cat "$TMP/link.log")"
printf 'control = { glide_ms = 0; };\nperturb = { noise = 0.25; };\n' >"$TMP/art/piece.cfg"
wait_value "$TMP/link.jsonl" perturb_noise 0.25 && passed=$((passed + 1)) ||
  fail "an edit of the symlink's target was not reloaded: $(cat "$TMP/link.log")"
sed 's/0.25/0.4/' "$TMP/art/piece.cfg" >"$TMP/art/.piece.cfg.tmp" &&
  mv "$TMP/art/.piece.cfg.tmp" "$TMP/art/piece.cfg" # as editors save
wait_value "$TMP/link.jsonl" perturb_noise 0.4 && passed=$((passed + 1)) ||
  fail "a save by rename of the target was not reloaded: $(cat "$TMP/link.log")"
stop "$PID"

# ---- the start compares the file with the file --------------------------------------------
# The installed units: StateDirectory= sets kiosk.state_dir; --windowed sets a restart-only
# value: neither is a change in the file.
printf 'control = { glide_ms = 0; };\nperturb = { noise = 0.1; };\nosc = { enabled = true; port = 0; };\n' \
  >"$TMP/state.cfg"
mkdir -p "$TMP/state"
STATE_DIRECTORY="$TMP/state" start first --config "$TMP/state.cfg" --windowed
wait_value "$TMP/first.jsonl" perturb_noise 0.1 || fail "first start: $(cat "$TMP/first.log")"
grep -q "systemd's StateDirectory" "$TMP/first.log" || fail "StateDirectory not taken: $(cat "$TMP/first.log")"
grep -q "restart needed" "$TMP/first.log" && fail "a false restart-needed line at start: $(cat "$TMP/first.log")" ||
  passed=$((passed + 1))
# A value set live (OSC) and saved in the checkpoint is resumed, not undone by the config
# the piece was started with.
PORT=$(sed -n 's/.*osc: listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/first.log" | head -n1)
"$OSC" "$PORT" /mnemo/perturb.noise f 0.45
wait_value "$TMP/first.jsonl" perturb_noise 0.45 || fail "OSC set not seen: $(cat "$TMP/first.log")"
stop "$PID"
STATE_DIRECTORY="$TMP/state" start second --config "$TMP/state.cfg" --windowed
wait_for "$TMP/second.log" "live parameters: perturb.noise=0.45" 20 ||
  fail "the live value was not restored: $(cat "$TMP/second.log")"
for _ in $(seq 100); do
  [ "$(last "$TMP/second.jsonl" iterations)" -ge 30 ] 2>/dev/null && break
  sleep 0.1
done
[ "$(last "$TMP/second.jsonl" perturb_noise)" = 0.45 ] && passed=$((passed + 1)) ||
  fail "the restored live value was undone at start: $(tail -n1 "$TMP/second.jsonl") $(cat "$TMP/second.log")"
grep -q "restart needed" "$TMP/second.log" && fail "restart-needed after a resume: $(cat "$TMP/second.log")"
stop "$PID"

finish
