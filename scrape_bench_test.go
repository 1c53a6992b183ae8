package sglangdynamoreceiver

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"go.opentelemetry.io/collector/config/configoptional"
)

// BenchmarkScrape is one round of the real scraper over four loopback
// targets serving a gzip body, as the bench/ harness runs it, so that the
// receiver's whole per-scrape path (fetch, gunzip, convert, health series,
// resource) can be profiled without the harness. cpu-ns/op is per target.
func BenchmarkScrape(b *testing.B) {
	for _, path := range []string{"bench/testdata/worker.txt", "bench/testdata/sglang_tp8.txt", "bench/testdata/mixed.txt"} {
		body, err := os.ReadFile(path)
		if err != nil {
			b.Skip("run go generate ./payloads in bench/ first")
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		_, _ = zw.Write(body)
		_ = zw.Close()
		b.Run(filepath.Base(path), func(b *testing.B) {
			cfg := createDefaultConfig().(*Config)
			for range 4 {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", textContentType)
					w.Header().Set("Content-Encoding", "gzip")
					_, _ = w.Write(gz.Bytes())
				}))
				b.Cleanup(srv.Close)
				cfg.Workers = append(cfg.Workers, WorkerConfig{Engine: configoptional.Some(targetAt(srv.URL))})
			}
			s := startScraper(b, cfg)
			if _, err := s.scrape(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var before, after syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
			for b.Loop() {
				if _, err := s.scrape(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
			cpu := after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano()
			b.ReportMetric(float64(cpu)/float64(b.N)/4, "cpu-ns/target")
		})
	}
}
