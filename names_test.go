package sglangdynamoreceiver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/metadata"
)

// Tests of the name forms of SGLang's families (`sglang:x`, `sglang_x`),
// restore_sglang_names, and the warning about dropped families.

// startScraperLogged is startScraper with the receiver's logs captured.
func startScraperLogged(t *testing.T, cfg *Config) (*sglangdynamoScraper, *observer.ObservedLogs) {
	require.NoError(t, cfg.Validate())
	core, logs := observer.New(zapcore.InfoLevel)
	set := receivertest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	s, err := newScraper(cfg, set)
	require.NoError(t, err)
	require.NoError(t, s.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.shutdown(context.Background())) })
	return s, logs
}

// metricNames lists the names of md's metrics other than the health series.
func metricNames(md pmetric.Metrics) []string {
	var out []string
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		ms := rms.At(i).ScopeMetrics().At(0).Metrics()
		for j := 0; j < ms.Len(); j++ {
			switch n := ms.At(j).Name(); n {
			case "up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling":
			default:
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out
}

func readGoldenInput(t *testing.T, name string) string {
	b, err := os.ReadFile(filepath.Join("testdata", "golden", name, "input"))
	require.NoError(t, err)
	return string(b)
}

func boolPtr(b bool) *bool { return &b }

// TestRestoreSGLangNamesOff: with restore_sglang_names: false a body in
// the `sglang_` form keeps nothing under the default prefixes (and says
// so), and keeps its names as printed under a `sglang_` prefix.
func TestRestoreSGLangNamesOff(t *testing.T) {
	ray := readGoldenInput(t, "sglang_underscore_ray")
	restored := []string{"sglang:num_running_reqs", "sglang:prompt_tokens_total", "sglang:time_to_first_token_seconds"}
	verbatim := []string{"sglang_num_running_reqs", "sglang_prompt_tokens_total", "sglang_time_to_first_token_seconds"}
	for _, tc := range []struct {
		name     string
		restore  *bool
		prefixes []string
		want     []string
		warned   bool
	}{
		{"default", nil, nil, restored, false},
		{"true", boolPtr(true), nil, restored, false},
		{"false", boolPtr(false), nil, nil, true},
		{"false with a sglang_ prefix", boolPtr(false), []string{"sglang:", "sglang_"}, verbatim, false},
		{"true with a sglang_ prefix", boolPtr(true), []string{"sglang_"}, restored, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &body{}
			b.set(ray)
			tc0 := targetAt(serve(t, b).URL)
			tc0.Prefixes = tc.prefixes
			cfg := engineOnly(tc0)
			if tc.restore != nil {
				cfg.RestoreSGLangNames = *tc.restore
			}
			s, logs := startScraperLogged(t, cfg)
			md := scrapeOK(t, s)
			assert.Equal(t, tc.want, metricNames(md))
			assert.Equal(t, 1.0, health(md, "", "up").value)
			kept := health(md, "", "scrape_samples_post_metric_relabeling").value
			if tc.want == nil {
				assert.Equal(t, 0.0, kept)
			} else {
				assert.Equal(t, 14.0, kept)
			}
			assert.Equal(t, tc.warned, len(dropWarnings(logs)) == 1, "%v", logs.All())
		})
	}
}

// dropWarnings returns the dropped-families warnings logged so far.
func dropWarnings(logs *observer.ObservedLogs) []observer.LoggedEntry {
	return logs.FilterMessageSnippet("drop families of known inference namespaces").AllUntimed()
}

// TestDroppedFamiliesWarnOnce: a target whose prefixes drop families of
// known namespaces warns once, on the first body that has them, naming the
// endpoint, the families and the configuration line that keeps them.
func TestDroppedFamiliesWarnOnce(t *testing.T) {
	engine := &body{}
	engine.set("# TYPE sglang:num_running_reqs gauge\nsglang:num_running_reqs 1\n")
	runtime := &body{}
	runtime.set("# TYPE dynamo_component_requests_total counter\ndynamo_component_requests_total 7\n")
	engineURL, runtimeURL := serve(t, engine).URL, serve(t, runtime).URL

	cfg := engineOnly(targetAt(engineURL))
	cfg.Workers = []WorkerConfig{{Runtime: configoptional.Some(targetAt(runtimeURL))}}
	s, logs := startScraperLogged(t, cfg)

	scrapeOK(t, s)
	assert.Empty(t, dropWarnings(logs), "nothing dropped yet")

	runtime.set(`# TYPE dynamo_component_requests_total counter
dynamo_component_requests_total 7
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running 1
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running 1
# TYPE kvbm_offload_blocks_d2h counter
kvbm_offload_blocks_d2h 3
# TYPE nixl_xfer_bytes counter
nixl_xfer_bytes 5
# TYPE smg_requests_total counter
smg_requests_total 9
# TYPE python_gc_objects_collected_total counter
python_gc_objects_collected_total 1
go_goroutines 42
sglang_num_queue_reqs 2
`)
	md := scrapeOK(t, s)
	md2 := scrapeOK(t, s)

	warnings := dropWarnings(logs)
	require.Len(t, warnings, 1, "logged once, not on every scrape")
	w := warnings[0]
	assert.Equal(t, zapcore.WarnLevel, w.Level)
	ctx := w.ContextMap()
	assert.Equal(t, runtimeURL+"/metrics", ctx["endpoint"])
	assert.Equal(t, "runtime", ctx["role"])
	assert.Equal(t, []any{"kvbm_offload_blocks_d2h", "nixl_xfer_bytes", "smg_requests_total", "vllm:num_requests_running"}, ctx["dropped"])
	assert.Equal(t, int64(4), ctx["dropped_count"])
	assert.Equal(t, `workers[0].runtime.prefixes: ["sglang:", "dynamo_", "smg_", "kvbm_", "nixl_", "vllm:"]`, ctx["config"])

	// The warning changes nothing else: `sglang_` is restored and kept.
	for _, m := range []pmetric.Metrics{md, md2} {
		assert.Equal(t, []string{"dynamo_component_requests_total", "sglang:num_queue_reqs", "sglang:num_running_reqs"}, metricNames(m))
	}
}

// TestDroppedFamiliesWarningCases: which drops are worth the warning, and
// the configuration line it gives.
func TestDroppedFamiliesWarningCases(t *testing.T) {
	var many strings.Builder
	for i := range 12 {
		fmt.Fprintf(&many, "# TYPE vllm:f%02d gauge\nvllm:f%02d 1\n", i, i)
	}
	for _, tc := range []struct {
		name    string
		config  func(engine, runtime TargetConfig) *Config
		engine  string
		runtime string
		// want is the config line of the warning about the target named
		// by role, "" for no warning at all.
		role, want string
		dropped    []any
		count      int64
	}{
		{
			name: "engine-only prefixes on a worker body",
			config: func(e, _ TargetConfig) *Config {
				e.Prefixes = []string{"sglang:"}
				return engineOnly(e)
			},
			engine:  "# TYPE sglang:a gauge\nsglang:a 1\n# TYPE dynamo_component_uptime_seconds gauge\ndynamo_component_uptime_seconds 5\n",
			role:    "engine",
			want:    `engine.prefixes: ["sglang:", "dynamo_"]`,
			dropped: []any{"dynamo_component_uptime_seconds"},
			count:   1,
		},
		{
			name: "sglang_ with restore off",
			config: func(e, _ TargetConfig) *Config {
				cfg := engineOnly(e)
				cfg.RestoreSGLangNames = false
				return cfg
			},
			engine: "# TYPE sglang_a gauge\nsglang_a 1\n",
			role:   "engine",
			want: `engine.prefixes: ["sglang:", "dynamo_", "sglang_"]; or restore_sglang_names: true, ` +
				"which keeps `sglang_` families as `sglang:` wherever `sglang:` is kept",
			dropped: []any{"sglang_a"},
			count:   1,
		},
		{
			name: "sglang_ dropped with restore on",
			config: func(_, r TargetConfig) *Config {
				r.Prefixes = []string{"dynamo_"}
				cfg := createDefaultConfig().(*Config)
				cfg.Runtime = configoptional.Some(r)
				return cfg
			},
			runtime: "# TYPE dynamo_a gauge\ndynamo_a 1\n# TYPE sglang_a gauge\nsglang_a 1\n# TYPE sglang:b gauge\nsglang:b 1\n",
			role:    "runtime",
			want:    `runtime.prefixes: ["dynamo_", "sglang:"]`,
			dropped: []any{"sglang:b", "sglang_a"},
			count:   2,
		},
		{
			name: "the shorthand endpoint",
			config: func(e, _ TargetConfig) *Config {
				cfg := createDefaultConfig().(*Config)
				cfg.Engine, cfg.Runtime = configoptional.None[TargetConfig](), configoptional.None[TargetConfig]()
				cfg.Endpoint = e.Endpoint
				return cfg
			},
			engine:  "# TYPE smg_a gauge\nsmg_a 1\n",
			role:    "engine",
			want:    "engine.prefixes: [\"sglang:\", \"dynamo_\", \"smg_\"] (with the top-level `endpoint` moved to `engine.endpoint`)",
			dropped: []any{"smg_a"},
			count:   1,
		},
		{
			name: "at most ten names",
			config: func(e, _ TargetConfig) *Config {
				return engineOnly(e)
			},
			engine:  many.String(),
			role:    "engine",
			want:    `engine.prefixes: ["sglang:", "dynamo_", "vllm:"]`,
			dropped: []any{"vllm:f00", "vllm:f01", "vllm:f02", "vllm:f03", "vllm:f04", "vllm:f05", "vllm:f06", "vllm:f07", "vllm:f08", "vllm:f09"},
			count:   12,
		},
		{
			// The default split: the runtime drops the `sglang:` (and
			// `sglang_`) passthrough because the engine keeps it.
			name: "what the worker's other target keeps",
			config: func(e, r TargetConfig) *Config {
				cfg := engineOnly(e)
				cfg.Runtime = configoptional.Some(r)
				return cfg
			},
			engine:  "# TYPE sglang:a gauge\nsglang:a 1\n",
			runtime: "# TYPE dynamo_a gauge\ndynamo_a 1\n# TYPE sglang:a gauge\nsglang:a 1\n# TYPE sglang_b gauge\nsglang_b 1\n",
		},
		{
			name: "what the worker's other target keeps, restore off",
			config: func(e, r TargetConfig) *Config {
				cfg := engineOnly(e)
				cfg.Runtime = configoptional.Some(r)
				cfg.RestoreSGLangNames = false
				return cfg
			},
			engine:  "# TYPE sglang:a gauge\nsglang:a 1\n",
			runtime: "# TYPE dynamo_a gauge\ndynamo_a 1\n# TYPE sglang:a gauge\nsglang:a 1\n# TYPE sglang_b gauge\nsglang_b 1\n",
		},
		{
			name: "other namespaces are not ours",
			config: func(e, _ TargetConfig) *Config {
				return engineOnly(e)
			},
			engine: "# TYPE python_gc_objects_collected_total counter\npython_gc_objects_collected_total 1\n" +
				"# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 2\ngo_goroutines 42\n" +
				"# TYPE ray_node_cpu_utilization gauge\nray_node_cpu_utilization 3\n# TYPE sglang:a gauge\nsglang:a 1\n",
		},
		{
			name: "prefixes keeping everything",
			config: func(e, _ TargetConfig) *Config {
				e.Prefixes = []string{""}
				return engineOnly(e)
			},
			engine: many.String(),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, r := &body{}, &body{}
			e.set(tc.engine)
			r.set(tc.runtime)
			eURL, rURL := serve(t, e).URL+"/metrics", serve(t, r).URL+"/metrics"
			s, logs := startScraperLogged(t, tc.config(targetAt(eURL), targetAt(rURL)))
			scrapeOK(t, s)
			scrapeOK(t, s)
			warnings := dropWarnings(logs)
			if tc.want == "" {
				assert.Empty(t, warnings)
				return
			}
			require.Len(t, warnings, 1)
			ctx := warnings[0].ContextMap()
			endpoint := eURL
			if tc.role == "runtime" {
				endpoint = rURL
			}
			assert.Equal(t, endpoint, ctx["endpoint"])
			assert.Equal(t, tc.role, ctx["role"])
			assert.Equal(t, tc.want, ctx["config"])
			assert.Equal(t, tc.dropped, ctx["dropped"])
			assert.Equal(t, tc.count, ctx["dropped_count"])
		})
	}
}

