package sglangdynamoreceiver

import (
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
)

// OTelViewConfig switches on the OpenTelemetry-native view (issue 11). Work
// in progress: it has no settings yet and the view changes nothing.
type OTelViewConfig struct {
	_ struct{}
}

// Validate checks the view's settings.
func (c *OTelViewConfig) Validate() error { return nil }

// otelView rewrites one scrape round's metrics into the OpenTelemetry view.
type otelView struct{}

// newOTelView returns the view the configuration asks for, nil for none.
func newOTelView(OTelViewConfig, receiver.Settings) *otelView { return nil }

// apply rewrites md, the merged round of every target (one resource each).
func (v *otelView) apply(pmetric.Metrics) {}
