package cli

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/report"
	"github.com/horde-load/horde/internal/runstore/pgtest"
	"github.com/horde-load/horde/internal/stats"
	"github.com/horde-load/horde/internal/target"
	"github.com/horde-load/horde/internal/target/targettest"
)

// pgShared is one PostgreSQL server for this package's history tests.
var pgShared pgtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	pgShared.Close()
	os.Exit(code)
}

// historyScript requests /delay/MS under one row name, so that two runs
// with different delays compare row by row.
func historyScript(t *testing.T, ms int) string {
	return writeStar(t, `
def work(u):
    u.get("/delay/`+strconv.Itoa(ms)+`", name="/work")

users = [user(name="U", tasks=[work], wait=constant(0.05))]
`)
}

type listedRun = report.StoredRun

func listRuns(t *testing.T, env map[string]string, store string) []listedRun {
	t.Helper()
	r := horde(t, env, "runs", "list", "--store", store, "--json")
	if r.code != 0 {
		t.Fatalf("runs list: exit %d\n%s", r.code, r.stderr)
	}
	var runs []listedRun
	if err := json.Unmarshal([]byte(r.stdout), &runs); err != nil {
		t.Fatalf("runs list --json: %v\n%s", err, r.stdout)
	}
	return runs
}

// Three runs against horde target, the third slower by 50 ms a request:
// all three are listed with the summaries they ended with, compare shows
// the third's p95 higher by what the server added, and a threshold on
// the baseline fails it (exit 1, stored as failed) — in SQLite and in
// PostgreSQL.
func TestRunHistory(t *testing.T) {
	t.Parallel()
	stores := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "runs.db") },
		"postgres": func(t *testing.T) string { return pgShared.Get(t).NewDB(t) },
	}
	for name, store := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			loc := store(t)
			env := map[string]string{"XDG_DATA_HOME": t.TempDir()}
			host, _ := targettest.Start(t, target.Options{})
			fast, slow := historyScript(t, 20), historyScript(t, 70)
			dir := t.TempDir()
			run := func(script, out string, extra ...string) result {
				args := append([]string{"run", script, "-H", host, "--headless", "-u", "4", "-r", "100", "-t", "3s",
					"--store", loc, "--tag", "suite=history", "--json", filepath.Join(dir, out)}, extra...)
				return horde(t, env, args...)
			}
			for _, out := range []string{"a.json", "b.json"} {
				if r := run(fast, out); r.code != 0 {
					t.Fatalf("exit %d\n%s", r.code, r.stderr)
				}
			}
			runs := listRuns(t, env, loc)
			if len(runs) != 2 {
				t.Fatalf("%d runs listed, want 2: %+v", len(runs), runs)
			}
			baseline := runs[0].ID // the newest: b
			r := run(slow, "c.json", "--baseline", baseline[:8], "--threshold", "p95 < baseline * 1.10")
			if r.code != exitcode.Failed {
				t.Fatalf("the slower run against its baseline: exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			mustContain(t, "stdout", r.stdout, "p95 < baseline * 1.10", "from the baseline (run "+baseline[:8]+")")

			runs = listRuns(t, env, loc)
			if len(runs) != 3 {
				t.Fatalf("%d runs listed, want 3", len(runs))
			}
			for i, out := range []string{"c.json", "b.json", "a.json"} { // newest first
				s := readSummary(t, filepath.Join(dir, out))
				got := runs[i]
				wantStatus := map[int]string{0: "failed", 1: "passed", 2: "passed"}[i]
				if got.Status != wantStatus || got.Metrics.Requests != s.Totals.Requests || got.Metrics.Failures != s.Totals.Failures ||
					math.Abs(got.Metrics.P95Ms-s.Totals.Latency["p95"]) > 1e-9 || got.Labels["suite"] != "history" {
					t.Errorf("run %d (%s): %+v; want %s with the summary's %d requests, p95 %v", i, out, got, wantStatus, s.Totals.Requests, s.Totals.Latency["p95"])
				}
			}

			// compare: the third run's p95 against the second's, as their
			// summaries gave them; the server took 20 and 70 ms per request,
			// so the third is worse (by about 50 ms on a quiet machine; a
			// loaded one adds its own delay to both).
			r = horde(t, env, "runs", "compare", runs[1].ID, runs[0].ID, "--store", loc, "--json")
			if r.code != 0 {
				t.Fatalf("runs compare: exit %d\n%s", r.code, r.stderr)
			}
			var c report.Comparison
			if err := json.Unmarshal([]byte(r.stdout), &c); err != nil {
				t.Fatal(err)
			}
			d := c.Totals.Latency.P95
			b, o := readSummary(t, filepath.Join(dir, "b.json")).Totals.Latency["p95"], readSummary(t, filepath.Join(dir, "c.json")).Totals.Latency["p95"]
			if d.Base != b || d.Other != o || math.Abs(d.Diff-(o-b)) > 1e-9 || d.Direction != report.Worse || b < 20 || o < 70 {
				t.Errorf("p95 %v → %v (%+.1f ms, %s); want the summaries' %v → %v (server delays 20 and 70 ms), worse",
					d.Base, d.Other, d.Diff, d.Direction, b, o)
			}
			r = horde(t, env, "runs", "compare", runs[1].ID[:8], "latest", "--store", loc)
			mustContain(t, "compare output", r.stdout, "/work", "worse")
		})
	}
}

