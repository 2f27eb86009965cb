package master

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/scenario"
)

// stagesShape returns targets[int(t/10s)], then ends.
type stagesShape []scenario.LoadTarget

func (s stagesShape) At(t time.Duration, _ int) (scenario.LoadTarget, bool, error) {
	i := int(t / (10 * time.Second))
	if i >= len(s) {
		return scenario.LoadTarget{}, false, nil
	}
	return s[i], true, nil
}
func (s stagesShape) Describe(time.Duration) string { return "stages" }

// Locust's staging_user_classes example: a stage that names classes adds
// its new users from them while the running ones stay; a stage naming
// none keeps the last classes; a ramp down stops the newest users first.
func TestShapeUserClassesAsLocust(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var mu sync.Mutex
	now := t0
	at := func(d time.Duration) time.Time { mu.Lock(); defer mu.Unlock(); now = t0.Add(d); return now }
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	task := []scenario.Task{{Name: "t", Weight: 1, Fn: func(context.Context, *scenario.VU) error { return nil }}}
	shape := stagesShape{
		{Users: 10, Classes: []string{"A"}},
		{Users: 50, Classes: []string{"B"}},
		{Users: 100, Classes: []string{"A"}},
		{Users: 30},
		{Users: 10},
		{Users: 1},
	}
	sc := &scenario.Scenario{Shape: shape, Users: []*scenario.UserClass{
		{Name: "A", Weight: 1, Host: "http://127.0.0.1:1", Tasks: task},
		{Name: "B", Weight: 1, Host: "http://127.0.0.1:1", Tasks: task},
	}}
	m, err := New(Options{Scenario: sc, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(TestParams{Users: 1, SpawnRate: 1}); err != nil {
		t.Fatal(err)
	}
	want := []map[string]int{
		{"A": 10, "B": 0}, {"A": 10, "B": 40}, {"A": 60, "B": 40}, {"A": 10, "B": 20}, {"A": 10, "B": 0}, {"A": 1, "B": 0},
	}
	for stage, w := range want {
		if stage > 0 {
			m.untilShape(at(time.Duration(stage)*10*time.Second + time.Millisecond))
		}
		m.mu.Lock()
		m.disp.current = m.disp.target // the ramp is done (no worker needs to be there for the mix)
		got := m.disp.plan.Counts(m.disp.target)
		m.mu.Unlock()
		if got["A"] != w["A"] || got["B"] != w["B"] {
			t.Errorf("stage %d: %v, want %v (as Locust)", stage+1, got, w)
		}
	}
}
