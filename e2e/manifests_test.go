//go:build e2e

package e2e

// The Kubernetes manifests of deploy/kubernetes: every document decodes
// strictly with client-go's scheme, the objects refer to each other
// correctly, the relabel rules pick the right ports of the pods SGLang and
// Dynamo run in, and the built collector accepts both configurations.
//
//	go test -tags e2e -run Manifests ./e2e/

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"go.yaml.in/yaml/v2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
)

const manifestsDir = "../deploy/kubernetes"

// manifestObject is one decoded document.
type manifestObject struct {
	file string
	obj  runtime.Object
}

// loadManifests decodes every document of every YAML file in
// deploy/kubernetes strictly: an unknown field, a duplicate field or a kind
// the client-go scheme does not know fails the test.
func loadManifests(t *testing.T) []manifestObject {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(manifestsDir, "*.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no manifests in %s", manifestsDir)
	}
	var out []manifestObject
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, errs := decodeManifests(filepath.Base(f), raw)
		for _, err := range errs {
			t.Error(err)
		}
		for _, o := range objs {
			t.Logf("%s: %T %s", o.file, o.obj, objectName(o.obj))
		}
		out = append(out, objs...)
	}
	if t.Failed() {
		t.FailNow()
	}
	return out
}

var strictDecoder = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// decodeManifests decodes each YAML document of raw with client-go's scheme
// and the strict decoder; documents holding only comments are skipped.
func decodeManifests(file string, raw []byte) ([]manifestObject, []error) {
	var out []manifestObject
	var errs []error
	r := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, append(errs, fmt.Errorf("%s: document %d: %w", file, i, err))
		}
		var probe any
		if err := yaml.Unmarshal(doc, &probe); err != nil {
			errs = append(errs, fmt.Errorf("%s: document %d: %w", file, i, err))
			continue
		}
		if probe == nil {
			continue
		}
		obj, _, err := strictDecoder.Decode(doc, nil, nil)
		if err != nil {
			// A strict decoding error comes with the decoded object: any
			// error is a failure.
			errs = append(errs, fmt.Errorf("%s: document %d: %w", file, i, err))
			continue
		}
		out = append(out, manifestObject{file: file, obj: obj})
	}
	return out, errs
}

func objectName(obj runtime.Object) string {
	if m, ok := obj.(interface {
		GetNamespace() string
		GetName() string
	}); ok {
		if m.GetNamespace() == "" {
			return m.GetName()
		}
		return m.GetNamespace() + "/" + m.GetName()
	}
	return "?"
}

// manifestSet indexes the decoded objects.
type manifestSet struct {
	namespaces      map[string]*corev1.Namespace
	serviceAccounts map[string]*corev1.ServiceAccount // namespace/name
	configMaps      map[string]*corev1.ConfigMap
	services        map[string]*corev1.Service
	clusterRoles    map[string]*rbacv1.ClusterRole
	bindings        []*rbacv1.ClusterRoleBinding
	daemonSets      []*appsv1.DaemonSet
	statefulSets    []*appsv1.StatefulSet
	files           map[string]string // kind namespace/name -> file
}

func indexManifests(t *testing.T, objs []manifestObject) *manifestSet {
	t.Helper()
	s := &manifestSet{
		namespaces:      map[string]*corev1.Namespace{},
		serviceAccounts: map[string]*corev1.ServiceAccount{},
		configMaps:      map[string]*corev1.ConfigMap{},
		services:        map[string]*corev1.Service{},
		clusterRoles:    map[string]*rbacv1.ClusterRole{},
		files:           map[string]string{},
	}
	for _, o := range objs {
		kind := reflect.TypeOf(o.obj).Elem().Name()
		key := kind + " " + objectName(o.obj)
		if prev, dup := s.files[key]; dup {
			t.Errorf("%s is defined twice (%s and %s)", key, prev, o.file)
		}
		s.files[key] = o.file
		switch v := o.obj.(type) {
		case *corev1.Namespace:
			s.namespaces[v.Name] = v
		case *corev1.ServiceAccount:
			s.serviceAccounts[v.Namespace+"/"+v.Name] = v
		case *corev1.ConfigMap:
			s.configMaps[v.Namespace+"/"+v.Name] = v
		case *corev1.Service:
			s.services[v.Namespace+"/"+v.Name] = v
		case *rbacv1.ClusterRole:
			s.clusterRoles[v.Name] = v
		case *rbacv1.ClusterRoleBinding:
			s.bindings = append(s.bindings, v)
		case *appsv1.DaemonSet:
			s.daemonSets = append(s.daemonSets, v)
		case *appsv1.StatefulSet:
			s.statefulSets = append(s.statefulSets, v)
		default:
			t.Errorf("%s: unexpected kind %s", o.file, kind)
		}
	}
	return s
}

// manifestCollectorConfig is what the tests read of a collector config.
type manifestCollectorConfig struct {
	Receivers struct {
		SGLangDynamo struct {
			CollectionInterval string `yaml:"collection_interval"`
			Discovery          struct {
				KubernetesSDConfigs []struct {
					Role      string `yaml:"role"`
					Selectors []struct {
						Role  string `yaml:"role"`
						Field string `yaml:"field"`
						Label string `yaml:"label"`
					} `yaml:"selectors"`
				} `yaml:"kubernetes_sd_configs"`
				RelabelConfigs []*relabel.Config `yaml:"relabel_configs"`
			} `yaml:"discovery"`
			Shard *struct {
				Count string `yaml:"count"`
				Index string `yaml:"index"`
			} `yaml:"shard"`
		} `yaml:"sglangdynamo"`
	} `yaml:"receivers"`
	Processors map[string]map[string]any `yaml:"processors"`
	Exporters  struct {
		Prometheus struct {
			Endpoint            string `yaml:"endpoint"`
			TranslationStrategy string `yaml:"translation_strategy"`
			WithoutScopeInfo    bool   `yaml:"without_scope_info"`
			MetricExpiration    string `yaml:"metric_expiration"`
		} `yaml:"prometheus"`
	} `yaml:"exporters"`
	Extensions struct {
		HealthCheck struct {
			Endpoint string `yaml:"endpoint"`
		} `yaml:"health_check"`
	} `yaml:"extensions"`
	Service struct {
		Extensions []string `yaml:"extensions"`
		Pipelines  map[string]struct {
			Receivers  []string `yaml:"receivers"`
			Processors []string `yaml:"processors"`
			Exporters  []string `yaml:"exporters"`
		} `yaml:"pipelines"`
	} `yaml:"service"`
}

// podCollector is one collector pod template of the manifests, with the
// configuration its args point to.
type podCollector struct {
	kind, name string
	spec       corev1.PodSpec
	labels     map[string]string
	container  corev1.Container
	configMap  *corev1.ConfigMap
	configKey  string
	configText string
	config     manifestCollectorConfig
}

// collectorPods resolves, for each DaemonSet and StatefulSet, the ConfigMap
// and key that --config names through the pod's volume mounts.
func collectorPods(t *testing.T, s *manifestSet) []*podCollector {
	t.Helper()
	var pods []*podCollector
	add := func(kind, ns, name string, tmpl corev1.PodTemplateSpec) {
		pc := &podCollector{kind: kind, name: ns + "/" + name, spec: tmpl.Spec, labels: tmpl.Labels}
		pods = append(pods, pc)
		if len(tmpl.Spec.Containers) != 1 {
			t.Errorf("%s %s: want one container, got %d", kind, pc.name, len(tmpl.Spec.Containers))
			return
		}
		c := tmpl.Spec.Containers[0]
		pc.container = c
		var cfgPath string
		for _, a := range c.Args {
			if p, ok := strings.CutPrefix(a, "--config="); ok {
				cfgPath = p
			}
		}
		if cfgPath == "" {
			t.Errorf("%s %s: no --config= argument in %q", kind, pc.name, c.Args)
			return
		}
		for _, m := range c.VolumeMounts {
			rel, err := filepath.Rel(m.MountPath, cfgPath)
			if err != nil || strings.HasPrefix(rel, "..") {
				continue
			}
			for _, v := range tmpl.Spec.Volumes {
				if v.Name != m.Name {
					continue
				}
				if v.ConfigMap == nil {
					t.Errorf("%s %s: volume %s is not a ConfigMap", kind, pc.name, v.Name)
					return
				}
				cm, ok := s.configMaps[ns+"/"+v.ConfigMap.Name]
				if !ok {
					t.Errorf("%s %s mounts ConfigMap %s/%s, which the manifests do not define", kind, pc.name, ns, v.ConfigMap.Name)
					return
				}
				pc.configMap, pc.configKey = cm, rel
				text, ok := cm.Data[rel]
				if !ok {
					t.Errorf("%s %s: --config=%s, but ConfigMap %s has no key %q (keys: %v)", kind, pc.name, cfgPath, cm.Name, rel, keysOf(cm.Data))
					return
				}
				pc.configText = text
				if err := yaml.Unmarshal([]byte(text), &pc.config); err != nil {
					t.Errorf("ConfigMap %s, key %s: %v", cm.Name, rel, err)
				}
				return
			}
			t.Errorf("%s %s: volume mount %s has no volume", kind, pc.name, m.Name)
			return
		}
		t.Errorf("%s %s: --config=%s is under no volume mount", kind, pc.name, cfgPath)
	}
	for _, d := range s.daemonSets {
		add("DaemonSet", d.Namespace, d.Name, d.Spec.Template)
	}
	for _, st := range s.statefulSets {
		add("StatefulSet", st.Namespace, st.Name, st.Spec.Template)
	}
	return pods
}

func keysOf[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func envByName(c corev1.Container, name string) (corev1.EnvVar, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e, true
		}
	}
	return corev1.EnvVar{}, false
}

