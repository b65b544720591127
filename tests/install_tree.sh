#!/usr/bin/env bash
# `cmake --install` into a temporary DESTDIR, then the installed binary run from / (as a
# systemd service is) with the installed kiosk config: it must find the installed models
# and shaders (runtime/base/datapath.h), and a relative path found nowhere must be an error that
# names every place tried. Usage: install_tree.sh MNEMO DATA BUILD_DIR PREFIX SYSCONFDIR
source "$(dirname "$0")/cli_lib.sh"
BUILD=$3
prefix=$4
sysconf=$5
ROOT=$TMP/root
TREE=$ROOT$prefix
CFG=$ROOT$sysconf/mnemo/kiosk.cfg
BIN=$TREE/bin/mnemo

# ---- the tree ---------------------------------------------------------------------------
DESTDIR=$ROOT cmake --install "$BUILD" >"$TMP/install.log" 2>&1 ||
  { cat "$TMP/install.log"; fail "cmake --install failed"; finish; exit 1; }
for f in bin/mnemo share/mnemo/models/painter-small.onnx share/mnemo/models/sketcher-small.onnx \
  share/mnemo/models/faces.png \
  share/mnemo/models/painter-small.md share/mnemo/models/sketcher-small.md \
  share/mnemo/shaders/quad.vert share/mnemo/shaders/mix.frag share/mnemo/shaders/present.frag \
  share/mnemo/shaders/hud.frag share/mnemo/configs/default.cfg share/mnemo/configs/kiosk.cfg \
  lib/systemd/system/mnemo.service lib/systemd/user/mnemo.service lib/sysusers.d/mnemo.conf; do
  [ -f "$TREE/$f" ] || fail "not installed: $prefix/$f"
done
[ -f "$CFG" ] || fail "not installed: $sysconf/mnemo/kiosk.cfg"
[ -x "$BIN" ] || fail "$prefix/bin/mnemo is not executable"
# The units name this prefix's binary and config, whatever the prefix.
for unit in system user; do
  grep -qx "ExecStart=$prefix/bin/mnemo run --config $sysconf/mnemo/kiosk.cfg" \
    "$TREE/lib/systemd/$unit/mnemo.service" || fail "the $unit unit's ExecStart is not this prefix's"
done
passed=$((passed + 1))

# ---- from / with the installed config: the installed models and shaders -----------------
cd / || exit 1
expect_ok "$BIN" check "$CFG"
grep -qx "  loop.painter     $TREE/share/mnemo/models/painter-small.onnx" "$TMP/out" &&
  grep -qx "  loop.sketcher    $TREE/share/mnemo/models/sketcher-small.onnx" "$TMP/out" &&
  grep -qx "  shaders          $TREE/share/mnemo/shaders" "$TMP/out" && passed=$((passed + 1)) ||
  fail "check does not find the installed models and shaders: $(cat "$TMP/out")"

expect_ok "$BIN" run --config "$CFG" --headless --iterations 5 -o loop.size=64 -o loop.rate=0 \
  --stats "$TMP/stats.jsonl"
grep -q '"iterations":5,' "$TMP/stats.jsonl" && passed=$((passed + 1)) ||
  fail "the installed piece did not run 5 iterations: $(tail -1 "$TMP/stats.jsonl")"

# ---- the state across restarts, from / as the service runs -------------------------------
# The models are found in the data folder, not in the working directory: the checkpoint's
# digest must read the same files, or every start says "checkpoints off".
for n in 1 2; do
  expect_ok "$BIN" run --config "$CFG" --headless --iterations 5 -o loop.size=64 -o loop.rate=0 \
    -o kiosk.state_dir="$TMP/state" --stats "$TMP/state.jsonl"
  grep -q "checkpoints off" "$TMP/err" && fail "installed, run $n: $(cat "$TMP/err")"
done
grep -q '"iterations":10,' "$TMP/state.jsonl" &&
  grep -q "resumed from $TMP/state/mnemo.state at iteration 5" "$TMP/err" &&
  passed=$((passed + 1)) || fail "the installed piece did not resume its state: $(cat "$TMP/err")"

# ---- a relative model found nowhere: every place tried is named ------------------------
expect_fail 1 "loop.painter: models/no-such.onnx: no such file" "$BIN" run --config "$CFG" \
  --headless --iterations 1 -o loop.painter=models/no-such.onnx
for place in "(tried /models/no-such.onnx, " " $ROOT$sysconf/mnemo/models/no-such.onnx," \
  " $TREE/share/mnemo/models/no-such.onnx"; do
  grep -qF -- "$place" "$TMP/err" || fail "the error does not name '$place': $(cat "$TMP/err")"
done
# An empty path is no file (not the first folder of the list).
expect_fail 1 "loop.seed_image: no file given" "$BIN" run --headless --iterations 1 \
  -o loop.seed_source=image
printf 'loop = { sketcher = "models/no-such.onnx"; };\n' >"$TMP/nowhere.cfg"
expect_fail 1 "loop.sketcher: models/no-such.onnx: no such file" "$BIN" check "$TMP/nowhere.cfg"

# ---- the order: working directory, then beside the config, then the data folder --------
mkdir -p "$TMP/piece/models" "$TMP/here/models"
cp "$DATA/unet_bn.onnx" "$TMP/piece/models/mine.onnx"
cp "$DATA/unet_bn.onnx" "$TMP/here/models/mine.onnx"
printf 'loop = { painter = "models/mine.onnx"; };\n' >"$TMP/piece/piece.cfg"
expect_ok "$BIN" check "$TMP/piece/piece.cfg"
grep -qx "  loop.painter     $TMP/piece/models/mine.onnx" "$TMP/out" && passed=$((passed + 1)) ||
  fail "a model beside the config is not found there: $(cat "$TMP/out")"
(cd "$TMP/here" && "$BIN" check "$TMP/piece/piece.cfg" >"$TMP/out" 2>&1)
grep -qx "  loop.painter     models/mine.onnx" "$TMP/out" && passed=$((passed + 1)) ||
  fail "the working directory does not come first: $(cat "$TMP/out")"

finish
