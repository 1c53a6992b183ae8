package promtext

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// malformedHead puts the line under test of a text case on line 3, after a
// family that parsed fine.
const malformedHead = "# TYPE sglang:g gauge\nsglang:g 1\n"

// accepted is the want of a body that must parse without error.
const accepted = "accepted"

// malformedCase is one body and what the parser must say about it: the whole
// error string, line number, reason and quoted start of the line, as
// Prometheus's model/textparse tests pin theirs.
type malformedCase struct {
	name   string
	format Format
	limits Limits
	body   string
	want   string // err.Error(), or accepted
}

var malformedCases = []malformedCase{
	// Sample lines, text format.
	{name: "bad metric name", format: FormatText, body: malformedHead + "1sglang 1\n",
		want: `line 3: invalid metric name: "1sglang 1"`},
	{name: "quoted name", format: FormatText, body: malformedHead + "{\"sglang.x\"} 1\n",
		want: `line 3: quoted UTF-8 metric names are not supported: "{\"sglang.x\"} 1"`},
	{name: "binary garbage", format: FormatText, body: malformedHead + "\x00\x01\xff\xfe\n",
		want: `line 3: invalid metric name: "\x00\x01\xff\xfe"`},
	{name: "missing value", format: FormatText, body: malformedHead + "sglang:g\n",
		want: `line 3: expected a space before the value: "sglang:g"`},
	{name: "value glued to the label set", format: FormatText, body: malformedHead + "sglang:g{a=\"b\"}1\n",
		want: `line 3: expected a space before the value: "sglang:g{a=\"b\"}1"`},
	{name: "bad value", format: FormatText, body: malformedHead + "sglang:g one\n",
		want: `line 3: invalid value "one": "sglang:g one"`},
	{name: "digit separator in value", format: FormatText, body: malformedHead + "sglang:g 1_000\n",
		want: `line 3: invalid value "1_000": "sglang:g 1_000"`},
	{name: "bad timestamp", format: FormatText, body: malformedHead + "sglang:g 1 soon\n",
		want: `line 3: invalid timestamp "soon": "sglang:g 1 soon"`},
	{name: "float timestamp", format: FormatText, body: malformedHead + "sglang:g 1 1764000000.5\n",
		want: `line 3: invalid timestamp "1764000000.5": "sglang:g 1 1764000000.5"`},
	{name: "exemplar in text format", format: FormatText, body: malformedHead + "sglang:g 1 # {a=\"b\"} 1\n",
		want: `line 3: invalid timestamp "#": "sglang:g 1 # {a=\"b\"} 1"`},
	{name: "no final newline", format: FormatText, body: malformedHead + "sglang:g 1",
		want: `line 3: last line does not end with a newline (truncated body?): "sglang:g 1"`},
	{name: "long line is quoted up to 80 bytes", format: FormatText, body: malformedHead + "sglang:g{a=\"" + strings.Repeat("x", 100) + "\"} one\n",
		want: `line 3: invalid value "one": "sglang:g{a=\"` + strings.Repeat("x", 68) + `"`},

	// Label sets, text format.
	{name: "unterminated value", format: FormatText, body: malformedHead + "sglang:g{a=\"b} 1\n",
		want: `line 3: unterminated label value: "sglang:g{a=\"b} 1"`},
	{name: "unterminated label set", format: FormatText, body: malformedHead + "sglang:g{a=\"b\" 1\n",
		want: `line 3: unterminated label set: "sglang:g{a=\"b\" 1"`},
	{name: "two label sets", format: FormatText, body: malformedHead + "sglang:g{a=\"b\"}{c=\"d\"} 1\n",
		want: `line 3: unexpected text after the label set: "sglang:g{a=\"b\"}{c=\"d\"} 1"`},
	{name: "bad label name", format: FormatText, body: malformedHead + "sglang:g{1a=\"b\"} 1\n",
		want: `line 3: invalid label name: "sglang:g{1a=\"b\"} 1"`},
	{name: "empty label name", format: FormatText, body: malformedHead + "sglang:g{=\"b\"} 1\n",
		want: `line 3: invalid label name: "sglang:g{=\"b\"} 1"`},
	{name: "unquoted value", format: FormatText, body: malformedHead + "sglang:g{a=b} 1\n",
		want: `line 3: expected =" after label name "a": "sglang:g{a=b} 1"`},
	{name: "duplicate label", format: FormatText, body: malformedHead + "sglang:g{a=\"1\",a=\"2\"} 1\n",
		want: `line 3: duplicate label "a": "sglang:g{a=\"1\",a=\"2\"} 1"`},
	{name: "duplicate label in a large set", format: FormatText, body: malformedHead + manyLabels(17) + ",l3=\"w\"} 1\n",
		want: `line 3: duplicate label "l3": "` + strings.ReplaceAll(manyLabels(17)[:80], `"`, `\"`) + `"`},
	{name: "invalid utf8 label", format: FormatText, body: malformedHead + "sglang:g{a=\"\xff\xfe\"} 1\n",
		want: `line 3: label value is not valid UTF-8: "sglang:g{a=\"\xff\xfe\"} 1"`},
	{name: "missing comma", format: FormatText, body: malformedHead + "sglang:g{a=\"1\" b=\"2\"} 1\n",
		want: `line 3: expected , or } after label value: "sglang:g{a=\"1\" b=\"2\"} 1"`},

	// Metadata, text format.
	{name: "unknown type", format: FormatText, body: "# TYPE sglang:g weird\n",
		want: `line 1: unknown metric type "weird": "# TYPE sglang:g weird"`},
	{name: "OpenMetrics-only type", format: FormatText, body: "# TYPE sglang:i info\n",
		want: `line 1: unknown metric type "info": "# TYPE sglang:i info"`},
	{name: "bad type name", format: FormatText, body: "# TYPE 9x gauge\n",
		want: `line 1: invalid metric name in # TYPE: "# TYPE 9x gauge"`},
	{name: "bad help name", format: FormatText, body: "# HELP sglang:g-x Help.\n",
		want: `line 1: invalid metric name in # HELP: "# HELP sglang:g-x Help."`},
	{name: "bad help utf8", format: FormatText, body: malformedHead + "# HELP sglang:g \xff\n",
		want: `line 3: HELP text is not valid UTF-8: "# HELP sglang:g \xff"`},

	// Bounds, text format.
	{name: "bucket without le", format: FormatText, body: "# TYPE sglang:h histogram\nsglang:h_bucket{a=\"b\"} 1\n",
		want: `line 2: missing le label: "sglang:h_bucket{a=\"b\"} 1"`},
	{name: "bad le", format: FormatText, body: "# TYPE sglang:h histogram\nsglang:h_bucket{le=\"x\"} 1\n",
		want: `line 2: invalid le label value "x": "sglang:h_bucket{le=\"x\"} 1"`},
	{name: "NaN le", format: FormatText, body: "# TYPE sglang:h histogram\nsglang:h_bucket{le=\"NaN\"} 1\n",
		want: `line 2: invalid le label value "NaN": "sglang:h_bucket{le=\"NaN\"} 1"`},
	{name: "quantile missing", format: FormatText, body: "# TYPE sglang:s summary\nsglang:s{a=\"b\"} 1\n",
		want: `line 2: missing quantile label: "sglang:s{a=\"b\"} 1"`},
	{name: "bad quantile", format: FormatText, body: "# TYPE sglang:s summary\nsglang:s_sum 1\nsglang:s{quantile=\"high\"} 1\n",
		want: `line 3: invalid quantile label value "high": "sglang:s{quantile=\"high\"} 1"`},

	// Limits.
	{name: "too many labels", format: FormatText, limits: Limits{MaxLabels: 1}, body: malformedHead + "sglang:g{a=\"1\",b=\"2\"} 1\n",
		want: `line 3: more than 1 labels: "sglang:g{a=\"1\",b=\"2\"} 1"`},
	{name: "label name too long", format: FormatText, limits: Limits{MaxLabelNameLen: 3}, body: malformedHead + "sglang:g{abcd=\"1\"} 1\n",
		want: `line 3: label name longer than 3 bytes: "sglang:g{abcd=\"1\"} 1"`},
	{name: "label value too long", format: FormatOpenMetrics, limits: Limits{MaxLabelValueLen: 4}, body: "sglang:g{a=\"12345\"} 1\n# EOF\n",
		want: `line 1: label "a" value longer than 4 bytes: "sglang:g{a=\"12345\"} 1"`},
	{name: "too many samples", format: FormatText, limits: Limits{MaxSamples: 1}, body: malformedHead + "sglang:g 2\n",
		want: `line 3: sample limit exceeded: more than 1 samples kept: "sglang:g 2"`},

	// The text format allows what these lines do: blanks and tabs between
	// tokens, leading and trailing whitespace, and comments other than HELP
	// and TYPE (`# UNIT` is OpenMetrics only); and takes floats as
	// Prometheus does, without hexadecimal ones.
	{name: "tab before the value", format: FormatText, body: malformedHead + "sglang:g\t1\n",
		want: accepted},
	{name: "leading blank", format: FormatText, body: malformedHead + " sglang:g 1\n",
		want: accepted},
	{name: "text after the timestamp", format: FormatText, body: malformedHead + "sglang:g 1 1764000000000 x\n",
		want: `line 3: unexpected text after the timestamp: "sglang:g 1 1764000000000 x"`},
	{name: "blank after the timestamp", format: FormatText, body: malformedHead + "sglang:g 1 1764000000000 \n",
		want: accepted},
	{name: "UNIT is a plain comment in text", format: FormatText, body: "# UNIT 9x seconds\n",
		want: accepted},
	{name: "hexadecimal float value", format: FormatText, body: malformedHead + "sglang:g 0x1p-3\n",
		want: `line 3: invalid value "0x1p-3": "sglang:g 0x1p-3"`},

	// OpenMetrics: the body as a whole.
	{name: "om empty body", format: FormatOpenMetrics, body: "",
		want: `OpenMetrics body does not end with # EOF (truncated body?)`},
	{name: "om without eof", format: FormatOpenMetrics, body: "sglang:g 1\n",
		want: `line 1: OpenMetrics body does not end with # EOF (truncated body?)`},
	{name: "om after eof", format: FormatOpenMetrics, body: "# EOF\nsglang:g 1\n",
		want: `line 2: content after # EOF: "sglang:g 1"`},
	{name: "om empty line", format: FormatOpenMetrics, body: "sglang:g 1\n\n# EOF\n",
		want: `line 2: empty line`},

	// OpenMetrics: comments and metadata.
	{name: "om free comment", format: FormatOpenMetrics, body: "# just a comment\n# EOF\n",
		want: `line 1: invalid comment: "# just a comment"`},
	{name: "om comment without a space", format: FormatOpenMetrics, body: "#TYPE sglang:g gauge\n# EOF\n",
		want: `line 1: invalid comment: "#TYPE sglang:g gauge"`},
	{name: "om untyped keyword", format: FormatOpenMetrics, body: "# TYPE sglang:g untyped\n# EOF\n",
		want: `line 1: unknown metric type "untyped": "# TYPE sglang:g untyped"`},
	{name: "om type missing", format: FormatOpenMetrics, body: "# TYPE sglang:g\n# EOF\n",
		want: `line 1: # TYPE without a space after the name (OpenMetrics: ABNF): "# TYPE sglang:g"`},
	{name: "om tab in TYPE", format: FormatOpenMetrics, body: "# TYPE sglang:g\tgauge\n# EOF\n",
		want: `line 1: invalid metric name in # TYPE: "# TYPE sglang:g\tgauge"`},
	{name: "om bad help name", format: FormatOpenMetrics, body: "# HELP 9x Help.\n# EOF\n",
		want: `line 1: invalid metric name in # HELP: "# HELP 9x Help."`},
	{name: "om bad unit name", format: FormatOpenMetrics, body: "# UNIT sglang:g-x seconds\n# EOF\n",
		want: `line 1: invalid metric name in # UNIT: "# UNIT sglang:g-x seconds"`},
	{name: "om bad help utf8", format: FormatOpenMetrics, body: "# TYPE sglang:g gauge\n# HELP sglang:g \xc3\x28\n# EOF\n",
		want: `line 2: HELP text is not valid UTF-8: "# HELP sglang:g \xc3("`},

	// OpenMetrics: sample lines.
	{name: "om bad metric name", format: FormatOpenMetrics, body: "1sglang 1\n# EOF\n",
		want: `line 1: invalid metric name: "1sglang 1"`},
	{name: "om quoted name", format: FormatOpenMetrics, body: "{\"sglang.x\"} 1\n# EOF\n",
		want: `line 1: quoted UTF-8 metric names are not supported: "{\"sglang.x\"} 1"`},
	// A sample name that fits no suffix of the family starts a family of
	// its own (OpenMetrics: MetricFamily), as in the text format.
	{name: "om foreign suffix", format: FormatOpenMetrics, body: "# TYPE sglang:c counter\nsglang:c_foo 1\n# EOF\n",
		want: accepted},
	{name: "om histogram sample without suffix", format: FormatOpenMetrics, body: "# TYPE sglang:h histogram\nsglang:h 1\n# EOF\n",
		want: `line 2: family "sglang:h" repeats the name of an earlier family: a family's lines must be together (OpenMetrics: MetricFamily): "sglang:h 1"`},
	{name: "om missing value", format: FormatOpenMetrics, body: "sglang:g\n# EOF\n",
		want: `line 1: expected a space before the value: "sglang:g"`},
	{name: "om two spaces", format: FormatOpenMetrics, body: "sglang:g  1\n# EOF\n",
		want: `line 1: invalid value "": "sglang:g  1"`},
	{name: "om bad value", format: FormatOpenMetrics, body: "sglang:g true\n# EOF\n",
		want: `line 1: invalid value "true": "sglang:g true"`},
	{name: "om bad timestamp", format: FormatOpenMetrics, body: "sglang:g 1 1z\n# EOF\n",
		want: `line 1: invalid timestamp "1z": "sglang:g 1 1z"`},
	{name: "om NaN timestamp", format: FormatOpenMetrics, body: "sglang:g 1 NaN\n# EOF\n",
		want: `line 1: invalid timestamp "NaN": "sglang:g 1 NaN"`},
	{name: "om blank after the timestamp", format: FormatOpenMetrics, body: "sglang:g 1 2 \n# EOF\n",
		want: `line 1: unexpected text after the value: "sglang:g 1 2 "`},
	{name: "om two timestamps", format: FormatOpenMetrics, body: "sglang:g 1 1 1\n# EOF\n",
		want: `line 1: unexpected text after the value: "sglang:g 1 1 1"`},
	{name: "om text after value", format: FormatOpenMetrics, body: "# TYPE sglang:c counter\nsglang:c_total 1 # trace\n# EOF\n",
		want: `line 2: unexpected text after the value: "sglang:c_total 1 # trace"`},
	{name: "om last line without newline is still parsed", format: FormatOpenMetrics, body: "sglang:g 1\nsglang:g x",
		want: `line 2: invalid value "x": "sglang:g x"`},

	// OpenMetrics: label sets.
	{name: "om unterminated label set", format: FormatOpenMetrics, body: "sglang:g{a=\"b\" 1\n# EOF\n",
		want: `line 1: unterminated label set: "sglang:g{a=\"b\" 1"`},
	{name: "om unterminated label set with #", format: FormatOpenMetrics, body: "sglang:g{a=\"#\" 1\n# EOF\n",
		want: `line 1: unterminated label set: "sglang:g{a=\"#\" 1"`},
	{name: "om two label sets", format: FormatOpenMetrics, body: "sglang:g{a=\"b\"}{c=\"d\"} 1\n# EOF\n",
		want: `line 1: unexpected text after the label set: "sglang:g{a=\"b\"}{c=\"d\"} 1"`},
	{name: "om blank in label set", format: FormatOpenMetrics, body: "sglang:g{a=\"1\", b=\"2\"} 1\n# EOF\n",
		want: `line 1: invalid label name: "sglang:g{a=\"1\", b=\"2\"} 1"`},
	{name: "om single quotes", format: FormatOpenMetrics, body: "sglang:g{b='c'} 1\n# EOF\n",
		want: `line 1: expected =" after label name "b": "sglang:g{b='c'} 1"`},
	{name: "om missing comma", format: FormatOpenMetrics, body: "sglang:g{b=\"c\"d=\"e\"} 1\n# EOF\n",
		want: `line 1: expected , or } after label value: "sglang:g{b=\"c\"d=\"e\"} 1"`},
	{name: "om invalid utf8 label", format: FormatOpenMetrics, body: "sglang:g{b=\"\xff\"} 1\n# EOF\n",
		want: `line 1: label value is not valid UTF-8: "sglang:g{b=\"\xff\"} 1"`},
	{name: "om unterminated value", format: FormatOpenMetrics, body: "sglang:g{a=\"b} 1\n# EOF\n",
		want: `line 1: unterminated label value: "sglang:g{a=\"b} 1"`},
	{name: "om duplicate label", format: FormatOpenMetrics, body: "sglang:g{a=\"1\",a=\"2\"} 1\n# EOF\n",
		want: `line 1: duplicate label "a": "sglang:g{a=\"1\",a=\"2\"} 1"`},
	{name: "om bucket without le", format: FormatOpenMetrics, body: "# TYPE sglang:h histogram\nsglang:h_bucket 1\n# EOF\n",
		want: `line 2: missing le label: "sglang:h_bucket 1"`},

	// OpenMetrics: exemplars.
	{name: "om bad exemplar", format: FormatOpenMetrics, body: "# TYPE sglang:c counter\nsglang:c_total 1 # {a=\"b\"} x\n# EOF\n",
		want: `line 2: invalid exemplar: "sglang:c_total 1 # {a=\"b\"} x"`},
	{name: "om exemplar without value", format: FormatOpenMetrics, body: "# TYPE sglang:c counter\nsglang:c_total 1 # {a=\"b\"}\n# EOF\n",
		want: `line 2: invalid exemplar: "sglang:c_total 1 # {a=\"b\"}"`},
	{name: "om unterminated exemplar label set", format: FormatOpenMetrics, body: "# TYPE sglang:c counter\nsglang:c_total 1 # {a=\"b\"\n# EOF\n",
		want: `line 2: unterminated label set: "sglang:c_total 1 # {a=\"b\""`},
	{name: "om exemplar label unquoted", format: FormatOpenMetrics, body: "# TYPE sglang:c counter\nsglang:c_total 1 # {aa=bb}\n# EOF\n",
		want: `line 2: expected =" after label name "aa": "sglang:c_total 1 # {aa=bb}"`},
	{name: "om exemplar duplicate label", format: FormatOpenMetrics, body: "# TYPE sglang:c counter\nsglang:c_total{a=\"1\"} 1 # {b=\"1\",b=\"2\"} 1\n# EOF\n",
		want: `line 2: duplicate label "b": "sglang:c_total{a=\"1\"} 1 # {b=\"1\",b=\"2\"} 1"`},
	{name: "om exemplar with a third number", format: FormatOpenMetrics, body: "# TYPE sglang:c counter\nsglang:c_total 1 # {a=\"b\"} 1 2 3\n# EOF\n",
		want: `line 2: invalid exemplar: "sglang:c_total 1 # {a=\"b\"} 1 2 3"`},
	{name: "om exemplar NaN timestamp", format: FormatOpenMetrics, body: "# TYPE sglang:c counter\nsglang:c_total 1 # {a=\"b\"} 1 NaN\n# EOF\n",
		want: `line 2: invalid exemplar: "sglang:c_total 1 # {a=\"b\"} 1 NaN"`},
}

