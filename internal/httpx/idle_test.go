package httpx

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Keep-alive connections: when an idle one is reused, checked or closed.

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
