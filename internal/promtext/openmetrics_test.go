package promtext

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// omCase is one body under one MUST of the OpenMetrics 1.0 specification:
// spec names the section the rule comes from, want the whole error (or
// accepted, for a body the spec allows that a strict parser might refuse).
type omCase struct {
	name, spec, body, want string
}

// refDiffers says, for the cases where prometheus_client's OpenMetrics
// parser decides otherwise, why.
var refDiffers = map[string]string{
	"repeated bucket":                     "it drops a line identical in name, labels and timestamp to one before it in its group (for timestamps truncated alike), so it never sees the bucket twice",
	"multiprocess _sum lines first":       "it rejects the output of its own multiprocess mode, which SGLang serves",
	"HELP with a raw double quote":        "it reads HELP up to the line's end (the ABNF's escaped-string has no raw DQUOTE)",
	"HELP ending in a backslash":          "it keeps a trailing backslash (the ABNF wants a character after each BS)",
	"family name starting with _":         "it does not check the Data Model's reserved names",
	"label name starting with _":          "it does not check the Data Model's reserved names",
	"a gauge's sample twice":              "it keeps the first of two samples of one label set without timestamps and drops the second",
	"counter without _total":              "it does not require _total",
	"counter label set without _total":    "it does not require _total",
	"quantile label on a summary's count": "it does not check which samples carry quantile",
	"exemplar above its bucket":           "it does not check an exemplar's value against its bucket",
	"exemplar below its bucket":           "it does not check an exemplar's value against its bucket",
}

