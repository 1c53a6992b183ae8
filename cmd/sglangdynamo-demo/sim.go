package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
)

// modelProfile is what differs between the simulated models: capacity limits
// (also exported as Dynamo's model-config gauges) and the performance figures
// that shape latency and token distributions.
type modelProfile struct {
	name             string
	contextLen       float64
	kvTokensPerGroup float64 // sglang:max_total_num_tokens of one DP group
	maxRunning       float64
	maxBatchedTokens float64
	migrationLimit   float64
	baseRate         float64 // mean request arrivals per second per worker
	promptMedian     float64 // tokens
	outputMedian     float64 // tokens
	itlMedian        float64 // seconds per output token
	prefillRate      float64 // uncached prompt tokens per second
}

// Workers cycle through these. The Qwen figures follow the real captures
// (92962 KV tokens, 40960 context, 16384 batched tokens).
var modelProfiles = []modelProfile{
	{
		name: "Qwen/Qwen3-0.6B", contextLen: 40960, kvTokensPerGroup: 92962, maxRunning: 128,
		maxBatchedTokens: 16384, baseRate: 6, promptMedian: 600, outputMedian: 220,
		itlMedian: 0.008, prefillRate: 60000,
	},
	{
		name: "meta-llama/Llama-3.1-8B-Instruct", contextLen: 131072, kvTokensPerGroup: 411264, maxRunning: 64,
		maxBatchedTokens: 16384, migrationLimit: 3, baseRate: 3, promptMedian: 1200, outputMedian: 300,
		itlMedian: 0.022, prefillRate: 18000,
	},
}

const (
	tpSize        = 2 // every DP group runs TP=2 with --enable-metrics-for-all-schedulers
	itlChunk      = 32
	tokioWorkers  = 4
	pythonVersion = "3.12.11"
	// Seconds the simulated processes had been up before the demo started, so
	// uptime and process_start_time_seconds look like a warmed-up deployment.
	warmupSeconds = 180
)

// request is one simulated, finished LLM request.
type request struct {
	prompt, cached, output float64
	queue, prefill         float64
	ttft, e2e              float64
	transit                float64    // frontend-to-backend network time
	handlerLatency         float64    // SGLang's generate_request func latency
	itl                    []weighted // per-token decode intervals, grouped in chunks
	streaming              bool
	endpoint               string // OpenAI route as the frontend labels it
	failed, cancelled      bool
	hostHit                float64    // part of cached that HiCache loaded back from host memory
	kv                     kvTransfer // the KV hand-over of a disaggregated request
}

type weighted struct{ value, n float64 }

func (r *request) decodeTime() float64 {
	t := 0.0
	for _, c := range r.itl {
		t += c.value * c.n
	}
	return t
}

// scheduler is one SGLang scheduler process (one GPU rank).
type scheduler struct {
	labels labelSet
	pid    string
}

// dpGroup is one data-parallel replica: it receives its own share of the
// traffic, and all its TP ranks report the same batch state.
type dpGroup struct {
	schedulers    []scheduler
	running       float64
	queued        float64
	evictable     float64 // radix-cached tokens that could be freed
	newTokenRatio float64
	hitRate       float64
	meanE2E       float64 // smoothed, drives Little's-law occupancy
}

// Engine roles, as SGLang's engine_type label spells them.
const (
	roleUnified = "unified"
	rolePrefill = "prefill"
	roleDecode  = "decode"
)

// fleetSpec says what kind of fleet the simulated workers form.
type fleetSpec struct {
	// mixed makes the odd-indexed workers run an older SGLang release.
	mixed bool
	// forms are the name forms of SGLang's families, cycled across workers.
	forms []nameForm
	// disagg makes the workers alternate prefill (even) and decode (odd).
	disagg bool
}

// worker is one SGLang engine plus the Dynamo worker wrapping it.
type worker struct {
	index      int
	model      modelProfile
	workerID   uint64
	phase      float64 // offsets the daily-ish load wave between workers
	burstTicks int
	engine     *registry
	runtime    *registry
	backend    *registry // Dynamo's Python LLMBackendMetrics registry
	groups     []*dpGroup

	role      string   // engine_type
	old       bool     // an older SGLang release (mixed fleet)
	form      nameForm // how its sglang: families are printed
	hicache   bool     // --enable-hierarchical-cache
	speculate bool     // speculative decoding (EAGLE)

	tokenizerLabels labelSet
	endpointLabels  labelSet // Dynamo auto-labels + model + worker_id
	backendLabels   labelSet // LLMBackendMetrics: model + dynamo_component
	lastTransfer    kvTransfer
}

// kvTransfer is one KV cache hand-over between a prefill and a decode
// worker, as the sender (latency, size, speed) and receiver (bootstrap,
// allocation wait) measure it.
type kvTransfer struct {
	latencyMs, totalMB, speedGBs float64
	bootstrapMs, allocMs         float64
}

