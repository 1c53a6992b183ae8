package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/promtext"
)

// The families each body must carry, exactly, by role; SGLang's are named in
// the colon form and the suffix after "sglang:" is listed. These are the
// outcomes the demo promises, so the test spells them out rather than
// deriving them from the catalog.
var (
	engineCommonFamilies = []string{
		"cache_hit_rate", "cached_tokens_total", "context_len", "cuda_graph_passes_total", "decode_sum_seq_lens",
		"e2e_request_latency_seconds", "eplb_balancedness", "full_token_usage", "func_latency_seconds",
		"gen_throughput", "generation_tokens_histogram", "generation_tokens_total", "http_requests_active",
		"http_requests_total", "http_responses_total", "is_cuda_graph", "kv_available_tokens",
		"kv_evictable_tokens", "kv_used_tokens", "max_total_num_tokens", "new_token_ratio",
		"num_decode_prealloc_queue_reqs", "num_decode_transfer_queue_reqs", "num_grammar_queue_reqs",
		"num_paused_reqs", "num_prefill_bootstrap_queue_reqs", "num_prefill_inflight_queue_reqs",
		"num_queue_reqs", "num_requests_total", "num_retracted_input_tokens_total",
		"num_retracted_output_tokens_total", "num_retracted_reqs", "num_retracted_requests_total",
		"num_running_reqs", "num_used_tokens", "page_size", "pending_prealloc_token_usage",
		"per_stage_req_latency_seconds", "prefill_effective_tokens_total", "process_cpu_seconds_total",
		"prompt_tokens_histogram", "prompt_tokens_total", "queue_time_seconds", "realtime_tokens_total",
		"startup_time_seconds", "time_to_first_token_seconds", "token_usage", "uncached_prompt_tokens_histogram",
		"utilization",
	}
	hicacheFamilies = []string{"evicted_tokens_total", "eviction_duration_seconds", "hicache_host_pool_used_tokens",
		"hicache_host_total_tokens", "hicache_host_used_tokens", "hicache_prefetch_outcomes_total",
		"load_back_duration_seconds", "load_back_tokens_total"}
	decodingFamilies = []string{"inter_token_latency_seconds", "request_time_per_output_token_seconds",
		"spec_accept_length", "spec_accept_rate", "spec_num_draft_tokens", "spec_num_steps", "spec_verify_calls_total"}
	pdFamilies = []string{"kv_transfer_timeouts_total", "num_bootstrap_failed_reqs_total",
		"num_transfer_failed_reqs_total"}
	roleFamilies = map[string][]string{
		roleUnified: slices.Concat(hicacheFamilies, decodingFamilies),
		rolePrefill: slices.Concat(hicacheFamilies, pdFamilies, []string{"num_prefill_retries_total",
			"kv_transfer_latency_ms", "kv_transfer_speed_gb_s", "kv_transfer_total_mb"}),
		roleDecode: slices.Concat(decodingFamilies, pdFamilies, []string{"kv_transfer_alloc_ms",
			"kv_transfer_bootstrap_ms"}),
	}
	kvTransferFamilies = []string{"kv_transfer_alloc_ms", "kv_transfer_bootstrap_ms", "kv_transfer_latency_ms",
		"kv_transfer_speed_gb_s", "kv_transfer_total_mb"}
	pythonRuntimeNames = []string{"process_cpu_seconds_total", "process_max_fds", "process_open_fds",
		"process_resident_memory_bytes", "process_start_time_seconds", "process_virtual_memory_bytes",
		"python_gc_collections_total", "python_gc_objects_collected_total", "python_gc_objects_uncollectable_total",
		"python_info"}
	serverOnlyNames = []string{"func_latency_seconds", "http_requests_active", "http_requests_total",
		"http_responses_total"}
	workerDynamoFamilies = []string{"dynamo_component_cancellation_total", "dynamo_component_gpu_cache_usage_percent",
		"dynamo_component_inflight_requests", "dynamo_component_model_load_time_seconds",
		"dynamo_component_request_bytes_total", "dynamo_component_request_duration_seconds",
		"dynamo_component_requests_total", "dynamo_component_response_bytes_total", "dynamo_component_total_blocks",
		"dynamo_component_uptime_seconds", "dynamo_tokio_alive_tasks", "dynamo_tokio_blocking_threads",
		"dynamo_tokio_global_queue_depth", "dynamo_tokio_worker_busy_ratio", "dynamo_tokio_worker_mean_poll_time_ns",
		"dynamo_work_handler_network_transit_seconds"}
	frontendFamilies = []string{"dynamo_component_kv_cache_events_applied", "dynamo_component_router_kv_hit_rate",
		"dynamo_frontend_active_requests", "dynamo_frontend_cached_tokens", "dynamo_frontend_disconnected_clients",
		"dynamo_frontend_inflight_requests", "dynamo_frontend_input_sequence_tokens",
		"dynamo_frontend_inter_token_latency_seconds", "dynamo_frontend_lora_churn_loads_total",
		"dynamo_frontend_model_cancellation_total", "dynamo_frontend_model_context_length",
		"dynamo_frontend_model_kv_cache_block_size", "dynamo_frontend_model_max_num_batched_tokens",
		"dynamo_frontend_model_max_num_seqs", "dynamo_frontend_model_migration_limit",
		"dynamo_frontend_model_migration_total", "dynamo_frontend_model_rejection_total",
		"dynamo_frontend_model_total_kv_blocks", "dynamo_frontend_output_sequence_tokens",
		"dynamo_frontend_output_tokens_total", "dynamo_frontend_queued_requests",
		"dynamo_frontend_request_duration_seconds", "dynamo_frontend_requests_total",
		"dynamo_frontend_stage_requests", "dynamo_frontend_time_to_first_token_seconds",
		"dynamo_frontend_tokenizer_latency_ms", "dynamo_frontend_worker_active_decode_blocks",
		"dynamo_frontend_worker_active_prefill_tokens", "dynamo_router_overhead_block_hashing_ms",
		"dynamo_router_overhead_indexer_find_matches_ms", "dynamo_router_overhead_scheduling_ms",
		"dynamo_router_overhead_seq_hashing_ms", "dynamo_router_overhead_total_ms"}
	// Families Dynamo and SGLang no longer print; no body may carry them.
	removedPrefixes = []string{"dynamo_component_kvstats_", "dynamo_component_nats_service_"}
)

