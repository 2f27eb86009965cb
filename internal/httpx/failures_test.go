package httpx

import (
	"context"
	"encoding/pem"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// promptly is far below the 60 s default timeout; it only checks that an
// abort did not wait for a default, not how fast it was.
const promptly = 10 * time.Second

// blockingServer answers nothing until the client goes away or the test
// ends; each arrival is signalled on the returned channel.
func blockingServer(t *testing.T, drain ...time.Duration) (*Client, <-chan struct{}) {
	t.Helper()
	arrived := make(chan struct{}, 16)
	done := make(chan struct{})
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done) }) // runs before srv.Close
	o := Options{BaseURL: srv.URL}
	if len(drain) > 0 {
		o.Drain = drain[0]
	}
	return newClient(t, o), arrived
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		factory time.Duration
		request time.Duration
	}{
		{"client default", 100 * time.Millisecond, 0},
		{"per request overrides", time.Hour, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := blockingServer(t)
			c2 := newFactory(t, Options{BaseURL: c.BaseURL(), Timeout: tt.factory}).NewClient()
			defer c2.Close()
			r := c2.Do(t.Context(), &Request{URL: "/", Timeout: tt.request})
			if r.ErrKind != KindTimeout || r.Status != 0 || r.Err == nil {
				t.Fatalf("kind %q status %d err %v, want %q", r.ErrKind, r.Status, r.Err, KindTimeout)
			}
			if r.Elapsed < 100*time.Millisecond || r.Elapsed > promptly {
				t.Fatalf("Elapsed = %v, want about the 100ms timeout", r.Elapsed)
			}
		})
	}
}

func TestTimeoutWhileReadingBody(t *testing.T) {
	t.Parallel()
	done := make(chan struct{})
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done) })
	c := newClient(t, Options{BaseURL: srv.URL, Timeout: 100 * time.Millisecond})
	r := c.Do(t.Context(), &Request{URL: "/"})
	if r.ErrKind != KindTimeout || r.Status != 0 {
		t.Fatalf("kind %q status %d err %v, want timeout", r.ErrKind, r.Status, r.Err)
	}
	if r.Timings.TTFB <= 0 {
		t.Fatalf("TTFB = %v, want the headers' arrival", r.Timings.TTFB)
	}
}

// With the drain off (or once it has run out), a cancel aborts the
// request in flight at once.
func TestCancelIsPromptAndNotATimeout(t *testing.T) {
	t.Parallel()
	c, arrived := blockingServer(t, -1)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	r := c.Do(ctx, &Request{URL: "/"})
	if r.ErrKind != KindCanceled {
		t.Fatalf("kind %q err %v, want %q", r.ErrKind, r.Err, KindCanceled)
	}
	if r.Elapsed > promptly {
		t.Fatalf("cancel took %v", r.Elapsed)
	}
	// An already-ended context is canceled too, even with a custom cause.
	ctx, cancelCause := context.WithCancelCause(t.Context())
	cancelCause(os.ErrClosed)
	if r := c.Do(ctx, &Request{URL: "/"}); r.ErrKind != KindCanceled {
		t.Fatalf("kind %q, want %q", r.ErrKind, KindCanceled)
	}
}

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newClient(t, Options{})
	r := c.Do(t.Context(), &Request{URL: "http://" + addr + "/"})
	if r.ErrKind != KindConnRefused || r.BytesSent != 0 {
		t.Fatalf("kind %q err %v sent %d, want %q and nothing sent", r.ErrKind, r.Err, r.BytesSent, KindConnRefused)
	}
}

func TestMisbehavingServers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		serve func(c net.Conn)
		want  string
	}{
		{"reset", func(c net.Conn) {
			c.(*net.TCPConn).SetLinger(0) // close sends RST
		}, KindConnReset},
		{"closes without reply", func(net.Conn) {}, KindEOF},
		{"garbage bytes", func(c net.Conn) {
			c.Write([]byte("\x00\x01 not HTTP at all\r\n\r\n"))
		}, KindProtocol},
		{"bad status line", func(c net.Conn) {
			c.Write([]byte("HTTP/1.1 abc OK\r\n\r\n"))
		}, KindProtocol},
		{"bad chunked body", func(c net.Conn) {
			c.Write([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n"))
		}, KindProtocol},
		{"truncated body", func(c net.Conn) {
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"))
		}, KindEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, Options{BaseURL: rawServer(t, tt.serve)})
			r := c.Do(t.Context(), &Request{URL: "/"})
			t.Logf("err: %v", r.Err)
			if r.ErrKind != tt.want || r.Status != 0 || r.Err == nil {
				t.Fatalf("kind %q status %d err %v, want %q", r.ErrKind, r.Status, r.Err, tt.want)
			}
		})
	}
}