// component is the Dynamo component the worker registers as.
func (w *worker) component() string {
	if w.role == roleUnified {
		return "backend"
	}
	return w.role
}

// workerType is how Dynamo's frontend labels the worker.
func (w *worker) workerType() string {
	if w.role == roleUnified {
		return "aggregated"
	}
	return w.role
}

// hexID is the worker_id Dynamo injects on the worker's own series.
func (w *worker) hexID() string { return strconv.FormatUint(w.workerID, 16) }

// simulation owns all state; mu guards it against concurrent rendering.
type simulation struct {
	mu       sync.Mutex
	rng      *rand.Rand
	dt       float64 // simulated seconds per step
	clock    float64
	start    time.Time
	workers  []*worker
	frontend *frontend
}

func newSimulation(workers int, tick time.Duration, seed uint64, start time.Time, fleet fleetSpec) *simulation {
	s := &simulation{
		rng:      rand.New(rand.NewPCG(seed, seed^0x5eed5eed5eed5eed)),
		dt:       tick.Seconds(),
		start:    start,
		frontend: &frontend{reg: newRegistry(dynamoFrontendFamilies), routerID: strconv.FormatUint(seed*7919+12345, 10)},
	}
	for i := range workers {
		s.workers = append(s.workers, s.newWorker(i, fleet))
	}
	s.frontend.initModelConfig(s.workers)
	// One step up front so the first scrape already sees traffic.
	s.step()
	return s
}

func (s *simulation) newWorker(i int, fleet fleetSpec) *worker {
	m := modelProfiles[i%len(modelProfiles)]
	w := &worker{
		index:    i,
		model:    m,
		workerID: s.rng.Uint64(),
		phase:    s.rng.Float64() * 2 * math.Pi,
		role:     roleUnified,
		old:      fleet.mixed && i%2 == 1,
		form:     formColon,
		runtime:  newRegistry(dynamoWorkerFamilies),
		backend:  newRegistry(dynamoBackendFamilies),
	}
	if len(fleet.forms) > 0 {
		w.form = fleet.forms[i%len(fleet.forms)]
	}
	if fleet.disagg {
		w.role = []string{rolePrefill, roleDecode}[i%2]
	}
	// HiCache pays off where prompts are computed, speculation where tokens
	// are generated.
	w.hicache = w.role != roleDecode
	w.speculate = w.role != rolePrefill
	groups := [][]*familyDef{sglangSchedulerFamilies, sglangTokenizerFamilies}
	if w.role != roleUnified {
		groups = append(groups, sglangKVTransferFamilies)
	}
	if w.hicache {
		groups = append(groups, sglangRadixCacheFamilies)
	}
	w.engine = newRegistry(append(groups, sglangServerFamilies, pythonRuntimeFamilies)...)
	if w.old {
		for cur, old := range oldRelease {
			w.engine.replace(cur, old)
		}
		for _, d := range notInOldRelease {
			w.engine.of(d).hidden = true
		}
	}
	w.tokenizerLabels = labels("engine_type", w.role, "model_name", m.name)
	w.backendLabels = labels("dynamo_component", w.component(), "model", m.name)
	w.endpointLabels = labels("dynamo_component", w.component(), "dynamo_namespace", "dynamo",
		"dynamo_endpoint", "generate", "model", m.name, "worker_id", w.hexID())
	// Odd workers run with data parallelism (--dp 2 with DP attention), which
	// adds dp_rank to the scheduler labels; even workers have a single group.
	dpSize := 1 + i%2
	basePID := 600000 + s.rng.IntN(300000)
	for d := range dpSize {
		// Start near steady state (Little's law) rather than from an idle engine.
		meanE2E := 0.1 + 1.3*m.itlMedian*m.outputMedian
		g := &dpGroup{newTokenRatio: 0.7, meanE2E: meanE2E, running: math.Round(m.baseRate / float64(dpSize) * meanE2E)}
		for t := range tpSize {
			rank := d*tpSize + t
			ls := labels("engine_type", w.role, "model_name", m.name, "moe_ep_rank", "0",
				"pp_rank", "0", "tp_rank", strconv.Itoa(rank))
			if dpSize > 1 {
				ls = ls.with("dp_rank", strconv.Itoa(d))
			}
			g.schedulers = append(g.schedulers, scheduler{labels: ls, pid: strconv.Itoa(basePID + 1 + rank)})
		}
		w.groups = append(w.groups, g)
	}
	w.initEngine(s.rng, s.start)
	w.initRuntime(s.rng)
	return w
}

