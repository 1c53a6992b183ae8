package sglangdynamoreceiver

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// The real prometheus_client, in multiprocess mode with forked scheduler
// ranks as SGLang runs it, serves /metrics over HTTP; the receiver scrapes
// it in both formats and every sglang: family is checked against what the
// generator recorded: type, series and values.

const systemPython = "/usr/bin/python3"

type expectFile struct {
	Families []struct {
		Name   string `json:"name"`
		Type   string `json:"type"`
		Series []struct {
			Labels  map[string]string `json:"labels"`
			Value   json.RawMessage   `json:"value"`
			Count   float64           `json:"count"`
			Sum     float64           `json:"sum"`
			Buckets [][2]any          `json:"buckets"`
		} `json:"series"`
	} `json:"families"`
	Filtered []string `json:"filtered_families"`
}

func startPromClient(t *testing.T, ranks int) (string, expectFile) {
	if err := exec.Command(systemPython, "-c", "import prometheus_client").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("python3-prometheus-client is required in CI: %v", err)
		}
		t.Skipf("Debian's python3-prometheus-client is not installed: %v", err)
	}
	expectPath := filepath.Join(t.TempDir(), "expect.json")
	cmd := exec.Command(systemPython, "testdata/promclient/sglang_multiprocess.py",
		"--serve", "0", "--ranks", strconv.Itoa(ranks), "--expect", expectPath)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
	}()
	var addr string
	select {
	case l := <-line:
		addr = strings.TrimPrefix(l, "listening on ")
	case <-time.After(30 * time.Second):
		t.Fatal("prometheus_client server did not start")
	}
	raw, err := os.ReadFile(expectPath)
	require.NoError(t, err)
	var exp expectFile
	require.NoError(t, json.Unmarshal(raw, &exp))
	require.NotEmpty(t, exp.Families)
	return "http://" + addr + "/metrics", exp
}

func TestRealPrometheusClientMultiprocess(t *testing.T) {
	url, exp := startPromClient(t, 4)
	// prometheus_client ignores q-values: it answers OpenMetrics whenever
	// the Accept header names it, so the receiver's default header gets
	// OpenMetrics. A user can force either format with a header of their own.
	for _, tt := range []struct{ name, accept string }{
		{"default Accept (OpenMetrics)", ""},
		{"text forced", "text/plain; version=0.0.4"},
		{"openmetrics forced", "application/openmetrics-text; version=1.0.0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tc := targetAt(url)
			if tt.accept != "" {
				tc.Headers = configopaque.MapList{{Name: "Accept", Value: configopaque.String(tt.accept)}}
			}
			s := startScraper(t, engineOnly(tc))
			md := scrapeOK(t, s)
			got := byName(md)
			assert.Equal(t, 1.0, find(md, "", "up").value)

			for _, f := range exp.Filtered {
				assert.NotContains(t, got, f, "family outside the sglang: namespace")
			}
			for _, fam := range exp.Families {
				m, ok := got[fam.Name]
				if !assert.True(t, ok, "family %s missing", fam.Name) {
					continue
				}
				checkFamily(t, fam.Name, fam.Type, m, fam.Series)
			}
			assert.Len(t, got, len(exp.Families)+4, "the expected families plus the four health gauges")
		})
	}
}

