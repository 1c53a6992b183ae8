package sglangdynamoreceiver

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/metadata"
)

// The fault matrix: each faulty target is scraped beside a healthy one.
// The faulty target must end with the expected `up` and an error naming its
// endpoint and the reason; the healthy target's data must be exactly what
// it is without the faulty neighbour; and the bytes allocated stay bounded.

const testMaxBody = 1 << 20

func handler(f func(w http.ResponseWriter, r *http.Request)) func(t *testing.T) string {
	return func(t *testing.T) string {
		srv := httptest.NewServer(http.HandlerFunc(f))
		t.Cleanup(srv.Close)
		return srv.URL + "/metrics"
	}
}

func textBody(s string) func(t *testing.T) string {
	return handler(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", textContentType)
		_, _ = w.Write([]byte(s))
	})
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

func manySeries(n int) string {
	var b strings.Builder
	b.WriteString("# TYPE sglang:num_running_reqs gauge\n")
	for i := range n {
		fmt.Fprintf(&b, "sglang:num_running_reqs{tp_rank=\"%d\"} 1\n", i)
	}
	return b.String()
}

type fault struct {
	name   string
	target func(t *testing.T) string
	up     float64
	reason string // in the error; empty when the body is valid
	// maxBody, when set, is the limits.max_body_size the fault is scraped
	// with instead of testMaxBody, for a valid body larger than that. What
	// such a scrape allocates grows with its series, not with the limit,
	// so it is not held to the allocation bound.
	maxBody int64
	// timeout, when set, replaces the 1 s scrape timeout, for a valid body
	// whose fetch and parse take longer than that under -race on a busy
	// two-core machine: that case tests size, not time.
	timeout time.Duration
}

