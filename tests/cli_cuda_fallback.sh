#!/usr/bin/env bash
# The cuda backend's fallbacks (label gpu), each driven by breaking the real device:
# - a capture broken on purpose (MNEMO_CUDA_FAULT=capture, a synchronize inside it) is one
#   warning naming the node, once per process however many backends fail it, and the run
#   goes on eagerly with the same output as the graph's;
# - a convolution algorithm cuDNN refuses at the head of every candidate list
#   (MNEMO_CUDA_FAULT=algo) is dropped in warm-up, warned about, and the next one runs.
# Skipped (77) where --backend cuda cannot run.
#   cli_cuda_fallback.sh MNEMO DATA
source "$(dirname "$0")/cli_lib.sh"
M=$MNEMO
COMPARE="$(dirname "$M")/tests/npy_compare"
model="$DATA/unet_bn_op13.onnx"
in64="$DATA/unet_bn_in_64.npy"
infer() { "$M" infer --model "$model" --input "$in64" --backend cuda "$@"; }
if ! infer --output "$TMP/graph.npy" >/dev/null 2>"$TMP/probe"; then
  echo "skip: --backend cuda cannot run here: $(tail -n1 "$TMP/probe")"
  exit 77
fi
grep -q "graph capture failed" "$TMP/probe" && fail "the plain capture failed: $(cat "$TMP/probe")"
expect_ok "$COMPARE" "$TMP/graph.npy" "$DATA/unet_bn_out_64.npy" 1e-4

MNEMO_CUDA_FAULT=capture expect_ok "$M" infer --model "$model" --input "$in64" --backend cuda \
  --output "$TMP/fallback.npy"
[ "$(grep -c "CUDA graph capture failed at node '" "$TMP/err")" -eq 1 ] &&
  grep -q "; running eagerly" "$TMP/err" && passed=$((passed + 1)) ||
  fail "want one capture warning naming the node: $(cat "$TMP/err")"
expect_ok "$COMPARE" "$TMP/fallback.npy" "$TMP/graph.npy" 1e-6

# Two backends (painter and sketcher) in one process: still one warning.
MNEMO_CUDA_FAULT=capture expect_ok "$M" run --headless --iterations 3 --backend cuda \
  -o loop.painter="$model" -o loop.sketcher="$DATA/resnet_in_op13.onnx" -o loop.size=64 \
  -o loop.rate=0
[ "$(grep -c "CUDA graph capture failed" "$TMP/err")" -eq 1 ] && passed=$((passed + 1)) ||
  fail "two backends: want one capture warning: $(cat "$TMP/err")"

MNEMO_CUDA_FAULT=algo expect_ok "$M" infer --model "$model" --input "$in64" --backend cuda \
  --output "$TMP/algo.npy"
grep -q "cuDNN algorithm 8 failed (.*); trying [0-7]" "$TMP/err" && passed=$((passed + 1)) ||
  fail "want the refused algorithm warned about: $(cat "$TMP/err")"
expect_ok "$COMPARE" "$TMP/algo.npy" "$DATA/unet_bn_out_64.npy" 1e-4
finish
