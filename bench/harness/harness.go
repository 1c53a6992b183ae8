// Package harness runs the three scrapers of the side-by-side benchmark
// against the same loopback targets: the floor (a bare GET plus one byte
// scan), the sglangdynamo receiver built by its factory, and contrib's
// prometheusreceiver with a relabel keep on `sglang:.*|dynamo_.*`. Each one
// delivers into a Sink that counts target-scrapes and the data points of
// the kept families.
package harness

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/receiver/prometheusreceiver"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/sglangdynamo/sglangdynamoreceiver"
)

// KeepRegex is what prometheusreceiver keeps, and what our receiver keeps
// by default for a target that is alone in its worker.
const KeepRegex = "sglang:.*|dynamo_.*"

// Kind names a scraper.
type Kind string

const (
	Floor Kind = "floor"
	Ours  Kind = "sglangdynamo"
	Prom  Kind = "prometheusreceiver"
)

// Kinds is the order in which a round runs the scrapers.
var Kinds = []Kind{Floor, Ours, Prom}

// ---------------------------------------------------------------------------
// Targets

// Handler serves each body at /p/<name>, gzip-compressed once up front when
// the request accepts gzip, as text 0.0.4, or as OpenMetrics 1.0 when the
// body ends in `# EOF` (payloads.OpenMetrics).
func Handler(bodies map[string][]byte) http.Handler {
	type entry struct{ plain, gz []byte }
	m := map[string]entry{}
	for name, b := range bodies {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		m["/p/"+name] = entry{plain: b, gz: buf.Bytes()}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, ok := m[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		if bytes.HasSuffix(e.plain, []byte("# EOF\n")) {
			h.Set("Content-Type", "application/openmetrics-text; version=1.0.0; charset=utf-8")
		} else {
			h.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		}
		body := e.plain
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			h.Set("Content-Encoding", "gzip")
			body = e.gz
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
}

// Listen opens n loopback listeners serving h and returns their ports and a
// function that closes them.
func Listen(n int, h http.Handler) ([]int, func(), error) {
	var ports []int
	var servers []*http.Server
	closeAll := func() {
		for _, s := range servers {
			s.Close()
		}
	}
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		s := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, s)
		go s.Serve(ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, closeAll, nil
}

// ---------------------------------------------------------------------------
// Sink

// Sink counts what a scraper delivers. Every resource is one target-scrape
// (our receiver sends all targets of a round in one call, prometheusreceiver
// one call per target).
type Sink struct {
	scrapes   atomic.Int64
	points    atomic.Int64 // data points of kept families
	mu        sync.Mutex
	perScrape map[int]int // kept points in one target-scrape -> how often
	names     map[string]bool
	wake      chan struct{}
	want      atomic.Int64            // the count WaitScrapes waits for
	sample    pmetric.ResourceMetrics // a copy of the first target-scrape
	hasSample bool
	heap      heapPeak
	keepLast  bool                    // set by KeepLast before the scraper starts
	last      pmetric.ResourceMetrics // a copy of the latest target-scrape, when keepLast
}

// NewSink returns an empty sink.
func NewSink() *Sink {
	return &Sink{perScrape: map[int]int{}, names: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// Consumer returns the consumer.Metrics to hand a receiver.
func (s *Sink) Consumer() consumer.Metrics {
	c, _ := consumer.NewMetrics(s.consume)
	return c
}

func kept(name string) bool {
	return strings.HasPrefix(name, "sglang:") || strings.HasPrefix(name, "dynamo_")
}

func (s *Sink) consume(_ context.Context, md pmetric.Metrics) error {
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		n := 0
		sms := rms.At(i).ScopeMetrics()
		var names []string
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				m := ms.At(k)
				if !kept(m.Name()) {
					continue
				}
				names = append(names, m.Name())
				n += dataPoints(m)
			}
		}
		s.mu.Lock()
		s.perScrape[n]++
		for _, nm := range names {
			s.names[nm] = true
		}
		if !s.hasSample {
			// Kept to measure what building the output alone allocates;
			// copied once, during the warm-up.
			s.sample = pmetric.NewResourceMetrics()
			rms.At(i).CopyTo(s.sample)
			s.hasSample = true
		}
		if s.keepLast {
			s.last = pmetric.NewResourceMetrics()
			rms.At(i).CopyTo(s.last)
		}
		s.mu.Unlock()
		s.points.Add(int64(n))
		s.scrapes.Add(1)
	}
	s.record()
	return nil
}

// Add counts a target-scrape that delivers no pdata (the floor).
func (s *Sink) Add(points int) {
	s.mu.Lock()
	s.perScrape[points]++
	s.mu.Unlock()
	s.points.Add(int64(points))
	s.scrapes.Add(1)
	s.record()
}

// record samples the heap at the moment a delivery's pdata is live, and
// wakes WaitScrapes only when its count is reached: a wake-up per delivery
// would cost the scrapers that deliver per target more than ours.
func (s *Sink) record() {
	s.heap.sample()
	if s.scrapes.Load() >= s.want.Load() {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func dataPoints(m pmetric.Metric) int {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints().Len()
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints().Len()
	case pmetric.MetricTypeHistogram:
		return m.Histogram().DataPoints().Len()
	case pmetric.MetricTypeSummary:
		return m.Summary().DataPoints().Len()
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().DataPoints().Len()
	}
	return 0
}

// OutputCost returns what building one delivered target-scrape's pdata
// costs by itself, in allocations and bytes: a deep copy of the first
// target-scrape received. No pdata producer can allocate less than this
// per scrape without pooling, so it is the allocation floor of a receiver.
func (s *Sink) OutputCost() (allocs, bytes float64) {
	s.mu.Lock()
	src, ok := s.sample, s.hasSample
	s.mu.Unlock()
	if !ok {
		return 0, 0
	}
	const runs = 20
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for i := 0; i < runs; i++ {
		src.CopyTo(pmetric.NewResourceMetrics())
	}
	runtime.ReadMemStats(&m1)
	return float64(m1.Mallocs-m0.Mallocs) / runs, float64(m1.TotalAlloc-m0.TotalAlloc) / runs
}

// KeepLast makes the sink keep a copy of every target-scrape's pdata, the
// latest of which Last returns. Call it before starting the scraper; it
// costs a deep copy per delivery, so measuring phases leave it off.
func (s *Sink) KeepLast() { s.keepLast = true }

// Last returns a copy of the latest target-scrape, after KeepLast.
func (s *Sink) Last() pmetric.ResourceMetrics {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := pmetric.NewResourceMetrics()
	s.last.CopyTo(out)
	return out
}

// Scrapes returns the target-scrapes delivered so far.
func (s *Sink) Scrapes() int64 { return s.scrapes.Load() }

// Points returns the kept data points delivered so far.
func (s *Sink) Points() int64 { return s.points.Load() }

// PerScrape returns how many kept points each target-scrape carried, as a
// count per distinct value.
func (s *Sink) PerScrape() map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int]int, len(s.perScrape))
	for k, v := range s.perScrape {
		out[k] = v
	}
	return out
}

