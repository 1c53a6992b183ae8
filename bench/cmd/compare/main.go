// Command compare runs the side-by-side benchmark of issue 4: for each
// payload, the floor (bare GET + one byte scan), the sglangdynamo receiver
// and contrib's prometheusreceiver (relabel keep on `sglang:.*|dynamo_.*`)
// scrape the same loopback targets at the same interval, one after another
// in this process, repeated in rounds (A B C A B C ...). It prints CPU time,
// bytes and allocations per target-scrape, and peak heap, with medians over
// the rounds and the ours/theirs ratios.
//
// The targets are served by a child process (this binary re-executed with
// -serve, Go net/http, the gzip bytes prepared once), so the process CPU
// measured here is the scraper's alone.
//
//	go run ./cmd/compare                      # the table
//	go run ./cmd/compare -scale               # 64 targets of sglang_tp8 at 1 s for 60 s
//	go run ./cmd/compare -payloads worker,worker_om,sglang_tp8,sglang_tp8_om   # text 0.0.4 and OpenMetrics side by side
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sglangdynamo/sglangdynamoreceiver/bench/harness"
	"github.com/sglangdynamo/sglangdynamoreceiver/bench/payloads"
)

var (
	serve     = flag.Bool("serve", false, "internal: serve the payloads (child process mode)")
	nports    = flag.Int("ports", 4, "internal: listeners to open with -serve")
	inProcess = flag.Bool("inprocess-server", false, "serve the targets from this process instead of a child (its CPU is then counted too)")

	targets  = flag.Int("targets", 4, "targets per scraper")
	interval = flag.Duration("interval", 200*time.Millisecond, "scrape interval")
	scrapes  = flag.Int("scrapes", 200, "target-scrapes measured per phase")
	warm     = flag.Int("warm", 8, "target-scrapes let pass before measuring")
	rounds   = flag.Int("rounds", 5, "rounds of floor, ours, prometheusreceiver per payload")
	only     = flag.String("payloads", "worker,sglang_tp8,mixed", "payloads to run")
	kinds    = flag.String("kinds", "floor,sglangdynamo,prometheusreceiver", "scrapers to run, in this order within a round")

	scale         = flag.Bool("scale", false, "scale run instead of the table")
	scaleTargets  = flag.Int("scale-targets", 64, "scale run: targets")
	scaleInterval = flag.Duration("scale-interval", time.Second, "scale run: interval")
	scaleDuration = flag.Duration("scale-duration", 60*time.Second, "scale run: measured duration")
	scalePayload  = flag.String("scale-payload", "sglang_tp8", "scale run: payload")
	scaleKinds    = flag.String("scale-kinds", "sglangdynamo", "scale run: scrapers (comma-separated)")

	soak         = flag.Int("soak", 0, "soak run instead of the table: this many target-scrapes of -soak-payload by -soak-kind, printing the live heap after a GC at 10 checkpoints")
	soakPayload  = flag.String("soak-payload", "sglang_tp8", "soak run: payload")
	soakKind     = flag.String("soak-kind", "sglangdynamo", "soak run: scraper")
	soakInterval = flag.Duration("soak-interval", 20*time.Millisecond, "soak run: interval")

	cpuprofile = flag.String("cpuprofile", "", "write a CPU profile of the measured run")
)

func main() {
	flag.Parse()
	bodies := map[string][]byte{}
	var names []string
	for _, p := range payloads.All() {
		bodies[p.Name] = p.Body
		names = append(names, p.Name)
	}
	// <name>_om: the same body as OpenMetrics, as SGLang answers the
	// receiver's Accept header; run with e.g. -payloads worker,worker_om.
	for _, p := range payloads.All() {
		bodies[p.Name+"_om"] = payloads.OpenMetrics(p.Body)
		names = append(names, p.Name+"_om")
	}
	if *serve {
		serveChild(bodies)
		return
	}
	n := *targets
	if *scale {
		n = *scaleTargets
	}
	ports, closeServer := startServer(n, bodies)
	defer closeServer()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	header()
	if *scale {
		runScale(ports)
		return
	}
	if *soak > 0 {
		runSoak(ports)
		return
	}
	runTable(ports, names, bodies)
}

