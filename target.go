package sglangdynamoreceiver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"

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
	endpoint string // redacted URL, for errors and logs
	client   *http.Client
	fetcher  *fetch.Fetcher
	conv     *convert.Converter
	mb       *metadata.MetricsBuilder
	resource pcommon.Resource
	scope    pcommon.InstrumentationScope
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
	return &target{
		targetSpec: spec,
		endpoint:   spec.url.Redacted(),
		conv:       convert.New(convert.Options{Keep: keepPrefixes(spec.prefixes), Limits: limits}),
		mb:         metadata.NewMetricsBuilder(cfg.MetricsBuilderConfig, set),
		resource:   newResource(spec, cfg.MetricsBuilderConfig.ResourceAttributes),
		scope:      scope(set.BuildInfo),
	}
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
	rb.SetServiceInstanceID(t.url.Host)
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
// A prefix "" keeps everything.
func keepPrefixes(prefixes []string) promtext.KeepFunc {
	var ps []string
	for _, p := range prefixes {
		if p == "" {
			return nil
		}
		ps = append(ps, p)
	}
	return func(name []byte) bool {
		for _, p := range ps {
			if len(name) >= len(p) && string(name[:len(p)]) == p {
				return true
			}
		}
		return false
	}
}

// scrape fetches, converts and emits the target once, within timeout, and
// stops early when stop is cancelled (shutdown). now is the scrape's
// timestamp. The metrics always hold the health series; the error, when
// there is one, names the endpoint, the role and the reason.
func (t *target) scrape(parent, stop context.Context, timeout time.Duration, now time.Time, bufs *fetch.Buffers) (pmetric.Metrics, error) {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	defer context.AfterFunc(stop, cancel)()

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
	if err == nil {
		stats, err = t.conv.Convert(body, format, ts, dst)
		if err != nil {
			err = fmt.Errorf("invalid %s body: %w", format, err)
		}
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
