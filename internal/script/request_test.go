package script

import (
	"encoding/json"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/httpx"
	"github.com/horde-load/horde/internal/stats"
)

// runTask loads src (which must define task t) and runs t once on a fresh
// VU against the test server. It returns the recorder and the error.
func runTask(t *testing.T, src string) (*fakeRec, error) {
	t.Helper()
	srv := newServer(t)
	sc := mustLoad(t, src+"\nusers = user(name='U', tasks=[t])\n")
	vu, rec := newVU(t, 1, srv.URL)
	err := task(t, sc, "t")(t.Context(), vu)
	return rec, err
}

func TestRequestsAreRecorded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		call string
		want stats.Sample // Latency is checked to be > 0, not compared
	}{
		{"get", `u.get("/text")`, stats.Sample{Key: stats.Key{Method: "GET", Name: "/text"}, Bytes: 5}},
		{"post", `u.post("/status/201")`, stats.Sample{Key: stats.Key{Method: "POST", Name: "/status/201"}, Bytes: 10}},
		{"put", `u.put("/status/200")`, stats.Sample{Key: stats.Key{Method: "PUT", Name: "/status/200"}, Bytes: 10}},
		{"patch", `u.patch("/status/200")`, stats.Sample{Key: stats.Key{Method: "PATCH", Name: "/status/200"}, Bytes: 10}},
		{"delete", `u.delete("/status/204")`, stats.Sample{Key: stats.Key{Method: "DELETE", Name: "/status/204"}}},
		{"head", `u.head("/status/204")`, stats.Sample{Key: stats.Key{Method: "HEAD", Name: "/status/204"}}},
		{"request", `u.request("options", "/status/200")`, stats.Sample{Key: stats.Key{Method: "OPTIONS", Name: "/status/200"}, Bytes: 10}},
		{"name=", `u.get("/status/200?id=7", name="/status/[id]")`, stats.Sample{Key: stats.Key{Method: "GET", Name: "/status/[id]"}, Bytes: 10}},
		{"query kept in name", `u.get("/status/200?id=7")`, stats.Sample{Key: stats.Key{Method: "GET", Name: "/status/200?id=7"}, Bytes: 10}},
		{"500 fails", `u.get("/status/500")`, stats.Sample{Key: stats.Key{Method: "GET", Name: "/status/500"}, Bytes: 10, Err: "HTTP 500 Internal Server Error"}},
		{"404 fails", `u.get("/status/404")`, stats.Sample{Key: stats.Key{Method: "GET", Name: "/status/404"}, Bytes: 10, Err: "HTTP 404 Not Found"}},
		{"expect one", `u.get("/status/404", expect=200)`, stats.Sample{Key: stats.Key{Method: "GET", Name: "/status/404"}, Bytes: 10, Err: "unexpected status 404 (expected 200)"}},
		{"expect list", `u.get("/status/201", expect=[200, 204])`, stats.Sample{Key: stats.Key{Method: "GET", Name: "/status/201"}, Bytes: 10, Err: "unexpected status 201 (expected 200, 204)"}},
		{"expect makes 404 pass", `u.get("/status/404", expect=[404])`, stats.Sample{Key: stats.Key{Method: "GET", Name: "/status/404"}, Bytes: 10}},
		{"fail()", `u.get("/text").fail("no token")`, stats.Sample{Key: stats.Key{Method: "GET", Name: "/text"}, Bytes: 5, Err: "no token"}},
		{"success()", `u.get("/status/503").success()`, stats.Sample{Key: stats.Key{Method: "GET", Name: "/status/503"}, Bytes: 10}},
		{"fail then success", "r = u.get('/text')\n    r.fail('x')\n    r.success()", stats.Sample{Key: stats.Key{Method: "GET", Name: "/text"}, Bytes: 5}},
		{"connection error", `u.get("http://127.0.0.1:1/x")`, stats.Sample{Key: stats.Key{Method: "GET", Name: "http://127.0.0.1:1/x"}, Err: "connection refused"}},
		{"connection error with expect", `u.get("http://127.0.0.1:1/", expect=0 + 200)`, stats.Sample{Key: stats.Key{Method: "GET", Name: "http://127.0.0.1:1/"}, Err: "connection refused"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec, err := runTask(t, "def t(u):\n    "+tc.call+"\n")
			if err != nil {
				t.Fatal(err)
			}
			got := rec.all()
			if len(got) != 1 {
				t.Fatalf("samples: got %+v, want 1", got)
			}
			if got[0].Latency <= 0 {
				t.Errorf("latency: got %v", got[0].Latency)
			}
			got[0].Latency = 0
			if got[0] != tc.want {
				t.Errorf("sample:\n got %+v\nwant %+v", got[0], tc.want)
			}
		})
	}
}

