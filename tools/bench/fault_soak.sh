#!/usr/bin/env bash
# Fault soak (issue 20, "done when"; never in `make test`): the piece in presenter mode
# under its own Xvfb and `mnemo run --supervise --watchdog 5`, on the 64x64 test fixtures,
# state saved every second, until the loop has made --iterations iterations in all
# (restarts resume the count; presenter mode has no --iterations, so the soak stops it). Every --every seconds one fault, in turn:
#   stop    the child SIGSTOPped past the watchdog and its kill: restarted, state resumed
#   config  a broken config saved over piece.cfg (by rename, as editors do): refused with
#           its file:line, the same child runs on; the good one is put back
#   disk    the state folder's disk (a 1 MiB tmpfs: root only, else this fault is skipped)
#           filled: one warning, the same child runs on; freed: "works again"
#   xkill   the X server killed: the child saves and exits 76, Xvfb comes back at once,
#           the supervisor restarts the child and it resumes
# State lost = iterations between the newest --stats line before the fault and the
# one it resumed at, in seconds at the soak's own rate. Writes the "fault-soak" section of
# bench/RESULTS.md (--out FILE elsewhere; --no-write: print only).
#
#   tools/bench/fault_soak.sh [--iterations N] [--every S] [--out FILE | --no-write]
#   env: MNEMO (build/mnemo), THREADS (1)
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MNEMO=${MNEMO:-$ROOT/build/mnemo}
THREADS=${THREADS:-1}
ITERATIONS=100000
EVERY=60
WATCHDOG=5
OUT="$ROOT/bench/RESULTS.md"
WRITE=1
while [ $# -gt 0 ]; do
  case "$1" in
    --iterations) ITERATIONS=$2; shift 2 ;;
    --every) EVERY=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --no-write) WRITE=0; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "fault_soak.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$MNEMO" ] || { echo "fault_soak.sh: $MNEMO not built (make build)" >&2; exit 1; }
command -v Xvfb >/dev/null || { echo "fault_soak.sh: needs Xvfb (apt-get install xvfb)" >&2; exit 1; }
export OMP_NUM_THREADS=$THREADS
WORK=$(mktemp -d /tmp/mnemo-fault-soak-XXXXXX)
STATE="$WORK/state" CFG="$WORK/piece.cfg" LOG="$WORK/supervise.log" STATS="$WORK/stats.jsonl"
DATA="$ROOT/tests/data"
mkdir -p "$STATE"
DISK=0

# ---- the X server: the display tests' own (a free number; xvfb_start again after a kill)
TMP=$WORK sup=
# shellcheck source=tests/xvfb_lib.sh
. "$ROOT/tests/xvfb_lib.sh"
xvfb_open 640x360
cleanup() { # replaces xvfb_open's trap: the supervisor first, then X, then the tmpfs
  [ -n "$sup" ] && kill -TERM "$sup" 2>/dev/null && wait "$sup" 2>/dev/null
  kill "$XVFB" 2>/dev/null
  [ "$DISK" = 1 ] && umount "$STATE" 2>/dev/null
}
trap cleanup EXIT
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=1m mnemo-soak "$STATE" 2>/dev/null; then
  DISK=1
fi

# ---- the piece ------------------------------------------------------------------------
GOOD='perturb = { noise = 0.05; };
kiosk = { checkpoint_s = 1.0; };
'
printf '%s' "$GOOD" >"$CFG"
"$MNEMO" run --supervise --watchdog "$WATCHDOG" --config "$CFG" --backend cpu --windowed \
  -o loop.size=64 -o loop.rate=0 -o present.width=320 \
  -o present.height=180 -o loop.painter="$DATA/unet_bn.onnx" \
  -o loop.sketcher="$DATA/resnet_in_op13.onnx" -o kiosk.state_dir="$STATE" \
  --stats "$STATS" >"$LOG" 2>&1 &
sup=$!
start=$(date +%s)

