//go:build e2e

package e2e

// The demo fleet behind the dashboard and rules tests: the demo binary in
// each mode it offers, the built collector scraping every endpoint the demo
// announces, and a real Prometheus with our rules loaded. Also the
// canonical instance names the committed :8081 capture uses, so the capture
// does not depend on the free ports a run happened to get.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	rulesFile     = "../deploy/prometheus/sglangdynamo-rules.yml"
	rulesTestGlob = "../deploy/prometheus/tests/*.yml"
	captureFile   = "../deploy/prometheus/tests/testdata/port8081.txt"
	dashboardFile = "../deploy/grafana/sglangdynamo.json"
	scrapeJobFile = "../deploy/prometheus/scrape-sglangdynamo.yml"
)

// fleetMode is one demo process: its extra flags and the ports it would use
// in the capture. The capture's instances are these ports on 127.0.0.1, as
// if the demo had been started with them, whatever ports the run used.
type fleetMode struct {
	name  string
	flags []string // passed when the demo offers the flag (see demoFlags)
	// canonical first ports: engine, runtime, frontend
	engine, runtime, frontend int
}

// fleetModes are the demo runs behind the dashboard and the capture: the
// unified fleet, and the prefill/decode one that serves the disaggregation
// families. Their canonical ports do not overlap.
var fleetModes = []fleetMode{
	{name: "unified", flags: []string{"-mode", "unified", "-fleet", "current"}, engine: 30000, runtime: 9090, frontend: 8000},
	{name: "disagg", flags: []string{"-mode", "disagg", "-fleet", "current", "-seed", "2"}, engine: 30100, runtime: 9190, frontend: 8100},
}

// fleetPortsPerRole is how many consecutive ports each role gets per demo
// process: room for the demo's workers, whatever -mode makes of them.
const fleetPortsPerRole = 8

// fleetDemoBinary returns the demo binary: SGLANGDYNAMO_DEMO, else
// _build/sglangdynamo-demo when it is newer than the demo's sources, else a
// fresh `go build` of cmd/sglangdynamo-demo (what scripts/run.sh does), so
// the tests never run a demo older than its code.
func fleetDemoBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SGLANGDYNAMO_DEMO"); p != "" {
		return p
	}
	built, err := filepath.Abs(filepath.Join("..", "_build", "sglangdynamo-demo"))
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(built); err == nil {
		srcs, _ := filepath.Glob(filepath.Join("..", "cmd", "sglangdynamo-demo", "*.go"))
		fresh := true
		for _, s := range srcs {
			if ss, err := os.Stat(s); err == nil && ss.ModTime().After(st.ModTime()) && !strings.HasSuffix(s, "_test.go") {
				fresh = false
			}
		}
		if fresh {
			return built
		}
	}
	out := filepath.Join(t.TempDir(), "sglangdynamo-demo")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/sglangdynamo-demo")
	cmd.Dir = ".."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the demo: %v\n%s", err, b)
	}
	return out
}