// expectedEngineFamilies is the exact set of SGLang families (colon form) an
// engine of the given role and release prints.
func expectedEngineFamilies(role string, old bool) []string {
	var out []string
	for _, f := range slices.Concat(engineCommonFamilies, roleFamilies[role]) {
		if old && (f == "num_retracted_requests_total" || slices.Contains(kvTransferFamilies, f)) {
			continue
		}
		out = append(out, "sglang:"+f)
	}
	if old {
		out = slices.DeleteFunc(out, func(f string) bool { return f == "sglang:num_retracted_reqs" })
		out = append(out, "sglang:num_retracted_reqs_total")
		for _, f := range kvTransferFamilies {
			out = append(out, "sglang:"+f)
		}
	}
	sort.Strings(out)
	return out
}

// goParse runs body through the receiver's own parser and returns each
// family's name and type, in order, and the number of samples per family.
func goParse(t *testing.T, body string) (order []string, types map[string]string, samples map[string]int) {
	t.Helper()
	var p promtext.Parser
	p.Reset([]byte(body), promtext.FormatText, nil, promtext.Limits{})
	types, samples = map[string]string{}, map[string]int{}
	var seq uint64
	for {
		if _, err := p.Next(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("internal/promtext rejects the body: %v", err)
			}
			return order, types, samples
		}
		f := p.Family()
		name := string(f.Name)
		if f.Seq != seq {
			seq = f.Seq
			if _, dup := types[name]; dup {
				t.Fatalf("internal/promtext sees family %s twice", name)
			}
			order = append(order, name)
			types[name] = f.Type.String()
		}
		samples[name]++
	}
}

// refFamily is one family as prometheus_client's parser reports it.
type refFamily struct {
	name, typ string
	samples   int
}

