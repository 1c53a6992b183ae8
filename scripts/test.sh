#!/usr/bin/env bash
# Runs the project's tests in named phases, stopping at the first failing
# phase, and installs what is missing on a fresh Debian machine (Prometheus,
# promtool and Python's prometheus_client from apt; ocb, mdatagen and
# staticcheck through Go).
#
#   bash scripts/test.sh              # every phase, in order (what CI runs)
#   bash scripts/test.sh unit e2e     # just these, plus what they need first
#   bash scripts/test.sh --list       # the phases, one line each (-h too)
#
# A named phase brings its prerequisites along: unit and e2e need `deps`
# (apt), e2e and soak need `build` (which does nothing when the collector
# is current). Phases always run in the order of --list.
#
# Speed notes (each summary line gives a phase's wall time and the CPU
# seconds it used; the machine has 2 cores):
#  - Every go command runs with -trimpath and CGO_ENABLED=0, as ocb builds the
#    collector, so the build cache is shared between go vet, staticcheck, the
#    collector build, the tests and the bench module, wherever go.mod and
#    bench/go.mod have a module at the same version as _build/go.mod (the
#    build phase notes where they do not).
#  - Started in the background, collected at their place in the order: the
#    bench smoke test (niced; it compiles contrib's prometheusreceiver) once
#    lint has downloaded its modules, and the two soaks, side by side, once
#    the collector is built. Each soak runs in a network namespace of its own
#    (unshare -n; only loopback), so their flapping ports cannot meet each
#    other's or another test's; without unshare they run in the foreground,
#    one after the other.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# ---------------------------------------------------------------------------
# Phases

PHASES=(deps lint drift build unit fuzz e2e soak bench)

describe() {
  case "$1" in
    deps)  echo "apt: prometheus, promtool, python3-prometheus-client, dnsmasq-base when missing (for unit and e2e)" ;;
    lint)  echo "gofmt -l, go mod tidy -diff (root, bench, internal/tools), go vet, staticcheck" ;;
    drift) echo "mdatagen output matches metadata.yaml (scripts/generate.sh)" ;;
    build) echo "the collector _build/otelcol-sglangdynamo with ocb (scripts/build.sh; skipped when current)" ;;
    unit)  echo "go test -race ./... (unit, fault, lifecycle and golden tests)" ;;
    fuzz)  echo "the fuzz targets side by side for FUZZTIME (default 60s), with their execs/sec (scripts/fuzz.sh)" ;;
    e2e)   echo "end-to-end tests of the built collector (-tags e2e ./e2e/...), with Debian's Prometheus" ;;
    soak)  echo "the in-process and the collector soak, SGLANGDYNAMO_SOAK each (default 2m), side by side" ;;
    bench) echo "bench module smoke test: our receiver's output against contrib's prometheusreceiver's" ;;
  esac
}

# Phases that a named phase needs to have run first.
prereqs() {
  case "$1" in
    unit)  echo deps ;;        # promclient_test needs python3-prometheus-client
    e2e)   echo deps build ;;  # Debian's Prometheus; the collector binary
    soak)  echo build ;;
  esac
}

usage() {
  echo "usage: bash scripts/test.sh [PHASE...]   (no phase: all of them, in this order)"
  echo
  local p
  for p in "${PHASES[@]}"; do printf '  %-6s %s\n' "$p" "$(describe "$p")"; done
  echo
  echo "Environment: FUZZTIME (default 60s), SGLANGDYNAMO_SOAK (default 2m), FORCE_BUILD=1 (rebuild the collector)."
}

# ---------------------------------------------------------------------------
# Arguments

declare -A WANT=()
if (($# == 0)); then
  for p in "${PHASES[@]}"; do WANT[$p]=1; done
else
  for arg in "$@"; do
    case "$arg" in
      -h|--help|--list) usage; exit 0 ;;
    esac
    if [[ -z "$(describe "$arg")" ]]; then
      echo "test.sh: unknown phase '$arg'; the phases are: ${PHASES[*]}" >&2
      echo "         (bash scripts/test.sh --list describes them)" >&2
      exit 2
    fi
    WANT[$arg]=1
    for p in $(prereqs "$arg"); do WANT[$p]=1; done
  done
fi
[[ -f scripts/fuzz.sh ]] || unset 'WANT[fuzz]'
[[ -f bench/go.mod ]] || unset 'WANT[bench]'
wants() { [[ -n "${WANT[$1]:-}" ]]; }

command -v go >/dev/null || { echo "test.sh: Go >= 1.26 must be on PATH" >&2; exit 1; }

# The settings of ocb's `go build` (-trimpath, CGO_ENABLED=0), so that every
# go command below shares its build cache entries (see the speed notes
# above); `go test -race` needs cgo and sets CGO_ENABLED=1 for itself.
# Keeps the user's GOFLAGS.
case " $(go env GOFLAGS 2>/dev/null) " in
  *" -trimpath "*) ;;
  *) GOFLAGS="$(go env GOFLAGS 2>/dev/null || true)"; export GOFLAGS="${GOFLAGS:+$GOFLAGS }-trimpath" ;;
