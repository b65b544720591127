#!/usr/bin/env bash
# The shipped default models (models/*-small.onnx): present, at most 10 MB, with their
# metadata and cards, loadable, chainable both ways, and the right shapes on a real sketch.
source "$(dirname "$0")/cli_lib.sh"
M=$MNEMO
MODELS=$(cd "$(dirname "$0")/../models" && pwd)
for role in painter sketcher; do
  f=$MODELS/$role-small.onnx
  [ -f "$f" ] || { fail "$f is missing"; continue; }
  [ "$(stat -c %s "$f")" -le 10000000 ] || fail "$f is over 10 MB"
  [ -s "$MODELS/$role-small.md" ] || fail "no model card $MODELS/$role-small.md"
  expect_ok $M inspect "$f"
  for want in "metadata:   role = $role" "metadata:   input_range = [-1,1]" \
              "metadata:   output_range = [-1,1]" "metadata:   license = " \
              "metadata:   attribution = Portrait images by artflow.ai" "x256x256"; do
    grep -qF "$want" "$TMP/out" || fail "inspect $role-small.onnx does not show '$want'"
  done
done
expect_ok $M inspect "$MODELS/painter-small.onnx" --chain "$MODELS/sketcher-small.onnx"
expect_ok $M inspect "$MODELS/sketcher-small.onnx" --chain "$MODELS/painter-small.onnx"
expect_ok $M infer --model "$MODELS/painter-small.onnx" --input "$DATA/face_sketch.png" --output "$TMP/portrait.png"
file "$TMP/portrait.png" | grep -q "256 x 256, 8-bit/color RGB" || fail "portrait: $(file "$TMP/portrait.png")"
expect_ok $M infer --model "$MODELS/sketcher-small.onnx" --input "$TMP/portrait.png" --output "$TMP/sketch.png"
file "$TMP/sketch.png" | grep -q "256 x 256, 8-bit grayscale" || fail "sketch: $(file "$TMP/sketch.png")"
finish
