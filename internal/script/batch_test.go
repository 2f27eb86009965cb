package script

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/horde-load/horde/internal/httpx"
)

// gate answers /g/... once n requests are in flight together (or 503
// after 10 s): a batch whose requests were not concurrent fails. Other
// paths answer their protocol at once.
type gate struct {
	n, in atomic.Int64
	open  chan struct{}
	conns atomic.Int64
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/g/") {
		if g.in.Add(1) == g.n.Load() {
			close(g.open)
		}
		select {
		case <-g.open:
		case <-time.After(10 * time.Second):
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
	}
	fmt.Fprint(w, r.Proto)
}

// newGateServer serves a gate for n requests over HTTP/1.1 and h2c.
func newGateServer(t *testing.T, n int) (*httptest.Server, *gate) {
	t.Helper()
	g := &gate{open: make(chan struct{})}
	g.n.Store(int64(n))
	srv := httptest.NewUnstartedServer(g)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			g.conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, g
}

// runBatchUser loads src, and runs task t of its first user class once on a
// new user against base.
func runBatchUser(t *testing.T, src, base string) (*vuState, *fakeRec, error) {
	t.Helper()
	sc := mustLoad(t, src)
	vu, rec := newVU(t, 1, base)
	vu.Class = sc.Users[0]
	err := task(t, sc, "t")(t.Context(), vu)
	st, _ := vu.Local.(*vuState)
	return st, rec, err
}

func stateOf(t *testing.T, st *vuState, key string) any {
	t.Helper()
	v, found, _ := st.user.state.Get(starlark.String(key))
	if !found {
		t.Fatalf("u.state[%q] not set", key)
	}
	return toGo(v)
}

// u.batch sends its requests at once (all five in flight together),
// over HTTP/2 as streams of one connection, and records each as its own
// sample with its own name and verdict, which fail() may still change.
func TestBatchSendsAtOnceAndRecordsEach(t *testing.T) {
	t.Parallel()
	srv, g := newGateServer(t, 5)
	st, rec, err := runBatchUser(t, `
def t(u):
    rs = u.batch([
        "/g/0",
        ("GET", "/g/1"),
        ("POST", "/g/2", {"name": "asset", "json": {"a": 1}}),
        {"url": "/g/3", "expect": 201},
        {"method": "PUT", "url": "/g/4?id=9", "name": "/g/[id]"},
    ])
    u.state["protos"] = [r.proto for r in rs]
    u.state["status"] = [r.status for r in rs]
    rs[0].fail("checked")
users = [user(name="U", tasks=[t], http2=True)]
`, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got := stateOf(t, st, "status"); fmt.Sprint(got) != "[200 200 200 200 200]" {
		t.Fatalf("statuses %v: want all 200, in order (a 503 means they were not all in flight at once)", got)
	}
	if got := stateOf(t, st, "protos"); fmt.Sprint(got) != "[HTTP/2.0 HTTP/2.0 HTTP/2.0 HTTP/2.0 HTTP/2.0]" {
		t.Fatalf("protocols %v, want HTTP/2.0 (user(http2=True))", got)
	}
	if n := g.conns.Load(); n != 1 {
		t.Fatalf("%d connections, want the user's one", n)
	}
	type row struct{ key, err string }
	var got []row
	for _, s := range rec.all() {
		if s.Latency <= 0 || s.Bytes != int64(len("HTTP/2.0")) {
			t.Errorf("sample %+v: want its latency and 8 bytes", s)
		}
		got = append(got, row{s.Key.Method + " " + s.Key.Name, s.Err})
	}
	want := []row{{"GET /g/0", "checked"}, {"GET /g/1", ""}, {"POST asset", ""},
		{"GET /g/3", "unexpected status 200 (expected 201)"}, {"PUT /g/[id]", ""}}
	if !slices.Equal(got, want) {
		t.Fatalf("samples\n got %v\nwant %v", got, want)
	}
}

// Over HTTP/1.1 a batch opens a connection per request up to six per
// host; http2= per request mixes the two.
func TestBatchOverHTTP1AndMixed(t *testing.T) {
	t.Parallel()
	srv, g := newGateServer(t, 3)
	st, rec, err := runBatchUser(t, `
def t(u):
    rs = u.batch(["/g/a", "/g/b", {"url": "/g/c", "http2": True}])
    u.state["protos"] = [r.proto for r in rs]
users = [user(name="U", tasks=[t])]
`, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(stateOf(t, st, "protos")); got != "[HTTP/1.1 HTTP/1.1 HTTP/2.0]" {
		t.Fatalf("protocols %s", got)
	}
	if n, samples := g.conns.Load(), len(rec.all()); n != 3 || samples != 3 {
		t.Fatalf("%d connections, %d samples: want 3 and 3", n, samples)
	}
}

// The protocol is chosen per request, per user class, or for the test
// (the client's default), the nearer winning.
func TestHTTP2Choice(t *testing.T) {
	t.Parallel()
	srv, _ := newGateServer(t, 1)
	for _, tc := range []struct {
		name, user, call, want string
		test                   httpx.HTTP2Mode
	}{
		{"default", "", `u.get("/")`, "HTTP/1.1", httpx.HTTP2Default},
		{"request", "", `u.get("/", http2=True)`, "HTTP/2.0", httpx.HTTP2Default},
		{"user", ", http2=True", `u.get("/")`, "HTTP/2.0", httpx.HTTP2Default},
		{"request over user", ", http2=True", `u.get("/", http2=False)`, "HTTP/1.1", httpx.HTTP2Default},
		{"test", "", `u.post("/")`, "HTTP/2.0", httpx.HTTP2On},
		{"user over test", ", http2=False", `u.get("/")`, "HTTP/1.1", httpx.HTTP2On},
		{"strict", "", `u.request("GET", "/", http2="strict")`, "HTTP/2.0", httpx.HTTP2Default},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sc := mustLoad(t, "def t(u):\n    r = "+tc.call+"\n    u.state['p'] = [r.proto, r.text]\nusers = [user(name='U', tasks=[t]"+tc.user+")]\n")
			f, err := httpx.NewFactory(httpx.Options{BaseURL: srv.URL, HTTP2: tc.test})
			if err != nil {
				t.Fatal(err)
			}
			vu, _ := newVU(t, 1, srv.URL)
			vu.HTTP = f.NewClient()
			defer vu.HTTP.Close()
			vu.Class = sc.Users[0]
			if err := task(t, sc, "t")(t.Context(), vu); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(stateOf(t, vu.Local.(*vuState), "p")); got != "["+tc.want+" "+tc.want+"]" {
				t.Fatalf("response proto and what the server saw: %s, want %s", got, tc.want)
			}
		})
	}
}

