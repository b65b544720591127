#!/usr/bin/env bash
# Training smoke test: 16 synthetic portraits -> sketchify -> a few pix2pix steps per
# direction (resume included) -> ONNX export -> mnemo infer matches PyTorch.
# Skips (77) with the reason when Debian's python3-torch and friends are missing.
#   train_smoke.sh MNEMO_BINARY
set -u
MNEMO=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${MNEMO_PYTHON:-/usr/bin/python3}  # Debian python3-torch lives there
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export OMP_NUM_THREADS=1  # tiny nets: threads only add sync cost, worse on a busy CI box
if [ ! -x "$PY" ]; then
  echo "skip: no $PY (tools/install-deps.sh --tools installs it)"
  exit 77
fi
if ! missing=$($PY -c '
import importlib.util as u
print(" ".join(m for m in ("torch", "onnx", "numpy", "PIL", "scipy") if u.find_spec(m) is None))' 2>&1) || [ -n "$missing" ]; then
  echo "skip: $PY lacks: ${missing:-?} (tools/install-deps.sh --tools installs python3-torch python3-onnx python3-pil python3-scipy)"
  exit 77
fi
TMP=$(mktemp -d /tmp/mnemo-train-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
set -e
T=$ROOT/tools/train
$PY "$T/synth_faces.py" "$TMP/faces" --n 16 --size 64
$PY "$T/sketchify.py" --sheet "$TMP/sheet.png" --sheet-size 64 "$TMP"/faces/synth_00{0,1}.png
# Sketches: in [-1,1], some ink, and what the loop's simplify leaves (nearly) as it is.
(cd "$T" && $PY -c '
import glob, numpy as np, sketchify as sk
for f in sorted(glob.glob("'"$TMP"'/faces/*.png"))[:4]:
    s = sk.sketchify(sk.load_rgb(f))
    ink = float((s < 0).mean())
    changed = float((np.abs(sk.simplify(s) - s) > 0.5).mean())
    assert s.min() >= -1 and s.max() <= 1, f
    assert 0.005 < ink < 0.3, (f, ink)
    assert changed < 0.01, (f, changed)
print("sketchify: ok")')
common=(--data "$TMP/faces" --cache "$TMP/cache" --size 64 --downs 5 --ngf 8 --max-mult 4
        --ndf 8 --batch 4 --holdout 0.2 --log-every 1 --sample-every 2 --ckpt-every 2
        --eval-every 0 --workers 1 --threads 1 --seed 1)
for role in painter sketcher; do
  run=$TMP/runs/$role
  $PY "$T/train.py" --role $role --run "$run" "${common[@]}" --crop 32 --steps 2
  # Resume from the checkpoint, continue on whole images.
  $PY "$T/train.py" --role $role --run "$run" "${common[@]}" --steps 4 --resume | tee "$TMP/log"
  grep -q "resumed .* at step 2" "$TMP/log"
  grep -q "^step      4 " "$TMP/log"
  test -s "$run/samples/step_000004.png"
  $PY "$T/export.py" --ckpt "$run/ckpt.pt" --out "$TMP/$role.onnx" --size 64 --check 2 \
      --mnemo "$MNEMO" --backend auto
  "$MNEMO" inspect "$TMP/$role.onnx" > "$TMP/inspect"
  grep -q "metadata:   role = $role" "$TMP/inspect"
  grep -q "metadata:   attribution = " "$TMP/inspect"
  # synthetic faces of no recorded provenance: the licence says unknown, never public domain
  grep -q "metadata:   license = unknown" "$TMP/inspect"
done
"$MNEMO" inspect "$TMP/painter.onnx" --chain "$TMP/sketcher.onnx" >/dev/null
# from_onnx.py takes the shipped (fine-tuned, fused 6x6 up-path) models back into checkpoints
# that are exactly the shipped networks; it asserts that itself (max abs < 1e-4)
$PY "$T/synth_faces.py" "$TMP/faces256" --n 12 --size 256
for role in painter sketcher; do
  $PY "$T/from_onnx.py" --onnx "$ROOT/models/$role-small.onnx" --role $role \
      --out "$TMP/$role-init.pt" --data "$TMP/faces256" --cache "$TMP/cache256" --calib 8 \
      --batch 4 | tee "$TMP/log"
  grep -q "checkpoint vs the shipped network: max abs" "$TMP/log"
done
# loop_train.py fine-tunes the pair through unrolled loops; the export states the model's
# history once, on the device it ran on
$PY "$T/loop_train.py" --run "$TMP/loop" --painter "$TMP/painter-init.pt" \
    --sketcher "$TMP/sketcher-init.pt" --data "$TMP/faces256" --cache "$TMP/cache256" \
    --batch 2 --steps 2 --d-warmup 1 --sample-every 1000 --ckpt-every 1000 | tee "$TMP/log"
grep -q "saved .* at step 2" "$TMP/log"
$PY "$T/loop_train.py" --split "$TMP/loop/ckpt.pt" painter "$TMP/loop/painter.pt"
$PY "$T/export.py" --ckpt "$TMP/loop/painter.pt" --out "$TMP/loop-painter.onnx" --check 0
"$MNEMO" inspect "$TMP/loop-painter.onnx" > "$TMP/inspect"
grep "metadata:   training = " "$TMP/inspect"
test "$(grep -o "first round" "$TMP/inspect" | wc -l)" -eq 1
grep -q "metadata:   training = .*2 steps, 4 portraits, [0-9.]* min on cpu" "$TMP/inspect"
echo "train smoke: ok"
