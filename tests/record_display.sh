#!/usr/bin/env bash
# Recording what the screen shows while presenting (capture.out / --record, issue 19), under
# Xvfb: ~10 s recorded in segments, each finished one playing, its frames those of the
# screen; a test card recorded the right way up and at capture.live_height; a stream to an
# ffmpeg listener on 127.0.0.1 (srt, or udp where ffmpeg has no srt) with its frames counted;
# the listener killed mid-run, an encoder that stops taking frames, ffmpeg killed under
# --supervise, and a full disk (a small tmpfs) each stop the recording with one log line and
# a --stats field while the piece runs on. Starts its own Xvfb; exits 77 (skipped) with the
# reason when there is no Xvfb, no GL or no ffmpeg.
#   record_display.sh MNEMO DATA
source "$(dirname "$0")/cli_lib.sh"
TOOL="$(dirname "$MNEMO")/tests/png_tool"
source "$(dirname "$0")/xvfb_lib.sh"
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null ||
  { echo "skipped: no ffmpeg/ffprobe (apt-get install ffmpeg)"; exit 77; }
xvfb_open 640x360

SMALL=(-o "loop.painter=$DATA/unet_bn.onnx" -o "loop.sketcher=$DATA/resnet_in_op13.onnx"
  -o loop.size=64 --backend cpu --windowed -o present.width=320 -o present.height=180
  -o present.fps=30 -o capture.fps=30)
EXACT=(-o present.grain=0 -o present.vignette=0 -o present.interpolate=cut)

if ! MNEMO_PRESENT_EXIT_AFTER=2 timeout 60 "$MNEMO" run "${SMALL[@]}" >"$TMP/probe" 2>&1; then
  echo "skipped: no usable GL under Xvfb: $(tail -n1 "$TMP/probe")"
  exit 77
fi

# stat FILE FIELD: the field's value in the last --stats line that has it
stat() { grep -o "\"$2\":[a-z0-9.]*" "$1" 2>/dev/null | tail -n1 | cut -d: -f2; }

# wait_stat FILE FIELD MIN SECONDS: until the field reaches MIN (true for booleans)
wait_stat() {
  local i v
  for ((i = 0; i < $4 * 10; i++)); do
    v=$(stat "$1" "$2")
    if [ "$3" = true ]; then [ "$v" = true ] && return 0; else [ "${v:-0}" -ge "$3" ] && return 0; fi
    sleep 0.1
  done
  return 1
}

# frames FILE: how many frames decode; "bad" when ffprobe reports an error on the way
frames() {
  local n
  n=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
    -of csv=p=0 "$1" 2>"$TMP/probe.err" | tail -n1)
  [ -s "$TMP/probe.err" ] && echo bad || echo "${n:-0}"
}

# decoded FILE: how many frames decode, errors aside (a file cut short ends in one)
decoded() {
  ffprobe -v quiet -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
    -of csv=p=0 "$1" 2>/dev/null | tail -n1
}

# runs_on FILE N SECONDS: the presenter shows N more frames within SECONDS
runs_on() {
  local from
  from=$(stat "$1" display_frames)
  wait_stat "$1" display_frames $((${from:-0} + $2)) "$3"
}

# stop PID: SIGTERM; its exit code (within 10 s, or it is killed)
stop() {
  kill -TERM "$1"
  wait_gone "$1" 10 || kill -KILL "$1"
  wait "$1"
}

stopped_lines() { grep -c "recording to .* stopped" "$1"; }

