package discovery

import (
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"go.yaml.in/yaml/v2"
)

func parse(t *testing.T, doc string) (*Config, error) {
	t.Helper()
	var raw map[string]any
	if err := yaml.Unmarshal([]byte(doc), &raw); err != nil {
		t.Fatal(err)
	}
	return Parse(stringKeys(raw), "/etc/sglangdynamo")
}

// stringKeys turns what the YAML decoder gives into the map[string]any
// the collector's configuration gives.
func stringKeys(v any) map[string]any {
	out := map[string]any{}
	each := func(k, v any) { out[fmt.Sprint(k)] = normalize(v) }
	switch m := v.(type) {
	case map[any]any:
		for k, v := range m {
			each(k, v)
		}
	case map[string]any:
		for k, v := range m {
			each(k, v)
		}
	}
	return out
}

func normalize(v any) any {
	switch v := v.(type) {
	case map[any]any, map[string]any:
		return stringKeys(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normalize(e)
		}
		return out
	}
	return v
}

func TestParse(t *testing.T) {
	c, err := parse(t, `
kubernetes_sd_configs:
  - role: pod
    selectors: [{role: pod, field: spec.nodeName=node-1}]
dns_sd_configs:
  - names: [_metrics._tcp.sglang.svc]
file_sd_configs:
  - files: [targets/*.json]
http_sd_configs:
  - url: http://sd.example:8080/targets
relabel_configs:
  - source_labels: [__meta_kubernetes_pod_container_port_number]
    regex: "30000"
    action: keep
`)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, sd := range c.ServiceDiscoveryConfigs {
		kinds = append(kinds, sd.Name())
	}
	if got, want := strings.Join(kinds, " "), "dns file http kubernetes"; got != want {
		t.Errorf("mechanisms %q, want %q", got, want)
	}
	if len(c.RelabelConfigs) != 1 || c.RelabelConfigs[0].Action != "keep" {
		t.Errorf("relabel_configs %+v", c.RelabelConfigs)
	}
	// Relative file paths are the collector's directory's, as a
	// Prometheus config's are its file's.
	if got := fmt.Sprint(c.ServiceDiscoveryConfigs[1]); !strings.Contains(got, "/etc/sglangdynamo/targets/*.json") {
		t.Errorf("file_sd_configs not resolved against the directory: %s", got)
	}
}

// Errors are Prometheus's own, with the key that caused them.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`consul_sd_configs: [{server: "localhost:8500"}]`, "consul_sd_configs is not in this build: it links kubernetes_sd_configs, dns_sd_configs, file_sd_configs and http_sd_configs"},
		{`relabel_configs: [{action: keep}]`, "no service discovery configured: add kubernetes_sd_configs, dns_sd_configs, file_sd_configs or http_sd_configs"},
		{"file_sd_configs: [{files: [a.json]}]\nrelabel_configs: [{action: replace}]", "relabel_configs[0]: relabel configuration for replace action requires 'target_label' value"},
		{"file_sd_configs: [{files: [a.json]}]\nrelabel_configs: [{action: nonsense}]", `unknown relabel action "nonsense"`},
		{`kubernetes_sd_configs: [{role: service2}]`, `unknown Kubernetes SD role "service2"`},
		{`file_sd_configs: [{files: [a.txt]}]`, `path name "a.txt" is not valid for file discovery`},
	} {
		_, err := parse(t, tc.doc)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got  %v\n want %s", tc.doc, err, tc.want)
		}
	}
}

