#!/usr/bin/env bash
# Runs each fuzz target for FUZZTIME (default 60s) and prints what it did:
# execs, execs per second, and the seconds the engine spent (nearly) idle.
#
# The targets run side by side, each with an equal share of the cores
# (-parallel), so that the phase takes FUZZTIME once rather than once per
# target. Each is compiled first, one after the other, so that the two do
# not both compile the instrumented standard library.
#
# -vet=off: vet is lint's job (scripts/test.sh lint); in a fuzzing build it
# would redo its facts for every dependency. -fuzzminimizetime bounds the
# minimisation of each new interesting input, which otherwise runs for up to
# a minute at 0 execs/sec.
#
# A crash is written by `go test` to internal/<pkg>/testdata/fuzz/<Target>/,
# where it stays as a regression case that every plain `go test` run replays.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-60s}"
minimize="${FUZZMINIMIZETIME:-2s}"
targets=(./internal/promtext:FuzzParse ./internal/convert:FuzzConvert)
cores="$(nproc 2>/dev/null || echo 1)"
parallel=$((cores / ${#targets[@]}))
((parallel >= 1)) || parallel=1

dir="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT

# Compile each instrumented test binary (and run its seed corpus), one
# target after the other.
for target in "${targets[@]}"; do
  pkg="${target%%:*}" name="${target##*:}"
  if ! go test -vet=off -run '^$' -fuzz "^${name}\$" -fuzztime 1x -parallel 1 "$pkg" >"$dir/$name" 2>&1; then
    cat "$dir/$name"
    echo "fuzz.sh: $name fails on its seed corpus" >&2
    exit 1
  fi
done

pids=()
for target in "${targets[@]}"; do
  pkg="${target%%:*}" name="${target##*:}"
  echo "--- fuzz $name ($pkg) for $fuzztime, $parallel worker(s)"
  go test -vet=off -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" \
    -fuzzminimizetime "$minimize" -parallel "$parallel" "$pkg" >"$dir/$name" 2>&1 &
  pids+=("$!")
done

rc=0
for i in "${!targets[@]}"; do
  name="${targets[$i]##*:}"
  if ! wait "${pids[$i]}"; then rc=1; fi
  echo "--- $name"
  cat "$dir/$name"
  # The engine prints a line every 3 s: "fuzz: elapsed: 6s, execs: 5833
  # (1944/sec), ...". Sum up its execs and the ticks spent below 100/sec
  # (minimising, or gathering coverage).
  awk -v name="$name" '
    /^fuzz: elapsed: .*execs: / {
      e = $0; sub(/.*execs: /, "", e); sub(/ .*/, "", e)
      d = $0; sub(/^fuzz: elapsed: /, "", d); sub(/,.*/, "", d) # 1h2m3s
      s = 0
      if (d ~ /h/) { s += 3600 * d; sub(/^[0-9]+h/, "", d) }
      if (d ~ /m/) { s += 60 * d; sub(/^[0-9]+m/, "", d) }
      s += d
      r = $0; sub(/\/sec\).*/, "", r); sub(/.*\(/, "", r)
      if (r + 0 < 100 && s > lastS) idle += s - lastS
      last = e; lastS = s
    }
    END {
      if (lastS > 0) printf "fuzz.sh: %s: %d execs in %ds, %d/sec; %ds of it below 100 execs/sec\n", name, last, lastS, last / lastS, idle
    }' "$dir/$name"
done
exit "$rc"
