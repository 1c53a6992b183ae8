package otelview

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/semconv/v1.41.0/genaiconv"
)

// SemconvVersion is the semantic-conventions release the view's GenAI
// names come from: v1.41.0 is the newest in go.opentelemetry.io/otel
// v1.47.0 that still has genaiconv (later releases moved the GenAI
// conventions to their own repository). It is also the view scope's schema.
const SemconvVersion = "1.41.0"

// Provider names for gen_ai.provider.name. The conventions list no value for
// self-hosted engines and allow a custom one; the engine's own name tells a
// backend which layer measured the request (a Dynamo frontend and the SGLang
// engine behind it both see it).
const (
	ProviderSGLang = "sglang"
	ProviderDynamo = "dynamo"
)

// DefaultOperation is gen_ai.operation.name when the configuration gives
// none. Neither engine says which API a request came through; chat
// completions are what both are mostly deployed for.
var DefaultOperation = string(genaiconv.OperationNameChat)

// genAIMetric is one of the conventions' server histograms.
type genAIMetric struct{ name, unit, description string }

var (
	timeToFirstToken = genAIMetric{
		genaiconv.ServerTimeToFirstToken{}.Name(),
		genaiconv.ServerTimeToFirstToken{}.Unit(),
		genaiconv.ServerTimeToFirstToken{}.Description(),
	}
	timePerOutputToken = genAIMetric{
		genaiconv.ServerTimePerOutputToken{}.Name(),
		genaiconv.ServerTimePerOutputToken{}.Unit(),
		genaiconv.ServerTimePerOutputToken{}.Description(),
	}
	requestDuration = genAIMetric{
		genaiconv.ServerRequestDuration{}.Name(),
		genaiconv.ServerRequestDuration{}.Unit(),
		genaiconv.ServerRequestDuration{}.Description(),
	}
)

// GenAISource is a source family that is exactly one of the GenAI server
// histograms, measured per request in seconds as the conventions define it.
type GenAISource struct {
	Source   string
	metric   genAIMetric
	Provider string // the default gen_ai.provider.name
	// Shift scales a millisecond source to seconds; every exact source is
	// in seconds today, but the scaling is the one names.go uses.
	Shift int
}

// Name is the GenAI metric's name.
func (g GenAISource) Name() string { return g.metric.name }

// Unit is the GenAI metric's unit.
func (g GenAISource) Unit() string { return g.metric.unit }

// genAISources are the exact sources. Deliberately absent: SGLang's
// inter_token_latency_seconds and Dynamo's inter_token_latency_seconds
// (per token gap, not the per-request time per output token), SGLang's
// removed time_per_output_token_seconds (the same per-token measure under
// its old name), Dynamo's dynamo_component_request_duration_seconds (a
// worker's handler time, not the request) and router TTFT (a prediction
// input of the router). Dynamo has no per-request TPOT.
var genAISources = []GenAISource{
	{Source: "sglang:time_to_first_token_seconds", metric: timeToFirstToken, Provider: ProviderSGLang},
	{Source: "dynamo_frontend_time_to_first_token_seconds", metric: timeToFirstToken, Provider: ProviderDynamo},
	{Source: "sglang:request_time_per_output_token_seconds", metric: timePerOutputToken, Provider: ProviderSGLang},
	{Source: "sglang:e2e_request_latency_seconds", metric: requestDuration, Provider: ProviderSGLang},
	{Source: "dynamo_frontend_request_duration_seconds", metric: requestDuration, Provider: ProviderDynamo},
}

var genAIByName = func() map[string]GenAISource {
	idx := make(map[string]GenAISource, len(genAISources))
	for _, g := range genAISources {
		idx[g.Source] = g
	}
	return idx
}()

// GenAISources returns the exact sources, in their order.
func GenAISources() []GenAISource { return append([]GenAISource(nil), genAISources...) }

// The model labels, in the order they are read: SGLang's own, then
// Dynamo's (which Dynamo also injects beside SGLang's on passed-through
// families; SGLang's wins there, as it does in Dynamo's injector).
const (
	labelModelName = "model_name"
	labelModel     = "model"
)

// Attribute keys from the conventions. error.type is not among them: no
// source histogram tells failed requests apart (SGLang observes finished
// requests without an outcome label; Dynamo's latency histograms carry only
// `model`, its outcome labels are on dynamo_frontend_requests_total).
var (
	keyProvider  = string(semconv.GenAIProviderNameKey)
	keyOperation = string(semconv.GenAIOperationNameKey)
	keyModel     = string(semconv.GenAIRequestModelKey)
	keyAddress   = string(semconv.ServerAddressKey)
	keyPort      = string(semconv.ServerPortKey)
)

// server is the target's address and port, read from its resource.
type server struct {
	address string
	port    int64
	hasPort bool
}

func serverOf(res pcommon.Resource) server {
	var s server
	attrs := res.Attributes()
	if v, ok := attrs.Get(keyAddress); ok {
		s.address = v.AsString()
	}
	if v, ok := attrs.Get(keyPort); ok {
		switch v.Type() {
		case pcommon.ValueTypeInt:
			s.port, s.hasPort = v.Int(), true
		case pcommon.ValueTypeStr:
			// Set by hand under `attributes:`.
			var p int64
			for _, c := range v.Str() {
				if c < '0' || c > '9' {
					return s
				}
				p = p*10 + int64(c-'0')
			}
			s.port, s.hasPort = p, v.Str() != ""
		}
	}
	return s
}

// toGenAI turns m, a copy of a source histogram, into its GenAI histogram
// in place: name, unit, description and the conventions' attributes on
// every point, staleness markers included so that they end the same series.
// The source's bucket bounds are kept: re-bucketing into the conventions'
// advice could only be done with loss.
func (v *View) toGenAI(m pmetric.Metric, g GenAISource, srv server) {
	m.SetName(g.metric.name)
	m.SetUnit(g.metric.unit)
	m.SetDescription(g.metric.description)
	provider := v.cfg.ProviderName
	if provider == "" {
		provider = g.Provider
	}
	op := v.cfg.OperationName
	if op == "" {
		op = DefaultOperation
	}
	if g.Shift != 0 {
		v.scale(m, g.Shift)
	}
	dps := m.Histogram().DataPoints()
	for i := 0; i < dps.Len(); i++ {
		attrs := dps.At(i).Attributes()
		model, ok := attrs.Get(labelModelName)
		label := labelModelName
		if !ok {
			model, ok = attrs.Get(labelModel)
			label = labelModel
		}
		if ok {
			name := model.AsString()
			attrs.Remove(label)
			attrs.PutStr(keyModel, name)
		}
		attrs.PutStr(keyProvider, provider)
		attrs.PutStr(keyOperation, op)
		if srv.address != "" {
			attrs.PutStr(keyAddress, srv.address)
		}
		if srv.hasPort {
			attrs.PutInt(keyPort, srv.port)
		}
	}
}