esac
export CGO_ENABLED=0

# ---------------------------------------------------------------------------
# Running phases: timing, summary, background jobs

T0=$SECONDS
declare -a SUMMARY=()
declare -A BG_PID=() BG_LOG=() BG_START=() BG_SEEN=()
BG_CPU=0

# CPU_NOW: the CPU seconds (user+sys) used so far by the reaped children of
# this shell. (`times` must run in this shell, not in a $(...) subshell.)
TIMES_FILE="$(mktemp "${TMPDIR:-/tmp}/test.sh.times.XXXXXX")"
cpu_now() {
  local u s
  times >"$TIMES_FILE"
  { read -r _ _; read -r u s; } <"$TIMES_FILE"
  CPU_NOW=$(( ${u%%m*} * 60 + 10#$(secs "${u#*m}") + ${s%%m*} * 60 + 10#$(secs "${s#*m}") ))
}
secs() { local x="${1%s}"; echo "${x%.*}"; }
# A background job's cpu lands in this shell's counters whenever bash reaps
# it; bg_seen adds the cpu of the reaped ones to BG_CPU, so that a phase's
# cpu is its own: the difference of (cpu_now - BG_CPU).
bg_seen() {
  local n c
  for n in "${!BG_LOG[@]}"; do
    [[ -z "${BG_SEEN[$n]:-}" && -f "${BG_LOG[$n]}.done" ]] || continue
    kill -0 "${BG_PID[$n]:-0}" 2>/dev/null && continue # not reaped yet
    read -r _ c _ <"${BG_LOG[$n]}.done"
    BG_CPU=$((BG_CPU + c))
    BG_SEEN[$n]=1
  done
}
own_cpu() { bg_seen; cpu_now; OWN_CPU=$((CPU_NOW - BG_CPU)); }

kill_tree() {
  local c
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$c"; done
  kill "$1" 2>/dev/null || true
}
cleanup() {
  local n
  for n in "${!BG_PID[@]}"; do kill_tree "${BG_PID[$n]}"; done
  for n in "${!BG_LOG[@]}"; do rm -f "${BG_LOG[$n]}" "${BG_LOG[$n]}.done"; done
  rm -f "$TIMES_FILE"
}
trap cleanup EXIT

finish() { # name rc wall cpu
  local name="$1" rc="$2" took="$3" cpu="$4"
  if ((rc != 0)); then
    SUMMARY+=("FAIL  $name (${took}s, cpu ${cpu}s)")
    echo >&2
    printf '%s\n' "${SUMMARY[@]}" >&2
    echo "test.sh: FAILED in phase '$name' (exit $rc) after $((SECONDS - T0))s" >&2
    exit "$rc"
  fi
  SUMMARY+=("ok    $name (${took}s, cpu ${cpu}s)")
  echo "=== test.sh: $name ok (${took}s, cpu ${cpu}s)"
}

# phase NAME FUNC: runs FUNC in the foreground.
phase() {
  local name="$1"; shift
  echo
  echo "=== test.sh: $name"
  # Note: a function run here is in an `||` context, where `set -e` does not
  # apply; the phase functions below chain their commands explicitly.
  local start=$SECONDS cpu0 rc=0
  own_cpu; cpu0=$OWN_CPU
  "$@" || rc=$?
  own_cpu
  finish "$name" "$rc" "$((SECONDS - start))" "$((OWN_CPU - cpu0))"
  check_bg
}

# spawn NAME NICE FUNC: starts FUNC in the background at niceness NICE, its
# output in a log.
# collect NAME waits for it, prints the log and records the phase like
# `phase` does (its time is from spawn to its end). A background job that
# fails is collected (and so fails the run) at the end of the current phase.
spawn() {
  local name="$1" nice="$2" log; shift 2
  log="$(mktemp "${TMPDIR:-/tmp}/test.sh.$name.XXXXXX")"
  BG_LOG[$name]="$log"
  BG_START[$name]=$SECONDS
  (
    if ((nice)); then renice -n "$nice" -p "$BASHPID" >/dev/null 2>&1 || true; fi
    rc=0
    "$@" || rc=$?
    cpu_now
    echo "$rc $CPU_NOW $SECONDS" >"$log.done"
    exit "$rc"
  ) >"$log" 2>&1 &
  BG_PID[$name]=$!
  echo
  echo "=== test.sh: $name started in the background (its output follows when it is collected)"
}
collect() {
  local name="$1" rc=0 cpu=0 end=$SECONDS
  echo
  echo "=== test.sh: $name (started in the background $((SECONDS - BG_START[$name]))s ago)"
  wait "${BG_PID[$name]}" || rc=$?
  bg_seen
  unset 'BG_PID[$name]'
  cat "${BG_LOG[$name]}"
  if [[ -f "${BG_LOG[$name]}.done" ]]; then read -r _ cpu end <"${BG_LOG[$name]}.done"; fi
  finish "$name" "$rc" "$((end - BG_START[$name]))" "$cpu"
}
check_bg() {
  local n rc
  for n in "${!BG_PID[@]}"; do
    [[ -f "${BG_LOG[$n]}.done" ]] || continue
    read -r rc _ <"${BG_LOG[$n]}.done"
    if ((rc != 0)); then collect "$n"; fi
  done
}

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo -n "$@"
  else echo "test.sh: need root (or sudo) to run: $*" >&2; return 1
  fi
}

# ---------------------------------------------------------------------------
# The phases

deps() {
  local need=()
  if ! command -v promtool >/dev/null || [[ ! -x /usr/bin/prometheus ]]; then need+=(prometheus); fi
  if ! /usr/bin/python3 -c 'import prometheus_client' 2>/dev/null; then need+=(python3-prometheus-client); fi
  # dnsmasq-base: the binary without the system service (which would start a
  # DNS server on port 53); e2e/discovery_test.go runs its own on loopback.
  if [[ ! -x /usr/sbin/dnsmasq ]]; then need+=(dnsmasq-base); fi
  if ((${#need[@]})); then
    echo "test.sh: installing ${need[*]} from apt"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || return
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" || return
  else
    echo "test.sh: prometheus, promtool, python3-prometheus-client and dnsmasq are present"
  fi
}

MODULES=(. internal/tools bench)
staticcheck() { go tool -modfile="$ROOT/internal/tools/go.mod" staticcheck "$@"; }

# Every gate runs, so that one run reports every finding. The tidy checks
# (mostly module downloads) run while go vet and staticcheck compile.
lint() {
  local rc=0 out m dir pids=()
  echo "--- gofmt -l"
  out="$(find . -name '*.go' ! -path './_build/*' ! -path './.git/*' -print0 | xargs -0 gofmt -l)" || rc=1
  if [[ -n "$out" ]]; then
    printf '%s\n' "$out"
    echo "test.sh: gofmt: the files above are not formatted: run gofmt -w on them" >&2
    rc=1
  fi
  dir="$(mktemp -d)" || return
  for m in "${MODULES[@]}"; do
    [[ -f "$m/go.mod" ]] || continue
    (cd "$m" && go mod tidy -diff) >"$dir/${#pids[@]}" 2>&1 &
    pids+=("$m:$!")
  done
  # With the e2e tag, one run of each covers every package and the e2e
  # tests (no file is built only without it).
  echo "--- go vet"
  go vet -tags e2e ./... || rc=1
  echo "--- staticcheck"
  staticcheck -tags e2e ./... || rc=1
  local i
  for i in "${!pids[@]}"; do
    m="${pids[$i]%:*}"
    echo "--- go mod tidy -diff ($m)"
    if wait "${pids[$i]##*:}"; then
      grep -v '^go: downloading' "$dir/$i" || true
    else
      cat "$dir/$i"
      echo "test.sh: $m/go.mod or go.sum is not tidy: run (cd $m && go mod tidy)" >&2
      rc=1
    fi
  done
  rm -rf "$dir"
  return "$rc"
}

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

COLLECTOR="$ROOT/_build/otelcol-sglangdynamo"
build() { bash scripts/build.sh && version_notes; }
# The build cache is shared only where a module is at the same version in
# go.mod / bench/go.mod as in the collector's _build/go.mod (ocb resolves
# that one): say where it is not, since every package above such a module
# then compiles twice. A note, not a failure.
version_notes() {
  local m
  [[ -f _build/go.mod ]] || return 0
  for m in go.mod bench/go.mod; do
    [[ -f "$m" ]] || continue
    awk -v m="$m" '
      FNR == 1 { file++ }
      /^(require )?\t?[^ \t]+ v[0-9]/ {
        line = $0; sub(/^require /, "", line); sub(/^\t/, "", line)
        split(line, f, " ")
        if (file == 1) want[f[1]] = f[2]
        else if ((f[1] in want) && want[f[1]] != f[2])
          printf "test.sh: note: %s has %s %s, _build/go.mod %s: the build cache is not shared for what depends on it\n", m, f[1], f[2], want[f[1]]
      }' _build/go.mod "$m"
  done
}
# go test runs a subset of vet's analyzers before the tests, and does it
# again, for every dependency, in each build configuration (-race, fuzz
# instrumentation, tags): ~60 CPU seconds each here. When lint runs in the
# same invocation, its `go vet` has already run all of vet's default
# analyzers on these packages (a superset), so the test phases skip it.
VET=()
if wants lint; then VET=(-vet=off); fi
export VET_FLAG="${VET[*]}"
unit()  { CGO_ENABLED=1 go test "${VET[@]}" -race -count=1 ./...; }
fuzz()  { bash scripts/fuzz.sh; }
e2e()   { SGLANGDYNAMO_COLLECTOR="$COLLECTOR" go test "${VET[@]}" -count=1 -timeout 15m -tags e2e -v ./e2e/...; }
# The bench module's smoke test (no benchmarks; go test runs vet's checks).
# `remove_all_sd` is Prometheus's build tag that leaves out the service
# discoveries (AWS, Azure, GCE, Consul, ...) that contrib's prometheusreceiver
# links in and the bench's static targets never use: it halves what the
# bench module compiles. (cmd/compare, for BENCHMARKS.md, builds without it.)
# Neither vet nor staticcheck runs on the bench module here: each analyses
# its ~1,100-package dependency tree, vet for ~110 CPU seconds, staticcheck
# for ~150, which this 2-core budget does not have; the bench code changes
# rarely. Run them by hand after changing it:
#   (cd bench && go vet -tags remove_all_sd ./... &&
#    go tool -modfile=../internal/tools/go.mod staticcheck -tags remove_all_sd ./...)
BENCH_TAGS=remove_all_sd
bench() { (cd bench && go test -vet=off -tags "$BENCH_TAGS" -count=1 -run . ./...); }

# Flapping targets for SGLANGDYNAMO_SOAK (CI: 2m each; `SGLANGDYNAMO_SOAK=10m`
# for the full run): the receiver in-process (goroutines, heap, state) and
# the built collector (series on the exporter, RSS).
soak_receiver() {
  SGLANGDYNAMO_SOAK="${SGLANGDYNAMO_SOAK:-2m}" go test $VET_FLAG -count=1 -timeout 30m -run '^TestSoak$' -v .
}
soak_collector() {
  SGLANGDYNAMO_SOAK="${SGLANGDYNAMO_SOAK:-2m}" SGLANGDYNAMO_COLLECTOR="$COLLECTOR" \
    go test $VET_FLAG -count=1 -timeout 30m -tags e2e -run '^TestExporterSoak$' -v ./e2e/...
}
# NETNS: how to get a network namespace of one's own with its loopback up
# (as root, or through a user namespace), where this machine can.
NETNS=()
if command -v unshare >/dev/null && command -v ip >/dev/null; then
  if unshare -n ip link set lo up 2>/dev/null; then NETNS=(unshare -n)
  elif unshare -rn ip link set lo up 2>/dev/null; then NETNS=(unshare -rn)
  fi
fi
export COLLECTOR
export -f soak_receiver soak_collector
isolated() { "${NETNS[@]}" bash -c 'ip link set lo up && "$@"' isolated "$@"; }
soak() {
  if ((${#NETNS[@]} == 0)); then
    echo "test.sh: no network namespace (unshare -n) here: the soaks run one after the other"
    soak_receiver && soak_collector
    return
  fi
  local dir rc1=0 rc2=0 p1 p2
  dir="$(mktemp -d)" || return
  echo "test.sh: both soaks side by side, each in a network namespace of its own"
  isolated soak_receiver >"$dir/receiver" 2>&1 &
  p1=$!
  isolated soak_collector >"$dir/collector" 2>&1 &
  p2=$!
  wait "$p1" || rc1=$?
  wait "$p2" || rc2=$?
  echo "--- soak: the receiver in-process (exit $rc1)"
  cat "$dir/receiver"
  echo "--- soak: the collector (exit $rc2)"
  cat "$dir/collector"
  rm -rf "$dir"
  ((rc1 == 0 && rc2 == 0))
}

# ---------------------------------------------------------------------------
# Run

for p in "${PHASES[@]}"; do
  wants "$p" || continue
  if [[ -n "${BG_PID[$p]:-}" ]]; then collect "$p"; continue; fi
  phase "$p" "$p"
  # Once lint has downloaded the bench module's dependencies, its smoke test
  # compiles niced in the background: it shares most of the collector's
  # dependencies, and whichever compiles one first, the other reuses it.
  # Once the collector is built, the soaks run in the background.
  if [[ "$p" == lint ]] && wants bench; then spawn bench 10 bench; fi
  if [[ "$p" == build ]] && wants soak && ((${#NETNS[@]})); then spawn soak 0 soak; fi
done

echo
printf '%s\n' "${SUMMARY[@]}"
echo "test.sh: all tests passed in $((SECONDS - T0))s"
