package sglangdynamoreceiver

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/metadata"
	"github.com/sglangdynamo/sglangdynamoreceiver/internal/otelview"
)

// TestOTelViewConfig decodes `otel_view` as a user writes it and validates
// the whole receiver configuration, as the collector does.
func TestOTelViewConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		view map[string]any
		err  string
	}{
		{"off", nil, ""},
		{"on", map[string]any{"enabled": true}, ""},
		{"instead", map[string]any{"enabled": true, "mode": "instead", "provider_name": "acme", "operation_name": "text_completion"}, ""},
		{"bad mode", map[string]any{"enabled": true, "mode": "both"}, "`otel_view`: `mode` is \"both\""},
		{"spaces", map[string]any{"enabled": true, "provider_name": "my engine"}, "`provider_name` is \"my engine\""},
		{"settings while off", map[string]any{"mode": "instead"}, "`otel_view.mode` is set but the view is off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := map[string]any{"engine": map[string]any{"endpoint": "http://localhost:30000/metrics"}}
			if tc.view != nil {
				raw["otel_view"] = tc.view
			}
			cfg := createDefaultConfig().(*Config)
			require.NoError(t, confmap.NewFromStringMap(raw).Unmarshal(cfg))
			err := confmap.Validate(cfg)
			if tc.err == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
		})
	}
}

// TestOTelViewExampleConfig: the shipped example is valid and turns the
// view on.
func TestOTelViewExampleConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("config", "otlp-genai.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub("receivers::sglangdynamo")
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	assert.True(t, cfg.OTelView.Enabled)
	assert.Equal(t, "instead", cfg.OTelView.Mode)
	ts, err := cfg.targets()
	require.NoError(t, err)
	assert.Len(t, ts, 5, "two workers' engine and runtime, and the frontend")
}

// TestOTelViewOff: no view, no work: the scraper holds nil.
func TestOTelViewOff(t *testing.T) {
	assert.Nil(t, newOTelView(OTelViewConfig{}, receivertest.NewNopSettings(metadata.Type)))
	assert.NotNil(t, newOTelView(OTelViewConfig{Enabled: true}, receivertest.NewNopSettings(metadata.Type)))
}

// TestOTelViewScrape runs the real scraper over a real prometheus_client
// body with the view on: in `beside` mode the verbatim scope is exactly
// the repository's verbatim golden, and the view is there beside it; in
// `instead` mode only the health series stay verbatim.
func TestOTelViewScrape(t *testing.T) {
	dir := filepath.Join("testdata", "golden", "sglang_multiprocess")
	input, err := os.ReadFile(filepath.Join(dir, "input"))
	require.NoError(t, err)
	want, err := golden.ReadMetrics(filepath.Join(dir, "expected.yaml"))
	require.NoError(t, err)

	t.Run("beside", func(t *testing.T) {
		srv := serve(t, &body{text: input})
		cfg := engineOnly(targetAt(srv.URL + "/metrics"))
		cfg.OTelView = OTelViewConfig{Enabled: true}
		md, err := startScraper(t, cfg).scrape(context.Background())
		require.NoError(t, err)
		sms := md.ResourceMetrics().At(0).ScopeMetrics()
		require.Equal(t, 2, sms.Len())
		require.Equal(t, otelview.ScopeName, sms.At(1).Scope().Name())
		view := sms.At(1).Metrics()
		names := map[string]string{}
		for i := 0; i < view.Len(); i++ {
			names[view.At(i).Name()] = view.At(i).Unit()
		}
		assert.Equal(t, "s", names["gen_ai.server.time_to_first_token"])
		assert.Equal(t, "s", names["gen_ai.server.request.duration"])
		assert.Equal(t, "{token}", names["sglang.prompt_tokens"])
		assert.Equal(t, "{request}", names["sglang.num_running_reqs"])

		sms.RemoveIf(func(sm pmetric.ScopeMetrics) bool { return sm.Scope().Name() == otelview.ScopeName })
		require.Equal(t, maskNaN(want), maskNaN(md), "NaN points")
		require.NoError(t, pmetrictest.CompareMetrics(want, md, compareOptions()...))
	})

	t.Run("instead", func(t *testing.T) {
		srv := serve(t, &body{text: input})
		cfg := engineOnly(targetAt(srv.URL + "/metrics"))
		cfg.OTelView = OTelViewConfig{Enabled: true, Mode: "instead"}
		md, err := startScraper(t, cfg).scrape(context.Background())
		require.NoError(t, err)
		sms := md.ResourceMetrics().At(0).ScopeMetrics()
		require.Equal(t, 2, sms.Len())
		verbatim := sms.At(0).Metrics()
		var got []string
		for i := 0; i < verbatim.Len(); i++ {
			got = append(got, verbatim.At(i).Name())
		}
		assert.ElementsMatch(t, []string{"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling"}, got)
		assert.Positive(t, sms.At(1).Metrics().Len())
	})
}
