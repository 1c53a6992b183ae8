#!/usr/bin/python3
"""Render an SGLang-like /metrics body with the real prometheus_client in
multiprocess mode, as SGLang does: the GenAI sources of the tokenizer
(time_to_first_token_seconds, request_time_per_output_token_seconds,
e2e_request_latency_seconds, with `is_streaming`) and scheduler families of
2 DP groups x 2 TP ranks (--enable-metrics-for-all-schedulers), each rank in
its own forked process.

    /usr/bin/python3 genai_promclient.py > genai_promclient.txt

Values are deterministic; the `pid` labels and the family order are not.
"""
import os
import sys
import tempfile

d = tempfile.mkdtemp()
os.environ["PROMETHEUS_MULTIPROC_DIR"] = d
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess  # noqa: E402

L = ["engine_type", "model_name"]
B_TTFT = [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400]
B_E2E = B_TTFT + [600, 1200, 1800, 2400]
B_TPOT = [0.002, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 1.0]
B_QUEUE = [0.0, 0.001, 0.005, 0.01, 0.05, 0.1, 0.2, 0.5, 1, 2, 5]


def scheduler(dp, tp):
    labels = dict(engine_type="unified", model_name="Qwen/Qwen3-0.6B", tp_rank=str(dp * 2 + tp),
                  pp_rank="0", moe_ep_rank=str(tp), dp_rank=str(dp))
    names = list(labels)
    mode = "mostrecent" if "mostrecent" in Gauge._MULTIPROC_MODES else "max"
    Gauge("sglang:num_running_reqs", "The number of running requests.", names, multiprocess_mode=mode).labels(**labels).set(3 + dp)
    Gauge("sglang:token_usage", "The token usage.", names, multiprocess_mode=mode).labels(**labels).set(0.25 * (dp + 1))
    Gauge("sglang:utilization", "The utilization.", names, multiprocess_mode=mode).labels(**labels).set(0.5 + 0.1 * tp)
    Gauge("sglang:num_retracted_reqs", "The number of retracted requests.", names).labels(**labels).set(dp)
    Counter("sglang:realtime_tokens", "Total number of tokens processed (updated on each log interval). mode: prefill_compute, prefill_cache, decode.",
            names + ["mode"]).labels(**labels, mode="decode").inc(1000 * (dp + 1))
    h = Histogram("sglang:queue_time_seconds", "Histogram of queueing time in seconds.", names, buckets=B_QUEUE).labels(**labels)
    for v in [0.003, 0.04, 0.7][: dp + 2]:
        h.observe(v)


children = []
for dp in range(2):
    for tp in range(2):
        pid = os.fork()
        if pid == 0:
            scheduler(dp, tp)
            os._exit(0)
        children.append(pid)
for pid in children:
    os.waitpid(pid, 0)

base = dict(engine_type="unified", model_name="Qwen/Qwen3-0.6B")
ttft = Histogram("sglang:time_to_first_token_seconds", "Histogram of time to first token in seconds.", L + ["is_streaming"], buckets=B_TTFT)
tpot = Histogram("sglang:request_time_per_output_token_seconds", "Histogram of time per output token in seconds.", L + ["is_streaming"], buckets=B_TPOT)
e2e = Histogram("sglang:e2e_request_latency_seconds", "Histogram of End-to-end request latency in seconds", L + ["is_streaming"], buckets=B_E2E)
itl = Histogram("sglang:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", L, buckets=[0.002, 0.01, 0.04, 0.1, 1.0])
prompt = Counter("sglang:prompt_tokens", "Number of prefill tokens processed.", L + ["is_streaming"])
for streaming, reqs in (("true", [(0.15, 0.012, 2.5, 100), (0.7, 0.03, 9.1, 300)]), ("false", [(1.5, 0.05, 30.0, 600)])):
    for t, p, e, n in reqs:
        ttft.labels(**base, is_streaming=streaming).observe(t)
        tpot.labels(**base, is_streaming=streaming).observe(p)
        e2e.labels(**base, is_streaming=streaming).observe(e)
        prompt.labels(**base, is_streaming=streaming).inc(n)
        itl.labels(**base).observe(p)

reg = CollectorRegistry()
multiprocess.MultiProcessCollector(reg)
sys.stdout.write(generate_latest(reg).decode())
