//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const prometheusBinary = "/usr/bin/prometheus"

// TTFT histogram served by the dynamic engine: the fixture's bucket bounds
// (as prometheus_client prints them), and how many observations each request
// adds at or below each bound (cumulative). Per request: 1 observation
// <= 0.1s, 3 in (0.1, 0.2], 4 in (0.2, 0.4], 2 in (0.4, 0.6]; 10 in all.
var (
	ttftBounds = []string{"0.1", "0.2", "0.4", "0.6", "0.8", "1.0", "2.0", "4.0", "6.0", "8.0", "10.0",
		"20.0", "40.0", "60.0", "80.0", "100.0", "200.0", "400.0", "+Inf"}
	ttftCumulative = []float64{1, 4, 8, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10}
)

const (
	ttftLabels = `engine_type="unified",is_streaming="true",model_name="Qwen/Qwen3-0.6B"`
	// Median of the per-request distribution: rank 0.5*10 = 5 falls in the
	// (0.2, 0.4] bucket, which holds observations 5..8 (4 of them), so
	// histogram_quantile interpolates 0.2 + 0.2*(5-4)/(8-4) = 0.25.
	wantTTFTMedian = 0.25
	// dynamo_component_requests_total grows by this many per second of
	// wall-clock time.
	requestsPerSecond = 40.0
)

// dynamicEngineBody is the real prometheus_client capture with its TTFT
// histogram replaced by one that grows by the same distribution on every
// request: all buckets grow in lockstep, so the quantile over their rates
// does not depend on scrape timing.
func dynamicEngineBody(fixture []byte) func(int64) []byte {
	base := withoutFamily(fixture, "sglang:time_to_first_token_seconds")
	return func(n int64) []byte {
		var b strings.Builder
		b.Write(base)
		b.WriteString("# HELP sglang:time_to_first_token_seconds Histogram of time to first token in seconds.\n")
		b.WriteString("# TYPE sglang:time_to_first_token_seconds histogram\n")
		fmt.Fprintf(&b, "sglang:time_to_first_token_seconds_sum{%s} %s\n", ttftLabels, formatFloat(float64(n)*2.3))
		for i, le := range ttftBounds {
			fmt.Fprintf(&b, "sglang:time_to_first_token_seconds_bucket{%s,le=%q} %s\n", ttftLabels, le, formatFloat(float64(n)*ttftCumulative[i]))
		}
		fmt.Fprintf(&b, "sglang:time_to_first_token_seconds_count{%s} %s\n", ttftLabels, formatFloat(float64(n)*ttftCumulative[len(ttftCumulative)-1]))
		return []byte(b.String())
	}
}

// dynamicWorkerBody is the real Dynamo worker capture with
// dynamo_component_requests_total growing by requestsPerSecond of wall-clock
// time.
func dynamicWorkerBody(fixture []byte) func(int64) []byte {
	base := withoutFamily(fixture, "dynamo_component_requests_total")
	t0 := time.Now()
	return func(int64) []byte {
		v := requestsPerSecond * time.Since(t0).Seconds()
		return fmt.Appendf(append([]byte(nil), base...),
			"# HELP dynamo_component_requests_total Total number of requests processed by work handler\n"+
				"# TYPE dynamo_component_requests_total counter\n"+
				`dynamo_component_requests_total{dynamo_component="backend",dynamo_endpoint="generate",dynamo_namespace="dynamo",model="Qwen/Qwen3-0.6B"} %s`+"\n",
			strconv.FormatFloat(v, 'f', 3, 64))
	}
}

// promServer is a running Prometheus.
type promServer struct {
	*process
	url string
}