// referenceParse runs bodies through prometheus_client's text parser
// (testdata/parse_reference.py with Debian's python3).
func referenceParse(t *testing.T, bodies []string) [][]refFamily {
	t.Helper()
	if err := exec.Command(systemPython, "-c", "import prometheus_client").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("python3-prometheus-client is required in CI: %v", err)
		}
		t.Skipf("Debian's python3-prometheus-client is not installed: %v", err)
	}
	in, err := json.Marshal(bodies)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(systemPython, "testdata/parse_reference.py")
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var raw []struct {
		Families [][]any `json:"families"`
		Error    string  `json:"error"`
	}
	if err := json.Unmarshal(out, &raw); err != nil || len(raw) != len(bodies) {
		t.Fatalf("reference parser said %q (%v)", out, err)
	}
	res := make([][]refFamily, len(raw))
	for i, r := range raw {
		if r.Error != "" {
			t.Fatalf("prometheus_client rejects body %d: %s", i, r.Error)
		}
		for _, f := range r.Families {
			res[i] = append(res[i], refFamily{f[0].(string), f[1].(string), int(f[2].(float64))})
		}
	}
	return res
}

const systemPython = "/usr/bin/python3"

// canonical maps a family name in any SGLang name form back to the colon form.
func canonical(name string) string {
	if rest, ok := strings.CutPrefix(name, "sglang_"); ok {
		return "sglang:" + rest
	}
	return name
}

// fleetCase is one combination of the fleet flags.
type fleetCase struct {
	mode, fleet string
	form        nameForm
}

func (c fleetCase) String() string { return c.mode + "/" + c.fleet + "/" + string(c.form) }

func (c fleetCase) sim() *simulation {
	spec, err := config{fleet: c.fleet, nameForm: string(c.form), mode: c.mode}.fleetSpec()
	if err != nil {
		panic(err)
	}
	return newSimulation(2, time.Second, 1, testStart, spec)
}

func fleetCases() []fleetCase {
	var cs []fleetCase
	for _, mode := range []string{"unified", "disagg"} {
		for _, fleet := range []string{"current", "mixed"} {
			for _, form := range nameForms {
				cs = append(cs, fleetCase{mode, fleet, form})
			}
		}
	}
	return cs
}

// TestFleetBodies checks every mode x fleet x name form for what a scraper
// gets: each body parses with internal/promtext and with prometheus_client,
// both see the same families, the families are exactly the expected ones for
// the worker's role and release, and names take the chosen form.
func TestFleetBodies(t *testing.T) {
	type body struct {
		name, text string
		w          *worker // nil for the frontend
		engine     bool
	}
	var bodies []body
	var cases []fleetCase
	for _, c := range fleetCases() {
		sim := c.sim()
		for range 3 {
			sim.step()
		}
		for i, w := range sim.workers {
			bodies = append(bodies,
				body{fmt.Sprintf("%s engine%d", c, i), string(sim.engineBody(i)), w, true},
				body{fmt.Sprintf("%s worker%d", c, i), string(sim.workerBody(i, true)), w, false})
			cases = append(cases, c, c)
		}
		bodies = append(bodies, body{fmt.Sprintf("%s frontend", c), string(sim.frontendBody()), nil, false})
		cases = append(cases, c)
	}
	texts := make([]string, len(bodies))
	for i, b := range bodies {
		texts[i] = b.text
	}
	ref := referenceParse(t, texts)

	for i, b := range bodies {
		t.Run(b.name, func(t *testing.T) {
			c := cases[i]
			order, types, samples := goParse(t, b.text)
			assertSameAsReference(t, order, types, samples, ref[i])
			for _, name := range order {
				for _, p := range removedPrefixes {
					if strings.HasPrefix(name, p) {
						t.Errorf("removed family %s served", name)
					}
				}
			}
			got := declaredFamilies(b.text)
			if b.w == nil {
				if !slices.Equal(got, frontendFamilies) {
					t.Errorf("frontend families differ:\n got  %v\n want %v", got, frontendFamilies)
				}
				checkFrontendRoles(t, b.text, c.mode)
				return
			}
			wantSG := expectedEngineFamilies(b.w.role, c.fleet == "mixed" && b.w.index%2 == 1)
			var want []string
			if b.engine {
				want = slices.Concat(wantSG, pythonRuntimeNames)
			} else {
				for _, f := range wantSG {
					if !slices.Contains(serverOnlyNames, strings.TrimPrefix(f, "sglang:")) {
						want = append(want, f)
					}
				}
				want = slices.Concat(want, workerDynamoFamilies)
			}
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("families differ for a %s worker (old=%v):\n missing %v\n extra   %v",
					b.w.role, b.w.old, diff(want, got), diff(got, want))
			}
			checkNameForm(t, b.text, c.form, b.w)
			checkEngineLabels(t, b.text, b.w)
		})
	}
}

