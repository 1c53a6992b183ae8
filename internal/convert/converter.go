// Package convert turns the kept samples of one target's bodies into pdata
// metrics, and remembers across scrapes what Prometheus's scrape loop would:
// when each series started, and which series were live, so that resets get a
// new start time and vanished series a staleness marker.
//
// A body flows through it in one direction: the parser hands out kept
// samples (converter.go), each is resolved to its series through the line
// cache (resolve.go, linecache.go) and its value recorded (record.go), the
// whole body is checked (validate.go), vanished series are swept
// (series.go), and only then are points emitted (emit.go). So a body that
// turns out to be malformed contributes no points at all.
package convert

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/promtext"
)

// Options configure a Converter.
type Options struct {
	// Keep decides from a family name whether the family is converted.
	Keep promtext.KeepFunc
	// FamilyName, when set, gives the name a family's metrics are named
	// after (before the name suffix rules): it appends that name, for the
	// family named name, to dst and returns the result. It is called once
	// per family block, with dst a buffer the Converter reuses. nil keeps
	// family names verbatim. See RestoreSGLangName.
	FamilyName func(dst, name []byte) []byte
	// Limits bound what a body may carry; see promtext.Limits.
	Limits promtext.Limits
}

// Stats describe one converted body.
type Stats struct {
	Samples     int // sample lines in the body, kept or not
	KeptSamples int
	Series      int // live series after this body
}

// Converter is the conversion state of one scrape target. It is not safe
// for concurrent use; a target is scraped by one goroutine at a time.
type Converter struct {
	opts   Options
	parser promtext.Parser
	lines  lineCache

	metrics map[string]*metric
	series  map[string]*series
	gen     uint64    // counts bodies; a metric or series touched by this one has gen == this
	order   []*metric // metrics touched by this body, in body order

	// Per-family state, valid while the parser's family Seq is famSeq.
	famSeq uint64
	format promtext.Format // the current body's
	// famName is the name the family's metrics take: the family's own, or
	// what Options.FamilyName made of it in famBuf.
	famName    []byte
	famBuf     []byte
	famMetrics [promtext.NumSuffixes]*metric
	createdFor *metric // set when a text-format `x_created` gauge family dates x
	// helpChecked is the metric whose description was last compared with
	// the family's HELP, so a family's lines compare it once, not per line.
	helpChecked *metric

	keyBuf []byte
	sorted []promtext.Label
	names  map[string]string // interned label names
	pairs  []bucketPair
	counts []uint64
}

// New returns the state for one target.
func New(opts Options) *Converter {
	return &Converter{
		opts:    opts,
		lines:   newLineCache(),
		metrics: map[string]*metric{},
		series:  map[string]*series{},
		names:   map[string]string{},
	}
}

// LiveSeries returns how many series the target remembers.
func (c *Converter) LiveSeries() int { return len(c.series) }

// Convert parses body and appends its metrics to dst: a point for every kept
// series, plus a staleness marker for every series that the previous body
// had and this one has not. A body that fails to parse or to validate is
// treated like a failed scrape (see Fail) and its error returned.
func (c *Converter) Convert(body []byte, format promtext.Format, now pcommon.Timestamp, dst pmetric.MetricSlice) (Stats, error) {
	c.gen++
	c.order = c.order[:0]
	c.famSeq = 0
	c.lines.startBody()
	c.format = format
	c.parser.Reset(body, format, c.opts.Keep, c.opts.Limits)
	err := c.ingest(format)
	if err == nil {
		err = c.validate()
	}
	ps := c.parser.Stats()
	stats := Stats{Samples: ps.Samples, KeptSamples: ps.KeptSamples}
	if err != nil {
		c.Fail(now, dst)
		return stats, err
	}
	c.sweep()
	c.emit(now, dst)
	c.lines.endBody()
	stats.Series = len(c.series)
	return stats, nil
}

// Fail records a failed scrape: every series that was ever emitted gets a
// staleness marker, as Prometheus does, and all state is dropped so that the
// series start afresh when the target returns.
func (c *Converter) Fail(now pcommon.Timestamp, dst pmetric.MetricSlice) {
	c.gen++
	c.order = c.order[:0]
	for _, sr := range c.series {
		if sr.emitted {
			c.touch(sr.m)
			sr.m.stale = append(sr.m.stale, sr)
		}
	}
	slices.SortFunc(c.order, func(a, b *metric) int { return strings.Compare(a.key, b.key) })
	c.emit(now, dst)
	clear(c.series)
	clear(c.metrics)
	c.lines.reset()
}

// ingest reads every kept sample of the body into its series.
func (c *Converter) ingest(format promtext.Format) error {
	for {
		s, err := c.parser.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		fam := c.parser.Family()
		if fam.Seq != c.famSeq {
			c.beginFamily(fam, format)
		}
		sr, ro, bound, err := c.resolve(fam, s)
		if err != nil {
			return err
		}
		c.record(sr, ro, bound, s)
	}
}

// beginFamily resets the per-family state when the parser opens a family.
func (c *Converter) beginFamily(fam *promtext.Family, format promtext.Format) {
	c.famSeq = fam.Seq
	c.famMetrics = [promtext.NumSuffixes]*metric{}
	c.createdFor = nil
	c.helpChecked = nil
	c.famName = fam.Name
	if c.opts.FamilyName != nil {
		c.famBuf = c.opts.FamilyName(c.famBuf[:0], fam.Name)
		c.famName = c.famBuf
	}
	// prometheus_client's text format prints a counter's, histogram's or
	// summary's `_created` as a gauge family of its own right after it.
	// Read as OpenMetrics would, it is that metric's start time.
	if format == promtext.FormatText && fam.Type == promtext.TypeGauge {
		if base, ok := bytes.CutSuffix(c.famName, []byte("_created")); ok {
			c.createdFor = c.touchedMetric(kindSum, base, "_total")
			if c.createdFor == nil {
				c.createdFor = c.touchedMetric(kindHistogram, base, "")
			}
			if c.createdFor == nil {
				c.createdFor = c.touchedMetric(kindSummary, base, "")
			}
		}
	}
}

// sglangUnderscore and sglangColon are the two forms of SGLang's namespace:
// its own `sglang:`, and the `sglang_` that some stacks print instead.
const (
	sglangUnderscore = "sglang_"
	sglangColon      = "sglang:"
)

// RestoreSGLangName is an Options.FamilyName that gives a family printed
// as `sglang_x` on HELP, TYPE and samples alike (SGLang under Ray Serve,
// Dynamo's passthrough in January 2026, prometheus_client after its fix PR
// 1180) its SGLang name `sglang:x`, and keeps every other name as it is.
// Nothing else in these stacks uses the `sglang_` prefix. (A family declared
// `sglang:x` with `sglang_x` samples needs nothing: the parser matches the
// samples to it.)
func RestoreSGLangName(dst, name []byte) []byte {
	if rest, ok := bytes.CutPrefix(name, []byte(sglangUnderscore)); ok {
		return append(append(dst, sglangColon...), rest...)
	}
	return append(dst, name...)
}
