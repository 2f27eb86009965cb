package script

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/buftest"
	"github.com/horde-load/horde/internal/scenario"
	"github.com/horde-load/horde/internal/stats"
)

func TestResponseAttributes(t *testing.T) {
	t.Parallel()
	rec, err := runTask(t, `
def check(cond, what):
    if not cond:
        fail(what)

def t(u):
    r = u.get("/echo?q=1")
    check(r.status == 200 and r.status_code == 200, "status %s" % r.status)
    check(r.ok and bool(r), "ok")
    check(type(r.text) == "string" and '"method":"GET"' in r.text, "text " + r.text)
    check(type(r.content) == "bytes" and len(r.content) == len(r.text), "content")
    check(r.json()["query"] == "q=1", "json")
    check(r.headers["content-type"] == "application/json", "headers %s" % r.headers)
    check(r.headers["x-multi"] == "a, b", "multi header")
    check(r.elapsed_ms > 0, "elapsed")
    check(r.url == u.host + "/echo?q=1", "url " + r.url)
    check(r.error == None, "error")
    tm = r.timings
    check(tm.connect_ms > 0 and tm.ttfb_ms > 0 and tm.dns_ms >= 0 and tm.tls_ms == 0, "timings %s" % tm)
    check(str(r) == "<response 200 GET /echo?q=1>", str(r))
    bad = u.get("/status/500")
    check(not bad.ok and bad.status == 500 and bad.error == None and bad.text == "status 500", "500")
    refused = u.get("http://127.0.0.1:1/")
    check(refused.status == 0 and refused.error == "connection refused" and not refused.ok, "refused %s" % refused.error)
`)
	if err != nil {
		t.Fatalf("%v\n%s", err, traceOf(err))
	}
	if n := len(rec.all()); n != 3 {
		t.Errorf("samples: got %d, want 3", n)
	}
}

func traceOf(err error) string {
	var re *RuntimeError
	if errors.As(err, &re) {
		return re.Traceback()
	}
	return ""
}

func TestResponseJSONError(t *testing.T) {
	t.Parallel()
	_, err := runTask(t, "def t(u):\n    u.get('/text').json()\n")
	contains(t, errString(err), "json: body of GET /text is not JSON")
}