// omCases hold a case per rule that openmetrics.go enforces, and the
// bodies the ABNF allows that are easy to get wrong.
var omCases = []omCase{
	// Metric families and their metadata.
	{"metadata after samples", "MetricFamily", "# TYPE a gauge\na 1\n# HELP a x\n# EOF\n",
		`line 3: # HELP after the family's samples (OpenMetrics: MetricFamily): "# HELP a x"`},
	{"second TYPE", "MetricFamily", "# TYPE a gauge\n# TYPE a gauge\na 1\n# EOF\n",
		`line 2: second # TYPE for the family (OpenMetrics: MetricFamily): "# TYPE a gauge"`},
	{"second HELP", "MetricFamily", "# HELP a x\n# HELP a y\na 1\n# EOF\n",
		`line 2: second # HELP for the family (OpenMetrics: MetricFamily): "# HELP a y"`},
	{"second UNIT", "MetricFamily", "# UNIT a_s s\n# UNIT a_s s\na_s 1\n# EOF\n",
		`line 2: second # UNIT for the family (OpenMetrics: MetricFamily): "# UNIT a_s s"`},
	{"HELP without a space", "ABNF", "# HELP a\n# EOF\n",
		`line 1: # HELP without a space after the name (OpenMetrics: ABNF): "# HELP a"`},
	{"interleaved families", "MetricFamily", "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\na 2\n# EOF\n",
		`line 5: family "a" repeats the name of an earlier family: a family's lines must be together (OpenMetrics: MetricFamily): "# TYPE a gauge"`},
	{"interleaved sample-only families", "MetricFamily", "a 1\nb 1\na 2\n# EOF\n",
		`line 3: family "a" repeats the name of an earlier family: a family's lines must be together (OpenMetrics: MetricFamily): "a 2"`},
	{"family named like an earlier one's sample", "MetricFamily", "# TYPE a counter\na_total 1\n# TYPE a_total gauge\na_total 2\n# EOF\n",
		`line 3: family name "a_total" is a sample name of family "a" (OpenMetrics: MetricFamily): "# TYPE a_total gauge"`},
	{"family whose samples take an earlier name", "MetricFamily", "# TYPE a_total gauge\na_total 1\n# TYPE a counter\na_total 2\n# EOF\n",
		`line 5: family "a" takes the name "a_total" of family "a_total" (OpenMetrics: MetricFamily): "# EOF"`},
	{"unit not a suffix", "Unit", "# TYPE a_seconds gauge\n# UNIT a_seconds bytes\na_seconds 1\n# EOF\n",
		`line 2: unit "bytes" is not a suffix of the family name (OpenMetrics: Unit): "# UNIT a_seconds bytes"`},
	{"unit on an info", "Unit", "# TYPE a_x info\n# UNIT a_x x\na_x_info 1\n# EOF\n",
		`line 2: a family of type info cannot have a unit (OpenMetrics: Unit): "# UNIT a_x x"`},
	{"unit on a stateset, declared before the type", "Unit", "# UNIT a_x x\n# TYPE a_x stateset\na_x{a_x=\"s\"} 1\n# EOF\n",
		`line 2: a family of type stateset cannot have a unit (OpenMetrics: Unit): "# TYPE a_x stateset"`},

	{"HELP with a raw double quote", "ABNF", "# HELP a say \"hi\"\na 1\n# EOF\n",
		`line 1: HELP text has an unescaped double quote (OpenMetrics: ABNF): "# HELP a say \"hi\""`},
	{"HELP ending in a backslash", "ABNF", "# HELP a x\\\na 1\n# EOF\n",
		`line 1: HELP text ends in a lone backslash (OpenMetrics: ABNF): "# HELP a x\\"`},
	{"trailing comma in a label set", "ABNF", "a{b=\"1\",} 1\n# EOF\n",
		`line 1: a comma before the label set's } (OpenMetrics: ABNF): "a{b=\"1\",} 1"`},
	{"family name starting with _", "MetricFamily", "_a 1\n# EOF\n",
		`line 1: a family name starting with _ (reserved) (OpenMetrics: MetricFamily): "_a 1"`},
	{"label name starting with _", "Metric", "a{_b=\"1\"} 1\n# EOF\n",
		`line 1: a label name starting with _ (reserved) (OpenMetrics: Metric): "a{_b=\"1\"} 1"`},

	// Values.
	{"negative counter", "Counter", "# TYPE a counter\na_total -1\n# EOF\n",
		`line 2: a counter's _total must be a non-negative number (OpenMetrics: Counter): "a_total -1"`},
	{"NaN counter", "Counter", "# TYPE a counter\na_total NaN\n# EOF\n",
		`line 2: a counter's _total must be a non-negative number (OpenMetrics: Counter): "a_total NaN"`},
	{"fractional bucket count", "Histogram", "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1.5\n# EOF\n",
		`line 2: a histogram's _bucket must be an integer (OpenMetrics: Histogram): "a_bucket{le=\"+Inf\"} 1.5"`},
	{"negative histogram sum", "Histogram", "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1\na_count 1\na_sum -1\n# EOF\n",
		`line 4: a histogram's _sum must be a non-negative number (OpenMetrics: Histogram): "a_sum -1"`},
	{"fractional gcount", "GaugeHistogram", "# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 1\na_gcount 0.5\n# EOF\n",
		`line 3: a gaugehistogram's _gcount must be an integer (OpenMetrics: GaugeHistogram): "a_gcount 0.5"`},
	{"NaN gsum", "GaugeHistogram", "# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 1\na_gcount 1\na_gsum NaN\n# EOF\n",
		`line 4: a gaugehistogram's _gsum must be a number (OpenMetrics: GaugeHistogram): "a_gsum NaN"`},
	{"negative summary count", "Summary", "# TYPE a summary\na_count -1\na_sum 0\n# EOF\n",
		`line 2: a summary's _count must be a non-negative number (OpenMetrics: Summary): "a_count -1"`},
	{"negative quantile value", "Summary", "# TYPE a summary\na{quantile=\"0.5\"} -1\n# EOF\n",
		`line 2: a summary's quantile value must not be negative (OpenMetrics: Summary): "a{quantile=\"0.5\"} -1"`},
	{"stateset value 2", "StateSet", "# TYPE a stateset\na{a=\"x\"} 2\n# EOF\n",
		`line 2: a stateset's value must be 0 or 1 (OpenMetrics: StateSet): "a{a=\"x\"} 2"`},
	{"stateset without its label", "StateSet", "# TYPE a stateset\na{b=\"x\"} 1\n# EOF\n",
		`line 2: a stateset's sample has no label named after the family (OpenMetrics: StateSet): "a{b=\"x\"} 1"`},
	{"counter sample without _total", "Counter", "# TYPE a counter\na 1\n# EOF\n",
		`line 2: a counter's sample names end in _total or _created (OpenMetrics: Counter): "a 1"`},
	{"info sample without _info", "Info", "# TYPE a info\na{v=\"1\"} 1\n# EOF\n",
		`line 2: an info's sample names end in _info (OpenMetrics: Info): "a{v=\"1\"} 1"`},
	{"info value 2", "Info", "# TYPE a info\na_info{v=\"1\"} 2\n# EOF\n",
		`line 2: an info's value must be 1 (OpenMetrics: Info): "a_info{v=\"1\"} 2"`},

	// Labels that carry numbers.
	{"le +Inf spelt Inf", "Numbers", "# TYPE a histogram\na_bucket{le=\"Inf\"} 1\n# EOF\n",
		`line 2: le label value "Inf" is not written as +Inf (OpenMetrics: Numbers): "a_bucket{le=\"Inf\"} 1"`},
	{"le +Inf in lower case", "Numbers", "# TYPE a gaugehistogram\na_bucket{le=\"+inf\"} 1\na_gcount 1\na_gsum 1\n# EOF\n",
		`line 2: le label value "+inf" is not written as +Inf (OpenMetrics: Numbers): "a_bucket{le=\"+inf\"} 1"`},
	{"le NaN", "Histogram", "# TYPE a histogram\na_bucket{le=\"NaN\"} 1\n# EOF\n",
		`line 2: invalid le label value "NaN": "a_bucket{le=\"NaN\"} 1"`},
	{"gaugehistogram bucket without le", "GaugeHistogram", "# TYPE a gaugehistogram\na_bucket 1\n# EOF\n",
		`line 2: missing le label (OpenMetrics: GaugeHistogram): "a_bucket 1"`},
	{"quantile above 1", "Summary", "# TYPE a summary\na{quantile=\"1.5\"} 1\n# EOF\n",
		`line 2: quantile "1.5" is not between 0 and 1 (OpenMetrics: Summary): "a{quantile=\"1.5\"} 1"`},
	{"hexadecimal value", "ABNF", "a 0x1\n# EOF\n",
		`line 1: invalid value "0x1": "a 0x1"`},
	{"hexadecimal timestamp", "ABNF", "a 1 0x10\n# EOF\n",
		`line 1: invalid timestamp "0x10": "a 1 0x10"`},

	// MetricPoints and their grouping.
	{"label set not together", "Metric", "# TYPE a gauge\na{x=\"1\"} 1\na{x=\"2\"} 1\na{x=\"1\"} 2\n# EOF\n",
		`line 4: a label set's samples are not together: this one appeared earlier in the family (OpenMetrics: Metric): "a{x=\"1\"} 2"`},
	{"histogram label set not together", "Metric", "# TYPE a histogram\na_bucket{x=\"1\",le=\"+Inf\"} 1\na_bucket{x=\"2\",le=\"+Inf\"} 1\na_count{x=\"1\"} 1\n# EOF\n",
		`line 4: a label set's samples are not together: this one appeared earlier in the family (OpenMetrics: Metric): "a_count{x=\"1\"} 1"`},
	{"multiprocess _sum lines first", "Metric", "# TYPE a histogram\na_sum{x=\"1\"} 1\na_sum{x=\"2\"} 1\n" +
		"a_bucket{x=\"1\",le=\"+Inf\"} 1\na_count{x=\"1\"} 1\na_bucket{x=\"2\",le=\"+Inf\"} 1\na_count{x=\"2\"} 1\n# EOF\n", accepted},
	{"a _sum line not in the leading block", "Metric", "# TYPE a histogram\na_sum{x=\"1\"} 1\na_bucket{x=\"1\",le=\"+Inf\"} 1\n" +
		"a_sum{x=\"2\"} 1\na_count{x=\"1\"} 1\n# EOF\n",
		`line 5: a label set's samples are not together: this one appeared earlier in the family (OpenMetrics: Metric): "a_count{x=\"1\"} 1"`},
	{"a label set after the leading _sum block, twice", "Metric", "# TYPE a summary\na_sum{x=\"1\"} 1\na_sum{x=\"2\"} 1\n" +
		"a_count{x=\"1\"} 1\na_count{x=\"2\"} 1\na_count{x=\"1\"} 1\n# EOF\n",
		`line 6: a label set's samples are not together: this one appeared earlier in the family (OpenMetrics: Metric): "a_count{x=\"1\"} 1"`},
	{"timestamp on some samples only", "Metric", "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 1\na_count 1\n# EOF\n",
		`line 3: timestamps on some samples of a MetricPoint and not on others (OpenMetrics: Metric): "a_count 1"`},
	{"timestamp going back", "Metric", "# TYPE a gauge\na 1 2\na 1 1\n# EOF\n",
		`line 3: a timestamp earlier than the one before it in the same Metric (OpenMetrics: Metric): "a 1 1"`},

	{"a gauge's sample twice", "Metric", "a 1\na 2\n# EOF\n",
		`line 2: a sample repeated in one MetricPoint: a Metric's MetricPoints need increasing timestamps (OpenMetrics: Metric): "a 2"`},
	{"timestamps equal once truncated", "Metric", "# TYPE a gauge\na{a=\"1\"} 1 0.0000000000\na{a=\"1\"} 2 0.0000000001\na{a=\"2\"} 3 0.0000000000\na{a=\"2\"} 4 0.0000000001\n# EOF\n", accepted},
	{"counter without _total", "Counter", "# TYPE a counter\na_created 1\n# EOF\n",
		`line 3: counter "a" has a MetricPoint without _total (OpenMetrics: Counter): "# EOF"`},
	{"counter label set without _total", "Counter", "# TYPE a counter\na_created{x=\"1\"} 1\na_total{x=\"2\"} 1\n# EOF\n",
		`line 3: counter "a" has a MetricPoint without _total (OpenMetrics: Counter): "a_total{x=\"2\"} 1"`},
	{"quantile label on a summary's count", "Summary", "# TYPE a summary\na_count{quantile=\"0.5\"} 0\n# EOF\n",
		`line 2: a summary's _count with a quantile label (OpenMetrics: Summary): "a_count{quantile=\"0.5\"} 0"`},
	{"le label on a histogram's sum", "Histogram", "# TYPE a histogram\na_bucket{le=\"+Inf\"} 0\na_count 0\na_sum{le=\"1\"} 0\n# EOF\n",
		`line 4: a histogram's _sum with an le label (OpenMetrics: Histogram): "a_sum{le=\"1\"} 0"`},

	// Histogram MetricPoints.
	{"buckets out of order", "Histogram", "# TYPE a histogram\na_bucket{le=\"2\"} 1\na_bucket{le=\"1\"} 1\na_bucket{le=\"+Inf\"} 1\n# EOF\n",
		`line 3: buckets not in increasing order of le (OpenMetrics: Histogram): "a_bucket{le=\"1\"} 1"`},
	{"repeated bucket", "Histogram", "# TYPE a histogram\na_bucket{le=\"1\"} 1\na_bucket{le=\"1\"} 1\na_bucket{le=\"+Inf\"} 1\n# EOF\n",
		`line 3: buckets not in increasing order of le (OpenMetrics: Histogram): "a_bucket{le=\"1\"} 1"`},
	{"bucket counts falling", "Histogram", "# TYPE a histogram\na_bucket{le=\"1\"} 2\na_bucket{le=\"+Inf\"} 1\n# EOF\n",
		`line 3: a bucket's count is less than the one below it (OpenMetrics: Histogram): "a_bucket{le=\"+Inf\"} 1"`},
	{"no +Inf bucket", "Histogram", "# TYPE a histogram\na_bucket{le=\"1\"} 1\n# EOF\n",
		`line 3: histogram "a" has a MetricPoint without a +Inf bucket (OpenMetrics: Histogram): "# EOF"`},
	{"only count and sum", "Histogram", "# TYPE a histogram\na_count 1\na_sum 1\n# TYPE b gauge\nb 1\n# EOF\n",
		`line 4: histogram "a" has a MetricPoint without a +Inf bucket (OpenMetrics: Histogram): "# TYPE b gauge"`},
	{"no +Inf bucket in the first of two label sets", "Histogram", "# TYPE a histogram\na_bucket{x=\"1\",le=\"1\"} 1\na_bucket{x=\"2\",le=\"+Inf\"} 1\n# EOF\n",
		`line 4: histogram "a" has a MetricPoint without a +Inf bucket (OpenMetrics: Histogram): "# EOF"`},
	{"count unlike +Inf", "Histogram", "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1\na_count 2\na_sum 1\n# EOF\n",
		`line 5: histogram "a": _count differs from the +Inf bucket (OpenMetrics: Histogram): "# EOF"`},
	{"sum without count", "Histogram", "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1\na_sum 1\n# EOF\n",
		`line 4: histogram "a" has _sum without _count (OpenMetrics: Histogram): "# EOF"`},
	{"count without sum", "Histogram", "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1\na_count 1\n# EOF\n",
		`line 4: histogram "a" has _count without _sum (OpenMetrics: Histogram): "# EOF"`},
	{"gsum without gcount", "GaugeHistogram", "# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 1\na_gsum 1\n# EOF\n",
		`line 4: histogram "a" has _gsum without _gcount (OpenMetrics: GaugeHistogram): "# EOF"`},
	{"negative buckets and a sum", "Histogram", "# TYPE a histogram\na_bucket{le=\"-1\"} 0\na_bucket{le=\"+Inf\"} 1\na_count 1\na_sum 1\n# EOF\n",
		`line 6: histogram "a" has negative buckets and a _sum (OpenMetrics: Histogram): "# EOF"`},
	{"negative gsum without negative buckets", "GaugeHistogram", "# TYPE a gaugehistogram\na_bucket{le=\"1\"} 0\na_bucket{le=\"+Inf\"} 1\na_gcount 1\na_gsum -1\n# EOF\n",
		`line 6: histogram "a" has a negative _gsum without negative buckets (OpenMetrics: GaugeHistogram): "# EOF"`},

	// Exemplars.
	{"exemplar on a gauge", "Exemplars", "# TYPE a gauge\na 1 # {t=\"1\"} 1\n# EOF\n",
		`line 2: an exemplar on a sample other than a counter's _total or a histogram's _bucket (OpenMetrics: Exemplars): "a 1 # {t=\"1\"} 1"`},
	{"exemplar on a histogram's count", "Exemplars", "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1\na_count 1 # {t=\"1\"} 1\na_sum 1\n# EOF\n",
		`line 3: an exemplar on a sample other than a counter's _total or a histogram's _bucket (OpenMetrics: Exemplars): "a_count 1 # {t=\"1\"} 1"`},
	{"exemplar above its bucket", "Exemplars", "# TYPE a histogram\na_bucket{le=\"1\"} 1 # {} 2\na_bucket{le=\"+Inf\"} 1\n# EOF\n",
		`line 2: an exemplar's value outside its bucket (OpenMetrics: Exemplars): "a_bucket{le=\"1\"} 1 # {} 2"`},
	{"exemplar below its bucket", "Exemplars", "# TYPE a histogram\na_bucket{le=\"1\"} 1\na_bucket{le=\"+Inf\"} 1 # {} 0.5\n# EOF\n",
		`line 3: an exemplar's value outside its bucket (OpenMetrics: Exemplars): "a_bucket{le=\"+Inf\"} 1 # {} 0.5"`},
	{"exemplar of 129 characters", "Exemplars", "# TYPE a counter\na_total 1 # {t=\"" + strings.Repeat("x", 128) + "\"} 1\n# EOF\n",
		`line 2: exemplar labels longer than 128 characters (OpenMetrics: Exemplars): "a_total 1 # {t=\"` + strings.Repeat("x", 64) + `"`},

	// What the ABNF allows.
	{"escapes in a label value", "ABNF", "a{b=\"\\z\\f\\\\\\n\\\"\"} 1\n# EOF\n", accepted},
	{"numbers", "ABNF", "a{x=\"1\"} 1.\na{x=\"2\"} .5\na{x=\"3\"} 1E5\na{x=\"4\"} Infinity\na{x=\"5\"} -inf\na{x=\"6\"} nan\na{x=\"7\"} +1\na{x=\"8\"} 1e-3 1.5e3\n# EOF\n", accepted},
	{"empty HELP and UNIT", "ABNF", "# HELP a \n# UNIT a \na 1\n# EOF\n", accepted},
	{"exemplar of 128 characters", "Exemplars", "# TYPE a counter\na_total 1 # {t=\"" + strings.Repeat("x", 127) + "\"} 1\n# EOF\n", accepted},
	{"exemplar characters, not bytes", "Exemplars", "# TYPE a counter\na_total 1 # {t=\"" + strings.Repeat("€", 127) + "\"} 1\n# EOF\n", accepted},
	{"exemplar on a gaugehistogram bucket", "Exemplars", "# TYPE a gaugehistogram\na_bucket{le=\"+Inf\"} 1 # {t=\"1\"} 0.5\na_gcount 1\na_gsum 0.5\n# EOF\n", accepted},
	{"MetricPoints of one Metric", "Metric", "# TYPE a counter\na_total 1 1\na_created 0 1\na_total 2 2\na_created 0 2\n# EOF\n", accepted},
	{"histogram MetricPoints at two times", "Metric", "# TYPE a histogram\na_bucket{le=\"+Inf\"} 1 1\na_count 1 1\na_sum 1 1\na_bucket{le=\"+Inf\"} 2 2\na_count 2 2\na_sum 2 2\n# EOF\n", accepted},
	{"complete types", "Metric types", "# TYPE a counter\n# UNIT a \na_total 1\na_created 1\n" +
		"# TYPE b histogram\nb_bucket{le=\"-1\"} 0\nb_bucket{le=\"+Inf\"} 1\nb_created 1\n" + // _count only with _sum
		"# TYPE bb histogram\nbb_bucket{le=\"1\"} 0\nbb_bucket{le=\"+Inf\"} 1\nbb_count 1\nbb_sum 1.5\nbb_created 1\n" +
		"# TYPE c gaugehistogram\nc_bucket{le=\"-1\"} 1\nc_bucket{le=\"+Inf\"} 1\nc_gcount 1\nc_gsum -1\n" +
		"# TYPE d summary\nd{quantile=\"0\"} NaN\nd{quantile=\"1\"} 1\nd_count 1\nd_sum 1\n" +
		"# TYPE e stateset\ne{e=\"x\"} 1\ne{e=\"y\"} 0\n# TYPE f info\nf_info{v=\"1\"} 1\n# TYPE g unknown\ng 1\n# EOF\n", accepted},
	{"info timestamps in any order", "Info", "# TYPE a info\na_info{v=\"1\"} 1 2\na_info{v=\"2\"} 1 1\n# EOF\n", accepted},
}