// initEngine sets what SGLang exports once at startup and pre-seeds the
// series SGLang itself creates at zero.
func (w *worker) initEngine(rng *rand.Rand, start time.Time) {
	e := w.engine
	for _, g := range w.groups {
		for _, sc := range g.schedulers {
			e.of(sgMaxTotalTokens).set(sc.labels, w.model.kvTokensPerGroup)
			e.of(sgContextLen).set(sc.labels, w.model.contextLen)
			e.of(sgPageSize).set(sc.labels, 1)
			for _, mode := range []string{"device_hit", "host_hit", "storage_hit", "input"} {
				e.of(sgPrefillEffective).add(sc.labels.with("mode", mode), 0)
			}
			if w.role != roleUnified {
				// SGLang creates these on the first failure; the demo creates
				// them at 0 so a PD worker shows them from the first scrape.
				e.of(sgBootstrapFailed).add(sc.labels, 0)
				e.of(sgTransferFailed).add(sc.labels, 0)
			}
			if w.role == rolePrefill {
				e.of(sgPrefillRetries).add(sc.labels, 0)
			}
		}
	}
	if w.role != roleUnified {
		// kv_transfer_metrics.py pre-seeds both stages, with no other label.
		for _, stage := range []string{"bootstrap", "transfer"} {
			e.of(sgKVTransferTimeouts).add(labels("stage", stage), 0)
		}
	}
	phases := []struct {
		name         string
		base, jitter float64
	}{{"load_weight", 4, 8}, {"kv_cache_allocation", 0.5, 1}, {"scheduler_e2e", 20, 15}, {"tokenizer_e2e", 2, 2}}
	for _, p := range phases {
		e.of(sgStartupTime).set(w.tokenizerLabels.with("phase", p.name), p.base+p.jitter*rng.Float64())
	}
	e.of(pyInfo).set(labels("implementation", "CPython", "major", "3", "minor", "12", "patchlevel", "11",
		"version", pythonVersion), 1)
	e.of(procStartTime).set(nil, math.Round(float64(start.UnixMilli())/10)/100-warmupSeconds)
	e.of(procMaxFDs).set(nil, 1048576)
	for _, gen := range []string{"0", "1", "2"} {
		e.of(pyGCUncollectable).add(labels("generation", gen), 0)
	}
}

// initRuntime sets the Dynamo worker's startup values: the zero-seeded
// cancellation counter and LLMBackendMetrics' KV capacity and load time.
func (w *worker) initRuntime(rng *rand.Rand) {
	w.runtime.of(dyCancellations).add(w.endpointLabels, 0)
	for d := range w.groups {
		w.backend.of(dyTotalBlocks).set(w.backendLabels.with("dp_rank", strconv.Itoa(d)), w.model.kvTokensPerGroup)
	}
	w.backend.of(dyModelLoadTime).set(w.backendLabels, math.Round((20+25*rng.Float64())*1000)/1000)
}

// step advances the simulation by one tick.
func (s *simulation) step() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock += s.dt
	for _, w := range s.workers {
		w.step(s.rng, s.clock, s.dt, s.frontend)
	}
	s.frontend.updateGauges(s.rng, s.workers)
}

// arrivalRate is the worker's current offered load in requests per second: a
// slow wave, noise, and occasional bursts that push it into queueing.
func (w *worker) arrivalRate(rng *rand.Rand, clock float64) float64 {
	if w.burstTicks > 0 {
		w.burstTicks--
	} else if rng.Float64() < 0.01 {
		w.burstTicks = 5 + rng.IntN(15)
	}
	rate := w.model.baseRate * (1 + 0.6*math.Sin(2*math.Pi*clock/600+w.phase)) * math.Exp(0.15*rng.NormFloat64())
	if w.burstTicks > 0 {
		rate *= 4
	}
	return rate
}

func (w *worker) step(rng *rand.Rand, clock, dt float64, fe *frontend) {
	rate := w.arrivalRate(rng, clock) / float64(len(w.groups))
	for _, g := range w.groups {
		reqs := make([]*request, poisson(rng, rate*dt))
		for i := range reqs {
			reqs[i] = w.newRequest(rng, g)
			w.recordRequest(rng, g, reqs[i])
			// A disaggregated request reaches the frontend's books once, through
			// the decode worker that streams its tokens.
			if w.role != rolePrefill {
				fe.recordRequest(rng, w, reqs[i])
			}
		}
		w.publishGroup(rng, g, g.advance(rng, w.model, rate, reqs, dt))
	}
	w.updateEngineProcess(rng, dt)
	w.updateRuntime(rng, clock)
}

