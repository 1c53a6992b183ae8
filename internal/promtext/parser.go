// Package promtext is a streaming, allocation-free parser for the Prometheus
// text exposition format 0.0.4 and OpenMetrics 1.0 text.
//
// It is built for a scraper that keeps a few namespaces out of a large body:
// the keep decision is taken once per family from its name bytes, and the
// lines of a dropped family are skipped with a single newline search, never
// tokenised. Kept lines are tokenised into byte slices that alias the body;
// nothing is copied or unescaped here, so that a consumer which already knows
// a series pays nothing to build its labels again.
package promtext

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Format is the exposition format of a body.
type Format uint8

const (
	FormatText        Format = iota // text/plain; version=0.0.4
	FormatOpenMetrics               // application/openmetrics-text; version=1.0.0
)

func (f Format) String() string {
	if f == FormatOpenMetrics {
		return "OpenMetrics 1.0"
	}
	return "Prometheus text 0.0.4"
}

// Type is a family's declared type. A family without `# TYPE` is TypeUnknown.
type Type uint8

const (
	TypeUnknown Type = iota
	TypeCounter
	TypeGauge
	TypeHistogram
	TypeSummary
	TypeInfo
	TypeStateset
	TypeGaugeHistogram
	numTypes
)

// NumTypes is the number of Type values, for tables indexed by Type.
const NumTypes = int(numTypes)

var typeNames = [numTypes]string{"unknown", "counter", "gauge", "histogram", "summary", "info", "stateset", "gaugehistogram"}

func (t Type) String() string { return typeNames[t] }

// Suffix says which part of its family a sample is.
type Suffix uint8

const (
	SuffixNone Suffix = iota
	SuffixTotal
	SuffixCreated
	SuffixBucket
	SuffixSum
	SuffixCount
	SuffixGCount
	SuffixGSum
	SuffixInfo
	numSuffixes
)

// NumSuffixes is the number of Suffix values, for tables indexed by Suffix.
const NumSuffixes = int(numSuffixes)

var suffixNames = [numSuffixes]string{"", "_total", "_created", "_bucket", "_sum", "_count", "_gcount", "_gsum", "_info"}

func (s Suffix) String() string { return suffixNames[s] }

// allowed lists, per type, the sample suffixes a family may carry. A sample
// whose name fits none of them starts a new family in the text format (where
// families are implicit) and is an error in OpenMetrics.
var allowed = [numTypes][]Suffix{
	TypeUnknown:        {SuffixNone},
	TypeCounter:        {SuffixNone, SuffixTotal, SuffixCreated},
	TypeGauge:          {SuffixNone},
	TypeHistogram:      {SuffixBucket, SuffixSum, SuffixCount, SuffixCreated},
	TypeSummary:        {SuffixNone, SuffixSum, SuffixCount, SuffixCreated},
	TypeInfo:           {SuffixInfo, SuffixNone},
	TypeStateset:       {SuffixNone},
	TypeGaugeHistogram: {SuffixBucket, SuffixGCount, SuffixGSum},
}

// Label is one label pair. Value is the raw, still escaped, text between the
// quotes; see Unescape.
type Label struct {
	Name  []byte
	Value []byte
}

// Sample is one kept sample line. All slices alias the body and the parser's
// buffers and are valid until the next call to Next.
type Sample struct {
	Suffix Suffix
	// Series is the sample's name and label set exactly as written, and
	// Series[:NameLen] the name.
	Series  []byte
	NameLen int
	// Expected is set when Series is the text passed to Expect.
	Expected bool
	// Labels, Bound and HasBound are filled by ParseLabels. Labels excludes
	// `le` on histogram buckets and `quantile` on summary quantiles; their
	// value is in Bound.
	Labels       []Label
	Bound        float64
	HasBound     bool
	Value        float64
	Timestamp    int64 // milliseconds since the epoch
	HasTimestamp bool
}

