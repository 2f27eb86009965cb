package httpx

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A Host header set by a script is written as given; one with a line
// break must not add headers or a second request on the connection.
func TestHostHeaderCannotSmuggle(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		seen []string
	)
	url, _ := connServer(t, func(c net.Conn, req *http.Request, n int) bool {
		mu.Lock()
		seen = append(seen, req.Method+" "+req.URL.Path+" injected="+req.Header.Get("X-Injected"))
		mu.Unlock()
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
		return false
	})
	c := newClient(t, Options{BaseURL: url})
	for _, host := range []string{
		"ok\r\nX-Injected: 1",
		"ok\r\nContent-Length: 0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: ok",
		"ok\nX-Injected: 1",
	} {
		r := c.Do(t.Context(), &Request{URL: "/", Header: http.Header{"Host": {host}}})
		if r.Err == nil || r.ErrKind != KindProtocol {
			t.Errorf("Host %q: status %d, kind %q, err %v; want a protocol error and nothing sent", host, r.Status, r.ErrKind, r.Err)
		}
	}
	// A good request on the same client still goes out, so that the
	// server's view below is complete.
	if r := c.Do(t.Context(), &Request{URL: "/last", Header: http.Header{"Host": {"example.com:8080"}}}); r.Err != nil {
		t.Fatalf("valid Host override: %v", r.Err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != "GET /last injected=" {
		t.Fatalf("the server saw %q, want only the last, valid request", seen)
	}
}

// A relative URL whose query holds an absolute URL (a login's "next",
// an OAuth redirect_uri, `horde run http://h/r?u=http://x`) is relative
// all the same.
func TestRelativeURLWithURLInQuery(t *testing.T) {
	t.Parallel()
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.Path+" "+r.URL.Query().Get("next"))
	}))
	c := newClient(t, Options{BaseURL: srv.URL})
	for _, ref := range []string{"/login?next=http://example.com/x", "login?next=https://example.com/x"} {
		r := c.Do(t.Context(), &Request{URL: ref})
		if r.Err != nil || r.Status != 200 || !strings.HasPrefix(string(r.Body), "/login http") {
			t.Errorf("GET %q: status %d body %q err %v (%s)", ref, r.Status, r.Body, r.Err, r.ErrKind)
		}
	}
	// Still rejected: another scheme, which must not be appended to the base.
	if r := c.Do(t.Context(), &Request{URL: "ftp://example.com/x"}); r.ErrKind != KindInvalidURL {
		t.Errorf("ftp URL: kind %q, want %q", r.ErrKind, KindInvalidURL)
	}
}

// The deadline of a request stays on its connection when the connection
// goes idle. Once it has passed, the peek that checks an idle connection
// must not take the expired deadline for a dead connection: a user with
// a short timeout and a wait between requests would reconnect every time.
func TestIdleConnectionOutlivesTheLastRequestsDeadline(t *testing.T) {
	t.Parallel()
	url, conns := connServer(t, func(c net.Conn, req *http.Request, n int) bool {
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		return false
	})
	const timeout = 30 * time.Millisecond
	c := newClient(t, Options{BaseURL: url, Timeout: timeout})
	mustGet(t, c, "/")
	for i := range 2 {
		// The scenario is time passing: the connection's deadline (the
		// timeout plus at most 1/64 of it) runs out while it is idle.
		time.Sleep(3 * timeout)
		// A POST checks the idle connection before it is sent.
		if r := c.Do(t.Context(), &Request{Method: "POST", URL: "/"}); r.Err != nil || r.Status != 200 {
			t.Fatalf("POST %d: %v (%s)", i, r.Err, r.ErrKind)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for 3 requests to a server that kept its connection open, want 1", n)
	}
}

// A TLS server that closes an idle connection sends close_notify before
// its FIN: the idle check must see that as closed, not as a pending
// session ticket, or a POST (which cannot be retried) fails with EOF.
func TestPostAfterTLSServerClosedIdleConnection(t *testing.T) {
	t.Parallel()
	closed := make(chan struct{}, 4)
	srv := newUnstartedTLS(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			closed <- struct{}{}
		}
	}
	srv.Config.IdleTimeout = 20 * time.Millisecond
	srv.StartTLS()
	c := newClient(t, Options{BaseURL: srv.URL, Insecure: true})
	mustGet(t, c, "/")
	select {
	case <-closed: // the server closed the idle connection
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not close the idle connection")
	}
	r := c.Do(t.Context(), &Request{Method: "POST", URL: "/", Body: []byte("x")})
	if r.Err != nil || r.Status != 200 {
		t.Fatalf("POST after the server closed the idle connection: %v (%s)", r.Err, r.ErrKind)
	}
}