func TestPendingFlush(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		wantErr string
		want    []string // Err of each sample, in order
	}{
		{"fail after the call", "r = u.get('/text')\n    r.fail('bad')", "", []string{"bad"}},
		{"recorded at the next request", "r = u.get('/text')\n    u.get('/text')\n    r.fail('late')",
			"fail: the response of GET /text is already recorded; call fail() before the user's next request", []string{"", ""}},
		{"success after the next request", "r = u.get('/status/500')\n    u.get('/text')\n    r.success()",
			"success: the response of GET /status/500 is already recorded", []string{"HTTP 500 Internal Server Error", ""}},
		{"flushed when the task errors", "u.get('/text').fail('x')\n    1 // 0", "floored division by zero", []string{"x"}},
		{"flushed on stop_user", "u.get('/text')\n    stop_user()", "stop user", []string{""}},
		{"record() does not flush", "r = u.get('/text')\n    record('c', 1)\n    r.fail('y')", "", []string{"", "y"}},
		{"empty reason", "u.get('/text').fail('')", "fail: reason must not be empty", []string{""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec, err := runTask(t, "def t(u):\n    "+tc.body+"\n")
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" {
				contains(t, errString(err), tc.wantErr)
			}
			var got []string
			for _, s := range rec.all() {
				got = append(got, s.Err)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
				t.Errorf("sample errors: got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPendingFlushedAcrossCalls(t *testing.T) {
	t.Parallel()
	// A response kept in u.state cannot be failed in a later task: it was
	// recorded when the earlier task returned.
	srv := newServer(t)
	sc := mustLoad(t, `
def a(u):
    u.state["r"] = u.get("/text")
def b(u):
    u.state["r"].fail("later")
users = user(name="U", tasks=[a, b])
`)
	vu, rec := newVU(t, 1, srv.URL)
	if err := task(t, sc, "a")(t.Context(), vu); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.all()); n != 1 {
		t.Fatalf("after a: %d samples, want 1", n)
	}
	err := task(t, sc, "b")(t.Context(), vu)
	contains(t, errString(err), "already recorded")
}

func TestUserObject(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sc := mustLoad(t, `
def login(u):
    u.post("/login")
    u.state["n"] = 0
def t(u):
    u.state["n"] += 1
    u.state["id"] = u.id
    u.state["host"] = u.host
    u.state["cookie"] = u.cookies.get("session")
    u.state["str"] = str(u)
    u.state["dir"] = dir(u)
users = user(name="U", tasks=[t], on_start=login)
`)
	vu1, _ := newVU(t, 7, srv.URL)
	vu2, _ := newVU(t, 8, srv.URL)
	uc := sc.Users[0]
	for _, vu := range []*scenario.VU{vu1, vu2} {
		if err := uc.OnStart(t.Context(), vu); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if err := uc.Tasks[0].Fn(t.Context(), vu1); err != nil {
			t.Fatal(err)
		}
	}
	if err := uc.Tasks[0].Fn(t.Context(), vu2); err != nil {
		t.Fatal(err)
	}
	s1 := toGo(vu1.Local.(*vuState).user.state).(map[string]any)
	s2 := toGo(vu2.Local.(*vuState).user.state).(map[string]any)
	if s1["n"] != int64(3) || s2["n"] != int64(1) {
		t.Errorf("u.state is not per user: %v %v", s1["n"], s2["n"])
	}
	if s1["id"] != int64(7) || s1["host"] != srv.URL || s1["cookie"] != "s3cret" || s1["str"] != "<user 7>" {
		t.Errorf("u attributes: got %v", s1)
	}
	names := "," + strings.Join(toStrings(s1["dir"]), ",") + ","
	for _, n := range []string{"get", "grpc", "head", "headers", "host", "id", "websocket"} {
		if !strings.Contains(names, ","+n+",") {
			t.Errorf("dir(u) lacks %s: got %v", n, s1["dir"])
		}
	}
}

func toStrings(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(string))
	}
	return out
}

func TestHostFallsBackToClient(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sc := mustLoad(t, "def t(u):\n    u.state['h'] = u.host\nusers = user(name='U', tasks=[t])\n")
	vu, _ := newVU(t, 1, srv.URL)
	vu.Host = ""
	if err := task(t, sc, "t")(t.Context(), vu); err != nil {
		t.Fatal(err)
	}
	if got := toGo(vu.Local.(*vuState).user.state).(map[string]any)["h"]; got != srv.URL {
		t.Errorf("u.host: got %v, want %s", got, srv.URL)
	}
}

func TestRecord(t *testing.T) {
	t.Parallel()
	rec, err := runTask(t, `
def t(u):
    record("login flow", 12.5)
    record("db", 3, method="SQL", error="timeout", bytes=42)
`)
	if err != nil {
		t.Fatal(err)
	}
	want := []stats.Sample{
		{Key: stats.Key{Method: "CUSTOM", Name: "login flow"}, Latency: 12500 * time.Microsecond},
		{Key: stats.Key{Method: "SQL", Name: "db"}, Latency: 3 * time.Millisecond, Bytes: 42, Err: "timeout"},
	}
	got := rec.all()
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for call, msg := range map[string]string{
		"record('x', -1)":          "record: ms must be a number of milliseconds >= 0",
		"record('', 1)":            "record: name and method must not be empty",
		"record('x', 1, bytes=-1)": "record: bytes must be >= 0",
		"record('x', 1, error='')": "record: error must be None or a non-empty reason",
		"record('x', '1')":         "record: for parameter ms: got string, want int or float",
	} {
		_, err := runTask(t, "def t(u):\n    "+call+"\n")
		contains(t, errString(err), msg)
	}
	le := loadErr(t, "record('x', 1)\n")
	contains(t, le.Error(), "main.star:1:7: record: only a task or hook can record a timing")
}

func TestStopUser(t *testing.T) {
	t.Parallel()
	_, err := runTask(t, "def t(u):\n    stop_user()\n    fail('not reached')\n")
	if err != scenario.ErrStopUser {
		t.Errorf("got %v, want scenario.ErrStopUser", err)
	}
	le := loadErr(t, "stop_user()\n")
	contains(t, le.Error(), "main.star:1:10: stop_user: only a task or hook can stop its user")
}

