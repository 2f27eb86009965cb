package script

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"go.starlark.net/starlark"

	"github.com/horde-load/horde/internal/scenario"
)

// waitValue is a wait strategy made by between(), constant(),
// constant_pacing() or constant_throughput(). It is immutable.
type waitValue struct {
	w    scenario.Wait
	desc string
}

func (w *waitValue) String() string        { return w.desc }
func (w *waitValue) Type() string          { return "wait" }
func (w *waitValue) Truth() starlark.Bool  { return true }
func (w *waitValue) Freeze()               {}
func (w *waitValue) Hash() (uint32, error) { return starlark.String(w.desc).Hash() }

// seconds reads a non-negative, finite number of seconds.
func seconds(fn, arg string, v number) error {
	if !(v >= 0) || math.IsInf(float64(v), 0) {
		return fmt.Errorf("%s: %s must be a number of seconds >= 0, got %v", fn, arg, float64(v))
	}
	return nil
}

// between implements between(min_s, max_s).
func between(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var lo, hi number
	if err := starlark.UnpackArgs("between", args, kwargs, "min_s", &lo, "max_s", &hi); err != nil {
		return nil, err
	}
	if err := seconds("between", "min_s", lo); err != nil {
		return nil, err
	}
	if err := seconds("between", "max_s", hi); err != nil {
		return nil, err
	}
	if hi < lo {
		return nil, fmt.Errorf("between: max_s (%v) is less than min_s (%v)", float64(hi), float64(lo))
	}
	return &waitValue{
		w:    scenario.Between{Min: lo.duration(), Max: hi.duration()},
		desc: fmt.Sprintf("between(%v, %v)", float64(lo), float64(hi)),
	}, nil
}

// constant implements constant(s).
func constant(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s number
	if err := starlark.UnpackArgs("constant", args, kwargs, "s", &s); err != nil {
		return nil, err
	}
	if err := seconds("constant", "s", s); err != nil {
		return nil, err
	}
	return &waitValue{w: scenario.Constant{D: s.duration()}, desc: fmt.Sprintf("constant(%v)", float64(s))}, nil
}

// constantPacing implements constant_pacing(s).
func constantPacing(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s number
	if err := starlark.UnpackArgs("constant_pacing", args, kwargs, "s", &s); err != nil {
		return nil, err
	}
	if err := seconds("constant_pacing", "s", s); err != nil {
		return nil, err
	}
	return &waitValue{w: scenario.ConstantPacing{D: s.duration()}, desc: fmt.Sprintf("constant_pacing(%v)", float64(s))}, nil
}

// constantThroughput implements constant_throughput(n): at most n tasks
// per second per user.
func constantThroughput(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var n number
	if err := starlark.UnpackArgs("constant_throughput", args, kwargs, "n", &n); err != nil {
		return nil, err
	}
	if !(n > 0) || math.IsInf(float64(n), 0) {
		return nil, fmt.Errorf("constant_throughput: n must be a number of tasks per second > 0, got %v", float64(n))
	}
	return &waitValue{w: scenario.ConstantThroughput(float64(n)), desc: fmt.Sprintf("constant_throughput(%v)", float64(n))}, nil
}

// waitOf reads user(wait=...) and taskset(wait=...): a built-in wait, a
// function of the user returning seconds (Locust's wait_time method), or
// None.
func (l *loader) waitOf(v starlark.Value) (scenario.Wait, error) {
	switch w := v.(type) {
	case *waitValue:
		return w.w, nil
	case starlark.NoneType:
		return nil, nil
	case starlark.Callable:
		if _, isTask := w.(*tasksetValue); isTask {
			break
		}
		if err := checkArity("wait", w); err != nil {
			return nil, err
		}
		return &funcWait{eng: l.eng, fn: w}, nil
	}
	return nil, fmt.Errorf("wait must be between(), constant(), constant_pacing(), constant_throughput() "+
		"or a function of the user returning seconds, got %s", v.Type())
}

// funcWait is a wait the script computes: fn(u) returns the seconds to
// wait after each task.
type funcWait struct {
	eng *engine
	fn  starlark.Callable
}

var _ scenario.UserWait = (*funcWait)(nil)

// Next is never used: the runner asks NextFor.
func (w *funcWait) Next(time.Duration, *rand.Rand) time.Duration { return 0 }

// NextFor calls fn(u) on the user's thread.
func (w *funcWait) NextFor(ctx context.Context, vu *scenario.VU, _ time.Duration) (time.Duration, error) {
	st, err := w.eng.state(vu)
	if err != nil {
		return 0, err
	}
	v, err := st.eval(ctx, w.fn)
	if err != nil {
		return 0, err
	}
	var s number
	if err := s.Unpack(v); err != nil || !(s >= 0) || math.IsInf(float64(s), 0) {
		return 0, fmt.Errorf("wait function %s must return a number of seconds >= 0, got %s", w.fn.Name(), v)
	}
	return s.duration(), nil
}
