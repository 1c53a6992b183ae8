package sglangdynamoreceiver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.uber.org/zap"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/convert"
	"github.com/sglangdynamo/sglangdynamoreceiver/internal/fetch"
	"github.com/sglangdynamo/sglangdynamoreceiver/internal/metadata"
	"github.com/sglangdynamo/sglangdynamoreceiver/internal/promtext"
)

// target is one endpoint being scraped: its client, its conversion state
// and the resource its metrics carry. Targets share no state, so one
// target's faults cannot reach another's data.
type target struct {
	targetSpec
	// id names the target for its life in the receiver; a discovered
	// target that comes back gets a new one.
	id uint64
	// discoveryKey is set on a discovered target: discovery.Target.Key.
	discoveryKey string
	endpoint     string // redacted URL, for errors and logs
	client       *http.Client
	fetcher      *fetch.Fetcher
	conv         *convert.Converter
	mb           *metadata.MetricsBuilder
	resource     pcommon.Resource
	scope        pcommon.InstrumentationScope
	logger       *zap.Logger
	drops        dropWatch
}

// dropWatch collects the families of known namespaces that the target's
// prefixes drop, from the keep decisions of one scrape, until they have
// been logged once.
type dropWatch struct {
	logged bool
	names  map[string]struct{}
	// sibling keeps what the worker's other target keeps, nil when there
	// is none.
	sibling promtext.KeepFunc
}

// newTarget gives a resolved target its conversion state, health
// metrics builder and resource; start gives it a client.
func newTarget(spec targetSpec, cfg *Config, set receiver.Settings) *target {
	limits := promtext.Limits{
		MaxLabels:        cfg.Limits.LabelLimit,
		MaxLabelNameLen:  cfg.Limits.LabelNameLengthLimit,
		MaxLabelValueLen: cfg.Limits.LabelValueLengthLimit,
		MaxSamples:       cfg.Limits.SampleLimit,
	}
	t := &target{
		targetSpec: spec,
		endpoint:   spec.url.Redacted(),
		mb:         metadata.NewMetricsBuilder(cfg.MetricsBuilderConfig, set),
		resource:   newResource(spec, cfg.MetricsBuilderConfig.ResourceAttributes),
		scope:      scope(set.BuildInfo),
		logger:     set.Logger,
	}
	opts := convert.Options{Keep: t.watchDrops(keepPrefixes(spec.prefixes, spec.restore)), Limits: limits}
	if spec.restore {
		opts.FamilyName = convert.RestoreSGLangName
	}
	t.conv = convert.New(opts)
	return t
}

// start builds the target's HTTP client, and the fetcher that uses it.
func (t *target) start(ctx context.Context, host component.Host, ts component.TelemetrySettings, maxBody int64) error {
	client, err := t.cfg.ToClient(ctx, host.GetExtensions(), uninstrumented(ts))
	if err != nil {
		return fmt.Errorf("%s: %w", t.endpoint, err)
	}
	client.CheckRedirect = checkRedirect(t.cfg.FollowRedirects)
	t.client = client
	t.fetcher = fetch.New(client, t.url, maxBody)
	return nil
}

// uninstrumented keeps confighttp from wrapping the transport in otelhttp.
// Its per-request span and http.client metrics cost a tenth of a scrape's
// CPU (attribute sets built per request, even with telemetry off) and say
// nothing that up and scrape_duration_seconds do not; trace context sent
// to an inference server is of no use either.
func uninstrumented(ts component.TelemetrySettings) component.TelemetrySettings {
	ts.TracerProvider = nil
	ts.MeterProvider = nil
	return ts
}

// checkRedirect follows at most ten redirects, and only to the same host
// unless the target allows others: a redirect must not carry credentials or
// the scrape to a host nobody configured.
func checkRedirect(anyHost bool) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if !anyHost && req.URL.Host != via[0].URL.Host {
			return fmt.Errorf("redirect to another host %s refused (set follow_redirects: true to allow it)", req.URL.Host)
		}
		return nil
	}
}

// newResource builds a target's resource: the identity the exporter turns
// into `job` and `instance`, plus the configured attributes.
func newResource(t targetSpec, rac metadata.ResourceAttributesConfig) pcommon.Resource {
	rb := metadata.NewResourceBuilder(rac)
	rb.SetServiceName(t.service)
	if t.instance != "" {
		rb.SetServiceInstanceID(t.instance)
	} else {
		rb.SetServiceInstanceID(t.url.Host)
	}
	rb.SetServerAddress(t.url.Hostname())
	if p, err := strconv.Atoi(t.url.Port()); err == nil {
		rb.SetServerPort(int64(p))
	}
	rb.SetURLScheme(t.url.Scheme)
	r := rb.Emit()
	for k, v := range t.attributes {
		r.Attributes().PutStr(k, v)
	}
	return r
}

