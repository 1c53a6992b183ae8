package main

import (
	"bytes"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// kind is a Prometheus metric family type as written on the # TYPE line.
type kind string

const (
	counterKind   kind = "counter"
	gaugeKind     kind = "gauge"
	histogramKind kind = "histogram"
	summaryKind   kind = "summary"
)

// familyDef is the static description of a metric family. Definitions live in
// catalog.go as package-level values so the simulation refers to them by
// identifier rather than by string.
type familyDef struct {
	name    string // exactly as printed on # HELP / # TYPE (counters include _total)
	help    string
	kind    kind
	buckets []float64 // histogram upper bounds, ascending, without +Inf

	// serverOnly marks SGLang families that only the FastAPI server
	// (sglang.launch_server) creates. Dynamo embeds sgl.Engine, so these never
	// reach a Dynamo worker's passthrough text.
	serverOnly bool
}

func newFamilyDef(k kind, name, help string) *familyDef {
	return &familyDef{name: name, help: help, kind: k}
}

func counterDef(name, help string) *familyDef { return newFamilyDef(counterKind, name, help) }
func gaugeDef(name, help string) *familyDef   { return newFamilyDef(gaugeKind, name, help) }
func summaryDef(name, help string) *familyDef { return newFamilyDef(summaryKind, name, help) }

func histogramDef(name, help string, buckets []float64) *familyDef {
	d := newFamilyDef(histogramKind, name, help)
	d.buckets = buckets
	return d
}

// httpServerOnly flags d as absent from Dynamo passthrough (see familyDef.serverOnly).
func httpServerOnly(d *familyDef) *familyDef {
	d.serverOnly = true
	return d
}

// label is one name/value pair.
type label struct{ name, value string }

// labelSet is kept sorted by name: both prometheus_client and the Rust
// prometheus crate print labels in name order (they differ only in where
// `le` goes, which the dialect decides).
type labelSet []label

// labels builds a sorted labelSet from alternating name, value arguments.
func labels(nameValues ...string) labelSet {
	if len(nameValues)%2 != 0 {
		panic("labels: odd number of arguments")
	}
	ls := make(labelSet, 0, len(nameValues)/2)
	for i := 0; i < len(nameValues); i += 2 {
		ls = append(ls, label{nameValues[i], nameValues[i+1]})
	}
	return ls.sorted()
}

// with returns a copy of ls extended by the given pairs, still sorted.
func (ls labelSet) with(nameValues ...string) labelSet {
	return append(slices.Clone(ls), labels(nameValues...)...).sorted()
}

func (ls labelSet) sorted() labelSet {
	sort.SliceStable(ls, func(i, j int) bool { return ls[i].name < ls[j].name })
	return ls
}

// key is a stable identity for a series within its family.
func (ls labelSet) key() string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.name)
		b.WriteByte(0)
		b.WriteString(l.value)
		b.WriteByte(0)
	}
	return b.String()
}

// series holds the state of one labelled time series. Which fields are used
// depends on the family kind: value for counters and gauges; buckets, sum and
// count for histograms; sum and count for summaries.
type series struct {
	labels  labelSet
	value   float64
	buckets []float64 // non-cumulative counts; the last slot is the +Inf overflow
	sum     float64
	count   float64
}

// family is a definition plus its live series, in creation order.
type family struct {
	def    *familyDef
	series []*series
	index  map[string]*series
	// hidden families are kept up to date but never printed: a release
	// that did not register them.
	hidden bool
}

// get returns the series for ls, creating it on first use. Creating lazily
// mirrors both client libraries: a labelled series exists only once touched.
func (f *family) get(ls labelSet) *series {
	k := ls.key()
	if s, ok := f.index[k]; ok {
		return s
	}
	s := &series{labels: ls}
	if f.def.kind == histogramKind {
		s.buckets = make([]float64, len(f.def.buckets)+1)
	}
	f.index[k] = s
	f.series = append(f.series, s)
	return s
}

func (f *family) mustBe(kinds ...kind) {
	if !slices.Contains(kinds, f.def.kind) {
		panic("metric " + f.def.name + " is a " + string(f.def.kind))
	}
}

// add increments a counter; adding 0 creates the series, which is how SGLang
// pre-seeds some of its counters.
func (f *family) add(ls labelSet, delta float64) {
	f.mustBe(counterKind)
	if delta < 0 {
		panic("counter " + f.def.name + " cannot decrease")
	}
	f.get(ls).value += delta
}

func (f *family) set(ls labelSet, v float64) {
	f.mustBe(gaugeKind)
	f.get(ls).value = v
}

// observe records one observation in a histogram or summary.
func (f *family) observe(ls labelSet, v float64) { f.observeN(ls, v, 1) }

