#!/usr/bin/python3
"""Reproduce SGLang's multiprocess-mode ``/metrics`` with the real prometheus_client.

SGLang exports its metrics through prometheus_client's *multiprocess mode*:
``PROMETHEUS_MULTIPROC_DIR`` is set before prometheus_client is imported, every
scheduler process (one per TP rank) writes its own mmap'ed ``*.db`` files, the
tokenizer/HTTP process writes the request-level metrics, and ``/metrics`` is
rendered from ``CollectorRegistry()`` + ``multiprocess.MultiProcessCollector``.

This generator does the same thing:

1. creates a fresh temporary multiprocess directory and exports
   ``PROMETHEUS_MULTIPROC_DIR`` (any inherited value is overridden) before
   prometheus_client is imported;
2. forks ``--ranks`` scheduler processes (tp_rank 0..N-1) that write the
   scheduler metrics (label set model_name, engine_type, tp_rank, pp_rank,
   moe_ep_rank) and exit;
3. records the tokenizer-side metrics (label set model_name, engine_type) in
   the parent process;
4. also writes non-``sglang:`` families (``process_demo_events_total``,
   ``python_demo_threads``) through the multiprocess files, which a scraper
   must filter out;
5. renders the merged result.

Every value is a deterministic function of the rank (see ``scheduler_plan`` and
``tokenizer_plan``); the only run-dependent parts of the output are the ``pid``
labels of the gauges in multiprocess mode ``all`` and the family order (which
follows the order in which ``glob`` lists the ``*.db`` files).

Gauges that SGLang declares with ``multiprocess_mode="mostrecent"`` use that
mode when the installed prometheus_client supports it; 0.16 (Debian bookworm)
does not, so they fall back to ``"max"``. Each label set is written by exactly
one process, so both modes render the same output.

Always run it with the interpreter that has prometheus_client installed::

    /usr/bin/python3 sglang_multiprocess.py --print [--openmetrics] [--ranks N]
    /usr/bin/python3 sglang_multiprocess.py --serve PORT [--ranks N]
    /usr/bin/python3 sglang_multiprocess.py --print --expect expected.json

``--print`` writes one exposition to stdout: text format 0.0.4
(``generate_latest``) or, with ``--openmetrics``, OpenMetrics.

``--serve PORT`` serves ``/metrics`` (and ``/metrics<anything>``, like SGLang's
Starlette mount) on 127.0.0.1 with prometheus_client's own ``MetricsHandler``:
content negotiation through ``choose_encoder`` (``Accept:
application/openmetrics-text`` selects OpenMetrics, anything else text 0.0.4)
and gzip when ``Accept-Encoding: gzip``. Other paths get 404. The first stdout
line is ``listening on 127.0.0.1:<port>`` (PORT 0 picks a free port). The
server runs until SIGTERM or SIGINT and then removes its temporary directory.

``--expect FILE`` writes, before anything is printed or served, a JSON file
with what the generator recorded for every ``sglang:`` family, computed from
the values it set (not by parsing the exposition)::

    {"prometheus_client_version": "0.16.0", "gauge_mostrecent_mode": "max",
     "created": false, "ranks": 4, "tokenizer_pid": 123,
     "scheduler_pids": {"0": 124, ...},
     "filtered_families": ["process_demo_events_total", "python_demo_threads"],
     "families": [{"name": "sglang:num_requests_total", "type": "counter",
                   "help": "...", "series": [{"labels": {...}, "value": 4.0}]},
                  ...]}

Families are sorted by name and series by labels. ``name`` is the name that the
0.0.4 text format shows in ``# TYPE`` (counters keep their ``_total``; the
OpenMetrics family name drops it). Gauge and counter series carry ``value``;
histogram series ``count``, ``sum`` and ``buckets`` (``[[le, cumulative], ...]``
with ``le`` a float or ``"+Inf"``); summary series ``count`` and ``sum``.
Non-finite numbers are written as the strings ``"NaN"``, ``"+Inf"``,
``"-Inf"``. Gauges in mode ``all`` include the writer's ``pid`` label.
``created`` says whether the collected samples contain any ``_created`` sample.
"""

