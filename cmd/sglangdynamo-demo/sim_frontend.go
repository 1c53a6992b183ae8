package main

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// frontend is the single Dynamo HTTP frontend in front of all workers, in
// KV-router mode: it also carries the router's and its indexer's families.
type frontend struct {
	reg      *registry
	routerID string // the frontend's discovery instance id, decimal
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
		// Rare events: Dynamo creates these series on the first one; the demo
		// creates them at 0 so they show from the first scrape.
		model := labels("model", strings.ToLower(m.name))
		for _, kind := range []string{"new_request", "ongoing_request"} {
			f.reg.of(feMigrations).add(model.with("migration_type", kind), 0)
		}
		f.reg.of(feCancellations).add(model.with("endpoint", "chat_completions", "request_type", "stream"), 0)
		f.reg.of(feRejections).add(model.with("endpoint", "chat_completions"), 0)
	}
}

// errorType is the frontend's error classification of a request.
func (r *request) errorType() string {
	switch {
	case r.failed:
		return "internal"
	case r.cancelled:
		return "cancelled"
	}
	return ""
}

// recordRequest feeds the frontend's view of one request that w served. The
// frontend lowercases the model name on request metrics (as in the real
// capture), and its latency and token histograms carry only that label.
func (f *frontend) recordRequest(rng *rand.Rand, w *worker, r *request) {
	model := labels("model", strings.ToLower(w.model.name))
	requestType := "unary"
	if r.streaming {
		requestType = "stream"
	}
	status := "success"
	if r.failed || r.cancelled {
		status = "error"
	}
	route := model.with("endpoint", r.endpoint, "request_type", requestType)
	f.reg.of(feRequests).add(route.with("status", status, "error_type", r.errorType()), 1)
	f.reg.of(feInputSeqTokens).observe(model, r.prompt)
	f.reg.of(feTokenizerLatency).observe(labels("operation", "tokenize"), lognormal(rng, 0.9+r.prompt/4000, 0.3))
	f.recordRouting(rng, w, r)
	if r.cancelled {
		f.reg.of(feCancellations).add(route, 1)
	}
	if status == "error" {
		return
	}
	if rng.Float64() < 0.002 {
		f.reg.of(feMigrations).add(model.with("migration_type", "ongoing_request"), 1)
	}
	overhead := 0.0015 + r.transit
	f.reg.of(feCachedTokens).observe(model, r.cached)
	f.reg.of(feDuration).observe(model, r.e2e+2*overhead)
	f.reg.of(feTTFT).observe(model, r.ttft+overhead)
	f.reg.of(feOutputSeq).observe(model, r.output)
	f.reg.of(feOutputTokens).add(model, r.output)
	f.reg.of(feTokenizerLatency).observe(labels("operation", "detokenize"), lognormal(rng, 0.05*r.output, 0.3))
	for _, c := range r.itl {
		f.reg.of(feITL).observeN(model, c.value, c.n)
	}
}

// recordRouting feeds what the KV router records for one request: its
// predicted hit rate per worker pool, the KV events its indexer applied, and
// the time each routing phase took. A disaggregated request is routed twice,
// to a prefill and then to a decode worker.
func (f *frontend) recordRouting(rng *rand.Rand, w *worker, r *request) {
	pools := []string{w.component()}
	if w.role == roleDecode {
		pools = []string{rolePrefill, roleDecode}
	}
	for _, pool := range pools {
		comp := labels("dynamo_component", pool, "dynamo_namespace", "dynamo")
		f.reg.of(rtKVHitRate).observe(comp.with("router_id", f.routerID), r.cached/r.prompt)
		f.reg.of(rtKVEventsApplied).add(comp.with("event_type", "stored", "status", "ok"), 1)
		if rng.Float64() < 0.6 {
			f.reg.of(rtKVEventsApplied).add(comp.with("event_type", "removed", "status", "ok"), 1)
		}
		if rng.Float64() < 0.001 {
			f.reg.of(rtKVEventsApplied).add(comp.with("event_type", "removed", "status", "block_not_found"), 1)
		}
		id := labels("router_id", f.routerID)
		hashing := lognormal(rng, 0.004+r.prompt/2e5, 0.3)
		seq := lognormal(rng, 0.002+r.prompt/4e5, 0.3)
		find := lognormal(rng, 0.05, 0.5)
		sched := lognormal(rng, 0.12, 0.5)
		f.reg.of(rtOverheadBlockHashing).observe(id, hashing)
		f.reg.of(rtOverheadSeqHashing).observe(id, seq)
		f.reg.of(rtOverheadFindMatches).observe(id, find)
		f.reg.of(rtOverheadScheduling).observe(id, sched)
		f.reg.of(rtOverheadTotal).observe(id, hashing+seq+find+sched)
	}
}

// updateGauges sets the frontend's per-tick gauges: requests in flight and
// in each pipeline stage, and the load the router sees on each worker.
func (f *frontend) updateGauges(rng *rand.Rand, workers []*worker) {
	inflight := map[string]float64{}
	queued := map[string]float64{}
	for _, w := range workers {
		model := strings.ToLower(w.model.name)
		if w.role != rolePrefill {
			inflight[model] += w.inflight()
		}
		for _, g := range w.groups {
			queued[model] += math.Round(g.queued)
		}
		for d, g := range w.groups {
			ls := labels("worker_id", strconv.FormatUint(w.workerID, 10), "dp_rank", strconv.Itoa(d),
				"worker_type", w.workerType())
			var blocks, prefill float64
			if w.role != rolePrefill {
				blocks = math.Round(g.running * (w.model.promptMedian + w.model.outputMedian/2) / 16)
			}
			if w.role != roleDecode {
				prefill = math.Round(g.queued * w.model.promptMedian)
			}
			f.reg.of(feWorkerActiveDecodeBlocks).set(ls, blocks)
			f.reg.of(feWorkerActivePrefillTokens).set(ls, prefill)
		}
	}
	// A long queue makes the frontend refuse some requests (HTTP 529).
	for model, n := range inflight {
		ls := labels("model", model)
		f.reg.of(feInflight).set(ls, n)
		f.reg.of(feActive).set(ls, n)
		f.reg.of(feQueued).set(ls, queued[model])
		if queued[model] > 20 && rng.Float64() < 0.3 {
			f.reg.of(feRejections).add(ls.with("endpoint", "chat_completions"), float64(1+rng.IntN(3)))
		}
	}
	// Stage occupancy: preprocess has no phase; route and dispatch say which
	// kind of worker the request is waiting for.
	phases := []string{"aggregated"}
	if len(workers) > 0 && workers[0].role != roleUnified {
		phases = []string{rolePrefill, roleDecode}
	}
	f.reg.of(feStageRequests).set(labels("stage", "preprocess", "phase", ""), float64(poisson(rng, 0.3)))
	for _, stage := range []string{"route", "dispatch"} {
		for _, phase := range phases {
			f.reg.of(feStageRequests).set(labels("stage", stage, "phase", phase), float64(poisson(rng, 0.5)))
		}
	}
	f.reg.of(feDisconnected).set(nil, float64(poisson(rng, 0.05)))
	f.reg.of(feLoraChurnLoads).set(labels("endpoint", "dynamo.backend.generate"), float64(poisson(rng, 0.2)))
}

func (s *simulation) frontendBody() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := textWriter{d: rustPrometheus}
	w.render(s.frontend.reg, nil)
	return w.buf.Bytes()
}