// newRequest draws one request. Latencies depend on the group's current
// occupancy so that bursts visibly raise queue time and TTFT. A prefill
// worker computes the prompt and hands the KV cache over after one token.
func (w *worker) newRequest(rng *rand.Rand, g *dpGroup) *request {
	m := w.model
	r := &request{
		prompt:    math.Round(clamp(lognormal(rng, m.promptMedian, 0.9), 4, m.contextLen/2)),
		output:    math.Round(clamp(lognormal(rng, m.outputMedian, 0.8), 1, 4096)),
		streaming: rng.Float64() < 0.7,
		endpoint:  "chat_completions",
		failed:    rng.Float64() < 0.004,
		cancelled: rng.Float64() < 0.006,
	}
	if w.role == rolePrefill {
		r.output = 1
	}
	if rng.Float64() < 0.15 {
		r.endpoint = "completions"
	}
	// Shared system prompts make a large share of prefixes cache hits; with
	// HiCache a part of them comes back from host memory.
	r.cached = math.Floor(r.prompt * 0.9 * rng.Float64() * rng.Float64())
	if w.hicache {
		r.hostHit = math.Floor(r.cached * 0.3 * rng.Float64())
	}
	load := g.running / m.maxRunning
	r.queue = rng.ExpFloat64() * (0.002 + 0.3*math.Pow(load, 4) + 0.05*g.queued)
	r.prefill = 0.004 + (r.prompt-r.cached)/m.prefillRate
	r.ttft = r.queue + r.prefill + 0.002
	perToken := lognormal(rng, m.itlMedian*(1+0.5*load), 0.2)
	for left := r.output - 1; left > 0; left -= itlChunk {
		n := math.Min(itlChunk, left)
		r.itl = append(r.itl, weighted{perToken * lognormal(rng, 1, 0.15), n})
	}
	if w.role != roleUnified {
		// KV bytes grow with the prompt: ~0.11 MB per token for these models.
		r.kv.totalMB = math.Round(r.prompt*0.11*100) / 100
		r.kv.speedGBs = lognormal(rng, 18, 0.4)
		r.kv.latencyMs = r.kv.totalMB/r.kv.speedGBs + lognormal(rng, 2, 0.3)
		r.kv.bootstrapMs = lognormal(rng, 6, 0.5)
		r.kv.allocMs = lognormal(rng, 0.8, 0.8) * (1 + 8*load)
		r.ttft += (r.kv.bootstrapMs + r.kv.latencyMs) / 1000
	}
	r.e2e = r.ttft + r.decodeTime() + 0.001
	r.transit = lognormal(rng, 0.0006, 0.5)
	r.handlerLatency = lognormal(rng, 0.004, 0.5)
	return r
}

func (w *worker) recordRequest(rng *rand.Rand, g *dpGroup, r *request) {
	w.recordScheduler(rng, g, r)
	w.recordTokenizer(r)
	w.recordRuntime(r)
}

// stageLatencies is what each role observes in per_stage_req_latency_seconds
// (SGLang's RequestStage values whose metrics are observed).
func (w *worker) stageLatencies(r *request) []weighted {
	switch w.role {
	case rolePrefill:
		return []weighted{{r.kv.bootstrapMs / 1000, 0}, {r.queue, 1}, {r.prefill, 2}, {r.kv.latencyMs / 1000, 3}}
	case roleDecode:
		return []weighted{{r.kv.allocMs / 1000, 4}, {r.kv.bootstrapMs / 1000, 5}, {r.kv.latencyMs / 1000, 6},
			{r.queue / 4, 7}, {r.decodeTime(), 8}}
	}
	return []weighted{{r.queue, 1}, {r.prefill, 2}, {r.decodeTime(), 8}}
}

// stageNames indexes stageLatencies' n fields.
var stageNames = []string{"prefill_bootstrap", "prefill_waiting", "prefill_forward", "prefill_transfer_kv_cache",
	"decode_prepare", "decode_bootstrap", "decode_transferred", "decode_waiting", "decode_loop"}

