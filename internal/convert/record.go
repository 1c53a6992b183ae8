package convert

import "github.com/sglangdynamo/sglangdynamoreceiver/internal/promtext"

// record stores what sample s says about series sr in this body: its value,
// a bucket or quantile at bound, its sum, count or creation time, as role
// says. Within one body the first sample of a series wins: Dynamo has
// printed whole families up to four times over.
func (c *Converter) record(sr *series, ro role, bound float64, s *promtext.Sample) {
	m := sr.m
	c.touch(m)
	if sr.gen != c.gen {
		sr.gen = c.gen
		sr.has = 0
		sr.hasTS = false
		sr.bounds = sr.bounds[:0]
		sr.values = sr.values[:0]
		sr.boundsSorted = true
		m.live = append(m.live, sr)
	}
	switch ro {
	case roleValue:
		if sr.has&hasValue == 0 {
			sr.has |= hasValue
			sr.value = s.Value
			sr.ts, sr.hasTS = s.Timestamp, s.HasTimestamp
		}
	case roleBucket, roleQuantile:
		if n := len(sr.bounds); n > 0 && bound <= sr.bounds[n-1] {
			sr.boundsSorted = false
		}
		sr.bounds = append(sr.bounds, bound)
		sr.values = append(sr.values, s.Value)
		if s.HasTimestamp && !sr.hasTS {
			sr.ts, sr.hasTS = s.Timestamp, true
		}
	case roleSum:
		if sr.has&hasSum == 0 {
			sr.has |= hasSum
			sr.sum = s.Value
		}
	case roleCount:
		if sr.has&hasCount == 0 {
			sr.has |= hasCount
			sr.count = s.Value
			if s.HasTimestamp {
				sr.ts, sr.hasTS = s.Timestamp, true
			}
		}
	case roleCreated:
		if sr.has&hasCreated == 0 {
			sr.has |= hasCreated
			sr.created = s.Value
		}
	}
}
