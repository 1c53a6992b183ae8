package convert

import "github.com/sglangdynamo/sglangdynamoreceiver/internal/promtext"

// resolve finds the series a kept sample belongs to, and what the sample
// gives it: its role and, for a bucket or quantile, the bound. A line whose
// text resolved before under the same family type is answered by the line
// cache; any other line has its labels parsed and checked, its series
// looked up or created, and is cached for the next body. A line of a
// text-format `x_created` gauge family is never cached: what it means
// depends on the family before it.
func (c *Converter) resolve(fam *promtext.Family, s *promtext.Sample) (*series, role, float64, error) {
	if c.createdFor != nil {
		if err := c.parser.ParseLabels(); err != nil {
			return nil, 0, 0, err
		}
		c.lines.use(noLine)
		return c.lookup(c.createdFor, s.Labels), roleCreated, s.Bound, nil
	}
	idx, hash := c.lines.find(s.Series)
	if idx != noLine {
		if e := c.lines.entry(idx); e.typ == fam.Type {
			c.lines.use(idx)
			if m := e.sr.m; m != c.helpChecked {
				c.helpChecked = m
				m.setHelp(fam.Help, c.format)
			}
			return e.sr, e.role, e.bound, nil
		}
	}
	if err := c.parser.ParseLabels(); err != nil {
		return nil, 0, 0, err
	}
	r := rules[fam.Type][s.Suffix]
	m := c.famMetrics[s.Suffix]
	if m == nil {
		m = c.metricFor(fam, r)
		c.famMetrics[s.Suffix] = m
	}
	sr := c.lookup(m, s.Labels)
	idx = c.lines.insert(s.Series, hash, lineEntry{sr: sr, typ: fam.Type, role: r.role, bound: s.Bound})
	sr.lines = append(sr.lines, idx)
	c.lines.use(idx)
	return sr, r.role, s.Bound, nil
}
