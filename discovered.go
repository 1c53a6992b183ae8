package sglangdynamoreceiver

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/discovery"
)

// discoveredSpec is the target a discovered endpoint becomes: alone in its
// worker, so an engine or a runtime keeps both namespaces and a frontend
// `dynamo_`; its job is the role's default unless relabelling set `job`;
// its resource attributes are the receiver's `attributes` under the labels
// relabelling kept and the k8s.* attributes discovery knew.
func discoveredSpec(dt discovery.Target, cfg *Config) targetSpec {
	role := targetRole(dt.Role)
	t := targetSpec{
		role: role, key: "discovery", cfg: TargetConfig{ClientConfig: cfg.DiscoveryClient}, url: dt.URL,
		restore: cfg.RestoreSGLangNames, service: dt.Job, instance: dt.Instance,
		prefixes: []string{prefixSGLang, prefixDynamo},
	}
	if role == roleFrontend {
		t.prefixes = []string{prefixDynamo}
	}
	if t.service == "" {
		t.service = defaultService[role]
	}
	t.attributes = map[string]string{}
	for k, v := range cfg.Attributes {
		t.attributes[k] = v
	}
	for k, v := range dt.Attributes {
		t.attributes[k] = v
	}
	return t
}

// startDiscovery runs discovery; each new set of targets waits in
// s.discovered until the next round applies it.
func (s *sglangdynamoScraper) startDiscovery() error {
	cfg, err := discovery.Parse(s.cfg.Discovery, ".")
	if err != nil {
		return err
	}
	logger := slog.New(zapslog.NewHandler(s.set.Logger.Core())).With("component", "discovery")
	s.disc, err = discovery.Start(cfg, s.shard, logger, func(ts []discovery.Target, errs []error) {
		for _, err := range errs {
			s.set.Logger.Warn("discovered target not scraped", zap.Error(err))
		}
		s.discMu.Lock()
		s.discovered, s.discNew = ts, true
		s.discMu.Unlock()
	})
	return err
}

// syncTargets applies the latest discovered set at the start of a round:
// new targets get fresh state and a client; targets no longer discovered
// are returned, to send their staleness markers in this round, and
// forgotten. Configured targets are never touched.
func (s *sglangdynamoScraper) syncTargets(ctx context.Context) (gone []*target) {
	s.discMu.Lock()
	ts, pending := s.discovered, s.discNew
	s.discovered, s.discNew = nil, false
	s.discMu.Unlock()
	if !pending {
		return nil
	}
	// A configured endpoint is scraped as configured, never a second time
	// as discovered.
	static := map[string]bool{}
	for _, t := range s.targets {
		if t.discoveryKey == "" {
			static[t.url.String()] = true
		}
	}
	want := make(map[string]discovery.Target, len(ts))
	for _, dt := range ts {
		if static[dt.URL.String()] {
			if !s.dupWarned[dt.URL.String()] {
				s.dupWarned[dt.URL.String()] = true
				s.set.Logger.Warn("discovered target is also configured; scraped once, as configured", zap.String("endpoint", dt.URL.Redacted()))
			}
			continue
		}
		want[dt.Key()] = dt
	}
	kept := s.targets[:0]
	for _, t := range s.targets {
		if t.discoveryKey == "" {
			kept = append(kept, t)
			continue
		}
		if _, ok := want[t.discoveryKey]; ok {
			delete(want, t.discoveryKey)
			kept = append(kept, t)
			continue
		}
		gone = append(gone, t)
	}
	s.targets = kept
	added := 0
	for _, dt := range ts {
		if _, ok := want[dt.Key()]; !ok {
			continue
		}
		added++
		t := s.newTarget(discoveredSpec(dt, s.cfg))
		t.discoveryKey = dt.Key()
		if err := t.start(ctx, s.host, s.set.TelemetrySettings, s.cfg.Limits.MaxBodySize); err != nil {
			s.set.Logger.Warn("discovered target not scraped: its client could not be built", zap.String("endpoint", t.endpoint), zap.Error(err))
			continue
		}
		s.targets = append(s.targets, t)
	}
	if len(gone) > 0 || added > 0 {
		s.set.Logger.Info("discovered targets changed", zap.Int("added", added), zap.Int("removed", len(gone)), zap.Int("targets", len(s.targets)))
	}
	return gone
}

// leave is a target's last output: staleness markers for every series it
// had, its health series included, as Prometheus sends when a target
// leaves; its state is freed with it.
func (t *target) leave(now pcommon.Timestamp) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	t.resource.CopyTo(rm.Resource())
	sm := rm.ScopeMetrics().AppendEmpty()
	t.scope.CopyTo(sm.Scope())
	t.conv.Fail(now, sm.Metrics())
	t.mb.RecordUpDataPoint(now, 0)
	t.mb.RecordScrapeDurationSecondsDataPoint(now, 0)
	t.mb.RecordScrapeSamplesScrapedDataPoint(now, 0)
	t.mb.RecordScrapeSamplesPostMetricRelabelingDataPoint(now, 0)
	health := t.mb.Emit()
	if health.ResourceMetrics().Len() > 0 {
		hm := health.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
		for i := range hm.Len() {
			dps := hm.At(i).Gauge().DataPoints()
			for j := range dps.Len() {
				dps.At(j).SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))
			}
		}
		hm.MoveAndAppendTo(sm.Metrics())
	}
	if t.client != nil {
		t.client.CloseIdleConnections()
	}
	return md
}
