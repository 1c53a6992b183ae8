package otelview

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// rankBody renders one round of a TP=2, DP=2 engine with every scheduler
// exporting, as prometheus_client prints it; vals[dp][tp] is each rank's
// counter and its histogram's count (all observations in the 0.1 bucket);
// a negative value leaves the rank out of the body.
func rankBody(vals [2][2]int) []byte {
	var c, h strings.Builder
	c.WriteString("# HELP sglang:realtime_tokens_total Total number of tokens processed.\n# TYPE sglang:realtime_tokens_total counter\n")
	h.WriteString("# HELP sglang:queue_time_seconds Histogram of queueing time in seconds.\n# TYPE sglang:queue_time_seconds histogram\n")
	for dp := range 2 {
		for tp := range 2 {
			v := vals[dp][tp]
			if v < 0 {
				continue
			}
			l := fmt.Sprintf(`dp_rank="%d",engine_type="unified",model_name="m",moe_ep_rank="%d",pp_rank="0",tp_rank="%d"`, dp, tp, dp*2+tp)
			fmt.Fprintf(&c, "sglang:realtime_tokens_total{%s} %d.0\n", l, v)
			fmt.Fprintf(&h, "sglang:queue_time_seconds_sum{%s} %d.0\n", l, v)
			fmt.Fprintf(&h, "sglang:queue_time_seconds_bucket{%s,le=\"0.1\"} %d.0\n", l, v)
			fmt.Fprintf(&h, "sglang:queue_time_seconds_bucket{%s,le=\"+Inf\"} %d.0\n", l, v)
			fmt.Fprintf(&h, "sglang:queue_time_seconds_count{%s} %d.0\n", l, v)
		}
	}
	return []byte(c.String() + h.String())
}

type combinedPoint struct {
	value float64
	start pcommon.Timestamp
	stale bool
}

func viewPoints(t *testing.T, md pmetric.Metrics) (sum, hist combinedPoint) {
	t.Helper()
	s := metricNamed(t, md, ScopeName, "sglang.realtime_tokens").Sum().DataPoints()
	h := metricNamed(t, md, ScopeName, "sglang.queue_time").Histogram().DataPoints()
	require.Equal(t, 1, s.Len(), "every rank folds into one series")
	require.Equal(t, 1, h.Len())
	for _, k := range []string{"tp_rank", "dp_rank", "moe_ep_rank"} {
		_, ok := s.At(0).Attributes().Get(k)
		assert.False(t, ok, k)
		_, ok = h.At(0).Attributes().Get(k)
		assert.False(t, ok, k)
	}
	sp, hp := s.At(0), h.At(0)
	if !hp.Flags().NoRecordedValue() {
		require.Equal(t, hp.Count(), hp.BucketCounts().At(0)+hp.BucketCounts().At(1), "a histogram whose buckets add up to its count")
		assert.Equal(t, float64(hp.Count()), hp.Sum())
	}
	return combinedPoint{sp.DoubleValue(), sp.StartTimestamp(), sp.Flags().NoRecordedValue()},
		combinedPoint{float64(hp.Count()), hp.StartTimestamp(), hp.Flags().NoRecordedValue()}
}

// TestFoldAcrossRounds follows one folded counter and histogram through the
// cases that corrupt a naive sum: a replica that goes stale, a DP group
// that restarts, all members vanishing and coming back. The combined
// series never goes down while its start stays, and starts again only
// when it ended.
func TestFoldAcrossRounds(t *testing.T) {
	v, err := New(Config{Mode: Instead})
	require.NoError(t, err)
	tg := newTarget("sglang", 30000)
	const t1, t2, t3, t4, t5, t6 = 1000, 2000, 3000, 4000, 5000, 6000
	steps := []struct {
		name  string
		vals  [2][2]int
		now   int64
		want  float64
		start pcommon.Timestamp
		stale bool
	}{
		// Replicas agree: max within a DP group (100, 200), summed: 300.
		{"first round", [2][2]int{{100, 100}, {200, 200}}, t1, 300, t1, false},
		{"both groups grow", [2][2]int{{110, 110}, {220, 220}}, t2, 330, t1, false},
		// tp_rank 1 of DP group 0 vanishes (staleness marker): its replica
		// still counts for the group.
		{"a replica goes stale", [2][2]int{{115, -1}, {225, 225}}, t3, 340, t1, false},
		// DP group 1 restarts (both replicas back to 5, new start): the
		// group adds 5, and the combined series does not go down.
		{"a group restarts", [2][2]int{{120, -1}, {5, 5}}, t4, 350, t1, false},
		{"everything vanishes", [2][2]int{{-1, -1}, {-1, -1}}, t5, 0, t1, true},
		// Back after the end: a new series, from the new members' start.
		{"back again", [2][2]int{{7, 7}, {-1, -1}}, t6, 7, t6, false},
	}
	for _, st := range steps {
		md := tg.round(t, rankBody(st.vals), st.now)
		v.Apply(md)
		sum, hist := viewPoints(t, md)
		for _, p := range []combinedPoint{sum, hist} {
			assert.Equal(t, st.stale, p.stale, st.name)
			assert.Equal(t, st.start, p.start, st.name)
			if !st.stale {
				assert.Equal(t, st.want, p.value, st.name)
			}
		}
	}
}

