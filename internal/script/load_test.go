package script

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/scenario"
)

func TestUserClassFields(t *testing.T) {
	t.Parallel()
	sc := mustLoad(t, `
def index(u): pass
def login(u): pass
def bye(u): pass
users = [
    user(name="Web", tasks=[index], weight=3, fixed_count=2, on_start=login, on_stop=bye,
         wait=between(5, 9), host="http://127.0.0.1:1"),
    user("Plain", [index]),
]
`)
	if len(sc.Users) != 2 {
		t.Fatalf("users: got %d, want 2", len(sc.Users))
	}
	w := sc.Users[0]
	if w.Name != "Web" || w.Weight != 3 || w.FixedCount != 2 || w.Host != "http://127.0.0.1:1" {
		t.Errorf("Web: got %+v", w)
	}
	if w.OnStart == nil || w.OnStop == nil {
		t.Error("Web: hooks missing")
	}
	if w.Wait != (scenario.Between{Min: 5 * time.Second, Max: 9 * time.Second}) {
		t.Errorf("Web wait: got %#v", w.Wait)
	}
	p := sc.Users[1]
	if p.Name != "Plain" || p.Weight != 1 || p.FixedCount != 0 || p.OnStart != nil || p.OnStop != nil || p.Wait != nil || p.Host != "" {
		t.Errorf("Plain defaults: got %+v", p)
	}
	if string(sc.Files["main.star"]) == "" || len(sc.Files) != 1 {
		t.Errorf("Files: got %v", sc.Files)
	}
}

func TestLoneUserIsAList(t *testing.T) {
	t.Parallel()
	sc := mustLoad(t, "def a(u): pass\nusers = user(name='One', tasks=[a])\n")
	if len(sc.Users) != 1 || sc.Users[0].Name != "One" {
		t.Fatalf("got %+v", sc.Users)
	}
}

type taskShape struct {
	Name   string
	Weight int
	Tags   []string
}

