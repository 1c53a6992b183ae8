package sglangdynamoreceiver

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/discovery"
	"github.com/sglangdynamo/sglangdynamoreceiver/internal/metadata"
	"github.com/sglangdynamo/sglangdynamoreceiver/internal/mixedtypes"
)

// targetRole is what kind of process a target is.
type targetRole string

const (
	roleEngine   targetRole = "engine"   // SGLang's own /metrics
	roleRuntime  targetRole = "runtime"  // a Dynamo worker's system port
	roleFrontend targetRole = "frontend" // the Dynamo frontend's HTTP port
)

// defaultService is each role's `service.name`, exported as `job`: the job
// names of the stock Prometheus configs (SGLang's examples/monitoring, and
// Dynamo's deploy/observability), so that their alerts and dashboards keep
// working through the collector.
var defaultService = map[targetRole]string{
	roleEngine:   "sglang",
	roleRuntime:  "dynamo-backend",
	roleFrontend: "dynamo-frontend",
}

const (
	prefixSGLang = "sglang:"
	prefixDynamo = "dynamo_"
	// prefixSGLangUnderscored is SGLang's namespace as some stacks print
	// it; see restore_sglang_names.
	prefixSGLangUnderscored = "sglang_"
)

// Config is the receiver's configuration.
type Config struct {
	scraperhelper.ControllerConfig `mapstructure:",squash"`
	metadata.MetricsBuilderConfig  `mapstructure:",squash"`

	// Endpoint is a shorthand for `engine: {endpoint: ...}`, and what
	// receiver_creator fills in. A bare `host:port` means
	// `http://host:port/metrics`. It is ignored when `engine`, `runtime` or
	// `workers` is set, so that receiver_creator's automatic value cannot
	// add a second target beside an explicit one.
	Endpoint string `mapstructure:"endpoint"`

	// Engine, Runtime and Frontend are the targets of the implicit first
	// worker.
	Engine   configoptional.Optional[TargetConfig] `mapstructure:"engine"`
	Runtime  configoptional.Optional[TargetConfig] `mapstructure:"runtime"`
	Frontend configoptional.Optional[TargetConfig] `mapstructure:"frontend"`
	// Attributes are added to the resource of every target. (The built-in
	// resource attributes are switched on and off under
	// `resource_attributes`, from metadata.yaml.)
	Attributes map[string]string `mapstructure:"attributes"`

	// Workers lists further workers, each with its own targets and
	// resource attributes.
	Workers []WorkerConfig `mapstructure:"workers"`

	Limits LimitsConfig `mapstructure:"limits"`

	// RestoreSGLangNames gives SGLang's families that a worker printed as
	// `sglang_x` (HELP, TYPE and samples alike: Ray Serve, Dynamo's
	// passthrough in its January 2026 releases) their `sglang:x` name back,
	// and keeps them wherever `sglang:` is kept. Default true; false keeps
	// such names as printed, and a prefix must keep them.
	RestoreSGLangNames bool `mapstructure:"restore_sglang_names"`

	// MixedTypes decides what a family gets when different targets send it
	// with different types, as in a rolling upgrade across releases.
	MixedTypes MixedTypesConfig `mapstructure:"mixed_types"`

	// Discovery finds targets with Prometheus's own service discovery:
	// `kubernetes_sd_configs`, `dns_sd_configs`, `file_sd_configs`,
	// `http_sd_configs` and `relabel_configs`, with Prometheus's syntax
	// and semantics. It is kept as given and decoded by Prometheus's code
	// (internal/discovery).
	Discovery map[string]any `mapstructure:"discovery"`
	// DiscoveryClient is the HTTP client of every discovered target:
	// confighttp's client settings (timeout, headers, auth, TLS,
	// compression), as a Prometheus scrape job's are shared by its targets.
	DiscoveryClient confighttp.ClientConfig `mapstructure:"discovery_client"`

	// Shard splits the targets, configured and discovered, between
	// `count` collectors by hashmod over each target's address; this one
	// scrapes those of `index`.
	Shard ShardConfig `mapstructure:"shard"`

	// OTelView is the OpenTelemetry-native view; see otelview.go.
	OTelView OTelViewConfig `mapstructure:"otel_view"`

	_ struct{}
}

