package mixedtypes

import (
	"math"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

var staleFlags = pmetric.DefaultDataPointFlags.WithNoRecordedValue(true)

// flattenInto appends to dst the flat form of m: the series Prometheus
// stores for it, each under its own name. Counters become gauges of the
// same name, since the other type of a name in conflict with a counter is
// a gauge; a histogram's buckets and count stay counters (`x_bucket{le}`,
// `x_count`, start times kept) and its sum is a gauge (`x_sum`), which is
// what the flat form of a summary gives its sum too, so that the two agree.
// `le` and `quantile` are printed as the exporter prints them for a
// histogram or summary it serves. With stale, every point is a staleness
// marker.
func flattenInto(m pmetric.Metric, dst pmetric.MetricSlice, stale bool) {
	name, help := m.Name(), m.Description()
	newMetric := func(suffix string) pmetric.Metric {
		fm := dst.AppendEmpty()
		fm.SetName(name + suffix)
		fm.SetDescription(help)
		fm.SetUnit(m.Unit())
		return fm
	}
	counter := func(fm pmetric.Metric) pmetric.NumberDataPointSlice {
		s := fm.SetEmptySum()
		s.SetIsMonotonic(true)
		s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		return s.DataPoints()
	}
	switch m.Type() {
	case pmetric.MetricTypeSum:
		out := newMetric("").SetEmptyGauge().DataPoints()
		dps := m.Sum().DataPoints()
		for i := range dps.Len() {
			dp := dps.At(i)
			p := out.AppendEmpty()
			dp.CopyTo(p)
			p.SetStartTimestamp(0)
			mark(p, stale || dp.Flags().NoRecordedValue())
		}
	case pmetric.MetricTypeHistogram:
		dps := m.Histogram().DataPoints()
		buckets, counts, sums := counter(newMetric("_bucket")), counter(newMetric("_count")), newMetric("_sum").SetEmptyGauge().DataPoints()
		for i := range dps.Len() {
			dp := dps.At(i)
			stale := stale || dp.Flags().NoRecordedValue()
			bounds, bc := dp.ExplicitBounds(), dp.BucketCounts()
			var cum uint64
			for b := range bc.Len() {
				cum += bc.At(b)
				le := math.Inf(1)
				if b < bounds.Len() {
					le = bounds.At(b)
				}
				p := numberPoint(buckets, dp.Attributes(), dp.StartTimestamp(), dp.Timestamp(), float64(cum), stale)
				p.Attributes().PutStr("le", formatBound(le))
			}
			numberPoint(counts, dp.Attributes(), dp.StartTimestamp(), dp.Timestamp(), float64(dp.Count()), stale)
			if dp.HasSum() {
				numberPoint(sums, dp.Attributes(), 0, dp.Timestamp(), dp.Sum(), stale)
			}
		}
	case pmetric.MetricTypeSummary:
		dps := m.Summary().DataPoints()
		quantiles, counts, sums := newMetric("").SetEmptyGauge().DataPoints(), counter(newMetric("_count")), newMetric("_sum").SetEmptyGauge().DataPoints()
		for i := range dps.Len() {
			dp := dps.At(i)
			stale := stale || dp.Flags().NoRecordedValue()
			qs := dp.QuantileValues()
			for q := range qs.Len() {
				p := numberPoint(quantiles, dp.Attributes(), 0, dp.Timestamp(), qs.At(q).Value(), stale)
				p.Attributes().PutStr("quantile", formatBound(qs.At(q).Quantile()))
			}
			numberPoint(counts, dp.Attributes(), dp.StartTimestamp(), dp.Timestamp(), float64(dp.Count()), stale)
			numberPoint(sums, dp.Attributes(), 0, dp.Timestamp(), dp.Sum(), stale)
		}
	}
}

// numberPoint appends one flat point.
func numberPoint(dst pmetric.NumberDataPointSlice, attrs pcommon.Map, start, ts pcommon.Timestamp, v float64, stale bool) pmetric.NumberDataPoint {
	p := dst.AppendEmpty()
	attrs.CopyTo(p.Attributes())
	p.SetStartTimestamp(start)
	p.SetTimestamp(ts)
	p.SetDoubleValue(v)
	mark(p, stale)
	return p
}

func mark(p pmetric.NumberDataPoint, stale bool) {
	if stale {
		p.SetFlags(staleFlags)
	}
}

// formatBound prints a bucket bound or quantile as the exporter's text
// format does (client_golang's writeFloat), so that a flat family's series
// carry the label text the same family has on :8081 when it is not flat.
func formatBound(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	if math.IsInf(f, -1) {
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// staleCopy appends to dst a copy of m whose points are all staleness
// markers.
func staleCopy(m pmetric.Metric, dst pmetric.Metric) {
	m.CopyTo(dst)
	switch dst.Type() {
	case pmetric.MetricTypeGauge:
		markAll(dst.Gauge().DataPoints())
	case pmetric.MetricTypeSum:
		markAll(dst.Sum().DataPoints())
	case pmetric.MetricTypeHistogram:
		dps := dst.Histogram().DataPoints()
		for i := range dps.Len() {
			dps.At(i).SetFlags(staleFlags)
		}
	case pmetric.MetricTypeSummary:
		dps := dst.Summary().DataPoints()
		for i := range dps.Len() {
			dps.At(i).SetFlags(staleFlags)
		}
	}
}

func markAll(dps pmetric.NumberDataPointSlice) {
	for i := range dps.Len() {
		dps.At(i).SetFlags(staleFlags)
	}
}

// hasLivePoint reports whether m has a point that is not a staleness
// marker: a metric of only markers means its series went away.
func hasLivePoint(m pmetric.Metric) bool {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return liveNumber(m.Gauge().DataPoints())
	case pmetric.MetricTypeSum:
		return liveNumber(m.Sum().DataPoints())
	case pmetric.MetricTypeHistogram:
		dps := m.Histogram().DataPoints()
		for i := range dps.Len() {
			if !dps.At(i).Flags().NoRecordedValue() {
				return true
			}
		}
	case pmetric.MetricTypeSummary:
		dps := m.Summary().DataPoints()
		for i := range dps.Len() {
			if !dps.At(i).Flags().NoRecordedValue() {
				return true
			}
		}
	case pmetric.MetricTypeExponentialHistogram:
		dps := m.ExponentialHistogram().DataPoints()
		for i := range dps.Len() {
			if !dps.At(i).Flags().NoRecordedValue() {
				return true
			}
		}
	}
	return false
}

func liveNumber(dps pmetric.NumberDataPointSlice) bool {
	for i := range dps.Len() {
		if !dps.At(i).Flags().NoRecordedValue() {
			return true
		}
	}
	return false
}