// recordScheduler feeds the per-rank histograms and counters. Every TP rank
// of a group runs the same batch, so each records the same request.
func (w *worker) recordScheduler(rng *rand.Rand, g *dpGroup, r *request) {
	e := w.engine
	bootstrapFailed := w.role != roleUnified && rng.Float64() < 0.002
	transferFailed := w.role != roleUnified && rng.Float64() < 0.002
	retried := w.role == rolePrefill && rng.Float64() < 0.004
	for _, sc := range g.schedulers {
		ls := sc.labels
		e.of(sgQueueTime).observe(ls, r.queue)
		for _, st := range w.stageLatencies(r) {
			e.of(sgPerStageLatency).observe(ls.with("stage", stageNames[int(st.n)]), st.value)
		}
		if w.role != roleDecode {
			e.of(sgRealtimeTokens).add(ls.with("mode", "prefill_compute"), r.prompt-r.cached)
			e.of(sgRealtimeTokens).add(ls.with("mode", "prefill_cache"), r.cached)
			e.of(sgPrefillEffective).add(ls.with("mode", "device_hit"), r.cached-r.hostHit)
			e.of(sgPrefillEffective).add(ls.with("mode", "host_hit"), r.hostHit)
			e.of(sgPrefillEffective).add(ls.with("mode", "input"), r.prompt)
		}
		if w.role != rolePrefill {
			e.of(sgRealtimeTokens).add(ls.with("mode", "decode"), r.output)
		}
		// The sender measures the transfer itself, the receiver its set-up.
		switch w.role {
		case rolePrefill:
			w.recordTransfer(sgKVTransferLatency, ls, r.kv.latencyMs)
			w.recordTransfer(sgKVTransferTotalMB, ls, r.kv.totalMB)
			w.recordTransfer(sgKVTransferSpeed, ls, r.kv.speedGBs)
		case roleDecode:
			w.recordTransfer(sgKVTransferBootstrap, ls, r.kv.bootstrapMs)
			w.recordTransfer(sgKVTransferAlloc, ls, r.kv.allocMs)
		}
		if bootstrapFailed {
			e.of(sgBootstrapFailed).add(ls, 1)
		}
		if transferFailed {
			e.of(sgTransferFailed).add(ls, 1)
		}
		if retried {
			e.of(sgPrefillRetries).add(ls, 1)
		}
	}
	if bootstrapFailed {
		e.of(sgKVTransferTimeouts).add(labels("stage", "bootstrap"), 1)
	}
	if transferFailed {
		e.of(sgKVTransferTimeouts).add(labels("stage", "transfer"), 1)
	}
	if w.role != roleUnified {
		w.lastTransfer = r.kv
	}
	if w.hicache && r.hostHit > 0 {
		e.of(sgLoadBackTokens).add(w.tokenizerLabels.with("pool", "kv"), r.hostHit)
		e.of(sgLoadBackDuration).observe(w.tokenizerLabels, 0.0008+r.hostHit*2e-6)
	}
}

// recordTransfer observes a KV transfer figure in the current release's
// histogram; an older release only keeps the latest value in a gauge.
func (w *worker) recordTransfer(d *familyDef, ls labelSet, v float64) {
	f := w.engine.of(d)
	if f.def.kind == gaugeKind {
		f.set(ls, v)
		return
	}
	f.observe(ls, v)
}

// recordTokenizer feeds the request-level metrics the tokenizer process owns.
func (w *worker) recordTokenizer(r *request) {
	e := w.engine
	t := w.tokenizerLabels
	route := labels("endpoint", "/v1/"+strings.ReplaceAll(r.endpoint, "_", "/"), "method", "POST")
	e.of(sgHTTPRequests).add(route, 1)
	e.of(sgFuncLatency).observe(labels("name", "generate_request"), r.handlerLatency)
	if r.failed || r.cancelled {
		e.of(sgAborted).add(t, 1)
		e.of(sgHTTPResponses).add(route.with("status_code", "500"), 1)
		return
	}
	e.of(sgHTTPResponses).add(route.with("status_code", "200"), 1)
	st := t.with("is_streaming", strconv.FormatBool(r.streaming))
	e.of(sgNumRequests).add(st, 1)
	e.of(sgPromptTokens).add(st, r.prompt)
	e.of(sgGenTokens).add(st, r.output)
	if r.cached > 0 {
		e.of(sgCachedTokens).add(t.with("cache_source", "device"), r.cached-r.hostHit)
		if r.hostHit > 0 {
			e.of(sgCachedTokens).add(t.with("cache_source", "host"), r.hostHit)
		}
	}
	e.of(sgTTFT).observe(st, r.ttft)
	e.of(sgE2E).observe(st, r.e2e)
	e.of(sgPromptHist).observe(t, r.prompt)
	e.of(sgUncachedPromptHist).observe(t, r.prompt-r.cached)
	e.of(sgGenerationHist).observe(t, r.output)
	for _, c := range r.itl {
		e.of(sgITL).observeN(t, c.value, c.n)
	}
	// Per-request TPOT: only requests that decoded more than one token, so
	// never on a prefill worker.
	if r.output > 1 {
		e.of(sgTPOT).observe(st, r.decodeTime()/(r.output-1))
	}
	if w.speculate && r.output > 1 {
		// EAGLE verifies a few drafted tokens per forward.
		e.of(sgSpecVerifyCalls).add(t, math.Ceil((r.output-1)/2.6))
	}
}

// recordRuntime feeds the Dynamo work-handler metrics for one request.
func (w *worker) recordRuntime(r *request) {
	rt := w.runtime
	ls := w.endpointLabels
	rt.of(dyRequests).add(ls, 1)
	rt.of(dyRequestBytes).add(ls, math.Round(300+4.2*r.prompt))
	rt.of(dyResponseBytes).add(ls, math.Round(150+61*r.output)) // ~61 B per streamed token, as in the capture
	rt.of(dyRequestDuration).observe(ls, r.e2e+0.0005)
	rt.of(dyNetworkTransit).observe(ls, r.transit)
	switch {
	case r.failed:
		rt.of(dyErrors).add(ls.with("error_type", "generate"), 1)
	case r.cancelled:
		rt.of(dyCancellations).add(ls, 1)
	}
}

