package script

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/horde-load/horde/internal/buftest"
)

const shopPage = `<!DOCTYPE html>
<html><head><title>Shop</title></head>
<body>
<form action="/login" method="post">
  <input type="hidden" name="csrf" value="t0k3n">
  <input name="user">
</form>
<ul id="items">
  <li class="item" data-id="7"><a href="/item/7">Red <b>shoes</b></a></li>
  <li class="item sale" data-id="9"><a href="/item/9">Blue hat</a><!-- a comment --></li>
</ul>
<p>fish &amp; chips<br>unclosed
</body></html>`

// newHTMLServer serves shopPage at /shop and JSON at /json.
func newHTMLServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/shop", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, shopPage)
	})
	mux.HandleFunc("/json", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"a": 1}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestResponseSelect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expr, want string
		wantErr          string
	}{
		{name: "csrf token", expr: `r.select_one("input[name=csrf]").attr("value")`, want: `"t0k3n"`},
		{name: "all matches in document order", expr: `[e.attr("data-id") for e in r.select("li.item")]`, want: `["7", "9"]`},
		{name: "text of descendants, without comments", expr: `[e.text for e in r.select("#items li")]`, want: `["Red shoes", "Blue hat"]`},
		{name: "inner html", expr: `r.select_one("li.sale").html`, want: `"<a href=\"/item/9\">Blue hat</a><!-- a comment -->"`},
		{name: "outer html", expr: `r.select_one("a").outer_html`, want: `"<a href=\"/item/7\">Red <b>shoes</b></a>"`},
		{name: "entities decoded", expr: `r.select_one("p").text.startswith("fish & chips")`, want: "True"},
		{name: "tag and attrs", expr: `(r.select_one(".sale").tag, r.select_one(".sale").attrs)`, want: `("li", {"class": "item sale", "data-id": "9"})`},
		{name: "missing attribute", expr: `(r.select_one("a").attr("title"), r.select_one("a").attr("title", "none"), r.select_one("a").attr(name="HREF"))`, want: `(None, "none", "/item/7")`},
		{name: "nested select", expr: `[a.attr("href") for li in r.select("li") for a in li.select("a")]`, want: `["/item/7", "/item/9"]`},
		{name: "nested select_one", expr: `(r.select_one("li").select_one("b").text, r.select_one("li").select_one("form"))`, want: `("shoes", None)`},
		{name: "nested select searches descendants only", expr: `len(r.select_one("li").select("li"))`, want: "0"},
		{name: "selector group", expr: `len(r.select("title, input"))`, want: "3"},
		{name: "pseudo-class", expr: `r.select_one("li:nth-child(2) a").text`, want: `"Blue hat"`},
		{name: "no match", expr: `(r.select("table"), r.select_one("table"))`, want: "([], None)"},
		{name: "a body that is not HTML", expr: `(u.get("/json").select("a"), u.get("/json").select_one("body") != None)`, want: "([], True)"},
		{name: "element is printable", expr: `str(r.select_one("a"))`, want: `"<element a>"`},
		{name: "malformed selector", expr: `r.select("a[")`, wantErr: `select: invalid CSS selector "a[": `},
		{name: "malformed selector in select_one", expr: `r.select_one("li >")`, wantErr: `select_one: invalid CSS selector "li >"`},
		{name: "malformed nested selector", expr: `r.select_one("li").select(":nope")`, wantErr: `select: invalid CSS selector ":nope"`},
		{name: "empty selector", expr: `r.select(" ")`, wantErr: "select: empty CSS selector"},
		{name: "selector must be a string", expr: `r.select(1)`, wantErr: "select: for parameter css: got int, want string"},
		{name: "attr name must be a string", expr: `r.select_one("a").attr(1)`, wantErr: "attr: for parameter name: got int, want string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newHTMLServer(t)
			out := &buftest.Buffer{}
			sc, err := loadOpts(t, Options{Stdout: out}, "def t(u):\n    r = u.get('/shop')\n    print(repr("+tc.expr+"))\nusers = user(name='U', tasks=[t])\n")
			if err != nil {
				t.Fatal(err)
			}
			vu, _ := newVU(t, 1, srv.URL)
			err = task(t, sc, "t")(t.Context(), vu)
			if tc.wantErr != "" {
				contains(t, errString(err), tc.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, traceOf(err))
			}
			if got, want := out.String(), "[user 1] "+tc.want+"\n"; got != want {
				t.Errorf("%s\n got %s\nwant %s", tc.expr, got, want)
			}
		})
	}
}

// BenchmarkResponseSelect is a task that fetches a small page and reads a
// form token with select_one: the cost of parsing the body and matching,
// on top of BenchmarkTaskCall's request. Tasks that never select do not
// parse (see BenchmarkTaskCall).
func BenchmarkResponseSelect(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("/shop", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, shopPage) })
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	sc := mustLoad(b, `
def t(u):
    r = u.get("/shop")
    if r.select_one("input[name=csrf]").attr("value") != "t0k3n":
        fail("token")
users = user(name="U", tasks=[t])
`)
	rec := benchTask(b, sc, srv.URL)
	if n := len(rec.all()); n < b.N {
		b.Fatalf("recorded %d of %d", n, b.N)
	}
}