func checkFamily(t *testing.T, name, typ string, m pmetric.Metric, series []struct {
	Labels  map[string]string `json:"labels"`
	Value   json.RawMessage   `json:"value"`
	Count   float64           `json:"count"`
	Sum     float64           `json:"sum"`
	Buckets [][2]any          `json:"buckets"`
},
) {
	want := map[string]pmetric.MetricType{"gauge": pmetric.MetricTypeGauge, "counter": pmetric.MetricTypeSum, "histogram": pmetric.MetricTypeHistogram, "summary": pmetric.MetricTypeSummary}[typ]
	require.Equal(t, want, m.Type(), name)
	points := map[string]any{}
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		for i := 0; i < m.Gauge().DataPoints().Len(); i++ {
			dp := m.Gauge().DataPoints().At(i)
			points[labelKey(dp.Attributes())] = dp.DoubleValue()
		}
	case pmetric.MetricTypeSum:
		assert.True(t, m.Sum().IsMonotonic(), name)
		assert.Equal(t, pmetric.AggregationTemporalityCumulative, m.Sum().AggregationTemporality(), name)
		for i := 0; i < m.Sum().DataPoints().Len(); i++ {
			dp := m.Sum().DataPoints().At(i)
			points[labelKey(dp.Attributes())] = dp.DoubleValue()
		}
	case pmetric.MetricTypeHistogram:
		for i := 0; i < m.Histogram().DataPoints().Len(); i++ {
			dp := m.Histogram().DataPoints().At(i)
			points[labelKey(dp.Attributes())] = dp
		}
	case pmetric.MetricTypeSummary:
		for i := 0; i < m.Summary().DataPoints().Len(); i++ {
			dp := m.Summary().DataPoints().At(i)
			points[labelKey(dp.Attributes())] = dp
		}
	}
	require.Len(t, points, len(series), "%s: series count", name)
	for _, s := range series {
		key := labelKey(mapOf(s.Labels))
		p, ok := points[key]
		if !assert.True(t, ok, "%s%s missing", name, key) {
			continue
		}
		switch v := p.(type) {
		case float64:
			assertNumber(t, name+key, s.Value, v)
		case pmetric.HistogramDataPoint:
			assert.Equal(t, uint64(s.Count), v.Count(), name+key)
			assert.InDelta(t, s.Sum, v.Sum(), 1e-9, name+key)
			assertBuckets(t, name+key, s.Buckets, v)
		case pmetric.SummaryDataPoint:
			assert.Equal(t, uint64(s.Count), v.Count(), name+key)
			assert.InDelta(t, s.Sum, v.Sum(), 1e-9, name+key)
		}
	}
}

func assertNumber(t *testing.T, what string, raw json.RawMessage, got float64) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "NaN":
			assert.True(t, math.IsNaN(got), "%s: want NaN, got %v", what, got)
		case "+Inf":
			assert.True(t, math.IsInf(got, 1), "%s: want +Inf, got %v", what, got)
		default:
			t.Errorf("%s: unknown expectation %q", what, s)
		}
		return
	}
	var f float64
	require.NoError(t, json.Unmarshal(raw, &f))
	assert.Equal(t, f, got, what)
}

// assertBuckets compares cumulative (le, count) pairs with the per-bucket
// counts and explicit bounds of a pdata histogram.
func assertBuckets(t *testing.T, what string, want [][2]any, dp pmetric.HistogramDataPoint) {
	bounds := dp.ExplicitBounds().AsRaw()
	counts := dp.BucketCounts().AsRaw()
	require.Len(t, counts, len(want), what)
	require.Len(t, bounds, len(want)-1, what)
	cum := uint64(0)
	for i, w := range want {
		cum += counts[i]
		assert.Equal(t, uint64(w[1].(float64)), cum, "%s bucket %v", what, w[0])
		if i < len(bounds) {
			assert.Equal(t, w[0].(float64), bounds[i], "%s bound %d", what, i)
		}
	}
}

func byName(md pmetric.Metrics) map[string]pmetric.Metric {
	out := map[string]pmetric.Metric{}
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	for i := 0; i < ms.Len(); i++ {
		out[ms.At(i).Name()] = ms.At(i)
	}
	return out
}

func mapOf(labels map[string]string) pcommon.Map {
	m := pcommon.NewMap()
	for k, v := range labels {
		if v != "" {
			m.PutStr(k, v)
		}
	}
	return m
}

func labelKey(m pcommon.Map) string {
	var parts []string
	for k, v := range m.All() {
		parts = append(parts, fmt.Sprintf("%s=%q", k, v.Str()))
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}
