package convert

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/fuzzcorpus"
	"github.com/sglangdynamo/sglangdynamoreceiver/internal/promtext"
)

func keepOurs(name []byte) bool {
	return bytes.HasPrefix(name, []byte("sglang:")) || bytes.HasPrefix(name, []byte("dynamo_"))
}

// keepOursRestored is keepOurs for a Converter that restores `sglang_`
// families (RestoreSGLangName), as the receiver's default filter is.
func keepOursRestored(name []byte) bool {
	return keepOurs(name) || bytes.HasPrefix(name, []byte("sglang_"))
}

func convert(t testing.TB, tg *Converter, body string, f promtext.Format, now pcommon.Timestamp) (pmetric.MetricSlice, error) {
	ms := pmetric.NewMetricSlice()
	_, err := tg.Convert([]byte(body), f, now, ms)
	return ms, err
}

// TestInvalidHistogramsAndSummaries: what the specifications call invalid
// fails the body, naming the metric and series.
func TestInvalidHistogramsAndSummaries(t *testing.T) {
	for _, tc := range []struct{ name, body, reason string }{
		{"no +Inf", "# TYPE sglang:h histogram\nsglang:h_bucket{le=\"1\"} 1\nsglang:h_count 1\n", "without a +Inf bucket"},
		{"only sum and count", "# TYPE sglang:h histogram\nsglang:h_sum 1\nsglang:h_count 1\n", "without a +Inf bucket"},
		{"decreasing", "# TYPE sglang:h histogram\nsglang:h_bucket{le=\"1\"} 3\nsglang:h_bucket{le=\"+Inf\"} 2\n", "less than the bucket below"},
		{"NaN bucket", "# TYPE sglang:h histogram\nsglang:h_bucket{le=\"1\"} NaN\nsglang:h_bucket{le=\"+Inf\"} 2\n", "not a number"},
		{"count mismatch", "# TYPE sglang:h histogram\nsglang:h_bucket{le=\"+Inf\"} 2\nsglang:h_count 3\n", "_count 3 differs from the +Inf bucket 2"},
		{"summary without count", "# TYPE sglang:s summary\nsglang:s{quantile=\"0.5\",m=\"x\"} 1\nsglang:s_sum 2\n", "summary without _count"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := New(Options{Keep: keepOurs})
			ms, err := convert(t, tg, tc.body, promtext.FormatText, 1)
			if err == nil || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("got %v, want %q", err, tc.reason)
			}
			if ms.Len() != 0 {
				t.Fatalf("a failed first body must emit nothing, got %d metrics", ms.Len())
			}
		})
	}
}

func TestHistogramWithoutCountTakesInfBucket(t *testing.T) {
	tg := New(Options{Keep: keepOurs})
	ms, err := convert(t, tg, "# TYPE sglang:h histogram\nsglang:h_bucket{le=\"1\"} 1\nsglang:h_bucket{le=\"+Inf\"} 4\n", promtext.FormatText, 1)
	if err != nil {
		t.Fatal(err)
	}
	dp := ms.At(0).Histogram().DataPoints().At(0)
	if dp.Count() != 4 || dp.HasSum() || dp.BucketCounts().Len() != 2 || dp.BucketCounts().At(1) != 3 {
		t.Fatalf("count %d hasSum %v buckets %v", dp.Count(), dp.HasSum(), dp.BucketCounts().AsRaw())
	}
}

// TestTextCreatedGauge: prometheus_client's text format prints _created as
// a gauge family after its counter; it dates the counter instead.
func TestTextCreatedGauge(t *testing.T) {
	tg := New(Options{Keep: keepOurs})
	body := "# TYPE dynamo_c_total counter\ndynamo_c_total{m=\"a\"} 3\n# TYPE dynamo_c_created gauge\ndynamo_c_created{m=\"a\"} 1764000000.5\n"
	ms, err := convert(t, tg, body, promtext.FormatText, 1)
	if err != nil {
		t.Fatal(err)
	}
	if ms.Len() != 1 || ms.At(0).Name() != "dynamo_c_total" {
		t.Fatalf("want only dynamo_c_total, got %d metrics", ms.Len())
	}
	if got := ms.At(0).Sum().DataPoints().At(0).StartTimestamp(); got != 1764000000500000000 {
		t.Fatalf("start %d", got)
	}
}