echo "== ~10 s recorded while presenting, in segments of 4 s: the frames are the screen's"
if MNEMO_PRESENT_EXIT_AFTER=300 MNEMO_PRESENT_SNAPSHOT="$TMP/screen.png" timeout 180 "$MNEMO" run \
  "${SMALL[@]}" "${EXACT[@]}" -o loop.rate=1 --record "$TMP/show.mp4" -o capture.segment_s=4 \
  -o capture.quality=0 \
  --stats "$TMP/show.jsonl" >"$TMP/show.log" 2>&1; then
  mapfile -t segs < <(ls "$TMP"/show-*.mp4 2>/dev/null)
  recorded=$(stat "$TMP/show.jsonl" record_frames)
  total=0 report=""
  for s in "${segs[@]}"; do
    n=$(frames "$s")
    report+=" $n"
    [ "$n" = bad ] || total=$((total + n))
  done
  echo "   ${#segs[@]} segments (frames:$report), $total frames in all; $recorded handed to ffmpeg," \
    "$(stat "$TMP/show.jsonl" record_dropped) dropped; display $(stat "$TMP/show.jsonl" display_fps) fps"
  # 300 frames at 30 fps take 10 s or more: 8 s of video at the least, 4 s a segment
  [ "${#segs[@]}" -ge 3 ] && [ "${recorded:-0}" -ge 240 ] && [ "$total" -eq "$recorded" ] &&
    passed=$((passed + 1)) || fail "want >= 3 segments holding every frame handed over: $(cat "$TMP/show.log")"
  for s in "${segs[@]::${#segs[@]}-1}"; do # every finished segment: 4 s of it
    n=$(frames "$s")
    [ "$n" != bad ] && [ "$n" -ge 110 ] && [ "$n" -le 130 ] && passed=$((passed + 1)) ||
      fail "finished segment $s: '$n' frames decode, want 120 (4 s at 30 fps): $(cat "$TMP/probe.err")"
  done
  # The screen's last frame (read back before the swap) is among the last recorded: with
  # loop.rate=1 and no crossfade the screen changes once a second. Lossless H.264 still
  # subsamples colour (yuv420p), so the screen's frame goes through the same encoding first:
  # then the two are the same to the bit.
  ffmpeg -v error -sseof -1 -i "${segs[-1]}" -vsync 0 "$TMP/last_%02d.png"
  ffmpeg -v error -i "$TMP/screen.png" -pix_fmt yuv420p -c:v libx264 -crf 0 "$TMP/screen.mkv" &&
    ffmpeg -v error -i "$TMP/screen.mkv" "$TMP/screen420.png"
  best=999
  for f in "$TMP"/last_*.png; do
    read -r d _ < <("$TOOL" diff "$f" "$TMP/screen420.png")
    best=$(awk -v a="$d" -v b="$best" 'BEGIN { print (a < b) ? a : b }')
  done
  read -r _ sd < <("$TOOL" stats "$TMP/screen.png")
  echo "   the screen's last frame vs the closest of the recording's last second: mean diff $best"
  awk -v d="$best" -v s="$sd" 'BEGIN { exit !(d <= 0.5 && s > 5) }' && passed=$((passed + 1)) ||
    fail "the recording does not end on the screen's frame (mean diff $best, screen sd $sd)"
else
  fail "recording while presenting failed: $(tail -n3 "$TMP/show.log")"
fi

echo "== a recording that cannot start: one line, and the piece runs without it"
MNEMO_PRESENT_EXIT_AFTER=30 timeout 60 "$MNEMO" run "${SMALL[@]}" --record /proc/mnemo-none/x.mp4 \
  --stats "$TMP/none.jsonl" >"$TMP/none.log" 2>&1 && [ "$(stat "$TMP/none.jsonl" record_failed)" = true ] &&
  [ "$(grep -c "without recording" "$TMP/none.log")" -eq 1 ] && passed=$((passed + 1)) ||
  fail "an unwritable capture.out: $(cat "$TMP/none.log")"