// demoFlags reports which flags the demo binary defines, from its -h text,
// so that a mode's flags are passed only to a demo that knows them.
func demoFlags(t *testing.T, bin string) map[string]bool {
	t.Helper()
	out, _ := exec.Command(bin, "-h").CombinedOutput()
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+-([a-z][a-z0-9-]*)`).FindAllStringSubmatch(string(out), -1) {
		flags[m[1]] = true
	}
	return flags
}

// demoEndpoint is one /metrics the demo announced on stdout.
type demoEndpoint struct {
	role   string // engine, runtime or frontend: the receiver's target role
	worker string // the demo's worker name; "" for the frontend
	addr   string // host:port the run listens on
	canon  string // host:port the capture names it by
}

// demoFleet is every demo process of a test and what they serve.
type demoFleet struct {
	endpoints []demoEndpoint
	modes     []string // the modes that ran
}

var announceRE = regexp.MustCompile(`^demo: (sglang engine|dynamo worker|dynamo frontend)(?: (\S.*))? on http://([^/]+)/metrics$`)

// startDemoFleet starts one demo process per mode the demo supports (the
// unified one always) and returns the endpoints they announce.
func startDemoFleet(t *testing.T) *demoFleet {
	t.Helper()
	bin := fleetDemoBinary(t)
	known := demoFlags(t, bin)
	f := &demoFleet{}
	for i, m := range fleetModes {
		var extra []string
		supported := true
		for j := 0; j < len(m.flags); j += 2 {
			if known[strings.TrimPrefix(m.flags[j], "-")] {
				extra = append(extra, m.flags[j], m.flags[j+1])
			} else if m.flags[j] == "-mode" {
				supported = false
			}
		}
		if !supported && i > 0 {
			t.Logf("the demo has no -mode flag: running the %s fleet is skipped", m.name)
			continue
		}
		engine := freePortRange(t, fleetPortsPerRole)
		runtime := freePortRange(t, fleetPortsPerRole)
		frontend := freePort(t)
		args := append([]string{
			"-host", "127.0.0.1", "-tick", "500ms",
			"-engine-port", strconv.Itoa(engine), "-runtime-port", strconv.Itoa(runtime),
			"-frontend-port", strconv.Itoa(frontend),
		}, extra...)
		p := startProcess(t, "demo "+m.name, nil, bin, args...)
		canon := map[int]int{frontend: m.frontend}
		for k := range fleetPortsPerRole {
			canon[engine+k] = m.engine + k
			canon[runtime+k] = m.runtime + k
		}
		var eps []demoEndpoint
		waitFor(t, 20*time.Second, "the "+m.name+" demo's endpoints", func() error {
			if p.exited() {
				t.Fatalf("demo %s exited: %v\n%s", m.name, p.err, p.out.String())
			}
			eps = eps[:0]
			sc := bufio.NewScanner(strings.NewReader(p.out.String()))
			for sc.Scan() {
				mm := announceRE.FindStringSubmatch(sc.Text())
				if mm == nil {
					continue
				}
				role := map[string]string{"sglang engine": "engine", "dynamo worker": "runtime", "dynamo frontend": "frontend"}[mm[1]]
				host, portStr, _ := strings.Cut(mm[3], ":")
				port, _ := strconv.Atoi(portStr)
				c, ok := canon[port]
				if !ok {
					t.Fatalf("demo %s serves %s on port %d, outside the ranges it was given", m.name, mm[1], port)
				}
				eps = append(eps, demoEndpoint{role: role, worker: m.name + "/" + mm[2], addr: mm[3], canon: host + ":" + strconv.Itoa(c)})
			}
			if len(eps) == 0 || eps[len(eps)-1].role != "frontend" {
				return fmt.Errorf("announced so far: %v", eps)
			}
			return nil
		})
		f.endpoints = append(f.endpoints, eps...)
		f.modes = append(f.modes, m.name)
	}
	return f
}

// receiverYAML is the receiver configuration for the whole fleet: each demo
// worker as one `workers:` entry with its engine and runtime (so the
// runtime drops the sglang: passthrough, as in config/demo.yaml), and each
// frontend as a frontend target.
func (f *demoFleet) receiverYAML(interval string) string {
	type pair struct{ engine, runtime string }
	byWorker := map[string]*pair{}
	var order []string
	var b strings.Builder
	fmt.Fprintf(&b, "collection_interval: %s\nworkers:\n", interval)
	for _, e := range f.endpoints {
		if e.role == "frontend" {
			fmt.Fprintf(&b, "  - frontend:\n      endpoint: http://%s/metrics\n", e.addr)
			continue
		}
		p := byWorker[e.worker]
		if p == nil {
			p = &pair{}
			byWorker[e.worker] = p
			order = append(order, e.worker)
		}
		if e.role == "engine" {
			p.engine = e.addr
		} else {
			p.runtime = e.addr
		}
	}
	for _, w := range order {
		p := byWorker[w]
		first := "  - "
		if p.engine != "" {
			fmt.Fprintf(&b, "%sengine:\n      endpoint: http://%s/metrics\n", first, p.engine)
			first = "    "
		}
		if p.runtime != "" {
			fmt.Fprintf(&b, "%sruntime:\n      endpoint: http://%s/metrics\n", first, p.runtime)
		}
	}
	return b.String()
}

// canonicalize rewrites every instance="addr" of the run into the
// capture's canonical address.
func (f *demoFleet) canonicalize(body []byte) []byte {
	pairs := make([]string, 0, 2*len(f.endpoints))
	for _, e := range f.endpoints {
		pairs = append(pairs, `instance="`+e.addr+`"`, `instance="`+e.canon+`"`)
	}
	return []byte(strings.NewReplacer(pairs...).Replace(string(body)))
}

// startPrometheusWithRules runs Debian's Prometheus with the scrape job
// users are told to copy (scrapeJobFile: honor_labels and the `le` rule),
// pointed at scrapeTarget, scraping and evaluating rulesPath every second.
func startPrometheusWithRules(t *testing.T, scrapeTarget, rulesPath string) *promServer {
	t.Helper()
	abs, err := filepath.Abs(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	return startPrometheusYAML(t, fmt.Sprintf("global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\nrule_files: [%q]\n%s",
		abs, documentedScrapeJob(t, scrapeTarget)))
}

// documentedScrapeJob is the scrape job users are told to copy
// (scrapeJobFile), pointed at target instead of its placeholder.
func documentedScrapeJob(t *testing.T, target string) string {
	t.Helper()
	job, err := os.ReadFile(scrapeJobFile)
	if err != nil {
		t.Fatal(err)
	}
	const placeholder = "'localhost:8081'"
	if !strings.Contains(string(job), placeholder) {
		t.Fatalf("%s: no target %s to point at the collector", scrapeJobFile, placeholder)
	}
	return strings.Replace(string(job), placeholder, strconv.Quote(target), 1)
}

// seriesKey is a series' identity exactly as printed: name and its labels
// sorted by name, values untouched (no `le` normalisation, unlike
// sample.key), because a rule test's input must match the text Prometheus
// 2.x stores.
func seriesKey(name string, labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('{')
	for i, k := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", k, labels[k])
	}
	b.WriteByte('}')
	return b.String()
}
