//go:build e2e

package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestExporterSoak flaps 32 targets (listeners closed and reopened on the
// same port) for SGLANGDYNAMO_SOAK while the built collector scrapes them
// every second. Throughout, the exporter must only serve series of targets
// that are up (or went down within the last two intervals); at the end, with
// every target up, its series count must equal the live set exactly, and the
// collector's resident memory must not have grown with the churn.
func TestExporterSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("SGLANGDYNAMO_SOAK"))
	if err != nil || d <= 0 {
		t.Skip("set SGLANGDYNAMO_SOAK=2m (or 10m) to run the soak")
	}
	const targets = 32
	body := readFixture(t, "sglang_engine_promclient.txt")
	perTarget := len(expectedFromSource(t, body, []string{"sglang:", "dynamo_"}, "sglang", "x"))

	var srv []*fixtureServer
	var workers []string
	for range targets {
		s := serveFixture(t, staticBody(body))
		srv = append(srv, s)
		workers = append(workers, workerYAML(s.URL(), "", nil))
	}
	c := startCollector(t, collectorOptions{Receiver: receiverYAML("1s", workers...)})

	countLive := func() (int, error) {
		e, err := c.TryScrape()
		if err != nil {
			return 0, err
		}
		return len(e.filter(func(s sample) bool { return isNamespaced(s.Name) })), nil
	}
	waitFor(t, 30*time.Second, "all targets on the exporter", func() error {
		if n, err := countLive(); err != nil || n != targets*perTarget {
			return fmt.Errorf("%d series, want %d (%v)", n, targets*perTarget, err)
		}
		return nil
	})
	rssStart := rssKiB(t, c.cmd.Process.Pid)

	up := make([]bool, targets)
	for i := range up {
		up[i] = true
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var rssMid int
	deadline := time.Now().Add(d)
	half := time.Now().Add(d / 2)
	for time.Now().Before(deadline) {
		for i, s := range srv {
			if rng.IntN(6) != 0 { // a state change every ~3 s per target
				continue
			}
			if up[i] {
				s.Stop()
			} else {
				s.Start()
			}
			up[i] = !up[i]
		}
		time.Sleep(500 * time.Millisecond)
		if rssMid == 0 && time.Now().After(half) {
			rssMid = rssKiB(t, c.cmd.Process.Pid)
		}
		if c.exited() {
			t.Fatalf("the collector exited during the soak: %v", c.err)
		}
	}

	for i, s := range srv {
		if !up[i] {
			s.Start()
		}
	}
	waitFor(t, 20*time.Second, "the exporter's series settling to the live set", func() error {
		if n, err := countLive(); err != nil || n != targets*perTarget {
			return fmt.Errorf("%d series, want %d (%v)", n, targets*perTarget, err)
		}
		return nil
	})
	rssEnd := rssKiB(t, c.cmd.Process.Pid)
	t.Logf("collector RSS: %d KiB after warm-up, %d KiB mid-soak, %d KiB at the end", rssStart, rssMid, rssEnd)
	if rssEnd > rssMid*3/2+16<<10 {
		t.Errorf("RSS grew from %d KiB mid-soak to %d KiB at the end", rssMid, rssEnd)
	}
}

// rssKiB reads a process's resident set size from /proc.
func rssKiB(t *testing.T, pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}
