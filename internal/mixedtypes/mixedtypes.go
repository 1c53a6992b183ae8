// Package mixedtypes reconciles a family that arrives with different
// Prometheus types from different targets of one receiver, as it does in a
// rolling upgrade across an SGLang release that turned
// `sglang:kv_transfer_*` from gauges into histograms.
//
// Prometheus itself, scraping the workers directly, stores both: the old
// release's gauge series `x` and the new one's `x_bucket`, `x_sum` and
// `x_count` are different series, and every query keeps working. The
// Prometheus exporter cannot: it holds one type per family name, logs
// "instrument type conflict" on each scrape of :8081 and drops whichever
// type came second. So while the types disagree, the Reconciler emits that
// family flat: one metric per series name, each a gauge or counter, exactly
// the series Prometheus stores from a direct scrape. Only the family's
// TYPE metadata is lost, and only while the fleet is mixed.
package mixedtypes

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"
)

// Mode is what the Reconciler does about a family whose types disagree.
type Mode string

const (
	// Flatten emits the family's series flat while the types disagree, so
	// that the Prometheus exporter keeps every series.
	Flatten Mode = "flatten"
	// Keep passes each target's own type, for pipelines that end in OTLP
	// only, where a backend keeps both. The Prometheus exporter then drops
	// one of the types.
	Keep Mode = "keep"
)

// promType is a family's type as the Prometheus exporter declares it: what
// must agree between all metrics of one name.
type promType uint8

const (
	typeGauge promType = iota
	typeUntyped
	typeCounter
	typeHistogram
	typeSummary
	typeOther // an exponential histogram; never flattened
)

func (t promType) String() string {
	return [...]string{"gauge", "untyped", "counter", "histogram", "summary", "exponential histogram"}[t]
}

// typeOf is the type the exporter gives m: a non-monotonic sum is a gauge to
// it, and a gauge that the converter marked `prometheus.type: unknown` is
// untyped.
func typeOf(m pmetric.Metric) promType {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		if v, ok := m.Metadata().Get("prometheus.type"); ok && v.Str() == "unknown" {
			return typeUntyped
		}
		return typeGauge
	case pmetric.MetricTypeSum:
		if m.Sum().IsMonotonic() {
			return typeCounter
		}
		return typeGauge
	case pmetric.MetricTypeHistogram:
		return typeHistogram
	case pmetric.MetricTypeSummary:
		return typeSummary
	}
	return typeOther
}

// Reconciler remembers, per family name, the type each target last sent it
// with. It is used by one goroutine, once per scrape round.
type Reconciler struct {
	mode   Mode
	hold   time.Duration
	logger *zap.Logger
	fams   map[string]*family
	round  uint64
	// names names the targets by id, for logs.
	names map[uint64]string
	// slots remembers, per target, what observe resolved each of its
	// metrics to in the last round, by position. A target sends the same
	// names in the same order round after round, so most metrics are found
	// there without hashing their name. epoch changes whenever a family or
	// a target's entry is deleted; a target's slots are trusted only while
	// the epoch they were filled in is current.
	slots map[uint64]*targetSlots
	epoch uint64
}

// targetSlots is one target's metrics as resolved in its last round.
type targetSlots struct {
	epoch uint64
	s     []slot
}

// slot is one metric position of a target: its name, the family of that
// name (nil if none) and the target's entry in it (nil if none).
type slot struct {
	name string
	f    *family
	e    *seen
}

// seen is a target's type for a name, and the round it first sent it: a
// target new in this round has nothing of the name in the exporter yet.
type seen struct {
	t     promType
	since uint64
	last  uint64 // the last round it sent live points of the name
}

// family is what the Reconciler knows of one metric name.
type family struct {
	// byTarget is each target's type for the name, while the target sends
	// live points of it; a target's entry goes when it sends only
	// staleness markers (the series went, or the target failed).
	byTarget map[uint64]*seen
	// flat is whether the name is emitted flat. It is set when the types
	// start to disagree, and cleared only once they have agreed again for
	// hold: the exporter remembers a name's type for its metric_expiration
	// after it last served it, so going back at once would lose the points
	// of the type it still remembers.
	flat bool
	// retyped is set in a round in which a target changed its own type for
	// the name.
	retyped bool
	// disagreed is the last round in which the types disagreed.
	disagreed time.Time
	// warned is the set of types last warned about, so a warning is logged
	// once per disagreement, not per round.
	warned string
	// help is the first description seen: the exporter keeps one HELP per
	// name and logs every other one on each scrape of :8081.
	help      string
	helpNoted bool
}

// New returns a Reconciler. hold is how long a flattened family stays flat
// after its types agree again; it should exceed the Prometheus exporter's
// metric_expiration.
func New(mode Mode, hold time.Duration, logger *zap.Logger) *Reconciler {
	return &Reconciler{mode: mode, hold: hold, logger: logger, fams: map[string]*family{}, names: map[uint64]string{}, slots: map[uint64]*targetSlots{}}
}