func TestRuntimeErrorTraceback(t *testing.T) {
	t.Parallel()
	_, err := runTask(t, `
def helper(x):
    return x["missing"]

def t(u):
    helper({})
`)
	var re *RuntimeError
	if !errors.As(err, &re) {
		t.Fatalf("got %T %v, want *RuntimeError", err, err)
	}
	if re.Error() != `key "missing" not in dict` {
		t.Errorf("message: got %q", re.Error())
	}
	contains(t, re.Traceback(), "main.star:6:11: in t")
	contains(t, re.Traceback(), "main.star:3:13: in helper")
	_, err = runTask(t, "def t(u):\n    fail('custom', 'message')\n")
	if !errors.As(err, &re) || re.Error() != "fail: custom message" {
		t.Errorf("fail(): got %v", err)
	}
	contains(t, re.Traceback(), "main.star:2:9: in t")
}

func TestFrozenGlobals(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, want string }{
		{"list append", "seen = []\ndef t(u):\n    seen.append(u.id)\n", "cannot append to frozen list"},
		{"dict set", "cache = {}\ndef t(u):\n    cache['k'] = 1\n", "cannot insert into frozen hash table"},
		{"csv rows", "rows = csv('u.csv')\ndef t(u):\n    rows[0]['a'] = 'x'\n", "cannot insert into frozen hash table"},
		{"closure", "def make():\n    n = [0]\n    def t(u):\n        n[0] += 1\n    return t\nt = make()\n", "cannot assign to element of frozen list"},
		{"shuffle", "xs = [1, 2, 3]\ndef t(u):\n    random.shuffle(xs)\n", "random.shuffle: cannot assign to element of frozen list"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t)
			sc := mustLoad(t, tc.src+"users = user(name='U', tasks=[t])\n", "u.csv", "a\n1\n")
			vu, _ := newVU(t, 1, srv.URL)
			err := sc.Users[0].Tasks[0].Fn(t.Context(), vu)
			contains(t, errString(err), tc.want)
		})
	}
}

func TestCSVAtRunTime(t *testing.T) {
	t.Parallel()
	_, err := runTask(t, "def t(u):\n    csv('u.csv')\n")
	contains(t, errString(err), "csv: data files are read at load time; call csv() at the top level of the script")
}

func TestPrint(t *testing.T) {
	t.Parallel()
	out := &buftest.Buffer{}
	sc, err := loadOpts(t, Options{Stdout: out}, `
print("loading", 1)
def t(u):
    print("hello from", u.id)
users = user(name="U", tasks=[t])
`)
	if err != nil {
		t.Fatal(err)
	}
	vu, _ := newVU(t, 3, "http://127.0.0.1:1")
	if err := sc.Users[0].Tasks[0].Fn(t.Context(), vu); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "loading 1\n[user 3] hello from 3\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// No Stdout: print is discarded, not an error.
	sc = mustLoad(t, "print('x')\ndef t(u):\n    print('y')\nusers = user(name='U', tasks=[t])\n")
	if err := sc.Users[0].Tasks[0].Fn(t.Context(), newBareVU(1, &fakeRec{})); err != nil {
		t.Fatal(err)
	}
}

