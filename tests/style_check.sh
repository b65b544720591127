#!/usr/bin/env bash
# Fails when a tracked C file differs from what clang-format (the repo's .clang-format)
# would make of it, and names the files.
set -u
command -v clang-format >/dev/null || { echo "skip: clang-format not installed"; exit 77; }
files=$(git ls-files '*.c' '*.h' 2>/dev/null)
[ -n "$files" ] || { echo "skip: not a git checkout"; exit 77; }
bad=()
for f in $files; do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "not clang-formatted (run 'make format'): ${bad[*]}"
  exit 1
fi
echo "1 passed, 0 failed"