func startPrometheus(t *testing.T, scrapeTarget string) *promServer {
	t.Helper()
	return startPrometheusYAML(t, fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
scrape_configs:
  - job_name: otelcol
    # Keep the exporter's job/instance (the scraped targets'), as for any
    # exporter that re-exposes other targets.
    honor_labels: true
    static_configs:
      - targets: [%q]
`, scrapeTarget))
}

// startPrometheusYAML runs Debian's Prometheus with the configuration cfg
// and any further flags.
func startPrometheusYAML(t *testing.T, cfg string, flags ...string) *promServer {
	t.Helper()
	if _, err := os.Stat(prometheusBinary); err != nil {
		t.Skipf("%s not found: install Debian's prometheus package (scripts/test.sh does)", prometheusBinary)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	p := &promServer{url: fmt.Sprintf("http://127.0.0.1:%d", port)}
	p.process = startProcess(t, "prometheus", nil, prometheusBinary, append([]string{
		"--config.file=" + cfgPath,
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + fmt.Sprintf("127.0.0.1:%d", port),
		"--log.level=warn"}, flags...)...)
	waitFor(t, 30*time.Second, "prometheus /-/ready", func() error {
		if p.exited() {
			t.Fatalf("prometheus exited: %v\n%s", p.err, p.out.String())
		}
		code, _, err := httpGet(p.url + "/-/ready")
		if err != nil {
			return err
		}
		if code != 200 {
			return fmt.Errorf("status %d", code)
		}
		return nil
	})
	return p
}

type promResult struct {
	Metric map[string]string
	Value  float64
}

// query runs an instant query through the HTTP API.
func (p *promServer) query(q string) ([]promResult, error) {
	return p.queryParams(url.Values{"query": {q}})
}

// queryParams runs an instant query with the API's parameters (query,
// time).
func (p *promServer) queryParams(params url.Values) ([]promResult, error) {
	q := params.Get("query")
	code, body, err := httpGet(p.url + "/api/v1/query?" + params.Encode())
	if err != nil {
		return nil, err
	}
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("query %q: status %d: %w", q, code, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", q, r.Error)
	}
	if r.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %q: result type %s", q, r.Data.ResultType)
	}
	var out []promResult
	for _, s := range r.Data.Result {
		str, _ := s.Value[1].(string)
		v, err := parseFloat(str)
		if err != nil {
			return nil, fmt.Errorf("query %q: value %v: %w", q, s.Value[1], err)
		}
		out = append(out, promResult{Metric: s.Metric, Value: v})
	}
	return out, nil
}

// TestPrometheus runs Debian's Prometheus against the collector's exporter
// and checks PromQL over the exported series against what the fixtures
// imply.
func TestPrometheus(t *testing.T) {
	engineFixture := readFixture(t, "sglang_engine_promclient.txt")
	workerFixture := readFixture(t, "dynamo_worker.txt")
	engine := serveFixture(t, dynamicEngineBody(engineFixture))
	worker := serveFixture(t, dynamicWorkerBody(workerFixture))

	c := startCollector(t, collectorOptions{
		Receiver: receiverYAML("500ms", workerYAML(engine.URL(), worker.URL(), map[string]string{"worker": "w0"})),
	})
	prom := startPrometheus(t, fmt.Sprintf("127.0.0.1:%d", c.PromPort))

	// rate() needs its whole window covered by samples; wait until
	// Prometheus holds > window of them (1s scrapes).
	const window = "15s"
	waitFor(t, 60*time.Second, "17s of dynamo_component_requests_total history in Prometheus", func() error {
		r, err := prom.query(`count_over_time(dynamo_component_requests_total[17s])`)
		if err != nil {
			return err
		}
		if len(r) != 1 || r[0].Value < 16 {
			return fmt.Errorf("result %v", r)
		}
		return nil
	})

	// sglang:prompt_tokens_total: exactly the fixture's value, per series.
	src, err := parseExposition(engineFixture)
	if err != nil {
		t.Fatal(err)
	}
	wantPrompt := map[string]float64{}
	for _, s := range src.Samples {
		if s.Name == "sglang:prompt_tokens_total" {
			wantPrompt[s.Labels["is_streaming"]] = s.Value
		}
	}
	r, err := prom.query(`sglang:prompt_tokens_total`)
	if err != nil {
		t.Fatal(err)
	}
	if len(r) != len(wantPrompt) {
		t.Errorf("sglang:prompt_tokens_total: %d series, fixture has %d: %v", len(r), len(wantPrompt), r)
	}
	for _, s := range r {
		want, ok := wantPrompt[s.Metric["is_streaming"]]
		if !ok || s.Value != want || s.Metric["job"] != "sglang" || s.Metric["instance"] != engine.Addr() {
			t.Errorf("sglang:prompt_tokens_total%v = %v, want %v with job=sglang instance=%s", s.Metric, s.Value, want, engine.Addr())
		}
	}

	// histogram_quantile over the bucket rates: every bucket grows in
	// lockstep, so the result is exact up to float rounding.
	r, err = prom.query(`histogram_quantile(0.5, rate(sglang:time_to_first_token_seconds_bucket[` + window + `]))`)
	if err != nil {
		t.Fatal(err)
	}
	if len(r) != 1 || math.Abs(r[0].Value-wantTTFTMedian) > 1e-9 {
		t.Errorf("median TTFT = %v, want %v (from the fixture's per-request distribution)", r, wantTTFTMedian)
	}

	// rate of a dynamo_component_* counter. The body's value follows the
	// wall clock at the moment the collector fetches it (every 0.5s), while
	// Prometheus stamps the sample when it scrapes the exporter (every 1s).
	// The lag between the two is in [0, 0.5s), so over the ~14s between the
	// first and last sample of the window the time base can be off by up to
	// 0.5s: at most ~3.6% error (observed up to 5.5% with a 10s window on a
	// loaded machine). 12% leaves room for scheduling delays on a loaded
	// 2-core machine while still catching a wrong rate (e.g. a doubled
	// series or a reset).
	r, err = prom.query(`rate(dynamo_component_requests_total[` + window + `])`)
	if err != nil {
		t.Fatal(err)
	}
	if len(r) != 1 || math.Abs(r[0].Value-requestsPerSecond)/requestsPerSecond > 0.12 {
		t.Errorf("rate(dynamo_component_requests_total) = %v, want %v ±12%%", r, requestsPerSecond)
	} else {
		t.Logf("rate(dynamo_component_requests_total[%s]) = %.3f (want %v)", window, r[0].Value, requestsPerSecond)
	}
	if len(r) == 1 && (r[0].Metric["job"] != "dynamo-backend" || r[0].Metric["instance"] != worker.Addr() || r[0].Metric["dynamo_component"] != "backend") {
		t.Errorf("rate(dynamo_component_requests_total) labels = %v", r[0].Metric)
	}

	// up: Prometheus's own for the exporter, and the receiver's for each
	// target (exposed by the exporter under the targets' job/instance).
	for _, want := range []struct{ job, instance string }{
		{"otelcol", fmt.Sprintf("127.0.0.1:%d", c.PromPort)},
		{"sglang", engine.Addr()},
		{"dynamo-backend", worker.Addr()},
	} {
		r, err := prom.query(fmt.Sprintf(`up{job=%q,instance=%q}`, want.job, want.instance))
		if err != nil {
			t.Fatal(err)
		}
		if len(r) != 1 || r[0].Value != 1 {
			t.Errorf("up{job=%q,instance=%q} = %v, want 1", want.job, want.instance, r)
		}
	}
}
