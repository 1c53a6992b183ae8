package sglangdynamoreceiver

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
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

func scrapeOK(t *testing.T, s *sglangdynamoScraper) pmetric.Metrics {
	t.Helper()
	md, err := s.scrape(context.Background())
	require.NoError(t, err)
	return md
}

func TestStartTimesAndResets(t *testing.T) {
	b := &body{}
	b.set(counters(10))
	srv := serve(t, b)
	s := startScraper(t, engineOnly(targetAt(srv.URL)))

	first := scrapeOK(t, s)
	c1 := find(first, "", "sglang:prompt_tokens_total")
	h1 := find(first, "", "sglang:ttft_seconds")
	require.Equal(t, 1, c1.n)
	assert.Equal(t, c1.ts, c1.start, "a new series starts when first seen")
	assert.Equal(t, h1.ts, h1.start)
	assert.Zero(t, find(first, "", "sglang:num_running_reqs").start, "gauges carry no start time")

	time.Sleep(2 * time.Millisecond)
	b.set(counters(25))
	second := scrapeOK(t, s)
	c2 := find(second, "", "sglang:prompt_tokens_total")
	h2 := find(second, "", "sglang:ttft_seconds")
	assert.Equal(t, 25.0, c2.value)
	assert.Equal(t, c1.start, c2.start, "start time is kept while the counter grows")
	assert.Equal(t, h1.start, h2.start)
	assert.Greater(t, c2.ts, c1.ts)

	time.Sleep(2 * time.Millisecond)
	b.set(counters(3)) // the worker restarted
	third := scrapeOK(t, s)
	c3 := find(third, "", "sglang:prompt_tokens_total")
	h3 := find(third, "", "sglang:ttft_seconds")
	assert.Equal(t, c3.ts, c3.start, "a decrease is a reset: a new start time")
	assert.Greater(t, c3.start, c2.ts)
	assert.Equal(t, h3.ts, h3.start, "a histogram whose count drops is reset too")
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
	md := scrapeOK(t, s)
	c := find(md, "", "sglang:num_requests_total")
	assert.Equal(t, pcommon.Timestamp(1764000000250000000), c.start)
	assert.Equal(t, 0, find(md, "", "sglang:num_requests_created").n, "_created is not a metric of its own")
}

func TestSampleTimestampsAreHonoured(t *testing.T) {
	b := &body{}
	b.set("# TYPE dynamo_x gauge\ndynamo_x 1 1764000200123\ndynamo_y 2\n")
	srv := serve(t, b)
	s := startScraper(t, engineOnly(targetAt(srv.URL)))
	md := scrapeOK(t, s)
	assert.Equal(t, pcommon.Timestamp(1764000200123000000), find(md, "", "dynamo_x").ts)
	assert.Equal(t, find(md, "", "up").ts, find(md, "", "dynamo_y").ts, "without a timestamp a point takes the scrape time")
}

func TestVanishedSeriesGetOneStaleMarker(t *testing.T) {
	b := &body{}
	b.set(counters(10) + "# TYPE sglang:num_paused_reqs gauge\nsglang:num_paused_reqs{pid=\"41\"} 2\n")
	srv := serve(t, b)
	s := startScraper(t, engineOnly(targetAt(srv.URL)))
	scrapeOK(t, s)
	live := s.targets[0].conv.LiveSeries()

	b.set(counters(11)) // the pid=41 process is gone
	md := scrapeOK(t, s)
	stale := find(md, "", "sglang:num_paused_reqs")
	require.Equal(t, 1, stale.n)
	assert.True(t, stale.flags.NoRecordedValue())
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
	goodID, badID := gs.Listener.Addr().String(), bs.Listener.Addr().String()

	md := scrapeOK(t, s)
	goodStart := find(md, goodID, "sglang:prompt_tokens_total").start
	require.Equal(t, 1.0, find(md, badID, "up").value)

	bad.fail(http.StatusServiceUnavailable)
	md, err := s.scrape(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), bs.URL)
	assert.Contains(t, err.Error(), "503")
	assert.Equal(t, 0.0, find(md, badID, "up").value)
	stale := find(md, badID, "sglang:prompt_tokens_total")
	assert.True(t, stale.flags.NoRecordedValue(), "a failed scrape marks the target's series stale")
	assert.True(t, find(md, badID, "sglang:ttft_seconds").flags.NoRecordedValue())
	assert.Equal(t, 0, s.targets[1].conv.LiveSeries())

	g := find(md, goodID, "sglang:prompt_tokens_total")
	assert.Equal(t, 10.0, g.value)
	assert.Equal(t, goodStart, g.start)
	assert.False(t, g.flags.NoRecordedValue())
	assert.Equal(t, 1.0, find(md, goodID, "up").value)

	bad.set(counters(20)) // back, same values
	md = scrapeOK(t, s)
	back := find(md, badID, "sglang:prompt_tokens_total")
	assert.Equal(t, back.ts, back.start, "a returning target's series start afresh")
	assert.Equal(t, 1.0, find(md, badID, "up").value)
}

func TestMalformedBodyFailsOnlyThatScrape(t *testing.T) {
	b := &body{}
	b.set(counters(10))
	srv := serve(t, b)
	s := startScraper(t, engineOnly(targetAt(srv.URL)))
	scrapeOK(t, s)

	b.set(counters(11) + "sglang:broken{a=\"b\" 1\n")
	md, err := s.scrape(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), srv.URL)
	assert.Contains(t, err.Error(), "line 13")
	assert.Equal(t, 0.0, find(md, "", "up").value)
	c := find(md, "", "sglang:prompt_tokens_total")
	require.Equal(t, 1, c.n)
	assert.True(t, c.flags.NoRecordedValue(), "no partial data: only the staleness marker")
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
