//go:build e2e

package e2e

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestDemo runs the main-job command, scripts/run.sh, with no endpoints: it
// must start the demo workers and the collector, and the exporter must show
// both namespaces within a minute. The demo flags in SGLANGDYNAMO_DEMO_FLAGS
// must reach the demo: a disaggregated fleet shows prefill and decode
// engines. Stopping run.sh must stop the demo too.
//
// The binary under test is reused (run.sh runs SGLANGDYNAMO_COLLECTOR
// instead of building). Ports are moved off the defaults (8081, 30000+,
// 9090+, 8000, 13133) through run.sh's environment variables.
func TestDemo(t *testing.T) {
	bin := collectorBinary(t) // skips when the collector is not built
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	promPort := freePort(t)
	enginePort := freePortRange(t, 2)
	runtimePort := freePortRange(t, 2)
	frontendPort := freePort(t)
	env := []string{
		"SGLANG_ENDPOINT=", "DYNAMO_ENDPOINT=", "SGLANGDYNAMO_OTLP_ENDPOINT=",
		"SGLANGDYNAMO_COLLECTOR=" + bin,
		"SGLANGDYNAMO_PROM_PORT=" + strconv.Itoa(promPort),
		"SGLANGDYNAMO_HEALTH_ENDPOINT=127.0.0.1:" + strconv.Itoa(freePort(t)),
		"SGLANGDYNAMO_DEMO_ENGINE_PORT=" + strconv.Itoa(enginePort),
		"SGLANGDYNAMO_DEMO_RUNTIME_PORT=" + strconv.Itoa(runtimePort),
		"SGLANGDYNAMO_DEMO_FRONTEND_PORT=" + strconv.Itoa(frontendPort),
		"SGLANGDYNAMO_DEMO_FLAGS=-mode disagg",
	}
	run := startProcess(t, "scripts/run.sh", env, "bash", filepath.Join(root, "scripts", "run.sh"))
	c := &collector{process: run, PromPort: promPort}

	// The demo listens on these; the exporter must show both namespaces.
	demoAddrs := []int{enginePort, enginePort + 1, runtimePort, runtimePort + 1, frontendPort}
	waitFor(t, 90*time.Second, "sglang: and dynamo_ series from the demo on the exporter", func() error {
		if run.exited() {
			t.Fatalf("run.sh exited: %v", run.err)
		}
		e, err := c.TryScrape()
		if err != nil {
			return err
		}
		instances := map[string]map[string]int{"sglang:": {}, "dynamo_": {}}
		roles := map[string]bool{}
		for _, s := range e.Samples {
			if s.Name == "sglang:num_running_reqs" {
				roles[s.Labels["engine_type"]] = true
			}
			for p := range instances {
				if len(s.Name) > len(p) && s.Name[:len(p)] == p {
					instances[p][s.Labels["instance"]]++
				}
			}
		}
		for _, p := range demoAddrs {
			addr := "127.0.0.1:" + strconv.Itoa(p)
			if instances["sglang:"][addr]+instances["dynamo_"][addr] == 0 {
				return fmt.Errorf("no series from demo endpoint %s yet (have %v)", addr, instances)
			}
		}
		if len(instances["sglang:"]) == 0 || len(instances["dynamo_"]) == 0 {
			return fmt.Errorf("namespaces so far: %v", instances)
		}
		if !roles["prefill"] || !roles["decode"] || roles["unified"] {
			return fmt.Errorf("engine_type values %v, want prefill and decode (-mode disagg)", roles)
		}
		return nil
	})

	// Stop run.sh the way a user does (SIGTERM/Ctrl-C to the script), and
	// check that the collector and the demo are gone.
	run.stop(t, 20*time.Second)
	for _, p := range append(demoAddrs, promPort) {
		if conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(p), time.Second); err == nil {
			conn.Close()
			t.Errorf("port %d still accepts connections after run.sh stopped", p)
		}
	}
	if pids := processesWith(t, []byte("-engine-port\x00"+strconv.Itoa(enginePort))); len(pids) > 0 {
		t.Errorf("demo processes still running after run.sh stopped: %v", pids)
	}
	if pids := processesWith(t, []byte("otelcol-sglangdynamo")); len(pids) > 0 {
		for _, pid := range pids {
			cmdline, _ := os.ReadFile(filepath.Join("/proc", pid, "cmdline"))
			if bytes.Contains(cmdline, []byte(bin)) && bytes.Contains(cmdline, []byte(filepath.Join(root, "config", "demo.yaml"))) {
				t.Errorf("collector %s still running after run.sh stopped: %q", pid, cmdline)
			}
		}
	}
}

// processesWith lists the pids whose command line contains needle.
func processesWith(t *testing.T, needle []byte) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var out []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, needle) {
			out = append(out, e.Name())
		}
	}
	return out
}
