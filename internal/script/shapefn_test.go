package script

import (
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/horde-load/horde/internal/buftest"
	"github.com/horde-load/horde/internal/scenario"
)

// loadShape loads a script made of oneUser and src and returns its shape(t).
func loadShape(t *testing.T, o Options, src string) scenario.Shape {
	t.Helper()
	sc, err := loadOpts(t, o, oneUser+src, "u.csv", "a\n1\n")
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if _, ok := sc.Shape.(*shapeFunc); !ok {
		t.Fatalf("Shape is %T, want a shape(t)", sc.Shape)
	}
	return sc.Shape
}

func TestShapeReturns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string // the body of shape(t)
		at   time.Duration
		want scenario.LoadTarget
		ok   bool
		desc string
	}{
		{"users", "return 50", 0, scenario.LoadTarget{Users: 50}, true, "shape(t): 50 users"},
		{"t is float seconds", "return int(t * 10) if type(t) == 'float' else -1", 2500 * time.Millisecond,
			scenario.LoadTarget{Users: 25}, true, "shape(t): 25 users"},
		{"tuple", "return (int(t) * 10, 2.5)", 3 * time.Second, scenario.LoadTarget{Users: 30, SpawnRate: 2.5}, true, "shape(t): 30 users"},
		{"tuple with an int spawn rate", "return (0, 5)", 0, scenario.LoadTarget{Users: 0, SpawnRate: 5}, true, "shape(t): 0 users"},
		{"dict closed", `return {"users": 10, "spawn_rate": 1}`, 0, scenario.LoadTarget{Users: 10, SpawnRate: 1}, true, "shape(t): 10 users"},
		{"dict open", `return {"rate": 200, "ramp": "30s", "users": 500}`, 0,
			scenario.LoadTarget{Users: 500, Rate: 200, Ramp: 30 * time.Second}, true, "shape(t): 200/s"},
		{"dict open, ramp in seconds", `return {"rate": 2.5, "ramp": 1.5}`, 0,
			scenario.LoadTarget{Rate: 2.5, Ramp: 1500 * time.Millisecond}, true, "shape(t): 2.5/s"},
		{"dict rate 0", `return {"rate": 0}`, 0, scenario.LoadTarget{}, true, "shape(t): 0 users"},
		{"None ends the test", "return None", 0, scenario.LoadTarget{}, false, "shape(t): over"},
		{"no return ends the test", "pass", 0, scenario.LoadTarget{}, false, "shape(t): over"},
		{"later None", "if t < 10:\n        return 5\n    return None", 12 * time.Second, scenario.LoadTarget{}, false, "shape(t): over"},
		{"frozen globals are readable", "return LEVELS[int(t) % len(LEVELS)]", time.Second, scenario.LoadTarget{Users: 20}, true, "shape(t): 20 users"},
		{"random works", "return random.randint(1, 1)", 0, scenario.LoadTarget{Users: 1}, true, "shape(t): 1 users"},
		{"env works", "return int(env('N', '7'))", 0, scenario.LoadTarget{Users: 7}, true, "shape(t): 7 users"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sh := loadShape(t, Options{}, "LEVELS = [10, 20]\ndef shape(t):\n    "+tc.body+"\n")
			if d := sh.Describe(0); d != "shape(t)" {
				t.Errorf("Describe before any call: got %q", d)
			}
			got, ok, err := sh.At(tc.at, 0)
			if err != nil {
				t.Fatalf("At: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) || ok != tc.ok {
				t.Errorf("At(%v): got %+v ok=%v, want %+v ok=%v", tc.at, got, ok, tc.want, tc.ok)
			}
			if d := sh.Describe(tc.at); d != tc.desc {
				t.Errorf("Describe: got %q, want %q", d, tc.desc)
			}
		})
	}
}

