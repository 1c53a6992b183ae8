#!/usr/bin/env bash
# Builds the sglangdynamo collector distribution (_build/otelcol-sglangdynamo)
# with the pinned ocb. Installs ocb into _build/bin when it is missing or not
# the pinned version. Skips the (multi-minute) build when nothing that goes
# into the binary changed since the last successful build (stamp file).
#
#   bash scripts/build.sh            # build if needed
#   FORCE_BUILD=1 bash scripts/build.sh
set -euo pipefail

OCB_VERSION=v0.165.0
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BUILD_DIR="$ROOT/_build"
BIN="$BUILD_DIR/otelcol-sglangdynamo"
OCB="$BUILD_DIR/bin/builder"
STAMP="$BUILD_DIR/.build-stamp"

log() { echo "build.sh: $*" >&2; }

command -v go >/dev/null || { log "go is not on PATH (Go >= 1.26 is required)"; exit 1; }

# 1. ocb
if [[ -x "$OCB" ]] && "$OCB" version 2>&1 | grep -q -- "$OCB_VERSION"; then
  :
else
  log "installing ocb $OCB_VERSION into _build/bin"
  mkdir -p "$BUILD_DIR/bin"
  GOBIN="$BUILD_DIR/bin" go install "go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION"
fi

# 2. stamp: everything that ends up in the binary.
stamp_inputs() {
  echo "ocb $OCB_VERSION"
  go version
  sha256sum builder-config.yaml go.mod go.sum
  # Every non-test Go file of the receiver module (root package and internal/),
  # not the demo, the e2e tests or the separate bench module.
  find . -name '*.go' ! -name '*_test.go' \
    ! -path './_build/*' ! -path './bench/*' ! -path './e2e/*' ! -path './cmd/*' \
    ! -path './internal/tools/*' ! -path './.git/*' -print0 \
    | LC_ALL=C sort -z | xargs -0 sha256sum
}
want="$(stamp_inputs | sha256sum | cut -d' ' -f1)"
if [[ -z "${FORCE_BUILD:-}" && -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  log "collector is up to date: $BIN"
  exit 0
fi

# 3. build
log "building $BIN with ocb $OCB_VERSION (takes several minutes on 2 cores)"
rm -f "$STAMP"
start=$SECONDS
"$OCB" --config builder-config.yaml
[[ -x "$BIN" ]] || { log "ocb finished but $BIN is missing"; exit 1; }
echo "$want" > "$STAMP"
log "built $BIN in $((SECONDS - start))s"
