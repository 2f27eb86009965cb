package scenario

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// ErrStopUser ends the user that returns it, as Locust's StopUser does.
var ErrStopUser = errors.New("stop user")

// UserWait is a Wait that asks the user how long to wait: a script's own
// function of the user (Locust's wait_time method). The runner calls
// NextFor instead of Next; an error is a script error, and no wait.
type UserWait interface {
	Wait
	NextFor(ctx context.Context, vu *VU, taskDur time.Duration) (time.Duration, error)
}

// Between waits a uniformly random time in [Min, Max].
type Between struct{ Min, Max time.Duration }

// Constant waits the same time after every task.
type Constant struct{ D time.Duration }

// ConstantPacing starts tasks every D: it waits D minus the task's run time.
type ConstantPacing struct{ D time.Duration }

var (
	_ Wait = Between{}
	_ Wait = Constant{}
	_ Wait = ConstantPacing{}
)

// Next implements Wait.
func (b Between) Next(_ time.Duration, r *rand.Rand) time.Duration {
	if b.Max <= b.Min {
		return b.Min
	}
	return b.Min + time.Duration(r.Int64N(int64(b.Max-b.Min)+1))
}

// Next implements Wait.
func (c Constant) Next(time.Duration, *rand.Rand) time.Duration { return c.D }

// Next implements Wait.
func (c ConstantPacing) Next(taskDur time.Duration, _ *rand.Rand) time.Duration {
	if taskDur >= c.D {
		return 0
	}
	return c.D - taskDur
}

// ConstantThroughput runs at most n tasks per second per user.
func ConstantThroughput(n float64) Wait {
	if n <= 0 {
		return Constant{}
	}
	return ConstantPacing{D: time.Duration(float64(time.Second) / n)}
}