// Family describes the family of the current sample.
type Family struct {
	Name []byte
	Type Type
	Help []byte // raw, still escaped
	// Seq changes whenever a new family begins, including a repeated
	// declaration of a name seen before in the same body.
	Seq uint64
}

// Limits bound what one kept sample may carry. Zero means no limit.
type Limits struct {
	MaxLabels        int
	MaxLabelNameLen  int
	MaxLabelValueLen int
	MaxSamples       int // kept samples per body
}

// Stats counts what a body held.
type Stats struct {
	Samples     int // every sample line, kept or not
	KeptSamples int
}

// Error is a parse error. It names the line and what was wrong with it.
type Error struct {
	Line   int
	Reason string
	Text   string // the start of the offending line
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.Reason
	}
	return fmt.Sprintf("line %d: %s: %q", e.Line, e.Reason, e.Text)
}

// KeepFunc decides from a family name whether its samples are wanted.
type KeepFunc func(name []byte) bool

// Parser reads one body at a time. Reuse it across scrapes: its buffers are
// kept and so nothing is allocated per body once they have grown.
type Parser struct {
	buf    []byte
	pos    int
	line   int
	format Format
	keep   KeepFunc
	limits Limits

	fam     Family
	famKeep bool
	// underscored caches escapedName for the current family.
	underscored []byte
	// declared and helped record which metadata lines the current family
	// block has had, so that `# HELP x` then `# TYPE x` form one family while
	// a second `# TYPE x` (Dynamo's repeated blocks) opens another.
	declared bool
	helped   bool
	seen     int // kept samples so far in this family block

	expect    expectation
	sample    Sample
	labels    []Label
	names     [][]byte // scratch for duplicateName
	lineStart int      // offset of the current sample line, for errors
	stats     Stats
	eof       bool
}

// expectation is what Expect was told.
type expectation struct {
	series  []byte
	nameLen int
	suffix  Suffix
}

// Expect says that the next kept sample line probably starts with series,
// a Series that Next returned for an earlier body, with that NameLen and
// Suffix. When it does, and its name still fits the current family as that
// suffix, the line's name and label set are not scanned: equal bytes in the
// same family parse alike. The sample is then marked Expected. Bodies rarely
// change shape between scrapes, so a consumer that remembers the previous
// body's lines in order can name nearly every line in advance.
func (p *Parser) Expect(series []byte, nameLen int, suffix Suffix) {
	p.expect = expectation{series, nameLen, suffix}
}

// Reset prepares the parser for a new body.
func (p *Parser) Reset(body []byte, format Format, keep KeepFunc, limits Limits) {
	p.buf = body
	p.pos = 0
	p.line = 0
	p.format = format
	p.keep = keep
	p.limits = limits
	p.fam = Family{Seq: p.fam.Seq + 1}
	p.famKeep = false
	p.underscored = p.underscored[:0]
	p.declared = false
	p.helped = false
	p.seen = 0
	p.stats = Stats{}
	p.eof = false
	p.expect = expectation{}
}

// Stats returns the counts so far; complete once Next has returned Done.
func (p *Parser) Stats() Stats { return p.stats }

// Family returns the family of the sample last returned by Next.
func (p *Parser) Family() *Family { return &p.fam }

// Done is returned by Next at the end of a valid body.
var Done = errors.New("end of body")