// Round reconciles one scrape round in place. ids[i] identifies the target
// whose metrics are rounds[i] (a zero Metrics for a target that reported
// nothing), and names[i] names it in logs; a target keeps its id for its
// life, and a target that leaves sends its staleness markers last.
func (r *Reconciler) Round(now time.Time, ids []uint64, names []string, rounds []pmetric.Metrics) {
	r.round++
	for i, id := range ids {
		if r.names[id] != names[i] {
			r.names[id] = names[i]
		}
	}
	changed, gone := r.observe(ids, rounds)
	var switched map[*family]bool
	for f, name := range changed {
		if s := r.decide(now, name, f); s {
			if switched == nil {
				switched = map[*family]bool{}
			}
			switched[f] = true
		}
	}
	// A name can also become native again in a round where nothing about it
	// changed, once hold has passed.
	for name, f := range r.fams {
		if len(f.byTarget) == 0 && (!f.flat || now.Sub(f.disagreed) >= r.hold) {
			delete(r.fams, name)
			r.epoch++
			continue
		}
		if f.flat && !disagree(f) && now.Sub(f.disagreed) >= r.hold {
			f.flat = false
			f.warned = ""
			if switched == nil {
				switched = map[*family]bool{}
			}
			switched[f] = true
			r.logger.Info("family's types agree again; emitting it with its own type",
				zap.String("family", name), zap.String("type", r.typesOf(f)))
		}
	}
	r.rewrite(ids, rounds, switched)
	r.forget(gone)
	// The slots of targets that are gone (every target is in ids while it
	// exists, its last round included).
	if len(r.slots) > len(ids) {
		keep := make(map[uint64]bool, len(ids))
		for _, id := range ids {
			keep[id] = true
		}
		for id := range r.slots {
			if !keep[id] {
				delete(r.slots, id)
			}
		}
	}
}

// leaving is a target that sent only staleness markers for a name.
type leaving struct {
	target uint64
	name   string
}

// observe records each target's type for every name it sent live points
// of, and returns the families whose set of types may have changed and the
// names targets sent only staleness markers of (their entries go once this
// round's markers are emitted in the representation the series had).
func (r *Reconciler) observe(ids []uint64, rounds []pmetric.Metrics) (changed map[*family]string, gone []leaving) {
	for i, md := range rounds {
		if md == (pmetric.Metrics{}) {
			continue
		}
		ts := r.slots[ids[i]]
		if ts == nil {
			ts = &targetSlots{}
			r.slots[ids[i]] = ts
		}
		valid := ts.epoch == r.epoch
		k := 0
		forEachMetric(md, func(m pmetric.Metric) {
			name := m.Name()
			if k == len(ts.s) {
				ts.s = append(ts.s, slot{})
				valid = false
			}
			sl := &ts.s[k]
			k++
			live := hasLivePoint(m)
			if valid && sl.name == name && live && sl.e != nil {
				// The same name at the same position as last round, whose
				// family and entry no deletion has touched since.
				if t := typeOf(m); sl.e.t == t {
					sl.e.last = r.round
					return
				}
			}
			f := r.fams[name]
			*sl = slot{name: name, f: f}
			if !live {
				if f != nil {
					gone = append(gone, leaving{ids[i], name})
					sl.e = f.byTarget[ids[i]]
				}
				return
			}
			if f == nil {
				f = &family{byTarget: map[uint64]*seen{}, help: m.Description()}
				r.fams[name] = f
				sl.f = f
			}
			t := typeOf(m)
			e := f.byTarget[ids[i]]
			sl.e = e
			if e != nil && e.t == t {
				e.last = r.round
				return
			}
			if e != nil {
				// The target itself changed the type (restarted on another
				// release): the exporter still remembers the old one, so
				// this is a disagreement too.
				r.logger.Warn("target changed a family's type (restarted on another release?)",
					zap.String("family", name), zap.String("target", r.names[ids[i]]),
					zap.String("was", e.t.String()), zap.String("now", t.String()))
				f.retyped = true
			}
			sl.e = &seen{t: t, since: r.round, last: r.round}
			f.byTarget[ids[i]] = sl.e
			if changed == nil {
				changed = map[*family]string{}
			}
			changed[f] = name
		})
		ts.s = ts.s[:k]
		ts.epoch = r.epoch
	}
	return changed, gone
}

// decide updates whether name is flat after its types changed, logs the
// disagreement once, and reports whether the representation switched.
func (r *Reconciler) decide(now time.Time, name string, f *family) bool {
	retyped := f.retyped
	f.retyped = false
	if !disagree(f) {
		if retyped && r.mode == Flatten {
			f.disagreed = now
			if !f.flat {
				f.flat = true
				return true
			}
		}
		return false
	}
	f.disagreed = now
	types := r.typesOf(f)
	if f.warned != types {
		f.warned = types
		fields := []zap.Field{zap.String("family", name), zap.String("types", types)}
		if r.mode == Flatten {
			r.logger.Warn("family arrives with different types from different targets (a fleet of mixed releases?); "+
				"emitting its series flat, as the gauges and counters Prometheus stores from a direct scrape, "+
				"so that the Prometheus exporter keeps all of them; its TYPE is lost while the types disagree, and "+
				"the exporter may drop the newcomer's points for up to its metric_expiration once. "+
				"Set `mixed_types: {mode: keep}` to pass each target's own type (OTLP-only pipelines)", fields...)
		} else {
			r.logger.Warn("family arrives with different types from different targets (a fleet of mixed releases?); "+
				"passing each target's own type (mixed_types: keep): a Prometheus exporter keeps only the type it saw first. "+
				"Remove `mode: keep` to emit the family flat while the types disagree", fields...)
		}
	}
	if r.mode == Flatten && !f.flat {
		f.flat = true
		return true
	}
	return false
}

