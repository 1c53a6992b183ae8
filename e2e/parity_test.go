//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// Two SGLang releases: the old one printed sglang:kv_transfer_latency_ms as
// a gauge (and without engine_type), the current one as a histogram in ms.
const (
	kvTransferOld = `# HELP sglang:kv_transfer_latency_ms The latency of the last KV transfer in ms.
# TYPE sglang:kv_transfer_latency_ms gauge
sglang:kv_transfer_latency_ms{model_name="Qwen/Qwen3-0.6B"} 12.5
`
	kvTransferNew = `# HELP sglang:kv_transfer_latency_ms Histogram of KV transfer latency in ms.
# TYPE sglang:kv_transfer_latency_ms histogram
sglang:kv_transfer_latency_ms_sum{engine_type="prefill",model_name="Qwen/Qwen3-0.6B"} 61.0
sglang:kv_transfer_latency_ms_bucket{engine_type="prefill",le="1.0",model_name="Qwen/Qwen3-0.6B"} 1.0
sglang:kv_transfer_latency_ms_bucket{engine_type="prefill",le="10.0",model_name="Qwen/Qwen3-0.6B"} 3.0
sglang:kv_transfer_latency_ms_bucket{engine_type="prefill",le="100.0",model_name="Qwen/Qwen3-0.6B"} 4.0
sglang:kv_transfer_latency_ms_bucket{engine_type="prefill",le="+Inf",model_name="Qwen/Qwen3-0.6B"} 4.0
sglang:kv_transfer_latency_ms_count{engine_type="prefill",model_name="Qwen/Qwen3-0.6B"} 4.0
`
)

// nameForm rewrites a prometheus_client body into the form some stack
// prints it in (field-2026 §1), and gives the body that a direct scrape of
// the same worker would have had in the `sglang:` form, which is what the
// stock dashboards query.
type nameForm struct {
	name      string
	printed   func(string) string
	reference func(string) string
}

var sampleLine = regexp.MustCompile(`(?m)^sglang:`)

var nameForms = []nameForm{
	{"colon", identity, identity},
	// Dynamo's January 2026 passthrough, client_python PR 1180.
	{"underscore", func(b string) string { return strings.ReplaceAll(b, "sglang:", "sglang_") }, identity},
	// client_python's escaping=underscores: HELP/TYPE keep the colon.
	{"escaping", func(b string) string { return sampleLine.ReplaceAllString(b, "sglang_") }, identity},
	// Ray Serve: sglang_ everywhere plus ReplicaId, which the collector
	// keeps as it is.
	{"ray", func(b string) string { return strings.ReplaceAll(withReplica(b), "sglang:", "sglang_") }, withReplica},
}

func identity(b string) string { return b }

var sampleLabels = regexp.MustCompile(`(?m)^(sglang:[^ {]+)(\{)?`)

// withReplica adds Ray's ReplicaId label to every sample.
func withReplica(b string) string {
	return sampleLabels.ReplaceAllStringFunc(b, func(s string) string {
		if strings.HasSuffix(s, "{") {
			return s + `ReplicaId="SGLangServer#abc",`
		}
		return s + `{ReplicaId="SGLangServer#abc"}`
	})
}

