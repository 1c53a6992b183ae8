package main

import (
	"compress/gzip"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var testStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newTestSim() *simulation {
	return newSimulation(2, time.Second, 1, testStart, fleetSpec{forms: []nameForm{formColon}})
}

// testServers starts one loopback httptest server per body of sim.
func testServers(t *testing.T, sim *simulation, passthrough bool) map[string]string {
	t.Helper()
	urls := map[string]string{}
	bodies := map[string]func() []byte{
		"engine0":   func() []byte { return sim.engineBody(0) },
		"engine1":   func() []byte { return sim.engineBody(1) },
		"worker0":   func() []byte { return sim.workerBody(0, passthrough) },
		"worker1":   func() []byte { return sim.workerBody(1, passthrough) },
		"frontend0": sim.frontendBody,
	}
	for name, body := range bodies {
		srv := httptest.NewServer(metricsHandler(body))
		t.Cleanup(srv.Close)
		urls[name] = srv.URL
	}
	return urls
}

// fetch GETs url. With gz it asks for gzip itself, so the transport hands
// back the compressed stream untouched and the test sees the real encoding.
func fetch(t *testing.T, url string, gz bool) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func fetchParsed(t *testing.T, url string) exposition {
	t.Helper()
	resp, body := fetch(t, url+"/metrics", false)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", url, resp.StatusCode)
	}
	if got := resp.Header.Get("Content-Type"); got != contentType {
		t.Errorf("Content-Type = %q, want %q", got, contentType)
	}
	return parseExposition(t, body)
}

// A minimal text-format parser: enough to check structure, not a full
// implementation.

type sample struct {
	name   string
	family string
	labels map[string]string
	order  []string // label names as printed
	value  float64
}

// seriesKey identifies a sample ignoring `le`, so buckets group by series.
func (s sample) seriesKey() string {
	var parts []string
	for _, n := range s.order {
		if n != "le" {
			parts = append(parts, n+"="+s.labels[n])
		}
	}
	slices.Sort(parts)
	return s.family + "{" + strings.Join(parts, ",") + "}"
}

func (s sample) key() string { return s.name + s.seriesKey() + s.labels["le"] }

type exposition struct {
	types   map[string]string
	typeSeq []string
	samples []sample
}

func (e exposition) find(name string) []sample {
	var out []sample
	for _, s := range e.samples {
		if s.name == name {
			out = append(out, s)
		}
	}
	return out
}

var sampleSuffixes = map[string][]string{
	"counter":   {""},
	"gauge":     {""},
	"histogram": {"_bucket", "_sum", "_count"},
	"summary":   {"_sum", "_count"},
}

func parseExposition(t *testing.T, body string) exposition {
	t.Helper()
	e := exposition{types: map[string]string{}}
	current := ""
	for i, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "# TYPE "):
			f := strings.Fields(line)
			if len(f) != 4 {
				t.Fatalf("line %d: malformed TYPE: %q", i+1, line)
			}
			if _, dup := e.types[f[2]]; dup {
				t.Fatalf("line %d: family %s declared twice", i+1, f[2])
			}
			current = f[2]
			e.types[current] = f[3]
			e.typeSeq = append(e.typeSeq, current)
		case strings.HasPrefix(line, "# HELP "):
		case line == "" || strings.HasPrefix(line, "#"):
			t.Fatalf("line %d: unexpected line %q", i+1, line)
		default:
			s := parseSample(t, i+1, line)
			if current == "" || !belongsTo(s.name, current, e.types[current]) {
				t.Fatalf("line %d: sample %s not declared by a preceding # TYPE (current family %q)", i+1, s.name, current)
			}
			s.family = current
			e.samples = append(e.samples, s)
		}
	}
	return e
}

func belongsTo(name, family, typ string) bool {
	for _, suffix := range sampleSuffixes[typ] {
		if name == family+suffix {
			return true
		}
	}
	return false
}