// The percentiles of a stored run, recomputed from its stored
// histograms, are the ones its summary reported.
func TestStoredHistogramsGiveTheSummaryPercentiles(t *testing.T) {
	t.Parallel()
	host, _ := targettest.Start(t, target.Options{})
	loc := filepath.Join(t.TempDir(), "runs.db")
	script := writeStar(t, `
def a(u):
    u.get("/random-delay?min=1&max=40")
    u.get("/delay/5")

users = [user(name="U", tasks=[a])]
`)
	if r := horde(t, nil, "run", script, "-H", host, "--headless", "-u", "4", "-t", "2s", "--store", loc); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	r := horde(t, nil, "runs", "export", "latest", "--store", loc)
	if r.code != 0 {
		t.Fatalf("runs export: exit %d\n%s", r.code, r.stderr)
	}
	var x struct {
		Summary    report.Summary            `json:"summary"`
		Histograms []stats.EndpointHistogram `json:"histograms"`
		History    report.History            `json:"history"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &x); err != nil {
		t.Fatal(err)
	}
	want := map[string]stats.Latency{stats.TotalName: x.Summary.Totals.Latency}
	for _, e := range x.Summary.Endpoints {
		want[e.Method+" "+e.Name] = e.Latency
	}
	if len(x.Histograms) != len(want) || len(x.History.Points) < 2 {
		t.Fatalf("%d histograms for %d rows, %d history points", len(x.Histograms), len(want), len(x.History.Points))
	}
	for _, h := range x.Histograms {
		key := h.Method + " " + h.Name
		if h.Method == "" {
			key = h.Name
		}
		hist, err := stats.HistogramFromData(h.Data)
		if err != nil {
			t.Fatal(err)
		}
		// As the summary writes a percentile: the histogram's value in ms,
		// rounded to the µs (a quantile that falls on half a µs, 8031.5,
		// is 8.031 there: rounding the µs first would say 8.032).
		q := func(p float64) float64 { return math.Round(hist.Quantile(p)/1000*1000) / 1000 }
		got := stats.Latency{Min: float64(hist.Min()) / 1000, P50: q(0.5), P90: q(0.9), P95: q(0.95), P99: q(0.99),
			P999: q(0.999), Max: float64(hist.Max()) / 1000}
		w := want[key]
		w.Avg = 0
		if got != w {
			t.Errorf("%s: recomputed %+v, summary %+v", key, got, w)
		}
	}
}

// A store that goes away mid-run loses nothing: the run is kept aside and
// written when the store is back.
func TestPostgresRestartedDuringARun(t *testing.T) {
	t.Parallel()
	srv, err := pgtest.Start() // its own server: the shared one must keep running
	if err != nil {
		pgShared.Get(t) // skips with the reason when PostgreSQL is not installed
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	loc := srv.NewDB(t)
	env := map[string]string{"XDG_DATA_HOME": t.TempDir()}
	host, served := targettest.Start(t, target.Options{})
	script := historyScript(t, 5)
	out := filepath.Join(t.TempDir(), "s.json")
	done := make(chan result, 1)
	go func() {
		done <- horde(t, env, "run", script, "-H", host, "--headless", "-u", "2", "-t", "6s", "--store", loc,
			"--store-every", "1s", "--json", out)
	}()
	time.Sleep(1500 * time.Millisecond)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	runs := listRuns(t, env, loc)
	s := readSummary(t, out)
	if len(runs) != 1 || runs[0].Status != "passed" || runs[0].Metrics.Requests != s.Totals.Requests ||
		s.Totals.Requests != served.Counts()["GET /delay/5"] {
		t.Fatalf("runs %+v; want one passed run with the %d requests of the summary (the target served %d)",
			runs, s.Totals.Requests, served.Counts()["GET /delay/5"])
	}
}

// A baseline that does not exist is bad input, with the runs that could
// be meant.
func TestUnknownBaselineListsCandidates(t *testing.T) {
	t.Parallel()
	host, srv := targettest.Start(t, target.Options{})
	loc := filepath.Join(t.TempDir(), "runs.db")
	script := historyScript(t, 1)
	if r := horde(t, nil, "run", script, "-H", host, "--headless", "-u", "1", "-t", "1s", "--store", loc); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	before := srv.Counts()["GET /delay/1"]
	runs := listRuns(t, nil, loc)
	r := horde(t, nil, "run", script, "-H", host, "--headless", "-u", "1", "-t", "1s", "--store", loc,
		"--baseline", "ffff", "--threshold", "p95 < baseline * 1.1")
	if r.code != exitcode.BadInput {
		t.Fatalf("exit %d, want 2\n%s", r.code, r.stderr)
	}
	mustContain(t, "stderr", r.stderr, "--baseline", "ffff", runs[0].ID[:8])
	if srv.Counts()["GET /delay/1"] != before {
		t.Error("requests were sent before the bad baseline was refused")
	}
}
