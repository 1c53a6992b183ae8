package sglangdynamoreceiver

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Tests over several scrapes of real loopback servers: start times, resets,
// staleness markers and target failures.

const counterBody = `# HELP sglang:prompt_tokens_total Number of prefill tokens processed.
# TYPE sglang:prompt_tokens_total counter
sglang:prompt_tokens_total{model_name="m",tp_rank="0"} %d
# HELP sglang:ttft_seconds TTFT.
# TYPE sglang:ttft_seconds histogram
sglang:ttft_seconds_sum{model_name="m"} %d
sglang:ttft_seconds_bucket{le="1.0",model_name="m"} %d
sglang:ttft_seconds_bucket{le="+Inf",model_name="m"} %d
sglang:ttft_seconds_count{model_name="m"} %d
# HELP sglang:num_running_reqs Running.
# TYPE sglang:num_running_reqs gauge
sglang:num_running_reqs{model_name="m",tp_rank="0"} 1
`

func counters(v int) string { return fmt.Sprintf(counterBody, v, v, v, v, v) }

// point finds the single point of a metric in the target's resource.
type found struct {
	start, ts pcommon.Timestamp
	value     float64
	flags     pmetric.DataPointFlags
	n         int
}

func find(md pmetric.Metrics, instance, name string) found {
	var f found
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		if id, _ := rm.Resource().Attributes().Get("service.instance.id"); instance != "" && id.Str() != instance {
			continue
		}
		ms := rm.ScopeMetrics().At(0).Metrics()
		for j := 0; j < ms.Len(); j++ {
			m := ms.At(j)
			if m.Name() != name {
				continue
			}
			switch m.Type() {
			case pmetric.MetricTypeSum:
				for k := 0; k < m.Sum().DataPoints().Len(); k++ {
					dp := m.Sum().DataPoints().At(k)
					f = found{dp.StartTimestamp(), dp.Timestamp(), dp.DoubleValue(), dp.Flags(), f.n + 1}
				}
			case pmetric.MetricTypeGauge:
				for k := 0; k < m.Gauge().DataPoints().Len(); k++ {
					dp := m.Gauge().DataPoints().At(k)
					v := dp.DoubleValue()
					if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
						v = float64(dp.IntValue())
					}
					f = found{dp.StartTimestamp(), dp.Timestamp(), v, dp.Flags(), f.n + 1}
				}
			case pmetric.MetricTypeHistogram:
				for k := 0; k < m.Histogram().DataPoints().Len(); k++ {
					dp := m.Histogram().DataPoints().At(k)
					f = found{dp.StartTimestamp(), dp.Timestamp(), float64(dp.Count()), dp.Flags(), f.n + 1}
				}
			}
		}
	}
	return f
}

// testClock is a scrape clock the test sets. The scraper reads it from its
// workers, each as its target's scrape begins, so it is atomic; the test
// moves it only between scrapes, so every target of one scrape reads the
// same instant.
type testClock struct{ ns atomic.Int64 }

// clockEpoch is where test clocks start: a round instant, not the wall
// clock's, and later than the sample and _created timestamps of the tests'
// bodies (November 2025), so that start times precede their points.
var clockEpoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// useClock makes s stamp its scrapes with a new test clock, set to
// clockEpoch. Call it after startScraper and before the first scrape.
func useClock(s *sglangdynamoScraper) *testClock {
	c := &testClock{}
	c.ns.Store(clockEpoch.UnixNano())
	s.now = c.now
	return c
}

func (c *testClock) now() time.Time { return time.Unix(0, c.ns.Load()) }

// ts is the clock's instant as the scraper stamps it on points.
func (c *testClock) ts() pcommon.Timestamp { return pcommon.Timestamp(c.ns.Load()) }

// advance moves the clock on by d and returns the new instant.
func (c *testClock) advance(d time.Duration) pcommon.Timestamp {
	return pcommon.Timestamp(c.ns.Add(int64(d)))
}

// health finds the point of a health gauge (up, scrape_*) without its
// start time, which the generated metrics builder takes from the wall clock
// when it is created, not from the scrape clock.
func health(md pmetric.Metrics, instance, name string) found {
	f := find(md, instance, name)
	f.start = 0
	return f
}