func TestShapeBadValues(t *testing.T) {
	t.Parallel()
	const forms = `want None, users (an int), a tuple (users, spawn_rate) or (users, spawn_rate, user classes), ` +
		`or a dict with keys among "users", "spawn_rate", "rate", "ramp", "classes"`
	tests := []struct {
		ret, want string
	}{
		{`"x"`, `main.star:4:1: shape(t) returned "x" at t=1.5s: ` + forms},
		{`True`, "returned True at t=1.5s: " + forms},
		{`[1, 2]`, "returned [1, 2] at t=1.5s: " + forms},
		{`-1`, "returned -1 at t=1.5s: users must be an int >= 0 (use int(...) on a float), got -1"},
		{`t * 10`, "returned 15.0 at t=1.5s: users must be an int >= 0 (use int(...) on a float), got 15.0"},
		{`(1,)`, "returned (1,) at t=1.5s: " + forms},
		{`(1, 2, 3)`, "user classes must be a list of user() values or names, got int"},
		{`(1, 2, ["Nobody"])`, `no user class "Nobody" in the script`},
		{`(1, 2, [])`, "the list of user classes is empty"},
		{`(1, 2, 3, 4)`, forms},
		{`(1.5, 2)`, "users must be an int >= 0"},
		{`(1, -2)`, "spawn_rate must be a number >= 0, got -2"},
		{`(1, "fast")`, `spawn_rate must be a number >= 0, got "fast"`},
		{`{}`, `the dict sets neither "users" nor "rate"`},
		{`{"spawn_rate": 2}`, `the dict sets neither "users" nor "rate"`},
		{`{"users": 1, "target": 2}`, `unknown key "target": ` + forms},
		{`{1: 2}`, `unknown key 1: ` + forms},
		{`{"users": 2, "ramp": 1}`, `"ramp" goes with "rate" (the open model)`},
		{`{"rate": 1, "spawn_rate": 2}`, `"spawn_rate" goes with "users" alone (the closed model)`},
		{`{"rate": -1}`, "rate must be a number >= 0, got -1"},
		{`{"rate": float("nan")}`, "rate must be a number >= 0, got nan"},
		{`{"rate": 1, "ramp": "soon"}`, `shape(t): ramp: invalid duration "soon"`},
		{`{"rate": 1, "ramp": -1}`, `shape(t): ramp must be a duration such as "1m30s" or a number of seconds >= 0, got -1`},
		{`list(range(1000))`, "returned [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 2... at t=1.5s"},
		{`"é" * 100`, `returned "` + strings.Repeat("é", 39) + `... at t=1.5s`},
		{`{"users": None}`, "users must be an int >= 0 (use int(...) on a float), got None"},
	}
	for _, tc := range tests {
		t.Run(tc.ret, func(t *testing.T) {
			t.Parallel()
			sh := loadShape(t, Options{}, "x = 1\ndef shape(t):\n    return "+tc.ret+"\n")
			_, ok, err := sh.At(1500*time.Millisecond, 0)
			if err == nil || ok {
				t.Fatalf("got ok=%v err=%v, want an error", ok, err)
			}
			contains(t, err.Error(), tc.want)
			if d := sh.Describe(0); d != "shape(t): failed" {
				t.Errorf("Describe: got %q", d)
			}
		})
	}
}

func TestShapeRuntimeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"division by zero", "return 1 // int(t)", []string{"main.star:5:14: shape(t) failed at t=0s: floored division by zero"}},
		{"fail()", "fail('no shape for you')", []string{"main.star:5:9: shape(t) failed at t=0s: fail: no shape for you"}},
		{"endless loop", "while True:\n        pass", []string{"shape(t) failed at t=0s: Starlark computation cancelled: shape(t) ran more than 5000 steps (an endless loop?)"}},
		{"frozen globals", "LEVELS.append(1)", []string{"cannot append to frozen list"}},
		{"record needs a user", "record('x', 1)", []string{"record: only a task or hook can record a timing"}},
		{"stop_user needs a user", "stop_user()", []string{"stop_user: only a task or hook can stop its user"}},
		{"csv only at load", "return len(csv('u.csv'))", []string{"csv: data files are read at load time"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := "LEVELS = [1]\ndef shape(t):\n    " + tc.body + "\n"
			sh := loadShape(t, Options{MaxShapeSteps: 5000}, src)
			_, ok, err := sh.At(0, 0)
			if err == nil || ok {
				t.Fatalf("got ok=%v err=%v, want an error", ok, err)
			}
			for _, w := range tc.want {
				contains(t, err.Error(), w)
			}
			var re *RuntimeError
			var ee *starlark.EvalError
			if !errors.As(err, &re) || !errors.As(err, &ee) {
				t.Fatalf("error %T %v is not a *RuntimeError over a Starlark error", err, err)
			}
			contains(t, re.Traceback(), "in shape")
			if re.Error() != err.Error() || len(re.Error()) > 300 {
				t.Errorf("message %q", re.Error())
			}
		})
	}
}

