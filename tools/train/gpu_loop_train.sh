#!/usr/bin/env bash
# Loop fine-tuning of the shipped pair on a lent GPU, in one call of the device tool
# (15 minutes of device time in all, machine start included, so everything happens here:
# import, train, split, copy back). The device machine reaches nothing outside, so the
# portraits travel with the call: a folder of the training split's JPEGs (≤ ~30 MB, named in
# the call's `carry`), made here from ../shared/data/portraits.
#
#   tools/train/gpu_loop_train.sh DATA_DIR OUT_DIR MINUTES [BATCH]
#
# DATA_DIR's name says what the data is (export.py writes the attribution and licence
# from it): carry the artflow portraits as a folder named artflow, e.g. .gpu-data/artflow.
#
# 1. the decoded/sketched cache of DATA_DIR, 16 workers;
# 2. from_onnx.py: models/painter-small.onnx and sketcher-small.onnx back into checkpoints
#    (no mnemo there: the import checks itself by re-export);
# 3. loop_train.py --device cuda for MINUTES, batch BATCH (16), from those checkpoints;
# 4. OUT_DIR gets painter.pt and sketcher.pt (one role each, export.py's input), log.jsonl,
#    the last loop sample, train.log and gpu.txt. Export and the mnemo-vs-PyTorch check
#    run back here: `export.py --ckpt painter.pt --out models/painter-small.onnx --check 8`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=$(realpath "$1")
OUT=$2
MINUTES=$3
BATCH=${4:-16}
PY=${PY:-python3}
DEVICE=${DEVICE:-cuda}   # cpu: a dry run of the whole script here
RUN=${RUN:-/tmp/loop-gpu}
export PYTHONUNBUFFERED=1
mkdir -p "$RUN" "$OUT"
cd "$ROOT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/gpu.txt" 2>&1 || true
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" \
  | tee -a "$OUT/gpu.txt"
{
  echo "== cache ($(date -u +%T))"
  "$PY" -c "
import sys; sys.path.insert(0, 'tools/train')
import data as D, sketchify as sk
D.load_cached(D.list_images(['$DATA']), 256, dict(sk.DEFAULTS), '$RUN/cache', workers=16)"
  echo "== import ($(date -u +%T))"
  for role in painter sketcher; do
    "$PY" tools/train/from_onnx.py --onnx "models/$role-small.onnx" --role "$role" \
      --out "$RUN/$role-init.pt" --data "$DATA" --cache "$RUN/cache" --threads 4 &
  done
  wait
  echo "== train ($(date -u +%T))"
  "$PY" tools/train/loop_train.py --run "$RUN" --painter "$RUN/painter-init.pt" \
    --sketcher "$RUN/sketcher-init.pt" --data "$DATA" --cache "$RUN/cache" --device "$DEVICE" \
    --threads 8 --batch "$BATCH" --minutes "$MINUTES" --log-every 50 --ckpt-every 500 \
    --sample-every 100000
  echo "== split ($(date -u +%T))"
  for role in painter sketcher; do
    "$PY" tools/train/loop_train.py --split "$RUN/ckpt.pt" "$role" "$OUT/$role.pt"
  done
} 2>&1 | tee "$OUT/train.log"
cp "$RUN/log.jsonl" "$OUT/"
cp "$(ls "$RUN"/samples/loop_*.png | tail -1)" "$OUT/loop_last.png"
ls -la "$OUT"
