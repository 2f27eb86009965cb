package master

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/scenario"
)

// TestStatusRunTime checks Status.RunTime counts the run-time limit from
// the test's start, follows an edit that sets a new limit from now, and
// is 0 without a limit.
func TestStatusRunTime(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	sc := &scenario.Scenario{Users: []*scenario.UserClass{{Name: "U", Weight: 1, Host: "http://127.0.0.1:1",
		Tasks: []scenario.Task{{Name: "t", Weight: 1, Fn: func(context.Context, *scenario.VU) error { return nil }}}}}}
	m, err := New(Options{Scenario: sc, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Status().RunTime; got != 0 {
		t.Errorf("before any test: RunTime %v, want 0", got)
	}
	if err := m.Start(TestParams{Users: 1, SpawnRate: 1, RunTime: 10 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	if got := m.Status().RunTime; got != 10*time.Minute {
		t.Errorf("RunTime %v, want 10m", got)
	}
	mu.Lock()
	now = t0.Add(3 * time.Minute)
	mu.Unlock()
	if err := m.Start(TestParams{Users: 2, SpawnRate: 1, RunTime: 5 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	if got := m.Status().RunTime; got != 8*time.Minute {
		t.Errorf("after an edit at 3m with 5m more: RunTime %v, want 8m from the start", got)
	}
	if err := m.Start(TestParams{Users: 2, SpawnRate: 1}); err != nil {
		t.Fatal(err)
	}
	if got := m.Status().RunTime; got != 0 {
		t.Errorf("after an edit without a limit: RunTime %v, want 0", got)
	}
}