func header() {
	model := harness.CPUModel()
	server := "child process (Go net/http, gzip prepared once)"
	if *inProcess {
		server = "in-process (Go net/http, gzip prepared once; its CPU is counted)"
	}
	fmt.Printf("# %s  %s  GOMAXPROCS=%d  NumCPU=%d  %s\n", time.Now().Format(time.RFC3339), runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU(), model)
	fmt.Printf("# targets served by: %s\n", server)
}

// startServer serves the payloads on n loopback ports, from a child process
// unless -inprocess-server.
func startServer(n int, bodies map[string][]byte) ([]int, func()) {
	if *inProcess {
		ports, closeAll, err := harness.Listen(n, harness.Handler(bodies))
		if err != nil {
			log.Fatal(err)
		}
		return ports, closeAll
	}
	exe, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	cmd := exec.Command(exe, "-serve", "-ports", strconv.Itoa(n))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		log.Fatalf("server child: %v", err)
	}
	var ports []int
	for _, f := range strings.Split(strings.TrimSpace(strings.TrimPrefix(line, "PORTS ")), ",") {
		p, err := strconv.Atoi(f)
		if err != nil {
			log.Fatalf("server child said %q", line)
		}
		ports = append(ports, p)
	}
	return ports, func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
	}
}

// serveChild is the child process: it serves until its stdin closes.
func serveChild(bodies map[string][]byte) {
	ports, closeAll, err := harness.Listen(*nports, harness.Handler(bodies))
	if err != nil {
		log.Fatal(err)
	}
	var s []string
	for _, p := range ports {
		s = append(s, strconv.Itoa(p))
	}
	fmt.Printf("PORTS %s\n", strings.Join(s, ","))
	io.Copy(io.Discard, os.Stdin)
	closeAll()
}

func runTable(ports []int, names []string, bodies map[string][]byte) {
	want := strings.Split(*only, ",")
	ks := parseKinds(*kinds)
	results := map[string]map[harness.Kind][]harness.Result{}
	fmt.Printf("# %d targets every %s, %d target-scrapes measured per phase after %d warm-up, %d rounds\n",
		len(ports), *interval, *scrapes, *warm, *rounds)
	fmt.Printf("%-12s %-20s %5s %8s %10s %12s %10s %10s %10s %4s\n", "payload", "scraper", "round", "scrapes", "cpu/scrape", "bytes/scrape", "allocs/scr", "peak heap", "retained", "GCs")
	for _, name := range names {
		if !slices.Contains(want, name) {
			continue
		}
		results[name] = map[harness.Kind][]harness.Result{}
		for r := 0; r < *rounds; r++ {
			for _, k := range ks {
				res, err := harness.Run(harness.Phase{
					Kind: k, Payload: name,
					Setup: harness.Setup{Ports: ports, Path: "/p/" + name, Interval: *interval},
					Warm:  *warm, Scrapes: *scrapes,
					Timeout: 2*time.Minute + time.Duration(*scrapes/len(ports)+*warm)*(*interval)*3,
				})
				if err != nil {
					log.Fatal(err)
				}
				results[name][k] = append(results[name][k], res)
				fmt.Printf("%-12s %-20s %5d %8d %10s %12.0f %10.0f %8.1fMB %8.2fMB %4d  points/scrape %v\n", name, k, r+1, res.Scrapes,
					fmtDur(res.CPUPerScrape()), res.BytesPerScrape(), res.AllocsPerScrape(), mb(res.PeakHeap), res.Retained/(1<<20), res.GCs, res.PerScrape)
			}
		}
	}
	fmt.Println()
	summary(names, results, bodies)
}

func parseKinds(s string) []harness.Kind {
	var ks []harness.Kind
	for _, k := range strings.Split(s, ",") {
		ks = append(ks, harness.Kind(strings.TrimSpace(k)))
	}
	return ks
}

type medians struct {
	cpu, bytes, allocs, peak, base float64
	outAllocs, outBytes, retained  float64
	ok                             bool
}