echo "== the test card, the right way up, at the screen's size and at capture.live_height=90"
export MNEMO_PRESENT_PATTERN=1
for h in 0 90; do
  MNEMO_PRESENT_EXIT_AFTER=45 MNEMO_PRESENT_SNAPSHOT="$TMP/card$h.png" timeout 60 "$MNEMO" run \
    "${SMALL[@]}" "${EXACT[@]}" --record "$TMP/card$h.mkv" -o capture.segment_s=0 \
    -o capture.quality=0 -o capture.live_height=$h >"$TMP/card.log" 2>&1 ||
    fail "test card run: $(tail -n3 "$TMP/card.log")"
  ffmpeg -v error -sseof -0.5 -i "$TMP/card$h.mkv" -frames:v 1 "$TMP/card$h.rec.png"
  read -r w hh _ < <("$(dirname "$MNEMO")/tests/png_info" "$TMP/card$h.rec.png")
  if [ "$h" = 0 ]; then
    read -r d m < <("$TOOL" diff "$TMP/card$h.rec.png" "$TMP/card$h.png")
    echo "   ${w}x$hh recorded vs the screen: mean diff $d (max $m: yuv420p's colour edges)"
    [ "$w x $hh" = "320 x 180" ] && awk -v d="$d" 'BEGIN { exit !(d <= 2) }' &&
      passed=$((passed + 1)) || fail "card at the screen's size: ${w}x$hh, mean diff $d"
  else
    [ "$w x $hh" = "160 x 90" ] && passed=$((passed + 1)) || fail "live_height=90 recorded ${w}x$hh"
  fi
  for probe in "0.34 0.25 255 0 0 red" "0.66 0.25 0 255 0 green" "0.34 0.75 0 0 255 blue" \
    "0.66 0.75 255 255 255 white"; do
    read -r fx fy r g b name <<<"$probe"
    x=$(awk -v f="$fx" -v w="$w" 'BEGIN { printf "%d", f * w }')
    y=$(awk -v f="$fy" -v h="$hh" 'BEGIN { printf "%d", f * h }')
    read -r pr pg pb < <("$TOOL" pixel "$TMP/card$h.rec.png" "$x" "$y")
    awk -v a="$pr $pg $pb" -v b="$r $g $b" 'BEGIN { split(a, p); split(b, q)
      for (i = 1; i <= 3; i++) if ((p[i] - q[i])^2 > 400) exit 1 }' && passed=$((passed + 1)) ||
      fail "card at live_height=$h: pixel $x,$y is ($pr $pg $pb), want $name"
  done
done
unset MNEMO_PRESENT_PATTERN

# ---- streams: an ffmpeg listener on 127.0.0.1 ---------------------------------------------
if ffmpeg -hide_banner -protocols 2>/dev/null | grep -qx ' *srt'; then PROTO=srt; else PROTO=udp; fi
PORT=$((20000 + RANDOM % 20000))
# listen NAME: an ffmpeg listener on the next port writing what it receives to $TMP/NAME.ts
listen() {
  PORT=$((PORT + 1))
  local url="udp://127.0.0.1:$PORT"
  [ "$PROTO" = srt ] && url="srt://127.0.0.1:$PORT?mode=listener"
  ffmpeg -v error -y -i "$url" -c copy -f mpegts "$TMP/$1.ts" 2>"$TMP/$1.listen.log" &
  LISTENER=$!
  for _ in $(seq 100); do ss -Hlun "sport = :$PORT" 2>/dev/null | grep -q . && break; sleep 0.1; done
  URL="$PROTO://127.0.0.1:$PORT"
}

echo "== a stream ($PROTO) to a listener on 127.0.0.1: the frames arrive"
listen recv
MNEMO_PRESENT_EXIT_AFTER=150 timeout 120 "$MNEMO" run "${SMALL[@]}" --record "$URL" \
  --stats "$TMP/stream.jsonl" >"$TMP/stream.log" 2>&1 || fail "streaming run: $(tail -n3 "$TMP/stream.log")"
wait_gone "$LISTENER" 15 || kill "$LISTENER" # srt ends with the sender; udp never does
wait "$LISTENER" 2>/dev/null
sent=$(stat "$TMP/stream.jsonl" record_frames)
got=$(decoded "$TMP/recv.ts")
echo "   $sent frames sent, ${got:-none} received"
[ "${sent:-0}" -ge 60 ] && [ "${got:-0}" -ge $((sent * 8 / 10)) ] && passed=$((passed + 1)) ||
  fail "sent ${sent:-0} frames, received ${got:-0}: $(cat "$TMP/stream.log" "$TMP/recv.listen.log")"

