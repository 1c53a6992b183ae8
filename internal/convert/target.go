// Package convert turns the kept samples of one target's bodies into pdata
// metrics, and remembers across scrapes what Prometheus's scrape loop would:
// when each series started, and which series were live, so that resets get a
// new start time and vanished series a staleness marker.
//
// All of a body is parsed and checked before anything is emitted, so a body
// that turns out to be malformed contributes no points at all.
package convert

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/promtext"
)

// Options configure a Target.
type Options struct {
	// Keep decides from a family name whether the family is converted.
	Keep promtext.KeepFunc
	// Limits bound what a body may carry; see promtext.Limits.
	Limits promtext.Limits
}

// Stats describe one converted body.
type Stats struct {
	Samples     int // sample lines in the body, kept or not
	KeptSamples int
	Series      int // live series after this body
}

// Target is the conversion state of one scrape target. It is not safe for
// concurrent use; a target is scraped by one goroutine at a time.
type Target struct {
	opts   Options
	parser promtext.Parser

	metrics map[string]*metric
	series  map[string]*series
	gen     uint64
	order   []*metric // metrics touched by this body, in body order

	// Per-family cache, valid while the parser's family Seq is famSeq.
	famSeq     uint64
	famMetrics [promtext.NumSuffixes]*metric
	createdFor *metric // set when a text-format `x_created` gauge family dates x
	// helpChecked is the metric whose description was last compared with
	// the family's HELP, so a family's lines compare it once, not per line.
	helpChecked *metric

	// The line cache remembers what each kept line's series text resolved
	// to, so a line seen in an earlier body costs one comparison instead of
	// label tokenising, sorting and key building. Entries go with their
	// series. Per SGLang TP=8 target that is thousands of lines, so the
	// cache holds no pointers but the series: entries sit in one arena and
	// are referred to by index, their texts sit in one byte arena in the
	// order the body printed them, and the index is keyed by a hash. A
	// scrape then compares each line with the next stretch of one array,
	// where separately allocated keys cost a cache miss per line, and the
	// garbage collector has a few large objects to mark, not thousands.
	lines     map[uint64]int32 // hash of the text -> newest entry with it
	entries   []lineEntry
	freeLines []int32
	text      []byte // the entries' texts
	deadText  int    // bytes of text whose entries are gone
	seed      maphash.Seed
	// prevLines are the previous body's kept lines in order, and curLines
	// this body's so far (noLine for a line that is not cached). Bodies
	// rarely change shape between scrapes, so the line at the same position
	// usually has the same text, and one comparison replaces the hash lookup.
	prevLines, curLines []int32
	moved               []bool // scratch for compactText

	keyBuf []byte
	sorted []promtext.Label
	names  map[string]string // interned label names
	pairs  []bucketPair
	counts []uint64
}

// noLine marks a kept line that has no cache entry.
const noLine = -1

type lineEntry struct {
	sr      *series // nil for a free entry
	off, n  uint32  // the text, in Target.text
	next    int32   // the next older entry with the same hash, or noLine
	nameLen uint16  // of the metric name in the text; 0 if longer
	suffix  promtext.Suffix
	typ     promtext.Type // the family type the text was resolved under
	role    role
	bound   float64
}

type metric struct {
	key     string // kind byte + name
	kind    kind
	name    string
	help    string
	helpRaw string
	gen     uint64 // the body that last touched it
	live    []*series
	stale   []*series
	nSeries int
}

type series struct {
	m   *metric
	key string
	// attrs holds label name, value pairs, names interned. One flat slice
	// rather than a pcommon.Map: emission reads it for every point of every
	// scrape, and a map's values are each a separate heap object that a
	// cold cache fetches one by one.
	attrs []string
	gen   uint64
	lines []int32 // entries that resolve to this series

	emitted bool
	start   pcommon.Timestamp
	last    float64 // last emitted value (sums) or count (histograms, summaries)

	// What the current body says about the series.
	has               uint8
	value, sum, count float64
	created           float64
	ts                int64
	hasTS             bool
	bounds, values    []float64 // buckets (le, cumulative) or quantiles
	boundsSorted      bool
}

const (
	hasValue uint8 = 1 << iota
	hasSum
	hasCount
	hasCreated
)

type bucketPair struct{ bound, value float64 }