import argparse
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import traceback
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

SCHEDULER_LABELS = ("model_name", "engine_type", "tp_rank", "pp_rank", "moe_ep_rank")
TOKENIZER_LABELS = ("model_name", "engine_type")

# Symbolic mode for SGLang's "mostrecent" gauges; resolved against the
# installed prometheus_client in resolve_gauge_mode().
MOSTRECENT = "mostrecent"


@dataclass(frozen=True)
class Family:
    """One metric family, declared the way SGLang declares it."""

    name: str  # as passed to prometheus_client (counters keep "_total")
    kind: str  # gauge | counter | histogram | summary
    help: str
    labelnames: Tuple[str, ...]
    mode: Optional[str] = None  # gauge multiprocess_mode
    buckets: Optional[Tuple[float, ...]] = None  # histogram upper bounds


def exponential_buckets(start: float, factor: float, count: int) -> Tuple[float, ...]:
    """SGLang's arithmetic (start * factor**i); repeated multiplication would
    differ in the last digits (0.0026244000000000003 vs ...07)."""
    return tuple(start * factor ** i for i in range(count))


# Bucket lists, copied from SGLang (reference section 1.5).
B_TTFT = (0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400)
B_ITL = (0.002, 0.004, 0.006, 0.008, 0.010, 0.015, 0.020, 0.025, 0.030, 0.035, 0.040,
         0.060, 0.080, 0.100, 0.200, 0.400, 0.600, 0.800, 1.000, 2.000, 4.000, 6.000, 8.000)
B_E2E = (0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 600,
         1200, 1800, 2400)
B_QUEUE = (0.000, 0.001, 0.005, 0.010, 0.050, 0.100, 0.200, 0.500, 1, 2, 3, 4, 5, 10, 15, 20,
           30, 40, 50, 60, 70, 80, 90, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000,
           1200, 1400, 1600, 1800, 2000, 2500, 3000)
B_PER_STAGE = exponential_buckets(0.001, 1.62, 30)


def _sched(name, kind, help_text, extra=(), **kw) -> Family:
    return Family(name, kind, help_text, SCHEDULER_LABELS + tuple(extra), **kw)


def _tok(name, kind, help_text, extra=(), **kw) -> Family:
    return Family(name, kind, help_text, TOKENIZER_LABELS + tuple(extra), **kw)


# --- scheduler families (written by every forked scheduler process) ---------
NUM_RUNNING_REQS = _sched("sglang:num_running_reqs", "gauge", "The number of running requests.", mode=MOSTRECENT)
NUM_QUEUE_REQS = _sched("sglang:num_queue_reqs", "gauge", "The number of requests in the waiting queue.", mode=MOSTRECENT)
NUM_USED_TOKENS = _sched("sglang:num_used_tokens", "gauge", "The number of used tokens.", mode=MOSTRECENT)
TOKEN_USAGE = _sched("sglang:token_usage", "gauge", "The token usage.", mode=MOSTRECENT)
GEN_THROUGHPUT = _sched("sglang:gen_throughput", "gauge", "The generation throughput (token/s).", mode=MOSTRECENT)
CACHE_HIT_RATE = _sched("sglang:cache_hit_rate", "gauge", "The prefix cache hit rate.", mode=MOSTRECENT)
MAX_TOTAL_NUM_TOKENS = _sched("sglang:max_total_num_tokens", "gauge",
                              "Maximum total number of tokens in the KV cache pool.", mode=MOSTRECENT)
FWD_OCCUPANCY = _sched("sglang:fwd_occupancy", "gauge", "Forward pass GPU occupancy percentage.", mode=MOSTRECENT)
NEW_TOKEN_RATIO = _sched("sglang:new_token_ratio", "gauge", "The new token ratio.", mode=MOSTRECENT)
NUM_RETRACTED_REQS = _sched("sglang:num_retracted_reqs", "gauge", "The number of retracted requests.", mode="all")
NUM_PAUSED_REQS = _sched("sglang:num_paused_reqs", "gauge",
                         "The number of paused requests by async weight sync.", mode="all")
