package web

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/master"
)

// TestSwarm drives Locust's POST /swarm the way Locust's UI and scripts
// post it, and checks the reply's keys and the parameters the controller
// got.
func TestSwarm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		body        string
		want        master.TestParams
		wantRunTime any // the reply's run_time; nil when absent
	}{
		{"Locust UI form", formBody("user_count", "10", "spawn_rate", "2", "host", "http://127.0.0.1:9", "run_time", ""),
			master.TestParams{Users: 10, SpawnRate: 2, Host: "http://127.0.0.1:9"}, nil},
		{"run time", formBody("user_count", "10", "spawn_rate", "2", "run_time", "1h30m"),
			master.TestParams{Users: 10, SpawnRate: 2, RunTime: 90 * time.Minute}, 5400.0},
		{"run time in seconds", formBody("user_count", "1", "spawn_rate", "1", "run_time", "20"),
			master.TestParams{Users: 1, SpawnRate: 1, RunTime: 20 * time.Second}, 20.0},
		{"unknown fields ignored", formBody("user_count", "4", "spawn_rate", "1", "user_classes", "WebsiteUser", "shape_class", "Default"),
			master.TestParams{Users: 4, SpawnRate: 1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			ctl := newFakeControl(clk)
			rec := do(t, New(Options{Control: ctl, Now: clk.Now}), "POST", "/swarm", tt.body, form)
			if rec.Code != http.StatusOK {
				t.Fatalf("POST /swarm = %d: %s", rec.Code, rec.Body)
			}
			m := decode(t, rec)
			checkKeys(t, "swarm reply", m, map[string]string{"success": "bool", "message": "string", "host": "string"})
			if m["success"] != true || m["message"] != "Swarming started" {
				t.Errorf("reply = %v, want success and Locust's message", m)
			}
			if m["run_time"] != tt.wantRunTime {
				t.Errorf("run_time = %v, want %v", m["run_time"], tt.wantRunTime)
			}
			if want := tt.want.Host; want != "" && m["host"] != want {
				t.Errorf("host = %v, want %s", m["host"], want)
			}
			starts, _, _ := ctl.calls()
			if len(starts) != 1 || !reflect.DeepEqual(starts[0], tt.want) {
				t.Errorf("Start calls = %+v, want one with %+v", starts, tt.want)
			}
		})
	}
}

func TestSwarmBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct{ body, wantMsg string }{
		{formBody("spawn_rate", "1"), "user_count is required"},
		{formBody("user_count", "ten", "spawn_rate", "1"), "user_count: want a whole number"},
		{formBody("user_count", "10", "spawn_rate", "0"), "spawn_rate: want more than 0"},
		{formBody("user_count", "10", "spawn_rate", "1", "run_time", "1x"), "run_time: invalid duration"},
	}
	for _, tt := range tests {
		ctl := newFakeControl(newClock())
		rec := do(t, New(Options{Control: ctl}), "POST", "/swarm", tt.body, form)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("POST /swarm %s = %d, want 400", tt.body, rec.Code)
			continue
		}
		m := decode(t, rec)
		if m["success"] != false || !strings.Contains(m["message"].(string), tt.wantMsg) {
			t.Errorf("POST /swarm %s: reply %v, want success false and %q", tt.body, m, tt.wantMsg)
		}
		if _, ok := m["host"]; !ok {
			t.Errorf("reply %v has no host, as Locust's has", m)
		}
	}
}

func TestLocustStopAndReset(t *testing.T) {
	t.Parallel()
	ctl, clk := runningControl(t)
	h := New(Options{Control: ctl, Now: clk.Now})
	rec := do(t, h, "GET", "/stats/reset", "", nil)
	if rec.Code != 200 || rec.Body.String() != "ok" {
		t.Errorf("GET /stats/reset = %d %q, want 200 ok", rec.Code, rec.Body)
	}
	if n := ctl.Snapshot(clk.Now()).Total.Requests; n != 0 {
		t.Errorf("%d requests after /stats/reset, want 0", n)
	}
	rec = do(t, h, "GET", "/stop", "", nil)
	m := decode(t, rec)
	if rec.Code != 200 || len(m) != 2 || m["success"] != true || m["message"] != "Test stopped" {
		t.Errorf("GET /stop = %d %v, want Locust's {success: true, message: Test stopped}", rec.Code, m)
	}
	if _, stops, resets := ctl.calls(); stops != 1 || resets != 1 {
		t.Errorf("stops %d resets %d, want 1 and 1", stops, resets)
	}
}
