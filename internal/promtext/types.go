package promtext

import "fmt"

// Format is the exposition format of a body.
type Format uint8

const (
	FormatText        Format = iota // text/plain; version=0.0.4
	FormatOpenMetrics               // application/openmetrics-text; version=1.0.0
)

// String names the format in error messages.
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

// allowedMask is allowed as bit sets, for the per-line check.
var allowedMask = func() (m [numTypes]uint16) {
	for t, ss := range allowed {
		for _, s := range ss {
			m[t] |= 1 << s
		}
	}
	return m
}()

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

// Error gives the line, the reason and the start of the line.
func (e *Error) Error() string {
	switch {
	case e.Line == 0:
		return e.Reason
	case e.Text == "": // the body ended there: there is no line to quote
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d: %s: %q", e.Line, e.Reason, e.Text)
}

// KeepFunc decides from a family name whether its samples are wanted.
type KeepFunc func(name []byte) bool
