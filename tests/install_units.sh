#!/usr/bin/env bash
# The systemd units and the sysusers file of tools/systemd: `systemd-analyze verify` clean
# (no line of output) on both units, with ExecStart pointing at the built binary; the
# supervision contract the runtime relies on; the user `mnemo` as systemd-sysusers makes it.
# Usage: install_units.sh MNEMO SOURCE_DIR
set -u
M=$1
SRC=$2
UNITS=$SRC/tools/systemd
TMP=$(mktemp -d /tmp/mnemo-units-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0
fail() {
  echo "FAIL: $*"
  failed=$((failed + 1))
}
if ! command -v systemd-analyze >/dev/null; then
  echo "skip: systemd-analyze is not installed (apt-get install systemd)"
  exit 77
fi

# verify SCOPE UNIT: clean means exit 0 and not one line of output (systemd-analyze only
# warns, with exit 0, about an unknown key or a bad value).
verify() {
  local scope=$1 unit=$2 dir=$TMP/$1
  mkdir -p "$dir" "$TMP/runtime"
  sed "s#/usr/bin/mnemo#$M#g" "$unit" >"$dir/mnemo.service"
  if XDG_RUNTIME_DIR=$TMP/runtime systemd-analyze "--$scope" verify "$dir/mnemo.service" \
    >"$TMP/verify.log" 2>&1 && [ ! -s "$TMP/verify.log" ]; then
    echo "ok   systemd-analyze --$scope verify $(basename "$unit")"
    passed=$((passed + 1))
  else
    fail "systemd-analyze --$scope verify $(basename "$unit"): $(cat "$TMP/verify.log")"
  fi
}
verify system "$UNITS/mnemo.service"
verify user "$UNITS/mnemo-user.service"

# The check itself catches a misspelt key (it would pass a broken unit otherwise).
sed 's/^WatchdogSec=/WatchdogSecs=/' "$UNITS/mnemo.service" >"$TMP/typo.service"
failed_before=$failed
verify system "$TMP/typo.service" >/dev/null
if [ "$failed" -gt "$failed_before" ]; then
  failed=$failed_before
  passed=$((passed + 1))
else
  fail "systemd-analyze verify passed a unit with a misspelt key"
fi

# What the runtime (runtime/kiosk/kiosk.c) and the README rely on, in both units.
for unit in "$UNITS/mnemo.service" "$UNITS/mnemo-user.service"; do
  for line in Type=notify NotifyAccess=main Restart=always "ExecReload=/bin/kill -HUP \$MAINPID" \
    "ExecStart=/usr/bin/mnemo run --config /etc/mnemo/kiosk.cfg" StateDirectory=mnemo; do
    grep -qxF -- "$line" "$unit" || fail "$(basename "$unit") lacks '$line'"
  done
  grep -qE '^WatchdogSec=[0-9]+s$' "$unit" || fail "$(basename "$unit") has no WatchdogSec="
done
for line in User=mnemo SupplementaryGroups="video render input" Environment=SDL_VIDEODRIVER=kmsdrm \
  TTYPath=/dev/tty1 Conflicts=getty@tty1.service WantedBy=multi-user.target; do
  grep -qxF -- "$line" "$UNITS/mnemo.service" || fail "mnemo.service lacks '$line'"
done
grep -qxF WantedBy=graphical-session.target "$UNITS/mnemo-user.service" ||
  fail "mnemo-user.service is not wanted by graphical-session.target"
[ "$failed" -eq 0 ] && passed=$((passed + 1))

# ---- the user, made by systemd-sysusers in an empty root --------------------------------
if command -v systemd-sysusers >/dev/null; then
  mkdir -p "$TMP/root/etc"
  if systemd-sysusers --root="$TMP/root" "$UNITS/mnemo.sysusers" >"$TMP/sysusers.log" 2>&1; then
    grep -qE '^mnemo:x:[0-9]+:[0-9]+:[^:]*:/var/lib/mnemo:/usr/sbin/nologin$' "$TMP/root/etc/passwd" ||
      fail "sysusers made no user mnemo with home /var/lib/mnemo: $(cat "$TMP/root/etc/passwd")"
    for group in video render input; do
      grep -qE "^$group:x:[0-9]+:(.*,)?mnemo(,.*)?$" "$TMP/root/etc/group" ||
        fail "mnemo is not in group $group: $(cat "$TMP/root/etc/group")"
    done
    uid=$(awk -F: '$1 == "mnemo" {print $3}' "$TMP/root/etc/passwd")
    [ -n "$uid" ] && [ "$uid" -lt 1000 ] || fail "mnemo is not a system user (uid $uid)"
    [ "$failed" -eq 0 ] && passed=$((passed + 1))
  else
    fail "systemd-sysusers: $(cat "$TMP/sysusers.log")"
  fi
else
  echo "skip: systemd-sysusers is not installed: the sysusers file is not checked"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
