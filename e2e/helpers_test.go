//go:build e2e

// Package e2e holds the end-to-end tests of the sglangdynamo collector: the
// real ocb-built binary, real loopback HTTP servers serving captured
// /metrics bodies, and (for one test) Debian's real Prometheus server.
//
//	SGLANGDYNAMO_COLLECTOR=$PWD/_build/otelcol-sglangdynamo go test -tags e2e -v ./e2e/...
//
// This file has the shared helpers: free ports, fixture servers, starting
// the collector, scraping and parsing the exporter's exposition, polling.
package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// ---------------------------------------------------------------------------
// Binary, ports, polling

// collectorBinary returns the absolute path of the built collector, or skips
// the test when it is missing.
func collectorBinary(t *testing.T) string {
	t.Helper()
	p := os.Getenv("SGLANGDYNAMO_COLLECTOR")
	if p == "" {
		p = filepath.Join("..", "_build", "otelcol-sglangdynamo")
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(abs); err != nil || st.IsDir() {
		t.Skipf("collector binary %s not found: build it with `bash scripts/build.sh` or set SGLANGDYNAMO_COLLECTOR", abs)
	}
	return abs
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// freePortRange returns the first of n consecutive free loopback ports.
func freePortRange(t *testing.T, n int) int {
	t.Helper()
	for range 200 {
		base := freePort(t)
		if base+n > 65535 {
			continue
		}
		ok := true
		var ls []net.Listener
		for i := range n {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+i))
			if err != nil {
				ok = false
				break
			}
			ls = append(ls, l)
		}
		for _, l := range ls {
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatalf("no %d consecutive free ports found", n)
	return 0
}

// waitFor polls cond until it returns nil or the deadline passes; then the
// test fails with cond's last error.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s: %v", timeout, what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// syncBuffer collects a process's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// process is a child process that is stopped (SIGTERM, then SIGKILL of its
// process group) at the end of the test.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

func startProcess(t *testing.T, name string, env []string, bin string, args ...string) *process {
	t.Helper()
	p := &process{name: name, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	// Own process group, so that a helper script's children can be killed
	// with it if the script does not stop them itself.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(t, 15*time.Second)
		if t.Failed() {
			t.Logf("---- output of %s ----\n%s", name, tail(p.out.String(), 200))
		}
	})
	return p
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits; after the grace period the whole process
// group is killed.
func (p *process) stop(t *testing.T, grace time.Duration) {
	t.Helper()
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		t.Errorf("%s did not stop within %s of SIGTERM; killing its process group", p.name, grace)
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

func tail(s string, lines int) string {
	ls := strings.Split(s, "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}

// httpGet fetches url with a short timeout.
func httpGet(url string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// ---------------------------------------------------------------------------
// The collector

// collectorOptions describes the temp config a test runs the collector with.
type collectorOptions struct {
	// Receiver is the YAML body of `receivers: sglangdynamo:`, unindented.
	Receiver string
	// OTLPEndpoint, when set, adds an otlphttp exporter to the pipeline.
	OTLPEndpoint string
	// MetricExpiration of the prometheus exporter (default 1m, longer than
	// any test, so that only staleness markers remove series).
	MetricExpiration string
	// PromPort forces the exporter's port (default: a free one).
	PromPort int
	// ExtraConfigs are further --config files merged over the test's, as
	// scripts/run.sh merges the shipped ones; Env is added to the
	// process's environment.
	ExtraConfigs []string
	Env          []string
	// Name names the process in failure output (default "collector").
	Name string
	// Command, when set, turns the collector's binary and arguments into
	// the command that is started (e.g. to run it in a namespace); it must
	// exec the collector, so that stopping the process stops it.
	Command func(bin string, args []string) (string, []string)
}

// collector is a running collector.
type collector struct {
	*process
	PromPort   int
	HealthPort int
	ConfigPath string
}

// MetricsURL is the prometheus exporter's /metrics.
func (c *collector) MetricsURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", c.PromPort)
}

func indent(s, prefix string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if l != "" {
			b.WriteString(prefix)
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// collectorConfig renders the config: our receiver, memory_limiter and
// batch, the prometheus exporter with the shipped settings on a free port,
// optionally otlphttp, and health_check on a free port.
func collectorConfig(o collectorOptions, promPort, healthPort int) string {
	exp := o.MetricExpiration
	if exp == "" {
		exp = "1m"
	}
	exporters := []string{"prometheus"}
	var otlp string
	if o.OTLPEndpoint != "" {
		exporters = append(exporters, "otlp_http")
		otlp = fmt.Sprintf("  otlp_http:\n    endpoint: %s\n    retry_on_failure:\n      enabled: false\n", o.OTLPEndpoint)
	}
	return fmt.Sprintf(`receivers:
  sglangdynamo:
%s
processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
    spike_limit_percentage: 20
  batch:
    timeout: 200ms

exporters:
  prometheus:
    endpoint: 127.0.0.1:%d
    translation_strategy: UnderscoreEscapingWithoutSuffixes
    without_scope_info: true
    metric_expiration: %s
%s
extensions:
  health_check:
    endpoint: 127.0.0.1:%d

service:
  extensions: [health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [sglangdynamo]
      processors: [memory_limiter, batch]
      exporters: [%s]
`, indent(o.Receiver, "    "), promPort, exp, otlp, healthPort, strings.Join(exporters, ", "))
}

// startCollector writes the config, starts the binary and waits until its
// health check answers 200.
func startCollector(t *testing.T, o collectorOptions) *collector {
	t.Helper()
	c := launchCollector(t, o)
	waitHealthy(t, c.process, c.HealthPort)
	return c
}

// launchCollector writes the config and starts the binary without waiting
// for it, so that several can start at once.
func launchCollector(t *testing.T, o collectorOptions) *collector {
	t.Helper()
	bin := collectorBinary(t)
	promPort := o.PromPort
	if promPort == 0 {
		promPort = freePort(t)
	}
	healthPort := freePort(t)
	path := filepath.Join(t.TempDir(), "collector.yaml")
	if err := os.WriteFile(path, []byte(collectorConfig(o, promPort, healthPort)), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &collector{PromPort: promPort, HealthPort: healthPort, ConfigPath: path}
	args := []string{"--config", path}
	for _, extra := range o.ExtraConfigs {
		args = append(args, "--config", extra)
	}
	cmd := bin
	if o.Command != nil {
		cmd, args = o.Command(bin, args)
	}
	name := o.Name
	if name == "" {
		name = "collector"
	}
	c.process = startProcess(t, name, o.Env, cmd, args...)
	return c
}

// waitHealthy waits until the collector's health check on healthPort
// answers 200, and fails the test if the collector exits first.
func waitHealthy(t *testing.T, p *process, healthPort int) {
	t.Helper()
	waitFor(t, 30*time.Second, "the collector's health check", func() error {
		if p.exited() {
			t.Fatalf("the collector exited: %v\n%s", p.err, p.out.String())
		}
		code, _, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/", healthPort))
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			return fmt.Errorf("health check status %d", code)
		}
		return nil
	})
}

// TryScrape fetches and parses the exporter's exposition; it fails on a
// malformed line or a series that appears twice.
func (c *collector) TryScrape() (exposition, error) {
	code, body, err := httpGet(c.MetricsURL())
	if err != nil {
		return exposition{}, err
	}
	if code != http.StatusOK {
		return exposition{}, fmt.Errorf("GET %s: status %d", c.MetricsURL(), code)
	}
	e, err := parseExposition(body)
	if err != nil {
		return exposition{}, fmt.Errorf("exporter output: %w", err)
	}
	if err := e.checkUnique(); err != nil {
		return exposition{}, fmt.Errorf("exporter output: %w", err)
	}
	return e, nil
}

// ---------------------------------------------------------------------------
// Fixture servers

// fixtureServer serves a /metrics body on a fixed loopback address and can
// be stopped and started again on the same port.
type fixtureServer struct {
	t        *testing.T
	addr     string
	body     func(n int64) []byte // n counts requests from 1
	requests atomic.Int64

	mu  sync.Mutex
	srv *http.Server
}

// serveFixture starts a server for body on a free loopback port.
func serveFixture(t *testing.T, body func(n int64) []byte) *fixtureServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixtureServer{t: t, addr: l.Addr().String(), body: body}
	f.serve(l)
	t.Cleanup(f.Stop)
	return f
}

// staticBody serves the same bytes on every request.
func staticBody(b []byte) func(int64) []byte { return func(int64) []byte { return b } }

func (f *fixtureServer) serve(l net.Listener) {
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		n := f.requests.Add(1)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write(f.body(n))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	f.mu.Lock()
	f.srv = srv
	f.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
}

// Addr is host:port, the receiver's instance.
func (f *fixtureServer) Addr() string { return f.addr }

// Port is the listening port.
func (f *fixtureServer) Port() int {
	_, p, _ := net.SplitHostPort(f.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// URL is the /metrics URL.
func (f *fixtureServer) URL() string { return "http://" + f.addr + "/metrics" }

// Stop closes the listener and every connection: the target is gone.
func (f *fixtureServer) Stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.srv != nil {
		_ = f.srv.Close()
		f.srv = nil
	}
}

// Start serves again on the same address.
func (f *fixtureServer) Start() {
	f.t.Helper()
	var l net.Listener
	waitFor(f.t, 10*time.Second, "re-listening on "+f.addr, func() error {
		var err error
		l, err = net.Listen("tcp", f.addr)
		return err
	})
	f.serve(l)
}

// readFixture reads e2e/testdata/name.
func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withoutFamily removes family name (HELP, TYPE and its samples, with the
// histogram/summary/counter suffixes) from an exposition body.
func withoutFamily(body []byte, name string) []byte {
	var out bytes.Buffer
	for _, line := range strings.SplitAfter(string(body), "\n") {
		trim := strings.TrimSpace(line)
		if f := strings.Fields(trim); len(f) >= 3 && f[0] == "#" && (f[1] == "HELP" || f[1] == "TYPE") && f[2] == name {
			continue
		}
		if trim != "" && !strings.HasPrefix(trim, "#") {
			sn := trim
			if i := strings.IndexAny(sn, "{ \t"); i >= 0 {
				sn = sn[:i]
			}
			if sn == name || slices.Contains([]string{"_bucket", "_sum", "_count", "_created", "_total"}, strings.TrimPrefix(sn, name)) {
				continue
			}
		}
		out.WriteString(line)
	}
	return out.Bytes()
}

// ---------------------------------------------------------------------------
// Exposition parsing (Prometheus text format 0.0.4), strict

type sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// key identifies the series: name and sorted labels, with `le`/`quantile`
// values in canonical float form (prometheus_client prints `1.0`, Go `1`)
// and empty-valued labels dropped (Prometheus treats them as absent).
func (s sample) key() string {
	names := make([]string, 0, len(s.Labels))
	for k, v := range s.Labels {
		if v != "" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(s.Name)
	b.WriteByte('{')
	for i, k := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		v := s.Labels[k]
		if k == "le" || k == "quantile" {
			if f, err := parseFloat(v); err == nil {
				v = formatFloat(f)
			}
		}
		fmt.Fprintf(&b, "%s=%q", k, v)
	}
	b.WriteByte('}')
	return b.String()
}

func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func parseFloat(s string) (float64, error) {
	switch s {
	case "+Inf", "Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	case "NaN":
		return math.NaN(), nil
	}
	return strconv.ParseFloat(s, 64)
}

// sameValue compares two sample values, NaN equal to NaN.
func sameValue(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b))
}

type exposition struct {
	Types   map[string]string // family -> type, from # TYPE
	Samples []sample
}

// parseExposition parses the text format strictly: every non-comment line
// must be a well-formed sample, and HELP/TYPE lines must be well formed.
func parseExposition(body []byte) (exposition, error) {
	e := exposition{Types: map[string]string{}}
	for i, line := range strings.Split(string(body), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[1] == "TYPE" {
				if len(f) != 4 {
					return e, fmt.Errorf("line %d: malformed TYPE: %q", i+1, line)
				}
				e.Types[f[2]] = f[3]
			} else if len(f) >= 2 && f[1] == "HELP" && len(f) < 3 {
				return e, fmt.Errorf("line %d: malformed HELP: %q", i+1, line)
			}
			continue
		}
		s, err := parseSampleLine(line)
		if err != nil {
			return e, fmt.Errorf("line %d: %w: %q", i+1, err, line)
		}
		e.Samples = append(e.Samples, s)
	}
	return e, nil
}

func isNameChar(c byte, first bool) bool {
	return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9')
}

func parseSampleLine(line string) (sample, error) {
	s := sample{Labels: map[string]string{}}
	i := 0
	for i < len(line) && isNameChar(line[i], i == 0) {
		i++
	}
	if i == 0 {
		return s, errors.New("no metric name")
	}
	s.Name = line[:i]
	if i < len(line) && line[i] == '{' {
		i++
		for {
			for i < len(line) && line[i] == ' ' {
				i++
			}
			if i < len(line) && line[i] == '}' {
				i++
				break
			}
			j := i
			for j < len(line) && isNameChar(line[j], j == i) && line[j] != ':' {
				j++
			}
			if j == i || j >= len(line) || line[j] != '=' || j+1 >= len(line) || line[j+1] != '"' {
				return s, errors.New("malformed label")
			}
			name := line[i:j]
			j += 2
			var v strings.Builder
			for {
				if j >= len(line) {
					return s, errors.New("unterminated label value")
				}
				c := line[j]
				if c == '"' {
					j++
					break
				}
				if c == '\\' {
					if j+1 >= len(line) {
						return s, errors.New("bad escape")
					}
					switch line[j+1] {
					case '\\':
						v.WriteByte('\\')
					case '"':
						v.WriteByte('"')
					case 'n':
						v.WriteByte('\n')
					default:
						return s, errors.New("bad escape")
					}
					j += 2
					continue
				}
				v.WriteByte(c)
				j++
			}
			if _, dup := s.Labels[name]; dup {
				return s, fmt.Errorf("duplicate label %s", name)
			}
			s.Labels[name] = v.String()
			i = j
			if i < len(line) && line[i] == ',' {
				i++
				continue
			}
			if i < len(line) && line[i] == '}' {
				i++
				break
			}
			return s, errors.New("expected , or } after label")
		}
	}
	rest := strings.Fields(line[i:])
	if len(rest) < 1 || len(rest) > 2 || (i < len(line) && line[i] != ' ' && line[i] != '\t') {
		return s, errors.New("expected value [timestamp]")
	}
	v, err := parseFloat(rest[0])
	if err != nil {
		return s, fmt.Errorf("bad value: %w", err)
	}
	s.Value = v
	if len(rest) == 2 {
		if _, err := strconv.ParseInt(rest[1], 10, 64); err != nil {
			return s, fmt.Errorf("bad timestamp: %w", err)
		}
	}
	return s, nil
}

// checkUnique fails on a series that appears twice.
func (e exposition) checkUnique() error {
	seen := map[string]bool{}
	for _, s := range e.Samples {
		k := s.key()
		if seen[k] {
			return fmt.Errorf("series %s appears twice", k)
		}
		seen[k] = true
	}
	return nil
}

// byKey indexes the samples by series key.
func (e exposition) byKey() map[string]sample {
	m := make(map[string]sample, len(e.Samples))
	for _, s := range e.Samples {
		m[s.key()] = s
	}
	return m
}

// filter returns the samples for which keep is true.
func (e exposition) filter(keep func(sample) bool) []sample {
	var out []sample
	for _, s := range e.Samples {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// value returns the value of the series with this name and these labels
// (exactly), and whether it exists.
func (e exposition) value(name string, labels map[string]string) (float64, bool) {
	want := sample{Name: name, Labels: labels}.key()
	for _, s := range e.Samples {
		if s.key() == want {
			return s.Value, true
		}
	}
	return 0, false
}

// fromInstance selects the namespaced series (sglang:/dynamo_) of one
// instance.
func fromInstance(instance string) func(sample) bool {
	return func(s sample) bool {
		return s.Labels["instance"] == instance && isNamespaced(s.Name)
	}
}

func isNamespaced(name string) bool {
	return strings.HasPrefix(name, "sglang:") || strings.HasPrefix(name, "dynamo_")
}

// expectedFromSource is what the exporter must show for one target: every
// sample of the source body whose name has one of the kept prefixes, with
// job and instance added.
func expectedFromSource(t *testing.T, body []byte, prefixes []string, job, instance string) []sample {
	t.Helper()
	src, err := parseExposition(body)
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	var out []sample
	for _, s := range src.Samples {
		if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(s.Name, p) }) {
			continue
		}
		ls := map[string]string{"job": job, "instance": instance}
		for k, v := range s.Labels {
			ls[k] = v
		}
		out = append(out, sample{Name: s.Name, Labels: ls, Value: s.Value})
	}
	if len(out) == 0 {
		t.Fatalf("fixture has no samples with prefixes %v", prefixes)
	}
	return out
}

// ---------------------------------------------------------------------------
// OTLP/HTTP sink

// otlpSink is an OTLP/HTTP metrics server that keeps every request.
type otlpSink struct {
	URL string
	mu  sync.Mutex
	got []pmetric.Metrics
}

func startOTLPSink(t *testing.T) *otlpSink {
	t.Helper()
	s := &otlpSink{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/metrics", func(w http.ResponseWriter, r *http.Request) {
		var rd io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			rd = zr
		}
		body, err := io.ReadAll(rd)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-protobuf" {
			http.Error(w, "unexpected content type "+ct, http.StatusUnsupportedMediaType)
			return
		}
		req := pmetricotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.got = append(s.got, req.Metrics())
		s.mu.Unlock()
		resp, _ := pmetricotlp.NewExportResponse().MarshalProto()
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(resp)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	s.URL = "http://" + l.Addr().String()
	return s
}

// Requests returns what was received so far.
func (s *otlpSink) Requests() []pmetric.Metrics {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// otlpPoint is one data point with its resource's identity.
type otlpPoint struct {
	Instance string // service.instance.id
	Metric   pmetric.Metric
	Key      string // metric name + point attributes
	Start    uint64
	Time     uint64
	Resource map[string]any
	Scope    string
}

// cumulative reports whether the point is of a namespaced (scraped, not
// health) Sum, Histogram or Summary: the points whose start time says when
// the series began.
func (p otlpPoint) cumulative() bool {
	switch p.Metric.Type() {
	case pmetric.MetricTypeSum, pmetric.MetricTypeHistogram, pmetric.MetricTypeSummary:
		return isNamespaced(p.Metric.Name())
	}
	return false
}

// points flattens every request into points of Sum, Gauge, Histogram and
// Summary metrics.
func (s *otlpSink) points() []otlpPoint {
	var out []otlpPoint
	for _, md := range s.Requests() {
		rms := md.ResourceMetrics()
		for i := 0; i < rms.Len(); i++ {
			rm := rms.At(i)
			res := rm.Resource().Attributes().AsRaw()
			inst, _ := res["service.instance.id"].(string)
			for j := 0; j < rm.ScopeMetrics().Len(); j++ {
				sm := rm.ScopeMetrics().At(j)
				for k := 0; k < sm.Metrics().Len(); k++ {
					m := sm.Metrics().At(k)
					add := func(attrs map[string]any, start, ts uint64) {
						out = append(out, otlpPoint{
							Instance: inst, Metric: m, Key: m.Name() + fmt.Sprint(attrs),
							Start: start, Time: ts, Resource: res, Scope: sm.Scope().Name(),
						})
					}
					switch m.Type() {
					case pmetric.MetricTypeSum:
						for p := 0; p < m.Sum().DataPoints().Len(); p++ {
							dp := m.Sum().DataPoints().At(p)
							add(dp.Attributes().AsRaw(), uint64(dp.StartTimestamp()), uint64(dp.Timestamp()))
						}
					case pmetric.MetricTypeGauge:
						for p := 0; p < m.Gauge().DataPoints().Len(); p++ {
							dp := m.Gauge().DataPoints().At(p)
							add(dp.Attributes().AsRaw(), uint64(dp.StartTimestamp()), uint64(dp.Timestamp()))
						}
					case pmetric.MetricTypeHistogram:
						for p := 0; p < m.Histogram().DataPoints().Len(); p++ {
							dp := m.Histogram().DataPoints().At(p)
							add(dp.Attributes().AsRaw(), uint64(dp.StartTimestamp()), uint64(dp.Timestamp()))
						}
					case pmetric.MetricTypeSummary:
						for p := 0; p < m.Summary().DataPoints().Len(); p++ {
							dp := m.Summary().DataPoints().At(p)
							add(dp.Attributes().AsRaw(), uint64(dp.StartTimestamp()), uint64(dp.Timestamp()))
						}
					}
				}
			}
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// Receiver configuration snippets

// workerYAML is one worker's engine + runtime (either may be empty) and
// resource attributes, as a `workers:` list element body.
func workerYAML(engine, runtime string, attrs map[string]string) string {
	var b strings.Builder
	if engine != "" {
		fmt.Fprintf(&b, "engine:\n  endpoint: %s\n", engine)
	}
	if runtime != "" {
		fmt.Fprintf(&b, "runtime:\n  endpoint: %s\n", runtime)
	}
	if len(attrs) > 0 {
		b.WriteString("attributes:\n")
		keys := make([]string, 0, len(attrs))
		for k := range attrs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "  %s: %q\n", k, attrs[k])
		}
	}
	return b.String()
}

// receiverYAML lists workers under `workers:`.
func receiverYAML(interval string, workers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "collection_interval: %s\nworkers:\n", interval)
	for _, w := range workers {
		lines := strings.Split(strings.TrimRight(w, "\n"), "\n")
		for i, l := range lines {
			if i == 0 {
				b.WriteString("  - " + l + "\n")
			} else {
				b.WriteString("    " + l + "\n")
			}
		}
	}
	return b.String()
}
