package otelview

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/metadata"
)

// goldenCases are real prometheus_client and Dynamo bodies. The bodies are
// read where the repository keeps them; only this package's goldens are
// written.
var goldenCases = []struct {
	name, body, service string
	cfg                 Config
}{
	// prometheus_client 0.16 multiprocess: the three SGLang GenAI sources,
	// and 2 DP groups x 2 TP ranks of scheduler families.
	{"genai_promclient", "testdata/genai_promclient.txt", "sglang", Config{Mode: Instead}},
	{"genai_promclient_beside", "testdata/genai_promclient.txt", "sglang", Config{Mode: Beside, ProviderName: "acme", OperationName: "text_completion"}},
	// The repository's SGLang-like TP=2 capture (pid labels, NaN, summary).
	{"sglang_ranks2", "../../testdata/promclient/sglang_multiprocess_ranks2.txt", "sglang", Config{Mode: Instead}},
	// The Dynamo docs' real frontend and SGLang worker captures.
	{"dynamo_frontend", "../../e2e/testdata/dynamo_frontend.txt", "dynamo-frontend", Config{Mode: Instead}},
	{"dynamo_worker", "../../e2e/testdata/dynamo_worker.txt", "dynamo-backend", Config{Mode: Instead}},
}

// TestGolden applies the view to one scrape of each body and compares the
// whole output, timestamps and start times included.
func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := New(tc.cfg)
			require.NoError(t, err)
			md := newTarget(tc.service, 30000).round(t, readFile(t, tc.body), 1_000_000)
			v.Apply(md)
			path := filepath.Join("testdata", tc.name, "expected.yaml")
			if *update {
				golden.WriteMetrics(t, path, md)
			}
			want, err := golden.ReadMetrics(path)
			require.NoError(t, err)
			require.Equal(t, maskNaN(want), maskNaN(md), "NaN points")
			require.NoError(t, pmetrictest.CompareMetrics(want, md,
				pmetrictest.IgnoreMetricDataPointsOrder(), pmetrictest.IgnoreMetricsOrder()))
		})
	}
}

// TestInsteadKeepsOnlyHealth: in Instead mode the verbatim scope holds the
// health series and nothing else, and every other family is in the view.
func TestInsteadKeepsOnlyHealth(t *testing.T) {
	body := readFile(t, "testdata/genai_promclient.txt")
	before := newTarget("sglang", 30000).round(t, body, 1)
	md := newTarget("sglang", 30000).round(t, body, 1)
	v, err := New(Config{Mode: Instead})
	require.NoError(t, err)
	v.Apply(md)

	sms := md.ResourceMetrics().At(0).ScopeMetrics()
	require.Equal(t, 2, sms.Len())
	verbatim, view := sms.At(0), sms.At(1)
	require.Equal(t, metadata.ScopeName, verbatim.Scope().Name())
	require.Equal(t, 1, verbatim.Metrics().Len())
	assert.Equal(t, "up", verbatim.Metrics().At(0).Name())
	assert.Equal(t, ScopeName, view.Scope().Name())
	assert.Equal(t, "test", view.Scope().Version())
	assert.Equal(t, "https://opentelemetry.io/schemas/"+SemconvVersion, view.SchemaUrl())

	// One view metric per source family (less `up`), each named for the view.
	src := before.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	require.Equal(t, src.Len()-1, view.Metrics().Len())
	for i := 0; i < src.Len(); i++ {
		name := src.At(i).Name()
		if name == "up" {
			continue
		}
		want := Resolve(name).Name
		if g, ok := genAIByName[name]; ok {
			want = g.Name()
		}
		_, ok := findMetric(md, ScopeName, want)
		assert.Truef(t, ok, "%s: no %s in the view", name, want)
	}
}

