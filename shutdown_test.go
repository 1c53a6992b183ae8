package sglangdynamoreceiver

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/collector/scraper/scraperhelper"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/metadata"
)

// Tests of what the receiver reports when it is shut down with scrapes in
// flight, through the factory's own wiring (controller, cancelFirst) driven
// by a ticker the test owns.

// waitLimit bounds every wait of these tests on the receiver or a server;
// reaching it is a failure, not a pace.
const waitLimit = 10 * time.Second

// stallingTarget is a real loopback server that answers its first `good`
// requests with counters and holds every later one open until the client
// gives up or the test ends. With midBody it sends the headers and the start
// of the body first, so the scrape is stuck reading the body rather than
// waiting for the response.
type stallingTarget struct {
	srv      *httptest.Server
	good     int32
	midBody  bool
	requests atomic.Int32
	// stalled receives each time the target holds a request; abandoned,
	// each time the client went away from a held request.
	stalled, abandoned chan struct{}
	release            chan struct{}
}

func newStallingTarget(t *testing.T, good int32, midBody bool) *stallingTarget {
	st := &stallingTarget{
		good: good, midBody: midBody,
		stalled: make(chan struct{}, 16), abandoned: make(chan struct{}, 16),
		release: make(chan struct{}),
	}
	st.srv = httptest.NewServer(http.HandlerFunc(st.serveHTTP))
	// Cleanups run last first: release the held handlers, then Close, which
	// waits for them.
	t.Cleanup(st.srv.Close)
	t.Cleanup(func() { close(st.release) })
	return st
}

func (st *stallingTarget) serveHTTP(w http.ResponseWriter, r *http.Request) {
	n := st.requests.Add(1)
	w.Header().Set("Content-Type", textContentType)
	if n <= st.good {
		_, _ = w.Write([]byte(counters(int(n) * 10)))
		return
	}
	if st.midBody {
		_, _ = w.Write([]byte("# HELP sglang:prompt_tokens_total Number of prefill tokens processed.\n"))
		w.(http.Flusher).Flush()
	}
	st.stalled <- struct{}{}
	select {
	case <-r.Context().Done():
		st.abandoned <- struct{}{}
	case <-st.release:
	}
}

func (st *stallingTarget) addr() string { return st.srv.Listener.Addr().String() }

// tickedReceiver is the receiver as the factory builds it, scraping when the
// test ticks, with every batch it emits on a channel and its logs observed
// at every level.
type tickedReceiver struct {
	rcv     cancelFirst
	tick    chan time.Time
	batches chan pmetric.Metrics
	logs    *observer.ObservedLogs
	stopped bool
}

// startTicked starts the receiver; its first scrape runs at once. It is shut
// down when the test ends unless the test did so itself.
func startTicked(t *testing.T, cfg *Config) *tickedReceiver {
	t.Helper()
	cfg.InitialDelay = 0
	require.NoError(t, cfg.Validate())
	core, logs := observer.New(zapcore.DebugLevel)
	set := receivertest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	tr := &tickedReceiver{tick: make(chan time.Time), batches: make(chan pmetric.Metrics, 16), logs: logs}
	next, err := consumer.NewMetrics(func(_ context.Context, md pmetric.Metrics) error {
		tr.batches <- md
		return nil
	})
	require.NoError(t, err)
	tr.rcv, err = newReceiver(cfg, set, next, scraperhelper.WithTickerChannel(tr.tick))
	require.NoError(t, err)
	require.NoError(t, tr.rcv.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() {
		if !tr.stopped {
			assert.NoError(t, tr.rcv.Shutdown(context.Background()))
		}
	})
	return tr
}

// nextBatch is the batch of the next scrape round.
func (tr *tickedReceiver) nextBatch(t *testing.T) pmetric.Metrics {
	t.Helper()
	select {
	case md := <-tr.batches:
		return md
	case <-time.After(waitLimit):
		t.Fatal("no scrape round was emitted")
		return pmetric.Metrics{}
	}
}

// shutdown shuts the receiver down and returns every batch emitted since
// the last one read: the controller has handed over its last round by the
// time Shutdown returns.
func (tr *tickedReceiver) shutdown(t *testing.T) []pmetric.Metrics {
	t.Helper()
	tr.stopped = true
	require.NoError(t, tr.rcv.Shutdown(context.Background()))
	var out []pmetric.Metrics
	for {
		select {
		case md := <-tr.batches:
			out = append(out, md)
		default:
			return out
		}
	}
}

