package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/promtext"
)

// TestBodiesOfChangingSize: the reused buffer returns each body exactly,
// plain or gzip, whatever the size of the one before, and does not stay
// much larger than the body after a one-off big one.
func TestBodiesOfChangingSize(t *testing.T) {
	var body []byte
	var gz bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Accept"); got != Accept {
			t.Errorf("Accept %q", got)
		}
		w.Header().Set("Content-Type", "application/openmetrics-text; version=1.0.0")
		if gz {
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			_, _ = zw.Write(body)
			_ = zw.Close()
			return
		}
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	f := New(srv.Client(), u, 8<<20)
	var b Buffers
	for i, size := range []int{10, 100_000, 3 << 20, 5000, 0, 700_000} {
		body = bytes.Repeat([]byte{byte('a' + i)}, size)
		gz = i%2 == 1
		got, format, err := f.Fetch(context.Background(), &b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, body) || format != promtext.FormatOpenMetrics {
			t.Fatalf("size %d: got %d bytes, format %v", size, len(got), format)
		}
		if limit := 2 * (size + size/8 + 4096); cap(b.buf) > limit {
			t.Fatalf("size %d: buffer of %d bytes kept", size, cap(b.buf))
		}
	}
}

func TestFormatOf(t *testing.T) {
	for ct, want := range map[string]string{
		"": "text",
		"text/plain; version=0.0.4; charset=utf-8":                   "text",
		"application/openmetrics-text; version=0.0.1; charset=utf-8": "om",
		"text/html":        "error",
		"application/json": "error",
		"garbage;;;":       "error",
	} {
		f, err := formatOf(ct)
		got := map[promtext.Format]string{promtext.FormatText: "text", promtext.FormatOpenMetrics: "om"}[f]
		if err != nil {
			got = "error"
			if !strings.Contains(err.Error(), "Content-Type") {
				t.Errorf("%q: error %v does not name the Content-Type", ct, err)
			}
		}
		if got != want {
			t.Errorf("%q: got %s, want %s", ct, got, want)
		}
	}
}