// declaredFamilies is the sorted set of families a body declares with
// # TYPE, in the colon form.
func declaredFamilies(body string) []string {
	var out []string
	for _, line := range strings.Split(body, "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[1] == "TYPE" {
			out = append(out, canonical(f[2]))
		}
	}
	sort.Strings(out)
	return out
}

func diff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// assertSameAsReference: where both parsers group samples into families,
// they agree on the families, their types and how many samples each holds.
func assertSameAsReference(t *testing.T, order []string, types map[string]string, samples map[string]int, ref []refFamily) {
	t.Helper()
	refSamples := map[string]int{}
	refTypes := map[string]string{}
	for _, f := range ref {
		refSamples[f.name] += f.samples
		if refTypes[f.name] == "" || f.typ != "unknown" {
			refTypes[f.name] = f.typ
		}
	}
	for _, name := range order {
		rt := refTypes[name]
		if rt == "" {
			// prometheus_client names a family by the sample name it saw;
			// counters lose their _total there.
			rt = refTypes[strings.TrimSuffix(name, "_total")]
		}
		want := types[name]
		if rt != want {
			t.Errorf("family %s: internal/promtext says %s, prometheus_client %q", name, want, rt)
		}
	}
	total, refTotal := 0, 0
	for _, n := range samples {
		total += n
	}
	for _, n := range refSamples {
		refTotal += n
	}
	if total != refTotal || total == 0 {
		t.Errorf("internal/promtext read %d samples, prometheus_client %d", total, refTotal)
	}
}