// stockQueries are shaped like the stock SGLang and Dynamo dashboards' and
// the stock alerts': literal names, job selectors, per-instance sums and
// heatmaps by le.
var stockQueries = []string{
	`up{job=~"sglang|dynamo-backend|dynamo-frontend"}`,
	`sum by (instance) (sglang:num_running_reqs)`,
	`sum by (instance) (sglang:num_queue_reqs{job="sglang"})`,
	`sglang:token_usage`,
	`sum by (instance) (rate(sglang:prompt_tokens_total[1m]))`,
	`sum by (le) (rate(sglang:time_to_first_token_seconds_bucket[1m]))`,
	`sum by (le) (sglang:time_to_first_token_seconds_bucket)`,
	`sglang:e2e_request_latency_seconds_bucket{le="1.0"}`,
	`histogram_quantile(0.99, sum by (le, instance) (sglang:time_to_first_token_seconds_bucket))`,
	`sum by (le) (sglang:kv_transfer_latency_ms_bucket)`,
	`sglang:kv_transfer_latency_ms`,
	`sum by (job, instance) (dynamo_component_requests_total{job="dynamo-backend"})`,
	`sum by (le) (dynamo_component_request_duration_seconds_bucket)`,
	`dynamo_component_request_duration_seconds_bucket{le="1"}`,
	`sum by (model) (dynamo_frontend_requests_total{job="dynamo-frontend"})`,
	`sum by (le) (dynamo_frontend_time_to_first_token_seconds_bucket)`,
	`count by (job) ({__name__=~"sglang:.+|dynamo_.+"})`,
}

// TestParity is issue 10's measure: the same fleet scraped directly by one
// Prometheus and through the collector by another, with the scrape config
// the README gives (deploy/prometheus/scrape-sglangdynamo.yml), must store
// the same series and answer the same queries; on a fleet of two SGLang
// releases (kv_transfer a gauge in one, a histogram in the other) and with
// every name form. A third Prometheus, scraping :8081 without the `le`
// rule, shows what that rule is for on Prometheus 2.x.
func TestParity(t *testing.T) {
	engine := string(readFixture(t, "sglang_engine_promclient.txt"))
	worker := string(readFixture(t, "dynamo_worker.txt"))
	frontend := string(readFixture(t, "dynamo_frontend.txt"))

	type pair struct {
		job, printed, reference string
	}
	pairs := []pair{
		{"sglang", engine + kvTransferOld, engine + kvTransferOld}, // the old release
		{"dynamo-backend", worker, worker},
		{"dynamo-frontend", frontend, frontend},
	}
	for _, f := range nameForms {
		cur := engine + kvTransferNew
		pairs = append(pairs, pair{"sglang", f.printed(cur), f.reference(cur)})
	}

	// Each worker is served twice, on two ports: as printed, to the
	// collector, and as the reference body, to the direct Prometheus, which
	// labels it with the collector's target's instance so that both sides
	// name it alike.
	var workers []string
	direct := map[string][]string{} // job -> static_configs entries
	for _, p := range pairs {
		printed := serveFixture(t, staticBody([]byte(p.printed)))
		ref := serveFixture(t, staticBody([]byte(p.reference)))
		switch p.job {
		case "sglang":
			workers = append(workers, workerYAML(printed.URL(), "", nil))
		case "dynamo-backend":
			workers = append(workers, workerYAML("", printed.URL(), nil))
		default:
			workers = append(workers, "frontend:\n  endpoint: "+printed.URL()+"\n")
		}
		direct[p.job] = append(direct[p.job],
			fmt.Sprintf("      - targets: [%q]\n        labels: {instance: %q}\n", ref.Addr(), printed.Addr()))
	}
	c := startCollector(t, collectorOptions{Receiver: receiverYAML("1s", workers...)})

	var directCfg strings.Builder
	directCfg.WriteString("scrape_configs:\n")
	for _, job := range []string{"sglang", "dynamo-backend", "dynamo-frontend"} {
		fmt.Fprintf(&directCfg, "  - job_name: %s\n    static_configs:\n%s", job, strings.Join(direct[job], ""))
	}
	ref := startPrometheusConfig(t, directCfg.String())
	via, noLe := startViaCollector(t, c.PromPort)
	rs, diffs, leOnly := compareSides(t, ref, via, noLe, len(pairs), stockQueries)
	// Two releases behind one collector: one warning names the family,
	// its types and the targets; the exporter never has a conflict to log.
	log := c.out.String()
	if n := strings.Count(log, "family arrives with different types"); n != 1 {
		t.Errorf("the mixed-type warning was logged %d times, want once", n)
	}
	if want := `"family": "sglang:kv_transfer_latency_ms", "types": "gauge: [`; !strings.Contains(log, want) {
		t.Errorf("the warning does not name the family and its types (%s)", want)
	}
	if strings.Contains(log, "instrument type conflict") {
		t.Error("the Prometheus exporter logged an instrument type conflict")
	}
	if rs < 1000 {
		t.Errorf("direct Prometheus holds only %d series", rs)
	}
	t.Logf("%d series, %d queries: %d differences with the documented scrape config; %d queries would differ without its le rule (%s)",
		rs, len(stockQueries), diffs, leOnly, mustVersion(t))
	// The rule is there for a reason: without it, Prometheus 2.x stores
	// SGLang's le="1.0" as le="1" and the literal and by (le) queries
	// differ. (On Prometheus 3 both sides store 1.0 and the rule is a
	// no-op.)
	if leOnly == 0 {
		t.Error("without the le rule no query differs: is the rule still needed?")
	}
}

