// Command sglangdynamo-demo serves simulated SGLang and NVIDIA Dynamo
// Prometheus endpoints on loopback, so the collector's sglang:* / dynamo_*
// scraping can be tried without a GPU.
//
// For each simulated worker it serves the SGLang engine's /metrics
// (prometheus_client multiprocess text) and the Dynamo worker system
// server's /metrics (Rust registry text, optionally followed by the
// passed-through sglang: families). One Dynamo frontend /metrics sits in
// front of all workers. Values come from a seeded simulation of request
// traffic that advances on every tick.
//
// -fleet, -name-form and -mode choose the kind of fleet: all workers on the
// current releases or some on an older SGLang, how SGLang's family names are
// printed, and unified or disaggregated (prefill/decode) serving.
package main

import (
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type config struct {
	workers      int
	enginePort   int
	runtimePort  int
	frontendPort int // 0 disables the frontend
	host         string
	tick         time.Duration
	seed         uint64
	passthrough  bool
	fleet        string // current | mixed
	nameForm     string // one form, or a comma list cycled across workers
	mode         string // unified | disagg
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("sglangdynamo-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.workers, "workers", 2, "number of simulated workers")
	fs.IntVar(&c.enginePort, "engine-port", 30000, "SGLang engine port of worker 0; worker i uses port+i")
	fs.IntVar(&c.runtimePort, "runtime-port", 9090, "Dynamo worker system port of worker 0; worker i uses port+i")
	fs.IntVar(&c.frontendPort, "frontend-port", 8000, "Dynamo frontend port (0 disables the frontend)")
	fs.StringVar(&c.host, "host", "127.0.0.1", "address to listen on")
	fs.DurationVar(&c.tick, "tick", time.Second, "simulation step interval")
	fs.Uint64Var(&c.seed, "seed", 1, "random seed (same seed, same metric values)")
	fs.BoolVar(&c.passthrough, "passthrough", true, "append the engine's sglang: families to the Dynamo worker /metrics")
	fs.StringVar(&c.fleet, "fleet", "current",
		"current: every worker runs current SGLang and Dynamo; mixed: odd-numbered workers (worker-1, worker-3, ...) run an "+
			"older SGLang, with sglang:kv_transfer_* as gauges and the retraction counter named sglang:num_retracted_reqs_total")
	fs.StringVar(&c.nameForm, "name-form", "colon",
		"how each worker prints SGLang's families, on its engine port and in its passthrough; a comma list is cycled "+
			"across workers: colon (sglang:x), underscore (sglang_x everywhere), escaping (HELP/TYPE sglang:x, samples "+
			"sglang_x), ray (sglang_x plus a ReplicaId label)")
	fs.StringVar(&c.mode, "mode", "unified",
		"unified: every engine serves whole requests; disagg: even-numbered workers are prefill and odd-numbered decode "+
			"engines (engine_type, PD queues, KV transfer histograms, frontend worker_type)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return c, c.validate()
}

func (c config) validate() error {
	if c.workers < 1 {
		return fmt.Errorf("-workers must be at least 1, got %d", c.workers)
	}
	if c.tick <= 0 {
		return fmt.Errorf("-tick must be positive, got %s", c.tick)
	}
	if _, err := c.fleetSpec(); err != nil {
		return err
	}
	for _, p := range []struct {
		flag  string
		first int
		count int
	}{
		{"-engine-port", c.enginePort, c.workers},
		{"-runtime-port", c.runtimePort, c.workers},
		{"-frontend-port", c.frontendPort, 1},
	} {
		if p.flag == "-frontend-port" && p.first == 0 {
			continue
		}
		if p.first < 1 || p.first+p.count-1 > 65535 {
			return fmt.Errorf("%s %d: ports %d..%d must lie in 1..65535", p.flag, p.first, p.first, p.first+p.count-1)
		}
	}
	return nil
}

// fleetSpec turns the fleet flags into what the simulation needs.
func (c config) fleetSpec() (fleetSpec, error) {
	var f fleetSpec
	switch c.fleet {
	case "current":
	case "mixed":
		f.mixed = true
	default:
		return f, fmt.Errorf("-fleet %q: want current or mixed", c.fleet)
	}
	switch c.mode {
	case "unified":
	case "disagg":
		f.disagg = true
	default:
		return f, fmt.Errorf("-mode %q: want unified or disagg", c.mode)
	}
	for _, name := range strings.Split(c.nameForm, ",") {
		form := nameForm(strings.TrimSpace(name))
		if !slices.Contains(nameForms, form) {
			return f, fmt.Errorf("-name-form %q: each form must be one of %v", c.nameForm, nameForms)
		}
		f.forms = append(f.forms, form)
	}
	return f, nil
}

// endpoint is one listener and the body it serves.
type endpoint struct {
	desc string
	addr string
	body func() []byte
}

func endpoints(c config, sim *simulation) []endpoint {
	addr := func(port int) string { return net.JoinHostPort(c.host, strconv.Itoa(port)) }
	var eps []endpoint
	for i, w := range sim.workers {
		eps = append(eps,
			endpoint{"sglang engine " + w.describe(), addr(c.enginePort + i), func() []byte { return sim.engineBody(i) }},
			endpoint{"dynamo worker " + w.describe(), addr(c.runtimePort + i), func() []byte { return sim.workerBody(i, c.passthrough) }},
		)
	}
	if c.frontendPort != 0 {
		eps = append(eps, endpoint{"dynamo frontend", addr(c.frontendPort), sim.frontendBody})
	}
	return eps
}

// listenAll binds every endpoint before any is served, so a port clash fails
// the whole demo up front instead of leaving it half running.
func listenAll(eps []endpoint) ([]net.Listener, error) {
	ls := make([]net.Listener, 0, len(eps))
	for _, ep := range eps {
		l, err := net.Listen("tcp", ep.addr)
		if err != nil {
			for _, open := range ls {
				open.Close()
			}
			return nil, fmt.Errorf("cannot listen on %s for %s: %w", ep.addr, ep.desc, err)
		}
		ls = append(ls, l)
	}
	return ls, nil
}

func run(ctx context.Context, cfg config, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	fleet, err := cfg.fleetSpec()
	if err != nil {
		return err
	}
	sim := newSimulation(cfg.workers, cfg.tick, cfg.seed, time.Now(), fleet)
	eps := endpoints(cfg, sim)
	listeners, err := listenAll(eps)
	if err != nil {
		return err
	}

	errc := make(chan error, len(eps))
	servers := make([]*http.Server, len(eps))
	for i, ep := range eps {
		srv := &http.Server{Handler: metricsHandler(ep.body), ReadHeaderTimeout: 5 * time.Second}
		servers[i] = srv
		fmt.Fprintf(out, "demo: %s on http://%s/metrics\n", ep.desc, ep.addr)
		go func(l net.Listener) {
			if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serving %s: %w", ep.addr, err)
			}
		}(listeners[i])
	}
	go sim.run(ctx, cfg.tick)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	cancel()

	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	var shutdownErrs []error
	for _, srv := range servers {
		shutdownErrs = append(shutdownErrs, srv.Shutdown(shutdownCtx))
	}
	return errors.Join(runErr, errors.Join(shutdownErrs...))
}

const contentType = "text/plain; version=0.0.4; charset=utf-8"

// metricsHandler serves body at /metrics; the mux answers 404 elsewhere.
func metricsHandler(body func() []byte) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		writeMetrics(w, r, body())
	})
	return mux
}

func writeMetrics(w http.ResponseWriter, r *http.Request, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Vary", "Accept-Encoding")
	if !acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
		return
	}
	h.Set("Content-Encoding", "gzip")
	gz := gzip.NewWriter(w)
	gz.Write(body)
	gz.Close()
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip,
// honouring an explicit q=0 refusal.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if k == "q" {
				q, err := strconv.ParseFloat(v, 64)
				return err == nil && q > 0
			}
		}
		return true
	}
	return false
}
