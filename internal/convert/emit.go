package convert

import (
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// prometheus.type tells the Prometheus exporter to expose a Gauge as
// `untyped`, which is what the source said.
const (
	metadataTypeKey = "prometheus.type"
	typeUnknown     = "unknown"
)

var staleFlags = pmetric.DefaultDataPointFlags.WithNoRecordedValue(true)

// emit appends the metrics of this body, in body order, and commits the
// start-time state of every series it emits.
func (c *Converter) emit(now pcommon.Timestamp, dst pmetric.MetricSlice) {
	dst.EnsureCapacity(dst.Len() + len(c.order))
	for _, m := range c.order {
		n := len(m.stale)
		for _, sr := range m.live {
			if sr.complete() {
				n++
			}
		}
		if n == 0 {
			continue
		}
		pm := dst.AppendEmpty()
		pm.SetName(m.name)
		pm.SetDescription(m.help)
		switch m.kind {
		case kindGauge, kindUnknown:
			if m.kind == kindUnknown {
				pm.Metadata().PutStr(metadataTypeKey, typeUnknown)
			}
			c.numberPoints(m, pm.SetEmptyGauge().DataPoints(), n, now)
		case kindSum:
			sum := pm.SetEmptySum()
			sum.SetIsMonotonic(true)
			sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			c.numberPoints(m, sum.DataPoints(), n, now)
		case kindHistogram:
			h := pm.SetEmptyHistogram()
			h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			c.histogramPoints(m, h.DataPoints(), n, now)
		case kindSummary:
			c.summaryPoints(m, pm.SetEmptySummary().DataPoints(), n, now)
		}
	}
}

// complete reports whether the body gave the series what a point needs; a
// lone `_created` does not make a point.
func (sr *series) complete() bool {
	switch sr.m.kind {
	case kindHistogram, kindSummary:
		return sr.has&hasCount != 0
	}
	return sr.has&hasValue != 0
}

// timestamp is the sample's own timestamp if it had one, else the scrape's.
func (sr *series) timestamp(now pcommon.Timestamp) pcommon.Timestamp {
	if sr.hasTS {
		return pcommon.Timestamp(sr.ts * 1e6)
	}
	return now
}

// startTime applies the start-time rules: a `_created` sample wins; else a
// series starts when first seen, and again when its value or count drops.
func (sr *series) startTime(ts pcommon.Timestamp, cur float64) pcommon.Timestamp {
	switch {
	case sr.has&hasCreated != 0 && sr.created > 0 && sr.created < math.MaxInt64/1e9:
		sr.start = secondsToTimestamp(sr.created)
	case !sr.emitted || cur < sr.last:
		sr.start = ts
	}
	sr.last = cur
	sr.emitted = true
	return sr.start
}

// secondsToTimestamp converts whole and fractional seconds separately: a
// single multiplication by 1e9 would lose the sub-microsecond digits of a
// present-day epoch in float64.
func secondsToTimestamp(sec float64) pcommon.Timestamp {
	whole := math.Floor(sec)
	return pcommon.Timestamp(int64(whole)*1e9 + int64(math.Round((sec-whole)*1e9)))
}

// numberPoints emits the points of a gauge, unknown or sum metric.
func (c *Converter) numberPoints(m *metric, dps pmetric.NumberDataPointSlice, n int, now pcommon.Timestamp) {
	dps.EnsureCapacity(n)
	cumulative := m.kind.cumulative()
	for _, sr := range m.live {
		if !sr.complete() {
			continue
		}
		dp := dps.AppendEmpty()
		livePoint(sr, dp, now, sr.value, cumulative)
		dp.SetDoubleValue(sr.value)
	}
	staleMarkers(m.stale, dps.AppendEmpty, now, cumulative)
}

// histogramPoints emits explicit-bounds histogram points: cumulative
// buckets become per-bucket counts.
func (c *Converter) histogramPoints(m *metric, dps pmetric.HistogramDataPointSlice, n int, now pcommon.Timestamp) {
	dps.EnsureCapacity(n)
	for _, sr := range m.live {
		if !sr.complete() {
			continue
		}
		dp := dps.AppendEmpty()
		livePoint(sr, dp, now, sr.count, true)
		dp.SetCount(uint64(sr.count))
		if sr.has&hasSum != 0 {
			dp.SetSum(sr.sum)
		}
		// validate guarantees a final +Inf bucket; OTLP leaves it implicit.
		last := len(sr.bounds) - 1
		dp.ExplicitBounds().FromRaw(sr.bounds[:last])
		c.counts = c.counts[:0]
		prev := 0.0
		for _, v := range sr.values {
			c.counts = append(c.counts, uint64(v-prev))
			prev = v
		}
		dp.BucketCounts().FromRaw(c.counts)
	}
	for _, sr := range m.stale {
		dp := dps.AppendEmpty()
		staleMarker(sr, dp, now, true)
		// A marker carries the series' last bounds (zero counts) and a sum
		// when it had one: an exporter that writes one Prometheus series
		// per bucket, as remote write does, marks only the buckets and sum
		// a point names, and would leave the rest answering for minutes.
		if n := len(sr.bounds); n > 0 {
			dp.ExplicitBounds().FromRaw(sr.bounds[:n-1])
			dp.BucketCounts().FromRaw(make([]uint64, n))
		}
		if sr.has&hasSum != 0 {
			dp.SetSum(0)
		}
	}
}

// summaryPoints emits summary points with their quantiles.
func (c *Converter) summaryPoints(m *metric, dps pmetric.SummaryDataPointSlice, n int, now pcommon.Timestamp) {
	dps.EnsureCapacity(n)
	for _, sr := range m.live {
		if !sr.complete() {
			continue
		}
		dp := dps.AppendEmpty()
		livePoint(sr, dp, now, sr.count, true)
		dp.SetCount(uint64(sr.count))
		if sr.has&hasSum != 0 { // else an earlier body's sum is still in sr
			dp.SetSum(sr.sum)
		}
		qs := dp.QuantileValues()
		qs.EnsureCapacity(len(sr.bounds))
		for i, q := range sr.bounds {
			qv := qs.AppendEmpty()
			qv.SetQuantile(q)
			qv.SetValue(sr.values[i])
		}
	}
	for _, sr := range m.stale {
		dp := dps.AppendEmpty()
		staleMarker(sr, dp, now, true)
		// The quantiles too, for the reason histogramPoints gives.
		for _, q := range sr.bounds {
			dp.QuantileValues().AppendEmpty().SetQuantile(q)
		}
	}
}

// putAttrs writes the series' labels into a new point's attributes. PutStr
// also keeps the last of two equal names (`job` renamed beside an
// `exported_job`), as a map built label by label would.
func (sr *series) putAttrs(dst pcommon.Map) {
	dst.EnsureCapacity(len(sr.attrs) / 2)
	for i := 0; i < len(sr.attrs); i += 2 {
		dst.PutStr(sr.attrs[i], sr.attrs[i+1])
	}
}

// point is what every kind of data point has in common.
type point interface {
	Attributes() pcommon.Map
	SetTimestamp(pcommon.Timestamp)
	SetStartTimestamp(pcommon.Timestamp)
	SetFlags(pmetric.DataPointFlags)
}

// livePoint writes what every live point has: attributes, timestamp and,
// for cumulative points, the start time, where cur is the value whose
// decrease means a reset (a counter's value, a histogram's count).
func livePoint[P point](sr *series, dp P, now pcommon.Timestamp, cur float64, cumulative bool) {
	sr.putAttrs(dp.Attributes())
	ts := sr.timestamp(now)
	dp.SetTimestamp(ts)
	if cumulative {
		dp.SetStartTimestamp(sr.startTime(ts, cur))
	} else {
		sr.emitted = true
	}
}

// staleMarkers appends one NoRecordedValue point per vanished series, at
// the scrape time.
func staleMarkers[P point](stale []*series, appendEmpty func() P, now pcommon.Timestamp, withStart bool) {
	for _, sr := range stale {
		staleMarker(sr, appendEmpty(), now, withStart)
	}
}

// staleMarker makes dp the NoRecordedValue point of a vanished series.
func staleMarker[P point](sr *series, dp P, now pcommon.Timestamp, withStart bool) {
	sr.putAttrs(dp.Attributes())
	dp.SetTimestamp(now)
	if withStart {
		dp.SetStartTimestamp(sr.start)
	}
	dp.SetFlags(staleFlags)
}