func scrapeOK(t *testing.T, s *sglangdynamoScraper) pmetric.Metrics {
	t.Helper()
	md, err := s.scrape(context.Background())
	require.NoError(t, err)
	return md
}

// TestStartTimesAndResets: a cumulative series starts at the scrape that
// first sees it, keeps that start while it grows, and starts again at the
// scrape that sees it drop; every point carries its scrape's time.
func TestStartTimesAndResets(t *testing.T) {
	b := &body{}
	b.set(counters(10))
	srv := serve(t, b)
	s := startScraper(t, engineOnly(targetAt(srv.URL)))
	clock := useClock(s)

	t0 := clock.ts()
	first := scrapeOK(t, s)
	c1 := find(first, "", "sglang:prompt_tokens_total")
	h1 := find(first, "", "sglang:ttft_seconds")
	g1 := find(first, "", "sglang:num_running_reqs")
	require.Equal(t, 1, c1.n)
	assert.Equal(t, found{start: t0, ts: t0, value: 10, n: 1}, c1, "a new series starts when first seen")
	assert.Equal(t, found{start: t0, ts: t0, value: 10, n: 1}, h1)
	assert.Equal(t, found{ts: t0, value: 1, n: 1}, g1, "gauges carry no start time")
	assert.Equal(t, found{ts: t0, value: 1, n: 1}, health(first, "", "up"))

	t1 := clock.advance(15 * time.Second)
	b.set(counters(25))
	second := scrapeOK(t, s)
	assert.Equal(t, found{start: t0, ts: t1, value: 25, n: 1}, find(second, "", "sglang:prompt_tokens_total"),
		"start time is kept while the counter grows")
	assert.Equal(t, found{start: t0, ts: t1, value: 25, n: 1}, find(second, "", "sglang:ttft_seconds"))

	t2 := clock.advance(15 * time.Second)
	b.set(counters(25)) // unchanged: not a reset either
	third := scrapeOK(t, s)
	assert.Equal(t, found{start: t0, ts: t2, value: 25, n: 1}, find(third, "", "sglang:prompt_tokens_total"))
	assert.Equal(t, found{start: t0, ts: t2, value: 25, n: 1}, find(third, "", "sglang:ttft_seconds"))

	t3 := clock.advance(15 * time.Second)
	b.set(counters(3)) // the worker restarted
	fourth := scrapeOK(t, s)
	assert.Equal(t, found{start: t3, ts: t3, value: 3, n: 1}, find(fourth, "", "sglang:prompt_tokens_total"),
		"a decrease is a reset: a new start time")
	assert.Equal(t, found{start: t3, ts: t3, value: 3, n: 1}, find(fourth, "", "sglang:ttft_seconds"),
		"a histogram whose count drops is reset too")

	t4 := clock.advance(15 * time.Second)
	b.set(counters(4))
	fifth := scrapeOK(t, s)
	assert.Equal(t, found{start: t3, ts: t4, value: 4, n: 1}, find(fifth, "", "sglang:prompt_tokens_total"),
		"after a reset the new start time is kept")
	assert.Equal(t, found{start: t3, ts: t4, value: 4, n: 1}, find(fifth, "", "sglang:ttft_seconds"))
}

func TestCreatedSetsStartTime(t *testing.T) {
	b := &body{contentType: "application/openmetrics-text; version=1.0.0; charset=utf-8"}
	b.set(`# TYPE sglang:num_requests counter
sglang:num_requests_total{model_name="m"} 5
sglang:num_requests_created{model_name="m"} 1764000000.25
# EOF
`)
	srv := serve(t, b)
	s := startScraper(t, engineOnly(targetAt(srv.URL)))
	clock := useClock(s)
	md := scrapeOK(t, s)
	c := find(md, "", "sglang:num_requests_total")
	assert.Equal(t, found{start: pcommon.Timestamp(1764000000250000000), ts: clock.ts(), value: 5, n: 1}, c)
	assert.Equal(t, 0, find(md, "", "sglang:num_requests_created").n, "_created is not a metric of its own")

	clock.advance(15 * time.Second)
	b.set(`# TYPE sglang:num_requests counter
sglang:num_requests_total{model_name="m"} 2
sglang:num_requests_created{model_name="m"} 1764000000.25
# EOF
`)
	md = scrapeOK(t, s)
	assert.Equal(t, found{start: pcommon.Timestamp(1764000000250000000), ts: clock.ts(), value: 2, n: 1}, find(md, "", "sglang:num_requests_total"),
		"_created wins over the reset a decrease would be")
}

