#!/usr/bin/env bash
# CPU benchmark (`make bench`): mnemo ref / cpu fp32 / cpu bf16 against ONNX Runtime and
# PyTorch eager on the same ONNX files, inputs and thread count, in one run; writes
# bench/RESULTS.md. Not a test. Builds nothing of mnemo: it uses build/mnemo as it is.
#
#   tools/bench/cpu.sh [--models "unet_bn resnet_in unet256_ngf64 resnet9_ngf64 painter-small
#                      sketcher-small"]
#                      [--sizes "256 512"] [--runs N] [--no-ref] [--out FILE]
#   env: MNEMO (build/mnemo), PYTHON (/usr/bin/python3), THREADS (2)
#
# Prepares what it lacks: the models (tools/make-fixtures.py --big into bench/models/)
# and onnxruntime-node (npm, into tools/bench/node_modules, benchmark-only). A tool that
# is missing or fails becomes "n/a" with its reason in the table; the run goes on.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/tools/bench"
MNEMO=${MNEMO:-$ROOT/build/mnemo}
PYTHON=${PYTHON:-/usr/bin/python3}
THREADS=${THREADS:-2}
MODELS="unet_bn resnet_in unet256_ngf64 resnet9_ngf64 painter-small sketcher-small"
SIZES="256 512"
RUNS=""
REF=1
OUT="$ROOT/bench/RESULTS.md"
OPENBLAS=/usr/lib/x86_64-linux-gnu/openblas-pthread

while [ $# -gt 0 ]; do
  case "$1" in
    --models) MODELS=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --no-ref) REF=0; shift ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "cpu.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

MODEL_DIR="$ROOT/bench/models"
WORK=$(mktemp -d /tmp/mnemo-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
JSONL="$WORK/results.jsonl"
: >"$JSONL"
export OMP_NUM_THREADS=$THREADS

say() { echo "bench: $*" >&2; }
# JSON string from text: quotes, backslashes and control characters escaped.
jstr() { printf '%s' "$1" | tr '\n\t' '  ' | sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$/"/'; }
record_na() { # model size tool reason (file paths shortened to their names)
  set -- "$1" "$2" "$3" "${4//$MODEL_DIR\//}"
  echo "{\"kind\":\"time\",\"model\":\"$1\",\"size\":$2,\"tool\":\"$3\",\"na\":$(jstr "$4")}" >>"$JSONL"
  say "$1 $2: $3: n/a: $4"
}
# The last meaningful line a failed command printed, for the n/a reason.
why() { grep -v '^\s*$' "$1" | tail -n 1 | cut -c1-200; }

# Timed runs: enough to get a median without hogging the shared machine.
runs_for() { # model size -> runs
  [ -n "$RUNS" ] && { echo "$RUNS"; return; }
  local n
  case "$1" in
    unet_bn|painter-small|sketcher-small) n=30 ;; resnet_in) n=20 ;; unet256_ngf64) n=15 ;; resnet9_ngf64) n=7 ;; *) n=10 ;;
  esac
  [ "$2" -ge 512 ] && n=$(( n / 2 > 5 ? n / 2 : 5 ))
  echo "$n"
}

# ---- what is there -------------------------------------------------------------------
have_python=0
if "$PYTHON" -c 'import torch, onnx, numpy' 2>/dev/null; then
  have_python=1
else
  py_why="$PYTHON with torch, onnx and numpy not found (tools/install-deps.sh --tools)"
fi
have_mnemo=0
if [ -x "$MNEMO" ]; then
  have_mnemo=1
  mnemo_version=$("$MNEMO" --version 2>/dev/null | head -n1)
  backends=$(grep -h 'mnemo backends' "$ROOT"/build.configure.log 2>/dev/null | tail -n1 |
             sed 's/^-- //')
  [ -n "$backends" ] && mnemo_version="$mnemo_version; $backends"
else
  mnemo_why="$MNEMO not built (make build)"
  mnemo_version="not built"
fi

