// Package payloads generates the three /metrics bodies of the performance
// benchmarks (issue 4). It has no dependencies, and its output is
// deterministic: the same bytes on every run and every machine.
//
//   - Worker: a real Dynamo worker (dynamo_component_* plus passed-through
//     sglang:*), the capture from the Dynamo docs, verbatim (34 KB, 332 lines).
//   - SGLangTP8: SGLang at TP=8 with --enable-metrics-for-all-schedulers, as
//     prometheus_client's multiprocess collector prints it (about 2,800
//     samples, 540 KB, per-stage 30-bucket histograms).
//   - Mixed: a 215 KB body where 90% of the lines belong to other namespaces
//     (python_*, process_*, go_*, vllm:*).
//
// The files under bench/testdata are these bodies, written by
// `go generate ./payloads` (see cmd/genpayloads), so that benchmarks in
// other modules can read the same bytes.
package payloads

//go:generate go run ../cmd/genpayloads -out ../testdata

import (
	_ "embed"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// Payload is one named body.
type Payload struct {
	Name string // also the file name stem under bench/testdata
	Desc string
	Body []byte
}

// All returns the three payloads, in the order of the issue.
func All() []Payload {
	return []Payload{
		{Name: "worker", Desc: "real Dynamo worker (docs capture)", Body: Worker()},
		{Name: "sglang_tp8", Desc: "SGLang TP=8, all schedulers, 30-bucket per-stage histograms", Body: SGLangTP8()},
		{Name: "mixed", Desc: "215 KB, 90% of lines in other namespaces", Body: Mixed()},
	}
}

//go:embed dynamo_sglang_worker.txt
var workerCapture []byte

// Worker returns the Dynamo worker capture
// (github.com/ai-dynamo/dynamo docs/observability/metrics_examples/sglang.log).
func Worker() []byte { return append([]byte(nil), workerCapture...) }

// PyFloat formats v as prometheus_client does (floatToGoString): Python's
// repr of a float, with +Inf, -Inf and NaN spelled the Go way.
func PyFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	a := math.Abs(v)
	if a != 0 && (a < 1e-4 || a >= 1e16) {
		// Python repr: shortest digits, exponent with a sign and at least
		// two digits ("1e-05", "1.5e+16"); Go's 'e' format agrees.
		return strconv.FormatFloat(v, 'e', -1, 64)
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// label is one name/value pair; a label set is printed sorted by name, as
// prometheus_client's multiprocess collector does (with `le` among them).
type label struct{ k, v string }

type writer struct {
	b   strings.Builder
	rng *rand.Rand
}

func newWriter(seed uint64) *writer {
	return &writer{rng: rand.New(rand.NewPCG(seed, 0x5eed))}
}

func (w *writer) family(name, typ, help string) {
	fmt.Fprintf(&w.b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

func (w *writer) sample(name string, labels []label, v string) {
	w.b.WriteString(name)
	if len(labels) > 0 {
		ls := append([]label(nil), labels...)
		sort.SliceStable(ls, func(i, j int) bool { return ls[i].k < ls[j].k })
		w.b.WriteByte('{')
		for i, l := range ls {
			if i > 0 {
				w.b.WriteByte(',')
			}
			w.b.WriteString(l.k)
			w.b.WriteString(`="`)
			w.b.WriteString(l.v)
			w.b.WriteByte('"')
		}
		w.b.WriteByte('}')
	}
	w.b.WriteByte(' ')
	w.b.WriteString(v)
	w.b.WriteByte('\n')
}

func with(ls []label, extra ...label) []label {
	return append(append([]label(nil), ls...), extra...)
}

// gaugeValue is a plausible gauge reading with a fractional part.
func (w *writer) gaugeValue() string {
	switch w.rng.IntN(3) {
	case 0:
		return PyFloat(float64(w.rng.IntN(200)))
	case 1:
		return PyFloat(w.rng.Float64())
	}
	return PyFloat(w.rng.Float64() * 5000)
}

func (w *writer) counterValue() string { return PyFloat(float64(w.rng.IntN(5_000_000))) }

// histogram prints one series as the multiprocess collector does: _sum,
// then the buckets (cumulative, ascending, ending in +Inf), then _count.
// Set sumFirst to false for the single-process order (buckets, _count,
// _sum).
func (w *writer) histogram(name string, ls []label, bounds []float64, sumFirst bool) {
	n := w.rng.IntN(10_000)
	counts := make([]int, len(bounds)+1)
	for i := 0; i < n; i++ {
		// A skewed distribution over the buckets, so counts rise gradually.
		b := int(math.Min(float64(len(bounds)), math.Floor(w.rng.ExpFloat64()*float64(len(bounds))/4)))
		counts[b]++
	}
	sum := float64(n) * (0.5 + w.rng.Float64()) * 1.000000123
	if sumFirst {
		w.sample(name+"_sum", ls, PyFloat(sum))
	}
	cum := 0
	for i, b := range bounds {
		cum += counts[i]
		w.sample(name+"_bucket", with(ls, label{"le", PyFloat(b)}), PyFloat(float64(cum)))
	}
	w.sample(name+"_bucket", with(ls, label{"le", "+Inf"}), PyFloat(float64(n)))
	w.sample(name+"_count", ls, PyFloat(float64(n)))
	if !sumFirst {
		w.sample(name+"_sum", ls, PyFloat(sum))
	}
}

// Bucket lists from sglang-dynamo-metrics.md §1.5.
var (
	// exponential_buckets(0.001, 1.62, 30) as Python computes it
	// (start * factor**i); Go's math.Pow differs in the last bits, so the
	// list is spelled out.
	bPerStage = []float64{0.001, 0.0016200000000000001, 0.0026244000000000007, 0.004251528, 0.006887475360000002, 0.011157710083200004, 0.018075490334784006, 0.029282294342350097, 0.047437316834607154, 0.07684845327206359, 0.12449449430074302, 0.20168108076720373, 0.3267233508428701, 0.5292918283654495, 0.8574527619520282, 1.389073474362286, 2.2502990284669036, 3.6454844261163837, 5.905684770308542, 9.567209327899839, 15.49887911119774, 25.10818416014034, 40.67525833942735, 65.89391850987231, 106.74814798599316, 172.93199973730896, 280.1498395744405, 453.84274011059364, 735.2252389791618, 1191.064887146242}
	bQueue    = []float64{0.000, 0.001, 0.005, 0.010, 0.050, 0.100, 0.200, 0.500, 1, 2, 3, 4, 5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1200, 1400, 1600, 1800, 2000, 2500, 3000}
	bTTFT     = []float64{0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400}
	bITL      = []float64{0.002, 0.004, 0.006, 0.008, 0.010, 0.015, 0.020, 0.025, 0.030, 0.035, 0.040, 0.060, 0.080, 0.100, 0.200, 0.400, 0.600, 0.800, 1.000, 2.000, 4.000, 6.000, 8.000}
	bE2E      = []float64{0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 600, 1200, 1800, 2400}
	bTokens   = []float64{100, 300, 500, 700, 1000, 1500, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 12500, 15000, 17500, 20000, 22500, 25000, 27500, 30000, 35000, 40000, 60000, 80000, 100000, 200000, 300000, 400000, 600000, 800000, 1000000, 1100000}
	bKVLat    = []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000}
	bKVSpeed  = []float64{0.1, 0.5, 1, 5, 10, 25, 50, 100, 200, 400}
)

const modelName = "meta-llama/Llama-3.1-70B-Instruct"

var schedulerGauges = []struct{ name, help string }{
	{"sglang:num_running_reqs", "The number of running requests."},
	{"sglang:num_queue_reqs", "The number of requests in the waiting queue."},
	{"sglang:num_grammar_queue_reqs", "The number of requests in the grammar waiting queue."},
	{"sglang:gen_throughput", "The generation throughput (token/s)."},
	{"sglang:cache_hit_rate", "The prefix cache hit rate."},
	{"sglang:decode_sum_seq_lens", "The sum of all sequence lengths in decode."},
	{"sglang:token_usage", "The token usage."},
	{"sglang:full_token_usage", "The token usage for full attention layers."},
	{"sglang:swa_token_usage", "The token usage for SWA layers."},
	{"sglang:mamba_usage", "The token usage for Mamba layers."},
	{"sglang:num_used_tokens", "The number of used tokens."},
	{"sglang:kv_available_tokens", "Number of free token slots in the KV cache pool."},
	{"sglang:kv_evictable_tokens", "Number of evictable (radix-cached) token slots in the KV cache pool."},
	{"sglang:kv_used_tokens", "Number of actively used token slots in the KV cache pool."},
	{"sglang:spec_accept_length", "Mean acceptance length of speculative decoding (accepted drafts + bonus token per forward)."},
	{"sglang:spec_accept_rate", "Speculative acceptance rate (`accepted drafts / proposed drafts` in batch)."},
	{"sglang:num_prefill_bootstrap_queue_reqs", "The number of requests in the prefill bootstrap queue."},
	{"sglang:num_prefill_inflight_queue_reqs", "The number of requests in the prefill inflight queue."},
	{"sglang:num_decode_prealloc_queue_reqs", "The number of requests in the decode prealloc queue."},
	{"sglang:num_decode_transfer_queue_reqs", "The number of requests in the decode transfer queue."},
	{"sglang:pending_prealloc_token_usage", "The token usage for pending preallocated tokens (not preallocated yet)."},
	{"sglang:utilization", "The utilization."},
	{"sglang:fwd_occupancy", "Forward pass GPU occupancy percentage."},
	{"sglang:new_token_ratio", "The new token ratio."},
	{"sglang:is_cuda_graph", "Whether the batch is using CUDA graph."},
	{"sglang:num_unique_running_routing_keys", "Number of unique routing keys in running batch."},
	{"sglang:max_total_num_tokens", "Maximum total number of tokens in the KV cache pool."},
	{"sglang:weight_memory_usage_gb", "Memory used by model weights in GB."},
	{"sglang:kv_cache_memory_usage_gb", "Memory used by the KV cache pools in GB."},
	{"sglang:page_size", "KV cache page size in tokens."},
	{"sglang:num_pages", "Number of KV cache pages."},
	{"sglang:context_len", "Maximum context length."},
	{"sglang:startup_available_gpu_memory_gb", "Available GPU memory in GB at startup."},
}

// pidGauges are `mode="all"` gauges: prometheus_client adds a pid label.
var pidGauges = []struct{ name, help string }{
	{"sglang:num_retracted_reqs", "The number of retracted requests."},
	{"sglang:num_paused_reqs", "The number of paused requests by async weight sync."},
}

var schedulerCounters = []struct {
	name, help, label string
	values            []string
}{
	{"sglang:num_retracted_requests_total", "Total number of retracted requests.", "", nil},
	{"sglang:num_retracted_input_tokens_total", "Total number of retracted input tokens.", "", nil},
	{"sglang:num_retracted_output_tokens_total", "Total number of retracted output tokens.", "", nil},
	{"sglang:num_bootstrap_failed_reqs_total", "The number of bootstrap failed requests.", "", nil},
	{"sglang:num_transfer_failed_reqs_total", "The number of transfer failed requests.", "", nil},
	{"sglang:num_prefill_retries_total", "Total number of prefill retries.", "", nil},
	{"sglang:realtime_tokens_total", "Total number of tokens processed (updated on each log interval). mode: prefill_compute, prefill_cache, decode.", "mode", []string{"prefill_compute", "prefill_cache", "decode"}},
	{"sglang:prefill_effective_tokens_total", "Effective prefill tokens with retracted-request re-counts excluded, updated on each log interval.", "mode", []string{"device_hit", "host_hit", "storage_hit", "input"}},
	{"sglang:forward_execution_seconds_total", "Total time that GPU is busy executing model forward passes. Refer to ForwardMode for category labels.", "category", []string{"decode", "extend", "idle"}},
	{"sglang:cuda_graph_passes_total", "Total number of forward passes categorized by CUDA graph.", "mode", []string{"decode_cuda_graph", "decode_none", "prefill_cuda_graph", "prefill_none"}},
}

var stages = []string{"prefill_waiting", "prefill_bootstrap", "prefill_forward", "chunked_prefill", "decode_waiting", "decode_forward"}

// sglangScheduler writes the scheduler families for the given ranks, each
// family once with a series per rank, as the multiprocess collector merges
// them.
func (w *writer) sglangScheduler(ranks []int, stageList []string, withKV bool) {
	base := func(r int) []label {
		return []label{{"engine_type", "unified"}, {"model_name", modelName}, {"moe_ep_rank", "0"}, {"pp_rank", "0"}, {"tp_rank", strconv.Itoa(r)}}
	}
	for _, g := range schedulerGauges {
		w.family(g.name, "gauge", g.help)
		for _, r := range ranks {
			w.sample(g.name, base(r), w.gaugeValue())
		}
	}
	for _, g := range pidGauges {
		w.family(g.name, "gauge", g.help)
		for _, r := range ranks {
			w.sample(g.name, with(base(r), label{"pid", strconv.Itoa(41200 + r)}), w.gaugeValue())
		}
	}
	for _, c := range schedulerCounters {
		w.family(c.name, "counter", c.help)
		for _, r := range ranks {
			if c.label == "" {
				w.sample(c.name, base(r), w.counterValue())
				continue
			}
			for _, v := range c.values {
				w.sample(c.name, with(base(r), label{c.label, v}), w.counterValue())
			}
		}
	}
	w.family("sglang:queue_time_seconds", "histogram", "Histogram of queueing time in seconds.")
	for _, r := range ranks {
		w.histogram("sglang:queue_time_seconds", base(r), bQueue, true)
	}
	w.family("sglang:per_stage_req_latency_seconds", "histogram", "The latency of each stage of requests.")
	for _, r := range ranks {
		for _, st := range stageList {
			w.histogram("sglang:per_stage_req_latency_seconds", with(base(r), label{"stage", st}), bPerStage, true)
		}
	}
	if withKV {
		w.family("sglang:kv_transfer_latency_ms", "histogram", "Histogram of KV cache transfer latency in ms.")
		for _, r := range ranks {
			w.histogram("sglang:kv_transfer_latency_ms", base(r), bKVLat, true)
		}
		w.family("sglang:kv_transfer_speed_gb_s", "histogram", "Histogram of KV cache transfer speed in GB/s.")
		for _, r := range ranks {
			w.histogram("sglang:kv_transfer_speed_gb_s", base(r), bKVSpeed, true)
		}
	}
}

// sglangTokenizer writes the tokenizer-process families.
func (w *writer) sglangTokenizer() {
	base := []label{{"engine_type", "unified"}, {"model_name", modelName}}
	streaming := []string{"false", "true"}
	for _, c := range []struct{ name, help string }{
		{"sglang:prompt_tokens_total", "Number of prefill tokens processed."},
		{"sglang:generation_tokens_total", "Number of generation tokens processed."},
		{"sglang:num_requests_total", "Number of requests processed."},
	} {
		w.family(c.name, "counter", c.help)
		for _, s := range streaming {
			w.sample(c.name, with(base, label{"is_streaming", s}), w.counterValue())
		}
	}
	w.family("sglang:cached_tokens_total", "counter", "Number of cached prompt tokens by source (device/host/storage).")
	for _, s := range []string{"device", "host", "storage_file", "total"} {
		w.sample("sglang:cached_tokens_total", with(base, label{"cache_source", s}), w.counterValue())
	}
	w.family("sglang:num_aborted_requests_total", "counter", "Number of requests aborted.")
	w.sample("sglang:num_aborted_requests_total", base, w.counterValue())
	w.family("sglang:num_so_requests_total", "counter", "Number of structured output requests processed.")
	w.sample("sglang:num_so_requests_total", base, w.counterValue())
	w.family("sglang:startup_time_seconds", "gauge", "Engine startup duration by phase in seconds.")
	for _, ph := range []string{"load_weight", "kv_cache_allocation", "scheduler_e2e", "tokenizer_e2e"} {
		w.sample("sglang:startup_time_seconds", with(base, label{"phase", ph}), w.gaugeValue())
	}
	w.family("sglang:time_to_first_token_seconds", "histogram", "Histogram of time to first token in seconds.")
	for _, s := range streaming {
		w.histogram("sglang:time_to_first_token_seconds", with(base, label{"is_streaming", s}), bTTFT, true)
	}
	w.family("sglang:inter_token_latency_seconds", "histogram", "Histogram of inter-token latency in seconds.")
	w.histogram("sglang:inter_token_latency_seconds", base, bITL, true)
	w.family("sglang:e2e_request_latency_seconds", "histogram", "Histogram of End-to-end request latency in seconds")
	for _, s := range streaming {
		w.histogram("sglang:e2e_request_latency_seconds", with(base, label{"is_streaming", s}), bE2E, true)
	}
	for _, h := range []struct{ name, help string }{
		{"sglang:prompt_tokens_histogram", "Histogram of prompt token length."},
		{"sglang:uncached_prompt_tokens_histogram", "Histogram of uncached (compute) prompt token length."},
		{"sglang:generation_tokens_histogram", "Histogram of generation token length."},
	} {
		w.family(h.name, "histogram", h.help)
		w.histogram(h.name, base, bTokens, true)
	}
}

// pythonProcess writes the unprefixed collectors that
// add_prometheus_middleware registers (GC, platform, process).
func (w *writer) pythonProcess() {
	for _, c := range []struct{ name, typ, help string }{
		{"python_gc_objects_collected_total", "counter", "Objects collected during gc"},
		{"python_gc_objects_uncollectable_total", "counter", "Uncollectable objects found during GC"},
		{"python_gc_collections_total", "counter", "Number of times this generation was collected"},
	} {
		w.family(c.name, c.typ, c.help)
		for g := 0; g < 3; g++ {
			w.sample(c.name, []label{{"generation", strconv.Itoa(g)}}, w.counterValue())
		}
	}
	w.family("python_info", "gauge", "Python platform information")
	w.sample("python_info", []label{{"implementation", "CPython"}, {"major", "3"}, {"minor", "12"}, {"patchlevel", "3"}, {"version", "3.12.3"}}, "1.0")
	for _, c := range []struct{ name, typ, help string }{
		{"process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes."},
		{"process_resident_memory_bytes", "gauge", "Resident memory size in bytes."},
		{"process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds."},
		{"process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds."},
		{"process_open_fds", "gauge", "Number of open file descriptors."},
		{"process_max_fds", "gauge", "Maximum number of open file descriptors."},
	} {
		w.family(c.name, c.typ, c.help)
		w.sample(c.name, nil, PyFloat(float64(w.rng.IntN(1<<34))))
	}
}

// SGLangTP8 returns SGLang's /metrics at TP=8 with every scheduler
// exporting: eight series per scheduler family, six per-stage histograms of
// 30 buckets per rank, the tokenizer families once, and the unprefixed
// Python collectors.
func SGLangTP8() []byte {
	w := newWriter(8)
	w.pythonProcess()
	w.sglangScheduler([]int{0, 1, 2, 3, 4, 5, 6, 7}, stages, true)
	w.sglangTokenizer()
	return []byte(w.b.String())
}

// vLLM bucket lists (vllm/v1/metrics/loggers.py).
var (
	vTTFT   = []float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0}
	vITL    = []float64{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0}
	vReqLat = []float64{0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0}
	vTokens = []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000}
)

// vllmEngine writes the vllm:* families of one engine (single-process
// prometheus_client order: buckets, _count, _sum).
func (w *writer) vllmEngine(engine int) {
	ls := []label{{"engine", strconv.Itoa(engine)}, {"model_name", "Qwen/Qwen2.5-3B"}}
	for _, g := range []struct{ name, help string }{
		{"vllm:num_requests_running", "Number of requests in model execution batches."},
		{"vllm:num_requests_waiting", "Number of requests waiting to be processed."},
		{"vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage."},
	} {
		w.family(g.name, "gauge", g.help)
		w.sample(g.name, ls, w.gaugeValue())
	}
	for _, c := range []struct{ name, help string }{
		{"vllm:num_preemptions_total", "Cumulative number of preemption from the engine."},
		{"vllm:prompt_tokens_total", "Number of prefill tokens processed."},
		{"vllm:generation_tokens_total", "Number of generation tokens processed."},
		{"vllm:prefix_cache_queries_total", "Prefix cache queries, in terms of number of queried tokens."},
		{"vllm:prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens."},
	} {
		w.family(c.name, "counter", c.help)
		w.sample(c.name, ls, w.counterValue())
	}
	w.family("vllm:request_success_total", "counter", "Count of successfully processed requests.")
	for _, r := range []string{"abort", "length", "stop"} {
		w.sample("vllm:request_success_total", with(ls, label{"finished_reason", r}), w.counterValue())
	}
	for _, h := range []struct {
		name, help string
		bounds     []float64
	}{
		{"vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", vTTFT},
		{"vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", vITL},
		{"vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", vReqLat},
		{"vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", vReqLat},
		{"vllm:request_inference_time_seconds", "Histogram of time spent in RUNNING phase for request.", vReqLat},
		{"vllm:request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.", vReqLat},
		{"vllm:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", vReqLat},
		{"vllm:request_prompt_tokens", "Number of prefill tokens processed.", vTokens},
		{"vllm:request_generation_tokens", "Number of generation tokens processed.", vTokens},
		{"vllm:iteration_tokens_total", "Histogram of number of tokens per engine_step.", vTokens},
		{"vllm:request_params_max_tokens", "Histogram of the max_tokens request parameter.", vTokens},
	} {
		w.family(h.name, "histogram", h.help)
		w.histogram(h.name, ls, h.bounds, false)
	}
}

// goRuntime writes a Go client's default collectors.
func (w *writer) goRuntime() {
	w.family("go_gc_duration_seconds", "summary", "A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.")
	for _, q := range []string{"0", "0.25", "0.5", "0.75", "1"} {
		w.sample("go_gc_duration_seconds", []label{{"quantile", q}}, PyFloat(w.rng.Float64()/1000))
	}
	w.sample("go_gc_duration_seconds_sum", nil, PyFloat(w.rng.Float64()))
	w.sample("go_gc_duration_seconds_count", nil, PyFloat(float64(w.rng.IntN(10000))))
	w.family("go_goroutines", "gauge", "Number of goroutines that currently exist.")
	w.sample("go_goroutines", nil, PyFloat(float64(w.rng.IntN(500))))
	w.family("go_info", "gauge", "Information about the Go environment.")
	w.sample("go_info", []label{{"version", "go1.24.4"}}, "1")
	for _, n := range []string{"alloc_bytes", "alloc_bytes_total", "buck_hash_sys_bytes", "frees_total", "gc_sys_bytes", "heap_alloc_bytes", "heap_idle_bytes", "heap_inuse_bytes", "heap_objects", "heap_released_bytes", "heap_sys_bytes", "last_gc_time_seconds", "mallocs_total", "mcache_inuse_bytes", "mcache_sys_bytes", "mspan_inuse_bytes", "mspan_sys_bytes", "next_gc_bytes", "other_sys_bytes", "stack_inuse_bytes", "stack_sys_bytes", "sys_bytes"} {
		name := "go_memstats_" + n
		typ := "gauge"
		if strings.HasSuffix(n, "_total") {
			typ = "counter"
		}
		w.family(name, typ, "Number of bytes or objects, see runtime.MemStats.")
		w.sample(name, nil, strconv.Itoa(w.rng.IntN(1<<30)))
	}
	w.family("go_threads", "gauge", "Number of OS threads created.")
	w.sample("go_threads", nil, "23")
}

// Mixed returns a body of about 215 KB in which about 90% of the lines
// belong to namespaces the receiver drops: Python and process collectors, a
// Go runtime, and sixteen vLLM engines, with one SGLang scheduler (two
// per-stage histograms) and the Dynamo worker's own dynamo_component_*
// families in between.
func Mixed() []byte {
	w := newWriter(3)
	w.pythonProcess()
	for e := 0; e < 3; e++ {
		w.vllmEngine(e)
	}
	w.sglangScheduler([]int{0}, stages[:2], false)
	w.goRuntime()
	for e := 3; e < 7; e++ {
		w.vllmEngine(e)
	}
	return []byte(w.b.String())
}

// Count reports, for a text body, its lines, its sample lines, and the
// sample lines whose name starts with one of the prefixes.
func Count(body []byte, prefixes ...string) (lines, samples, kept int) {
	for _, l := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
		lines++
		if l == "" || l[0] == '#' {
			continue
		}
		samples++
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				kept++
				break
			}
		}
	}
	return
}
