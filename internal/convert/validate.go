package convert

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// validate checks what only a whole body can show: that each histogram and
// summary series is complete and consistent.
func (c *Converter) validate() error {
	for _, m := range c.order {
		if m.kind != kindHistogram && m.kind != kindSummary {
			continue
		}
		for _, sr := range m.live {
			if err := c.validateSeries(sr); err != nil {
				return fmt.Errorf("%s %s: %w", m.name, attrString(sr.attrs), err)
			}
		}
	}
	return nil
}

// validateSeries checks one histogram or summary series; a histogram
// without `_count` takes its `+Inf` bucket's.
func (c *Converter) validateSeries(sr *series) error {
	if !sr.boundsSorted {
		c.sortBuckets(sr)
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

type bucketPair struct{ bound, value float64 }

// sortBuckets orders buckets by bound and drops repeated bounds, keeping the
// first, for bodies whose lines are not in order.
func (c *Converter) sortBuckets(sr *series) {
	c.pairs = c.pairs[:0]
	for i, b := range sr.bounds {
		c.pairs = append(c.pairs, bucketPair{b, sr.values[i]})
	}
	slices.SortStableFunc(c.pairs, func(a, b bucketPair) int {
		switch {
		case a.bound < b.bound:
			return -1
		case a.bound > b.bound:
			return 1
		}
		return 0
	})
	sr.bounds, sr.values = sr.bounds[:0], sr.values[:0]
	for i, p := range c.pairs {
		if i > 0 && p.bound == c.pairs[i-1].bound {
			continue
		}
		sr.bounds = append(sr.bounds, p.bound)
		sr.values = append(sr.values, p.value)
	}
	sr.boundsSorted = true
}

// attrString prints a series' attributes for an error message.
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
