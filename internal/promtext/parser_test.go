package promtext

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/fuzzcorpus"
)

type parsed struct {
	family string
	typ    Type
	suffix Suffix
	labels string
	bound  float64
	value  float64
	ts     int64
}

func parseAll(t testing.TB, body string, f Format, keep KeepFunc, limits Limits) ([]parsed, Stats, error) {
	var p Parser
	p.Reset([]byte(body), f, keep, limits)
	var out []parsed
	for {
		s, err := p.Next()
		if errors.Is(err, io.EOF) {
			return out, p.Stats(), nil
		}
		if err != nil {
			return out, p.Stats(), err
		}
		if err := p.ParseLabels(); err != nil {
			return out, p.Stats(), err
		}
		var ls []string
		for _, l := range s.Labels {
			ls = append(ls, string(l.Name)+"="+Unescape(l.Value))
		}
		fam := p.Family()
		out = append(out, parsed{string(fam.Name), fam.Type, s.Suffix, strings.Join(ls, ","), s.Bound, s.Value, s.Timestamp})
	}
}

func keepSGLang(name []byte) bool { return bytes.HasPrefix(name, []byte("sglang:")) }

func TestParseText(t *testing.T) {
	body := `# HELP sglang:e2e Latency.
# TYPE sglang:e2e histogram
sglang:e2e_sum{engine_type="unified",model_name="m"} 1.5
sglang:e2e_bucket{engine_type="unified",le="0.1",model_name="m"} 1.0
sglang:e2e_bucket{engine_type="unified",le="+Inf",model_name="m"} 2.0
sglang:e2e_count{engine_type="unified",model_name="m"} 2.0
# TYPE python_gc_objects_collected_total counter
python_gc_objects_collected_total{generation="0"} this is never tokenised
# TYPE sglang:lat summary
sglang:lat{quantile="0.5"} 3 1764000000000
sglang:lat_count 4

sglang:free{a="x\"y\\z\n"} NaN
`
	got, stats, err := parseAll(t, body, FormatText, keepSGLang, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := []parsed{
		{"sglang:e2e", TypeHistogram, SuffixSum, "engine_type=unified,model_name=m", 0, 1.5, 0},
		{"sglang:e2e", TypeHistogram, SuffixBucket, "engine_type=unified,model_name=m", 0.1, 1, 0},
		{"sglang:e2e", TypeHistogram, SuffixBucket, "engine_type=unified,model_name=m", math.Inf(1), 2, 0},
		{"sglang:e2e", TypeHistogram, SuffixCount, "engine_type=unified,model_name=m", 0, 2, 0},
		{"sglang:lat", TypeSummary, SuffixNone, "", 0.5, 3, 1764000000000},
		{"sglang:lat", TypeSummary, SuffixCount, "", 0, 4, 0},
	}
	if len(got) != len(want)+1 {
		t.Fatalf("got %d samples, want %d: %+v", len(got), len(want)+1, got)
	}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("sample %d: got %+v, want %+v", i, got[i], w)
		}
	}
	last := got[len(got)-1]
	if last.family != "sglang:free" || last.typ != TypeUnknown || last.labels != "a=x\"y\\z\n" || !math.IsNaN(last.value) {
		t.Errorf("untyped sample: %+v", last)
	}
	if stats.Samples != 8 || stats.KeptSamples != 7 {
		t.Errorf("stats %+v, want 8 samples, 7 kept", stats)
	}
}

func TestParseOpenMetrics(t *testing.T) {
	body := `# TYPE sglang:req_bytes counter
# UNIT sglang:req_bytes bytes
sglang:req_bytes_total 5 1764000000.5 # {trace_id="a"} 1.0 1764000000.0
sglang:req_bytes_created 1764000000.0 1764000000.5
# TYPE sglang:tok gauge
sglang_tok 3
# EOF
`
	got, _, err := parseAll(t, body, FormatOpenMetrics, keepSGLang, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %+v", got)
	}
	if got[0].suffix != SuffixTotal || got[0].ts != 1764000000500 || got[1].suffix != SuffixCreated {
		t.Errorf("counter samples: %+v", got[:2])
	}
	if got[2].family != "sglang:tok" || got[2].value != 3 {
		t.Errorf("escaped sample not restored to its declared family: %+v", got[2])
	}
}

func TestLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		limits Limits
		reason string
	}{
		{"labels", Limits{MaxLabels: 1}, "more than 1 labels"},
		{"name length", Limits{MaxLabelNameLen: 3}, "label name longer than 3 bytes"},
		{"value length", Limits{MaxLabelValueLen: 4}, "value longer than 4 bytes"},
		{"samples", Limits{MaxSamples: 1}, "sample limit exceeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := "sglang:a{abcd=\"12345\",b=\"1\"} 1\nsglang:b 2\n"
			_, _, err := parseAll(t, body, FormatText, nil, tc.limits)
			if err == nil || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("got %v, want %q", err, tc.reason)
			}
		})
	}
	// A dropped family's lines are not held to the limits: they cost
	// nothing and carry nothing.
	if _, _, err := parseAll(t, "python_x{a=\"123456789\"} 1\n", FormatText, keepSGLang, Limits{MaxLabelValueLen: 2}); err != nil {
		t.Fatal(err)
	}
}

// TestLabelSetsAreCheckedAlone: an exemplar's label set is checked for
// duplicates and counted on its own, not together with whatever labels an
// earlier line left behind; and a huge label set (label_limit: 0) finds its
// duplicates by sorting, wherever they are.
func TestLabelSetsAreCheckedAlone(t *testing.T) {
	body := "# TYPE sglang:c counter\nsglang:c_total{trace_id=\"x\"} 1\nsglang:c_total{a=\"b\"} 2 # {trace_id=\"abc\"} 1\n# EOF\n"
	if got, _, err := parseAll(t, body, FormatOpenMetrics, keepSGLang, Limits{MaxLabels: 1}); err != nil || len(got) != 2 {
		t.Fatalf("got %+v, %v", got, err)
	}
	big := func(n int, dup string) string {
		var b strings.Builder
		b.WriteString("sglang:g{")
		for i := range n {
			fmt.Fprintf(&b, "l%d=\"v\",", i)
		}
		b.WriteString(dup + "} 1\n")
		return b.String()
	}
	if got, _, err := parseAll(t, big(100000, ""), FormatText, keepSGLang, Limits{}); err != nil || len(got) != 1 {
		t.Fatalf("100,000 distinct labels: %v", err)
	}
	for _, dup := range []string{"l0=\"w\"", "l99999=\"w\"", "l5=\"w\""} {
		_, _, err := parseAll(t, big(100000, dup), FormatText, keepSGLang, Limits{})
		if err == nil || !strings.Contains(err.Error(), "duplicate label") {
			t.Fatalf("%s: got %v", dup, err)
		}
	}
	if _, _, err := parseAll(t, big(3, "l1=\"w\""), FormatText, keepSGLang, Limits{}); err == nil || !strings.Contains(err.Error(), `duplicate label "l1"`) {
		t.Fatalf("small set: got %v", err)
	}
}

// TestDroppedLinesAreNotTokenised pins the cheap path: a dropped family's
// sample lines are skipped whole, so content the parser would reject in a
// kept family does not fail the body.
func TestDroppedLinesAreNotTokenised(t *testing.T) {
	body := "# TYPE python_gc counter\npython_gc{generation=\"0\" 12 garbage\nsglang:g 1\n"
	got, stats, err := parseAll(t, body, FormatText, keepSGLang, Limits{})
	if err != nil || len(got) != 1 || stats.Samples != 2 {
		t.Fatalf("got %+v %+v %v", got, stats, err)
	}
}

