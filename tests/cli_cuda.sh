#!/usr/bin/env bash
# `--backend cuda` where it cannot run is one clear error line and exit 1: "no CUDA
# device: ...; use --backend cpu" in a build with CUDA on a machine without a GPU,
# "unknown backend 'cuda'" in a build without CUDA. Skipped where a GPU is usable.
. "$(dirname "$0")/cli_lib.sh"
M=$MNEMO
in64="$DATA/unet_bn_in_64.npy"
model="$DATA/unet_bn_op13.onnx"
"$M" infer --model "$model" --input "$in64" --output "$TMP/probe.npy" --backend cuda \
  >/dev/null 2>"$TMP/probe"
code=$?
if [ $code -eq 0 ]; then
  echo "skip: --backend cuda ran here (a CUDA device is usable)"
  exit 77
fi
if grep -q "unknown backend 'cuda'" "$TMP/probe"; then
  want="unknown backend 'cuda'"
else
  want="no CUDA device: "
  expect_fail 1 "use --backend cpu" "$M" infer --model "$model" --input "$in64" \
    --output "$TMP/o.npy" --backend cuda
fi
expect_fail 1 "$want" "$M" infer --model "$model" --input "$in64" --output "$TMP/o.npy" \
  --backend cuda
expect_fail 1 "$want" "$M" run --headless --iterations 1 --backend cuda \
  -o loop.painter="$model" -o loop.sketcher="$DATA/resnet_in_op13.onnx" -o loop.size=64
finish
