#!/usr/bin/env bash
# Live tuning through the binary: a headless loop with a config in a temp dir, edited in
# place and by rename while it runs, then broken; OSC set/get/list and malformed packets.
# The change shows in --stats (perturb_noise, params_version). Usage: cli_live.sh MNEMO DATA
source "$(dirname "$0")/cli_lib.sh"
M=$MNEMO
OSC="$(dirname "$M")/tests/osc_client"
CFG="$TMP/piece.cfg"
STATS="$TMP/stats.jsonl"
LOG="$TMP/log"

last_noise() { tail -n1 "$STATS" 2>/dev/null | grep -o '"perturb_noise":[0-9.e-]*' | cut -d: -f2; }
# wait_noise VALUE: up to 10 s (a loaded CI machine) for --stats to show it.
wait_noise() {
  for _ in $(seq 100); do
    [ "$(last_noise)" = "$1" ] && return 0
    sleep 0.1
  done
  return 1
}
wait_log() { # wait_log "text": up to 10 s for the log to contain it
  for _ in $(seq 100); do
    grep -qF -- "$1" "$LOG" && return 0
    sleep 0.1
  done
  return 1
}

cat >"$CFG" <<'CFG'
# the piece under test
control = { glide_ms = 0; };
perturb = { noise = 0.1; };
osc = { enabled = true; port = 0; };
CFG
OMP_NUM_THREADS=1 "$M" run --config "$CFG" -o loop.painter="$DATA/unet_bn.onnx" \
  -o loop.sketcher="$DATA/resnet_in_op13.onnx" -o loop.size=32 -o loop.rate=0 \
  --headless --iterations 100000000 --stats "$STATS" 2>"$LOG" &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
wait_noise 0.1 && passed=$((passed + 1)) || fail "start: $(tail -n1 "$STATS")"

# ---- edit in place, then by rename (vim, VS Code) ---------------------------------------
sed 's/noise = 0.1/noise = 0.2/' "$CFG" >"$TMP/new" && cat "$TMP/new" >"$CFG"
wait_noise 0.2 && passed=$((passed + 1)) || fail "in-place edit not seen: $(tail -n1 "$STATS")"
sed 's/noise = 0.2/noise = 0.3/' "$CFG" >"$TMP/.piece.cfg.tmp"
echo 'loop = { seed = 99; };' >>"$TMP/.piece.cfg.tmp"
mv "$TMP/.piece.cfg.tmp" "$CFG"
wait_noise 0.3 && passed=$((passed + 1)) || fail "rename edit not seen: $(tail -n1 "$STATS")"
wait_log "restart needed for: loop.seed" && passed=$((passed + 1)) ||
  fail "restart-only change not named: $(cat "$LOG")"
grep -q '"params_version":[1-9]' "$STATS" && passed=$((passed + 1)) || fail "params_version"

# ---- a broken edit: the loop runs on, with the last good values --------------------------
printf 'perturb = {\n  noise = 5;\n};\n' >"$CFG"
wait_log "piece.cfg:2: perturb.noise: 5 is out of range" && passed=$((passed + 1)) ||
  fail "broken config not reported: $(cat "$LOG")"
iterations() { tail -n1 "$STATS" | grep -o '"iterations":[0-9]*' | cut -d: -f2; }
before=$(iterations)
for _ in $(seq 100); do
  sleep 0.1
  after=$(iterations)
  [ "${after:-0}" -gt "${before:-0}" ] && break
done
[ "${after:-0}" -gt "${before:-0}" ] && [ "$(last_noise)" = 0.3 ] && passed=$((passed + 1)) ||
  fail "after a broken edit: iterations $before -> $after, noise $(last_noise)"

