//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// fidelityTarget is one served endpoint and what the exporter must show
// for it.
type fidelityTarget struct {
	srv      *fixtureServer
	body     []byte
	prefixes []string
	job      string
}

// TestFidelity serves two identical workers (SGLang engine + Dynamo worker
// runtime each, so their label sets differ only by endpoint) and a Dynamo
// frontend, and checks that the exporter shows every kept source sample
// under its own name, labels (+job/instance) and value, nothing from other
// namespaces besides up/scrape_*/target_info, and no collisions.
func TestFidelity(t *testing.T) {
	engine := readFixture(t, "sglang_engine_promclient.txt")
	worker := readFixture(t, "dynamo_worker.txt")
	frontend := readFixture(t, "dynamo_frontend.txt")

	var targets []fidelityTarget
	var workers []string
	for i := range 2 {
		e := serveFixture(t, staticBody(engine))
		r := serveFixture(t, staticBody(worker))
		// A worker with both targets keeps sglang: from the engine and
		// dynamo_ from the runtime (the runtime's passed-through sglang:
		// copies are dropped, so nothing is counted twice).
		targets = append(targets,
			fidelityTarget{e, engine, []string{"sglang:"}, "sglang"},
			fidelityTarget{r, worker, []string{"dynamo_"}, "dynamo-backend"})
		workers = append(workers, workerYAML(e.URL(), r.URL(), map[string]string{"worker": fmt.Sprintf("w%d", i)}))
	}
	fe := serveFixture(t, staticBody(frontend))
	// The frontend is a role of its own: it keeps dynamo_, as job
	// dynamo-frontend.
	targets = append(targets, fidelityTarget{fe, frontend, []string{"dynamo_"}, "dynamo-frontend"})
	workers = append(workers, "frontend:\n  endpoint: "+fe.URL()+"\nattributes:\n  worker: \"frontend\"\n")

	c := startCollector(t, collectorOptions{Receiver: receiverYAML("1s", workers...)})

	var want []sample
	for _, tg := range targets {
		want = append(want, expectedFromSource(t, tg.body, tg.prefixes, tg.job, tg.srv.Addr())...)
	}

	// Wait until every target has been scraped once and exported.
	var got exposition
	waitFor(t, 20*time.Second, "every target's up == 1 on the exporter", func() error {
		var err error
		got, err = c.TryScrape()
		if err != nil {
			return err
		}
		for _, tg := range targets {
			v, ok := got.value("up", map[string]string{"job": tg.job, "instance": tg.srv.Addr()})
			if !ok || v != 1 {
				return fmt.Errorf("up{job=%q,instance=%q} = %v (present %v)", tg.job, tg.srv.Addr(), v, ok)
			}
		}
		if n := len(got.filter(func(s sample) bool { return isNamespaced(s.Name) })); n < len(want) {
			return fmt.Errorf("%d namespaced series so far, want %d", n, len(want))
		}
		return nil
	})

	// 1. Every kept source sample, identical.
	idx := got.byKey()
	var missing, wrong []string
	for _, w := range want {
		g, ok := idx[w.key()]
		switch {
		case !ok:
			missing = append(missing, w.key())
		case !sameValue(g.Value, w.Value):
			wrong = append(wrong, fmt.Sprintf("%s = %s, source says %s", w.key(), formatFloat(g.Value), formatFloat(w.Value)))
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d source samples missing from the exporter, e.g.:\n  %s", len(missing), len(want), strings.Join(first(missing, 15), "\n  "))
	}
	if len(wrong) > 0 {
		t.Errorf("%d samples with a different value:\n  %s", len(wrong), strings.Join(first(wrong, 15), "\n  "))
	}

	// 2. Nothing from other namespaces but up, scrape_* and target_info.
	var foreign []string
	for _, s := range got.Samples {
		if isNamespaced(s.Name) || s.Name == "up" || s.Name == "target_info" || strings.HasPrefix(s.Name, "scrape_") {
			continue
		}
		foreign = append(foreign, s.key())
	}
	if len(foreign) > 0 {
		t.Errorf("series outside sglang:/dynamo_ on the exporter:\n  %s", strings.Join(first(foreign, 15), "\n  "))
	}

	// 3. No collisions: as many namespaced series as the targets keep
	// together (series identical apart from the endpoint must stay apart).
	wantKeys := map[string]bool{}
	for _, w := range want {
		wantKeys[w.key()] = true
	}
	if len(wantKeys) != len(want) {
		t.Errorf("the fixtures themselves repeat series: %d samples, %d distinct", len(want), len(wantKeys))
	}
	namespaced := got.filter(func(s sample) bool { return isNamespaced(s.Name) })
	if len(namespaced) != len(want) {
		var extra []string
		for _, s := range namespaced {
			if !wantKeys[s.key()] {
				extra = append(extra, s.key())
			}
		}
		t.Errorf("exporter has %d namespaced series, the targets keep %d in total; not in any source:\n  %s",
			len(namespaced), len(want), strings.Join(first(extra, 15), "\n  "))
	}

	// 4. Each target has its health series and target_info with the worker
	// attribute.
	for i, tg := range targets {
		id := map[string]string{"job": tg.job, "instance": tg.srv.Addr()}
		for _, h := range []string{"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling"} {
			if _, ok := got.value(h, id); !ok {
				t.Errorf("%s%v missing", h, id)
			}
		}
		var info []sample
		for _, s := range got.Samples {
			if s.Name == "target_info" && s.Labels["job"] == tg.job && s.Labels["instance"] == tg.srv.Addr() {
				info = append(info, s)
			}
		}
		wantWorker := []string{"w0", "w0", "w1", "w1", "frontend"}[i]
		if len(info) != 1 || info[0].Labels["worker"] != wantWorker {
			t.Errorf("target_info for %v = %v, want one with worker=%q", id, info, wantWorker)
		}
	}
	t.Logf("%d source samples from %d targets matched on the exporter (%d series in all)", len(want), len(targets), len(got.Samples))
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("... and %d more", len(s)-n))
	}
	return s
}
