package runner

import (
	"math"
	"math/rand/v2"
	"testing"
)

// change is one set call: from time at, move to rate over ramp seconds.
type change struct{ at, rate, ramp float64 }

func build(changes ...change) *schedule {
	s := &schedule{}
	for _, c := range changes {
		s.set(c.at, c.rate, c.ramp)
	}
	return s
}

func TestScheduleDueCounts(t *testing.T) {
	t.Parallel()
	const eps = 1e-9
	tests := []struct {
		name    string
		changes []change
		at      float64
		want    int64
	}{
		{"no rate set", nil, 100, 0},
		{"rate 0", []change{{0, 0, 0}}, 100, 0},
		{"first arrival at the origin", []change{{0, 200, 0}}, 0, 1},
		{"constant 200/s, just under 1 s", []change{{0, 200, 0}}, 1 - eps, 200},
		{"constant 200/s, at 1 s", []change{{0, 200, 0}}, 1, 201},
		{"ramp 0→100/s over 1 s", []change{{0, 100, 1}}, 1 - eps, 50},
		{"ramp then 1 s at 100/s", []change{{0, 100, 1}}, 2 - eps, 150},
		{"100/s then 200/s from 0.5 s", []change{{0, 100, 0}, {0.5, 200, 0}}, 1 - eps, 150},
		{"ramp down 100→0/s over 1 s ends", []change{{0, 100, 0}, {0, 0, 1}}, 100, 50},
		{"ramp cut half-way by rate 0", []change{{0, 100, 1}, {0.5, 0, 0}}, 100, 13},
		{"pause then resume", []change{{0, 10, 0}, {1, 0, 0}, {5, 10, 0}}, 6 - eps, 20},
		{"a second ramp from mid-ramp", []change{{0, 100, 1}, {0.5, 0, 0.5}}, 100, 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := build(tt.changes...).due(tt.at); got != tt.want {
				t.Fatalf("due(%v) = %d, want %d", tt.at, got, tt.want)
			}
		})
	}
}

func TestScheduleConstantRateTimes(t *testing.T) {
	t.Parallel()
	s := build(change{0, 200, 0})
	for k := int64(0); k < 1000; k++ {
		got, ok := s.at(k)
		if !ok || math.Abs(got-float64(k)/200) > 1e-12 {
			t.Fatalf("arrival %d at %v (%v), want %v", k, got, ok, float64(k)/200)
		}
	}
}

// A rate change keeps the count continuous: the first arrival after it
// comes when the count reaches the next whole number, no sooner (burst)
// and no later (gap).
func TestScheduleRateChangeIsContinuous(t *testing.T) {
	t.Parallel()
	s := build(change{0, 10, 0}, change{0.55, 1000, 0}) // 5.5 arrivals counted at 0.55 s
	for k, want := range map[int64]float64{5: 0.5, 6: 0.5505, 7: 0.5515, 106: 0.6505} {
		if got, ok := s.at(k); !ok || math.Abs(got-want) > 1e-9 {
			t.Errorf("arrival %d at %v, want %v", k, got, want)
		}
	}
	// In the 100 ms after the change: 0.1 s × 1000/s arrivals.
	if n := s.due(0.65) - s.due(0.55); n != 100 {
		t.Fatalf("%d arrivals in the 100 ms after raising the rate to 1000/s, want 100", n)
	}
}

func TestScheduleRampTimes(t *testing.T) {
	t.Parallel()
	s := build(change{0, 100, 1}) // N(t) = 50 t² during the ramp
	for _, k := range []int64{0, 1, 2, 12, 49} {
		want := math.Sqrt(float64(k) / 50)
		if got, ok := s.at(k); !ok || math.Abs(got-want) > 1e-9 {
			t.Errorf("arrival %d at %v, want √(k/50) = %v", k, got, want)
		}
	}
	if !s.ramping(0.99) || s.ramping(1) {
		t.Fatalf("ramping at 0.99 s: %v, at 1 s: %v; want true, false", s.ramping(0.99), s.ramping(1))
	}
	if r := s.rateAt(0.5); math.Abs(r-50) > 1e-9 {
		t.Fatalf("rate half-way through the ramp = %v, want 50", r)
	}
	if r := s.rateAt(3); r != 100 {
		t.Fatalf("rate after the ramp = %v, want 100", r)
	}
}

// For any sequence of changes, arrival times only grow, the count of
// arrivals stays within one of the integral of the rate, and forgetting
// the past does not move what is still to come.
func TestScheduleRandomChangesStayConsistent(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := range 100 {
		s := &schedule{}
		at := 0.0
		for range 1 + rng.IntN(6) {
			s.set(at, float64(rng.IntN(500)), float64(rng.IntN(3))*rng.Float64())
			at += rng.Float64() * 2
		}
		end := at + 3
		n := s.due(end)
		prev := -1.0
		for k := range n {
			got, ok := s.at(k)
			if !ok || got < prev || got > end {
				t.Fatalf("trial %d: arrival %d at %v (%v) after %v, end %v", trial, k, got, ok, prev, end)
			}
			prev = got
		}
		for _, x := range []float64{0.3, at / 2, at, end} {
			i := s.find(x)
			if c := s.segs[i].countAt(x); math.Abs(float64(s.due(x))-c) > 1+1e-6 {
				t.Fatalf("trial %d: due(%v) = %d, integral %v", trial, x, s.due(x), c)
			}
		}
		k := n / 2
		want, _ := s.at(k)
		s.forget(k, want)
		if got, _ := s.at(k); got != want || s.due(end) != n {
			t.Fatalf("trial %d: after forget, arrival %d at %v (was %v), due %d (was %d)", trial, k, got, want, s.due(end), n)
		}
	}
}
