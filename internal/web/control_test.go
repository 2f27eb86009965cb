package web

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/master"
)

// TestAPITest drives POST /api/v1/test against a fake controller and
// checks what it was asked and what the client got.
func TestAPITest(t *testing.T) {
	t.Parallel()
	idle := func(*master.Status) {}
	running := func(st *master.Status) {
		st.State, st.SpawnRate, st.Started, st.RunTime = master.StateRunning, 4, epoch.Add(-time.Minute), 10*time.Minute
	}
	tests := []struct {
		name   string
		status func(*master.Status)
		body   string
		want   master.TestParams
	}{
		{"all fields", idle, `{"users": 50, "spawn_rate": 10, "run_time": "10m", "host": "http://127.0.0.1:8080"}`,
			master.TestParams{Users: 50, SpawnRate: 10, RunTime: 10 * time.Minute, Host: "http://127.0.0.1:8080"}},
		{"users only: Locust's default rate", idle, `{"users": 3}`, master.TestParams{Users: 3, SpawnRate: 1}},
		{"run_time in seconds", idle, `{"users": 3, "run_time": 90}`, master.TestParams{Users: 3, SpawnRate: 1, RunTime: 90 * time.Second}},
		{"run_time fractional seconds", idle, `{"users": 3, "run_time": "1.5"}`, master.TestParams{Users: 3, SpawnRate: 1, RunTime: 1500 * time.Millisecond}},
		{"numbers as strings", idle, `{"users": "7", "spawn_rate": "2.5"}`, master.TestParams{Users: 7, SpawnRate: 2.5}},
		{"nulls are absent", idle, `{"users": 1, "spawn_rate": null, "host": null, "run_time": null}`, master.TestParams{Users: 1, SpawnRate: 1}},
		{"zero users", idle, `{"users": 0, "spawn_rate": 1}`, master.TestParams{Users: 0, SpawnRate: 1}},
		{"exponent", idle, `{"users": 1e3}`, master.TestParams{Users: 1000, SpawnRate: 1}},
		{"host trimmed", idle, `{"users": 1, "host": " http://x:1 "}`, master.TestParams{Users: 1, SpawnRate: 1, Host: "http://x:1"}},
		{"edit keeps rate and the rest of the run time", running, `{"users": 80}`,
			master.TestParams{Users: 80, SpawnRate: 4, RunTime: 9 * time.Minute}},
		{"edit sets a new run time", running, `{"users": 80, "run_time": "1h"}`,
			master.TestParams{Users: 80, SpawnRate: 4, RunTime: time.Hour}},
		{"edit lifts the run time with 0", running, `{"users": 80, "run_time": 0}`,
			master.TestParams{Users: 80, SpawnRate: 4}},
		{"empty run_time is absent", running, `{"users": 80, "run_time": ""}`,
			master.TestParams{Users: 80, SpawnRate: 4, RunTime: 9 * time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			ctl := newFakeControl(clk)
			ctl.setStatus(tt.status)
			rec := do(t, New(Options{Control: ctl, Now: clk.Now}), "POST", "/api/v1/test", tt.body, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("POST /api/v1/test %s = %d: %s", tt.body, rec.Code, rec.Body)
			}
			if m := decode(t, rec); m["state"] != "spawning" {
				t.Errorf("reply = %v, want state spawning", m)
			}
			starts, _, _ := ctl.calls()
			if len(starts) != 1 || !reflect.DeepEqual(starts[0], tt.want) {
				t.Errorf("Start calls = %+v, want one with %+v", starts, tt.want)
			}
		})
	}
}

func TestAPITestBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct{ body, wantErr string }{
		{``, "empty body"},
		{`{"users": 5`, "not a JSON object"},
		{`[1]`, "not a JSON object"},
		{`null`, "not a JSON object"},
		{`{}`, "users is required"},
		{`{"spawn_rate": 3}`, "users is required"},
		{`{"users": -1}`, "users: want 0 to"},
		{`{"users": 1.5}`, "users: want a whole number"},
		{`{"users": "many"}`, "users: want a whole number"},
		{`{"users": true}`, "users: want a number"},
		{`{"users": 1e12}`, "users: want 0 to"},
		{`{"users": 1e999}`, "users: want a whole number"},
		{`{"users": 5, "spawn_rate": 0}`, "spawn_rate: want more than 0"},
		{`{"users": 5, "spawn_rate": -2}`, "spawn_rate: want more than 0"},
		{`{"users": 5, "spawn_rate": "NaN"}`, "spawn_rate: want a number"},
		{`{"users": 5, "spawn_rate": "Inf"}`, "spawn_rate: want a number"},
		{`{"users": 5, "run_time": "soon"}`, "run_time: invalid duration"},
		{`{"users": 5, "run_time": "-5m"}`, "run_time: invalid duration"},
		{`{"users": 5, "run_time": -3}`, "run_time: invalid duration"},
		{`{"users": 5, "run_time": [1]}`, "run_time: want a number"},
		{`{"users": 5, "host": 8080}`, "host: want a string"},
		{`{"users": 5, "rate": -3}`, `rate: want 0 (closed model)`},
		{`{"users": 5, "rat": 10}`, `unknown field "rat"`},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			t.Parallel()
			ctl := newFakeControl(newClock())
			rec := do(t, New(Options{Control: ctl}), "POST", "/api/v1/test", tt.body, nil)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("POST /api/v1/test %s = %d, want 400: %s", tt.body, rec.Code, rec.Body)
			}
			if msg, _ := decode(t, rec)["error"].(string); !strings.Contains(msg, tt.wantErr) {
				t.Errorf("error = %q, want it to contain %q", msg, tt.wantErr)
			}
			if starts, _, _ := ctl.calls(); len(starts) != 0 {
				t.Errorf("Start was called with %+v on bad input", starts)
			}
		})
	}
}

// TestAPITestRefused checks that the master's own refusals reach the
// client: 400 with the master's message for bad parameters, 500 else.
func TestAPITestRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want int
	}{
		{fmt.Errorf("%w: the host of a running test cannot change; stop it first", master.ErrBadParams), 400},
		{fmt.Errorf("disk on fire"), 500},
	}
	for _, tt := range tests {
		ctl := newFakeControl(newClock())
		ctl.startErr = tt.err
		rec := do(t, New(Options{Control: ctl}), "POST", "/api/v1/test", `{"users": 1}`, nil)
		if rec.Code != tt.want || decode(t, rec)["error"] != tt.err.Error() {
			t.Errorf("Start error %q: %d %s, want %d with the message", tt.err, rec.Code, rec.Body, tt.want)
		}
	}
}

func TestAPIStopAndReset(t *testing.T) {
	t.Parallel()
	ctl, clk := runningControl(t)
	h := New(Options{Control: ctl, Now: clk.Now})
	rec := do(t, h, "POST", "/api/v1/reset", "", nil)
	if rec.Code != 200 || decode(t, rec)["state"] != "running" {
		t.Errorf("POST /api/v1/reset = %d %s, want 200 state running", rec.Code, rec.Body)
	}
	if snap := ctl.Snapshot(clk.Now()); snap.Total.Requests != 0 || len(snap.History) != 0 {
		t.Errorf("after reset: %d requests, %d points, want 0", snap.Total.Requests, len(snap.History))
	}
	rec = do(t, h, "POST", "/api/v1/stop", "", nil)
	if rec.Code != 200 || decode(t, rec)["state"] != "stopping" {
		t.Errorf("POST /api/v1/stop = %d %s, want 200 state stopping", rec.Code, rec.Body)
	}
	if _, stops, resets := ctl.calls(); stops != 1 || resets != 1 {
		t.Errorf("stops %d resets %d, want 1 and 1", stops, resets)
	}
}

func TestControlRoutesReadOnly(t *testing.T) {
	t.Parallel()
	h := New(Options{Source: &fakeSource{}})
	for _, r := range []struct{ method, path string }{
		{"POST", "/api/v1/test"}, {"POST", "/api/v1/stop"}, {"POST", "/api/v1/reset"},
		{"POST", "/swarm"}, {"GET", "/stop"}, {"GET", "/stats/reset"},
	} {
		if rec := do(t, h, r.method, r.path, `{"users": 1}`, nil); rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s %s without a Controller = %d, want 503", r.method, r.path, rec.Code)
		}
	}
}
