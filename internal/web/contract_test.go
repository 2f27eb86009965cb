package web

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/report"
	"github.com/horde-load/horde/internal/runstore"
	"github.com/horde-load/horde/internal/stats"
)

var update = flag.Bool("update", false, "rewrite the UI's contract fixtures (ui/src/contract/) from what the API serves")

// contractDir holds the JSON the UI's tests type-check against
// ui/src/api.ts (ui/src/contract.test.ts): what this package serves,
// written by TestUIContract with -update.
var contractDir = filepath.Join("..", "..", "ui", "src", "contract")

// TestUIContract keeps ui/src/api.ts from drifting from the API: the
// fixtures in ui/src/contract/ must be exactly what the routes the UI
// reads serve now (a test that has every field set), and what the UI
// sends must decode here. `go test ./internal/web -run UIContract -update`
// rewrites them after a deliberate change; the UI's build then type-checks
// them against api.ts.
func TestUIContract(t *testing.T) {
	clk := newClock()
	ctl := newFakeControl(clk)
	ctl.st = master.Status{State: master.StateRunning, Users: 12, TargetUsers: 12, SpawnRate: 4, ArrivalRate: 0,
		Shape: "stage 1 of 2: to 12 users over 3s", ShapeLast: "stage 1 of 2: to 12 users over 3s", UsersPeak: 12,
		Host: "http://127.0.0.1:8080", Started: clk.Now(), RunTime: time.Minute,
		Workers: []master.WorkerStatus{{ID: "w1", Index: 0, Hostname: "node-a", State: master.WorkerRunning, Users: 12,
			Target: 12, CPUPercent: 41.5, RSSBytes: 52_428_800, CPUWarning: true, LastSeen: clk.Now(), RPS: 150}}}
	for sec := range 3 {
		ctl.load("GET", "/", 100, 1, 20*time.Millisecond)
		ctl.load("POST", "/login", 10, 0, 80*time.Millisecond)
		ctl.drop(2)
		ctl.add(&stats.Delta{Exceptions: map[string]stats.ExceptionGroup{
			"boom": {Count: 1, Traceback: "Traceback (most recent call last):\n  s.star:3:5: in index"}}})
		ctl.agg.Tick(clk.Add(time.Second), 12+sec)
	}
	srv := New(Options{Control: ctl, Now: clk.Now, Meta: func() report.Meta {
		return report.Meta{Thresholds: []report.ThresholdResult{
			{Expr: "p95<300ms", Value: 80, Passed: true},
			{Expr: "GET /x: p99<1s", Passed: false, Note: "no requests to GET /x"},
		}}
	}})
	for name, path := range map[string]string{
		"stats.json":   "/api/v1/stats",
		"history.json": "/api/v1/history",
		"report.json":  "/api/v1/report.json",
	} {
		rec := serve(t, srv, http.MethodGet, path)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		checkFixture(t, name, path, rec.Body.Bytes())
	}
	runsContract(t)
	// What the UI sends: the fixture is typed as api.ts's TestRequest on
	// the UI's side, and must be accepted here as it is.
	body, err := os.ReadFile(filepath.Join(contractDir, "test-request.json"))
	if err != nil {
		t.Fatal(err)
	}
	in, err := decodeTestJSON(body)
	if err != nil {
		t.Fatalf("the UI's test request is refused: %v", err)
	}
	p, err := in.params(master.Status{State: master.StateReady}, clk.Now(), apiNames)
	if err != nil {
		t.Fatalf("the UI's test request is refused: %v", err)
	}
	if p.Users != 10 || p.SpawnRate != 2 || p.RunTime != 90*time.Second || p.Rate != 0 || p.Host != "http://127.0.0.1:8080" {
		t.Errorf("the UI's test request decoded as %+v", p)
	}
}

// checkFixture compares what GET path served with the fixture
// ui/src/contract/name, or rewrites the fixture with -update.
func checkFixture(t *testing.T, name, path string, body []byte) {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "", "  "); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	pretty.WriteByte('\n')
	file := filepath.Join(contractDir, name)
	if *update {
		if err := os.WriteFile(file, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile(file)
	if err != nil || !bytes.Equal(have, pretty.Bytes()) {
		t.Errorf("ui/src/contract/%s is not what GET %s serves now (err %v): if the change is meant, "+
			"run go test ./internal/web -run UIContract -update, then make ui-test; the UI must follow", name, path, err)
	}
}

// runsContract writes the run history's fixtures: the list, a run and a
// comparison, from runs stored in a real store. Run ids are random, so
// they are replaced by fixed ones; the store's clock is set by hand (each
// run's writes at its end).
func runsContract(t *testing.T) {
	t.Helper()
	var now time.Time
	st := openRunStore(t, func() time.Time { return now })
	now = epoch.Add(5 * time.Second)
	base := recordRun(t, st, runstore.Info{Started: epoch, Script: "checkout.star", ScriptHash: "sha256:9f2c",
		Host: "http://127.0.0.1:8080", Options: map[string]string{"users": "10", "spawn_rate": "5", "run_time": "5s"},
		Labels: map[string]string{"env": "staging", "build": "41"}, Version: "v1.4.0", Workers: 2}, runstore.StatusPassed, 5, steady)
	now = epoch.Add(time.Hour + 5*time.Second)
	other := recordRun(t, st, runstore.Info{Started: epoch.Add(time.Hour), Script: "checkout.star", ScriptHash: "sha256:9f2c",
		Host: "http://127.0.0.1:8080", Options: map[string]string{"users": "10", "spawn_rate": "5", "run_time": "5s"},
		Labels: map[string]string{"env": "staging", "build": "42"}, Version: "v1.4.0", Workers: 2}, runstore.StatusFailed, 5,
		func(ctl *fakeControl) {
			ctl.loadSpread("GET", "/", 100, 2, 9*time.Millisecond, 31*time.Millisecond)
			ctl.loadSpread("POST", "/login", 9, 0, 40*time.Millisecond, 60*time.Millisecond)
			ctl.loadSpread("GET", "/cart", 20, 0, 12*time.Millisecond, 18*time.Millisecond)
		})
	fixed := strings.NewReplacer(base.id, "a1b2c3d4e5f60718", other.id, "f0e1d2c3b4a59687")
	srv := New(Options{Runs: st})
	for name, path := range map[string]string{
		"runs.json":    "/api/v1/runs",
		"run.json":     "/api/v1/runs/" + other.id,
		"compare.json": "/api/v1/runs/compare?base=" + base.id + "&other=" + other.id,
	} {
		rec := serve(t, srv, http.MethodGet, path)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		checkFixture(t, name, fixed.Replace(path), []byte(fixed.Replace(rec.Body.String())))
	}
}