func faults() []fault {
	hist := "# TYPE sglang:h histogram\n"
	return []fault{
		{name: "connection refused", target: func(t *testing.T) string {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			addr := l.Addr().String()
			l.Close()
			return "http://" + addr + "/metrics"
		}, up: 0, reason: "connection refused"},
		{name: "unknown host", target: func(*testing.T) string { return "http://no-such-host.invalid:30000/metrics" }, up: 0, reason: "no-such-host.invalid"},
		{name: "bad certificate", target: func(t *testing.T) string {
			srv := httptest.NewTLSServer(http.NotFoundHandler())
			t.Cleanup(srv.Close)
			return srv.URL + "/metrics"
		}, up: 0, reason: "certificate"},
		{name: "TLS to a plain server", target: func(t *testing.T) string {
			srv := httptest.NewServer(http.NotFoundHandler())
			t.Cleanup(srv.Close)
			return strings.Replace(srv.URL, "http://", "https://", 1) + "/metrics"
		}, up: 0, reason: "http: server gave HTTP response to HTTPS client"},
		{name: "404", target: handler(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, `{"detail":"Not Found"}`, 404) }), up: 0, reason: `404 Not Found: "{\"detail\":\"Not Found\"}"`},
		{name: "500", target: handler(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", 500) }), up: 0, reason: "500 Internal Server Error"},
		{name: "503 with body", target: handler(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "engine warming up", http.StatusServiceUnavailable)
		}), up: 0, reason: `503 Service Unavailable: "engine warming up"`},
		{name: "redirect loop", target: handler(func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, r.URL.Path, http.StatusFound) }), up: 0, reason: "stopped after 10 redirects"},
		{name: "redirect to another host", target: handler(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Location", "http://192.0.2.1:30000/metrics")
			w.WriteHeader(http.StatusTemporaryRedirect)
		}), up: 0, reason: "redirect to another host 192.0.2.1:30000 refused"},
		{name: "headers never come", target: handler(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }), up: 0, reason: "timed out after 1s"},
		{name: "body drips slower than the timeout", target: handler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", textContentType)
			for i := 0; ; i++ {
				if _, err := fmt.Fprintf(w, "sglang:g{i=\"%d\"} 1\n", i); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(300 * time.Millisecond):
				}
			}
		}), up: 0, reason: "timed out after 1s"},
		{name: "connection reset mid-body", target: handler(func(w http.ResponseWriter, _ *http.Request) {
			conn, buf, _ := w.(http.Hijacker).Hijack()
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\nsglang:g 1\nsglang:h")
			_ = buf.Flush()
			_ = conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}), up: 0, reason: "reading body"},
		{name: "truncated body", target: handler(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "100")
			_, _ = w.Write([]byte("sglang:g 1\nsglang:h 2\n"))
		}), up: 0, reason: "unexpected EOF"},
		{name: "truncated mid-line", target: textBody("sglang:g 1\nsglang:h{a=\"b\"} 2"), up: 0, reason: "does not end with a newline"},
		{name: "empty body", target: textBody(""), up: 1},
		{name: "huge body", target: textBody(manySeries(40_000)), up: 0, reason: "body exceeds limits.max_body_size"},
		{name: "gzip bomb", target: func(t *testing.T) string {
			bomb := gzipped(bytes.Repeat([]byte("# padding padding padding\n"), 4<<20)) // 100 MiB in ~100 KiB
			return handler(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				w.Header().Set("Content-Type", textContentType)
				_, _ = w.Write(bomb)
			})(t)
		}, up: 0, reason: "body exceeds limits.max_body_size"},
		{name: "wrong content type", target: handler(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte("<html>login</html>"))
		}), up: 0, reason: `unsupported Content-Type "text/html; charset=utf-8"`},
		{name: "binary garbage", target: textBody("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\n"), up: 0, reason: "line 1: invalid metric name"},
		{name: "invalid UTF-8 label value", target: textBody("sglang:g{model_name=\"\xc3\x28\"} 1\n"), up: 0, reason: "label value is not valid UTF-8"},
		{name: "NaN and Inf everywhere values may be", target: textBody("# TYPE sglang:c counter\nsglang:c{v=\"NaN\"} NaN\n# TYPE sglang:g gauge\nsglang:g{v=\"+Inf\"} +Inf\nsglang:g{v=\"-Inf\"} -Inf\n" +
			hist + "sglang:h_bucket{le=\"+Inf\"} 1\nsglang:h_sum NaN\nsglang:h_count 1\n"), up: 1},
		{name: "NaN bucket bound", target: textBody(hist + "sglang:h_bucket{le=\"NaN\"} 1\n"), up: 0, reason: "invalid le label value"},
		{name: "NaN timestamp", target: textBody("sglang:g 1 NaN\n"), up: 0, reason: "invalid timestamp"},
		{name: "duplicate series with different values", target: textBody("sglang:g 1\nsglang:g 2\n"), up: 1},
		{name: "histogram without +Inf", target: textBody(hist + "sglang:h_bucket{le=\"1\"} 1\nsglang:h_count 1\n"), up: 0, reason: "histogram without a +Inf bucket"},
		{name: "decreasing buckets", target: textBody(hist + "sglang:h_bucket{le=\"1\"} 2\nsglang:h_bucket{le=\"+Inf\"} 1\n"), up: 0, reason: "less than the bucket below it"},
		{name: "summary without _count", target: textBody("# TYPE sglang:s summary\nsglang:s_sum 1\n"), up: 0, reason: "summary without _count"},
		{name: "100,000 series", target: textBody(manySeries(100_000)), up: 1, maxBody: 8 << 20, timeout: 10 * time.Second},
		{name: "1 MB label value", target: textBody("sglang:g{v=\"" + strings.Repeat("x", 1<<20-20) + "\"} 1\n"), up: 0, reason: "value longer than 4096 bytes"},
	}
}

func healthyTarget(t *testing.T) string {
	b := &body{}
	b.set(counters(42))
	return serve(t, b).URL + "/metrics"
}

func faultConfig(healthy, faulty string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Timeout = time.Second
	cfg.Limits.MaxBodySize = testMaxBody
	cfg.Workers = append(cfg.Workers, WorkerConfig{Engine: configoptional.Some(targetAt(healthy))})
	if faulty != "" {
		cfg.Workers = append(cfg.Workers, WorkerConfig{Engine: configoptional.Some(targetAt(faulty))})
	}
	return cfg
}

// resourceFor returns the scraped data of one target as its own Metrics.
func resourceFor(md pmetric.Metrics, instance string) pmetric.Metrics {
	out := pmetric.NewMetrics()
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		rm := md.ResourceMetrics().At(i)
		if id, _ := rm.Resource().Attributes().Get("service.instance.id"); id.Str() == instance {
			rm.CopyTo(out.ResourceMetrics().AppendEmpty())
		}
	}
	return out
}

