// Package fetch GETs one /metrics body: content negotiation, gzip with a
// bound on the decompressed size, and errors that say what went wrong
// without repeating credentials.
package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"runtime"
	"strings"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/promtext"
)

// Accept prefers the text format, whose names SGLang never escapes; it
// takes OpenMetrics when that is all a server offers. (prometheus_client,
// and so SGLang, ignores the q-values: it answers OpenMetrics whenever the
// header names it.)
const Accept = "text/plain;version=0.0.4;q=1,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1"

// ErrTooLarge is returned for a body over the size limit.
var ErrTooLarge = errors.New("body exceeds limits.max_body_size")

// Fetcher fetches one URL.
type Fetcher struct {
	client  *http.Client
	url     string
	maxBody int64
}

// Buffers are what a fetch reads into: the body buffer and a gzip reader.
// They are not tied to a target, so a scraper needs one set per concurrent
// fetch rather than one per target: with 64 SGLang targets and 16 workers
// that is 16 body-sized buffers instead of 64.
type Buffers struct {
	buf []byte
	gz  *gzip.Reader
}

// New returns a Fetcher for url with client.
func New(client *http.Client, u *url.URL, maxBody int64) *Fetcher {
	return &Fetcher{client: client, url: u.String(), maxBody: maxBody}
}

// Fetch returns the body and its format. The body lives in b and is valid
// until b is used again. A body over the limit is an ErrTooLarge, refused
// unread when its Content-Length says so, and leaves b without a body
// buffer (see read).
func (f *Fetcher) Fetch(ctx context.Context, b *Buffers) ([]byte, promtext.Format, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url, http.NoBody)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", Accept)
	// Set explicitly so that net/http does not decompress on its own: the
	// size bound must apply to what comes out of gzip.
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("User-Agent", "sglangdynamoreceiver")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, 0, cleanURLError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		return nil, 0, fmt.Errorf("HTTP status %s%s", resp.Status, quoteSnippet(snippet))
	}
	format, err := formatOf(resp.Header.Get("Content-Type"))
	if err != nil {
		return nil, 0, err
	}
	body := io.Reader(resp.Body)
	// Only an unencoded body's Content-Length is its size; net/http holds
	// the server to it (a shorter body is an error, a longer one is cut).
	size := int64(-1)
	switch enc := strings.ToLower(resp.Header.Get("Content-Encoding")); enc {
	case "", "identity":
		size = resp.ContentLength
	case "gzip":
		if b.gz == nil {
			b.gz, err = gzip.NewReader(resp.Body)
		} else {
			err = b.gz.Reset(resp.Body)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("reading gzip body: %w", err)
		}
		body = b.gz
	default:
		return nil, 0, fmt.Errorf("unsupported Content-Encoding %q", enc)
	}
	if size > f.maxBody {
		// Refused unread: a declared size over the limit costs no buffer.
		return nil, 0, fmt.Errorf("%w (%d bytes; Content-Length %d)", ErrTooLarge, f.maxBody, size)
	}
	n, err := b.read(io.LimitReader(body, f.maxBody+1), f.maxBody+1, size)
	if err != nil {
		return nil, 0, fmt.Errorf("reading body after %d bytes: %w", n, cleanURLError(err))
	}
	if int64(n) > f.maxBody {
		return nil, 0, fmt.Errorf("%w (%d bytes)", ErrTooLarge, f.maxBody)
	}
	return b.buf[:n], format, nil
}

// minPiece is the smallest allocation read makes (the first buffer, and
// the pieces a body that outgrows the kept buffer continues in) and the
// unit of the pieces' sizes: the runtime rounds a large allocation up to
// whole 8 KiB pages, which a piece of any other size would waste.
const minPiece = 8192

// collectAfter is how much memory a body that is not kept must drop for
// read to run the garbage collector (see collect).
const collectAfter = 4 << 20

