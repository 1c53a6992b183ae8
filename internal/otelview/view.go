// Package otelview is the receiver's OpenTelemetry-native view of what it
// scraped: the GenAI semantic conventions' server histograms where a
// source is exactly one of them (genai.go), OpenTelemetry names and UCUM
// units for every other family (names.go), and SGLang's rank and process
// labels folded where the family's meaning allows it (ranks.go). The
// verbatim metrics are the input; the view goes beside them or replaces
// them, in a scope of its own.
package otelview

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/metadata"
)

// Mode says where the view goes.
type Mode string

const (
	// Beside keeps the verbatim metrics and adds the view.
	Beside Mode = "beside"
	// Instead replaces the verbatim metrics with the view; the health
	// series stay.
	Instead Mode = "instead"
)

// ScopeName is the view's instrumentation scope, distinct from the
// verbatim one so that a pipeline can route or drop either by scope.
var ScopeName = metadata.ScopeName + "/otelview"

// SchemaURL is the view scope's schema: the conventions its names follow.
const SchemaURL = semconv.SchemaURL

// Config is the view's settings.
type Config struct {
	Mode Mode
	// ProviderName overrides gen_ai.provider.name, which is otherwise the
	// engine that measured (ProviderSGLang, ProviderDynamo).
	ProviderName string
	// OperationName is gen_ai.operation.name; empty means DefaultOperation.
	OperationName string
}

// Validate checks the settings; the errors name the configuration keys.
func (c Config) Validate() error {
	switch c.Mode {
	case "", Beside, Instead:
	default:
		return fmt.Errorf("`mode` is %q: use `beside` (the view next to the verbatim metrics) or `instead` (the view alone; health series stay)", c.Mode)
	}
	for _, kv := range []struct{ key, v string }{{"provider_name", c.ProviderName}, {"operation_name", c.OperationName}} {
		if kv.v != "" && strings.IndexFunc(kv.v, unicode.IsSpace) >= 0 {
			return fmt.Errorf("`%s` is %q: an attribute value such as `sglang` or `chat`, without spaces", kv.key, kv.v)
		}
	}
	return nil
}

// healthMetrics are the receiver's own series about each scrape. They are
// not the engines' metrics and keep their Prometheus names in the view, so
// that `up == 0` alerts work whatever the mode.
var healthMetrics = map[string]bool{
	"up": true, "scrape_duration_seconds": true,
	"scrape_samples_scraped": true, "scrape_samples_post_metric_relabeling": true,
}

// IsHealth reports whether a metric is one of the health series.
func IsHealth(name string) bool { return healthMetrics[name] }

// maxNameCache bounds the memo of fallback names, so that a target
// inventing family names cannot grow it without end.
const maxNameCache = 4096

// View turns each scrape round into the OpenTelemetry view. It keeps state
// across rounds (the folded cumulative series) and is not safe for
// concurrent use: the scraper applies it once per round.
type View struct {
	cfg    Config
	comb   *combiner
	names  map[string]Mapping
	bounds map[boundKey]float64
}

type boundKey struct {
	b     float64
	shift int
}

// New returns a view; cfg must be valid.
func New(cfg Config) (*View, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Mode == "" {
		cfg.Mode = Beside
	}
	return &View{cfg: cfg, comb: newCombiner(), names: map[string]Mapping{}, bounds: map[boundKey]float64{}}, nil
}

// Apply rewrites md, one round of every target (a resource each), in place.
func (v *View) Apply(md pmetric.Metrics) {
	v.comb.round++
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		v.resource(rms.At(i))
	}
	v.comb.sweep()
}

// resource adds the view's scope to one target's metrics and, in Instead
// mode, removes the verbatim families from the others.
func (v *View) resource(rm pmetric.ResourceMetrics) {
	sms := rm.ScopeMetrics()
	n := sms.Len()
	if n == 0 {
		return
	}
	srv := serverOf(rm.Resource())
	resKey := resourceKey(rm.Resource())
	out := sms.AppendEmpty()
	out.SetSchemaUrl(SchemaURL)
	out.Scope().SetName(ScopeName)
	out.Scope().SetVersion(sms.At(0).Scope().Version())
	dst := out.Metrics()
	for s := 0; s < n; s++ {
		ms := sms.At(s).Metrics()
		for j := 0; j < ms.Len(); j++ {
			if m := ms.At(j); !healthMetrics[m.Name()] {
				v.metric(m, resKey, srv, dst)
			}
		}
		if v.cfg.Mode == Instead {
			ms.RemoveIf(func(m pmetric.Metric) bool { return !healthMetrics[m.Name()] })
		}
	}
	sms.RemoveIf(func(sm pmetric.ScopeMetrics) bool { return sm.Metrics().Len() == 0 })
}

