#!/usr/bin/env bash
# Regenerates the mdatagen output (internal/metadata/, documentation.md,
# generated_*_test.go) from metadata.yaml with the pinned mdatagen v0.155.0
# of the tools module internal/tools.
#
# mdatagen names the Go package after the directory holding metadata.yaml, so
# it is run through a symlink named `sglangdynamoreceiver`; the clone itself
# may live in a directory of any name.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
ln -s "$ROOT" "$tmp/sglangdynamoreceiver"
cd "$tmp/sglangdynamoreceiver"   # logical path: PWD ends in /sglangdynamoreceiver
go tool -modfile=internal/tools/go.mod mdatagen metadata.yaml
