#!/usr/bin/env bash
# Soak (issue 8; ctest label `slow`, never in the default `make test`): the whole piece
# headless on the CPU with the 64x64 test fixtures, under `mnemo run --supervise` with a
# fake systemd listening (tests/notify_listen), until --iterations loop iterations or
# --hours have passed, whichever comes first. Resident memory comes from the --stats line
# the piece writes every second; the summary samples it once a minute. Passes when memory
# grew at most 1 MiB after warm-up (the first 5 minutes), nothing crashed or was
# restarted, and the watchdog pings kept coming. Writes the "soak" section of
# bench/RESULTS.md (with --out FILE elsewhere; --no-write: print only).
#
#   tools/bench/soak.sh [--iterations N] [--hours H] [--out FILE | --no-write]
#   env: MNEMO (build/mnemo), LISTEN (build/tests/notify_listen), THREADS (1), EXTRA (-o ...)
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MNEMO=${MNEMO:-$ROOT/build/mnemo}
LISTEN=${LISTEN:-$(dirname "$MNEMO")/tests/notify_listen}
THREADS=${THREADS:-1}
ITERATIONS=1000000
HOURS=2
OUT="$ROOT/bench/RESULTS.md"
WRITE=1
while [ $# -gt 0 ]; do
  case "$1" in
    --iterations) ITERATIONS=$2; shift 2 ;;
    --hours) HOURS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --no-write) WRITE=0; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$MNEMO" ] || { echo "soak.sh: $MNEMO not built (make build)" >&2; exit 1; }
[ -x "$LISTEN" ] || { echo "soak.sh: $LISTEN not built (make build)" >&2; exit 1; }
export OMP_NUM_THREADS=$THREADS
WORK=${SOAK_WORK:-$(mktemp -d /tmp/mnemo-soak-XXXXXX)}
mkdir -p "$WORK"
DATA="$ROOT/tests/data"
SECONDS_MAX=$(awk -v h="$HOURS" 'BEGIN { printf "%d", h * 3600 }')
# shellcheck disable=SC2206
EXTRA_ARGS=(${EXTRA:-})

"$LISTEN" "@mnemo-soak-$$" $((SECONDS_MAX + 600)) >"$WORK/notify.log" &
listener=$!
start=$(date +%s)
NOTIFY_SOCKET="@mnemo-soak-$$" "$MNEMO" run --supervise --watchdog 20 --headless \
  --iterations "$ITERATIONS" -o loop.rate=0 -o loop.size=64 \
  -o loop.painter="$DATA/unet_bn.onnx" -o loop.sketcher="$DATA/resnet_in_op13.onnx" \
  "${EXTRA_ARGS[@]}" --stats "$WORK/stats.jsonl" 2>"$WORK/supervise.log" &
sup=$!
echo "soak: $ITERATIONS iterations or $HOURS h; work dir $WORK (stats.jsonl, supervise.log)"
while kill -0 "$sup" 2>/dev/null; do
  sleep 10
  if [ $(($(date +%s) - start)) -ge "$SECONDS_MAX" ]; then
    kill -TERM "$sup"
    break
  fi
done
wait "$sup"
code=$?
elapsed=$(($(date +%s) - start))
sleep 1
kill "$listener" 2>/dev/null; wait "$listener" 2>/dev/null

# One sample a minute: "minute rss_kib iterations" from the stats lines.
sed -n 's/.*"t":\([0-9.]*\),"iterations":\([0-9]*\),.*"rss_kib":\([0-9]*\),.*/\1 \2 \3/p' \
  "$WORK/stats.jsonl" | awk '{ m = int($1 / 60); if (!(m in seen)) { seen[m] = 1; print m, $3, $2 } }' \
  >"$WORK/rss_by_minute.txt"
final=$(grep '"final":true' "$WORK/stats.jsonl" | tail -n1)
iterations=$(sed -n 's/.*"iterations":\([0-9]*\),.*/\1/p' <<<"$final")
events=$(sed -n 's/.*"events":\({[^}]*}\).*/\1/p' <<<"$final")
reseeds=$(sed -n 's/.*"reseeds":\([0-9]*\).*/\1/p' <<<"$final")
warm=$(awk '$1 >= 5 { print $2; exit }' "$WORK/rss_by_minute.txt")
[ -n "$warm" ] || warm=$(head -n1 "$WORK/rss_by_minute.txt" | awk '{ print $2 }')
last=$(tail -n1 "$WORK/rss_by_minute.txt" | awk '{ print $2 }')
max_after=$(awk '$1 >= 5 { if ($2 > m) m = $2 } END { print m + 0 }' "$WORK/rss_by_minute.txt")
growth=$(( ${max_after:-0} > 0 ? max_after - warm : last - warm ))
restarts=$(grep -c 'restart [0-9]* in' "$WORK/supervise.log")
pings=$(grep -c 'WATCHDOG=1' "$WORK/notify.log")
gap=$(awk '/WATCHDOG=1/ { if (p != "" && $1 - p > g) g = $1 - p; p = $1 } END { printf "%.1f", g }' \
  "$WORK/notify.log")
verdict=pass
[ "$code" -eq 0 ] || verdict=fail
[ "$restarts" -eq 0 ] || verdict=fail
[ "$growth" -le 1024 ] || verdict=fail
[ "${iterations:-0}" -gt 0 ] || verdict=fail

summary() {
  echo "## Soak (\`tools/bench/soak.sh\`)"
  echo
  echo "Machine: $(nproc --all) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); " \
    "date $(date -u +%Y-%m-%dT%H:%MZ); commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null); " \
    "OMP_NUM_THREADS=$THREADS; load average at the end $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "The piece headless under \`--supervise --watchdog 20\` with a fake systemd above it," \
    "64x64 test fixtures, loop.rate 0 (as fast as it goes)${EXTRA:+, extra: \`$EXTRA\`}."
  echo
  echo "| what | value |"
  echo "|---|---|"
  echo "| verdict | **$verdict** (exit $code; growth <= 1024 KiB, no restart) |"
  echo "| iterations | ${iterations:-0} in $elapsed s ($(awk -v i="${iterations:-0}" -v s="$elapsed" 'BEGIN { printf "%.0f", s ? i / s : 0 }') it/s) |"
  echo "| resident memory after warm-up (minute 5) | $warm KiB |"
  echo "| resident memory, highest after warm-up / at the end | $max_after / $last KiB |"
  echo "| growth after warm-up | $growth KiB |"
  echo "| restarts by the supervisor (crashes, hangs) | $restarts |"
  echo "| watchdog pings relayed / longest gap | $pings / $gap s (interval 20 s, pings every 10 s) |"
  echo "| guard events (onsets) | \`$events\` |"
  echo "| reseeds | ${reseeds:-0} |"
  echo
  echo "Resident memory by the hour (KiB): $(awk '$1 % 60 == 0 { printf "%s%dh %s", s, $1 / 60, $2; s = ", " }' "$WORK/rss_by_minute.txt")."
}
summary | tee "$WORK/summary.md"
[ "$WRITE" -eq 1 ] && summary | "$ROOT/tools/bench/section.sh" "$OUT" soak
[ "$verdict" = pass ]