func portOf(t *testing.T, endpoint string) int32 {
	t.Helper()
	_, p, err := net.SplitHostPort(endpoint)
	if err != nil {
		t.Errorf("endpoint %q: %v", endpoint, err)
		return 0
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Errorf("endpoint %q: port is not a number (use a literal port in the Kubernetes configs, so that it can be checked against the pod's ports)", endpoint)
	}
	return int32(n)
}

func containerPort(c corev1.Container, name string) (corev1.ContainerPort, bool) {
	for _, p := range c.Ports {
		if p.Name == name {
			return p, true
		}
	}
	return corev1.ContainerPort{}, false
}

func TestManifests(t *testing.T) {
	objs := loadManifests(t)
	s := indexManifests(t, objs)

	// The decoder used above refuses what the API server would refuse or
	// silently drop.
	t.Run("StrictDecoder", func(t *testing.T) {
		for name, doc := range map[string]string{
			"unknown field":   "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\nautomountToken: true\n",
			"misplaced field": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: b, replicas: 2}\n",
			"duplicate field": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\ndata: {k: w}\n",
			"unknown kind":    "apiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nmetadata: {name: a}\n",
			"wrong type":      "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: a}\nspec: {replicas: two}\n",
		} {
			if _, errs := decodeManifests(name, []byte("# comment only\n---\n"+doc)); len(errs) == 0 {
				t.Errorf("%s: decoded without error", name)
			}
		}
		if objs, errs := decodeManifests("good", []byte("# comment only\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n")); len(errs) != 0 || len(objs) != 1 {
			t.Errorf("a good document: %d objects, errors %v", len(objs), errs)
		}
	})

	t.Run("Kinds", func(t *testing.T) {
		for _, want := range []struct {
			kind string
			n    int
		}{
			{"Namespace", len(s.namespaces)}, {"ServiceAccount", len(s.serviceAccounts)},
			{"ClusterRole", len(s.clusterRoles)}, {"ClusterRoleBinding", len(s.bindings)},
			{"DaemonSet", len(s.daemonSets)}, {"StatefulSet", len(s.statefulSets)},
			{"Service", len(s.services)},
		} {
			if want.n != 1 {
				t.Errorf("want exactly one %s, got %d", want.kind, want.n)
			}
		}
		if len(s.configMaps) != 2 {
			t.Errorf("want two ConfigMaps (DaemonSet and StatefulSet), got %d", len(s.configMaps))
		}
		// Every namespaced object is in a namespace the manifests create.
		for key, file := range s.files {
			kind, name, _ := strings.Cut(key, " ")
			ns, _, namespaced := strings.Cut(name, "/")
			clusterScoped := kind == "Namespace" || kind == "ClusterRole" || kind == "ClusterRoleBinding"
			if namespaced == clusterScoped {
				t.Errorf("%s (%s): namespaced=%v, want %v", key, file, namespaced, !clusterScoped)
			}
			if namespaced {
				if _, ok := s.namespaces[ns]; !ok {
					t.Errorf("%s (%s) is in namespace %q, which namespace.yaml does not create", key, file, ns)
				}
			}
		}
	})

	t.Run("RBAC", func(t *testing.T) {
		for _, b := range s.bindings {
			if b.RoleRef.Kind != "ClusterRole" || b.RoleRef.APIGroup != rbacv1.GroupName {
				t.Errorf("ClusterRoleBinding %s: roleRef %+v", b.Name, b.RoleRef)
			}
			role, ok := s.clusterRoles[b.RoleRef.Name]
			if !ok {
				t.Errorf("ClusterRoleBinding %s refers to ClusterRole %s, which is not defined", b.Name, b.RoleRef.Name)
				continue
			}
			// Discovery's pod role lists and watches pods in every namespace.
			if !roleAllows(role, "", "pods", "list", "watch") {
				t.Errorf("ClusterRole %s does not allow list and watch on pods", role.Name)
			}
			// The endpoints role, if a user switches to it.
			if !roleAllows(role, "", "endpoints", "list", "watch") || !roleAllows(role, "", "services", "list", "watch") ||
				!roleAllows(role, "discovery.k8s.io", "endpointslices", "list", "watch") {
				t.Errorf("ClusterRole %s does not allow list and watch on endpoints, services and endpointslices", role.Name)
			}
			for _, r := range role.Rules {
				for _, v := range r.Verbs {
					if !slices.Contains([]string{"get", "list", "watch"}, v) {
						t.Errorf("ClusterRole %s grants %q: the collector only reads", role.Name, v)
					}
				}
			}
			for _, sub := range b.Subjects {
				if sub.Kind != "ServiceAccount" {
					continue
				}
				if _, ok := s.serviceAccounts[sub.Namespace+"/"+sub.Name]; !ok {
					t.Errorf("ClusterRoleBinding %s binds ServiceAccount %s/%s, which is not defined", b.Name, sub.Namespace, sub.Name)
				}
			}
		}
	})

	pods := collectorPods(t, s)

	t.Run("Pods", func(t *testing.T) {
		boundSAs := map[string]bool{}
		for _, b := range s.bindings {
			for _, sub := range b.Subjects {
				boundSAs[sub.Namespace+"/"+sub.Name] = true
			}
		}
		var images []string
		for _, p := range pods {
			ns, _, _ := strings.Cut(p.name, "/")
			sa := ns + "/" + p.spec.ServiceAccountName
			if p.spec.ServiceAccountName == "" {
				t.Errorf("%s %s: no serviceAccountName (the default account cannot list pods)", p.kind, p.name)
			} else if _, ok := s.serviceAccounts[sa]; !ok {
				t.Errorf("%s %s runs as ServiceAccount %s, which is not defined", p.kind, p.name, sa)
			} else if !boundSAs[sa] {
				t.Errorf("%s %s runs as ServiceAccount %s, which no ClusterRoleBinding binds", p.kind, p.name, sa)
			}
			c := p.container
			images = append(images, c.Image)
			if p.configText == "" {
				continue
			}
			cfg := p.config
			// The exporter's and health_check's ports are the container's.
			prom, okProm := containerPort(c, "metrics")
			health, okHealth := containerPort(c, "health")
			if !okProm || !okHealth {
				t.Errorf("%s %s: want container ports named metrics and health, got %+v", p.kind, p.name, c.Ports)
				continue
			}
			if got := portOf(t, cfg.Exporters.Prometheus.Endpoint); got != prom.ContainerPort || got != 8081 {
				t.Errorf("%s %s: exporter endpoint %s, container port metrics %d; want both 8081", p.kind, p.name, cfg.Exporters.Prometheus.Endpoint, prom.ContainerPort)
			}
			if got := portOf(t, cfg.Extensions.HealthCheck.Endpoint); got != health.ContainerPort || got != 13133 {
				t.Errorf("%s %s: health_check endpoint %s, container port health %d; want both 13133", p.kind, p.name, cfg.Extensions.HealthCheck.Endpoint, health.ContainerPort)
			}
			for what, probe := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
				if probe == nil || probe.HTTPGet == nil {
					t.Errorf("%s %s: no HTTP %s probe", p.kind, p.name, what)
					continue
				}
				if hp := probe.HTTPGet.Port; hp.StrVal != "health" && hp.IntVal != health.ContainerPort {
					t.Errorf("%s %s: %s probe on port %s, want the health_check port", p.kind, p.name, what, hp.String())
				}
			}
			if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
				t.Errorf("%s %s: no memory limit (memory_limiter's percentages are of it)", p.kind, p.name)
			}
			// The same exporter and processors as config/collector.yaml.
			pe := cfg.Exporters.Prometheus
			if pe.TranslationStrategy != "UnderscoreEscapingWithoutSuffixes" || !pe.WithoutScopeInfo || pe.MetricExpiration != "45s" {
				t.Errorf("%s %s: prometheus exporter %+v differs from config/collector.yaml's", p.kind, p.name, pe)
			}
			pl := cfg.Service.Pipelines["metrics"]
			if !slices.Equal(pl.Receivers, []string{"sglangdynamo"}) || !slices.Equal(pl.Processors, []string{"memory_limiter", "batch"}) ||
				!slices.Equal(pl.Exporters, []string{"prometheus"}) || !slices.Equal(cfg.Service.Extensions, []string{"health_check"}) {
				t.Errorf("%s %s: pipeline %+v, extensions %v", p.kind, p.name, pl, cfg.Service.Extensions)
			}
			// The collector expands ${...} in the whole file: a relabel
			// rule's $1 must be written $$1. The rules here need none.
			if rest := strings.ReplaceAll(p.configText, "${env:", ""); strings.Contains(rest, "$") {
				t.Errorf("%s %s: a $ that is not ${env:...}: %q", p.kind, p.name, rest[strings.IndexByte(rest, '$'):][:20])
			}
			// Every ${env:X} of the config is set in the container.
			for _, m := range envRefs(p.configText) {
				if _, ok := envByName(c, m); !ok {
					t.Errorf("%s %s: the config uses ${env:%s}, which the container does not set", p.kind, p.name, m)
				}
			}
		}
		if len(slices.Compact(slices.Sorted(slices.Values(images)))) > 1 {
			t.Errorf("the collector pods use different images: %v", images)
		}
	})

	t.Run("DaemonSet", func(t *testing.T) {
		for _, d := range s.daemonSets {
			checkSelector(t, "DaemonSet "+d.Name, d.Spec.Selector.MatchLabels, d.Spec.Template.Labels)
		}
		for _, p := range pods {
			if p.kind != "DaemonSet" {
				continue
			}
			e, ok := envByName(p.container, "K8S_NODE_NAME")
			if !ok || e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "spec.nodeName" {
				t.Errorf("%s: K8S_NODE_NAME must come from the downward API's spec.nodeName, got %+v", p.name, e)
			}
			sd := p.config.Receivers.SGLangDynamo.Discovery.KubernetesSDConfigs
			if len(sd) != 1 || sd[0].Role != "pod" || len(sd[0].Selectors) != 1 ||
				sd[0].Selectors[0].Role != "pod" || sd[0].Selectors[0].Field != "spec.nodeName=${env:K8S_NODE_NAME}" {
				t.Errorf("%s: want one pod-role kubernetes_sd_config with the field selector spec.nodeName=${env:K8S_NODE_NAME}, got %+v", p.name, sd)
			}
			if p.config.Receivers.SGLangDynamo.Shard != nil {
				t.Errorf("%s: a per-node collector must not be sharded", p.name)
			}
		}
	})

	t.Run("StatefulSet", func(t *testing.T) {
		for _, st := range s.statefulSets {
			name := "StatefulSet " + st.Name
			checkSelector(t, name, st.Spec.Selector.MatchLabels, st.Spec.Template.Labels)
			svc, ok := s.services[st.Namespace+"/"+st.Spec.ServiceName]
			if !ok {
				t.Errorf("%s: serviceName %s is not defined", name, st.Spec.ServiceName)
			} else {
				if svc.Spec.ClusterIP != corev1.ClusterIPNone {
					t.Errorf("Service %s must be headless (clusterIP: None): each shard is scraped on its own", svc.Name)
				}
				checkSelector(t, "Service "+svc.Name, svc.Spec.Selector, st.Spec.Template.Labels)
				for _, sp := range svc.Spec.Ports {
					if _, ok := containerPort(st.Spec.Template.Spec.Containers[0], sp.TargetPort.StrVal); !ok && sp.TargetPort.IntVal == 0 {
						t.Errorf("Service %s: targetPort %s is no container port", svc.Name, sp.TargetPort.String())
					}
				}
			}
			if st.Spec.Replicas == nil {
				t.Errorf("%s: replicas unset", name)
				continue
			}
			c := st.Spec.Template.Spec.Containers[0]
			count, ok := envByName(c, "SHARD_COUNT")
			if !ok || count.ValueFrom != nil || count.Value != strconv.Itoa(int(*st.Spec.Replicas)) {
				t.Errorf("%s: SHARD_COUNT %+v must be the literal replicas, %d", name, count, *st.Spec.Replicas)
			}
			index, ok := envByName(c, "SHARD_INDEX")
			if !ok || index.ValueFrom == nil || index.ValueFrom.FieldRef == nil ||
				index.ValueFrom.FieldRef.FieldPath != "metadata.labels['apps.kubernetes.io/pod-index']" {
				t.Errorf("%s: SHARD_INDEX must come from the pod-index label, got %+v", name, index)
			}
		}
		for _, p := range pods {
			if p.kind != "StatefulSet" {
				continue
			}
			sh := p.config.Receivers.SGLangDynamo.Shard
			if sh == nil || sh.Count != "${env:SHARD_COUNT}" || sh.Index != "${env:SHARD_INDEX}" {
				t.Errorf("%s: want shard {count: ${env:SHARD_COUNT}, index: ${env:SHARD_INDEX}}, got %+v", p.name, sh)
			}
			sd := p.config.Receivers.SGLangDynamo.Discovery.KubernetesSDConfigs
			if len(sd) != 1 || sd[0].Role != "pod" || len(sd[0].Selectors) != 0 {
				t.Errorf("%s: want one cluster-wide pod-role kubernetes_sd_config, got %+v", p.name, sd)
			}
		}
	})

	t.Run("Relabel", func(t *testing.T) {
		var first []*relabel.Config
		for i, p := range pods {
			rules := p.config.Receivers.SGLangDynamo.Discovery.RelabelConfigs
			if len(rules) == 0 {
				t.Fatalf("%s %s: no relabel_configs", p.kind, p.name)
			}
			for j, r := range rules {
				if err := r.Validate(model.UTF8Validation); err != nil {
					t.Errorf("%s %s: relabel_configs[%d]: %v", p.kind, p.name, j, err)
				}
			}
			if i == 0 {
				first = rules
			} else if !reflect.DeepEqual(rules, first) {
				t.Errorf("%s %s: relabel_configs differ from %s %s's; keep them the same", p.kind, p.name, pods[0].kind, pods[0].name)
			}
			// Ports the rules must pick, or leave, in pods shaped like those
			// of Dynamo's operator, SGLang's examples and the collector's own.
			for _, tc := range relabelCases(p.container) {
				got := resolveTarget(rules, tc.target)
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%s %s: %s:\n got  %+v\n want %+v", p.kind, p.name, tc.name, got, tc.want)
				}
			}
		}
	})

	t.Run("Validate", func(t *testing.T) {
		bin := collectorBinary(t)
		dir := t.TempDir()
		for _, p := range pods {
			if p.configText == "" {
				continue
			}
			file := filepath.Join(dir, strings.ReplaceAll(p.configMap.Name, "/", "_")+".yaml")
			if err := os.WriteFile(file, []byte(p.configText), 0o644); err != nil {
				t.Fatal(err)
			}
			env := map[string]string{"K8S_NODE_NAME": "gpu-node-1"}
			if p.kind == "StatefulSet" {
				// What the pods of the StatefulSet get: SHARD_COUNT as
				// written, SHARD_INDEX each of 0..replicas-1.
				cnt, _ := envByName(p.container, "SHARD_COUNT")
				n, _ := strconv.Atoi(cnt.Value)
				for i := range n {
					env["SHARD_COUNT"], env["SHARD_INDEX"] = cnt.Value, strconv.Itoa(i)
					if out, err := validateConfig(bin, file, env); err != nil {
						t.Errorf("%s %s, SHARD_INDEX=%d: validate: %v\n%s", p.kind, p.name, i, err, out)
					}
				}
				// One replica too many without raising SHARD_COUNT refuses
				// to start, as statefulset.yaml says.
				env["SHARD_INDEX"] = strconv.Itoa(n)
				if out, err := validateConfig(bin, file, env); err == nil {
					t.Errorf("%s %s: SHARD_INDEX=%d with SHARD_COUNT=%d was accepted:\n%s", p.kind, p.name, n, n, out)
				}
				continue
			}
			if out, err := validateConfig(bin, file, env); err != nil {
				t.Errorf("%s %s: validate: %v\n%s", p.kind, p.name, err, out)
			}
		}
	})
}

