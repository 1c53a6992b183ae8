package sglangdynamoreceiver

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// fileSD is a scraper whose only targets come from a real file through
// file_sd_configs.
func fileSD(t *testing.T, mutate func(*Config)) (*sglangdynamoScraper, func(string)) {
	file := filepath.Join(t.TempDir(), "targets.json")
	write := func(s string) {
		require.NoError(t, os.WriteFile(file+".tmp", []byte(s), 0o644))
		require.NoError(t, os.Rename(file+".tmp", file))
	}
	write("[]")
	cfg := createDefaultConfig().(*Config)
	cfg.Discovery = map[string]any{"file_sd_configs": []any{map[string]any{"files": []any{file}, "refresh_interval": "1s"}}}
	if mutate != nil {
		mutate(cfg)
	}
	return startScraper(t, cfg), write
}

// byInstance splits a round by the instance of each resource, counting
// live and stale points.
func byInstance(md pmetric.Metrics) map[string][2]int {
	out := map[string][2]int{}
	for _, rm := range md.ResourceMetrics().All() {
		inst, _ := rm.Resource().Attributes().Get("service.instance.id")
		c := out[inst.Str()]
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				forEachPointFlags(m, func(stale bool) {
					if stale {
						c[1]++
					} else {
						c[0]++
					}
				})
			}
		}
		out[inst.Str()] = c
	}
	return out
}

func forEachPointFlags(m pmetric.Metric, f func(stale bool)) {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		for _, p := range m.Gauge().DataPoints().All() {
			f(p.Flags().NoRecordedValue())
		}
	case pmetric.MetricTypeSum:
		for _, p := range m.Sum().DataPoints().All() {
			f(p.Flags().NoRecordedValue())
		}
	case pmetric.MetricTypeHistogram:
		for _, p := range m.Histogram().DataPoints().All() {
			f(p.Flags().NoRecordedValue())
		}
	case pmetric.MetricTypeSummary:
		for _, p := range m.Summary().DataPoints().All() {
			f(p.Flags().NoRecordedValue())
		}
	}
}

// roundsUntil scrapes every 100ms until cond holds for a round's counts.
func roundsUntil(t *testing.T, s *sglangdynamoScraper, what string, cond func(map[string][2]int) bool) map[string][2]int {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		md, _ := s.scrape(context.Background())
		got := byInstance(md)
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: last round %v", what, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A discovered target is scraped from the round after discovery found it;
// when it leaves, that round carries staleness markers for all it had,
// `up` included, and nothing live; its state is gone; when it comes back it
// starts fresh.
func TestDiscoveredTargetLifecycle(t *testing.T) {
	engine := &body{}
	engine.set(fmt.Sprintf(counterBody, 5, 5, 5, 5, 5))
	a, b := serve(t, engine), serve(t, engine)
	s, write := fileSD(t, nil)
	hostA, hostB := strings.TrimPrefix(a.URL, "http://"), strings.TrimPrefix(b.URL, "http://")

	write(fmt.Sprintf(`[{"targets": [%q, %q]}]`, hostA, hostB))
	got := roundsUntil(t, s, "both targets scraped", func(c map[string][2]int) bool { return c[hostA][0] > 0 && c[hostB][0] > 0 })
	live := got[hostA][0]
	assert.Zero(t, got[hostA][1], "no staleness while live")

	write(fmt.Sprintf(`[{"targets": [%q]}]`, hostB))
	got = roundsUntil(t, s, "A's leaving round", func(c map[string][2]int) bool { return c[hostA][1] > 0 })
	assert.Zero(t, got[hostA][0], "a leaving target sends no live point")
	// Every point it had is marked stale, and its four health series too.
	assert.Equal(t, live, got[hostA][1], "staleness markers for every series the target had")
	assert.Positive(t, got[hostB][0], "the other target is untouched")
	require.Len(t, s.targets, 1, "the leaving target's state is freed")

	md, err := s.scrape(context.Background())
	require.NoError(t, err)
	_, present := byInstance(md)[hostA]
	assert.False(t, present, "after its markers, a gone target sends nothing")

	write(fmt.Sprintf(`[{"targets": [%q, %q]}]`, hostA, hostB))
	roundsUntil(t, s, "A back", func(c map[string][2]int) bool { return c[hostA][0] > 0 })
	for _, tg := range s.targets {
		if tg.url.Host == hostA {
			assert.Greater(t, tg.id, uint64(2), "a target that comes back is a new target")
		}
	}
}

// Roles, jobs and attributes come from relabelling; a shard keeps exactly
// its share of the discovered targets, by Prometheus's hashmod.
func TestDiscoveredRolesAndShard(t *testing.T) {
	engine := &body{}
	engine.set(fmt.Sprintf(counterBody, 5, 5, 5, 5, 5))
	var hosts []string
	for range 8 {
		hosts = append(hosts, strings.TrimPrefix(serve(t, engine).URL, "http://"))
	}
	s, write := fileSD(t, func(cfg *Config) {
		cfg.Shard = ShardConfig{Count: 2, Index: 1}
		cfg.Attributes = map[string]string{"cluster": "c1"}
		cfg.Discovery["relabel_configs"] = []any{
			map[string]any{"source_labels": []any{"kind"}, "regex": "worker", "target_label": "__role__", "replacement": "runtime"},
		}
	})
	q := func(hs []string) string { return `"` + strings.Join(hs, `", "`) + `"` }
	write(fmt.Sprintf(`[{"targets": [%s], "labels": {"kind": "worker"}}, {"targets": [%s]}]`, q(hosts[:4]), q(hosts[4:])))

	var want []string
	for _, h := range hosts {
		sum := md5.Sum([]byte(h))
		if binary.BigEndian.Uint64(sum[8:])%2 == 1 {
			want = append(want, h)
		}
	}
	got := roundsUntil(t, s, "this shard's targets", func(c map[string][2]int) bool { return len(c) == len(want) })
	for _, h := range want {
		assert.Positive(t, got[h][0], "%s belongs to shard 1", h)
	}
	for _, tg := range s.targets {
		i := slices.Index(hosts, tg.url.Host)
		wantJob, wantKind := "sglang", ""
		if i < 4 {
			wantJob, wantKind = "dynamo-backend", "worker"
		}
		assert.Equal(t, wantJob, tg.service, tg.url.Host)
		assert.Equal(t, wantKind, tg.attributes["kind"], tg.url.Host)
		assert.Equal(t, "c1", tg.attributes["cluster"], "the receiver's attributes reach discovered targets")
	}
}
