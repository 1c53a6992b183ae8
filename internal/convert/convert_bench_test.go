package convert

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/promtext"
)

type benchBody struct {
	name   string
	body   []byte
	format promtext.Format
}

// benchBodies are the golden inputs, and the harness payloads under
// bench/testdata when they exist.
func benchBodies(b *testing.B) []benchBody {
	paths, _ := filepath.Glob("../../testdata/golden/*/input")
	more, _ := filepath.Glob("../../bench/testdata/*.txt")
	var out []benchBody
	for _, path := range append(paths, more...) {
		body, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		name := filepath.Base(filepath.Dir(path))
		if filepath.Base(path) != "input" {
			name = filepath.Base(path)
		}
		format := promtext.FormatText
		if _, err := os.Stat(filepath.Join(filepath.Dir(path), "content-type")); err == nil {
			format = promtext.FormatOpenMetrics
		}
		out = append(out, benchBody{name, body, format})
	}
	return out
}

// BenchmarkConvert measures parse+filter+convert of one body into a fresh
// MetricSlice, on a target that has seen the body before (the steady state
// of a scrape loop), with the receiver's default options (`sglang_`
// families restored).
func BenchmarkConvert(b *testing.B) {
	for _, bb := range benchBodies(b) {
		b.Run(bb.name, func(b *testing.B) {
			tg := New(Options{Keep: keepOursRestored, FamilyName: RestoreSGLangName})
			if _, err := tg.Convert(bb.body, bb.format, 1, pmetric.NewMetricSlice()); err != nil {
				b.Skip(err)
			}
			b.SetBytes(int64(len(bb.body)))
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				if _, err := tg.Convert(bb.body, bb.format, 2, pmetric.NewMetricSlice()); err != nil {
					b.Fatal(err)
				}
			}
			// Process CPU time (GC included) per op: unlike ns/op, it does not
			// grow when other work on this 2-core machine takes the CPU away.
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkConvertCold is BenchmarkConvert as a scrape loop meets it: four
// targets take turns, as in the side-by-side harness, and between two bodies
// other work (decompression, the network, other receivers) has pushed their
// state out of the core's cache. A steady microbenchmark keeps one target's
// state hot and hides what scattered state costs.
func BenchmarkConvertCold(b *testing.B) {
	evict := make([]byte, 4<<20) // four times this machine's per-core L2
	for _, bb := range benchBodies(b) {
		b.Run(bb.name, func(b *testing.B) {
			var tgs [4]*Converter
			for i := range tgs {
				tgs[i] = New(Options{Keep: keepOursRestored, FamilyName: RestoreSGLangName})
				if _, err := tgs[i].Convert(bb.body, bb.format, 1, pmetric.NewMetricSlice()); err != nil {
					b.Skip(err)
				}
			}
			b.SetBytes(int64(len(bb.body)))
			b.ReportAllocs()
			var cpu int64
			i := 0
			for b.Loop() {
				b.StopTimer()
				for j := 0; j < len(evict); j += 64 {
					evict[j]++
				}
				b.StartTimer()
				start := processCPU()
				if _, err := tgs[i%len(tgs)].Convert(bb.body, bb.format, 2, pmetric.NewMetricSlice()); err != nil {
					b.Fatal(err)
				}
				cpu += processCPU() - start
				i++
			}
			b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

func processCPU() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