// read reads r to its end into b.buf and returns how many bytes it read.
// limit is the most r yields (max_body_size+1: a body that reaches it is
// over the limit) and size, when not negative, the body's declared size.
//
// It bounds what one body costs in memory, which is what a gzip bomb
// attacks:
//   - No allocation is larger than limit, so no buffer grows past it.
//   - Nothing is copied while reading. Growing one contiguous buffer holds
//     the old array and the new one at once (2.25x the body with 1.25x
//     steps) and leaves every outgrown array as garbage (4x more). Here
//     the kept buffer is filled first and the rest goes into new pieces,
//     so an over-limit body costs at most limit bytes. Only a body that is
//     kept and outgrew the buffer is copied, once, into one of its size,
//     with headroom so that the next scrape of the same target fits.
//   - An over-limit body leaves no buffer behind: a bomb target must not
//     pin a limit-sized array in every worker that scraped it.
//
// The buffer is kept between fetches and sized to the body with a little
// headroom: bytes.Buffer would keep it at up to twice the body.
func (b *Buffers) read(r io.Reader, limit, size int64) (int, error) {
	switch {
	case size >= 0 && int64(cap(b.buf)) <= size:
		// +1 so that the end of the body is seen without another piece.
		// The old array is dropped first so that a collection during make
		// can take it.
		b.buf = nil
		b.buf = make([]byte, min(size+1, limit))
	case cap(b.buf) == 0:
		b.buf = make([]byte, min(minPiece, limit))
	}
	buf := b.buf[:min(int64(cap(b.buf)), limit)]
	n, eof, err := fill(r, buf)
	if err != nil {
		return n, err
	}
	var pieces [][]byte
	for !eof && int64(n) < limit {
		step := max(n/8/minPiece*minPiece, minPiece) // an eighth of the body, in whole pages
		p := make([]byte, min(int64(step), limit-int64(n)))
		var m int
		m, eof, err = fill(r, p)
		n += m
		if err != nil {
			pieces = nil
			collect(n - len(buf))
			return n, err
		}
		pieces = append(pieces, p[:m])
	}
	switch {
	case int64(n) >= limit:
		// Over the limit: the caller refuses the body.
		b.buf, pieces = nil, nil
		collect(n)
	case n <= len(buf):
		// The body fitted in the buffer (a piece, if any, only saw its end).
		b.fit(n)
	default:
		body := make([]byte, min(int64(n+n/8+4096), limit))
		m := copy(body, buf)
		for _, p := range pieces {
			m += copy(body[m:], p)
		}
		b.buf = body
	}
	return n, nil
}

// fill reads r into p until p is full or r ends; eof says it ended.
func fill(r io.Reader, p []byte) (n int, eof bool, err error) {
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err == io.EOF {
			return n, true, nil
		}
		if err != nil {
			return n, false, err
		}
	}
	return n, false, nil
}

// fit gives back a buffer far larger than the body n, after a one-off big
// one.
func (b *Buffers) fit(n int) {
	if want := n + n/8 + 4096; len(b.buf) > 2*want {
		b.buf = append(make([]byte, 0, want), b.buf[:n]...)[:want]
	}
}

// collect runs the garbage collector after a read dropped at least
// collectAfter bytes of a body it did not keep. The GC paces its next cycle
// at twice the heap that was live at the last one, and while the body was
// being read that heap held it: without a collection now the process can
// grow to about twice (baseline + body) before the dropped memory is
// reused, so a target that sends a bomb every scrape would cost two bodies
// rather than one. The cost is one collection per refused large body,
// which a healthy target never sends.
func collect(dropped int) {
	if dropped >= collectAfter {
		runtime.GC()
	}
}

// formatOf maps a Content-Type to a format. A missing type is read as text,
// as Prometheus does; anything else that is not a metrics format is an
// error rather than a guess.
func formatOf(ct string) (promtext.Format, error) {
	if ct == "" {
		return promtext.FormatText, nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return 0, fmt.Errorf("invalid Content-Type %q", ct)
	}
	switch mt {
	case "text/plain":
		return promtext.FormatText, nil
	case "application/openmetrics-text":
		return promtext.FormatOpenMetrics, nil
	}
	return 0, fmt.Errorf("unsupported Content-Type %q: expected text/plain or application/openmetrics-text", ct)
}

func quoteSnippet(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return ""
	}
	return fmt.Sprintf(": %q", b)
}

// cleanURLError drops the *url.Error wrapper, whose text repeats the URL and
// with it any credentials; the caller names the endpoint, redacted.
func cleanURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