# The default models (models/*-small.onnx) run at their own fixed 256² only, from a
# seeded input made here; PyTorch has no architecture for them (n/a).
is_default() { case "$1" in painter-small|sketcher-small) return 0 ;; esac; return 1; }
sizes_of() { if is_default "$1"; then echo 256; else echo "$SIZES"; fi; }
mkdir -p "$MODEL_DIR"
for m in $MODELS; do
  is_default "$m" || continue
  [ -f "$ROOT/models/$m.onnx" ] && ln -sf "$ROOT/models/$m.onnx" "$MODEL_DIR/${m}_256.onnx"
  if [ ! -f "$MODEL_DIR/${m}_256_in.npy" ] && [ $have_python -eq 1 ]; then
    ch=$("$PYTHON" -c "import onnx,sys; m=onnx.load(sys.argv[1]); print(m.graph.input[0].type.tensor_type.shape.dim[1].dim_value)" "$ROOT/models/$m.onnx")
    "$PYTHON" -c "import numpy as np,sys; np.save(sys.argv[1], np.random.default_rng(0).uniform(-1,1,(1,int(sys.argv[2]),256,256)).astype(np.float32))" \
      "$MODEL_DIR/${m}_256_in.npy" "$ch"
  fi
done

# Models: make the missing ones (the fixture architectures and the full-size ones).
missing=0
for m in $MODELS; do
  is_default "$m" && continue
  for s in $SIZES; do
    [ -f "$MODEL_DIR/${m}_${s}.onnx" ] && [ -f "$MODEL_DIR/${m}_${s}_out.npy" ] || missing=1
  done
done
if [ $missing -eq 1 ] && [ $have_python -eq 1 ]; then
  say "making the benchmark models (tools/make-fixtures.py --big) ..."
  LD_LIBRARY_PATH=$OPENBLAS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
    "$PYTHON" "$ROOT/tools/make-fixtures.py" --big >&2 ||
    say "make-fixtures.py --big failed; rows without a model are n/a"
fi

# ONNX Runtime: onnxruntime-node into tools/bench/node_modules (benchmark-only).
have_ort=0
ort_version="n/a"
if ! command -v node >/dev/null; then
  ort_why="node not installed (tools/install-deps.sh --tools)"
else
  if [ ! -d "$HERE/node_modules/onnxruntime-node" ]; then
    if command -v npm >/dev/null; then
      say "installing onnxruntime-node into tools/bench/node_modules ..."
      (cd "$HERE" && ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm install --no-audit --no-fund \
         >"$WORK/npm.log" 2>&1) || say "npm install failed: $(why "$WORK/npm.log")"
    fi
  fi
  if [ -d "$HERE/node_modules/onnxruntime-node" ]; then
    have_ort=1
  else
    ort_why="onnxruntime-node not installed (npm missing or install failed)"
  fi
fi

# fp32 and bf16 peaks: tiny FMA / vdpbf16ps loops (tools/bench/peak.c) when a C compiler
# is there, run before and after the benchmark; the better of the two counts (the machine
# is shared). No bf16 peak on a CPU without avx512_bf16.
peak="" peak_source="" peak_bf16=""
have_peak=0
cc -O2 -march=native -ffp-contract=fast -fopenmp "$HERE/peak.c" -o "$WORK/peak" \
  2>"$WORK/cc.log" && have_peak=1
probe_peak() {
  [ $have_peak -eq 1 ] || return
  local p
  if p=$("$WORK/peak" "$THREADS" bf16 2>/dev/null); then
    if [ -z "$peak_bf16" ] || awk -v a="$p" -v b="$peak_bf16" 'BEGIN { exit !(a > b) }'; then
      peak_bf16=$p
    fi
  fi
  p=$("$WORK/peak" "$THREADS" 2>/dev/null) || return
  if [ -z "$peak" ] || awk -v a="$p" -v b="$peak" 'BEGIN { exit !(a > b) }'; then peak=$p; fi
}
probe_peak

cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)
# The vector extensions that decide which oneDNN kernels run, with every table.
cpu_flags() {
  local f out="" name
  f=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
  for name in avx2 avx512f avx512_bf16 avx512_fp16 amx_bf16 amx_tile; do
    case "$f" in *" $name "*) out="$out $name: yes," ;; *) out="$out $name: no," ;; esac
  done
  echo "${out# }" | sed 's/,$//'
}
flags=$(cpu_flags)
cores=$(nproc)
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$ROOT" diff --quiet HEAD 2>/dev/null || commit="$commit + local changes"
load=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- one model x size ----------------------------------------------------------------
bench_mnemo() { # model size tool backend precision runs
  local m=$1 s=$2 tool=$3 backend=$4 prec=$5 n=$6
  local model="$MODEL_DIR/${m}_${s}.onnx" out="$WORK/${m}_${s}_${backend}_${prec}.npy"
  if [ $have_mnemo -eq 0 ]; then record_na "$m" "$s" "$tool" "$mnemo_why"; return; fi
  say "$m $s: $tool ($n runs)"
  if ! timeout 900 "$MNEMO" infer --model "$model" --input "$MODEL_DIR/${m}_${s}_in.npy" \
       --output "$out" --backend "$backend" --precision "$prec" --threads "$THREADS" \
       --bench "$n" >"$WORK/log" 2>&1; then
    record_na "$m" "$s" "$tool" "mnemo failed: $(why "$WORK/log")"
    return
  fi
  local line med min
  line=$(grep '^bench:' "$WORK/log" | tail -n1)
  med=$(sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' <<<"$line")
  min=$(sed -n 's/.*min \([0-9.]*\) ms.*/\1/p' <<<"$line")
  if [ -z "$med" ] || [ -z "$min" ]; then
    record_na "$m" "$s" "$tool" "no 'bench: ... median X ms, min Y ms' line in mnemo's output"
    return
  fi
  echo "{\"kind\":\"time\",\"model\":\"$m\",\"size\":$s,\"tool\":\"$tool\",\"median_ms\":$med,\"min_ms\":$min,\"runs\":$n,\"out\":$(jstr "$out"),\"ref\":$(jstr "$MODEL_DIR/${m}_${s}_out.npy")}" >>"$JSONL"
}

bench_ort() { # model size runs
  local m=$1 s=$2 n=$3 out="$WORK/${m}_${s}_ort.npy"
  if [ $have_ort -eq 0 ]; then record_na "$m" "$s" "ONNX Runtime" "$ort_why"; return; fi
  say "$m $s: ONNX Runtime ($n runs)"
  if ! timeout 900 node "$HERE/ort.mjs" "$MODEL_DIR/${m}_${s}.onnx" \
       "$MODEL_DIR/${m}_${s}_in.npy" "$n" "$THREADS" "$out" >"$WORK/log" 2>&1; then
    record_na "$m" "$s" "ONNX Runtime" "ort.mjs failed: $(why "$WORK/log")"
    return
  fi
  local json
  json=$(grep '^{' "$WORK/log" | tail -n1)
  ort_version=$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' <<<"$json")
  json=${json#\{}
  echo "{\"kind\":\"time\",\"model\":\"$m\",\"size\":$s,\"tool\":\"ONNX Runtime\",${json%\}},\"out\":$(jstr "$out"),\"ref\":$(jstr "$MODEL_DIR/${m}_${s}_out.npy")}" >>"$JSONL"
}

bench_torch() { # model size runs
  local m=$1 s=$2 n=$3
  if [ $have_python -eq 0 ]; then record_na "$m" "$s" "PyTorch" "$py_why"; return; fi
  say "$m $s: PyTorch ($n runs)"
  if ! LD_LIBRARY_PATH=$OPENBLAS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} timeout 900 \
       "$PYTHON" "$HERE/torch_bench.py" "$m" "$s" "$n" --threads "$THREADS" \
       --input "$MODEL_DIR/${m}_${s}_in.npy" >"$WORK/log" 2>&1; then
    record_na "$m" "$s" "PyTorch" "torch_bench.py failed: $(why "$WORK/log")"
    return
  fi
  local json
  json=$(grep '^{' "$WORK/log" | tail -n1)
  torch_version=$(sed -n 's/.*"torch": "\([^"]*\)".*/\1/p' <<<"$json")
  blas=$(sed -n 's/.*"blas": "\([^"]*\)".*/\1/p' <<<"$json")
  echo "{\"kind\":\"time\",\"model\":\"$m\",\"size\":$s,\"tool\":\"PyTorch\",${json#\{}" >>"$JSONL"
  local g
  g=$(sed -n 's/.*"gmacs": \([0-9.e+-]*\).*/\1/p' <<<"$json")
  [ -n "$g" ] && echo "{\"kind\":\"gmacs\",\"model\":\"$m\",\"size\":$s,\"gmacs\":$g}" >>"$JSONL"
}

gmacs_from_mnemo() { # model size: when PyTorch could not count them
  [ $have_mnemo -eq 1 ] || return
  grep -q "\"kind\":\"gmacs\",\"model\":\"$1\",\"size\":$2," "$JSONL" && return
  local g
  g=$("$MNEMO" inspect "$MODEL_DIR/${1}_${2}.onnx" 2>/dev/null |
      sed -n 's/^MACs:[[:space:]]*\([0-9.]*\) G.*/\1/p')
  [ -n "$g" ] && echo "{\"kind\":\"gmacs\",\"model\":\"$1\",\"size\":$2,\"gmacs\":$g}" >>"$JSONL"
}

torch_version="n/a"
blas="n/a"
for m in $MODELS; do
  for s in $(sizes_of "$m"); do
    if [ ! -f "$MODEL_DIR/${m}_${s}.onnx" ] || [ ! -f "$MODEL_DIR/${m}_${s}_in.npy" ]; then
      for t in "mnemo ref" "mnemo cpu fp32" "mnemo cpu bf16" "ONNX Runtime" "PyTorch"; do
        record_na "$m" "$s" "$t" "no model file ${m}_${s}.onnx (tools/make-fixtures.py --big failed or not run)"
      done
      continue
    fi
    n=$(runs_for "$m" "$s")
    case "$m" in
      unet_bn|resnet_in|chain_*)
        if [ $REF -eq 1 ]; then bench_mnemo "$m" "$s" "mnemo ref" ref fp32 3
        else record_na "$m" "$s" "mnemo ref" "skipped (--no-ref)"; fi ;;
      *) record_na "$m" "$s" "mnemo ref" "skipped: full-size model, far too slow for the plain C reference" ;;
    esac
    bench_mnemo "$m" "$s" "mnemo cpu fp32" cpu fp32 "$n"
    bench_mnemo "$m" "$s" "mnemo cpu bf16" cpu bf16 "$n"
    bench_ort "$m" "$s" "$n"
    if is_default "$m"; then
      record_na "$m" "$s" "PyTorch" "no PyTorch architecture for the default models in torch_bench.py"
    else
      bench_torch "$m" "$s" "$n"
    fi
    gmacs_from_mnemo "$m" "$s"
  done
