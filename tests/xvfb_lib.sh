# Shared by the display tests: their own Xvfb. Source after cli_lib.sh, then
#   xvfb_open WxH   a free display number, Xvfb on it, DISPLAY exported; exits 77
#                   (skipped) with the reason when there is no Xvfb or it does not start
#   xvfb_start      Xvfb again on the same number (a test that killed $XVFB)
# The EXIT trap stops Xvfb and $PID (a test's background mnemo, when it sets one) and
# removes $TMP. Mesa's GL driver is dlclose()d at exit, so LeakSanitizer cannot tell its
# allocations from ours: leak checks are off here (the unit and headless tests do them).
XVFB= PID=

xvfb_start() {
  Xvfb ":$XVFB_NUMBER" -screen 0 "${XVFB_SIZE}x24" -nolisten tcp >"$TMP/xvfb.log" 2>&1 &
  XVFB=$!
  for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$XVFB_NUMBER" ] && return 0; sleep 0.1; done
  return 1
}

xvfb_open() {
  command -v Xvfb >/dev/null || { echo "skipped: no Xvfb (apt-get install xvfb)"; exit 77; }
  for _ in $(seq 0 20); do # a free display number
    XVFB_NUMBER=$((100 + (RANDOM % 400)))
    [ -e "/tmp/.X11-unix/X$XVFB_NUMBER" ] || [ -e "/tmp/.X$XVFB_NUMBER-lock" ] || break
  done
  XVFB_SIZE=$1
  trap 'kill $PID 2>/dev/null; kill $XVFB 2>/dev/null; wait $XVFB 2>/dev/null; rm -rf "$TMP"' EXIT
  xvfb_start || { echo "skipped: Xvfb did not start: $(cat "$TMP/xvfb.log")"; exit 77; }
  export DISPLAY=":$XVFB_NUMBER"
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
}
