package master

import (
	"context"
	"math"
	"testing"

	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/scenario"
)

// lastOpenTarget drains out and returns the last open-model target in it.
func lastOpenTarget(t *testing.T, out *outbox) *pb.Target {
	t.Helper()
	var last *pb.Target
	for msg := out.take(); msg != nil; msg = out.take() {
		if tg := msg.GetTarget(); tg != nil && tg.Open {
			last = tg
		}
	}
	return last
}

// The arrival rate and the pool are split exactly over the workers, and
// re-split when one joins; a stop ends the open model.
func TestOpenModelSplitsRateExactly(t *testing.T) {
	t.Parallel()
	sc := &scenario.Scenario{Users: []*scenario.UserClass{{Name: "U", Weight: 1, Host: "http://127.0.0.1:1",
		Tasks: []scenario.Task{{Name: "t", Weight: 1, Fn: func(context.Context, *scenario.VU) error { return nil }}}}}}
	m, err := New(Options{Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	outs := map[string]*outbox{}
	for _, id := range []string{"a", "b"} {
		_, _, outs[id] = m.admit(&pb.Hello{WorkerId: id}, func() {})
	}
	if err := m.Start(TestParams{Users: 10, Rate: 300}); err != nil {
		t.Fatal(err)
	}
	m.dispatch()
	check := func(want map[string][2]float64) {
		t.Helper()
		sum := 0.0
		for id, w := range want {
			tg := lastOpenTarget(t, outs[id])
			if tg == nil {
				t.Fatalf("worker %s got no open-model target", id)
			}
			if math.Abs(tg.Rate-w[0]) > 1e-9 || float64(tg.MaxUsers) != w[1] {
				t.Errorf("worker %s: rate %v, pool %d; want %v, %v", id, tg.Rate, tg.MaxUsers, w[0], w[1])
			}
			sum += tg.Rate
		}
		if math.Abs(sum-300) > 1e-9 {
			t.Errorf("the shares add up to %v arrivals/s, want 300", sum)
		}
	}
	check(map[string][2]float64{"a": {150, 5}, "b": {150, 5}})
	if st := m.Status(); st.State != StateRunning || st.ArrivalRate != 300 || st.TargetUsers != 10 {
		t.Errorf("status %s, rate %v, pool %d; want running, 300, 10", st.State, st.ArrivalRate, st.TargetUsers)
	}

	_, _, outs["c"] = m.admit(&pb.Hello{WorkerId: "c"}, func() {})
	m.dispatch()
	check(map[string][2]float64{"a": {120, 4}, "b": {90, 3}, "c": {90, 3}})

	m.Stop() // the stop is sent at once; no worker will confirm here
	if st := m.Status(); st.ArrivalRate != 0 || st.State != StateStopping {
		t.Errorf("after the stop: %s, arrival rate %v; want stopping, 0", st.State, st.ArrivalRate)
	}
	m.dispatch()
	for id, out := range outs {
		if tg := lastOpenTarget(t, out); tg != nil {
			t.Errorf("worker %s got an open-model target after the stop: %v", id, tg)
		}
	}
}

func TestStartRefusesBadRate(t *testing.T) {
	t.Parallel()
	sc := &scenario.Scenario{Users: []*scenario.UserClass{{Name: "U", Weight: 1, Host: "http://127.0.0.1:1",
		Tasks: []scenario.Task{{Name: "t", Weight: 1, Fn: func(context.Context, *scenario.VU) error { return nil }}}}}}
	m, err := New(Options{Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []float64{-1, math.NaN(), math.Inf(1)} {
		if err := m.Start(TestParams{Users: 1, Rate: r}); err == nil {
			t.Errorf("rate %v accepted", r)
		}
	}
}
