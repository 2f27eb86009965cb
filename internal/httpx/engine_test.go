package httpx

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// connServer serves raw connections: for each request read on a
// connection it calls answer with the connection's request number (from
// 1); answer writes the response and says whether to close.
func connServer(t *testing.T, answer func(c net.Conn, req *http.Request, n int) (closeAfter bool)) (url string, conns *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns = new(atomic.Int64)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			wg.Go(func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for n := 1; ; n++ {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					if answer(c, req, n) {
						return
					}
				}
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return "http://" + ln.Addr().String(), conns
}

// A server that closes a keep-alive connection right after answering
// (without saying so) makes the next GET find it dead: the client sends
// it again on a new connection, and the user never sees the error.
func TestDeadKeepAliveConnectionIsReplaced(t *testing.T) {
	t.Parallel()
	var served atomic.Int64
	url, conns := connServer(t, func(c net.Conn, req *http.Request, n int) bool {
		served.Add(1)
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		return true // close without Connection: close
	})
	c := newClient(t, Options{BaseURL: url})
	for i := range 3 {
		// Let the close arrive so the idle connection is surely dead.
		deadline := time.Now().Add(5 * time.Second)
		for served.Load() < int64(i) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if r := c.Do(t.Context(), &Request{URL: "/"}); r.Err != nil || r.Status != 200 {
			t.Fatalf("GET %d: %v (%s)", i, r.Err, r.ErrKind)
		}
	}
	if got := conns.Load(); got != 3 {
		t.Fatalf("%d connections, want 3", got)
	}
	// A POST cannot be sent twice, so the idle connection is checked
	// before it goes out: it is dead, and the POST takes a new one.
	time.Sleep(50 * time.Millisecond) // the server's close reaches the client
	if r := c.Do(t.Context(), &Request{Method: "POST", URL: "/"}); r.Err != nil || r.Status != 200 {
		t.Fatalf("POST after the server closed the idle connection: %v (%s)", r.Err, r.ErrKind)
	}
	if served.Load() != 4 || conns.Load() != 4 {
		t.Fatalf("served %d on %d connections, want 4 on 4", served.Load(), conns.Load())
	}
}

// stale tells a live idle connection from one the server closed or sent
// unasked-for bytes on.
func TestStaleConnection(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		serve func(c net.Conn, hold <-chan struct{})
		want  bool
	}{
		{"quiet", func(c net.Conn, hold <-chan struct{}) { <-hold }, false},
		{"closed", func(net.Conn, <-chan struct{}) {}, true},
		{"chatty", func(c net.Conn, hold <-chan struct{}) {
			c.Write([]byte("HTTP/1.1 408 Timeout\r\n\r\n"))
			<-hold
		}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			hold := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				tt.serve(c, hold)
				c.Close()
			})
			defer func() {
				close(hold)
				ln.Close()
				wg.Wait()
			}()
			nc, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			pc := &pconn{nc: nc, tcp: nc}
			// What the server does reaches the client soon; a live
			// connection must stay not-stale all along.
			deadline := time.Now().Add(5 * time.Second)
			got := pc.stale()
			for got != tt.want && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
				got = pc.stale()
			}
			if !tt.want {
				time.Sleep(100 * time.Millisecond)
				got = pc.stale()
			}
			if got != tt.want {
				t.Fatalf("stale = %v, want %v", got, tt.want)
			}
		})
	}
}