// TestOpenMetricsRules checks each OpenMetrics rule's case: the whole error,
// or that a body the spec allows is accepted. Each case runs with every
// family kept and with every family dropped: a body is valid or not as a
// whole.
func TestOpenMetricsRules(t *testing.T) {
	names := map[string]bool{}
	for _, tc := range omCases {
		if names[tc.name] {
			t.Fatalf("two cases named %q", tc.name)
		}
		names[tc.name] = true
		if tc.want != accepted && !strings.Contains(tc.want, "(OpenMetrics: ") && !strings.Contains(tc.want, "invalid ") {
			t.Errorf("%s: the error does not cite the rule: %s", tc.name, tc.want)
		}
		for _, keep := range []KeepFunc{nil, func([]byte) bool { return false }} {
			_, _, err := parseAll(t, tc.body, FormatOpenMetrics, keep, Limits{})
			got := accepted
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("%s (%s), keep all %v: body %q:\ngot  %s\nwant %s", tc.name, tc.spec, keep == nil, tc.body, got, tc.want)
			}
		}
	}
}

// referenceVerdicts runs bodies through prometheus_client's OpenMetrics
// parser (testdata/openmetrics_reference.py) and returns, for each,
// "accepted" or the parser's error.
func referenceVerdicts(t *testing.T, bodies []string) []string {
	t.Helper()
	if err := exec.Command(systemPython, "-c", "import prometheus_client").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("python3-prometheus-client is required in CI: %v", err)
		}
		t.Skipf("Debian's python3-prometheus-client is not installed: %v", err)
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
	if err := json.Unmarshal(out, &ref); err != nil || len(ref) != len(bodies) {
		t.Fatalf("reference parser said %q (%v)", out, err)
	}
	return ref
}

