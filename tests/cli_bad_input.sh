#!/usr/bin/env bash
# Bad input through the real command line: every case exits 1 (never crashes), prints
# exactly one "mnemo: ..." line, and that line names the file, node or parameter.
# Also run by the sanitizer build, where a leak or an overflow on an error path fails.
source "$(dirname "$0")/cli_lib.sh"
M=$MNEMO
B=$DATA/bad
good=$DATA/unet_bn.onnx
in64=$DATA/unet_bn_in_64.npy

# Each command's --help is its usage on stdout, exit 0 (it once was "unknown option").
for cmd in run infer inspect params check; do
  "$M" $cmd --help >"$TMP/help" 2>"$TMP/err" || fail "mnemo $cmd --help exited $?"
  grep -q "^usage: mnemo .*$cmd" "$TMP/help" || grep -q "^usage: mnemo \[$cmd\]" "$TMP/help" ||
    fail "mnemo $cmd --help printed no usage of $cmd: $(head -2 "$TMP/help")"
done
"$M" run --headless --iterations 2 -h >"$TMP/help" || fail "mnemo run ... -h exited $?"
grep -q -- "--headless" "$TMP/help" || fail "mnemo run -h: no usage"

# --record is the presenter's; headless records to --out (a usage error, exit 2)
expect_fail 2 "with --headless the recording is --out PATH" $M run --headless --frames 2 \
  --out "$TMP/o" --record "$TMP/r.mp4"

expect_fail 1 "No such file" $M inspect "$TMP/missing.onnx"
head -c 3000 "$good" >"$TMP/truncated.onnx"
expect_fail 1 "truncated.onnx' is not an ONNX model" $M inspect "$TMP/truncated.onnx"
head -c 4096 /dev/urandom >"$TMP/random.onnx"
expect_fail 1 "random.onnx" $M infer --model "$TMP/random.onnx" --input "$in64" --output "$TMP/o.npy"
: >"$TMP/empty.onnx"
expect_fail 1 "empty.onnx" $M inspect "$TMP/empty.onnx"
expect_fail 1 "not_a_model.onnx" $M inspect "$B/not_a_model.onnx"
expect_fail 1 "node 'Softmax_7' uses op 'Softmax'" $M inspect "$B/unsupported_op.onnx"
expect_fail 1 "give --size" $M infer --model "$B/dynamic_hw.onnx" --input "$DATA/face_sketch.png" --output "$TMP/o.png"
expect_fail 1 "wrong input rank" $M inspect "$B/rank3_input.onnx"
expect_fail 1 "2 inputs" $M inspect "$B/two_inputs.onnx"
expect_fail 1 "leaves the model's folder" $M inspect "$B/external_escape.onnx"
expect_fail 1 "training=torch.onnx.TrainingMode.EVAL" $M inspect "$DATA/bn_train_op13.onnx"
expect_fail 1 "F.pad(mode='circular')" $M inspect "$B/runtime_slice.onnx"
expect_fail 1 "cannot feed each other" $M inspect "$DATA/chain_a.onnx" --chain "$DATA/chain_b_mismatch.onnx"

# NaN weights: a warning at load names the initializer; inference refuses the NaN output.
expect_fail 1 "NaN/Inf values" $M infer --model "$B/nan_weights.onnx" --input "$DATA/face_sketch.png" --output "$TMP/nan.png"
grep -q "warning: .*conv.weight" "$TMP/err" || fail "no warning naming the NaN initializer"
[ ! -e "$TMP/nan.png" ] || fail "a NaN output was written as an image"

# Inputs and outputs that do not fit.
expect_fail 1 "but the model takes 1x1x64x64" $M infer --model "$good" --input "$DATA/resnet_in_in_64.npy" --output "$TMP/o.npy"
expect_fail 1 "reads .png images and .npy" $M infer --model "$good" --input "$good" --output "$TMP/o.npy"
expect_fail 1 "cannot write '/nonexistent-dir/o.npy'" $M infer --model "$good" --input "$in64" --output /nonexistent-dir/o.npy
expect_fail 1 "cannot write '/nonexistent-dir/o.png'" $M infer --model "$good" --input "$in64" --output /nonexistent-dir/o.png
# A full disk: /dev/full takes the open and refuses the write with ENOSPC.
if [ -w /dev/full ]; then
  ln -s /dev/full "$TMP/full.npy"
  expect_fail 1 "No space left on device" $M infer --model "$good" --input "$in64" --output "$TMP/full.npy"
  ln -s /dev/full "$TMP/full.png"
  expect_fail 1 "full.png" $M infer --model "$good" --input "$in64" --output "$TMP/full.png"
fi

# Seed images that are no sketch: the header's size is refused before a pixel is decoded
# (a small file claiming 5000x5000 would take gigabytes and seconds), with the cap; a FIFO
# is refused without blocking the start.
PNG_TOOL="$(dirname "$M")/tests/png_tool"
RUN_SMALL=(run --headless --iterations 2 -o loop.painter="$good" -o loop.sketcher="$DATA/resnet_in_op13.onnx"
           -o loop.size=32)
"$PNG_TOOL" claim 5000 5000 "$TMP/huge_seed.png"
expect_fail 1 "loop.seed_image: '$TMP/huge_seed.png' is 5000x5000 pixels; at most 16777216 pixels are read (4096 x 4096" \
  timeout -k 5 20 $M "${RUN_SMALL[@]}" -o loop.seed_source=image -o loop.seed_image="$TMP/huge_seed.png"
"$PNG_TOOL" claim 256 300000 "$TMP/huge_bank.png"
expect_fail 1 "loop.seed_bank: '$TMP/huge_bank.png' is 256x300000 pixels; at most 67108864 pixels are read (1024 sketches" \
  timeout -k 5 20 $M "${RUN_SMALL[@]}" -o loop.seed_source=bank -o loop.seed_bank="$TMP/huge_bank.png"
mkfifo "$TMP/seed_fifo.png"
expect_fail 1 "loop.seed_image: $TMP/seed_fifo.png: is a FIFO" \
  timeout -k 5 20 $M "${RUN_SMALL[@]}" -o loop.seed_source=image -o loop.seed_image="$TMP/seed_fifo.png"
mkdir "$TMP/bank_dir.png"
expect_fail 1 "loop.seed_bank: $TMP/bank_dir.png: is a directory" \
  timeout -k 5 20 $M "${RUN_SMALL[@]}" -o loop.seed_source=bank -o loop.seed_bank="$TMP/bank_dir.png"

# Command-line mistakes exit 2.
expect_fail 2 "--model, --input and --output are required" $M infer --model "$good"
expect_fail 2 "--precision is fp32 or bf16" $M infer --model "$good" --input "$in64" --output "$TMP/o.npy" --precision fp8
expect_fail 2 "--size wants HxW" $M inspect "$good" --size 64
expect_fail 2 "unknown command 'paint'" $M paint
expect_fail 1 "unknown backend" $M infer --model "$good" --input "$in64" --output "$TMP/o.npy" --backend tpu

finish
