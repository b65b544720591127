#!/usr/bin/env bash
# The Debian package as `make deb` builds it (tools/deb/build.sh, into a folder of its own):
# what it holds, its conffile and maintainer scripts, and Depends that are all Debian
# package names. Usage: install_deb.sh SOURCE_DIR BUILD_DIR
set -u
SRC=$1
BUILD=$2
passed=0
failed=0
fail() {
  echo "FAIL: $*"
  failed=$((failed + 1))
}
for tool in cpack dpkg-deb dpkg-shlibdeps; do
  if ! command -v $tool >/dev/null; then
    echo "skip: $tool is not installed (tools/install-deps.sh installs dpkg-dev)"
    exit 77
  fi
done

JOBS=2 nice -n 10 "$SRC/tools/deb/build.sh" "$BUILD" >"$BUILD.log" 2>&1 ||
  { tail -30 "$BUILD.log"; echo "FAIL: tools/deb/build.sh"; exit 1; }
grep -q "CPU-only" "$BUILD.log" || fail "the build does not say it is CPU-only"
deb=$(ls "$BUILD"/package/mnemo_*_*.deb 2>/dev/null)
[ -f "$deb" ] || { echo "FAIL: no .deb in $BUILD/package"; exit 1; }
echo "ok   built $deb"

# ---- the files -------------------------------------------------------------------------
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's#^\./#/#' >"$BUILD.files"
for f in /usr/bin/mnemo /usr/share/mnemo/models/painter-small.onnx \
  /usr/share/mnemo/models/sketcher-small.onnx /usr/share/mnemo/models/painter-small.md \
  /usr/share/mnemo/shaders/quad.vert /usr/share/mnemo/shaders/present.frag \
  /usr/share/mnemo/configs/kiosk.cfg /usr/share/mnemo/configs/default.cfg /etc/mnemo/kiosk.cfg \
  /usr/lib/systemd/system/mnemo.service /usr/lib/systemd/user/mnemo.service \
  /usr/lib/sysusers.d/mnemo.conf; do
  grep -qxF "$f" "$BUILD.files" || fail "the package lacks $f"
done
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/lib/systemd/system/mnemo.service |
  grep -qx "ExecStart=/usr/bin/mnemo run --config /etc/mnemo/kiosk.cfg" ||
  fail "the packaged unit does not run /usr/bin/mnemo with /etc/mnemo/kiosk.cfg"
# A package runs on other machines: nothing may point into this source tree.
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/bin/mnemo | grep -qaF "$SRC" &&
  fail "the packaged binary names the source tree $SRC"
[ "$failed" -eq 0 ] && passed=$((passed + 1))

# ---- the control part -------------------------------------------------------------------
mkdir -p "$BUILD.control"
dpkg-deb -e "$deb" "$BUILD.control"
[ "$(cat "$BUILD.control/conffiles")" = /etc/mnemo/kiosk.cfg ] ||
  fail "conffiles is not /etc/mnemo/kiosk.cfg: $(cat "$BUILD.control/conffiles")"
for script in postinst prerm postrm; do
  [ -x "$BUILD.control/$script" ] || fail "no executable $script"
  sh -n "$BUILD.control/$script" || fail "$script is not valid sh"
done
grep -q "systemd-sysusers /usr/lib/sysusers.d/mnemo.conf" "$BUILD.control/postinst" ||
  fail "postinst does not create the user from the installed sysusers file"
[ "$(dpkg-deb -f "$deb" Package)" = mnemo ] || fail "the package is not called mnemo"
version=$(sed -n 's/^project(mnemo VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "version is not the project's $version"
[ -n "$(dpkg-deb -f "$deb" Maintainer)" ] || fail "no Maintainer"

# Depends: every name a package of this machine's archive (apt knows it), the libraries
# the binary links among them, and nothing from NVIDIA in a CPU-only package.
depends=$(dpkg-deb -f "$deb" Depends)
echo "     Depends: $depends"
for want in libsdl2-2.0-0 libdnnl2 libconfig9 libpng16-16 libmicrohttpd12 libjpeg62-turbo libc6; do
  grep -qE "(^|, )$want( |,|$)" <<<"$depends" || fail "Depends lacks $want"
done
grep -qiE "cuda|cudnn|nvidia" <<<"$depends" && fail "a CPU-only package depends on CUDA"
for name in $(sed 's/([^)]*)//g; s/|/,/g; s/,/ /g' <<<"$depends"); do
  apt-cache show "$name" >/dev/null 2>&1 || dpkg -s "$name" >/dev/null 2>&1 ||
    fail "Depends names $name, which is no Debian package here"
done
[ "$failed" -eq 0 ] && passed=$((passed + 1))

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
