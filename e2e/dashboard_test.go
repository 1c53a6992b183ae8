//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// dashboard is the part of a Grafana dashboard JSON the tests read.
type dashboard struct {
	Templating struct {
		List []struct {
			Name     string `json:"name"`
			Type     string `json:"type"`
			Query    any    `json:"query"`
			AllValue string `json:"allValue"`
		} `json:"list"`
	} `json:"templating"`
	Panels []dashPanel `json:"panels"`
}

type dashPanel struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Datasource map[string]any `json:"datasource"`
	Panels     []dashPanel    `json:"panels"` // a collapsed row's panels
	Targets    []struct {
		RefID      string         `json:"refId"`
		Expr       string         `json:"expr"`
		Datasource map[string]any `json:"datasource"`
	} `json:"targets"`
}

// dashQuery is one target of one panel.
type dashQuery struct {
	panel string
	ref   string
	expr  string
}

func readDashboard(t *testing.T) (dashboard, []dashQuery) {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var qs []dashQuery
	var walk func([]dashPanel)
	walk = func(ps []dashPanel) {
		for _, p := range ps {
			walk(p.Panels)
			for _, tg := range p.Targets {
				qs = append(qs, dashQuery{panel: p.Title, ref: tg.RefID, expr: tg.Expr})
			}
		}
	}
	walk(d.Panels)
	return d, qs
}

// allValues maps each template variable a query may use to what Grafana
// sends for its All option: allValue, or `.*` for a variable without one
// (Grafana then sends every value as one regex alternation, which `.*`
// stands in for). The datasource variable is not a query value.
func (d dashboard) allValues() map[string]string {
	vals := map[string]string{}
	for _, v := range d.Templating.List {
		if v.Type == "datasource" {
			continue
		}
		vals[v.Name] = ".*"
		if v.AllValue != "" {
			vals[v.Name] = v.AllValue
		}
	}
	return vals
}

