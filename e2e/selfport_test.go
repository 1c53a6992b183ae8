//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestSelfPortWarning points a target at the collector's own Prometheus
// exporter port (a Dynamo worker left on 8081 beside the exporter) and
// expects the receiver's warning at start.
func TestSelfPortWarning(t *testing.T) {
	port := freePort(t)
	engine := serveFixture(t, staticBody(readFixture(t, "sglang_engine_promclient.txt")))
	c := startCollector(t, collectorOptions{
		PromPort: port,
		Receiver: receiverYAML("1s", workerYAML(engine.URL(), fmt.Sprintf("http://127.0.0.1:%d/metrics", port), nil)),
	})
	waitFor(t, 10*time.Second, `the "listens on itself" warning`, func() error {
		for _, l := range strings.Split(c.out.String(), "\n") {
			if strings.Contains(l, "listens on itself") {
				if !strings.Contains(l, fmt.Sprint(port)) {
					return fmt.Errorf("warning does not name port %d: %s", port, l)
				}
				t.Logf("warning: %s", l)
				return nil
			}
		}
		return fmt.Errorf("not in the collector's log yet")
	})
	if strings.Contains(c.out.String(), engine.Addr()) && strings.Contains(c.out.String(), "listens on itself") {
		for _, l := range strings.Split(c.out.String(), "\n") {
			if strings.Contains(l, "listens on itself") && strings.Contains(l, engine.Addr()) {
				t.Errorf("warning also names the real target %s: %s", engine.Addr(), l)
			}
		}
	}
}