func TestResetByHijackingHandler(t *testing.T) {
	t.Parallel()
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		conn.(*net.TCPConn).SetLinger(0)
		conn.Close()
	}))
	c := newClient(t, Options{BaseURL: srv.URL})
	if r := c.Do(t.Context(), &Request{URL: "/"}); r.ErrKind != KindConnReset {
		t.Fatalf("kind %q err %v, want %q", r.ErrKind, r.Err, KindConnReset)
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	srv := newTLSServer(t)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"unknown CA", Options{}, KindTLS},
		{"insecure", Options{Insecure: true}, ""},
		{"extra CA", Options{CAPEM: certPEM}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.o.BaseURL = srv.URL
			c := newClient(t, tt.o)
			r := c.Do(t.Context(), &Request{URL: "/"})
			t.Logf("err: %v", r.Err)
			if r.ErrKind != tt.want {
				t.Fatalf("kind %q err %v, want %q", r.ErrKind, r.Err, tt.want)
			}
			if tt.want == "" && (r.Status != 200 || r.Timings.TLS <= 0) {
				t.Fatalf("status %d TLS time %v, want 200 and a handshake", r.Status, r.Timings.TLS)
			}
		})
	}
	t.Run("plain HTTP to a TLS port", func(t *testing.T) {
		t.Parallel()
		c := newClient(t, Options{})
		r := c.Do(t.Context(), &Request{URL: strings.Replace(srv.URL, "https://", "http://", 1)})
		if r.Status != http.StatusBadRequest && r.Err == nil {
			t.Fatalf("status %d, want a 400 or an error", r.Status)
		}
	})
}

func TestBadCAPEM(t *testing.T) {
	t.Parallel()
	for _, pemBytes := range [][]byte{[]byte("not a certificate"), []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")} {
		_, err := NewFactory(Options{CAPEM: pemBytes})
		if err == nil || !strings.Contains(err.Error(), "no PEM certificates found") {
			t.Errorf("CAPEM %q: err = %v, want one saying no PEM certificates were found", pemBytes, err)
		}
	}
}

// afterFuncCtx is a context with an AfterFunc method of its own, as the
// runner's user contexts have; it counts the registrations made through it.
type afterFuncCtx struct {
	context.Context
	registered atomic.Int32
}

func (c *afterFuncCtx) AfterFunc(f func()) func() bool {
	c.registered.Add(1)
	return context.AfterFunc(c.Context, f)
}

// A context's own AfterFunc is what watches it: the client registers
// through it (not through a context of context.AfterFunc's), and its
// cancel still aborts the request in flight promptly.
func TestCancelThroughTheContextsAfterFunc(t *testing.T) {
	t.Parallel()
	c, arrived := blockingServer(t, -1)
	inner, cancel := context.WithCancel(t.Context())
	ctx := &afterFuncCtx{Context: inner}
	go func() {
		<-arrived
		cancel()
	}()
	r := c.Do(ctx, &Request{URL: "/"})
	if r.ErrKind != KindCanceled {
		t.Fatalf("kind %q err %v, want %q", r.ErrKind, r.Err, KindCanceled)
	}
	if r.Elapsed > promptly {
		t.Fatalf("cancel took %v", r.Elapsed)
	}
	if ctx.registered.Load() == 0 {
		t.Fatal("the client did not watch the context through its AfterFunc method")
	}
}

// userLikeCtx is a context as a runner's user has: it ends through its
// AfterFunc registrations, and it counts who asks it for a Done channel
// (which a user's context makes on demand and then keeps).
type userLikeCtx struct {
	afterFuncCtx
	doneAsked atomic.Int32
}

func (c *userLikeCtx) Done() <-chan struct{} {
	c.doneAsked.Add(1)
	return c.afterFuncCtx.Done()
}

// A user whose context ends while its connection is being set up (here a
// TLS handshake the server never answers) has the dial cancelled at once,
// and a whole request — dial, TLS, exchange — never asks the user's
// context for a Done channel: an idle user keeps none.
func TestUserStopsDuringTheDial(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if nc, err := ln.Accept(); err == nil {
			accepted <- nc // held open, never answered
		}
	}()
	c := newClient(t, Options{BaseURL: "https://" + ln.Addr().String(), Insecure: true})
	inner, cancel := context.WithCancel(t.Context())
	ctx := &userLikeCtx{afterFuncCtx: afterFuncCtx{Context: inner}}
	go func() {
		nc := <-accepted
		defer nc.Close()
		time.Sleep(50 * time.Millisecond) // the ClientHello is on its way
		cancel()
	}()
	r := c.Do(ctx, &Request{URL: "/"})
	if r.ErrKind != KindCanceled || r.Elapsed > promptly {
		t.Fatalf("kind %q err %v after %v, want %q at once", r.ErrKind, r.Err, r.Elapsed, KindCanceled)
	}
	if n := ctx.doneAsked.Load(); n != 0 {
		t.Errorf("the user's context was asked for its Done channel %d times, want never", n)
	}

	// A whole request on a fresh user: no Done channel either.
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	c = newClient(t, Options{BaseURL: srv.URL})
	ctx = &userLikeCtx{afterFuncCtx: afterFuncCtx{Context: t.Context()}}
	if r := c.Do(ctx, &Request{URL: "/"}); r.Err != nil || r.Status != http.StatusOK {
		t.Fatalf("GET: %v %d", r.Err, r.Status)
	}
	if n := ctx.doneAsked.Load(); n != 0 {
		t.Errorf("a request asked the user's context for its Done channel %d times, want never", n)
	}
}