// echoOf runs one request to /echo and returns what the server saw.
func echoOf(t *testing.T, call string) echo {
	t.Helper()
	srv := newServer(t)
	sc := mustLoad(t, "def t(u):\n    u.state['r'] = "+call+".json()\nusers = user(name='U', tasks=[t])\n")
	vu, _ := newVU(t, 1, srv.URL)
	if err := task(t, sc, "t")(t.Context(), vu); err != nil {
		t.Fatal(err)
	}
	st := vu.Local.(*vuState)
	v, _, _ := st.user.state.Get(mustString("r"))
	var e echo
	b, _ := json.Marshal(toGo(v))
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("echo: %v (%s)", err, b)
	}
	return e
}

func TestRequestArguments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		call  string
		check func(t *testing.T, e echo)
	}{
		{"params in order", `u.get("/echo", params={"b": "2", "a": 1, "skip": None, "l": ["x", "y z"], "t": True})`, func(t *testing.T, e echo) {
			if e.Query != "b=2&a=1&l=x&l=y+z&t=True" {
				t.Errorf("query: got %q", e.Query)
			}
		}},
		{"params appended to a query", `u.get("/echo?z=0", params={"a": "1"})`, func(t *testing.T, e echo) {
			if e.Query != "z=0&a=1" {
				t.Errorf("query: got %q", e.Query)
			}
		}},
		{"headers", `u.get("/echo", headers={"X-Token": "abc", "x-num": 5, "X-List": ["a", "b"]})`, func(t *testing.T, e echo) {
			if !reflect.DeepEqual(e.Header["X-Token"], []string{"abc"}) || !reflect.DeepEqual(e.Header["X-Num"], []string{"5"}) ||
				!reflect.DeepEqual(e.Header["X-List"], []string{"a", "b"}) {
				t.Errorf("headers: got %v", e.Header)
			}
		}},
		{"json", `u.post("/echo", json={"username": "ellen_key", "n": [1, 2]})`, func(t *testing.T, e echo) {
			if e.Body != `{"n":[1,2],"username":"ellen_key"}` || e.Header["Content-Type"][0] != "application/json" || e.Method != "POST" {
				t.Errorf("got %+v", e)
			}
		}},
		{"json keeps a given content type", `u.post("/echo", json=[1], headers={"content-type": "application/vnd+json"})`, func(t *testing.T, e echo) {
			if e.Header["Content-Type"][0] != "application/vnd+json" {
				t.Errorf("content type: got %v", e.Header["Content-Type"])
			}
		}},
		{"data string", `u.put("/echo", data="raw body")`, func(t *testing.T, e echo) {
			if e.Body != "raw body" || e.Header["Content-Type"] != nil {
				t.Errorf("got %+v", e)
			}
		}},
		{"data bytes", `u.put("/echo", data=b"\x00\x01")`, func(t *testing.T, e echo) {
			if e.Body != "\x00\x01" {
				t.Errorf("body: got %q", e.Body)
			}
		}},
		{"data dict is a form", `u.post("/echo", data={"user": "a b", "pw": "x&y"})`, func(t *testing.T, e echo) {
			v, _ := url.ParseQuery(e.Body)
			if v.Get("user") != "a b" || v.Get("pw") != "x&y" || e.Header["Content-Type"][0] != "application/x-www-form-urlencoded" {
				t.Errorf("got %+v", e)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.check(t, echoOf(t, tc.call))
		})
	}
}

func TestRequestArgumentErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ call, want string }{
		{`u.get("/echo", json=1, data="x")`, "get: give json= or data=/files=, not both"},
		{`u.get("/echo", data=1)`, "get: data must be a string, bytes or dict, got int"},
		{`u.get("/echo", params=[1])`, "get: params must be a dict, got list"},
		{`u.get("/echo", params={1: 2})`, "get: params keys must be strings, got int"},
		{`u.get("/echo", headers="x")`, "get: headers must be a dict, got string"},
		{`u.get("/echo", timeout=0)`, "get: timeout must be a number of seconds > 0, got 0"},
		{`u.get("/echo", timeout="1s")`, "get: timeout must be a number of seconds > 0"},
		{`u.get("/echo", expect="200")`, "get: expect must be an HTTP status or a list of them"},
		{`u.get("/echo", expect=[])`, "get: expect must not be empty"},
		{`u.get("/echo", expect=[200, 42])`, "get: expect must be an HTTP status or a list of them, got 42"},
		{`u.get("/echo", {}, {})`, "get: takes at most 2 positional arguments (url, params), got 3: give the others by name"},
		{`u.post("/echo", "a", {}, {})`, "post: takes at most 3 positional arguments (url, data, json), got 4"},
		{`u.request("GET", "/echo", {})`, "request: takes at most 2 positional arguments (method, url), got 3"},
		{`u.get("/echo", params={}, auth="x")`, `get: auth must be ("user", "password")`},
		{`u.get("/echo", verify="/etc/ca.pem")`, "get: verify must be True or False, got string"},
		{`u.get("/echo", cookies=[1])`, "get: cookies must be a dict, got list"},
		{`u.get("/echo", cookies={"a=b": "1"})`, "get: cookie names must be non-empty strings without '='"},
		{`u.post("/echo", files=["x"])`, "post: files must be a dict"},
		{`u.post("/echo", files={"f": 1})`, `post: files["f"] must be content`},
		{`u.post("/echo", files={"f": "x"}, data="raw")`, "post: with files=, data must be a dict of form fields"},
		{`u.post("/echo", files={"f": "x"}, json={})`, "post: give json= or data=/files=, not both"},
		{`u.get("")`, "get: url must not be empty"},
		{`u.get("/echo", bogus=1)`, `get: unexpected keyword argument "bogus"`},
		{`u.request("", "/echo")`, "request: method must not be empty"},
		{`u.post("/echo", json=lambda: 1)`, "post: json: json.encode: cannot encode function as JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.call, func(t *testing.T) {
			t.Parallel()
			rec, err := runTask(t, "def t(u):\n    "+tc.call+"\n")
			if err == nil {
				t.Fatal("no error")
			}
			contains(t, err.Error(), tc.want)
			if n := len(rec.all()); n != 0 {
				t.Errorf("a rejected call recorded %d samples", n)
			}
		})
	}
}

func TestTimeoutKwarg(t *testing.T) {
	t.Parallel()
	rec, err := runTask(t, "def t(u):\n    r = u.get('/slow', timeout=0.05)\n    if r.error != 'timeout' or r.ok or r.status != 0:\n        fail('got %s %s' % (r.error, r.status))\n")
	if err != nil {
		t.Fatal(err)
	}
	s := rec.all()
	if len(s) != 1 || s[0].Err != "timeout" || s[0].Latency < 50*time.Millisecond {
		t.Errorf("got %+v", s)
	}
}

func TestNameOf(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/a?b=1":                  "/a?b=1",
		"http://h:1/a/b?c#d":      "http://h:1/a/b?c",
		"https://h":               "https://h",
		"https://h?x=1":           "https://h?x=1",
		"relative/path":           "relative/path",
		"/redirect?to=http://x/y": "/redirect?to=http://x/y",
	} {
		if got := nameOf(in); got != want {
			t.Errorf("nameOf(%q): got %q, want %q", in, got, want)
		}
	}
}

func TestNoHTTPClient(t *testing.T) {
	t.Parallel()
	sc := mustLoad(t, "def t(u):\n    u.get('/')\nusers = user(name='U', tasks=[t])\n")
	rec := &fakeRec{}
	vu := newBareVU(1, rec)
	err := task(t, sc, "t")(t.Context(), vu)
	contains(t, errString(err), "get: this user has no HTTP client")
	if len(rec.all()) != 0 {
		t.Errorf("recorded %v", rec.all())
	}
}

func TestClientFromOptionsFactory(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	f, err := httpx.NewFactory(httpx.Options{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := loadOpts(t, Options{HTTP: f}, "def t(u):\n    u.get('/text', expect=200)\nusers = user(name='U', tasks=[t])\n")
	if err != nil {
		t.Fatal(err)
	}
	rec := &fakeRec{}
	vu := newBareVU(1, rec)
	if err := task(t, sc, "t")(t.Context(), vu); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(vu.HTTP.Close)
	if s := rec.all(); len(s) != 1 || s[0].Err != "" {
		t.Errorf("samples: %+v", s)
	}
}