// systemPython is Debian's python3, which has python3-prometheus-client
// (the test command's deps phase installs it).
const systemPython = "/usr/bin/python3"

// TestOpenMetricsRulesAgreeWithPrometheusClient runs every case through
// prometheus_client's OpenMetrics parser, the reference implementation of
// the OpenMetrics test suite, and checks that it accepts and rejects the
// same bodies as we do.
func TestOpenMetricsRulesAgreeWithPrometheusClient(t *testing.T) {
	var bodies []string
	for _, tc := range omCases {
		bodies = append(bodies, tc.body)
	}
	ref := referenceVerdicts(t, bodies)
	for i, tc := range omCases {
		agree := (tc.want == accepted) == (ref[i] == accepted)
		switch {
		case !agree && refDiffers[tc.name] == "":
			t.Errorf("%s: we say %s; prometheus_client says %s", tc.name, tc.want, ref[i])
		case agree && refDiffers[tc.name] != "":
			t.Errorf("%s: prometheus_client now agrees (%s); drop the note that it differs", tc.name, ref[i])
		}
	}
}

// TestOpenMetricsStateAfterAFailedBody: a body that fails part-way leaves
// nothing behind in a reused parser (found by FuzzConvert: a failed body's
// open MetricPoint made the next body's empty counter family an error).
func TestOpenMetricsStateAfterAFailedBody(t *testing.T) {
	var p Parser
	for i, tc := range []struct{ body, want string }{
		{"# TYPE A counter\n# EOF", accepted},
		{"A 0", `line 1: OpenMetrics body does not end with # EOF (truncated body?)`},
		{"# TYPE A counter\n# EOF", accepted},
		{"# TYPE a histogram\na_bucket{le=\"1\"} 1", `line 2: OpenMetrics body does not end with # EOF (truncated body?)`},
		{"# TYPE a histogram\na_bucket{le=\"+Inf\"} 1\n# EOF\n", accepted},
	} {
		p.Reset([]byte(tc.body), FormatOpenMetrics, nil, Limits{})
		got := accepted
		for {
			if _, err := p.Next(); err != nil {
				if !errors.Is(err, io.EOF) {
					got = err.Error()
				}
				break
			}
		}
		if got != tc.want {
			t.Errorf("body %d %q: got %s, want %s", i, tc.body, got, tc.want)
		}
	}
}
