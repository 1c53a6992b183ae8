package convert

import (
	"slices"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/promtext"
)

func TestRestoreSGLangName(t *testing.T) {
	for in, want := range map[string]string{
		"sglang_num_running_reqs":    "sglang:num_running_reqs",
		"sglang_prompt_tokens_total": "sglang:prompt_tokens_total",
		"sglang:num_running_reqs":    "sglang:num_running_reqs",
		"sglang_":                    "sglang:",
		"sglang":                     "sglang",
		"dynamo_component_requests":  "dynamo_component_requests",
		"xsglang_a":                  "xsglang_a",
	} {
		dst := []byte("stale")
		if got := string(RestoreSGLangName(dst[:0], []byte(in))); got != want {
			t.Errorf("RestoreSGLangName(%q) = %q, want %q", in, got, want)
		}
	}
}

// restoring is a Converter as the receiver builds it by default.
func restoring() *Converter {
	return New(Options{Keep: keepOursRestored, FamilyName: RestoreSGLangName})
}

// TestRestoredNames: a family printed as `sglang_x` on HELP, TYPE and
// samples comes out under `sglang:x`, with the suffix rules applied to the
// restored name, and its labels as they were.
func TestRestoredNames(t *testing.T) {
	body := `# HELP sglang_num_running_reqs Running.
# TYPE sglang_num_running_reqs gauge
sglang_num_running_reqs{ReplicaId="r1",model_name="m"} 3
# TYPE sglang_prompt_tokens counter
sglang_prompt_tokens_total{ReplicaId="r1"} 7
# TYPE sglang_ttft_seconds histogram
sglang_ttft_seconds_bucket{ReplicaId="r1",le="1"} 1
sglang_ttft_seconds_bucket{ReplicaId="r1",le="+Inf"} 2
sglang_ttft_seconds_sum{ReplicaId="r1"} 1.5
sglang_ttft_seconds_count{ReplicaId="r1"} 2
untyped_other 1
`
	want := []string{
		"sglang:num_running_reqs Gauge map[ReplicaId:r1 model_name:m] [3]",
		"sglang:prompt_tokens_total Sum map[ReplicaId:r1] [7]",
		"sglang:ttft_seconds Histogram map[ReplicaId:r1] [2 1.5 [1] [1 1]]",
	}
	tg := restoring()
	for i := range 2 { // the second body is answered by the line cache
		ms, err := convert(t, tg, body, promtext.FormatText, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := livePoints(ms); !slices.Equal(got, want) {
			t.Fatalf("body %d:\n%v\nwant\n%v", i, got, want)
		}
	}

	// Verbatim, as with restore_sglang_names: false and a `sglang_` prefix.
	verbatim := New(Options{Keep: keepOursRestored})
	ms, err := convert(t, verbatim, body, promtext.FormatText, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := livePoints(ms); len(got) != 3 || got[0][:len("sglang_num_running_reqs ")] != "sglang_num_running_reqs " {
		t.Fatalf("verbatim names changed: %v", got)
	}
}

// TestRestoredNameCreated: the `_created` of a restored family dates the
// restored metric, in the text format (a gauge family of its own) and in
// OpenMetrics (a sample of the family).
func TestRestoredNameCreated(t *testing.T) {
	for _, tc := range []struct {
		name   string
		body   string
		format promtext.Format
	}{
		{"text counter", "# TYPE sglang_c_total counter\nsglang_c_total{m=\"a\"} 3\n# TYPE sglang_c_created gauge\nsglang_c_created{m=\"a\"} 1764000000.5\n", promtext.FormatText},
		{"openmetrics counter", "# TYPE sglang_c counter\nsglang_c_total{m=\"a\"} 3\nsglang_c_created{m=\"a\"} 1764000000.5\n# EOF\n", promtext.FormatOpenMetrics},
		{"text histogram", "# TYPE sglang_h histogram\nsglang_h_bucket{le=\"+Inf\"} 3\nsglang_h_count 3\nsglang_h_sum 1\n# TYPE sglang_h_created gauge\nsglang_h_created 1764000000.5\n", promtext.FormatText},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := convert(t, restoring(), tc.body, tc.format, 1)
			if err != nil {
				t.Fatal(err)
			}
			if ms.Len() != 1 {
				t.Fatalf("want one metric, got %v", livePoints(ms))
			}
			m := ms.At(0)
			var start uint64
			switch m.Type() {
			case pmetric.MetricTypeSum:
				if m.Name() != "sglang:c_total" {
					t.Fatalf("name %q", m.Name())
				}
				start = uint64(m.Sum().DataPoints().At(0).StartTimestamp())
			case pmetric.MetricTypeHistogram:
				if m.Name() != "sglang:h" {
					t.Fatalf("name %q", m.Name())
				}
				start = uint64(m.Histogram().DataPoints().At(0).StartTimestamp())
			default:
				t.Fatalf("type %v", m.Type())
			}
			if start != 1764000000500000000 {
				t.Fatalf("start %d", start)
			}
		})
	}
}

