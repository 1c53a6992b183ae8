//go:build e2e

package e2e

import (
	"fmt"
	"testing"
	"time"
)

// TestTargetLoss stops one worker (engine and runtime), checks that its
// series leave the exporter within one collection interval (plus slack)
// while its `up` turns 0 and the other worker is untouched, then brings it
// back on the same ports and checks that its series return with new start
// times.
//
// Start times are checked over OTLP rather than through `_created` on the
// exporter: `_created` only shows in OpenMetrics, which would mean running
// the exporter with enable_open_metrics, i.e. not the shipped settings,
// while OTLP carries the receiver's StartTimestamp itself at ns precision.
func TestTargetLoss(t *testing.T) {
	const interval = time.Second
	engineBody := readFixture(t, "sglang_engine_promclient.txt")
	workerBody := readFixture(t, "dynamo_worker.txt")
	var srv [2][2]*fixtureServer // [worker][engine, runtime]
	var workers []string
	for i := range 2 {
		srv[i][0] = serveFixture(t, staticBody(engineBody))
		srv[i][1] = serveFixture(t, staticBody(workerBody))
		workers = append(workers, workerYAML(srv[i][0].URL(), srv[i][1].URL(), map[string]string{"worker": fmt.Sprintf("w%d", i)}))
	}
	sink := startOTLPSink(t)
	c := startCollector(t, collectorOptions{Receiver: receiverYAML(interval.String(), workers...), OTLPEndpoint: sink.URL})

	wantEngine := len(expectedFromSource(t, engineBody, []string{"sglang:"}, "sglang", "x"))
	wantRuntime := len(expectedFromSource(t, workerBody, []string{"dynamo_"}, "dynamo-backend", "x"))
	countOf := func(e exposition, s *fixtureServer) int { return len(e.filter(fromInstance(s.Addr()))) }
	allThere := func(e exposition, w int) error {
		if n := countOf(e, srv[w][0]); n != wantEngine {
			return fmt.Errorf("worker %d engine: %d series, want %d", w, n, wantEngine)
		}
		if n := countOf(e, srv[w][1]); n != wantRuntime {
			return fmt.Errorf("worker %d runtime: %d series, want %d", w, n, wantRuntime)
		}
		return nil
	}
	var before exposition
	waitFor(t, 20*time.Second, "both workers on the exporter", func() error {
		var err error
		if before, err = c.TryScrape(); err != nil {
			return err
		}
		if err := allThere(before, 0); err != nil {
			return err
		}
		return allThere(before, 1)
	})
	// Start times of worker 1's cumulative series before the loss.
	oldStart := map[string]uint64{}
	for _, p := range sink.points() {
		if (p.Instance == srv[1][0].Addr() || p.Instance == srv[1][1].Addr()) && p.cumulative() {
			oldStart[p.Instance+" "+p.Key] = p.Start
		}
	}
	if len(oldStart) == 0 {
		t.Fatal("no cumulative points of worker 1 over OTLP")
	}
	snapshot := func(e exposition) map[string]float64 {
		m := map[string]float64{}
		for _, s := range e.Samples {
			if isNamespaced(s.Name) && (s.Labels["instance"] == srv[0][0].Addr() || s.Labels["instance"] == srv[0][1].Addr()) {
				m[s.key()] = s.Value
			}
		}
		return m
	}
	w0 := snapshot(before)

	// Lose worker 1.
	stopped := time.Now()
	srv[1][0].Stop()
	srv[1][1].Stop()
	var during exposition
	waitFor(t, interval+3*time.Second, "worker 1's series to leave the exporter and its up to be 0", func() error {
		var err error
		if during, err = c.TryScrape(); err != nil {
			return err
		}
		for _, s := range srv[1] {
			if n := countOf(during, s); n != 0 {
				return fmt.Errorf("%s still has %d series", s.Addr(), n)
			}
		}
		for j, s := range srv[1] {
			job := []string{"sglang", "dynamo-backend"}[j]
			if v, ok := during.value("up", map[string]string{"job": job, "instance": s.Addr()}); !ok || v != 0 {
				return fmt.Errorf("up{instance=%q} = %v (present %v), want 0", s.Addr(), v, ok)
			}
		}
		return nil
	})
	t.Logf("worker 1's series left the exporter %s after it stopped (collection interval %s)", time.Since(stopped).Round(10*time.Millisecond), interval)
	// Worker 0 is unchanged: same series, same values, up still 1.
	after := snapshot(during)
	if len(after) != len(w0) {
		t.Errorf("worker 0 had %d series before the loss, %d during", len(w0), len(after))
	}
	for k, v := range w0 {
		if g, ok := after[k]; !ok || !sameValue(g, v) {
			t.Errorf("worker 0 series %s changed: %v -> %v (present %v)", k, v, g, ok)
		}
	}
	for j, s := range srv[0] {
		job := []string{"sglang", "dynamo-backend"}[j]
		if v, ok := during.value("up", map[string]string{"job": job, "instance": s.Addr()}); !ok || v != 1 {
			t.Errorf("worker 0 up{instance=%q} = %v, want 1", s.Addr(), v)
		}
	}

	// Bring worker 1 back on the same ports.
	restarted := time.Now()
	srv[1][0].Start()
	srv[1][1].Start()
	waitFor(t, interval+5*time.Second, "worker 1's series to return", func() error {
		e, err := c.TryScrape()
		if err != nil {
			return err
		}
		return allThere(e, 1)
	})
	// New start times: every cumulative series of worker 1 exported after
	// the restart starts after the restart.
	waitFor(t, 10*time.Second, "worker 1's returned series over OTLP with new start times", func() error {
		n := 0
		for _, p := range sink.points() {
			if p.Instance != srv[1][0].Addr() && p.Instance != srv[1][1].Addr() || !p.cumulative() {
				continue
			}
			if p.Time < uint64(restarted.UnixNano()) {
				continue
			}
			k := p.Instance + " " + p.Key
			old, had := oldStart[k]
			if !had {
				return fmt.Errorf("series %s was not there before the loss", k)
			}
			if p.Start <= old || p.Start < uint64(stopped.UnixNano()) {
				t.Fatalf("%s: start time after return %d, before loss %d, loss at %d: want a new start time", k, p.Start, old, stopped.UnixNano())
			}
			n++
		}
		if n < len(oldStart) {
			return fmt.Errorf("%d of %d returned cumulative points seen", n, len(oldStart))
		}
		return nil
	})
}
