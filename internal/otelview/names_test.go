package otelview

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	otelName = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)
	// Units the view may use: UCUM with annotations.
	ucum = regexp.MustCompile(`^(|s|By|MBy|GBy|GBy/s|1|%|\{[a-z_]+\}(/s)?)$`)
	// Unit words the naming rules keep out of names.
	unitInName = regexp.MustCompile(`_(total|seconds|ms|us|ns|bytes|gb|mb|gb_s|percent)$`)
)

// fallbackDiffers are the table's deliberate departures from the fallback
// rule's name, each for a reason the table's comments give.
var fallbackDiffers = map[string]bool{
	"sglang:num_retracted_reqs_total":            true, // the old name of num_retracted_requests_total
	"sglang:lora_pool_slots_total":               true, // a capacity gauge, not a counter
	"sglang:kv_transfer_total_mb":                true, // size per transfer; `_total` is not a counter's
	"sglang:estimated_read_bytes_per_gpu_total":  true, // the unit word inside the name
	"sglang:estimated_write_bytes_per_gpu_total": true,
}

// TestTable checks every entry against the naming rules, and that no two
// sources share a name (other than a rename, which is the point).
func TestTable(t *testing.T) {
	seenSrc, seenName := map[string]bool{}, map[string]string{}
	for _, g := range genAISources {
		seenName[g.Name()] = g.Source
	}
	for _, e := range table {
		assert.Falsef(t, seenSrc[e.Source], "%s listed twice", e.Source)
		seenSrc[e.Source] = true
		assert.Regexpf(t, otelName, e.Name, "%s: name", e.Source)
		assert.NotRegexpf(t, unitInName, e.Name, "%s: unit or _total in the name", e.Source)
		assert.Regexpf(t, ucum, e.Unit, "%s: unit", e.Source)
		if e.Shift != 0 {
			assert.Equalf(t, unitSeconds, e.Unit, "%s: only durations are scaled", e.Source)
		}
		if prev, ok := seenName[e.Name]; ok && !fallbackDiffers[e.Source] {
			t.Errorf("%s and %s are both %s", prev, e.Source, e.Name)
		}
		seenName[e.Name] = e.Source
		if _, ok := genAIByName[e.Source]; ok {
			t.Errorf("%s is a GenAI source and a table entry", e.Source)
		}
		fb := Fallback(e.Source)
		if !fallbackDiffers[e.Source] {
			assert.Equalf(t, fb.Name, e.Name, "%s: the table and the fallback rule disagree on the name", e.Source)
			assert.Equalf(t, fb.Shift, e.Shift, "%s: scale", e.Source)
		}
	}
}

// TestFallback is the fallback rule, case by case.
func TestFallback(t *testing.T) {
	for _, tc := range []struct {
		src, name, unit string
		shift           int
	}{
		{"sglang:new_family_total", "sglang.new_family", "", 0},
		{"sglang:some_tokens_total", "sglang.some_tokens", "{token}", 0},
		{"sglang:queue_reqs", "sglang.queue_reqs", "{request}", 0},
		{"sglang:spill_blocks", "sglang.spill_blocks", "{block}", 0},
		{"sglang:x_tokens_histogram", "sglang.x_tokens_histogram", "{token}", 0},
		{"sglang:stage_seconds", "sglang.stage", "s", 0},
		{"sglang:busy_seconds_total", "sglang.busy", "s", 0},
		{"sglang:kv_wait_ms", "sglang.kv_wait", "s", -3},
		{"dynamo_frontend_detokenize_total_us", "dynamo.frontend.detokenize_total", "s", -6},
		{"dynamo_tokio_worker_mean_poll_time_ns", "dynamo.tokio.worker_mean_poll_time", "s", -9},
		{"dynamo_transport_tcp_bytes_sent_total", "dynamo.transport.tcp_bytes_sent", "", 0},
		{"dynamo_component_request_bytes_total", "dynamo.component.request_size", "By", 0},
		{"sglang:cache_mb", "sglang.cache", "MBy", 0},
		{"sglang:weights_gb", "sglang.weights", "GBy", 0},
		{"sglang:link_gb_s", "sglang.link", "GBy/s", 0},
		{"sglang:hit_ratio", "sglang.hit_ratio", "1", 0},
		{"dynamo_component_gpu_load_percent", "dynamo.component.gpu_load", "%", 0},
		{"dynamo_router_overhead_total_ms", "dynamo.router.overhead_total", "s", -3},
		{"dynamo_kvbm_offload_blocks_total", "dynamo.kvbm_offload_blocks", "{block}", 0},
		{"dynamo_component_kv_cache_events_applied", "dynamo.component.kv_cache_events_applied", "", 0},
		{"sglang:max_running_requests_under_SLO", "sglang.max_running_requests_under_slo", "", 0},
		{"sglang:http_response_size_bytes", "sglang.http_response_size", "By", 0},
		{"vllm:num_requests_running", "vllm.num_requests_running", "", 0},
		{"python_gc_objects_collected_total", "python_gc_objects_collected", "", 0},
		{"sglang:_ms", "sglang._ms", "", 0},
	} {
		got := Fallback(tc.src)
		assert.Equal(t, Mapping{Source: tc.src, Name: tc.name, Unit: tc.unit, Shift: tc.shift}, got, tc.src)
	}
}