// TestTypeChangeReplacesSeries: a family whose TYPE changes between bodies
// is a new metric; the old one is marked stale.
func TestTypeChangeReplacesSeries(t *testing.T) {
	tg := New(Options{Keep: keepOurs})
	if _, err := convert(t, tg, "# TYPE dynamo_x counter\ndynamo_x 1\n", promtext.FormatText, 1); err != nil {
		t.Fatal(err)
	}
	ms, err := convert(t, tg, "# TYPE dynamo_x gauge\ndynamo_x 1\n", promtext.FormatText, 2)
	if err != nil {
		t.Fatal(err)
	}
	var gauge, staleSum bool
	for i := 0; i < ms.Len(); i++ {
		switch m := ms.At(i); m.Type() {
		case pmetric.MetricTypeGauge:
			gauge = true
		case pmetric.MetricTypeSum:
			staleSum = m.Sum().DataPoints().At(0).Flags().NoRecordedValue()
		}
	}
	if !gauge || !staleSum || tg.LiveSeries() != 1 {
		t.Fatalf("gauge %v staleSum %v live %d", gauge, staleSum, tg.LiveSeries())
	}
}

// FuzzConvert feeds arbitrary bodies through parse and conversion twice
// (so that state carried between bodies is exercised) and checks the
// invariants of what is emitted.
// With dict set, both bodies are read through fuzzcorpus.Expand.
func FuzzConvert(f *testing.F) {
	seeds := fuzzcorpus.Seeds("../..", 8)
	for i, b := range seeds {
		om := bytes.HasSuffix(b, []byte("# EOF\n"))
		f.Add(b, b, om, false) // the steady state: every line known
		f.Add(b, seeds[(i+1)%len(seeds)], om, i%2 == 0)
	}
	f.Fuzz(func(t *testing.T, first, second []byte, om, dict bool) {
		if dict {
			first, second = fuzzcorpus.Expand(first), fuzzcorpus.Expand(second)
		}
		format := promtext.FormatText
		if om {
			format = promtext.FormatOpenMetrics
		}
		// Once with names verbatim, once restoring `sglang_` families as
		// the receiver does by default.
		for _, opts := range []Options{
			{Keep: keepOurs, Limits: promtext.Limits{MaxSamples: 10000}},
			{Keep: keepOursRestored, FamilyName: RestoreSGLangName, Limits: promtext.Limits{MaxSamples: 10000}},
		} {
			fuzzConvert(t, New(opts), first, second, format)
		}
	})
}

// fuzzConvert converts first, second and first again with tg and checks
// what comes out.
func fuzzConvert(t *testing.T, tg *Converter, first, second []byte, format promtext.Format) {
	bodies := [][]byte{first, second, first}
	errs := make([]error, len(bodies))
	lives := make([][]string, len(bodies))
	for i, body := range bodies {
		ms := pmetric.NewMetricSlice()
		_, err := tg.Convert(body, format, pcommon.Timestamp(i+1), ms)
		errs[i], lives[i] = err, livePoints(ms)
		// What the state remembers between bodies (the line cache, the
		// expected lines) must not change what a body means.
		for j := range i {
			if !bytes.Equal(bodies[j], body) {
				continue
			}
			if (err == nil) != (errs[j] == nil) {
				t.Fatalf("the same body gave %v, then %v", errs[j], err)
			}
			if err == nil && !slices.Equal(lives[j], lives[i]) {
				t.Fatalf("the same body gave\n%v\nthen\n%v", lives[j], lives[i])
			}
		}
		if err != nil {
			if tg.LiveSeries() != 0 {
				t.Fatal("a failed body must leave no state")
			}
			continue
		}
		checkInvariants(t, ms)
	}
}