NUM_RETRACTED_REQUESTS = _sched("sglang:num_retracted_requests_total", "counter",
                                "Total number of retracted requests.")
REALTIME_TOKENS = _sched("sglang:realtime_tokens_total", "counter",
                         "Total number of tokens processed (updated on each log interval). "
                         "mode: prefill_compute, prefill_cache, decode.", extra=("mode",))
CUDA_GRAPH_PASSES = _sched("sglang:cuda_graph_passes_total", "counter",
                           "Total number of forward passes categorized by CUDA graph.", extra=("mode",))
QUEUE_TIME = _sched("sglang:queue_time_seconds", "histogram", "Histogram of queueing time in seconds.",
                    buckets=B_QUEUE)
PER_STAGE_LATENCY = _sched("sglang:per_stage_req_latency_seconds", "histogram",
                           "The latency of each stage of requests.", extra=("stage",), buckets=B_PER_STAGE)

# --- tokenizer families (written by the parent process) ---------------------
TTFT = _tok("sglang:time_to_first_token_seconds", "histogram", "Histogram of time to first token in seconds.",
            extra=("is_streaming",), buckets=B_TTFT)
ITL = _tok("sglang:inter_token_latency_seconds", "histogram", "Histogram of inter-token latency in seconds.",
           buckets=B_ITL)
E2E = _tok("sglang:e2e_request_latency_seconds", "histogram", "Histogram of End-to-end request latency in seconds",
           extra=("is_streaming",), buckets=B_E2E)
NUM_REQUESTS = _tok("sglang:num_requests_total", "counter", "Number of requests processed.", extra=("is_streaming",))
PROMPT_TOKENS = _tok("sglang:prompt_tokens_total", "counter", "Number of prefill tokens processed.",
                     extra=("is_streaming",))
GENERATION_TOKENS = _tok("sglang:generation_tokens_total", "counter", "Number of generation tokens processed.",
                         extra=("is_streaming",))
CACHED_TOKENS = _tok("sglang:cached_tokens_total", "counter",
                     "Number of cached prompt tokens by source (device/host/storage).", extra=("cache_source",))
# Registered by SGLang's HTTP middleware with only an `endpoint` label.
HTTP_REQUEST_SIZE = Family("sglang:http_request_size_bytes", "summary",
                           "Content length of incoming requests by endpoint. "
                           "Only value of header is respected. Otherwise ignored.", ("endpoint",))

# --- non-sglang families, written by every process; scrapers must drop them -
PROCESS_DEMO_EVENTS = Family("process_demo_events", "counter", "Demo non-sglang counter (filtered by scrapers).", ())
PYTHON_DEMO_THREADS = Family("python_demo_threads", "gauge", "Demo non-sglang livesum gauge (filtered by scrapers).",
                             (), mode="livesum")

# One planned write: the family, its label values, and the values to apply in
# order (gauge: set each; counter: inc each; histogram/summary: observe each).
Write = Tuple[Family, Dict[str, str], Tuple[float, ...]]


def non_sglang_plan() -> List[Write]:
    return [(PROCESS_DEMO_EVENTS, {}, (1,)), (PYTHON_DEMO_THREADS, {}, (2,))]