// grafanaVarRE matches Grafana's variable forms: $name, ${name},
// ${name:format} and [[name]].
var grafanaVarRE = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)`)

// expandGrafana substitutes what Grafana would before sending a query:
// $__rate_interval, $__interval and $__range by a fixed window, and each
// template variable by its All value (vars, from allValues).
func expandGrafana(expr, rateInterval string, vars map[string]string) (string, error) {
	var bad []string
	out := grafanaVarRE.ReplaceAllStringFunc(expr, func(m string) string {
		sm := grafanaVarRE.FindStringSubmatch(m)
		name := sm[1] + sm[2] + sm[3]
		switch name {
		case "__rate_interval", "__interval", "__range":
			return rateInterval
		}
		if v, ok := vars[name]; ok {
			return v
		}
		bad = append(bad, m)
		return m
	})
	if len(bad) > 0 {
		return "", fmt.Errorf("unknown Grafana variables %v", bad)
	}
	return out, nil
}

// TestDashboardStatic checks the dashboard's structure without running
// anything: every panel and query goes through the ${datasource} variable
// (a Prometheus datasource), panel ids are unique, every query is non-empty
// and uses only the variables the dashboard defines.
func TestDashboardStatic(t *testing.T) {
	d, qs := readDashboard(t)
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
	}
	if vars["datasource"] != "datasource" {
		t.Errorf("no datasource variable: %v", vars)
	}
	for _, v := range d.Templating.List {
		if v.Name == "datasource" && v.Query != "prometheus" {
			t.Errorf("datasource variable queries %v, want prometheus", v.Query)
		}
	}
	for _, name := range []string{"job", "instance", "model"} {
		if _, ok := vars[name]; !ok {
			t.Errorf("template variable %s is missing", name)
		}
	}
	ids := map[int]string{}
	var walk func([]dashPanel)
	walk = func(ps []dashPanel) {
		for _, p := range ps {
			if prev, ok := ids[p.ID]; ok {
				t.Errorf("panel id %d used by %q and %q", p.ID, prev, p.Title)
			}
			ids[p.ID] = p.Title
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if uid, _ := p.Datasource["uid"].(string); uid != "${datasource}" {
				t.Errorf("panel %q: datasource %v, want uid ${datasource}", p.Title, p.Datasource)
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no queries", p.Title)
			}
			for _, tg := range p.Targets {
				if uid, _ := tg.Datasource["uid"].(string); uid != "${datasource}" {
					t.Errorf("panel %q query %s: datasource %v, want uid ${datasource}", p.Title, tg.RefID, tg.Datasource)
				}
			}
		}
	}
	walk(d.Panels)
	for _, q := range qs {
		if strings.TrimSpace(q.expr) == "" {
			t.Errorf("panel %q query %s is empty", q.panel, q.ref)
			continue
		}
		if _, err := expandGrafana(q.expr, "30s", d.allValues()); err != nil {
			t.Errorf("panel %q query %s: %v", q.panel, q.ref, err)
		}
	}
}

// TestDashboard runs the built collector on the demo fleet (each mode the
// demo offers), a real Prometheus scraping its :8081 with honor_labels and
// evaluating our rules, and then evaluates every query of the dashboard:
// each must succeed and return at least one series. Every recording rule
// must produce a series too.
func TestDashboard(t *testing.T) {
	d, qs := readDashboard(t)
	rs := readRules(t)

	fleet := startDemoFleet(t)
	c := startCollector(t, collectorOptions{Receiver: fleet.receiverYAML("1s")})
	prom := startPrometheusWithRules(t, fmt.Sprintf("127.0.0.1:%d", c.PromPort), rulesFile)

	// rate() over the substituted $__rate_interval needs two samples in its
	// window; give it a full window of 1s scrapes so the queries see what a
	// dashboard open for a while would.
	const rateInterval = "20s"
	waitFor(t, 90*time.Second, "22s of scrapes in Prometheus", func() error {
		r, err := prom.query(`count_over_time(up{job="sglang"}[22s])`)
		if err != nil {
			return err
		}
		if len(r) == 0 || r[0].Value < 20 {
			return fmt.Errorf("result %v", r)
		}
		return nil
	})

	type outcome struct {
		series int
		nan    int
		err    error
	}
	eval := func(expr string) outcome {
		r, err := prom.query(expr)
		if err != nil {
			return outcome{err: err}
		}
		o := outcome{series: len(r)}
		for _, s := range r {
			if math.IsNaN(s.Value) {
				o.nan++
			}
		}
		return o
	}

	// Some families are created on their first event (failures, evictions),
	// so an empty answer is asked again until the deadline before it counts.
	deadline := time.Now().Add(60 * time.Second)
	pending := map[int]bool{}
	results := make([]outcome, len(qs))
	for i := range qs {
		pending[i] = true
	}
	for len(pending) > 0 {
		for i := range pending {
			expr, err := expandGrafana(qs[i].expr, rateInterval, d.allValues())
			if err != nil {
				results[i] = outcome{err: err}
				delete(pending, i)
				continue
			}
			results[i] = eval(expr)
			if results[i].err != nil || results[i].series > 0 {
				delete(pending, i)
			}
		}
		if len(pending) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Second)
	}

	var empty, nanOnly []string
	failed := 0
	for i, q := range qs {
		o := results[i]
		switch {
		case o.err != nil:
			failed++
			t.Errorf("panel %q query %s failed: %v\n  %s", q.panel, q.ref, o.err, q.expr)
		case o.series == 0:
			empty = append(empty, fmt.Sprintf("panel %q query %s: %s", q.panel, q.ref, q.expr))
		case o.nan == o.series:
			nanOnly = append(nanOnly, fmt.Sprintf("panel %q query %s", q.panel, q.ref))
		}
	}
	for _, e := range empty {
		t.Errorf("no data: %s", e)
	}
	// A NaN is an answer (0/0: nothing happened in the window), so it does
	// not fail the test, but the list says which panels the demo leaves idle.
	if len(nanOnly) > 0 {
		sort.Strings(nanOnly)
		t.Logf("%d queries answer only NaN (no events in the window):\n  %s", len(nanOnly), strings.Join(nanOnly, "\n  "))
	}
	t.Logf("evaluated %d queries of %s on demo modes %v: %d failed, %d empty",
		len(qs), dashboardFile, fleet.modes, failed, len(empty))

	// Query variables: label_values(selector, label) must find values, or
	// the variable's dropdown is empty.
	labelValuesRE := regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		def, _ := v.Query.(map[string]any)
		q, _ := def["query"].(string)
		m := labelValuesRE.FindStringSubmatch(q)
		if m == nil {
			t.Errorf("variable %s: query %q is not label_values(selector, label)", v.Name, q)
			continue
		}
		sel, err := expandGrafana(m[1], rateInterval, d.allValues())
		if err != nil {
			t.Errorf("variable %s: %v", v.Name, err)
			continue
		}
		r, err := prom.query(sel)
		values := map[string]bool{}
		for _, s := range r {
			if s.Metric[m[2]] != "" {
				values[s.Metric[m[2]]] = true
			}
		}
		if err != nil || len(values) == 0 {
			t.Errorf("variable %s: %s has no %s values (%v)", v.Name, sel, m[2], err)
		} else {
			t.Logf("variable %s: %d values", v.Name, len(values))
		}
	}

	// Recording rules are evaluated every second; one that has not produced
	// a series after a few rounds never will on this fleet.
	for _, r := range rs.records {
		var o outcome
		for end := time.Now().Add(10 * time.Second); ; time.Sleep(time.Second) {
			if o = eval(r); o.err != nil || o.series > 0 || time.Now().After(end) {
				break
			}
		}
		switch {
		case o.err != nil:
			t.Errorf("recording rule %s: %v", r, o.err)
		case o.series == 0:
			t.Errorf("recording rule %s produced no series", r)
		default:
			t.Logf("recording rule %s: %d series (%d NaN)", r, o.series, o.nan)
		}
	}
}