iterations() { # the loop's count in the newest stats line (0 before the first)
  local n
  n=$(tail -n1 "$STATS" 2>/dev/null | sed -n 's/.*"iterations":\([0-9]*\),.*/\1/p')
  echo "${n:-0}"
}
child() { cat "$STATE/mnemo.lock" 2>/dev/null | tr -d '\n'; }
count() { grep -c -- "$1" "$LOG"; }
wait_count() { # pattern, count to pass, seconds: true once the log holds more
  local end=$(($(date +%s) + $3))
  while [ "$(date +%s)" -lt "$end" ]; do
    [ "$(count "$1")" -gt "$2" ] && return 0
    sleep 0.2
  done
  return 1
}
advancing() { # true when the loop's count grows within 10 s
  local a b
  a=$(iterations)
  for _ in $(seq 50); do
    sleep 0.2
    b=$(iterations)
    [ "$b" -gt "$a" ] && return 0
  done
  return 1
}
resumed_at() { # the iteration of the newest "resumed from" line
  grep -o 'resumed from [^ ]* at iteration [0-9]*' "$LOG" | tail -n1 | awk '{ print $NF }'
}

ROWS="$WORK/faults.txt"
: >"$ROWS"
row() { # kind before_pid after_pid iteration_before resumed_at lost verdict note
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(($(date +%s) - start))" "$@" >>"$ROWS"
  echo "fault_soak: t=$(($(date +%s) - start)) s $1: $7 ($8)"
}

fault_stop() {
  local pid n resumes before
  pid=$(child) resumes=$(count 'resumed from') before=$(iterations)
  kill -STOP "$pid"
  sleep $((WATCHDOG + 8)) # past the watchdog, then past SIGTERM's 5 s grace: SIGKILL
  kill -CONT "$pid" 2>/dev/null
  if wait_count 'resumed from' "$resumes" 30 && advancing; then
    n=$(resumed_at)
    row stop "$pid" "$(child)" "$before" "$n" $((before > n ? before - n : 0)) survived \
      "killed while stopped, restarted"
  else
    row stop "$pid" "$(child)" "$before" - - FAILED "no resume: $(tail -n3 "$LOG" | tr '\n' ' ')"
  fi
}

fault_config() {
  local pid refusals before
  pid=$(child) refusals=$(count 'piece.cfg:') before=$(iterations)
  printf 'perturb = {\n  noise = 0.05;\n  blur = ;\n' >"$CFG.new" && mv "$CFG.new" "$CFG"
  if wait_count 'piece.cfg:' "$refusals" 10 && advancing && [ "$(child)" = "$pid" ]; then
    row config "$pid" "$(child)" "$before" - 0 survived "$(grep 'piece.cfg:' "$LOG" | tail -n1 |
      sed 's/.*\(piece.cfg:[0-9]*\).*/\1 refused/')"
  else
    row config "$pid" "$(child)" "$before" - - FAILED "$(tail -n3 "$LOG" | tr '\n' ' ')"
  fi
  printf '%s' "$GOOD" >"$CFG.new" && mv "$CFG.new" "$CFG"
}

fault_disk() {
  local pid warnings again before
  pid=$(child) warnings=$(count 'cannot save the loop') again=$(count 'works again')
  before=$(iterations)
  dd if=/dev/zero of="$STATE/filler" bs=4k 2>/dev/null
  local said=0 back=0
  wait_count 'cannot save the loop' "$warnings" 10 && said=1
  advancing && [ "$(child)" = "$pid" ] || said=0
  rm -f "$STATE/filler"
  wait_count 'works again' "$again" 10 && back=1
  if [ $said = 1 ] && [ $back = 1 ]; then
    row disk "$pid" "$(child)" "$before" - 0 survived "full: warned, ran on; freed: saving again"
  else
    row disk "$pid" "$(child)" "$before" - - FAILED "warned $said, saving again $back"
  fi
}