// NewTarget returns the state for one target.
func NewTarget(opts Options) *Target {
	return &Target{
		opts:    opts,
		metrics: map[string]*metric{},
		series:  map[string]*series{},
		lines:   map[uint64]int32{},
		seed:    maphash.MakeSeed(),
		names:   map[string]string{},
	}
}

// LiveSeries returns how many series the target remembers.
func (t *Target) LiveSeries() int { return len(t.series) }

// Convert parses body and appends its metrics to dst: a point for every kept
// series, plus a staleness marker for every series that the previous body
// had and this one has not. A body that fails to parse or to validate is
// treated like a failed scrape (see Fail) and its error returned.
func (t *Target) Convert(body []byte, format promtext.Format, now pcommon.Timestamp, dst pmetric.MetricSlice) (Stats, error) {
	t.gen++
	t.order = t.order[:0]
	t.famSeq = 0
	t.curLines = t.curLines[:0]
	t.parser.Reset(body, format, t.opts.Keep, t.opts.Limits)
	err := t.ingest(format)
	if err == nil {
		err = t.validate()
	}
	ps := t.parser.Stats()
	stats := Stats{Samples: ps.Samples, KeptSamples: ps.KeptSamples}
	if err != nil {
		t.Fail(now, dst)
		return stats, err
	}
	t.sweep()
	t.emit(now, dst)
	t.compactText()
	t.prevLines, t.curLines = t.curLines, t.prevLines
	stats.Series = len(t.series)
	return stats, nil
}

// Fail records a failed scrape: every series that was ever emitted gets a
// staleness marker, as Prometheus does, and all state is dropped so that the
// series start afresh when the target returns.
func (t *Target) Fail(now pcommon.Timestamp, dst pmetric.MetricSlice) {
	t.gen++
	t.order = t.order[:0]
	for _, s := range t.series {
		if s.emitted {
			t.touch(s.m)
			s.m.stale = append(s.m.stale, s)
		}
	}
	slices.SortFunc(t.order, func(a, b *metric) int { return strings.Compare(a.key, b.key) })
	t.emit(now, dst)
	clear(t.series)
	clear(t.metrics)
	clear(t.lines)
	t.entries = t.entries[:0]
	t.freeLines = t.freeLines[:0]
	t.text = t.text[:0]
	t.deadText = 0
	t.prevLines = t.prevLines[:0]
}

func (t *Target) ingest(format promtext.Format) error {
	for {
		if i := len(t.curLines); i < len(t.prevLines) {
			if idx := t.prevLines[i]; idx != noLine && t.entries[idx].nameLen > 0 {
				e := &t.entries[idx]
				t.parser.Expect(t.textOf(idx), int(e.nameLen), e.suffix)
			}
		}
		s, err := t.parser.Next()
		if err != nil {
			if errors.Is(err, promtext.Done) {
				return nil
			}
			return err
		}
		fam := t.parser.Family()
		if fam.Seq != t.famSeq {
			t.beginFamily(fam, format)
		}
		if err := t.add(fam, s); err != nil {
			return err
		}
	}
}

func (t *Target) beginFamily(fam *promtext.Family, format promtext.Format) {
	t.famSeq = fam.Seq
	t.famMetrics = [promtext.NumSuffixes]*metric{}
	t.createdFor = nil
	t.helpChecked = nil
	// prometheus_client's text format prints a counter's, histogram's or
	// summary's `_created` as a gauge family of its own right after it.
	// Read as OpenMetrics would, it is that metric's start time.
	if format == promtext.FormatText && fam.Type == promtext.TypeGauge {
		if base, ok := bytes.CutSuffix(fam.Name, []byte("_created")); ok {
			t.createdFor = t.touchedMetric(kindSum, base, "_total")
			if t.createdFor == nil {
				t.createdFor = t.touchedMetric(kindHistogram, base, "")
			}
			if t.createdFor == nil {
				t.createdFor = t.touchedMetric(kindSummary, base, "")
			}
		}
	}
}

// touchedMetric returns the metric of that kind and name if this body has
// already produced it.
func (t *Target) touchedMetric(k kind, base []byte, suffix string) *metric {
	m := t.metrics[string(t.metricKey(k, base, suffix))]
	if m == nil || m.gen != t.gen {
		return nil
	}
	return m
}

