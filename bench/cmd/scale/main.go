// Command scale measures whole collectors at scale (issue 13, item 6): many
// loopback targets, a receiver, memory_limiter and batch, the Prometheus
// exporter (scraped by this command every -export-every, as a Prometheus
// server would) and the Prometheus remote-write exporter (into a loopback
// sink that decodes every request and counts its samples).
//
// Three processes take part, so that each figure is one process's own:
//
//   - the server child (this binary with -serve): the targets, one loopback
//     port each, gzip prepared once, text 0.0.4 or OpenMetrics; and the
//     remote-write sink (snappy + prompb.WriteRequest, samples counted);
//   - the collector child (this binary with -collector, a collector built
//     with the same factories as the distribution plus contrib's
//     prometheusreceiver; or the distribution binary given by -binary):
//     its CPU (utime+stime from /proc/<pid>/stat) and RSS are measured;
//   - this parent: it scrapes the exporter and reads the sink's count.
//
// Each phase starts a fresh collector, lets it warm up, measures for
// -duration, and stops it. Phases alternate between the scrapers (-kinds)
// for -rounds rounds, so that each ratio pairs phases minutes apart.
//
//	go run ./cmd/scale -payload worker -targets 1000 -interval 10s
//	go run ./cmd/scale -payload sglang_tp8 -targets 256 -interval 10s
//	go run ./cmd/scale -payload worker -targets 1000 -format openmetrics
//	go run ./cmd/scale -exporters nop ...          # receiver → batch → nop
//	go run ./cmd/scale -cpuprofile /tmp/scale ...  # <dir>/<kind>-<round>.prof of each measured window
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"

	"github.com/sglangdynamo/sglangdynamoreceiver/bench/harness"
	"github.com/sglangdynamo/sglangdynamoreceiver/bench/payloads"
)

var (
	serve     = flag.Bool("serve", false, "internal: serve the targets and the remote-write sink (child process mode)")
	collector = flag.String("collector", "", "internal: run a collector with this config file (child process mode)")

	payload      = flag.String("payload", "worker", "payload each target serves")
	format       = flag.String("format", "text", "exposition format served: text (0.0.4) or openmetrics")
	ntargets     = flag.Int("targets", 1000, "targets")
	interval     = flag.Duration("interval", 10*time.Second, "receiver scrape interval")
	duration     = flag.Duration("duration", 60*time.Second, "measured window per phase")
	warm         = flag.Duration("warm", 0, "warm-up before measuring (default 2 intervals + 5 s)")
	exportEvery  = flag.Duration("export-every", 5*time.Second, "how often the Prometheus exporter is scraped")
	kinds        = flag.String("kinds", "sglangdynamo,prometheusreceiver", "scrapers, alternated within a round")
	rounds       = flag.Int("rounds", 1, "rounds of -kinds")
	exporters    = flag.String("exporters", "prometheus,prometheusremotewrite", "exporters: any of prometheus, prometheusremotewrite, or nop alone")
	batch        = flag.Bool("batch", true, "put the batch processor (timeout 1s) in the pipeline, as config/collector.yaml does")
	batchMax     = flag.Int("batch-max", 8192, "the batch processor's send_batch_max_size, 8192 as config/collector.yaml sets it (0: unlimited, the processor's default; a whole round of our receiver then goes on as one batch)")
	binary       = flag.String("binary", "", "run the sglangdynamo phases with this collector binary (e.g. ../_build/otelcol-sglangdynamo) instead of this one")
	writeTimeout = flag.Duration("exporter-write-timeout", 0, "the Prometheus exporter's write_timeout (0: its default, 30 s, after which a scrape of it fails)")
	cpuprofile   = flag.String("cpuprofile", "", "directory: write a CPU profile of each measured window of the collector child")

	// Collector child: profile the window the parent measures.
	profileFile  = flag.String("profile-file", "", "internal: CPU profile file of the collector child")
	profileDelay = flag.Duration("profile-delay", 0, "internal: start the profile this long after start")
	profileFor   = flag.Duration("profile-for", 0, "internal: profile this long")
)

func main() {
	flag.Parse()
	switch {
	case *serve:
		serveChild()
		return
	case *collector != "":
		runCollector(*collector)
		return
	}
	parent()
}