fault_xkill() {
  local pid resumes before n
  pid=$(child) resumes=$(count 'resumed from') before=$(iterations)
  kill "$XVFB"
  wait "$XVFB" 2>/dev/null
  xvfb_start
  if wait_count 'resumed from' "$resumes" 30 && advancing; then
    n=$(resumed_at)
    row xkill "$pid" "$(child)" "$before" "$n" $((before > n ? before - n : 0)) survived \
      "$(grep -o 'exited with [0-9]*\|exit [0-9]*' "$LOG" | tail -n1)"
  else
    row xkill "$pid" "$(child)" "$before" - - FAILED "no resume: $(tail -n3 "$LOG" | tr '\n' ' ')"
  fi
}

KINDS=(stop config disk xkill)
echo "fault_soak: $ITERATIONS iterations, a fault every $EVERY s; work dir $WORK"
for _ in $(seq 100); do [ "$(iterations)" -gt 0 ] && break; sleep 0.2; done
next=$((start + EVERY)) k=0
while kill -0 "$sup" 2>/dev/null && [ "$(iterations)" -lt "$ITERATIONS" ]; do
  if [ "$(date +%s)" -ge "$next" ]; then
    kind=${KINDS[$((k % ${#KINDS[@]}))]}
    k=$((k + 1))
    if [ "$kind" = disk ] && [ "$DISK" = 0 ]; then
      echo "fault_soak: disk fault skipped (not root: no tmpfs to fill)"
    else
      "fault_$kind"
    fi
    next=$(($(date +%s) + EVERY))
  fi
  sleep 1
done
final=$(iterations)
elapsed=$(($(date +%s) - start))
alive=no
kill -0 "$sup" 2>/dev/null && alive=yes
kill -TERM "$sup" 2>/dev/null
wait "$sup"
code=$?
sup=

rate=$(awk -v n="$final" -v s="$elapsed" 'BEGIN { printf "%.1f", n / s }')
injected=$(wc -l <"$ROWS")
survived=$(grep -c '| survived |' "$ROWS")
lost_total=$(awk -F'|' '$8 ~ /[0-9]/ { s += $8 } END { print s + 0 }' "$ROWS")
lost_max=$(awk -F'|' '$8 ~ /[0-9]/ && $8 + 0 > m { m = $8 + 0 } END { print m + 0 }' "$ROWS")
secs() { awk -v n="$1" -v r="$rate" 'BEGIN { printf "%.1f", (r > 0 ? n / r : 0) }'; }
restarts=$(grep -c 'restart [0-9]* in' "$LOG")
verdict=pass
[ "$survived" = "$injected" ] && [ "$alive" = yes ] && [ "$code" = 0 ] &&
  [ "$final" -ge "$ITERATIONS" ] || verdict=FAIL
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n1)
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)

report=$(
  cat <<EOF
## Fault soak (\`tools/bench/fault_soak.sh\`)

Machine: $(nproc --all) cores, $cpu; date $(date -u +%Y-%m-%dT%H:%MZ); commit $commit; OMP_NUM_THREADS=$THREADS; load average at the end $(cut -d' ' -f1-3 /proc/loadavg).
The piece in presenter mode under Xvfb and \`--supervise --watchdog $WATCHDOG\`, 64x64 test fixtures, loop.rate 0, a checkpoint every 1 s, a fault every $EVERY s in turn (SIGSTOP past the watchdog's kill; a broken config saved; the state disk, a 1 MiB tmpfs, filled then freed; the X server killed and started again).

| what | value |
|---|---|
| verdict | **$verdict** (piece running at the end: $alive; supervisor exit $code after SIGTERM) |
| iterations | $final in $elapsed s ($rate it/s, restarts included) |
| faults injected / survived | $injected / $survived |
| restarts by the supervisor | $restarts |
| state lost, all faults / worst fault | $lost_total iterations ($(secs "$lost_total") s) / $lost_max iterations ($(secs "$lost_max") s) |

| t (s) | fault | child before | child after | iteration before | resumed at | iterations lost | verdict | what happened |
|---|---|---|---|---|---|---|---|---|
$(cat "$ROWS")
EOF
)
echo "$report"
[ "$WRITE" = 1 ] && "$ROOT/tools/bench/section.sh" "$OUT" fault-soak <<<"$report"
[ "$verdict" = pass ]
