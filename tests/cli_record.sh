#!/usr/bin/env bash
# Recording to video through the binary, when ffmpeg misbehaves: SIGTERM ends a recording
# within seconds even when ffmpeg has stopped reading and ignores SIGTERM itself (a fake
# ffmpeg on PATH), the recording is reported as cut, naming the file, and the loop's state
# is saved; a healthy ffmpeg stopped the same way finishes a file that plays; a recording
# cut short by a kill plays up to the cut, in every container; a headless stream goes out in
# real time, every frame to its listener.
# Usage: cli_record.sh MNEMO DATA
source "$(dirname "$0")/cli_lib.sh"
M=$MNEMO
SMALL=(-o loop.painter="$DATA/unet_bn.onnx" -o loop.sketcher="$DATA/resnet_in_op13.onnx"
       -o loop.size=64 -o capture.width=64 -o capture.height=64
       -o capture.frames_per_iteration=1 -o kiosk.state_dir="$TMP/state" -o kiosk.checkpoint_s=0)

# wait_frames STATS N SECONDS: until the --stats file counts N frames; prints the last count,
# fails if SECONDS pass first
wait_frames() {
  local n=0 i
  for ((i = 0; i < $3 * 10; i++)); do
    n=$(grep -o '"frames":[0-9]*' "$1" 2>/dev/null | tail -n1 | cut -d: -f2)
    [ "${n:-0}" -ge "$2" ] && break
    sleep 0.1
  done
  echo "${n:-0}"
  [ "${n:-0}" -ge "$2" ]
}

# ---- ffmpeg stops reading and ignores SIGTERM: SIGTERM still ends mnemo within seconds -----
# (issue 20, item 16: EINTR was retried forever, and the wait for ffmpeg had no bound). The
# fake holds its stdin open without reading it, so the pipe fills after a few 12 KiB frames.
mkdir -p "$TMP/bin"
cat >"$TMP/bin/ffmpeg" <<FAKE
#!/usr/bin/env bash
echo \$\$ >"$TMP/ffmpeg.pid"
trap '' TERM INT
head -c 36864 >"$TMP/ffmpeg.took" # three 64x64 frames: the loop has iterated
exec sleep 600
FAKE
chmod +x "$TMP/bin/ffmpeg"
PATH="$TMP/bin:$PATH" "$M" run --headless --frames 100000 --out "$TMP/stuck.mp4" "${SMALL[@]}" \
  2>"$TMP/stuck.err" &
pid=$!
wait_for "$TMP/ffmpeg.pid" . 20 || fail "the fake ffmpeg never started: $(cat "$TMP/stuck.err")"
for _ in $(seq 600); do
  [ "$(stat -c %s "$TMP/ffmpeg.took" 2>/dev/null || echo 0)" -ge 36864 ] && break
  sleep 0.1
done
[ "$(stat -c %s "$TMP/ffmpeg.took" 2>/dev/null || echo 0)" -ge 36864 ] ||
  fail "the fake ffmpeg got no three frames in 60 s: $(cat "$TMP/stuck.err")"
sleep 2 # the pipe is full by now: mnemo waits on the fake
start=$(date +%s.%N)
kill -TERM $pid
wait_gone $pid 10
took=$(echo "$(date +%s.%N) - $start" | bc)
kill -KILL $pid 2>/dev/null # hung: the test fails, the suite goes on
wait $pid
code=$?
fake=$(cat "$TMP/ffmpeg.pid" 2>/dev/null)
alive=no
[ -n "$fake" ] && kill -0 "$fake" 2>/dev/null && alive=yes
[ -n "$fake" ] && kill -KILL "$fake" 2>/dev/null
echo "   exit $code after $took s; the fake ffmpeg still alive: $alive"
[ "$(echo "$took < 6" | bc)" -eq 1 ] && [ "$code" -eq 74 ] && passed=$((passed + 1)) ||
  fail "SIGTERM with ffmpeg not reading: exit $code after $took s, want 74 within 6 s: $(cat "$TMP/stuck.err")"
# cut while ffmpeg held a full pipe ("is cut after N frames"), or, when SIGTERM came before
# the pipe filled (a loaded machine), cut when ffmpeg was killed ("is cut short")
grep -q "the video '$TMP/stuck.mp4' is cut" "$TMP/stuck.err" &&
  grep -q "saved iteration [1-9]" "$TMP/stuck.err" && [ "$alive" = no ] && passed=$((passed + 1)) ||
  fail "want the cut recording named, the state saved and ffmpeg gone (alive: $alive): $(cat "$TMP/stuck.err")"

