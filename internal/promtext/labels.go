package promtext

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// ParseLabels tokenises and checks the label set of the sample last
// returned by Next, filling its Labels, Bound and HasBound. It is separate
// from Next because a consumer that has seen the same Series bytes before
// already knows the answer: equal bytes always parse alike.
func (p *Parser) ParseLabels() error {
	if p.labelsDone {
		return nil
	}
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
	if err := p.bound(p.lineStart); err != nil {
		return err
	}
	p.labelsDone = true
	return nil
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

// quotedLabelSetEnd finds the `}` that ends the label set b starts with,
// skipping quoted values, which may hold `}` and `#`; -1 if there is none.
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
		v, err := p.boundValue(want, l.Value, start)
		if err != nil {
			return err
		}
		s.Bound, s.HasBound = v, true
		s.Labels = append(s.Labels[:i], s.Labels[i+1:]...)
		return nil
	}
	return p.errAt(start, "missing "+want+" label")
}

// boundValue parses the value of an `le` or `quantile` label. OpenMetrics
// wants +Inf written as `+Inf`, and quantiles between 0 and 1.
func (p *Parser) boundValue(name string, text []byte, start int) (float64, error) {
	v, err := p.number(text)
	if err != nil || math.IsNaN(v) {
		return 0, p.errAt(start, "invalid "+name+" label value "+strconv.Quote(string(text)))
	}
	if p.format == FormatOpenMetrics {
		if math.IsInf(v, 1) && string(text) != "+Inf" {
			return 0, p.errAt(start, name+" label value "+strconv.Quote(string(text))+" is not written as +Inf ("+secNumbers+")")
		}
		if name == "quantile" && (v < 0 || v > 1) {
			return 0, p.errAt(start, "quantile "+strconv.Quote(string(text))+" is not between 0 and 1 ("+secSummary+")")
		}
	}
	return v, nil
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
		end := quotedEnd(b)
		if end < 0 {
			return nil, p.errAt(start, "unterminated label value")
		}
		value := b[:end]
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
			if p.format == FormatOpenMetrics && len(b) > 0 && b[0] == '}' {
				return nil, p.errAt(start, "a comma before the label set's } ("+secABNF+")")
			}
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

// checkLimits applies Limits to a label about to be added to a set that
// has `have` labels.
func (p *Parser) checkLimits(have int, name, value []byte, start int) error {
	l := &p.limits
	switch {
	case !p.famKeep:
		// OpenMetrics parses a dropped family's labels only to check them.
	case l.MaxLabels > 0 && have >= l.MaxLabels:
		return p.errAt(start, fmt.Sprintf("more than %d labels", l.MaxLabels))
	case l.MaxLabelNameLen > 0 && len(name) > l.MaxLabelNameLen:
		return p.errAt(start, fmt.Sprintf("label name longer than %d bytes", l.MaxLabelNameLen))
	case l.MaxLabelValueLen > 0 && len(value) > l.MaxLabelValueLen:
		return p.errAt(start, fmt.Sprintf("label %q value longer than %d bytes", name, l.MaxLabelValueLen))
	}
	return nil
}

// quotedEnd returns the index of the closing quote, skipping each
// backslash and the byte it escapes.
func quotedEnd(b []byte) int {
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			return i
		case '\\':
			i++
		}
	}
	return -1
}

// Unescape returns a label value with its escapes resolved: \\, \" and \n.
// A backslash before any other character is that text as written: both
// OpenMetrics (its ABNF allows `BS normal-char`) and Prometheus's parsers
// read `\z` as the two characters `\z`.
func Unescape(b []byte) string { return unescape(b, true) }

// UnescapeHelp returns HELP text with its escapes resolved. The text format
// escapes only \\ and \n in HELP (`\"` stays as written, as Prometheus
// reads it); OpenMetrics also \", as in label values.
func UnescapeHelp(b []byte, f Format) string { return unescape(b, f == FormatOpenMetrics) }

func unescape(b []byte, quote bool) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '\\' && i+1 < len(b) {
			switch b[i+1] {
			case 'n':
				c = '\n'
				i++
			case '\\':
				i++
			case '"':
				if quote {
					c = '"'
					i++
				}
			}
		}
		out = append(out, c)
	}
	return string(out)
}

// exemplar checks the exemplar that rest, what follows a value and its
// timestamp, must be. An exemplar is validated for shape and then dropped:
// pdata exemplars would need a trace context that the exporter cannot
// expose anyway.
func (p *Parser) exemplar(rest []byte, start int) error {
	if !bytes.HasPrefix(rest, []byte("# {")) {
		return p.errAt(start, "unexpected text after the value")
	}
	saved := len(p.labels)
	r, err := p.parseLabels(rest[3:], start)
	p.om.exemplar, p.om.exemplarRunes = true, exemplarRunes(p.labels[saved:])
	p.om.exemplarValue = math.NaN()
	p.labels = p.labels[:saved]
	if err != nil {
		return err
	}
	// A value and, optionally, a timestamp, which must be a finite number.
	if len(r) < 2 || r[0] != ' ' {
		return p.errAt(start, "invalid exemplar")
	}
	value, ts, hasTS := bytes.Cut(r[1:], []byte(" "))
	v, err := p.number(value)
	if err != nil {
		return p.errAt(start, "invalid exemplar")
	}
	p.om.exemplarValue = v
	if hasTS {
		t, err := p.number(ts)
		if err != nil || math.IsNaN(t) || math.IsInf(t, 0) {
			return p.errAt(start, "invalid exemplar")
		}
	}
	return nil
}
