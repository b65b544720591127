#!/usr/bin/env bash
# GPU check and benchmark of the cuda backend, for a machine with a GPU (the device tool's
# H200): one call builds, checks and times, printing a short table last.
#
#   tools/bench/cuda.sh [--build DIR] [--no-build] [--sizes "256 512 1024"] [--runs N]
#                       [--models "unet256_ngf64 resnet9_ngf64"] [--no-sanitizer] [--out FILE]
#   env: PYTHON (python3), OUT (where logs go; the device tool's $OUT), CPU_RUNS (3)
#
# 1. Build (CMake, -DMNEMO_WITH_CUDA=ON) into DIR (default build-gpu), finding cuDNN in the
#    system or in PyTorch's pip package (nvidia-cudnn-cu13). --no-build: DIR is prebuilt.
# 2. Correctness: the gpu-labelled suites (test_parity_ops_cuda with a fresh random seed,
#    test_parity_models_cuda), once replaying the CUDA graph and once eagerly
#    (MNEMO_CUDA_EAGER=1); then compute-sanitizer memcheck and racecheck on the op suite.
# 3. Timing: the fixtures and tools/make-fixtures.py --big models at each size, mnemo
#    cuda fp32 vs mnemo cpu fp32 vs PyTorch eager on the same GPU (CUDA events, warm-up,
#    median), each output compared with PyTorch's; writes the "cuda" section of
#    bench/RESULTS.md (tools/bench/section.sh).
# mnemo's times are `infer --bench`: host wall clock around backend_run, so they include
# the input upload and output download (PyTorch's do not: a fair end-to-end number would
# add them there too; the table says which is which).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tools/bench"
PYTHON=${PYTHON:-python3}
BUILD="$ROOT/build-gpu"
DO_BUILD=1
SIZES="256 512 1024"
MODELS="unet_bn resnet_in unet256_ngf64 resnet9_ngf64"
RUNS=100
CPU_RUNS=${CPU_RUNS:-3}
SANITIZER=1
RESULTS="$ROOT/bench/RESULTS.md"
LOGS=${OUT:-$(mktemp -d /tmp/mnemo-cuda-XXXXXX)}

while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    --sizes) SIZES=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --models) MODELS=$2; shift 2 ;;
    --no-sanitizer) SANITIZER=0; shift ;;
    --out) RESULTS=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "cuda.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$LOGS"
say() { echo "cuda.sh: $*" >&2; }
SUMMARY="$LOGS/summary.txt"
: >"$SUMMARY"
note() { echo "$*" | tee -a "$SUMMARY" >&2; }

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total \
  --format=csv,noheader >"$LOGS/gpu.txt" 2>&1
GPU=$(head -n1 "$LOGS/gpu.txt" 2>/dev/null || echo "unknown GPU")
note "gpu: $GPU"

# ---- 1. build ------------------------------------------------------------------------
cudnn_dir() { # the folder holding include/cudnn.h and lib/libcudnn.so*, from PyTorch's wheel
  "$PYTHON" -c 'import os, nvidia.cudnn as c; print(os.path.dirname(c.__file__) if c.__file__ else list(c.__path__)[0])' 2>/dev/null
}
if [ $DO_BUILD -eq 1 ]; then
  flags=(-DMNEMO_WITH_CUDA=ON -DCMAKE_BUILD_TYPE=Release)
  if [ ! -f /usr/include/cudnn.h ] && [ ! -f /usr/local/cuda/include/cudnn.h ]; then
    d=$(cudnn_dir)
    if [ -n "$d" ] && [ -f "$d/include/cudnn.h" ]; then
      lib=$(ls "$d"/lib/libcudnn.so* 2>/dev/null | head -n1)
      flags+=(-DCUDNN_INCLUDE="$d/include" -DCUDNN_LIB="$lib")
      export LD_LIBRARY_PATH="$d/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
      say "cuDNN from PyTorch's wheel: $d"
    fi
  fi
  if ! cmake -S "$ROOT" -B "$BUILD" "${flags[@]}" >"$LOGS/configure.log" 2>&1 ||
     ! cmake --build "$BUILD" -j "$(nproc)" >"$LOGS/build.log" 2>&1; then
    note "BUILD FAILED: $(grep -iE 'error|not found' "$LOGS"/configure.log "$LOGS"/build.log | head -n3)"
    note "(no protobuf-c/libpng/libconfig dev packages there? build here and pass --no-build --build DIR)"
    exit 1
  fi
  note "build: $(grep 'mnemo backends' "$LOGS/configure.log" | sed 's/^-- //')"
fi
MNEMO="$BUILD/mnemo"
TESTS="$BUILD/tests"
[ -x "$MNEMO" ] || { note "no $MNEMO"; exit 1; }
export MNEMO_TEST_DATA="$ROOT/tests/data" OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}

# ---- 2. correctness ------------------------------------------------------------------
suite() { # name env... -> PASS/FAIL line in the summary
  local name=$1 log="$LOGS/$1.log"
  shift
  if env "$@" >"$log" 2>&1; then note "PASS $name: $(tail -n1 "$log")"
  else note "FAIL $name (exit $?): $(grep -m3 -E 'CHECK failed|skip|error' "$log" | tr '\n' ' ')"; fi
}
seed=$(( $(date +%s) % 100000 ))
suite parity_ops_graph MNEMO_TEST_SEED=$seed "$TESTS/test_parity_ops_cuda"
suite parity_ops_eager MNEMO_TEST_SEED=$((seed + 1)) MNEMO_CUDA_EAGER=1 "$TESTS/test_parity_ops_cuda"
suite parity_models_graph "$TESTS/test_parity_models_cuda"
suite parity_models_eager MNEMO_CUDA_EAGER=1 "$TESTS/test_parity_models_cuda"
suite backend_cuda "$TESTS/test_backend_cuda"
if [ $SANITIZER -eq 1 ] && command -v compute-sanitizer >/dev/null; then
  for tool in memcheck racecheck; do
    suite "sanitizer_$tool" MNEMO_CUDA_EAGER=1 compute-sanitizer --tool $tool --error-exitcode 9 \
      "$TESTS/test_parity_models_cuda"
  done
fi

# ---- 3. timing -----------------------------------------------------------------------
MODEL_DIR="$ROOT/bench/models"
ROOT="$ROOT" "$PYTHON" -c "
import importlib.util, sys
spec = importlib.util.spec_from_file_location('mf', '$ROOT/tools/make-fixtures.py')
mf = importlib.util.module_from_spec(spec); spec.loader.exec_module(mf)
mf.make_big('$MODEL_DIR', names='$MODELS'.split(), sizes=tuple(int(s) for s in '$SIZES'.split()))
" >"$LOGS/models.log" 2>&1 || note "making models failed: $(tail -n1 "$LOGS/models.log")"

ROWS="$LOGS/rows.tsv"
: >"$ROWS"
mnemo_time() { # model size backend runs -> "median_ms rel_l2" or "n/a reason"
  local m=$1 s=$2 be=$3 n=$4 out="$LOGS/${1}_${2}_$3.npy"
  if ! timeout 900 "$MNEMO" infer --model "$MODEL_DIR/${m}_${s}.onnx" --input \
       "$MODEL_DIR/${m}_${s}_in.npy" --output "$out" --backend "$be" --bench "$n" \
       >"$LOGS/${m}_${s}_$be.log" 2>&1; then
    echo "n/a $(grep -v '^\s*$' "$LOGS/${m}_${s}_$be.log" | tail -n1 | cut -c1-120)"
    return
  fi
  local med err
  med=$(sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' "$LOGS/${m}_${s}_$be.log" | tail -n1)
  err=$("$BUILD/tests/npy_compare" "$out" "$MODEL_DIR/${m}_${s}_out.npy" 1e-4 2>&1 | tail -n1)
  echo "$med $err"
}
torch_time() { # model size runs -> median ms of PyTorch eager on the GPU, CUDA events
  ROOT="$ROOT" "$PYTHON" - "$1" "$2" "$3" "$MODEL_DIR/${1}_${2}_in.npy" 2>"$LOGS/torch.err" <<'EOF' || echo "n/a"
import importlib.util, os, statistics, sys
import numpy as np, torch
name, size, runs, inp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
spec = importlib.util.spec_from_file_location("mf", os.path.join(os.environ["ROOT"], "tools", "make-fixtures.py"))
mf = importlib.util.module_from_spec(spec); spec.loader.exec_module(mf)
torch.backends.cudnn.allow_tf32 = False  # fp32 as mnemo runs it (FMA, no TF32)
torch.backends.cuda.matmul.allow_tf32 = False
model = mf.build(name).cuda().eval()
x = torch.from_numpy(np.load(inp)).cuda()
with torch.no_grad():
    for _ in range(10):
        model(x)
    times = []
    for _ in range(runs):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record(); model(x); b.record(); b.synchronize()
        times.append(a.elapsed_time(b))
print(f"{statistics.median(times):.3f}")
EOF
}
for m in $MODELS; do
  for s in $SIZES; do
    [ -f "$MODEL_DIR/${m}_${s}.onnx" ] || { note "no model ${m}_${s}"; continue; }
    say "$m $s"
    c=$(mnemo_time "$m" "$s" cuda "$RUNS")
    p=$(mnemo_time "$m" "$s" cpu "$CPU_RUNS")
    t=$(torch_time "$m" "$s" "$RUNS")
    printf '%s\t%s\t%s\t%s\t%s\n' "$m" "$s" "$c" "$p" "$t" >>"$ROWS"
  done
done

commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
{
  echo "## cuda backend ($GPU, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit)"
  echo
  echo "mnemo: \`infer --bench $RUNS\` median, host wall clock, input upload + graph replay +"
  echo "output download (fp32, FMA math, no TF32). PyTorch: eager, same GPU, fp32 with TF32 off,"
  echo "median of $RUNS CUDA-event timings of the forward alone. cpu: $CPU_RUNS runs, all cores."
  echo
  echo "| model | size | mnemo cuda ms | cuda vs PyTorch output | mnemo cpu ms | PyTorch cuda ms |"
  echo "| --- | --- | --- | --- | --- | --- |"
  while IFS=$'\t' read -r m s c p t; do
    echo "| $m | $s | ${c%% *} | ${c#* } | ${p%% *} | $t |"
  done <"$ROWS"
  echo
  echo "Checks: $(grep -c '^PASS' "$SUMMARY") passed, $(grep -c '^FAIL' "$SUMMARY") failed"
  grep -E '^(PASS|FAIL)' "$SUMMARY" | sed 's/^/- /'
} >"$LOGS/cuda.md"
"$HERE/section.sh" "$RESULTS" cuda <"$LOGS/cuda.md"
cp "$LOGS/cuda.md" "$LOGS/RESULTS-cuda.md" 2>/dev/null
cat "$LOGS/cuda.md"
! grep -q '^FAIL' "$SUMMARY"
