package convert

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/promtext"
)

// BenchmarkConvert measures parse+filter+convert of one body into a fresh
// MetricSlice, on a target that has seen the body before (the steady state
// of a scrape loop). Payloads: the golden inputs, and the harness payloads
// under bench/testdata when they exist.
func BenchmarkConvert(b *testing.B) {
	paths, _ := filepath.Glob("../../testdata/golden/*/input")
	more, _ := filepath.Glob("../../bench/testdata/*.txt")
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
		b.Run(name, func(b *testing.B) {
			tg := NewTarget(Options{Keep: keepOurs})
			if _, err := tg.Convert(body, format, 1, pmetric.NewMetricSlice()); err != nil {
				b.Skip(err)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				if _, err := tg.Convert(body, format, 2, pmetric.NewMetricSlice()); err != nil {
					b.Fatal(err)
				}
			}
			// Process CPU time (GC included) per op: unlike ns/op, it does not
			// grow when other work on this 2-core machine takes the CPU away.
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

func processCPU() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
