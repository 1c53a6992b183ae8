package sglangdynamoreceiver

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/metadata"
)

func loadConfig(t *testing.T, name string) *Config {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg
}

func TestConfigDefaults(t *testing.T) {
	cfg := loadConfig(t, "defaults")
	require.NoError(t, confmap.Validate(cfg))
	ts, err := cfg.targets()
	require.NoError(t, err)
	require.Len(t, ts, 1)
	assert.Equal(t, []string{"sglang:", "dynamo_"}, ts[0].prefixes, "a lone target keeps both namespaces")
	assert.Equal(t, "sglang", ts[0].service)
	assert.Equal(t, 10*time.Second, cfg.CollectionInterval)
	assert.Equal(t, 10*time.Second, cfg.scrapeTimeout(), "no timeout means the collection interval")
	assert.True(t, ts[0].cfg.Keepalive.HasValue(), "keep-alive stays on")
	assert.Equal(t, newDefaultLimits(), cfg.Limits)
	assert.True(t, cfg.RestoreSGLangNames, "restore_sglang_names defaults to true")
	assert.True(t, ts[0].restore)
	assert.Equal(t, "engine", ts[0].key)
	assert.Nil(t, ts[0].siblingPrefixes, "a lone target has no sibling")
}

// TestConfigRestoreSGLangNames: restore_sglang_names is read, reaches every
// target, and refuses what is not a bool.
func TestConfigRestoreSGLangNames(t *testing.T) {
	for name, want := range map[string]bool{"restore_off": false, "restore_on": true, "defaults": true} {
		t.Run(name, func(t *testing.T) {
			cfg := loadConfig(t, name)
			require.NoError(t, confmap.Validate(cfg))
			assert.Equal(t, want, cfg.RestoreSGLangNames)
			ts, err := cfg.targets()
			require.NoError(t, err)
			for _, tg := range ts {
				assert.Equal(t, want, tg.restore, tg.key)
			}
		})
	}
	ts, err := loadConfig(t, "restore_off").targets()
	require.NoError(t, err)
	assert.Equal(t, []string{"sglang:", "sglang_"}, ts[0].prefixes)

	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, "restore_bad").String())
	require.NoError(t, err)
	err = sub.Unmarshal(createDefaultConfig().(*Config))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "restore_sglang_names")
}

// TestConfigTargetKeys: each target knows where it is configured, for the
// configuration line in its warnings, and what its worker's other target
// keeps.
func TestConfigTargetKeys(t *testing.T) {
	ts, err := loadConfig(t, "full").targets()
	require.NoError(t, err)
	var keys []string
	var siblings [][]string
	for _, tg := range ts {
		keys = append(keys, tg.key)
		siblings = append(siblings, tg.siblingPrefixes)
		assert.False(t, tg.shorthand, tg.key)
	}
	assert.Equal(t, []string{"engine", "runtime", "workers[0].engine", "workers[0].runtime", "workers[1].frontend"}, keys)
	assert.Equal(t, [][]string{{"dynamo_", "sglang:"}, {"sglang:"}, {"dynamo_"}, {"sglang:"}, nil}, siblings)

	ts, err = loadConfig(t, "bare_endpoint").targets()
	require.NoError(t, err)
	require.Len(t, ts, 1)
	assert.Equal(t, "engine", ts[0].key)
	assert.True(t, ts[0].shorthand)
}

// TestConfigFrontend: the Dynamo frontend is a role of its own, beside a
// worker's engine and runtime: it keeps `dynamo_` and is job
// `dynamo-frontend`, and the engine and runtime still split the namespaces
// between them as a pair.
func TestConfigFrontend(t *testing.T) {
	ts, err := loadConfig(t, "frontend_beside_worker").targets()
	require.NoError(t, err)
	type summary struct {
		key      string
		role     targetRole
		prefixes []string
		siblings []string
		service  string
	}
	var got []summary
	for _, tg := range ts {
		got = append(got, summary{tg.key, tg.role, tg.prefixes, tg.siblingPrefixes, tg.service})
	}
	assert.Equal(t, []summary{
		{"engine", roleEngine, []string{"sglang:"}, []string{"dynamo_"}, "sglang"},
		{"runtime", roleRuntime, []string{"dynamo_"}, []string{"sglang:"}, "dynamo-backend"},
		{"frontend", roleFrontend, []string{"dynamo_"}, nil, "dynamo-frontend"},
	}, got)

	ts, err = loadConfig(t, "frontend_only").targets()
	require.NoError(t, err)
	require.Len(t, ts, 1)
	assert.Equal(t, "http://localhost:8000/metrics", ts[0].url.String())
	assert.Equal(t, "dynamo-frontend", ts[0].service)
}

func TestConfigBareEndpoint(t *testing.T) {
	ts, err := loadConfig(t, "bare_endpoint").targets()
	require.NoError(t, err)
	require.Len(t, ts, 1)
	assert.Equal(t, "http://10.0.0.5:30000/metrics", ts[0].url.String())

	// receiver_creator fills `endpoint` even when the user set a target:
	// it must not add a second one.
	ts, err = loadConfig(t, "bare_endpoint_ignored").targets()
	require.NoError(t, err)
	require.Len(t, ts, 1)
	assert.Equal(t, roleRuntime, ts[0].role)
	assert.Equal(t, "dynamo-backend", ts[0].service)
}