// WorkerConfig is one inference worker: an SGLang engine, a Dynamo runtime,
// or both; or a Dynamo frontend.
type WorkerConfig struct {
	Engine     configoptional.Optional[TargetConfig] `mapstructure:"engine"`
	Runtime    configoptional.Optional[TargetConfig] `mapstructure:"runtime"`
	Frontend   configoptional.Optional[TargetConfig] `mapstructure:"frontend"`
	Attributes map[string]string                     `mapstructure:"attributes"`
}

// TargetConfig is one /metrics endpoint.
type TargetConfig struct {
	confighttp.ClientConfig `mapstructure:",squash"`

	// Prefixes are the metric name prefixes kept. Empty means the default
	// for the role: `sglang:` for the engine and `dynamo_` for the runtime
	// when the worker has both, and both when it has only one; `dynamo_`
	// for the frontend. `[""]` keeps everything.
	Prefixes []string `mapstructure:"prefixes"`

	// ServiceName overrides `service.name` (default `sglang` for the engine,
	// `dynamo-backend` for the runtime, `dynamo-frontend` for the frontend).
	ServiceName string `mapstructure:"service_name"`

	// FollowRedirects allows redirects to another host. Redirects on the
	// same host are always followed (SGLang answers /metrics with a 307
	// on some versions).
	FollowRedirects bool `mapstructure:"follow_redirects"`
}

// LimitsConfig bounds what one target may cost. A target over a limit fails
// its scrape (`up` is 0) and the error says which limit.
type LimitsConfig struct {
	// MaxBodySize is the largest body accepted, counted after
	// decompression, so a gzip bomb is refused.
	MaxBodySize int64 `mapstructure:"max_body_size"`
	// SampleLimit is the most samples kept per scrape (Prometheus's
	// sample_limit). 0 means no limit.
	SampleLimit int `mapstructure:"sample_limit"`
	// LabelLimit, LabelNameLengthLimit and LabelValueLengthLimit bound each
	// kept sample. 0 means no limit.
	LabelLimit            int `mapstructure:"label_limit"`
	LabelNameLengthLimit  int `mapstructure:"label_name_length_limit"`
	LabelValueLengthLimit int `mapstructure:"label_value_length_limit"`
	// MaxConcurrentScrapes bounds how many targets are fetched at once.
	MaxConcurrentScrapes int `mapstructure:"max_concurrent_scrapes"`
}

// ShardConfig is one collector's share of the fleet.
type ShardConfig struct {
	// Count is how many collectors share the fleet; 0 means no sharding.
	Count int `mapstructure:"count"`
	// Index is this collector's share, from 0 to count-1: a StatefulSet
	// pod's ordinal.
	Index int `mapstructure:"index"`
}

// MixedTypesConfig is what a family gets when different targets send it with
// different types (SGLang's kv_transfer_* were gauges and are histograms).
type MixedTypesConfig struct {
	// Mode is `flatten` (default): while the types disagree, the family's
	// series are emitted flat, as the gauges and counters Prometheus stores
	// from a direct scrape, so the Prometheus exporter keeps every one of
	// them; or `keep`: each target's own type, for pipelines that end in
	// OTLP only (the Prometheus exporter then drops the type it saw second).
	// Either way one warning names the family, its types and the targets.
	Mode string `mapstructure:"mode"`
	// Hold is how long a flattened family stays flat after its types agree
	// again. It must exceed the Prometheus exporter's metric_expiration,
	// which remembers a name's old type that long. Default 5m.
	Hold time.Duration `mapstructure:"hold"`
}

// newDefaultTargetConfig is confighttp's client defaults, keep-alive on.
func newDefaultTargetConfig() TargetConfig {
	hc := confighttp.NewDefaultClientConfig()
	return TargetConfig{ClientConfig: hc}
}

// newDefaultLimits bound one target to what a TP=8 SGLang worker needs with
// room to spare, so that only a runaway target hits them.
func newDefaultLimits() LimitsConfig {
	return LimitsConfig{
		MaxBodySize:           64 << 20,
		SampleLimit:           200_000,
		LabelLimit:            64,
		LabelNameLengthLimit:  256,
		LabelValueLengthLimit: 4096,
		MaxConcurrentScrapes:  16,
	}
}

