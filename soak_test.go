package sglangdynamoreceiver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
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

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/metadata"
)

// TestSoak flaps 32 targets up and down for SGLANGDYNAMO_SOAK (e.g. 2m, or
// 10m for the full run) while the real receiver scrapes them, then checks
// that the state and the emitted live set settle to the live targets, and
// that goroutines and heap return to their baseline.
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("SGLANGDYNAMO_SOAK"))
	if err != nil || d <= 0 {
		t.Skip("set SGLANGDYNAMO_SOAK=2m (or 10m) to run the soak")
	}
	const targets = 32
	baseGoroutines, baseHeap := settle()

	var flappers []*flapper
	cfg := createDefaultConfig().(*Config)
	cfg.CollectionInterval = 250 * time.Millisecond
	cfg.InitialDelay = 0
	for i := range targets {
		f := newFlapper(t, i)
		flappers = append(flappers, f)
		cfg.Workers = append(cfg.Workers, WorkerConfig{Engine: configoptional.Some(targetAt(f.url()))})
	}
	sink := &liveSet{}
	rcv, err := NewFactory().CreateMetrics(context.Background(), receivertest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))

	deadline := time.Now().Add(d)
	var heapSamples []uint64
	rng := rand.New(rand.NewPCG(1, 2))
	for time.Now().Before(deadline) {
		for _, f := range flappers {
			if rng.IntN(4) == 0 { // each target changes state every ~2 s on average
				f.toggle(t, rng)
			}
		}
		time.Sleep(500 * time.Millisecond)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heapSamples = append(heapSamples, ms.HeapInuse)
	}
	t.Logf("scrape batches: %d; points: %d; stale markers: %d", sink.batches.Load(), sink.points.Load(), sink.stale.Load())

	// Everything back up: the emitted live set must become exactly the
	// targets' series, with nothing left over from the flapping.
	want := 0
	for _, f := range flappers {
		f.up(t)
		want += f.series()
	}
	require.Eventually(t, func() bool { return sink.lastLive() == want }, 10*time.Second, 100*time.Millisecond,
		"live series settle to %d", want)
	require.NoError(t, rcv.Shutdown(context.Background()))
	for i, tg := range rcv.(cancelFirst).s.targets {
		assert.Equal(t, flappers[i].series(), tg.conv.LiveSeries(), "state of %s holds only its live series", tg.endpoint)
	}
	for _, f := range flappers {
		f.close()
	}

	half := len(heapSamples) / 2
	assert.LessOrEqual(t, maxOf(heapSamples[half:]), 2*maxOf(heapSamples[:half])+8<<20,
		"heap in the second half of the soak stays within the first half's range")
	goroutines, heap := settle()
	t.Logf("goroutines %d -> %d, heap %d KiB -> %d KiB", baseGoroutines, goroutines, baseHeap>>10, heap>>10)
	assert.LessOrEqual(t, goroutines, baseGoroutines+2, "goroutines return to baseline")
	assert.Less(t, heap, baseHeap+16<<20, "heap returns to baseline")
}

func settle() (int, uint64) {
	var ms runtime.MemStats
	for range 3 {
		runtime.GC()
		time.Sleep(100 * time.Millisecond)
	}
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), ms.HeapInuse
}

func maxOf(xs []uint64) uint64 {
	var m uint64
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// flapper is a target that goes down either by answering 503 or by closing
// its listener (connection refused), and comes back on the same port with a
// fresh process's pid label, as a restarted SGLang would.
type flapper struct {
	mu       sync.Mutex
	addr     string
	srv      *http.Server
	down503  bool
	restarts int
	id       int
}

func newFlapper(t *testing.T, id int) *flapper {
	f := &flapper{id: id}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f.addr = l.Addr().String()
	f.serve(l)
	return f
}

func (f *flapper) url() string { return "http://" + f.addr + "/metrics" }

func (f *flapper) serve(l net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(f.handle), ReadHeaderTimeout: time.Second}
	f.srv = srv
	go func() { _ = srv.Serve(l) }() // srv, not f.srv: toggle rewrites f.srv under the lock
}