func median(rs []harness.Result, f func(harness.Result) float64) float64 {
	var v []float64
	for _, r := range rs {
		v = append(v, f(r))
	}
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func med(rs []harness.Result) medians {
	if len(rs) == 0 {
		return medians{}
	}
	return medians{
		cpu:       median(rs, func(r harness.Result) float64 { return float64(r.CPUPerScrape()) }),
		bytes:     median(rs, harness.Result.BytesPerScrape),
		allocs:    median(rs, harness.Result.AllocsPerScrape),
		peak:      median(rs, func(r harness.Result) float64 { return float64(r.PeakHeap) }),
		base:      median(rs, func(r harness.Result) float64 { return float64(r.BaseHeap) }),
		outAllocs: median(rs, func(r harness.Result) float64 { return r.OutAllocs }),
		outBytes:  median(rs, func(r harness.Result) float64 { return r.OutBytes }),
		retained:  median(rs, func(r harness.Result) float64 { return r.Retained }),
		ok:        true,
	}
}

func summary(names []string, results map[string]map[harness.Kind][]harness.Result, bodies map[string][]byte) {
	fmt.Println("Medians per target-scrape (CPU = process user+sys; heap = peak HeapInuse during the window, and above the pre-start baseline)")
	fmt.Println()
	fmt.Println("| payload | size | floor CPU | ours CPU | prom CPU | ours/prom total | ours/prom above floor | above floor per round: median (range) | ours B | prom B | B ratio | ours allocs | prom allocs | allocs ratio | ours peak heap (Δ) | prom peak heap (Δ) |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, name := range names {
		rs, ok := results[name]
		if !ok {
			continue
		}
		f, o, p := med(rs[harness.Floor]), med(rs[harness.Ours]), med(rs[harness.Prom])
		ratio := func(a, b float64) string {
			if !o.ok || !p.ok {
				return "–"
			}
			return fmtRatio(a, b)
		}
		above := "–"
		if f.ok && o.ok && p.ok {
			above = fmtRatio(o.cpu-f.cpu, p.cpu-f.cpu)
		}
		fmt.Printf("| %s | %.0f KB | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.0f | %.0f | %s | %.1f MB (%.1f) | %.1f MB (%.1f) |\n",
			name, float64(len(bodies[name]))/1000,
			fmtDur(time.Duration(f.cpu)), fmtDur(time.Duration(o.cpu)), fmtDur(time.Duration(p.cpu)),
			ratio(o.cpu, p.cpu), above, perRound(rs),
			fmtBytes(o.bytes), fmtBytes(p.bytes), ratio(o.bytes, p.bytes),
			o.allocs, p.allocs, ratio(o.allocs, p.allocs),
			o.peak/(1<<20), (o.peak-o.base)/(1<<20), p.peak/(1<<20), (p.peak-p.base)/(1<<20))
	}
	fmt.Println()
	fmt.Println("Heap: retained = live heap after a GC with the scraper running, minus the same before it started (its state for all targets, plus buffers); peak = highest HeapInuse sampled at each delivery in the window, absolute (the process baseline is shared).")
	fmt.Println()
	fmt.Println("| payload | ours retained | prom retained | ratio | ours peak | prom peak |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, name := range names {
		rs, ok := results[name]
		if !ok {
			continue
		}
		o, p := med(rs[harness.Ours]), med(rs[harness.Prom])
		fmt.Printf("| %s | %.2f MB | %.2f MB | %.2f | %.1f MB | %.1f MB |\n", name, o.retained/(1<<20), p.retained/(1<<20), o.retained/p.retained, o.peak/(1<<20), p.peak/(1<<20))
	}
	fmt.Println()
	fmt.Println("Allocation against the pdata output: \"output\" is what a deep copy of one delivered target-scrape allocates (the least any pdata producer pays without pooling); \"own\" is allocs/scrape minus that.")
	fmt.Println()
	fmt.Println("| payload | floor allocs (B) | ours output allocs (B) | ours own allocs (B) | prom output allocs (B) | prom own allocs (B) | own allocs ratio | own bytes ratio |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, name := range names {
		rs, ok := results[name]
		if !ok {
			continue
		}
		f, o, p := med(rs[harness.Floor]), med(rs[harness.Ours]), med(rs[harness.Prom])
		fmt.Printf("| %s | %.0f (%s) | %.0f (%s) | %.0f (%s) | %.0f (%s) | %.0f (%s) | %s | %s |\n", name,
			f.allocs, fmtBytes(f.bytes),
			o.outAllocs, fmtBytes(o.outBytes), o.allocs-o.outAllocs, fmtBytes(o.bytes-o.outBytes),
			p.outAllocs, fmtBytes(p.outBytes), p.allocs-p.outAllocs, fmtBytes(p.bytes-p.outBytes),
			fmtRatio(o.allocs-o.outAllocs, p.allocs-p.outAllocs), fmtRatio(o.bytes-o.outBytes, p.bytes-p.outBytes))
	}
}

// fmtRatio formats a/b, or "–" where there is nothing to divide by.
func fmtRatio(a, b float64) string {
	if b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.3f", a/b)
}

// perRound pairs the phases of each round, run minutes apart at most, and
// gives the median and range of their above-floor ratios: steadier than a
// ratio of medians when the machine's speed drifts between rounds.
func perRound(rs map[harness.Kind][]harness.Result) string {
	f, o, p := rs[harness.Floor], rs[harness.Ours], rs[harness.Prom]
	var v []float64
	for i := 0; i < len(f) && i < len(o) && i < len(p); i++ {
		fc, oc, pc := float64(f[i].CPUPerScrape()), float64(o[i].CPUPerScrape()), float64(p[i].CPUPerScrape())
		if pc > fc {
			v = append(v, (oc-fc)/(pc-fc))
		}
	}
	if len(v) == 0 {
		return "–"
	}
	slices.Sort(v)
	return fmt.Sprintf("%.3f (%.3f–%.3f)", v[len(v)/2], v[0], v[len(v)-1])
}

func runScale(ports []int) {
	fmt.Printf("# scale run: %d targets of %s every %s, %s measured\n", len(ports), *scalePayload, *scaleInterval, *scaleDuration)
	rounds := int(*scaleDuration / *scaleInterval)
	for _, k := range parseKinds(*scaleKinds) {
		res, err := harness.Run(harness.Phase{
			Kind: k, Payload: *scalePayload,
			Setup:   harness.Setup{Ports: ports, Path: "/p/" + *scalePayload, Interval: *scaleInterval},
			Warm:    2 * len(ports),
			Scrapes: rounds * len(ports),
			Timeout: 2*time.Minute + 3**scaleDuration,
		})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("| %s | %d targets × %s / %s | %.1f%% of one core | %s CPU/scrape | %s B/scrape | %.0f allocs/scrape | peak heap %.1f MB (Δ %.1f over baseline) | RSS %.1f MB, VmHWM %.1f MB | %d scrapes in %s |\n",
			k, len(ports), *scalePayload, *scaleInterval, res.CPUPercent(), fmtDur(res.CPUPerScrape()), fmtBytes(res.BytesPerScrape()), res.AllocsPerScrape(),
			mb(res.PeakHeap), (float64(res.PeakHeap)-float64(res.BaseHeap))/(1<<20), mb(res.RSS), mb(res.MaxRSS), res.Scrapes, res.Wall.Round(time.Millisecond))
	}
}

// runSoak scrapes a steady target set for -soak target-scrapes and prints
// the live heap (after a forced GC) at ten checkpoints: it must stay flat.
func runSoak(ports []int) {
	fmt.Printf("# soak: %d target-scrapes of %s by %s, %d targets every %s\n", *soak, *soakPayload, *soakKind, len(ports), *soakInterval)
	sink := harness.NewSink()
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	stop, err := harness.Start(ctx, harness.Kind(*soakKind), harness.Setup{Ports: ports, Path: "/p/" + *soakPayload, Interval: *soakInterval}, sink)
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	var first float64
	fmt.Println("| target-scrapes | live heap after GC | heap objects | Δ since first checkpoint |")
	fmt.Println("|---|---|---|---|")
	for i := 0; i <= 10; i++ {
		if err := sink.WaitScrapes(ctx, int64(*soak*i/10)+int64(2*len(ports))); err != nil {
			log.Fatal(err)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if i == 0 {
			first = float64(ms.HeapAlloc)
		}
		fmt.Printf("| %d | %.2f MB | %d | %+.1f KB |\n", sink.Scrapes(), mb(ms.HeapAlloc), ms.HeapObjects, (float64(ms.HeapAlloc)-first)/1024)
	}
}

func fmtDur(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/1e6) }

func fmtBytes(b float64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.2f MB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }
