package sglangdynamoreceiver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/scraper/scrapererror"
	"go.uber.org/zap"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/convert"
	"github.com/sglangdynamo/sglangdynamoreceiver/internal/fetch"
	"github.com/sglangdynamo/sglangdynamoreceiver/internal/metadata"
	"github.com/sglangdynamo/sglangdynamoreceiver/internal/promtext"
	"github.com/sglangdynamo/sglangdynamoreceiver/internal/selfport"
)

// sdScraper scrapes every configured target once per collection interval.
type sdScraper struct {
	cfg     *Config
	set     receiver.Settings
	targets []*targetScraper
	timeout time.Duration

	// ctx is cancelled when shutdown begins, so in-flight scrapes stop at
	// once: the controller waits for a running scrape before it shuts the
	// scraper down, and its own context is never cancelled.
	ctx    context.Context
	cancel context.CancelFunc

	// jobs feeds a fixed pool of workers, limits.max_concurrent_scrapes of
	// them at most. Long-lived workers keep their grown stacks (a goroutine
	// per target per scrape paid for growing one every time) and each owns
	// the body buffers, so there are as many as workers, not targets.
	jobs    chan job
	workers sync.WaitGroup
}

type job struct {
	ctx  context.Context
	t    *targetScraper
	md   *pmetric.Metrics
	err  *error
	done *sync.WaitGroup
}

// targetScraper is one endpoint with its own client and conversion state.
// Targets share no state, so one target's faults cannot reach another's
// data.
type targetScraper struct {
	target
	endpoint string // redacted URL, for errors and logs
	client   *http.Client
	fetcher  *fetch.Fetcher
	conv     *convert.Target
	mb       *metadata.MetricsBuilder
	resource pcommon.Resource
	scope    pcommon.InstrumentationScope
}

func newScraper(cfg *Config, set receiver.Settings) (*sdScraper, error) {
	ts, err := cfg.targets()
	if err != nil {
		return nil, err
	}
	s := &sdScraper{cfg: cfg, set: set, timeout: cfg.scrapeTimeout()}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	limits := promtext.Limits{
		MaxLabels:        cfg.Limits.LabelLimit,
		MaxLabelNameLen:  cfg.Limits.LabelNameLengthLimit,
		MaxLabelValueLen: cfg.Limits.LabelValueLengthLimit,
		MaxSamples:       cfg.Limits.SampleLimit,
	}
	for _, t := range ts {
		s.targets = append(s.targets, &targetScraper{
			target:   t,
			endpoint: t.url.Redacted(),
			conv:     convert.NewTarget(convert.Options{Keep: keepPrefixes(t.prefixes), Limits: limits}),
			mb:       metadata.NewMetricsBuilder(cfg.MetricsBuilderConfig, set),
			resource: t.resource(),
			scope:    scope(set.BuildInfo),
		})
	}
	return s, nil
}

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

// resource builds the target's resource: the identity the exporter turns
// into `job` and `instance`, plus the configured attributes.
func (t target) resource() pcommon.Resource {
	r := pcommon.NewResource()
	a := r.Attributes()
	a.PutStr("service.name", t.service)
	a.PutStr("service.instance.id", t.url.Host)
	a.PutStr("server.address", t.url.Hostname())
	if p, err := strconv.Atoi(t.url.Port()); err == nil {
		a.PutInt("server.port", int64(p))
	}
	a.PutStr("url.scheme", t.url.Scheme)
	for k, v := range t.attributes {
		a.PutStr(k, v)
	}
	return r
}

func (s *sdScraper) start(ctx context.Context, host component.Host) error {
	for _, t := range s.targets {
		client, err := t.cfg.ToClient(ctx, host.GetExtensions(), uninstrumented(s.set.TelemetrySettings))
		if err != nil {
			return fmt.Errorf("%s: %w", t.endpoint, err)
		}
		client.CheckRedirect = checkRedirect(t.cfg.FollowRedirects)
		t.client = client
		t.fetcher = fetch.New(client, t.url, s.cfg.Limits.MaxBodySize)
	}
	s.warnSelfScrape()
	s.jobs = make(chan job)
	for range min(s.cfg.Limits.MaxConcurrentScrapes, len(s.targets)) {
		s.workers.Add(1)
		go s.worker()
	}
	return nil
}

