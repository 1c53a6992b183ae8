//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const (
	// bombMaxBody is limits.max_body_size in this test: small, so that
	// the bound below means something next to the collector's baseline.
	bombMaxBody = 16 << 20
	// bombMargin is what the collector may use beyond its baseline and
	// one max_body_size while it refuses the bomb. The receiver reads an
	// over-limit body into at most max_body_size+1 bytes, copies nothing
	// while doing so, and collects the dropped body at once. What remains
	// is small and does not grow with the body: the gzip reader (a 32 KiB
	// window and its tables), connection buffers, the failing target's
	// health series, and the healthy scrapes' garbage, which the heap holds
	// a little longer while the body is live (the GC paces its next cycle
	// on the live heap, which the body raises). 8 MiB is half a
	// max_body_size, so that one more array of the body's size (a buffer
	// grown by copying) or a dropped body left for the GC's next cycle
	// fails the test. Measured on 2 cores: +15 MiB; with a growing
	// contiguous buffer +95 MiB, without the collection +20 to +33 MiB.
	bombMargin = 8 << 20
	// bombInflated is what the bomb decompresses to.
	bombInflated = 1 << 30
)

// TestGzipBomb serves a 1 GiB gzip bomb beside a healthy target and checks
// that the collector refuses it (up 0, an error naming the endpoint and the
// limit), keeps the healthy target's series, and peaks (VmHWM) at no more
// than its baseline plus one max_body_size plus a fixed margin. The bomb's
// endpoint serves a small valid body first, so that the baseline is the
// collector's own peak with the same targets, then the bomb, then the small
// body again, which must be accepted.
func TestGzipBomb(t *testing.T) {
	if _, err := procStatus(os.Getpid(), "VmHWM"); err != nil {
		t.Skipf("no peak RSS to read: %v", err)
	}
	// The bound is about the Go runtime's default pacing: a GOGC or
	// GOMEMLIMIT inherited from the caller would measure something else.
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")

	const interval = time.Second
	engineBody := readFixture(t, "sglang_engine_promclient.txt")
	workerBody := readFixture(t, "dynamo_worker.txt")
	bomb := gzipBomb(t, bombInflated)
	t.Logf("bomb: %d bytes of gzip inflating to %d bytes", len(bomb), bombInflated)

	healthy := serveFixture(t, staticBody(engineBody))
	var smallGz bytes.Buffer
	zw := gzip.NewWriter(&smallGz)
	_, _ = zw.Write(workerBody)
	_ = zw.Close()
	target := serveSwitchable(t, smallGz.Bytes())

	c := startCollector(t, collectorOptions{Receiver: receiverYAML(interval.String(), workerYAML(healthy.URL(), target.URL(), nil)) +
		fmt.Sprintf("limits:\n  max_body_size: %d\n", bombMaxBody)})
	pid := c.cmd.Process.Pid

	wantEngine := len(expectedFromSource(t, engineBody, []string{"sglang:"}, "sglang", "x"))
	wantRuntime := len(expectedFromSource(t, workerBody, []string{"dynamo_"}, "dynamo-backend", "x"))
	up := func(e exposition, job string, s interface{ Addr() string }) (float64, bool) {
		return e.value("up", map[string]string{"job": job, "instance": s.Addr()})
	}
	bothUp := func() error {
		e, err := c.TryScrape()
		if err != nil {
			return err
		}
		if n := len(e.filter(fromInstance(healthy.Addr()))); n != wantEngine {
			return fmt.Errorf("healthy target: %d series, want %d", n, wantEngine)
		}
		if n := len(e.filter(fromInstance(target.Addr()))); n != wantRuntime {
			return fmt.Errorf("bomb target (small body): %d series, want %d", n, wantRuntime)
		}
		if v, ok := up(e, "dynamo-backend", target); !ok || v != 1 {
			return fmt.Errorf("bomb target's up = %v (present %v), want 1", v, ok)
		}
		return nil
	}
	waitFor(t, 20*time.Second, "both targets on the exporter", bothUp)
	// A few more scrapes of the small body, so that the baseline includes
	// the steady state and not only the start.
	settled := target.requests.Load() + 5
	waitFor(t, 10*time.Second, "five more scrapes of the small body", func() error {
		if n := target.requests.Load(); n < settled {
			return fmt.Errorf("%d requests, waiting for %d", n, settled)
		}
		return nil
	})
	baseline, err := procStatus(pid, "VmHWM")
	if err != nil {
		t.Fatal(err)
	}

	target.bomb.Store(&bomb)
	bombed := target.bombs.Load() + 5
	waitFor(t, 15*time.Second, "five scrapes of the bomb", func() error {
		if n := target.bombs.Load(); n < bombed {
			return fmt.Errorf("%d bomb requests, waiting for %d", n, bombed)
		}
		return nil
	})
	// Four bomb requests were answered; one more interval lets the
	// collector finish reading it and export the round.
	time.Sleep(interval)
	waitFor(t, 5*time.Second, "the bomb target down and the healthy target's series", func() error {
		e, err := c.TryScrape()
		if err != nil {
			return err
		}
		if n := len(e.filter(fromInstance(healthy.Addr()))); n != wantEngine {
			return fmt.Errorf("healthy target: %d series, want %d", n, wantEngine)
		}
		if v, ok := up(e, "sglang", healthy); !ok || v != 1 {
			return fmt.Errorf("healthy target's up = %v (present %v), want 1", v, ok)
		}
		if n := len(e.filter(fromInstance(target.Addr()))); n != 0 {
			return fmt.Errorf("bomb target still has %d series", n)
		}
		if v, ok := up(e, "dynamo-backend", target); !ok || v != 0 {
			return fmt.Errorf("bomb target's up = %v (present %v), want 0", v, ok)
		}
		return nil
	})
	var refused string
	for _, l := range strings.Split(c.out.String(), "\n") {
		if strings.Contains(l, target.URL()) && strings.Contains(l, "limits.max_body_size") {
			refused = l
			break
		}
	}
	if refused == "" {
		t.Errorf("no log line names both %s and limits.max_body_size", target.URL())
	} else if !strings.Contains(refused, strconv.Itoa(bombMaxBody)) {
		t.Errorf("the error does not give the limit (%d bytes): %s", bombMaxBody, refused)
	} else if _, reason, ok := strings.Cut(refused, `"error": `); ok {
		t.Logf("refused: %s", reason)
	}

	peak, err := procStatus(pid, "VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("collector VmHWM: %.1f MiB before the bomb, %.1f MiB after %d bomb scrapes (+%.1f MiB; max_body_size %d MiB, margin %d MiB)",
		mib(baseline), mib(peak), target.bombs.Load(), mib(peak-baseline), bombMaxBody>>20, bombMargin>>20)
	if limit := baseline + bombMaxBody + bombMargin; peak > limit {
		t.Errorf("peak RSS %.1f MiB over baseline %.1f MiB + max_body_size %d MiB + margin %d MiB = %.1f MiB",
			mib(peak), mib(baseline), bombMaxBody>>20, bombMargin>>20, mib(limit))
	}

	// The target recovers as soon as its body is small again.
	target.bomb.Store(nil)
	waitFor(t, 10*time.Second, "the bomb target back with the small body", bothUp)
	if rss, err := procStatus(pid, "VmRSS"); err == nil {
		// Informative only: the runtime returns freed pages to the OS in
		// the background, at its own pace.
		t.Logf("collector VmRSS after the bomb stopped: %.1f MiB", mib(rss))
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// procStatus returns a size field of /proc/<pid>/status ("VmHWM", the
// peak resident set size, or "VmRSS"), in bytes.
func procStatus(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "VmHWM:	  123456 kB"
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/status: %q: %w", pid, sc.Text(), err)
			}
			return kb << 10, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, field)
}

