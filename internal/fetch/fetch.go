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
	"strings"

	"github.com/sglangdynamo/sglangdynamoreceiver/internal/promtext"
)

// Accept prefers the text format, whose names SGLang never escapes; it
// takes OpenMetrics when that is all a server offers.
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
// until b is used again.
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
	switch enc := strings.ToLower(resp.Header.Get("Content-Encoding")); enc {
	case "", "identity":
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
	n, err := b.read(io.LimitReader(body, f.maxBody+1))
	if err != nil {
		return nil, 0, fmt.Errorf("reading body after %d bytes: %w", n, cleanURLError(err))
	}
	if int64(n) > f.maxBody {
		return nil, 0, fmt.Errorf("%w (%d bytes)", ErrTooLarge, f.maxBody)
	}
	return b.buf[:n], format, nil
}

// read fills b.buf from r. The buffer is kept between fetches and sized to
// the body with a little headroom: bytes.Buffer would keep it at up to
// twice the body.
func (b *Buffers) read(r io.Reader) (int, error) {
	n := 0
	for {
		if n == len(b.buf) {
			b.buf = append(b.buf, make([]byte, max(n/4, 4096))...)
		}
		m, err := r.Read(b.buf[n:])
		n += m
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
	}
	// Give back a buffer far larger than the body, after a one-off big one.
	if want := n + n/8 + 4096; len(b.buf) > 2*want {
		b.buf = append(make([]byte, 0, want), b.buf[:n]...)[:want]
	}
	return n, nil
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
