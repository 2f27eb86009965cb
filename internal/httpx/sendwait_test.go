//go:build unix

package httpx

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// A request head larger than the socket can take at once (4 MiB of
// header) is written in part by sendWait and the rest as usual: it
// arrives whole, counted exactly, and its response is read.
func TestSendWaitRequestLargerThanTheSocketBuffer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	type got struct {
		n   int
		len int
	}
	read := make(chan got, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		cr := &countingReader{r: c}
		req, err := http.ReadRequest(bufio.NewReader(cr))
		if err != nil {
			read <- got{n: -1}
			return
		}
		read <- got{n: cr.n, len: len(req.Header.Get("X-Big"))}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	}()
	c := newClient(t, Options{BaseURL: "http://" + ln.Addr().String()})
	big := strings.Repeat("x", 4<<20)
	r := c.Do(t.Context(), &Request{URL: "/", Header: http.Header{"X-Big": {big}}})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	g := <-read
	if g.len != len(big) || int64(g.n) != r.BytesSent {
		t.Fatalf("the server read %d bytes with a header of %d; BytesSent %d", g.n, g.len, r.BytesSent)
	}
	if r.Status != 200 || string(r.Body) != "ok" {
		t.Fatalf("got %d %q", r.Status, r.Body)
	}
}

// sendWait writes what the socket takes at once, then the rest as
// net.Conn does, waiting for room: 1 MiB does not fit in the client's
// send buffer and the server's receive window (64 KiB each).
func TestSendWaitPartialWrite(t *testing.T) {
	t.Parallel()
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 64<<10)
		})
		return errors.Join(err, serr)
	}}
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	req := []byte(strings.Repeat("y", 1<<20))
	got := make(chan int, 1)
	reading := make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		// The server reads only once the client is about to write, and
		// a moment later: read at once, as fast as the client writes, it
		// let the first write take the whole request now and then.
		<-reading
		time.Sleep(200 * time.Millisecond)
		n, _ := io.ReadFull(c, make([]byte, len(req)))
		got <- n
		_, _ = c.Write([]byte("answer"))
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.(*net.TCPConn).SetWriteBuffer(32 << 10); err != nil { // the kernel doubles it
		t.Fatal(err)
	}
	pc := &pconn{nc: nc, tcp: nc, rc: rawConnOf(nc)}
	var sw sendWait
	sw.start(pc, req)
	close(reading)
	b, err := io.ReadAll(io.LimitReader(&sw, 6))
	if err != nil || string(b) != "answer" {
		t.Fatalf("read %q, %v", b, err)
	}
	if n := <-got; n != len(req) || sw.sent != len(req) {
		t.Fatalf("the server read %d, sendWait sent %d, of %d", n, sw.sent, len(req))
	}
	if !sw.partial {
		t.Fatal("the first write took all of it: the test did not test what it says")
	}
}

// The errors of a request sent by sendWait are those of net.Conn's
// Read: a server that closes without answering is io.EOF (kind eof),
// one that resets is ECONNRESET (connection reset).
func TestSendWaitErrorsAreNetConns(t *testing.T) {
	t.Parallel()
	closeURL := rawServer(t, func(c net.Conn) {})
	resetURL := rawServer(t, func(c net.Conn) { c.(*net.TCPConn).SetLinger(0) })
	for _, tc := range []struct{ url, kind string }{{closeURL, KindEOF}, {resetURL, KindConnReset}} {
		c := newClient(t, Options{})
		r := c.Do(t.Context(), &Request{URL: tc.url + "/"})
		if r.ErrKind != tc.kind {
			t.Errorf("%s: kind %q (%v), want %q", tc.url, r.ErrKind, r.Err, tc.kind)
		}
	}
}

// A keep-alive connection the server reset after answering makes the
// next GET's write fail (sendWait's own write): the request goes again on
// a new connection, and the user never sees the error.
func TestResetKeepAliveConnectionIsReplaced(t *testing.T) {
	t.Parallel()
	var closed atomic.Int64
	url, conns := connServer(t, func(c net.Conn, req *http.Request, n int) bool {
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		_ = c.(*net.TCPConn).SetLinger(0)
		c.Close()
		closed.Add(1)
		return true
	})
	c := newClient(t, Options{BaseURL: url})
	for i := range 3 {
		deadline := time.Now().Add(5 * time.Second)
		for closed.Load() < int64(i) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if r := c.Do(t.Context(), &Request{URL: "/"}); r.Err != nil || r.Status != 200 {
			t.Fatalf("GET %d: %v (%s)", i, r.Err, r.ErrKind)
		}
	}
	if got := conns.Load(); got != 3 {
		t.Fatalf("%d connections, want 3", got)
	}
}
