package promtext

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
)

// BenchmarkDropped measures what lines of other namespaces cost: the whole
// `mixed` harness payload parsed with every family dropped, beside a single
// bytes.Count of its newlines, the least any line-oriented reader pays.
func BenchmarkDropped(b *testing.B) {
	body, err := os.ReadFile("../../bench/testdata/mixed.txt")
	if err != nil {
		b.Skip("run go generate ./payloads in bench/ first")
	}
	b.Run("parser", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		var p Parser
		for b.Loop() {
			p.Reset(body, FormatText, func([]byte) bool { return false }, Limits{})
			if _, err := p.Next(); !errors.Is(err, io.EOF) {
				b.Fatal(err)
			}
		}
	})
	b.Run("bytes.Count", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if bytes.Count(body, []byte{'\n'}) == 0 {
				b.Fatal("no lines")
			}
		}
	})
}
