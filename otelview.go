package sglangdynamoreceiver

import (
	"fmt"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.uber.org/zap"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/otelview"
)

// OTelViewConfig switches on the OpenTelemetry-native view: the GenAI
// server histograms, OpenTelemetry names and units, and folded rank labels
// (docs/otel-view.md). Off by default, so the verbatim output is unchanged.
type OTelViewConfig struct {
	// Enabled turns the view on.
	Enabled bool `mapstructure:"enabled"`
	// Mode is `beside` (default: the view next to the verbatim metrics) or
	// `instead` (the view alone; the health series stay).
	Mode string `mapstructure:"mode"`
	// ProviderName sets gen_ai.provider.name on the GenAI histograms; by
	// default it is the engine that measured, `sglang` or `dynamo`.
	ProviderName string `mapstructure:"provider_name"`
	// OperationName sets gen_ai.operation.name (default `chat`): the
	// engines do not say which API each request came through.
	OperationName string `mapstructure:"operation_name"`

	_ struct{}
}

func (c *OTelViewConfig) view() otelview.Config {
	return otelview.Config{Mode: otelview.Mode(c.Mode), ProviderName: c.ProviderName, OperationName: c.OperationName}
}

// Validate checks the view's settings. Settings without `enabled: true`
// are refused rather than ignored: a view someone configured and does not
// get is a silent surprise.
func (c *OTelViewConfig) Validate() error {
	if !c.Enabled {
		for _, kv := range []struct{ key, v string }{{"mode", c.Mode}, {"provider_name", c.ProviderName}, {"operation_name", c.OperationName}} {
			if kv.v != "" {
				return fmt.Errorf("`otel_view.%s` is set but the view is off: add `otel_view.enabled: true`, or remove it", kv.key)
			}
		}
		return nil
	}
	if err := c.view().Validate(); err != nil {
		return fmt.Errorf("`otel_view`: %w", err)
	}
	return nil
}

// otelView rewrites one scrape round's metrics into the OpenTelemetry view.
type otelView struct{ v *otelview.View }

// newOTelView returns the view the configuration asks for, nil for none, so
// that the scraper pays one nil check per round when it is off. The
// configuration was validated; an error here is a bug, logged, and the view
// stays off rather than failing the receiver.
func newOTelView(cfg OTelViewConfig, set receiver.Settings) *otelView {
	if !cfg.Enabled {
		return nil
	}
	v, err := otelview.New(cfg.view())
	if err != nil {
		set.Logger.Error("otel_view is off: invalid settings", zap.Error(err))
		return nil
	}
	return &otelView{v: v}
}

// apply rewrites md, the merged round of every target (one resource each).
func (v *otelView) apply(md pmetric.Metrics) { v.v.Apply(md) }
