package deploytest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// exported is what the master's /metrics really exports, read from
// internal/web/metrics.go: metric names (a histogram's with its _bucket,
// _sum and _count series) and label names.
type exported struct {
	metrics, labels map[string]bool
}

func readExported(t testing.TB) exported {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(repoRoot(t), "internal", "web", "metrics.go"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	e := exported{metrics: map[string]bool{}, labels: map[string]bool{"le": true, "job": true, "instance": true}}
	fields := map[string]string{}
	for _, m := range regexp.MustCompile(`(\w+):\s+d\("(horde_\w+)"`).FindAllStringSubmatch(s, -1) {
		fields[m[1]] = m[2]
		e.metrics[m[2]] = true
	}
	for _, m := range regexp.MustCompile(`NewConstHistogram\w*\(c\.(\w+)`).FindAllStringSubmatch(s, -1) {
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			e.metrics[fields[m[1]]+suf] = true
		}
	}
	for _, m := range regexp.MustCompile(`\[\]string\{([^}]*)\}`).FindAllStringSubmatch(s, -1) {
		for _, l := range regexp.MustCompile(`"(\w+)"`).FindAllStringSubmatch(m[1], -1) {
			e.labels[l[1]] = true
		}
	}
	if strings.Contains(s, "NewProcessCollector") {
		e.metrics["process_cpu_seconds_total"] = true
		e.metrics["process_resident_memory_bytes"] = true
	}
	if len(fields) < 5 || !e.metrics["horde_request_duration_seconds_bucket"] {
		t.Fatalf("internal/web/metrics.go: found only %v (did the way metrics are declared change?)", e.metrics)
	}
	return e
}

var (
	metricRE  = regexp.MustCompile(`\b((?:horde|process|go)_[a-z0-9_]+)\b`)
	byRE      = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	matcherRE = regexp.MustCompile(`[{,]\s*([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)`)
	legendRE  = regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`)
)

// dashboard is the part of a Grafana dashboard the test reads.
type dashboard struct {
	Title, UID string
	Templating struct {
		List []struct{ Name, Type string }
	}
	Panels []struct {
		Title   string
		Targets []struct{ Expr, LegendFormat string }
	}
}

// TestDashboardUsesExportedMetrics: every query of the chart's Grafana
// dashboard names metrics and labels the master exports.
func TestDashboardUsesExportedMetrics(t *testing.T) {
	t.Parallel()
	e := readExported(t)
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "helm", "horde", "files", "dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("dashboard.json: %v", err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) < 5 {
		t.Fatalf("dashboard.json: title %q uid %q, %d panels", d.Title, d.UID, len(d.Panels))
	}
	hasDS := false
	for _, v := range d.Templating.List {
		hasDS = hasDS || (v.Name == "datasource" && v.Type == "datasource")
	}
	if !hasDS {
		t.Errorf("dashboard.json: no datasource variable (the dashboard would be tied to one Prometheus)")
	}
	used := map[string]bool{}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			for _, err := range queryErrors(e, q.Expr, q.LegendFormat, used) {
				t.Errorf("panel %q: %s", p.Title, err)
			}
		}
	}
	for _, m := range []string{"horde_requests_total", "horde_failures_total", "horde_users", "horde_request_duration_seconds_bucket"} {
		if !used[m] {
			t.Errorf("dashboard.json: no panel shows %s", m)
		}
	}
}

func queryErrors(e exported, expr, legend string, used map[string]bool) []string {
	var errs []string
	for _, m := range metricRE.FindAllStringSubmatch(expr, -1) {
		used[m[1]] = true
		if !e.metrics[m[1]] {
			errs = append(errs, "unknown metric "+m[1]+" in "+expr)
		}
	}
	var names []string
	for _, m := range byRE.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(m[1], ",") {
			names = append(names, strings.TrimSpace(l))
		}
	}
	for _, m := range matcherRE.FindAllStringSubmatch(expr, -1) {
		names = append(names, m[1])
	}
	for _, m := range legendRE.FindAllStringSubmatch(legend, -1) {
		names = append(names, m[1])
	}
	for _, l := range names {
		if l != "" && !e.labels[l] {
			errs = append(errs, "unknown label "+l+" in "+expr+" / "+legend)
		}
	}
	return errs
}

// TestQueryCheckCatchesInventedNames: the dashboard check can fail.
func TestQueryCheckCatchesInventedNames(t *testing.T) {
	t.Parallel()
	e := readExported(t)
	tests := []struct{ expr, legend string }{
		{`rate(horde_requests_count[1m])`, ""},
		{`horde_latency_p95`, ""},
		{`sum by (endpoint) (horde_requests_total)`, ""},
		{`horde_users{pod="x"}`, ""},
		{`horde_users`, "{{worker}}"},
	}
	for _, tc := range tests {
		if errs := queryErrors(e, tc.expr, tc.legend, map[string]bool{}); len(errs) == 0 {
			t.Errorf("%s / %s: accepted, want an error", tc.expr, tc.legend)
		}
	}
	if errs := queryErrors(e, `histogram_quantile(0.95, sum by (le, method, name) (rate(horde_request_duration_seconds_bucket{job=~"$job"}[5m])))`, "{{method}} {{name}}", map[string]bool{}); len(errs) > 0 {
		t.Errorf("a valid query: %v", errs)
	}
}

// checkDashboardConfigMap: the chart ships the dashboard for Grafana's
// sidecar, unchanged.
func checkDashboardConfigMap(t *testing.T, r rendering) {
	t.Helper()
	cm, ok := r.get("ConfigMap", "horde-dashboard").(*corev1.ConfigMap)
	if !ok {
		t.Fatal("no ConfigMap horde-dashboard")
	}
	if cm.Labels["grafana_dashboard"] != "1" {
		t.Errorf("dashboard ConfigMap labels %v, want grafana_dashboard=1", cm.Labels)
	}
	want, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "helm", "horde", "files", "dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(cm.Data["horde.json"]) != strings.TrimSpace(string(want)) {
		t.Errorf("dashboard ConfigMap: horde.json is not files/dashboard.json")
	}
}