// validateConfig runs `otelcol-sglangdynamo validate` with only env (and
// PATH/HOME) in its environment, so that the config cannot lean on a
// variable the pod does not set.
func validateConfig(bin, file string, env map[string]string) (string, error) {
	cmd := exec.Command(bin, "validate", "--config="+file)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// envRefs lists the X of every ${env:X} or ${env:X:-default} without a
// default in text.
func envRefs(text string) []string {
	var out []string
	for rest := text; ; {
		i := strings.Index(rest, "${env:")
		if i < 0 {
			break
		}
		rest = rest[i+len("${env:"):]
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			break
		}
		ref := rest[:j]
		if !strings.Contains(ref, ":-") && !slices.Contains(out, ref) {
			out = append(out, ref)
		}
	}
	return out
}

func checkSelector(t *testing.T, what string, selector, podLabels map[string]string) {
	t.Helper()
	if len(selector) == 0 {
		t.Errorf("%s: empty selector", what)
	}
	for k, v := range selector {
		if podLabels[k] != v {
			t.Errorf("%s: selector %s=%s does not match the pod template's labels %v", what, k, v, podLabels)
		}
	}
}

func roleAllows(role *rbacv1.ClusterRole, group, resource string, verbs ...string) bool {
	for _, v := range verbs {
		ok := false
		for _, r := range role.Rules {
			if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, v) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// Relabelling, as the receiver's discovery applies it

// resolved is what a discovered target becomes: nil when dropped.
type resolved struct {
	Role, Address, Scheme, Path string
	Labels                      map[string]string // those that become resource attributes
}

// resolveTarget applies the rules as the receiver's contract says, which is
// Prometheus's: __scheme__ http, __metrics_path__ /metrics and __role__
// engine by default, then the rules; labels that do not start with __
// survive as attributes.
func resolveTarget(rules []*relabel.Config, target map[string]string) *resolved {
	lb := labels.NewBuilder(labels.FromMap(target))
	for k, v := range map[string]string{"__scheme__": "http", "__metrics_path__": "/metrics", "__role__": "engine"} {
		if lb.Get(k) == "" {
			lb.Set(k, v)
		}
	}
	if !relabel.ProcessBuilder(lb, rules...) {
		return nil
	}
	r := &resolved{Role: lb.Get("__role__"), Address: lb.Get("__address__"), Scheme: lb.Get("__scheme__"),
		Path: lb.Get("__metrics_path__"), Labels: map[string]string{}}
	lb.Range(func(l labels.Label) {
		if !strings.HasPrefix(l.Name, "__") {
			r.Labels[l.Name] = l.Value
		}
	})
	return r
}

// podPort builds the labels Prometheus's pod role gives one container port
// of a pod (discovery/kubernetes/pod.go): __address__ is <pod IP>:<port>,
// or the bare IP for a container without ports (portName "", number 0).
func podPort(ns, pod, ip, phase string, podLabels, annotations map[string]string, container, portName string, number int, protocol string) map[string]string {
	m := map[string]string{
		"__meta_kubernetes_namespace":          ns,
		"__meta_kubernetes_pod_name":           pod,
		"__meta_kubernetes_pod_ip":             ip,
		"__meta_kubernetes_pod_phase":          phase,
		"__meta_kubernetes_pod_ready":          "true",
		"__meta_kubernetes_pod_node_name":      "gpu-node-1",
		"__meta_kubernetes_pod_uid":            "uid-" + pod,
		"__meta_kubernetes_pod_container_name": container,
		"__meta_kubernetes_pod_container_init": "false",
	}
	for k, v := range podLabels {
		n := strings.NewReplacer(".", "_", "/", "_", "-", "_").Replace(k)
		m["__meta_kubernetes_pod_label_"+n] = v
		m["__meta_kubernetes_pod_labelpresent_"+n] = "true"
	}
	for k, v := range annotations {
		n := strings.NewReplacer(".", "_", "/", "_", "-", "_").Replace(k)
		m["__meta_kubernetes_pod_annotation_"+n] = v
		m["__meta_kubernetes_pod_annotationpresent_"+n] = "true"
	}
	if number == 0 {
		m["__address__"] = ip
		return m
	}
	m["__address__"] = net.JoinHostPort(ip, strconv.Itoa(number))
	m["__meta_kubernetes_pod_container_port_name"] = portName
	m["__meta_kubernetes_pod_container_port_number"] = strconv.Itoa(number)
	m["__meta_kubernetes_pod_container_port_protocol"] = protocol
	return m
}

type relabelCase struct {
	name   string
	target map[string]string
	want   *resolved
}

// relabelCases are the pods of a Dynamo-on-SGLang cluster and their
// neighbours. The Dynamo labels and ports are the operator's
// (nvidia.com/dynamo-component-type frontend|worker|prefill|decode, newer
// operators: worker plus nvidia.com/dynamo-sub-component-type; ports http
// 8000, system 9090, nixl 19090, planner metrics 9085, EPP metrics 9090).
func relabelCases(self corev1.Container) []relabelCase {
	dgd := func(typ, sub string) map[string]string {
		m := map[string]string{
			"nvidia.com/dynamo-component-type":        typ,
			"nvidia.com/dynamo-graph-deployment-name": "qwen",
			"nvidia.com/dynamo-namespace":             "dynamo-qwen",
			"nvidia.com/metrics-enabled":              "true",
			"app.kubernetes.io/name":                  "qwen-" + typ,
		}
		if sub != "" {
			m["nvidia.com/dynamo-sub-component-type"] = sub
		}
		return m
	}
	want := func(role, addr, ns, pod string, extra ...string) *resolved {
		r := &resolved{Role: role, Address: addr, Scheme: "http", Path: "/metrics",
			Labels: map[string]string{"namespace": ns, "pod": pod}}
		for i := 0; i+1 < len(extra); i += 2 {
			r.Labels[extra[i]] = extra[i+1]
		}
		return r
	}
	const run = "Running"
	cases := []relabelCase{
		{"operator frontend, http 8000",
			podPort("dynamo", "qwen-frontend-7d9", "10.0.1.5", run, dgd("frontend", ""), nil, "main", "http", 8000, "TCP"),
			want("frontend", "10.0.1.5:8000", "dynamo", "qwen-frontend-7d9", "dynamo_component_type", "frontend", "dynamo_graph_deployment", "qwen")},
		{"operator frontend on another http port",
			podPort("dynamo", "qwen-frontend-7d9", "10.0.1.5", run, dgd("frontend", ""), nil, "main", "http", 8080, "TCP"),
			want("frontend", "10.0.1.5:8080", "dynamo", "qwen-frontend-7d9", "dynamo_component_type", "frontend", "dynamo_graph_deployment", "qwen")},
		{"aggregated worker, system 9090",
			podPort("dynamo", "qwen-worker-0", "10.0.1.6", run, dgd("worker", ""), nil, "main", "system", 9090, "TCP"),
			want("runtime", "10.0.1.6:9090", "dynamo", "qwen-worker-0", "dynamo_component_type", "worker", "dynamo_graph_deployment", "qwen")},
		{"decode worker (dynamo issue 10596), system 9090",
			podPort("dynamo", "qwen-decode-0", "10.0.1.7", run, dgd("decode", ""), nil, "main", "system", 9090, "TCP"),
			want("runtime", "10.0.1.7:9090", "dynamo", "qwen-decode-0", "dynamo_component_type", "decode", "dynamo_graph_deployment", "qwen")},
		{"prefill worker (dynamo issue 10596), system 9090",
			podPort("dynamo", "qwen-prefill-0", "10.0.1.8", run, dgd("prefill", ""), nil, "main", "system", 9090, "TCP"),
			want("runtime", "10.0.1.8:9090", "dynamo", "qwen-prefill-0", "dynamo_component_type", "prefill", "dynamo_graph_deployment", "qwen")},
		{"newer operator: worker with sub-component type prefill",
			podPort("dynamo", "qwen-prefill-1", "10.0.1.9", run, dgd("worker", "prefill"), nil, "main", "system", 9090, "TCP"),
			want("runtime", "10.0.1.9:9090", "dynamo", "qwen-prefill-1", "dynamo_component_type", "worker",
				"dynamo_sub_component_type", "prefill", "dynamo_graph_deployment", "qwen")},
		{"decode worker's system port moved (DYN_SYSTEM_PORT)",
			podPort("dynamo", "qwen-decode-1", "10.0.1.10", run, dgd("decode", ""), nil, "main", "system", 28090, "TCP"),
			want("runtime", "10.0.1.10:28090", "dynamo", "qwen-decode-1", "dynamo_component_type", "decode", "dynamo_graph_deployment", "qwen")},
		{"shadow-failover pod's second engine, system-1",
			podPort("dynamo", "qwen-decode-2", "10.0.1.11", run, dgd("decode", ""), nil, "main", "system-1", 9091, "TCP"),
			want("runtime", "10.0.1.11:9091", "dynamo", "qwen-decode-2", "dynamo_component_type", "decode", "dynamo_graph_deployment", "qwen")},
		{"decode worker whose 9090 was renamed",
			podPort("dynamo", "qwen-decode-3", "10.0.1.12", run, dgd("decode", ""), nil, "main", "dyn", 9090, "TCP"),
			want("runtime", "10.0.1.12:9090", "dynamo", "qwen-decode-3", "dynamo_component_type", "decode", "dynamo_graph_deployment", "qwen")},
		{"worker's NIXL port",
			podPort("dynamo", "qwen-decode-0", "10.0.1.7", run, dgd("decode", ""), nil, "main", "nixl", 19090, "TCP"), nil},
		{"frontend sidecar in a worker pod (Gateway API inference extension), http 8000",
			podPort("dynamo", "qwen-worker-1", "10.0.1.13", run, dgd("worker", ""), nil, "frontend-sidecar", "http", 8000, "TCP"),
			want("frontend", "10.0.1.13:8000", "dynamo", "qwen-worker-1", "dynamo_component_type", "worker", "dynamo_graph_deployment", "qwen")},
		{"planner's metrics port",
			podPort("dynamo", "qwen-planner-0", "10.0.1.14", run, dgd("planner", ""), nil, "main", "metrics", 9085, "TCP"), nil},
		{"endpoint picker's metrics 9090",
			podPort("dynamo", "qwen-epp-0", "10.0.1.15", run, dgd("epp", ""), nil, "epp", "metrics", 9090, "TCP"), nil},
		{"hand-written Dynamo worker, unnamed 9090, no labels",
			podPort("llm", "dyn-worker-0", "10.0.2.1", run, nil, nil, "worker", "", 9090, "TCP"),
			want("runtime", "10.0.2.1:9090", "llm", "dyn-worker-0")},
		{"hand-written Dynamo frontend, http 8000, no labels",
			podPort("llm", "dyn-frontend-0", "10.0.2.2", run, map[string]string{"app": "frontend"}, nil, "frontend", "http", 8000, "TCP"),
			want("frontend", "10.0.2.2:8000", "llm", "dyn-frontend-0")},
		{"SGLang's example deployment, unnamed 30000",
			podPort("llm", "sglang-5f6", "10.0.2.3", run, map[string]string{"app": "sglang"}, nil, "sglang", "", 30000, "TCP"),
			want("engine", "10.0.2.3:30000", "llm", "sglang-5f6")},
		{"SGLang with a named port, IPv6",
			podPort("llm", "sglang-v6", "fd00::17", run, nil, nil, "sglang", "http", 30000, "TCP"),
			want("engine", "[fd00::17]:30000", "llm", "sglang-v6")},
		{"SGLang opted out by annotation",
			podPort("llm", "smg-0", "10.0.2.4", run, nil, map[string]string{"sglangdynamo.io/scrape": "false"}, "smg", "http", 30000, "TCP"), nil},
		{"pending pod",
			podPort("llm", "sglang-new", "10.0.2.5", "Pending", nil, nil, "sglang", "", 30000, "TCP"), nil},
		{"finished pod",
			podPort("llm", "sglang-old", "10.0.2.6", "Succeeded", nil, nil, "sglang", "", 30000, "TCP"), nil},
		{"UDP 30000",
			podPort("llm", "dns-0", "10.0.2.7", run, nil, nil, "dns", "", 30000, "UDP"), nil},
		{"container without ports",
			podPort("llm", "sglang-5f6", "10.0.2.3", run, nil, nil, "sidecar", "", 0, ""), nil},
		{"Prometheus, web 9090",
			podPort("monitoring", "prometheus-0", "10.0.3.1", run, map[string]string{"app.kubernetes.io/name": "prometheus"}, nil, "prometheus", "web", 9090, "TCP"), nil},
		{"another app, http 8080",
			podPort("web", "shop-0", "10.0.3.2", run, nil, nil, "shop", "http", 8080, "TCP"), nil},
		{"another app, web 8000",
			podPort("web", "shop-1", "10.0.3.3", run, nil, nil, "shop", "web", 8000, "TCP"), nil},
	}
	// The collector's own ports, as its manifests declare them.
	for _, p := range self.Ports {
		cases = append(cases, relabelCase{"the collector's own port " + p.Name,
			podPort("sglangdynamo", "otelcol-sglangdynamo-x", "10.0.4.1", run,
				map[string]string{"app.kubernetes.io/name": "otelcol-sglangdynamo"}, nil, self.Name, p.Name, int(p.ContainerPort), string(p.Protocol)), nil})
	}
	return cases
}
