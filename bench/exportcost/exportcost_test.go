// Package exportcost measures what contrib's Prometheus exporter spends on
// the pdata each receiver emits for the same body (issue 13, item 6.2):
// one target-scrape is captured from each receiver, copied to -targets
// resources (distinct service.instance.id), and fed to the real
// prometheusexporter, in process.
//
//	cd bench && go test -run '^$' -bench . -benchmem -count 6 ./exportcost
//	go test -run TestShape -v ./exportcost      # what differs between the two outputs
package exportcost

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/prometheusexporter"
	prw "github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/prometheusremotewrite"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/sglangdynamo/sglangdynamoreceiver/bench/harness"
	"github.com/sglangdynamo/sglangdynamoreceiver/bench/payloads"
)

const targets = 64

var (
	captureOnce sync.Once
	captured    map[harness.Kind]pmetric.ResourceMetrics
)

// capture scrapes sglang_tp8 with each receiver and keeps one target-scrape
// from after the warm-up (our receiver's second scrape onward carries the
// start times it keeps).
func capture(tb testing.TB) map[harness.Kind]pmetric.ResourceMetrics {
	captureOnce.Do(func() {
		bodies := map[string][]byte{}
		for _, p := range payloads.All() {
			bodies[p.Name] = p.Body
		}
		ports, closeAll, err := harness.Listen(1, harness.Handler(bodies))
		if err != nil {
			tb.Fatal(err)
		}
		defer closeAll()
		captured = map[harness.Kind]pmetric.ResourceMetrics{}
		for _, k := range []harness.Kind{harness.Ours, harness.Prom} {
			sink := harness.NewSink()
			sink.KeepLast()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			stop, err := harness.Start(ctx, k, harness.Setup{Ports: ports, Path: "/p/sglang_tp8", Interval: 100 * time.Millisecond}, sink)
			if err != nil {
				tb.Fatal(err)
			}
			if err := sink.WaitScrapes(ctx, 3); err != nil {
				tb.Fatal(err)
			}
			stop()
			cancel()
			captured[k] = sink.Last()
		}
	})
	return captured
}

// fanOut copies rm to n resources that differ in service.instance.id and
// server.port, as n targets would.
func fanOut(rm pmetric.ResourceMetrics, n int, mutate func(pmetric.Metric)) pmetric.Metrics {
	md := pmetric.NewMetrics()
	for i := 0; i < n; i++ {
		r := md.ResourceMetrics().AppendEmpty()
		rm.CopyTo(r)
		inst := "127.0.0.1:" + strconv.Itoa(20000+i)
		r.Resource().Attributes().PutStr("service.instance.id", inst)
		r.Resource().Attributes().PutInt("server.port", int64(20000+i))
		if mutate != nil {
			sms := r.ScopeMetrics()
			for j := 0; j < sms.Len(); j++ {
				ms := sms.At(j).Metrics()
				for k := 0; k < ms.Len(); k++ {
					mutate(ms.At(k))
				}
			}
		}
	}
	return md
}

// setStart sets (or with 0 clears) the start time of every cumulative point.
func setStart(ts pcommon.Timestamp) func(pmetric.Metric) {
	return func(m pmetric.Metric) {
		switch m.Type() {
		case pmetric.MetricTypeSum:
			for i := 0; i < m.Sum().DataPoints().Len(); i++ {
				m.Sum().DataPoints().At(i).SetStartTimestamp(ts)
			}
		case pmetric.MetricTypeHistogram:
			for i := 0; i < m.Histogram().DataPoints().Len(); i++ {
				m.Histogram().DataPoints().At(i).SetStartTimestamp(ts)
			}
		case pmetric.MetricTypeSummary:
			for i := 0; i < m.Summary().DataPoints().Len(); i++ {
				m.Summary().DataPoints().At(i).SetStartTimestamp(ts)
			}
		}
	}
}

type exp struct {
	e   exporter.Metrics
	url string
}

func newExporter(tb testing.TB) exp {
	f := prometheusexporter.NewFactory()
	cfg := f.CreateDefaultConfig().(*prometheusexporter.Config)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cfg.ServerConfig.NetAddr.Endpoint = "127.0.0.1:" + strconv.Itoa(port)
	cfg.WithoutScopeInfo = true
	cfg.MetricExpiration = time.Hour
	cfg.TranslationStrategy = "UnderscoreEscapingWithoutSuffixes"
	e, err := f.CreateMetrics(context.Background(), exportertest.NewNopSettings(f.Type()), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := e.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Shutdown(context.Background()) })
	return exp{e, "http://" + cfg.ServerConfig.NetAddr.Endpoint + "/metrics"}
}

