package master

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/scenario"
)

// A staged test follows its stages second by second and ends with them.
func TestShapeDrivesTheTest(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	at := func(d time.Duration) time.Time { mu.Lock(); defer mu.Unlock(); now = t0.Add(d); return now }
	stages, err := scenario.NewStages([]scenario.Stage{
		{Duration: 10 * time.Second, Users: 100, Rate: -1},
		{Duration: 10 * time.Second, Users: 100, Rate: -1},
		{Duration: 5 * time.Second, Users: 0, Rate: -1},
	})
	if err != nil {
		t.Fatal(err)
	}
	sc := &scenario.Scenario{Shape: stages, Users: []*scenario.UserClass{{Name: "U", Weight: 1, Host: "http://127.0.0.1:1",
		Tasks: []scenario.Task{{Name: "t", Weight: 1, Fn: func(context.Context, *scenario.VU) error { return nil }}}}}}
	m, err := New(Options{Scenario: sc, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(TestParams{Users: 1, SpawnRate: 1}); err != nil {
		t.Fatal(err)
	}
	check := func(wantUsers int, wantRate float64, wantDesc string) {
		t.Helper()
		st := m.Status()
		if st.TargetUsers != wantUsers || st.SpawnRate != wantRate || st.Shape != wantDesc {
			t.Errorf("target %d users at %v/s, shape %q; want %d at %v/s, %q", st.TargetUsers, st.SpawnRate, st.Shape, wantUsers, wantRate, wantDesc)
		}
	}
	check(100, 9.9, "stage 1 of 3: to 100 users over 10s")
	if err := m.Start(TestParams{Users: 5, SpawnRate: 1}); err == nil {
		t.Error("an edit of a shaped test was accepted")
	}
	m.untilShape(at(12 * time.Second))
	check(100, 9.9, "stage 2 of 3: to 100 users over 10s") // same users: the ramp is not restarted
	m.untilShape(at(21 * time.Second))
	check(0, 99.0/4, "stage 3 of 3: to 0 users over 5s")
	m.untilShape(at(25 * time.Second))
	deadline := time.Now().Add(5 * time.Second)
	for m.Status().State != StateStopped {
		if time.Now().After(deadline) {
			t.Fatalf("state %s after the last stage, want stopped", m.Status().State)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st := m.Status(); st.Shape != "" || st.ShapeLast != "stages: all 3 done" {
		t.Errorf("shape %q, last %q after the test; want none, and the shape's last word", st.Shape, st.ShapeLast)
	}
}