// batchState is what one tick leaves a DP group's scheduler reporting.
type batchState struct {
	used, usage    float64 // KV tokens in use and the pool fraction
	throughput     float64 // generated tokens per second
	retracted      float64
	retractedIn    float64 // input tokens of the retracted requests
	evicted        float64 // device tokens freed by eviction this tick
	decodePasses   float64
	prefillBatches float64
	arrivals       float64
	cudaGraph      bool
}

// advance moves one DP group's state after a tick's arrivals. Occupancy
// follows Little's law (arrival rate x time in system) with smoothing, and
// spills into the waiting queue past max_running_requests.
func (g *dpGroup) advance(rng *rand.Rand, m modelProfile, rate float64, reqs []*request, dt float64) batchState {
	var prompt, cached, output, e2e float64
	for _, r := range reqs {
		prompt += r.prompt
		cached += r.cached
		output += r.output
		e2e += r.e2e
	}
	if len(reqs) > 0 {
		g.meanE2E = 0.8*g.meanE2E + 0.2*e2e/float64(len(reqs))
	}
	if prompt > 0 {
		g.hitRate = cached / prompt
	}
	demand := 0.6*(g.running+g.queued) + 0.4*float64(poisson(rng, rate*g.meanE2E))
	g.running = math.Min(demand, m.maxRunning)
	g.queued = math.Max(0, demand-m.maxRunning) + float64(poisson(rng, 0.05*rate))

	st := batchState{throughput: output / dt, prefillBatches: math.Ceil(float64(len(reqs)) / 2), arrivals: float64(len(reqs))}
	st.used = math.Round(math.Min(g.running*(m.promptMedian+m.outputMedian/2)*lognormal(rng, 1, 0.1), m.kvTokensPerGroup))
	st.usage = st.used / m.kvTokensPerGroup
	before := g.evictable
	g.evictable = math.Round(clamp(g.evictable+0.3*cached-0.02*g.evictable, 0, m.kvTokensPerGroup-st.used))
	st.evicted = math.Max(0, math.Round(before+0.3*cached-g.evictable))

	if st.usage > 0.9 || rng.Float64() < 0.005 {
		// Memory pressure makes SGLang retract decoding requests and reset
		// its new-token-ratio estimate.
		st.retracted = float64(1 + rng.IntN(3))
		st.retractedIn = st.retracted * math.Round(m.promptMedian*lognormal(rng, 1, 0.3))
		g.newTokenRatio = 0.7
	} else {
		g.newTokenRatio = math.Max(0.1, g.newTokenRatio-0.01)
	}
	if g.running > 0 {
		st.cudaGraph = g.running <= 160 // default cuda_graph_max_bs
		st.decodePasses = math.Round(dt / (m.itlMedian * (1 + 0.5*g.running/m.maxRunning)))
	}
	return st
}

