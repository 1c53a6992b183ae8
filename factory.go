package sglangdynamoreceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/scraper"
	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/metadata"
	"github.com/sglangdynamo/sglangdynamoreceiver/internal/mixedtypes"
)

// NewFactory returns the factory of the sglangdynamo receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(metadata.Type, createDefaultConfig,
		receiver.WithMetrics(createMetrics, metadata.MetricsStability))
}

// createDefaultConfig scrapes every 10 s, and has an engine and a runtime
// ready to take an endpoint.
func createDefaultConfig() component.Config {
	cc := scraperhelper.NewDefaultControllerConfig()
	cc.CollectionInterval = 10 * time.Second
	return &Config{
		ControllerConfig:     cc,
		MetricsBuilderConfig: metadata.NewDefaultMetricsBuilderConfig(),
		Engine:               configoptional.Default(newDefaultTargetConfig()),
		Runtime:              configoptional.Default(newDefaultTargetConfig()),
		Frontend:             configoptional.Default(newDefaultTargetConfig()),
		Limits:               newDefaultLimits(),
		RestoreSGLangNames:   true,
		MixedTypes:           MixedTypesConfig{Mode: string(mixedtypes.Flatten), Hold: 5 * time.Minute},
		DiscoveryClient:      newDefaultTargetConfig().ClientConfig,
	}
}

// createMetrics wires the scraper into scraperhelper's controller, which
// owns the schedule, the timeouts' context and the obsreport telemetry.
func createMetrics(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	r, err := newReceiver(cfg.(*Config), set, next)
	if err != nil {
		return nil, err // not a cancelFirst{}, which would be a non-nil receiver
	}
	return r, nil
}

// newReceiver is createMetrics with extra controller options, so that tests
// can drive the very same wiring from a ticker of their own.
func newReceiver(c *Config, set receiver.Settings, next consumer.Metrics, opts ...scraperhelper.ControllerOption) (cancelFirst, error) {
	s, err := newScraper(c, set)
	if err != nil {
		return cancelFirst{}, err
	}
	sc, err := scraper.NewMetrics(s.scrape, scraper.WithStart(s.start), scraper.WithShutdown(s.shutdown))
	if err != nil {
		return cancelFirst{}, err
	}
	opts = append([]scraperhelper.ControllerOption{scraperhelper.AddMetricsScraper(metadata.Type, sc)}, opts...)
	ctrl, err := scraperhelper.NewMetricsController(&c.ControllerConfig, set, next, opts...)
	if err != nil {
		return cancelFirst{}, err
	}
	return cancelFirst{Metrics: ctrl, s: s}, nil
}

// cancelFirst cancels in-flight scrapes before the controller's Shutdown,
// which would otherwise wait for a hung target until the scrape timeout.
// The scrapes it cuts short report nothing (see errShutdown).
type cancelFirst struct {
	receiver.Metrics
	s *sglangdynamoScraper
}

// Shutdown cancels scrapes in flight, then lets the controller stop.
func (r cancelFirst) Shutdown(ctx context.Context) error {
	r.s.cancel()
	return r.Metrics.Shutdown(ctx)
}