// manyLabels is the start of a sample line with n labels l0="v" ... .
func manyLabels(n int) string {
	var b strings.Builder
	b.WriteString("sglang:g{")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("l" + strconv.Itoa(i) + `="v"`)
	}
	return b.String()
}

// parseMalformed parses a case's body to its end and says how it ended.
func parseMalformed(t *testing.T, tc malformedCase) (string, *Error) {
	t.Helper()
	_, _, err := parseAll(t, tc.body, tc.format, nil, tc.limits)
	if err == nil {
		return accepted, nil
	}
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("got %v (%T), want a *Error", err, err)
	}
	return err.Error(), pe
}

// TestMalformed pins the whole error for each kind of invalid line.
func TestMalformed(t *testing.T) {
	names := map[string]bool{}
	for _, tc := range malformedCases {
		if names[tc.name] {
			t.Fatalf("two cases named %q", tc.name)
		}
		names[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			got, _ := parseMalformed(t, tc)
			if got != tc.want {
				t.Errorf("%s body %q:\ngot  %s\nwant %s", tc.format, tc.body, got, tc.want)
			}
		})
	}
}

// TestMalformedCoversEveryReason: every reason the parser's source can give
// (each errAt call and Error literal, read from the source) is produced by
// at least one case of TestMalformed or TestOpenMetricsRules.
func TestMalformedCoversEveryReason(t *testing.T) {
	patterns := reasonPatterns(t)
	if len(patterns) < 30 {
		t.Fatalf("found only %d reasons in the source: %q", len(patterns), patterns)
	}
	var reasons []string
	for _, tc := range malformedCases {
		if _, pe := parseMalformed(t, tc); pe != nil {
			reasons = append(reasons, pe.Reason)
		}
	}
	for _, tc := range omCases {
		if _, pe := parseMalformed(t, malformedCase{name: tc.name, format: FormatOpenMetrics, body: tc.body}); pe != nil {
			reasons = append(reasons, pe.Reason)
		}
	}
	for _, p := range patterns {
		re := regexp.MustCompile(p)
		covered := false
		for _, r := range reasons {
			if re.MatchString(r) {
				covered = true
				break
			}
		}
		if !covered {
			t.Errorf("no case of TestMalformed produces a reason matching %s", p)
		}
	}
}

