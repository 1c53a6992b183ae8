//go:build e2e

package e2e

// Helpers of the service discovery tests (discovery_test.go): fixture
// servers on chosen loopback addresses, a private /etc/resolv.conf for the
// collector, dnsmasq, a minimal Kubernetes API backed by client-go's fake
// clientset, and checks of one target's series on the exporter.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
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

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
)

// ---------------------------------------------------------------------------
// Loopback addresses

// randomLoopbackIP returns an address of 127.0.0.0/8 other than 127.0.0.1:
// the whole /8 answers on lo, so a test can have pods or a DNS server with
// addresses of their own, and well-known ports (30000, 9090, 53) on them,
// without meeting anything else on the machine.
func randomLoopbackIP() string {
	return fmt.Sprintf("127.%d.%d.%d", 100+rand.IntN(100), rand.IntN(256), 1+rand.IntN(254))
}

// serveFixtureOn serves body on port of a fresh loopback address, as a pod
// with its own IP would; it tries a few addresses in case one is taken.
func serveFixtureOn(t *testing.T, port int, body func(int64) []byte) *fixtureServer {
	t.Helper()
	var lastErr error
	for range 10 {
		addr := net.JoinHostPort(randomLoopbackIP(), strconv.Itoa(port))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			lastErr = err
			continue
		}
		f := &fixtureServer{t: t, addr: addr, body: body}
		f.serve(l)
		t.Cleanup(f.Stop)
		return f
	}
	t.Fatalf("no loopback address free for port %d: %v", port, lastErr)
	return nil
}

// IP is the fixture's host.
func (f *fixtureServer) IP() string {
	h, _, _ := net.SplitHostPort(f.addr)
	return h
}

// ---------------------------------------------------------------------------
// Checks on the exporter

// namespacedKeys is the set of namespaced series of one instance, with the
// job each has.
func namespacedKeys(e exposition, instance string) map[string]string {
	m := map[string]string{}
	for _, s := range e.filter(fromInstance(instance)) {
		m[s.key()] = s.Labels["job"]
	}
	return m
}

// wantTarget is what the exporter must show for one scraped target.
type wantTarget struct {
	name     string // for messages
	body     []byte
	prefixes []string // the namespaces the target's role keeps
	job      string
	instance string
}

// check returns nil when the exporter shows exactly the target's series
// (every kept sample of its body, with its job and instance) and up 1.
func (w wantTarget) check(t *testing.T, e exposition) error {
	t.Helper()
	want := expectedFromSource(t, w.body, w.prefixes, w.job, w.instance)
	got := namespacedKeys(e, w.instance)
	var missing []string
	for _, s := range want {
		if _, ok := got[s.key()]; !ok {
			missing = append(missing, s.key())
		}
		delete(got, s.key())
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s (job %q, instance %q): %d of %d series missing, e.g. %s", w.name, w.job, w.instance, len(missing), len(want), missing[0])
	}
	if len(got) > 0 {
		extra := slices.Sorted(func(yield func(string) bool) {
			for k := range got {
				if !yield(k) {
					return
				}
			}
		})
		return fmt.Errorf("%s (instance %q): %d series that its body does not have (wrong job or prefixes?), e.g. %s", w.name, w.instance, len(extra), extra[0])
	}
	if v, ok := e.value("up", map[string]string{"job": w.job, "instance": w.instance}); !ok || v != 1 {
		return fmt.Errorf("%s: up{job=%q,instance=%q} = %v (present %v), want 1", w.name, w.job, w.instance, v, ok)
	}
	return nil
}

// checkGone returns nil when nothing of the instance is on the exporter any
// more: no namespaced series and no up (of any job).
func checkGone(e exposition, name, instance string) error {
	if n := len(e.filter(fromInstance(instance))); n > 0 {
		return fmt.Errorf("%s (instance %q) still has %d series", name, instance, n)
	}
	for _, s := range e.Samples {
		if s.Name == "up" && s.Labels["instance"] == instance {
			return fmt.Errorf("%s: %s = %v is still there", name, s.key(), s.Value)
		}
	}
	return nil
}