// publishGroup writes a group's batch state to every one of its schedulers:
// all TP ranks run the same batch, so they report the same values.
func (w *worker) publishGroup(rng *rand.Rand, g *dpGroup, st batchState) {
	m := w.model
	isCudaGraph, decodeMode := 0.0, "decode_none"
	if st.cudaGraph {
		isCudaGraph, decodeMode = 1, "decode_cuda_graph"
	}
	// The PD queues hold what is waiting on the other side of a transfer.
	var bootstrapQ, inflightQ, preallocQ, transferQ, pendingPrealloc float64
	switch w.role {
	case rolePrefill:
		bootstrapQ = float64(poisson(rng, 0.2*st.arrivals))
		inflightQ = float64(poisson(rng, 0.4*st.arrivals))
	case roleDecode:
		preallocQ = float64(poisson(rng, 0.1*st.arrivals+g.queued/4))
		transferQ = float64(poisson(rng, 0.3*st.arrivals))
		pendingPrealloc = math.Min(1, preallocQ*m.promptMedian/m.kvTokensPerGroup)
	}
	gauges := []struct {
		def *familyDef
		v   float64
	}{
		{sgRunningReqs, math.Round(g.running)},
		{sgQueueReqs, math.Round(g.queued)},
		{sgGrammarQueueReqs, 0},
		{sgBootstrapQueueReqs, bootstrapQ},
		{sgPrefillInflightQueueReqs, inflightQ},
		{sgDecodePreallocQueueReqs, preallocQ},
		{sgDecodeTransferQueueReqs, transferQ},
		{sgPendingPrealloc, pendingPrealloc},
		{sgUsedTokens, st.used},
		{sgTokenUsage, st.usage},
		{sgFullTokenUsage, st.usage},
		{sgKVUsed, st.used},
		{sgKVEvictable, g.evictable},
		{sgKVAvailable, m.kvTokensPerGroup - st.used - g.evictable},
		{sgDecodeSumSeqLens, math.Round(st.used * 0.97)},
		{sgGenThroughput, st.throughput},
		{sgCacheHitRate, g.hitRate},
		{sgUtilization, g.running / m.maxRunning},
		{sgNewTokenRatio, g.newTokenRatio},
		{sgIsCudaGraph, isCudaGraph},
	}
	if w.speculate {
		accept := clamp(0.55+0.1*rng.NormFloat64(), 0.2, 0.95)
		gauges = append(gauges, []struct {
			def *familyDef
			v   float64
		}{
			{sgSpecAcceptRate, accept},
			{sgSpecAcceptLength, 1 + 3*accept},
			{sgSpecNumSteps, 3},
			{sgSpecNumDraftTokens, 4},
		}...)
	}
	hostTotal := 4 * m.kvTokensPerGroup
	hostUsed := math.Round(math.Min(hostTotal, 0.6*hostTotal+0.3*g.evictable*lognormal(rng, 1, 0.05)))
	if w.hicache {
		gauges = append(gauges, []struct {
			def *familyDef
			v   float64
		}{{sgHiCacheHostUsed, hostUsed}, {sgHiCacheHostTotal, hostTotal}}...)
	}
	e := w.engine
	for _, sc := range g.schedulers {
		for _, gv := range gauges {
			e.of(gv.def).set(sc.labels, gv.v)
		}
		if w.hicache {
			e.of(sgHiCacheHostPoolUsed).set(sc.labels.with("pool", "kv"), hostUsed)
		}
		if w.old {
			// The old release sets its transfer gauges on every log, so a
			// unified engine shows them at 0 (as the real capture does).
			lt := w.lastTransfer
			for _, tv := range []struct {
				def *familyDef
				v   float64
			}{{sgKVTransferSpeed, lt.speedGBs}, {sgKVTransferLatency, lt.latencyMs},
				{sgKVTransferBootstrap, lt.bootstrapMs}, {sgKVTransferAlloc, lt.allocMs},
				{sgKVTransferTotalMB, lt.totalMB}} {
				w.recordTransfer(tv.def, sc.labels, tv.v)
			}
		}
		// Mode-"all" gauges keep one series per process, hence the pid label.
		e.of(sgRetractedReqs).set(sc.labels.with("pid", sc.pid), st.retracted)
		e.of(sgPausedReqs).set(sc.labels.with("pid", sc.pid), 0)
		e.of(sgRetractedRequests).add(sc.labels, st.retracted)
		e.of(sgRetractedInputTokens).add(sc.labels, st.retractedIn)
		e.of(sgRetractedOutputTokens).add(sc.labels, st.retracted*math.Round(m.outputMedian/3))
		// SGLang creates these series on first increment, so skip zeros.
		if st.decodePasses > 0 && w.role != rolePrefill {
			e.of(sgCudaGraphPasses).add(sc.labels.with("mode", decodeMode), st.decodePasses)
		}
		if st.prefillBatches > 0 && w.role != roleDecode {
			e.of(sgCudaGraphPasses).add(sc.labels.with("mode", "prefill_none"), st.prefillBatches)
		}
	}
	if w.hicache {
		// The radix cache's eviction pass, and the L3 prefetches it triggers.
		e.of(sgEvictedTokens).add(w.tokenizerLabels, st.evicted)
		if st.evicted > 0 {
			e.of(sgEvictionDuration).observe(w.tokenizerLabels, 0.0015+st.evicted*4e-7)
		}
		attempts := float64(poisson(rng, 0.6*st.arrivals))
		issued := math.Round(attempts * 0.7)
		e.of(sgPrefetchOutcomes).add(w.tokenizerLabels.with("outcome", "attempts"), attempts)
		e.of(sgPrefetchOutcomes).add(w.tokenizerLabels.with("outcome", "issued"), issued)
		e.of(sgPrefetchOutcomes).add(w.tokenizerLabels.with("outcome", "declined_too_short"), attempts-issued)
	}
	// The demo pretends EPLB balancedness export is on; SGLang reports it from
	// the first rank only.
	if st.decodePasses > 0 {
		first := g.schedulers[0].labels.with("forward_mode", "decode")
		e.of(sgEPLBBalancedness).observeN(first, 0.85+0.12*rng.Float64(), st.decodePasses)
	}
}

