#!/usr/bin/env bash
# MIDI end to end: mnemo with midi.enabled and a map, our own ALSA sequencer port sends a CC,
# the mapped parameter shows in --stats. Skips (77) with the reason where there is no
# sequencer (containers, CI without /dev/snd). Usage: cli_midi.sh MNEMO DATA
source "$(dirname "$0")/cli_lib.sh"
M=$MNEMO
SEND="$(dirname "$M")/tests/midi_send"
[ -x "$SEND" ] || { echo "skip: built without ALSA"; exit 77; }
"$SEND" --probe || exit 77
STATS="$TMP/stats.jsonl"
"$M" run -o loop.painter="$DATA/unet_bn.onnx" -o loop.sketcher="$DATA/resnet_in_op13.onnx" \
  -o loop.size=32 -o midi.enabled=true -o control.glide_ms=0 \
  -o "midi.map=cc=21 param=perturb.noise min=0 max=0.5" \
  --headless --iterations 100000000 --stats "$STATS" 2>"$TMP/log" &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT
sleep 1
"$SEND" 21 127 || fail "could not send: $(cat "$TMP/log")"
for _ in $(seq 100); do
  tail -n1 "$STATS" 2>/dev/null | grep -q '"perturb_noise":0.5,' && break
  sleep 0.1
done
tail -n1 "$STATS" | grep -q '"perturb_noise":0.5,' && passed=$((passed + 1)) ||
  fail "CC 21 not seen: $(tail -n1 "$STATS"); $(cat "$TMP/log")"
finish