func parseSample(t *testing.T, n int, line string) sample {
	t.Helper()
	sp := strings.LastIndexByte(line, ' ')
	if sp < 0 {
		t.Fatalf("line %d: no value: %q", n, line)
	}
	v, err := strconv.ParseFloat(line[sp+1:], 64)
	if err != nil {
		t.Fatalf("line %d: bad value: %q", n, line)
	}
	s := sample{value: v, labels: map[string]string{}}
	head := line[:sp]
	brace := strings.IndexByte(head, '{')
	if brace < 0 {
		s.name = head
		return s
	}
	s.name = head[:brace]
	rest := strings.TrimSuffix(head[brace+1:], "}")
	for rest != "" {
		name, after, ok := strings.Cut(rest, `="`)
		if !ok {
			t.Fatalf("line %d: bad labels: %q", n, line)
		}
		var val strings.Builder
		j := 0
		for ; j < len(after) && after[j] != '"'; j++ {
			if after[j] == '\\' {
				j++
			}
			val.WriteByte(after[j])
		}
		s.labels[name] = val.String()
		s.order = append(s.order, name)
		rest = strings.TrimPrefix(after[j+1:], ",")
	}
	return s
}

// checkHistograms asserts that every histogram series has ascending bounds,
// cumulative non-decreasing counts, and a +Inf bucket equal to _count.
func checkHistograms(t *testing.T, e exposition) {
	t.Helper()
	type hist struct {
		bounds, counts []float64
		count          float64
		hasCount       bool
	}
	hs := map[string]*hist{}
	get := func(k string) *hist {
		if hs[k] == nil {
			hs[k] = &hist{}
		}
		return hs[k]
	}
	for _, s := range e.samples {
		if e.types[s.family] != "histogram" {
			continue
		}
		h := get(s.seriesKey())
		switch s.name {
		case s.family + "_bucket":
			le, err := strconv.ParseFloat(s.labels["le"], 64)
			if err != nil {
				t.Fatalf("%s: bad le %q", s.seriesKey(), s.labels["le"])
			}
			h.bounds = append(h.bounds, le)
			h.counts = append(h.counts, s.value)
		case s.family + "_count":
			h.count, h.hasCount = s.value, true
		}
	}
	if len(hs) == 0 {
		t.Fatal("no histograms found")
	}
	for k, h := range hs {
		if !h.hasCount || len(h.bounds) == 0 {
			t.Errorf("%s: missing _count or buckets", k)
			continue
		}
		for i := 1; i < len(h.bounds); i++ {
			if h.bounds[i] <= h.bounds[i-1] {
				t.Errorf("%s: bounds not ascending at %v", k, h.bounds[i])
			}
			if h.counts[i] < h.counts[i-1] {
				t.Errorf("%s: bucket le=%v count %v < previous %v", k, h.bounds[i], h.counts[i], h.counts[i-1])
			}
		}
		if last := len(h.bounds) - 1; !math.IsInf(h.bounds[last], 1) || h.counts[last] != h.count {
			t.Errorf("%s: last bucket le=%v value %v, want +Inf == _count %v", k, h.bounds[last], h.counts[last], h.count)
		}
	}
}

func TestBodiesAreWellFormed(t *testing.T) {
	sim := newTestSim()
	for i := 0; i < 5; i++ {
		sim.step()
	}
	for name, url := range testServers(t, sim, true) {
		t.Run(name, func(t *testing.T) {
			e := fetchParsed(t, url)
			if len(e.samples) == 0 {
				t.Fatal("empty body")
			}
			checkHistograms(t, e)
		})
	}
}

func TestGzipMatchesPlainBody(t *testing.T) {
	urls := testServers(t, newTestSim(), true)
	for _, name := range []string{"engine0", "worker1", "frontend0"} {
		plainResp, plain := fetch(t, urls[name]+"/metrics", false)
		gzResp, unzipped := fetch(t, urls[name]+"/metrics", true)
		if plainResp.Header.Get("Content-Encoding") != "" {
			t.Errorf("%s: plain response has Content-Encoding %q", name, plainResp.Header.Get("Content-Encoding"))
		}
		if got := gzResp.Header.Get("Content-Encoding"); got != "gzip" {
			t.Errorf("%s: Content-Encoding = %q, want gzip", name, got)
		}
		if unzipped != plain {
			t.Errorf("%s: gzip body differs from plain body", name)
		}
	}
}

