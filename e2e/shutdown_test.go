//go:build e2e

package e2e

import (
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// stallingServer serves a /metrics body for its first `good` requests and
// then holds every later request open, as a worker that stops answering
// does, until the client goes away or the test ends.
type stallingServer struct {
	addr     string
	body     []byte
	good     int64
	requests atomic.Int64
	// stalled receives the address when a request is held; abandoned, when
	// the client went away from a held request.
	stalled, abandoned chan string
	release            chan struct{}
}

// serveStalling starts a stallingServer on a free loopback port.
func serveStalling(t *testing.T, body []byte, good int64, stalled, abandoned chan string) *stallingServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stallingServer{addr: l.Addr().String(), body: body, good: good,
		stalled: stalled, abandoned: abandoned, release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", s.serveHTTP)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() {
		close(s.release)
		_ = srv.Close()
	})
	return s
}

func (s *stallingServer) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if s.requests.Add(1) <= s.good {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write(s.body)
		return
	}
	notify(s.stalled, s.addr)
	select {
	case <-r.Context().Done():
		notify(s.abandoned, s.addr)
	case <-s.release:
	}
}

// notify sends without blocking: a handler must not hang on a test that
// has stopped listening.
func notify(ch chan<- string, addr string) {
	select {
	case ch <- addr:
	default:
	}
}

// URL is the /metrics URL.
func (s *stallingServer) URL() string { return "http://" + s.addr + "/metrics" }

// healthPoint is a point of up, or any point flagged as a staleness marker,
// from one OTLP request.
type healthPoint struct {
	Instance string
	Metric   string
	Up       int64 // for up
	Stale    bool
}

// upAndStale lists, per request, the up points and the staleness markers
// the collector exported.
func upAndStale(reqs []pmetric.Metrics) [][]healthPoint {
	out := make([][]healthPoint, len(reqs))
	for r, md := range reqs {
		rms := md.ResourceMetrics()
		for i := 0; i < rms.Len(); i++ {
			inst, _ := rms.At(i).Resource().Attributes().Get("service.instance.id")
			sms := rms.At(i).ScopeMetrics()
			for j := 0; j < sms.Len(); j++ {
				ms := sms.At(j).Metrics()
				for k := 0; k < ms.Len(); k++ {
					m := ms.At(k)
					add := func(flags pmetric.DataPointFlags, up int64) {
						if m.Name() == "up" || flags.NoRecordedValue() {
							out[r] = append(out[r], healthPoint{inst.Str(), m.Name(), up, flags.NoRecordedValue()})
						}
					}
					switch m.Type() {
					case pmetric.MetricTypeGauge:
						for p := 0; p < m.Gauge().DataPoints().Len(); p++ {
							dp := m.Gauge().DataPoints().At(p)
							add(dp.Flags(), dp.IntValue())
						}
					case pmetric.MetricTypeSum:
						for p := 0; p < m.Sum().DataPoints().Len(); p++ {
							add(m.Sum().DataPoints().At(p).Flags(), 0)
						}
					case pmetric.MetricTypeHistogram:
						for p := 0; p < m.Histogram().DataPoints().Len(); p++ {
							add(m.Histogram().DataPoints().At(p).Flags(), 0)
						}
					case pmetric.MetricTypeSummary:
						for p := 0; p < m.Summary().DataPoints().Len(); p++ {
							add(m.Summary().DataPoints().At(p).Flags(), 0)
						}
					}
				}
			}
		}
	}
	return out
}

// TestShutdownWithScrapesInFlight: six targets answer twice and then hang;
// the collector, exporting over OTLP, gets SIGTERM while all six scrapes
// are in flight. It must exit cleanly and promptly, cancel the six
// requests, and export neither up 0 nor a staleness marker for them, nor
// log a scrape error: a rolling restart is not an outage of every target.
func TestShutdownWithScrapesInFlight(t *testing.T) {
	const targets = 6
	body := readFixture(t, "sglang_engine_promclient.txt")
	stalled, abandoned := make(chan string, 4*targets), make(chan string, 4*targets)
	var servers []*stallingServer
	var workers []string
	for range targets {
		s := serveStalling(t, body, 2, stalled, abandoned)
		servers = append(servers, s)
		workers = append(workers, workerYAML(s.URL(), "", nil))
	}
	sink := startOTLPSink(t)
	// The scrape timeout is the interval, 3s: the third round's scrapes
	// hang far longer than the signal takes to follow them.
	c := startCollector(t, collectorOptions{
		Receiver:     receiverYAML("3s", workers...),
		OTLPEndpoint: sink.URL,
	})

	held := map[string]bool{}
	deadline := time.After(30 * time.Second)
	for len(held) < targets {
		select {
		case a := <-stalled:
			held[a] = true
		case <-c.done:
			t.Fatalf("the collector exited early: %v", c.err)
		case <-deadline:
			t.Fatalf("only %d of %d targets had a scrape in flight after 30s", len(held), targets)
		}
	}
	signalled := len(sink.Requests())
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	select {
	case <-c.done:
	case <-time.After(15 * time.Second):
		t.Fatal("the collector did not exit within 15s of SIGTERM")
	}
	t.Logf("exited %s after SIGTERM; %d OTLP requests before it, %d after",
		time.Since(began).Round(time.Millisecond), signalled, len(sink.Requests())-signalled)
	if c.err != nil {
		t.Errorf("the collector did not exit cleanly: %v", c.err)
	}

	cancelled := map[string]bool{}
	for len(cancelled) < targets {
		select {
		case a := <-abandoned:
			cancelled[a] = true
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of %d held requests were cancelled by the shutdown", len(cancelled), targets)
		}
	}

	// Every round before the signal was answered, so up 0 or a staleness
	// marker anywhere in the stream can only come from the cut round.
	type tally struct{ upOnes, upZeros, stale, staleAfter int }
	byInstance := map[string]*tally{}
	for r, pts := range upAndStale(sink.Requests()) {
		for _, p := range pts {
			n := byInstance[p.Instance]
			if n == nil {
				n = &tally{}
				byInstance[p.Instance] = n
			}
			switch {
			case p.Stale:
				n.stale++
				if r >= signalled {
					n.staleAfter++
				}
			case p.Up == 0:
				n.upZeros++
			default:
				n.upOnes++
			}
		}
	}
	for _, s := range servers {
		n := byInstance[s.addr]
		switch {
		case n == nil || n.upOnes == 0:
			t.Errorf("%s: no up 1 was exported from the rounds it answered", s.addr)
		case n.upZeros > 0 || n.stale > 0:
			t.Errorf("%s: %d up 0 and %d staleness markers exported (%d of them after SIGTERM)",
				s.addr, n.upZeros, n.stale, n.staleAfter)
		}
	}
	for _, line := range strings.Split(c.out.String(), "\n") {
		if strings.Contains(line, "Error scraping metrics") || strings.Contains(line, "\terror\t") {
			t.Errorf("error logged during shutdown: %s", line)
		}
	}
}