func TestTaskWeights(t *testing.T) {
	t.Parallel()
	const defs = `
def index(u): pass
def profile(u): pass
def about(u): pass
`
	tests := []struct {
		name  string
		tasks string
		seq   bool
		want  []taskShape
	}{
		{"dict", "{index: 2, profile: 1}", false, []taskShape{{"index", 2, nil}, {"profile", 1, nil}}},
		{"list", "[index, profile]", false, []taskShape{{"index", 1, nil}, {"profile", 1, nil}}},
		{"list repeats add weight", "[index, profile, index, index]", false, []taskShape{{"index", 3, nil}, {"profile", 1, nil}}},
		{"tuple", "(index, profile)", false, []taskShape{{"index", 1, nil}, {"profile", 1, nil}}},
		{"sequence", "sequence([index, profile, index])", true, []taskShape{{"index", 1, nil}, {"profile", 1, nil}, {"index", 1, nil}}},
		{"task weight and tags", `[task(index, weight=5, tags=["web"]), profile]`, false,
			[]taskShape{{"index", 5, []string{"web"}}, {"profile", 1, nil}}},
		{"task name", `[task(index, name="home")]`, false, []taskShape{{"home", 1, nil}}},
		{"task in sequence", `sequence([task(index, tags="a"), about])`, true, []taskShape{{"index", 1, []string{"a"}}, {"about", 1, nil}}},
		{"dict with task key uses the dict weight", `{task(index, tags=["x"]): 4, about: 1}`, false,
			[]taskShape{{"index", 4, []string{"x"}}, {"about", 1, nil}}},
		{"weight 0 is dropped", "{index: 0, profile: 1}", false, []taskShape{{"profile", 1, nil}}},
		{"lambda", "[lambda u: None]", false, []taskShape{{"lambda", 1, nil}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sc := mustLoad(t, defs+"users = [user(name='U', tasks="+tc.tasks+")]\n")
			uc := sc.Users[0]
			if uc.Sequential != tc.seq {
				t.Errorf("Sequential: got %v, want %v", uc.Sequential, tc.seq)
			}
			var got []taskShape
			for _, tk := range uc.Tasks {
				if tk.Fn == nil {
					t.Errorf("task %s has no Fn", tk.Name)
				}
				got = append(got, taskShape{tk.Name, tk.Weight, tk.Tags})
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("tasks: got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestUserTagsApplyToEveryTask(t *testing.T) {
	t.Parallel()
	sc := mustLoad(t, `
def a(u): pass
def b(u): pass
users = [user(name="U", tasks=[task(a, tags=["x", "web"]), b], tags=["web"])]
`)
	got := map[string][]string{}
	for _, tk := range sc.Users[0].Tasks {
		got[tk.Name] = tk.Tags
	}
	want := map[string][]string{"a": {"x", "web"}, "b": {"web"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestWaits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr string
		want scenario.Wait
	}{
		{"between(5, 9)", scenario.Between{Min: 5 * time.Second, Max: 9 * time.Second}},
		{"between(0.5, 1.5)", scenario.Between{Min: 500 * time.Millisecond, Max: 1500 * time.Millisecond}},
		{"constant(2)", scenario.Constant{D: 2 * time.Second}},
		{"constant(0)", scenario.Constant{}},
		{"constant_pacing(1.25)", scenario.ConstantPacing{D: 1250 * time.Millisecond}},
		{"constant_throughput(4)", scenario.ConstantPacing{D: 250 * time.Millisecond}},
		{"None", nil},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			t.Parallel()
			sc := mustLoad(t, "def a(u): pass\nusers = user(name='U', tasks=[a], wait="+tc.expr+")\n")
			if got := sc.Users[0].Wait; got != tc.want {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	sc := mustLoad(t, `
def a(u): pass
users = user(name="U", tasks=[a])
options = {
    "users": 10, "spawn_rate": 2.5, "run_time": "1m", "host": "http://127.0.0.1:8080",
    "rate": 100, "stop-timeout": 30, "tags": ["web", "api"], "exclude_tags": "slow",
}
`)
	want := map[string]string{
		"users": "10", "spawn-rate": "2.5", "run-time": "1m", "host": "http://127.0.0.1:8080",
		"rate": "100", "stop-timeout": "30s", "tags": "web,api", "exclude-tags": "slow",
	}
	if !reflect.DeepEqual(sc.Options, want) {
		t.Errorf("options:\n got %v\nwant %v", sc.Options, want)
	}
	noOpts := mustLoad(t, "def a(u): pass\nusers = user(name='U', tasks=[a])\n")
	if len(noOpts.Options) != 0 {
		t.Errorf("no options: got %v", noOpts.Options)
	}
	num := mustLoad(t, "def a(u): pass\nusers = user(name='U', tasks=[a])\noptions = {'run_time': 90, 'host': None}\n")
	if !reflect.DeepEqual(num.Options, map[string]string{"run-time": "90s"}) {
		t.Errorf("numeric run_time: got %v", num.Options)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	const task = "def a(u): pass\n"
	tests := []struct {
		name string
		src  string
		want string // the whole "file:line:col: message" prefix or a fragment
	}{
		{"syntax", "def a(u):\n  pass\nx = = 1\n", "main.star:3:5: "},
		{"undefined name", task + "users = user(name='U', tasks=[b])\n", "main.star:2:31: undefined: b"},
		{"runtime at load", task + "x = 1\ny = x + 'a'\n", "main.star:3:7: unknown binary op: int + string"},
		{"fail at load", task + "fail('nope')\n", "main.star:2:5: fail: nope"},
		{"no users, functions", task, `main.star: the script defines functions (a) but no users: add users = [user(name="Web", tasks=[a])]`},
		{"no users at all", "x = 1\n", "main.star: the script defines no users"},
		{"users wrong type", task + "users = 3\n", "main.star:2:1: users must be a list of user(...), got int"},
		{"users element", task + "users = [user(name='U', tasks=[a]), 'x']\n", "main.star:2:1: users[1] must be a user(...), got string"},
		{"users empty", task + "users = []\n", "main.star:2:1: users is empty"},
		{"duplicate names", task + "users = [user(name='U', tasks=[a]),\n    user(name='U', tasks=[a])]\n", `main.star:3:9: two users are named "U"`},
		{"empty tasks", task + "users = user(name='U', tasks=[])\n", `main.star:2:13: user "U": tasks is empty`},
		{"empty dict tasks", task + "users = user(name='U', tasks={})\n", `user "U": tasks is empty`},
		{"all weights 0", task + "users = user(name='U', tasks={a: 0})\n", "every task has weight 0"},
		{"negative task weight", task + "users = user(name='U', tasks={a: -1})\n", "main.star:2:13: user \"U\": tasks: the weight of a must be >= 0, got -1"},
		{"negative task() weight", task + "users = user(name='U', tasks=[task(a, weight=-2)])\n", "main.star:2:35: task: weight must be >= 0, got -2"},
		{"non-callable task", task + "users = user(name='U', tasks=[a, 3])\n", "a task must be a function, got int"},
		{"tasks wrong type", task + "users = user(name='U', tasks='a')\n", "tasks must be a dict {fn: weight}, a list [fn, ...] or sequence([...]), got string"},
		{"negative user weight", task + "users = user(name='U', tasks=[a], weight=-1)\n", "weight must be >= 0, got -1"},
		{"negative fixed_count", task + "users = user(name='U', tasks=[a], fixed_count=-1)\n", "fixed_count must be >= 0"},
		{"empty name", task + "users = user(name='', tasks=[a])\n", "main.star:2:13: user: name must not be empty"},
		{"missing name", task + "users = user(tasks=[a])\n", "user: missing argument for name"},
		{"wrong type to user()", task + "users = user(name=1, tasks=[a])\n", `main.star:2:13: user: for parameter "name": got int, want string`},
		{"unknown kwarg", task + "users = user(name='U', tasks=[a], wait_time=1)\n", "unexpected keyword argument \"wait_time\""},
		{"hook not callable", task + "users = user(name='U', tasks=[a], on_start='x')\n", "on_start must be a function, got string"},
		{"bad wait", task + "users = user(name='U', tasks=[a], wait=5)\n", "wait must be between(), constant(), constant_pacing(), constant_throughput() or a function of the user returning seconds, got int"},
		{"bad host", task + "users = user(name='U', tasks=[a], host=1)\n", "host must be a string, got int"},
		{"between reversed", task + "w = between(9, 5)\n", "main.star:2:12: between: max_s (5) is less than min_s (9)"},
		{"between negative", task + "w = between(-1, 5)\n", "between: min_s must be a number of seconds >= 0, got -1"},
		{"constant string", task + "w = constant('1s')\n", "constant: for parameter s: got string, want int or float"},
		{"throughput zero", task + "w = constant_throughput(0)\n", "constant_throughput: n must be a number of tasks per second > 0"},
		{"weights in sequence", task + "s = sequence([task(a, weight=2)])\n", "weights have no meaning in a sequence"},
		{"empty sequence", task + "s = sequence([])\n", "sequence: no tasks"},
		{"unknown option", task + "users = user(name='U', tasks=[a])\noptions = {'userz': 1}\n",
			`main.star:3:1: unknown option "userz"; known options are users, spawn_rate, run_time, host, rate, stop_timeout, tags, exclude_tags`},
		{"stages as an option", task + "users = user(name='U', tasks=[a])\noptions = {'stages': []}\n",
			`main.star:3:1: "stages" is not an option: write stages = [...] at the top level of the script`},
		{"option type", task + "users = user(name='U', tasks=[a])\noptions = {'users': 'ten'}\n", `main.star:3:1: options["users"]: want an int >= 0, got "ten"`},
		{"options not a dict", task + "users = user(name='U', tasks=[a])\noptions = [1]\n", "main.star:3:1: options must be a dict, got list"},
		{"option twice", task + "users = user(name='U', tasks=[a])\noptions = {'spawn_rate': 1, 'spawn-rate': 2}\n", `option "spawn-rate" is given twice`},
		{"recursion", "def f(n):\n    return f(n - 1) if n > 0 else 0\nx = f(3)\n", "main.star:2:24: function f called recursively"},
		{"set and while work", "s = set([1])\nwhile len(s) < 2:\n    s = set([1, 2])\n", "main.star: the script defines no users"},
		{"task without the user", "def a(): pass\nusers = user(name='U', tasks=[a])\n", `main.star:2:13: user "U": task a must take one argument, the user: def a(u)`},
		{"task with two required", "def a(u, v): pass\nusers = user(name='U', tasks={a: 1})\n", "user \"U\": task a must take one argument, the user"},
		{"task() without the user", "def a(): pass\nx = task(a)\n", "main.star:2:9: task: a must take one argument, the user: def a(u)"},
		{"hook without the user", "def a(u): pass\ndef s(): pass\nusers = user(name='U', tasks=[a], on_start=s)\n", `user "U": on_start s must take one argument, the user: def s(u)`},
		{"required kwonly", "def a(u, *, k): pass\nusers = user(name='U', tasks=[a])\n", "task a must take one argument"},
		{"users loaded", "load('lib.star', 'users')\n", `main.star:1:1: a loaded "users" is local to this file`},
		{"resolve error", "users = user(name='U', tasks=[a])\nusers = x\n", "main.star:1:31: undefined: a (and 1 more errors)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			le := loadErr(t, tc.src, "lib.star", "def a(u): pass\nusers = user(name='L', tasks=[a])\n")
			contains(t, le.Error(), tc.want)
			if strings.HasPrefix(tc.want, "main.star:") && !strings.HasPrefix(le.Error(), "main.star:") {
				t.Errorf("error %q does not start with the file name", le.Error())
			}
		})
	}
}

func TestLoadErrorHasTraceback(t *testing.T) {
	t.Parallel()
	le := loadErr(t, "def f():\n    return 1 // 0\nx = f()\n")
	if le.File != "main.star" || le.Line != 2 || le.Col != 14 {
		t.Errorf("position: got %s:%d:%d", le.File, le.Line, le.Col)
	}
	contains(t, le.Traceback, "main.star:3:6: in <toplevel>")
	contains(t, le.Traceback, "main.star:2:14: in f")
}

func TestLoadStepLimit(t *testing.T) {
	t.Parallel()
	_, err := loadOpts(t, Options{MaxLoadSteps: 10_000}, "n = 0\nwhile True:\n    n += 1\n")
	var le *LoadError
	if !asLoadError(err, &le) {
		t.Fatalf("got %v", err)
	}
	contains(t, le.Error(), "main.star:")
	contains(t, le.Error(), "Starlark computation cancelled: the top level ran more than 10000 steps (an endless loop?)")
	// Work within the limit is fine, and the limit does not apply to users.
	sc, err := loadOpts(t, Options{MaxLoadSteps: 10_000}, "x = [i for i in range(100)]\ndef t(u):\n    for i in range(100000): pass\nusers = user(name='U', tasks=[t])\n")
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Users[0].Tasks[0].Fn(t.Context(), newBareVU(1, &fakeRec{})); err != nil {
		t.Errorf("task: %v", err)
	}
}

func TestMissingFiles(t *testing.T) {
	t.Parallel()
	_, err := LoadFiles(map[string][]byte{}, "main.star", Options{})
	var le *LoadError
	if !asLoadError(err, &le) || le.Error() != "main.star: cannot read script: no such file in the bundle" {
		t.Errorf("bundle: got %v", err)
	}
	_, err = Load(t.TempDir()+"/nope.star", Options{})
	if !asLoadError(err, &le) || !strings.HasSuffix(le.Error(), "nope.star: cannot read script: no such file or directory") {
		t.Errorf("disk: got %v", err)
	}
}

func asLoadError(err error, le **LoadError) bool {
	e, ok := err.(*LoadError)
	*le = e
	return ok
}

func TestTaskArityAccepted(t *testing.T) {
	t.Parallel()
	sc := mustLoad(t, `
def a(u, extra=1): pass
def b(*args): pass
def c(u, *rest, k=2, **kw): pass
users = user(name="U", tasks=[a, b, c, lambda u: None, print], on_start=b)
`)
	if n := len(sc.Users[0].Tasks); n != 5 {
		t.Errorf("tasks: got %d", n)
	}
}

func TestTaskListOrderIsKept(t *testing.T) {
	t.Parallel()
	sc := mustLoad(t, "def c(u): pass\ndef a(u): pass\ndef b(u): pass\nusers = user(name='U', tasks={c: 1, a: 1, b: 1})\n")
	var names []string
	for _, tk := range sc.Users[0].Tasks {
		names = append(names, tk.Name)
	}
	if !slices.Equal(names, []string{"c", "a", "b"}) {
		t.Errorf("got %v", names)
	}
}
