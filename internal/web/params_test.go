package web

import (
	"errors"
	"math"
	"net/url"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/master"
)

// checkParams holds what any accepted input must give: parameters the
// master can run.
func checkParams(t *testing.T, p master.TestParams) {
	t.Helper()
	if p.Users < 0 || p.Users > maxUsers {
		t.Errorf("accepted users %d", p.Users)
	}
	if !(p.SpawnRate > 0) || math.IsInf(p.SpawnRate, 0) || p.SpawnRate > maxSpawnRate {
		t.Errorf("accepted spawn rate %v", p.SpawnRate)
	}
	if p.RunTime < 0 {
		t.Errorf("accepted run time %v", p.RunTime)
	}
}

// FuzzTestInput feeds arbitrary bodies to the JSON of POST /api/v1/test
// and arbitrary forms to Locust's POST /swarm: no input panics, every
// refusal is a 400-class input error, and every acceptance gives
// parameters the master can run.
func FuzzTestInput(f *testing.F) {
	f.Add(`{"users": 50, "spawn_rate": 10, "run_time": "10m", "host": "http://127.0.0.1:8080"}`)
	f.Add(`{"users": "1e3", "run_time": 1.5}`)
	f.Add(`{"users": -0, "spawn_rate": 1e-320}`)
	f.Add("user_count=10&spawn_rate=2&host=http%3A%2F%2Fx&run_time=1h30m")
	f.Add("user_count=1e9&spawn_rate=NaN")
	f.Add(`{"users": 1, "run_time": "9223372036s"}`)
	running := master.Status{State: master.StateRunning, SpawnRate: 3, Started: epoch, RunTime: time.Minute}
	f.Fuzz(func(t *testing.T, s string) {
		check := func(in testInput, err error, names inputNames) {
			if err != nil {
				if !errors.Is(err, errInput) {
					t.Errorf("refusal %v does not wrap errInput", err)
				}
				return
			}
			for _, st := range []master.Status{{}, running} {
				p, err := in.params(st, epoch.Add(30*time.Second), names)
				if err != nil {
					if !errors.Is(err, errInput) {
						t.Errorf("refusal %v does not wrap errInput", err)
					}
					continue
				}
				checkParams(t, p)
			}
		}
		in, err := decodeTestJSON([]byte(s))
		check(in, err, apiNames)
		if form, err := url.ParseQuery(s); err == nil {
			check(decodeSwarmForm(form), nil, locustNames)
		}
	})
}

func TestRunTimeKeptOnEdit(t *testing.T) {
	t.Parallel()
	st := master.Status{State: master.StateRunning, SpawnRate: 1, Started: epoch, RunTime: time.Minute}
	in := testInput{users: field{set: true, v: "5"}}
	tests := []struct {
		now  time.Time
		want time.Duration
	}{
		{epoch.Add(20 * time.Second), 40 * time.Second},
		{epoch.Add(time.Minute), time.Nanosecond}, // due: still stops, never lifted
		{epoch.Add(2 * time.Minute), time.Nanosecond},
	}
	for _, tt := range tests {
		p, err := in.params(st, tt.now, apiNames)
		if err != nil || p.RunTime != tt.want {
			t.Errorf("at %v: run time %v (err %v), want %v", tt.now.Sub(epoch), p.RunTime, err, tt.want)
		}
	}
	st.State = master.StateStopped
	if p, _ := in.params(st, epoch, apiNames); p.RunTime != 0 {
		t.Errorf("a new test after a stopped one inherits run time %v, want none", p.RunTime)
	}
}