func TestRepeatedDeclarationStartsNewFamilyBlock(t *testing.T) {
	body := "# HELP sglang:g G.\n# TYPE sglang:g gauge\nsglang:g 1\n# HELP sglang:g G.\n# TYPE sglang:g gauge\nsglang:g 2\n"
	var p Parser
	p.Reset([]byte(body), FormatText, nil, Limits{})
	var seqs []uint64
	for {
		_, err := p.Next()
		if err != nil {
			break
		}
		seqs = append(seqs, p.Family().Seq)
	}
	if len(seqs) != 2 || seqs[0] == seqs[1] {
		t.Fatalf("want two family blocks, got seqs %v", seqs)
	}
}

// FuzzParse checks that no input panics or hangs the parser, and that an
// accepted body yields only samples of kept families.
// With dict set, body is read through fuzzcorpus.Expand.
func FuzzParse(f *testing.F) {
	for _, b := range fuzzcorpus.Seeds("../..", 6) {
		om := bytes.HasSuffix(b, []byte("# EOF\n"))
		f.Add(b, om, false)
		f.Add(b, om, true)
	}
	f.Add([]byte("sglang:x{a=\"\\\"\"} 1 2\n"), false, false)
	f.Fuzz(func(t *testing.T, body []byte, om, dict bool) {
		if dict {
			body = fuzzcorpus.Expand(body)
		}
		format := FormatText
		if om {
			format = FormatOpenMetrics
		}
		// A parser reused after another body (as a scrape loop reuses it)
		// parses exactly as a new one: Reset leaves nothing behind.
		var fresh, reused Parser
		plain, plainErr := parseRecords(&fresh, body, format)
		_, _ = parseRecords(&reused, reuseBody, FormatOpenMetrics)
		got, err := parseRecords(&reused, body, format)
		if !slices.Equal(got, plain) || fmt.Sprint(err) != fmt.Sprint(plainErr) {
			t.Fatalf("a reused parser differs from a new one:\n%v %v\n%v %v", plain, plainErr, got, err)
		}
		var p Parser
		p.Reset(body, format, keepSGLang, Limits{MaxLabels: 64})
		for n := 0; ; n++ {
			s, err := p.Next()
			if err != nil || p.ParseLabels() != nil {
				return
			}
			if n > len(body) {
				t.Fatal("more samples than bytes")
			}
			if !keepSGLang(p.Family().Name) {
				t.Fatalf("sample of dropped family %q", p.Family().Name)
			}
			if len(s.Labels) > 64 {
				t.Fatal("label limit not enforced")
			}
		}
	})
}

// record is what one returned sample says, for comparing parses.
type record struct {
	series, family string
	nameLen        int
	suffix         Suffix
	typ            Type
	value          uint64
	ts             int64
	labels         string
}

// reuseBody leaves a parser mid-family, with labels, HELP and an escaped
// name in its buffers, for FuzzParse's reuse check.
var reuseBody = []byte("# TYPE sglang:a histogram\n# HELP sglang:a h\\n\nsglang_a_bucket{le=\"1\",x=\"y\"} 1\n")

// parseRecords parses body with p and records what each kept sample says.
func parseRecords(p *Parser, body []byte, format Format) ([]record, error) {
	p.Reset(body, format, keepSGLang, Limits{MaxLabels: 64})
	var out []record
	for {
		s, err := p.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		r := record{series: string(s.Series), family: string(p.Family().Name), nameLen: s.NameLen, suffix: s.Suffix,
			typ: p.Family().Type, value: math.Float64bits(s.Value), ts: s.Timestamp}
		if err := p.ParseLabels(); err != nil {
			return out, err
		}
		r.labels = fmt.Sprint(s.Labels, s.Bound)
		out = append(out, r)
	}
}

