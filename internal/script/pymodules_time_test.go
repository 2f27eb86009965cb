package script

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/scenario"
)

func TestTimeModuleMore(t *testing.T) {
	t.Parallel()
	const at = `t = time.time(year=2024, month=3, day=5, hour=14, minute=7, second=9, nanosecond=123456789, location="UTC")`
	runExprCases(t, []exprCase{
		// time() is Python's clock without arguments, the constructor with them.
		{name: "time() is float seconds", expr: "(type(time.time()), time.time() > 1.7e9)", want: `("float", True)`},
		{name: "time() agrees with now()", expr: "abs(time.time() - time.now().unix_nano / 1e9) < 5", want: "True"},
		{name: "time(...) still constructs", expr: `str(time.time(year=2024, month=1, day=2, location="UTC"))`, want: `"2024-01-02 00:00:00 +0000 UTC"`},
		{name: "starlark time members kept", expr: `(time.parse_duration("1m30s").seconds, type(time.now()), time.second * 2 == time.parse_duration("2s"))`, want: `(90.0, "time.time", True)`},
		{name: "monotonic", setup: "a = time.monotonic()\nb = time.perf_counter()", expr: "(type(a), b >= a)", want: `("float", True)`},
		// strftime
		{name: "strftime all directives", setup: at, expr: `time.strftime("%Y-%m-%d %H:%M:%S.%f %z %Z %a %A %b %B %j %p %y %%", t)`,
			want: `"2024-03-05 14:07:09.123456 +0000 UTC Tue Tuesday Mar March 065 PM 24 %"`},
		{name: "strftime 12-hour and weekdays", setup: at, expr: `time.strftime("%I %w %u %G-W%V", t)`, want: `"02 2 2 2024-W10"`},
		{name: "strftime locale forms", setup: at, expr: `time.strftime("%c|%x|%X", t)`, want: `"Tue Mar  5 14:07:09 2024|03/05/24|14:07:09"`},
		{name: "strftime midnight", expr: `time.strftime("%I%p %H", time.time(year=2024, month=1, day=1, location="UTC"))`, want: `"12AM 00"`},
		{name: "strftime zone", expr: `time.strftime("%H %z %Z", time.time(year=2024, month=7, day=1, hour=12, location="Europe/Paris"))`, want: `"12 +0200 CEST"`},
		{name: "strftime keyword t", setup: at, expr: `time.strftime(format="%Y", t=t)`, want: `"2024"`},
		{name: "strftime of now", expr: `time.strftime("%Y") == str(time.now().year)`, want: "True"},
		{name: "strftime of epoch seconds", expr: `time.strftime("%Y", 86400 * 400)`, want: `"1971"`},
		{name: "strftime literal text", expr: `time.strftime("day %d!", time.time(year=2024, month=1, day=9))`, want: `"day 09!"`},
		{name: "strftime unknown directive", expr: `time.strftime("%Q")`, wantErr: `strftime: format "%Q": unsupported directive %Q (have %a %A`},
		{name: "strftime lone percent", expr: `time.strftime("100%")`, wantErr: `strftime: format "100%" ends with a lone %`},
		{name: "strftime t of the wrong type", expr: `time.strftime("%Y", "2024")`, wantErr: "strftime: t must be a time (time.now()), seconds since the epoch or None, got string"},
		{name: "strftime t out of range", expr: `time.strftime("%Y", 1e300)`, wantErr: "strftime: t = 1e+300 seconds since the epoch is out of range"},
		// sleep at load time
		{name: "sleep at load time", expr: "time.sleep(1)", wantErr: "main.star:2:24: time.sleep: there is no user to pause here (at load time, or in shape(t)): call time.sleep or u.sleep(seconds) inside a task or hook"},
	})
}

func TestTimeSleepInTask(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, call string
		min        time.Duration
		wantErr    string
	}{
		{"float seconds", "time.sleep(0.05)", 50 * time.Millisecond, ""},
		{"keyword", "time.sleep(seconds=0.02)", 20 * time.Millisecond, ""},
		{"zero", "time.sleep(0)", 0, ""},
		{"negative", "time.sleep(-1)", 0, "sleep: seconds must be >= 0, got -1"},
		{"not a number", `time.sleep("1")`, 0, "sleep: for parameter seconds: got string, want int or float"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sc := mustLoad(t, "def t(u):\n    "+tc.call+"\nusers = user(name='U', tasks=[t])\n")
			start := time.Now()
			err := task(t, sc, "t")(t.Context(), newBareVU(1, &fakeRec{}))
			if tc.wantErr != "" {
				contains(t, errString(err), tc.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d < tc.min {
				t.Errorf("slept %v, want at least %v", d, tc.min)
			}
		})
	}
}

// time.sleep in a task or hook is the user's sleep: the user's stop ends
// it at once, as it ends u.sleep.
func TestTimeSleepEndsWhenTheUserStops(t *testing.T) {
	t.Parallel()
	const sleeper = "    record('started', 0)\n    time.sleep(3600)\n    fail('not reached')\n"
	tests := []struct {
		name, src string
		fn        func(*scenario.Scenario) scenario.Func
	}{
		{"task", "def t(u):\n" + sleeper + "users = user(name='U', tasks=[t])\n",
			func(sc *scenario.Scenario) scenario.Func { return sc.Users[0].Tasks[0].Fn }},
		{"on_start", "def start(u):\n" + sleeper + "def t(u): pass\nusers = user(name='U', tasks=[t], on_start=start)\n",
			func(sc *scenario.Scenario) scenario.Func { return sc.Users[0].OnStart }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &fakeRec{}
			vu := newBareVU(1, rec)
			fn := tc.fn(mustLoad(t, tc.src))
			checkStops(t, func(ctx context.Context) error { return fn(ctx, vu) }, rec)
		})
	}
}

func checkStops(t *testing.T, fn func(context.Context) error, rec *fakeRec) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(rec.all()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("never started")
		}
		time.Sleep(time.Millisecond)
	}
	stopAt := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %T %v, want an error that is context.Canceled", err, err)
		}
		if d := time.Since(stopAt); d > 5*time.Second {
			t.Errorf("took %v to stop", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("time.sleep did not end when the user stopped")
	}
}
