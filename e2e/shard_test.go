//go:build e2e

package e2e

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// shardLog records every scrape of the simulated fleet: which target, by
// which replica (the X-Replica header each collector sends: "count/index"),
// and when.
type shardLog struct {
	mu   sync.Mutex
	hits []shardHit
}

type shardHit struct {
	target  int
	replica string
	at      time.Time
}

// fleetBody is a small SGLang body: the simulation is about who scrapes
// whom, not about conversion.
const fleetBody = `# HELP sglang:num_running_reqs The number of running requests.
# TYPE sglang:num_running_reqs gauge
sglang:num_running_reqs{model_name="m"} 3.0
# HELP sglang:prompt_tokens_total Number of prefill tokens processed.
# TYPE sglang:prompt_tokens_total counter
sglang:prompt_tokens_total{model_name="m"} 1234.0
`

// serveFleet starts n targets, each a real HTTP server on its own loopback
// port, and returns their addresses.
func serveFleet(t *testing.T, n int, log *shardLog) []string {
	addrs := make([]string, n)
	for i := range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = l.Addr().String()
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			log.mu.Lock()
			log.hits = append(log.hits, shardHit{i, r.Header.Get("X-Replica"), time.Now()})
			log.mu.Unlock()
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			_, _ = w.Write([]byte(fleetBody))
		})}
		go func() { _ = srv.Serve(l) }()
		t.Cleanup(func() { _ = srv.Close() })
	}
	return addrs
}

// writeTargets rewrites the file SD file atomically with the targets idx.
func writeTargets(t *testing.T, path string, addrs []string, idx []int) {
	var ts []string
	for _, i := range idx {
		ts = append(ts, addrs[i])
	}
	b, _ := json.Marshal([]map[string]any{{"targets": ts}})
	if err := os.WriteFile(path+".tmp", b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

// startReplicas starts count collectors, shard 0..count-1 of count, all at
// once (a StatefulSet with parallel pod management), and waits until all
// answer their health check.
func startReplicas(t *testing.T, count int, sdFile, interval string) []*process {
	cs := make([]*collector, count)
	for i := range count {
		rcv := fmt.Sprintf(`collection_interval: %s
initial_delay: 0s
discovery:
  file_sd_configs: [{files: [%q], refresh_interval: 1s}]
discovery_client:
  headers: {X-Replica: "%d/%d"}
shard: {count: %d, index: %d}
`, interval, sdFile, count, i, count, i)
		cs[i] = launchCollector(t, collectorOptions{Receiver: rcv, Name: fmt.Sprintf("collector %d/%d", count, i)})
	}
	ps := make([]*process, count)
	for i, c := range cs {
		waitHealthy(t, c.process, c.HealthPort)
		ps[i] = c.process
	}
	return ps
}

// owner is the shard Prometheus's hashmod gives addr among count.
func owner(addr string, count int) int {
	sum := md5.Sum([]byte(addr))
	return int(binary.BigEndian.Uint64(sum[8:]) % uint64(count))
}

// TestShardedFleet is issue 13's fleet simulation: collector processes
// share 512 targets found by file SD, by hashmod. Targets leave and join,
// then a fifth replica is added (every replica restarts with the new
// count, as a StatefulSet whose SHARD_COUNT changes). Throughout, every
// scrape is by the replica hashmod names for the current count, so no
// target is scraped by two replicas, the two generations never overlap,
// and no target that stays in the file goes unscraped for more than one
// interval beyond its own.
func TestShardedFleet(t *testing.T) {
	const (
		n        = 512
		interval = 2 * time.Second
	)
	log := &shardLog{}
	addrs := serveFleet(t, n, log)
	sd := filepath.Join(t.TempDir(), "targets.json")
	all := func(from, to int) []int {
		var idx []int
		for i := from; i < to; i++ {
			idx = append(idx, i)
		}
		return idx
	}
	// 480 targets at first; later 32 leave (0..31) and 32 join (480..511).
	writeTargets(t, sd, addrs, all(0, 480))
	ps := startReplicas(t, 4, sd, interval.String())

	waitFor(t, 30*time.Second, "every target scraped", func() error {
		log.mu.Lock()
		defer log.mu.Unlock()
		seen := map[int]bool{}
		for _, h := range log.hits {
			seen[h.target] = true
		}
		if len(seen) < 480 {
			return fmt.Errorf("%d of 480 targets scraped", len(seen))
		}
		return nil
	})
	steady := time.Now()
	time.Sleep(3 * interval)

	changed := time.Now()
	writeTargets(t, sd, addrs, all(32, 512))
	time.Sleep(4 * interval)

	// A fifth replica: every replica takes the new count at once.
	stopping := time.Now()
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(func() { p.stop(t, 15*time.Second) })
	}
	wg.Wait()
	stopped := time.Now()
	startReplicas(t, 5, sd, interval.String())
	started := time.Now()
	time.Sleep(4 * interval)
	end := time.Now()

	log.mu.Lock()
	hits := slices.Clone(log.hits)
	log.mu.Unlock()

	// 1. Every scrape is by the target's owner for the scraping replica's
	// count; the generations do not overlap.
	var lastOld, firstNew time.Time
	perTarget := map[int][]time.Time{}
	for _, h := range hits {
		count, index, ok := strings.Cut(h.replica, "/")
		c, _ := strconv.Atoi(count)
		i, _ := strconv.Atoi(index)
		if !ok || c == 0 {
			t.Fatalf("a scrape without a replica header: %+v", h)
		}
		if o := owner(addrs[h.target], c); o != i {
			t.Errorf("target %s scraped by replica %s; hashmod gives %d/%d", addrs[h.target], h.replica, c, o)
		}
		if c == 4 && h.at.After(lastOld) {
			lastOld = h.at
		}
		if c == 5 && (firstNew.IsZero() || h.at.Before(firstNew)) {
			firstNew = h.at
		}
		if h.at.After(steady) {
			perTarget[h.target] = append(perTarget[h.target], h.at)
		}
	}
	if !lastOld.Before(firstNew) {
		t.Errorf("the 4-replica generation scraped until %s, after the 5-replica one began at %s", lastOld, firstNew)
	}

	// 2. No target that stays goes unscraped for more than one interval
	// beyond its own (a gap above 2 intervals), the restart included;
	// leavers stop being scraped, joiners start.
	var worst time.Duration
	for i := range n {
		ts := perTarget[i]
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
		switch {
		case i < 32: // left at `changed`
			if len(ts) > 0 && ts[len(ts)-1].After(changed.Add(3*interval)) {
				t.Errorf("target %d left at %s but was scraped at %s", i, changed.Format(time.StampMilli), ts[len(ts)-1].Format(time.StampMilli))
			}
		case i >= 480: // joined at `changed`
			if len(ts) == 0 || ts[0].After(changed.Add(3*interval)) {
				t.Errorf("target %d joined at %s; first scrape %v", i, changed.Format(time.StampMilli), ts)
			}
		default:
			prev := steady
			for _, at := range append(ts, end) {
				if gap := at.Sub(prev); gap > worst {
					worst = gap
				}
				prev = at
			}
		}
	}
	if worst > 2*interval {
		t.Errorf("a target that stayed went unscraped for %s (interval %s)", worst, interval)
	}
	t.Logf("%d scrapes of %d targets; 4 replicas stopped in %s, 5 started in %s; longest gap of a staying target %s (interval %s)",
		len(hits), n, stopped.Sub(stopping).Round(time.Millisecond), started.Sub(stopped).Round(time.Millisecond), worst.Round(time.Millisecond), interval)
}
