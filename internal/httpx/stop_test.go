package httpx

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A user that stops: the drain of its request in flight, and no harm to the next.

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
