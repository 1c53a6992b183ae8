package otelview

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/convert"
	"github.com/sglangdynamo/sglangdynamoreceiver/internal/metadata"
	"github.com/sglangdynamo/sglangdynamoreceiver/internal/promtext"
)

var update = flag.Bool("update", false, "rewrite the goldens and docs/otel-view.md's generated tables")

// target converts bodies the way the receiver does for one target (the
// sglang: and dynamo_ namespaces, SGLang names restored) and wraps each
// round in the resource and scope the receiver gives it, with an `up`
// health series.
type target struct {
	conv    *convert.Converter
	service string
	port    int64
}

func newTarget(service string, port int64) *target {
	keep := func(name []byte) bool {
		return bytes.HasPrefix(name, []byte("sglang:")) || bytes.HasPrefix(name, []byte("sglang_")) ||
			bytes.HasPrefix(name, []byte("dynamo_"))
	}
	return &target{
		conv:    convert.New(convert.Options{Keep: keep, FamilyName: convert.RestoreSGLangName}),
		service: service, port: port,
	}
}

// round converts one body scraped at now (nanoseconds).
func (tg *target) round(t testing.TB, body []byte, now int64) pmetric.Metrics {
	t.Helper()
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	attrs := rm.Resource().Attributes()
	attrs.PutStr("server.address", "10.0.0.5")
	attrs.PutInt("server.port", tg.port)
	attrs.PutStr("service.instance.id", "10.0.0.5:"+itoa(tg.port))
	attrs.PutStr("service.name", tg.service)
	attrs.PutStr("url.scheme", "http")
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(metadata.ScopeName)
	sm.Scope().SetVersion("test")
	_, err := tg.conv.Convert(body, promtext.FormatText, pcommon.Timestamp(now), sm.Metrics())
	require.NoError(t, err)
	up := sm.Metrics().AppendEmpty()
	up.SetName("up")
	dp := up.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.Timestamp(now))
	dp.SetIntValue(1)
	return md
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// metricNamed returns the view scope's metric called name, or fails.
func metricNamed(t testing.TB, md pmetric.Metrics, scope, name string) pmetric.Metric {
	t.Helper()
	m, ok := findMetric(md, scope, name)
	require.Truef(t, ok, "no metric %s in scope %s", name, scope)
	return m
}

func findMetric(md pmetric.Metrics, scope, name string) (pmetric.Metric, bool) {
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		sms := rms.At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			if sms.At(j).Scope().Name() != scope {
				continue
			}
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				if ms.At(k).Name() == name {
					return ms.At(k), true
				}
			}
		}
	}
	return pmetric.Metric{}, false
}

// attrs renders a point's attributes as a plain map.
func attrs(m pcommon.Map) map[string]any { return m.AsRaw() }
