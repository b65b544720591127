#!/usr/bin/env bash
# section.sh FILE NAME < CONTENT: puts CONTENT into FILE between the lines
# "<!-- bench:NAME -->" and "<!-- /bench:NAME -->", replacing what was there, or appends
# the section. Each benchmark script owns one section of bench/RESULTS.md.
set -euo pipefail
file=$1 name=$2
begin="<!-- bench:$name -->" end="<!-- /bench:$name -->"
content=$(mktemp)
trap 'rm -f "$content" "$content.new"' EXIT
{ echo "$begin"; cat; echo "$end"; } >"$content"
touch "$file"
if grep -qxF "$begin" "$file"; then
  awk -v b="$begin" -v e="$end" -v c="$content" '
    $0 == b { while ((getline line < c) > 0) print line; skip = 1; next }
    $0 == e { skip = 0; next }
    !skip' "$file" >"$content.new"
else
  { cat "$file"; [ -s "$file" ] && echo; cat "$content"; } >"$content.new"
fi
mv "$content.new" "$file"