func TestRandom(t *testing.T) {
	t.Parallel()
	const src = `
pick_at_load = random.randint(1, 1000)
def t(u):
    xs = [1, 2, 3, 4, 5]
    random.shuffle(xs)
    u.state["r"] = [random.random(), random.randint(3, 5), random.choice(["a", "b", "c"]), random.uniform(2, 4), xs, pick_at_load]
users = user(name="U", tasks=[t])
`
	run := func(seed uint64) []any {
		sc := mustLoad(t, src)
		vu := newBareVU(1, &fakeRec{})
		vu.Rand = rand.New(rand.NewPCG(seed, 1))
		if err := sc.Users[0].Tasks[0].Fn(t.Context(), vu); err != nil {
			t.Fatal(err)
		}
		return toGo(vu.Local.(*vuState).user.state).(map[string]any)["r"].([]any)
	}
	a, b, c := run(1), run(1), run(2)
	if !equalAny(a, b) {
		t.Errorf("same seed, different draws: %v %v", a, b)
	}
	if equalAny(a, c) {
		t.Errorf("different seeds, same draws: %v", a)
	}
	if f := a[0].(float64); f < 0 || f >= 1 {
		t.Errorf("random(): %v", f)
	}
	if n := a[1].(int64); n < 3 || n > 5 {
		t.Errorf("randint(3, 5): %v", n)
	}
	if s := a[2].(string); s != "a" && s != "b" && s != "c" {
		t.Errorf("choice: %v", s)
	}
	if f := a[3].(float64); f < 2 || f > 4 {
		t.Errorf("uniform(2, 4): %v", f)
	}
	if xs := a[4].([]any); len(xs) != 5 {
		t.Errorf("shuffle: %v", xs)
	}
	if a[5] != c[5] {
		t.Errorf("load-time random is not reproducible: %v %v", a[5], c[5])
	}
	for call, msg := range map[string]string{
		"random.randint(5, 3)": "random.randint: empty range [5, 3]",
		"random.choice([])":    "random.choice: empty sequence",
		"random.shuffle((1,))": "random.shuffle: for parameter list: got tuple, want list",
	} {
		_, err := runTask(t, "def t(u):\n    "+call+"\n")
		contains(t, errString(err), msg)
	}
}

func equalAny(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if x, ok := a[i].([]any); ok {
			if !equalAny(x, b[i].([]any)) {
				return false
			}
			continue
		}
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestModulesAvailable(t *testing.T) {
	t.Parallel()
	_, err := runTask(t, `
def t(u):
    if json.decode(json.encode({"a": [1]}))["a"][0] != 1: fail("json")
    if math.floor(2.7) != 2: fail("math")
    if time.parse_duration("1s") != time.second: fail("time")
    if type(time.now()) != "time.time": fail("time.now")
    start = time.now()
    record("flow", (time.now() - start).microseconds / 1000)
`)
	if err != nil {
		t.Fatal(err)
	}
}

func TestVULocalConflict(t *testing.T) {
	t.Parallel()
	sc := mustLoad(t, "def t(u): pass\nusers = user(name='U', tasks=[t])\n")
	vu := newBareVU(1, &fakeRec{})
	vu.Local = "someone else's"
	contains(t, errString(sc.Users[0].Tasks[0].Fn(t.Context(), vu)), "VU.Local already holds a string")
}

func TestCalledWithDoneContext(t *testing.T) {
	t.Parallel()
	sc := mustLoad(t, "def t(u):\n    fail('must not run')\nusers = user(name='U', tasks=[t])\n")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := sc.Users[0].Tasks[0].Fn(ctx, newBareVU(1, &fakeRec{}))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestConcurrentUsersShareFrozenGlobals(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	sc := mustLoad(t, `
rows = csv("u.csv")
lookup = {r["name"]: r for r in rows}
def t(u):
    row = rows[u.id % len(rows)]
    n = 0
    for r in rows:
        n += len(lookup[r["name"]]["name"])
    u.state["seen"] = u.state.get("seen", 0) + 1
    u.get("/text", params={"who": row["name"]}, name="/text")
users = user(name="U", tasks=[t])
`, "u.csv", "name\nann\nbob\ncy\n")
	const users, calls = 6, 20
	errs := make(chan error, users)
	recs := make([]*fakeRec, users)
	vus := make([]*scenario.VU, users)
	for i := range users {
		vus[i], recs[i] = newVU(t, i, srv.URL)
	}
	for i := range users {
		go func() {
			for range calls {
				if err := sc.Users[0].Tasks[0].Fn(t.Context(), vus[i]); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range users {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for i, rec := range recs {
		s := rec.all()
		if len(s) != calls || s[0].Err != "" || s[0].Name != "/text" {
			t.Errorf("user %d: %d samples (%+v), want %d successes", i, len(s), s[0], calls)
		}
		if seen := toGo(vus[i].Local.(*vuState).user.state).(map[string]any)["seen"]; seen != int64(calls) {
			t.Errorf("user %d: u.state seen=%v", i, seen)
		}
	}
}