// Names returns the kept metric names seen.
func (s *Sink) Names() map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]bool, len(s.names))
	for k := range s.names {
		out[k] = true
	}
	return out
}

// WaitScrapes blocks until the sink has seen at least n target-scrapes.
func (s *Sink) WaitScrapes(ctx context.Context, n int64) error {
	s.want.Store(n)
	for s.Scrapes() < n {
		select {
		case <-s.wake:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d scrapes, got %d: %w", n, s.Scrapes(), ctx.Err())
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// Scrapers

// Setup is what every scraper is given.
type Setup struct {
	Ports    []int
	Path     string // e.g. /p/worker
	Interval time.Duration
}

func (s Setup) url(port int) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", port, s.Path)
}

// Start starts a scraper of the given kind, delivering into sink, and
// returns the function that stops it.
func Start(ctx context.Context, kind Kind, st Setup, sink *Sink) (stop func() error, err error) {
	switch kind {
	case Floor:
		return startFloor(st, sink), nil
	case Ours:
		return startReceiver(ctx, sglangdynamoreceiver.NewFactory(), OursConfig(st), sink)
	case Prom:
		return startReceiver(ctx, prometheusreceiver.NewFactory(), PromConfig(st), sink)
	}
	return nil, fmt.Errorf("unknown scraper %q", kind)
}

// OursConfig is the sglangdynamo configuration: one engine target per port
// (the first as `engine`, the rest as `workers`), default prefixes
// (`sglang:` and `dynamo_`, as the target is alone in its worker).
func OursConfig(st Setup) map[string]any {
	var workers []any
	for _, p := range st.Ports[1:] {
		workers = append(workers, map[string]any{"engine": map[string]any{"endpoint": st.url(p)}})
	}
	cfg := map[string]any{
		"collection_interval": st.Interval.String(),
		"initial_delay":       "0s",
		"engine":              map[string]any{"endpoint": st.url(st.Ports[0])},
		"limits":              map[string]any{"max_concurrent_scrapes": 64},
	}
	if len(workers) > 0 {
		cfg["workers"] = workers
	}
	return cfg
}

// PromConfig is the prometheusreceiver configuration: one job, a static
// target per port, and a metric relabel keep on KeepRegex.
func PromConfig(st Setup) map[string]any {
	var targets []any
	for _, p := range st.Ports {
		targets = append(targets, fmt.Sprintf("127.0.0.1:%d", p))
	}
	return map[string]any{
		"discovery_reload_on_startup": true,
		"config": map[string]any{
			"scrape_configs": []any{map[string]any{
				"job_name":        "bench",
				"scrape_interval": st.Interval.String(),
				"scrape_timeout":  st.Interval.String(),
				"metrics_path":    st.Path,
				"static_configs":  []any{map[string]any{"targets": targets}},
				"metric_relabel_configs": []any{map[string]any{
					"source_labels": []any{"__name__"},
					"regex":         KeepRegex,
					"action":        "keep",
				}},
			}},
		},
	}
}

func startReceiver(ctx context.Context, f receiver.Factory, raw map[string]any, sink *Sink) (func() error, error) {
	cfg := f.CreateDefaultConfig()
	if err := confmap.NewFromStringMap(raw).Unmarshal(cfg); err != nil {
		return nil, fmt.Errorf("%s config: %w", f.Type(), err)
	}
	if err := confmap.Validate(cfg); err != nil {
		return nil, fmt.Errorf("%s config: %w", f.Type(), err)
	}
	r, err := f.CreateMetrics(ctx, receivertest.NewNopSettings(f.Type()), cfg, sink.Consumer())
	if err != nil {
		return nil, err
	}
	if err := r.Start(ctx, componenttest.NewNopHost()); err != nil {
		return nil, err
	}
	return func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return r.Shutdown(sctx)
	}, nil
}

// startFloor scrapes each target on its own ticker with a bare GET (gzip
// requested, decompressed with a reused reader into a reused buffer) and
// one scan of the bytes, the least any scraper must pay.
func startFloor(st Setup, sink *Sink) func() error {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}
	for _, p := range st.Ports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			var zr *gzip.Reader
			t := time.NewTicker(st.Interval)
			defer t.Stop()
			for {
				n, err := floorOnce(ctx, client, st.url(p), &buf, &zr)
				if err == nil {
					floorLines.Store(int64(n))
					sink.Add(0)
				} else if ctx.Err() == nil {
					sink.Add(-1)
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
	return func() error {
		cancel()
		wg.Wait()
		client.CloseIdleConnections()
		return nil
	}
}

// floorLines keeps the result of the floor's scan observable.
var floorLines atomic.Int64

// floorOnce GETs the body and counts its lines: the one byte scan.
func floorOnce(ctx context.Context, c *http.Client, url string, buf *bytes.Buffer, zr **gzip.Reader) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, errors.New(resp.Status)
	}
	var body io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		if *zr == nil {
			*zr, err = gzip.NewReader(resp.Body)
		} else {
			err = (*zr).Reset(resp.Body)
		}
		if err != nil {
			return 0, err
		}
		body = *zr
	}
	buf.Reset()
	if _, err := buf.ReadFrom(body); err != nil {
		return 0, err
	}
	return bytes.Count(buf.Bytes(), []byte{'\n'}), nil
}