// TestShapeCannotRequest: shape(t) runs on the master, where there is no
// user to make requests with; u is not a global, so reaching for it fails
// the load.
func TestShapeCannotRequest(t *testing.T) {
	t.Parallel()
	le := loadErr(t, oneUser+"def shape(t):\n    u.get('/')\n    return 1\n")
	contains(t, le.Error(), "main.star:4:5: undefined: u")
}

// TestShapeRecoversAfterAnError checks that each call runs on a fresh
// thread: a cancelled call does not poison the next one.
func TestShapeRecoversAfterAnError(t *testing.T) {
	t.Parallel()
	sh := loadShape(t, Options{MaxShapeSteps: 5000}, `
def shape(t):
    while t > 5:
        pass
    return int(t)
`)
	steps := []struct {
		at      time.Duration
		users   int
		failing bool
	}{{time.Second, 1, false}, {6 * time.Second, 0, true}, {2 * time.Second, 2, false}, {7 * time.Second, 0, true}, {3 * time.Second, 3, false}}
	for _, s := range steps {
		got, ok, err := sh.At(s.at, 0)
		if s.failing {
			if err == nil {
				t.Errorf("At(%v): no error", s.at)
			}
			continue
		}
		if err != nil || !ok || got.Users != s.users {
			t.Errorf("At(%v): got %+v ok=%v err=%v, want %d users", s.at, got, ok, err, s.users)
		}
	}
}