# ---- a healthy ffmpeg and SIGTERM: it finishes the file itself, exit 0, the video plays ----
if command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null; then
  for ext in mkv mp4; do
    "$M" run --headless --frames 100000 --out "$TMP/term.$ext" "${SMALL[@]}" \
      --stats "$TMP/term.$ext.jsonl" 2>"$TMP/term.$ext.err" &
    pid=$!
    # stop it once 20 frames are out, not after a fixed sleep: on a loaded machine 3 s
    # was one frame
    wait_frames "$TMP/term.$ext.jsonl" 20 60 >/dev/null
    kill -TERM $pid
    wait_gone $pid 10
    kill -KILL $pid 2>/dev/null
    wait $pid
    code=$?
    n=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
          -of csv=p=0 "$TMP/term.$ext" 2>/dev/null)
    echo "   .$ext: exit $code, $n frames decode"
    [ "$code" -eq 0 ] && [ "${n:-0}" -ge 10 ] && [ ! -e "$TMP/term.$ext.ffmpeg.log" ] &&
      passed=$((passed + 1)) ||
      fail "SIGTERM with a healthy ffmpeg (.$ext): exit $code, '$n' frames decode: $(cat "$TMP/term.$ext.err")"
  done
else
  echo "skip: a real recording stopped by SIGTERM (ffmpeg/ffprobe not installed)"
fi

# ---- a recording cut short (ffmpeg killed, as by a full disk or a power cut) still plays --
# (issue 20, item 15) .mp4/.mov are fragmented (an index up front, a fragment a second);
# +faststart wrote the index only at the end and left nothing that plays. .mkv writes a
# cluster a second. Every container: what was written decodes.
if command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null; then
  for ext in mp4 mov mkv; do
    "$M" run --headless --frames 100000 --out "$TMP/cut.$ext" "${SMALL[@]}" \
      -o capture.width=128 -o capture.height=128 --stats "$TMP/cut.$ext.jsonl" 2>"$TMP/cut.$ext.err" &
    pid=$!
    # 300 frames: 10 s of video, some fragments written (3 min at most)
    n=$(wait_frames "$TMP/cut.$ext.jsonl" 300 180) ||
      fail "a .$ext recording reached only $n frames in 3 min"
    kill -KILL "$(pgrep -P $pid ffmpeg)"
    for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
    kill -KILL $pid 2>/dev/null
    wait $pid
    code=$?
    n=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
          -of csv=p=0 "$TMP/cut.$ext" 2>/dev/null | tail -n1)
    echo "   .$ext cut: exit $code, ${n:-no} frames decode"
    [ "$code" -eq 74 ] && [ "${n:-0}" -ge 30 ] &&
      grep -q "killed by signal 9 after [0-9]* frames: the video '$TMP/cut.$ext' is cut short" \
        "$TMP/cut.$ext.err" && passed=$((passed + 1)) ||
      fail "a cut .$ext: exit $code (want 74), '${n:-}' frames decode (want >= 30): $(cat "$TMP/cut.$ext.err")"
  done
else
  echo "skip: cut recordings (ffmpeg/ffprobe not installed)"
fi

# ---- a headless stream goes out in real time, every frame to the listener -----------------
if command -v ffmpeg >/dev/null && ffmpeg -hide_banner -protocols 2>/dev/null | grep -qx ' *srt'; then
  port=$((20000 + RANDOM % 20000))
  ffmpeg -v error -y -i "srt://127.0.0.1:$port?mode=listener" -c copy -f mpegts "$TMP/h.ts" \
    2>"$TMP/h.listen" &
  listener=$!
  for _ in $(seq 100); do ss -Hlun "sport = :$port" 2>/dev/null | grep -q . && break; sleep 0.1; done
  start=$(date +%s.%N)
  "$M" run --headless --frames 90 --out "srt://127.0.0.1:$port" "${SMALL[@]}" \
    -o capture.frames_per_iteration=10 2>"$TMP/h.err"
  code=$?
  took=$(echo "$(date +%s.%N) - $start" | bc)
  wait_gone $listener 15 || kill $listener
  wait $listener 2>/dev/null
  n=$(ffprobe -v quiet -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
    -of csv=p=0 "$TMP/h.ts" 2>/dev/null | tail -n1)
  echo "   headless srt stream: exit $code after $took s, ${n:-no} of 90 frames received"
  # 90 frames at 30 fps are 3 s of real time: sent at that pace, not in a burst
  [ "$code" -eq 0 ] && [ "$(echo "$took >= 2.5" | bc)" -eq 1 ] && [ "${n:-0}" -ge 80 ] &&
    passed=$((passed + 1)) || fail "headless stream: exit $code, $took s, ${n:-0} frames: $(cat "$TMP/h.err" "$TMP/h.listen")"
else
  echo "skip: a headless stream (no ffmpeg with srt)"
fi

finish