func (x exp) render(tb testing.TB) int {
	resp, err := http.Get(x.url)
	if err != nil {
		tb.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return int(n)
}

type variant struct {
	name   string
	kind   harness.Kind
	mutate func(pmetric.Metric)
}

var variants = []variant{
	{"ours", harness.Ours, nil},
	{"prom", harness.Prom, nil},
	{"ours_nostart", harness.Ours, setStart(0)},
	{"prom_withstart", harness.Prom, setStart(pcommon.NewTimestampFromTime(time.Unix(1_780_000_000, 0)))},
}

// BenchmarkAccumulate is one delivery of -targets target-scrapes into the
// exporter (ConsumeMetrics: the accumulator).
func BenchmarkAccumulate(b *testing.B) {
	c := capture(b)
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			x := newExporter(b)
			md := fanOut(c[v.kind], targets, v.mutate)
			x.e.ConsumeMetrics(context.Background(), md)
			b.ResetTimer()
			for b.Loop() {
				x.e.ConsumeMetrics(context.Background(), md)
			}
		})
	}
}

// BenchmarkRender is one scrape of the exporter holding -targets
// target-scrapes.
func BenchmarkRender(b *testing.B) {
	c := capture(b)
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			x := newExporter(b)
			x.e.ConsumeMetrics(context.Background(), fanOut(c[v.kind], targets, v.mutate))
			n := x.render(b)
			b.ReportMetric(float64(n), "bytes/scrape")
			b.ResetTimer()
			for b.Loop() {
				x.render(b)
			}
		})
	}
}

// TestShape prints what differs between the two receivers' pdata for the
// same body.
func TestShape(t *testing.T) {
	c := capture(t)
	for _, k := range []harness.Kind{harness.Ours, harness.Prom} {
		rm := c[k]
		var metrics, points, withStart, descs, meta, attrs int
		count := func(n int, start pcommon.Timestamp, a pcommon.Map) {
			points += n
			if start != 0 {
				withStart++
			}
			attrs += a.Len()
		}
		sm := rm.ScopeMetrics()
		for i := 0; i < sm.Len(); i++ {
			ms := sm.At(i).Metrics()
			for j := 0; j < ms.Len(); j++ {
				m := ms.At(j)
				metrics++
				if m.Description() != "" {
					descs++
				}
				meta += m.Metadata().Len()
				switch m.Type() {
				case pmetric.MetricTypeGauge:
					for p := 0; p < m.Gauge().DataPoints().Len(); p++ {
						count(1, m.Gauge().DataPoints().At(p).StartTimestamp(), m.Gauge().DataPoints().At(p).Attributes())
					}
				case pmetric.MetricTypeSum:
					for p := 0; p < m.Sum().DataPoints().Len(); p++ {
						count(1, m.Sum().DataPoints().At(p).StartTimestamp(), m.Sum().DataPoints().At(p).Attributes())
					}
				case pmetric.MetricTypeHistogram:
					for p := 0; p < m.Histogram().DataPoints().Len(); p++ {
						count(1, m.Histogram().DataPoints().At(p).StartTimestamp(), m.Histogram().DataPoints().At(p).Attributes())
					}
				}
			}
		}
		t.Logf("%s: resource %v; scopes %d (%s %s); metrics %d, points %d, with start time %d, descriptions %d, metadata entries %d, point attributes %d",
			k, rm.Resource().Attributes().AsRaw(), sm.Len(), sm.At(0).Scope().Name(), sm.At(0).Scope().Version(), metrics, points, withStart, descs, meta, attrs)
	}
}

// BenchmarkRemoteWrite is the remote-write exporter's translation of one
// delivery of -targets target-scrapes (FromMetrics, as
// config/remotewrite.yaml sets it).
func BenchmarkRemoteWrite(b *testing.B) {
	c := capture(b)
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			md := fanOut(c[v.kind], targets, v.mutate)
			set := prw.Settings{DisableScopeInfo: true, SendMetadata: true, TranslationStrategy: "UnderscoreEscapingWithoutSuffixes"}
			for b.Loop() {
				if _, err := prw.FromMetrics(md, set); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
