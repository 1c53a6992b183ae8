package mixedtypes

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

var t0 = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

// body builds one target's round from metric builders.
func body(ms ...func(pmetric.MetricSlice)) pmetric.Metrics {
	md := pmetric.NewMetrics()
	sl := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	for _, m := range ms {
		m(sl)
	}
	return md
}

func gauge(name, help string, v float64, stale bool) func(pmetric.MetricSlice) {
	return func(sl pmetric.MetricSlice) {
		m := sl.AppendEmpty()
		m.SetName(name)
		m.SetDescription(help)
		p := m.SetEmptyGauge().DataPoints().AppendEmpty()
		p.Attributes().PutStr("engine_type", "unified")
		p.SetTimestamp(2000)
		p.SetDoubleValue(v)
		if stale {
			p.SetFlags(staleFlags)
		}
	}
}

func counter(name string, v float64) func(pmetric.MetricSlice) {
	return func(sl pmetric.MetricSlice) {
		m := sl.AppendEmpty()
		m.SetName(name)
		s := m.SetEmptySum()
		s.SetIsMonotonic(true)
		s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		p := s.DataPoints().AppendEmpty()
		p.SetStartTimestamp(1000)
		p.SetTimestamp(2000)
		p.SetDoubleValue(v)
	}
}

// histogram has bounds 1 and 2.5 and per-bucket counts 1, 2, 3.
func histogram(name, help string, stale bool) func(pmetric.MetricSlice) {
	return func(sl pmetric.MetricSlice) {
		m := sl.AppendEmpty()
		m.SetName(name)
		m.SetDescription(help)
		h := m.SetEmptyHistogram()
		h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		p := h.DataPoints().AppendEmpty()
		p.Attributes().PutStr("engine_type", "prefill")
		p.SetStartTimestamp(1000)
		p.SetTimestamp(2000)
		p.ExplicitBounds().FromRaw([]float64{1, 2.5})
		p.BucketCounts().FromRaw([]uint64{1, 2, 3})
		p.SetCount(6)
		p.SetSum(10.5)
		if stale {
			p.SetFlags(staleFlags)
		}
	}
}

func summary(name string) func(pmetric.MetricSlice) {
	return func(sl pmetric.MetricSlice) {
		m := sl.AppendEmpty()
		m.SetName(name)
		p := m.SetEmptySummary().DataPoints().AppendEmpty()
		p.SetStartTimestamp(1000)
		p.SetTimestamp(2000)
		p.SetCount(4)
		p.SetSum(2)
		q := p.QuantileValues().AppendEmpty()
		q.SetQuantile(0.5)
		q.SetValue(0.25)
	}
}

// dump prints md one point per line, sorted, as
// `type name{attrs} value [start=] [stale]`.
func dump(md pmetric.Metrics) []string {
	var out []string
	forEachMetric(md, func(m pmetric.Metric) {
		var typ string
		switch m.Type() {
		case pmetric.MetricTypeGauge:
			typ = "gauge"
			if v, ok := m.Metadata().Get("prometheus.type"); ok {
				typ += "(" + v.Str() + ")"
			}
			for i := range m.Gauge().DataPoints().Len() {
				out = append(out, numberLine(typ, m.Name(), m.Gauge().DataPoints().At(i)))
			}
		case pmetric.MetricTypeSum:
			typ = "counter"
			for i := range m.Sum().DataPoints().Len() {
				out = append(out, numberLine(typ, m.Name(), m.Sum().DataPoints().At(i)))
			}
		case pmetric.MetricTypeHistogram:
			for i := range m.Histogram().DataPoints().Len() {
				p := m.Histogram().DataPoints().At(i)
				out = append(out, fmt.Sprintf("histogram %s%s count=%d bounds=%v counts=%v start=%d stale=%t",
					m.Name(), attrs(p.Attributes()), p.Count(), p.ExplicitBounds().AsRaw(), p.BucketCounts().AsRaw(), p.StartTimestamp(), p.Flags().NoRecordedValue()))
			}
		case pmetric.MetricTypeSummary:
			for i := range m.Summary().DataPoints().Len() {
				p := m.Summary().DataPoints().At(i)
				out = append(out, fmt.Sprintf("summary %s%s count=%d", m.Name(), attrs(p.Attributes()), p.Count()))
			}
		}
	})
	slices.Sort(out)
	return out
}