func rules(t *testing.T, doc string) *Config {
	t.Helper()
	c, err := parse(t, "file_sd_configs: [{files: [x.json]}]\nrelabel_configs:\n"+doc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestResolve(t *testing.T) {
	pod := model.LabelSet{
		"__address__":                                     "10.0.0.7:9090",
		"__meta_kubernetes_pod_name":                      "decode-0",
		"__meta_kubernetes_namespace":                     "llm",
		"__meta_kubernetes_pod_node_name":                 "node-3",
		"__meta_kubernetes_pod_uid":                       "0f6e-11",
		"__meta_kubernetes_pod_container_port_name":       "system",
		"__meta_kubernetes_pod_label_dynamo_component":    "decode",
		"__meta_kubernetes_pod_container_port_number":     "9090",
		"__meta_kubernetes_pod_label_app_kubernetes_io_x": "y",
	}
	c := rules(t, `
  - source_labels: [__meta_kubernetes_pod_container_port_name]
    regex: system
    target_label: __role__
    replacement: runtime
  - source_labels: [__meta_kubernetes_pod_label_dynamo_component]
    target_label: component
  - source_labels: [__meta_kubernetes_pod_container_port_number]
    regex: "8000"
    action: drop
  - target_label: __param_format
    replacement: text
`)
	lb := labels.NewBuilder(labels.EmptyLabels())
	got, err := Resolve(lb, pod, model.LabelSet{"zone": "a"}, c.RelabelConfigs, nil)
	if err != nil || got == nil {
		t.Fatalf("Resolve: %v, %v", got, err)
	}
	if got.URL.String() != "http://10.0.0.7:9090/metrics?format=text" || got.Role != "runtime" || got.Job != "" || got.Instance != "" {
		t.Errorf("target %s role %s job %q instance %q", got.URL, got.Role, got.Job, got.Instance)
	}
	want := map[string]string{
		"component": "decode", "zone": "a",
		"k8s.pod.name": "decode-0", "k8s.namespace.name": "llm", "k8s.node.name": "node-3", "k8s.pod.uid": "0f6e-11",
	}
	if !maps.Equal(got.Attributes, want) {
		t.Errorf("attributes %v, want %v (meta labels dropped, group labels kept)", got.Attributes, want)
	}

	// Dropped by relabelling: no target, no error.
	pod["__meta_kubernetes_pod_container_port_number"] = "8000"
	if got, err := Resolve(lb, pod, nil, c.RelabelConfigs, nil); got != nil || err != nil {
		t.Errorf("dropped target resolved to %v, %v", got, err)
	}

	// Defaults: engine, http, /metrics; job and instance as relabelled.
	c = rules(t, `
  - target_label: job
    replacement: sglang-prod
  - source_labels: [__address__]
    target_label: instance`)
	got, err = Resolve(lb, model.LabelSet{"__address__": "sglang-0:30000"}, nil, c.RelabelConfigs, nil)
	if err != nil || got.URL.String() != "http://sglang-0:30000/metrics" || got.Role != "engine" || got.Job != "sglang-prod" || got.Instance != "sglang-0:30000" || len(got.Attributes) != 0 {
		t.Errorf("defaults: %+v, %v", got, err)
	}
}

func TestResolveErrors(t *testing.T) {
	lb := labels.NewBuilder(labels.EmptyLabels())
	for _, tc := range []struct {
		ls   model.LabelSet
		want string
	}{
		{model.LabelSet{"__address__": "a:1", "__role__": "router"}, `__address__ a:1: __role__ is "router": use engine, runtime or frontend`},
		{model.LabelSet{"__address__": "a:1", "__scheme__": "ftp"}, `__address__ a:1: __scheme__ is "ftp": use http or https`},
		{model.LabelSet{"__address__": "a:1/x"}, `__address__ "a:1/x" is not host:port`},
		{model.LabelSet{"foo": "bar"}, "no __address__ after relabelling"},
	} {
		_, err := Resolve(lb, tc.ls, nil, nil, nil)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%v: got %v, want %s", tc.ls, err, tc.want)
		}
	}
}

// hashmod is Prometheus's hashmod, written out: the last 8 bytes of the
// md5 of the value, big-endian, modulo the modulus.
func hashmod(s string, mod uint64) uint64 {
	sum := md5.Sum([]byte(s))
	return binary.BigEndian.Uint64(sum[8:]) % mod
}

// Shards split a fleet exactly as Prometheus's hashmod does: each address
// in exactly one shard, the one hashmod names.
func TestShard(t *testing.T) {
	const n = 4
	shards := make([]*Shard, n)
	for i := range n {
		var err error
		if shards[i], err = NewShard(n, i); err != nil {
			t.Fatal(err)
		}
	}
	sizes := make([]int, n)
	for a := range 1000 {
		addr := fmt.Sprintf("10.1.%d.%d:9090", a/250, a%250)
		var in []int
		for i, s := range shards {
			if s.Keep(addr) {
				in = append(in, i)
			}
		}
		if len(in) != 1 || uint64(in[0]) != hashmod(addr, n) {
			t.Fatalf("%s is in shards %v, want only %d", addr, in, hashmod(addr, n))
		}
		sizes[in[0]]++
	}
	for i, s := range sizes {
		if s < 200 || s > 300 {
			t.Errorf("shard %d holds %d of 1000 targets", i, s)
		}
	}
	for _, tc := range []struct {
		count, index int
		want         string
	}{
		{4, 4, "`shard.index` (4) must be below `shard.count` (4): indexes run from 0"},
		{0, 1, "`shard.index` is set but `shard.count` is not"},
		{-1, 0, "`shard.count` and `shard.index` must not be negative"},
	} {
		if _, err := NewShard(tc.count, tc.index); err == nil || err.Error() != tc.want {
			t.Errorf("NewShard(%d, %d): %v, want %s", tc.count, tc.index, err, tc.want)
		}
	}
	if s, err := NewShard(0, 0); s != nil || err != nil {
		t.Errorf("no sharding: %v, %v", s, err)
	}
}

// File SD through the real manager and a real file: the callback gets the
// resolved set when the file appears, and again when it changes.
func TestStartFileSD(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "targets.json")
	c, err := parse(t, "file_sd_configs: [{files: ["+file+"], refresh_interval: 1s}]")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []string, 10)
	r, err := Start(c, nil, nil, func(ts []Target, errs []error) {
		for _, e := range errs {
			t.Log(e)
		}
		var us []string
		for _, tg := range ts {
			us = append(us, tg.Role+" "+tg.URL.String())
		}
		got <- us
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	write := func(body string) {
		if err := os.WriteFile(file+".tmp", []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(file+".tmp", file); err != nil {
			t.Fatal(err)
		}
	}
	wait := func(want string) {
		t.Helper()
		deadline := time.After(15 * time.Second)
		for {
			select {
			case us := <-got:
				if strings.Join(us, ", ") == want {
					return
				}
			case <-deadline:
				t.Fatalf("no update with %q", want)
			}
		}
	}
	write(`[{"targets": ["127.0.0.1:30000", "127.0.0.1:30001"]}, {"targets": ["127.0.0.1:9090"], "labels": {"__role__": "runtime"}}]`)
	wait("engine http://127.0.0.1:30000/metrics, engine http://127.0.0.1:30001/metrics, runtime http://127.0.0.1:9090/metrics")
	write(`[{"targets": ["127.0.0.1:30001"]}]`)
	wait("engine http://127.0.0.1:30001/metrics")
}