// disagree reports whether the live targets send f with more than one type.
func disagree(f *family) bool {
	first := true
	var t0 promType
	for _, e := range f.byTarget {
		t := e.t
		if first {
			t0, first = t, false
		} else if t != t0 {
			return true
		}
	}
	return false
}

// typesOf describes f's types and the targets sending each, sorted, e.g.
// "gauge: [a b]; histogram: [c]".
func (r *Reconciler) typesOf(f *family) string {
	by := map[promType][]string{}
	for target, e := range f.byTarget {
		by[e.t] = append(by[e.t], r.names[target])
	}
	ts := make([]promType, 0, len(by))
	for t := range by {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	parts := make([]string, len(ts))
	for i, t := range ts {
		slices.Sort(by[t])
		parts[i] = fmt.Sprintf("%s: [%s]", t, strings.Join(by[t], " "))
	}
	return strings.Join(parts, "; ")
}

// rewrite flattens the flat families' metrics and gives every metric of a
// known name the family's first HELP. When a family's representation
// switched this round, the series of the representation it left get
// staleness markers first, so that the exporter drops them at once.
func (r *Reconciler) rewrite(ids []uint64, rounds []pmetric.Metrics, switched map[*family]bool) {
	for ti, md := range rounds {
		if md == (pmetric.Metrics{}) {
			continue
		}
		// The families observe found for this target's metrics, by
		// position, while no family has been deleted since.
		var slots []slot
		if ts := r.slots[ids[ti]]; ts != nil && ts.epoch == r.epoch {
			slots = ts.s
		}
		pos := 0
		rms := md.ResourceMetrics()
		for i := range rms.Len() {
			sms := rms.At(i).ScopeMetrics()
			for j := range sms.Len() {
				r.rewriteSlice(ids[ti], sms.At(j).Metrics(), switched, slots, &pos)
			}
		}
	}
}

// rewriteSlice rewrites one slice of a target's metrics; *pos is the
// position of its first metric among the target's metrics in observe's
// order, and slots what observe resolved there (nil: look names up).
func (r *Reconciler) rewriteSlice(target uint64, ms pmetric.MetricSlice, switched map[*family]bool, slots []slot, pos *int) {
	n := ms.Len()
	var flattened bool
	first := *pos
	*pos += n
	for k := range n {
		m := ms.At(k)
		var f *family
		if p := first + k; p < len(slots) && slots[p].name == m.Name() {
			f = slots[p].f
		} else {
			f = r.fams[m.Name()]
		}
		if f == nil {
			continue
		}
		if r.mode == Flatten && m.Description() != f.help {
			if !f.helpNoted {
				f.helpNoted = true
				r.logger.Info("family's HELP differs between targets; all are given the first one seen, "+
					"which is what the Prometheus exporter serves anyway (it would log the others on every scrape)",
					zap.String("family", m.Name()), zap.String("kept", f.help), zap.String("other", m.Description()),
					zap.String("target", r.names[target]))
			}
			m.SetDescription(f.help)
		}
		if !f.flat && !switched[f] {
			continue
		}
		if switched[f] && hasLivePoint(m) && typeOf(m) > typeUntyped && f.byTarget[target].since < r.round {
			// The other representation's series, marked stale. They go
			// before this round's points, since the exporter applies a
			// metric's points in order.
			if f.flat {
				staleCopy(m, ms.AppendEmpty())
			} else {
				flattenInto(m, ms, true)
			}
		}
		if f.flat && typeOf(m) != typeGauge {
			flattenInto(m, ms, false)
			flattened = true
		} else if f.flat {
			m.Metadata().Remove("prometheus.type")
		}
	}
	if flattened {
		k := 0
		ms.RemoveIf(func(m pmetric.Metric) bool {
			drop := k < n && r.fams[m.Name()] != nil && r.fams[m.Name()].flat && typeOf(m) != typeGauge
			k++
			return drop
		})
	}
}

// forget removes each target's entry for the names it sent only staleness
// markers of, and the families no target sends any more.
func (r *Reconciler) forget(gone []leaving) {
	for _, g := range gone {
		f := r.fams[g.name]
		if e := f.byTarget[g.target]; e == nil || e.last == r.round {
			// Markers for some series of the name, live points for others.
			continue
		}
		delete(f.byTarget, g.target)
		r.epoch++
		if len(f.byTarget) == 0 && !f.flat {
			delete(r.fams, g.name)
		}
	}
}

func forEachMetric(md pmetric.Metrics, fn func(pmetric.Metric)) {
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				fn(ms.At(k))
			}
		}
	}
}
