package httpx

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func sessionHandler() http.Handler {
	var next atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s" + strconv.FormatInt(next.Add(1), 10), Path: "/"})
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie("session")
		if err != nil {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, ck.Value)
	})
	return mux
}

func TestCookiesPersistWithinClientAndAreIsolatedAcrossClients(t *testing.T) {
	t.Parallel()
	srv := newServer(t, sessionHandler())
	f := newFactory(t, Options{BaseURL: srv.URL})
	alice, bob := f.NewClient(), f.NewClient()
	defer alice.Close()
	defer bob.Close()

	if r := alice.Do(t.Context(), &Request{Method: "POST", URL: "/login"}); r.Status != 200 {
		t.Fatalf("login: %d %v", r.Status, r.Err)
	}
	r := mustGet(t, alice, "/whoami")
	if r.Status != 200 || string(r.Body) != "s1" {
		t.Fatalf("alice whoami = %d %q, want 200 s1", r.Status, r.Body)
	}
	if got := alice.Cookies("/"); len(got) != 1 || got[0].Value != "s1" {
		t.Fatalf("alice.Cookies = %v, want session=s1", got)
	}
	if r := mustGet(t, bob, "/whoami"); r.Status != http.StatusUnauthorized {
		t.Fatalf("bob whoami = %d, want 401: cookies leaked across clients", r.Status)
	}
	if got := bob.Cookies(srv.URL); len(got) != 0 {
		t.Fatalf("bob.Cookies = %v, want none", got)
	}
}

func TestKeepAlive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		disable   bool
		wantConns int64
	}{
		{"reuses one connection", false, 1},
		{"disabled opens one per request", true, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var conns atomic.Int64
			srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, "hello")
			}), func(s *http.Server) {
				s.ConnState = func(_ net.Conn, s http.ConnState) {
					if s == http.StateNew {
						conns.Add(1)
					}
				}
			})
			c := newClient(t, Options{BaseURL: srv.URL, DisableKeepAlive: tt.disable})
			for range 5 {
				mustGet(t, c, "/")
			}
			if got := conns.Load(); got != tt.wantConns {
				t.Fatalf("server saw %d new connections, want %d", got, tt.wantConns)
			}
		})
	}
}

// redirectHandler serves /r/{n}: a chain of n redirects ending at /end.
func redirectHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/r/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n <= 1 {
			http.Redirect(w, r, "/end", http.StatusFound)
			return
		}
		http.Redirect(w, r, "/r/"+strconv.Itoa(n-1), http.StatusFound)
	})
	mux.HandleFunc("/end", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "end") })
	return mux
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	srv := newServer(t, redirectHandler())
	tests := []struct {
		name         string
		maxRedirects int
		path         string
		wantStatus   int
		wantKind     string
		wantURL      string
	}{
		{"followed to the end", 0, "/r/3", 200, "", "/end"},
		{"exactly the default limit", 0, "/r/10", 200, "", "/end"},
		{"one past the default limit", 0, "/r/11", 0, KindTooManyRedirects, ""},
		{"custom limit reached", 2, "/r/3", 0, KindTooManyRedirects, ""},
		{"custom limit kept", 3, "/r/3", 200, "", "/end"},
		{"not followed", -1, "/r/3", http.StatusFound, "", "/r/3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, Options{BaseURL: srv.URL, MaxRedirects: tt.maxRedirects})
			r := c.Do(t.Context(), &Request{URL: tt.path})
			if r.Status != tt.wantStatus || r.ErrKind != tt.wantKind {
				t.Fatalf("status %d kind %q (err %v), want %d %q", r.Status, r.ErrKind, r.Err, tt.wantStatus, tt.wantKind)
			}
			if tt.wantURL != "" && r.URL != srv.URL+tt.wantURL {
				t.Fatalf("URL = %q, want %q", r.URL, srv.URL+tt.wantURL)
			}
			if tt.wantStatus == 200 && string(r.Body) != "end" {
				t.Fatalf("body = %q", r.Body)
			}
		})
	}
}

