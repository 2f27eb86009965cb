package script

import (
	"fmt"
	"math"
	gotime "time"

	starlarktime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/horde-load/horde/internal/starlib"
)

// newTimeModule is the `time` module: go.starlark.net's (now, time,
// parse_duration, the duration constants…) plus what locustfiles use
// from Python's — sleep(s), time() as float seconds, monotonic(),
// perf_counter() and strftime(format, t=None).
func newTimeModule() *starlarkstruct.Module {
	members := make(starlark.StringDict, len(starlarktime.Module.Members)+5)
	for k, v := range starlarktime.Module.Members {
		members[k] = v
	}
	now := members["now"]
	construct := members["time"]
	origin := gotime.Now()
	members["time"] = starlark.NewBuiltin("time", func(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		// time() is Python's clock; with arguments it is the Starlark constructor.
		if len(args) == 0 && len(kwargs) == 0 {
			t, err := currentTime(th, now)
			if err != nil {
				return nil, err
			}
			return starlark.Float(float64(t.UnixNano()) / 1e9), nil
		}
		return starlark.Call(th, construct, args, kwargs)
	})
	monotonic := func(name string) *starlark.Builtin {
		return starlark.NewBuiltin(name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
				return nil, err
			}
			return starlark.Float(gotime.Since(origin).Seconds()), nil
		})
	}
	members["monotonic"] = monotonic("monotonic")
	members["perf_counter"] = monotonic("perf_counter")
	members["sleep"] = starlark.NewBuiltin("sleep", timeSleep)
	members["strftime"] = starlark.NewBuiltin("strftime", func(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var format string
		var tv starlark.Value = starlark.None
		if err := starlark.UnpackArgs("strftime", args, kwargs, "format", &format, "t?", &tv); err != nil {
			return nil, err
		}
		var t gotime.Time
		switch v := tv.(type) {
		case starlark.NoneType:
			var err error
			if t, err = currentTime(th, now); err != nil {
				return nil, err
			}
		case starlarktime.Time:
			t = gotime.Time(v)
		case starlark.Int, starlark.Float:
			f, _ := starlark.AsFloat(v)
			if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e11 {
				return nil, fmt.Errorf("strftime: t = %v seconds since the epoch is out of range", f)
			}
			t = gotime.Unix(0, int64(f*1e9))
		default:
			return nil, fmt.Errorf("strftime: t must be a time (time.now()), seconds since the epoch or None, got %s", tv.Type())
		}
		s, err := starlib.Strftime(format, t)
		if err != nil {
			return nil, fmt.Errorf("strftime: %w", err)
		}
		return starlark.String(s), nil
	})
	return &starlarkstruct.Module{Name: "time", Members: members}
}

// currentTime asks the Starlark time module's now(), so that time(),
// strftime() and now() read the same clock.
func currentTime(th *starlark.Thread, now starlark.Value) (gotime.Time, error) {
	v, err := starlark.Call(th, now, nil, nil)
	if err != nil {
		return gotime.Time{}, err
	}
	return gotime.Time(v.(starlarktime.Time)), nil
}

// timeSleep implements time.sleep(seconds): in a task or hook it is the
// user's own u.sleep, ended by the user's stop; elsewhere there is no user
// to pause.
func timeSleep(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	st := current(th)
	if st == nil {
		return nil, fmt.Errorf("time.sleep: there is no user to pause here (at load time, or in shape(t)): call time.sleep or u.sleep(seconds) inside a task or hook")
	}
	return userSleep(th, st.eng.methods["sleep"].BindReceiver(st.user), args, kwargs)
}