// TestBesideLeavesVerbatimUntouched: in Beside mode the verbatim scope is
// exactly what it was.
func TestBesideLeavesVerbatimUntouched(t *testing.T) {
	for _, tc := range goldenCases {
		body := readFile(t, tc.body)
		want := newTarget(tc.service, 30000).round(t, body, 1)
		md := newTarget(tc.service, 30000).round(t, body, 1)
		v, err := New(Config{Mode: Beside})
		require.NoError(t, err)
		v.Apply(md)
		sms := md.ResourceMetrics().At(0).ScopeMetrics()
		require.Equal(t, 2, sms.Len(), tc.name)
		sms.RemoveIf(func(sm pmetric.ScopeMetrics) bool { return sm.Scope().Name() == ScopeName })
		var pm pmetric.ProtoMarshaler
		wantBytes, err := pm.MarshalMetrics(want)
		require.NoError(t, err)
		gotBytes, err := pm.MarshalMetrics(md)
		require.NoError(t, err)
		require.Equal(t, wantBytes, gotBytes, "%s: the verbatim scope changed", tc.name)
	}
}

// TestGenAIAttributes checks the conventions' attributes on the SGLang
// sources, the source buckets kept, and the Dynamo frontend's `model`.
func TestGenAIAttributes(t *testing.T) {
	v, err := New(Config{})
	require.NoError(t, err)
	md := newTarget("sglang", 30000).round(t, readFile(t, "testdata/genai_promclient.txt"), 1)
	v.Apply(md)
	for _, name := range []string{"gen_ai.server.time_to_first_token", "gen_ai.server.time_per_output_token", "gen_ai.server.request.duration"} {
		m := metricNamed(t, md, ScopeName, name)
		assert.Equal(t, "s", m.Unit(), name)
		require.Equal(t, pmetric.MetricTypeHistogram, m.Type(), name)
		assert.Equal(t, pmetric.AggregationTemporalityCumulative, m.Histogram().AggregationTemporality())
		dps := m.Histogram().DataPoints()
		require.Equal(t, 2, dps.Len(), name)
		for i := 0; i < dps.Len(); i++ {
			a := attrs(dps.At(i).Attributes())
			assert.Equal(t, "sglang", a["gen_ai.provider.name"], name)
			assert.Equal(t, "chat", a["gen_ai.operation.name"], name)
			assert.Equal(t, "Qwen/Qwen3-0.6B", a["gen_ai.request.model"], name)
			assert.Equal(t, "10.0.0.5", a["server.address"], name)
			assert.Equal(t, int64(30000), a["server.port"], name)
			assert.Contains(t, a, "is_streaming", name)
			assert.NotContains(t, a, "model_name", name)
			assert.NotContains(t, a, "error.type", name)
		}
	}
	tpot := metricNamed(t, md, ScopeName, "gen_ai.server.time_per_output_token")
	assert.Equal(t, []float64{0.002, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 1.0},
		tpot.Histogram().DataPoints().At(0).ExplicitBounds().AsRaw(), "the source's bounds")
	_, itlIsGenAI := findMetric(md, ScopeName, "sglang.inter_token_latency")
	assert.True(t, itlIsGenAI, "inter-token latency stays an SGLang metric, not TPOT")

	fe := newTarget("dynamo-frontend", 8000).round(t, readFile(t, "../../e2e/testdata/dynamo_frontend.txt"), 1)
	v.Apply(fe)
	for _, name := range []string{"gen_ai.server.time_to_first_token", "gen_ai.server.request.duration"} {
		dp := metricNamed(t, fe, ScopeName, name).Histogram().DataPoints().At(0)
		a := attrs(dp.Attributes())
		assert.Equal(t, "dynamo", a["gen_ai.provider.name"], name)
		assert.Equal(t, "qwen/qwen3-0.6b", a["gen_ai.request.model"], name)
		assert.NotContains(t, a, "model", name)
	}
	_, ok := findMetric(fe, ScopeName, "gen_ai.server.time_per_output_token")
	assert.False(t, ok, "Dynamo has no per-request TPOT: none is made up")
}

