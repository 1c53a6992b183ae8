package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/promtext"
)

// TestBodiesOfChangingSize: the reused buffer returns each body exactly,
// plain or gzip, whatever the size of the one before, and does not stay
// much larger than the body after a one-off big one.
func TestBodiesOfChangingSize(t *testing.T) {
	var body []byte
	var gz bool
	f := serve(t, 8<<20, func(w http.ResponseWriter, r *http.Request) {
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
	})
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

// serve starts a loopback server answering with h, closed when the test
// ends, and returns a Fetcher of its URL with the limit maxBody.
func serve(t *testing.T, maxBody int64, h http.HandlerFunc) *Fetcher {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return New(srv.Client(), u, maxBody)
}

// allocated returns how many bytes the process allocated while f ran. The
// tests that use it run alone (no t.Parallel), so the count is f's, plus
// the net/http and test server's own small change.
func allocated(f func()) int64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc - before.TotalAlloc)
}

// endless yields metric lines for ever: an over-limit body with no size.
type endless struct {
	line []byte
	off  int
}

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m := copy(p[n:], e.line[e.off:])
		n += m
		e.off = (e.off + m) % len(e.line)
	}
	return n, nil
}

var bombLine = []byte(`sglang:num_running_reqs{model_name="bomb",tp_rank="0"} 1` + "\n")

// TestReadOverLimit: an endless body costs at most limit bytes in all
// (growing one contiguous buffer costs about five times that) and leaves
// no buffer behind, whatever the buffer held before.
func TestReadOverLimit(t *testing.T) {
	const limit = 8<<20 + 1
	for _, kept := range []int{0, 4096, 3 << 20, limit} {
		b := Buffers{buf: make([]byte, kept)}
		var n int
		var err error
		got := allocated(func() { n, err = b.read(io.LimitReader(&endless{line: bombLine}, limit), limit, -1) })
		if err != nil || n != limit {
			t.Fatalf("kept %d: read %d bytes (%v), want %d", kept, n, err, limit)
		}
		// Slack: the slice of pieces and the LimitReader.
		if got > limit+64<<10 {
			t.Errorf("kept %d: reading an over-limit body allocated %d bytes, limit %d", kept, got, limit)
		}
		if b.buf != nil {
			t.Errorf("kept %d: a buffer of %d bytes is left after an over-limit body", kept, cap(b.buf))
		}
	}
}

// TestReadGrowth: a body that outgrows the kept buffer is copied once, into
// a buffer no larger than the limit even for a body of exactly the limit.
func TestReadGrowth(t *testing.T) {
	const limit = 8<<20 + 1
	for _, size := range []int{5 << 20, limit - 1} {
		body := bytes.Repeat([]byte("x"), size)
		var b Buffers
		var n int
		var err error
		got := allocated(func() { n, err = b.read(io.LimitReader(bytes.NewReader(body), limit), limit, -1) })
		if err != nil || n != size || !bytes.Equal(b.buf[:n], body) {
			t.Fatalf("size %d: read %d bytes (%v)", size, n, err)
		}
		if cap(b.buf) > limit {
			t.Errorf("size %d: buffer of %d bytes, past the limit %d", size, cap(b.buf), limit)
		}
		// The pieces (at most 1.125x the body) and the one copy (body plus
		// an eighth), with slack; a growing contiguous buffer allocates
		// about 5x.
		if want := int64(size) * 5 / 2; got > want {
			t.Errorf("size %d: reading it allocated %d bytes, want at most %d", size, got, want)
		}
	}
}

// TestGzipBomb: a gzip bomb is refused with an error naming the limit,
// costs about one limit of memory, and leaves no large buffer behind; the
// next normal body is read whole.
func TestGzipBomb(t *testing.T) {
	const maxBody = 2 << 20
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	chunk := bytes.Repeat(bombLine, (1<<20)/len(bombLine))
	for range 64 {
		_, _ = zw.Write(chunk)
	}
	_ = zw.Close()
	normal := bytes.Repeat(bombLine, (maxBody/2)/len(bombLine))
	var normalGz bytes.Buffer
	zw = gzip.NewWriter(&normalGz)
	_, _ = zw.Write(normal)
	_ = zw.Close()

	var serveBomb atomic.Bool
	f := serve(t, maxBody, func(w http.ResponseWriter, r *http.Request) {
		body := normalGz.Bytes()
		if serveBomb.Load() {
			body = bomb.Bytes()
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	var b Buffers
	fetchNormal := func(when string) {
		t.Helper()
		got, _, err := f.Fetch(context.Background(), &b)
		if err != nil || !bytes.Equal(got, normal) {
			t.Fatalf("%s: got %d bytes (%v), want the %d of the body", when, len(got), err, len(normal))
		}
	}
	// The gzip reader and the connection exist before the count.
	fetchNormal("before the bomb")

	serveBomb.Store(true)
	var err error
	got := allocated(func() { _, _, err = f.Fetch(context.Background(), &b) })
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "limits.max_body_size") || !strings.Contains(err.Error(), strconv.Itoa(maxBody)) {
		t.Fatalf("bomb: error %v, want one naming limits.max_body_size and %d", err, maxBody)
	}
	if got > maxBody+1+256<<10 {
		t.Errorf("bomb: the fetch allocated %d bytes, limit %d", got, maxBody)
	}
	if cap(b.buf) > 64<<10 {
		t.Errorf("bomb: a buffer of %d bytes is left after it", cap(b.buf))
	}

	serveBomb.Store(false)
	fetchNormal("after the bomb")
}

// TestDeclaredTooLarge: a plain body whose Content-Length is over the limit
// is refused without reading it, and the error says so.
func TestDeclaredTooLarge(t *testing.T) {
	const maxBody = 1 << 20
	body := bytes.Repeat(bombLine, (4<<20)/len(bombLine))
	f := serve(t, maxBody, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	var b Buffers
	var err error
	got := allocated(func() { _, _, err = f.Fetch(context.Background(), &b) })
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), strconv.Itoa(maxBody)) || !strings.Contains(err.Error(), "Content-Length "+strconv.Itoa(len(body))) {
		t.Fatalf("error %v, want limits.max_body_size, %d and the Content-Length", err, maxBody)
	}
	if got > 256<<10 || cap(b.buf) != 0 {
		t.Errorf("a refused Content-Length still cost %d bytes and left a buffer of %d", got, cap(b.buf))
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