echo "== the listener killed mid-run: the piece runs on"
listen gone
"$MNEMO" run "${SMALL[@]}" --record "$URL" --stats "$TMP/gone.jsonl" >"$TMP/gone.log" 2>&1 &
PID=$!
wait_stat "$TMP/gone.jsonl" record_frames 60 60 || fail "no frames streamed: $(cat "$TMP/gone.log")"
kill -KILL "$LISTENER"
wait "$LISTENER" 2>/dev/null
if [ "$PROTO" = srt ]; then # srt notices the lost peer (udp cannot): the recording stops
  wait_stat "$TMP/gone.jsonl" record_failed true 60 ||
    fail "the lost peer did not stop the recording: $(cat "$TMP/gone.log")"
fi
runs_on "$TMP/gone.jsonl" 60 60 && kill -0 $PID && passed=$((passed + 1)) ||
  fail "the piece did not run on without its peer: $(cat "$TMP/gone.log")"
stop $PID && passed=$((passed + 1)) || fail "SIGTERM after a lost peer: exit $?: $(cat "$TMP/gone.log")"
PID=
lines=$(stopped_lines "$TMP/gone.log")
echo "   $(grep "recording to" "$TMP/gone.log" | head -n1)"
[ "$PROTO" = udp ] || [ "$lines" -eq 1 ] && passed=$((passed + 1)) ||
  fail "want one line saying the recording stopped, got $lines: $(cat "$TMP/gone.log")"

# ---- an encoder that stops taking frames ---------------------------------------------------
echo "== ffmpeg stops reading (and ignores SIGTERM): dropped from the recording, not the screen"
mkdir -p "$TMP/bin"
cat >"$TMP/bin/ffmpeg" <<FAKE
#!/usr/bin/env bash
echo \$\$ >"$TMP/fake.pid"
trap '' TERM INT
head -c 172800 >/dev/null # one 320x180 frame, then nothing more
exec sleep 600
FAKE
chmod +x "$TMP/bin/ffmpeg"
PATH="$TMP/bin:$PATH" "$MNEMO" run "${SMALL[@]}" --record "$TMP/stuck.mp4" \
  --stats "$TMP/stuck.jsonl" >"$TMP/stuck.log" 2>&1 &
PID=$!
wait_stat "$TMP/stuck.jsonl" record_dropped 30 60 || fail "no frames dropped: $(cat "$TMP/stuck.log")"
runs_on "$TMP/stuck.jsonl" 60 30 && passed=$((passed + 1)) ||
  fail "the screen waited for a stuck encoder: $(cat "$TMP/stuck.log")"
wait_stat "$TMP/stuck.jsonl" record_failed true 40 && passed=$((passed + 1)) ||
  fail "a stuck encoder was not given up on: $(cat "$TMP/stuck.log")"
fake=$(cat "$TMP/fake.pid" 2>/dev/null)
wait_gone "$fake" 10 && passed=$((passed + 1)) || fail "the stuck ffmpeg was left running"
kill -KILL "$fake" 2>/dev/null
runs_on "$TMP/stuck.jsonl" 30 30 || fail "the piece stopped with its recording"
stop $PID && passed=$((passed + 1)) || fail "SIGTERM after a stuck encoder: exit $?"
PID=
echo "   $(grep "recording to" "$TMP/stuck.log")"
[ "$(stopped_lines "$TMP/stuck.log")" -eq 1 ] && passed=$((passed + 1)) ||
  fail "want one line saying the recording stopped: $(cat "$TMP/stuck.log")"

# ---- --supervise: a dying ffmpeg is not a reason to restart --------------------------------
echo "== --supervise: ffmpeg killed; the recording stops, the piece is not restarted"
"$MNEMO" run --supervise "${SMALL[@]}" --record "$TMP/sup.mkv" -o capture.segment_s=0 \
  --stats "$TMP/sup.jsonl" >"$TMP/sup.log" 2>&1 &
PID=$!
wait_stat "$TMP/sup.jsonl" record_frames 120 60 || fail "supervised: nothing recorded: $(cat "$TMP/sup.log")"
child=$(pgrep -P $PID | head -n1)
enc=$(pgrep -f "file:$TMP/sup.mkv" | head -n1)
[ -n "$enc" ] && kill -KILL "$enc"
wait_stat "$TMP/sup.jsonl" record_failed true 30 || fail "killing ffmpeg did not stop the recording"
runs_on "$TMP/sup.jsonl" 60 30 && [ "$(pgrep -P $PID | head -n1)" = "$child" ] &&
  ! grep -q "restart [0-9]" "$TMP/sup.log" && passed=$((passed + 1)) ||
  fail "the recording's end decided a restart (child $child): $(cat "$TMP/sup.log")"
