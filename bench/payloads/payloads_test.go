package payloads

import (
	"bytes"
	"strings"
	"testing"
)

func TestPyFloat(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0.0", 1: "1.0", 33: "33.0", 0.1: "0.1", 1e-05: "1e-05", 0.0001: "0.0001",
		1234567: "1234567.0", 1e16: "1e+16", 2.5e-7: "2.5e-07",
	} {
		if got := PyFloat(v); got != want {
			t.Errorf("PyFloat(%v) = %q, want %q", v, got, want)
		}
	}
	// The per-stage bounds exactly as prometheus_client prints them
	// (sglang-dynamo-metrics.md §1.5).
	want := "0.001, 0.0016200000000000001, 0.0026244000000000007, 0.004251528, 0.006887475360000002, 0.011157710083200004, 0.018075490334784006, 0.029282294342350097, 0.047437316834607154, 0.07684845327206359, 0.12449449430074302, 0.20168108076720373, 0.3267233508428701, 0.5292918283654495, 0.8574527619520282, 1.389073474362286, 2.2502990284669036, 3.6454844261163837, 5.905684770308542, 9.567209327899839, 15.49887911119774, 25.10818416014034, 40.67525833942735, 65.89391850987231, 106.74814798599316, 172.93199973730896, 280.1498395744405, 453.84274011059364, 735.2252389791618, 1191.064887146242"
	var got []string
	for _, b := range bPerStage {
		got = append(got, PyFloat(b))
	}
	if g := strings.Join(got, ", "); g != want {
		t.Errorf("per-stage bounds:\n got %s\nwant %s", g, want)
	}
}

func TestDeterministic(t *testing.T) {
	for i, p := range All() {
		if q := All()[i]; !bytes.Equal(p.Body, q.Body) {
			t.Errorf("%s differs between two calls", p.Name)
		}
	}
}

func TestShapes(t *testing.T) {
	for _, p := range All() {
		lines, samples, kept := Count(p.Body, "sglang:", "dynamo_")
		t.Logf("%s: %d bytes, %d lines, %d samples, %d kept", p.Name, len(p.Body), lines, samples, kept)
		switch p.Name {
		case "sglang_tp8":
			if samples < 2600 || samples > 3000 || len(p.Body) < 450_000 {
				t.Errorf("sglang_tp8: %d samples, %d bytes", samples, len(p.Body))
			}
		case "mixed":
			if kept*10 > samples || len(p.Body) < 190_000 || len(p.Body) > 240_000 {
				t.Errorf("mixed: %d of %d samples kept, %d bytes", kept, samples, len(p.Body))
			}
		}
		// Multiprocess order: labels sorted, `le` among them.
		if p.Name == "sglang_tp8" && !bytes.Contains(p.Body, []byte(`sglang:per_stage_req_latency_seconds_bucket{engine_type="unified",le="0.0016200000000000001",model_name=`)) {
			t.Error("sglang_tp8: per-stage bucket not printed with sorted labels")
		}
	}
}

func TestOpenMetrics(t *testing.T) {
	for _, p := range All() {
		om := string(OpenMetrics(p.Body))
		if !strings.HasSuffix(om, "\n# EOF\n") {
			t.Errorf("%s: no # EOF", p.Name)
		}
		if strings.Contains(om, "_total counter\n") || strings.Contains(om, " untyped\n") {
			t.Errorf("%s: text 0.0.4 family headers left", p.Name)
		}
	}
}