// Next advances to the next kept sample. It returns Done at the end of a
// valid body and an *Error at the first invalid line.
func (p *Parser) Next() (*Sample, error) {
	for p.pos < len(p.buf) {
		if p.eof {
			return nil, p.errAt(p.pos, "content after # EOF")
		}
		if !p.famKeep && len(p.fam.Name) > 0 {
			p.skipDropped()
			if p.pos == len(p.buf) {
				break
			}
		}
		start := p.pos
		p.line++
		nl := bytes.IndexByte(p.buf[start:], '\n')
		var line []byte
		if nl < 0 {
			if p.format == FormatText {
				return nil, p.errAt(start, "last line does not end with a newline (truncated body?)")
			}
			line = p.buf[start:]
			p.pos = len(p.buf)
		} else {
			line = p.buf[start : start+nl]
			p.pos = start + nl + 1
		}
		if len(line) == 0 {
			if p.format == FormatOpenMetrics {
				return nil, p.errAt(start, "empty line")
			}
			continue
		}
		if line[0] == '#' {
			if err := p.comment(line, start); err != nil {
				return nil, err
			}
			continue
		}
		s, err := p.sampleLine(line, start)
		if err != nil {
			return nil, err
		}
		if s != nil {
			return s, nil
		}
	}
	if p.format == FormatOpenMetrics && !p.eof {
		return nil, &Error{Line: p.line, Reason: "OpenMetrics body does not end with # EOF (truncated body?)"}
	}
	return nil, Done
}

// skipDropped consumes the sample lines of the current, dropped family that
// come next, in a loop that only finds each line's end and checks that the
// name is the family's. It stops at anything else (a comment, another
// family, a last line without newline), which Next then handles.
func (p *Parser) skipDropped() {
	fn := p.fam.Name
	for {
		rest := p.buf[p.pos:]
		if len(rest) <= len(fn) || string(rest[:len(fn)]) != string(fn) {
			return
		}
		t := nameTailLen(rest[len(fn):])
		if _, ok := p.suffixOf(rest[len(fn) : len(fn)+t]); !ok {
			return
		}
		nl := bytes.IndexByte(rest, '\n')
		if nl < 0 {
			return
		}
		p.pos += nl + 1
		p.line++
		p.stats.Samples++
	}
}

func (p *Parser) errAt(start int, reason string) *Error {
	end := start + 80
	if end > len(p.buf) {
		end = len(p.buf)
	}
	text := p.buf[start:end]
	if i := bytes.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	return &Error{Line: p.line, Reason: reason, Text: string(text)}
}

// comment handles `# HELP`, `# TYPE`, `# UNIT`, `# EOF` and plain comments.
func (p *Parser) comment(line []byte, start int) error {
	if p.format == FormatOpenMetrics && string(line) == "# EOF" {
		p.eof = true
		return nil
	}
	rest, ok := bytes.CutPrefix(line, []byte("# "))
	if !ok {
		if p.format == FormatOpenMetrics {
			return p.errAt(start, "invalid comment")
		}
		return nil
	}
	var kind string
	switch {
	case bytes.HasPrefix(rest, []byte("HELP ")):
		kind, rest = "HELP", rest[5:]
	case bytes.HasPrefix(rest, []byte("TYPE ")):
		kind, rest = "TYPE", rest[5:]
	case bytes.HasPrefix(rest, []byte("UNIT ")):
		kind, rest = "UNIT", rest[5:]
	default:
		if p.format == FormatOpenMetrics {
			return p.errAt(start, "invalid comment")
		}
		return nil
	}
	var n int
	if fn := p.fam.Name; len(fn) > 0 && len(rest) > len(fn) && rest[len(fn)] == ' ' && string(rest[:len(fn)]) == string(fn) {
		n = len(fn) // `# TYPE x` right after `# HELP x`: no need to scan the name again
	} else if n = metricNameLen(rest); n == 0 {
		return p.errAt(start, "invalid metric name in # "+kind)
	}
	name := rest[:n]
	rest = rest[n:]
	var arg []byte
	if len(rest) > 0 {
		if rest[0] != ' ' {
			return p.errAt(start, "invalid metric name in # "+kind)
		}
		arg = rest[1:]
	}
	same := bytes.Equal(name, p.fam.Name)
	switch kind {
	case "TYPE":
		t, ok := parseType(arg, p.format)
		if !ok {
			return p.errAt(start, "unknown metric type "+strconv.Quote(string(arg)))
		}
		if !same || p.declared || p.seen > 0 {
			p.begin(name)
		}
		p.fam.Type = t
		p.declared = true
	case "HELP":
		if !same || p.helped || p.seen > 0 {
			p.begin(name)
		}
		// A dropped family's HELP is never used, so it is not checked.
		if p.famKeep && !utf8.Valid(arg) {
			return p.errAt(start, "HELP text is not valid UTF-8")
		}
		p.fam.Help = arg
		p.helped = true
	case "UNIT":
		// Units are deliberately not carried into pdata: the exporter would
		// append them to names that must stay verbatim.
		if !same || p.seen > 0 {
			p.begin(name)
		}
	}
	return nil
}