func TestSampleTimestampsAreHonoured(t *testing.T) {
	b := &body{}
	b.set("# TYPE dynamo_x gauge\ndynamo_x 1 1764000200123\ndynamo_y 2\n")
	srv := serve(t, b)
	s := startScraper(t, engineOnly(targetAt(srv.URL)))
	clock := useClock(s)
	md := scrapeOK(t, s)
	assert.Equal(t, pcommon.Timestamp(1764000200123000000), find(md, "", "dynamo_x").ts)
	assert.Equal(t, clock.ts(), find(md, "", "dynamo_y").ts, "without a timestamp a point takes the scrape time")
	assert.Equal(t, clock.ts(), find(md, "", "up").ts)
}

func TestVanishedSeriesGetOneStaleMarker(t *testing.T) {
	b := &body{}
	b.set(counters(10) + "# TYPE sglang:num_paused_reqs gauge\nsglang:num_paused_reqs{pid=\"41\"} 2\n")
	srv := serve(t, b)
	s := startScraper(t, engineOnly(targetAt(srv.URL)))
	clock := useClock(s)
	scrapeOK(t, s)
	live := s.targets[0].conv.LiveSeries()

	t1 := clock.advance(15 * time.Second)
	b.set(counters(11)) // the pid=41 process is gone
	md := scrapeOK(t, s)
	stale := find(md, "", "sglang:num_paused_reqs")
	require.Equal(t, 1, stale.n)
	assert.True(t, stale.flags.NoRecordedValue())
	assert.Equal(t, t1, stale.ts, "the marker is stamped with the scrape that found the series gone")
	assert.Equal(t, live-1, s.targets[0].conv.LiveSeries(), "state holds only live series")
	assert.False(t, find(md, "", "sglang:prompt_tokens_total").flags.NoRecordedValue())

	md = scrapeOK(t, s)
	assert.Equal(t, 0, find(md, "", "sglang:num_paused_reqs").n, "the marker is sent once")
}

// TestFailedTargetDoesNotTouchOthers runs two workers; one fails, and the
// other's output must be exactly what it is without the failure.
func TestFailedTargetDoesNotTouchOthers(t *testing.T) {
	good, bad := &body{}, &body{}
	good.set(counters(10))
	bad.set(counters(20))
	gs, bs := serve(t, good), serve(t, bad)
	cfg := createDefaultConfig().(*Config)
	cfg.Workers = []WorkerConfig{
		{Engine: configoptional.Some(targetAt(gs.URL))},
		{Engine: configoptional.Some(targetAt(bs.URL))},
	}
	s := startScraper(t, cfg)
	clock := useClock(s)
	goodID, badID := gs.Listener.Addr().String(), bs.Listener.Addr().String()

	t0 := clock.ts()
	md := scrapeOK(t, s)
	require.Equal(t, found{start: t0, ts: t0, value: 10, n: 1}, find(md, goodID, "sglang:prompt_tokens_total"))
	require.Equal(t, found{start: t0, ts: t0, value: 20, n: 1}, find(md, badID, "sglang:prompt_tokens_total"))
	require.Equal(t, 1.0, find(md, badID, "up").value)

	t1 := clock.advance(15 * time.Second)
	bad.fail(http.StatusServiceUnavailable)
	md, err := s.scrape(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), bs.URL)
	assert.Contains(t, err.Error(), "503")
	assert.Equal(t, found{ts: t1, value: 0, n: 1}, health(md, badID, "up"))
	stale := find(md, badID, "sglang:prompt_tokens_total")
	assert.True(t, stale.flags.NoRecordedValue(), "a failed scrape marks the target's series stale")
	assert.Equal(t, t1, stale.ts, "the marker is stamped with the failed scrape")
	assert.Equal(t, t0, stale.start, "and keeps the series' start")
	staleHist := find(md, badID, "sglang:ttft_seconds")
	assert.True(t, staleHist.flags.NoRecordedValue())
	assert.Equal(t, t1, staleHist.ts)
	assert.Equal(t, 0, s.targets[1].conv.LiveSeries())

	assert.Equal(t, found{start: t0, ts: t1, value: 10, n: 1}, find(md, goodID, "sglang:prompt_tokens_total"),
		"the healthy target keeps its start and is not marked stale")
	assert.Equal(t, found{ts: t1, value: 1, n: 1}, health(md, goodID, "up"))

	t2 := clock.advance(15 * time.Second)
	bad.set(counters(20)) // back, same values
	md = scrapeOK(t, s)
	assert.Equal(t, found{start: t2, ts: t2, value: 20, n: 1}, find(md, badID, "sglang:prompt_tokens_total"),
		"a returning target's series start afresh, even at the same value")
	assert.Equal(t, found{start: t0, ts: t2, value: 10, n: 1}, find(md, goodID, "sglang:prompt_tokens_total"))
	assert.Equal(t, 1.0, find(md, badID, "up").value)
}