# ---- OSC ---------------------------------------------------------------------------------
wait_log "osc: listening on"
PORT=$(sed -n 's/.*osc: listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$LOG" | head -n1)
if [ -z "$PORT" ]; then
  fail "no OSC port in the log: $(cat "$LOG")"
else
  "$OSC" "$PORT" /mnemo/perturb.noise f 0.45
  wait_noise 0.45 && passed=$((passed + 1)) || fail "OSC set not seen: $(tail -n1 "$STATS")"
  reply=$("$OSC" "$PORT" /mnemo/get s perturb.noise)
  [ "$reply" = "/mnemo/value perturb.noise 0.45" ] && passed=$((passed + 1)) ||
    fail "OSC get replied '$reply'"
  # /mnemo/list in pages, none more than 4 x its request (no UDP amplifier): the whole table
  names=() next=0 pages=0 oversized=0
  while [ "$next" != -1 ] && [ $pages -lt 200 ]; do
    if [ "$next" = 0 ]; then
      reply=$("$OSC" "$PORT" /mnemo/list 2>"$TMP/osc_sizes")
    else
      reply=$("$OSC" "$PORT" /mnemo/list i "$next" 2>"$TMP/osc_sizes")
    fi
    read -r _ sent _ _ back _ <"$TMP/osc_sizes"
    [ "${back:-0}" -le $((4 * ${sent:-0})) ] || oversized=$((oversized + 1))
    set -- $reply
    [ "${1:-}" = /mnemo/list ] || break
    next=$2
    shift 2
    names+=("$@")
    pages=$((pages + 1))
  done
  want_names=$("$M" params | grep -c '^[a-z]')
  [ "$next" = -1 ] && [ ${#names[@]} -eq "$want_names" ] && [ "${names[0]}" = loop.painter ] &&
    [ $pages -gt 1 ] && passed=$((passed + 1)) ||
    fail "OSC list: ${#names[@]} names of $want_names in $pages pages, last '$reply'"
  [ $oversized -eq 0 ] && passed=$((passed + 1)) ||
    fail "OSC list: $oversized replies over 4 x their request ($(cat "$TMP/osc_sizes"))"
  "$OSC" "$PORT" /mnemo/perturb.noise s loud
  "$OSC" "$PORT" /mnemo/perturb.nois f 0.1
  "$OSC" "$PORT" /elsewhere i 1
  "$OSC" "$PORT" --raw 20000
  "$OSC" "$PORT" --raw 64
  "$OSC" "$PORT" /mnemo/loop.size i 64
  # the seed's files are read at open only: a live change would silently do nothing
  "$OSC" "$PORT" /mnemo/loop.seed_source s image
  "$OSC" "$PORT" /mnemo/loop.seed_image s "$TMP/face.png"
  # a string longer than any value is refused whole, never cut to what fits and taken
  "$OSC" "$PORT" /mnemo/midi.map s "cc=21 param=perturb.noise$(printf '%5000s' '')"
  # setup parameters are the installer's: no saving, a dark show or any folder's presets
  "$OSC" "$PORT" /mnemo/kiosk.checkpoint_s f 0
  "$OSC" "$PORT" /mnemo/kiosk.hours s "mon 03:00-03:01"
  "$OSC" "$PORT" /mnemo/control.presets s /etc
  for want in "perturb.noise: 'loud' is not a number" "did you mean 'perturb.noise'" \
    "/elsewhere" "20000 bytes" "64 bytes" "loop.size is restart-only" \
    "loop.seed_source is restart-only" "loop.seed_image is restart-only" \
    "midi.map: a string of 5025 characters; at most 4095 are taken" \
    "kiosk.checkpoint_s is a setup parameter: OSC cannot change it" \
    "kiosk.hours is a setup parameter" "control.presets is a setup parameter"; do
    wait_log "$want" && passed=$((passed + 1)) || fail "OSC: no log line with '$want'"
  done
  # outside text cannot start a log line of its own (under journald: at any priority)
  "$OSC" "$PORT" $'/mnemo/x\n<0>mnemo: forged\e[2J' f 1
  wait_log '/mnemo/x\n<0>mnemo: forged\x1b[2J' && passed=$((passed + 1)) ||
    fail "OSC address not in the log, escaped: $(grep -a forged "$LOG")"
  ! grep -aq '^<0>' "$LOG" && passed=$((passed + 1)) || fail "a forged log line: $(grep -a '^<0>' "$LOG")"
  reply=$("$OSC" "$PORT" /mnemo/get s kiosk.checkpoint_s)
  [ "$reply" = "/mnemo/value kiosk.checkpoint_s 60" ] && passed=$((passed + 1)) ||
    fail "kiosk.checkpoint_s after OSC set it to 0: '$reply'"
  "$OSC" "$PORT" /mnemo/reseed
  "$OSC" "$PORT" /mnemo/perturb.noise i 0
  wait_noise 0 && passed=$((passed + 1)) || fail "loop disturbed by bad OSC: $(tail -n1 "$STATS")"
  if command -v oscsend >/dev/null; then
    oscsend localhost "$PORT" /mnemo/perturb.noise f 0.25
    wait_noise 0.25 && passed=$((passed + 1)) || fail "oscsend not seen"
  else
    echo "skip: oscsend (liblo-tools) not installed"
  fi
fi
kill -0 $PID 2>/dev/null && passed=$((passed + 1)) || fail "mnemo died: $(cat "$LOG")"
kill $PID
wait $PID
echo "--- log"
cat "$LOG"
finish