// ---------------------------------------------------------------------------
// Server child

func body() []byte {
	for _, p := range payloads.All() {
		if p.Name == *payload {
			if *format == "openmetrics" {
				return payloads.OpenMetrics(p.Body)
			}
			return p.Body
		}
	}
	log.Fatalf("no payload %q", *payload)
	return nil
}

func serveChild() {
	b := body()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(b)
	zw.Close()
	ctype := "text/plain; version=0.0.4; charset=utf-8"
	if *format == "openmetrics" {
		ctype = "application/openmetrics-text; version=1.0.0; charset=utf-8"
	}
	target := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", ctype)
		out := b
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			h.Set("Content-Encoding", "gzip")
			out = gz.Bytes()
		}
		h.Set("Content-Length", strconv.Itoa(len(out)))
		w.Write(out)
	})
	ports, closeAll, err := harness.Listen(*ntargets, target)
	if err != nil {
		log.Fatal(err)
	}
	defer closeAll()

	var samples, histograms, requests, bad atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/write", func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		if err == nil {
			raw, err = snappy.Decode(nil, raw)
		}
		var req prompb.WriteRequest
		if err == nil {
			err = req.Unmarshal(raw)
		}
		if err != nil {
			bad.Add(1)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var n, nh int64
		for i := range req.Timeseries {
			n += int64(len(req.Timeseries[i].Samples))
			nh += int64(len(req.Timeseries[i].Histograms))
		}
		samples.Add(n)
		histograms.Add(nh)
		requests.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(sinkStats{samples.Load(), histograms.Load(), requests.Load(), bad.Load()})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go (&http.Server{Handler: mux}).Serve(ln)
	var s []string
	for _, p := range ports {
		s = append(s, strconv.Itoa(p))
	}
	fmt.Printf("SINK %d\nPORTS %s\n", ln.Addr().(*net.TCPAddr).Port, strings.Join(s, ","))
	io.Copy(io.Discard, os.Stdin)
}

type sinkStats struct{ Samples, Histograms, Requests, Bad int64 }

// ---------------------------------------------------------------------------
// Parent

type phase struct {
	kind                     harness.Kind
	round                    int
	cpu                      time.Duration
	wall                     time.Duration
	rss, hwm                 uint64
	expTimes                 []time.Duration
	expGz, expRaw, expSeries int
	rwSamples, rwReqs, rwBad int64
	accepted, rwSent         float64 // from the collector's own telemetry: points the receiver accepted, points the remote-write exporter sent
	loadStart, loadEnd       string
	collectorExe             string
}

func parent() {
	exe, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	srv := exec.Command(exe, "-serve", "-targets", strconv.Itoa(*ntargets), "-payload", *payload, "-format", *format)
	stdin, _ := srv.StdinPipe()
	stdout, _ := srv.StdoutPipe()
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() { stdin.Close(); srv.Wait() }()
	rd := bufio.NewReader(stdout)
	sinkLine, _ := rd.ReadString('\n')
	portsLine, err := rd.ReadString('\n')
	if err != nil {
		log.Fatalf("server child: %v", err)
	}
	sinkPort, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(sinkLine, "SINK ")))
	var ports []int
	for _, f := range strings.Split(strings.TrimSpace(strings.TrimPrefix(portsLine, "PORTS ")), ",") {
		p, _ := strconv.Atoi(f)
		ports = append(ports, p)
	}
	b := body()
	if *warm == 0 {
		*warm = 2**interval + 5*time.Second
	}
	fmt.Printf("# %s  %s  NumCPU=%d  %s  load %s\n", time.Now().UTC().Format(time.RFC3339), runtime.Version(), runtime.NumCPU(), harness.CPUModel(), loadavg())
	fmt.Printf("# %d targets of %s (%s, %d bytes) every %s; exporters %s; batch %v (send_batch_max_size %d); exporter scraped every %s; %s warm-up, %s measured per phase, %d rounds\n",
		len(ports), *payload, *format, len(b), *interval, *exporters, *batch, *batchMax, *exportEvery, *warm, *duration, *rounds)
	if *cpuprofile != "" {
		os.MkdirAll(*cpuprofile, 0o755)
	}
	var all []phase
	for r := 1; r <= *rounds; r++ {
		for _, k := range strings.Split(*kinds, ",") {
			p := runPhase(exe, harness.Kind(k), r, ports, sinkPort)
			all = append(all, p)
			printPhase(p)
		}
	}
	summarize(all)
}