stop $PID && passed=$((passed + 1)) || fail "supervised SIGTERM: exit $?: $(cat "$TMP/sup.log")"
PID=
n=$(decoded "$TMP/sup.mkv")
echo "   $(grep "recording to" "$TMP/sup.log"); ${n:-no} frames play"
[ "${n:-0}" -ge 30 ] && passed=$((passed + 1)) || fail "the cut .mkv does not play (${n:-no} frames)"

# ---- a full disk ---------------------------------------------------------------------------
echo "== a full disk (a 512 KiB tmpfs): the finished segments play, the piece runs on"
FULL=(run "${SMALL[@]}" --record "$TMP/full/show.mp4" -o capture.segment_s=2
  --stats "$TMP/full.jsonl")
mkdir -p "$TMP/full" "$TMP/kept"
if unshare -rm true 2>/dev/null; then
  # a mount namespace of our own: the tmpfs lives as long as the piece, then the finished
  # segments are copied out for ffprobe
  unshare -rm bash -c 'mount -t tmpfs -o size=512k tmpfs "$1" || exit 3; shift 2
    "$@" & echo $! >"'"$TMP"'/full.pid"; wait $!; rc=$?; cp -a "'"$TMP"'/full/." "'"$TMP"'/kept/"
    exit $rc' _ "$TMP/full" -- "$MNEMO" "${FULL[@]}" >"$TMP/full.log" 2>&1 &
  KIND=tmpfs
else
  # no mount namespace here: a fake ffmpeg that meets ENOSPC the way ffmpeg reports it
  cat >"$TMP/bin/ffmpeg" <<FAKE
#!/usr/bin/env bash
head -c 518400 >/dev/null
echo "av_interleaved_write_frame(): No space left on device" >&2
exit 1
FAKE
  PATH="$TMP/bin:$PATH" "$MNEMO" "${FULL[@]}" >"$TMP/full.log" 2>&1 &
  echo $! >"$TMP/full.pid"
  KIND="fake ffmpeg (no mount namespace: unshare -rm fails)"
fi
outer=$!
wait_for "$TMP/full.pid" . 20
PID=$(cat "$TMP/full.pid")
wait_stat "$TMP/full.jsonl" record_failed true 120 && passed=$((passed + 1)) ||
  fail "$KIND: a full disk did not stop the recording: $(cat "$TMP/full.log")"
runs_on "$TMP/full.jsonl" 60 30 && passed=$((passed + 1)) ||
  fail "$KIND: the piece did not run on with a full disk: $(cat "$TMP/full.log")"
kill -TERM "$PID" # inside the namespace: not this shell's child
wait $outer && passed=$((passed + 1)) || fail "$KIND: SIGTERM with a full disk: exit $?: $(cat "$TMP/full.log")"
PID=
echo "   $KIND: $(grep "recording to" "$TMP/full.log")"
[ "$(stopped_lines "$TMP/full.log")" -eq 1 ] && grep -q "No space left on device" "$TMP/full.log" &&
  passed=$((passed + 1)) || fail "$KIND: want one line naming the full disk: $(cat "$TMP/full.log")"
if [ "$KIND" = tmpfs ]; then
  mapfile -t segs < <(find "$TMP/kept" -name 'show-*.mp4' -size +0 | sort)
  report=""
  for s in "${segs[@]}"; do report+=" $(frames "$s")"; done
  echo "   segments on the full disk (frames):$report"
  [ "${#segs[@]}" -ge 2 ] || fail "want two or more segments before the disk filled: $report"
  for s in "${segs[@]::${#segs[@]}-1}"; do # the last one is the one the disk cut
    n=$(frames "$s")
    [ "$n" != bad ] && [ "$n" -ge 25 ] && passed=$((passed + 1)) ||
      fail "finished segment $s on the full disk: '$n' frames decode: $(cat "$TMP/probe.err")"
  done
fi

finish