// errorLogs are the entries logged at error level or above.
func (tr *tickedReceiver) errorLogs() []observer.LoggedEntry {
	return tr.logs.Filter(func(e observer.LoggedEntry) bool { return e.Level >= zapcore.ErrorLevel }).All()
}

// awaitStall waits until the target holds a request.
func (st *stallingTarget) awaitStall(t *testing.T) {
	t.Helper()
	select {
	case <-st.stalled:
	case <-time.After(waitLimit):
		t.Fatalf("%s: no request reached it", st.addr())
	}
}

// targetReport is what one round says about one target.
type targetReport struct {
	up     []float64 // the values of its up points
	stale  int       // points flagged NoRecordedValue
	series int       // points of scraped (not health) metrics, stale or not
}

// reports sums up a round's points per target (service.instance.id).
func reports(md pmetric.Metrics) map[string]*targetReport {
	out := map[string]*targetReport{}
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		id, _ := rms.At(i).Resource().Attributes().Get("service.instance.id")
		r := out[id.Str()]
		if r == nil {
			r = &targetReport{}
			out[id.Str()] = r
		}
		sms := rms.At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				m := ms.At(k)
				scraped := strings.HasPrefix(m.Name(), prefixSGLang) || strings.HasPrefix(m.Name(), prefixDynamo)
				forEachFlags(m, func(flags pmetric.DataPointFlags) {
					if flags.NoRecordedValue() {
						r.stale++
					}
					if scraped {
						r.series++
					}
				})
				if m.Name() == "up" {
					for l := 0; l < m.Gauge().DataPoints().Len(); l++ {
						r.up = append(r.up, float64(m.Gauge().DataPoints().At(l).IntValue()))
					}
				}
			}
		}
	}
	return out
}

// requireAllUp checks a round in which every target answered, and returns
// how many series each has.
func requireAllUp(t *testing.T, md pmetric.Metrics, addrs ...string) map[string]int {
	t.Helper()
	rs := reports(md)
	series := map[string]int{}
	for _, a := range addrs {
		r := rs[a]
		require.NotNil(t, r, "no points for %s", a)
		require.Equal(t, []float64{1}, r.up, "%s: up in a round it answered", a)
		require.Zero(t, r.stale, "%s: staleness markers in a round it answered", a)
		require.Positive(t, r.series, "%s: no series in a round it answered", a)
		series[a] = r.series
	}
	return series
}

// TestShutdownCutsScrapesSilently: six targets hang, three before answering
// and three halfway through the body, and the receiver is shut down while
// their scrapes are in flight. The cut scrapes must say nothing: no up 0,
// no staleness markers, no error log; the targets' state stays as it was.
func TestShutdownCutsScrapesSilently(t *testing.T) {
	var targets []*stallingTarget
	cfg := createDefaultConfig().(*Config)
	cfg.CollectionInterval = time.Minute // the scrape timeout: far beyond the test
	var addrs []string
	for i := range 6 {
		st := newStallingTarget(t, 1, i%2 == 1)
		targets = append(targets, st)
		addrs = append(addrs, st.addr())
		cfg.Workers = append(cfg.Workers, WorkerConfig{Engine: configoptional.Some(targetAt(st.srv.URL))})
	}
	tr := startTicked(t, cfg)
	series := requireAllUp(t, tr.nextBatch(t), addrs...)

	tr.tick <- time.Now()
	for _, st := range targets {
		st.awaitStall(t)
	}
	batches := tr.shutdown(t)

	require.Len(t, batches, 1, "the controller hands over the cut round")
	rs := reports(batches[0])
	for _, a := range addrs {
		assert.Nil(t, rs[a], "%s: a scrape cut by the shutdown reports nothing", a)
	}
	assert.Zero(t, batches[0].DataPointCount())
	for _, st := range targets {
		select {
		case <-st.abandoned:
		case <-time.After(waitLimit):
			t.Errorf("%s: the held request was never cancelled", st.addr())
		}
	}
	assert.Empty(t, tr.errorLogs(), "no error is logged for scrapes the shutdown cut")
	cut := tr.logs.FilterMessageSnippet("cancelled by shutdown").All()
	assert.Len(t, cut, len(targets), "each cut scrape is noted at debug level")
	for _, e := range cut {
		assert.Equal(t, zapcore.DebugLevel, e.Level)
	}
	for i, tg := range tr.rcv.s.targets {
		assert.Equal(t, series[addrs[i]], tg.conv.LiveSeries(), "%s keeps its series: no staleness marker was sent", tg.endpoint)
	}
}