func TestShapeConcurrentCalls(t *testing.T) {
	t.Parallel()
	sh := loadShape(t, Options{}, "def shape(t):\n    return (int(t), random.uniform(0, 1))\n")
	var wg sync.WaitGroup
	errs := make(chan error, 4*20)
	for g := range 4 {
		wg.Go(func() {
			for i := range 20 {
				at := time.Duration(g*100+i) * time.Second
				got, ok, err := sh.At(at, 0)
				if err != nil || !ok || got.Users != g*100+i {
					errs <- errors.New("wrong target")
				}
				_ = sh.Describe(at)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestShapePrint(t *testing.T) {
	t.Parallel()
	var out buftest.Buffer
	sh := loadShape(t, Options{Stdout: &out}, "def shape(t):\n    print('at', t)\n    return 1\n")
	if _, _, err := sh.At(2*time.Second, 0); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "[shape] at 2.0\n" {
		t.Errorf("print: got %q", got)
	}
}

func TestShapeArities(t *testing.T) {
	t.Parallel()
	for _, def := range []string{
		"def shape(t): return 1\n",
		"def shape(t, scale=2): return scale\n",
		"def shape(*args): return len(args)\n",
		"def shape(t, **kw): return len(kw) + 1\n",
		"shape = lambda t: 1\n",
	} {
		t.Run(def, func(t *testing.T) {
			t.Parallel()
			sh := loadShape(t, Options{}, def)
			if got, ok, err := sh.At(0, 0); err != nil || !ok || got.Users < 1 {
				t.Errorf("At: got %+v ok=%v err=%v", got, ok, err)
			}
		})
	}
}

// TestShapeDocExamples runs the examples of docs/scripting.md.
func TestShapeDocExamples(t *testing.T) {
	t.Parallel()
	spike := loadShape(t, Options{}, `
def shape(t):
    if t > 600:
        return None
    minute = int(t // 60)
    if minute % 2 == 0:
        return (20, 5)
    return {"users": 100, "spawn_rate": 10}
`)
	sine := loadShape(t, Options{}, `
def shape(t):
    if t > 300:
        return None
    return {"rate": 100 + 50 * math.sin(t / 30), "users": 400}
`)
	tests := []struct {
		sh   scenario.Shape
		at   time.Duration
		want scenario.LoadTarget
		ok   bool
	}{
		{spike, 30 * time.Second, scenario.LoadTarget{Users: 20, SpawnRate: 5}, true},
		{spike, 90 * time.Second, scenario.LoadTarget{Users: 100, SpawnRate: 10}, true},
		{spike, 601 * time.Second, scenario.LoadTarget{}, false},
		{sine, 0, scenario.LoadTarget{Users: 400, Rate: 100}, true},
		{sine, 301 * time.Second, scenario.LoadTarget{}, false},
	}
	for _, tc := range tests {
		got, ok, err := tc.sh.At(tc.at, 0)
		if err != nil || ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("At(%v): got %+v ok=%v err=%v, want %+v ok=%v", tc.at, got, ok, err, tc.want, tc.ok)
		}
	}
	sc := mustLoad(t, oneUser+`
s = stage("1m", users=5)
if str(s) != 'stage("1m0s", users=5)':
    fail(str(s))
stages = [
    stage("1m", rate=50, users=200),
    stage("10m", rate=50, users=200),
    stage("2m", rate=200, users=500),
    stage("30s", rate=0, users=500),
]
thresholds = [
    "p95<300ms",
    "GET /profile: p99<800ms",
    threshold("fail_ratio<0.01", abort_on_fail=True),
]
`)
	if d := sc.Shape.Describe(5 * time.Minute); d != "stage 2 of 4: to 50/s over 10m0s" {
		t.Errorf("Describe: got %q", d)
	}
	if len(sc.Thresholds) != 3 || !sc.Thresholds[2].AbortOnFail {
		t.Errorf("thresholds: got %+v", sc.Thresholds)
	}
}

// def shape(t, s): the current users (s.users), state kept between calls
// (s.state), the classes (s.classes), reset_time(), and classes per stage
// — what Locust's LoadTestShape.tick() can do.
func TestShapeContext(t *testing.T) {
	t.Parallel()
	sc, err := loadSrc(t, `
def a(u): pass
A = user(name="A", tasks=[a])
users = [A, user(name="B", tasks=[a])]

def shape(t, s):
    s.state["calls"] = s.state.get("calls", 0) + 1
    if s.state["calls"] == 2:
        s.reset_time()
    if t < 5:
        return (s.users + 1, 10, [A])
    return {"users": s.state["calls"], "spawn_rate": 1, "classes": s.classes}
`)
	if err != nil {
		t.Fatal(err)
	}
	sh := sc.Shape
	calls := []struct {
		at    time.Duration
		users int
		want  scenario.LoadTarget
	}{
		{1 * time.Second, 4, scenario.LoadTarget{Users: 5, SpawnRate: 10, Classes: []string{"A"}}},
		{10 * time.Second, 5, scenario.LoadTarget{Users: 2, SpawnRate: 1, Classes: []string{"A", "B"}}}, // resets t after this call
		{12 * time.Second, 7, scenario.LoadTarget{Users: 8, SpawnRate: 10, Classes: []string{"A"}}},     // t is 2 now
		{20 * time.Second, 0, scenario.LoadTarget{Users: 4, SpawnRate: 1, Classes: []string{"A", "B"}}},
	}
	for _, c := range calls {
		got, ok, err := sh.At(c.at, c.users)
		if err != nil || !ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("At(%v, %d users) = %+v, %v, %v; want %+v", c.at, c.users, got, ok, err, c.want)
		}
	}
	if d := sh.Describe(0); d != "shape(t): 4 users of A, B" {
		t.Errorf("Describe: %q", d)
	}
}