func parseType(b []byte, f Format) (Type, bool) {
	switch string(b) {
	case "counter":
		return TypeCounter, true
	case "gauge":
		return TypeGauge, true
	case "histogram":
		return TypeHistogram, true
	case "summary":
		return TypeSummary, true
	case "untyped":
		return TypeUnknown, f == FormatText
	case "unknown":
		return TypeUnknown, f == FormatOpenMetrics
	case "info":
		return TypeInfo, f == FormatOpenMetrics
	case "stateset":
		return TypeStateset, f == FormatOpenMetrics
	case "gaugehistogram":
		return TypeGaugeHistogram, f == FormatOpenMetrics
	}
	return 0, false
}

// begin opens a new family named name and takes its keep decision.
func (p *Parser) begin(name []byte) {
	p.fam = Family{Name: name, Seq: p.fam.Seq + 1}
	p.declared = false
	p.helped = false
	p.seen = 0
	p.famKeep = p.keep == nil || p.keep(name)
	p.underscored = p.underscored[:0]
}

// member reports whether a sample named name belongs to the current family,
// and as which part of it.
func (p *Parser) member(name []byte) (Suffix, bool) {
	if len(p.fam.Name) == 0 {
		return 0, false
	}
	base := p.fam.Name
	if !bytes.HasPrefix(name, base) {
		if base = p.escapedName(); base == nil || !bytes.HasPrefix(name, base) {
			return 0, false
		}
	}
	return p.suffixOf(name[len(base):])
}

// escapedName is the family name with ':' written as '_', as
// prometheus_client's escaping bug prints it on sample lines; nil when the
// name has no colon. Computed on the first sample that needs it.
func (p *Parser) escapedName() []byte {
	if len(p.underscored) == 0 {
		if bytes.IndexByte(p.fam.Name, ':') < 0 {
			return nil
		}
		p.underscored = append(p.underscored, p.fam.Name...)
		for i, c := range p.underscored {
			if c == ':' {
				p.underscored[i] = '_'
			}
		}
	}
	return p.underscored
}

// allowedMask is allowed as bit sets, for the per-line check.
var allowedMask = func() (m [numTypes]uint16) {
	for t, ss := range allowed {
		for _, s := range ss {
			m[t] |= 1 << s
		}
	}
	return m
}()

// suffixOf tells whether tail, what follows the family name in a sample
// name, is a suffix the current family's type allows.
func (p *Parser) suffixOf(tail []byte) (Suffix, bool) {
	var s Suffix
	switch string(tail) {
	case "":
		s = SuffixNone
	case "_total":
		s = SuffixTotal
	case "_created":
		s = SuffixCreated
	case "_bucket":
		s = SuffixBucket
	case "_sum":
		s = SuffixSum
	case "_count":
		s = SuffixCount
	case "_gcount":
		s = SuffixGCount
	case "_gsum":
		s = SuffixGSum
	case "_info":
		s = SuffixInfo
	default:
		return 0, false
	}
	return s, allowedMask[p.fam.Type]&(1<<s) != 0
}