// startViaCollector starts two Prometheus scraping the collector's exporter
// on promPort: one with the documented job
// (deploy/prometheus/scrape-sglangdynamo.yml) as it is, one without its le
// rule.
func startViaCollector(t *testing.T, promPort int) (via, noLe *promServer) {
	t.Helper()
	viaCfg := documentedScrapeJob(t, fmt.Sprintf("127.0.0.1:%d", promPort))
	withoutLe := viaCfg[:strings.Index(viaCfg, "    metric_relabel_configs:")]
	return startPrometheusConfig(t, viaCfg), startPrometheusConfig(t, withoutLe)
}

// compareSides waits until every Prometheus has scraped each of the
// targets twice, then compares what ref (scraping the workers directly) and
// via (through the collector) store and answer: every series of the two
// namespaces, and each query. It reports the series count, the number of
// differences (each reported as a test error) and how many queries noLe
// answers differently from ref. A query of queries must have an answer on
// the direct side; one of optional may answer nothing on both.
func compareSides(t *testing.T, ref, via, noLe *promServer, targets int, queries []string, optional ...string) (series, differences, leOnly int) {
	t.Helper()
	// rate() over 1m needs two samples in the window on every side.
	for _, p := range []*promServer{ref, via, noLe} {
		waitFor(t, 60*time.Second, "two scrapes of every target on "+p.url, func() error {
			r, err := p.query(`count_over_time(up{job=~"sglang|dynamo-backend|dynamo-frontend"}[1m]) >= 2`)
			if err != nil {
				return err
			}
			if len(r) != targets {
				return fmt.Errorf("%d of %d targets", len(r), targets)
			}
			return nil
		})
	}
	// The two sides scrape at different moments, so a rate over a window
	// may lack its second sample on one side for a second or two: compare
	// until they agree, or report the last differences.
	all := `{__name__=~"sglang:.+|dynamo_.+"}`
	var diffs []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		at := time.Now().Add(-time.Second)
		diffs, leOnly = nil, 0
		// Every series stored from a direct scrape is stored through the
		// collector, with the same labels and value, and nothing more.
		rs := queryAt(t, ref, all, at)
		series = len(rs)
		if d := diffResults(rs, queryAt(t, via, all, at)); d != "" {
			diffs = append(diffs, "series stored from a direct scrape and through the collector differ:\n"+d)
		}
		for i, q := range append(slices.Clip(queries), optional...) {
			r, v, n := queryAt(t, ref, q, at), queryAt(t, via, q, at), queryAt(t, noLe, q, at)
			if len(r) == 0 && i < len(queries) {
				diffs = append(diffs, q+": no result from the direct scrape; the test's fleet does not exercise it")
			}
			if strings.Contains(q, "scrape_duration_seconds") {
				// Each side times its own scrapes: only the series must
				// agree.
				r, v, n = zeroed(r), zeroed(v), zeroed(n)
			}
			if d := diffResults(r, v); d != "" {
				diffs = append(diffs, q+": answers differ, direct vs through the collector:\n"+d)
			}
			if diffResults(r, n) != "" {
				leOnly++
			}
		}
		if len(diffs) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	for _, d := range diffs {
		t.Error(d)
	}
	return series, len(diffs), leOnly
}

