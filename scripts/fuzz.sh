#!/usr/bin/env bash
# Runs each fuzz target for a bounded time (FUZZTIME, default 60s). A crash
# is written by `go test` to internal/<pkg>/testdata/fuzz/<Target>/, where
# it stays as a regression case that every plain `go test` run replays.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-60s}"
for target in ./internal/promtext:FuzzParse ./internal/convert:FuzzConvert; do
  pkg="${target%%:*}"
  name="${target##*:}"
  echo "--- fuzz $name ($pkg) for $fuzztime"
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg"
done
