package harness

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sglangdynamo/sglangdynamoreceiver/bench/payloads"
)

// TestSameDataPoints runs each scraper for a handful of scrapes of each
// payload and checks that both receivers deliver the same kept metric names
// and the same number of data points per target-scrape. It measures
// nothing: timings are for cmd/compare, not for a test.
func TestSameDataPoints(t *testing.T) {
	bodies := map[string][]byte{}
	for _, p := range payloads.All() {
		bodies[p.Name] = p.Body
	}
	ports, closeAll, err := Listen(2, Handler(bodies))
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	for _, p := range payloads.All() {
		t.Run(p.Name, func(t *testing.T) {
			got := map[Kind]int{}
			names := map[Kind][]string{}
			for _, k := range Kinds {
				sink := NewSink()
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				stop, err := Start(ctx, k, Setup{Ports: ports, Path: "/p/" + p.Name, Interval: 100 * time.Millisecond}, sink)
				if err != nil {
					cancel()
					t.Fatalf("%s: %v", k, err)
				}
				err = sink.WaitScrapes(ctx, 6)
				stop()
				cancel()
				if err != nil {
					t.Fatalf("%s: %v", k, err)
				}
				per := sink.PerScrape()
				if _, failed := per[-1]; failed {
					t.Fatalf("%s: failed scrapes: %v", k, per)
				}
				got[k] = mode(per)
				for n := range sink.Names() {
					names[k] = append(names[k], n)
				}
				slices.Sort(names[k])
				t.Logf("%s: %d target-scrapes, kept points per scrape %v, %d kept metrics", k, sink.Scrapes(), per, len(names[k]))
			}
			if got[Ours] == 0 || got[Ours] != got[Prom] {
				t.Errorf("kept data points per scrape: %s %d, %s %d", Ours, got[Ours], Prom, got[Prom])
			}
			if !slices.Equal(names[Ours], names[Prom]) {
				t.Errorf("kept metric names differ:\n%s %v\n%s %v", Ours, names[Ours], Prom, names[Prom])
			}
		})
	}
}

// mode returns the most frequent value (the steady per-scrape count).
func mode(m map[int]int) int {
	best, n := 0, -1
	for v, c := range m {
		if c > n || c == n && v > best {
			best, n = v, c
		}
	}
	return best
}

// TestTestdataUpToDate checks that bench/testdata holds what the generator
// writes; run `go generate ./payloads` after changing it.
func TestTestdataUpToDate(t *testing.T) {
	for _, p := range payloads.All() {
		b, err := os.ReadFile(filepath.Join("..", "testdata", p.Name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, p.Body) {
			t.Errorf("testdata/%s.txt is stale: run go generate ./payloads", p.Name)
		}
	}
}