// A server that sends more than one response for one request gets its
// connection closed: the extra bytes would be read as the next answer.
func TestExtraBytesCloseTheConnection(t *testing.T) {
	t.Parallel()
	url, conns := connServer(t, func(c net.Conn, req *http.Request, n int) bool {
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil")
		return false
	})
	c := newClient(t, Options{BaseURL: url})
	for range 2 {
		if r := mustGet(t, c, "/"); string(r.Body) != "ok" {
			t.Fatalf("body %q, want ok", r.Body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if conns.Load() != 2 {
		t.Fatalf("%d connections, want 2: the first one carried garbage", conns.Load())
	}
}

func TestGzipIsDecodedTransparently(t *testing.T) {
	t.Parallel()
	const text = "hello hello hello hello hello"
	body := gzipped(t, text)
	url, _ := connServer(t, func(c net.Conn, req *http.Request, n int) bool {
		if req.Header.Get("Accept-Encoding") != "gzip" {
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nplain")
			return false
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(body), body)
		return false
	})
	c := newClient(t, Options{BaseURL: url})
	for range 2 { // twice: the connection is reused after a decoded body
		r := mustGet(t, c, "/")
		if string(r.Body) != text || r.BytesRecv != int64(len(text)) || r.Headers().Get("Content-Encoding") != "" {
			t.Fatalf("body %q (%d bytes), headers %v", r.Body, r.BytesRecv, r.Headers())
		}
	}
	// A request with its own Accept-Encoding gets the body as sent.
	r := c.Do(t.Context(), &Request{URL: "/", Header: http.Header{"Accept-Encoding": {"gzip"}}})
	if r.Err != nil || string(r.Body) != string(body) || r.Headers().Get("Content-Encoding") != "gzip" {
		t.Fatalf("own Accept-Encoding: %v body %q", r.Err, r.Body)
	}
	// A body that says gzip and is not fails clearly.
	url2, _ := connServer(t, func(c net.Conn, req *http.Request, n int) bool {
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nnotgz")
		return false
	})
	if r := c.Do(t.Context(), &Request{URL: url2 + "/"}); r.Err == nil || !strings.Contains(r.ErrKind, "gzip") {
		t.Fatalf("bad gzip: kind %q err %v", r.ErrKind, r.Err)
	}
}

// Redirects as net/http follows them: 303 turns a POST into a GET
// without its body, 307 repeats it, and a script's credentials do not
// follow to another host.
func TestRedirectMethodsAndCredentials(t *testing.T) {
	t.Parallel()
	type seen struct {
		method, body, auth, host string
	}
	var mu sync.Mutex
	var got []seen
	record := func(req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		mu.Lock()
		got = append(got, seen{req.Method, string(b), req.Header.Get("Authorization"), req.Host})
		mu.Unlock()
	}
	other := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { record(r) }))
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(r)
		switch r.URL.Path {
		case "/303":
			http.Redirect(w, r, "/end", http.StatusSeeOther)
		case "/307":
			http.Redirect(w, r, "/end", http.StatusTemporaryRedirect)
		case "/away":
			http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/there", http.StatusFound)
		}
	}))
	c := newClient(t, Options{BaseURL: srv.URL})
	auth := http.Header{"Authorization": {"Bearer secret"}}
	for _, tt := range []struct {
		path string
		want []seen
	}{
		{"/303", []seen{{"POST", "data", "Bearer secret", ""}, {"GET", "", "Bearer secret", ""}}},
		{"/307", []seen{{"POST", "data", "Bearer secret", ""}, {"POST", "data", "Bearer secret", ""}}},
		{"/away", []seen{{"POST", "data", "Bearer secret", ""}, {"GET", "", "", "localhost"}}},
	} {
		mu.Lock()
		got = nil
		mu.Unlock()
		r := c.Do(t.Context(), &Request{Method: "POST", URL: tt.path, Header: auth, Body: []byte("data")})
		if r.Err != nil || r.Status != 200 {
			t.Fatalf("%s: %v %d", tt.path, r.Err, r.Status)
		}
		mu.Lock()
		if len(got) != len(tt.want) {
			t.Fatalf("%s: server saw %+v", tt.path, got)
		}
		for i, w := range tt.want {
			g := got[i]
			if g.method != w.method || g.body != w.body || g.auth != w.auth || (w.host != "" && !strings.HasPrefix(g.host, w.host)) {
				t.Errorf("%s hop %d: %+v, want %+v", tt.path, i, g, w)
			}
		}
		mu.Unlock()
	}
}

// BytesSent is exactly what went over the wire: the server counts the
// bytes it read.
func TestBytesSentIsExact(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	read := make(chan int, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		cr := &countingReader{r: c}
		req, err := http.ReadRequest(bufio.NewReaderSize(cr, 16))
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, req.Body)
		read <- cr.n
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	}()
	c := newClient(t, Options{BaseURL: "http://" + ln.Addr().String()})
	r := c.Do(t.Context(), &Request{Method: "PUT", URL: "/x?y=1", Body: []byte("twelve bytes"),
		Header: http.Header{"X-Custom": {"value"}}})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if n := <-read; int64(n) != r.BytesSent {
		t.Fatalf("BytesSent %d, the server read %d", r.BytesSent, n)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