// gzipBomb returns one gzip member that inflates to size bytes (rounded
// down to whole chunks) of metric lines, checked by inflating it.
//
// Compressing the whole size would take tens of CPU seconds. The text is
// periodic instead: after the first chunk, every chunk compresses to the
// same bytes, because deflate refers back at most 32 KiB and the 32 KiB
// before each chunk are the same. So two chunks are compressed, with a
// sync flush after each (byte-aligned, non-final blocks), and the second's
// output is repeated; the CRC and size go in a hand-written trailer.
func gzipBomb(t *testing.T, size int64) []byte {
	t.Helper()
	var block bytes.Buffer
	for i := 0; block.Len() < 4096; i++ {
		fmt.Fprintf(&block, "dynamo_component_requests_total{dynamo_component=\"backend\",dynamo_endpoint=\"generate\",dynamo_namespace=\"bomb\",model=\"m%d\"} %d\n", i, i)
	}
	chunk := bytes.Repeat(block.Bytes(), (1<<20)/block.Len())
	chunks := size / int64(len(chunk))
	if chunks < 2 {
		t.Fatalf("bomb of %d bytes is smaller than two chunks", size)
	}

	var out bytes.Buffer
	// Header: magic, deflate, no flags, no mtime, no extra flags, unknown OS.
	out.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255})
	fw, err := flate.NewWriter(&out, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	crc := crc32.NewIEEE()
	write := func() {
		if _, err := fw.Write(chunk); err != nil {
			t.Fatal(err)
		}
		if err := fw.Flush(); err != nil {
			t.Fatal(err)
		}
		crc.Write(chunk)
	}
	write()
	mark := out.Len()
	write()
	steady := bytes.Clone(out.Bytes()[mark:])
	for range chunks - 2 {
		out.Write(steady)
		crc.Write(chunk)
	}
	if err := fw.Close(); err != nil { // the final, empty block
		t.Fatal(err)
	}
	out.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32()))
	out.Write(binary.LittleEndian.AppendUint32(nil, uint32(chunks*int64(len(chunk)))))

	// It must be a real bomb: a valid gzip stream (CRC and size checked by
	// the reader at EOF) of the whole size.
	zr, err := gzip.NewReader(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	n, err := io.Copy(io.Discard, zr)
	if err != nil || n != chunks*int64(len(chunk)) || n < size-int64(len(chunk)) {
		t.Fatalf("the bomb inflates to %d bytes (%v), want %d", n, err, chunks*int64(len(chunk)))
	}
	return out.Bytes()
}

// switchableServer serves a gzip body on a loopback /metrics, and the bomb
// instead while one is set.
type switchableServer struct {
	addr     string
	small    []byte
	bomb     atomic.Pointer[[]byte]
	requests atomic.Int64 // all requests
	bombs    atomic.Int64 // requests answered with the bomb
}

func serveSwitchable(t *testing.T, smallGz []byte) *switchableServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &switchableServer{addr: l.Addr().String(), small: smallGz}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		body := s.small
		if b := s.bomb.Load(); b != nil {
			body = *b
			s.bombs.Add(1)
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		// The collector hangs up after max_body_size: the write error is
		// the expected end.
		_, _ = w.Write(body)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// Addr is host:port, the receiver's instance.
func (s *switchableServer) Addr() string { return s.addr }

// URL is the /metrics URL.
func (s *switchableServer) URL() string { return "http://" + s.addr + "/metrics" }