// TestStalenessPassesThrough: a failed scrape's markers reach the view, so
// that the view's series end when the verbatim ones do.
func TestStalenessPassesThrough(t *testing.T) {
	v, err := New(Config{Mode: Instead})
	require.NoError(t, err)
	tg := newTarget("sglang", 30000)
	v.Apply(tg.round(t, readFile(t, "testdata/genai_promclient.txt"), 1))
	md := tg.round(t, nil, 2) // every series vanished
	v.Apply(md)
	view := md.ResourceMetrics().At(0).ScopeMetrics().At(1).Metrics()
	require.Positive(t, view.Len())
	for i := 0; i < view.Len(); i++ {
		m := view.At(i)
		forEachFlags(m, func(stale bool) { assert.Truef(t, stale, "%s: a live point after the source vanished", m.Name()) })
	}
	assert.Empty(t, v.comb.series, "the folded series' state is gone with them")
}

// nanMarker stands in for NaN on both sides of a comparison, since
// pmetrictest compares with != and NaN never equals itself.
const nanMarker = -1.25e-300

func maskNaN(md pmetric.Metrics) (n int) {
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		for j := 0; j < rms.At(i).ScopeMetrics().Len(); j++ {
			ms := rms.At(i).ScopeMetrics().At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				var dps pmetric.NumberDataPointSlice
				switch m := ms.At(k); m.Type() {
				case pmetric.MetricTypeGauge:
					dps = m.Gauge().DataPoints()
				case pmetric.MetricTypeSum:
					dps = m.Sum().DataPoints()
				default:
					continue
				}
				for l := 0; l < dps.Len(); l++ {
					if dp := dps.At(l); dp.ValueType() == pmetric.NumberDataPointValueTypeDouble && math.IsNaN(dp.DoubleValue()) {
						dp.SetDoubleValue(nanMarker)
						n++
					}
				}
			}
		}
	}
	return n
}

func forEachFlags(m pmetric.Metric, f func(stale bool)) {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		for i := 0; i < m.Gauge().DataPoints().Len(); i++ {
			f(m.Gauge().DataPoints().At(i).Flags().NoRecordedValue())
		}
	case pmetric.MetricTypeSum:
		for i := 0; i < m.Sum().DataPoints().Len(); i++ {
			f(m.Sum().DataPoints().At(i).Flags().NoRecordedValue())
		}
	case pmetric.MetricTypeHistogram:
		for i := 0; i < m.Histogram().DataPoints().Len(); i++ {
			f(m.Histogram().DataPoints().At(i).Flags().NoRecordedValue())
		}
	case pmetric.MetricTypeSummary:
		for i := 0; i < m.Summary().DataPoints().Len(); i++ {
			f(m.Summary().DataPoints().At(i).Flags().NoRecordedValue())
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg Config
		err string
	}{
		{Config{}, ""},
		{Config{Mode: Beside, ProviderName: "sglang", OperationName: "chat"}, ""},
		{Config{Mode: Instead}, ""},
		{Config{Mode: "both"}, "`mode` is \"both\": use `beside`"},
		{Config{ProviderName: "my engine"}, "`provider_name` is \"my engine\""},
		{Config{OperationName: "chat\n"}, "`operation_name`"},
	} {
		err := tc.cfg.Validate()
		if tc.err == "" {
			assert.NoError(t, err)
			continue
		}
		if assert.Error(t, err) {
			assert.True(t, strings.Contains(err.Error(), tc.err), err.Error())
		}
		_, err = New(tc.cfg)
		assert.Error(t, err)
	}
}

// BenchmarkView is one round of the view over SGLang at TP=8 with every
// scheduler exporting (bench/testdata/sglang_tp8.txt, ~2,800 samples), as
// converted by the receiver. The copy of the round the view rewrites is
// made outside the timer.
func BenchmarkView(b *testing.B) {
	body := readFile(b, "../../bench/testdata/sglang_tp8.txt")
	for _, mode := range []Mode{Beside, Instead} {
		b.Run(string(mode), func(b *testing.B) {
			tg := newTarget("sglang", 30000)
			v, err := New(Config{Mode: mode})
			require.NoError(b, err)
			src := tg.round(b, body, 1)
			v.Apply(src)
			src = tg.round(b, body, 2)
			md := pmetric.NewMetrics()
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				md = pmetric.NewMetrics()
				src.CopyTo(md)
				b.StartTimer()
				v.Apply(md)
			}
			b.ReportMetric(float64(md.DataPointCount()), "points/round")
		})
	}
}
