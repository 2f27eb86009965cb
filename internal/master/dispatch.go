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
	rows     [][]int          // assigned of the workers of rowsFor, in order
	rowsFor  []string         // the (sorted) workers of the last step
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
// the live workers) at now. It returns how long until the next step is
// due (-1: nothing pending). Its cost is linear in the workers (times
// the classes, times log of the users moved when shrinking), so that a
// master with ten thousand workers can step many times a second.
func (d *dispatcher) step(now time.Time, workers []string) (next time.Duration) {
	rows := d.rowsOf(workers)
	n, next := d.rampCount(now)
	d.current = n
	if len(workers) == 0 {
		return next
	}
	global := d.plan.CountsByIndex(n)
	ideal := newShares(global, len(workers))
	d.refillTokens(now)
	pending := d.grow(ideal, rows)
	d.shrink(global, ideal, rows)
	if pending && (next < 0 || next > d.tokenWait()) {
		next = d.tokenWait()
	}
	return next
}

// rowsOf returns the assignment of workers, in their order, forgetting
// the workers that are gone (their users are gone with them). The master
// passes the same slice until its workers change, and then the rows of
// the last step are reused.
func (d *dispatcher) rowsOf(workers []string) [][]int {
	if len(workers) == len(d.rowsFor) && (len(workers) == 0 || &workers[0] == &d.rowsFor[0]) {
		return d.rows
	}
	for id := range d.assigned {
		if _, ok := slices.BinarySearch(workers, id); !ok {
			delete(d.assigned, id)
		}
	}
	d.rows = make([][]int, len(workers))
	for i, id := range workers {
		if d.assigned[id] == nil {
			d.assigned[id] = make([]int, d.nclass)
		}
		d.rows[i] = d.assigned[id]
	}
	d.rowsFor = workers
	return d.rows
}

// grow starts users where workers are below their ideal, as far as the
// tokens allow. It reports whether some could not be started yet.
func (d *dispatcher) grow(ideal shares, rows [][]int) (pending bool) {
	for c := range d.nclass {
		for i, a := range rows {
			want := ideal.of(i, c)
			need := want - a[c]
			if need <= 0 {
				continue
			}
			if !d.unlimited() {
				need = min(need, int(d.tokens))
				d.tokens -= float64(need)
			}
			a[c] += need
			if a[c] < want {
				pending = true
			}
		}
	}
	return pending
}

// shrink stops users so that each class is back to its global count,
// taking them from the workers furthest above their ideal (the first ones
// in order among equals): every worker above some level comes down to
// it, and the users still to stop come one each from the first workers
// at that level. The level is found by bisection.
func (d *dispatcher) shrink(global []int, ideal shares, rows [][]int) {
	for c := range d.nclass {
		excess := -global[c]
		lo, hi := 0, math.MinInt // below every reachable surplus; the largest surplus
		for i, a := range rows {
			excess += a[c]
			want := ideal.of(i, c)
			lo = min(lo, -want-1)
			hi = max(hi, a[c]-want)
		}
		if excess <= 0 {
			continue
		}
		// removed is how many users stop when every worker comes down to
		// surplus level (or to no users).
		removed := func(level int) int {
			n := 0
			for i, a := range rows {
				n += min(max(a[c]-ideal.of(i, c)-level, 0), a[c])
			}
			return n
		}
		// The largest level at which at least excess users stop:
		// removed(lo) is every user, removed(hi) none.
		for hi-lo > 1 {
			mid := lo + (hi-lo)/2
			if removed(mid) >= excess {
				lo = mid
			} else {
				hi = mid
			}
		}
		level := lo + 1
		for i, a := range rows {
			r := min(max(a[c]-ideal.of(i, c)-level, 0), a[c])
			a[c] -= r
			excess -= r
		}
		for i, a := range rows {
			if excess == 0 {
				break
			}
			if a[c] > 0 && a[c]-ideal.of(i, c) == level {
				a[c]--
				excess--
			}
		}
	}
}

func (d *dispatcher) tokenWait() time.Duration {
	missing := 1 - (d.tokens - math.Floor(d.tokens))
	return max(time.Duration(missing/d.rate*float64(time.Second)), time.Millisecond)
}

// shares is the even split of each class's users over w workers: base
// users each, one more for rem workers in turn from offset, the turns
// continuing across classes so that no worker's total is more than one
// above another's. of computes a share without building the table.
type shares struct {
	w                 int
	base, rem, offset []int
}

func newShares(global []int, w int) shares {
	s := shares{w: w, base: make([]int, len(global)), rem: make([]int, len(global)), offset: make([]int, len(global))}
	offset := 0
	for c, n := range global {
		s.base[c], s.rem[c], s.offset[c] = n/w, n%w, offset
		offset = (offset + n%w) % w
	}
	return s
}

// of is the share of class c of the i-th worker.
func (s shares) of(i, c int) int {
	if (i-s.offset[c]+s.w)%s.w < s.rem[c] {
		return s.base[c] + 1
	}
	return s.base[c]
}

// totals sums the assignment of each worker.
func (d *dispatcher) total(id string) int {
	n := 0
	for _, k := range d.assigned[id] {
		n += k
	}
	return n
}
