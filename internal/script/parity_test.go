package script

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/horde-load/horde/internal/target"
	"github.com/horde-load/horde/internal/target/targettest"
)

// onTarget runs task t of src once on a fresh user against a horde target
// and returns the samples recorded, the state the task left in u.state,
// and the target's own counts.
func onTarget(t *testing.T, src string) ([]sampleRow, map[string]any, map[string]int64) {
	t.Helper()
	base, srv := targettest.Start(t, target.Options{})
	sc := mustLoad(t, src+"\nusers = [user(name='U', tasks=[t])]\n")
	vu, rec := newVU(t, 1, base)
	if err := task(t, sc, "t")(t.Context(), vu); err != nil {
		t.Fatal(err)
	}
	var rows []sampleRow
	for _, s := range rec.all() {
		rows = append(rows, sampleRow{s.Method + " " + s.Name, s.Err})
	}
	state := map[string]any{}
	if st := vu.Local.(*vuState).user.state; st != nil {
		state = toGo(st).(map[string]any)
	}
	return rows, state, srv.Counts()
}

type sampleRow struct{ key, err string }

// Requests' positional order per method: the second argument of post, put
// and patch is the form body; of get, delete and head the query.
func TestPositionalArgumentsFollowRequests(t *testing.T) {
	t.Parallel()
	_, st, _ := onTarget(t, `
def t(u):
    u.state["post"] = u.post("/echo", {"user": "a"}).json()
    u.state["put"] = u.put("/echo", "raw body").json()
    u.state["patch"] = u.patch("/echo", {"k": "v"}).json()
    u.state["get"] = u.get("/echo", {"q": "1"}).json()
    u.state["delete"] = u.delete("/echo", {"id": "7"}).json()
    u.state["postjson"] = u.post("/echo", None, {"n": 1}).json()
`)
	post := st["post"].(map[string]any)
	if post["body"] != "user=a" || len(post["query"].(map[string]any)) != 0 {
		t.Errorf("post(url, dict): body %q query %v; want the dict as the form body", post["body"], post["query"])
	}
	if st["put"].(map[string]any)["body"] != "raw body" || st["patch"].(map[string]any)["body"] != "k=v" {
		t.Errorf("put/patch: %v / %v", st["put"], st["patch"])
	}
	for _, m := range []string{"get", "delete"} {
		e := st[m].(map[string]any)
		if e["body"] != "" || len(e["query"].(map[string]any)) != 1 {
			t.Errorf("%s(url, dict): body %q query %v; want the dict as the query", m, e["body"], e["query"])
		}
	}
	if b := st["postjson"].(map[string]any)["body"]; b != `{"n":1}` {
		t.Errorf("post(url, None, json): body %q", b)
	}
}

// An absolute URL names its row by the whole URL, as Locust does: two
// hosts with the same path are two rows.
func TestAbsoluteURLsAreTheirOwnRows(t *testing.T) {
	t.Parallel()
	other, _ := targettest.Start(t, target.Options{})
	rows, _, _ := onTarget(t, `
def t(u):
    u.get("/profile")
    u.get("`+other+`/profile")
    u.get(u.host + "/profile#top")
    u.get("`+other+`/profile", name="other profile")
`)
	want := []string{"GET /profile", "GET " + other + "/profile", "GET ", "GET other profile"}
	if len(rows) != 4 {
		t.Fatalf("rows %v", rows)
	}
	for i, w := range want {
		if i == 2 {
			if !strings.HasPrefix(rows[i].key, "GET http://127.0.0.1:") || !strings.HasSuffix(rows[i].key, "/profile") || rows[i].key == want[1] {
				t.Errorf("row %d: %q, want the user's own host's full URL without the fragment", i, rows[i].key)
			}
			continue
		}
		if rows[i].key != w {
			t.Errorf("row %d: %q, want %q", i, rows[i].key, w)
		}
	}
}

