package sglangdynamoreceiver

import (
	"context"
	"flag"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/metadata"
)

var update = flag.Bool("update", false, "rewrite the golden expected.yaml files")

const textContentType = "text/plain; version=0.0.4; charset=utf-8"

// body is what a test server serves; tests swap it between scrapes.
type body struct {
	mu          sync.Mutex
	text        []byte
	contentType string
	status      int
	requests    int
}

func (b *body) set(text string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.text, b.status = []byte(text), http.StatusOK
}

func (b *body) fail(status int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.status = status
}

func (b *body) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.requests++
	ct := b.contentType
	if ct == "" {
		ct = textContentType
	}
	w.Header().Set("Content-Type", ct)
	if b.status != 0 && b.status != http.StatusOK {
		http.Error(w, "injected failure", b.status)
		return
	}
	_, _ = w.Write(b.text)
}

// serve starts a real loopback HTTP server for b.
func serve(t testing.TB, b *body) *httptest.Server {
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	return srv
}

func targetAt(url string) TargetConfig {
	tc := newDefaultTargetConfig()
	tc.Endpoint = url
	return tc
}

// engineOnly is a config with one SGLang target, which therefore keeps both
// namespaces.
func engineOnly(tc TargetConfig) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Engine = configoptional.Some(tc)
	return cfg
}

// startScraper builds and starts the scraper the factory would, on a nop
// host, and shuts it down when the test ends.
func startScraper(t testing.TB, cfg *Config) *sglangdynamoScraper {
	require.NoError(t, cfg.Validate())
	s, err := newScraper(cfg, receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	require.NoError(t, s.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.shutdown(context.Background())) })
	return s
}

func compareOptions() []pmetrictest.CompareMetricsOption {
	return []pmetrictest.CompareMetricsOption{
		pmetrictest.IgnoreTimestamp(),
		pmetrictest.IgnoreStartTimestamp(),
		pmetrictest.IgnoreResourceAttributeValue("service.instance.id"),
		pmetrictest.IgnoreResourceAttributeValue("server.port"),
		pmetrictest.IgnoreMetricValues("scrape_duration_seconds"),
		pmetrictest.IgnoreScopeVersion(),
		pmetrictest.IgnoreMetricDataPointsOrder(),
	}
}

// nanMarker stands in for NaN on both sides of a comparison, since
// pmetrictest compares with != and NaN never equals itself. TestGolden
// checks separately that the NaNs are really there.
const nanMarker = -1.25e-300

func maskNaN(md pmetric.Metrics) (n int) {
	visit(md, func(dp pmetric.NumberDataPoint) {
		if dp.ValueType() == pmetric.NumberDataPointValueTypeDouble && math.IsNaN(dp.DoubleValue()) {
			dp.SetDoubleValue(nanMarker)
			n++
		}
	})
	return n
}

func visit(md pmetric.Metrics, f func(pmetric.NumberDataPoint)) {
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		sms := rms.At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				var dps pmetric.NumberDataPointSlice
				switch m := ms.At(k); m.Type() {
				case pmetric.MetricTypeGauge:
					dps = m.Gauge().DataPoints()
				case pmetric.MetricTypeSum:
					dps = m.Sum().DataPoints()
				default:
					continue
				}
				for l := 0; l < dps.Len(); l++ {
					f(dps.At(l))
				}
			}
		}
	}
}

// TestGolden scrapes each testdata/golden/<case>/input from a real loopback
// server and compares the result with expected.yaml. A case may carry a
// content-type file and a config.yaml overlay for the target.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/golden/*")
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			input, err := os.ReadFile(filepath.Join(dir, "input"))
			require.NoError(t, err)
			b := &body{text: input}
			if ct, err := os.ReadFile(filepath.Join(dir, "content-type")); err == nil {
				b.contentType = string(ct[:len(ct)-1])
			}
			srv := serve(t, b)
			tc := targetAt(srv.URL + "/metrics")
			if conf, err := confmaptest.LoadConf(filepath.Join(dir, "config.yaml")); err == nil {
				require.NoError(t, conf.Unmarshal(&tc))
			}
			s := startScraper(t, engineOnly(tc))
			md, err := s.scrape(context.Background())
			require.NoError(t, err)

			path := filepath.Join(dir, "expected.yaml")
			if *update {
				golden.WriteMetrics(t, path, md)
			}
			expected, err := golden.ReadMetrics(path)
			require.NoError(t, err)
			require.Equal(t, maskNaN(expected), maskNaN(md), "NaN points")
			require.NoError(t, pmetrictest.CompareMetrics(expected, md, compareOptions()...))
		})
	}
}

// scrapeWithin runs one scrape with a deadline, for tests of faulty targets.
func scrapeWithin(t testing.TB, s *sglangdynamoScraper, d time.Duration) (pmetric.Metrics, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return s.scrape(ctx)
}
