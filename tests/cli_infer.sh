#!/usr/bin/env bash
# End to end through the command line: PNG in -> PNG out, .npy in -> .npy out matching
# PyTorch, --bench output, inspect's report, the chain check.
source "$(dirname "$0")/cli_lib.sh"
M=$MNEMO

for backend in ref cpu; do
  if [ "$backend" = cpu ] && ! $M infer --model "$DATA/unet_bn.onnx" --input "$DATA/unet_bn_in_64.npy" --output "$TMP/probe.npy" --backend cpu 2>/dev/null; then
    echo "skip: cpu backend not built"
    continue
  fi
  expect_ok $M infer --model "$DATA/unet_bn.onnx" --input "$DATA/face_sketch.png" --output "$TMP/p_$backend.png" --backend $backend
  # The 256x256 sketch is fitted to the 64x64 input and the portrait comes back RGB.
  file "$TMP/p_$backend.png" | grep -q "64 x 64, 8-bit/color RGB" || fail "portrait PNG is not 64x64 RGB: $(file "$TMP/p_$backend.png")"
  # RGB portrait -> gray sketch through the ResNet.
  expect_ok $M infer --model "$DATA/resnet_in_op13.onnx" --input "$TMP/p_$backend.png" --output "$TMP/s_$backend.png" --backend $backend
  file "$TMP/s_$backend.png" | grep -q "64 x 64, 8-bit grayscale" || fail "sketch PNG is not 64x64 gray: $(file "$TMP/s_$backend.png")"
  # A dynamic model at a size given on the command line, compared with PyTorch in C.
  expect_ok $M infer --model "$DATA/unet_bn_dynamic.onnx" --size 128x128 --input "$DATA/unet_bn_in_128.npy" --output "$TMP/o128_$backend.npy" --backend $backend
  expect_ok $M infer --model "$DATA/unet_bn.onnx" --input "$DATA/unet_bn_in_64.npy" --output "$TMP/o64_$backend.npy" --backend $backend --bench 3
  grep -qE "^bench: $backend fp32: median [0-9.]+ ms, min [0-9.]+ ms over 3 runs" "$TMP/out" || fail "--bench printed: $(cat "$TMP/out")"
done

# .npy written by mnemo is what numpy would write: the same header, then the data.
cmp -s <(head -c 128 "$TMP/o64_ref.npy") <(head -c 128 "$DATA/unet_bn_out_64.npy") || fail "npy header differs from numpy's"
# .npy out equals PyTorch within fp32 rounding (compared with the model parity test's bound).
expect_ok "$(dirname "$M")/tests/npy_compare" "$TMP/o64_ref.npy" "$DATA/unet_bn_out_64.npy" 1e-4
expect_ok "$(dirname "$M")/tests/npy_compare" "$TMP/o128_ref.npy" "$DATA/unet_bn_out_128.npy" 1e-4

expect_ok $M inspect "$DATA/resnet_in_op13.onnx"
for want in "input:      input 1x3x64x64" "output:     output 1x1x64x64" "Pad 6" "(6 evaluated at load)" "InstanceNormalization+Relu" "InstanceNormalization+Add" "MACs:"; do
  grep -qF "$want" "$TMP/out" || fail "inspect does not show '$want'"
done
expect_ok $M inspect "$DATA/chain_a.onnx" --chain "$DATA/chain_b_convert.onnx"
grep -q "RGB to gray, resize 64x64 to 32x32" "$TMP/out" || fail "chain plan: $(tail -1 "$TMP/out")"
finish