func runPhase(exe string, kind harness.Kind, round int, ports []int, sinkPort int) phase {
	expPort, telPort := freePort(), freePort()
	cfg := collectorConfig(kind, ports, sinkPort, expPort, telPort)
	dir, err := os.MkdirTemp("", "scale")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cfgFile := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		log.Fatal(err)
	}
	var cmd *exec.Cmd
	p := phase{kind: kind, round: round, collectorExe: "bench collector"}
	if *binary != "" && kind == harness.Ours {
		cmd = exec.Command(*binary, "--config", cfgFile)
		p.collectorExe = *binary
	} else {
		args := []string{"-collector", cfgFile}
		if *cpuprofile != "" {
			args = append(args, "-profile-file", filepath.Join(*cpuprofile, fmt.Sprintf("%s-%d.prof", kind, round)),
				"-profile-delay", warm.String(), "-profile-for", duration.String())
		}
		cmd = exec.Command(exe, args...)
	}
	logf, _ := os.Create(filepath.Join(os.TempDir(), fmt.Sprintf("scale-%s-%d.log", kind, round)))
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	start := time.Now()
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	pid := cmd.Process.Pid
	expURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", expPort)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 5 * time.Minute}

	// Warm-up: scrape the exporter on its schedule as well, as Prometheus would.
	next := start.Add(*exportEvery)
	for time.Until(start.Add(*warm)) > 0 {
		time.Sleep(time.Until(next))
		next = next.Add(*exportEvery)
		scrapeExporter(client, expURL)
	}
	p.loadStart = loadavg()
	telURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", telPort)
	a0, r0 := telemetry(telURL)
	s0 := sinkCount(sinkPort)
	c0, w0 := procCPU(pid), time.Now()
	end := w0.Add(*duration)
	next = w0
	for {
		time.Sleep(time.Until(next))
		if !time.Now().Before(end) {
			break
		}
		d, gz, raw, series := scrapeExporter(client, expURL)
		p.expTimes = append(p.expTimes, d)
		p.expGz, p.expRaw, p.expSeries = gz, raw, series
		next = next.Add(*exportEvery)
	}
	c1, w1 := procCPU(pid), time.Now()
	s1 := sinkCount(sinkPort)
	a1, r1 := telemetry(telURL)
	p.accepted, p.rwSent = a1-a0, r1-r0
	p.cpu, p.wall = c1-c0, w1.Sub(w0)
	p.rss, p.hwm = harness.ProcMem(strconv.Itoa(pid))
	p.rwSamples, p.rwReqs, p.rwBad = s1.Samples-s0.Samples, s1.Requests-s0.Requests, s1.Bad-s0.Bad
	p.loadEnd = loadavg()
	if *cpuprofile != "" {
		time.Sleep(2 * time.Second) // let the child write its profile
	}
	return p
}

// scrapeExporter GETs the exporter as Prometheus does (gzip accepted) and
// returns the time until the last byte, the bytes on the wire, the
// uncompressed bytes and the series (sample lines).
func scrapeExporter(c *http.Client, url string) (time.Duration, int, int, int) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	req.Header.Set("Accept-Encoding", "gzip")
	t0 := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		log.Printf("exporter scrape: %v", err)
		return 0, 0, 0, 0
	}
	wire, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(t0)
	if err != nil {
		return d, 0, 0, 0
	}
	raw := wire
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(wire))
		if err == nil {
			raw, _ = io.ReadAll(zr)
		}
	}
	series := 0
	for l := range bytes.Lines(raw) {
		if len(l) > 0 && l[0] != '#' {
			series++
		}
	}
	return d, len(wire), len(raw), series
}