// TestFoldKeepsEarliestStart: members that began at different times fold
// into a series that starts at the earliest of them.
func TestFoldKeepsEarliestStart(t *testing.T) {
	v, err := New(Config{Mode: Instead})
	require.NoError(t, err)
	tg := newTarget("sglang", 30000)
	v.Apply(tg.round(t, rankBody([2][2]int{{10, 10}, {-1, -1}}), 1000))
	// DP group 1 appears later: its series start at 2000 in the source.
	md := tg.round(t, rankBody([2][2]int{{12, 12}, {4, 4}}), 2000)
	v.Apply(md)
	sum, hist := viewPoints(t, md)
	assert.Equal(t, pcommon.Timestamp(1000), sum.start)
	assert.Equal(t, 16.0, sum.value)
	assert.Equal(t, pcommon.Timestamp(1000), hist.start)
	assert.Equal(t, 16.0, hist.value)
}

// TestFoldPerTarget: two targets' series never fold together.
func TestFoldPerTarget(t *testing.T) {
	v, err := New(Config{Mode: Instead})
	require.NoError(t, err)
	a, b := newTarget("sglang", 30000), newTarget("sglang", 30001)
	md := a.round(t, rankBody([2][2]int{{10, 10}, {20, 20}}), 1000)
	b.round(t, rankBody([2][2]int{{1, 1}, {2, 2}}), 1000).ResourceMetrics().MoveAndAppendTo(md.ResourceMetrics())
	v.Apply(md)
	var got []float64
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		one := pmetric.NewMetrics()
		md.ResourceMetrics().At(i).CopyTo(one.ResourceMetrics().AppendEmpty())
		s, _ := viewPoints(t, one)
		got = append(got, s.value)
	}
	assert.Equal(t, []float64{30, 3}, got)
	assert.Len(t, v.comb.series, 4, "a counter and a histogram per target")
}

// TestFoldForgetsWithoutMarker: state of a family that stops coming
// without staleness markers (its type changed, say) is dropped after the
// round.
func TestFoldForgetsWithoutMarker(t *testing.T) {
	v, err := New(Config{Mode: Instead})
	require.NoError(t, err)
	v.Apply(newTarget("sglang", 30000).round(t, rankBody([2][2]int{{1, 1}, {1, 1}}), 1000))
	require.NotEmpty(t, v.comb.series)
	v.Apply(pmetric.NewMetrics())
	assert.Empty(t, v.comb.series)
}

// TestFoldGauges: max over replicas and pid, sum over DP groups for an
// Additive gauge; dp_rank kept for a Replicated one; a NaN replica does
// not hide a number; per-GPU families keep every rank.
func TestFoldGauges(t *testing.T) {
	body := `# TYPE sglang:num_running_reqs gauge
sglang:num_running_reqs{dp_rank="0",pid="11",tp_rank="0"} 3.0
sglang:num_running_reqs{dp_rank="0",pid="12",tp_rank="0"} 2.0
sglang:num_running_reqs{dp_rank="0",pid="13",tp_rank="1"} NaN
sglang:num_running_reqs{dp_rank="1",pid="14",tp_rank="2"} 4.0
# TYPE sglang:cache_hit_rate gauge
sglang:cache_hit_rate{dp_rank="0",tp_rank="0"} 0.5
sglang:cache_hit_rate{dp_rank="0",tp_rank="1"} 0.5
sglang:cache_hit_rate{dp_rank="1",tp_rank="2"} 0.25
# TYPE sglang:utilization gauge
sglang:utilization{dp_rank="0",tp_rank="0"} 0.5
sglang:utilization{dp_rank="0",tp_rank="1"} 0.75
`
	v, err := New(Config{Mode: Instead})
	require.NoError(t, err)
	md := newTarget("sglang", 30000).round(t, []byte(body), 1000)
	v.Apply(md)
	run := metricNamed(t, md, ScopeName, "sglang.num_running_reqs").Gauge().DataPoints()
	require.Equal(t, 1, run.Len())
	assert.Equal(t, 7.0, run.At(0).DoubleValue())
	assert.Equal(t, 0, run.At(0).Attributes().Len())
	hit := metricNamed(t, md, ScopeName, "sglang.cache_hit_rate").Gauge().DataPoints()
	require.Equal(t, 2, hit.Len())
	got := map[string]float64{}
	for i := 0; i < hit.Len(); i++ {
		dp, _ := hit.At(i).Attributes().Get("dp_rank")
		got[dp.Str()] = hit.At(i).DoubleValue()
		assert.Equal(t, 1, hit.At(i).Attributes().Len())
	}
	assert.Equal(t, map[string]float64{"0": 0.5, "1": 0.25}, got)
	assert.Equal(t, 2, metricNamed(t, md, ScopeName, "sglang.utilization").Gauge().DataPoints().Len())
}

// TestRankRulesKnown: every classified family is in the name table, so its
// folded series has a documented name and unit.
func TestRankRulesKnown(t *testing.T) {
	for _, name := range RankRules() {
		_, ok := byName[name]
		assert.True(t, ok, name)
	}
}
