package convert

import "github.com/sglangdynamo/sglangdynamoreceiver/internal/promtext"

// kind is the pdata shape a metric takes.
type kind uint8

const (
	kindNone kind = iota
	kindGauge
	kindUnknown // a Gauge that tells the exporter to say `untyped` again
	kindSum
	kindHistogram
	kindSummary
)

// role is what one sample contributes to its data point.
type role uint8

const (
	roleValue role = iota
	roleBucket
	roleQuantile
	roleSum
	roleCount
	roleCreated
)

// rule maps one (family type, sample suffix) to a metric and a role. The
// metric's name is the family name plus nameSuffix, which keeps every name
// exactly as Prometheus itself would store it.
type rule struct {
	kind       kind
	nameSuffix string
	role       role
}

// rules is the whole conversion, by type and suffix. Cells left empty cannot
// occur: the parser only hands out the suffixes a type allows.
var rules = func() (r [promtext.NumTypes][promtext.NumSuffixes]rule) {
	set := func(t promtext.Type, s promtext.Suffix, k kind, nameSuffix string, ro role) {
		r[t][s] = rule{kind: k, nameSuffix: nameSuffix, role: ro}
	}
	set(promtext.TypeUnknown, promtext.SuffixNone, kindUnknown, "", roleValue)
	set(promtext.TypeGauge, promtext.SuffixNone, kindGauge, "", roleValue)

	// Text 0.0.4 names a counter family `x_total`; OpenMetrics names it `x`
	// and its samples `x_total`/`x_created`. Both give the metric `x_total`.
	set(promtext.TypeCounter, promtext.SuffixNone, kindSum, "", roleValue)
	set(promtext.TypeCounter, promtext.SuffixTotal, kindSum, "_total", roleValue)
	set(promtext.TypeCounter, promtext.SuffixCreated, kindSum, "_total", roleCreated)

	set(promtext.TypeHistogram, promtext.SuffixBucket, kindHistogram, "", roleBucket)
	set(promtext.TypeHistogram, promtext.SuffixSum, kindHistogram, "", roleSum)
	set(promtext.TypeHistogram, promtext.SuffixCount, kindHistogram, "", roleCount)
	set(promtext.TypeHistogram, promtext.SuffixCreated, kindHistogram, "", roleCreated)

	set(promtext.TypeSummary, promtext.SuffixNone, kindSummary, "", roleQuantile)
	set(promtext.TypeSummary, promtext.SuffixSum, kindSummary, "", roleSum)
	set(promtext.TypeSummary, promtext.SuffixCount, kindSummary, "", roleCount)
	set(promtext.TypeSummary, promtext.SuffixCreated, kindSummary, "", roleCreated)

	// OpenMetrics-only types have no OTLP counterpart that the Prometheus
	// exporter would expose under the same names, so each sample becomes the
	// gauge Prometheus itself stores: `x_info`, the stateset `x{x="state"}`,
	// and a gauge histogram's `x_bucket{le}`, `x_gcount` and `x_gsum`.
	set(promtext.TypeInfo, promtext.SuffixInfo, kindGauge, "_info", roleValue)
	set(promtext.TypeInfo, promtext.SuffixNone, kindGauge, "", roleValue)
	set(promtext.TypeStateset, promtext.SuffixNone, kindGauge, "", roleValue)
	set(promtext.TypeGaugeHistogram, promtext.SuffixBucket, kindGauge, "_bucket", roleValue)
	set(promtext.TypeGaugeHistogram, promtext.SuffixGCount, kindGauge, "_gcount", roleValue)
	set(promtext.TypeGaugeHistogram, promtext.SuffixGSum, kindGauge, "_gsum", roleValue)
	return r
}()

// cumulative reports whether points of this kind carry a start time.
func (k kind) cumulative() bool {
	return k == kindSum || k == kindHistogram || k == kindSummary
}
