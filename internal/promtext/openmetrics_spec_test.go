package promtext

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"testing"
)

// specCase is a body written from one rule of the OpenMetrics 1.0
// specification (specification/OpenMetrics.md of OpenObservability/
// OpenMetrics), named by an id and the section path of the rule. The
// specification's markdown has no section numbers; the numbers given are
// those its RFC rendering assigns from the heading order.
//
// specInvalid holds a body per MUST or MUST NOT a parser can check on one
// body; specValid bodies the specification allows that a strict parser
// could wrongly refuse. omCases (openmetrics_test.go) pin our exact errors
// for the rules; this catalogue checks that every rule is enforced at all.
type specCase struct {
	id, section, body string
}

var specInvalid = []specCase{
	{"eof-missing", "Data transmission & wire formats > Text format > ABNF (4.2.1); Data transmission & wire formats > Text format > Overall Structure (4.2.2)",
		"# TYPE a gauge\na 1\n"},
	{"eof-trailing-data", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a 1\n# EOF\na 2\n"},
	{"eof-trailing-blank", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a 1\n# EOF\n\n"},
	{"eof-exact", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a 1\n# EOF \n"},
	{"eof-lowercase", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a 1\n# eof\n"},
	{"blank-line", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a 1\n\n# EOF\n"},
	{"line-ending-cr", "Data transmission & wire formats > Text format > Overall Structure (4.2.2)",
		"a 1\r\n# EOF\n"},
	{"utf8-valid", "Data transmission & wire formats > Text format > Overall Structure (4.2.2); Data Model > Data Types > Strings (3.1.3)",
		"a{b=\"\xff\"} 1\n# EOF\n"},
	{"bom-forbidden", "Data transmission & wire formats > Text format > Overall Structure (4.2.2)",
		"\ufeffa 1\n# EOF\n"},
	{"comment-line", "... > Text format > MetricFamily > MetricFamily metadata (4.2.3.1)",
		"# just a comment\na 1\n# EOF\n"},
	{"comment-line-nospace", "... > Text format > MetricFamily > MetricFamily metadata (4.2.3.1); Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"# TYPE a histogram\na_bucket{le=\"+Inf\"} 0\n#a_sum 0\n# EOF\n"},
	{"leading-space", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		" a 1\n# EOF\n"},
	{"metric-name-charset", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a-b 1\n# EOF\n"},
	{"metric-name-empty", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"{a=\"b\"} 1\n# EOF\n"},
	{"metric-name-reserved-underscore", "Data Model > Data Types > MetricFamily > Name (3.1.9.1)",
		"_a 1\n# EOF\n"},
	{"label-name-charset", "Data transmission & wire formats > Text format > ABNF (4.2.1); Data Model > Data Types > Label (3.1.4)",
		"a{b:c=\"1\"} 1\n# EOF\n"},
	{"label-name-empty", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a{=\"1\"} 1\n# EOF\n"},
	{"label-name-reserved-underscore", "Data Model > Data Types > Label (3.1.4)",
		"a{_b=\"1\"} 1\n# EOF\n"},
	{"label-value-unquoted", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a{b=1} 1\n# EOF\n"},
	{"label-value-unterminated", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a{b=\"1} 1\n# EOF\n"},
	{"label-value-raw-dquote", "Data transmission & wire formats > Text format > ABNF (4.2.1); Data transmission & wire formats > Text format > Overall Structure > Escaping (4.2.2.1)",
		"a{b=\"x\"y\"} 1\n# EOF\n"},
	{"label-value-escaped-close", "Data transmission & wire formats > Text format > ABNF (4.2.1); Data transmission & wire formats > Text format > Overall Structure > Escaping (4.2.2.1)",
		"a{b=\"x\\\"} 1\n# EOF\n"},
	{"labels-missing-comma", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a{b=\"1\"c=\"2\"} 1\n# EOF\n"},
	{"labels-double-comma", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a{b=\"1\",,c=\"2\"} 1\n# EOF\n"},
	{"labels-trailing-comma", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a{b=\"1\",} 1\n# EOF\n"},
	{"labels-whitespace", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a{b=\"1\", c=\"2\"} 1\n# EOF\n"},
	{"labels-unclosed", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a{b=\"1\" 1\n# EOF\n"},
	{"labels-duplicate", "Data Model > Data Types > LabelSet (3.1.5)",
		"a{b=\"1\",b=\"2\"} 1\n# EOF\n"},
	{"sample-missing-value", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a\n# EOF\n"},
	{"sample-no-space-before-value", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a{}1\n# EOF\n"},
	{"sample-double-space", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a  1\n# EOF\n"},
	{"sample-tab-separator", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a\t1\n# EOF\n"},
	{"sample-trailing-space", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a 1 \n# EOF\n"},
	{"sample-extra-token", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a 1 2 3\n# EOF\n"},
	{"number-syntax", "Data transmission & wire formats > Text format > ABNF (4.2.1); Data transmission & wire formats > Text format > Overall Structure > Numbers (4.2.2.2)",
		"a 0x1p-3\n# EOF\n"},
	{"number-underscore", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a 1_000\n# EOF\n"},
	{"number-unicode-digit", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a ١\n# EOF\n"},
	{"number-nan-signed", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a +NaN\n# EOF\n"},
	{"number-inf-partial", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a infin\n# EOF\n"},
	{"number-float-range", "Data transmission & wire formats > Text format > Overall Structure > Numbers (4.2.2.2)",
		"a 1e309\n# EOF\n"},
	{"timestamp-syntax", "Data transmission & wire formats > Text format > ABNF (4.2.1); Data Model > Data Types > Timestamps (3.1.2)",
		"a 1 1.1.1\n# EOF\n"},
	{"timestamp-sign-after-dot", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a 1 1.-5\n# EOF\n"},
	{"timestamp-non-finite", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a 1 NaN\n# EOF\n"},
	{"metadata-keyword", "Data transmission & wire formats > Text format > ABNF (4.2.1); ... > Text format > MetricFamily > MetricFamily metadata (4.2.3.1)",
		"# help a x\na 1\n# EOF\n"},
	{"metadata-missing-name", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"# TYPE\n# EOF\n"},
	{"metadata-missing-space", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"# HELP a\n# EOF\n"},
	{"metadata-double-space", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"# TYPE  a gauge\n# EOF\n"},
	{"metadata-name-charset", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"# TYPE 0a gauge\n# EOF\n"},
	{"type-value", "Data transmission & wire formats > Text format > ABNF (4.2.1); Data Model > Data Types > MetricFamily > Type (3.1.9.2)",
		"# TYPE a untyped\na 1\n# EOF\n"},
	{"type-trailing", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"# TYPE a gauge \n# EOF\n"},
	{"metadata-duplicate-type", "... > Text format > MetricFamily > MetricFamily metadata (4.2.3.1)",
		"# TYPE a gauge\n# TYPE a gauge\n# EOF\n"},
	{"metadata-duplicate-help", "... > Text format > MetricFamily > MetricFamily metadata (4.2.3.1)",
		"# HELP a x\n# HELP a y\n# EOF\n"},
	{"metadata-duplicate-unit", "... > Text format > MetricFamily > MetricFamily metadata (4.2.3.1)",
		"# UNIT a_s s\n# UNIT a_s s\n# EOF\n"},
	{"metadata-after-samples", "Data transmission & wire formats > Text format > ABNF (4.2.1); Data transmission & wire formats > Text format > MetricFamily (4.2.3)",
		"# TYPE a gauge\na 1\n# HELP a x\n# EOF\n"},
	{"metadata-sample-name", "Data transmission & wire formats > Text format > MetricFamily (4.2.3); Data Model > Data Types > MetricFamily > Name (3.1.9.1)",
		"# TYPE a counter\n# HELP a_total x\na_total 1\n# EOF\n"},
	{"unit-suffix", "Data Model > Data Types > MetricFamily > Unit (3.1.9.3); ... > Text format > MetricFamily > MetricFamily metadata (4.2.3.1)",
		"# TYPE a_s gauge\n# UNIT a_s seconds\n# EOF\n"},
	{"unit-info", "Data Model > Metric Types > Info (3.2.4)",
		"# TYPE a_s info\n# UNIT a_s s\n# EOF\n"},
	{"unit-stateset", "Data Model > Metric Types > StateSet (3.2.3)",
		"# TYPE a_s stateset\n# UNIT a_s s\n# EOF\n"},
	{"help-raw-dquote", "Data transmission & wire formats > Text format > ABNF (4.2.1); Data transmission & wire formats > Text format > Overall Structure > Escaping (4.2.2.1)",
		"# HELP a say \"hi\"\na 1\n# EOF\n"},
	{"help-trailing-backslash", "Data transmission & wire formats > Text format > ABNF (4.2.1); Data transmission & wire formats > Text format > Overall Structure > Escaping (4.2.2.1)",
		"# HELP a x\\\na 1\n# EOF\n"},
	{"family-name-unique", "Data Model > Data Types > MetricFamily > Name (3.1.9.1); Data Model > Data Types > MetricFamily > MetricSet (3.1.9.5)",
		"# TYPE a gauge\na 1\n# TYPE a gauge\n# EOF\n"},
	{"family-interleaved", "Data transmission & wire formats > Text format > MetricFamily (4.2.3)",
		"a 1\nb 1\na 2\n# EOF\n"},
	{"family-name-clash", "Data Model > Data Types > MetricFamily > Name > Suffixes (3.1.9.1.1)",
		"# TYPE a counter\na_total 1\n# TYPE a_created gauge\na_created 1\n# EOF\n"},
	{"family-name-clash-total", "Data Model > Data Types > MetricFamily > Name > Suffixes (3.1.9.1.1)",
		"# TYPE a_total gauge\na_total 1\n# TYPE a counter\n# EOF\n"},
	{"family-name-clash-info", "Data Model > Data Types > MetricFamily > Name > Suffixes (3.1.9.1.1)",
		"# TYPE a info\na_info 1\n# TYPE a_info gauge\n# EOF\n"},
	{"metric-interleaved", "... > Text format > MetricFamily > Metric (4.2.3.2); Data Model > Data Types > MetricFamily (3.1.9)",
		"# TYPE a gauge\na{b=\"1\"} 1\na{b=\"2\"} 1\na{b=\"1\"} 2\n# EOF\n"},
	{"metricpoint-interleaved", "Data transmission & wire formats > Text format > MetricPoint (4.2.4)",
		"# TYPE a summary\na_count 0 1\na_count 0 2\na_sum 0 1\na_sum 0 2\n# EOF\n"},
	{"labelset-duplicate-sample", "Data Model > Data Types > MetricFamily (3.1.9); Data Model > Data Types > Metric (3.1.8)",
		"a 1\na 2\n# EOF\n"},
	{"timestamp-backwards", "Data Model > Data Types > Metric (3.1.8)",
		"a 1 2\na 2 1\n# EOF\n"},
	{"timestamp-presence-mixed", "Data Model > Data Types > Metric (3.1.8)",
		"a 1\na 2 5\n# EOF\n"},
	{"counter-total-suffix", "... > Text format > Metric types > Counter (4.2.5.2); Data Model > Data Types > MetricFamily > Name (3.1.9.1)",
		"# TYPE a counter\na 1\n# EOF\n"},
	{"counter-total-missing", "Data Model > Metric Types > Counter (3.2.2)",
		"# TYPE a counter\na_created 1\n# EOF\n"},
	{"counter-total-nan", "Data Model > Metric Types > Counter (3.2.2)",
		"# TYPE a counter\na_total NaN\n# EOF\n"},
	{"counter-total-negative", "Data Model > Metric Types > Counter (3.2.2)",
		"# TYPE a counter\na_total -1\n# EOF\n"},
	{"stateset-label", "... > Text format > Metric types > StateSet (4.2.5.3)",
		"# TYPE a stateset\na 1\n# EOF\n"},
	{"stateset-value", "... > Text format > Metric types > StateSet (4.2.5.3); Data Model > Metric Types > StateSet (3.2.3)",
		"# TYPE a stateset\na{a=\"x\"} 2\n# EOF\n"},
	{"info-suffix", "... > Text format > Metric types > Info (4.2.5.4)",
		"# TYPE a info\na 1\n# EOF\n"},
	{"info-value", "... > Text format > Metric types > Info (4.2.5.4)",
		"# TYPE a info\na_info 2\n# EOF\n"},
	{"hist-le-missing", "... > Text format > Metric types > Histogram (4.2.5.6); Data Model > Metric Types > Histogram (3.2.5)",
		"# TYPE a histogram\na_bucket 0\n# EOF\n"},
	{"hist-le-nan", "Data Model > Metric Types > Histogram (3.2.5)",
		"# TYPE a histogram\na_bucket{le=\"NaN\"} 0\na_bucket{le=\"+Inf\"} 0\n# EOF\n"},
	{"hist-le-not-number", "... > Text format > Metric types > Histogram (4.2.5.6); ... > Numbers > Considerations: Canonical Numbers (4.2.2.2.1)",
		"# TYPE a histogram\na_bucket{le=\"x\"} 0\na_bucket{le=\"+Inf\"} 0\n# EOF\n"},
	{"hist-le-number-syntax", "... > Text format > Metric types > Histogram (4.2.5.6); Data transmission & wire formats > Text format > Overall Structure > Numbers (4.2.2.2)",
		"# TYPE a histogram\na_bucket{le=\"1_0\"} 0\na_bucket{le=\"+Inf\"} 0\n# EOF\n"},
	{"hist-inf-canonical", "... > Numbers > Considerations: Canonical Numbers (4.2.2.2.1); ... > Text format > Metric types > Histogram (4.2.5.6)",
		"# TYPE a histogram\na_bucket{le=\"+INF\"} 0\n# EOF\n"},
	{"hist-inf-bucket-missing", "Data Model > Metric Types > Histogram (3.2.5)",
		"# TYPE a histogram\na_bucket{le=\"1\"} 0\n# EOF\n"},
	{"hist-no-buckets", "Data Model > Metric Types > Histogram (3.2.5)",
		"# TYPE a histogram\na_count 0\na_sum 0\n# EOF\n"},
	{"hist-le-order", "... > Text format > Metric types > Histogram (4.2.5.6)",
		"# TYPE a histogram\na_bucket{le=\"2\"} 0\na_bucket{le=\"1\"} 0\na_bucket{le=\"+Inf\"} 0\n# EOF\n"},
	{"hist-le-unique", "Data Model > Metric Types > Histogram (3.2.5)",
		"# TYPE a histogram\na_bucket{le=\"1\"} 0\na_bucket{le=\"1.0\"} 0\na_bucket{le=\"+Inf\"} 0\n# EOF\n"},
	{"hist-bucket-cumulative", "Data Model > Metric Types > Histogram (3.2.5)",
		"# TYPE a histogram\na_bucket{le=\"1\"} 1\na_bucket{le=\"2\"} 1\na_bucket{le=\"+Inf\"} 0\n# EOF\n"},
	{"hist-bucket-negative", "Data Model > Metric Types > Histogram (3.2.5)",
		"# TYPE a histogram\na_bucket{le=\"+Inf\"} -1\n# EOF\n"},
	{"hist-bucket-nan", "Data Model > Metric Types > Histogram (3.2.5)",
		"# TYPE a histogram\na_bucket{le=\"+Inf\"} NaN\n# EOF\n"},
	{"hist-bucket-integer", "Data Model > Metric Types > Histogram (3.2.5)",
		"# TYPE a histogram\na_bucket{le=\"+Inf\"} 1.5\n# EOF\n"},
	{"hist-count-integer", "Data Model > Metric Types > Histogram (3.2.5)",
		"# TYPE a histogram\na_bucket{le=\"+Inf\"} 1\na_count 1.5\na_sum 1\n# EOF\n"},
	{"hist-count-mismatch", "... > Text format > Metric types > Histogram (4.2.5.6)",
		"# TYPE a histogram\na_bucket{le=\"+Inf\"} 0\na_count 1\na_sum 0\n# EOF\n"},
	{"hist-sum-without-count", "... > Text format > Metric types > Histogram (4.2.5.6)",
		"# TYPE a histogram\na_bucket{le=\"+Inf\"} 0\na_sum 0\n# EOF\n"},
	{"hist-count-without-sum", "... > Text format > Metric types > Histogram (4.2.5.6)",
		"# TYPE a histogram\na_bucket{le=\"+Inf\"} 0\na_count 0\n# EOF\n"},
	{"hist-sum-nan", "Data Model > Metric Types > Histogram (3.2.5)",
		"# TYPE a histogram\na_bucket{le=\"+Inf\"} 0\na_count 0\na_sum NaN\n# EOF\n"},
	{"hist-sum-negative", "Data Model > Metric Types > Histogram (3.2.5)",
		"# TYPE a histogram\na_bucket{le=\"+Inf\"} 0\na_count 0\na_sum -1\n# EOF\n"},
	{"hist-sum-with-negative-buckets", "Data Model > Metric Types > Histogram (3.2.5)",
		"# TYPE a histogram\na_bucket{le=\"-1.0\"} 1\na_bucket{le=\"+Inf\"} 2\na_count 2\na_sum 1\n# EOF\n"},
	{"hist-le-on-metric", "Data Model > Metric Types > Histogram (3.2.5)",
		"# TYPE a histogram\na_bucket{le=\"+Inf\"} 0\na_count{le=\"+Inf\"} 0\na_sum{le=\"+Inf\"} 0\n# EOF\n"},
	{"gh-gcount-without-gsum", "... > Text format > Metric types > GaugeHistogram (4.2.5.7)",
		"# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 0\na_gcount 0\n# EOF\n"},
	{"gh-gsum-without-gcount", "... > Text format > Metric types > GaugeHistogram (4.2.5.7)",
		"# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 0\na_gsum 0\n# EOF\n"},
	{"gh-gcount-mismatch", "... > Text format > Metric types > GaugeHistogram (4.2.5.7)",
		"# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 1\na_gcount 2\na_gsum 1\n# EOF\n"},
	{"gh-gcount-negative", "Data Model > Metric Types > GaugeHistogram (3.2.6)",
		"# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} -1\na_gcount -1\na_gsum 0\n# EOF\n"},
	{"gh-bucket-nan", "Data Model > Metric Types > GaugeHistogram (3.2.6)",
		"# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} NaN\n# EOF\n"},
	{"gh-gsum-nan", "Data Model > Metric Types > GaugeHistogram (3.2.6)",
		"# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 1\na_gcount 1\na_gsum NaN\n# EOF\n"},
	{"gh-gsum-negative", "Data Model > Metric Types > GaugeHistogram (3.2.6)",
		"# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 1\na_gcount 1\na_gsum -1\n# EOF\n"},
	{"gh-bucket-integer", "Data Model > Metric Types > GaugeHistogram (3.2.6)",
		"# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 0.5\n# EOF\n"},
	{"gh-inf-bucket-missing", "Data Model > Metric Types > GaugeHistogram (3.2.6)",
		"# TYPE a gaugehistogram\na_bucket{le=\"1\"} 0\n# EOF\n"},
	{"summary-quantile-missing", "... > Text format > Metric types > Summary (4.2.5.5)",
		"# TYPE a summary\na 1\n# EOF\n"},
	{"summary-quantile-range", "Data Model > Metric Types > Summary (3.2.7)",
		"# TYPE a summary\na{quantile=\"1.5\"} 1\n# EOF\n"},
	{"summary-quantile-nan", "Data Model > Metric Types > Summary (3.2.7)",
		"# TYPE a summary\na{quantile=\"NaN\"} 1\n# EOF\n"},
	{"summary-quantile-not-number", "... > Text format > Metric types > Summary (4.2.5.5); ... > Numbers > Considerations: Canonical Numbers (4.2.2.2.1)",
		"# TYPE a summary\na{quantile=\"x\"} 1\n# EOF\n"},
	{"summary-quantile-value-negative", "Data Model > Metric Types > Summary (3.2.7)",
		"# TYPE a summary\na{quantile=\"0.5\"} -1\n# EOF\n"},
	{"summary-count-negative", "Data Model > Metric Types > Summary (3.2.7)",
		"# TYPE a summary\na_count -1\n# EOF\n"},
	{"summary-count-nan", "Data Model > Metric Types > Summary (3.2.7)",
		"# TYPE a summary\na_count NaN\n# EOF\n"},
	{"summary-count-integer", "Data Model > Metric Types > Summary (3.2.7)",
		"# TYPE a summary\na_count 1.5\n# EOF\n"},
	{"summary-sum-negative", "Data Model > Metric Types > Summary (3.2.7)",
		"# TYPE a summary\na_sum -1\n# EOF\n"},
	{"summary-sum-nan", "Data Model > Metric Types > Summary (3.2.7)",
		"# TYPE a summary\na_sum NaN\n# EOF\n"},
	{"summary-quantile-on-metric", "Data Model > Metric Types > Summary (3.2.7)",
		"# TYPE a summary\na_count{quantile=\"0.5\"} 0\n# EOF\n"},
	{"exemplar-hash-alone", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 #\n# EOF\n"},
	{"exemplar-space-before-hash", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"# TYPE a histogram\na_bucket{le=\"+Inf\"} 1# {} 1\n# EOF\n"},
	{"exemplar-space-after-hash", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 #{} 1\n# EOF\n"},
	{"exemplar-space-after-labels", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 # {}1\n# EOF\n"},
	{"exemplar-trailing-space", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 # {} 1 \n# EOF\n"},
	{"exemplar-braces-required", "Data transmission & wire formats > Text format > ABNF (4.2.1); ... > Text format > Metric types > Histogram > Exemplars (4.2.5.6.1)",
		"# TYPE a counter\na_total 1 # 1\n# EOF\n"},
	{"exemplar-value-missing", "Data transmission & wire formats > Text format > ABNF (4.2.1); Data Model > Data Types > Exemplars (3.1.7)",
		"# TYPE a counter\na_total 1 # {a=\"b\"}\n# EOF\n"},
	{"exemplar-value-syntax", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 # {} 0x1p-3\n# EOF\n"},
	{"exemplar-timestamp-syntax", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 # {} 1 0x1p-3\n# EOF\n"},
	{"exemplar-timestamp-non-finite", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"# TYPE a counter\na_total 1 # {a=\"b\"} 0.5 Inf\n# EOF\n"},
	{"exemplar-label-syntax", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"# TYPE a counter\na_total 1 # {0a=\"b\"} 1\n# EOF\n"},
	{"exemplar-labels-duplicate", "Data Model > Data Types > Exemplars (3.1.7); Data Model > Data Types > LabelSet (3.1.5)",
		"# TYPE a counter\na_total 1 # {b=\"1\",b=\"2\"} 1\n# EOF\n"},
	{"exemplar-too-long", "Data Model > Data Types > Exemplars (3.1.7); Design Considerations > Size Limits (5.19)",
		"# TYPE a counter\na_total 1 # {a=\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"} 1\n# EOF\n"},
	{"exemplar-too-long-codepoints", "Data Model > Data Types > Exemplars (3.1.7)",
		"# TYPE a counter\na_total 1 # {a=\"éééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé\"} 1\n# EOF\n"},
	{"exemplar-on-gauge", "Data Model > Metric Types > Counter (3.2.2); Data Model > Metric Types > Histogram (3.2.5); Data Model > Metric Types > GaugeHistogram (3.2.6)",
		"# TYPE a gauge\na 1 # {} 1\n# EOF\n"},
	{"exemplar-on-created", "Data Model > Metric Types > Counter (3.2.2)",
		"# TYPE a counter\na_total 1\na_created 1 # {} 1\n# EOF\n"},
	{"exemplar-on-hist-count", "Data Model > Metric Types > Histogram (3.2.5)",
		"# TYPE a histogram\na_bucket{le=\"+Inf\"} 1\na_count 1 # {} 1\na_sum 1\n# EOF\n"},
	{"exemplar-bucket-range", "Data Model > Metric Types > Histogram (3.2.5); Data Model > Metric Types > GaugeHistogram (3.2.6)",
		"# TYPE a histogram\na_bucket{le=\"1\"} 1 # {} 2\na_bucket{le=\"+Inf\"} 1\n# EOF\n"},
	{"exemplar-at-most-one", "Data Model > Metric Types > Histogram (3.2.5)",
		"# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 # {} 1 # {} 1\n# EOF\n"},
}

var specValid = []specCase{
	{"escape-unknown", "Data transmission & wire formats > Text format > ABNF (4.2.1); Data transmission & wire formats > Text format > Overall Structure > Escaping (4.2.2.1)",
		"a{b=\"x\\ty\\z\"} 1\n# EOF\n"},
	{"escape-unknown-help", "Data transmission & wire formats > Text format > ABNF (4.2.1); Data transmission & wire formats > Text format > Overall Structure > Escaping (4.2.2.1)",
		"# HELP a he\\n\\\\l\\tp\na 1\n# EOF\n"},
	{"label-value-nul-tab", "Data Model > Data Types > Strings (3.1.3); Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a{b=\"x\x00\ty\"} 1\n# EOF\n"},
	{"label-value-special", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a{b=\"} # {c=\\\"d\\\"} 1,=\"} 1\n# EOF\n"},
	{"exemplar-label-value-brace", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"# TYPE a counter\na_total 1 # {e=\"} \"} 1\n# EOF\n"},
	{"label-value-empty", "Data Model > Data Types > Label (3.1.4)",
		"a{b=\"\"} 1\n# EOF\n"},
	{"labels-empty-braces", "... > Text format > MetricFamily > Metric (4.2.3.2)",
		"a{} 1\n# EOF\n"},
	{"label-order", "... > Text format > Metric types > Info (4.2.5.4)",
		"# TYPE a histogram\na_bucket{le=\"+Inf\",b=\"1\"} 0\n# EOF\n"},
	{"num-infinity", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a{b=\"1\"} Infinity\na{b=\"2\"} inf\na{b=\"3\"} -INF\na{b=\"4\"} +iNfInItY\n# EOF\n"},
	{"num-nan-case", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a{b=\"1\"} nan\na{b=\"2\"} NAN\n# EOF\n"},
	{"num-forms", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a{b=\"1\"} 1.\na{b=\"2\"} .5\na{b=\"3\"} +.5\na{b=\"4\"} -0\na{b=\"5\"} 0042\na{b=\"6\"} 1E5\na{b=\"7\"} 1e+05\na{b=\"8\"} +1\na{b=\"9\"} 1.5E-3\n# EOF\n"},
	{"num-big-int", "Data Model > Data Types > Values (3.1.1)",
		"a 9223372036854775808\n# EOF\n"},
	{"ts-forms", "Data transmission & wire formats > Text format > ABNF (4.2.1); Data Model > Data Types > Timestamps (3.1.2)",
		"a{b=\"1\"} 1 -5\na{b=\"2\"} 1 1.\na{b=\"3\"} 1 .5\na{b=\"4\"} 1 1e3\na{b=\"5\"} 1 1.5E3\na{b=\"6\"} 1 1234.1234567891\n# EOF\n"},
	{"ts-mixed-forms", "Data transmission & wire formats > Text format > ABNF (4.2.1); Data Model > Data Types > Metric (3.1.8)",
		"a 1 1\na 2 1e3\n# EOF\n"},
	{"ts-exponent-nodot", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"a 1 1e3\n# EOF\n"},
	{"ts-equal", "Design Considerations > Exposing Timestamps (5.17); test duplicate_timestamps",
		"a 1 0.0000000000\na 2 0.0000000001\n# EOF\n"},
	{"help-empty", "... > Text format > MetricFamily > MetricFamily metadata (4.2.3.1)",
		"# HELP a \na 1\n# EOF\n"},
	{"unit-empty", "... > Text format > MetricFamily > MetricFamily metadata (4.2.3.1)",
		"# TYPE a info\n# UNIT a \na_info 1\n# EOF\n"},
	{"help-any-text", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"# HELP a x # {y=z} é\na 1\n# EOF\n"},
	{"metadata-order", "... > Text format > MetricFamily > MetricFamily metadata (4.2.3.1)",
		"# HELP a_s x\n# UNIT a_s s\n# TYPE a_s gauge\na_s 1\n# EOF\n"},
	{"metadata-only", "Data Model > Data Types > MetricFamily (3.1.9)",
		"# TYPE a gauge\n# HELP b x\n# EOF\n"},
	{"no-metadata", "... > Text format > MetricFamily > MetricFamily metadata (4.2.3.1)",
		"a 1\n# EOF\n"},
	{"unit-without-type", "Data Model > Data Types > MetricFamily > Unit (3.1.9.3)",
		"# UNIT a_s s\na_s 1\n# EOF\n"},
	{"empty-exposition", "Data transmission & wire formats > Text format > ABNF (4.2.1)",
		"# EOF\n"},
	{"eof-no-lf", "Data transmission & wire formats > Text format > Overall Structure (4.2.2)",
		"a 1\n# EOF"},
	{"name-colon", "Data Model > Data Types > MetricFamily > Name (3.1.9.1)",
		"a:b 1\n# EOF\n"},
	{"le-noncanonical", "... > Numbers > Considerations: Canonical Numbers (4.2.2.2.1)",
		"# TYPE a histogram\na_bucket{le=\"1e-4\"} 0\na_bucket{le=\"1\"} 0\na_bucket{le=\"+Inf\"} 0\n# EOF\n"},
	{"le-negative-no-sum", "Data Model > Metric Types > Histogram (3.2.5)",
		"# TYPE a histogram\na_bucket{le=\"-1\"} 0\na_bucket{le=\"+Inf\"} 0\n# EOF\n"},
	{"gsum-negative-with-negative-buckets", "Data Model > Metric Types > GaugeHistogram (3.2.6)",
		"# TYPE a gaugehistogram\na_bucket{le=\"-1\"} 1\na_bucket{le=\"+Inf\"} 1\na_gcount 1\na_gsum -1\n# EOF\n"},
	{"int-valued-floats", "Data Model > Metric Types > Histogram (3.2.5); spec examples",
		"# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 42.0\na_gcount 42.0\na_gsum 1.5\n# TYPE b info\nb_info 1.0\n# TYPE c stateset\nc{c=\"x\"} 0.0\n# EOF\n"},
	{"quantile-nan-value", "Data Model > Metric Types > Summary (3.2.7)",
		"# TYPE a summary\na{quantile=\"0\"} NaN\na{quantile=\"1\"} 1\n# EOF\n"},
	{"hist-inf-only", "Data Model > Metric Types > Histogram (3.2.5)",
		"# TYPE a histogram\na_bucket{le=\"+Inf\"} 0\n# EOF\n"},
	{"counter-inf", "Data Model > Metric Types > Counter (3.2.2)",
		"# TYPE a counter\na_total +Inf\n# EOF\n"},
	{"exemplar-128", "Data Model > Data Types > Exemplars (3.1.7)",
		"# TYPE a counter\na_total 1 # {a=\"☃xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"} 1\n# EOF\n"},
	{"exemplar-forms", "... > Text format > Metric types > Histogram > Exemplars (4.2.5.6.1)",
		"# TYPE a counter\na_total 1 123 # {} 1 -1.5\n# EOF\n"},
	{"suffix-new-family", "Data transmission & wire formats > Text format > MetricFamily (4.2.3)",
		"# TYPE a gauge\na 1\na_total 1\n# TYPE b gaugehistogram\nb_bucket{le=\"+Inf\"} 0\nb_sum 0\n# EOF\n"},
	{"label-le-elsewhere", "Data Model > Metric Types > Histogram (3.2.5)",
		"a{le=\"x\",quantile=\"y\"} 1\n# EOF\n"},
	{"different-label-names", "Data Model > Data Types > Metric (3.1.8)",
		"a{b=\"1\"} 1\na{c=\"1\"} 1\n# EOF\n"},
	{"metric-points-ts", "Data transmission & wire formats > Text format > MetricPoint (4.2.4)",
		"# TYPE a summary\na_count 0 1\na_sum 0 1\na_count 0 2\na_sum 0 2\n# EOF\n"},
}

// TestOpenMetricsSpecCatalogue: every body of specInvalid is rejected with
// an error that names its line, kept or dropped, and every body of
// specValid is accepted.
func TestOpenMetricsSpecCatalogue(t *testing.T) {
	for _, keep := range []KeepFunc{nil, func([]byte) bool { return false }} {
		for _, tc := range specInvalid {
			_, _, err := parseAll(t, tc.body, FormatOpenMetrics, keep, Limits{})
			var pe *Error
			if !errors.As(err, &pe) || pe.Line == 0 {
				t.Errorf("%s (%s), keep all %v: body %q: got %v, want an error naming the line", tc.id, tc.section, keep == nil, tc.body, err)
			}
		}
		for _, tc := range specValid {
			if _, _, err := parseAll(t, tc.body, FormatOpenMetrics, keep, Limits{}); err != nil {
				t.Errorf("%s (%s), keep all %v: body %q: %v", tc.id, tc.section, keep == nil, tc.body, err)
			}
		}
	}
}

// TestOpenMetricsSpecCatalogueAgainstPrometheusClient runs the catalogue
// through prometheus_client's OpenMetrics parser and checks that it
// disagrees with the catalogue exactly where specRefDiffers says it does.
func TestOpenMetricsSpecCatalogueAgainstPrometheusClient(t *testing.T) {
	if err := exec.Command(systemPython, "-c", "import prometheus_client").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("python3-prometheus-client is required in CI: %v", err)
		}
		t.Skipf("Debian's python3-prometheus-client is not installed: %v", err)
	}
	cases := append(append([]specCase{}, specInvalid...), specValid...)
	var bodies []string
	for _, tc := range cases {
		bodies = append(bodies, tc.body)
	}
	in, err := json.Marshal(bodies)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(systemPython, "testdata/openmetrics_reference.py")
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var ref []string
	if err := json.Unmarshal(out, &ref); err != nil || len(ref) != len(cases) {
		t.Fatalf("reference parser said %q (%v)", out, err)
	}
	for i, tc := range cases {
		valid := i >= len(specInvalid)
		agree := valid == (ref[i] == accepted)
		switch {
		case !agree && specRefDiffers[tc.id] == "":
			t.Errorf("%s: the catalogue says valid=%v; prometheus_client says %s", tc.id, valid, ref[i])
		case agree && specRefDiffers[tc.id] != "":
			t.Errorf("%s: prometheus_client now agrees (%s); drop the note that it differs", tc.id, ref[i])
		}
	}
}

// specRefDiffers says where prometheus_client's parser decides otherwise than
// the specification, and how.
var specRefDiffers = map[string]string{
	"utf8-valid":                      "this test hands it the body through JSON, which replaces invalid UTF-8 (its file reader refuses it)",
	"metric-name-reserved-underscore": "it does not check the Data Model's reserved names",
	"label-name-reserved-underscore":  "it does not check the Data Model's reserved names",
	"label-value-escaped-close":       "it reads `\\\"` before the closing brace as the closing quote",
	"number-unicode-digit":            "Python's float() takes non-ASCII digits",
	"number-nan-signed":               "Python's float() takes +nan and -nan",
	"number-float-range":              "Python's float() rounds 1e309 to +Inf",
	"help-raw-dquote":                 "it reads HELP up to the line's end",
	"help-trailing-backslash":         "it keeps a trailing backslash",
	"labelset-duplicate-sample":       "it keeps the first of two samples of one label set without timestamps",
	"counter-total-missing":           "it does not require _total",
	"hist-le-number-syntax":           "Python's float() takes digit separators (1_0)",
	"summary-quantile-on-metric":      "it does not check which samples carry quantile",
	"exemplar-bucket-range":           "it does not check an exemplar's value against its bucket",
	"exemplar-label-value-brace":      "it ends an exemplar's label set at the first }, even inside quotes",
	"ts-mixed-forms":                  "it fails comparing an integer timestamp with a float one",
}
