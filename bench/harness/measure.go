package harness

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Result is one measured phase: one scraper, one payload.
type Result struct {
	Kind      Kind
	Payload   string
	Scrapes   int64         // target-scrapes in the window
	Wall      time.Duration // length of the window
	CPU       time.Duration // process user+system CPU in the window
	Bytes     uint64        // bytes allocated in the window
	Mallocs   uint64        // heap objects allocated in the window
	GCs       uint32        // GC cycles completed in the window: each costs ~10 ms of CPU here, so 0 or 1 of them moves a small payload's figure visibly
	PeakHeap  uint64        // highest HeapInuse sampled in the window
	BaseHeap  uint64        // HeapInuse after a GC before the scraper started
	PerScrape map[int]int   // kept points per target-scrape -> occurrences
	// Retained is the live heap (HeapAlloc) after a GC at the end of the
	// window, with the scraper still running, minus the same before it
	// started: the state and buffers the scraper keeps.
	Retained float64
	// OutAllocs and OutBytes are what a deep copy of one delivered
	// target-scrape allocates: the pdata output's own cost.
	OutAllocs, OutBytes float64
	MaxRSS              uint64 // VmHWM at the end (bytes; monotonic over the process)
	RSS                 uint64 // VmRSS at the end
}

// CPUPerScrape is the CPU time of one target-scrape.
func (r Result) CPUPerScrape() time.Duration { return r.CPU / time.Duration(r.Scrapes) }

// BytesPerScrape and AllocsPerScrape are the allocation per target-scrape.
func (r Result) BytesPerScrape() float64  { return float64(r.Bytes) / float64(r.Scrapes) }
func (r Result) AllocsPerScrape() float64 { return float64(r.Mallocs) / float64(r.Scrapes) }

// CPUPercent is the CPU used in the window as a percentage of one core.
func (r Result) CPUPercent() float64 { return 100 * r.CPU.Seconds() / r.Wall.Seconds() }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapPeak keeps the highest HeapInuse (heap objects plus unused heap span
// bytes, via runtime/metrics, which does not stop the world) sampled while
// on. The sink samples at every delivery, when the delivered pdata is live:
// a sampling ticker would wake the process 50 times a second, and that cost
// every scraper about 0.15 ms per target-scrape here.
type heapPeak struct {
	mu      sync.Mutex
	on      bool
	peak    uint64
	samples []metrics.Sample
}

func (h *heapPeak) start() {
	h.mu.Lock()
	h.on, h.peak = true, 0
	if h.samples == nil {
		h.samples = newSamples()
	}
	h.mu.Unlock()
	h.sample()
}

func (h *heapPeak) sample() {
	h.mu.Lock()
	if h.on {
		h.peak = max(h.peak, heapInuse(h.samples))
	}
	h.mu.Unlock()
}

func (h *heapPeak) end() uint64 {
	h.sample()
	h.mu.Lock()
	h.on = false
	h.mu.Unlock()
	return h.peak
}

var heapMetrics = []string{"/memory/classes/heap/objects:bytes", "/memory/classes/heap/unused:bytes"}

func heapInuse(s []metrics.Sample) uint64 {
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64()
}

func newSamples() []metrics.Sample {
	s := make([]metrics.Sample, len(heapMetrics))
	for i, n := range heapMetrics {
		s[i].Name = n
	}
	return s
}

// Phase describes one measurement.
type Phase struct {
	Kind    Kind
	Payload string
	Setup   Setup
	// Warm is how many target-scrapes to let pass before measuring (the
	// first scrapes build state; prometheusreceiver also needs its target
	// discovery to settle).
	Warm int
	// Scrapes is how many target-scrapes to measure.
	Scrapes int
	// Timeout bounds the whole phase.
	Timeout time.Duration
}

// Run measures one phase: it starts the scraper, lets Warm target-scrapes
// pass, then measures process CPU, allocation and peak heap until Scrapes
// more have been delivered, and stops the scraper. Only this scraper runs
// in the process meanwhile; the targets are served by another process when
// the caller arranged it so.
func Run(p Phase) (Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), p.Timeout)
	defer cancel()
	runtime.GC()
	base := heapInuse(newSamples())
	var live0 runtime.MemStats
	runtime.ReadMemStats(&live0)
	sink := NewSink()
	stop, err := Start(ctx, p.Kind, p.Setup, sink)
	if err != nil {
		return Result{}, err
	}
	defer func() {
		stop()
		runtime.GC()
	}()
	if err := sink.WaitScrapes(ctx, int64(p.Warm)); err != nil {
		return Result{}, fmt.Errorf("%s/%s warm-up: %w", p.Kind, p.Payload, err)
	}
	sink.heap.start()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	s0 := sink.Scrapes()
	c0, w0 := cpuTime(), time.Now()
	err = sink.WaitScrapes(ctx, s0+int64(p.Scrapes))
	c1, w1 := cpuTime(), time.Now()
	s1 := sink.Scrapes()
	runtime.ReadMemStats(&ms1)
	peak := sink.heap.end()
	if err != nil {
		return Result{}, fmt.Errorf("%s/%s: %w", p.Kind, p.Payload, err)
	}
	rss, hwm := ProcMem("self")
	runtime.GC()
	var live1 runtime.MemStats
	runtime.ReadMemStats(&live1)
	retained := float64(live1.HeapAlloc) - float64(live0.HeapAlloc)
	outAllocs, outBytes := sink.OutputCost()
	return Result{
		OutAllocs: outAllocs, OutBytes: outBytes, Retained: retained,
		Kind: p.Kind, Payload: p.Payload,
		Scrapes: s1 - s0, Wall: w1.Sub(w0), CPU: c1 - c0,
		Bytes: ms1.TotalAlloc - ms0.TotalAlloc, Mallocs: ms1.Mallocs - ms0.Mallocs, GCs: ms1.NumGC - ms0.NumGC,
		PeakHeap: peak, BaseHeap: base, PerScrape: sink.PerScrape(),
		RSS: rss, MaxRSS: hwm,
	}, nil
}

// CPUModel is the machine's CPU as /proc/cpuinfo names it, for the header
// of a measurement.
func CPUModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			return strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
		}
	}
	return ""
}

// ProcMem returns VmRSS and VmHWM in bytes of the process pid ("self",
// or a number), 0 where unavailable.
func ProcMem(pid string) (rss, hwm uint64) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseUint(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = v << 10
		case "VmHWM:":
			hwm = v << 10
		}
	}
	return rss, hwm
}
