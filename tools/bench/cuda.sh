#!/usr/bin/env bash
# The cuda backend's device run, packaged to fit the device tool's budget (15 minutes of
# device time in all, every start and idle minute counted; the machine reaches nothing
# outside and lacks protobuf-c, libpng, libconfig, liblo, SDL2 and GLEW): build here,
# carry the package, run everything there in one call.
#
#   tools/bench/cuda.sh --package   here: build DIR (default build-device) with CUDA (sm_90
#                                   + PTX), oneDNN off, no -march=native; assemble DIR/pkg
#                                   (the binaries and every shared library they need but
#                                   the C runtime, cuDNN and the driver); check it with ldd
#                                   and against the 64 MiB the working tree may carry
#   tools/bench/cuda.sh --dry-run   print the exact device call (command, carry, timeout_s)
#   tools/bench/cuda.sh --device    there: the checks and the benchmark rows from DIR/pkg,
#                                   in under 8 minutes, everything under $OUT
#   options: --build DIR, --sizes "512 1024", --runs N, --models "resnet9_ngf64 ...",
#            --budget SECONDS (300: --device stops starting steps after it);
#            env PYTHON (python3: the device image's holds PyTorch, CUDA and its cuDNN)
#
# cuDNN does not travel: its libraries are about 500 MB. The device image's PyTorch wheel
# (nvidia-cudnn-cu13) has cuDNN 9, whose soname and legacy API are the ones mnemo was built
# against (9.19 here); --device puts its folder on LD_LIBRARY_PATH and writes both versions
# into summary.txt.
#
# What --device writes under $OUT (at most 8 files come back; these are 4):
#   summary.txt  one PASS/FAIL line per check, versions, GPU, elapsed seconds
#   cuda.md      the benchmark table (the "cuda" section of bench/RESULTS.md, for the lead)
#   rows.tsv     model, size, mnemo cuda graph ms, its rel L2 vs PyTorch, eager ms,
#                MNEMO_CUDA_FIND=1 ms, its rel L2, PyTorch ms
#   logs.tar.gz  every check's and row's log
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tools/bench"
BUILD="$ROOT/build-device"
MODE=""
SIZES="512 1024"
MODELS="resnet9_ngf64 unet256_ngf64"
RUNS=50
PYTHON=${PYTHON:-python3}
BUDGET=300
CARRY_LIMIT=$((64 * 1024 * 1024))
TIMEOUT_S=420

while [ $# -gt 0 ]; do
  case "$1" in
    --package | --dry-run | --device) MODE=${1#--}; shift ;;
    --build) BUILD=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --models) MODELS=$2; shift 2 ;;
    --budget) BUDGET=$2; shift 2 ;;
    -h | --help) awk 'NR > 1 && !/^#/ {exit} NR > 1' "$0"; exit 0 ;;
    *) echo "cuda.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
PKG="$BUILD/pkg"
PKG_REL=${PKG#"$ROOT"/}
BINARIES=(mnemo tests/test_backend_cuda tests/test_parity_ops_cuda tests/test_parity_models_cuda
          tests/npy_compare)
say() { echo "cuda.sh: $*" >&2; }

# ---- here: the package ---------------------------------------------------------------

# Libraries left to the machine: the C runtime every image has, cuDNN (the image's wheel)
# and the driver (mounted by the machine).
system_lib() {
  case "$(basename "$1")" in
    ld-linux* | libc.so* | libm.so* | libpthread.so* | libdl.so* | librt.so* | libstdc++.so* | \
      libgcc_s.so* | libcudnn*.so* | libcuda.so* | libnvidia*.so*) return 0 ;;
  esac
  return 1
}

package_build() {
  say "configuring and building $BUILD (a few minutes on two cores)"
  cmake -S "$ROOT" -B "$BUILD" -DMNEMO_WITH_CUDA=ON -DMNEMO_WITH_DNNL=OFF \
    -DMNEMO_NATIVE_CPU=OFF -DCMAKE_BUILD_TYPE=Release >"$BUILD.configure.log" 2>&1 ||
    { cat "$BUILD.configure.log"; return 1; }
  grep -q 'cuda(cuDNN' "$BUILD.configure.log" ||
    { say "no cuda backend in this build: $(grep 'mnemo backends' "$BUILD.configure.log")"; return 1; }
  local targets=()
  for b in "${BINARIES[@]}"; do targets+=(--target "$(basename "$b")"); done
  cmake --build "$BUILD" -j "${JOBS:-2}" "${targets[@]}" >"$BUILD/build.log" 2>&1 ||
    { tail -n 30 "$BUILD/build.log"; return 1; }
}

package_assemble() {
  rm -rf "$PKG"
  mkdir -p "$PKG/tests" "$PKG/lib"
  for b in "${BINARIES[@]}"; do
    cp "$BUILD/$b" "$PKG/$b" && strip --strip-unneeded "$PKG/$b" || return 1
  done
  local lib
  for lib in $(for b in "${BINARIES[@]}"; do ldd "$PKG/$b"; done |
               awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u); do
    system_lib "$lib" || cp -L "$lib" "$PKG/lib/"
  done
  {
    echo "commit $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD || echo +changes)"
    echo "built $(date -u '+%Y-%m-%d %H:%M UTC') on $(. /etc/os-release && echo "$PRETTY_NAME")"
    grep 'mnemo backends' "$BUILD.configure.log" | sed 's/^-- //'
    echo "cuda code: $(grep -rho 'generate-code=[^ ]*' "$BUILD/CMakeFiles/mnemo_backend_cuda.dir/flags.make" | sort -u | tr '\n' ' ')"
    echo "libraries carried: $(cd "$PKG/lib" && ls | tr '\n' ' ')"
  } >"$PKG/MANIFEST.txt"
}