func TestRedirectBytesSentAddsUpHops(t *testing.T) {
	t.Parallel()
	srv := newServer(t, redirectHandler())
	c := newClient(t, Options{BaseURL: srv.URL})
	one := mustGet(t, c, "/end").BytesSent
	three := mustGet(t, c, "/r/2").BytesSent // /r/2 → /r/1 → /end
	if three < 2*one {
		t.Fatalf("BytesSent over 3 hops = %d, single request = %d; want the hops added up", three, one)
	}
}

func TestTimingsNewAndReusedConnection(t *testing.T) {
	t.Parallel()
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "x") }))
	c := newClient(t, Options{BaseURL: srv.URL})
	first := mustGet(t, c, "/").Timings
	if first.Connect <= 0 || first.TTFB <= 0 {
		t.Fatalf("new connection timings = %+v, want Connect and TTFB > 0", first)
	}
	second := mustGet(t, c, "/")
	if second.Timings.Connect != 0 || second.Timings.TLS != 0 || second.Timings.TTFB <= 0 {
		t.Fatalf("reused connection timings = %+v, want Connect 0 and TTFB > 0", second.Timings)
	}
	if second.Elapsed < second.Timings.TTFB {
		t.Fatalf("Elapsed %v < TTFB %v", second.Elapsed, second.Timings.TTFB)
	}
}

func bytesHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		w.Write([]byte(strings.Repeat("a", n)))
	})
}

func TestBodyIsCappedButFullyCounted(t *testing.T) {
	t.Parallel()
	srv := newServer(t, bytesHandler())
	tests := []struct {
		name     string
		query    string
		discard  bool
		wantKept int
		wantRecv int64
	}{
		{"small with length", "n=10", false, 10, 10},
		{"empty", "n=0", false, 0, 0},
		{"over the cap with length", "n=5000", false, 1000, 5000},
		{"over the cap chunked", "n=5000&chunked=1", false, 1000, 5000},
		{"under the cap chunked", "n=700&chunked=1", false, 700, 700},
		{"discarded", "n=5000", true, 0, 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, Options{BaseURL: srv.URL, MaxBodyBytes: 1000})
			r := c.Do(t.Context(), &Request{URL: "/?" + tt.query, DiscardBody: tt.discard})
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			if len(r.Body) != tt.wantKept || r.BytesRecv != tt.wantRecv {
				t.Fatalf("kept %d bytes, counted %d; want %d, %d", len(r.Body), r.BytesRecv, tt.wantKept, tt.wantRecv)
			}
			if tt.discard && r.Body != nil {
				t.Fatal("discarded body was kept")
			}
		})
	}
}

type echoed struct {
	Method, Path, Query, Host, Body string
	Header                          http.Header
}

func echoHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		json.NewEncoder(w).Encode(echoed{r.Method, r.URL.Path, r.URL.RawQuery, r.Host, string(b), r.Header})
	})
}

