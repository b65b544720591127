# Shared by the shell tests that drive the mnemo binary.
#   source cli_lib.sh; expect_fail "substring" mnemo args...; ...; finish
# Every failing command must exit 1 (not crash, not 2 unless a usage error is meant),
# print exactly one "mnemo: ..." (or "mnemo <command>: ...") error line (warnings aside), and name what the test expects.
set -u
MNEMO=$1
DATA=$2
TMP=$(mktemp -d /tmp/mnemo-cli-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

fail() {
  echo "FAIL: $*"
  failed=$((failed + 1))
}

# expect_fail CODE "substring" command...
expect_fail() {
  local want_code=$1 want=$2
  shift 2
  "$@" >"$TMP/out" 2>"$TMP/err"
  local code=$?
  local errors
  errors=$(grep -E '^mnemo( [a-z]+)?: ' "$TMP/err" | grep -vc '^mnemo: warning:')
  if [ "$code" -ne "$want_code" ]; then
    fail "$* exited $code, want $want_code; stderr: $(cat "$TMP/err")"
  elif [ "$errors" -ne 1 ]; then
    fail "$* printed $errors error lines, want exactly 1: $(cat "$TMP/err")"
  elif ! grep -qF -- "$want" "$TMP/err"; then
    fail "$*: error does not mention '$want': $(cat "$TMP/err")"
  else
    echo "ok   $(grep -E '^mnemo( [a-z]+)?: ' "$TMP/err" | grep -v '^mnemo: warning')"
    passed=$((passed + 1))
  fi
}

# expect_ok command...
expect_ok() {
  if "$@" >"$TMP/out" 2>"$TMP/err"; then
    passed=$((passed + 1))
  else
    fail "$* exited $?: $(cat "$TMP/err")"
  fi
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

# wait_for FILE PATTERN SECONDS: true once FILE has a line matching PATTERN.
wait_for() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# wait_iterations STATS N SECONDS: until the last --stats line counts N iterations or more
wait_iterations() {
  local i n
  for ((i = 0; i < $3 * 10; i++)); do
    n=$(grep -o '"iterations":[0-9]*' "$1" 2>/dev/null | tail -n1 | cut -d: -f2)
    [ "${n:-0}" -ge "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

# wait_gone PID SECONDS: until the process has ended; 1 while it is still there
wait_gone() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}
