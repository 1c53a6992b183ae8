#!/usr/bin/env bash
# Runs every test of the project, end-to-end included, and installs what is
# missing on a fresh Debian machine (Prometheus, promtool and Python's
# prometheus_client from apt; ocb and mdatagen through Go).
#
# Phases, stopping at the first failure:
#   deps, build (scripts/build.sh), go vet, mdatagen drift, go test -race,
#   fuzz (scripts/fuzz.sh, when present), e2e, soak, bench (when bench/go.mod exists)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

T0=$SECONDS
declare -a SUMMARY=()
phase() {
  local name="$1"; shift
  echo
  echo "=== test.sh: $name"
  # Note: a function run here is in an `||` context, where `set -e` does not
  # apply; the phase functions below chain their commands explicitly.
  local start=$SECONDS rc=0
  "$@" || rc=$?
  local took=$((SECONDS - start))
  if ((rc != 0)); then
    SUMMARY+=("FAIL  $name (${took}s)")
    printf '%s\n' "${SUMMARY[@]}" >&2
    echo "test.sh: FAILED in phase '$name' (exit $rc) after $((SECONDS - T0))s" >&2
    exit "$rc"
  fi
  SUMMARY+=("ok    $name (${took}s)")
  echo "=== test.sh: $name ok (${took}s)"
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo -n "$@"
  else echo "test.sh: need root (or sudo) to run: $*" >&2; return 1
  fi
}

deps() {
  command -v go >/dev/null || { echo "test.sh: Go >= 1.26 must be on PATH" >&2; return 1; }
  local need=()
  if ! command -v promtool >/dev/null || [[ ! -x /usr/bin/prometheus ]]; then need+=(prometheus); fi
  if ! /usr/bin/python3 -c 'import prometheus_client' 2>/dev/null; then need+=(python3-prometheus-client); fi
  if ((${#need[@]})); then
    echo "test.sh: installing ${need[*]} from apt"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || return
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" || return
  else
    echo "test.sh: prometheus, promtool and python3-prometheus-client are present"
  fi
}

vet() { go vet ./... && go vet -tags e2e ./e2e/...; }

# mdatagen drift: regenerate and compare with what was there before. (In CI's
# clean clone this is the same as `git diff --exit-code` on the generated
# files; comparing with a snapshot also works on a tree with uncommitted,
# consistent edits.)
GENERATED=(documentation.md generated_component_test.go generated_package_test.go internal/metadata)
drift() {
  local snap; snap="$(mktemp -d)" || return
  local f
  for f in "${GENERATED[@]}"; do
    if [[ -e "$f" ]]; then cp -a --parents "$f" "$snap/" || return; fi
  done
  bash scripts/generate.sh || { rm -rf "$snap"; return 1; }
  local rc=0
  for f in "${GENERATED[@]}"; do
    if [[ -e "$f" || -e "$snap/$f" ]]; then
      diff -ru "$snap/$f" "$f" || rc=1
    fi
  done
  rm -rf "$snap"
  if ((rc != 0)); then
    echo "test.sh: generated files differ from metadata.yaml: run scripts/generate.sh and commit the result" >&2
    return 1
  fi
  if git rev-parse --git-dir >/dev/null 2>&1; then
    git diff --stat --exit-code -- "${GENERATED[@]}" >/dev/null ||
      echo "test.sh: note: generated files have uncommitted changes (consistent with metadata.yaml)"
  fi
}

unit()  { go test -race -count=1 ./...; }
fuzz()  { bash scripts/fuzz.sh; }
e2e()   { SGLANGDYNAMO_COLLECTOR="$ROOT/_build/otelcol-sglangdynamo" go test -count=1 -timeout 15m -tags e2e -v ./e2e/...; }
bench() { (cd bench && go test -count=1 -run . ./...); }
# Flapping targets for SGLANGDYNAMO_SOAK (CI: 2m each; `SGLANGDYNAMO_SOAK=10m`
# for the full run): the receiver in-process (goroutines, heap, state), then
# the built collector (series on the exporter, RSS).
soak() {
  local d="${SGLANGDYNAMO_SOAK:-2m}"
  SGLANGDYNAMO_SOAK="$d" go test -count=1 -timeout 30m -run '^TestSoak$' -v . &&
    SGLANGDYNAMO_SOAK="$d" SGLANGDYNAMO_COLLECTOR="$ROOT/_build/otelcol-sglangdynamo" \
      go test -count=1 -timeout 30m -tags e2e -run '^TestExporterSoak$' -v ./e2e/...
}

phase deps deps
phase build bash scripts/build.sh
phase "go vet" vet
phase "mdatagen drift" drift
phase "go test -race" unit
if [[ -f scripts/fuzz.sh ]]; then phase fuzz fuzz; fi
phase e2e e2e
phase soak soak
if [[ -f bench/go.mod ]]; then phase bench bench; fi

echo
printf '%s\n' "${SUMMARY[@]}"
echo "test.sh: all tests passed in $((SECONDS - T0))s"
