package otelview

import (
	"math"
	"slices"
	"sort"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// RankClass says what may be done with a family's rank and process labels.
type RankClass int

const (
	// KeepRanks keeps every label: the family is not in rankRules.
	KeepRanks RankClass = iota
	// Replicated families hold one DP group's scheduler state, which every
	// TP rank of the group computes alike (the same requests are broadcast
	// to all of them and scheduled in lockstep; sglang#31896 is the same
	// duplication across CP ranks): tp_rank, moe_ep_rank and pid fold by
	// max, dp_rank stays.
	Replicated
	// Additive families are Replicated, and DP groups serve disjoint
	// requests, so their values add up across dp_rank: the replicas fold by
	// max within a DP group, and the groups are summed (sglang#6892 is what
	// reading one group as the whole costs).
	Additive
)

func (c RankClass) String() string {
	switch c {
	case Replicated:
		return "max over tp_rank, moe_ep_rank, pid; dp_rank kept"
	case Additive:
		return "max over tp_rank, moe_ep_rank, pid; sum over dp_rank"
	}
	return "kept"
}

// Labels the view folds. pp_rank is not among them: the pipeline stages of
// one engine each serve /metrics on their own node (sglang PR 7720), so
// they are different targets, and nothing in the source shows that two
// stages report the same state. Other labels (priority, stage, mode, ...)
// are never folded.
const (
	labelTPRank = "tp_rank"
	labelEPRank = "moe_ep_rank"
	labelPID    = "pid"
	labelDPRank = "dp_rank"
)

var replicaLabels = []string{labelTPRank, labelEPRank, labelPID}

// rankRules classify SGLang's scheduler families (label set model_name,
// engine_type, tp_rank, pp_rank, moe_ep_rank[, dp_rank]). Families not here
// keep all their labels:
//   - per-GPU measurements (utilization, fwd_occupancy, is_cuda_graph,
//     forward_execution_seconds_total, the memory and MFU families,
//     weight_load_duration_seconds): each TP rank measures its own GPU, so
//     neither max nor sum over tp_rank is the family's meaning;
//   - the tokenizer's families (no rank labels) and Dynamo's (its dp_rank
//     labels the worker's per-rank KV pools for its router; the label set
//     is Dynamo's contract);
//   - summaries, and families this table does not know.
//
// `pid` (multiprocess mode `all`: num_retracted_reqs, num_paused_reqs,
// prefetch_occupied_ratio) differs only between a live process and the
// stale file of a dead one, so the live value is taken as the max; it
// changes on every restart, which would otherwise start new series.
var rankRules = map[string]RankClass{
	"sglang:num_running_reqs":                 Additive,
	"sglang:num_queue_reqs":                   Additive,
	"sglang:num_grammar_queue_reqs":           Additive,
	"sglang:gen_throughput":                   Additive,
	"sglang:decode_sum_seq_lens":              Additive,
	"sglang:num_used_tokens":                  Additive,
	"sglang:kv_available_tokens":              Additive,
	"sglang:kv_evictable_tokens":              Additive,
	"sglang:kv_used_tokens":                   Additive,
	"sglang:swa_available_tokens":             Additive,
	"sglang:swa_evictable_tokens":             Additive,
	"sglang:swa_used_tokens":                  Additive,
	"sglang:mamba_available_tokens":           Additive,
	"sglang:mamba_evictable_tokens":           Additive,
	"sglang:mamba_used_tokens":                Additive,
	"sglang:max_total_num_tokens":             Additive,
	"sglang:max_total_num_tokens_swa":         Additive,
	"sglang:num_retracted_reqs":               Additive,
	"sglang:num_paused_reqs":                  Additive,
	"sglang:num_prefill_bootstrap_queue_reqs": Additive,
	"sglang:num_prefill_prealloc_queue_reqs":  Additive,
	"sglang:num_prefill_inflight_queue_reqs":  Additive,
	"sglang:num_decode_prealloc_queue_reqs":   Additive,
	"sglang:num_decode_transfer_queue_reqs":   Additive,
	"sglang:num_streaming_sessions":           Additive,
	"sglang:streaming_session_held_tokens":    Additive,
	"sglang:hicache_host_used_tokens":         Additive,
	"sglang:hicache_host_total_tokens":        Additive,
	"sglang:lora_pool_slots_used":             Additive,
	"sglang:lora_pool_slots_total":            Additive,
	// Counters and histograms of scheduled work: cumulative, combined
	// without losing their start (see combineCumulative).
	"sglang:num_retracted_requests_total":      Additive,
	"sglang:num_retracted_reqs_total":          Additive,
	"sglang:num_retracted_input_tokens_total":  Additive,
	"sglang:num_retracted_output_tokens_total": Additive,
	"sglang:realtime_tokens_total":             Additive,
	"sglang:prefill_effective_tokens_total":    Additive,
	"sglang:cuda_graph_passes_total":           Additive,
	"sglang:num_bootstrap_failed_reqs_total":   Additive,
	"sglang:num_transfer_failed_reqs_total":    Additive,
	"sglang:num_prefill_retries_total":         Additive,
	"sglang:num_grammar_cache_hit_total":       Additive,
	"sglang:num_grammar_aborted_total":         Additive,
	"sglang:num_grammar_timeout_total":         Additive,
	"sglang:num_grammar_total":                 Additive,
	"sglang:queue_time_seconds":                Additive,
	"sglang:per_stage_req_latency_seconds":     Additive,
	"sglang:grammar_compilation_time_seconds":  Additive,
	// Ratios, averages and per-group settings: the same on the replicas,
	// meaningless summed over DP groups.
	"sglang:token_usage":                     Replicated,
	"sglang:full_token_usage":                Replicated,
	"sglang:swa_token_usage":                 Replicated,
	"sglang:mamba_usage":                     Replicated,
	"sglang:cache_hit_rate":                  Replicated,
	"sglang:pending_prealloc_token_usage":    Replicated,
	"sglang:spec_accept_length":              Replicated,
	"sglang:spec_accept_rate":                Replicated,
	"sglang:spec_cap_length":                 Replicated,
	"sglang:spec_block_accept_length":        Replicated,
	"sglang:spec_num_steps":                  Replicated,
	"sglang:spec_num_draft_tokens":           Replicated,
	"sglang:new_token_ratio":                 Replicated,
	"sglang:lora_pool_utilization":           Replicated,
	"sglang:prefetch_occupied_ratio":         Replicated,
	"sglang:num_unique_running_routing_keys": Replicated,
	"sglang:page_size":                       Replicated,
	"sglang:num_pages":                       Replicated,
	"sglang:context_len":                     Replicated,
}

// RankRule returns a family's class.
func RankRule(src string) RankClass { return rankRules[src] }

// RankRules returns the classified families, sorted by name.
func RankRules() []string {
	names := make([]string, 0, len(rankRules))
	for n := range rankRules {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// combiner folds rank labels across scrape rounds. Gauges are folded from
// the round's points alone; cumulative families keep, per combined series,
// the running total of what its members added, so that a member that goes
// stale, joins late or restarts changes neither the combined series' start
// nor makes it go down.
type combiner struct {
	round  uint64
	series map[string]*combined
	keyBuf []byte
	names  []string
}

// combined is the state of one folded cumulative series.
type combined struct {
	round   uint64
	start   pcommon.Timestamp
	value   float64 // Sum
	count   uint64  // Histogram
	sum     float64
	buckets []uint64
	bounds  []float64
	members map[string]*member
}

// member is what a source series showed in the last round it was live.
type member struct {
	round   uint64
	start   pcommon.Timestamp
	value   float64
	count   uint64
	sum     float64
	buckets []uint64
}

func newCombiner() *combiner { return &combiner{series: map[string]*combined{}} }

// sweep forgets the combined series no round touched this time: they were
// ended by a staleness marker, or their target stopped reporting them
// without one (a type conflict dropped the family, say).
func (c *combiner) sweep() {
	for k, s := range c.series {
		if s.round != c.round {
			delete(c.series, k)
		}
	}
}

// folded reports whether a label is dropped under class.
func folded(class RankClass, k string) bool {
	return slices.Contains(replicaLabels, k) || (class == Additive && k == labelDPRank)
}

// hasRankLabels reports whether m's first point carries a label class
// folds; a family has one label set, so the first point tells.
func hasRankLabels(m pmetric.Metric, class RankClass) bool {
	var attrs pcommon.Map
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		if m.Gauge().DataPoints().Len() == 0 {
			return false
		}
		attrs = m.Gauge().DataPoints().At(0).Attributes()
	case pmetric.MetricTypeSum:
		if m.Sum().DataPoints().Len() == 0 {
			return false
		}
		attrs = m.Sum().DataPoints().At(0).Attributes()
	case pmetric.MetricTypeHistogram:
		if m.Histogram().DataPoints().Len() == 0 {
			return false
		}
		attrs = m.Histogram().DataPoints().At(0).Attributes()
	default:
		return false
	}
	for k := range attrs.All() {
		if folded(class, k) {
			return true
		}
	}
	return false
}

// group is one output series: the source points it folds, by DP group.
type group struct {
	key    string
	attrs  pcommon.Map // the first member's, the folded labels removed on output
	subs   map[string][]int
	order  []string // DP groups in order of appearance
	ts     pcommon.Timestamp
	live   bool
	minSt  pcommon.Timestamp
	hasMin bool
}

type pointView struct {
	attrs pcommon.Map
	ts    pcommon.Timestamp
	start pcommon.Timestamp
	stale bool
}

// groups partitions the points by their labels minus the folded ones.
func (c *combiner) groups(n int, at func(int) pointView, class RankClass) []*group {
	var out []*group
	idx := map[string]*group{}
	for i := 0; i < n; i++ {
		p := at(i)
		key := c.key(p.attrs, func(k string) bool { return folded(class, k) })
		g := idx[key]
		if g == nil {
			g = &group{key: key, attrs: p.attrs, subs: map[string][]int{}}
			idx[key] = g
			out = append(out, g)
		}
		dp := ""
		if class == Additive {
			if v, ok := p.attrs.Get(labelDPRank); ok {
				dp = v.AsString()
			}
		}
		if _, ok := g.subs[dp]; !ok {
			g.order = append(g.order, dp)
		}
		g.subs[dp] = append(g.subs[dp], i)
		if p.ts > g.ts {
			g.ts = p.ts
		}
		if !p.stale {
			g.live = true
			if !g.hasMin || p.start < g.minSt {
				g.minSt, g.hasMin = p.start, true
			}
		}
	}
	return out
}

// key is a label set's identity, names sorted, skipping some labels.
func (c *combiner) key(attrs pcommon.Map, skip func(string) bool) string {
	c.names = c.names[:0]
	for k := range attrs.All() {
		if !skip(k) {
			c.names = append(c.names, k)
		}
	}
	sort.Strings(c.names)
	c.keyBuf = c.keyBuf[:0]
	for _, k := range c.names {
		v, _ := attrs.Get(k)
		c.keyBuf = append(c.keyBuf, k...)
		c.keyBuf = append(c.keyBuf, 0xfe)
		c.keyBuf = append(c.keyBuf, v.AsString()...)
		c.keyBuf = append(c.keyBuf, 0xff)
	}
	return string(c.keyBuf)
}

// outAttrs writes g's labels minus the folded ones.
func outAttrs(g *group, class RankClass, dst pcommon.Map) {
	g.attrs.CopyTo(dst)
	dst.RemoveIf(func(k string, _ pcommon.Value) bool { return folded(class, k) })
}

var staleFlags = pmetric.DefaultDataPointFlags.WithNoRecordedValue(true)

// combine folds src's rank labels into dst, an empty metric the caller
// then names for the view (scaling is linear, so it may come after);
// resKey tells the target's series apart from another target's.
func (c *combiner) combine(resKey string, src pmetric.Metric, class RankClass, dst pmetric.Metric) {
	dst.SetName(src.Name())
	dst.SetDescription(src.Description())
	dst.SetUnit(src.Unit())
	src.Metadata().CopyTo(dst.Metadata())
	base := resKey + "\x00" + src.Name()
	switch src.Type() {
	case pmetric.MetricTypeGauge:
		c.combineGauge(src.Gauge().DataPoints(), class, dst.SetEmptyGauge().DataPoints())
	case pmetric.MetricTypeSum:
		sum := dst.SetEmptySum()
		sum.SetIsMonotonic(src.Sum().IsMonotonic())
		sum.SetAggregationTemporality(src.Sum().AggregationTemporality())
		if !src.Sum().IsMonotonic() || src.Sum().AggregationTemporality() != pmetric.AggregationTemporalityCumulative {
			// Not a Prometheus counter: fold as a gauge would.
			c.combineGauge(src.Sum().DataPoints(), class, sum.DataPoints())
			return
		}
		c.combineSum(base, src.Sum().DataPoints(), class, sum.DataPoints())
	case pmetric.MetricTypeHistogram:
		h := dst.SetEmptyHistogram()
		h.SetAggregationTemporality(src.Histogram().AggregationTemporality())
		c.combineHistogram(base, src.Histogram().DataPoints(), class, h.DataPoints())
	}
}

func numberView(dps pmetric.NumberDataPointSlice) func(int) pointView {
	return func(i int) pointView {
		p := dps.At(i)
		return pointView{p.Attributes(), p.Timestamp(), p.StartTimestamp(), p.Flags().NoRecordedValue()}
	}
}

func numberValue(p pmetric.NumberDataPoint) float64 {
	if p.ValueType() == pmetric.NumberDataPointValueTypeInt {
		return float64(p.IntValue())
	}
	return p.DoubleValue()
}

// combineGauge: max over the replicas of a DP group (NaN only when every
// replica is NaN), summed over the DP groups. A group whose members are all
// stale ends with one staleness marker.
func (c *combiner) combineGauge(src pmetric.NumberDataPointSlice, class RankClass, dst pmetric.NumberDataPointSlice) {
	for _, g := range c.groups(src.Len(), numberView(src), class) {
		dp := dst.AppendEmpty()
		outAttrs(g, class, dp.Attributes())
		dp.SetTimestamp(g.ts)
		if !g.live {
			dp.SetFlags(staleFlags)
			continue
		}
		total := 0.0
		for _, sub := range g.order {
			best, any := 0.0, false
			for _, i := range g.subs[sub] {
				p := src.At(i)
				if p.Flags().NoRecordedValue() {
					continue
				}
				v := numberValue(p)
				if !any || v > best || (math.IsNaN(best) && !math.IsNaN(v)) {
					best = v
				}
				any = true
			}
			if any {
				total += best
			}
		}
		dp.SetDoubleValue(total)
	}
}

// state returns the combined series for key, new when unknown, and marks it
// touched in this round.
func (c *combiner) state(key string, g *group) *combined {
	s := c.series[key]
	if s == nil {
		s = &combined{start: g.minSt, members: map[string]*member{}}
		c.series[key] = s
	}
	s.round = c.round
	return s
}

// forgetAbsent drops the members not live in this round: a member that
// comes back is new, and adds all it has counted since its own start.
func (s *combined) forgetAbsent(round uint64) {
	for k, mb := range s.members {
		if mb.round != round {
			delete(s.members, k)
		}
	}
}

// end forgets the combined series key, whose members all went stale, and
// returns the start time its staleness marker carries: the combined
// series', or first (its first member's) for one never combined.
func (c *combiner) end(key string, first pcommon.Timestamp) pcommon.Timestamp {
	if s := c.series[key]; s != nil {
		delete(c.series, key)
		return s.start
	}
	return first
}

// combineSum folds monotonic cumulative sums. Each member contributes what
// it added since its last round (all of its value when it is new or has
// restarted); replicas contribute the largest such increase of their DP
// group, and the groups' increases add up. The combined series keeps the
// earliest start of the members it began with.
func (c *combiner) combineSum(base string, src pmetric.NumberDataPointSlice, class RankClass, dst pmetric.NumberDataPointSlice) {
	for _, g := range c.groups(src.Len(), numberView(src), class) {
		key := base + "\x00" + g.key
		dp := dst.AppendEmpty()
		outAttrs(g, class, dp.Attributes())
		dp.SetTimestamp(g.ts)
		if !g.live {
			dp.SetStartTimestamp(c.end(key, src.At(g.subs[g.order[0]][0]).StartTimestamp()))
			dp.SetFlags(staleFlags)
			continue
		}
		s := c.state(key, g)
		for _, sub := range g.order {
			best := 0.0
			for _, i := range g.subs[sub] {
				p := src.At(i)
				if p.Flags().NoRecordedValue() {
					continue
				}
				v := numberValue(p)
				mk := c.key(p.Attributes(), func(string) bool { return false })
				mb := s.members[mk]
				d := v
				if mb != nil && mb.start == p.StartTimestamp() && v >= mb.value {
					d = v - mb.value
				}
				if mb == nil {
					mb = &member{}
					s.members[mk] = mb
				}
				mb.round, mb.start, mb.value = c.round, p.StartTimestamp(), v
				best = math.Max(best, d)
			}
			s.value += best
		}
		s.forgetAbsent(c.round)
		dp.SetStartTimestamp(s.start)
		dp.SetDoubleValue(s.value)
	}
}

func histogramView(dps pmetric.HistogramDataPointSlice) func(int) pointView {
	return func(i int) pointView {
		p := dps.At(i)
		return pointView{p.Attributes(), p.Timestamp(), p.StartTimestamp(), p.Flags().NoRecordedValue()}
	}
}

// combineHistogram folds cumulative histograms as combineSum folds sums,
// bucket by bucket. Of a DP group's replicas, the one whose count grew most
// gives the whole increase (buckets, sum and count from one member, so the
// result is a histogram). Members whose bounds differ from the combined
// series' cannot be added and are left out of it.
func (c *combiner) combineHistogram(base string, src pmetric.HistogramDataPointSlice, class RankClass, dst pmetric.HistogramDataPointSlice) {
	for _, g := range c.groups(src.Len(), histogramView(src), class) {
		key := base + "\x00" + g.key
		dp := dst.AppendEmpty()
		outAttrs(g, class, dp.Attributes())
		dp.SetTimestamp(g.ts)
		if !g.live {
			dp.SetStartTimestamp(c.end(key, src.At(g.subs[g.order[0]][0]).StartTimestamp()))
			dp.SetFlags(staleFlags)
			continue
		}
		s := c.state(key, g)
		if !c.anyLive(src, g, s.bounds) {
			// New, or every live member changed its layout (an engine
			// restarted with other buckets): the combined series starts
			// over with the first live member's bounds.
			*s = combined{round: c.round, start: g.minSt, members: map[string]*member{}}
			for _, sub := range g.order {
				for _, i := range g.subs[sub] {
					if p := src.At(i); !p.Flags().NoRecordedValue() && s.bounds == nil {
						s.bounds = p.ExplicitBounds().AsRaw()
						s.buckets = make([]uint64, len(s.bounds)+1)
					}
				}
			}
		}
		var inc, best []uint64
		for _, sub := range g.order {
			var bestCount uint64
			var bestSum float64
			found := false
			for _, i := range g.subs[sub] {
				p := src.At(i)
				if p.Flags().NoRecordedValue() || !slices.Equal(p.ExplicitBounds().AsRaw(), s.bounds) ||
					p.BucketCounts().Len() != len(s.buckets) {
					continue
				}
				mk := c.key(p.Attributes(), func(string) bool { return false })
				mb := s.members[mk]
				cur := p.BucketCounts().AsRaw()
				inc = append(inc[:0], cur...)
				dSum, dCount := p.Sum(), p.Count()
				if mb != nil && mb.start == p.StartTimestamp() && p.Count() >= mb.count && !decreased(cur, mb.buckets) {
					for j := range inc {
						inc[j] -= mb.buckets[j]
					}
					dSum, dCount = p.Sum()-mb.sum, p.Count()-mb.count
				}
				if mb == nil {
					mb = &member{}
					s.members[mk] = mb
				}
				mb.round, mb.start, mb.count, mb.sum = c.round, p.StartTimestamp(), p.Count(), p.Sum()
				mb.buckets = append(mb.buckets[:0], cur...)
				if !found || dCount > bestCount {
					best = append(best[:0], inc...)
					bestCount, bestSum, found = dCount, dSum, true
				}
			}
			if found {
				for j := range best {
					s.buckets[j] += best[j]
				}
				s.count += bestCount
				s.sum += bestSum
			}
		}
		s.forgetAbsent(c.round)
		dp.SetStartTimestamp(s.start)
		dp.SetCount(s.count)
		dp.SetSum(s.sum)
		dp.ExplicitBounds().FromRaw(s.bounds)
		dp.BucketCounts().FromRaw(s.buckets)
	}
}

// anyLive reports whether a live member of g has these bounds.
func (c *combiner) anyLive(src pmetric.HistogramDataPointSlice, g *group, bounds []float64) bool {
	if bounds == nil {
		return false
	}
	for _, sub := range g.order {
		for _, i := range g.subs[sub] {
			p := src.At(i)
			if !p.Flags().NoRecordedValue() && slices.Equal(p.ExplicitBounds().AsRaw(), bounds) {
				return true
			}
		}
	}
	return false
}

// decreased reports whether any bucket went down: a restart, even when the
// count alone did not fall.
func decreased(cur, prev []uint64) bool {
	if len(cur) != len(prev) {
		return true
	}
	for i := range cur {
		if cur[i] < prev[i] {
			return true
		}
	}
	return false
}