// Unmarshal gives every listed worker's targets the same defaults as the
// top-level ones; a plain decode would leave list elements zero, which
// among other things turns HTTP keep-alive off.
func (w *WorkerConfig) Unmarshal(conf *confmap.Conf) error {
	if conf.IsSet("resource_attributes") {
		return errors.New("`resource_attributes` of a worker is now `attributes`: rename the key")
	}
	if !w.Engine.HasValue() {
		w.Engine = configoptional.Default(newDefaultTargetConfig())
	}
	if !w.Runtime.HasValue() {
		w.Runtime = configoptional.Default(newDefaultTargetConfig())
	}
	if !w.Frontend.HasValue() {
		w.Frontend = configoptional.Default(newDefaultTargetConfig())
	}
	return conf.Unmarshal(w)
}

// Unmarshal refuses the static attributes of configurations written before
// `resource_attributes` became mdatagen's switches, with the fix, where a
// plain decode would fail with a type error about a struct.
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	if m, ok := conf.Get("resource_attributes").(map[string]any); ok {
		for k, v := range m {
			if _, isMap := v.(map[string]any); !isMap {
				return fmt.Errorf("`resource_attributes.%s`: static resource attributes are now set under `attributes:`; "+
					"`resource_attributes` switches the built-in ones (service.name, service.instance.id, server.address, "+
					"server.port, url.scheme) with `enabled: true|false`", k)
			}
		}
	}
	return conf.Unmarshal(cfg)
}

// targetSpec is one endpoint as the configuration resolves it.
type targetSpec struct {
	role targetRole
	// key is where the target is configured: `engine`, `runtime`,
	// `workers[0].engine`, ...; shorthand is set when it came from the
	// top-level `endpoint`.
	key       string
	shorthand bool
	cfg       TargetConfig
	url       *url.URL
	prefixes  []string
	// restore is restore_sglang_names.
	restore bool
	// siblingPrefixes are the prefixes of the worker's other target, nil
	// when the worker has one: what they keep is not missing from this one.
	siblingPrefixes []string
	service         string
	// instance is the `instance` a discovered target's relabelling set;
	// empty means the endpoint's host:port.
	instance   string
	attributes map[string]string
}

// targets resolves the configuration into the list of endpoints to scrape.
func (cfg *Config) targets() ([]targetSpec, error) {
	var out []targetSpec
	first := WorkerConfig{Engine: cfg.Engine, Runtime: cfg.Runtime, Frontend: cfg.Frontend, Attributes: cfg.Attributes}
	shorthand := false
	if !first.Engine.HasValue() && !first.Runtime.HasValue() && !first.Frontend.HasValue() && len(cfg.Workers) == 0 && cfg.Endpoint != "" {
		tc := newDefaultTargetConfig()
		tc.Endpoint = cfg.Endpoint
		first.Engine = configoptional.Some(tc)
		shorthand = true
	}
	workers := append([]WorkerConfig{first}, cfg.Workers...)
	for i, w := range workers {
		worker := ""
		if i > 0 {
			worker = fmt.Sprintf("workers[%d]", i-1)
		}
		both := w.Engine.HasValue() && w.Runtime.HasValue()
		var ts []targetSpec
		for _, rt := range []struct {
			role targetRole
			opt  configoptional.Optional[TargetConfig]
		}{{roleEngine, w.Engine}, {roleRuntime, w.Runtime}, {roleFrontend, w.Frontend}} {
			tc := rt.opt.Get()
			if tc == nil {
				continue
			}
			key := string(rt.role)
			if worker != "" {
				key = worker + "." + key
			}
			t, err := resolveTarget(rt.role, *tc, both, cfg.Attributes, w.Attributes, i > 0)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			t.key, t.shorthand, t.restore = key, shorthand, cfg.RestoreSGLangNames
			ts = append(ts, t)
		}
		if both { // the engine and the runtime, in that order
			ts[0].siblingPrefixes, ts[1].siblingPrefixes = ts[1].prefixes, ts[0].prefixes
		}
		out = append(out, ts...)
		if i > 0 && len(ts) == 0 {
			return nil, fmt.Errorf("%s: a worker needs `engine`, `runtime` or `frontend`", worker)
		}
	}
	return out, nil
}

