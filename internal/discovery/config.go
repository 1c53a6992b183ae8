// Package discovery finds scrape targets with Prometheus's own service
// discovery and relabelling (github.com/prometheus/prometheus/discovery and
// model/relabel), so that a `discovery:` block reads exactly like a
// Prometheus scrape job's `*_sd_configs` and `relabel_configs`.
//
// Only four mechanisms are linked in, by the blank imports below: Kubernetes
// (pod and endpoints roles), DNS (A, AAAA, SRV), file and HTTP. Every other
// `*_sd_configs` key is refused by the decoder.
package discovery

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/prometheus/common/model"
	promdiscovery "github.com/prometheus/prometheus/discovery"
	_ "github.com/prometheus/prometheus/discovery/dns"        // dns_sd_configs
	_ "github.com/prometheus/prometheus/discovery/file"       // file_sd_configs
	_ "github.com/prometheus/prometheus/discovery/http"       // http_sd_configs
	_ "github.com/prometheus/prometheus/discovery/kubernetes" // kubernetes_sd_configs
	"github.com/prometheus/prometheus/model/relabel"
	"go.yaml.in/yaml/v2"
)

// Config is the receiver's `discovery:` block.
type Config struct {
	// ServiceDiscoveryConfigs holds the `*_sd_configs` lists, decoded by
	// Prometheus's registry of the linked-in mechanisms.
	ServiceDiscoveryConfigs promdiscovery.Configs `yaml:"-"`
	// RelabelConfigs are applied to every discovered target, as a scrape
	// job's relabel_configs are.
	RelabelConfigs []*relabel.Config `yaml:"relabel_configs,omitempty"`
}

// UnmarshalYAML reads the `*_sd_configs` keys inline, as Prometheus's
// ScrapeConfig does.
func (c *Config) UnmarshalYAML(unmarshal func(any) error) error {
	return promdiscovery.UnmarshalYAMLWithInlineConfigs(c, unmarshal)
}

// Parse decodes the `discovery:` block as the collector's configuration
// gives it (a map) with Prometheus's own YAML decoding, strictly, so that
// its syntax, defaults and errors are Prometheus's; and validates it. dir
// is the directory relative file paths are resolved against.
func Parse(raw map[string]any, dir string) (*Config, error) {
	b, err := yaml.Marshal(raw)
	if err != nil {
		return nil, err
	}
	var c Config
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		if m := unlinked.FindStringSubmatch(err.Error()); m != nil {
			return nil, fmt.Errorf("%s is not in this build: it links kubernetes_sd_configs, dns_sd_configs, file_sd_configs and http_sd_configs", m[1])
		}
		return nil, err
	}
	if len(c.ServiceDiscoveryConfigs) == 0 {
		return nil, errors.New("no service discovery configured: add kubernetes_sd_configs, dns_sd_configs, file_sd_configs or http_sd_configs")
	}
	for _, sd := range c.ServiceDiscoveryConfigs {
		if d, ok := sd.(interface{ SetDirectory(string) }); ok {
			d.SetDirectory(dir)
		}
	}
	for i, rc := range c.RelabelConfigs {
		if rc == nil {
			return nil, fmt.Errorf("relabel_configs[%d] is empty", i)
		}
		if err := rc.Validate(model.UTF8Validation); err != nil {
			return nil, fmt.Errorf("relabel_configs[%d]: %w", i, err)
		}
	}
	return &c, nil
}

// unlinked finds the decoder's error for a mechanism this build leaves out.
var unlinked = regexp.MustCompile(`field (\w+_sd_configs) not found`)

// Shard keeps the targets whose address hashes to index modulo count, with
// Prometheus's hashmod relabel action, so that count collectors split one
// fleet exactly as count Prometheus servers sharded by hashmod would: each
// target's share is a function of its address and count alone. As with
// Prometheus, a change of count reassigns most targets, so every replica
// must change it at once.
type Shard struct {
	count, index uint64
	rules        []*relabel.Config
}

// NewShard returns the shard filter; count 0 means no sharding.
func NewShard(count, index int) (*Shard, error) {
	switch {
	case count < 0 || index < 0:
		return nil, errors.New("`shard.count` and `shard.index` must not be negative")
	case count == 0 && index != 0:
		return nil, errors.New("`shard.index` is set but `shard.count` is not")
	case count > 0 && index >= count:
		return nil, fmt.Errorf("`shard.index` (%d) must be below `shard.count` (%d): indexes run from 0", index, count)
	case count == 0:
		return nil, nil
	}
	rules := []*relabel.Config{
		{SourceLabels: model.LabelNames{model.AddressLabel}, Modulus: uint64(count), TargetLabel: shardLabel,
			Action: relabel.HashMod, Separator: ";", Regex: relabel.MustNewRegexp("(.*)"), Replacement: "$1"},
		{SourceLabels: model.LabelNames{shardLabel}, Regex: relabel.MustNewRegexp(strconv.Itoa(index)),
			Action: relabel.Keep, Separator: ";", Replacement: "$1"},
	}
	for _, r := range rules {
		if err := r.Validate(model.UTF8Validation); err != nil {
			return nil, err
		}
	}
	return &Shard{count: uint64(count), index: uint64(index), rules: rules}, nil
}

const shardLabel = "__tmp_sglangdynamo_shard"
