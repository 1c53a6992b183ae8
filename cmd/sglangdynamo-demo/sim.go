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

// worker is one SGLang engine plus the Dynamo worker wrapping it.
type worker struct {
	index      int
	model      modelProfile
	workerID   string
	phase      float64 // offsets the daily-ish load wave between workers
	burstTicks int
	engine     *registry
	runtime    *registry
	groups     []*dpGroup

	tokenizerLabels labelSet
	endpointLabels  labelSet // Dynamo auto-labels + model + worker_id
	componentLabels labelSet // kvstats / NATS carry only namespace + component
	natsRequests    float64  // NATS service stats are running totals kept by the service
	natsErrors      float64
	natsMillis      float64
}

// frontend is the single Dynamo HTTP frontend in front of all workers.
type frontend struct {
	reg *registry
}

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

func newSimulation(workers int, tick time.Duration, seed uint64, start time.Time) *simulation {
	s := &simulation{
		rng:      rand.New(rand.NewPCG(seed, seed^0x5eed5eed5eed5eed)),
		dt:       tick.Seconds(),
		start:    start,
		frontend: &frontend{reg: newRegistry(dynamoFrontendFamilies)},
	}
	for i := range workers {
		s.workers = append(s.workers, s.newWorker(i))
	}
	s.frontend.initModelConfig(s.workers)
	// One step up front so the first scrape already sees traffic.
	s.step()
	return s
}

func (s *simulation) newWorker(i int) *worker {
	m := modelProfiles[i%len(modelProfiles)]
	w := &worker{
		index:    i,
		model:    m,
		workerID: strconv.FormatUint(s.rng.Uint64(), 16),
		phase:    s.rng.Float64() * 2 * math.Pi,
		engine: newRegistry(sglangSchedulerFamilies, sglangTokenizerFamilies, sglangServerFamilies,
			pythonRuntimeFamilies),
		runtime:         newRegistry(dynamoWorkerFamilies),
		tokenizerLabels: labels("engine_type", "unified", "model_name", m.name),
		componentLabels: labels("dynamo_component", "backend", "dynamo_namespace", "dynamo"),
	}
	w.endpointLabels = w.componentLabels.with("dynamo_endpoint", "generate", "model", m.name, "worker_id", w.workerID)
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
			ls := labels("engine_type", "unified", "model_name", m.name, "moe_ep_rank", "0",
				"pp_rank", "0", "tp_rank", strconv.Itoa(rank))
			if dpSize > 1 {
				ls = ls.with("dp_rank", strconv.Itoa(d))
			}
			g.schedulers = append(g.schedulers, scheduler{labels: ls, pid: strconv.Itoa(basePID + 1 + rank)})
		}
		w.groups = append(w.groups, g)
	}
	w.initEngine(s.rng, s.start)
	w.initRuntime()
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

func (w *worker) initRuntime() {
	r := w.runtime
	r.of(dyCancellations).add(w.endpointLabels, 0)
	r.of(dyKVTotalBlocks).set(w.componentLabels, w.model.kvTokensPerGroup*float64(len(w.groups)))
	r.of(dyNatsActiveEndpoints).set(w.componentLabels, 1)
}

func (f *frontend) initModelConfig(workers []*worker) {
	// Dynamo fills the model-config gauges from the first worker per model,
	// and keeps the model's original case (request metrics lowercase it).
	for _, w := range workers {
		ls := labels("model", w.model.name)
		if _, seen := f.reg.of(feModelContextLength).index[ls.key()]; seen {
			continue
		}
		m := w.model
		f.reg.of(feModelContextLength).set(ls, m.contextLen)
		f.reg.of(feModelKVBlockSize).set(ls, 1)
		f.reg.of(feModelMaxBatchedTokens).set(ls, m.maxBatchedTokens)
		f.reg.of(feModelMaxNumSeqs).set(ls, m.maxRunning)
		f.reg.of(feModelMigrationLimit).set(ls, m.migrationLimit)
		f.reg.of(feModelTotalKVBlocks).set(ls, m.kvTokensPerGroup)
	}
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
			w.recordRequest(g, reqs[i])
			fe.recordRequest(w.model, reqs[i])
		}
		w.publishGroup(rng, g, g.advance(rng, w.model, rate, reqs, dt))
	}
	w.updateEngineProcess(rng, dt)
	w.updateRuntime(rng, clock)
}

