package script

import (
	"strings"
	"testing"
)

// A locustfile ported by hand keeps Python that Starlark lacks: the load
// error says, in one line at the same place, what to write in horde.
func TestPythonismHints(t *testing.T) {
	t.Parallel()
	const tail = "def index(u): pass\nusers = user(name='U', tasks=[index])\n"
	tests := []struct {
		name  string
		src   string
		extra []string
		want  string // the whole error
	}{
		{"class", "class WebsiteUser(HttpUser):\n    wait_time = between(1, 5)\n",
			nil, `main.star:1:1: Starlark has no class: write each task as def name(u): ... and declare users = [user(name="WebsiteUser", tasks=[name], wait=between(1, 5))]`},
		{"import", "import json\n" + tail,
			nil, `main.star:1:1: Starlark has no import: user(), between() and the modules json, time, math, random, re, uuid, base64, hashlib and hmac are built in; load("lib.star", "name") loads your own files`},
		{"from import", "from locust import HttpUser, task, between\n" + tail,
			nil, `main.star:1:1: Starlark has no import: user(), between() and the modules json, time, math, random, re, uuid, base64, hashlib and hmac are built in; load("lib.star", "name") loads your own files`},
		{"try/except", "def index(u):\n    try:\n        u.get('/')\n    except Exception:\n        pass\n",
			nil, `main.star:2:5: Starlark has no try/except: requests do not raise (check r.ok or r.status, or pass expect=200), and fail("reason") ends the task with an error`},
		{"with catch_response", "def index(u):\n    with u.get('/', catch_response=True) as r:\n        r.failure('x')\n",
			nil, `main.star:2:5: Starlark has no with: write r = u.get("/path"), then r.fail("reason") or r.success() (no catch_response needed)`},
		{"f-string", "def index(u):\n    u.get(f\"/item/{u.id}\")\n",
			nil, `main.star:2:11: Starlark has no f-strings: write "id=%s" % x or "id={}".format(x)`},
		{"f-string in an assignment", "name = 'x'\ngreeting = F'hi {name}'\n",
			nil, `main.star:2:12: Starlark has no f-strings: write "id=%s" % x or "id={}".format(x)`},
		{"raw f-string", "x = rf'\\d{3}'\n",
			nil, `main.star:1:5: Starlark has no f-strings`},
		{"power operator", "def backoff(n):\n    return 2 ** n\n",
			nil, `main.star:2:14: Starlark has no ** operator: write math.pow(x, y) (a float) or x * x`},
		{"decorator", "@task(3)\ndef index(self):\n    pass\n",
			nil, `main.star:1:1: Starlark has no decorators: list the function in user(tasks=[fn]), or give it options with task(fn, weight=3, tags=["web"])`},
		{"raise", "def index(u):\n    raise RescheduleTask()\n",
			nil, `main.star:2:5: Starlark has no raise: fail("reason") ends the task with an error, stop_user() stops the user`},
		{"is None", "def index(u):\n    if u.state.get('t') is None:\n        pass\n",
			nil, `main.star:2:25: Starlark has no is: write x == None or x != None`},
		{"assert", "def index(u):\n    r = u.get('/')\n    assert r.status == 200\n",
			nil, `main.star:3:5: Starlark has no assert: write if not cond: fail("reason"), or pass expect=200 to a request`},
		{"global", "count = 0\ndef index(u):\n    global count\n",
			nil, `main.star:3:5: Starlark has no global: globals are frozen after load; keep what a user changes in u.state`},
		{"self", "def index(self):\n    pass\ndef profile(u):\n    self.client.get('/profile')\n" + "users = user(name='U', tasks=[index, profile])\n",
			nil, `main.star:4:5: tasks get the user as their argument: def index(u): u.get("/") (self.client.get is u.get, self.x is u.state["x"])`},
		{"wait_time", "def index(u): pass\nusers = [user(name='U', tasks=[index], wait_time=between(1, 2))]\n",
			nil, `main.star:2:14: user: unexpected keyword argument "wait_time": horde's user() takes wait= for Locust's wait_time: user(..., wait=between(1, 5))`},
		{"chained comparison", "x = 5\nok = 0 < x < 10\n",
			nil, `main.star:2:12: Starlark has no chained comparisons: write a < b and b < c`},
		{"time.sleep at the top level", "time.sleep(2)\n" + tail,
			nil, "main.star:1:11: time.sleep: there is no user to pause here (at load time, or in shape(t)): call time.sleep or u.sleep(seconds) inside a task or hook"},
		{"in a loaded module", "load('lib.star', 'login')\n" + tail,
			[]string{"lib.star", "def login(u):\n    u.post(f'/login')\n"}, `lib.star:2:12: Starlark has no f-strings`},
		// Not Python-isms: the parser's message stays.
		{"plain syntax error", "def index(u)\n    pass\n", nil, "main.star:2:1: got newline, want ':'"},
		{"a string after a name that is not f", "x = elf 'a'\n", nil, "main.star:1:12: got string literal, want newline"},
		{"another unexpected keyword", "def index(u): pass\nusers = user(name='U', tasks=[index], min_wait=1000)\n", nil, `user: unexpected keyword argument "min_wait": horde's user() takes wait= for Locust's wait_time`},
		{"another builtin's unexpected keyword", "x = between(1, 2, wait_time=3)\n", nil, `main.star:1:12: between: unexpected keyword argument "wait_time"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			le := loadErr(t, tc.src, tc.extra...)
			got := le.Error()
			if strings.Contains(got, "\n") {
				t.Errorf("not one line: %q", got)
			}
			contains(t, got, tc.want)
		})
	}
}
