//go:build e2e

package e2e

import (
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/metadata"
)

// TestOTLP exports over OTLP/HTTP to a server in the test and checks types,
// temporality, start times, attributes, resource and scope.
func TestOTLP(t *testing.T) {
	engineBody := readFixture(t, "sglang_engine_promclient.txt")
	engine := serveFixture(t, staticBody(engineBody))
	worker := serveFixture(t, staticBody(readFixture(t, "dynamo_worker.txt")))
	sink := startOTLPSink(t)

	startCollector(t, collectorOptions{
		Receiver: receiverYAML("500ms", workerYAML(engine.URL(), worker.URL(),
			map[string]string{"worker": "w0", "cluster": "e2e"})),
		OTLPEndpoint: sink.URL,
	})

	// Wait for at least three scrapes of the engine to arrive (so that at
	// least two carry the same series twice).
	waitFor(t, 20*time.Second, "three engine scrapes over OTLP", func() error {
		times := map[uint64]bool{}
		for _, p := range sink.points() {
			if p.Instance == engine.Addr() && p.Metric.Name() == "sglang:prompt_tokens_total" {
				times[p.Time] = true
			}
		}
		if len(times) < 3 {
			return fmt.Errorf("%d engine scrapes so far", len(times))
		}
		return nil
	})
	points := sink.points()

	// Resource and scope of each target.
	for _, tg := range []struct {
		srv     *fixtureServer
		service string
	}{{engine, "sglang"}, {worker, "dynamo-backend"}} {
		var res map[string]any
		var scope string
		for _, p := range points {
			if p.Instance == tg.srv.Addr() {
				res, scope = p.Resource, p.Scope
				break
			}
		}
		if res == nil {
			t.Fatalf("no points for %s", tg.srv.Addr())
		}
		want := map[string]any{
			"service.name":        tg.service,
			"service.instance.id": tg.srv.Addr(),
			"server.address":      "127.0.0.1",
			"server.port":         int64(tg.srv.Port()),
			"url.scheme":          "http",
			"worker":              "w0",
			"cluster":             "e2e",
		}
		for k, v := range want {
			if res[k] != v {
				t.Errorf("%s: resource %s = %#v, want %#v (resource %v)", tg.srv.Addr(), k, res[k], v, res)
			}
		}
		if scope != metadata.ScopeName {
			t.Errorf("%s: scope %q, want %q", tg.srv.Addr(), scope, metadata.ScopeName)
		}
	}

	// Types and temporality, by source TYPE.
	wantType := map[string]pmetric.MetricType{
		"sglang:prompt_tokens_total":                pmetric.MetricTypeSum,       // counter
		"sglang:num_running_reqs":                   pmetric.MetricTypeGauge,     // gauge
		"sglang:time_to_first_token_seconds":        pmetric.MetricTypeHistogram, // histogram
		"sglang:http_request_size_bytes":            pmetric.MetricTypeSummary,   // summary
		"dynamo_component_requests_total":           pmetric.MetricTypeSum,
		"dynamo_component_inflight_requests":        pmetric.MetricTypeGauge,
		"dynamo_component_request_duration_seconds": pmetric.MetricTypeHistogram,
	}
	seen := map[string]bool{}
	for _, p := range points {
		m := p.Metric
		wt, ok := wantType[m.Name()]
		if !ok {
			continue
		}
		seen[m.Name()] = true
		if m.Type() != wt {
			t.Errorf("%s: type %s, want %s", m.Name(), m.Type(), wt)
			continue
		}
		switch wt {
		case pmetric.MetricTypeSum:
			if !m.Sum().IsMonotonic() || m.Sum().AggregationTemporality() != pmetric.AggregationTemporalityCumulative {
				t.Errorf("%s: monotonic=%v temporality=%s, want monotonic cumulative", m.Name(), m.Sum().IsMonotonic(), m.Sum().AggregationTemporality())
			}
		case pmetric.MetricTypeHistogram:
			if m.Histogram().AggregationTemporality() != pmetric.AggregationTemporalityCumulative {
				t.Errorf("%s: temporality %s, want cumulative", m.Name(), m.Histogram().AggregationTemporality())
			}
		}
	}
	for name := range wantType {
		if !seen[name] {
			t.Errorf("metric %s never exported", name)
		}
	}

	// Values and attributes of one counter, straight from the fixture.
	src, err := parseExposition(engineBody)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range src.Samples {
		if s.Name != "sglang:prompt_tokens_total" {
			continue
		}
		found := false
		for _, p := range points {
			if p.Metric.Name() != s.Name || p.Metric.Type() != pmetric.MetricTypeSum {
				continue
			}
			dps := p.Metric.Sum().DataPoints()
			for i := 0; i < dps.Len(); i++ {
				dp := dps.At(i)
				attrs := map[string]string{}
				for k, v := range dp.Attributes().All() {
					attrs[k] = v.AsString()
				}
				if fmt.Sprint(attrs) == fmt.Sprint(s.Labels) && dp.DoubleValue() == s.Value {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("no point for %s with attributes exactly %v and value %v", s.Name, s.Labels, s.Value)
		}
	}

	// Start times of cumulative points: non-zero, not after the point's
	// timestamp, and the same in every export of a series.
	starts := map[string]map[uint64]bool{}
	exports := map[string]int{}
	for _, p := range points {
		if !p.cumulative() {
			continue
		}
		if p.Start == 0 {
			t.Errorf("%s %s: start time 0", p.Instance, p.Key)
			continue
		}
		if p.Start > p.Time {
			t.Errorf("%s %s: start %d after timestamp %d", p.Instance, p.Key, p.Start, p.Time)
		}
		k := p.Instance + " " + p.Key
		if starts[k] == nil {
			starts[k] = map[uint64]bool{}
		}
		starts[k][p.Start] = true
		exports[k]++
	}
	if len(starts) == 0 {
		t.Fatal("no cumulative points received")
	}
	multi := 0
	for k, s := range starts {
		if len(s) != 1 {
			t.Errorf("%s: start time changed between exports of an unchanged series: %v", k, s)
		}
		if exports[k] >= 2 {
			multi++
		}
	}
	if multi == 0 {
		t.Error("no cumulative series was exported twice")
	}
	t.Logf("%d cumulative series checked, %d of them exported at least twice", len(starts), multi)
}