// observeN records n observations of v at once. SGLang's inter-token latency
// histogram bumps its buckets by the number of new tokens per decode step, so
// the simulation needs weighted observations.
func (f *family) observeN(ls labelSet, v float64, n float64) {
	f.mustBe(histogramKind, summaryKind)
	s := f.get(ls)
	if f.def.kind == histogramKind {
		// SearchFloat64s returns the first bound >= v, which is exactly the
		// `le` bucket; len(buckets) is the +Inf slot.
		s.buckets[sort.SearchFloat64s(f.def.buckets, v)] += n
	}
	s.sum += v * n
	s.count += n
}

// registry is an ordered collection of families for one /metrics body.
type registry struct {
	families []*family
	byDef    map[*familyDef]*family
}

func newRegistry(defs ...[]*familyDef) *registry {
	r := &registry{byDef: make(map[*familyDef]*family)}
	for _, group := range defs {
		for _, d := range group {
			f := &family{def: d, index: make(map[string]*series)}
			r.families = append(r.families, f)
			r.byDef[d] = f
		}
	}
	return r
}

// replace registers alt where d was: the simulation keeps asking for d, and
// the body prints alt. An older release's differently named or typed family
// thus takes the place of the current one without the simulation knowing
// the release.
func (r *registry) replace(d, alt *familyDef) {
	f := r.of(d)
	f.def = alt
}

// of returns the live family for d. Asking for a family that was not
// registered is a programming error.
func (r *registry) of(d *familyDef) *family {
	f, ok := r.byDef[d]
	if !ok {
		panic("metric " + d.name + " not registered in this body")
	}
	return f
}

// dialect captures how the two client libraries behind these endpoints differ
// in their text output.
type dialect struct {
	formatValue func(float64) string
	// leInline sorts `le` among the other labels (prometheus_client sorts all
	// label names when printing); otherwise `le` comes last (Rust prometheus).
	leInline bool
	// multiprocessOrder prints every histogram _sum before the bucket blocks
	// and each bucket block ends with _count, which is how
	// prometheus_client's MultiProcessCollector accumulates samples.
	multiprocessOrder bool
	// sortFamilies mimics Rust prometheus gather(), which orders families by
	// name and series by label values.
	sortFamilies bool
}

// pythonMultiprocess is prometheus_client generate_latest() over a
// MultiProcessCollector, as used by SGLang.
var pythonMultiprocess = dialect{formatValue: pyFloat, leInline: true, multiprocessOrder: true}

// rustPrometheus is the Rust prometheus crate's TextEncoder, as used by Dynamo.
var rustPrometheus = dialect{formatValue: rustFloat, sortFamilies: true}

// pyFloat reproduces prometheus_client's floatToGoString: Python repr(), but
// switched to Go-style exponents once the integer part has seven or more
// digits. The exponent keeps Python's "e+0" prefix even past e+09 (e.g.
// 2.5e+010); that quirk is real prometheus_client output.
func pyFloat(v float64) string {
	if s, ok := nonFinite(v); ok {
		return s
	}
	if v > 0 && v >= 1e6 && v < 1e16 {
		// Python repr has no exponent below 1e16; prometheus_client rewrites
		// it as mantissa + "e+0" + (digits before the point - 1).
		digits := strconv.FormatFloat(v, 'e', -1, 64) // e.g. "8.128902e+06"
		mantissa, exp, _ := strings.Cut(digits, "e+")
		return mantissa + "e+0" + strings.TrimLeft(exp, "0")
	}
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eIN") {
		s += ".0"
	}
	return s
}

