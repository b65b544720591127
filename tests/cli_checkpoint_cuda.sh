#!/usr/bin/env bash
# The backend fault seam on the cuda backend (label gpu): MNEMO_FAULT goes through the
# same backend_run as on the CPU, and a sticky fault marks the GPU lost through the same
# backend_lose as a real sticky CUDA error. Skipped (77) where --backend cuda cannot run.
#   cli_checkpoint_cuda.sh MNEMO DATA
source "$(dirname "$0")/cli_lib.sh"
M=$MNEMO
SMALL=(-o loop.painter="$DATA/unet_bn.onnx" -o loop.sketcher="$DATA/resnet_in_op13.onnx"
       -o loop.size=64 -o loop.rate=0 --backend cuda)
if ! "$M" run --headless --iterations 1 "${SMALL[@]}" >/dev/null 2>"$TMP/probe"; then
  echo "skip: --backend cuda cannot run here: $(tail -n1 "$TMP/probe")"
  exit 77
fi
final_iterations() { grep '"final":true' "$1" | grep -o '"iterations":[0-9]*' | cut -d: -f2; }

MNEMO_FAULT=backend:transient@21 expect_ok "$M" run --headless --iterations 30 "${SMALL[@]}" \
  --stats "$TMP/t.jsonl"
[ "$(final_iterations "$TMP/t.jsonl")" = 30 ] && [ "$(grep -c retrying "$TMP/err")" -eq 1 ] &&
  grep -q "cuda backend: injected transient fault at run 21" "$TMP/err" &&
  passed=$((passed + 1)) || fail "cuda, transient fault: $(cat "$TMP/err")"

MNEMO_FAULT=backend:sticky@21 "$M" run --headless --iterations 30 "${SMALL[@]}" \
  -o kiosk.state_dir="$TMP/state" >"$TMP/out" 2>"$TMP/err"
code=$?
[ "$code" -eq 75 ] && grep -q "saved iteration 10 " "$TMP/err" &&
  grep -q "cuda backend: injected sticky fault at run 21" "$TMP/err" &&
  passed=$((passed + 1)) || fail "cuda, sticky fault: exit $code, want 75: $(cat "$TMP/err")"
expect_ok "$M" run --headless --iterations 5 "${SMALL[@]}" -o kiosk.state_dir="$TMP/state" \
  --stats "$TMP/r.jsonl"
[ "$(final_iterations "$TMP/r.jsonl")" = 15 ] && passed=$((passed + 1)) ||
  fail "cuda: after the sticky fault the next run should end at 15: $(tail -n1 "$TMP/r.jsonl")"

# A real sticky fault (MNEMO_CUDA_FAULT: a kernel writing through a bad pointer before run
# 21), replayed as a graph and eagerly: either way classified lost, exit 75, and the next
# start resumes. Eagerly the fault surfaces at a later launch, not at a synchronize.
for eager in 0 1; do
  state="$TMP/state_real_$eager"
  MNEMO_CUDA_EAGER=$eager MNEMO_CUDA_FAULT=illegal-address@21 "$M" run --headless \
    --iterations 30 "${SMALL[@]}" -o kiosk.state_dir="$state" >"$TMP/out" 2>"$TMP/err"
  code=$?
  [ "$code" -eq 75 ] && grep -q "a sticky CUDA error: the device context is lost" "$TMP/err" &&
    passed=$((passed + 1)) ||
    fail "cuda, real illegal address (eager=$eager): exit $code, want 75: $(cat "$TMP/err")"
  expect_ok env MNEMO_CUDA_EAGER=$eager "$M" run --headless --iterations 5 "${SMALL[@]}" \
    -o kiosk.state_dir="$state"
done
finish
