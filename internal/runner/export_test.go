package runner

import "math"

// Helpers the tests use that the program does not.

// Dropped returns how many arrivals found no free user so far, over the
// runner's life (a new schedule does not reset it).
func (r *Runner) Dropped() int64 { return r.open.dropped.Load() }

// Arrivals returns how many arrivals were started so far (handed to a
// user, not dropped), over the runner's life.
func (r *Runner) Arrivals() int64 { return r.open.arrivals.Load() }

// SetTarget moves the number of users toward n at rate users per second
// (rate ≤ 0 or +Inf: at once), keeping the class mix of the plan. The ramp
// is paced from now: after t seconds it has started or stopped
// 1 + floor(t·rate) users. A new target replaces the ramp in progress.
func (r *Runner) SetTarget(n int, rate float64) {
	n = max(n, 0)
	if m := r.plan.Max(); m >= 0 && n > m {
		r.opts.Logger.Warn("only fixed_count classes: capping users", "requested", n, "max", m)
		n = m
	}
	r.mu.Lock()
	if r.open.active {
		r.mu.Unlock()
		r.opts.Logger.Warn("the runner is in the open model: ignoring a target number of users")
		return
	}
	r.classMode = false
	r.target, r.rate = n, rate
	r.ramp = rampState{start: r.opts.Now(), from: r.placedLocked()}
	r.mu.Unlock()
	r.poke()
}

// Target returns the current target number of users.
func (r *Runner) Target() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.target
}

// ClassCounts returns the running users per class name.
func (r *Runner) ClassCounts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.classes))
	for i, c := range r.classes {
		n := 0
		for _, u := range r.byClass[i] {
			if !u.exited.Load() {
				n++
			}
		}
		out[c.Name] = n
	}
	return out
}

// due returns how many arrivals are due by time t (those due at t too).
func (s *schedule) due(t float64) int64 {
	k := int64(0)
	if i := s.find(t); i >= 0 {
		k = int64(max(math.Floor(s.segs[i].countAt(t))-1, 0))
	}
	// The count gives the answer to within one; at decides exactly.
	for k > 0 {
		if a, ok := s.at(k - 1); ok && a <= t {
			break
		}
		k--
	}
	for {
		if a, ok := s.at(k); !ok || a > t {
			return k
		}
		k++
	}
}

// rateAt returns the arrival rate at time t.
func (s *schedule) rateAt(t float64) float64 {
	if i := s.find(t); i >= 0 {
		return s.segs[i].rateAt(t)
	}
	return 0
}
