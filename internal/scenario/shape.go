package scenario

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// LoadTarget is the load a Shape asks for at one moment of a test.
type LoadTarget struct {
	// Users is the closed model's user count, or the open model's pool
	// of users when Rate > 0 (0 there: keep the test's pool).
	Users int
	// SpawnRate is how many users per second are started or stopped to
	// reach Users (0: at once).
	SpawnRate float64
	// Rate > 0 selects the open model: task iterations started per second.
	Rate float64
	// Ramp moves the open model's rate linearly to Rate over this long.
	Ramp time.Duration
	// Classes names the user classes to run (nil: all of them), as
	// Locust's shape returns user_classes per stage.
	Classes []string
}

// Shape is load that changes during a test: a list of stages, or a
// script's shape(t) function. The master asks it once a second.
type Shape interface {
	// At returns the target at elapsed time t since the test started,
	// with users running now; ok is false when the test must end.
	At(t time.Duration, users int) (target LoadTarget, ok bool, err error)
	// Describe says in a few words what the shape does at t, for the UI
	// and the summary: "stage 2 of 3: ramp to 100 users over 30s".
	Describe(t time.Duration) string
}

// Stage is one step of a staged test, as in k6: the load moves linearly
// from the previous stage's level (the first from zero) to this stage's
// over its Duration, so that at the stage's end it is exactly there.
// A stage sets either Users (closed model) or Rate (open model).
type Stage struct {
	Duration time.Duration
	// Users is the user count at the end of the stage; -1 when the stage
	// sets a rate (it may then also set Users: the pool).
	Users int
	// Rate is the arrivals per second at the end of the stage; -1 when
	// unset (a closed-model stage).
	Rate float64
}

// Stages is a Shape made of consecutive stages.
type Stages []Stage

// ErrBadStages wraps every refusal of NewStages.
var ErrBadStages = errors.New("invalid stages")

// NewStages checks stages: at least one, positive durations, each with
// users or a rate, all of the same model.
func NewStages(st []Stage) (Stages, error) {
	if len(st) == 0 {
		return nil, fmt.Errorf("%w: no stages", ErrBadStages)
	}
	open := st[0].Rate >= 0
	for i, s := range st {
		switch {
		case s.Duration <= 0:
			return nil, fmt.Errorf("%w: stage %d: duration must be > 0, got %v", ErrBadStages, i+1, s.Duration)
		case s.Rate < 0 && s.Users < 0:
			return nil, fmt.Errorf("%w: stage %d sets neither users nor rate", ErrBadStages, i+1)
		case math.IsNaN(s.Rate) || math.IsInf(s.Rate, 0):
			return nil, fmt.Errorf("%w: stage %d: rate %v", ErrBadStages, i+1, s.Rate)
		case (s.Rate >= 0) != open:
			return nil, fmt.Errorf("%w: stage %d: every stage sets users (closed model) or every stage sets a rate (open model), not a mix", ErrBadStages, i+1)
		}
	}
	return Stages(st), nil
}

// stageAt returns the index of the stage running at t, or len(s) when
// every stage is over, and when that stage started.
func (s Stages) stageAt(t time.Duration) (int, time.Duration) {
	var start time.Duration
	for i, st := range s {
		if t < start+st.Duration {
			return i, start
		}
		start += st.Duration
	}
	return len(s), start
}

// At implements Shape. During a closed-model stage the target is the
// stage's users with the spawn rate that gets there exactly at its end
// (0, at once, for a single user);
// during an open-model stage, its rate with a ramp over what is left of
// the stage. After the last stage the test ends.
func (s Stages) At(t time.Duration, _ int) (LoadTarget, bool, error) {
	i, start := s.stageAt(t)
	if i == len(s) {
		return LoadTarget{}, false, nil
	}
	st := s[i]
	if st.Rate >= 0 {
		return LoadTarget{Rate: st.Rate, Users: max(st.Users, 0), Ramp: start + st.Duration - t}, true, nil
	}
	prev := 0
	if i > 0 {
		prev = s[i-1].Users
	}
	diff := st.Users - prev
	if diff < 0 {
		diff = -diff
	}
	// n users take (n-1)/rate seconds (the first starts at once): the
	// rate that gets there at the stage's end, from what is left of it (a
	// caller that looks a little late still arrives on time).
	var rate float64
	if left := (start + st.Duration - t).Seconds(); diff > 1 && left > 0 {
		rate = float64(diff-1) / left
	}
	return LoadTarget{Users: st.Users, SpawnRate: rate}, true, nil
}

// Describe implements Shape.
func (s Stages) Describe(t time.Duration) string {
	i, _ := s.stageAt(t)
	if i == len(s) {
		return fmt.Sprintf("stages: all %d done", len(s))
	}
	st := s[i]
	what := fmt.Sprintf("%d users", st.Users)
	if st.Rate >= 0 {
		what = fmt.Sprintf("%g/s", st.Rate)
	}
	return fmt.Sprintf("stage %d of %d: to %s over %v", i+1, len(s), what, st.Duration)
}
