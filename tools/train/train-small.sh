#!/usr/bin/env bash
# The recipe of the shipped small models: one direction, two phases, then export.
#   tools/train/train-small.sh painter|sketcher [RUNS_DIR] [CROP_MINUTES] [FULL_MINUTES] [THREADS]
# Phase 1 trains on random 128x128 crops of the 256x256 portraits (4x the steps per
# second of whole images, at the scale the model runs at); phase 2 resumes on whole
# 256x256 images, so the deep levels and BatchNorm statistics see whole faces.
# Both directions can run at once (THREADS 1 each on a 2-core machine).
set -euo pipefail
role=$1
runs=${2:-/work/train-runs}
crop_min=${3:-27}
full_min=${4:-11}
threads=${5:-1}
here=$(cd "$(dirname "$0")" && pwd)
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export OMP_NUM_THREADS=$threads
PY=/usr/bin/python3
case $role in
  painter) l1=50 ;;   # more weight on the adversarial term: a blurry painter kills the loop
  sketcher) l1=100 ;;
  *) echo "usage: $0 painter|sketcher [RUNS_DIR] [CROP_MIN] [FULL_MIN] [THREADS]" >&2; exit 2 ;;
esac
common=(--role "$role" --run "$runs/$role" --cache "$runs/cache" --threads "$threads"
        --l1 $l1 --log-every 50 --sample-every 250 --ckpt-every 200 --eval-every 1000
        --seed 0)
resume=()
[ -f "$runs/$role/ckpt.pt" ] && resume=(--resume)
nice -n 5 $PY "$here/train.py" "${common[@]}" "${resume[@]}" --crop 128 --batch 8 --minutes "$crop_min"
nice -n 5 $PY "$here/train.py" "${common[@]}" --resume --crop 0 --batch 4 --minutes "$full_min"