// scope is this receiver's instrumentation scope, with the collector's
// version.
func scope(bi component.BuildInfo) pcommon.InstrumentationScope {
	sc := pcommon.NewInstrumentationScope()
	sc.SetName(metadata.ScopeName)
	sc.SetVersion(bi.Version)
	return sc
}

// keepPrefixes is the family filter, applied to family names: for a family
// with a TYPE line that is the declared name, which keeps `sglang:` even
// when prometheus_client's escaping bug prints `sglang_` on the samples.
// With restore (restore_sglang_names), a family printed as `sglang_x` is
// matched as the `sglang:x` it becomes, so it is kept wherever `sglang:` is.
// A prefix "" keeps everything.
func keepPrefixes(prefixes []string, restore bool) promtext.KeepFunc {
	var ps []string
	for _, p := range prefixes {
		if p == "" {
			return nil
		}
		ps = append(ps, p)
	}
	return func(name []byte) bool {
		return hasAnyPrefix(name, ps, restore)
	}
}

// hasAnyPrefix reports whether name starts with one of ps, or, with
// restore, whether its restored form does (`sglang_x` read as `sglang:x`),
// without building that form.
func hasAnyPrefix(name []byte, ps []string, restore bool) bool {
	restored := restore && hasPrefix(name, prefixSGLangUnderscored)
	n := len(prefixSGLang)
	for _, p := range ps {
		if hasPrefix(name, p) {
			return true
		}
		// Both forms are n bytes long: past them, compare the rest.
		if restored && len(p) >= n && p[:n] == prefixSGLang && hasPrefix(name[n:], p[n:]) {
			return true
		}
	}
	return false
}

// hasPrefix is bytes.HasPrefix for a string prefix.
func hasPrefix(name []byte, p string) bool {
	return len(name) >= len(p) && string(name[:len(p)]) == p
}

// lookalikePrefixes are the namespaces of the stacks this receiver is
// pointed at: SGLang (in both name forms), Dynamo, the SGLang model
// gateway, KVBM, NIXL and vLLM. A family of one of them that a target
// drops is worth a warning; Python's, Go's and the process's are not.
var lookalikePrefixes = []string{prefixSGLang, prefixSGLangUnderscored, prefixDynamo, "smg_", "kvbm_", "nixl_", "vllm:"}

// lookalike returns the prefix of lookalikePrefixes that name starts with.
func lookalike(name []byte) (string, bool) {
	for _, p := range lookalikePrefixes {
		if hasPrefix(name, p) {
			return p, true
		}
	}
	return "", false
}

// watchDrops wraps the target's family filter: a family of a known
// namespace that it drops, and that the worker's other target does not
// keep either, is recorded for logDrops. The parser calls it once per
// family block; once the drops have been logged it only filters.
func (t *target) watchDrops(keep promtext.KeepFunc) promtext.KeepFunc {
	if keep == nil {
		return nil
	}
	if t.siblingPrefixes != nil {
		// The sibling holds an SGLang family in either form, so `sglang_x`
		// is matched as `sglang:x` whatever restore_sglang_names says.
		t.drops.sibling = keepPrefixes(t.siblingPrefixes, true)
		if t.drops.sibling == nil {
			t.drops.sibling = func([]byte) bool { return true }
		}
	}
	return func(name []byte) bool {
		if keep(name) {
			return true
		}
		if !t.drops.logged {
			t.drops.record(name)
		}
		return false
	}
}

// record notes name if it is a dropped family of a known namespace that no
// other target of the worker keeps.
func (d *dropWatch) record(name []byte) {
	if _, ok := lookalike(name); !ok || (d.sibling != nil && d.sibling(name)) {
		return
	}
	if _, ok := d.names[string(name)]; ok {
		return
	}
	if d.names == nil {
		d.names = map[string]struct{}{}
	}
	d.names[string(name)] = struct{}{}
}

// maxLoggedDrops is how many dropped family names the warning lists.
const maxLoggedDrops = 10

// logDrops warns, once per target, about the families of known namespaces
// that its prefixes dropped from the body just read: which ones, and the
// configuration line that keeps them.
func (t *target) logDrops() {
	if t.drops.logged || len(t.drops.names) == 0 {
		return
	}
	t.drops.logged = true
	names := make([]string, 0, len(t.drops.names))
	for n := range t.drops.names {
		names = append(names, n)
	}
	t.drops.names = nil
	slices.Sort(names)
	t.logger.Warn("this target's prefixes drop families of known inference namespaces (logged once): "+
		"to keep them, set the configuration line given in `config`",
		zap.String("endpoint", t.endpoint),
		zap.String("role", string(t.role)),
		zap.Strings("dropped", names[:min(len(names), maxLoggedDrops)]),
		zap.Int("dropped_count", len(names)),
		zap.String("config", t.keepLine(names)))
}