def scheduler_plan(rank: int, ranks: int, model: str) -> List[Write]:
    """What scheduler process `rank` writes; deterministic in (rank, ranks, model)."""
    base = {"model_name": model, "engine_type": "unified", "tp_rank": str(rank),
            "pp_rank": "0", "moe_ep_rank": "0"}
    r1 = rank + 1

    def lab(**extra):
        return dict(base, **extra)

    return [
        (NUM_RUNNING_REQS, lab(), (0, 3 + rank)),  # two sets: the last one wins
        (NUM_QUEUE_REQS, lab(), (2 * rank,)),
        (NUM_USED_TOKENS, lab(), (1024 * r1,)),
        (TOKEN_USAGE, lab(), (0.125 * r1,)),
        (GEN_THROUGHPUT, lab(), (900.0, 1000.5 + 10 * rank)),
        (CACHE_HIT_RATE, lab(), (0.5 / r1,)),
        (MAX_TOTAL_NUM_TOKENS, lab(), (1100000,)),  # prints as 1.1e+06
        # SGLang initialises fwd_occupancy to NaN; keep it NaN on rank 0.
        (FWD_OCCUPANCY, lab(), (math.nan if rank == 0 else 40.0 + rank,)),
        (NEW_TOKEN_RATIO, lab(), (math.inf if rank == ranks - 1 else 0.7,)),
        (NUM_RETRACTED_REQS, lab(), (rank,)),
        (NUM_PAUSED_REQS, lab(), (0,)),
        (NUM_RETRACTED_REQUESTS, lab(), (rank,)),
        (REALTIME_TOKENS, lab(mode="prefill_compute"), (60 * r1, 40 * r1)),
        (REALTIME_TOKENS, lab(mode="prefill_cache"), (10 * r1,)),
        (REALTIME_TOKENS, lab(mode="decode"), (1000 * r1,)),
        (CUDA_GRAPH_PASSES, lab(mode="decode_cuda_graph"), (300 + rank,)),
        # 0.0 lands in le="0.0"; 1.5 between 1 and 2.
        (QUEUE_TIME, lab(), (0.0, 0.003 * r1, 1.5)),
        # 0.001 sits exactly on the first bound (le is inclusive).
        (PER_STAGE_LATENCY, lab(stage="prefill_waiting"), (0.001, 0.0002 * r1, 0.05 * r1)),
        (PER_STAGE_LATENCY, lab(stage="prefill_forward"), (0.01 * r1, 0.3)),
    ] + non_sglang_plan()


def tokenizer_plan(model: str) -> List[Write]:
    """What the tokenizer (parent) process writes."""
    base = {"model_name": model, "engine_type": "unified"}

    def lab(**extra):
        return dict(base, **extra)

    return [
        (TTFT, lab(is_streaming="true"), (0.05, 0.1, 0.35, 2.5)),
        (TTFT, lab(is_streaming="false"), (0.9,)),
        (ITL, lab(), (0.002, 0.0125, 0.0125, 0.03, 9.0)),  # 9.0 only in +Inf
        (E2E, lab(is_streaming="true"), (1.2, 3.4, 2500.0)),  # 2500 only in +Inf
        (E2E, lab(is_streaming="false"), (0.9,)),
        (NUM_REQUESTS, lab(is_streaming="true"), (1, 1, 1)),
        (NUM_REQUESTS, lab(is_streaming="false"), (1,)),
        (PROMPT_TOKENS, lab(is_streaming="true"), (128, 256, 512)),
        (PROMPT_TOKENS, lab(is_streaming="false"), (64,)),
        (GENERATION_TOKENS, lab(is_streaming="true"), (100, 200, 300)),
        (GENERATION_TOKENS, lab(is_streaming="false"), (10,)),
        (CACHED_TOKENS, lab(cache_source="device"), (96,)),
        (HTTP_REQUEST_SIZE, {"endpoint": "/generate"}, (512, 2048, 128)),
        (HTTP_REQUEST_SIZE, {"endpoint": "/v1/chat/completions"}, (1024.5,)),
    ] + non_sglang_plan()


# --- writing through prometheus_client --------------------------------------

def resolve_gauge_mode(prom, mode: str) -> str:
    """Map the symbolic "mostrecent" mode onto what the library supports."""
    if mode == MOSTRECENT and MOSTRECENT not in prom.Gauge._MULTIPROC_MODES:
        return "max"
    return mode


