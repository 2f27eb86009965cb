package httpx

import (
	"bufio"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newServer starts an httptest server on 127.0.0.1:0 that is closed when
// the test ends; its error log is silenced (tests provoke errors).
// configure, if given, changes the server before it starts.
func newServer(t testing.TB, h http.Handler, configure ...func(*http.Server)) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	for _, f := range configure {
		f(srv.Config)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// newFactory builds a factory or fails the test.
func newFactory(t testing.TB, o Options) *Factory {
	t.Helper()
	f, err := NewFactory(o)
	if err != nil {
		t.Fatalf("NewFactory(%+v): %v", o, err)
	}
	return f
}

// newClient builds a client whose idle connections are closed at the end.
func newClient(t testing.TB, o Options) *Client {
	t.Helper()
	c := newFactory(t, o).NewClient()
	t.Cleanup(c.Close)
	return c
}

// rawServer listens on 127.0.0.1:0 and runs serve for each connection
// after reading one request's head; it returns the base URL.
func rawServer(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					return
				}
				serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return "http://" + ln.Addr().String()
}

// mustDo sends a GET and fails the test on any error.
func mustGet(t *testing.T, c *Client, url string) *Response {
	t.Helper()
	r := c.Do(t.Context(), &Request{URL: url})
	if r.Err != nil {
		t.Fatalf("GET %s: %v (%s)", url, r.Err, r.ErrKind)
	}
	return r
}

// newTLSServer starts an HTTPS httptest server answering 200 "tls".
func newTLSServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "tls")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}