// sampleLine parses one sample line. It returns nil, nil for a line of a
// dropped family.
func (p *Parser) sampleLine(line []byte, start int) (*Sample, error) {
	p.stats.Samples++
	if p.expected(line) {
		x := p.expect
		p.expect.series = nil
		return p.sampleValue(line, start, len(x.series), x.nameLen, x.suffix, true)
	}
	// Most lines continue the current family: compare its name once and
	// scan only what follows, the suffix.
	var (
		n      int
		suffix Suffix
		ok     bool
	)
	if fn := p.fam.Name; len(fn) > 0 && len(line) > len(fn) && string(line[:len(fn)]) == string(fn) {
		n = len(fn) + nameTailLen(line[len(fn):])
		suffix, ok = p.suffixOf(line[len(fn):n])
	} else {
		n = metricNameLen(line)
		if n == 0 {
			if line[0] == '{' {
				return nil, p.errAt(start, "quoted UTF-8 metric names are not supported")
			}
			return nil, p.errAt(start, "invalid metric name")
		}
		suffix, ok = p.member(line[:n])
	}
	if !ok {
		name := line[:n]
		if p.format == FormatOpenMetrics && p.declared && p.fam.Type != TypeUnknown && bytes.HasPrefix(name, p.fam.Name) {
			return nil, p.errAt(start, "sample name does not fit its "+p.fam.Type.String()+" family "+strconv.Quote(string(p.fam.Name)))
		}
		p.begin(name)
		suffix = SuffixNone
	}
	if !p.famKeep {
		return nil, nil
	}
	p.expect.series = nil
	rest := line[n:]
	if len(rest) > 0 && rest[0] == '{' {
		end := p.labelSetEnd(rest)
		if end < 0 {
			return nil, p.errAt(start, "unterminated label set")
		}
		rest = rest[end:]
	}
	return p.sampleValue(line, start, len(line)-len(rest), n, suffix, false)
}

// expected reports whether line is the expected one: it starts with the
// expected series text and a space, the family is kept, and the name is
// the current family's name plus a suffix its type allows.
func (p *Parser) expected(line []byte) bool {
	x := &p.expect
	fn := p.fam.Name
	return x.series != nil && p.famKeep &&
		len(line) > len(x.series) && line[len(x.series)] == ' ' &&
		x.nameLen == len(fn)+len(suffixNames[x.suffix]) &&
		allowedMask[p.fam.Type]&(1<<x.suffix) != 0 &&
		string(line[:len(x.series)]) == string(x.series) &&
		string(line[:len(fn)]) == string(fn)
}

// sampleValue completes a kept sample whose series text is known: it
// counts it and parses the value and what follows.
func (p *Parser) sampleValue(line []byte, start, seriesLen, nameLen int, suffix Suffix, expected bool) (*Sample, error) {
	p.seen++
	p.stats.KeptSamples++
	if p.limits.MaxSamples > 0 && p.stats.KeptSamples > p.limits.MaxSamples {
		return nil, &Error{Line: p.line, Reason: fmt.Sprintf("sample limit exceeded: more than %d samples kept", p.limits.MaxSamples)}
	}
	// Field by field: a composite literal would clear and copy the whole
	// struct, Labels included, through the write barrier on every line.
	s := &p.sample
	s.Suffix, s.Series, s.NameLen, s.Expected = suffix, line[:seriesLen], nameLen, expected
	s.Bound, s.HasBound, s.Timestamp, s.HasTimestamp = 0, false, 0, false
	s.Labels = s.Labels[:0]
	p.lineStart = start
	rest := line[len(s.Series):]
	if len(rest) == 0 || rest[0] != ' ' {
		return nil, p.errAt(start, "expected a space before the value")
	}
	for len(rest) > 0 && rest[0] == ' ' && p.format == FormatText {
		rest = rest[1:]
	}
	if p.format == FormatOpenMetrics {
		rest = rest[1:]
	}
	end := bytes.IndexByte(rest, ' ')
	if end < 0 {
		end = len(rest)
	}
	v, err := parseFloat(rest[:end])
	if err != nil {
		return nil, p.errAt(start, "invalid value "+strconv.Quote(string(rest[:end])))
	}
	s.Value = v
	rest = rest[end:]
	if err := p.trailer(rest, start); err != nil {
		return nil, err
	}
	return s, nil
}