func (s *sdScraper) worker() {
	defer s.workers.Done()
	var bufs fetch.Buffers
	for j := range s.jobs {
		*j.md, *j.err = s.scrapeTarget(j.ctx, j.t, &bufs)
		j.done.Done()
	}
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

// warnSelfScrape warns when a target is a port this collector listens on
// itself, typically a Dynamo worker left on 8081 beside the Prometheus
// exporter: the receiver would scrape the collector's own output.
func (s *sdScraper) warnSelfScrape() {
	ports, err := selfport.Listening()
	if err != nil || len(ports) == 0 {
		return
	}
	for _, t := range s.targets {
		p, err := strconv.Atoi(t.url.Port())
		if err != nil || !ports[p] || !selfport.IsLocal(t.url.Hostname()) {
			continue
		}
		s.set.Logger.Warn("target port is one this collector listens on itself (the prometheus exporter?); "+
			"the scrape would read the collector's own output: move the exporter or the worker's DYN_SYSTEM_PORT",
			zap.String("endpoint", t.endpoint), zap.Int("port", p))
	}
}

func (s *sdScraper) shutdown(context.Context) error {
	s.cancel()
	// The controller returns from a running scrape before it calls this,
	// so no job can be sent after the close.
	if s.jobs != nil {
		close(s.jobs)
		s.workers.Wait()
	}
	for _, t := range s.targets {
		if t.client != nil {
			t.client.CloseIdleConnections()
		}
	}
	return nil
}

// scrape fetches all targets concurrently, bounded by
// limits.max_concurrent_scrapes. Each target contributes one resource;
// failed targets contribute their health series and staleness markers, and
// a partial error naming them.
func (s *sdScraper) scrape(ctx context.Context) (pmetric.Metrics, error) {
	results := make([]pmetric.Metrics, len(s.targets))
	errs := make([]error, len(s.targets))
	var wg sync.WaitGroup
	for i, t := range s.targets {
		wg.Add(1)
		select {
		case s.jobs <- job{ctx: ctx, t: t, md: &results[i], err: &errs[i], done: &wg}:
		case <-ctx.Done():
			errs[i] = fmt.Errorf("%s: %w", t.endpoint, ctx.Err())
			wg.Done()
		}
	}
	wg.Wait()

	out := pmetric.NewMetrics()
	var scrapeErrs scrapererror.ScrapeErrors
	for i := range s.targets {
		if results[i] != (pmetric.Metrics{}) {
			results[i].ResourceMetrics().MoveAndAppendTo(out.ResourceMetrics())
		}
		if errs[i] != nil {
			scrapeErrs.AddPartial(1, errs[i])
		}
	}
	return out, scrapeErrs.Combine()
}

func (s *sdScraper) scrapeTarget(parent context.Context, t *targetScraper, bufs *fetch.Buffers) (pmetric.Metrics, error) {
	ctx, cancel := context.WithTimeout(parent, s.timeout)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()

	began := time.Now()
	now := pcommon.NewTimestampFromTime(began)
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	t.resource.CopyTo(rm.Resource())
	sm := rm.ScopeMetrics().AppendEmpty()
	t.scope.CopyTo(sm.Scope())
	dst := sm.Metrics()

	var stats convert.Stats
	body, format, err := t.fetcher.Fetch(ctx, bufs)
	if err == nil {
		stats, err = t.conv.Convert(body, format, now, dst)
		if err != nil {
			err = fmt.Errorf("invalid %s body: %w", format, err)
		}
	} else {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("timed out after %s: %w", s.timeout, err)
		}
		t.conv.Fail(now, dst)
	}
	up := int64(1)
	if err != nil {
		up = 0
		err = fmt.Errorf("scrape %s (%s): %w", t.endpoint, t.role, err)
	}
	t.mb.RecordUpDataPoint(now, up)
	t.mb.RecordScrapeDurationSecondsDataPoint(now, time.Since(began).Seconds())
	t.mb.RecordScrapeSamplesScrapedDataPoint(now, int64(stats.Samples))
	t.mb.RecordScrapeSamplesPostMetricRelabelingDataPoint(now, int64(stats.KeptSamples))
	health := t.mb.Emit()
	if health.ResourceMetrics().Len() > 0 {
		health.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().MoveAndAppendTo(dst)
	}
	return md, err
}