// newRequest draws one request. Latencies depend on the group's current
// occupancy so that bursts visibly raise queue time and TTFT.
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
	if rng.Float64() < 0.15 {
		r.endpoint = "completions"
	}
	// Shared system prompts make a large share of prefixes cache hits.
	r.cached = math.Floor(r.prompt * 0.9 * rng.Float64() * rng.Float64())
	load := g.running / m.maxRunning
	r.queue = rng.ExpFloat64() * (0.002 + 0.3*math.Pow(load, 4) + 0.05*g.queued)
	r.prefill = 0.004 + (r.prompt-r.cached)/m.prefillRate
	r.ttft = r.queue + r.prefill + 0.002
	perToken := lognormal(rng, m.itlMedian*(1+0.5*load), 0.2)
	for left := r.output - 1; left > 0; left -= itlChunk {
		n := math.Min(itlChunk, left)
		r.itl = append(r.itl, weighted{perToken * lognormal(rng, 1, 0.15), n})
	}
	r.e2e = r.ttft + r.decodeTime() + 0.001
	r.transit = lognormal(rng, 0.0006, 0.5)
	r.handlerLatency = lognormal(rng, 0.004, 0.5)
	return r
}

func (w *worker) recordRequest(g *dpGroup, r *request) {
	w.recordScheduler(g, r)
	w.recordTokenizer(r)
	w.recordRuntime(r)
}

// recordScheduler feeds the per-rank histograms and counters. Every TP rank
// of a group runs the same batch, so each records the same request.
func (w *worker) recordScheduler(g *dpGroup, r *request) {
	e := w.engine
	for _, sc := range g.schedulers {
		ls := sc.labels
		e.of(sgQueueTime).observe(ls, r.queue)
		e.of(sgPerStageLatency).observe(ls.with("stage", "prefill_waiting"), r.queue)
		e.of(sgPerStageLatency).observe(ls.with("stage", "prefill_forward"), r.prefill)
		e.of(sgPerStageLatency).observe(ls.with("stage", "decode"), r.decodeTime())
		e.of(sgRealtimeTokens).add(ls.with("mode", "prefill_compute"), r.prompt-r.cached)
		e.of(sgRealtimeTokens).add(ls.with("mode", "prefill_cache"), r.cached)
		e.of(sgRealtimeTokens).add(ls.with("mode", "decode"), r.output)
		e.of(sgPrefillEffective).add(ls.with("mode", "device_hit"), r.cached)
		e.of(sgPrefillEffective).add(ls.with("mode", "input"), r.prompt)
	}
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
	e.of(sgCachedTokens).add(t.with("cache_source", "device"), r.cached)
	e.of(sgCachedTokens).add(t.with("cache_source", "total"), r.cached)
	e.of(sgTTFT).observe(st, r.ttft)
	e.of(sgE2E).observe(st, r.e2e)
	e.of(sgPromptHist).observe(t, r.prompt)
	e.of(sgGenerationHist).observe(t, r.output)
	for _, c := range r.itl {
		e.of(sgITL).observeN(t, c.value, c.n)
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
		w.natsErrors++
	case r.cancelled:
		rt.of(dyCancellations).add(ls, 1)
	}
	w.natsRequests++
	w.natsMillis += r.e2e * 1000
}