// ParseLabels tokenises and checks the label set of the sample last
// returned by Next, filling its Labels, Bound and HasBound. It is separate
// from Next because a consumer that has seen the same Series bytes before
// already knows the answer: equal bytes always parse alike.
func (p *Parser) ParseLabels() error {
	s := &p.sample
	p.labels = p.labels[:0]
	if rest := s.Series[s.NameLen:]; len(rest) > 0 {
		after, err := p.parseLabels(rest[1:], p.lineStart)
		if err != nil {
			return err
		}
		if len(after) > 0 {
			return p.errAt(p.lineStart, "unexpected text after the label set")
		}
	}
	s.Labels = p.labels
	return p.bound(p.lineStart)
}

// labelSetEnd returns the length of the label set that b starts with, `{`
// to `}` included; -1 if it is unterminated. It only delimits, ParseLabels
// checks. Nothing after a text-format label set can hold a `}`, so the last
// one on the line ends it, and it is found by a short backward scan from
// the value; OpenMetrics lines may end in an exemplar's label set, so a
// line with a `#` is delimited by a forward, quote-aware scan instead.
func (p *Parser) labelSetEnd(b []byte) int {
	if p.format == FormatText || bytes.IndexByte(b, '#') < 0 {
		if i := bytes.LastIndexByte(b, '}'); i >= 0 {
			return i + 1
		}
		return -1
	}
	return quotedLabelSetEnd(b)
}

func quotedLabelSetEnd(b []byte) int {
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '}':
			return i + 1
		case '"':
			for {
				q := bytes.IndexByte(b[i+1:], '"')
				if q < 0 {
					return -1
				}
				i += q + 1
				if !escapedAt(b, i) {
					break
				}
			}
		}
	}
	return -1
}