func TestMalformedBodyFailsOnlyThatScrape(t *testing.T) {
	b := &body{}
	b.set(counters(10))
	srv := serve(t, b)
	s := startScraper(t, engineOnly(targetAt(srv.URL)))
	clock := useClock(s)
	t0 := clock.ts()
	scrapeOK(t, s)

	t1 := clock.advance(15 * time.Second)
	b.set(counters(11) + "sglang:broken{a=\"b\" 1\n")
	md, err := s.scrape(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), srv.URL)
	assert.Contains(t, err.Error(), "line 13")
	assert.Equal(t, found{ts: t1, value: 0, n: 1}, health(md, "", "up"))
	c := find(md, "", "sglang:prompt_tokens_total")
	require.Equal(t, 1, c.n)
	assert.True(t, c.flags.NoRecordedValue(), "no partial data: only the staleness marker")
	assert.Equal(t, t1, c.ts)
	assert.Equal(t, t0, c.start)
	assert.Equal(t, 0, s.targets[0].conv.LiveSeries())
}

func TestStateIsBoundedUnderChurn(t *testing.T) {
	b := &body{}
	srv := serve(t, b)
	s := startScraper(t, engineOnly(targetAt(srv.URL)))
	for i := range 200 {
		b.set(fmt.Sprintf("# TYPE sglang:num_paused_reqs gauge\nsglang:num_paused_reqs{pid=\"%d\"} 1\nsglang:num_paused_reqs{pid=\"%d\"} 1\n", i, i+1))
		scrapeOK(t, s)
		require.Equal(t, 2, s.targets[0].conv.LiveSeries())
	}
}

// TestSlowTargetDoesNotHoldOthersBack: targets are fetched concurrently, so
// one that hangs until the timeout does not delay the healthy ones; with
// max_concurrent_scrapes: 1 they wait their turn, as documented.
func TestSlowTargetDoesNotHoldOthersBack(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(hang.Close)
	var healthy []*httptest.Server
	for range 3 {
		b := &body{}
		b.set(counters(1))
		healthy = append(healthy, serve(t, b))
	}
	for _, concurrent := range []int{16, 1} {
		t.Run(fmt.Sprint("max_concurrent_scrapes=", concurrent), func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			cfg.ControllerConfig.CollectionInterval = 2 * time.Second
			cfg.Limits.MaxConcurrentScrapes = concurrent
			cfg.Engine = configoptional.Some(targetAt(hang.URL))
			for _, h := range healthy {
				cfg.Workers = append(cfg.Workers, WorkerConfig{Engine: configoptional.Some(targetAt(h.URL))})
			}
			s := startScraper(t, cfg)
			began := pcommon.NewTimestampFromTime(time.Now())
			md, err := s.scrape(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), hang.URL)
			for _, h := range healthy {
				up := find(md, h.Listener.Addr().String(), "up")
				require.Equal(t, 1.0, up.value, "%s", h.URL)
				late := time.Duration(up.ts - began)
				if concurrent > 1 {
					assert.Less(t, late, time.Second, "a healthy target waited for the hanging one")
				} else {
					assert.GreaterOrEqual(t, late, 2*time.Second, "with one scrape at a time, targets wait their turn")
				}
			}
		})
	}
}
