package discovery

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promdiscovery "github.com/prometheus/prometheus/discovery"
)

// Runner runs Prometheus's discovery manager for one Config and hands every
// new set of targets to a callback.
type Runner struct {
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// updateEvery is how often the manager sends changed target groups: what
// Prometheus uses is 5s; a pod that starts is then scraped within one
// second of being found.
const updateEvery = time.Second

// Start runs discovery until Stop. update is called from one goroutine with
// the whole resolved set each time it changes, and errs with the targets
// that failed to resolve (each once per update).
func Start(cfg *Config, shard *Shard, logger *slog.Logger, update func([]Target, []error)) (*Runner, error) {
	// The manager's and the mechanisms' own metrics go to a registry of
	// their own: the collector has no Prometheus registry to add them to.
	reg := prometheus.NewRegistry()
	sdMetrics, err := promdiscovery.CreateAndRegisterSDMetrics(reg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := promdiscovery.NewManager(ctx, logger, reg, sdMetrics, promdiscovery.Updatert(updateEvery))
	if err := m.ApplyConfig(map[string]promdiscovery.Configs{"sglangdynamo": cfg.ServiceDiscoveryConfigs}); err != nil {
		cancel()
		return nil, err
	}
	r := &Runner{cancel: cancel}
	r.done.Add(2)
	go func() {
		defer r.done.Done()
		_ = m.Run() // returns when ctx is done
	}()
	go func() {
		defer r.done.Done()
		var last []string
		for {
			select {
			case <-ctx.Done():
				return
			case groups := <-m.SyncCh():
				ts, errs := FromGroups(groups, cfg.RelabelConfigs, shard)
				keys := make([]string, len(ts))
				for i, t := range ts {
					keys[i] = t.Key()
				}
				slices.Sort(keys)
				if slices.Equal(keys, last) && len(errs) == 0 {
					continue
				}
				last = keys
				update(ts, errs)
			}
		}
	}()
	return r, nil
}

// Stop ends discovery and waits for its goroutines.
func (r *Runner) Stop() {
	r.cancel()
	r.done.Wait()
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