def record(prom, plan: List[Write]) -> None:
    """Create the families of `plan` in this process and apply its writes."""
    metrics = {}
    for fam, labels, values in plan:
        metric = metrics.get(fam.name)
        if metric is None:
            kwargs = {"registry": None}  # only the multiprocess files matter
            if fam.kind == "gauge":
                kwargs["multiprocess_mode"] = resolve_gauge_mode(prom, fam.mode)
            elif fam.kind == "histogram":
                kwargs["buckets"] = fam.buckets
            cls = {"gauge": prom.Gauge, "counter": prom.Counter,
                   "histogram": prom.Histogram, "summary": prom.Summary}[fam.kind]
            metric = metrics[fam.name] = cls(fam.name, fam.help, fam.labelnames, **kwargs)
        child = metric.labels(**labels) if fam.labelnames else metric
        apply = getattr(child, {"gauge": "set", "counter": "inc"}.get(fam.kind, "observe"))
        for value in values:
            apply(value)


def fork_schedulers(prom, ranks: int, model: str) -> Dict[int, int]:
    """Fork one scheduler per rank, wait for all; return {rank: pid}."""
    pids = {}
    for rank in range(ranks):
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # child: write, then leave without running parent cleanup
            code = 0
            try:
                record(prom, scheduler_plan(rank, ranks, model))
            except BaseException:  # noqa: B902 - report anything, never return
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        pids[rank] = pid
    for rank, pid in pids.items():
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"scheduler rank {rank} (pid {pid}) failed: status {status}")
    return pids


# --- expectations (computed from the plans, not from the exposition) --------

def json_number(value: float):
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return float(value)


def observe_state(fam: Family, values) -> dict:
    """Per-process state after applying `values` the way the library does."""
    if fam.kind == "gauge":
        return {"value": float(values[-1])}
    total = 0.0
    for value in values:
        total += value  # same sequential float additions as the mmap value
    if fam.kind == "counter":
        return {"value": total}
    state = {"count": float(len(values)), "sum": total}
    if fam.kind == "histogram":
        bounds = [float(b) for b in fam.buckets] + [math.inf]
        state["buckets"] = [float(sum(1 for v in values if v <= le)) for le in bounds]
    return state


def merge_state(fam: Family, mode: str, old: dict, new: dict) -> dict:
    """Merge the same series written by two processes, as MultiProcessCollector does."""
    if fam.kind == "gauge":
        pick = {"max": max, "livemax": max, "min": min, "livemin": min}.get(mode)
        if pick:
            return {"value": pick(old["value"], new["value"])}
        if mode in ("sum", "livesum"):
            return {"value": old["value"] + new["value"]}
        return new  # mostrecent: last writer
    merged = {k: old[k] + new[k] for k in ("value", "count", "sum") if k in old}
    if "buckets" in old:
        merged["buckets"] = [a + b for a, b in zip(old["buckets"], new["buckets"])]
    return merged


def expected_families(prom, writers: List[Tuple[int, List[Write]]]) -> List[dict]:
    """Expected `sglang:` families from (pid, plan) pairs."""
    found: Dict[str, Tuple[Family, Dict[tuple, dict]]] = {}
    for pid, plan in writers:
        for fam, labels, values in plan:
            if not fam.name.startswith("sglang:"):
                continue
            mode = resolve_gauge_mode(prom, fam.mode) if fam.kind == "gauge" else None
            labels = dict(labels)
            if mode in ("all", "liveall"):
                labels["pid"] = str(pid)
            key = tuple(sorted(labels.items()))
            series = found.setdefault(fam.name, (fam, {}))[1]
            state = observe_state(fam, values)
            series[key] = merge_state(fam, mode, series[key], state) if key in series else state

    out = []
    for name in sorted(found):
        fam, series = found[name]
        rows = []
        for key in sorted(series):
            state = series[key]
            row = {"labels": dict(key)}
            if "value" in state:
                row["value"] = json_number(state["value"])
            else:
                row["count"] = state["count"]
                row["sum"] = json_number(state["sum"])
            if "buckets" in state:
                bounds = [float(b) for b in fam.buckets] + [math.inf]
                row["buckets"] = [[json_number(le), c] for le, c in zip(bounds, state["buckets"])]
            rows.append(row)
        out.append({"name": name, "type": fam.kind, "help": fam.help, "series": rows})
    return out