// escapedAt reports whether the quote at b[i] is preceded by an odd run of
// backslashes.
func escapedAt(b []byte, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && b[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// trailer parses the optional timestamp and, in OpenMetrics, exemplar.
func (p *Parser) trailer(rest []byte, start int) error {
	s := &p.sample
	if len(rest) == 0 {
		return nil
	}
	if p.format == FormatText {
		for len(rest) > 0 && rest[0] == ' ' {
			rest = rest[1:]
		}
		if len(rest) == 0 {
			return nil
		}
		ts, err := strconv.ParseInt(string(rest), 10, 64)
		if err != nil {
			return p.errAt(start, "invalid timestamp "+strconv.Quote(string(rest)))
		}
		s.Timestamp, s.HasTimestamp = ts, true
		return nil
	}
	rest = rest[1:]
	if len(rest) > 0 && rest[0] != '#' {
		end := bytes.IndexByte(rest, ' ')
		if end < 0 {
			end = len(rest)
		}
		sec, err := parseFloat(rest[:end])
		if err != nil || math.IsNaN(sec) || math.IsInf(sec, 0) {
			return p.errAt(start, "invalid timestamp "+strconv.Quote(string(rest[:end])))
		}
		s.Timestamp, s.HasTimestamp = int64(math.Round(sec*1000)), true
		rest = rest[end:]
		if len(rest) == 0 {
			return nil
		}
		rest = rest[1:]
	}
	// An exemplar is validated for shape and then dropped: pdata exemplars
	// would need a trace context that the exporter cannot expose anyway.
	if !bytes.HasPrefix(rest, []byte("# {")) {
		return p.errAt(start, "unexpected text after the value")
	}
	saved := len(p.labels)
	r, err := p.parseLabels(rest[3:], start)
	p.labels = p.labels[:saved]
	if err != nil {
		return err
	}
	if len(r) < 2 || r[0] != ' ' {
		return p.errAt(start, "invalid exemplar")
	}
	for _, f := range bytes.Split(r[1:], []byte(" ")) {
		if _, err := parseFloat(f); err != nil {
			return p.errAt(start, "invalid exemplar")
		}
	}
	return nil
}

// bound moves `le`/`quantile` out of the labels for the samples that carry one.
func (p *Parser) bound(start int) error {
	s := &p.sample
	var want string
	switch {
	case s.Suffix == SuffixBucket && p.fam.Type == TypeHistogram:
		// A gauge histogram's `le` stays a label: it is exposed as plain
		// gauges, as Prometheus stores it.
		want = "le"
	case s.Suffix == SuffixNone && p.fam.Type == TypeSummary:
		want = "quantile"
	default:
		return nil
	}
	for i, l := range s.Labels {
		if string(l.Name) != want {
			continue
		}
		v, err := parseFloat(l.Value)
		if err != nil || math.IsNaN(v) {
			return p.errAt(start, "invalid "+want+" label value "+strconv.Quote(string(l.Value)))
		}
		s.Bound, s.HasBound = v, true
		s.Labels = append(s.Labels[:i], s.Labels[i+1:]...)
		return nil
	}
	return p.errAt(start, "missing "+want+" label")
}

// parseLabels reads `name="value",...}`, appending to p.labels, and
// returns what follows the brace. Limits and duplicates are checked within
// this label set only: an exemplar's set is appended after its sample's,
// whose labels may be those of an earlier line.
func (p *Parser) parseLabels(b []byte, start int) ([]byte, error) {
	from := len(p.labels)
	for {
		b = p.skipSpaces(b)
		if len(b) > 0 && b[0] == '}' {
			if len(p.labels)-from > dupScanMax {
				if name := duplicateName(p.labels[from:], &p.names); name != nil {
					return nil, p.errAt(start, "duplicate label "+strconv.Quote(string(name)))
				}
			}
			return b[1:], nil
		}
		n := labelNameLen(b)
		if n == 0 {
			return nil, p.errAt(start, "invalid label name")
		}
		name := b[:n]
		b = b[n:]
		if len(b) < 2 || b[0] != '=' || b[1] != '"' {
			return nil, p.errAt(start, "expected =\" after label name "+strconv.Quote(string(name)))
		}
		b = b[2:]
		end, escaped := quotedEnd(b)
		if end < 0 {
			return nil, p.errAt(start, "unterminated label value")
		}
		value := b[:end]
		if escaped && !validEscapes(value) {
			return nil, p.errAt(start, "invalid escape in label value")
		}
		if !utf8.Valid(value) {
			return nil, p.errAt(start, "label value is not valid UTF-8")
		}
		if err := p.checkLimits(len(p.labels)-from, name, value, start); err != nil {
			return nil, err
		}
		if set := p.labels[from:]; len(set) < dupScanMax {
			for _, l := range set {
				if bytes.Equal(l.Name, name) {
					return nil, p.errAt(start, "duplicate label "+strconv.Quote(string(name)))
				}
			}
		}
		p.labels = append(p.labels, Label{Name: name, Value: value})
		b = p.skipSpaces(b[end+1:])
		if len(b) == 0 {
			return nil, p.errAt(start, "unterminated label set")
		}
		switch b[0] {
		case ',':
			b = b[1:]
		case '}':
		default:
			return nil, p.errAt(start, "expected , or } after label value")
		}
	}
}

// skipSpaces skips the blanks the text format tolerates inside a label set;
// OpenMetrics allows none.
func (p *Parser) skipSpaces(b []byte) []byte {
	if p.format == FormatText {
		for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
			b = b[1:]
		}
	}
	return b
}

// dupScanMax is how many labels a set may have before its duplicates are
// found by sorting instead of by comparing each name with those before it,
// which is quadratic: with label_limit: 0, one line of 100,000 labels would
// otherwise cost 5·10^9 comparisons.
const dupScanMax = 16

// duplicateName returns a name that occurs twice in labels, or nil, using
// names as scratch space.
func duplicateName(labels []Label, names *[][]byte) []byte {
	*names = (*names)[:0]
	for _, l := range labels {
		*names = append(*names, l.Name)
	}
	slices.SortFunc(*names, bytes.Compare)
	for i := 1; i < len(*names); i++ {
		if bytes.Equal((*names)[i], (*names)[i-1]) {
			return (*names)[i]
		}
	}
	return nil
}

func (p *Parser) checkLimits(have int, name, value []byte, start int) error {
	l := &p.limits
	switch {
	case l.MaxLabels > 0 && have >= l.MaxLabels:
		return p.errAt(start, fmt.Sprintf("more than %d labels", l.MaxLabels))
	case l.MaxLabelNameLen > 0 && len(name) > l.MaxLabelNameLen:
		return p.errAt(start, fmt.Sprintf("label name longer than %d bytes", l.MaxLabelNameLen))
	case l.MaxLabelValueLen > 0 && len(value) > l.MaxLabelValueLen:
		return p.errAt(start, fmt.Sprintf("label %q value longer than %d bytes", name, l.MaxLabelValueLen))
	}
	return nil
}

// quotedEnd returns the index of the closing quote and whether a backslash
// was seen.
func quotedEnd(b []byte) (int, bool) {
	escaped := false
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			return i, escaped
		case '\\':
			escaped = true
			i++
		}
	}
	return -1, escaped
}