func TestFaultMatrix(t *testing.T) {
	healthy := healthyTarget(t)
	healthyID := strings.TrimSuffix(strings.TrimPrefix(healthy, "http://"), "/metrics")
	baseline := scrapeOK(t, startScraper(t, faultConfig(healthy, "")))
	want := resourceFor(baseline, healthyID)

	for _, f := range faults() {
		t.Run(f.name, func(t *testing.T) {
			faulty := f.target(t)
			cfg := faultConfig(healthy, faulty)
			if f.maxBody != 0 {
				cfg.Limits.MaxBodySize = f.maxBody
			}
			if f.timeout != 0 {
				cfg.Timeout = f.timeout
			}
			s := startScraper(t, cfg)

			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			md, err := scrapeWithin(t, s, 20*time.Second)
			var after runtime.MemStats
			runtime.ReadMemStats(&after)

			faultyID := s.targets[1].url.Host
			assert.Equal(t, f.up, find(md, faultyID, "up").value, "up of the faulty target")
			if f.reason == "" {
				assert.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.Contains(t, err.Error(), s.targets[1].endpoint, "the error names the endpoint")
				assert.Contains(t, err.Error(), f.reason)
				assert.NotContains(t, err.Error(), healthyID, "one target's error does not mention another")
			}
			got := resourceFor(md, healthyID)
			require.NoError(t, pmetrictest.CompareMetrics(want, got, append(compareOptions(), pmetrictest.IgnoreMetricValues("scrape_duration_seconds"))...),
				"the healthy target's data must not change")
			if f.maxBody == 0 {
				assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(24*testMaxBody), "bytes allocated by one scrape")
			}
		})
	}
}

// TestCredentialsNeverInErrors: neither the password of an endpoint URL nor
// a bearer token from the headers appears in an error.
func TestCredentialsNeverInErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "denied", http.StatusUnauthorized)
	}))
	defer srv.Close()
	tc := targetAt(strings.Replace(srv.URL, "http://", "http://admin:hunter2@", 1) + "/metrics")
	tc.Headers = configopaque.MapList{{Name: "Authorization", Value: "Bearer tok-hunter3"}}
	s := startScraper(t, engineOnly(tc))
	_, err := s.scrape(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "401")
	assert.NotContains(t, err.Error(), "hunter2")
	assert.NotContains(t, err.Error(), "hunter3")
	assert.Contains(t, err.Error(), "admin:xxxxx@")

	refused := targetAt("http://admin:hunter2@127.0.0.1:1/metrics")
	s = startScraper(t, engineOnly(refused))
	_, err = s.scrape(context.Background())
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
}

// startReceiver runs the real receiver, controller included, with logs
// captured.
func startReceiver(t *testing.T, cfg *Config) (*observer.ObservedLogs, func()) {
	core, logs := observer.New(zap.WarnLevel)
	set := receivertest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	rcv, err := NewFactory().CreateMetrics(context.Background(), set, cfg, new(consumertest.MetricsSink))
	require.NoError(t, err)
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	return logs, func() { require.NoError(t, rcv.Shutdown(context.Background())) }
}

// TestScrapeErrorIsLogged: a dead target's scrape error is logged by the
// collector with its endpoint and the reason.
func TestScrapeErrorIsLogged(t *testing.T) {
	dead := faults()[0].target(t)
	cfg := createDefaultConfig().(*Config)
	cfg.CollectionInterval = 100 * time.Millisecond
	cfg.InitialDelay = 0
	cfg.Engine = configoptional.Some(targetAt(dead))
	logs, stop := startReceiver(t, cfg)
	defer stop()
	require.Eventually(t, func() bool {
		for _, e := range logs.All() {
			msg := fmt.Sprint(e.ContextMap()["error"])
			if e.Message == "Error scraping metrics" && strings.Contains(msg, dead) && strings.Contains(msg, "connection refused") {
				return true
			}
		}
		return false
	}, 10*time.Second, 50*time.Millisecond, "an error log naming the dead endpoint and the reason")
}

// TestShutdownCancelsInFlightScrape: a target that never answers must not
// hold up shutdown; goleak (TestMain) checks nothing is left running.
func TestShutdownCancelsInFlightScrape(t *testing.T) {
	hung := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case hung <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	}))
	defer srv.Close()
	cfg := createDefaultConfig().(*Config)
	cfg.CollectionInterval = time.Minute
	cfg.InitialDelay = 0
	cfg.Engine = configoptional.Some(targetAt(srv.URL))
	_, stop := startReceiver(t, cfg)
	select {
	case <-hung:
	case <-time.After(10 * time.Second):
		t.Fatal("the hung target was never scraped")
	}
	began := time.Now()
	stop()
	assert.Less(t, time.Since(began), 2*time.Second, "shutdown must cancel the in-flight scrape")
}
