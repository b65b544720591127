#!/usr/bin/env bash
# The ONNX loader's internals (runtime/engine/onnx*.c) export only onnx_-prefixed names:
# generic globals such as attr_find or known_add would clash with whatever else a program
# links (issue 12). Reads the engine library's symbol table.
#   tests/onnx_symbols.sh LIBMNEMO_ENGINE.a
set -u
lib=${1:?usage: onnx_symbols.sh libmnemo_engine.a}
command -v nm >/dev/null || { echo "skip: nm not installed"; exit 77; }
[ -f "$lib" ] || { echo "FAIL: $lib not built"; exit 1; }
# nm -A: "archive:member: address type name" for every defined global of each onnx* member
bad=$(nm -A -g --defined-only "$lib" | awk -F'[: ]+' '$2 ~ /^onnx[a-z_]*\.c\.o$/ && NF >= 5 &&
  $NF !~ /^onnx_/ { print $2 ": " $NF }')
seen=$(nm -A -g --defined-only "$lib" | grep -c 'onnx[a-z_]*\.c\.o:.* onnx_')
if [ "$seen" -eq 0 ]; then
  echo "FAIL: no onnx_ symbol found in $lib's onnx members: the check reads nothing"
  exit 1
fi
if [ -n "$bad" ]; then
  echo "FAIL: the ONNX loader exports names without the onnx_ prefix:"
  echo "$bad"
  exit 1
fi
echo "1 passed, 0 failed ($seen onnx_ symbols, none unprefixed)"