func validEscapes(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' {
			i++
			if i == len(b) || (b[i] != '\\' && b[i] != '"' && b[i] != 'n') {
				return false
			}
		}
	}
	return true
}

// Unescape returns a label value or HELP text with its escapes resolved.
func Unescape(b []byte) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '\\' && i+1 < len(b) {
			i++
			switch b[i] {
			case 'n':
				c = '\n'
			default:
				c = b[i]
			}
		}
		out = append(out, c)
	}
	return string(out)
}

// nameChar marks the bytes allowed in a metric name: 1 anywhere, 2 only
// after the first character (digits).
var nameChar = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			t[c] = 1
		case '0' <= c && c <= '9':
			t[c] = 2
		}
	}
	return t
}()

func metricNameLen(b []byte) int {
	if len(b) == 0 || nameChar[b[0]] != 1 {
		return 0
	}
	return 1 + nameTailLen(b[1:])
}

// nameTailLen counts the name characters b starts with, digits included.
func nameTailLen(b []byte) int {
	for i, c := range b {
		if nameChar[c] == 0 {
			return i
		}
	}
	return len(b)
}

func labelNameLen(b []byte) int {
	for i, c := range b {
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return i
	}
	return len(b)
}

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat accepts what Prometheus accepts (strconv.ParseFloat), with a
// fast path for the plain decimals that make up nearly every real value:
// when the digits form a mantissa below 2^53 (any decimal of up to 15
// digits, and most of Python's 16-digit reprs) with at most 22 of them after
// the point, the mantissa and the power of ten are both exact in float64 and
// one division rounds correctly (Clinger), so the result is bit-identical to
// ParseFloat's. Nineteen digits cannot overflow the mantissa.
func parseFloat(b []byte) (float64, error) {
	i, neg := 0, len(b) > 0 && b[0] == '-'
	if neg {
		i = 1
	}
	var mant uint64
	first := i
	for i < len(b) && b[i]-'0' < 10 {
		mant = mant*10 + uint64(b[i]-'0')
		i++
	}
	digits, frac := i-first, 0
	if i < len(b) && b[i] == '.' {
		i++
		fracStart := i
		for i < len(b) && b[i]-'0' < 10 {
			mant = mant*10 + uint64(b[i]-'0')
			i++
		}
		frac = i - fracStart
		digits += frac
	}
	if i == len(b) && digits > 0 && digits <= 19 && mant < 1<<53 && frac <= 22 {
		f := float64(mant)
		if frac > 0 {
			f /= pow10[frac]
		}
		if neg {
			f = -f
		}
		return f, nil
	}
	if len(b) == 0 || b[0] == '_' || bytes.IndexByte(b, '_') >= 0 {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseFloat(string(b), 64)
}