// livePoints lists the live points of ms as sorted text: name, type,
// attributes and values, without times.
func livePoints(ms pmetric.MetricSlice) []string {
	var out []string
	add := func(m pmetric.Metric, attrs pcommon.Map, flags pmetric.DataPointFlags, v ...any) {
		if !flags.NoRecordedValue() {
			out = append(out, fmt.Sprint(m.Name(), " ", m.Type(), " ", attrs.AsRaw(), " ", v))
		}
	}
	for i := 0; i < ms.Len(); i++ {
		m := ms.At(i)
		switch m.Type() {
		case pmetric.MetricTypeGauge, pmetric.MetricTypeSum:
			var dps pmetric.NumberDataPointSlice
			if m.Type() == pmetric.MetricTypeSum {
				dps = m.Sum().DataPoints()
			} else {
				dps = m.Gauge().DataPoints()
			}
			for j := 0; j < dps.Len(); j++ {
				dp := dps.At(j)
				add(m, dp.Attributes(), dp.Flags(), dp.DoubleValue())
			}
		case pmetric.MetricTypeHistogram:
			dps := m.Histogram().DataPoints()
			for j := 0; j < dps.Len(); j++ {
				dp := dps.At(j)
				add(m, dp.Attributes(), dp.Flags(), dp.Count(), dp.Sum(), dp.ExplicitBounds().AsRaw(), dp.BucketCounts().AsRaw())
			}
		case pmetric.MetricTypeSummary:
			dps := m.Summary().DataPoints()
			for j := 0; j < dps.Len(); j++ {
				dp := dps.At(j)
				var qs []float64
				for k := 0; k < dp.QuantileValues().Len(); k++ {
					qs = append(qs, dp.QuantileValues().At(k).Quantile(), dp.QuantileValues().At(k).Value())
				}
				add(m, dp.Attributes(), dp.Flags(), dp.Count(), dp.Sum(), qs)
			}
		}
	}
	slices.Sort(out)
	return out
}

func checkInvariants(t *testing.T, ms pmetric.MetricSlice) {
	for i := 0; i < ms.Len(); i++ {
		m := ms.At(i)
		if !keepOurs([]byte(m.Name())) {
			t.Fatalf("metric %q outside the kept namespaces", m.Name())
		}
		if m.Type() != pmetric.MetricTypeHistogram {
			continue
		}
		dps := m.Histogram().DataPoints()
		for j := 0; j < dps.Len(); j++ {
			dp := dps.At(j)
			if dp.Flags().NoRecordedValue() {
				continue
			}
			if dp.BucketCounts().Len() != dp.ExplicitBounds().Len()+1 {
				t.Fatalf("%s: %d counts for %d bounds", m.Name(), dp.BucketCounts().Len(), dp.ExplicitBounds().Len())
			}
			var total uint64
			for _, c := range dp.BucketCounts().AsRaw() {
				total += c
			}
			if total != dp.Count() {
				t.Fatalf("%s: buckets sum to %d, count %d", m.Name(), total, dp.Count())
			}
		}
	}
}

// TestKnownLinesFollowTheirFamily: a line whose text was seen before is
// resolved from the line cache; a changed HELP or a label value holding
// braces must still come out right.
func TestKnownLinesFollowTheirFamily(t *testing.T) {
	tg := New(Options{Keep: keepOurs})
	body := "# HELP sglang:g Old.\n# TYPE sglang:g gauge\nsglang:g{v=\"a}b\\\"c\"} 1\n"
	if _, err := convert(t, tg, body, promtext.FormatText, 1); err != nil {
		t.Fatal(err)
	}
	ms, err := convert(t, tg, strings.Replace(body, "Old.", "New.", 1), promtext.FormatText, 2)
	if err != nil {
		t.Fatal(err)
	}
	m := ms.At(0)
	v, _ := m.Gauge().DataPoints().At(0).Attributes().Get("v")
	if m.Description() != "New." || v.Str() != "a}b\"c" {
		t.Fatalf("description %q, v %q", m.Description(), v.Str())
	}
}

// TestLineCacheFollowsLiveSeries: under label churn (prometheus_client's
// pid label changes with every worker restart) the line cache and its text
// arena shrink with the series, and a text cached under two family types
// resolves by the type it is read under.
func TestLineCacheFollowsLiveSeries(t *testing.T) {
	tg := New(Options{Keep: keepOurs})
	for i := range 200 {
		var b strings.Builder
		b.WriteString("# TYPE sglang:g gauge\n")
		for j := range 50 {
			fmt.Fprintf(&b, "sglang:g{pid=\"%d\",rank=\"%d\"} %d\n", i, j, j)
		}
		ms, err := convert(t, tg, b.String(), promtext.FormatText, pcommon.Timestamp(i+1))
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && ms.At(0).Gauge().DataPoints().Len() != 100 {
			t.Fatalf("body %d: %d points, want 50 live and 50 stale", i, ms.At(0).Gauge().DataPoints().Len())
		}
		sz := tg.lines.size()
		if sz.live != 50 || sz.hashes != 50 || tg.LiveSeries() != 50 {
			t.Fatalf("body %d: %d live entries, %d hashes, %d series; want 50", i, sz.live, sz.hashes, tg.LiveSeries())
		}
		if liveText := sz.text - sz.deadText; sz.text > 2*liveText+4096 || sz.slots > 100 {
			t.Fatalf("body %d: text arena %d bytes for %d live, %d entries", i, sz.text, liveText, sz.slots)
		}
	}

	// The same text as a gauge, then as a counter's sample, then as a gauge
	// again: each reading takes its own family's meaning.
	tg = New(Options{Keep: keepOurs})
	for i, typ := range []string{"gauge", "counter", "gauge"} {
		ms, err := convert(t, tg, "# TYPE sglang:x "+typ+"\nsglang:x 7\n", promtext.FormatText, pcommon.Timestamp(i+1))
		if err != nil {
			t.Fatal(err)
		}
		var got pmetric.MetricType
		for j := 0; j < ms.Len(); j++ {
			m := ms.At(j)
			switch m.Type() {
			case pmetric.MetricTypeGauge:
				if !m.Gauge().DataPoints().At(0).Flags().NoRecordedValue() {
					got = m.Type()
				}
			case pmetric.MetricTypeSum:
				if !m.Sum().DataPoints().At(0).Flags().NoRecordedValue() {
					got = m.Type()
				}
			}
		}
		want := pmetric.MetricTypeGauge
		if typ == "counter" {
			want = pmetric.MetricTypeSum
		}
		if got != want {
			t.Fatalf("body %d (%s): live point of type %v", i, typ, got)
		}
	}
}