// keepLine is the configuration line that keeps the dropped names: the
// target's prefixes plus the namespaces they miss, e.g.
// `workers[0].runtime.prefixes: ["dynamo_", "sglang:", "vllm:"]`.
func (t *target) keepLine(dropped []string) string {
	missing := map[string]bool{}
	underscored := false
	for _, n := range dropped {
		p, _ := lookalike([]byte(n))
		if p == prefixSGLangUnderscored {
			if t.restore {
				p = prefixSGLang // restored, `sglang:` keeps them
			} else {
				underscored = true
			}
		}
		missing[p] = true
	}
	prefixes := slices.Clone(t.prefixes)
	for _, p := range lookalikePrefixes {
		if missing[p] && !slices.Contains(prefixes, p) {
			prefixes = append(prefixes, p)
		}
	}
	quoted := make([]string, len(prefixes))
	for i, p := range prefixes {
		quoted[i] = strconv.Quote(p)
	}
	line := t.key + ".prefixes: [" + strings.Join(quoted, ", ") + "]"
	if t.shorthand {
		line += " (with the top-level `endpoint` moved to `engine.endpoint`)"
	}
	if underscored {
		line += "; or restore_sglang_names: true, which keeps `sglang_` families as `sglang:` wherever `sglang:` is kept"
	}
	return line
}

// errShutdown is the cause with which the receiver's shutdown cancels a
// scrape in flight, and what scrape returns for a scrape it cut short. Such
// a scrape says nothing about the target: reporting it as up 0 with
// staleness markers would mark every target down on each collector restart.
var errShutdown = errors.New("scrape cancelled by the receiver's shutdown")

// scrape fetches, converts and emits the target once, within timeout, and
// stops early when stop is cancelled (shutdown). now is the scrape's
// timestamp. The metrics always hold the health series; the error, when
// there is one, names the endpoint, the role and the reason. A scrape that
// the shutdown cut short, or that began after it, returns no metrics and
// exactly errShutdown, and leaves the target's state as it was.
func (t *target) scrape(parent, stop context.Context, timeout time.Duration, now time.Time, bufs *fetch.Buffers) (pmetric.Metrics, error) {
	if stop.Err() != nil {
		return pmetric.Metrics{}, errShutdown
	}
	// The shutdown cancels with its own cause, so that whatever ends the
	// scrape first (its timeout, the controller's deadline or the shutdown)
	// is what context.Cause reports afterwards.
	ctx, cancelCause := context.WithCancelCause(parent)
	defer cancelCause(nil)
	defer context.AfterFunc(stop, func() { cancelCause(errShutdown) })()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	began := time.Now()
	ts := pcommon.NewTimestampFromTime(now)
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	t.resource.CopyTo(rm.Resource())
	sm := rm.ScopeMetrics().AppendEmpty()
	t.scope.CopyTo(sm.Scope())
	dst := sm.Metrics()

	var stats convert.Stats
	body, format, err := t.fetcher.Fetch(ctx, bufs)
	if err != nil && cutByShutdown(ctx, err) {
		t.logger.Debug("scrape cancelled by shutdown; nothing reported for it",
			zap.String("endpoint", t.endpoint), zap.String("role", string(t.role)))
		return pmetric.Metrics{}, errShutdown
	}
	if err == nil {
		stats, err = t.conv.Convert(body, format, ts, dst)
		if err != nil {
			err = fmt.Errorf("invalid %s body: %w", format, err)
		}
		t.logDrops()
	} else {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("timed out after %s: %w", timeout, err)
		}
		t.conv.Fail(ts, dst)
	}
	up := int64(1)
	if err != nil {
		up = 0
		err = fmt.Errorf("scrape %s (%s): %w", t.endpoint, t.role, err)
	}
	t.mb.RecordUpDataPoint(ts, up)
	t.mb.RecordScrapeDurationSecondsDataPoint(ts, time.Since(began).Seconds())
	t.mb.RecordScrapeSamplesScrapedDataPoint(ts, int64(stats.Samples))
	t.mb.RecordScrapeSamplesPostMetricRelabelingDataPoint(ts, int64(stats.KeptSamples))
	health := t.mb.Emit()
	if health.ResourceMetrics().Len() > 0 {
		health.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().MoveAndAppendTo(dst)
	}
	return md, err
}

// cutByShutdown reports whether a fetch failed because the shutdown
// cancelled it: the shutdown ended the scrape's context before its timeout
// or the controller's deadline did, and the error is that cancellation
// rather than a failure of the target's own (refused, reset, a bad status)
// that happened meanwhile, which is still reported. net/http returns the
// context's cause on some paths and context.Canceled on others.
func cutByShutdown(ctx context.Context, err error) bool {
	return errors.Is(context.Cause(ctx), errShutdown) &&
		(errors.Is(err, errShutdown) || errors.Is(err, context.Canceled))
}
