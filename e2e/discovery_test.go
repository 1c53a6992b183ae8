//go:build e2e

package e2e

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"go.yaml.in/yaml/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The service discovery tests run the built collector with the receiver's
// `discovery:` block against real sources of targets: files, an HTTP
// server, dnsmasq and (the one fake) a Kubernetes API. Targets are fixture
// servers with the captured bodies of e2e/testdata.
//
// The exporter's metric_expiration is far longer than any test, so a
// series that leaves :8081 left by the staleness markers the receiver sends
// when discovery loses its target, not by expiry.

const (
	sdInterval = time.Second
	// sdLeave is how soon a lost target's series must be gone from :8081:
	// the discovery manager sends updates once a second, the next round
	// applies them (one interval), and batch holds them up to 200ms.
	sdLeave = time.Second + 2*sdInterval + time.Second
	// noExpiry keeps the exporter from expiring series during a test.
	noExpiry = "10m"
)

var (
	engineRole   = []string{"sglang:", "dynamo_"}
	runtimeRole  = []string{"sglang:", "dynamo_"}
	frontendRole = []string{"dynamo_"}
)

// TestDiscoveryFileSD: file_sd_configs on a real JSON file, beside a static
// engine target. Checks each discovered target's series and job/instance
// (the role's job, or the group's `job` label), a relabelled label in
// target_info, a target dropped by a keep rule never scraped; then a target
// removed from the file leaves :8081 (series and up) within two intervals
// and the update, and comes back with new start times when added again.
func TestDiscoveryFileSD(t *testing.T) {
	engineBody := readFixture(t, "sglang_engine_promclient.txt")
	workerBody := readFixture(t, "dynamo_worker.txt")
	static := serveFixture(t, staticBody(engineBody))
	engA := serveFixture(t, staticBody(engineBody))
	engB := serveFixture(t, staticBody(engineBody))
	worker := serveFixture(t, staticBody(workerBody))
	batch := serveFixture(t, staticBody(engineBody))

	file := filepath.Join(t.TempDir(), "targets.json")
	groups := func(withB bool) []byte {
		gs := []sdGroup{
			{Targets: []string{engA.Addr()}, Labels: map[string]string{"team": "inference", "zone": "us-east-1a"}},
			{Targets: []string{worker.Addr()}, Labels: map[string]string{"team": "inference", "__role__": "runtime"}},
			// Dropped by the keep rule on team.
			{Targets: []string{batch.Addr()}, Labels: map[string]string{"team": "batch"}},
		}
		if withB {
			gs = append(gs, sdGroup{Targets: []string{engB.Addr()}, Labels: map[string]string{"team": "inference", "job": "sglang-canary"}})
		}
		return sdJSON(t, gs...)
	}
	writeFileAtomic(t, file, groups(true))

	// $$1: the collector expands ${...} and $$ in its config.
	receiver := fmt.Sprintf(`collection_interval: %s
engine:
  endpoint: %s
discovery:
  file_sd_configs:
    - files: [%q]
  relabel_configs:
    - source_labels: [team]
      regex: inference
      action: keep
    - source_labels: [zone]
      regex: (.+)[a-z]
      target_label: region
      replacement: $$1
    - action: labeldrop
      regex: zone
`, sdInterval, static.URL(), file)
	sink := startOTLPSink(t)
	c := startCollector(t, collectorOptions{Receiver: receiver, OTLPEndpoint: sink.URL, MetricExpiration: noExpiry})

	wStatic := wantTarget{"static engine", engineBody, engineRole, "sglang", static.Addr()}
	wA := wantTarget{"discovered engine A", engineBody, engineRole, "sglang", engA.Addr()}
	wB := wantTarget{"discovered engine B (job from its group)", engineBody, engineRole, "sglang-canary", engB.Addr()}
	wWorker := wantTarget{"discovered runtime", workerBody, runtimeRole, "dynamo-backend", worker.Addr()}
	never := func(e exposition) error { return checkNever(e, "the target the keep rule drops", batch.Addr()) }
	all := []func(exposition) error{
		func(e exposition) error { return wStatic.check(t, e) },
		func(e exposition) error { return wA.check(t, e) },
		func(e exposition) error { return wB.check(t, e) },
		func(e exposition) error { return wWorker.check(t, e) },
		never,
	}
	e := checkAll(t, c, 20*time.Second, "the static and the three discovered targets on :8081", all...)

	// Labels that survive relabelling are resource attributes: target_info,
	// not series labels.
	info, ok := targetInfo(e, "sglang", engA.Addr())
	if !ok {
		t.Fatalf("no target_info for engine A")
	}
	if info["region"] != "us-east-1" || info["team"] != "inference" {
		t.Errorf("target_info of engine A %v: want region=\"us-east-1\" (relabelled from zone) and team=\"inference\"", info)
	}
	for k := range info {
		if k == "zone" || strings.HasPrefix(k, "__") {
			t.Errorf("target_info of engine A has %s=%q, which relabelling dropped", k, info[k])
		}
	}
	for _, s := range e.filter(fromInstance(engA.Addr())) {
		if _, ok := s.Labels["region"]; ok {
			t.Fatalf("a discovered label became a series label: %s", s.key())
		}
	}

	// Engine B's cumulative start times, to compare when it returns.
	oldStart := map[string]uint64{}
	waitFor(t, 10*time.Second, "engine B's cumulative points over OTLP", func() error {
		for _, p := range sink.points() {
			if p.Instance == engB.Addr() && p.cumulative() {
				oldStart[p.Key] = p.Start
			}
		}
		if len(oldStart) == 0 {
			return fmt.Errorf("none yet")
		}
		return nil
	})

	// Remove engine B from the file.
	removed := time.Now()
	writeFileAtomic(t, file, groups(false))
	checkAll(t, c, sdLeave, "engine B's series and up to leave :8081 (staleness)",
		func(e exposition) error { return checkGone(e, "engine B", engB.Addr()) })
	t.Logf("engine B left :8081 %s after it left the file (interval %s)", time.Since(removed).Round(10*time.Millisecond), sdInterval)
	// The others are untouched.
	checkAll(t, c, 5*time.Second, "the other targets to stay", all[0], all[1], all[3], never)

	// Add it back: it returns, as a new target.
	readded := time.Now()
	writeFileAtomic(t, file, groups(true))
	checkAll(t, c, sdLeave+5*time.Second, "engine B back on :8081", all...)
	waitFor(t, 10*time.Second, "engine B's returned series over OTLP with new start times", func() error {
		n := 0
		for _, p := range sink.points() {
			if p.Instance != engB.Addr() || !p.cumulative() || p.Time < uint64(readded.UnixNano()) {
				continue
			}
			old, had := oldStart[p.Key]
			if !had {
				return fmt.Errorf("series %s was not there before", p.Key)
			}
			if p.Start <= old || p.Start < uint64(removed.UnixNano()) {
				t.Fatalf("%s: start time %d after return, %d before removal (removed at %d): want a new start", p.Key, p.Start, old, removed.UnixNano())
			}
			n++
		}
		if n < len(oldStart) {
			return fmt.Errorf("%d of %d cumulative points seen since the return", n, len(oldStart))
		}
		return nil
	})
	if n := batch.requests.Load(); n != 0 {
		t.Errorf("the target the keep rule drops was fetched %d times", n)
	}
}