// checkNever returns an error if anything of instance is on the exporter:
// namespaced series, up, scrape_* or target_info.
func checkNever(e exposition, name, instance string) error {
	for _, s := range e.Samples {
		if s.Labels["instance"] == instance {
			return fmt.Errorf("%s (instance %q) must never be scraped, but the exporter has %s", name, instance, s.key())
		}
	}
	return nil
}

// targetInfo returns the labels of target_info{job, instance}.
func targetInfo(e exposition, job, instance string) (map[string]string, bool) {
	for _, s := range e.Samples {
		if s.Name == "target_info" && s.Labels["job"] == job && s.Labels["instance"] == instance {
			return s.Labels, true
		}
	}
	return nil, false
}

// checkAll waits until every check passes on one scrape of the exporter and
// returns that scrape.
func checkAll(t *testing.T, c *collector, timeout time.Duration, what string, checks ...func(exposition) error) exposition {
	t.Helper()
	var e exposition
	waitFor(t, timeout, what, func() error {
		var err error
		if e, err = c.TryScrape(); err != nil {
			return err
		}
		for _, check := range checks {
			if err := check(e); err != nil {
				return err
			}
		}
		return nil
	})
	return e
}

// writeFileAtomic replaces path's contents in one step (a rename), as
// Prometheus's documentation asks of file_sd files, so that discovery
// never reads half a file.
func writeFileAtomic(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// sdGroup is one target group of file and HTTP SD.
type sdGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels,omitempty"`
}

func sdJSON(t *testing.T, groups ...sdGroup) []byte {
	t.Helper()
	if groups == nil {
		groups = []sdGroup{} // `[]`, not `null`
	}
	b, err := json.Marshal(groups)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ---------------------------------------------------------------------------
// A collector with its own /etc/resolv.conf

// needRoot skips a test that needs root: binding port 53 and a private
// mount namespace.
func needRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("needs root (%s)", why)
	}
}

// startCollectorWithResolvConf is startCollector with resolvConf bind-mounted
// over /etc/resolv.conf in a private mount namespace of the collector alone.
// Prometheus's DNS SD reads /etc/resolv.conf (a constant path) and asks port
// 53 of its nameservers, so the test's DNS server must be found that way;
// the mount leaves the machine's own resolv.conf and every other process
// untouched. `exec` keeps the collector the process startProcess signals.
func startCollectorWithResolvConf(t *testing.T, o collectorOptions, resolvConf string) *collector {
	t.Helper()
	if _, err := os.Stat("/usr/bin/unshare"); err != nil {
		t.Skip("unshare (util-linux) is missing")
	}
	o.Command = func(bin string, args []string) (string, []string) {
		return "/usr/bin/unshare", append([]string{"--mount", "--propagation", "private",
			"/bin/sh", "-c", `mount --bind "$0" /etc/resolv.conf && exec "$@"`, resolvConf, bin}, args...)
	}
	return startCollector(t, o)
}

// ---------------------------------------------------------------------------
// dnsmasq

const dnsmasqPath = "/usr/sbin/dnsmasq"

// startDNSMasq runs Debian's dnsmasq on port 53 of a fresh loopback address
// with only the given records (no upstream, no /etc/hosts, no config
// file), authoritative for zone, and returns the address once it answers.
func startDNSMasq(t *testing.T, zone string, records ...string) string {
	t.Helper()
	if _, err := os.Stat(dnsmasqPath); err != nil {
		t.Skipf("%s is missing: install Debian's dnsmasq-base (apt-get install -y dnsmasq-base) to run the DNS SD test", dnsmasqPath)
	}
	for range 5 {
		ip := randomLoopbackIP()
		args := []string{
			"--keep-in-foreground", "--conf-file=/dev/null", "--pid-file",
			"--no-resolv", "--no-hosts", "--no-negcache",
			// Only this address: without --bind-interfaces dnsmasq binds
			// the wildcard address of port 53.
			"--bind-interfaces", "--listen-address=" + ip, "--port=53",
			// Answer every other question about the zone (AAAA, say) with
			// no data rather than REFUSED.
			"--local=/" + zone + "/",
			"--log-queries", "--log-facility=-",
		}
		p := startProcess(t, "dnsmasq", nil, dnsmasqPath, append(args, records...)...)
		ready := false
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !p.exited(); time.Sleep(50 * time.Millisecond) {
			m := new(dns.Msg)
			m.SetQuestion(dns.Fqdn(zone), dns.TypeSOA)
			if _, _, err := (&dns.Client{Timeout: 500 * time.Millisecond}).Exchange(m, net.JoinHostPort(ip, "53")); err == nil {
				ready = true
				break
			}
		}
		if ready {
			return ip
		}
		// Most likely the address was taken; try another.
		p.stop(t, 5*time.Second)
		t.Logf("dnsmasq on %s did not answer:\n%s", ip, tail(p.out.String(), 20))
	}
	t.Fatal("dnsmasq did not start")
	return ""
}