func (t *Target) metricFor(fam *promtext.Family, r rule) *metric {
	k := t.metricKey(r.kind, fam.Name, r.nameSuffix)
	m := t.metrics[string(k)]
	if m == nil {
		key := string(k)
		m = &metric{key: key, kind: r.kind, name: key[1:]}
		t.metrics[key] = m
	}
	m.setHelp(fam.Help)
	return m
}

// metricKey builds, in t.keyBuf, a metric's key: its kind, then its name.
func (t *Target) metricKey(k kind, base []byte, suffix string) []byte {
	t.keyBuf = append(append(append(t.keyBuf[:0], byte(k)), base...), suffix...)
	return t.keyBuf
}

// setHelp takes the family's HELP as the description when it changed.
func (m *metric) setHelp(raw []byte) {
	if m.helpRaw != string(raw) {
		m.helpRaw = string(raw)
		m.help = promtext.Unescape(raw)
	}
}

func (t *Target) touch(m *metric) {
	if m.gen != t.gen {
		m.gen = t.gen
		m.live = m.live[:0]
		m.stale = m.stale[:0]
		t.order = append(t.order, m)
	}
}

func (t *Target) add(fam *promtext.Family, s *promtext.Sample) error {
	var (
		sr    *series
		ro    role
		bound float64
	)
	var (
		idx  int32
		hash uint64
	)
	if s.Expected {
		idx = t.prevLines[len(t.curLines)]
	} else {
		idx, hash = t.knownLine(s.Series)
	}
	if idx != noLine && t.entries[idx].typ == fam.Type && t.createdFor == nil {
		t.curLines = append(t.curLines, idx)
		e := &t.entries[idx]
		sr, ro, bound = e.sr, e.role, e.bound
		if m := sr.m; m != t.helpChecked {
			t.helpChecked = m
			m.setHelp(fam.Help)
		}
	} else {
		if err := t.parser.ParseLabels(); err != nil {
			return err
		}
		var m *metric
		r := rules[fam.Type][s.Suffix]
		if t.createdFor != nil {
			m, r = t.createdFor, rule{kind: t.createdFor.kind, role: roleCreated}
		} else if m = t.famMetrics[s.Suffix]; m == nil {
			m = t.metricFor(fam, r)
			t.famMetrics[s.Suffix] = m
		}
		sr = t.lookup(m, s.Labels)
		ro, bound = r.role, s.Bound
		idx = noLine
		if t.createdFor == nil {
			e := lineEntry{sr: sr, suffix: s.Suffix, typ: fam.Type, role: ro, bound: bound}
			if s.NameLen <= math.MaxUint16 {
				e.nameLen = uint16(s.NameLen)
			}
			idx = t.newLine(s.Series, hash, e)
		}
		t.curLines = append(t.curLines, idx)
	}
	m := sr.m
	t.touch(m)
	if sr.gen != t.gen {
		sr.gen = t.gen
		sr.has = 0
		sr.hasTS = false
		sr.bounds = sr.bounds[:0]
		sr.values = sr.values[:0]
		sr.boundsSorted = true
		m.live = append(m.live, sr)
	}
	// Within one body the first sample of a series wins: Dynamo has printed
	// whole families up to four times over.
	switch ro {
	case roleValue:
		if sr.has&hasValue == 0 {
			sr.has |= hasValue
			sr.value = s.Value
			sr.ts, sr.hasTS = s.Timestamp, s.HasTimestamp
		}
	case roleBucket, roleQuantile:
		if n := len(sr.bounds); n > 0 && bound <= sr.bounds[n-1] {
			sr.boundsSorted = false
		}
		sr.bounds = append(sr.bounds, bound)
		sr.values = append(sr.values, s.Value)
		if s.HasTimestamp && !sr.hasTS {
			sr.ts, sr.hasTS = s.Timestamp, true
		}
	case roleSum:
		if sr.has&hasSum == 0 {
			sr.has |= hasSum
			sr.sum = s.Value
		}
	case roleCount:
		if sr.has&hasCount == 0 {
			sr.has |= hasCount
			sr.count = s.Value
			if s.HasTimestamp {
				sr.ts, sr.hasTS = s.Timestamp, true
			}
		}
	case roleCreated:
		if sr.has&hasCreated == 0 {
			sr.has |= hasCreated
			sr.created = s.Value
		}
	}
	return nil
}