// batchState is what one tick leaves a DP group's scheduler reporting.
type batchState struct {
	used, usage    float64 // KV tokens in use and the pool fraction
	throughput     float64 // generated tokens per second
	retracted      float64
	decodePasses   float64
	prefillBatches float64
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

	st := batchState{throughput: output / dt, prefillBatches: math.Ceil(float64(len(reqs)) / 2)}
	st.used = math.Round(math.Min(g.running*(m.promptMedian+m.outputMedian/2)*lognormal(rng, 1, 0.1), m.kvTokensPerGroup))
	st.usage = st.used / m.kvTokensPerGroup
	g.evictable = math.Round(clamp(g.evictable+0.3*cached-0.02*g.evictable, 0, m.kvTokensPerGroup-st.used))

	if st.usage > 0.9 || rng.Float64() < 0.005 {
		// Memory pressure makes SGLang retract decoding requests and reset
		// its new-token-ratio estimate.
		st.retracted = float64(1 + rng.IntN(3))
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
	gauges := []struct {
		def *familyDef
		v   float64
	}{
		{sgRunningReqs, math.Round(g.running)},
		{sgQueueReqs, math.Round(g.queued)},
		{sgGrammarQueueReqs, 0},
		{sgBootstrapQueueReqs, 0},
		{sgPendingPrealloc, 0},
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
	e := w.engine
	for _, sc := range g.schedulers {
		for _, gv := range gauges {
			e.of(gv.def).set(sc.labels, gv.v)
		}
		// Mode-"all" gauges keep one series per process, hence the pid label.
		e.of(sgRetractedReqs).set(sc.labels.with("pid", sc.pid), st.retracted)
		e.of(sgPausedReqs).set(sc.labels.with("pid", sc.pid), 0)
		e.of(sgRetractedRequests).add(sc.labels, st.retracted)
		// SGLang creates these series on first increment, so skip zeros.
		if st.decodePasses > 0 {
			e.of(sgCudaGraphPasses).add(sc.labels.with("mode", decodeMode), st.decodePasses)
		}
		if st.prefillBatches > 0 {
			e.of(sgCudaGraphPasses).add(sc.labels.with("mode", "prefill_none"), st.prefillBatches)
		}
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

// updateRuntime moves the Dynamo worker gauges.
func (w *worker) updateRuntime(rng *rand.Rand, clock float64) {
	r := w.runtime
	inflight := w.inflight()
	var used, hit float64
	for _, g := range w.groups {
		used += g.running * (w.model.promptMedian + w.model.outputMedian/2)
		hit += g.hitRate / float64(len(w.groups))
	}
	total := w.model.kvTokensPerGroup * float64(len(w.groups))
	used = math.Min(math.Round(used), total)

	r.of(dyInflight).set(w.endpointLabels, math.Round(inflight))
	r.of(dyUptime).set(labels("worker_id", w.workerID), warmupSeconds+clock)
	r.of(dyKVActiveBlocks).set(w.componentLabels, used)
	r.of(dyKVCacheUsage).set(w.componentLabels, used/total)
	r.of(dyKVPrefixHitRate).set(w.componentLabels, hit)
	r.of(dyNatsRequests).set(w.componentLabels, w.natsRequests)
	r.of(dyNatsErrors).set(w.componentLabels, w.natsErrors)
	r.of(dyNatsProcessingTotal).set(w.componentLabels, math.Round(w.natsMillis))
	if w.natsRequests > 0 {
		r.of(dyNatsProcessingAvg).set(w.componentLabels, math.Round(w.natsMillis/w.natsRequests))
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

// recordRequest feeds the frontend's view of one request. The frontend
// lowercases the model name on request metrics (as in the real capture).
func (f *frontend) recordRequest(m modelProfile, r *request) {
	model := labels("model", strings.ToLower(m.name))
	requestType := "unary"
	if r.streaming {
		requestType = "stream"
	}
	status := "success"
	if r.failed || r.cancelled {
		status = "error"
	}
	f.reg.of(feRequests).add(model.with("endpoint", r.endpoint, "request_type", requestType, "status", status), 1)
	f.reg.of(feInputSeqTokens).observe(model, r.prompt)
	if status == "error" {
		return
	}
	overhead := 0.0015 + r.transit
	f.reg.of(feDuration).observe(model, r.e2e+2*overhead)
	f.reg.of(feTTFT).observe(model, r.ttft+overhead)
	f.reg.of(feOutputSeq).observe(model, r.output)
	f.reg.of(feOutputTokens).add(model, r.output)
	for _, c := range r.itl {
		f.reg.of(feITL).observeN(model, c.value, c.n)
	}
}

func (f *frontend) updateGauges(rng *rand.Rand, workers []*worker) {
	inflight := map[string]float64{}
	queued := map[string]float64{}
	for _, w := range workers {
		model := strings.ToLower(w.model.name)
		inflight[model] += w.inflight()
		for _, g := range w.groups {
			queued[model] += math.Round(g.queued)
		}
	}
	for model, n := range inflight {
		f.reg.of(feInflight).set(labels("model", model), n)
		f.reg.of(feQueued).set(labels("model", model), queued[model])
	}
	f.reg.of(feDisconnected).set(nil, float64(poisson(rng, 0.05)))
	f.reg.of(feLoraChurnLoads).set(labels("endpoint", "dynamo.backend.generate"), float64(poisson(rng, 0.2)))
}

// Bodies. Each renders the current state under the simulation lock.

func (s *simulation) engineBody(i int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := textWriter{d: pythonMultiprocess}
	w.render(s.workers[i].engine, nil)
	return w.buf.Bytes()
}

// workerBody is the Rust registry text with, when passthrough is on, the
// engine's sglang: text appended verbatim after it, as Dynamo does.
func (s *simulation) workerBody(i int, passthrough bool) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := textWriter{d: rustPrometheus}
	w.render(s.workers[i].runtime, nil)
	if passthrough {
		w.d = pythonMultiprocess
		w.render(s.workers[i].engine, passthroughFilter)
	}
	return w.buf.Bytes()
}

func (s *simulation) frontendBody() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := textWriter{d: rustPrometheus}
	w.render(s.frontend.reg, nil)
	return w.buf.Bytes()
}

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