// TestParseFloatMatchesStrconv: the fast path is bit-identical to
// strconv.ParseFloat wherever it applies, and defers to it elsewhere.
func TestParseFloatMatchesStrconv(t *testing.T) {
	// Python's repr of random doubles, and decimals of every length up to
	// twenty digits with the point anywhere: around and past 2^53.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		s := strconv.FormatFloat(rng.Float64()*math.Pow(10, float64(rng.IntN(12)-4)), 'f', -1, 64)
		digits := []byte(strconv.FormatUint(rng.Uint64()>>rng.IntN(64), 10))
		at := rng.IntN(len(digits) + 1)
		d := string(digits[:at]) + "." + string(digits[at:])
		for _, s := range []string{s, d} {
			got, err := parseFloat([]byte(s))
			want, _ := strconv.ParseFloat(s, 64)
			if err != nil || math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("%q: got %v, %v; want %v", s, got, err, want)
			}
		}
	}
	for _, s := range []string{"0", "-0", "1", "1.", ".5", "-.5", "1.0", "849.0", "0.0016200000000000001", "123456789012345",
		"1234567890123456", "0.8543452121268891", "16136396332.0", "1e3", "1.5e-3", "-2.5", "+Inf", "-Inf", "NaN", "007.50",
		"99999999999999.9", "0.000000000000001", "4.35", "0.1", "0.3", "2.675", "1_000", "", "-", ".", "1..2", "1.2.3",
		"9007199254740991", "9007199254740992", "9007199254740993", "0.9007199254740991", "900719925474099.1",
		"0.0000000000000000000001", "0.00000000000000000000001", "1234567890123456789", "12345678901234567890"} {
		got, gerr := parseFloat([]byte(s))
		want, werr := strconv.ParseFloat(s, 64)
		if s == "1_000" {
			werr = strconv.ErrSyntax // Prometheus does not take Go's digit separators
		}
		if (gerr != nil) != (werr != nil) || gerr == nil && math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("%q: got %v, %v; want %v, %v", s, got, gerr, want, werr)
		}
	}
}

// TestEscapes: a backslash before a character other than \, " and n is
// legal text in both formats (OpenMetrics' ABNF: `BS normal-char`), kept as
// written; `\"` is an escape in HELP in OpenMetrics only.
func TestEscapes(t *testing.T) {
	for _, tc := range []struct {
		in, label, textHelp, omHelp string
	}{
		{`plain`, "plain", "plain", "plain"},
		{`a\\b`, `a\b`, `a\b`, `a\b`},
		{`a\nb`, "a\nb", "a\nb", "a\nb"},
		{`a\"b`, `a"b`, `a\"b`, `a"b`},
		{`\z\f\t`, `\z\f\t`, `\z\f\t`, `\z\f\t`},
		{`\\\z`, `\\z`, `\\z`, `\\z`},
		{`end\`, `end\`, `end\`, `end\`},
		{`\€`, `\€`, `\€`, `\€`},
	} {
		if got := Unescape([]byte(tc.in)); got != tc.label {
			t.Errorf("Unescape(%q) = %q, want %q", tc.in, got, tc.label)
		}
		if got := UnescapeHelp([]byte(tc.in), FormatText); got != tc.textHelp {
			t.Errorf("UnescapeHelp(%q, text) = %q, want %q", tc.in, got, tc.textHelp)
		}
		if got := UnescapeHelp([]byte(tc.in), FormatOpenMetrics); got != tc.omHelp {
			t.Errorf("UnescapeHelp(%q, OpenMetrics) = %q, want %q", tc.in, got, tc.omHelp)
		}
	}
	for _, f := range []Format{FormatText, FormatOpenMetrics} {
		body := "# HELP sglang:g h\\z\n# TYPE sglang:g gauge\nsglang:g{a=\"\\z\\f\",b=\"\\\"}\"} 1\n"
		if f == FormatOpenMetrics {
			body += "# EOF\n"
		}
		got, _, err := parseAll(t, body, f, nil, Limits{})
		if err != nil {
			t.Fatalf("%v: %v", f, err)
		}
		if want := `a=\z\f,b="}`; len(got) != 1 || got[0].labels != want {
			t.Errorf("%v: got %+v, want one sample with labels %s", f, got, want)
		}
	}
}