// knownLine finds the entry a line's series text resolved to before: first
// at the same position in the previous body, then anywhere; noLine if none.
// The hash is returned for newLine when it had to be computed.
func (t *Target) knownLine(text []byte) (int32, uint64) {
	if i := len(t.curLines); i < len(t.prevLines) {
		if idx := t.prevLines[i]; idx != noLine && string(t.textOf(idx)) == string(text) {
			return idx, 0
		}
	}
	h := maphash.Bytes(t.seed, text)
	idx, ok := t.lines[h]
	if !ok {
		return noLine, h
	}
	for ; idx != noLine; idx = t.entries[idx].next {
		if string(t.textOf(idx)) == string(text) {
			return idx, h
		}
	}
	return noLine, h
}

func (t *Target) textOf(idx int32) []byte {
	e := &t.entries[idx]
	return t.text[e.off : e.off+e.n]
}

// newLine caches text as resolving to e. A text already cached under
// another family type gets a second, newer entry, which lookups find first.
func (t *Target) newLine(text []byte, hash uint64, e lineEntry) int32 {
	if hash == 0 {
		hash = maphash.Bytes(t.seed, text)
	}
	e.off, e.n = uint32(len(t.text)), uint32(len(text))
	t.text = append(t.text, text...)
	e.next = noLine
	if head, ok := t.lines[hash]; ok {
		e.next = head
	}
	var idx int32
	if n := len(t.freeLines); n > 0 {
		idx = t.freeLines[n-1]
		t.freeLines = t.freeLines[:n-1]
		t.entries[idx] = e
	} else {
		idx = int32(len(t.entries))
		t.entries = append(t.entries, e)
	}
	t.lines[hash] = idx
	e.sr.lines = append(e.sr.lines, idx)
	return idx
}

// dropLines forgets the cache entries of a series that is gone.
func (t *Target) dropLines(sr *series) {
	for _, idx := range sr.lines {
		e := &t.entries[idx]
		hash := maphash.Bytes(t.seed, t.textOf(idx))
		if head := t.lines[hash]; head == idx {
			if e.next == noLine {
				delete(t.lines, hash)
			} else {
				t.lines[hash] = e.next
			}
		} else {
			for p := head; p != noLine; p = t.entries[p].next {
				if t.entries[p].next == idx {
					t.entries[p].next = e.next
					break
				}
			}
		}
		t.deadText += int(e.n)
		*e = lineEntry{}
		t.freeLines = append(t.freeLines, idx)
	}
}

// compactText rewrites the text arena once more of it is dead than live,
// in this body's line order, so that it stays proportional to the live
// series and the next scrape reads it front to back.
func (t *Target) compactText() {
	if t.deadText < 4096 || t.deadText < len(t.text)/2 {
		return
	}
	text := make([]byte, 0, len(t.text)-t.deadText)
	t.moved = slices.Grow(t.moved[:0], len(t.entries))[:len(t.entries)]
	clear(t.moved)
	move := func(idx int32) {
		if idx == noLine || t.moved[idx] || t.entries[idx].sr == nil {
			return
		}
		t.moved[idx] = true
		e := &t.entries[idx]
		off := uint32(len(text))
		text = append(text, t.text[e.off:e.off+e.n]...)
		e.off = off
	}
	for _, idx := range t.curLines {
		move(idx)
	}
	for idx := range t.entries {
		move(int32(idx))
	}
	t.text, t.deadText = text, 0
}

// lookup finds or creates the series of m with these labels. The key is the
// metric key plus the labels sorted by name, with empty values left out as
// Prometheus does, so label order in the body does not matter.
func (t *Target) lookup(m *metric, labels []promtext.Label) *series {
	if !slices.IsSortedFunc(labels, cmpLabel) {
		t.sorted = append(t.sorted[:0], labels...)
		slices.SortFunc(t.sorted, cmpLabel)
		labels = t.sorted
	}
	k := append(t.keyBuf[:0], m.key...)
	for _, l := range labels {
		if len(l.Value) == 0 {
			continue
		}
		k = append(k, 0xff)
		k = append(k, l.Name...)
		k = append(k, 0xfe)
		k = append(k, l.Value...)
	}
	t.keyBuf = k
	if sr := t.series[string(k)]; sr != nil {
		return sr
	}
	n := 0
	for _, l := range labels {
		if len(l.Value) > 0 {
			n++
		}
	}
	sr := &series{m: m, key: string(k), attrs: make([]string, 0, 2*n)}
	for _, l := range labels {
		if len(l.Value) == 0 {
			continue
		}
		sr.attrs = append(sr.attrs, t.attrName(l.Name), promtext.Unescape(l.Value))
	}
	t.series[sr.key] = sr
	m.nSeries++
	return sr
}

