//go:build e2e

package e2e

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/confmap"
)

const promtoolBinary = "/usr/bin/promtool"

var updateCapture = flag.Bool("update", false, "TestRulesCapture: rewrite deploy/prometheus/tests/testdata/port8081.txt from the collector on the demo")

// readYAML parses a YAML file into plain maps and slices. confmap (already a
// dependency) carries the YAML parser; importing one directly would make
// `go mod tidy` promote it to a direct requirement for test code alone.
func readYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := confmap.NewRetrievedFromYAML(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	raw, _ := r.AsRaw()
	m, ok := raw.(map[string]any)
	if !ok {
		t.Fatalf("%s: not a YAML mapping (%T)", path, raw)
	}
	return m
}

func yamlList(v any) []any { l, _ := v.([]any); return l }

func yamlMap(v any) map[string]any { m, _ := v.(map[string]any); return m }

func yamlStr(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

// ruleSet is what the rules file defines.
type ruleSet struct {
	records []string
	alerts  []string
}

func readRules(t *testing.T) ruleSet {
	t.Helper()
	var rs ruleSet
	for _, g := range yamlList(readYAML(t, rulesFile)["groups"]) {
		for _, r := range yamlList(yamlMap(g)["rules"]) {
			r := yamlMap(r)
			if n := yamlStr(r["record"]); n != "" {
				rs.records = append(rs.records, n)
			}
			if n := yamlStr(r["alert"]); n != "" {
				rs.alerts = append(rs.alerts, n)
			}
		}
	}
	return rs
}

// ruleTests is what the promtool unit tests use and check.
type ruleTests struct {
	files       []string
	inputs      map[string][]string // series selector as written -> "file: test name" using it
	exprRecords map[string]bool     // recording rules an expr test expects samples of
	firing      map[string]bool     // alerts some test expects to fire
	quiet       map[string]bool     // alerts some test expects not to fire
}

func readRuleTests(t *testing.T, records []string) ruleTests {
	t.Helper()
	files, err := filepath.Glob(rulesTestGlob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule tests match %s (%v)", rulesTestGlob, err)
	}
	rt := ruleTests{files: files, inputs: map[string][]string{}, exprRecords: map[string]bool{},
		firing: map[string]bool{}, quiet: map[string]bool{}}
	for _, f := range files {
		doc := readYAML(t, f)
		for i, tc := range yamlList(doc["tests"]) {
			tc := yamlMap(tc)
			where := fmt.Sprintf("%s: test %d %q", filepath.Base(f), i+1, yamlStr(tc["name"]))
			for _, in := range yamlList(tc["input_series"]) {
				s := yamlStr(yamlMap(in)["series"])
				rt.inputs[s] = append(rt.inputs[s], where)
			}
			for _, et := range yamlList(tc["promql_expr_test"]) {
				et := yamlMap(et)
				if len(yamlList(et["exp_samples"])) == 0 {
					continue
				}
				for _, r := range records {
					if containsName(yamlStr(et["expr"]), r) {
						rt.exprRecords[r] = true
					}
				}
			}
			for _, at := range yamlList(tc["alert_rule_test"]) {
				at := yamlMap(at)
				if len(yamlList(at["exp_alerts"])) > 0 {
					rt.firing[yamlStr(at["alertname"])] = true
				} else {
					rt.quiet[yamlStr(at["alertname"])] = true
				}
			}
		}
	}
	return rt
}

// containsName reports whether expr names metric as a whole name, not as
// part of a longer one.
func containsName(expr, metric string) bool {
	for i := 0; ; {
		j := strings.Index(expr[i:], metric)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(metric)
		before := j == 0 || !isNameChar(expr[j-1], false)
		after := end == len(expr) || !isNameChar(expr[end], false)
		if before && after {
			return true
		}
		i = j + 1
	}
}

// parseSelector parses an input_series selector, `name{l="v",...}`, into
// its name and labels (values unescaped as PromQL strings).
func parseSelector(s string) (string, map[string]string, error) {
	s = strings.TrimSpace(s)
	name, rest, hasLabels := strings.Cut(s, "{")
	labels := map[string]string{}
	if !hasLabels {
		return name, labels, nil
	}
	rest = strings.TrimSpace(rest)
	for {
		rest = strings.TrimLeft(rest, " ,")
		if strings.HasPrefix(rest, "}") {
			if strings.TrimSpace(rest[1:]) != "" {
				return "", nil, fmt.Errorf("text after }: %q", rest)
			}
			return name, labels, nil
		}
		k, v, ok := strings.Cut(rest, "=")
		if !ok || strings.HasPrefix(v, "~") {
			return "", nil, fmt.Errorf("not label=\"value\": %q", rest)
		}
		v = strings.TrimSpace(v)
		q, err := strconv.QuotedPrefix(v)
		if err != nil {
			return "", nil, fmt.Errorf("label %s: %w", k, err)
		}
		val, _ := strconv.Unquote(q)
		labels[strings.TrimSpace(k)] = val
		rest = v[len(q):]
	}
}

// captureSeries reads an exposition and returns its series keys.
func captureSeries(t *testing.T, body []byte) map[string]bool {
	t.Helper()
	e, err := parseExposition(body)
	if err != nil {
		t.Fatalf("capture: %v", err)
	}
	out := make(map[string]bool, len(e.Samples))
	for _, s := range e.Samples {
		out[seriesKey(s.Name, s.Labels)] = true
	}
	return out
}

// missingInputs lists the rule tests' input series that are not in have.
func missingInputs(t *testing.T, rt ruleTests, have map[string]bool) []string {
	t.Helper()
	var missing []string
	for sel, where := range rt.inputs {
		name, labels, err := parseSelector(sel)
		if err != nil {
			t.Errorf("%s: input series %q: %v", where[0], sel, err)
			continue
		}
		if !have[seriesKey(name, labels)] {
			missing = append(missing, fmt.Sprintf("%s (used in %s)", seriesKey(name, labels), strings.Join(where, "; ")))
		}
	}
	sort.Strings(missing)
	return missing
}

// TestRules checks the rules and their unit tests: every input series of
// the tests is a series the collector prints on :8081 (in the committed
// capture, exact label set), every recording rule and alert is tested
// (alerts both firing and not), and promtool accepts the rules and passes
// the tests.
func TestRules(t *testing.T) {
	if _, err := os.Stat(promtoolBinary); err != nil {
		t.Skipf("%s not found: install Debian's prometheus package (bash scripts/test.sh deps)", promtoolBinary)
	}
	rs := readRules(t)
	rt := readRuleTests(t, rs.records)

	capture, err := os.ReadFile(captureFile)
	if err != nil {
		t.Fatalf("%v (regenerate: go test -tags e2e -run TestRulesCapture -update ./e2e/)", err)
	}
	have := captureSeries(t, capture)
	missing := missingInputs(t, rt, have)
	for _, m := range missing {
		t.Errorf("input series not in the collector's output %s: %s", filepath.Base(captureFile), m)
	}
	t.Logf("%d input series of the rule tests checked against %d series of %s: %d missing",
		len(rt.inputs), len(have), filepath.Base(captureFile), len(missing))

	for _, r := range rs.records {
		if !rt.exprRecords[r] {
			t.Errorf("recording rule %s: no promql_expr_test expects samples of it", r)
		}
	}
	for _, a := range rs.alerts {
		if !rt.firing[a] {
			t.Errorf("alert %s: no alert_rule_test expects it to fire", a)
		}
		if !rt.quiet[a] {
			t.Errorf("alert %s: no alert_rule_test expects it not to fire", a)
		}
	}

	for _, args := range [][]string{
		{"check", "rules", rulesFile},
		append([]string{"test", "rules"}, rt.files...),
	} {
		cmd := exec.Command(promtoolBinary, args...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		} else {
			t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
		}
	}
}

// TestRulesCapture runs the built collector on the demo fleet and compares
// its :8081 output with the committed capture: every input series of the
// rule tests must still be printed, so the capture cannot go stale while the
// collector or the demo changes. With -update it rewrites the capture.
func TestRulesCapture(t *testing.T) {
	fleet := startDemoFleet(t)
	c := startCollector(t, collectorOptions{Receiver: fleet.receiverYAML("1s")})

	rt := readRuleTests(t, nil)
	// Families created on their first event (failures, evictions) need
	// some simulated traffic: take the output once the demo has run for a
	// while and every input series shows, or at the deadline when some
	// never do.
	var body []byte
	settled := time.Now().Add(20 * time.Second)
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, b, err := httpGet(c.MetricsURL())
		if err == nil && code == 200 {
			body = fleet.canonicalize(b)
			if time.Now().After(settled) && len(missingInputs(t, rt, captureSeries(t, body))) == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	if body == nil {
		t.Fatal("no output from the collector")
	}
	missing := missingInputs(t, rt, captureSeries(t, body))

	if *updateCapture {
		header := fmt.Sprintf("# The sglangdynamo collector's Prometheus exporter (:8081) on the demo fleet (modes: %s),\n"+
			"# instances renamed to the demo's canonical ports; written by\n"+
			"#   go test -tags e2e -run TestRulesCapture -update ./e2e/\n", strings.Join(fleet.modes, ", "))
		if err := os.MkdirAll(filepath.Dir(captureFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(captureFile, append([]byte(header), body...), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", captureFile, len(body))
	}
	if len(missing) > 0 {
		t.Errorf("the collector on the demo no longer prints %d input series of the rule tests:\n  %s",
			len(missing), strings.Join(missing, "\n  "))
	}
	if !*updateCapture {
		committed, err := os.ReadFile(captureFile)
		if errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s is missing: run with -update", captureFile)
		}
		// Families are the unit that appears or disappears with a demo
		// change; report the ones the committed capture lacks as a hint to
		// refresh it.
		fams := func(b []byte) []string {
			e, err := parseExposition(b)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for n := range e.Types {
				out = append(out, n)
			}
			sort.Strings(out)
			return out
		}
		have := fams(committed)
		for _, n := range fams(body) {
			if !slices.Contains(have, n) {
				t.Logf("family %s is printed now but not in the committed capture (refresh with -update)", n)
			}
		}
	}
}