func numberLine(typ, name string, p pmetric.NumberDataPoint) string {
	s := fmt.Sprintf("%s %s%s %g start=%d", typ, name, attrs(p.Attributes()), p.DoubleValue(), p.StartTimestamp())
	if p.Flags().NoRecordedValue() {
		s += " stale"
	}
	return s
}

func attrs(m pcommon.Map) string {
	var kv []string
	for k, v := range m.All() {
		kv = append(kv, k+"="+v.AsString())
	}
	slices.Sort(kv)
	return "{" + strings.Join(kv, ",") + "}"
}

func newTest(mode Mode, hold time.Duration) (*Reconciler, *observer.ObservedLogs) {
	core, logs := observer.New(zap.InfoLevel)
	return New(mode, hold, zap.New(core)), logs
}

func messages(logs *observer.ObservedLogs) []string {
	var out []string
	for _, e := range logs.TakeAll() {
		s := e.Level.String() + ": " + strings.TrimSpace(e.Message[:strings.IndexAny(e.Message, ";(")])
		for _, f := range e.Context {
			s += " " + f.Key + "=" + f.String
		}
		out = append(out, s)
	}
	return out
}

func check(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

const (
	a = "http://a:30000/metrics"
	b = "http://b:30000/metrics"
)

// A gauge from one release and a histogram from the next: the histogram
// comes out as the series Prometheus stores, the gauge as it was, and one
// warning names both types and targets, once.
func TestGaugeAndHistogramFlatten(t *testing.T) {
	r, logs := newTest(Flatten, time.Minute)
	targets := []string{a, b}
	for round := range 3 {
		rounds := []pmetric.Metrics{
			body(gauge("sglang:kv_transfer_latency_ms", "old help", 7, false)),
			body(histogram("sglang:kv_transfer_latency_ms", "new help", false)),
		}
		r.Round(t0.Add(time.Duration(round)*time.Second), ids(targets), targets, rounds)
		check(t, "old release", dump(rounds[0]), []string{
			"gauge sglang:kv_transfer_latency_ms{engine_type=unified} 7 start=0",
		})
		check(t, "new release, flat", dump(rounds[1]), []string{
			"counter sglang:kv_transfer_latency_ms_bucket{engine_type=prefill,le=+Inf} 6 start=1000",
			"counter sglang:kv_transfer_latency_ms_bucket{engine_type=prefill,le=1} 1 start=1000",
			"counter sglang:kv_transfer_latency_ms_bucket{engine_type=prefill,le=2.5} 3 start=1000",
			"counter sglang:kv_transfer_latency_ms_count{engine_type=prefill} 6 start=1000",
			"gauge sglang:kv_transfer_latency_ms_sum{engine_type=prefill} 10.5 start=0",
		})
		// The exporter keeps one HELP per name and logs the others on
		// every scrape: the first one seen is given to all.
		if got := rounds[1].ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Description(); got != "old help" {
			t.Errorf("round %d: flat metric's HELP %q, want the first seen %q", round, got, "old help")
		}
		want := []string(nil)
		if round == 0 {
			want = []string{"warn: family arrives with different types from different targets " +
				"family=sglang:kv_transfer_latency_ms types=gauge: [" + a + "]; histogram: [" + b + "]",
				"info: family's HELP differs between targets family=sglang:kv_transfer_latency_ms kept=old help other=new help target=" + b}
		}
		check(t, fmt.Sprintf("logs of round %d", round), messages(logs), want)
	}
}

// keep passes each target's type and still warns once.
func TestKeepWarnsOnce(t *testing.T) {
	r, logs := newTest(Keep, time.Minute)
	for round := range 2 {
		rounds := []pmetric.Metrics{body(gauge("x", "", 1, false)), body(histogram("x", "", false))}
		r.Round(t0.Add(time.Duration(round)*time.Second), []uint64{1, 2}, []string{a, b}, rounds)
		check(t, "a", dump(rounds[0]), []string{"gauge x{engine_type=unified} 1 start=0"})
		check(t, "b", dump(rounds[1]), []string{"histogram x{engine_type=prefill} count=6 bounds=[1 2.5] counts=[1 2 3] start=1000 stale=false"})
		if n := len(messages(logs)); n != map[int]int{0: 1, 1: 0}[round] {
			t.Errorf("round %d: %d log lines", round, n)
		}
	}
}

// Agreeing types are left alone, untyped included.
func TestAgreeingTypesUntouched(t *testing.T) {
	r, logs := newTest(Flatten, time.Minute)
	rounds := []pmetric.Metrics{body(histogram("x", "h", false), counter("c_total", 3)), body(histogram("x", "h", false), counter("c_total", 4))}
	want0, want1 := dump(rounds[0]), dump(rounds[1])
	r.Round(t0, []uint64{1, 2}, []string{a, b}, rounds)
	check(t, "a", dump(rounds[0]), want0)
	check(t, "b", dump(rounds[1]), want1)
	check(t, "logs", messages(logs), nil)
}

// Counter against gauge: both come out as gauges of the one name; summary
// against histogram: the quantiles, sums and counts flat.
func TestCounterGaugeAndSummaryHistogram(t *testing.T) {
	r, _ := newTest(Flatten, time.Minute)
	rounds := []pmetric.Metrics{
		body(counter("n_total", 5), summary("lat")),
		body(gauge("n_total", "", 6, false), histogram("lat", "", false)),
	}
	r.Round(t0, []uint64{1, 2}, []string{a, b}, rounds)
	check(t, "a", dump(rounds[0]), []string{
		"counter lat_count{} 4 start=1000",
		"gauge lat_sum{} 2 start=0",
		"gauge lat{quantile=0.5} 0.25 start=0",
		"gauge n_total{} 5 start=0",
	})
	check(t, "b", dump(rounds[1]), []string{
		"counter lat_bucket{engine_type=prefill,le=+Inf} 6 start=1000",
		"counter lat_bucket{engine_type=prefill,le=1} 1 start=1000",
		"counter lat_bucket{engine_type=prefill,le=2.5} 3 start=1000",
		"counter lat_count{engine_type=prefill} 6 start=1000",
		"gauge lat_sum{engine_type=prefill} 10.5 start=0",
		"gauge n_total{engine_type=unified} 6 start=0",
	})
}

// The rolling upgrade ends: the old target's gauge goes (its staleness
// markers), the family stays flat for hold, then comes back native with
// staleness markers for the flat series, and an info line says so.
func TestBackToNativeAfterHold(t *testing.T) {
	r, logs := newTest(Flatten, time.Minute)
	targets := []string{a, b}
	r.Round(t0, ids(targets), targets, []pmetric.Metrics{body(gauge("x", "", 1, false)), body(histogram("x", "", false))})
	messages(logs)

	// a upgraded: its gauge series went away.
	rounds := []pmetric.Metrics{body(gauge("x", "", 1, true)), body(histogram("x", "", false))}
	r.Round(t0.Add(10*time.Second), ids(targets), targets, rounds)
	check(t, "a's markers", dump(rounds[0]), []string{"gauge x{engine_type=unified} 1 start=0 stale"})
	if got := dump(rounds[1]); len(got) != 5 || !strings.HasPrefix(got[0], "counter x_bucket") {
		t.Errorf("still within hold, b should stay flat: %q", got)
	}

	rounds = []pmetric.Metrics{body(), body(histogram("x", "", false))}
	r.Round(t0.Add(61*time.Second), ids(targets), targets, rounds)
	check(t, "b back to native", dump(rounds[1]), []string{
		"counter x_bucket{engine_type=prefill,le=+Inf} 6 start=1000 stale",
		"counter x_bucket{engine_type=prefill,le=1} 1 start=1000 stale",
		"counter x_bucket{engine_type=prefill,le=2.5} 3 start=1000 stale",
		"counter x_count{engine_type=prefill} 6 start=1000 stale",
		"gauge x_sum{engine_type=prefill} 10.5 start=0 stale",
		"histogram x{engine_type=prefill} count=6 bounds=[1 2.5] counts=[1 2 3] start=1000 stale=false",
	})
	check(t, "logs", messages(logs), []string{"info: family's types agree again family=x type=histogram: [" + b + "]"})

	rounds = []pmetric.Metrics{body(), body(histogram("x", "", false))}
	r.Round(t0.Add(62*time.Second), ids(targets), targets, rounds)
	check(t, "native after", dump(rounds[1]), []string{
		"histogram x{engine_type=prefill} count=6 bounds=[1 2.5] counts=[1 2 3] start=1000 stale=false",
	})
}

// A histogram already exported natively when a gauge of the same name
// joins: its native series get staleness markers as it goes flat.
func TestNativeToFlatMarksNativeStale(t *testing.T) {
	r, _ := newTest(Flatten, time.Minute)
	targets := []string{a, b}
	r.Round(t0, ids(targets), targets, []pmetric.Metrics{{}, body(histogram("x", "", false))})
	rounds := []pmetric.Metrics{body(gauge("x", "", 1, false)), body(histogram("x", "", false))}
	r.Round(t0.Add(time.Second), ids(targets), targets, rounds)
	check(t, "b", dump(rounds[1]), []string{
		"counter x_bucket{engine_type=prefill,le=+Inf} 6 start=1000",
		"counter x_bucket{engine_type=prefill,le=1} 1 start=1000",
		"counter x_bucket{engine_type=prefill,le=2.5} 3 start=1000",
		"counter x_count{engine_type=prefill} 6 start=1000",
		"gauge x_sum{engine_type=prefill} 10.5 start=0",
		"histogram x{engine_type=prefill} count=6 bounds=[1 2.5] counts=[1 2 3] start=1000 stale=true",
	})
}

// A failed target's markers for a flat family are flat too, and after them
// the target no longer counts towards the family's types.
func TestFailedTargetMarkersFlat(t *testing.T) {
	r, logs := newTest(Flatten, 0)
	targets := []string{a, b}
	r.Round(t0, ids(targets), targets, []pmetric.Metrics{body(gauge("x", "", 1, false)), body(histogram("x", "", false))})
	messages(logs)
	rounds := []pmetric.Metrics{body(gauge("x", "", 1, false)), body(histogram("x", "", true))}
	r.Round(t0.Add(time.Second), ids(targets), targets, rounds)
	check(t, "b's markers", dump(rounds[1]), []string{
		"counter x_bucket{engine_type=prefill,le=+Inf} 6 start=1000 stale",
		"counter x_bucket{engine_type=prefill,le=1} 1 start=1000 stale",
		"counter x_bucket{engine_type=prefill,le=2.5} 3 start=1000 stale",
		"counter x_count{engine_type=prefill} 6 start=1000 stale",
		"gauge x_sum{engine_type=prefill} 10.5 start=0 stale",
	})
	// hold 0: the next round, a's gauge alone is native and unmarked.
	rounds = []pmetric.Metrics{body(gauge("x", "", 1, false)), body()}
	r.Round(t0.Add(2*time.Second), ids(targets), targets, rounds)
	check(t, "a", dump(rounds[0]), []string{"gauge x{engine_type=unified} 1 start=0"})
	check(t, "logs", messages(logs), []string{"info: family's types agree again family=x type=gauge: [" + a + "]"})
}

func BenchmarkRoundNoConflict(b *testing.B) {
	r, _ := newTest(Flatten, time.Minute)
	targets := make([]string, 64)
	rounds := make([]pmetric.Metrics, 64)
	for i := range targets {
		targets[i] = fmt.Sprintf("http://10.0.0.%d:30000/metrics", i)
		var ms []func(pmetric.MetricSlice)
		for f := range 150 {
			ms = append(ms, gauge(fmt.Sprintf("sglang:family_%d", f), "help", 1, false))
		}
		rounds[i] = body(ms...)
	}
	is := ids(targets)
	b.ReportAllocs()
	for b.Loop() {
		r.Round(t0, is, targets, rounds)
	}
}

// A target restarted on a new release: in one round its gauge's markers and
// its histogram's first points. The exporter still remembers the gauge, so
// the family goes flat for hold, and the target keeps counting as live.
func TestTargetChangesItsOwnType(t *testing.T) {
	r, logs := newTest(Flatten, time.Minute)
	targets := []string{a}
	r.Round(t0, ids(targets), targets, []pmetric.Metrics{body(gauge("x", "", 1, false))})
	rounds := []pmetric.Metrics{body(gauge("x", "", 1, true), histogram("x", "", false))}
	r.Round(t0.Add(time.Second), ids(targets), targets, rounds)
	check(t, "a", dump(rounds[0]), []string{
		"counter x_bucket{engine_type=prefill,le=+Inf} 6 start=1000",
		"counter x_bucket{engine_type=prefill,le=1} 1 start=1000",
		"counter x_bucket{engine_type=prefill,le=2.5} 3 start=1000",
		"counter x_count{engine_type=prefill} 6 start=1000",
		"gauge x_sum{engine_type=prefill} 10.5 start=0",
		"gauge x{engine_type=unified} 1 start=0 stale",
	})
	check(t, "logs", messages(logs), []string{"warn: target changed a family's type family=x target=" + a + " was=gauge now=histogram"})
	if e := r.fams["x"].byTarget[1]; e == nil || e.t != typeHistogram {
		t.Fatalf("a's entry for x is %+v, want its histogram", e)
	}
	rounds = []pmetric.Metrics{body(histogram("x", "", false))}
	r.Round(t0.Add(2*time.Minute), ids(targets), targets, rounds)
	if got := dump(rounds[0]); len(got) != 6 || !strings.HasPrefix(got[5], "histogram x{") {
		t.Errorf("after hold the histogram should be native, with flat markers: %q", got)
	}
}

// ids numbers targets from 1, as the scraper does.
func ids(targets []string) []uint64 {
	out := make([]uint64, len(targets))
	for i := range targets {
		out[i] = uint64(i + 1)
	}
	return out
}

// The per-target slots remember last round's metrics by position: a type
// change at a position that shifted, a family that vanished and came back,
// and a target that left must all be seen as the lookup by name sees them.
func TestSlotsFollowChanges(t *testing.T) {
	r, logs := newTest(Flatten, time.Minute)
	targets := []string{a, b}
	round := func(sec int, mds ...pmetric.Metrics) {
		r.Round(t0.Add(time.Duration(sec)*time.Second), ids(targets), targets, mds)
	}
	round(0, body(gauge("x", "", 1, false), gauge("y", "", 1, false)), body(gauge("y", "", 1, false)))
	round(1, body(gauge("x", "", 1, false), gauge("y", "", 1, false)), body(gauge("y", "", 1, false)))
	// a's metrics swap places, and x becomes a histogram at y's old place.
	round(2, body(gauge("y", "", 1, false), histogram("x", "", false)), body(gauge("y", "", 1, false)))
	check(t, "logs", messages(logs), []string{"warn: target changed a family's type family=x target=" + a + " was=gauge now=histogram"})
	if e := r.fams["x"].byTarget[1]; e == nil || e.t != typeHistogram {
		t.Fatalf("a's entry for x is %+v, want its histogram", e)
	}
	// y goes from b (markers only), then b leaves.
	round(3, body(gauge("y", "", 1, false), histogram("x", "", false)), body(gauge("y", "", 1, true)))
	if r.fams["y"].byTarget[2] != nil {
		t.Errorf("b's entry for y should be gone")
	}
	targets = []string{a}
	round(4, body(gauge("y", "", 1, false), histogram("x", "", false)))
	if _, ok := r.slots[2]; ok {
		t.Errorf("slots of the target that left are kept")
	}
	if e := r.fams["y"].byTarget[1]; e == nil || e.last != r.round {
		t.Errorf("a's entry for y not refreshed through its slot: %+v", e)
	}
}
