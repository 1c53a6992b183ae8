package convert

import (
	"bytes"
	"slices"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/promtext"
)

// metric is one pdata metric of a target: a kind and a name, and the series
// that this body touched.
type metric struct {
	key        string // kind byte + name
	kind       kind
	name       string
	help       string
	helpRaw    string // help is helpRaw unescaped as helpFormat says
	helpFormat promtext.Format
	gen        uint64 // the body that last touched it
	live       []*series
	stale      []*series
	nSeries    int
}

// series is one label set of a metric: what it has emitted across bodies
// (for start times and staleness) and what the current body says.
type series struct {
	m   *metric
	key string
	// attrs holds label name, value pairs, names interned. One flat slice
	// rather than a pcommon.Map: emission reads it for every point of every
	// scrape, and a map's values are each a separate heap object that a
	// cold cache fetches one by one.
	attrs []string
	gen   uint64
	lines []int32 // line cache entries that resolve to this series

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

// Bits of series.has.
const (
	hasValue uint8 = 1 << iota
	hasSum
	hasCount
	hasCreated
)

// touchedMetric returns the metric of that kind and name if this body has
// already produced it.
func (c *Converter) touchedMetric(k kind, base []byte, suffix string) *metric {
	m := c.metrics[string(c.metricKey(k, base, suffix))]
	if m == nil || m.gen != c.gen {
		return nil
	}
	return m
}

// metricFor finds or creates the metric that samples of fam map to under r,
// named after the family's metric name (famName, see beginFamily).
func (c *Converter) metricFor(fam *promtext.Family, r rule) *metric {
	k := c.metricKey(r.kind, c.famName, r.nameSuffix)
	m := c.metrics[string(k)]
	if m == nil {
		key := string(k)
		m = &metric{key: key, kind: r.kind, name: key[1:]}
		c.metrics[key] = m
	}
	m.setHelp(fam.Help, c.format)
	return m
}

// metricKey builds, in c.keyBuf, a metric's key: its kind, then its name.
func (c *Converter) metricKey(k kind, base []byte, suffix string) []byte {
	c.keyBuf = append(append(append(c.keyBuf[:0], byte(k)), base...), suffix...)
	return c.keyBuf
}

// setHelp takes the family's HELP as the description when it changed.
// The same text can mean two things: `\"` is an escape in OpenMetrics only.
func (m *metric) setHelp(raw []byte, f promtext.Format) {
	if m.helpRaw != string(raw) || m.helpFormat != f {
		m.helpRaw, m.helpFormat = string(raw), f
		m.help = promtext.UnescapeHelp(raw, f)
	}
}

// touch marks m as part of this body's output, in body order.
func (c *Converter) touch(m *metric) {
	if m.gen != c.gen {
		m.gen = c.gen
		m.live = m.live[:0]
		m.stale = m.stale[:0]
		c.order = append(c.order, m)
	}
}

// lookup finds or creates the series of m with these labels. The key is the
// metric key plus the labels sorted by name, with empty values left out as
// Prometheus does, so label order in the body does not matter.
func (c *Converter) lookup(m *metric, labels []promtext.Label) *series {
	if !slices.IsSortedFunc(labels, cmpLabel) {
		c.sorted = append(c.sorted[:0], labels...)
		slices.SortFunc(c.sorted, cmpLabel)
		labels = c.sorted
	}
	k := append(c.keyBuf[:0], m.key...)
	for _, l := range labels {
		if len(l.Value) == 0 {
			continue
		}
		k = append(k, 0xff)
		k = append(k, l.Name...)
		k = append(k, 0xfe)
		k = append(k, l.Value...)
	}
	c.keyBuf = k
	if sr := c.series[string(k)]; sr != nil {
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
		sr.attrs = append(sr.attrs, c.attrName(l.Name), promtext.Unescape(l.Value))
	}
	c.series[sr.key] = sr
	m.nSeries++
	return sr
}

// cmpLabel orders labels by name, as Prometheus keys series.
func cmpLabel(a, b promtext.Label) int { return bytes.Compare(a.Name, b.Name) }

// attrName interns label names, and renames `job` and `instance` to
// `exported_job`/`exported_instance` as Prometheus does on a clash, since
// the exporter derives those two from the resource.
func (c *Converter) attrName(b []byte) string {
	if n, ok := c.names[string(b)]; ok {
		return n
	}
	n := string(b)
	if n == "job" || n == "instance" {
		n = "exported_" + n
	}
	c.names[string(b)] = n
	return n
}

// sweep finds the series the previous body had and this one has not. Each
// gets one staleness marker and is then forgotten, with its line cache
// entries, so the state holds only live series.
func (c *Converter) sweep() {
	for k, sr := range c.series {
		if sr.gen == c.gen {
			continue
		}
		if sr.emitted {
			c.touch(sr.m)
			sr.m.stale = append(sr.m.stale, sr)
		}
		delete(c.series, k)
		c.lines.drop(sr.lines)
		sr.m.nSeries--
	}
	for k, m := range c.metrics {
		if m.nSeries == 0 && m.gen != c.gen {
			delete(c.metrics, k)
		}
	}
}
