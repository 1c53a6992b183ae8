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
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

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
	// a second `# TYPE x` opens another in the text format (Dynamo's repeated
	// blocks) and is an error in OpenMetrics (see omMetadata).
	declared bool
	helped   bool
	seen     int // kept samples so far in this family block

	sample    Sample
	labels    []Label
	names     [][]byte // scratch for duplicateName
	lineStart int      // offset of the current sample line, for errors
	stats     Stats
	eof       bool
	eofStart  int // offset of the `# EOF` line

	// labelsDone is set when the current sample's labels have been parsed
	// (OpenMetrics' rules need them on every line, kept or not).
	labelsDone bool
	om         omState // see openmetrics.go
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
	if format == FormatOpenMetrics {
		p.om.reset(limits)
	}
}

// Stats returns the counts so far; complete once Next has returned io.EOF.
func (p *Parser) Stats() Stats { return p.stats }

// Family returns the family of the sample last returned by Next.
func (p *Parser) Family() *Family { return &p.fam }

// Next advances to the next kept sample. It returns io.EOF at the end of a
// valid body and an *Error at the first invalid line.
func (p *Parser) Next() (*Sample, error) {
	for p.pos < len(p.buf) {
		if p.eof {
			p.line++
			return nil, p.errAt(p.pos, "content after # EOF")
		}
		if !p.famKeep && len(p.fam.Name) > 0 && p.format == FormatText {
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
		if p.format == FormatText && isBlank(line[0]) {
			// The text format ignores blanks and tabs before a line's first
			// token, as Prometheus's lexer does.
			n := blanks(line)
			line, start = line[n:], start+n
			if len(line) == 0 {
				continue
			}
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
	if p.format == FormatOpenMetrics {
		if !p.eof {
			return nil, &Error{Line: p.line, Reason: "OpenMetrics body does not end with # EOF (truncated body?)"}
		}
		if err := p.omFinish(); err != nil {
			return nil, err
		}
	}
	return nil, io.EOF
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

// errAt builds the error for the line starting at start, quoting its
// first 80 bytes.
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
		p.eof, p.eofStart = true, start
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
	case bytes.HasPrefix(rest, []byte("UNIT ")) && p.format == FormatOpenMetrics:
		// The text format has no units: there `# UNIT` is a plain comment.
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
	} else if p.format == FormatOpenMetrics {
		return p.errAt(start, "# "+kind+" without a space after the name ("+secABNF+")")
	}
	if p.format == FormatOpenMetrics {
		return p.omComment(kind, name, arg, start)
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

// parseType reads a `# TYPE` argument; each format has its own names.
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

// suffixOf tells whether tail, what follows the family name in a sample
// name, is a suffix the current family's type allows.
func (p *Parser) suffixOf(tail []byte) (Suffix, bool) {
	s, ok := suffixByName(tail)
	return s, ok && allowedMask[p.fam.Type]&(1<<s) != 0
}

// sampleLine parses one sample line. It returns nil, nil for a line of a
// dropped family.
func (p *Parser) sampleLine(line []byte, start int) (*Sample, error) {
	p.stats.Samples++
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
		if p.format == FormatOpenMetrics {
			// A name that is not the current family's is another family,
			// as in the text format; the OpenMetrics rules on names then
			// catch one that clashes.
			if err := p.omBegin(name, start); err != nil {
				return nil, err
			}
		} else {
			p.begin(name)
		}
		suffix = SuffixNone
	}
	if !p.famKeep && p.format == FormatText {
		return nil, nil
	}
	rest := line[n:]
	if len(rest) > 0 && rest[0] == '{' {
		end := p.labelSetEnd(rest)
		if end < 0 {
			return nil, p.errAt(start, "unterminated label set")
		}
		rest = rest[end:]
	}
	s, err := p.sampleValue(line, start, len(line)-len(rest), n, suffix)
	if err != nil || p.format == FormatText {
		return s, err
	}
	if err := p.omSample(start); err != nil {
		return nil, err
	}
	if !p.famKeep {
		return nil, nil
	}
	return s, nil
}

// sampleValue completes a sample whose series text is known: it counts it
// if kept (only OpenMetrics parses a dropped family's lines), and parses
// the value and what follows.
func (p *Parser) sampleValue(line []byte, start, seriesLen, nameLen int, suffix Suffix) (*Sample, error) {
	if p.famKeep {
		p.seen++
		p.stats.KeptSamples++
		if p.limits.MaxSamples > 0 && p.stats.KeptSamples > p.limits.MaxSamples {
			return nil, p.errAt(start, fmt.Sprintf("sample limit exceeded: more than %d samples kept", p.limits.MaxSamples))
		}
	}
	p.labelsDone = false
	p.om.exemplar = false
	// Field by field: a composite literal would clear and copy the whole
	// struct, Labels included, through the write barrier on every line.
	s := &p.sample
	s.Suffix, s.Series, s.NameLen = suffix, line[:seriesLen], nameLen
	s.Bound, s.HasBound, s.Timestamp, s.HasTimestamp = 0, false, 0, false
	s.Labels = s.Labels[:0]
	p.lineStart = start
	rest := line[len(s.Series):]
	// Tokens are separated by one space in OpenMetrics, and by any run of
	// blanks and tabs in the text format.
	var end int
	if p.format == FormatText {
		if len(rest) == 0 || !isBlank(rest[0]) {
			return nil, p.errAt(start, "expected a space before the value")
		}
		rest = rest[blanks(rest):]
		end = blankIndex(rest)
	} else {
		if len(rest) == 0 || rest[0] != ' ' {
			return nil, p.errAt(start, "expected a space before the value")
		}
		rest = rest[1:]
		if end = bytes.IndexByte(rest, ' '); end < 0 {
			end = len(rest)
		}
	}
	v, err := p.number(rest[:end])
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

// trailer parses what may follow the value: a timestamp and, in
// OpenMetrics, an exemplar.
func (p *Parser) trailer(rest []byte, start int) error {
	s := &p.sample
	if len(rest) == 0 {
		return nil
	}
	if p.format == FormatText {
		rest = rest[blanks(rest):]
		if len(rest) == 0 {
			return nil
		}
		end := blankIndex(rest)
		ts, err := strconv.ParseInt(string(rest[:end]), 10, 64)
		if err != nil {
			return p.errAt(start, "invalid timestamp "+strconv.Quote(string(rest[:end])))
		}
		if blanks(rest[end:]) != len(rest)-end {
			return p.errAt(start, "unexpected text after the timestamp")
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
		sec, err := p.number(rest[:end])
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
	return p.exemplar(rest, start)
}

// number parses a value or an OpenMetrics timestamp. OpenMetrics' numbers
// are decimal only (`realnumber`, or inf, infinity and nan in any case):
// it refuses the hexadecimal that Go's ParseFloat and the text format take.
func (p *Parser) number(b []byte) (float64, error) {
	if p.format == FormatOpenMetrics {
		// Go reads hexadecimal only after a sign and "0x".
		d := b
		if len(d) > 0 && (d[0] == '+' || d[0] == '-') {
			d = d[1:]
		}
		if len(d) > 1 && d[0] == '0' && d[1]|0x20 == 'x' {
			return 0, strconv.ErrSyntax
		}
	}
	return parseFloat(b)
}