// TestShutdownKeepsRealFailures: in the round the shutdown cuts, a target
// that went away before it is still reported down, with its staleness
// markers and its error; only the scrape in flight, and the one whose turn
// had not come, are silent. One scrape at a time makes the order certain:
// the dead target's scrape has ended before the next target is asked.
func TestShutdownKeepsRealFailures(t *testing.T) {
	b := &body{}
	b.set(counters(10))
	gone := serve(t, b)
	inFlight, notYet := newStallingTarget(t, 1, false), newStallingTarget(t, 1, false)
	cfg := createDefaultConfig().(*Config)
	cfg.CollectionInterval = time.Minute
	cfg.Limits.MaxConcurrentScrapes = 1
	for _, u := range []string{gone.URL, inFlight.srv.URL, notYet.srv.URL} {
		cfg.Workers = append(cfg.Workers, WorkerConfig{Engine: configoptional.Some(targetAt(u))})
	}
	tr := startTicked(t, cfg)
	goneAddr := gone.Listener.Addr().String()
	series := requireAllUp(t, tr.nextBatch(t), goneAddr, inFlight.addr(), notYet.addr())

	gone.Close()
	tr.tick <- time.Now()
	inFlight.awaitStall(t)
	batches := tr.shutdown(t)

	require.Len(t, batches, 1)
	rs := reports(batches[0])
	require.NotNil(t, rs[goneAddr], "the target that went away is reported")
	assert.Equal(t, []float64{0}, rs[goneAddr].up)
	assert.Equal(t, series[goneAddr], rs[goneAddr].stale, "one staleness marker per series of the target that went away")
	assert.Nil(t, rs[inFlight.addr()], "the scrape in flight reports nothing")
	assert.Nil(t, rs[notYet.addr()], "the target not yet scraped reports nothing")
	assert.Equal(t, int32(1), notYet.requests.Load(), "no scrape begins once the shutdown has")

	errs := tr.errorLogs()
	require.Len(t, errs, 1)
	msg := fmt.Sprint(errs[0].ContextMap()["error"])
	named := func(i int) string { return "scrape " + tr.rcv.s.targets[i].endpoint + " (engine): " }
	assert.Contains(t, msg, named(0)+"dial tcp "+goneAddr+": connect: connection refused")
	assert.NotContains(t, msg, named(1))
	assert.NotContains(t, msg, named(2))
}

// TestOwnTimeoutStillReported: a scrape that runs into its own timeout,
// with no shutdown anywhere, is reported as before: up 0, staleness
// markers, and an error naming the endpoint and the timeout.
func TestOwnTimeoutStillReported(t *testing.T) {
	slow := []*stallingTarget{newStallingTarget(t, 1, false), newStallingTarget(t, 1, true)}
	cfg := createDefaultConfig().(*Config)
	cfg.CollectionInterval = time.Minute
	// Long enough for the first, answered round on a loaded machine; the
	// held requests outlast it anyway.
	cfg.Timeout = time.Second
	var addrs []string
	for _, st := range slow {
		addrs = append(addrs, st.addr())
		cfg.Workers = append(cfg.Workers, WorkerConfig{Engine: configoptional.Some(targetAt(st.srv.URL))})
	}
	tr := startTicked(t, cfg)
	series := requireAllUp(t, tr.nextBatch(t), addrs...)

	tr.tick <- time.Now()
	rs := reports(tr.nextBatch(t)) // emitted after the timeout, before any shutdown
	for _, a := range addrs {
		require.NotNil(t, rs[a], "%s: a timed-out scrape is reported", a)
		assert.Equal(t, []float64{0}, rs[a].up, "%s", a)
		assert.Equal(t, series[a], rs[a].stale, "%s: its series are marked stale", a)
	}
	errs := tr.errorLogs()
	require.Len(t, errs, 1, "one round, one error log")
	msg := fmt.Sprint(errs[0].ContextMap()["error"])
	for _, tg := range tr.rcv.s.targets {
		assert.Contains(t, msg, "scrape "+tg.endpoint+" (engine): timed out after 1s")
	}
	assert.Empty(t, tr.logs.FilterMessageSnippet("cancelled by shutdown").All())
}