// reasonPatterns reads the package's source and returns, as anchored
// regular expressions, the reasons given to errAt and in Error literals:
// string literals stand for themselves, %d and %q for what they format,
// anything else for any text.
func reasonPatterns(t *testing.T) []string {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var out []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var reason ast.Expr
			switch n := n.(type) {
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "errAt" && len(n.Args) == 2 {
					reason = n.Args[1]
				}
			case *ast.CompositeLit:
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == "Error" {
					for _, e := range n.Elts {
						if kv, ok := e.(*ast.KeyValueExpr); ok && kv.Key.(*ast.Ident).Name == "Reason" {
							reason = kv.Value
						}
					}
				}
			}
			// errAt's own literal passes its argument through: it matches
			// anything and says nothing.
			if reason != nil && reasonPattern(t, reason) != ".*" {
				if p := "^" + reasonPattern(t, reason) + "$"; !seen[p] {
					seen[p] = true
					out = append(out, p)
				}
			}
			return true
		})
	}
	return out
}

func reasonPattern(t *testing.T, e ast.Expr) string {
	switch e := e.(type) {
	case *ast.BasicLit:
		s, err := strconv.Unquote(e.Value)
		if err != nil {
			t.Fatal(err)
		}
		return regexp.QuoteMeta(s)
	case *ast.BinaryExpr:
		if e.Op == token.ADD {
			return reasonPattern(t, e.X) + reasonPattern(t, e.Y)
		}
	case *ast.CallExpr:
		if sel, ok := e.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Sprintf" {
			if lit, ok := e.Args[0].(*ast.BasicLit); ok {
				p := reasonPattern(t, lit)
				p = strings.ReplaceAll(p, "%d", `\d+`)
				return strings.ReplaceAll(p, "%q", `".*"`)
			}
		}
	}
	return ".*"
}
