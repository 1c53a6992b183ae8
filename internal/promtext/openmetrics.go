package promtext

import (
	"bytes"
	"hash/maphash"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// This file holds the rules OpenMetrics 1.0 adds to what the text format's
// parser checks line by line: the MUSTs about a family's metadata, its
// samples' values, the grouping of its MetricPoints and its histograms'
// buckets, and the names families may take. They run on every line of an
// OpenMetrics body, kept or dropped: a body is valid or not as a whole, as
// Prometheus treats it. (The text format has no such rules, and Dynamo's
// repeated families need its lenience; OpenMetrics bodies are the rare
// second choice of our Accept header, so their extra cost is not on the
// common path.)
//
// Each error names the line and the rule, with the section of the
// specification it comes from (see docs/conversion.md).

// Sections of the OpenMetrics 1.0 specification, for error messages.
const (
	secABNF           = "OpenMetrics: ABNF"
	secMetricFamilies = "OpenMetrics: MetricFamily"
	secMetadata       = "OpenMetrics: Metric types and metadata"
	secUnit           = "OpenMetrics: Unit"
	secMetric         = "OpenMetrics: Metric"
	secNumbers        = "OpenMetrics: Numbers"
	secCounter        = "OpenMetrics: Counter"
	secStateSet       = "OpenMetrics: StateSet"
	secInfo           = "OpenMetrics: Info"
	secHistogram      = "OpenMetrics: Histogram"
	secGaugeHistogram = "OpenMetrics: GaugeHistogram"
	secSummary        = "OpenMetrics: Summary"
	secExemplars      = "OpenMetrics: Exemplars"
)

// omState is what the OpenMetrics rules remember within one body.
type omState struct {
	// names maps the hash of every sample name a finished family can have
	// to that family (an index of fams): no later family may use one.
	names map[uint64]int
	fams  []omFamily
	arena []byte // the finished families' names, end to end

	// The current family (whether it had HELP and TYPE is the parser's
	// helped and declared).
	unit     bool
	unitText []byte
	samples  int // its sample lines

	// facts caches what a line's labels say for these rules, by the line's
	// series text (see omFacts); facts live across bodies. prev and cur are
	// the facts of each sample line of the last body and of this one, by
	// position: bodies rarely change shape, so the line at the same
	// position usually has the same text, found without hashing.
	facts     map[uint64]*lineFacts
	prev, cur []*lineFacts
	seed      maphash.Seed
	limits    Limits

	// The current MetricPoint group: a hash of a sample's labels, without
	// `le` on a bucket, `quantile` on a quantile and the state label on a
	// stateset. (Two label sets whose 64-bit hashes collide would be taken
	// for one group: a false error with odds near 2^-64 per pair.)
	group    uint64
	hasGroup bool
	groups   map[uint64]groupState // groups this family has had
	hasTS    bool
	ts       int64
	// leadingSums is true while a histogram's or summary's lines have all
	// been _sum lines (see omGroup).
	leadingSums bool

	// The histogram MetricPoints of the current family, by group, in order;
	// hist is the current group's.
	hist     *histGroup
	hists    map[uint64]*histGroup
	histList []*histGroup
	histFree []*histGroup

	// Set by exemplar for the current sample.
	exemplar      bool
	exemplarRunes int
	exemplarValue float64

	// The current MetricPoint: the parts it has had (a bit per Suffix, for
	// the parts a MetricPoint has once) and, for a counter, whether one
	// was _total.
	parts    uint16
	hasTotal bool

	sorted []Label // scratch for groupHash
	joined []byte  // scratch for taken
}

// omFamily is a finished family of the body: its name, arena[start:end],
// and its type.
type omFamily struct {
	start, end int
	typ        Type
}

// lineFacts is what the label set of one series text says, checked once:
// equal bytes in a family of the same type parse alike.
type lineFacts struct {
	text     string // the series text, to rule out hash collisions
	typ      Type
	keep     bool
	group    uint64
	bound    float64
	hasBound bool
}

// groupState is what a family remembers of a group it has left.
type groupState uint8

const (
	groupLeft    groupState = iota // left: it may not come back
	groupSumOnly                   // only _sum lines, in a leading block: it may come back once
)

// histGroup accumulates one histogram or gauge histogram MetricPoint.
type histGroup struct {
	open              bool
	ts                int64
	buckets           int
	lastBound         float64
	lastValue         float64
	count             float64
	hasCount          bool
	hasSum, hasGSum   bool
	negBucket, negSum bool
}

// reset prepares for a body. The facts cache is kept, but dropped when it
// has grown well past what the last body needed or the limits changed.
func (o *omState) reset(limits Limits) {
	if o.names == nil {
		o.names = map[uint64]int{}
		o.facts = map[uint64]*lineFacts{}
		o.seed = maphash.MakeSeed()
	}
	clear(o.names)
	o.fams, o.arena = o.fams[:0], o.arena[:0]
	o.prev, o.cur = o.cur, o.prev[:0]
	if len(o.facts) > 2*len(o.prev)+1024 || limits != o.limits {
		clear(o.facts)
		o.prev = o.prev[:0]
	}
	o.limits = limits
	o.startFamily()
}

func (o *omState) startFamily() {
	o.unit = false
	o.unitText = o.unitText[:0]
	o.samples = 0
	o.parts, o.hasTotal = 0, false
	o.hasGroup = false
	if o.groups == nil {
		o.groups = map[uint64]groupState{}
		o.hists = map[uint64]*histGroup{}
	}
	// clear costs what the map once held, and most families are small.
	if len(o.groups) > 0 {
		clear(o.groups)
	}
	if len(o.hists) > 0 {
		clear(o.hists)
	}
	o.hist = nil
	o.histFree = append(o.histFree, o.histList...)
	o.histList = o.histList[:0]
	o.leadingSums = true
}

// omComment handles an OpenMetrics `# HELP`, `# TYPE` or `# UNIT` line.
func (p *Parser) omComment(kind string, name, arg []byte, start int) error {
	var t Type
	if kind == "TYPE" {
		var ok bool
		if t, ok = parseType(arg, p.format); !ok {
			return p.errAt(start, "unknown metric type "+strconv.Quote(string(arg)))
		}
	}
	if err := p.omMetadata(kind, name, arg, start); err != nil {
		return err
	}
	switch kind {
	case "TYPE":
		p.fam.Type = t
		return p.omTyped(start)
	case "HELP":
		if !utf8.Valid(arg) {
			return p.errAt(start, "HELP text is not valid UTF-8")
		}
		for i := 0; i < len(arg); i++ {
			switch arg[i] {
			case '\\':
				if i++; i == len(arg) {
					return p.errAt(start, "HELP text ends in a lone backslash ("+secABNF+")")
				}
			case '"':
				return p.errAt(start, "HELP text has an unescaped double quote ("+secABNF+")")
			}
		}
		p.fam.Help = arg
	case "UNIT":
		return p.omTyped(start)
	}
	return nil
}

// omMetadata applies the rules for a `# HELP`, `# TYPE` or `# UNIT` line of
// family name: it opens a family, or adds to the current one if it is the
// same name and has had no samples and no line of the same kind.
func (p *Parser) omMetadata(kind string, name, arg []byte, start int) error {
	o := &p.om
	if !bytes.Equal(name, p.fam.Name) || len(p.fam.Name) == 0 {
		if err := p.omBegin(name, start); err != nil {
			return err
		}
	} else if o.samples > 0 {
		return p.errAt(start, "# "+kind+" after the family's samples ("+secMetricFamilies+")")
	}
	var again bool
	switch kind {
	case "HELP":
		again, p.helped = p.helped, true
	case "TYPE":
		again, p.declared = p.declared, true
	case "UNIT":
		again, o.unit = o.unit, true
		o.unitText = append(o.unitText[:0], arg...)
		if n := len(name) - len(arg) - 1; len(arg) > 0 && (n < 0 || name[n] != '_' || !bytes.HasSuffix(name, arg)) {
			return p.errAt(start, "unit "+strconv.Quote(string(arg))+" is not a suffix of the family name ("+secUnit+")")
		}
	}
	if again {
		return p.errAt(start, "second # "+kind+" for the family ("+secMetricFamilies+")")
	}
	return nil
}

// omTyped checks what a family's type and unit allow together, once both
// are known.
func (p *Parser) omTyped(start int) error {
	if len(p.om.unitText) > 0 && (p.fam.Type == TypeInfo || p.fam.Type == TypeStateset) {
		return p.errAt(start, "a family of type "+p.fam.Type.String()+" cannot have a unit ("+secUnit+")")
	}
	return nil
}

// omBegin ends the current family and opens one named name, which no
// earlier family may have used.
func (p *Parser) omBegin(name []byte, start int) error {
	if err := p.omEnd(start); err != nil {
		return err
	}
	p.begin(name)
	p.om.startFamily()
	if name[0] == '_' {
		return p.errAt(start, "a family name starting with _ (reserved) ("+secMetricFamilies+")")
	}
	if other, ok := p.om.taken(name, ""); ok {
		if string(other) == string(name) {
			return p.errAt(start, "family "+strconv.Quote(string(other))+" repeats the name of an earlier family: a family's lines must be together ("+secMetricFamilies+")")
		}
		return p.errAt(start, "family name "+strconv.Quote(string(name))+" is a sample name of family "+strconv.Quote(string(other))+" ("+secMetricFamilies+")")
	}
	return nil
}

// taken returns the earlier family whose sample names include base+suffix.
func (o *omState) taken(base []byte, suffix string) ([]byte, bool) {
	i, ok := o.names[o.nameHash(base, suffix)]
	if !ok {
		return nil, false
	}
	f := o.fams[i]
	fn := o.arena[f.start:f.end]
	// The hash matched: confirm that base+suffix is fn plus one of its
	// type's suffixes.
	o.joined = append(append(o.joined[:0], base...), suffix...)
	if !bytes.HasPrefix(o.joined, fn) {
		return nil, false
	}
	for _, s := range familySuffixes[f.typ] {
		if s.String() == string(o.joined[len(fn):]) {
			return fn, true
		}
	}
	return nil, false
}

// nameHash hashes base+suffix.
func (o *omState) nameHash(base []byte, suffix string) uint64 {
	var h maphash.Hash
	h.SetSeed(o.seed)
	h.Write(base)
	h.WriteString(suffix)
	return h.Sum64()
}

// familySuffixes are, per type, the suffixes of the sample names a family
// takes: its own name and those its type allows.
var familySuffixes = func() (m [numTypes][]Suffix) {
	for t := range m {
		m[t] = []Suffix{SuffixNone}
		for _, s := range allowed[t] {
			if s != SuffixNone {
				m[t] = append(m[t], s)
			}
		}
	}
	return m
}()

// omEnd completes the current family: its last histogram MetricPoint, and
// the sample names it takes, which must not be any earlier family's.
func (p *Parser) omEnd(start int) error {
	if len(p.fam.Name) == 0 {
		return nil
	}
	if err := p.omPointEnd(start); err != nil {
		return err
	}
	for _, h := range p.om.histList {
		if err := p.omHistEnd(h, start); err != nil {
			return err
		}
	}
	o := &p.om
	base := p.fam.Name
	for _, s := range familySuffixes[p.fam.Type] {
		if other, ok := o.taken(base, s.String()); ok {
			return p.errAt(start, "family "+strconv.Quote(string(base))+" takes the name "+strconv.Quote(string(base)+s.String())+" of family "+strconv.Quote(string(other))+" ("+secMetricFamilies+")")
		}
	}
	o.fams = append(o.fams, omFamily{start: len(o.arena), end: len(o.arena) + len(base), typ: p.fam.Type})
	o.arena = append(o.arena, base...)
	for _, s := range familySuffixes[p.fam.Type] {
		o.names[o.nameHash(base, s.String())] = len(o.fams) - 1
	}
	return nil
}

// omFinish applies the rules at `# EOF`.
func (p *Parser) omFinish() error {
	err := p.omEnd(p.eofStart)
	p.fam.Name = nil
	return err
}

// omSample applies the rules to the sample line just parsed, whose labels
// have been parsed.
func (p *Parser) omSample(start int) error {
	o := &p.om
	s := &p.sample
	o.samples++
	t := p.fam.Type
	v := s.Value
	f, err := p.omFacts(start)
	if err != nil {
		return err
	}
	s.Bound, s.HasBound = f.bound, f.hasBound
	if o.exemplar {
		if !(s.Suffix == SuffixTotal && t == TypeCounter || s.Suffix == SuffixBucket) {
			return p.errAt(start, "an exemplar on a sample other than a counter's _total or a histogram's _bucket ("+secExemplars+")")
		}
		if o.exemplarRunes > 128 {
			return p.errAt(start, "exemplar labels longer than 128 characters ("+secExemplars+")")
		}
	}
	switch s.Suffix {
	case SuffixTotal, SuffixBucket, SuffixCount, SuffixGCount, SuffixSum:
		sec := secCounter
		switch t {
		case TypeHistogram:
			sec = secHistogram
		case TypeGaugeHistogram:
			sec = secGaugeHistogram
		case TypeSummary:
			sec = secSummary
		}
		if math.IsNaN(v) || v < 0 {
			return p.errAt(start, "a "+t.String()+"'s "+s.Suffix.String()+" must be a non-negative number ("+sec+")")
		}
		if s.Suffix != SuffixTotal && s.Suffix != SuffixSum && v != math.Trunc(v) {
			return p.errAt(start, "a "+t.String()+"'s "+s.Suffix.String()+" must be an integer ("+sec+")")
		}
	case SuffixGSum:
		if math.IsNaN(v) {
			return p.errAt(start, "a gaugehistogram's _gsum must be a number ("+secGaugeHistogram+")")
		}
	case SuffixNone:
		switch t {
		case TypeCounter:
			return p.errAt(start, "a counter's sample names end in _total or _created ("+secCounter+")")
		case TypeSummary:
			if v < 0 {
				return p.errAt(start, "a summary's quantile value must not be negative ("+secSummary+")")
			}
		case TypeStateset:
			if v != 0 && v != 1 {
				return p.errAt(start, "a stateset's value must be 0 or 1 ("+secStateSet+")")
			}
		case TypeInfo:
			return p.errAt(start, "an info's sample names end in _info ("+secInfo+")")
		}
	case SuffixInfo:
		if v != 1 {
			return p.errAt(start, "an info's value must be 1 ("+secInfo+")")
		}
	}
	if err := p.omGroup(start, f.group); err != nil {
		return err
	}
	if t == TypeHistogram || t == TypeGaugeHistogram {
		return p.omHistSample(start)
	}
	return nil
}

// omFacts returns what the current sample's label set says for the rules,
// from the cache when the same series text has been seen in a family of
// the same type; else it parses and checks the labels (which then need no
// parsing when the consumer asks for them).
func (p *Parser) omFacts(start int) (*lineFacts, error) {
	o := &p.om
	s := &p.sample
	t := p.fam.Type
	if i := len(o.cur); i < len(o.prev) {
		if f := o.prev[i]; f.typ == t && f.keep == p.famKeep && f.text == string(s.Series) {
			o.cur = append(o.cur, f)
			return f, nil
		}
	}
	h := maphash.Bytes(o.seed, s.Series) ^ uint64(t)<<56
	if p.famKeep {
		h ^= 1 << 63
	}
	if f := o.facts[h]; f != nil && f.typ == t && f.keep == p.famKeep && f.text == string(s.Series) {
		o.cur = append(o.cur, f)
		return f, nil
	}
	if err := p.ParseLabels(); err != nil {
		return nil, err
	}
	skip := ""
	for _, l := range s.Labels {
		switch {
		case l.Name[0] == '_':
			return nil, p.errAt(start, "a label name starting with _ (reserved) ("+secMetric+")")
		case s.Suffix != SuffixBucket && string(l.Name) == "le" && (t == TypeHistogram || t == TypeGaugeHistogram):
			return nil, p.errAt(start, "a histogram's "+s.Suffix.String()+" with an le label ("+secHistogram+")")
		case s.Suffix != SuffixNone && string(l.Name) == "quantile" && t == TypeSummary:
			return nil, p.errAt(start, "a summary's "+s.Suffix.String()+" with a quantile label ("+secSummary+")")
		}
	}
	f := &lineFacts{text: string(s.Series), typ: t, keep: p.famKeep, bound: s.Bound, hasBound: s.HasBound}
	switch {
	case t == TypeInfo:
		// As prometheus_client's reference parser does: an info family's
		// samples form one group, whose timestamps may go in any order.
		skip = "\x00all"
	case s.Suffix == SuffixBucket && t == TypeGaugeHistogram:
		// A gauge histogram's `le` stays a label (see bound).
		skip = "le"
		i := slices.IndexFunc(s.Labels, func(l Label) bool { return string(l.Name) == "le" })
		if i < 0 {
			return nil, p.errAt(start, "missing le label ("+secGaugeHistogram+")")
		}
		v, err := p.boundValue("le", s.Labels[i].Value, start)
		if err != nil {
			return nil, err
		}
		f.bound, f.hasBound = v, true
	case t == TypeStateset:
		skip = string(p.fam.Name)
		if !slices.ContainsFunc(s.Labels, func(l Label) bool { return string(l.Name) == skip }) {
			return nil, p.errAt(start, "a stateset's sample has no label named after the family ("+secStateSet+")")
		}
	}
	f.group = o.groupHash(s.Labels, skip)
	o.facts[h] = f
	o.cur = append(o.cur, f)
	return f, nil
}

// omGroup places the sample in its MetricPoint group: a group's lines must
// be together, with timestamps on all or none, never going back.
//
// One lenience, for real engines: prometheus_client's multiprocess mode
// (SGLang's) prints a histogram's or summary's `_sum` lines for every label
// set first, and then each label set's other lines. So a group whose only
// lines so far are in such a leading block of `_sum` lines may come back,
// once. (prometheus_client's own OpenMetrics parser rejects these bodies.)
func (p *Parser) omGroup(start int, group uint64) error {
	o := &p.om
	s := &p.sample
	t := p.fam.Type
	sum := s.Suffix == SuffixSum && (t == TypeHistogram || t == TypeSummary)
	o.leadingSums = o.leadingSums && sum
	if o.hasGroup && group == o.group {
		if s.HasTimestamp != o.hasTS {
			return p.errAt(start, "timestamps on some samples of a MetricPoint and not on others ("+secMetric+")")
		}
		if s.HasTimestamp && s.Timestamp < o.ts && t != TypeInfo {
			return p.errAt(start, "a timestamp earlier than the one before it in the same Metric ("+secMetric+")")
		}
		if s.HasTimestamp && s.Timestamp != o.ts {
			if err := p.omPointEnd(start); err != nil { // the Metric's next MetricPoint
				return err
			}
		}
		if !sum && o.groups[group] == groupSumOnly {
			o.groups[group] = groupLeft
		}
	} else {
		state, seen := o.groups[group]
		switch {
		case !seen && o.leadingSums:
			o.groups[group] = groupSumOnly
		case !seen || state == groupSumOnly && !o.leadingSums:
			o.groups[group] = groupLeft
		default:
			return p.errAt(start, "a label set's samples are not together: this one appeared earlier in the family ("+secMetric+")")
		}
		if err := p.omPointEnd(start); err != nil {
			return err
		}
		o.group = group
		o.hasGroup = true
		o.hist = nil
	}
	o.hasTS, o.ts = s.HasTimestamp, s.Timestamp
	return p.omPart(start)
}

// omPart records the sample as a part of its MetricPoint, which has each
// part once: a second `a_total`, or a second `a` of a gauge, without
// timestamps is a second MetricPoint that is not after the first. (With
// equal timestamps it is allowed: timestamps that differ in the body can be
// equal once truncated, as the OpenMetrics suite's duplicate_timestamps case
// has them.) Buckets, quantiles and states are many per MetricPoint and are
// checked elsewhere.
func (p *Parser) omPart(start int) error {
	o := &p.om
	s := &p.sample
	t := p.fam.Type
	if s.Suffix == SuffixBucket || s.Suffix == SuffixNone && (t == TypeSummary || t == TypeStateset || t == TypeInfo) {
		return nil
	}
	bit := uint16(1) << s.Suffix
	if o.parts&bit != 0 && !s.HasTimestamp {
		return p.errAt(start, "a sample repeated in one MetricPoint: a Metric's MetricPoints need increasing timestamps ("+secMetric+")")
	}
	o.parts |= bit
	o.hasTotal = o.hasTotal || s.Suffix == SuffixTotal
	return nil
}

// omPointEnd closes the current MetricPoint (of any type); a counter's must
// have had its _total.
func (p *Parser) omPointEnd(start int) error {
	o := &p.om
	had := o.parts != 0
	total := o.hasTotal
	o.parts, o.hasTotal = 0, false
	if had && p.fam.Type == TypeCounter && !total {
		return p.errAt(start, "counter "+strconv.Quote(string(p.fam.Name))+" has a MetricPoint without _total ("+secCounter+")")
	}
	return nil
}

// groupHash hashes the labels sorted by name, without the one named skip;
// "\x00all" skips every label.
func (o *omState) groupHash(labels []Label, skip string) uint64 {
	var h maphash.Hash
	h.SetSeed(o.seed)
	if skip == "\x00all" {
		return h.Sum64()
	}
	byName := func(a, b Label) int { return bytes.Compare(a.Name, b.Name) }
	if !slices.IsSortedFunc(labels, byName) { // client libraries sort them
		o.sorted = append(o.sorted[:0], labels...)
		slices.SortFunc(o.sorted, byName)
		labels = o.sorted
	}
	for _, l := range labels {
		if string(l.Name) == skip {
			continue
		}
		h.Write(l.Name)
		h.WriteByte(0)
		h.Write(l.Value)
		h.WriteByte(0)
	}
	return h.Sum64()
}

// omHistSample adds a histogram or gauge histogram sample to its
// MetricPoint: buckets in increasing order of `le`, counts never falling.
func (p *Parser) omHistSample(start int) error {
	o := &p.om
	s := &p.sample
	sec := secHistogram
	if p.fam.Type == TypeGaugeHistogram {
		sec = secGaugeHistogram
	}
	h := o.hist
	if h == nil {
		h = o.hists[o.group]
	}
	if h == nil {
		if n := len(o.histFree); n > 0 {
			h, o.histFree = o.histFree[n-1], o.histFree[:n-1]
		} else {
			h = new(histGroup)
		}
		*h = histGroup{}
		o.hists[o.group] = h
		o.histList = append(o.histList, h)
	}
	o.hist = h
	if h.open && s.Timestamp != h.ts {
		// The next MetricPoint of the same Metric.
		if err := p.omHistEnd(h, start); err != nil {
			return err
		}
	}
	h.open, h.ts = true, s.Timestamp
	switch s.Suffix {
	case SuffixBucket:
		if o.exemplar && (o.exemplarValue > s.Bound || h.buckets > 0 && o.exemplarValue <= h.lastBound) {
			return p.errAt(start, "an exemplar's value outside its bucket ("+secExemplars+")")
		}
		if h.buckets > 0 && s.Bound <= h.lastBound {
			return p.errAt(start, "buckets not in increasing order of le ("+sec+")")
		}
		if h.buckets > 0 && s.Value < h.lastValue {
			return p.errAt(start, "a bucket's count is less than the one below it ("+sec+")")
		}
		if s.Bound < 0 {
			h.negBucket = true
		}
		h.buckets++
		h.lastBound, h.lastValue = s.Bound, s.Value
	case SuffixCount, SuffixGCount:
		h.count, h.hasCount = s.Value, true
	case SuffixSum:
		h.hasSum = true
	case SuffixGSum:
		h.hasGSum = true
		if s.Value < 0 {
			h.negSum = true
		}
	}
	return nil
}

// omHistEnd checks a complete histogram or gauge histogram MetricPoint and
// clears it for the next.
func (p *Parser) omHistEnd(hp *histGroup, start int) error {
	h := *hp
	*hp = histGroup{}
	if !h.open {
		return nil
	}
	sec, count, sum := secHistogram, "_count", "_sum"
	if p.fam.Type == TypeGaugeHistogram {
		sec, count, sum = secGaugeHistogram, "_gcount", "_gsum"
	}
	name := func() string { return strconv.Quote(string(p.fam.Name)) } // for an error only
	switch {
	case h.buckets == 0 || !math.IsInf(h.lastBound, 1):
		return p.errAt(start, "histogram "+name()+" has a MetricPoint without a +Inf bucket ("+sec+")")
	case h.hasCount && h.count != h.lastValue:
		return p.errAt(start, "histogram "+name()+": "+count+" differs from the +Inf bucket ("+sec+")")
	case (h.hasSum || h.hasGSum) && !h.hasCount:
		return p.errAt(start, "histogram "+name()+" has "+sum+" without "+count+" ("+sec+")")
	case h.hasCount && !h.hasSum && !h.hasGSum:
		return p.errAt(start, "histogram "+name()+" has "+count+" without "+sum+" ("+sec+")")
	case h.negBucket && h.hasSum:
		return p.errAt(start, "histogram "+name()+" has negative buckets and a _sum ("+sec+")")
	case h.negSum && !h.negBucket:
		return p.errAt(start, "histogram "+name()+" has a negative _gsum without negative buckets ("+sec+")")
	}
	return nil
}

// exemplarRunes is the length of an exemplar's label set as OpenMetrics
// counts it: the code points of its names and values.
func exemplarRunes(labels []Label) int {
	n := 0
	for _, l := range labels {
		n += utf8.RuneCount(l.Name) + utf8.RuneCountInString(Unescape(l.Value))
	}
	return n
}