func (f *flapper) handle(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	down, pid := f.down503, 1000+f.restarts
	f.mu.Unlock()
	if down {
		http.Error(w, "restarting", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", textContentType)
	fmt.Fprintf(w, "%s# TYPE sglang:num_paused_reqs gauge\nsglang:num_paused_reqs{pid=\"%d\",worker=\"%d\"} 0\n", counters(100+f.id), pid, f.id)
}

// series is what a healthy body of this target holds: the counter, the
// histogram, two gauges.
func (f *flapper) series() int { return 4 }

func (f *flapper) toggle(t *testing.T, rng *rand.Rand) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.down503:
		f.down503 = false
		f.restarts++
	case f.srv == nil:
		l, err := net.Listen("tcp", f.addr)
		if err != nil { // the port is briefly not reusable; try next round
			return
		}
		f.restarts++
		f.serve(l)
	case rng.IntN(2) == 0:
		f.down503 = true
	default:
		srv := f.srv
		f.srv = nil
		f.mu.Unlock()
		_ = srv.Close()
		f.mu.Lock()
	}
}

func (f *flapper) up(t *testing.T) {
	require.Eventually(t, func() bool {
		f.mu.Lock()
		f.down503 = false
		isUp := f.srv != nil
		f.mu.Unlock()
		if !isUp {
			f.toggle(t, nil)
		}
		return isUp
	}, 10*time.Second, 50*time.Millisecond)
}

func (f *flapper) close() {
	f.mu.Lock()
	srv := f.srv
	f.srv = nil
	f.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// liveSet counts, per scrape batch, the points that are not staleness
// markers and are not health series: the live set a downstream exporter
// would serve.
type liveSet struct {
	batches, points, stale atomic.Int64
	last                   atomic.Int64
}

func (l *liveSet) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (l *liveSet) ConsumeMetrics(_ context.Context, md pmetric.Metrics) error {
	l.batches.Add(1)
	live := 0
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		ms := rms.At(i).ScopeMetrics().At(0).Metrics()
		for j := 0; j < ms.Len(); j++ {
			m := ms.At(j)
			if isHealth(m.Name()) {
				continue
			}
			forEachFlags(m, func(f pmetric.DataPointFlags) {
				l.points.Add(1)
				if f.NoRecordedValue() {
					l.stale.Add(1)
				} else {
					live++
				}
			})
		}
	}
	l.last.Store(int64(live))
	return nil
}

func (l *liveSet) lastLive() int { return int(l.last.Load()) }

func isHealth(name string) bool {
	switch name {
	case "up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling":
		return true
	}
	return false
}

// forEachFlags calls f with the flags of each of m's points, whatever its
// type.
func forEachFlags(m pmetric.Metric, f func(pmetric.DataPointFlags)) {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		for i := 0; i < m.Gauge().DataPoints().Len(); i++ {
			f(m.Gauge().DataPoints().At(i).Flags())
		}
	case pmetric.MetricTypeSum:
		for i := 0; i < m.Sum().DataPoints().Len(); i++ {
			f(m.Sum().DataPoints().At(i).Flags())
		}
	case pmetric.MetricTypeHistogram:
		for i := 0; i < m.Histogram().DataPoints().Len(); i++ {
			f(m.Histogram().DataPoints().At(i).Flags())
		}
	case pmetric.MetricTypeSummary:
		for i := 0; i < m.Summary().DataPoints().Len(); i++ {
			f(m.Summary().DataPoints().At(i).Flags())
		}
	case pmetric.MetricTypeExponentialHistogram:
		for i := 0; i < m.ExponentialHistogram().DataPoints().Len(); i++ {
			f(m.ExponentialHistogram().DataPoints().At(i).Flags())
		}
	}
}
