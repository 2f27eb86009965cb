package runner

import "math"

// schedule is the arrival schedule of the open model: a rate (arrivals per
// second) that is constant or moves linearly, as a function of the time
// since the test's origin. Arrivals come from the cumulative count
// N(t) = ∫₀ᵗ rate: arrival k (0-based) is due at the first instant after
// which N exceeds k. With a constant rate R from the origin, arrival k is
// due at k/R, the first one at once.
//
// A rate change keeps N continuous, so the schedule has no burst and no
// gap where the rate moves: the next arrival is due when the count reaches
// the next whole number at the new rate. It is pure arithmetic — no clock,
// no goroutine — with times in seconds since the origin.
type schedule struct {
	segs []segment // in time order; the last one never ends
}

// segment is a stretch of the schedule where the rate is
// rate + slope·(t − start), from start until end.
type segment struct {
	start, end float64 // seconds since the origin; end is +Inf for the last
	count      float64 // N(start)
	rate       float64 // the rate at start
	slope      float64 // change of the rate per second
}

func (g segment) countAt(t float64) float64 {
	d := t - g.start
	return g.count + g.rate*d + g.slope*d*d/2
}

func (g segment) rateAt(t float64) float64 {
	return max(g.rate+g.slope*(t-g.start), 0)
}

// timeOf returns the instant within the segment after which N exceeds k,
// or false when that is not before the segment's end.
func (g segment) timeOf(k float64) (float64, bool) {
	d := max(k-g.count, 0)
	var tau float64
	switch {
	case d == 0:
		if g.rate <= 0 && g.slope <= 0 {
			return 0, false
		}
	case g.slope == 0:
		if g.rate <= 0 {
			return 0, false
		}
		tau = d / g.rate
	default:
		// Solve rate·τ + slope·τ²/2 = d for the smallest τ ≥ 0, in the form
		// that stays exact when slope is tiny or negative.
		disc := g.rate*g.rate + 2*g.slope*d
		if disc < 0 {
			return 0, false // a falling rate that never gets there
		}
		den := g.rate + math.Sqrt(disc)
		if den <= 0 {
			return 0, false
		}
		tau = 2 * d / den
	}
	t := g.start + tau
	if t >= g.end {
		return 0, false
	}
	return t, true
}

// set moves the rate, from time at on, linearly from its value at that
// instant to rate over ramp seconds (0: at once), then keeps it. What was
// scheduled before at is kept. The first call is the origin when at is 0.
func (s *schedule) set(at, rate, ramp float64) {
	rate = max(rate, 0)
	var cur, from float64
	if i := s.find(at); i >= 0 {
		cur, from = s.segs[i].countAt(at), s.segs[i].rateAt(at)
		s.segs[i].end = at
		s.segs = s.segs[:i+1]
		if s.segs[i].start >= at {
			s.segs = s.segs[:i] // nothing happened in it yet
		}
	}
	if ramp > 0 && rate != from {
		s.segs = append(s.segs,
			segment{start: at, end: at + ramp, count: cur, rate: from, slope: (rate - from) / ramp},
			segment{start: at + ramp, end: math.Inf(1), count: cur + (from+rate)/2*ramp, rate: rate})
		return
	}
	s.segs = append(s.segs, segment{start: at, end: math.Inf(1), count: cur, rate: rate})
}

// find returns the index of the segment holding time t (the last one that
// starts at or before t), or -1 when t is before every segment.
func (s *schedule) find(t float64) int {
	for i := len(s.segs) - 1; i >= 0; i-- {
		if s.segs[i].start <= t {
			return i
		}
	}
	return -1
}

// at returns when arrival k (0-based) is due, or false when it never is
// at the rates set so far.
func (s *schedule) at(k int64) (float64, bool) {
	kf := float64(k)
	for _, g := range s.segs {
		if !math.IsInf(g.end, 1) && g.countAt(g.end) <= kf {
			continue // the count does not pass k in this segment
		}
		if t, ok := g.timeOf(kf); ok {
			return t, true
		}
	}
	return 0, false
}

// ramping reports whether a ramp is still moving the rate at time t.
func (s *schedule) ramping(t float64) bool {
	for _, g := range s.segs {
		if g.slope != 0 && g.end > t {
			return true
		}
	}
	return false
}

// forget drops the segments that ended by time t and hold no arrival from
// k on, so a long test with many rate changes keeps a short schedule.
func (s *schedule) forget(k int64, t float64) {
	n := 0
	for n < len(s.segs)-1 {
		g := s.segs[n]
		if g.end > t || g.countAt(g.end) > float64(k) {
			break
		}
		n++
	}
	s.segs = s.segs[n:]
}