// telemetry reads the collector's own metrics: the points its receiver
// accepted and the points the remote-write exporter sent, so far.
func telemetry(url string) (accepted, rwSent float64) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		i := strings.LastIndexByte(l, ' ')
		if i < 0 || strings.HasPrefix(l, "#") {
			continue
		}
		v, _ := strconv.ParseFloat(l[i+1:], 64)
		switch {
		case strings.HasPrefix(l, "otelcol_receiver_accepted_metric_points"):
			accepted += v
		case strings.HasPrefix(l, "otelcol_exporter_sent_metric_points") && strings.Contains(l, `exporter="prometheusremotewrite"`):
			rwSent += v
		}
	}
	return accepted, rwSent
}

func sinkCount(port int) sinkStats {
	var s sinkStats
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/stats", port))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(&s)
	return s
}

func collectorConfig(kind harness.Kind, ports []int, sinkPort, expPort, telPort int) string {
	var b strings.Builder
	url := func(p int) string { return fmt.Sprintf("http://127.0.0.1:%d/p", p) }
	b.WriteString("receivers:\n")
	switch kind {
	case harness.Ours:
		fmt.Fprintf(&b, "  sglangdynamo:\n    collection_interval: %s\n    initial_delay: 0s\n    engine: {endpoint: %q}\n    workers:\n", *interval, url(ports[0]))
		for _, p := range ports[1:] {
			fmt.Fprintf(&b, "      - engine: {endpoint: %q}\n", url(p))
		}
	case harness.Prom:
		fmt.Fprintf(&b, "  prometheus:\n    config:\n      scrape_configs:\n        - job_name: bench\n          scrape_interval: %s\n          scrape_timeout: %s\n          metrics_path: /p\n", *interval, min(*interval, 10*time.Second))
		fmt.Fprintf(&b, "          metric_relabel_configs: [{source_labels: [__name__], regex: %q, action: keep}]\n          static_configs:\n            - targets:\n", harness.KeepRegex)
		for _, p := range ports {
			fmt.Fprintf(&b, "                - 127.0.0.1:%d\n", p)
		}
	default:
		log.Fatalf("unknown kind %q", kind)
	}
	fmt.Fprintf(&b, "processors:\n  memory_limiter: {check_interval: 1s, limit_percentage: 80, spike_limit_percentage: 20}\n  batch: {timeout: 1s, send_batch_max_size: %d}\n", *batchMax)
	b.WriteString("exporters:\n")
	var exps []string
	for _, e := range strings.Split(*exporters, ",") {
		switch e {
		case "prometheus":
			fmt.Fprintf(&b, "  prometheus:\n    endpoint: 127.0.0.1:%d\n    translation_strategy: UnderscoreEscapingWithoutSuffixes\n    without_scope_info: true\n    metric_expiration: %s\n", expPort, max(45*time.Second, 5**interval))
			if *writeTimeout > 0 {
				fmt.Fprintf(&b, "    write_timeout: %s\n", *writeTimeout)
			}
		case "prometheusremotewrite":
			fmt.Fprintf(&b, "  prometheusremotewrite:\n    endpoint: http://127.0.0.1:%d/write\n    translation_strategy: UnderscoreEscapingWithoutSuffixes\n    disable_scope_info: true\n    send_metadata: true\n    timeout: 30s\n    retry_on_failure: {enabled: true, max_elapsed_time: 5m}\n    remote_write_queue: {enabled: true, queue_size: 600}\n", sinkPort)
		case "nop":
			b.WriteString("  nop:\n")
		default:
			log.Fatalf("unknown exporter %q", e)
		}
		exps = append(exps, e)
	}
	procs := "[memory_limiter]"
	if *batch {
		procs = "[memory_limiter, batch]"
	}
	fmt.Fprintf(&b, "service:\n  telemetry:\n    logs: {level: warn}\n    metrics:\n      level: normal\n      readers:\n        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: %d}}}\n", telPort)
	fmt.Fprintf(&b, "  pipelines:\n    metrics:\n      receivers: [%s]\n      processors: %s\n      exporters: [%s]\n", map[harness.Kind]string{harness.Ours: "sglangdynamo", harness.Prom: "prometheus"}[kind], procs, strings.Join(exps, ", "))
	return b.String()
}

