#!/usr/bin/env bash
# Builds the collector (once; see build.sh) and runs it.
#
#   bash scripts/run.sh                      # demo: simulated workers + config/demo.yaml
#   SGLANG_ENDPOINT=http://10.0.0.5:30000/metrics \
#   DYNAMO_ENDPOINT=http://10.0.0.5:9090/metrics bash scripts/run.sh   # config/collector.yaml
#   bash scripts/run.sh --config my.yaml     # your own config (any collector arguments)
#   bash scripts/run.sh -- -fleet mixed -mode disagg   # demo with a different fleet
#
# Demo fleets: arguments after `--`, or SGLANGDYNAMO_DEMO_FLAGS, go to the
# demo workers (cmd/sglangdynamo-demo), e.g.
#   -fleet current|mixed      mixed: odd-numbered workers run an older SGLang
#   -mode unified|disagg      disagg: even workers prefill, odd workers decode
#   -name-form colon|underscore|escaping|ray   or a comma list, one per worker
# (`go run ./cmd/sglangdynamo-demo -h` lists them all.)
#
# Environment:
#   SGLANG_ENDPOINT, DYNAMO_ENDPOINT   targets for config/collector.yaml
#   SGLANGDYNAMO_OTLP_ENDPOINT         also export over OTLP/HTTP (config/otlp.yaml)
#   SGLANGDYNAMO_REMOTE_WRITE_URL      also push over Prometheus remote write
#                                      (config/remotewrite.yaml), e.g.
#                                      http://mimir:8080/api/v1/push
#   SGLANGDYNAMO_PROM_PORT             Prometheus exporter port (default 8081)
#   SGLANGDYNAMO_HEALTH_ENDPOINT       health_check address
#   SGLANGDYNAMO_DEMO_ENGINE_PORT, SGLANGDYNAMO_DEMO_RUNTIME_PORT,
#   SGLANGDYNAMO_DEMO_FRONTEND_PORT    demo ports (defaults 30000, 9090, 8000;
#                                      worker i uses port+i)
#   SGLANGDYNAMO_DEMO_FLAGS            extra demo flags, e.g. "-fleet mixed"
#   SGLANGDYNAMO_COLLECTOR             run this collector binary instead of
#                                      building _build/otelcol-sglangdynamo
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ -n "${SGLANGDYNAMO_COLLECTOR:-}" ]]; then
  # A collector built elsewhere (the e2e tests pass the binary under test).
  BIN="$SGLANGDYNAMO_COLLECTOR"
  [[ -x "$BIN" ]] || { echo "run.sh: SGLANGDYNAMO_COLLECTOR=$BIN is not an executable" >&2; exit 1; }
else
  bash scripts/build.sh
  BIN="$ROOT/_build/otelcol-sglangdynamo"
fi

PROM_PORT="${SGLANGDYNAMO_PROM_PORT:-8081}"
export SGLANGDYNAMO_PROM_PORT="$PROM_PORT"

# Arguments after `--` belong to the demo, the rest to the collector.
collector_args=()
demo_args=()
seen_sep=false
for a in "$@"; do
  if $seen_sep; then
    demo_args+=("$a")
  elif [[ "$a" == "--" ]]; then
    seen_sep=true
  else
    collector_args+=("$a")
  fi
done
# shellcheck disable=SC2206 # the flags are words, split on purpose
demo_args=(${SGLANGDYNAMO_DEMO_FLAGS:-} "${demo_args[@]}")
set -- "${collector_args[@]}"

user_config=false
for a in "$@"; do
  case "$a" in
    --config|--config=*) user_config=true ;;
  esac
done

args=()
demo=false
if $user_config; then
  args=("$@")
  what="your configuration ($*)"
elif [[ -n "${SGLANG_ENDPOINT:-}" || -n "${DYNAMO_ENDPOINT:-}" ]]; then
  args=(--config "$ROOT/config/collector.yaml" "$@")
  what="SGLang ${SGLANG_ENDPOINT:-http://localhost:30000/metrics (default)} and Dynamo ${DYNAMO_ENDPOINT:-http://localhost:9090/metrics (default)}"
else
  demo=true
  args=(--config "$ROOT/config/demo.yaml" "$@")
  what="the built-in demo workers${demo_args[*]:+ (${demo_args[*]})}"
fi
if [[ -n "${SGLANGDYNAMO_OTLP_ENDPOINT:-}" ]] && ! $user_config; then
  args+=(--config "$ROOT/config/otlp.yaml")
  what="$what, also exporting OTLP to $SGLANGDYNAMO_OTLP_ENDPOINT"
fi
if [[ -n "${SGLANGDYNAMO_REMOTE_WRITE_URL:-}" ]] && ! $user_config; then
  args+=(--config "$ROOT/config/remotewrite.yaml")
  what="$what, also pushing remote write to $SGLANGDYNAMO_REMOTE_WRITE_URL"
fi

demo_pid=""
col_pid=""
cleanup() {
  trap - EXIT INT TERM
  if [[ -n "$col_pid" ]] && kill -0 "$col_pid" 2>/dev/null; then
    kill -TERM "$col_pid" 2>/dev/null || true
    wait "$col_pid" 2>/dev/null || true
  fi
  if [[ -n "$demo_pid" ]] && kill -0 "$demo_pid" 2>/dev/null; then
    kill -TERM "$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

if $demo; then
  engine_port="${SGLANGDYNAMO_DEMO_ENGINE_PORT:-30000}"
  runtime_port="${SGLANGDYNAMO_DEMO_RUNTIME_PORT:-9090}"
  frontend_port="${SGLANGDYNAMO_DEMO_FRONTEND_PORT:-8000}"
  export SGLANGDYNAMO_DEMO_ENGINE_PORT0="$engine_port" SGLANGDYNAMO_DEMO_ENGINE_PORT1="$((engine_port + 1))"
  export SGLANGDYNAMO_DEMO_RUNTIME_PORT0="$runtime_port" SGLANGDYNAMO_DEMO_RUNTIME_PORT1="$((runtime_port + 1))"
  export SGLANGDYNAMO_DEMO_FRONTEND_PORT="$frontend_port"
  echo "run.sh: building the demo workers" >&2
  go build -o "$ROOT/_build/sglangdynamo-demo" ./cmd/sglangdynamo-demo
  "$ROOT/_build/sglangdynamo-demo" -workers 2 -host 127.0.0.1 \
    -engine-port "$engine_port" -runtime-port "$runtime_port" -frontend-port "$frontend_port" "${demo_args[@]}" &
  demo_pid=$!
  sleep 0.5
  if ! kill -0 "$demo_pid" 2>/dev/null; then
    wait "$demo_pid" || true
    demo_pid=""
    echo "run.sh: the demo workers did not start (see the error above: bad demo flags, or ports in use? set SGLANGDYNAMO_DEMO_*_PORT)" >&2
    exit 1
  fi
fi

cat >&2 <<BANNER

==> sglangdynamo collector: scraping $what
==> Prometheus exporter: http://localhost:$PROM_PORT/metrics
    curl -s localhost:$PROM_PORT/metrics | grep -E '^(sglang:|dynamo_)'
==> Ctrl-C stops the collector$($demo && echo " and the demo workers").

BANNER

"$BIN" "${args[@]}" &
col_pid=$!
set +e
wait "$col_pid"
rc=$?
set -e
col_pid=""
exit "$rc"