func TestRequestIsSentAsGiven(t *testing.T) {
	t.Parallel()
	srv := newServer(t, echoHandler())
	tests := []struct {
		name      string
		base      string
		req       Request
		want      echoed
		wantAgent string
	}{
		{"defaults", srv.URL, Request{URL: "/a?x=1"}, echoed{Method: "GET", Path: "/a", Query: "x=1"}, "horde"},
		{"base path is prefixed as Locust does", srv.URL + "/api/", Request{URL: "/login"}, echoed{Method: "GET", Path: "/api/login"}, "horde"},
		{"relative without slash", srv.URL + "/api", Request{URL: "v1"}, echoed{Method: "GET", Path: "/api/v1"}, "horde"},
		{"absolute URL ignores base", "http://127.0.0.1:1", Request{URL: srv.URL + "/abs"}, echoed{Method: "GET", Path: "/abs"}, "horde"},
		{"body and headers", srv.URL, Request{Method: "PUT", URL: "/b", Body: []byte(`{"k":1}`),
			Header: http.Header{"User-Agent": {"mine"}, "X-Test": {"yes"}, "Host": {"example.test"}}},
			echoed{Method: "PUT", Path: "/b", Body: `{"k":1}`, Host: "example.test"}, "mine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hdr := tt.req.Header.Clone()
			c := newClient(t, Options{BaseURL: tt.base})
			r := c.Do(t.Context(), &tt.req)
			if r.Err != nil || r.Status != 200 {
				t.Fatalf("status %d err %v", r.Status, r.Err)
			}
			var got echoed
			if err := json.Unmarshal(r.Body, &got); err != nil {
				t.Fatal(err)
			}
			if got.Method != tt.want.Method || got.Path != tt.want.Path || got.Query != tt.want.Query || got.Body != tt.want.Body {
				t.Fatalf("server saw %+v, want %+v", got, tt.want)
			}
			if tt.want.Host != "" && got.Host != tt.want.Host {
				t.Fatalf("Host = %q, want %q", got.Host, tt.want.Host)
			}
			if ua := got.Header.Get("User-Agent"); ua != tt.wantAgent {
				t.Fatalf("User-Agent = %q, want %q", ua, tt.wantAgent)
			}
			if fmt.Sprint(tt.req.Header) != fmt.Sprint(hdr) {
				t.Fatalf("Do modified the request headers: %v, was %v", tt.req.Header, hdr)
			}
			if min := int64(len(tt.req.Body) + len("GET / HTTP/1.1\r\n\r\n")); r.BytesSent < min {
				t.Fatalf("BytesSent = %d, want at least %d", r.BytesSent, min)
			}
			if r.Proto != "HTTP/1.1" {
				t.Fatalf("Proto = %q", r.Proto)
			}
		})
	}
}

func TestSetBaseURL(t *testing.T) {
	t.Parallel()
	srv := newServer(t, echoHandler())
	c := newClient(t, Options{})
	if r := c.Do(t.Context(), &Request{URL: "/x"}); r.ErrKind != KindInvalidURL {
		t.Fatalf("relative URL without base: kind %q, want %q", r.ErrKind, KindInvalidURL)
	}
	if err := c.SetBaseURL("ftp://example.test"); err == nil {
		t.Fatal("SetBaseURL accepted an ftp URL")
	}
	if err := c.SetBaseURL(srv.URL + "/"); err != nil {
		t.Fatal(err)
	}
	if c.BaseURL() != srv.URL {
		t.Fatalf("BaseURL = %q, want %q (trailing slash dropped)", c.BaseURL(), srv.URL)
	}
	if r := mustGet(t, c, "/x"); r.Status != 200 {
		t.Fatalf("status %d", r.Status)
	}
}