func TestConfigFull(t *testing.T) {
	cfg := loadConfig(t, "full")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, 15*time.Second, cfg.CollectionInterval)
	assert.Equal(t, 5*time.Second, cfg.scrapeTimeout())
	assert.False(t, cfg.Metrics.ScrapeDurationSeconds.Enabled)
	assert.Equal(t, 50000, cfg.Limits.SampleLimit)
	assert.Equal(t, int64(1<<20), cfg.Limits.MaxBodySize)
	assert.Equal(t, 16, cfg.Limits.MaxConcurrentScrapes, "unset limits keep their defaults")

	ts, err := cfg.targets()
	require.NoError(t, err)
	require.Len(t, ts, 5)
	type summary struct {
		role     targetRole
		url      string
		prefixes []string
		service  string
		attrs    map[string]string
	}
	var got []summary
	for _, tg := range ts {
		got = append(got, summary{tg.role, tg.url.String(), tg.prefixes, tg.service, tg.attributes})
		assert.True(t, tg.cfg.Keepalive.HasValue(), "%s: listed targets get the same defaults", tg.url)
	}
	env := map[string]string{"deployment.environment.name": "prod"}
	assert.Equal(t, []summary{
		{roleEngine, "http://sglang-0:30000/metrics", []string{"sglang:"}, "sglang", env},
		{roleRuntime, "https://sglang-0:9090/metrics", []string{"dynamo_", "sglang:"}, "dynamo-worker", env},
		{roleEngine, "http://sglang-1:30000/metrics", []string{"sglang:"}, "sglang", map[string]string{"deployment.environment.name": "prod", "worker": "w1"}},
		{roleRuntime, "http://sglang-1:9090/metrics", []string{"dynamo_"}, "dynamo-backend", map[string]string{"deployment.environment.name": "prod", "worker": "w1"}},
		{roleFrontend, "http://dynamo-frontend:8000/metrics", []string{"dynamo_"}, "dynamo-frontend", env},
	}, got)
	assert.Equal(t, 3*time.Second, ts[0].cfg.Timeout)
	v, _ := ts[0].cfg.Headers.Get("Authorization")
	assert.Equal(t, "s3cret", string(v)[len("Bearer "):])
}

func TestConfigErrors(t *testing.T) {
	for name, want := range map[string]string{
		"no_target":             "no target configured: set `engine.endpoint`",
		"empty_worker":          "workers[0]: a worker needs `engine`, `runtime` or `frontend`",
		"duplicate":             "endpoint http://localhost:30000/metrics is configured twice",
		"bad_scheme":            "engine: `endpoint` \"ftp://localhost:30000/metrics\": scheme must be http or https",
		"timeout_over_interval": "`timeout` (10s) must not exceed `collection_interval` (5s)",
		"bad_limits":            "`limits.max_concurrent_scrapes` must be at least 1",
		"bad_mixed_types":       "`mixed_types.mode` is \"drop\": use `flatten` (the default) or `keep`",
	} {
		t.Run(name, func(t *testing.T) {
			err := confmap.Validate(loadConfig(t, name))
			require.Error(t, err)
			assert.Contains(t, err.Error(), want)
		})
	}
}

// TestConfigMixedTypes: `mode: keep` alone leaves hold at its default.
func TestConfigMixedTypes(t *testing.T) {
	cfg := loadConfig(t, "mixed_types_keep")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, MixedTypesConfig{Mode: "keep", Hold: 5 * time.Minute}, cfg.MixedTypes)
	assert.Equal(t, MixedTypesConfig{Mode: "flatten", Hold: 5 * time.Minute}, createDefaultConfig().(*Config).MixedTypes)
}

// TestConfigOldResourceAttributes: a configuration written when
// `resource_attributes` held static values is refused with the fix, not
// with a decoder's error about a struct.
func TestConfigOldResourceAttributes(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	for name, want := range map[string]string{
		"old_resource_attributes":        "`resource_attributes.deployment.environment.name`: static resource attributes are now set under `attributes:`",
		"old_worker_resource_attributes": "`resource_attributes` of a worker is now `attributes`: rename the key",
	} {
		t.Run(name, func(t *testing.T) {
			sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
			require.NoError(t, err)
			err = sub.Unmarshal(createDefaultConfig().(*Config))
			require.Error(t, err)
			assert.Contains(t, err.Error(), want)
		})
	}
}

// TestConfigResourceSwitches: the generated switches turn built-in resource
// attributes off, and `attributes` adds static ones beside the rest.
func TestConfigResourceSwitches(t *testing.T) {
	cfg := loadConfig(t, "resource_switches")
	require.NoError(t, confmap.Validate(cfg))
	ts, err := cfg.targets()
	require.NoError(t, err)
	require.Len(t, ts, 1)
	got := newResource(ts[0], cfg.ResourceAttributes).Attributes().AsRaw()
	assert.Equal(t, map[string]any{
		"service.name":        "sglang",
		"service.instance.id": "sglang-0:30000",
		"server.address":      "sglang-0",
		"k8s.pod.name":        "sglang-0",
	}, got)
}