done

# ---- the table -----------------------------------------------------------------------
probe_peak
if [ -n "$peak" ]; then
  peak_source="measured by tools/bench/peak.c before and after the run, the better of the two"
else
  peak=233
  peak_source="not measured (no C compiler with OpenMP); the FACTS.md figure"
fi
[ $have_ort -eq 1 ] && [ "$ort_version" = "n/a" ] && ort_version="(version unknown)"
notes_json="[]"
host_note="$(uname -r)"
{
  printf '{"kind":"env","cpu":%s,"cores":%s,"date":%s,"commit":%s,"load":%s,' \
    "$(jstr "${cpu:-unknown}")" "$cores" "$(jstr "$(date -u '+%Y-%m-%d %H:%M UTC')")" \
    "$(jstr "$commit")" "$(jstr "$load")"
  printf '"threads":%s,"mnemo":%s,"ort":%s,"torch":%s,"blas":%s,' "$THREADS" \
    "$(jstr "$mnemo_version")" "$(jstr "$ort_version")" "$(jstr "$torch_version")" "$(jstr "$blas")"
  printf '"peak_gflops":%s,"peak_bf16_gflops":%s,"flags":%s,' "$peak" "${peak_bf16:-null}" \
    "$(jstr "$flags")"
  printf '"peak_source":%s,"host_note":%s,"notes":%s}\n' \
    "$(jstr "$peak_source")" "$(jstr "Linux $host_note")" "$notes_json"
} >>"$JSONL"
mkdir -p "$(dirname "$OUT")"
if python3 "$HERE/report.py" "$JSONL" "$WORK/cpu.md" 2>"$WORK/report.log" ||
   "$PYTHON" "$HERE/report.py" "$JSONL" "$WORK/cpu.md" 2>"$WORK/report.log"; then
  "$HERE/section.sh" "$OUT" cpu <"$WORK/cpu.md" # the loop benchmark keeps its own section
  say "wrote the cpu section of ${OUT#$ROOT/}"
  cat "$WORK/cpu.md"
else
  cat "$WORK/report.log" >&2
  cp "$JSONL" "$ROOT/bench/results.jsonl"
  say "report.py failed; raw results in bench/results.jsonl"
  exit 1
fi