func TestBatchAndHTTP2Errors(t *testing.T) {
	t.Parallel()
	srv, _ := newGateServer(t, 1)
	for _, tc := range []struct{ call, want string }{
		{`u.batch([42])`, "batch: request 0: want a URL, a (method, url[, {keywords}]) tuple or a dict"},
		{`u.batch(["/", ("GET",)])`, "batch: request 1: want (method, url) or (method, url, {keywords})"},
		{`u.batch([("GET", "/", [1])])`, "batch: request 0: the third item must be a dict of keywords"},
		{`u.batch([{"url": "/", "bogus": 1}])`, "batch: request 0: request: unexpected keyword argument \"bogus\""},
		{`u.batch([{"method": "GET"}])`, "missing argument for url"},
		{`u.batch([{"url": "/", "headers": 3}])`, "batch: request 0: headers must be a dict"},
		{`u.batch("/")`, "batch: for parameter requests: got string, want iterable"},
		{`u.get("/", http2="yes")`, `get: http2 must be True, False or "strict", got "yes"`},
		{`u.batch([{"url": "/", "http2": 2}])`, `http2 must be True, False or "strict", got 2`},
	} {
		_, _, err := runBatchUser(t, "def t(u):\n    "+tc.call+"\nusers = [user(name='U', tasks=[t])]\n", srv.URL)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.call, err, tc.want)
		}
	}
	for _, src := range []string{
		"users = [user(name='U', tasks=[lambda u: None], http2='yes')]",
		"options = {'http2': 'sometimes'}\nusers = [user(name='U', tasks=[lambda u: None])]",
	} {
		if _, err := loadSrc(t, src); err == nil || !strings.Contains(err.Error(), `"strict"`) {
			t.Errorf("%s: error %v, want one naming True, False or \"strict\"", src, err)
		}
	}
}

// A batch's responses are recorded at the user's next request, so fail()
// works before it and not after; an empty batch records nothing.
func TestBatchResponsesRecordedAtNextRequest(t *testing.T) {
	t.Parallel()
	srv, _ := newGateServer(t, 1)
	_, rec, err := runBatchUser(t, `
def t(u):
    if u.batch([]) != []:
        fail("an empty batch returns []")
    rs = u.batch(["/a", "/b"])
    rs[1].fail("before")
    u.get("/c")
    rs[0].fail("after")
users = [user(name="U", tasks=[t])]
`, srv.URL)
	if err == nil || !strings.Contains(err.Error(), "the response of GET /a is already recorded") {
		t.Fatalf("error %v, want fail() after the next request refused", err)
	}
	var got []string
	for _, s := range rec.all() {
		got = append(got, s.Key.Name+":"+s.Err)
	}
	if want := []string{"/a:", "/b:before", "/c:"}; !slices.Equal(got, want) {
		t.Fatalf("samples %v, want %v", got, want)
	}
}

func TestHTTP2Option(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{`True`: "true", `False`: "false", `"strict"`: "strict"} {
		sc := mustLoad(t, "options = {'http2': "+in+"}\nusers = [user(name='U', tasks=[lambda u: None])]\n")
		if got := sc.Options["http2"]; got != want {
			t.Errorf("options http2 = %s: flag value %q, want %q", in, got, want)
		}
	}
}
