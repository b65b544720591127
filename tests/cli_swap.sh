#!/usr/bin/env bash
# Live model swap through the binary: a headless loop (its sketcher from -o, its painter from
# the config, since -o would win over every reload), whose painter changes by a config save (a path relative to the config's folder) and by OSC; a broken
# file and a sketcher that cannot chain change nothing (one log line each, the OSC value
# goes back); then the web page's API swaps it once more. --stats names the models that run
# and counts swaps.
# Usage: cli_swap.sh MNEMO DATA
source "$(dirname "$0")/cli_lib.sh"
M=$MNEMO
OSC="$(dirname "$M")/tests/osc_client"
CFG="$TMP/piece.cfg"
STATS="$TMP/stats.jsonl"
LOG="$TMP/log"

stat_field() { tail -n1 "$STATS" 2>/dev/null | grep -o "\"$1\":[^,}]*" | cut -d: -f2- | tr -d '"'; }
# wait_stat FIELD VALUE: up to 20 s (a loaded CI machine) for the last --stats line to show it
wait_stat() {
  for _ in $(seq 200); do
    [ "$(stat_field "$1")" = "$2" ] && return 0
    sleep 0.1
  done
  return 1
}
wait_log() { wait_for "$LOG" "$1" 20; }
iterations() { stat_field iterations; }

"$M" params | grep -A1 '^loop.painter ' | grep -q 'live$' && passed=$((passed + 1)) ||
  fail "mnemo params does not list loop.painter as live: $("$M" params | grep -A1 '^loop.painter')"

cp "$DATA/chain_a.onnx" "$TMP/mine.onnx"
printf 'not a model' >"$TMP/broken.onnx"
config() { # config PAINTER: the whole file, written by rename as editors save
  printf 'control = { glide_ms = 0; };\nosc = { enabled = true; port = 0; };\n' >"$TMP/.cfg.tmp"
  printf 'web = { enabled = true; port = 0; };\n' >>"$TMP/.cfg.tmp"
  printf 'loop = { painter = "%s"; };\n' "$1" >>"$TMP/.cfg.tmp"
  mv "$TMP/.cfg.tmp" "$CFG"
}
config "$DATA/unet_bn.onnx"
OMP_NUM_THREADS=1 "$M" run --config "$CFG" -o loop.sketcher="$DATA/resnet_in_op13.onnx" -o loop.size=32 -o loop.rate=60 \
  --headless --iterations 100000000 --stats "$STATS" 2>"$LOG" &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
wait_stat painter "$DATA/unet_bn.onnx" && [ "$(stat_field swaps)" = 0 ] &&
  passed=$((passed + 1)) || fail "start (-o): $(tail -n1 "$STATS")"

# ---- a config save: a file beside the config, named relative to it ---------------------
config mine.onnx
wait_stat painter mine.onnx && wait_stat swaps 1 && passed=$((passed + 1)) ||
  fail "config save: $(tail -n1 "$STATS"); log: $(cat "$LOG")"
wait_log "loop.painter = mine.onnx swapped in" && wait_log "unet_bn.onnx freed" &&
  passed=$((passed + 1)) || fail "no swap line in the log: $(cat "$LOG")"

# ---- OSC ---------------------------------------------------------------------------------
wait_log "osc: listening on"
PORT=$(sed -n 's/.*osc: listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$LOG" | head -n1)
if [ -z "$PORT" ]; then
  fail "no OSC port in the log: $(cat "$LOG")"
else
  "$OSC" "$PORT" /mnemo/loop.painter s "$DATA/unet_bn.onnx"
  wait_stat painter "$DATA/unet_bn.onnx" && wait_stat swaps 2 && passed=$((passed + 1)) ||
    fail "OSC swap: $(tail -n1 "$STATS")"

  # ---- a broken file: one line naming it, nothing changes, the value goes back ---------
  "$OSC" "$PORT" /mnemo/loop.painter s "$TMP/broken.onnx"
  wait_log "broken.onnx' is not an ONNX model" && passed=$((passed + 1)) ||
    fail "broken model not reported: $(cat "$LOG")"
  [ "$(grep -c 'broken.onnx' "$LOG")" = 1 ] && grep 'broken.onnx' "$LOG" | grep -q 'nothing changes' &&
    passed=$((passed + 1)) || fail "want one line for broken.onnx: $(grep broken.onnx "$LOG")"
  reply=""
  for _ in $(seq 100); do
    reply=$("$OSC" "$PORT" /mnemo/get s loop.painter)
    [ "$reply" = "/mnemo/value loop.painter $DATA/unet_bn.onnx" ] && break
    sleep 0.1
  done
  [ "$reply" = "/mnemo/value loop.painter $DATA/unet_bn.onnx" ] && passed=$((passed + 1)) ||
    fail "after a refused painter, OSC get replied '$reply'"

  # ---- a sketcher that takes no image cannot chain ------------------------------------
  "$OSC" "$PORT" /mnemo/loop.sketcher s "$DATA/chain_b_mismatch.onnx"
  wait_log "chain_b_mismatch.onnx' takes 1x2x32x32" && passed=$((passed + 1)) ||
    fail "non-chaining sketcher not reported: $(cat "$LOG")"
  before=$(iterations)
  sleep 1
  [ "$(iterations)" -gt "${before:-0}" ] && [ "$(stat_field swaps)" = 2 ] &&
    [ "$(stat_field painter)" = "$DATA/unet_bn.onnx" ] &&
    [ "$(stat_field sketcher)" = "$DATA/resnet_in_op13.onnx" ] && passed=$((passed + 1)) ||
    fail "after the refusals: $(tail -n1 "$STATS")"
fi

# ---- the web page ------------------------------------------------------------------------
# http METHOD PATH [BODY]: the response from the page on $WEB, over bash's own /dev/tcp
http() {
  local body=${3:-}
  exec 3<>"/dev/tcp/127.0.0.1/$WEB" || return 1
  printf '%s %s HTTP/1.0\r\nContent-Length: %d\r\n\r\n%s' "$1" "$2" "${#body}" "$body" >&3
  timeout 10 cat <&3
  exec 3<&-
}
if wait_log 'the page is at http://127.0.0.1:'; then
  WEB=$(grep -o 'http://127.0.0.1:[0-9]*' "$LOG" | head -n1 | cut -d: -f3)
  http POST /api/params/loop.painter '{"value": "mine.onnx"}' >"$TMP/r"
  wait_stat painter mine.onnx && wait_stat swaps 3 && passed=$((passed + 1)) ||
    fail "web swap: $(cat "$TMP/r"); $(tail -n1 "$STATS")"
  sleep 1.2 # one more stats line, so that the page has it
  http GET /api/stats >"$TMP/r" && grep -q '"painter":"mine.onnx".*"swaps":3' "$TMP/r" &&
    passed=$((passed + 1)) || fail "GET /api/stats: $(cat "$TMP/r")"
else
  fail "no web page: $(cat "$LOG")"
fi
kill -0 $PID 2>/dev/null && passed=$((passed + 1)) || fail "mnemo died: $(cat "$LOG")"
kill $PID
wait $PID
code=$?
[ $code = 0 ] && passed=$((passed + 1)) || fail "exit code $code after SIGTERM"
echo "--- log"
cat "$LOG"
finish