func TestCountersGrowAndGaugesMove(t *testing.T) {
	sim := newTestSim()
	urls := testServers(t, sim, true)
	before := map[string]exposition{}
	for name, url := range urls {
		before[name] = fetchParsed(t, url)
	}
	sim.step()
	sim.step()
	gaugeMoved := false
	for name, url := range urls {
		after := fetchParsed(t, url)
		old := map[string]float64{}
		for _, s := range before[name].samples {
			old[s.key()] = s.value
		}
		for _, s := range after.samples {
			prev, seen := old[s.key()]
			if !seen {
				continue // series created by the new traffic
			}
			switch after.types[s.family] {
			case "counter", "histogram", "summary":
				if s.value < prev {
					t.Errorf("%s: %s decreased from %v to %v", name, s.key(), prev, s.value)
				}
			case "gauge":
				gaugeMoved = gaugeMoved || s.value != prev
			}
		}
	}
	if !gaugeMoved {
		t.Error("no gauge changed across two simulation steps")
	}
}

func TestEngineBody(t *testing.T) {
	urls := testServers(t, newTestSim(), true)
	e := fetchParsed(t, urls["engine0"])
	for _, fam := range []string{"python_gc_objects_collected_total", "python_info", "process_cpu_seconds_total",
		"process_resident_memory_bytes"} {
		if len(e.find(fam)) == 0 {
			t.Errorf("engine body lacks non-sglang family %s", fam)
		}
	}
	retracted := e.find("sglang:num_retracted_reqs")
	if len(retracted) == 0 {
		t.Fatal("no sglang:num_retracted_reqs samples")
	}
	for _, s := range retracted {
		if _, err := strconv.Atoi(s.labels["pid"]); err != nil {
			t.Errorf("num_retracted_reqs without numeric pid label: %v", s.labels)
		}
	}
	ranks := map[string]bool{}
	for _, s := range e.find("sglang:num_running_reqs") {
		ranks[s.labels["tp_rank"]] = true
	}
	if !ranks["0"] || !ranks["1"] {
		t.Errorf("want schedulers for tp_rank 0 and 1, got %v", ranks)
	}
	if e.types["sglang:eplb_balancedness"] != "summary" || len(e.find("sglang:eplb_balancedness_count")) == 0 {
		t.Error("summary sglang:eplb_balancedness missing")
	}

	// prometheus_client sorts `le` among the labels; SGLang prints _sum first.
	bucket := e.find("sglang:queue_time_seconds_bucket")[0]
	if want := []string{"engine_type", "le", "model_name", "moe_ep_rank", "pp_rank", "tp_rank"}; !slices.Equal(bucket.order, want) {
		t.Errorf("label order %v, want %v", bucket.order, want)
	}
	if !strings.HasSuffix(e.samples[0].name, "_sum") {
		t.Errorf("first SGLang histogram sample is %s, want a _sum", e.samples[0].name)
	}

	dp := fetchParsed(t, urls["engine1"])
	if s := dp.find("sglang:gen_throughput"); len(s) == 0 || s[0].labels["dp_rank"] == "" {
		t.Error("DP worker gauges lack dp_rank")
	}
}

func TestWorkerBody(t *testing.T) {
	urls := testServers(t, newTestSim(), true)
	e := fetchParsed(t, urls["worker0"])
	// The KV stats come from Dynamo's Python registry, after the Rust text,
	// so they print prometheus_client floats.
	if blocks := e.find("dynamo_component_total_blocks"); len(blocks) != 1 || blocks[0].labels["dp_rank"] != "0" ||
		blocks[0].value != 92962 {
		t.Errorf("dynamo_component_total_blocks = %v, want one series for dp_rank 0 of 92962 blocks", blocks)
	}
	_, raw := fetch(t, urls["worker0"]+"/metrics", false)
	if !strings.Contains(raw, `model="Qwen/Qwen3-0.6B"} 92962.0`+"\n") {
		t.Error("total_blocks not printed in prometheus_client's float form")
	}
	firstSGLang := slices.IndexFunc(e.typeSeq, func(f string) bool { return strings.HasPrefix(f, "sglang:") })
	if firstSGLang < 0 {
		t.Fatal("passthrough body has no sglang: families")
	}
	for i, f := range e.typeSeq {
		isSGLang := strings.HasPrefix(f, "sglang:")
		if i >= firstSGLang && !isSGLang {
			t.Errorf("family %s appears after the passed-through sglang: text", f)
		}
	}
	for _, f := range []string{"python_info", "process_cpu_seconds_total", "sglang:http_requests_total"} {
		if _, ok := e.types[f]; ok {
			t.Errorf("passthrough carries %s, which Dynamo's sglang: filter / embedded engine would not", f)
		}
	}
	bucket := e.find("dynamo_component_request_duration_seconds_bucket")[0]
	if bucket.order[len(bucket.order)-1] != "le" || bucket.labels["worker_id"] == "" {
		t.Errorf("Rust-side bucket labels %v: want worker_id and le last", bucket.order)
	}
	if uptime := e.find("dynamo_component_uptime_seconds"); len(uptime) != 1 || len(uptime[0].labels) != 1 {
		t.Errorf("uptime should carry only worker_id: %v", uptime)
	}

	without := testServers(t, newTestSim(), false)
	_, body := fetch(t, without["worker0"]+"/metrics", false)
	if strings.Contains(body, "sglang:") {
		t.Error("-passthrough=false still serves sglang: lines")
	}
}