// TestSummarySumIsThisBodys: a summary series whose body has no _sum gets no
// sum, not the one an earlier body gave it (found by FuzzConvert).
func TestSummarySumIsThisBodys(t *testing.T) {
	with := "# TYPE sglang:s summary\nsglang:s_count 1\nsglang:s_sum 1024.5\n"
	without := "# TYPE sglang:s summary\nsglang:s_count 1\n"
	tg := New(Options{Keep: keepOurs})
	for i, body := range []string{without, with, without} {
		ms, err := convert(t, tg, body, promtext.FormatText, pcommon.Timestamp(i+1))
		if err != nil {
			t.Fatal(err)
		}
		want := 0.0
		if body == with {
			want = 1024.5
		}
		if got := ms.At(0).Summary().DataPoints().At(0).Sum(); got != want {
			t.Errorf("body %d: sum %g, want %g", i, got, want)
		}
	}
}

// A vanished histogram's or summary's marker names every series of the
// point: its bounds (zero counts) and its sum, or its quantiles, so that an
// exporter writing one Prometheus series per bucket or quantile (remote
// write) marks each of them stale.
func TestStaleMarkersNameEverySeries(t *testing.T) {
	tg := New(Options{Keep: func([]byte) bool { return true }})
	const body = `# TYPE h histogram
h_bucket{le="0.5"} 1
h_bucket{le="1.0"} 2
h_bucket{le="+Inf"} 3
h_sum 2.5
h_count 3
# TYPE s summary
s{quantile="0.5"} 0.25
s{quantile="0.99"} 0.75
s_sum 2
s_count 4
`
	if _, err := convert(t, tg, body, promtext.FormatText, 1e9); err != nil {
		t.Fatal(err)
	}
	ms, err := convert(t, tg, "# TYPE g gauge\ng 1\n", promtext.FormatText, 2e9)
	if err != nil {
		t.Fatal(err)
	}
	var checked int
	for _, m := range ms.All() {
		switch m.Type() {
		case pmetric.MetricTypeHistogram:
			dp := m.Histogram().DataPoints().At(0)
			if !dp.Flags().NoRecordedValue() || !slices.Equal(dp.ExplicitBounds().AsRaw(), []float64{0.5, 1}) ||
				!slices.Equal(dp.BucketCounts().AsRaw(), []uint64{0, 0, 0}) || !dp.HasSum() {
				t.Errorf("histogram marker: stale %t bounds %v counts %v sum %t", dp.Flags().NoRecordedValue(),
					dp.ExplicitBounds().AsRaw(), dp.BucketCounts().AsRaw(), dp.HasSum())
			}
			checked++
		case pmetric.MetricTypeSummary:
			dp := m.Summary().DataPoints().At(0)
			var qs []float64
			for _, q := range dp.QuantileValues().All() {
				qs = append(qs, q.Quantile())
			}
			if !dp.Flags().NoRecordedValue() || !slices.Equal(qs, []float64{0.5, 0.99}) {
				t.Errorf("summary marker: stale %t quantiles %v", dp.Flags().NoRecordedValue(), qs)
			}
			checked++
		}
	}
	if checked != 2 {
		t.Fatalf("%d markers checked, want the histogram's and the summary's", checked)
	}
}