// TestDiscoveryLabelChange: a discovered target whose labels change (here
// a file_sd label, kept as a resource attribute) is a new target with the
// same job, instance and series. Its series and up must stay on :8081
// through the change, with target_info showing the new label: the old
// target's staleness markers must not remove what the new one reports in
// the same round.
func TestDiscoveryLabelChange(t *testing.T) {
	engineBody := readFixture(t, "sglang_engine_promclient.txt")
	eng := serveFixture(t, staticBody(engineBody))
	file := filepath.Join(t.TempDir(), "targets.json")
	group := func(zone string) []byte {
		return sdJSON(t, sdGroup{Targets: []string{eng.Addr()}, Labels: map[string]string{"zone": zone}})
	}
	writeFileAtomic(t, file, group("a"))
	receiver := fmt.Sprintf("collection_interval: %s\ndiscovery:\n  file_sd_configs:\n    - files: [%q]\n", sdInterval, file)
	c := startCollector(t, collectorOptions{Receiver: receiver, MetricExpiration: noExpiry})
	w := wantTarget{"the engine", engineBody, engineRole, "sglang", eng.Addr()}
	zoneIs := func(zone string) func(exposition) error {
		return func(e exposition) error {
			if info, ok := targetInfo(e, "sglang", eng.Addr()); !ok || info["zone"] != zone {
				return fmt.Errorf("target_info = %v (present %v), want zone=%q", info, ok, zone)
			}
			return nil
		}
	}
	checkAll(t, c, 20*time.Second, "the engine with zone a", func(e exposition) error { return w.check(t, e) }, zoneIs("a"))

	changed := time.Now()
	writeFileAtomic(t, file, group("b"))
	// Scrape :8081 often until the new label shows and for two intervals
	// more; every scrape must have the engine whole.
	var switched time.Time
	for n := 0; ; n++ {
		e, err := c.TryScrape()
		if err != nil {
			t.Fatal(err)
		}
		if err := w.check(t, e); err != nil {
			t.Fatalf("%s after the label change (scrape %d of :8081): %v: the old target's staleness markers removed the new target's series", time.Since(changed).Round(time.Millisecond), n, err)
		}
		if switched.IsZero() && zoneIs("b")(e) == nil {
			switched = time.Now()
		}
		if !switched.IsZero() && time.Since(switched) > 2*sdInterval {
			break
		}
		if time.Since(changed) > sdLeave+2*sdInterval {
			t.Fatalf("target_info never showed zone=\"b\": %v", zoneIs("b")(e))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDiscoveryHTTPSD: http_sd_configs against a real HTTP server on
// loopback that changes its answer mid-test: a target it stops listing
// leaves, one it starts listing (a frontend) arrives, a group's `instance`
// label names its target; and when it lists nothing, every discovered target
// leaves while the static one stays.
func TestDiscoveryHTTPSD(t *testing.T) {
	engineBody := readFixture(t, "sglang_engine_promclient.txt")
	workerBody := readFixture(t, "dynamo_worker.txt")
	frontendBody := readFixture(t, "dynamo_frontend.txt")
	static := serveFixture(t, staticBody(engineBody))
	eng := serveFixture(t, staticBody(engineBody))
	worker := serveFixture(t, staticBody(workerBody))
	fe := serveFixture(t, staticBody(frontendBody))

	var answer atomic.Pointer[[]byte]
	set := func(gs ...sdGroup) { b := sdJSON(t, gs...); answer.Store(&b) }
	var asked atomic.Int64
	sd := serveHTTPSD(t, func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(*answer.Load())
	})
	engGroup := sdGroup{Targets: []string{eng.Addr()}}
	workerGroup := sdGroup{Targets: []string{worker.Addr()}, Labels: map[string]string{"__role__": "runtime", "instance": "decode-worker-1"}}
	feGroup := sdGroup{Targets: []string{fe.Addr()}, Labels: map[string]string{"__role__": "frontend"}}
	set(engGroup, workerGroup)

	receiver := fmt.Sprintf(`collection_interval: %s
engine:
  endpoint: %s
discovery:
  http_sd_configs:
    - url: %s
      refresh_interval: 1s
`, sdInterval, static.URL(), sd)
	c := startCollector(t, collectorOptions{Receiver: receiver, MetricExpiration: noExpiry})

	wStatic := wantTarget{"static engine", engineBody, engineRole, "sglang", static.Addr()}
	wEng := wantTarget{"discovered engine", engineBody, engineRole, "sglang", eng.Addr()}
	wWorker := wantTarget{"discovered runtime named by its group's instance label", workerBody, runtimeRole, "dynamo-backend", "decode-worker-1"}
	wFE := wantTarget{"discovered frontend", frontendBody, frontendRole, "dynamo-frontend", fe.Addr()}
	checkAll(t, c, 20*time.Second, "the static target, the engine and the worker on :8081",
		func(e exposition) error { return wStatic.check(t, e) },
		func(e exposition) error { return wEng.check(t, e) },
		func(e exposition) error { return wWorker.check(t, e) },
		func(e exposition) error { return checkNever(e, "the frontend, not listed yet", fe.Addr()) },
		func(e exposition) error { return checkNever(e, "the worker under its address", worker.Addr()) },
	)

	// The server's answer changes: the engine goes, the frontend comes.
	changed := time.Now()
	set(workerGroup, feGroup)
	checkAll(t, c, time.Second+sdLeave, "the engine to leave and the frontend to arrive",
		func(e exposition) error { return checkGone(e, "the engine no longer listed", eng.Addr()) },
		func(e exposition) error { return wFE.check(t, e) },
		func(e exposition) error { return wWorker.check(t, e) },
		func(e exposition) error { return wStatic.check(t, e) },
	)
	t.Logf("the change reached :8081 %s after the answer changed (refresh 1s, interval %s)", time.Since(changed).Round(10*time.Millisecond), sdInterval)

	// Nothing listed: every discovered target leaves; the static one stays.
	set()
	checkAll(t, c, time.Second+sdLeave, "every discovered target to leave when the answer is empty",
		func(e exposition) error { return checkGone(e, "the frontend", fe.Addr()) },
		func(e exposition) error { return checkGone(e, "the worker", "decode-worker-1") },
		func(e exposition) error { return wStatic.check(t, e) },
	)
	if asked.Load() < 3 {
		t.Errorf("the HTTP SD server was asked %d times", asked.Load())
	}
}

// serveHTTPSD serves h on a loopback port and returns its URL.
func serveHTTPSD(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + l.Addr().String() + "/sd"
}

// TestDiscoveryDNSSD: dns_sd_configs against dnsmasq on a loopback address,
// port 53: an SRV record gives its target and port (the target's name
// resolved by the collector through the same server), an A record gets the
// configured port; __meta_dns_name drives a role and a label. The collector
// sees the test's resolv.conf in a mount namespace of its own.
func TestDiscoveryDNSSD(t *testing.T) {
	needRoot(t, "dnsmasq on port 53 and a private mount namespace for /etc/resolv.conf")
	engineBody := readFixture(t, "sglang_engine_promclient.txt")
	workerBody := readFixture(t, "dynamo_worker.txt")
	eng := serveFixture(t, staticBody(engineBody))
	worker := serveFixture(t, staticBody(workerBody))

	const zone = "sd.test"
	ns := startDNSMasq(t, zone,
		"--host-record=sglang-0.sd.test,127.0.0.1",
		fmt.Sprintf("--srv-host=_metrics._tcp.sglang.sd.test,sglang-0.sd.test,%d", eng.Port()),
		"--host-record=workers.sd.test,127.0.0.1",
	)
	// The records are there before the collector asks.
	if srv, ok := lookup(t, ns, "_metrics._tcp.sglang.sd.test", dns.TypeSRV)[0].(*dns.SRV); !ok || int(srv.Port) != eng.Port() {
		t.Fatalf("SRV answer %v, want port %d", srv, eng.Port())
	}
	lookup(t, ns, "workers.sd.test", dns.TypeA)

	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver "+ns+"\noptions timeout:1 attempts:2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	receiver := fmt.Sprintf(`collection_interval: %s
discovery:
  dns_sd_configs:
    - names: [_metrics._tcp.sglang.sd.test]
      refresh_interval: 1s
    - names: [workers.sd.test]
      type: A
      port: %d
      refresh_interval: 1s
  relabel_configs:
    - source_labels: [__meta_dns_name]
      regex: workers\.sd\.test
      target_label: __role__
      replacement: runtime
    - source_labels: [__meta_dns_name]
      target_label: dns_name
`, sdInterval, worker.Port())
	c := startCollectorWithResolvConf(t, collectorOptions{Receiver: receiver, MetricExpiration: noExpiry}, resolv)

	// SRV: __address__ is the record's target name and port.
	srvInstance := fmt.Sprintf("sglang-0.sd.test:%d", eng.Port())
	wEng := wantTarget{"the SRV record's engine", engineBody, engineRole, "sglang", srvInstance}
	wWorker := wantTarget{"the A record's runtime", workerBody, runtimeRole, "dynamo-backend", worker.Addr()}
	e := checkAll(t, c, 20*time.Second, "the SRV and A targets on :8081",
		func(e exposition) error { return wEng.check(t, e) },
		func(e exposition) error { return wWorker.check(t, e) },
	)
	for _, w := range []struct{ job, instance, name string }{
		{"sglang", srvInstance, "_metrics._tcp.sglang.sd.test"},
		{"dynamo-backend", worker.Addr(), "workers.sd.test"},
	} {
		if info, ok := targetInfo(e, w.job, w.instance); !ok || info["dns_name"] != w.name {
			t.Errorf("target_info{job=%q,instance=%q} = %v (present %v), want dns_name=%q", w.job, w.instance, info, ok, w.name)
		}
	}
}

// TestDiscoveryKubernetesSD: kubernetes_sd_configs (pod role, with the
// per-node field selector of deploy/kubernetes/configmap-daemonset.yaml)
// against a FAKE Kubernetes API (fakeKubeAPI: client-go's fake clientset
// behind real HTTP, since no API server can run here), with the shipped
// relabel rules taken from that ConfigMap. Pods have loopback IPs of their
// own and listen on the real ports: an SGLang pod found by port 30000
// (engine), a Dynamo decode worker by its port named `system` (runtime; its
// NIXL port is dropped), an opted-out pod and a pod of another node never
// scraped. k8s.* resource attributes and the rules' namespace/pod labels
// reach target_info; deleting the worker pod removes its series.
func TestDiscoveryKubernetesSD(t *testing.T) {
	engineBody := readFixture(t, "sglang_engine_promclient.txt")
	workerBody := readFixture(t, "dynamo_worker.txt")
	sglang := serveFixtureOn(t, 30000, staticBody(engineBody))
	decode := serveFixtureOn(t, 9090, staticBody(workerBody))
	optedOut := serveFixtureOn(t, 30000, staticBody(engineBody))
	otherNode := serveFixtureOn(t, 30000, staticBody(engineBody))

	const node = "node-a"
	api := startFakeKubeAPI(t,
		fakePod("llm", "sglang-0", node, sglang.IP(), map[string]string{"app": "sglang"}, nil, map[string]int{"": 30000}),
		fakePod("llm", "decode-0", node, decode.IP(),
			map[string]string{"nvidia.com/dynamo-component-type": "worker", "nvidia.com/dynamo-sub-component-type": "decode"},
			nil, map[string]int{"system": 9090, "nixl": 19090}),
		fakePod("llm", "gateway-0", node, optedOut.IP(), nil, map[string]string{"sglangdynamo.io/scrape": "false"}, map[string]int{"": 30000}),
		fakePod("llm", "sglang-1", "node-b", otherNode.IP(), nil, nil, map[string]int{"": 30000}),
	)

	rules := shippedRelabelRules(t, filepath.Join("..", "deploy", "kubernetes", "configmap-daemonset.yaml"))
	rcv, err := yaml.Marshal(map[string]any{
		"collection_interval": sdInterval.String(),
		"discovery": map[string]any{
			"kubernetes_sd_configs": []any{map[string]any{
				"role": "pod", "api_server": api.URL,
				"selectors": []any{map[string]any{"role": "pod", "field": "spec.nodeName=" + node}},
			}},
			"relabel_configs": rules,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := startCollector(t, collectorOptions{Receiver: string(rcv), MetricExpiration: noExpiry})
	t.Cleanup(func() {
		t.Logf("requests to the fake API server:\n%s", strings.Join(api.Requests(), "\n"))
	})

	wEng := wantTarget{"the SGLang pod (port 30000)", engineBody, engineRole, "sglang", sglang.Addr()}
	wDecode := wantTarget{"the decode worker (port `system`)", workerBody, runtimeRole, "dynamo-backend", decode.Addr()}
	nixl := decode.IP() + ":19090"
	never := []func(exposition) error{
		func(e exposition) error { return checkNever(e, "the worker's nixl port", nixl) },
		func(e exposition) error { return checkNever(e, "the opted-out pod", optedOut.Addr()) },
		func(e exposition) error { return checkNever(e, "the pod of another node", otherNode.Addr()) },
	}
	e := checkAll(t, c, 20*time.Second, "the SGLang pod and the decode worker on :8081", append([]func(exposition) error{
		func(e exposition) error { return wEng.check(t, e) },
		func(e exposition) error { return wDecode.check(t, e) },
	}, never...)...)

	for _, w := range []struct {
		job, instance, pod string
		extra              map[string]string
	}{
		{"sglang", sglang.Addr(), "sglang-0", nil},
		{"dynamo-backend", decode.Addr(), "decode-0", map[string]string{"dynamo_component_type": "worker", "dynamo_sub_component_type": "decode"}},
	} {
		info, ok := targetInfo(e, w.job, w.instance)
		if !ok {
			t.Errorf("no target_info{job=%q,instance=%q}", w.job, w.instance)
			continue
		}
		want := map[string]string{
			"k8s_pod_name": w.pod, "k8s_namespace_name": "llm", "k8s_node_name": node, "k8s_pod_uid": "uid-llm-" + w.pod,
			"namespace": "llm", "pod": w.pod,
		}
		for k, v := range w.extra {
			want[k] = v
		}
		for k, v := range want {
			if info[k] != v {
				t.Errorf("target_info of %s: %s=%q, want %q (all: %v)", w.pod, k, info[k], v, info)
			}
		}
	}
	if u := api.Unexpected(); len(u) > 0 {
		t.Errorf("the SD made requests the fake API server does not serve:\n%s", strings.Join(u, "\n"))
	}
	sentSelector := false
	for _, r := range api.Requests() {
		if strings.Contains(r, "fieldSelector=spec.nodeName%3D"+node) {
			sentSelector = true
		}
	}
	if !sentSelector {
		t.Errorf("no request carried the field selector spec.nodeName=%s: %v", node, api.Requests())
	}

	// The worker pod is deleted.
	deleted := time.Now()
	if err := api.Clientset.CoreV1().Pods("llm").Delete(t.Context(), "decode-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	checkAll(t, c, sdLeave, "the deleted pod's series and up to leave :8081", append([]func(exposition) error{
		func(e exposition) error { return checkGone(e, "the deleted decode worker", decode.Addr()) },
		func(e exposition) error { return wEng.check(t, e) },
	}, never...)...)
	t.Logf("the deleted pod left :8081 %s after the deletion (interval %s)", time.Since(deleted).Round(10*time.Millisecond), sdInterval)
	for _, f := range []*fixtureServer{optedOut, otherNode} {
		if n := f.requests.Load(); n != 0 {
			t.Errorf("%s was fetched %d times; it must not be scraped", f.Addr(), n)
		}
	}
}

// shippedRelabelRules returns the relabel_configs of the receiver in a
// collector ConfigMap of deploy/kubernetes, as YAML values.
func shippedRelabelRules(t *testing.T, path string) any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	if err := yaml.Unmarshal(raw, &cm); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var cfg struct {
		Receivers struct {
			SGLangDynamo struct {
				Discovery struct {
					RelabelConfigs []any `yaml:"relabel_configs"`
				} `yaml:"discovery"`
			} `yaml:"sglangdynamo"`
		} `yaml:"receivers"`
	}
	if err := yaml.Unmarshal([]byte(cm.Data["collector.yaml"]), &cfg); err != nil {
		t.Fatalf("%s collector.yaml: %v", path, err)
	}
	rules := cfg.Receivers.SGLangDynamo.Discovery.RelabelConfigs
	if len(rules) == 0 {
		t.Fatalf("%s: no receivers.sglangdynamo.discovery.relabel_configs", path)
	}
	return rules
}