// lookup asks server for name's records of type qtype, as the collector
// will, so that a failure is pinned on the DNS server rather than on the
// collector.
func lookup(t *testing.T, server, name string, qtype uint16) []dns.RR {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, net.JoinHostPort(server, "53"))
	if err != nil {
		t.Fatalf("asking %s for %s: %v", server, name, err)
	}
	if len(r.Answer) == 0 {
		t.Fatalf("dnsmasq has no %s record for %s: %v", dns.TypeToString[qtype], name, r)
	}
	return r.Answer
}

// ---------------------------------------------------------------------------
// A fake Kubernetes API

// fakeKubeAPI is a FAKE Kubernetes API server: no real API server (nor
// etcd, nor kind) can run on the machines these tests run on, so this
// answers, over real HTTP on loopback, the few requests that Prometheus's
// Kubernetes SD (pod role, client-go informers) makes, from client-go's
// fake clientset: listing pods (all namespaces or one), watching them
// (plain watches and the streaming "watch list" that client-go >= 0.35
// tries first, with its initial events and end bookmark), honouring field
// and label selectors, and /version, /api, /apis. Everything else is a 404
// and is reported by Unexpected. It speaks JSON only; client-go decodes by
// the response's Content-Type although it asks for protobuf.
type fakeKubeAPI struct {
	Clientset *fake.Clientset
	URL       string

	mu         sync.Mutex
	requests   []string
	unexpected []string
}

func startFakeKubeAPI(t *testing.T, pods ...*corev1.Pod) *fakeKubeAPI {
	t.Helper()
	a := &fakeKubeAPI{}
	objs := make([]runtime.Object, len(pods))
	for i, p := range pods {
		objs[i] = p
	}
	a.Clientset = fake.NewClientset(objs...)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: a, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	// Close ends the watches too: it closes every connection.
	t.Cleanup(func() { _ = srv.Close() })
	a.URL = "http://" + l.Addr().String()
	return a
}

// Requests returns the request URIs served so far.
func (a *fakeKubeAPI) Requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.requests)
}

// Unexpected returns the requests that were answered 404 or 400.
func (a *fakeKubeAPI) Unexpected() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.unexpected)
}

func (a *fakeKubeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.requests = append(a.requests, r.Method+" "+r.URL.RequestURI())
	a.mu.Unlock()
	bad := func(code int, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		a.mu.Lock()
		a.unexpected = append(a.unexpected, r.Method+" "+r.URL.RequestURI()+": "+msg)
		a.mu.Unlock()
		writeJSON(w, code, metav1.Status{
			TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
			Status:   metav1.StatusFailure, Message: msg, Code: int32(code),
			Reason: map[int]metav1.StatusReason{http.StatusNotFound: metav1.StatusReasonNotFound}[code],
		})
	}
	if r.Method != http.MethodGet {
		bad(http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	p := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.URL.Path == "/version":
		writeJSON(w, http.StatusOK, map[string]string{"major": "1", "minor": "35", "gitVersion": "v1.35.0-fake"})
	case r.URL.Path == "/api":
		writeJSON(w, http.StatusOK, metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"}})
	case r.URL.Path == "/apis":
		writeJSON(w, http.StatusOK, metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}})
	case len(p) == 3 && p[0] == "api" && p[1] == "v1" && p[2] == "pods":
		a.pods(w, r, "", bad)
	case len(p) == 5 && p[0] == "api" && p[1] == "v1" && p[2] == "namespaces" && p[4] == "pods":
		a.pods(w, r, p[3], bad)
	default:
		bad(http.StatusNotFound, "the fake API server only serves pods")
	}
}