// metric adds m's view to dst.
func (v *View) metric(m pmetric.Metric, resKey string, srv server, dst pmetric.MetricSlice) {
	name := m.Name()
	if g, ok := genAIByName[name]; ok && m.Type() == pmetric.MetricTypeHistogram {
		d := v.take(m, dst)
		v.toGenAI(d, g, srv)
		return
	}
	mp := v.resolve(name)
	var d pmetric.Metric
	if class := rankRules[name]; class != KeepRanks && hasRankLabels(m, class) {
		d = dst.AppendEmpty()
		v.comb.combine(resKey, m, class, d)
	} else {
		d = v.take(m, dst)
	}
	d.SetName(mp.Name)
	d.SetUnit(mp.Unit)
	if mp.Shift != 0 {
		v.scale(d, mp.Shift)
	}
}

// take moves m into dst in Instead mode, where the verbatim metric is
// dropped anyway, and copies it in Beside mode.
func (v *View) take(m pmetric.Metric, dst pmetric.MetricSlice) pmetric.Metric {
	d := dst.AppendEmpty()
	if v.cfg.Mode == Instead {
		m.MoveTo(d)
	} else {
		m.CopyTo(d)
	}
	return d
}

// resolve is Resolve, memoized.
func (v *View) resolve(name string) Mapping {
	if mp, ok := v.names[name]; ok {
		return mp
	}
	mp := Resolve(name)
	if len(v.names) < maxNameCache {
		v.names[name] = mp
	}
	return mp
}

// resourceKey identifies a target by its resource attributes.
func resourceKey(res pcommon.Resource) string {
	attrs := res.Attributes()
	keys := make([]string, 0, attrs.Len())
	for k := range attrs.All() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		val, _ := attrs.Get(k)
		b.WriteString(k)
		b.WriteByte(0xfe)
		b.WriteString(val.AsString())
		b.WriteByte(0xff)
	}
	return b.String()
}

// scale multiplies m's values by 10^shift. Values are divided by the exact
// power of ten, which rounds correctly; bucket bounds are shifted in
// decimal (the shortest decimal that reads back as the bound, with its
// exponent moved), so a bound printed `2.5` ms is exactly the double
// nearest 0.0025 s, as if the source had printed it in seconds.
func (v *View) scale(m pmetric.Metric, shift int) {
	div := math.Pow10(-shift)
	numbers := func(dps pmetric.NumberDataPointSlice) {
		for i := 0; i < dps.Len(); i++ {
			dp := dps.At(i)
			dp.SetDoubleValue(numberValue(dp) / div)
			scaleExemplars(dp.Exemplars(), div)
		}
	}
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		numbers(m.Gauge().DataPoints())
	case pmetric.MetricTypeSum:
		numbers(m.Sum().DataPoints())
	case pmetric.MetricTypeHistogram:
		dps := m.Histogram().DataPoints()
		for i := 0; i < dps.Len(); i++ {
			dp := dps.At(i)
			if dp.HasSum() {
				dp.SetSum(dp.Sum() / div)
			}
			bs := dp.ExplicitBounds()
			for j := 0; j < bs.Len(); j++ {
				bs.SetAt(j, v.shiftBound(bs.At(j), shift))
			}
			scaleExemplars(dp.Exemplars(), div)
		}
	case pmetric.MetricTypeSummary:
		dps := m.Summary().DataPoints()
		for i := 0; i < dps.Len(); i++ {
			dp := dps.At(i)
			dp.SetSum(dp.Sum() / div)
			qs := dp.QuantileValues()
			for j := 0; j < qs.Len(); j++ {
				qs.At(j).SetValue(qs.At(j).Value() / div)
			}
		}
	}
}

func scaleExemplars(es pmetric.ExemplarSlice, div float64) {
	for i := 0; i < es.Len(); i++ {
		e := es.At(i)
		if e.ValueType() == pmetric.ExemplarValueTypeInt {
			e.SetDoubleValue(float64(e.IntValue()) / div)
		} else {
			e.SetDoubleValue(e.DoubleValue() / div)
		}
	}
}

// shiftBound is ShiftDecimal, memoized per bound: bucket layouts repeat on
// every point of every round.
func (v *View) shiftBound(b float64, shift int) float64 {
	k := boundKey{b, shift}
	if r, ok := v.bounds[k]; ok {
		return r
	}
	r := ShiftDecimal(b, shift)
	if len(v.bounds) < maxNameCache {
		v.bounds[k] = r
	}
	return r
}

// ShiftDecimal returns the double nearest to b's shortest decimal form
// times 10^shift.
func ShiftDecimal(b float64, shift int) float64 {
	if math.IsInf(b, 0) || math.IsNaN(b) || b == 0 {
		return b
	}
	s := strconv.FormatFloat(b, 'e', -1, 64) // d.ddde±xx
	i := strings.IndexByte(s, 'e')
	exp, err := strconv.Atoi(s[i+1:])
	if err != nil {
		return b * math.Pow10(shift)
	}
	r, err := strconv.ParseFloat(s[:i]+"e"+strconv.Itoa(exp+shift), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return b * math.Pow10(shift)
	}
	return r
}
