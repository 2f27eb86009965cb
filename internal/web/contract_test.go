package web

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/report"
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
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, rec.Body.Bytes(), "", "  "); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		pretty.WriteByte('\n')
		file := filepath.Join(contractDir, name)
		if *update {
			if err := os.WriteFile(file, pretty.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		have, err := os.ReadFile(file)
		if err != nil || !bytes.Equal(have, pretty.Bytes()) {
			t.Errorf("ui/src/contract/%s is not what GET %s serves now (err %v): if the change is meant, "+
				"run go test ./internal/web -run UIContract -update, then make ui-test; the UI must follow", name, path, err)
		}
	}
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
