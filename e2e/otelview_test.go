//go:build e2e

package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// TestOTelView runs the built collector with `otel_view: {enabled: true,
// mode: instead}` against a real prometheus_client engine body and a real
// Dynamo frontend body, exports over OTLP/HTTP to a server in the test, and
// checks what an OTLP backend sees: the GenAI server histograms with their
// units, attributes, the source's buckets, cumulative temporality and
// stable start times; OpenTelemetry names and units for the other
// families; no verbatim family names left; the health series kept.
func TestOTelView(t *testing.T) {
	engineBody := readFixture(t, "sglang_engine_promclient.txt")
	engine := serveFixture(t, staticBody(engineBody))
	frontend := serveFixture(t, staticBody(readFixture(t, "dynamo_frontend.txt")))
	sink := startOTLPSink(t)

	startCollector(t, collectorOptions{
		Receiver: receiverYAML("500ms", workerYAML(engine.URL(), "", nil),
			fmt.Sprintf("frontend:\n  endpoint: %s\n", frontend.URL())) +
			"otel_view:\n  enabled: true\n  mode: instead\n  operation_name: text_completion\n",
		OTLPEndpoint: sink.URL,
	})

	waitFor(t, 20*time.Second, "three rounds of the view over OTLP", func() error {
		times := map[uint64]bool{}
		for _, p := range sink.points() {
			if p.Instance == engine.Addr() && p.Metric.Name() == "gen_ai.server.time_to_first_token" {
				times[p.Time] = true
			}
		}
		if len(times) < 3 {
			return fmt.Errorf("%d rounds so far", len(times))
		}
		return nil
	})
	points := sink.points()

	// The source buckets, from the fixture as the exporter's parser reads it.
	src, err := parseExposition(engineBody)
	if err != nil {
		t.Fatal(err)
	}
	var ttftBounds []float64
	for _, s := range src.Samples {
		if s.Name == "sglang:time_to_first_token_seconds_bucket" && s.Labels["is_streaming"] == "true" {
			if f, err := parseFloat(s.Labels["le"]); err == nil && f < 1e308 {
				ttftBounds = append(ttftBounds, f)
			}
		}
	}
	slices.Sort(ttftBounds)

	type want struct {
		instance, provider, model string
		bounds                    []float64
	}
	genai := map[string][]want{
		"gen_ai.server.time_to_first_token": {
			{engine.Addr(), "sglang", "Qwen/Qwen3-0.6B", ttftBounds},
			{frontend.Addr(), "dynamo", "qwen/qwen3-0.6b", nil},
		},
		"gen_ai.server.request.duration": {
			{engine.Addr(), "sglang", "Qwen/Qwen3-0.6B", nil},
			{frontend.Addr(), "dynamo", "qwen/qwen3-0.6b", nil},
		},
	}
	for name, ws := range genai {
		for _, w := range ws {
			found := false
			for _, p := range points {
				if p.Metric.Name() != name || p.Instance != w.instance {
					continue
				}
				found = true
				m := p.Metric
				if m.Type() != pmetric.MetricTypeHistogram || m.Unit() != "s" ||
					m.Histogram().AggregationTemporality() != pmetric.AggregationTemporalityCumulative {
					t.Fatalf("%s from %s: %s unit %q temporality %s, want a cumulative histogram in s",
						name, w.instance, m.Type(), m.Unit(), m.Histogram().AggregationTemporality())
				}
				dps := m.Histogram().DataPoints()
				for i := 0; i < dps.Len(); i++ {
					dp := dps.At(i)
					a := dp.Attributes().AsRaw()
					for k, v := range map[string]any{
						"gen_ai.provider.name": w.provider, "gen_ai.operation.name": "text_completion",
						"gen_ai.request.model": w.model, "server.address": "127.0.0.1",
						"server.port": int64(p.Resource["server.port"].(int64)),
					} {
						if a[k] != v {
							t.Errorf("%s from %s: %s = %#v, want %#v (%v)", name, w.instance, k, a[k], v, a)
						}
					}
					if _, ok := a["model_name"]; ok {
						t.Errorf("%s: model_name left beside gen_ai.request.model", name)
					}
					if w.bounds != nil && a["is_streaming"] == "true" && !slices.Equal(dp.ExplicitBounds().AsRaw(), w.bounds) {
						t.Errorf("%s: bounds %v, want the source's %v", name, dp.ExplicitBounds().AsRaw(), w.bounds)
					}
				}
			}
			if !found {
				t.Errorf("no %s from %s", name, w.instance)
			}
		}
	}

	// OpenTelemetry names and units for the other families; no verbatim
	// family names; the health series kept.
	units := map[string]string{}
	for _, p := range points {
		units[p.Metric.Name()] = p.Metric.Unit()
		if isNamespaced(p.Metric.Name()) {
			t.Fatalf("verbatim family %s exported in `instead` mode", p.Metric.Name())
		}
	}
	for name, unit := range map[string]string{
		"sglang.prompt_tokens": "{token}", "sglang.num_running_reqs": "{request}",
		"sglang.token_usage": "1", "sglang.queue_time": "s", "sglang.http_request_size": "By",
		"dynamo.frontend.requests": "{request}", "dynamo.frontend.inter_token_latency": "s",
		"up": "",
	} {
		got, ok := units[name]
		if !ok {
			t.Errorf("metric %s never exported", name)
		} else if got != unit {
			t.Errorf("%s: unit %q, want %q", name, got, unit)
		}
	}

	// The TP ranks of the engine's scheduler families fold into one series.
	for _, p := range points {
		if p.Metric.Name() == "sglang.num_running_reqs" && p.Metric.Gauge().DataPoints().Len() != 1 {
			t.Errorf("sglang.num_running_reqs: %d points, want the ranks folded into 1", p.Metric.Gauge().DataPoints().Len())
		}
	}

	// Start times of the view's cumulative points: set, not after the
	// point, and the same in every export of a series.
	starts := map[string]map[uint64]bool{}
	for _, p := range points {
		switch p.Metric.Type() {
		case pmetric.MetricTypeSum, pmetric.MetricTypeHistogram, pmetric.MetricTypeSummary:
		default:
			continue
		}
		if p.Start == 0 || p.Start > p.Time {
			t.Errorf("%s %s: start %d, timestamp %d", p.Instance, p.Key, p.Start, p.Time)
		}
		k := p.Instance + " " + p.Key
		if starts[k] == nil {
			starts[k] = map[uint64]bool{}
		}
		starts[k][p.Start] = true
	}
	if len(starts) == 0 {
		t.Fatal("no cumulative points received")
	}
	for k, s := range starts {
		if len(s) != 1 {
			t.Errorf("%s: start time changed between exports of an unchanged series: %v", k, s)
		}
	}
	t.Logf("%d cumulative view series checked", len(starts))
}
