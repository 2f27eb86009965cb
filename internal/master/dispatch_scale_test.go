package master

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/runner"
	"github.com/horde-load/horde/internal/scenario"
)

// sortedIDs returns n worker ids in the order the master keeps them.
func sortedIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("w%05d", i)
	}
	return out
}

// checkSplit fails unless every class of users totals its share of the
// plan's count and every worker runs an even share of each class and of
// the total, within one user.
func checkSplit(t *testing.T, d *dispatcher, workers []string, users int, plan *runner.Plan) {
	t.Helper()
	want := plan.CountsByIndex(users)
	got := make([]int, len(want))
	lo, hi := math.MaxInt, 0
	for c := range want {
		clo, chi := math.MaxInt, 0
		for _, id := range workers {
			k := d.assigned[id][c]
			got[c] += k
			clo, chi = min(clo, k), max(chi, k)
		}
		if chi-clo > 1 {
			t.Fatalf("%d users on %d workers: class %d from %d to %d per worker", users, len(workers), c, clo, chi)
		}
	}
	for _, id := range workers {
		lo, hi = min(lo, d.total(id)), max(hi, d.total(id))
	}
	if !slices.Equal(got, want) || hi-lo > 1 {
		t.Fatalf("%d users on %d workers: classes %v (want %v), totals %d..%d", users, len(workers), got, want, lo, hi)
	}
}

// Ten thousand workers: a new target, a tenth of the workers lost, a
// smaller target — each time the split is exact, at once (an unlimited
// spawn rate), and each step costs a pass over the workers.
func TestDispatchTenThousandWorkers(t *testing.T) {
	t.Parallel()
	cs := classes("Browser", 3, 0, "Mobile", 2, 0, "Api", 1, 0)
	plan := runner.NewPlan(cs)
	now := time.Unix(1000, 0)
	d := newDispatcher(plan, len(cs), now)
	workers := sortedIDs(10000)
	d.setTarget(100000, math.Inf(1), now)
	settle(t, d, &now, workers)
	checkSplit(t, d, workers, 100000, plan)

	var left []string
	for i, id := range workers {
		if i%10 != 3 {
			left = append(left, id)
		}
	}
	settle(t, d, &now, left)
	checkSplit(t, d, left, 100000, plan)

	d.setTarget(54321, math.Inf(1), now)
	settle(t, d, &now, left)
	checkSplit(t, d, left, 54321, plan)
}

// shrinkGreedy is the dispatcher's rule stated plainly: stop one user at
// a time, from the first worker furthest above its ideal.
func shrinkGreedy(global []int, ideal shares, rows [][]int) {
	for c := range global {
		excess := -global[c]
		for _, a := range rows {
			excess += a[c]
		}
		for ; excess > 0; excess-- {
			best, bestSurplus := -1, math.MinInt
			for i, a := range rows {
				if a[c] == 0 {
					continue
				}
				if s := a[c] - ideal.of(i, c); s > bestSurplus {
					best, bestSurplus = i, s
				}
			}
			rows[best][c]--
		}
	}
}

// shrink stops exactly the users the one-at-a-time rule stops, computed
// by levels instead of one user at a time.
func TestDispatchShrinkIsTheGreedyRule(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		nw, nc := 1+r.IntN(8), 1+r.IntN(3)
		rows, ref := make([][]int, nw), make([][]int, nw)
		global := make([]int, nc)
		for i := range rows {
			rows[i] = make([]int, nc)
			for c := range rows[i] {
				rows[i][c] = r.IntN(12)
				global[c] += rows[i][c]
			}
			ref[i] = slices.Clone(rows[i])
		}
		for c := range global {
			global[c] = r.IntN(global[c] + 1) // fewer users than assigned
		}
		ideal := newShares(global, nw)
		d := &dispatcher{nclass: nc}
		d.shrink(global, ideal, rows)
		shrinkGreedy(global, ideal, ref)
		for i := range rows {
			if !slices.Equal(rows[i], ref[i]) {
				t.Fatalf("global %v over %d workers: shrink gives %v, the rule %v", global, nw, rows, ref)
			}
		}
	}
}

// A step queues the targets of the workers whose users changed and wakes
// none of their senders while it holds the master's lock: woken one by
// one under it, ten thousand senders took the core from the step, which
// held up every report meanwhile (150–300 ms a step in bench-scale at
// 10,000 workers) and then waited stepShare times that before the next
// one. Run wakes the outboxes dispatch returns once the lock is free; a
// stop's likewise.
func TestDispatchWakesNoSenderUnderTheLock(t *testing.T) {
	t.Parallel()
	m, err := New(Options{Scenario: &scenario.Scenario{Users: classes("A", 1, 0, "B", 2, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	const workers, users = 300, 1000
	boxes := map[*outbox]bool{}
	for _, id := range sortedIDs(workers) {
		_, _, box := m.admit(&pb.Hello{WorkerId: id}, func() {})
		boxes[box] = true
	}
	for box := range boxes { // what admitting them queued
		for box.take() != nil {
		}
		select {
		case <-box.ready:
		default:
		}
	}
	if err := m.Start(TestParams{Users: users, SpawnRate: 1e9, Host: "http://127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	_, queued := m.dispatch()
	if len(queued) != workers {
		t.Fatalf("a step that gave every worker users queued %d targets, want %d", len(queued), workers)
	}
	total := 0
	for _, box := range queued {
		if !boxes[box] {
			t.Fatal("dispatch returned an outbox that is no worker's")
		}
		select {
		case <-box.ready:
			t.Fatal("dispatch woke a worker's sender itself, under the master's lock")
		default:
		}
		msg := box.take()
		if msg.GetTarget() == nil {
			t.Fatalf("the outbox dispatch returned holds %v, not a target", msg)
		}
		for _, k := range msg.GetTarget().Users {
			total += int(k)
		}
	}
	if total != users {
		t.Errorf("the queued targets start %d users, want %d", total, users)
	}

	// A stop too: Stop wakes the senders once it let go of the lock.
	m.mu.Lock()
	_, queued = m.stopWorkersLocked()
	m.mu.Unlock()
	if len(queued) != workers {
		t.Fatalf("a stop queued %d targets, want %d", len(queued), workers)
	}
	for _, box := range queued {
		select {
		case <-box.ready:
			t.Fatal("the stop woke a worker's sender itself, under the master's lock")
		default:
		}
		if msg := box.take(); !msg.GetTarget().GetStop() {
			t.Fatalf("the outbox of a stop holds %v, not a stop", msg)
		}
	}
}
