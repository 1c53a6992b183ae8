package promtext

import (
	"bytes"
	"strconv"
)

// suffixByName maps what follows a family name in a sample name to the
// suffix it spells; false when it spells none.
func suffixByName(tail []byte) (Suffix, bool) {
	switch string(tail) {
	case "":
		return SuffixNone, true
	case "_total":
		return SuffixTotal, true
	case "_created":
		return SuffixCreated, true
	case "_bucket":
		return SuffixBucket, true
	case "_sum":
		return SuffixSum, true
	case "_count":
		return SuffixCount, true
	case "_gcount":
		return SuffixGCount, true
	case "_gsum":
		return SuffixGSum, true
	case "_info":
		return SuffixInfo, true
	}
	return 0, false
}

// isBlank reports whether c separates tokens in the text format.
func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// blanks counts the blanks and tabs b starts with.
func blanks(b []byte) int {
	for i, c := range b {
		if !isBlank(c) {
			return i
		}
	}
	return len(b)
}

// blankIndex is the index of the first blank or tab in b, or len(b).
func blankIndex(b []byte) int {
	for i, c := range b {
		if isBlank(c) {
			return i
		}
	}
	return len(b)
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

// metricNameLen is the length of the metric name b starts with; 0 if b does
// not start with one.
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

// labelNameLen is the length of the label name b starts with; 0 if none.
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
	// Prometheus refuses what Go alone would take: digit separators and
	// hexadecimal floats (which need a p exponent).
	if len(b) == 0 || bytes.ContainsAny(b, "_pP") {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseFloat(string(b), 64)
}