// rustFloat matches Rust's f64 Display: shortest round-trip digits, never an
// exponent, integral values without a fractional part.
func rustFloat(v float64) string {
	if s, ok := nonFinite(v); ok {
		return s
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// nonFinite spells NaN and the infinities as the exposition format does.
func nonFinite(v float64) (string, bool) {
	switch {
	case math.IsInf(v, 1):
		return "+Inf", true
	case math.IsInf(v, -1):
		return "-Inf", true
	case math.IsNaN(v):
		return "NaN", true
	}
	return "", false
}

// nameForm is how a deployment prints SGLang's sglang: families
// (field-2026.md §1). Other families are never touched.
type nameForm string

const (
	// formColon is SGLang's own prometheus_client output.
	formColon nameForm = "colon"
	// formUnderscore is sglang_ on HELP, TYPE and samples: Dynamo's
	// passthrough in January 2026, and client_python PR 1180's fix.
	formUnderscore nameForm = "underscore"
	// formEscaping is prometheus_client with escaping=underscores (client_python
	// issue 1177): HELP and TYPE keep sglang:, the samples say sglang_.
	formEscaping nameForm = "escaping"
	// formRay is SGLang under Ray Serve: sglang_ everywhere, a ReplicaId
	// label, and bucket bounds <= 0 dropped.
	formRay nameForm = "ray"
)

var nameForms = []nameForm{formColon, formUnderscore, formEscaping, formRay}

// textWriter emits the Prometheus text format 0.0.4 in a given dialect.
type textWriter struct {
	buf bytes.Buffer
	d   dialect
	// form and replica apply to sglang: families only; replica is the Ray
	// ReplicaId value.
	form    nameForm
	replica string
}

func underscored(name string) string { return "sglang_" + strings.TrimPrefix(name, "sglang:") }

// metaName is the name a family's HELP and TYPE lines carry.
func (w *textWriter) metaName(name string) string {
	if strings.HasPrefix(name, "sglang:") && (w.form == formUnderscore || w.form == formRay) {
		return underscored(name)
	}
	return name
}

// sampleName is the name a sample line carries.
func (w *textWriter) sampleName(name string) string {
	if strings.HasPrefix(name, "sglang:") && w.form != "" && w.form != formColon {
		return underscored(name)
	}
	return name
}

func (w *textWriter) header(d *familyDef) {
	name := w.metaName(d.name)
	w.buf.WriteString("# HELP " + name + " " + escapeHelp(d.help) + "\n")
	w.buf.WriteString("# TYPE " + name + " " + string(d.kind) + "\n")
}

// sample writes one sample line; le is "" for samples without a bucket bound.
func (w *textWriter) sample(name string, ls labelSet, le string, v float64) {
	if w.form == formRay && strings.HasPrefix(name, "sglang:") {
		ls = ls.with("ReplicaId", w.replica)
	}
	w.buf.WriteString(w.sampleName(name))
	if le != "" {
		if w.d.leInline {
			ls = ls.with("le", le)
		} else {
			ls = append(slices.Clone(ls), label{"le", le})
		}
	}
	if len(ls) > 0 {
		w.buf.WriteByte('{')
		for i, l := range ls {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			w.buf.WriteString(l.name + `="` + escapeLabelValue(l.value) + `"`)
		}
		w.buf.WriteByte('}')
	}
	w.buf.WriteString(" " + w.d.formatValue(v) + "\n")
}

// family writes one family; families without series are omitted, as both
// client libraries do.
func (w *textWriter) family(f *family) {
	if len(f.series) == 0 || f.hidden {
		return
	}
	ss := f.series
	if w.d.sortFamilies {
		ss = slices.Clone(ss)
		slices.SortStableFunc(ss, func(a, b *series) int { return strings.Compare(a.labels.key(), b.labels.key()) })
	}
	w.header(f.def)
	name := f.def.name
	switch f.def.kind {
	case counterKind, gaugeKind:
		for _, s := range ss {
			w.sample(name, s.labels, "", s.value)
		}
	case summaryKind:
		// Multiprocess mode cannot merge quantiles, so only _count and _sum
		// survive (in the order the Summary child creates them).
		for _, s := range ss {
			w.sample(name+"_count", s.labels, "", s.count)
			w.sample(name+"_sum", s.labels, "", s.sum)
		}
	case histogramKind:
		w.histogram(f.def, ss)
	}
}

func (w *textWriter) histogram(d *familyDef, ss []*series) {
	if w.d.multiprocessOrder {
		for _, s := range ss {
			w.sample(d.name+"_sum", s.labels, "", s.sum)
		}
	}
	for _, s := range ss {
		w.buckets(d, s)
		if !w.d.multiprocessOrder {
			w.sample(d.name+"_sum", s.labels, "", s.sum)
		}
		w.sample(d.name+"_count", s.labels, "", s.count)
	}
}

func (w *textWriter) buckets(d *familyDef, s *series) {
	cumulative := 0.0
	for i, n := range s.buckets {
		cumulative += n
		bound := math.Inf(1)
		if i < len(d.buckets) {
			bound = d.buckets[i]
		}
		if bound <= 0 && w.form == formRay && strings.HasPrefix(d.name, "sglang:") {
			// Ray's histograms cannot hold such a bound; what it counted
			// shows up in the next bucket, which is cumulative anyway.
			continue
		}
		w.sample(d.name+"_bucket", s.labels, w.d.formatValue(bound), cumulative)
	}
}

// render writes every family of r accepted by keep (nil keeps all).
func (w *textWriter) render(r *registry, keep func(*familyDef) bool) {
	fs := r.families
	if w.d.sortFamilies {
		fs = slices.Clone(fs)
		slices.SortStableFunc(fs, func(a, b *family) int { return strings.Compare(a.def.name, b.def.name) })
	}
	for _, f := range fs {
		if keep == nil || keep(f.def) {
			w.family(f)
		}
	}
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func escapeHelp(s string) string       { return helpEscaper.Replace(s) }
func escapeLabelValue(s string) string { return labelEscaper.Replace(s) }
