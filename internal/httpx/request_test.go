package httpx

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Requests as written: headers, URLs, credentials, Connection: close.

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