// checkNameForm: the HELP/TYPE names and the sample names of SGLang's
// families follow the worker's name form, and Ray adds ReplicaId.
func checkNameForm(t *testing.T, body string, form nameForm, w *worker) {
	t.Helper()
	metaColon, metaUnderscore, sampleColon, sampleUnderscore, replica := 0, 0, 0, 0, 0
	for _, line := range strings.Split(body, "\n") {
		switch {
		case strings.HasPrefix(line, "# "):
			name := strings.Fields(line)[2]
			metaColon += b2i(strings.HasPrefix(name, "sglang:"))
			metaUnderscore += b2i(strings.HasPrefix(name, "sglang_"))
		case strings.HasPrefix(line, "sglang:"):
			sampleColon++
		case strings.HasPrefix(line, "sglang_"):
			sampleUnderscore++
			replica += b2i(strings.Contains(line, `{ReplicaId="`+w.replicaID()+`",`))
		}
	}
	wantMetaColon := form == formColon || form == formEscaping
	wantSampleColon := form == formColon
	if (metaColon > 0) != wantMetaColon || (metaUnderscore > 0) == wantMetaColon {
		t.Errorf("form %s: HELP/TYPE lines with sglang: %d, with sglang_ %d", form, metaColon, metaUnderscore)
	}
	if (sampleColon > 0) != wantSampleColon || (sampleUnderscore > 0) == wantSampleColon {
		t.Errorf("form %s: samples with sglang: %d, with sglang_ %d", form, sampleColon, sampleUnderscore)
	}
	if form == formRay && replica != sampleUnderscore {
		t.Errorf("ray form: %d of %d samples carry ReplicaId", replica, sampleUnderscore)
	}
	if form != formRay && strings.Contains(body, "ReplicaId") {
		t.Errorf("form %s carries a ReplicaId label", form)
	}
	if form == formRay && strings.Contains(body, `queue_time_seconds_bucket{ReplicaId`) &&
		strings.Contains(body, `,le="0.0",`) {
		t.Error("ray form keeps a bucket bound <= 0")
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkEngineLabels: every SGLang scheduler and tokenizer series carries the
// worker's engine_type, and the old release's KV transfer families are
// gauges where the current one's are histograms.
func checkEngineLabels(t *testing.T, body string, w *worker) {
	t.Helper()
	e := parseExposition(t, normalizeForms(body))
	for _, s := range e.samples {
		if et, ok := s.labels["engine_type"]; ok && et != w.role {
			t.Fatalf("%s has engine_type %q on a %s worker", s.name, et, w.role)
		}
	}
	for _, f := range kvTransferFamilies {
		typ, ok := e.types["sglang:"+f]
		switch {
		case !ok:
		case w.old && typ != "gauge", !w.old && typ != "histogram":
			t.Errorf("sglang:%s typed %s on a worker with old=%v", f, typ, w.old)
		}
	}
}

// normalizeForms rewrites every sglang_ name to sglang: and drops ReplicaId,
// so the structural checks read all name forms alike.
func normalizeForms(body string) string {
	var b strings.Builder
	for _, line := range strings.Split(body, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "#" {
			line = strings.Replace(line, f[2], canonical(f[2]), 1)
		} else if strings.HasPrefix(line, "sglang_") {
			line = "sglang:" + strings.TrimPrefix(line, "sglang_")
		}
		if i := strings.Index(line, `ReplicaId="`); i >= 0 {
			end := strings.Index(line[i+len(`ReplicaId="`):], `"`) + i + len(`ReplicaId="`) + 1
			line = line[:i] + strings.TrimPrefix(line[end:], ",")
		}
		b.WriteString(line + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// checkFrontendRoles: the frontend's worker_type labels follow the mode.
func checkFrontendRoles(t *testing.T, body string, mode string) {
	t.Helper()
	e := parseExposition(t, body)
	types := map[string]bool{}
	for _, s := range e.find("dynamo_frontend_worker_active_prefill_tokens") {
		types[s.labels["worker_type"]] = true
	}
	want := map[string]bool{"aggregated": true}
	if mode == "disagg" {
		want = map[string]bool{"prefill": true, "decode": true}
	}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Errorf("%s: worker_type values %v, want %v", mode, types, want)
	}
}

// TestFleetCountersGrowAndBucketsAccumulate steps every fleet and checks, on
// the normalised bodies, that counters and histogram counts never fall from
// one tick to the next and that every histogram is cumulative.
func TestFleetCountersGrowAndBucketsAccumulate(t *testing.T) {
	for _, c := range fleetCases() {
		t.Run(c.String(), func(t *testing.T) {
			sim := c.sim()
			bodies := func() map[string]exposition {
				m := map[string]exposition{"frontend": parseExposition(t, string(sim.frontendBody()))}
				for i := range sim.workers {
					m[fmt.Sprint("engine", i)] = parseExposition(t, normalizeForms(string(sim.engineBody(i))))
					m[fmt.Sprint("worker", i)] = parseExposition(t, normalizeForms(string(sim.workerBody(i, true))))
				}
				return m
			}
			before := bodies()
			for range 3 {
				sim.step()
			}
			after := bodies()
			grew := false
			for name, e := range after {
				checkHistograms(t, e)
				old := map[string]float64{}
				for _, s := range before[name].samples {
					old[s.key()] = s.value
				}
				for _, s := range e.samples {
					prev, seen := old[s.key()]
					if !seen {
						continue
					}
					switch e.types[s.family] {
					case "counter", "histogram", "summary":
						if s.value < prev {
							t.Errorf("%s: %s fell from %v to %v", name, s.key(), prev, s.value)
						}
						grew = grew || s.value > prev
					}
				}
			}
			if !grew {
				t.Error("no counter grew in three ticks")
			}
		})
	}
}