func TestDoNeverPanicsOnBadInput(t *testing.T) {
	t.Parallel()
	c := newClient(t, Options{BaseURL: "http://127.0.0.1:1"})
	tests := []struct {
		name string
		ctx  context.Context
		req  *Request
		want string
	}{
		{"nil request", t.Context(), nil, "error: httpx: nil request"},
		{"nil context", nil, &Request{URL: "http://a b/"}, KindInvalidURL},
		{"bad scheme", t.Context(), &Request{URL: "ftp://example.test/"}, KindInvalidURL},
		{"no host", t.Context(), &Request{URL: "http:///path"}, KindInvalidURL},
		{"bad escape", t.Context(), &Request{URL: "/%zz"}, KindInvalidURL},
		{"bad method", t.Context(), &Request{Method: "GE T", URL: "/"}, `error: invalid method "GE T"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := c.Do(tt.ctx, tt.req) //nolint:staticcheck // a nil context is what is tested
			if r == nil || r.Err == nil || r.Status != 0 || r.ErrKind != tt.want {
				t.Fatalf("got %+v, want error kind %q", r, tt.want)
			}
		})
	}
}

func TestNewFactoryRejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		o    Options
	}{
		{"negative timeout", Options{Timeout: -1}},
		{"negative connect timeout", Options{ConnectTimeout: -1}},
		{"redirects below -1", Options{MaxRedirects: -2}},
		{"negative conns", Options{MaxConnsPerHost: -1}},
		{"negative body cap", Options{MaxBodyBytes: -1}},
		{"relative base", Options{BaseURL: "/api"}},
		{"base without host", Options{BaseURL: "http://"}},
		{"base with query", Options{BaseURL: "http://h/?q=1"}},
		{"CA not PEM", Options{CAPEM: []byte("not a certificate")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := NewFactory(tt.o); err == nil {
				t.Fatalf("NewFactory(%+v) succeeded, want an error", tt.o)
			}
		})
	}
	f, err := NewFactory(Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := f.Options()
	if o.Timeout != DefaultTimeout || o.ConnectTimeout != DefaultConnectTimeout || o.MaxRedirects != DefaultMaxRedirects ||
		o.MaxConnsPerHost != 1 || o.UserAgent != DefaultUserAgent || o.MaxBodyBytes != DefaultMaxBodyBytes {
		t.Fatalf("defaults not applied: %+v", o)
	}
}

// HEAD, 204 and 304 responses carry a Content-Length but no body: they
// succeed, with no bytes read.
func TestBodylessResponsesWithContentLength(t *testing.T) {
	t.Parallel()
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		switch r.URL.Path {
		case "/304":
			w.WriteHeader(http.StatusNotModified)
		default:
			w.WriteHeader(http.StatusOK)
			if r.Method != http.MethodHead {
				_, _ = w.Write([]byte("hello"))
			}
		}
	}))
	c := newFactory(t, Options{BaseURL: srv.URL}).NewClient()
	defer c.Close()
	for _, tt := range []struct {
		method, path string
		status       int
	}{
		{http.MethodHead, "/", 200}, {http.MethodGet, "/304", 304}, {http.MethodGet, "/", 200},
	} {
		resp := c.Do(context.Background(), &Request{Method: tt.method, URL: tt.path})
		if resp.Err != nil || resp.Status != tt.status {
			t.Errorf("%s %s: status %d err %v (%s), want %d", tt.method, tt.path, resp.Status, resp.Err, resp.ErrKind, tt.status)
		}
	}
}

// A request in flight when its user stops still finishes and comes back
// as a real response (so it is measured and counts equal what the server
// served); one the server never answers is abandoned after Drain; and no
// request is sent once the context has ended.
func TestStoppingUserDrainsItsRequestInFlight(t *testing.T) {
	var served atomic.Int64
	release := make(chan struct{})
	stall := make(chan struct{})
	t.Cleanup(func() { close(stall) })
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		switch r.URL.Path {
		case "/slow":
			<-release
		case "/stall":
			select {
			case <-stall:
			case <-r.Context().Done():
			}
		}
		_, _ = io.WriteString(w, "done")
	}))

	t.Run("in flight finishes", func(t *testing.T) {
		c := newClient(t, Options{Drain: 10 * time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		got := make(chan *Response)
		go func() { got <- c.Do(ctx, &Request{URL: srv.URL + "/slow"}) }()
		for served.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel() // the user stops while the server works
		close(release)
		r := <-got
		if r.Err != nil || r.Status != 200 || string(r.Body) != "done" {
			t.Fatalf("the request in flight came back as %q, status %d, err %v; want the server's answer", r.ErrKind, r.Status, r.Err)
		}
	})

	t.Run("stalled gives up after drain", func(t *testing.T) {
		c := newClient(t, Options{Drain: 50 * time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		got := make(chan *Response)
		before := served.Load()
		go func() { got <- c.Do(ctx, &Request{URL: srv.URL + "/stall"}) }()
		for served.Load() == before {
			time.Sleep(time.Millisecond)
		}
		cancel()
		if r := <-got; r.ErrKind != KindCanceled {
			t.Fatalf("a stalled request after the drain: kind %q (err %v), want %q", r.ErrKind, r.Err, KindCanceled)
		}
	})

	t.Run("not sent after stop", func(t *testing.T) {
		c := newClient(t, Options{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		before := served.Load()
		if r := c.Do(ctx, &Request{URL: srv.URL + "/"}); r.ErrKind != KindCanceled {
			t.Fatalf("request under an ended context: kind %q, want %q", r.ErrKind, KindCanceled)
		}
		if n := served.Load() - before; n != 0 {
			t.Fatalf("the server saw %d requests sent after the stop", n)
		}
	})
}
