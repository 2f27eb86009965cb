package master

import (
	"math"
	"slices"
	"time"

	"github.com/horde-load/horde/internal/runner"
)

// dispatcher decides how many users of each class every worker runs. It
// is the whole of horde's distribution policy, pure and clock-driven:
//
//   - The test's user count ramps toward the target at the spawn rate,
//     paced from the start of the ramp (after t seconds, 1 + floor(t·rate)
//     users), and the class mix at every count is the runner's Plan, so
//     fixed_count and weights hold across the cluster exactly.
//   - Each class is split evenly over the live workers, with the
//     remainders rotated so that worker totals differ by at most one.
//   - Starting users costs a token from a bucket filled at the spawn rate
//     (one second of burst), for ramps and rebalancing alike: a worker
//     that joins takes over users at the spawn rate, not all at once
//     (Locust #2332), and the users it takes over are stopped elsewhere
//     only as it starts them, so the total holds while users move.
type dispatcher struct {
	plan    *runner.Plan
	nclass  int
	target  int
	rate    float64
	start   time.Time
	from    int
	tokens  float64
	refill  time.Time
	current int // the ramp's user count at the last step

	assigned map[string][]int // worker id → users per class
}

func newDispatcher(plan *runner.Plan, nclass int, now time.Time) *dispatcher {
	return &dispatcher{plan: plan, nclass: nclass, assigned: map[string][]int{}, refill: now, start: now}
}

// setPlan changes the class mix (a shape that runs other user classes);
// the next steps move the workers' users to it.
func (d *dispatcher) setPlan(p *runner.Plan) { d.plan = p }

// setTarget starts a ramp from the current count toward n users at rate.
func (d *dispatcher) setTarget(n int, rate float64, now time.Time) {
	if m := d.plan.Max(); m >= 0 && n > m {
		n = m
	}
	d.refillTokens(now)
	d.target, d.rate, d.start, d.from = max(n, 0), rate, now, d.current
	if d.unlimited() {
		return
	}
	d.tokens = max(d.tokens, 1) // the first user of a ramp starts at once
}

func (d *dispatcher) unlimited() bool { return d.rate <= 0 || math.IsInf(d.rate, 1) }

func (d *dispatcher) refillTokens(now time.Time) {
	if !d.unlimited() {
		d.tokens = min(d.tokens+d.rate*now.Sub(d.refill).Seconds(), max(d.rate, 1))
	}
	d.refill = now
}

// rampCount is the user count the ramp has reached at now, and when the
// next step is due (-1: the ramp is over).
func (d *dispatcher) rampCount(now time.Time) (int, time.Duration) {
	diff := d.target - d.from
	if diff == 0 || d.unlimited() {
		return d.target, -1
	}
	done := min(abs(diff), 1+int(now.Sub(d.start).Seconds()*d.rate))
	n := d.from + done
	if diff < 0 {
		n = d.from - done
	}
	if done == abs(diff) {
		return n, -1
	}
	at := d.start.Add(time.Duration(float64(done) / d.rate * float64(time.Second)))
	return n, max(at.Sub(now), time.Millisecond)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// step moves the assignment toward the ideal for workers (sorted ids of
// the live workers) at now. It returns the workers whose assignment
// changed and how long until the next step is due (-1: nothing pending).
func (d *dispatcher) step(now time.Time, workers []string) (changed []string, next time.Duration) {
	for id := range d.assigned {
		if !slices.Contains(workers, id) {
			delete(d.assigned, id) // gone: its users are gone with it
		}
	}
	for _, id := range workers {
		if d.assigned[id] == nil {
			d.assigned[id] = make([]int, d.nclass)
		}
	}
	n, next := d.rampCount(now)
	d.current = n
	if len(workers) == 0 {
		return nil, next
	}
	global := d.plan.CountsByIndex(n)
	ideal := split(global, workers)
	before := map[string][]int{}
	for id, a := range d.assigned {
		before[id] = slices.Clone(a)
	}
	d.refillTokens(now)
	pending := d.grow(ideal, workers)
	d.shrink(global, ideal, workers)
	for _, id := range workers {
		if !slices.Equal(before[id], d.assigned[id]) {
			changed = append(changed, id)
		}
	}
	if pending && (next < 0 || next > d.tokenWait()) {
		next = d.tokenWait()
	}
	return changed, next
}

// grow starts users where workers are below their ideal, as far as the
// tokens allow. It reports whether some could not be started yet.
func (d *dispatcher) grow(ideal map[string][]int, workers []string) (pending bool) {
	for c := range d.nclass {
		for _, id := range workers {
			need := ideal[id][c] - d.assigned[id][c]
			if need <= 0 {
				continue
			}
			if !d.unlimited() {
				need = min(need, int(d.tokens))
				d.tokens -= float64(need)
			}
			d.assigned[id][c] += need
			if d.assigned[id][c] < ideal[id][c] {
				pending = true
			}
		}
	}
	return pending
}

// shrink stops users so that each class is back to its global count,
// taking them from the workers furthest above their ideal.
func (d *dispatcher) shrink(global []int, ideal map[string][]int, workers []string) {
	for c := range d.nclass {
		excess := -global[c]
		for _, id := range workers {
			excess += d.assigned[id][c]
		}
		for ; excess > 0; excess-- {
			best, bestSurplus := "", math.MinInt
			for _, id := range workers {
				if d.assigned[id][c] == 0 {
					continue
				}
				if s := d.assigned[id][c] - ideal[id][c]; s > bestSurplus {
					best, bestSurplus = id, s
				}
			}
			d.assigned[best][c]--
		}
	}
}

func (d *dispatcher) tokenWait() time.Duration {
	missing := 1 - (d.tokens - math.Floor(d.tokens))
	return max(time.Duration(missing/d.rate*float64(time.Second)), time.Millisecond)
}

// split divides each class's users over workers: base share each, the
// remainders to the next workers in turn, continuing across classes so
// that no worker's total is more than one above another's.
func split(global []int, workers []string) map[string][]int {
	out := make(map[string][]int, len(workers))
	for _, id := range workers {
		out[id] = make([]int, len(global))
	}
	w := len(workers)
	offset := 0
	for c, n := range global {
		for i, id := range workers {
			out[id][c] = n / w
			if (i-offset+w)%w < n%w {
				out[id][c]++
			}
		}
		offset = (offset + n%w) % w
	}
	return out
}

// totals sums the assignment of each worker.
func (d *dispatcher) total(id string) int {
	n := 0
	for _, k := range d.assigned[id] {
		n += k
	}
	return n
}