func TestFrontendBody(t *testing.T) {
	urls := testServers(t, newTestSim(), true)
	e := fetchParsed(t, urls["frontend0"])
	if got := e.types["dynamo_frontend_lora_churn_loads_total"]; got != "gauge" {
		t.Errorf("lora_churn_loads_total typed %q, want gauge", got)
	}
	req := e.find("dynamo_frontend_requests_total")
	if len(req) == 0 {
		t.Fatal("no dynamo_frontend_requests_total")
	}
	for _, s := range req {
		if len(s.labels) != 5 {
			t.Errorf("requests_total labels %v, want model, endpoint, request_type, status, error_type", s.labels)
		}
		if et, ok := s.labels["error_type"]; !ok || (s.labels["status"] == "success") != (et == "") {
			t.Errorf("error_type %q on a %s request", et, s.labels["status"])
		}
		for _, l := range []string{"endpoint", "model", "request_type", "status"} {
			if s.labels[l] == "" {
				t.Errorf("requests_total lacks %s: %v", l, s.labels)
			}
		}
		if s.labels["model"] != strings.ToLower(s.labels["model"]) {
			t.Errorf("request metrics should use the lowercased model, got %q", s.labels["model"])
		}
	}
	if cfg := e.find("dynamo_frontend_model_context_length"); len(cfg) == 0 || cfg[0].labels["model"] != "Qwen/Qwen3-0.6B" {
		t.Errorf("model-config gauges should keep the original case: %v", cfg)
	}
	// Dynamo's default log-spaced buckets, as its Rust code prints them.
	for fam, want := range map[string]string{
		"dynamo_frontend_request_duration_seconds":    "0 2 4 8 16 32 64 130 260 510 +Inf",
		"dynamo_frontend_time_to_first_token_seconds": "0 0.0022 0.0047 0.01 0.022 0.047 0.1 0.22 0.47 1 2.2 4.7 10 22 48 100 220 480 +Inf",
		"dynamo_frontend_inter_token_latency_seconds": "0 0.0019 0.0035 0.0067 0.013 0.024 0.045 0.084 0.16 0.3 0.56 1.1 2 +Inf",
		"dynamo_frontend_input_sequence_tokens":       "0 100 210 430 870 1800 3600 7400 15000 31000 63000 130000 +Inf",
		"dynamo_frontend_output_sequence_tokens":      "0 100 210 430 880 1800 3700 7600 16000 32000 +Inf",
		"dynamo_component_router_kv_hit_rate": "0 0.05 0.1 0.15000000000000002 0.2 0.25 0.3 0.35 0.39999999999999997 " +
			"0.44999999999999996 0.49999999999999994 0.5499999999999999 0.6 0.65 0.7000000000000001 0.7500000000000001 " +
			"0.8000000000000002 0.8500000000000002 0.9000000000000002 0.9500000000000003 1.0000000000000002 +Inf",
	} {
		buckets := e.find(fam + "_bucket")
		if len(buckets) == 0 {
			t.Errorf("%s has no buckets", fam)
			continue
		}
		series := buckets[0].seriesKey()
		var les []string
		for _, b := range buckets {
			if b.seriesKey() == series {
				les = append(les, b.labels["le"])
			}
		}
		if got := strings.Join(les, " "); got != want {
			t.Errorf("%s buckets\n got  %s\n want %s", fam, got, want)
		}
	}
	for _, s := range e.find("dynamo_frontend_worker_active_decode_blocks") {
		if _, err := strconv.ParseUint(s.labels["worker_id"], 10, 64); err != nil || s.labels["dp_rank"] == "" ||
			s.labels["worker_type"] != "aggregated" {
			t.Errorf("worker_active_decode_blocks labels %v: want a decimal worker_id, dp_rank, worker_type", s.labels)
		}
	}
}