def write_expectations(path: str, prom, registry, ranks: int, sched_pids: Dict[int, int], model: str) -> None:
    writers = [(pid, scheduler_plan(rank, ranks, model)) for rank, pid in sorted(sched_pids.items())]
    writers.append((os.getpid(), tokenizer_plan(model)))
    collected = list(registry.collect())
    doc = {
        "prometheus_client_version": _library_version(),
        "gauge_mostrecent_mode": resolve_gauge_mode(prom, MOSTRECENT),
        # Library behaviour, checked on the collected samples (values are not).
        "created": any(s.name.endswith("_created") for m in collected for s in m.samples),
        "ranks": ranks,
        "tokenizer_pid": os.getpid(),
        "scheduler_pids": {str(rank): pid for rank, pid in sorted(sched_pids.items())},
        "filtered_families": [PROCESS_DEMO_EVENTS.name + "_total", PYTHON_DEMO_THREADS.name],
        "families": expected_families(prom, writers),
    }
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1, allow_nan=False)
        fh.write("\n")


def _library_version() -> str:
    try:
        from importlib.metadata import version
        return version("prometheus_client")
    except Exception:  # noqa: BLE001 - metadata is optional
        return "unknown"


# --- output -----------------------------------------------------------------

def serve(registry, port: int) -> None:
    """Serve /metrics with prometheus_client's MetricsHandler until SIGTERM/SIGINT."""
    from http.server import ThreadingHTTPServer
    from urllib.parse import urlparse
    from prometheus_client.exposition import MetricsHandler

    class Handler(MetricsHandler.factory(registry)):
        def do_GET(self):
            # SGLang mounts the app on ^/metrics(?P<path>.*)$.
            if not urlparse(self.path).path.startswith("/metrics"):
                self.send_error(404)
                return
            super().do_GET()

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, bound = server.server_address[:2]
    print(f"listening on {host}:{bound}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Render SGLang-like /metrics from prometheus_client multiprocess mode.")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--print", action="store_true", dest="print_once",
                        help="print one exposition to stdout and exit")
    action.add_argument("--serve", type=int, metavar="PORT",
                        help="serve /metrics on 127.0.0.1:PORT (0 = free port) until SIGTERM")
    parser.add_argument("--openmetrics", action="store_true",
                        help="with --print: OpenMetrics instead of text 0.0.4")
    parser.add_argument("--ranks", type=int, default=4, help="number of scheduler (TP) processes (default 4)")
    parser.add_argument("--model-name", default="Qwen/Qwen3-0.6B", help="model_name label value")
    parser.add_argument("--expect", metavar="FILE", help="also write the expected sglang: families as JSON")
    args = parser.parse_args(argv)
    if args.openmetrics and not args.print_once:
        parser.error("--openmetrics only applies to --print (--serve negotiates via Accept)")
    if args.ranks < 1:
        parser.error("--ranks must be >= 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    mp_dir = tempfile.mkdtemp(prefix="sglang_prom_multiproc_")
    # Must happen before prometheus_client is imported (values.ValueClass is
    # chosen at import time), exactly as SGLang's set_prometheus_multiproc_dir.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = mp_dir
    try:
        import prometheus_client as prom
        from prometheus_client import multiprocess

        # Fork before the parent creates any metric, so children inherit no
        # mmap'ed values from the tokenizer.
        sched_pids = fork_schedulers(prom, args.ranks, args.model_name)
        record(prom, tokenizer_plan(args.model_name))

        registry = prom.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)

        if args.expect:
            write_expectations(args.expect, prom, registry, args.ranks, sched_pids, args.model_name)
        if args.print_once:
            if args.openmetrics:
                from prometheus_client.openmetrics.exposition import generate_latest
            else:
                generate_latest = prom.generate_latest
            sys.stdout.buffer.write(generate_latest(registry))
            sys.stdout.flush()
        else:
            serve(registry, args.serve)
    finally:
        shutil.rmtree(mp_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
