# The web page on the binary, without a browser (web_browser.py has the browser): a headless
# piece serves its --stats line, thumbnail and parameters; a change through the API reaches
# --stats; a refused start names web.token; a taken port names the port; and the token
# never shows in `mnemo params` or the log.
source "$(dirname "$0")/cli_lib.sh"
SMALL=(-o loop.painter="$DATA/unet_bn.onnx" -o loop.sketcher="$DATA/resnet_in_op13.onnx"
       -o loop.size=64 -o loop.seed_source=procedural)

# http METHOD PATH [BODY]: the response (headers and body) from the piece on $PORT, over
# bash's own /dev/tcp (no curl needed).
http() {
  local body=${3:-}
  exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
  printf '%s %s HTTP/1.0\r\nContent-Length: %d\r\nAuthorization: Bearer %s\r\n\r\n%s' \
    "$1" "$2" "${#body}" "${TOKEN:-}" "$body" >&3
  timeout 10 cat <&3
  exec 3<&-
}

echo "== a headless piece with the page on"
TOKEN=tok-$RANDOM$RANDOM
"$MNEMO" run --headless --iterations 100000000 "${SMALL[@]}" -o loop.rate=20 \
  -o web.enabled=true -o web.port=0 -o "web.token=$TOKEN" -o control.glide_ms=0 \
  --stats "$TMP/stats.jsonl" >"$TMP/log" 2>&1 &
PID=$!
if wait_for "$TMP/log" 'the page is at http://127.0.0.1:' 60; then
  PORT=$(grep -o 'http://127.0.0.1:[0-9]*' "$TMP/log" | head -n1 | cut -d: -f3)
  passed=$((passed + 1))
else
  fail "no web page: $(cat "$TMP/log")"
fi
wait_iterations "$TMP/stats.jsonl" 3 60 || fail "no iterations: $(cat "$TMP/log")"
sleep 1.2 # one more stats line, so that the page has one
http GET /api/stats >"$TMP/r" && grep -q '^{"t":.*"backend":"cpu"' "$TMP/r" &&
  passed=$((passed + 1)) || fail "GET /api/stats: $(cat "$TMP/r")"
http GET /api/frame.jpg >"$TMP/r" && grep -qa 'Content-Type: image/jpeg' "$TMP/r" &&
  passed=$((passed + 1)) || fail "GET /api/frame.jpg: $(head -c 300 "$TMP/r")"
http POST /api/params/perturb.noise '{"value": 0.0625}' >"$TMP/r" &&
  grep -q '"value":0.0625' "$TMP/r" && wait_for "$TMP/stats.jsonl" '"perturb_noise":0.0625' 30 &&
  passed=$((passed + 1)) || fail "POST perturb.noise did not reach --stats: $(cat "$TMP/r")"
http POST /api/params/perturb.noise '{"value": 3}' >"$TMP/r"
grep -q '^HTTP/1.[01] 400' "$TMP/r" && grep -q 'out of range (0 .. 1)' "$TMP/r" &&
  passed=$((passed + 1)) || fail "a bad value: $(cat "$TMP/r")"
TOKEN=wrong http GET /api/params >"$TMP/r"
grep -q '^HTTP/1.[01] 401' "$TMP/r" && passed=$((passed + 1)) || fail "wrong token: $(head -n1 "$TMP/r")"
http GET /api/params >"$TMP/r"
grep -q '"name":"web.token".*"value":"(set)"' "$TMP/r" && ! grep -q "$TOKEN" "$TMP/r" &&
  passed=$((passed + 1)) || fail "web.token shown in /api/params"
kill -0 $PID 2>/dev/null && passed=$((passed + 1)) || fail "the piece died: $(cat "$TMP/log")"
kill -TERM $PID
wait $PID
code=$?
[ $code -eq 0 ] && passed=$((passed + 1)) || fail "SIGTERM: exit $code: $(tail -n3 "$TMP/log")"
grep -q "$TOKEN" "$TMP/log" && fail "the token is in the log" || passed=$((passed + 1))

echo "== refused starts"
expect_fail 1 "set web.token too" "$MNEMO" run --headless --iterations 2 "${SMALL[@]}" \
  -o web.enabled=true -o web.address=0.0.0.0
expect_fail 1 "not a numeric IP address" "$MNEMO" run --headless --iterations 2 "${SMALL[@]}" \
  -o web.enabled=true -o web.address=localhost
python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(60)' \
  >"$TMP/taken" &
holder=$!
wait_for "$TMP/taken" '[0-9]' 10
TAKEN=$(cat "$TMP/taken")
expect_fail 1 "cannot listen on 127.0.0.1:$TAKEN (Address already in use" "$MNEMO" run --headless \
  --iterations 2 "${SMALL[@]}" -o web.enabled=true -o "web.port=$TAKEN"
kill $holder

echo "== the token never shows in mnemo params"
"$MNEMO" params >"$TMP/params"
grep -q '^web.token' "$TMP/params" && passed=$((passed + 1)) || fail "web.token not listed"
finish