func TestOtherPathsAre404(t *testing.T) {
	urls := testServers(t, newTestSim(), true)
	for _, path := range []string{"/", "/metricsx", "/health"} {
		if resp, _ := fetch(t, urls["engine0"]+path, false); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestSameSeedSameBodies(t *testing.T) {
	a, b := newTestSim(), newTestSim()
	a.step()
	b.step()
	if string(a.engineBody(1)) != string(b.engineBody(1)) || string(a.frontendBody()) != string(b.frontendBody()) {
		t.Error("two simulations with the same seed diverged")
	}
}

func TestPyFloat(t *testing.T) {
	for v, want := range map[float64]string{
		0:                     "0.0",
		1:                     "1.0",
		0.1:                   "0.1",
		0.0016200000000000001: "0.0016200000000000001",
		1e-05:                 "1e-05",
		92962:                 "92962.0",
		8128902:               "8.128902e+06",
		1048576:               "1.048576e+06",
		2.5e10:                "2.5e+010",
		1e16:                  "1e+16",
		math.Inf(1):           "+Inf",
	} {
		if got := pyFloat(v); got != want {
			t.Errorf("pyFloat(%v) = %q, want %q", v, got, want)
		}
	}
	if got := rustFloat(2.5); got != "2.5" || rustFloat(110) != "110" {
		t.Errorf("rustFloat: got %q / %q", got, rustFloat(110))
	}
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"": false, "gzip": true, "deflate, gzip;q=0.5": true, "gzip;q=0": false, "identity": false, "GZIP": true,
	} {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}

func TestListenAllNamesBusyAddress(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	_, err = listenAll([]endpoint{{desc: "dynamo frontend", addr: addr}})
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("listenAll on busy %s: err = %v, want it to name the address", addr, err)
	}
}

func TestParseFlags(t *testing.T) {
	c, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := config{workers: 2, enginePort: 30000, runtimePort: 9090, frontendPort: 8000, host: "127.0.0.1",
		tick: time.Second, seed: 1, passthrough: true, fleet: "current", nameForm: "colon", mode: "unified"}
	if c != want {
		t.Errorf("defaults = %+v, want %+v", c, want)
	}
	for _, args := range [][]string{{"-workers", "0"}, {"-engine-port", "65535", "-workers", "2"}, {"-tick", "0s"},
		{"-fleet", "old"}, {"-mode", "pd"}, {"-name-form", "colon,dots"}} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%v) accepted invalid flags", args)
		}
	}
	if c, err := parseFlags([]string{"-frontend-port", "0"}, io.Discard); err != nil || c.frontendPort != 0 {
		t.Errorf("-frontend-port 0 should disable the frontend: %v", err)
	}
	c, err = parseFlags([]string{"-fleet", "mixed", "-mode", "disagg", "-name-form", "underscore, ray"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := c.fleetSpec()
	if !spec.mixed || !spec.disagg || !slices.Equal(spec.forms, []nameForm{formUnderscore, formRay}) {
		t.Errorf("fleet flags gave %+v", spec)
	}
	sim := newSimulation(3, time.Second, 1, testStart, spec)
	var got []string
	for _, w := range sim.workers {
		got = append(got, w.describe())
	}
	want3 := []string{"worker-0 (prefill, current SGLang, underscore names)", "worker-1 (decode, older SGLang, ray names)",
		"worker-2 (prefill, current SGLang, underscore names)"}
	if !slices.Equal(got, want3) {
		t.Errorf("workers %q, want %q", got, want3)
	}
}