// pods lists or watches the pods of namespace ns ("" for all).
func (a *fakeKubeAPI) pods(w http.ResponseWriter, r *http.Request, ns string, bad func(int, string, ...any)) {
	q := r.URL.Query()
	fieldSel, err := fields.ParseSelector(q.Get("fieldSelector"))
	if err != nil {
		bad(http.StatusBadRequest, "fieldSelector: %v", err)
		return
	}
	labelSel, err := labels.Parse(q.Get("labelSelector"))
	if err != nil {
		bad(http.StatusBadRequest, "labelSelector: %v", err)
		return
	}
	// The pod fields a real API server lets one select on that matter here.
	match := func(p *corev1.Pod) bool {
		return labelSel.Matches(labels.Set(p.Labels)) && fieldSel.Matches(fields.Set{
			"metadata.name": p.Name, "metadata.namespace": p.Namespace,
			"spec.nodeName": p.Spec.NodeName, "status.phase": string(p.Status.Phase), "status.podIP": p.Status.PodIP,
		})
	}
	pods := a.Clientset.CoreV1().Pods(ns)
	if q.Get("watch") != "true" && q.Get("watch") != "1" {
		list, err := pods.List(r.Context(), metav1.ListOptions{})
		if err != nil {
			bad(http.StatusInternalServerError, "%v", err)
			return
		}
		out := corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}, ListMeta: metav1.ListMeta{ResourceVersion: "1"}}
		for i := range list.Items {
			if match(&list.Items[i]) {
				out.Items = append(out.Items, *withKind(&list.Items[i]))
			}
		}
		writeJSON(w, http.StatusOK, out)
		return
	}

	// Watch first, then list, so that no change falls between the two.
	wi, err := pods.Watch(r.Context(), metav1.ListOptions{})
	if err != nil {
		bad(http.StatusInternalServerError, "%v", err)
		return
	}
	defer wi.Stop()
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	send := func(typ watch.EventType, p *corev1.Pod) bool {
		if err := enc.Encode(map[string]any{"type": typ, "object": withKind(p)}); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		return true
	}
	if q.Get("sendInitialEvents") == "true" {
		// A watch list: every current pod as ADDED, then the bookmark
		// that ends the initial events.
		list, err := pods.List(r.Context(), metav1.ListOptions{})
		if err != nil {
			return
		}
		for i := range list.Items {
			if match(&list.Items[i]) && !send(watch.Added, &list.Items[i]) {
				return
			}
		}
		end := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "1",
			Annotations: map[string]string{metav1.InitialEventsAnnotationKey: "true"}}}
		if !send(watch.Bookmark, end) {
			return
		}
	}
	timeout := 10 * time.Minute
	if s, err := strconv.Atoi(q.Get("timeoutSeconds")); err == nil && s > 0 {
		timeout = time.Duration(s) * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-wi.ResultChan():
			if !ok {
				return
			}
			p, isPod := ev.Object.(*corev1.Pod)
			if !isPod || !match(p) {
				continue
			}
			if !send(ev.Type, p) {
				return
			}
		}
	}
}

// withKind returns a copy of p with its apiVersion and kind set, which the
// objects of watch events must carry to be decoded.
func withKind(p *corev1.Pod) *corev1.Pod {
	c := p.DeepCopy()
	c.APIVersion, c.Kind = "v1", "Pod"
	if c.ResourceVersion == "" {
		c.ResourceVersion = "1"
	}
	return c
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// fakePod is a Running pod with one container and the given TCP ports
// (name -> number; "" for an unnamed port).
func fakePod(ns, name, node, ip string, podLabels, annotations map[string]string, ports map[string]int) *corev1.Pod {
	var cps []corev1.ContainerPort
	for _, n := range slices.Sorted(func(yield func(string) bool) {
		for k := range ports {
			if !yield(k) {
				return
			}
		}
	}) {
		cps = append(cps, corev1.ContainerPort{Name: n, ContainerPort: int32(ports[n]), Protocol: corev1.ProtocolTCP})
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: name, UID: types.UID("uid-" + ns + "-" + name),
			Labels: podLabels, Annotations: annotations,
		},
		Spec: corev1.PodSpec{
			NodeName:   node,
			Containers: []corev1.Container{{Name: "main", Image: "fake", Ports: cps}},
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}, HostIP: "10.0.0.1",
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
		},
	}
}