# Every library each packaged binary loads resolves inside the package, but system_lib's.
package_check() {
  local bad=0 b line path
  for b in "${BINARIES[@]}"; do
    while read -r line; do
      case "$line" in
        *"not found"*) echo "  $b: $line"; bad=1; continue ;;
      esac
      path=$(awk '$2 == "=>" {print $3}' <<<"$line")
      [ -n "$path" ] || continue
      case "$path" in
        "$PKG"/lib/*) ;;
        *) system_lib "$path" || { echo "  $b: $line (outside the package)"; bad=1; } ;;
      esac
    done < <(LD_LIBRARY_PATH="$PKG/lib" ldd "$PKG/$b")
  done
  local size tree
  size=$(du -sb "$PKG" | cut -f1)
  tree=$(cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 du -cb 2>/dev/null | tail -n1 | cut -f1)
  echo "package: $PKG_REL, $((size / 1024 / 1024)) MiB ($size bytes); the working tree beside it $((tree / 1024 / 1024)) MiB; carry limit 64 MiB in all"
  echo "left to the machine: $(for b in "${BINARIES[@]}"; do LD_LIBRARY_PATH="$PKG/lib" ldd "$PKG/$b"; done |
    awk '$2 == "=>" {print $1}' | sort -u | while read -r l; do system_lib "$l" && printf '%s ' "$l"; done)"
  [ $((size + tree)) -lt $CARRY_LIMIT ] || { echo "  over the carry limit"; bad=1; }
  [ $bad -eq 0 ] && echo "ldd: every other library resolves inside $PKG_REL/lib"
  return $bad
}

dry_run() {
  cat <<EOF
The device call (the device tool's run), from the root of the checkout the session sends,
after \`tools/bench/cuda.sh --package\` there has built $PKG_REL:
  command:   tools/bench/cuda.sh --device --sizes "$SIZES" --runs $RUNS --models "$MODELS"
  carry:     ["$PKG_REL"]
  timeout_s: $TIMEOUT_S
It stops starting steps after ${BUDGET} s and writes summary.txt, cuda.md, rows.tsv and
logs.tar.gz under \$OUT: the checks (test_backend_cuda with a device; test_parity_ops_cuda,
every op of the op table and one large case each at 1024² or 3840x2160, and
test_parity_models_cuda, replaying the CUDA graph and eagerly, the models also with
MNEMO_CUDA_FIND=1; cli_cuda_fallback.sh:
capture and algorithm fallbacks; cli_checkpoint_cuda.sh: injected and real sticky faults,
exit 75 and resume; compute-sanitizer memcheck over test_parity_ops_cuda, eager, large
cases left out) and one
row per model and size of $MODELS at $SIZES: mnemo cuda median ms of $RUNS runs
(infer --bench: upload + run + download) replaying the graph, eagerly, and with
MNEMO_CUDA_FIND=1 (timed algorithms), the rel L2 of graph and find against PyTorch's fp32
output, and PyTorch's own CUDA-event median on the same GPU (TF32 off).
EOF
  [ -x "$PKG/mnemo" ] || echo "(no $PKG_REL/mnemo yet: run tools/bench/cuda.sh --package first)"
}

# ---- there: the device run -----------------------------------------------------------

device_env() {
  command -v nvidia-smi >/dev/null &&
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$LOGS/gpu.txt" 2>&1
  local d
  d=$("$PYTHON" -c 'import os, nvidia.cudnn as c; print(os.path.dirname(c.__file__) if c.__file__ else list(c.__path__)[0])' 2>/dev/null)
  CUDNN_VERSION=$("$PYTHON" -m pip show nvidia-cudnn-cu13 2>/dev/null | sed -n 's/^Version: //p')
  export LD_LIBRARY_PATH="$PKG/lib${d:+:$d/lib}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export MNEMO_TEST_DATA="$ROOT/tests/data" OMP_NUM_THREADS=${OMP_NUM_THREADS:-8}
  note "gpu: $(head -n1 "$LOGS/gpu.txt" 2>/dev/null || echo unknown)"
  note "package: $(head -n1 "$PKG/MANIFEST.txt"); $(sed -n 3p "$PKG/MANIFEST.txt")"
  note "cuDNN there: ${CUDNN_VERSION:-not found} from ${d:-nowhere}"
  LD_LIBRARY_PATH=$LD_LIBRARY_PATH ldd "$PKG/mnemo" | grep -E 'not found|cudnn|cudart' >"$LOGS/ldd.txt"
  grep -q 'not found' "$LOGS/ldd.txt" && note "FAIL ldd: $(grep 'not found' "$LOGS/ldd.txt" | tr '\n' ' ')"
}

left() { echo $((BUDGET - SECONDS)); }

# check NAME CAP_SECONDS command...: PASS/FAIL/SKIP line in the summary, the log kept.
check() {
  local name=$1 cap=$2 log="$LOGS/$1.log" code
  shift 2
  [ "$(left)" -gt 20 ] || { note "SKIP $name: the time budget is spent"; return; }
  [ "$cap" -lt "$(left)" ] || cap=$(left)
  local t0=$SECONDS
  timeout "$cap" "$@" >"$log" 2>&1
  code=$?
  if [ $code -eq 0 ]; then note "PASS $name ($((SECONDS - t0)) s): $(tail -n1 "$log")"
  elif [ $code -eq 77 ]; then note "FAIL $name: skipped on the GPU: $(grep -m1 skip "$log")"
  else note "FAIL $name (exit $code$([ $code -eq 124 ] && echo ", timed out at $cap s")): $(grep -m3 -E 'FAIL|CHECK failed|error|mnemo:' "$log" | tr '\n' ' ' | cut -c1-300)"; fi
}

device_checks() {
  local T="$PKG/tests" seed=$(( $(date +%s) % 100000 ))
  check backend_cuda 30 "$T/test_backend_cuda"
  check parity_ops_graph 120 env MNEMO_TEST_SEED=$seed "$T/test_parity_ops_cuda"
  check parity_ops_eager 120 env MNEMO_TEST_SEED=$((seed + 1)) MNEMO_CUDA_EAGER=1 "$T/test_parity_ops_cuda"
  check parity_models_graph 60 "$T/test_parity_models_cuda"
  check parity_models_eager 60 env MNEMO_CUDA_EAGER=1 "$T/test_parity_models_cuda"
  check parity_models_find 60 env MNEMO_CUDA_FIND=1 "$T/test_parity_models_cuda"
  check fallbacks 60 bash "$ROOT/tests/cli_cuda_fallback.sh" "$PKG/mnemo" "$ROOT/tests/data"
  check fault_drill 120 bash "$ROOT/tests/cli_checkpoint_cuda.sh" "$PKG/mnemo" "$ROOT/tests/data"
  if command -v compute-sanitizer >/dev/null; then
    check memcheck_parity_ops 120 env MNEMO_CUDA_EAGER=1 MNEMO_PARITY_LARGE=0 compute-sanitizer --tool memcheck \
      --error-exitcode 9 "$T/test_parity_ops_cuda"
  else
    note "FAIL memcheck_parity_ops: no compute-sanitizer on the PATH"
  fi
}

# The benchmark models, exported there by PyTorch (too big to carry), with the legacy
# exporter where this PyTorch still has it (the importer reads its opset-13 graphs).
device_models() {
  [ "$(left)" -gt 60 ] || { note "SKIP models: the time budget is spent"; return 1; }
  timeout $(($(left) - 30)) "$PYTHON" - "$ROOT/tools/make-fixtures.py" "$MODEL_DIR" "$MODELS" "$SIZES" \
    >"$LOGS/models.log" 2>&1 <<'EOF' || { note "FAIL models: $(tail -n2 "$LOGS/models.log" | tr '\n' ' ')"; return 1; }
import functools, importlib.util, inspect, sys, torch
script, out, names, sizes = sys.argv[1:5]
if "dynamo" in inspect.signature(torch.onnx.export).parameters:
    torch.onnx.export = functools.partial(torch.onnx.export, dynamo=False)
spec = importlib.util.spec_from_file_location("mf", script)
mf = importlib.util.module_from_spec(spec); spec.loader.exec_module(mf)
mf.make_big(out, names=names.split(), sizes=tuple(int(s) for s in sizes.split()))
EOF
}

mnemo_time() { # model size tag env... -> "median_ms" or "n/a"
  local m=$1 s=$2 tag=$3 log="$LOGS/${1}_${2}_$3.log"
  shift 3
  if timeout 120 env "$@" "$PKG/mnemo" infer --model "$MODEL_DIR/${m}_${s}.onnx" \
       --input "$MODEL_DIR/${m}_${s}_in.npy" --output "$MODEL_DIR/${m}_${s}_$tag.npy" \
       --backend cuda --bench "$RUNS" >"$log" 2>&1; then
    sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' "$log" | tail -n1
  else
    echo "n/a"
  fi
}

torch_time() { # model size -> median ms of PyTorch eager on the GPU, CUDA events
  timeout 120 "$PYTHON" - "$ROOT/tools/make-fixtures.py" "$1" "$RUNS" "$MODEL_DIR/${1}_${2}_in.npy" \
    2>>"$LOGS/torch.log" <<'EOF' || echo "n/a"
import importlib.util, statistics, sys
import numpy as np, torch
script, name, runs, inp = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
spec = importlib.util.spec_from_file_location("mf", script)
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

device_rows() {
  local m s g e f t err ferr
  for m in $MODELS; do
    for s in $SIZES; do
      [ "$(left)" -gt 45 ] || { note "SKIP row $m $s: the time budget is spent"; continue; }
      [ -f "$MODEL_DIR/${m}_${s}.onnx" ] || { note "FAIL row $m $s: no model"; continue; }
      g=$(mnemo_time "$m" "$s" graph)
      err=$("$PKG/tests/npy_compare" "$MODEL_DIR/${m}_${s}_graph.npy" "$MODEL_DIR/${m}_${s}_out.npy" \
            1e-4 2>&1 | tail -n1)
      e=$(mnemo_time "$m" "$s" eager MNEMO_CUDA_EAGER=1)
      f=$(mnemo_time "$m" "$s" find MNEMO_CUDA_FIND=1)
      ferr=$("$PKG/tests/npy_compare" "$MODEL_DIR/${m}_${s}_find.npy" "$MODEL_DIR/${m}_${s}_out.npy" \
             1e-4 2>&1 | tail -n1)
      t=$(torch_time "$m" "$s")
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$m" "$s" "$g" "$err" "$e" "$f" "$ferr" "$t" >>"$ROWS"
      [ "$g" != n/a ] && [ "$e" != n/a ] ||
        note "FAIL row $m $s: $(tail -qn1 "$LOGS/${m}_${s}_graph.log" "$LOGS/${m}_${s}_eager.log" | tr '\n' ' ')"
      note "row $m $s: cuda graph $g ms, eager $e ms, find $f ms, PyTorch $t ms; vs PyTorch: $err (find: $ferr)"
    done
  done
}

device_report() {
  {
    echo "## cuda backend ($(head -n1 "$LOGS/gpu.txt" 2>/dev/null || echo unknown GPU), $(date -u '+%Y-%m-%d %H:%M UTC'), $(head -n1 "$PKG/MANIFEST.txt"))"
    echo
    echo "mnemo: \`infer --bench $RUNS\` median, host wall clock around backend_run: input upload +"
    echo "graph replay (or eager launches) + output download, fp32, FMA math, no TF32. PyTorch:"
    echo "eager on the same GPU, fp32 with TF32 off, median of $RUNS CUDA-event timings of the"
    echo "forward alone (no transfers). cuDNN ${CUDNN_VERSION:-unknown} (the image's wheel)."
    echo
    echo "graph: heuristics' algorithms, CUDA graph; eager: the same, launched node by node;"
    echo "find: MNEMO_CUDA_FIND=1 (algorithms by cuDNN's timing at create), CUDA graph."
    echo
    echo "| model | size | mnemo cuda graph ms | vs PyTorch output | eager ms | find ms | find vs PyTorch | PyTorch cuda ms |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
    while IFS=$'\t' read -r m s g err e f ferr t; do
      echo "| $m | $s | $g | $err | $e | $f | $ferr | $t |"
    done <"$ROWS"
    echo
    echo "Checks: $(grep -c '^PASS' "$SUMMARY") passed, $(grep -c '^FAIL' "$SUMMARY") failed, $(grep -c '^SKIP' "$SUMMARY") not run"
    grep -E '^(PASS|FAIL|SKIP)' "$SUMMARY" | sed 's/^/- /'
  } >"$LOGS/cuda.md"
}

device_run() {
  [ -x "$PKG/mnemo" ] || { say "no $PKG/mnemo: carry $PKG_REL (built by --package)"; exit 1; }
  OUT=${OUT:-$(mktemp -d /tmp/mnemo-cuda-XXXXXX)}
  mkdir -p "$OUT"
  LOGS=$(mktemp -d /tmp/mnemo-cuda-logs-XXXXXX)
  MODEL_DIR=$(mktemp -d /tmp/mnemo-cuda-models-XXXXXX)
  SUMMARY="$LOGS/summary.txt" ROWS="$LOGS/rows.tsv"
  : >"$SUMMARY"
  : >"$ROWS"
  note() { echo "$*" | tee -a "$SUMMARY" >&2; }
  SECONDS=0
  device_env
  device_checks
  device_models && device_rows
  note "elapsed: $SECONDS s (budget $BUDGET s)"
  device_report
  cp "$SUMMARY" "$LOGS/cuda.md" "$ROWS" "$OUT/"
  tar -czf "$OUT/logs.tar.gz" -C "$LOGS" . 2>/dev/null
  cat "$LOGS/cuda.md"
  ! grep -q '^FAIL' "$SUMMARY"
}

case "$MODE" in
  package) package_build && package_assemble && package_check ;;
  dry-run) dry_run ;;
  device) device_run ;;
  *) echo "cuda.sh: say --package, --dry-run or --device (see --help)" >&2; exit 2 ;;
esac