func printPhase(p phase) {
	fmt.Printf("%-20s round %d: CPU %5.1f%% of a core, %.0f points accepted/s (%.1f µs CPU per point), remote-write exporter sent %.0f points/s, RSS %6.0f MB (VmHWM %6.0f MB), exporter %s median (max %s) %s gzip / %s, %d series; remote write %.0f samples/s in %d requests (%d rejected); load %s → %s\n",
		p.kind, p.round, p.cpuPct(), p.acceptedRate(), p.usPerPoint(), p.rwSent/p.wall.Seconds(), mbf(p.rss), mbf(p.hwm), ms(medianDur(p.expTimes)), ms(slices.Max(append([]time.Duration{0}, p.expTimes...))),
		sizeStr(p.expGz), sizeStr(p.expRaw), p.expSeries, p.rwRate(), p.rwReqs, p.rwBad, p.loadStart, p.loadEnd)
}

func (p phase) cpuPct() float64       { return 100 * p.cpu.Seconds() / p.wall.Seconds() }
func (p phase) rwRate() float64       { return float64(p.rwSamples) / p.wall.Seconds() }
func (p phase) acceptedRate() float64 { return p.accepted / p.wall.Seconds() }
func (p phase) usPerPoint() float64 {
	if p.accepted == 0 {
		return 0
	}
	return 1e6 * p.cpu.Seconds() / p.accepted
}
func mbf(b uint64) float64      { return float64(b) / (1 << 20) }
func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/1e6) }
func sizeStr(n int) string      { return fmt.Sprintf("%.2f MB", float64(n)/(1<<20)) }
func medianDur(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// summarize prints one markdown row per scraper: the medians over rounds,
// and the ratio ours/prom per round where both ran.
func summarize(all []phase) {
	fmt.Println()
	fmt.Println("| scraper | CPU, % of a core | points accepted/s | CPU per accepted point | RSS at end | VmHWM | exporter response (median of rounds' medians) | exporter body gzip / plain | series | remote write samples/s |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	by := map[harness.Kind][]phase{}
	var order []harness.Kind
	for _, p := range all {
		if _, ok := by[p.kind]; !ok {
			order = append(order, p.kind)
		}
		by[p.kind] = append(by[p.kind], p)
	}
	medf := func(ps []phase, f func(phase) float64) float64 {
		var v []float64
		for _, p := range ps {
			v = append(v, f(p))
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	for _, k := range order {
		ps := by[k]
		fmt.Printf("| %s | %.1f%% | %.0f | %.1f µs | %.0f MB | %.0f MB | %.0f ms | %s / %s | %.0f | %.0f |\n", k,
			medf(ps, phase.cpuPct), medf(ps, phase.acceptedRate), medf(ps, phase.usPerPoint), medf(ps, func(p phase) float64 { return mbf(p.rss) }), medf(ps, func(p phase) float64 { return mbf(p.hwm) }),
			medf(ps, func(p phase) float64 { return float64(medianDur(p.expTimes)) / 1e6 }),
			sizeStr(int(medf(ps, func(p phase) float64 { return float64(p.expGz) }))), sizeStr(int(medf(ps, func(p phase) float64 { return float64(p.expRaw) }))),
			medf(ps, func(p phase) float64 { return float64(p.expSeries) }), medf(ps, phase.rwRate))
	}
	o, q := by[harness.Ours], by[harness.Prom]
	for i := 0; i < len(o) && i < len(q); i++ {
		fmt.Printf("round %d ours/prom: CPU %.3f, CPU per accepted point %.3f, RSS %.3f, exporter time %.3f, remote-write samples/s %.3f\n", i+1,
			o[i].cpuPct()/q[i].cpuPct(), o[i].usPerPoint()/q[i].usPerPoint(), float64(o[i].rss)/float64(q[i].rss),
			float64(medianDur(o[i].expTimes))/float64(medianDur(q[i].expTimes)), o[i].rwRate()/q[i].rwRate())
	}
}

// ---------------------------------------------------------------------------
// /proc

func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		log.Fatal(err)
	}
	// Fields after the command's closing parenthesis; utime and stime are
	// the 14th and 15th fields of the line, in clock ticks (100 Hz).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