// TestResolve: the table wins over the fallback.
func TestResolve(t *testing.T) {
	assert.Equal(t, "{routing_key}", Resolve("sglang:routing_keys_active").Unit)
	assert.Equal(t, "", Fallback("sglang:routing_keys_active").Unit)
	assert.Equal(t, Fallback("sglang:brand_new_tokens"), Resolve("sglang:brand_new_tokens"))
}

// TestShiftDecimal: bucket bounds scaled from ms are the doubles a source
// printing seconds would have given.
func TestShiftDecimal(t *testing.T) {
	for _, ms := range []string{"0.5", "1", "2", "2.5", "4", "8", "16", "32", "64", "128", "256", "512", "0.1", "0.3", "1000", "2500", "5000", "0.00001"} {
		var b, want float64
		_, err := fmt.Sscan(ms, &b)
		require.NoError(t, err)
		_, err = fmt.Sscan(ms+"e-3", &want)
		require.NoError(t, err)
		assert.Equal(t, want, ShiftDecimal(b, -3), ms)
	}
	assert.Equal(t, 0.0, ShiftDecimal(0, -3))
}

// renderNames is the table as docs/otel-view.md shows it.
func renderNames() string {
	var b strings.Builder
	b.WriteString("| source | OpenTelemetry name | unit | scaled |\n|---|---|---|---|\n")
	for _, e := range table {
		scaled := ""
		if e.Shift != 0 {
			scaled = fmt.Sprintf("×10^%d", e.Shift)
		}
		unit := e.Unit
		if unit == "" {
			unit = "(none)"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | `%s` | %s |\n", e.Source, e.Name, unit, scaled)
	}
	return b.String()
}

func renderGenAI() string {
	var b strings.Builder
	b.WriteString("| source | GenAI metric | unit | default `gen_ai.provider.name` |\n|---|---|---|---|\n")
	for _, g := range genAISources {
		fmt.Fprintf(&b, "| `%s` | `%s` | `%s` | `%s` |\n", g.Source, g.Name(), g.Unit(), g.Provider)
	}
	return b.String()
}

func renderRanks() string {
	var b strings.Builder
	b.WriteString("| family | in the view |\n|---|---|\n")
	for _, n := range RankRules() {
		fmt.Fprintf(&b, "| `%s` | %s |\n", n, rankRules[n])
	}
	return b.String()
}

const docPath = "../../docs/otel-view.md"

// TestDocsTable keeps docs/otel-view.md's tables equal to the code's:
// each sits between `<!-- BEGIN generated: x -->` and `<!-- END generated:
// x -->`. With -update the sections are rewritten.
func TestDocsTable(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	require.NoError(t, err)
	text := string(doc)
	for _, sec := range []struct{ name, body string }{
		{"names", renderNames()}, {"genai", renderGenAI()}, {"ranks", renderRanks()},
	} {
		begin, end := "<!-- BEGIN generated: "+sec.name+" -->\n", "<!-- END generated: "+sec.name+" -->"
		i, j := strings.Index(text, begin), strings.Index(text, end)
		require.Truef(t, i >= 0 && j > i, "docs/otel-view.md has no %q section", sec.name)
		got := text[i+len(begin) : j]
		if *update {
			text = text[:i+len(begin)] + sec.body + text[j:]
			continue
		}
		assert.Equalf(t, sec.body, got, "docs/otel-view.md's %s table differs from the code: run go test ./internal/otelview -run TestDocsTable -update", sec.name)
	}
	if *update {
		require.NoError(t, os.WriteFile(docPath, []byte(text), 0o644))
	}
}
