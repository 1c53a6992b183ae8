package sglangdynamoreceiver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/scraper/scrapererror"
	"go.uber.org/zap"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/discovery"
	"github.com/sglangdynamo/sglangdynamoreceiver/internal/fetch"
	"github.com/sglangdynamo/sglangdynamoreceiver/internal/mixedtypes"
	"github.com/sglangdynamo/sglangdynamoreceiver/internal/selfport"
)

// sglangdynamoScraper scrapes every configured target once per collection
// interval, each in its own worker, and merges what they return.
type sglangdynamoScraper struct {
	cfg     *Config
	set     receiver.Settings
	targets []*target
	timeout time.Duration
	// now stamps each target's scrape as it begins, as Prometheus does;
	// tests replace it with a clock they control. It is called from the
	// workers concurrently.
	now func() time.Time

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

	// mixed reconciles families whose type differs between targets.
	mixed *mixedtypes.Reconciler

	// Discovery. disc runs it; each new set of targets waits in discovered
	// until the next round applies it (syncTargets), so targets only
	// change between rounds. shard keeps this collector's share.
	host       component.Host
	shard      *discovery.Shard
	disc       *discovery.Runner
	discMu     sync.Mutex
	discovered []discovery.Target
	discNew    bool // discovered holds a set not applied yet
	// dupWarned: discovered endpoints also configured, warned about once.
	dupWarned map[string]bool
	nextID    uint64

	// view is the OpenTelemetry-native view, nil when it is off.
	view *otelView
}

// job is one target's scrape in one round, handed to a worker.
type job struct {
	ctx  context.Context
	t    *target
	md   *pmetric.Metrics
	err  *error
	done *sync.WaitGroup
}

// newScraper resolves the configured targets; nothing is fetched before
// start.
func newScraper(cfg *Config, set receiver.Settings) (*sglangdynamoScraper, error) {
	ts, err := cfg.targets()
	if err != nil {
		return nil, err
	}
	s := &sglangdynamoScraper{cfg: cfg, set: set, timeout: cfg.scrapeTimeout(), now: time.Now, dupWarned: map[string]bool{},
		view: newOTelView(cfg.OTelView, set)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if s.shard, err = discovery.NewShard(cfg.Shard.Count, cfg.Shard.Index); err != nil {
		return nil, err
	}
	others := 0
	for _, spec := range ts {
		if s.shard != nil && !s.shard.Keep(spec.url.Host) {
			others++
			continue
		}
		s.targets = append(s.targets, s.newTarget(spec))
	}
	if others > 0 {
		set.Logger.Info("configured targets of other shards are not scraped here",
			zap.Int("targets", len(s.targets)), zap.Int("other shards", others),
			zap.Int("shard.index", cfg.Shard.Index), zap.Int("shard.count", cfg.Shard.Count))
	}
	s.mixed = mixedtypes.New(mixedtypes.Mode(cfg.MixedTypes.Mode), cfg.MixedTypes.Hold, set.Logger)
	return s, nil
}

// newTarget gives a target its state and an id of its own.
func (s *sglangdynamoScraper) newTarget(spec targetSpec) *target {
	t := newTarget(spec, s.cfg, s.set)
	s.nextID++
	t.id = s.nextID
	return t
}

// start builds each target's HTTP client, starts discovery and the
// workers.
func (s *sglangdynamoScraper) start(ctx context.Context, host component.Host) error {
	s.host = host
	for _, t := range s.targets {
		if err := t.start(ctx, host, s.set.TelemetrySettings, s.cfg.Limits.MaxBodySize); err != nil {
			return err
		}
	}
	s.warnSelfScrape()
	workers := min(s.cfg.Limits.MaxConcurrentScrapes, len(s.targets))
	if s.cfg.Discovery != nil {
		if err := s.startDiscovery(); err != nil {
			return fmt.Errorf("discovery: %w", err)
		}
		workers = s.cfg.Limits.MaxConcurrentScrapes
	}
	s.jobs = make(chan job)
	for range workers {
		s.workers.Add(1)
		go s.worker()
	}
	return nil
}

// worker scrapes the targets it is handed, with body buffers of its own.
func (s *sglangdynamoScraper) worker() {
	defer s.workers.Done()
	var bufs fetch.Buffers
	for j := range s.jobs {
		*j.md, *j.err = j.t.scrape(j.ctx, s.ctx, s.timeout, s.now(), &bufs)
		j.done.Done()
	}
}

// warnSelfScrape warns when a target is a port this collector listens on
// itself, typically a Dynamo worker left on 8081 beside the Prometheus
// exporter: the receiver would scrape the collector's own output.
func (s *sglangdynamoScraper) warnSelfScrape() {
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

// shutdown cancels scrapes in flight, stops the workers and closes idle
// connections.
func (s *sglangdynamoScraper) shutdown(context.Context) error {
	s.cancel()
	if s.disc != nil {
		s.disc.Stop()
	}
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
// a partial error naming them. Targets whose scrape the shutdown cut short,
// or that had not begun when it came, contribute nothing at all: the
// controller's context is never cancelled by its Shutdown, so s.ctx is what
// tells the shutdown apart from a timeout of ctx.
func (s *sglangdynamoScraper) scrape(ctx context.Context) (pmetric.Metrics, error) {
	gone := s.syncTargets(ctx)
	results := make([]pmetric.Metrics, len(s.targets), len(s.targets)+len(gone))
	errs := make([]error, len(s.targets))
	var wg sync.WaitGroup
	for i, t := range s.targets {
		wg.Add(1)
		select {
		case s.jobs <- job{ctx: ctx, t: t, md: &results[i], err: &errs[i], done: &wg}:
		case <-s.ctx.Done():
			// Shutting down before this target's turn: not scraped, not
			// reported.
			wg.Done()
		case <-ctx.Done():
			errs[i] = fmt.Errorf("%s: %w", t.endpoint, ctx.Err())
			wg.Done()
		}
	}
	wg.Wait()

	ids := make([]uint64, 0, len(results))
	names := make([]string, 0, len(results))
	for _, t := range s.targets {
		ids, names = append(ids, t.id), append(names, t.endpoint)
	}
	// Targets discovery lost send their staleness markers in this round.
	now := s.now()
	for _, t := range gone {
		results = append(results, t.leave(pcommon.NewTimestampFromTime(now)))
		ids, names = append(ids, t.id), append(names, t.endpoint)
	}
	s.mixed.Round(now, ids, names, results)
	out := pmetric.NewMetrics()
	var scrapeErrs scrapererror.ScrapeErrors
	// The leavers' markers go first: the exporter deletes a series on a
	// marker, and a target that came back under new labels (a new target
	// with the same job and instance) writes the same series again after.
	for _, md := range results[len(s.targets):] {
		md.ResourceMetrics().MoveAndAppendTo(out.ResourceMetrics())
	}
	for i, md := range results[:len(s.targets)] {
		if md != (pmetric.Metrics{}) {
			md.ResourceMetrics().MoveAndAppendTo(out.ResourceMetrics())
		}
		if errs[i] != nil && !errors.Is(errs[i], errShutdown) {
			scrapeErrs.AddPartial(1, errs[i])
		}
	}
	if s.view != nil {
		s.view.apply(out)
	}
	return out, scrapeErrs.Combine()
}