func cmpLabel(a, b promtext.Label) int { return bytes.Compare(a.Name, b.Name) }

// attrName interns label names, and renames `job` and `instance` to
// `exported_job`/`exported_instance` as Prometheus does on a clash, since
// the exporter derives those two from the resource.
func (t *Target) attrName(b []byte) string {
	if n, ok := t.names[string(b)]; ok {
		return n
	}
	n := string(b)
	if n == "job" || n == "instance" {
		n = "exported_" + n
	}
	t.names[string(b)] = n
	return n
}

// validate checks what only a whole body can show: that each histogram and
// summary series is complete and consistent.
func (t *Target) validate() error {
	for _, m := range t.order {
		if m.kind != kindHistogram && m.kind != kindSummary {
			continue
		}
		for _, sr := range m.live {
			if err := t.validateSeries(sr); err != nil {
				return fmt.Errorf("%s %s: %w", m.name, attrString(sr.attrs), err)
			}
		}
	}
	return nil
}

func (t *Target) validateSeries(sr *series) error {
	if !sr.boundsSorted {
		t.sortBuckets(sr)
	}
	if sr.m.kind == kindSummary {
		if sr.has&hasCount == 0 {
			return errors.New("summary without _count")
		}
		return nil
	}
	n := len(sr.bounds)
	if n == 0 || !math.IsInf(sr.bounds[n-1], 1) {
		return errors.New("histogram without a +Inf bucket")
	}
	prev := 0.0
	for i, v := range sr.values {
		if math.IsNaN(v) || v < prev {
			return fmt.Errorf("bucket le=%g holds %g, less than the bucket below it or not a number", sr.bounds[i], v)
		}
		prev = v
	}
	if sr.has&hasCount == 0 {
		sr.count = prev
		sr.has |= hasCount
	} else if sr.count != prev {
		return fmt.Errorf("_count %g differs from the +Inf bucket %g", sr.count, prev)
	}
	return nil
}

// sortBuckets orders buckets by bound and drops repeated bounds, keeping the
// first, for bodies whose lines are not in order.
func (t *Target) sortBuckets(sr *series) {
	t.pairs = t.pairs[:0]
	for i, b := range sr.bounds {
		t.pairs = append(t.pairs, bucketPair{b, sr.values[i]})
	}
	slices.SortStableFunc(t.pairs, func(a, b bucketPair) int {
		switch {
		case a.bound < b.bound:
			return -1
		case a.bound > b.bound:
			return 1
		}
		return 0
	})
	sr.bounds, sr.values = sr.bounds[:0], sr.values[:0]
	for i, p := range t.pairs {
		if i > 0 && p.bound == t.pairs[i-1].bound {
			continue
		}
		sr.bounds = append(sr.bounds, p.bound)
		sr.values = append(sr.values, p.value)
	}
	sr.boundsSorted = true
}

// sweep finds the series the previous body had and this one has not. Each
// gets one staleness marker and is then forgotten, so the state holds only
// live series.
func (t *Target) sweep() {
	for k, sr := range t.series {
		if sr.gen == t.gen {
			continue
		}
		if sr.emitted {
			t.touch(sr.m)
			sr.m.stale = append(sr.m.stale, sr)
		}
		delete(t.series, k)
		t.dropLines(sr)
		sr.m.nSeries--
	}
	for k, m := range t.metrics {
		if m.nSeries == 0 && m.gen != t.gen {
			delete(t.metrics, k)
		}
	}
}

func attrString(attrs []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i < len(attrs); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", attrs[i], attrs[i+1])
	}
	b.WriteByte('}')
	return b.String()
}