// startPrometheusConfig runs Debian's Prometheus with the given
// scrape_configs, scraping every second.
func startPrometheusConfig(t *testing.T, scrapeConfigs string) *promServer {
	t.Helper()
	return startPrometheusYAML(t, "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\n"+scrapeConfigs)
}

func mustVersion(t *testing.T) string {
	out, err := exec.Command(prometheusBinary, "--version").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitN(string(out), "\n", 2)[0]
}

// queryAt runs an instant query at a fixed time, so that both Prometheus
// answer for the same moment.
func queryAt(t *testing.T, p *promServer, q string, at time.Time) map[string]float64 {
	t.Helper()
	rs, err := p.queryParams(url.Values{"query": {q}, "time": {fmt.Sprintf("%.3f", float64(at.UnixMilli())/1000)}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, r := range rs {
		out[labelKey(r.Metric)] = r.Value
	}
	return out
}

func labelKey(m map[string]string) string {
	b, _ := json.Marshal(m) // sorts the keys
	return string(b)
}

// zeroed is m with every value 0.
func zeroed(m map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k := range m {
		out[k] = 0
	}
	return out
}

// diffResults lists the series present on one side only, and those whose
// values differ; at most 10 lines of each.
func diffResults(want, got map[string]float64) string {
	var only1, only2, vals []string
	for k, v := range want {
		g, ok := got[k]
		switch {
		case !ok:
			only1 = append(only1, k)
		case !(v == g || math.IsNaN(v) && math.IsNaN(g) || math.Abs(v-g) <= 1e-9*math.Max(math.Abs(v), math.Abs(g))):
			vals = append(vals, fmt.Sprintf("%s: %g vs %g", k, v, g))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			only2 = append(only2, k)
		}
	}
	var b strings.Builder
	for _, part := range []struct {
		what string
		l    []string
	}{{"direct only", only1}, {"through the collector only", only2}, {"values", vals}} {
		if len(part.l) == 0 {
			continue
		}
		sort.Strings(part.l)
		fmt.Fprintf(&b, "  %s (%d):\n", part.what, len(part.l))
		for _, l := range part.l[:min(10, len(part.l))] {
			b.WriteString("    " + l + "\n")
		}
	}
	return b.String()
}

// demoQueries are shaped like the stock dashboards' and alerts', on the
// families of the demo's current fleet.
var demoQueries = []string{
	`up{job=~"sglang|dynamo-backend|dynamo-frontend"}`,
	`sum by (instance) (sglang:num_running_reqs)`,
	`sum by (instance, engine_type) (sglang:num_queue_reqs{job="sglang"})`,
	`sum by (le) (sglang:time_to_first_token_seconds_bucket)`,
	`histogram_quantile(0.99, sum by (le, instance) (sglang:e2e_request_latency_seconds_bucket))`,
	`sum by (le, instance) (sglang:kv_transfer_latency_ms_bucket)`,
	`sglang:kv_transfer_latency_ms`,
	`sum by (stage) (sglang:kv_transfer_timeouts_total)`,
	`sum by (instance) (sglang:num_transfer_failed_reqs_total)`,
	`sglang:hicache_host_used_tokens / sglang:hicache_host_total_tokens`,
	`sum by (instance) (sglang:spec_accept_length)`,
	`sum by (status, error_type) (dynamo_frontend_requests_total{job="dynamo-frontend"})`,
	`sum by (le) (dynamo_frontend_time_to_first_token_seconds_bucket)`,
	`histogram_quantile(0.5, sum by (le) (dynamo_frontend_inter_token_latency_seconds_bucket))`,
	`sum by (worker_type) (dynamo_frontend_worker_active_prefill_tokens)`,
	`histogram_quantile(0.5, sum by (le) (dynamo_component_router_kv_hit_rate_bucket))`,
	`sum by (le) (dynamo_router_overhead_total_ms_bucket)`,
	`sum by (event_type, status) (dynamo_component_kv_cache_events_applied)`,
	`sum by (instance) (dynamo_component_gpu_cache_usage_percent{job="dynamo-backend"})`,
	`count by (job) ({__name__=~"sglang:.+|dynamo_.+"})`,
}

// TestParityDemo is TestParity on the demo's current fleet, disaggregated
// and of mixed releases (kv_transfer_* gauges on the older workers,
// histograms on the others): a direct Prometheus and one through the
// collector store the same series and answer the same queries. The demo's
// tick is an hour, so its values hold still while both sides scrape.
func TestParityDemo(t *testing.T) {
	collectorBinary(t) // skips when the distribution is not built
	demo := fleetDemoBinary(t)
	const workers = 4
	enginePort, runtimePort, frontendPort := freePortRange(t, workers), freePortRange(t, workers), freePort(t)
	p := startProcess(t, "demo", nil, demo, "-workers", fmt.Sprint(workers), "-fleet", "mixed", "-mode", "disagg",
		"-tick", "1h", "-passthrough=false",
		"-engine-port", fmt.Sprint(enginePort), "-runtime-port", fmt.Sprint(runtimePort), "-frontend-port", fmt.Sprint(frontendPort))
	waitFor(t, 20*time.Second, "the demo's frontend", func() error {
		if p.exited() {
			t.Fatalf("demo exited: %v\n%s", p.err, p.out.String())
		}
		_, _, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/metrics", frontendPort))
		return err
	})

	addr := func(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }
	var ws []string
	var engines, runtimes []string
	for i := range workers {
		e, r := addr(enginePort+i), addr(runtimePort+i)
		ws = append(ws, workerYAML("http://"+e+"/metrics", "http://"+r+"/metrics", nil))
		engines, runtimes = append(engines, fmt.Sprintf("%q", e)), append(runtimes, fmt.Sprintf("%q", r))
	}
	ws = append(ws, "frontend:\n  endpoint: http://"+addr(frontendPort)+"/metrics\n")
	c := startCollector(t, collectorOptions{Receiver: receiverYAML("1s", ws...)})

	direct := fmt.Sprintf(`scrape_configs:
  - job_name: sglang
    static_configs: [{targets: [%s]}]
  - job_name: dynamo-backend
    static_configs: [{targets: [%s]}]
  - job_name: dynamo-frontend
    static_configs: [{targets: [%q]}]
`, strings.Join(engines, ", "), strings.Join(runtimes, ", "), addr(frontendPort))
	ref := startPrometheusConfig(t, direct)
	via, noLe := startViaCollector(t, c.PromPort)
	// And every query of our own dashboard, with its variables at All; on
	// a still demo some (rates of errors) rightly answer nothing on both.
	d, dqs := readDashboard(t)
	var dash []string
	for _, q := range dqs {
		e, err := expandGrafana(q.expr, "1m", d.allValues())
		if err != nil {
			t.Fatal(err)
		}
		dash = append(dash, e)
	}
	series, diffs, leOnly := compareSides(t, ref, via, noLe, 2*workers+1, demoQueries, dash...)
	if series < 1000 {
		t.Errorf("direct Prometheus holds only %d series", series)
	}
	if n := strings.Count(c.out.String(), "family arrives with different types"); n == 0 {
		t.Error("no mixed-type warning: the fleet is meant to mix releases")
	}
	t.Logf("demo fleet (%d workers, mixed, disagg): %d series, %d queries (%d of them the dashboard's): %d differences; %d queries differ without the le rule",
		workers, series, len(demoQueries)+len(dash), len(dash), diffs, leOnly)
}