// resolveTarget applies the role's defaults to one configured target:
// its URL, the prefixes it keeps and its service name, and merges the
// common attributes (for listed workers) under its own.
func resolveTarget(role targetRole, tc TargetConfig, both bool, common, own map[string]string, listed bool) (targetSpec, error) {
	u, err := normalizeEndpoint(tc.Endpoint)
	if err != nil {
		return targetSpec{}, err
	}
	t := targetSpec{role: role, cfg: tc, url: u, prefixes: tc.Prefixes, service: tc.ServiceName}
	if len(t.prefixes) == 0 {
		switch {
		case role == roleFrontend:
			t.prefixes = []string{prefixDynamo}
		case !both:
			t.prefixes = []string{prefixSGLang, prefixDynamo}
		case role == roleEngine:
			t.prefixes = []string{prefixSGLang}
		default:
			t.prefixes = []string{prefixDynamo}
		}
	}
	if t.service == "" {
		t.service = defaultService[role]
	}
	t.attributes = map[string]string{}
	if listed {
		for k, v := range common {
			t.attributes[k] = v
		}
	}
	for k, v := range own {
		t.attributes[k] = v
	}
	return t, nil
}

// normalizeEndpoint turns a bare `host:port` (as receiver_creator gives it)
// into `http://host:port/metrics`, and adds `/metrics` to a URL without a
// path.
func normalizeEndpoint(ep string) (*url.URL, error) {
	if ep == "" {
		return nil, errors.New("`endpoint` is empty: set it to the target's /metrics URL, e.g. http://localhost:30000/metrics")
	}
	if !strings.Contains(ep, "://") {
		ep = "http://" + ep
	}
	u, err := url.Parse(ep)
	if err != nil {
		return nil, fmt.Errorf("`endpoint` %q is not a URL: %w", ep, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("`endpoint` %q: scheme must be http or https", u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("`endpoint` %q has no host", u.Redacted())
	}
	if _, _, err := net.SplitHostPort(u.Host); err != nil {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		u.Host = net.JoinHostPort(u.Hostname(), port)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/metrics"
	}
	return u, nil
}

// Validate checks the configuration. Each error names the key and the fix.
func (cfg *Config) Validate() error {
	ts, err := cfg.targets()
	if err != nil {
		return err
	}
	if cfg.Discovery != nil {
		if _, err := discovery.Parse(cfg.Discovery, "."); err != nil {
			return fmt.Errorf("`discovery`: %w", err)
		}
	}
	if _, err := discovery.NewShard(cfg.Shard.Count, cfg.Shard.Index); err != nil {
		return err
	}
	if len(ts) == 0 && cfg.Discovery == nil {
		return errors.New("no target configured: set `engine.endpoint` (SGLang, e.g. http://localhost:30000/metrics), `runtime.endpoint` (a Dynamo worker's system port), `frontend.endpoint` (the Dynamo frontend, e.g. http://localhost:8000/metrics), `workers` or `discovery`")
	}
	seen := map[string]bool{}
	for _, t := range ts {
		k := t.url.String()
		if seen[k] {
			return fmt.Errorf("endpoint %s is configured twice: its series would be counted twice", t.url.Redacted())
		}
		seen[k] = true
	}
	l := cfg.Limits
	switch {
	case l.MaxBodySize <= 0:
		return errors.New("`limits.max_body_size` must be positive (bytes, after decompression)")
	case l.SampleLimit < 0, l.LabelLimit < 0, l.LabelNameLengthLimit < 0, l.LabelValueLengthLimit < 0:
		return errors.New("`limits`: label and sample limits must be 0 (no limit) or positive")
	case l.MaxConcurrentScrapes <= 0:
		return errors.New("`limits.max_concurrent_scrapes` must be at least 1")
	}
	switch mixedtypes.Mode(cfg.MixedTypes.Mode) {
	case mixedtypes.Flatten, mixedtypes.Keep:
	default:
		return fmt.Errorf("`mixed_types.mode` is %q: use `flatten` (the default) or `keep`", cfg.MixedTypes.Mode)
	}
	if cfg.MixedTypes.Hold < 0 {
		return errors.New("`mixed_types.hold` must not be negative")
	}
	if cfg.Timeout > cfg.CollectionInterval {
		return fmt.Errorf("`timeout` (%s) must not exceed `collection_interval` (%s)", cfg.Timeout, cfg.CollectionInterval)
	}
	return nil
}

// scrapeTimeout is the deadline of one target's scrape: `timeout`, or the
// collection interval when it is 0, so a hung target cannot delay the next
// round.
func (cfg *Config) scrapeTimeout() time.Duration {
	if cfg.Timeout > 0 {
		return cfg.Timeout
	}
	return cfg.CollectionInterval
}