// TestBothFormsOneSeries: a body carrying a series in both forms yields it
// once, the first occurrence winning, also when the second body is
// answered from the line cache.
func TestBothFormsOneSeries(t *testing.T) {
	body := `# TYPE sglang:g gauge
sglang:g{a="1"} 1
# TYPE sglang_g gauge
sglang_g{a="1"} 2
sglang_g{a="2"} 5
# TYPE sglang_c_total counter
sglang_c_total 10
# TYPE sglang:c_total counter
sglang:c_total 11
# TYPE sglang:h histogram
sglang:h_bucket{le="1"} 1
sglang:h_bucket{le="+Inf"} 2
sglang:h_count 2
sglang:h_sum 3
# TYPE sglang_h histogram
sglang_h_bucket{le="1"} 2
sglang_h_bucket{le="+Inf"} 4
sglang_h_count 4
sglang_h_sum 6
`
	want := []string{
		"sglang:c_total Sum map[] [10]",
		"sglang:g Gauge map[a:1] [1]",
		"sglang:g Gauge map[a:2] [5]",
		"sglang:h Histogram map[] [2 3 [1] [1 1]]",
	}
	tg := restoring()
	for i := range 3 {
		ms, err := convert(t, tg, body, promtext.FormatText, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := livePoints(ms); !slices.Equal(got, want) {
			t.Fatalf("body %d:\n%v\nwant\n%v", i, got, want)
		}
		if ms.Len() != 3 {
			t.Fatalf("body %d: %d metrics, want 3", i, ms.Len())
		}
	}
}

// TestRestoreAllocatesNothing: restoring names costs no allocation per
// body once the converter has seen the body: a body in the `sglang_` form
// allocates no more with restore than the same body without it.
func TestRestoreAllocatesNothing(t *testing.T) {
	body := []byte(`# TYPE sglang_g gauge
sglang_g{a="1"} 1
# TYPE sglang_c counter
sglang_c_total 10
# TYPE sglang_h histogram
sglang_h_bucket{le="1"} 1
sglang_h_bucket{le="+Inf"} 2
sglang_h_count 2
sglang_h_sum 3
`)
	allocs := func(tg *Converter) float64 {
		if _, err := tg.Convert(body, promtext.FormatText, 1, pmetric.NewMetricSlice()); err != nil {
			t.Fatal(err)
		}
		return testing.AllocsPerRun(50, func() {
			if _, err := tg.Convert(body, promtext.FormatText, 2, pmetric.NewMetricSlice()); err != nil {
				t.Fatal(err)
			}
		})
	}
	verbatim := allocs(New(Options{Keep: keepOursRestored}))
	restored := allocs(restoring())
	if restored > verbatim {
		t.Fatalf("%v allocations per body with restore, %v without", restored, verbatim)
	}
}
