//go:build e2e

package e2e

import (
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// startRemoteWriteReceiver runs Debian's Prometheus as a remote-write
// receiver only: no scrape configs, so every series it holds was pushed to
// it.
func startRemoteWriteReceiver(t *testing.T) *promServer {
	t.Helper()
	return startPrometheusYAML(t, "global:\n  evaluation_interval: 1s\n", "--web.enable-remote-write-receiver")
}

// startCollectorRemoteWrite is startCollector with the shipped
// config/remotewrite.yaml merged over the test's config, as
// scripts/run.sh merges it, pushing to writeURL. So what is tested is the
// file users get, not a copy of it.
func startCollectorRemoteWrite(t *testing.T, o collectorOptions, writeURL string) *collector {
	t.Helper()
	shipped, err := filepath.Abs(filepath.Join("..", "config", "remotewrite.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	o.ExtraConfigs = append(o.ExtraConfigs, shipped)
	o.Env = append(o.Env, "SGLANGDYNAMO_REMOTE_WRITE_URL="+writeURL)
	return startCollector(t, o)
}

// stored returns the series of an instant query as samples (name from
// __name__), so they compare with the sources' through sample.key().
func stored(t *testing.T, p *promServer, q string) []sample {
	t.Helper()
	rs, err := p.query(q)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]sample, 0, len(rs))
	for _, r := range rs {
		ls := map[string]string{}
		for k, v := range r.Metric {
			if k != "__name__" {
				ls[k] = v
			}
		}
		out = append(out, sample{Name: r.Metric["__name__"], Labels: ls, Value: r.Value})
	}
	return out
}

// canonicalLe is queryAt's result with each key's `le` in canonical float
// text, so that answers differing only in how a bound is printed compare
// equal.
func canonicalLe(m map[string]float64) map[string]float64 {
	re := regexp.MustCompile(`"le":"([^"]*)"`)
	out := make(map[string]float64, len(m))
	for k, v := range m {
		k = re.ReplaceAllStringFunc(k, func(s string) string {
			b := re.FindStringSubmatch(s)[1]
			if f, err := parseFloat(b); err == nil {
				b = formatFloat(f)
			}
			return `"le":"` + b + `"`
		})
		out[k] = v
	}
	return out
}

// rwQueries are shaped like the stock dashboards' and alerts', on the
// families of the three fixtures. None names a bucket by its `le` text;
// that is checked on its own.
var rwQueries = []string{
	`up{job=~"sglang|dynamo-backend|dynamo-frontend"}`,
	`sum by (instance) (sglang:num_running_reqs)`,
	`sum by (instance) (sglang:num_queue_reqs{job="sglang"})`,
	`sglang:token_usage`,
	`sum by (instance) (rate(sglang:prompt_tokens_total[1m]))`,
	`sum by (le) (rate(sglang:time_to_first_token_seconds_bucket[1m]))`,
	`sum by (le) (sglang:time_to_first_token_seconds_bucket)`,
	`histogram_quantile(0.99, sum by (le, instance) (sglang:time_to_first_token_seconds_bucket))`,
	`histogram_quantile(0.5, sum by (le) (sglang:e2e_request_latency_seconds_bucket))`,
	`sglang:http_request_size_bytes_sum / sglang:http_request_size_bytes_count`,
	`sum by (job, instance) (dynamo_component_requests_total{job="dynamo-backend"})`,
	`histogram_quantile(0.9, sum by (le) (dynamo_component_request_duration_seconds_bucket))`,
	`sum by (model) (dynamo_frontend_requests_total{job="dynamo-frontend"})`,
	`histogram_quantile(0.5, sum by (le) (dynamo_frontend_time_to_first_token_seconds_bucket))`,
	`sum by (le) (dynamo_frontend_time_to_first_token_seconds_bucket)`,
	`count by (job) ({__name__=~"sglang:.+|dynamo_.+"})`,
}

// TestRemoteWrite runs the built collector with config/remotewrite.yaml
// merged in, pushing the real fixtures to Debian's Prometheus 2.42 as a
// remote-write receiver, and checks with PromQL what arrived: every kept
// source series under its own name, labels (+job/instance) and value; the
// same series and values as the collector's :8081; the same answers as a
// Prometheus scraping the workers directly; no otel_scope_* labels; the
// text of `le`; and staleness when a series or a whole target goes away.
func TestRemoteWrite(t *testing.T) {
	engine := readFixture(t, "sglang_engine_promclient.txt")
	worker := readFixture(t, "dynamo_worker.txt")
	frontend := readFixture(t, "dynamo_frontend.txt")

	// The engine drops one family on demand, for per-series staleness.
	const vanishing = "sglang:num_running_reqs"
	engineLess := withoutFamily(engine, vanishing)
	if len(engineLess) == len(engine) {
		t.Fatalf("the engine fixture has no %s", vanishing)
	}
	var drop atomic.Bool
	engineSrv := serveFixture(t, func(int64) []byte {
		if drop.Load() {
			return engineLess
		}
		return engine
	})
	workerSrv := serveFixture(t, staticBody(worker))
	frontendSrv := serveFixture(t, staticBody(frontend))

	// One target per worker, as in TestParity: a lone engine and a lone
	// runtime keep both namespaces (the runtime's passed-through sglang:
	// families too), so a direct scrape stores the same families.
	targets := []fidelityTarget{
		{engineSrv, engine, []string{"sglang:", "dynamo_"}, "sglang"},
		{workerSrv, worker, []string{"sglang:", "dynamo_"}, "dynamo-backend"},
		{frontendSrv, frontend, []string{"dynamo_"}, "dynamo-frontend"},
	}
	var want []sample
	for _, tg := range targets {
		want = append(want, expectedFromSource(t, tg.body, tg.prefixes, tg.job, tg.srv.Addr())...)
	}

	rw := startRemoteWriteReceiver(t)
	c := startCollectorRemoteWrite(t, collectorOptions{Receiver: receiverYAML("1s",
		workerYAML(engineSrv.URL(), "", nil),
		workerYAML("", workerSrv.URL(), nil),
		"frontend:\n  endpoint: "+frontendSrv.URL()+"\n",
	)}, rw.url+"/api/v1/write")
	ref := startPrometheusConfig(t, fmt.Sprintf(`scrape_configs:
  - job_name: sglang
    static_configs: [{targets: [%q]}]
  - job_name: dynamo-backend
    static_configs: [{targets: [%q]}]
  - job_name: dynamo-frontend
    static_configs: [{targets: [%q]}]
`, engineSrv.Addr(), workerSrv.Addr(), frontendSrv.Addr()))

	// rate() over 1m needs two samples in the window on both sides.
	for _, p := range []*promServer{rw, ref} {
		waitFor(t, 60*time.Second, "two samples of every target's up on "+p.url, func() error {
			r, err := p.query(`count_over_time(up{job=~"sglang|dynamo-backend|dynamo-frontend"}[1m]) >= 2`)
			if err != nil {
				return err
			}
			if len(r) != len(targets) {
				return fmt.Errorf("%d of %d targets", len(r), len(targets))
			}
			return nil
		})
	}
	waitFor(t, 20*time.Second, "every kept source series in the remote-write store", func() error {
		if n := len(stored(t, rw, `{__name__=~"sglang:.+|dynamo_.+"}`)); n < len(want) {
			return fmt.Errorf("%d of %d series", n, len(want))
		}
		return nil
	})

	// 1. Every kept source series, under its own name, with its labels plus
	// job/instance and its value; nothing else in the two namespaces.
	got := exposition{Samples: stored(t, rw, `{__name__=~"sglang:.+|dynamo_.+"}`)}
	if err := got.checkUnique(); err != nil {
		t.Errorf("remote-write store: %v", err)
	}
	idx := got.byKey()
	wantKeys := map[string]bool{}
	var missing, wrong, extra []string
	for _, w := range want {
		wantKeys[w.key()] = true
		g, ok := idx[w.key()]
		switch {
		case !ok:
			missing = append(missing, w.key())
		case !sameValue(g.Value, w.Value):
			wrong = append(wrong, fmt.Sprintf("%s = %s, source says %s", w.key(), formatFloat(g.Value), formatFloat(w.Value)))
		}
	}
	for _, s := range got.Samples {
		if !wantKeys[s.key()] {
			extra = append(extra, s.key())
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d source series did not arrive, e.g.:\n  %s", len(missing), len(want), strings.Join(first(missing, 15), "\n  "))
	}
	if len(wrong) > 0 {
		t.Errorf("%d series arrived with another value:\n  %s", len(wrong), strings.Join(first(wrong, 15), "\n  "))
	}
	if len(extra) > 0 {
		t.Errorf("%d series arrived that no source has (renamed?):\n  %s", len(extra), strings.Join(first(extra, 15), "\n  "))
	}
	// The names most at risk from a suffix-adding strategy, by name.
	for _, name := range []string{
		"sglang:prompt_tokens_total",               // colon, counter with _total
		"dynamo_frontend_model_total_kv_blocks",    // inner "total", a gauge
		"dynamo_component_kvstats_total_blocks",    // inner "total"
		"sglang:cache_hit_rate",                    // would get _ratio with unit 1
		"sglang:time_to_first_token_seconds_count", // histogram parts
		"sglang:http_request_size_bytes_sum",       // a summary's
	} {
		if len(got.filter(func(s sample) bool { return s.Name == name })) == 0 {
			t.Errorf("no %s in the remote-write store", name)
		}
	}
	types := map[string]int{}
	for _, s := range got.Samples {
		switch {
		case strings.HasSuffix(s.Name, "_bucket"):
			types["bucket"]++
		case strings.HasSuffix(s.Name, "_total"):
			types["_total"]++
		}
	}

	// 2. The same series and values as on the collector's :8081, health
	// series and target_info included; no otel_scope_* label anywhere.
	all := stored(t, rw, `{__name__=~".+"}`)
	var scoped []string
	for _, s := range all {
		for k := range s.Labels {
			if strings.HasPrefix(k, "otel_scope_") {
				scoped = append(scoped, s.key())
			}
		}
	}
	if len(scoped) > 0 {
		t.Errorf("%d series arrived with otel_scope_* labels:\n  %s", len(scoped), strings.Join(first(scoped, 10), "\n  "))
	}
	exp, err := c.TryScrape()
	if err != nil {
		t.Fatal(err)
	}
	pushed := exposition{Samples: all}.byKey()
	scraped := exp.byKey()
	var onlyScraped, onlyPushed, differ []string
	for k, s := range scraped {
		p, ok := pushed[k]
		switch {
		case !ok:
			onlyScraped = append(onlyScraped, k)
		case s.Name != "scrape_duration_seconds" && !sameValue(p.Value, s.Value):
			// Each scrape is timed anew; every other value holds still.
			differ = append(differ, fmt.Sprintf("%s: pushed %s, :8081 %s", k, formatFloat(p.Value), formatFloat(s.Value)))
		}
	}
	for k := range pushed {
		if _, ok := scraped[k]; !ok {
			onlyPushed = append(onlyPushed, k)
		}
	}
	sort.Strings(onlyScraped)
	sort.Strings(onlyPushed)
	if len(onlyScraped)+len(onlyPushed)+len(differ) > 0 {
		t.Errorf("remote write and :8081 differ: only on :8081 (%d):\n  %s\nonly pushed (%d):\n  %s\nvalues (%d):\n  %s",
			len(onlyScraped), strings.Join(first(onlyScraped, 10), "\n  "),
			len(onlyPushed), strings.Join(first(onlyPushed, 10), "\n  "),
			len(differ), strings.Join(first(differ, 10), "\n  "))
	}
	var infos int
	for _, s := range all {
		if s.Name == "target_info" {
			infos++
		}
	}
	if infos != len(targets) {
		t.Errorf("%d target_info series arrived, want one per target (%d), as on :8081", infos, len(targets))
	}

	// 3. The text of `le`: the exporter prints a bound as Go's
	// FormatFloat(b, 'f', -1), the same text as :8081 for every bound of the
	// fixtures, and Prometheus stores it as sent (its receiver, unlike its
	// scrape parser, normalises nothing). So SGLang's integral bounds,
	// printed `1.0`, arrive as `1`: the one difference from a direct scrape,
	// which no scrape-side relabel rule can mend on this path.
	rawLe := map[string]string{} // series key -> le as stored
	for _, s := range all {
		if le, ok := s.Labels["le"]; ok {
			rawLe[s.key()] = le
		}
	}
	var leDiffers, leRewritten []string
	for _, s := range exp.Samples {
		le, ok := s.Labels["le"]
		if !ok {
			continue
		}
		if p, ok := rawLe[s.key()]; ok && p != le {
			leDiffers = append(leDiffers, fmt.Sprintf("%s: pushed le=%q, :8081 le=%q", s.key(), p, le))
		}
	}
	for _, w := range want {
		le, ok := w.Labels["le"]
		if !ok {
			continue
		}
		p := rawLe[w.key()]
		f, _ := parseFloat(le)
		wantText := strconv.FormatFloat(f, 'f', -1, 64)
		if math.IsInf(f, 1) {
			wantText = "+Inf"
		}
		if p != wantText {
			t.Errorf("%s: le arrived as %q, want %q (the exporter's FormatFloat 'f' text)", w.key(), p, wantText)
		}
		if p != le {
			leRewritten = append(leRewritten, le+" -> "+p)
		}
	}
	if len(leDiffers) > 0 {
		t.Errorf("%d buckets whose le text differs between remote write and :8081:\n  %s", len(leDiffers), strings.Join(first(leDiffers, 10), "\n  "))
	}
	if len(leRewritten) == 0 {
		t.Error("every le arrived as the source printed it: docs/remote-write.md says integral SGLang bounds arrive as `1`, not `1.0`")
	}

	// 4. The same answers as a Prometheus scraping the workers directly,
	// up to the text of le; and a query naming a bound by the text SGLang
	// prints finds nothing, while one matching both texts agrees. The two
	// sides sample at different moments, so a rate over 1m may lack its
	// second sample on one side for a second: compare until they agree.
	var at time.Time
	var answerDiffs []string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Second) {
		at = time.Now().Add(-time.Second)
		answerDiffs = answerDiffs[:0]
		for _, q := range rwQueries {
			r, v := queryAt(t, ref, q, at), queryAt(t, rw, q, at)
			if len(r) == 0 {
				answerDiffs = append(answerDiffs, q+": no answer from the direct scrape; the fixtures do not exercise it")
			}
			if d := diffResults(canonicalLe(r), canonicalLe(v)); d != "" {
				answerDiffs = append(answerDiffs, q+": direct scrape vs remote write:\n"+d)
			}
		}
		if len(answerDiffs) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, d := range answerDiffs {
		t.Error(d)
	}
	literal := `sglang:e2e_request_latency_seconds_bucket{le="1.0"}`
	either := `sglang:e2e_request_latency_seconds_bucket{le=~"1(\\.0)?"}`
	if r, v := queryAt(t, ref, literal, at), queryAt(t, rw, literal, at); len(r) == 0 || len(v) != 0 {
		t.Errorf("%s: %d series from the direct scrape, %d through remote write; want some and none (docs/remote-write.md)", literal, len(r), len(v))
	}
	if d := diffResults(canonicalLe(queryAt(t, ref, either, at)), canonicalLe(queryAt(t, rw, either, at))); d != "" {
		t.Errorf("%s: direct scrape vs remote write:\n%s", either, d)
	}

	// Metadata (send_metadata): Prometheus 2.42's receiver drops it; report
	// what its API shows.
	_, meta, _ := httpGet(rw.url + "/api/v1/metadata?metric=" + url.QueryEscape("sglang:prompt_tokens_total"))

	t.Logf("arrived: %d of %d kept source series (%d buckets, %d _total series), %d series in all with up/scrape_*/target_info, identical to :8081; %d le texts rewritten (e.g. %s); %d queries agree with a direct scrape (%s); metadata API: %s",
		len(want)-len(missing), len(want), types["bucket"], types["_total"], len(all), len(leRewritten), strings.Join(first(uniq(leRewritten), 3), ", "),
		len(rwQueries)-len(answerDiffs), mustVersion(t), strings.TrimSpace(string(meta)))

	// 5. Staleness. A family that vanishes from a live target: the receiver
	// sends a NoRecordedValue point, the exporter a StaleNaN, and the series
	// leaves instant queries at once instead of after the 5m lookback.
	gone := func(q string) func() error {
		return func() error {
			r, err := rw.query(q)
			if err != nil {
				return err
			}
			if len(r) > 0 {
				return fmt.Errorf("%d series still answer", len(r))
			}
			return nil
		}
	}
	vanishQ := fmt.Sprintf(`%s{instance=%q}`, vanishing, engineSrv.Addr())
	if r, err := rw.query(vanishQ); err != nil || len(r) == 0 {
		t.Fatalf("%s before the drop: %v %v", vanishQ, r, err)
	}
	start := time.Now()
	drop.Store(true)
	waitFor(t, 15*time.Second, vanishing+" to go stale in the remote-write store", gone(vanishQ))
	seriesStale := time.Since(start)

	// A target that goes away: its scrape fails, up becomes 0 and its
	// series go stale; the other targets' stay.
	//
	// Known gap, in the receiver, not the exporter: the receiver's
	// NoRecordedValue point for a histogram carries no bounds and no sum
	// (internal/convert/emit.go staleMarkers), and the exporter writes a
	// StaleNaN only for the buckets and sum a point has, so just `_count`
	// and `le="+Inf"` go stale; the finite buckets and `_sum` answer for
	// Prometheus's 5m lookback. (:8081 is not affected: its exporter
	// deletes the whole series on any such point.) So everything else must
	// go stale at once; the finite buckets and `_sum` of histograms may
	// linger but must no longer be written to. Once the receiver's markers
	// carry bounds and a sum, none linger and this holds unchanged.
	srcTypes := map[string]string{}
	for _, tg := range targets {
		e, err := parseExposition(tg.body)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range e.Types {
			srcTypes[k] = v
		}
	}
	histogramGap := func(s sample) bool {
		if b, ok := strings.CutSuffix(s.Name, "_bucket"); ok && srcTypes[b] == "histogram" {
			return s.Labels["le"] != "+Inf"
		}
		b, ok := strings.CutSuffix(s.Name, "_sum")
		return ok && srcTypes[b] == "histogram"
	}
	workerQ := fmt.Sprintf(`{__name__=~"sglang:.+|dynamo_.+", instance=%q}`, workerSrv.Addr())
	others := fmt.Sprintf(`{__name__=~"sglang:.+|dynamo_.+", instance!=%q}`, workerSrv.Addr())
	before, othersBefore := stored(t, rw, workerQ), len(stored(t, rw, others))
	var gapBefore int
	for _, s := range before {
		if histogramGap(s) {
			gapBefore++
		}
	}
	start = time.Now()
	workerSrv.Stop()
	// Every series goes stale, finite buckets and _sum included: the
	// receiver's markers name every bucket and the sum, so the exporter
	// writes a stale sample to each.
	waitFor(t, 15*time.Second, "the stopped worker's series to go stale", func() error {
		var live []string
		for _, s := range stored(t, rw, workerQ) {
			live = append(live, s.key())
		}
		if len(live) > 0 {
			return fmt.Errorf("%d series still answer, e.g. %s", len(live), strings.Join(first(live, 3), ", "))
		}
		return nil
	})
	targetStale := time.Since(start)
	waitFor(t, 10*time.Second, "up == 0 for the stopped worker", func() error {
		r, err := rw.query(fmt.Sprintf(`up{instance=%q}`, workerSrv.Addr()))
		if err != nil {
			return err
		}
		if len(r) != 1 || r[0].Value != 0 {
			return fmt.Errorf("up = %v", r)
		}
		return nil
	})
	if n := len(stored(t, rw, others)); n != othersBefore {
		t.Errorf("the other targets hold %d series after the worker stopped, %d before", n, othersBefore)
	}
	t.Logf("staleness through remote write: %s left instant queries %s after it vanished; all %d of the stopped worker's series (%d of them finite histogram buckets and _sum) %s after it stopped (up = 0)",
		vanishing, seriesStale.Round(100*time.Millisecond), len(before), gapBefore, targetStale.Round(100*time.Millisecond))
}

func uniq(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