// The idle check of a TLS connection reads what is pending through TLS;
// a live connection is kept all the same, for GETs and for POSTs (which
// are always checked).
func TestTLSIdleConnectionIsReused(t *testing.T) {
	t.Parallel()
	var conns atomic.Int64
	srv := newUnstartedTLS(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	c := newClient(t, Options{BaseURL: srv.URL, Insecure: true})
	for _, m := range []string{"GET", "POST", "POST", "GET", "POST"} {
		if r := c.Do(t.Context(), &Request{Method: m, URL: "/"}); r.Err != nil || r.Status != 200 {
			t.Fatalf("%s: %v (%s)", m, r.Err, r.ErrKind)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
}

// newUnstartedTLS is an httptest server for StartTLS, closed at the end.
func newUnstartedTLS(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	t.Cleanup(srv.Close)
	return srv
}

// A request whose context ends while another request of the same client
// is on the connection the first one just gave back must not move that
// connection's deadline: the second request is not the stopped one.
func TestStopDoesNotAbortTheNextRequestOnTheSameConnection(t *testing.T) {
	t.Parallel()
	arrivedB := make(chan struct{})
	releaseB := make(chan struct{})
	var armed atomic.Bool
	url, conns := connServer(t, func(c net.Conn, req *http.Request, n int) bool {
		switch req.URL.Path {
		case "/a":
			armed.Store(true) // the next look at the jar is A's storing of this cookie
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nContent-Length: 1\r\n\r\na")
		case "/b":
			close(arrivedB)
			<-releaseB
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb")
		}
		return false
	})
	// localhost rather than 127.0.0.1: the jar asks its public suffix
	// list about host names only, and that is where the test steps in.
	base := strings.Replace(url, "127.0.0.1", "localhost", 1)
	c := newClient(t, Options{BaseURL: base, Drain: -1})
	ctxA, cancelA := context.WithCancel(context.Background())
	defer cancelA()
	gotB := make(chan *Response, 1)
	hook := func() {
		// A has read its response and given its connection back; it is
		// storing its cookie. Meanwhile B takes the connection...
		go func() { gotB <- c.Do(context.Background(), &Request{URL: "/b"}) }()
		select {
		case <-arrivedB:
		case <-time.After(5 * time.Second):
			t.Error("B never reached the server")
		}
		// ... and A's user stops (the AfterFunc would call this too).
		cancelA()
		c.stopCalls(ctxA)
		close(releaseB)
	}
	jar, err := cookiejar.New(&cookiejar.Options{PublicSuffixList: suffixHook{armed: &armed, fn: hook}})
	if err != nil {
		t.Fatal(err)
	}
	c.jar = jar
	if r := c.Do(ctxA, &Request{URL: "/a"}); r.Err != nil || string(r.Body) != "a" {
		t.Fatalf("A: %v (%s) body %q", r.Err, r.ErrKind, r.Body)
	}
	rb := <-gotB
	if rb.Err != nil || string(rb.Body) != "b" {
		t.Fatalf("B, whose context never ended, failed: %v (%s)", rb.Err, rb.ErrKind)
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections, want 1: B was to reuse A's", n)
	}
}

// suffixHook is a public suffix list that knows no suffixes and runs fn
// at the first question after armed is set.
type suffixHook struct {
	armed *atomic.Bool
	fn    func()
}

func (s suffixHook) PublicSuffix(domain string) string {
	if s.armed.CompareAndSwap(true, false) {
		s.fn()
	}
	return domain
}

func (s suffixHook) String() string { return "test hook" }

// A request that says Connection: close is the last on its connection
// (RFC 9112 section 9.6), even when the server does not answer with
// Connection: close itself.
func TestRequestConnectionCloseIsHonoured(t *testing.T) {
	t.Parallel()
	var reused atomic.Int64
	url, conns := connServer(t, func(c net.Conn, req *http.Request, n int) bool {
		if n > 1 {
			reused.Add(1)
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		return false // does not close, nor say it will
	})
	c := newClient(t, Options{BaseURL: url})
	for range 3 {
		r := c.Do(t.Context(), &Request{URL: "/", Header: http.Header{"Connection": {"close"}}})
		if r.Err != nil || r.Status != 200 {
			t.Fatalf("GET: %v (%s)", r.Err, r.ErrKind)
		}
	}
	if reused.Load() != 0 || conns.Load() != 3 {
		t.Fatalf("%d requests sent after Connection: close on %d connections, want 0 on 3", reused.Load(), conns.Load())
	}
}

// Framing and Connection headers of HTTP/1.0 responses: "close" wins
// whatever the order, and Transfer-Encoding in HTTP/1.0 is faulty framing
// (RFC 9112 section 6.1): ignored as net/http does, the connection closed.
func TestHTTP10ConnectionRules(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, in, body string }{
		{"close then keep-alive", "HTTP/1.0 200 OK\r\nConnection: close, keep-alive\r\nContent-Length: 1\r\n\r\nx", "x"},
		{"two headers", "HTTP/1.0 200 OK\r\nConnection: close\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx", "x"},
		{"chunked", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", "1\r\nx\r\n0\r\n\r\n"},
		{"chunked with length", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\nx", "x"},
		{"found by fuzzing", "HTTP/1.0 200\nTrAnsfer-EnCoding:Chunked\n\n00\n\n", "00\n\n"},
		{"other coding", "HTTP/1.0 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw", "raw"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, body, err := readAll(tt.in, "GET")
			if err != nil || string(body) != tt.body {
				t.Fatalf("body %q err %v, want %q", body, err, tt.body)
			}
			if !h.close {
				t.Fatal("the connection would be reused")
			}
			resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(tt.in)), nil)
			if err != nil {
				t.Fatal(err)
			}
			if want, _ := io.ReadAll(resp.Body); string(want) != string(body) {
				t.Fatalf("net/http reads %q, horde %q", want, body)
			}
		})
	}
}

// A client keeps an idle connection to every host it has talked to; one
// not used for a long time is closed at the client's next request, as
// net/http's IdleConnTimeout did, so that a script that visits many
// hosts does not hold a descriptor for each of them for its whole life.
func TestLongIdleConnectionsToOtherHostsAreClosed(t *testing.T) {
	t.Parallel()
	urlA, _ := connServer(t, func(c net.Conn, req *http.Request, n int) bool {
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		return false
	})
	urlB, _ := connServer(t, func(c net.Conn, req *http.Request, n int) bool {
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		return false
	})
	c := newClient(t, Options{})
	mustGet(t, c, urlB+"/")
	mustGet(t, c, urlA+"/")
	c.mu.Lock()
	for _, pc := range c.idle { // as if B's had been idle for long
		if strings.HasSuffix(urlB, pc.key[len("http://"):]) {
			pc.idleAt = pc.idleAt.Add(-2 * idleConnTimeout)
		}
	}
	c.mu.Unlock()
	mustGet(t, c, urlA+"/")
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.idle) != 1 || !strings.HasSuffix(urlA, c.idle[0].key[len("http://"):]) {
		keys := make([]string, 0, len(c.idle))
		for _, pc := range c.idle {
			keys = append(keys, pc.key)
		}
		t.Fatalf("idle connections %v, want only %s's", keys, urlA)
	}
}

// User info in a URL is sent as Basic auth, as net/http (and so the
// client before this engine, and Locust's requests) does, unless the
// request sets its own Authorization; it is not sent to a redirect's
// target without user info.
func TestURLUserInfoIsBasicAuth(t *testing.T) {
	t.Parallel()
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/away" { // an absolute Location, without user info
			http.Redirect(w, r, "http://"+r.Host+"/end", http.StatusFound)
			return
		}
		user, pass, ok := r.BasicAuth()
		fmt.Fprintf(w, "%v %s %s %s", ok, user, pass, r.Header.Get("Authorization"))
	}))
	c := newClient(t, Options{})
	withUser := strings.Replace(srv.URL, "http://", "http://alice:s%3Acret@", 1)
	for _, tt := range []struct {
		url  string
		hdr  http.Header
		want string
	}{
		{withUser + "/", nil, "true alice s:cret Basic YWxpY2U6czpjcmV0"},
		{withUser + "/", http.Header{"Authorization": {"Bearer t"}}, "false   Bearer t"},
		{withUser + "/away", nil, "false   "},
		{srv.URL + "/", nil, "false   "},
	} {
		r := c.Do(t.Context(), &Request{URL: tt.url, Header: tt.hdr})
		if r.Err != nil || string(r.Body) != tt.want {
			t.Errorf("GET %s %v: body %q err %v, want %q", tt.url, tt.hdr, r.Body, r.Err, tt.want)
		}
	}
}

// A request in flight when its user stops may finish within the drain;
// if its own timeout runs out first, that is a timeout of the target and
// is reported as one (the runner records it), not as a cancellation.
func TestTimeoutDuringDrainIsATimeout(t *testing.T) {
	t.Parallel()
	c, arrived := blockingServer(t, 10*time.Second)
	c2 := newFactory(t, Options{BaseURL: c.BaseURL(), Timeout: 200 * time.Millisecond, Drain: 10 * time.Second}).NewClient()
	defer c2.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan *Response, 1)
	go func() { got <- c2.Do(ctx, &Request{URL: "/"}) }()
	<-arrived
	cancel() // the user stops while the request is in flight
	r := <-got
	if r.ErrKind != KindTimeout {
		t.Fatalf("kind %q (err %v), want %q", r.ErrKind, r.Err, KindTimeout)
	}
	if r.Elapsed > promptly {
		t.Fatalf("Elapsed = %v: the drain, not the timeout, ended it", r.Elapsed)
	}
}
