// Package sglangdynamoreceiver scrapes SGLang engine and NVIDIA Dynamo
// runtime /metrics endpoints and converts their `sglang:` and `dynamo_`
// families to pdata.
//
//go:generate go tool -modfile=internal/tools/go.mod mdatagen metadata.yaml
package sglangdynamoreceiver
