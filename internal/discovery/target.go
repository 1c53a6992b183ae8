package discovery

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
)

// RoleLabel picks a discovered target's role: engine (the default), runtime
// or frontend.
const RoleLabel = "__role__"

// k8sAttributes maps the Kubernetes meta labels that discovery sets to the
// semantic conventions' resource attributes. They are taken from the
// labels as discovered, so relabelling need not keep them.
var k8sAttributes = []struct{ meta, attr string }{
	{"__meta_kubernetes_pod_name", "k8s.pod.name"},
	{"__meta_kubernetes_namespace", "k8s.namespace.name"},
	{"__meta_kubernetes_pod_node_name", "k8s.node.name"},
	{"__meta_kubernetes_pod_uid", "k8s.pod.uid"},
}

// Target is one discovered endpoint after relabelling.
type Target struct {
	URL  *url.URL
	Role string
	// Job and Instance are the `job` and `instance` labels when
	// relabelling set them: the target's service.name and
	// service.instance.id, as Prometheus would name its series.
	Job, Instance string
	// Attributes are the labels that survived relabelling (not `__*`, job
	// or instance), plus the k8s.* attributes discovery knew: the target's
	// resource attributes.
	Attributes map[string]string

	key string // Key, computed by Resolve
}

// Key identifies a target across updates: a target whose endpoint, role or
// attributes change is a new target, with fresh state. Resolve computes it
// once, since every update compares it several times.
func (t Target) Key() string { return t.key }

// keyOf builds Key from the target's fields.
func (t Target) keyOf() string {
	var b strings.Builder
	b.WriteString(t.Role + " " + t.URL.String() + " " + t.Job + " " + t.Instance)
	for _, k := range sortedKeys(t.Attributes) {
		b.WriteString(" " + k + "=" + t.Attributes[k])
	}
	return b.String()
}

// Resolve turns one discovered target (its labels and its group's) into a
// Target, as Prometheus's scrape.PopulateLabels does: the target's labels
// over the group's, `__scheme__` http and `__metrics_path__` /metrics by
// default, then the relabel rules and the shard filter; `__role__` is
// engine when the rules left it unset. It returns nil and
// no error for a target that relabelling or the shard dropped.
func Resolve(lb *labels.Builder, tLabels, gLabels model.LabelSet, rules []*relabel.Config, shard *Shard) (*Target, error) {
	lb.Reset(labels.EmptyLabels())
	for ln, lv := range tLabels {
		lb.Set(string(ln), string(lv))
	}
	for ln, lv := range gLabels {
		if _, ok := tLabels[ln]; !ok {
			lb.Set(string(ln), string(lv))
		}
	}
	for _, d := range []struct{ name, value string }{
		{model.SchemeLabel, "http"}, {model.MetricsPathLabel, "/metrics"},
	} {
		if lb.Get(d.name) == "" {
			lb.Set(d.name, d.value)
		}
	}
	attrs := map[string]string{}
	for _, k := range k8sAttributes {
		if v := lb.Get(k.meta); v != "" {
			attrs[k.attr] = v
		}
	}
	if !relabel.ProcessBuilder(lb, rules...) {
		return nil, nil
	}
	addr := lb.Get(model.AddressLabel)
	if addr == "" {
		return nil, fmt.Errorf("no %s after relabelling", model.AddressLabel)
	}
	if shard != nil && !shard.Keep(addr) {
		return nil, nil
	}
	// The role defaults after relabelling, unlike the scheme and the path,
	// so that rules can keep targets by whether they set one.
	t := &Target{Role: lb.Get(RoleLabel), Job: lb.Get(model.JobLabel), Instance: lb.Get(model.InstanceLabel), Attributes: attrs}
	if t.Role == "" {
		t.Role = "engine"
	}
	switch t.Role {
	case "engine", "runtime", "frontend":
	default:
		return nil, fmt.Errorf("%s %s: %s is %q: use engine, runtime or frontend", model.AddressLabel, addr, RoleLabel, t.Role)
	}
	scheme := lb.Get(model.SchemeLabel)
	if scheme != "http" && scheme != "https" {
		return nil, fmt.Errorf("%s %s: %s is %q: use http or https", model.AddressLabel, addr, model.SchemeLabel, scheme)
	}
	if strings.Contains(addr, "/") {
		return nil, fmt.Errorf("%s %q is not host:port", model.AddressLabel, addr)
	}
	u := &url.URL{Scheme: scheme, Host: addr, Path: lb.Get(model.MetricsPathLabel)}
	q := url.Values{}
	lb.Range(func(l labels.Label) {
		switch {
		case strings.HasPrefix(l.Name, model.ParamLabelPrefix):
			q.Set(strings.TrimPrefix(l.Name, model.ParamLabelPrefix), l.Value)
		case strings.HasPrefix(l.Name, model.ReservedLabelPrefix), l.Name == model.JobLabel, l.Name == model.InstanceLabel:
			// __meta_*, __address__, __role__, __tmp_*: not attributes.
		default:
			attrs[l.Name] = l.Value
		}
	})
	u.RawQuery = q.Encode()
	t.URL = u
	t.key = t.keyOf()
	return t, nil
}

// Keep reports whether addr belongs to this shard.
func (s *Shard) Keep(addr string) bool {
	lb := labels.NewBuilder(labels.FromStrings(model.AddressLabel, addr))
	return relabel.ProcessBuilder(lb, s.rules...)
}

// FromGroups resolves every target of every group, deduplicated by Key, in
// a stable order. Targets that fail to resolve are returned as errors
// naming them; the others are kept.
func FromGroups(groups map[string][]*targetgroup.Group, rules []*relabel.Config, shard *Shard) ([]Target, []error) {
	lb := labels.NewBuilder(labels.EmptyLabels())
	seen := map[string]bool{}
	var out []Target
	var errs []error
	for _, set := range sortedKeys(groups) {
		for _, g := range groups[set] {
			if g == nil {
				continue
			}
			for _, tl := range g.Targets {
				t, err := Resolve(lb, tl, g.Labels, rules, shard)
				if err != nil {
					errs = append(errs, fmt.Errorf("discovered target %s (source %q): %w", tl[model.AddressLabel], g.Source, err))
					continue
				}
				if t == nil || seen[t.key] {
					continue
				}
				seen[t.key] = true
				out = append(out, *t)
			}
		}
	}
	return out, errs
}