// TestKeepPrefixes: the family filter, with and without restore.
func TestKeepPrefixes(t *testing.T) {
	for _, tc := range []struct {
		prefixes []string
		restore  bool
		kept     []string
		dropped  []string
	}{
		{[]string{"sglang:", "dynamo_"}, true,
			[]string{"sglang:a", "sglang_a", "sglang_", "dynamo_a"},
			[]string{"sglang", "sglangx_a", "vllm:a", "python_gc"}},
		{[]string{"sglang:", "dynamo_"}, false,
			[]string{"sglang:a", "dynamo_a"},
			[]string{"sglang_a", "sglang_"}},
		{[]string{"sglang:num_"}, true,
			[]string{"sglang:num_running_reqs", "sglang_num_running_reqs"},
			[]string{"sglang_token_usage", "sglang_num", "sglang:token_usage"}},
		{[]string{"dynamo_"}, true,
			[]string{"dynamo_a"},
			[]string{"sglang_a", "sglang:a"}},
		{[]string{"sglang_"}, false,
			[]string{"sglang_a"},
			[]string{"sglang:a"}},
		{[]string{"sg"}, true,
			[]string{"sglang_a", "sglang:a"},
			[]string{"s"}},
	} {
		keep := keepPrefixes(tc.prefixes, tc.restore)
		for _, n := range tc.kept {
			assert.True(t, keep([]byte(n)), "%v restore=%v must keep %q", tc.prefixes, tc.restore, n)
		}
		for _, n := range tc.dropped {
			assert.False(t, keep([]byte(n)), "%v restore=%v must drop %q", tc.prefixes, tc.restore, n)
		}
	}
	assert.Nil(t, keepPrefixes([]string{"sglang:", ""}, true), `"" keeps everything`)
}