// updateEngineProcess moves the HTTP-server and Python process metrics.
func (w *worker) updateEngineProcess(rng *rand.Rand, dt float64) {
	e := w.engine
	inflight := w.inflight()
	e.of(sgHTTPActive).set(labels("endpoint", "/v1/chat/completions", "method", "POST"), math.Round(inflight))
	for _, comp := range []string{"tokenizer", "detokenizer"} {
		e.of(sgProcessCPU).add(labels("component", comp), dt*(0.05+0.004*inflight)*rng.Float64())
	}
	for gen, rate := range []float64{900, 80, 3} {
		n := float64(poisson(rng, rate*dt))
		e.of(pyGCCollected).add(labels("generation", strconv.Itoa(gen)), n*float64(20+rng.IntN(200)))
		e.of(pyGCCollections).add(labels("generation", strconv.Itoa(gen)), n)
	}
	e.of(procCPUSeconds).add(nil, math.Round(dt*(0.4+0.02*inflight)*100)/100)
	e.of(procResidentMem).set(nil, math.Round(2.1e9+4e6*inflight+5e6*rng.NormFloat64()))
	e.of(procVirtualMemory).set(nil, math.Round(2.45e10+1e7*rng.Float64()))
	e.of(procOpenFDs).set(nil, float64(110+int(inflight)+rng.IntN(5)))
}

// updateRuntime moves the Dynamo worker gauges: the work handler and tokio
// runtime, and the per-DP-rank KV usage LLMBackendMetrics publishes.
func (w *worker) updateRuntime(rng *rand.Rand, clock float64) {
	r := w.runtime
	inflight := w.inflight()
	r.of(dyInflight).set(w.endpointLabels, math.Round(inflight))
	r.of(dyUptime).set(labels("worker_id", w.hexID()), warmupSeconds+clock)
	for d, g := range w.groups {
		used := math.Min(g.running*(w.model.promptMedian+w.model.outputMedian/2), w.model.kvTokensPerGroup)
		w.backend.of(dyGPUCacheUsage).set(w.backendLabels.with("dp_rank", strconv.Itoa(d)), used/w.model.kvTokensPerGroup)
	}
	r.of(dyTokioAliveTasks).set(nil, float64(60+4*int(inflight)+rng.IntN(6)))
	r.of(dyTokioBlockingThreads).set(nil, float64(4+rng.IntN(3)))
	r.of(dyTokioGlobalQueue).set(nil, float64(poisson(rng, 0.3+0.02*inflight)))
	for i := range tokioWorkers {
		poll := math.Round(lognormal(rng, 18000+500*inflight, 0.3))
		ls := labels("worker", strconv.Itoa(i))
		r.of(dyTokioMeanPoll).set(ls, poll)
		// Dynamo derives the ratio from mean poll time: 1ms == saturated.
		r.of(dyTokioBusyRatio).set(ls, math.Floor(math.Min(poll/1e6, 1)*1000))
	}
}

// inflight is what the work handler currently holds: running plus waiting.
func (w *worker) inflight() float64 {
	n := 0.0
	for _, g := range w.groups {
		n += math.Round(g.running) + math.Round(g.queued)
	}
	return n
}

// Bodies. Each renders the current state under the simulation lock.

func (s *simulation) engineBody(i int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.workers[i]
	tw := textWriter{d: pythonMultiprocess, form: w.form, replica: w.replicaID()}
	tw.render(w.engine, nil)
	return tw.buf.Bytes()
}

// workerBody is the Rust registry text, then the text of Dynamo's Python
// LLMBackendMetrics registry, then, when passthrough is on, the engine's
// sglang: text, each appended verbatim after the other, as Dynamo does.
func (s *simulation) workerBody(i int, passthrough bool) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.workers[i]
	tw := textWriter{d: rustPrometheus}
	tw.render(w.runtime, nil)
	tw.d = pythonMultiprocess
	tw.render(w.backend, nil)
	if passthrough {
		tw.form, tw.replica = w.form, w.replicaID()
		tw.render(w.engine, passthroughFilter)
	}
	return tw.buf.Bytes()
}

// replicaID is the Ray Serve replica the engine would run as.
func (w *worker) replicaID() string { return fmt.Sprintf("%08x", w.workerID>>32) }

// Random helpers.

func lognormal(rng *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*rng.NormFloat64())
}

// poisson uses Knuth's method for small means and a normal approximation
// above 30, where Knuth gets slow and the approximation is good.
func poisson(rng *rand.Rand, mean float64) int {
	if mean <= 0 {
		return 0
	}
	if mean > 30 {
		return max(0, int(math.Round(mean+math.Sqrt(mean)*rng.NormFloat64())))
	}
	limit, p, k := math.Exp(-mean), 1.0, 0
	for {
		p *= rng.Float64()
		if p <= limit {
			return k
		}
		k++
	}
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

func (w *worker) String() string { return fmt.Sprintf("worker-%d", w.index) }

// describe names the worker with what makes it differ from the others, for
// the demo's start-up lines.
func (w *worker) describe() string {
	release := "current"
	if w.old {
		release = "older"
	}
	return fmt.Sprintf("%s (%s, %s SGLang, %s names)", w, w.role, release, w.form)
}

// run advances the simulation every interval until ctx ends.
func (s *simulation) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.step()
		}
	}
}