// The session a locustfile keeps on self.client: default headers, Basic
// credentials, cookies; per request auth=, cookies=, files=,
// allow_redirects=False. u.client is u, so self.client.X ports as
// u.client.X.
func TestSessionAndRequestOptions(t *testing.T) {
	t.Parallel()
	rows, st, counts := onTarget(t, `
def t(u):
    u.client.headers["X-Tenant"] = "acme"
    u.headers.update({"Accept": "application/json"})
    e = u.client.get("/echo", headers={"Accept": "text/plain"}).json()
    u.state["tenant"] = e["headers"]["X-Tenant"][0]
    u.state["accept"] = e["headers"]["Accept"][0]
    u.state["auth_none"] = u.get("/basic-auth/ann/pw").status
    u.state["auth_req"] = u.get("/basic-auth/ann/pw", auth=("ann", "pw")).status
    u.auth = ("ann", "pw")
    u.state["auth_session"] = u.get("/basic-auth/ann/pw").status
    u.auth = None
    u.get("/cookies/set?sid=s1")
    u.set_cookie("lang", "fr")
    c = u.get("/cookies", cookies={"extra": "1"}).json()["cookies"]
    u.state["cookies"] = c
    u.clear_cookies()
    u.state["cleared"] = u.get("/cookies").json()["cookies"]
    f = u.post("/echo", data={"title": "t"}, files={"up": ("a.txt", "hello", "text/plain"), "raw": b"xyz"}).json()
    u.state["file"] = f["files"]["up"][0]
    u.state["raw"] = f["files"]["raw"][0]["content"]
    u.state["title"] = f["form"]["title"][0]
    r = u.get("/redirect/2", allow_redirects=False)
    u.state["redirect"] = [r.status, r.headers.get("Location", "")]
`)
	if st["tenant"] != "acme" || st["accept"] != "text/plain" {
		t.Errorf("headers: tenant %v accept %v; want the session's, overridden by the request's", st["tenant"], st["accept"])
	}
	if st["auth_none"] != int64(401) || st["auth_req"] != int64(200) || st["auth_session"] != int64(200) {
		t.Errorf("auth: none %v, auth= %v, u.auth %v; want 401, 200, 200", st["auth_none"], st["auth_req"], st["auth_session"])
	}
	c := st["cookies"].(map[string]any)
	if c["sid"] != "s1" || c["lang"] != "fr" || c["extra"] != "1" || len(st["cleared"].(map[string]any)) != 0 {
		t.Errorf("cookies %v, after clear_cookies %v", c, st["cleared"])
	}
	f := st["file"].(map[string]any)
	if f["filename"] != "a.txt" || f["content"] != "hello" || f["content_type"] != "text/plain" || st["raw"] != "xyz" || st["title"] != "t" {
		t.Errorf("files: %v raw %v title %v", f, st["raw"], st["title"])
	}
	if r := st["redirect"].([]any); r[0] != int64(302) || r[1] != "/redirect/1" {
		t.Errorf("allow_redirects=False: %v, want the 302 itself", r)
	}
	if counts["GET /redirect/1"] != 0 || counts["GET /redirect/2"] != 1 {
		t.Errorf("the target served %v: the redirect was followed", counts)
	}
	for _, r := range rows {
		if r.key == "GET /basic-auth/ann/pw" && r.err != "" && r.err != "HTTP 401 Unauthorized" {
			t.Errorf("row %v", r)
		}
	}
}

// Response headers match without regard to case, as requests'
// CaseInsensitiveDict: a port that reads r.headers["Content-Type"] gets
// the header, not a KeyError.
func TestResponseHeadersIgnoreCase(t *testing.T) {
	t.Parallel()
	_, st, _ := onTarget(t, `
def t(u):
    r = u.get("/echo")
    h = r.headers
    u.state["exact"] = h["Content-Type"]
    u.state["lower"] = h["content-type"]
    u.state["get"] = h.get("CONTENT-TYPE")
    u.state["missing"] = h.get("X-Nope", "none")
    u.state["in"] = "Content-Length" in h
    u.state["keys"] = "content-type" in h.keys()
    u.state["dict"] = dict(h)["content-type"]
    u.state["len"] = len(h) > 0
`)
	for _, k := range []string{"exact", "lower", "get", "dict"} {
		if !strings.HasPrefix(st[k].(string), "application/json") {
			t.Errorf("%s: %v", k, st[k])
		}
	}
	if st["missing"] != "none" || st["in"] != true || st["keys"] != true || st["len"] != true {
		t.Errorf("state %v", st)
	}
}

// verify=False per request, or u.verify = False for the session, as
// requests' verify: a self-signed server is reached only then.
func TestVerifyFalse(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	sc := mustLoad(t, `
def t(u):
    u.state["default"] = u.get("`+srv.URL+`/").error
    u.state["request"] = u.get("`+srv.URL+`/", verify=False).status
    u.state["again"] = u.get("`+srv.URL+`/").error
    u.verify = False
    u.state["session"] = u.get("`+srv.URL+`/").status
    u.state["override"] = u.get("`+srv.URL+`/", verify=True).error
users = [user(name='U', tasks=[t])]
`)
	vu, _ := newVU(t, 1, "http://127.0.0.1:1")
	if err := task(t, sc, "t")(t.Context(), vu); err != nil {
		t.Fatal(err)
	}
	st := toGo(vu.Local.(*vuState).user.state).(map[string]any)
	if st["default"] != "tls error" || st["request"] != int64(200) || st["again"] != "tls error" ||
		st["session"] != int64(200) || st["override"] != "tls error" {
		t.Errorf("state %v", st)
	}
}
