// Package sglangdynamoreceiver scrapes SGLang engine and NVIDIA Dynamo
// runtime /metrics endpoints and converts their `sglang:` and `dynamo_`
// families to pdata.
//
//go:generate bash scripts/generate.sh
package sglangdynamoreceiver
