package httpx

import (
	"compress/gzip"
	"context"
	"encoding/pem"
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

// h2Server is a test server speaking HTTP/2: over TLS by ALPN (with
// HTTP/1.1 too), or over cleartext by prior knowledge (h2c, and
// HTTP/1.1). conns counts the TCP connections it accepted.
type h2Server struct {
	*httptest.Server
	conns atomic.Int64
	tls   bool
}

func newH2Server(t testing.TB, tlsOn bool, h http.Handler) *h2Server {
	t.Helper()
	s := &h2Server{tls: tlsOn}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Server = srv
	if tlsOn {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Config.Protocols = new(http.Protocols)
		srv.Config.Protocols.SetHTTP1(true)
		srv.Config.Protocols.SetUnencryptedHTTP2(true)
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return s
}

// options are client options that reach s over HTTP/2, trusting its
// certificate.
func (s *h2Server) options(mode HTTP2Mode) Options {
	o := Options{BaseURL: s.URL, HTTP2: mode}
	if s.tls {
		o.CAPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	}
	return o
}

func forBoth(t *testing.T, f func(t *testing.T, tlsOn bool)) {
	for _, tc := range []struct {
		name string
		tls  bool
	}{{"tls", true}, {"h2c", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f(t, tc.tls)
		})
	}
}

// What a user checks first: the requests went over HTTP/2 (the server
// saw it, the response says so), a user keeps one connection for them,
// and the new connection's phases are timed.
func TestHTTP2RequestsShareOneConnection(t *testing.T) {
	t.Parallel()
	forBoth(t, func(t *testing.T, tlsOn bool) {
		var h2 atomic.Int64
		s := newH2Server(t, tlsOn, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ProtoMajor == 2 {
				h2.Add(1)
			}
			fmt.Fprint(w, "hello")
		}))
		c := newClient(t, s.options(HTTP2On))
		for i := range 5 {
			r := mustGet(t, c, "/")
			if r.Status != 200 || r.Proto != "HTTP/2.0" || string(r.Body) != "hello" || r.BytesRecv != 5 {
				t.Fatalf("request %d: %d %q %q recv %d, want 200 HTTP/2.0 hello", i, r.Status, r.Proto, r.Body, r.BytesRecv)
			}
			tm := r.Timings
			switch {
			case i == 0 && (tm.Connect <= 0 || tm.TTFB <= 0 || (tlsOn && tm.TLS <= 0)):
				t.Fatalf("first request's timings %+v: want connect, TLS (over TLS) and TTFB", tm)
			case i > 0 && (tm.Connect != 0 || tm.TLS != 0 || tm.TTFB <= 0):
				t.Fatalf("request %d's timings %+v: want no connect on the reused connection", i, tm)
			}
			if r.BytesSent <= 0 || r.Elapsed < tm.TTFB {
				t.Fatalf("request %d: sent %d, elapsed %v, ttfb %v", i, r.BytesSent, r.Elapsed, tm.TTFB)
			}
		}
		if n := h2.Load(); n != 5 {
			t.Errorf("the server saw %d HTTP/2 requests, want 5", n)
		}
		if n := s.conns.Load(); n != 1 {
			t.Errorf("%d connections, want 1", n)
		}
	})
}

// Cookies, redirects, request bodies, headers and gzip keep the
// HTTP/1.1 client's contracts over HTTP/2.
func TestHTTP2KeepsTheClientsContracts(t *testing.T) {
	t.Parallel()
	forBoth(t, func(t *testing.T, tlsOn bool) {
		mux := http.NewServeMux()
		session := sessionHandler()
		mux.Handle("/login", session)
		mux.Handle("/whoami", session)
		mux.Handle("/r/{n}", redirectHandler())
		mux.Handle("/end", redirectHandler())
		s := newH2Server(t, tlsOn, mux)
		c := newClient(t, s.options(HTTP2On))
		ctx := t.Context()

		if r := c.Do(ctx, &Request{Method: "POST", URL: "/login"}); r.Status != 200 || r.Proto != "HTTP/2.0" {
			t.Fatalf("login: %d %q %v", r.Status, r.Proto, r.Err)
		}
		if r := mustGet(t, c, "/whoami"); string(r.Body) != "s1" {
			t.Fatalf("whoami = %q, want the session cookie s1 sent back", r.Body)
		}

		r := mustGet(t, c, "/r/3")
		if r.Status != 200 || string(r.Body) != "end" || r.URL != s.URL+"/end" || r.Proto != "HTTP/2.0" {
			t.Fatalf("redirects: %d %q %s %s", r.Status, r.Body, r.URL, r.Proto)
		}
		if r := c.Do(ctx, &Request{URL: "/r/11"}); r.ErrKind != KindTooManyRedirects {
			t.Fatalf("11 redirects: kind %q, want %q", r.ErrKind, KindTooManyRedirects)
		}
		if r := c.Do(ctx, &Request{URL: "/r/1", NoRedirects: true}); r.Status != http.StatusFound || r.Headers().Get("Location") != "/end" {
			t.Fatalf("allow_redirects=False: %d, Location %q", r.Status, r.Headers().Get("Location"))
		}
	})
}

func TestHTTP2RequestHeadersBodyAndGzip(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.Handle("/r/{n}", redirectHandler())
	mux.Handle("/end", redirectHandler())
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Reply", "yes")
		fmt.Fprintf(w, "%s %s len=%d ua=%s x=%s cookie=%s auth=%s", r.Method, b, r.ContentLength,
			r.UserAgent(), r.Header.Get("X-Test"), r.Header.Get("Cookie"), r.Header.Get("Authorization"))
	})
	mux.HandleFunc("/gzip", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			fmt.Fprint(w, "plain")
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		io.WriteString(zw, strings.Repeat("z", 1000))
		zw.Close()
	})
	forBoth(t, func(t *testing.T, tlsOn bool) {
		s := newH2Server(t, tlsOn, mux)
		o := s.options(HTTP2On)
		o.UserAgent = "horde/test"
		c := newClient(t, o)
		if err := c.SetCookies("/", []*http.Cookie{{Name: "jar", Value: "1"}}); err != nil {
			t.Fatal(err)
		}
		r := c.Do(t.Context(), &Request{Method: "PUT", URL: "/echo", Body: []byte("payload"),
			Header: http.Header{"X-Test": {"v"}, "Cookie": {"own=2"}, "Connection": {"close"}, "Authorization": {"Bearer t"}}})
		want := "PUT payload len=7 ua=horde/test x=v cookie=own=2; jar=1 auth=Bearer t"
		if r.Err != nil || string(r.Body) != want {
			t.Fatalf("echo = %q (err %v), want %q", r.Body, r.Err, want)
		}
		if got := r.Headers().Get("X-Reply"); got != "yes" {
			t.Fatalf("response header X-Reply = %q", got)
		}
		if r.BytesSent < int64(len("PUT /echo HTTP/1.1\r\n")+7) {
			t.Fatalf("BytesSent = %d: want the request line, headers and body", r.BytesSent)
		}

		r = mustGet(t, c, "/gzip")
		if string(r.Body) != strings.Repeat("z", 1000) || r.BytesRecv != 1000 || r.Headers().Get("Content-Encoding") != "" {
			t.Fatalf("gzip: body %d bytes, recv %d, Content-Encoding %q: want 1000 decoded bytes",
				len(r.Body), r.BytesRecv, r.Headers().Get("Content-Encoding"))
		}
		r = c.Do(t.Context(), &Request{URL: "/gzip", Header: http.Header{"Accept-Encoding": {"identity"}}})
		if string(r.Body) != "plain" {
			t.Fatalf("own Accept-Encoding: body %q, want the server's plain answer", r.Body)
		}

		r = c.Do(t.Context(), &Request{Method: "POST", URL: "/r/1", Body: []byte("x")})
		if r.Status != 200 || string(r.Body) != "end" {
			t.Fatalf("POST redirected by 302: %d %q, want 200 end (as a GET)", r.Status, r.Body)
		}
		if one, three := mustGet(t, c, "/end").BytesSent, mustGet(t, c, "/r/2").BytesSent; three < 2*one {
			t.Fatalf("BytesSent over 3 hops = %d, single = %d", three, one)
		}
		r = c.Do(t.Context(), &Request{URL: "/echo", Header: http.Header{"Bad\nName": {"x"}}})
		if r.ErrKind != KindProtocol {
			t.Fatalf("invalid header name: kind %q (err %v), want %q", r.ErrKind, r.Err, KindProtocol)
		}
	})
}

// The choice is per request: a client's default, overridden either way.
func TestHTTP2IsChosenPerRequest(t *testing.T) {
	t.Parallel()
	s := newH2Server(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Proto)
	}))
	for _, tc := range []struct {
		client, request HTTP2Mode
		want            string
	}{
		{HTTP2Default, HTTP2Default, "HTTP/1.1"},
		{HTTP2Default, HTTP2On, "HTTP/2.0"},
		{HTTP2On, HTTP2Default, "HTTP/2.0"},
		{HTTP2On, HTTP2Off, "HTTP/1.1"},
		{HTTP2Off, HTTP2Strict, "HTTP/2.0"},
	} {
		c := newClient(t, s.options(tc.client))
		r := c.Do(t.Context(), &Request{URL: "/", HTTP2: tc.request})
		if r.Err != nil || r.Proto != tc.want || string(r.Body) != tc.want {
			t.Errorf("client %v, request %v: proto %q, server saw %q (err %v); want %s", tc.client, tc.request, r.Proto, r.Body, r.Err, tc.want)
		}
	}
}

// A server that does not speak HTTP/2: over cleartext (prior knowledge)
// a recorded failure saying so; over TLS, ALPN picks HTTP/1.1 and the
// request goes on in it (the connection then reused), unless strict.
func TestHTTP2RefusedByServer(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.Proto) })
	t.Run("h2c", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, h) // HTTP/1.1 only
		c := newClient(t, Options{BaseURL: srv.URL, HTTP2: HTTP2On})
		for range 2 {
			r := c.Do(t.Context(), &Request{URL: "/"})
			if r.ErrKind != KindNoHTTP2 || r.Status != 0 || !strings.Contains(r.Err.Error(), "HTTP/1.1") {
				t.Fatalf("kind %q status %d err %v, want %q saying what the server answered", r.ErrKind, r.Status, r.Err, KindNoHTTP2)
			}
		}
	})
	t.Run("closes on the preface", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		c := newClient(t, Options{HTTP2: HTTP2On})
		r := c.Do(t.Context(), &Request{URL: "http://" + ln.Addr().String() + "/"})
		if r.Err == nil || r.Status != 0 || r.ErrKind == KindCanceled {
			t.Fatalf("kind %q status %d err %v: want a failure", r.ErrKind, r.Status, r.Err)
		}
	})
	t.Run("tls falls back", func(t *testing.T) {
		t.Parallel()
		s := newH2Server(t, true, h)
		s.Server.TLS.NextProtos = []string{"http/1.1"}
		c := newClient(t, s.options(HTTP2On))
		for i := range 3 {
			r := mustGet(t, c, "/")
			if r.Proto != "HTTP/1.1" || string(r.Body) != "HTTP/1.1" {
				t.Fatalf("request %d: proto %q, want HTTP/1.1 as ALPN chose", i, r.Proto)
			}
			if i == 0 && r.Timings.TLS <= 0 {
				t.Fatalf("first request's timings %+v: want the TLS handshake", r.Timings)
			}
		}
		if n := s.conns.Load(); n != 1 {
			t.Fatalf("%d connections, want 1: the negotiated one reused", n)
		}
	})
	t.Run("tls strict", func(t *testing.T) {
		t.Parallel()
		s := newH2Server(t, true, h)
		s.Server.TLS.NextProtos = []string{"http/1.1"}
		c := newClient(t, s.options(HTTP2Strict))
		r := c.Do(t.Context(), &Request{URL: "/"})
		if r.ErrKind != KindNoHTTP2 || !strings.Contains(r.Err.Error(), "http/1.1") {
			t.Fatalf("kind %q err %v, want %q naming ALPN's choice", r.ErrKind, r.Err, KindNoHTTP2)
		}
	})
}

// A user that stops while an HTTP/2 request is in flight: the request
// finishes within the drain and is returned as usual; with the drain
// off it is canceled at once; its own timeout is a timeout.
func TestHTTP2DrainAndTimeout(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 10)
	release := make(chan struct{})
	s := newH2Server(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(promptly):
		}
		fmt.Fprint(w, "late")
	}))
	defer close(release)

	t.Run("drained", func(t *testing.T) {
		o := s.options(HTTP2On)
		o.Drain = promptly
		c := newClient(t, o)
		ctx, cancel := context.WithCancel(t.Context())
		got := make(chan *Response, 1)
		go func() { got <- c.Do(ctx, &Request{URL: "/"}) }()
		<-arrived
		cancel()
		// The response comes after the stop: the server is released
		// once the stop has run (the AfterFunc is synchronous here).
		c.stopCalls(ctx)
		release <- struct{}{}
		r := <-got
		if r.Err != nil || string(r.Body) != "late" {
			t.Fatalf("kind %q err %v body %q: want the drained response", r.ErrKind, r.Err, r.Body)
		}
	})
	t.Run("drain off", func(t *testing.T) {
		o := s.options(HTTP2On)
		o.Drain = -1
		c := newClient(t, o)
		ctx, cancel := context.WithCancel(t.Context())
		go func() { <-arrived; cancel() }()
		r := c.Do(ctx, &Request{URL: "/"})
		if r.ErrKind != KindCanceled || r.Elapsed > promptly {
			t.Fatalf("kind %q err %v after %v, want %q at once", r.ErrKind, r.Err, r.Elapsed, KindCanceled)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		c := newClient(t, s.options(HTTP2On))
		go func() { <-arrived }()
		r := c.Do(t.Context(), &Request{URL: "/", Timeout: 100 * time.Millisecond})
		if r.ErrKind != KindTimeout || r.Elapsed < 100*time.Millisecond || r.Elapsed > promptly {
			t.Fatalf("kind %q err %v after %v, want %q", r.ErrKind, r.Err, r.Elapsed, KindTimeout)
		}
	})
}

// barrier answers once n requests are in flight together; a request
// that waits longer than promptly gets 503. It proves a batch's requests
// were concurrent without timing them.
type barrier struct {
	n, in, most atomic.Int64
	all         chan struct{}
	served      atomic.Int64
}

func newBarrier(n int) *barrier {
	b := &barrier{all: make(chan struct{})}
	b.n.Store(int64(n))
	return b
}

func (b *barrier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in := b.in.Add(1)
	defer b.in.Add(-1)
	for {
		m := b.most.Load()
		if in <= m || b.most.CompareAndSwap(m, in) {
			break
		}
	}
	if in == b.n.Load() {
		close(b.all)
	}
	select {
	case <-b.all:
	case <-time.After(promptly):
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	b.served.Add(1)
	fmt.Fprintf(w, "%s %s", r.URL.Path, r.Proto)
}

func TestDoBatchRunsConcurrently(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		mode      HTTP2Mode
		wantConns int64
		wantProto string
	}{
		{"http2 streams on one connection", HTTP2On, 1, "HTTP/2.0"},
		{"http1.1 one connection each", HTTP2Off, 5, "HTTP/1.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBarrier(5)
			s := newH2Server(t, true, b)
			c := newClient(t, s.options(tc.mode))
			reqs := make([]*Request, 5)
			for i := range reqs {
				reqs[i] = &Request{URL: fmt.Sprintf("/a%d", i)}
			}
			rs := c.DoBatch(t.Context(), reqs)
			for i, r := range rs {
				if want := fmt.Sprintf("/a%d %s", i, tc.wantProto); r.Status != 200 || string(r.Body) != want {
					t.Fatalf("response %d: %d %q (err %v), want 200 %q: in order, all 5 in flight at once", i, r.Status, r.Body, r.Err, want)
				}
			}
			if n := s.conns.Load(); n != tc.wantConns {
				t.Fatalf("%d connections, want %d", n, tc.wantConns)
			}
			// The next batch reuses them.
			b2 := newBarrier(5)
			s.Config.Handler = b2
			c.DoBatch(t.Context(), reqs)
			if n, served := s.conns.Load(), b2.served.Load(); n != tc.wantConns || served != 5 {
				t.Fatalf("second batch: %d connections (want %d kept), %d served concurrently", n, tc.wantConns, served)
			}
		})
	}
}

// Over HTTP/1.1 a batch opens at most BatchConnsPerHost connections to a
// host; the other requests wait for one.
func TestDoBatchBoundsHTTP1Connections(t *testing.T) {
	t.Parallel()
	b := newBarrier(BatchConnsPerHost)
	srv := newServer(t, b)
	c := newClient(t, Options{BaseURL: srv.URL})
	reqs := make([]*Request, BatchConnsPerHost+3)
	for i := range reqs {
		reqs[i] = &Request{URL: "/x"}
	}
	for i, r := range c.DoBatch(t.Context(), reqs) {
		if r.Status != 200 {
			t.Fatalf("response %d: %d %v", i, r.Status, r.Err)
		}
	}
	if most := b.most.Load(); most != BatchConnsPerHost {
		t.Fatalf("%d requests in flight at most, want %d", most, BatchConnsPerHost)
	}
}

// A stop drains a batch's requests in flight and sends none of those
// still waiting.
func TestDoBatchStopped(t *testing.T) {
	t.Parallel()
	s := newH2Server(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	c := newClient(t, s.options(HTTP2On))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for i, r := range c.DoBatch(ctx, []*Request{{URL: "/a"}, {URL: "/b"}, nil}) {
		if r.ErrKind != KindCanceled && i < 2 {
			t.Fatalf("response %d: kind %q, want %q", i, r.ErrKind, KindCanceled)
		}
		if i == 2 && r.Err == nil {
			t.Fatal("a nil request must fail, not panic")
		}
	}
}

func TestParseHTTP2Mode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]HTTP2Mode{"": HTTP2Default, "true": HTTP2On, "True": HTTP2On, "1": HTTP2On,
		"false": HTTP2Off, "0": HTTP2Off, "strict": HTTP2Strict} {
		got, err := ParseHTTP2Mode(in)
		if err != nil || got != want {
			t.Errorf("ParseHTTP2Mode(%q) = %v, %v; want %v", in, got, err, want)
		}
		if again, _ := ParseHTTP2Mode(got.String()); again != got {
			t.Errorf("%v does not round-trip through String (%q)", got, got.String())
		}
	}
	if _, err := ParseHTTP2Mode("h3"); err == nil {
		t.Error("ParseHTTP2Mode(h3): want an error")
	}
	if _, err := NewFactory(Options{HTTP2: HTTP2Strict + 1}); err == nil {
		t.Error("NewFactory with an unknown HTTP/2 mode: want an error")
	}
}

// The HTTP/2 connection against Go's server at its edges: bodies larger
// than the flow-control windows both ways, informational responses and
// trailers, a stream the server resets, its limit of concurrent streams,
// and a connection it closes when idle (GOAWAY).
func TestHTTP2ConnectionEdges(t *testing.T) {
	t.Parallel()
	var in, most atomic.Int64
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/len", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, n)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		chunk := strings.Repeat("b", 64<<10)
		for range 160 { // 10 MiB: past the 4 MiB stream window horde gives
			io.WriteString(w, chunk)
		}
	})
	mux.HandleFunc("/hints", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</a.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Set("Trailer", "X-Sum")
		io.WriteString(w, "body")
		w.Header().Set("X-Sum", "42")
	})
	mux.HandleFunc("/abort", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // RST_STREAM
	})
	mux.HandleFunc("/held", func(w http.ResponseWriter, r *http.Request) {
		n := in.Add(1)
		defer in.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-release
	})
	s := newH2Server(t, true, mux)
	s.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: 2}
	o := s.options(HTTP2Strict)
	o.MaxBodyBytes = 1 << 20
	c := newClient(t, o)

	body := strings.Repeat("u", 3<<20) // past the server's 64 KiB windows
	if r := c.Do(t.Context(), &Request{Method: "PUT", URL: "/len", Body: []byte(body)}); string(r.Body) != "3145728" {
		t.Fatalf("3 MiB upload: the server read %q (err %v)", r.Body, r.Err)
	}
	if r := mustGet(t, c, "/big"); r.BytesRecv != 10<<20 || len(r.Body) != 1<<20 {
		t.Fatalf("10 MiB download: recv %d, kept %d (err %v)", r.BytesRecv, len(r.Body), r.Err)
	}
	if r := mustGet(t, c, "/hints"); r.Status != 200 || string(r.Body) != "body" {
		t.Fatalf("103 then 200 with a trailer: %d %q", r.Status, r.Body)
	}
	if r := c.Do(t.Context(), &Request{URL: "/abort"}); r.ErrKind != KindStreamReset {
		t.Fatalf("reset stream: kind %q err %v, want %q", r.ErrKind, r.Err, KindStreamReset)
	}
	done := make(chan []*Response, 1)
	reqs := make([]*Request, 5)
	for i := range reqs {
		reqs[i] = &Request{URL: "/held"}
	}
	go func() { done <- c.DoBatch(t.Context(), reqs) }()
	deadline := time.Now().Add(promptly)
	for in.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(release)
	for i, r := range <-done {
		if r.Status != 200 {
			t.Fatalf("held request %d: %d %v", i, r.Status, r.Err)
		}
	}
	if m := most.Load(); m != 2 {
		t.Fatalf("%d streams at once, want the server's limit of 2", m)
	}
	if n := s.conns.Load(); n != 1 {
		t.Fatalf("%d connections, want all of it on one", n)
	}
}

// A connection the server closed while idle is replaced at the next
// request, which does not fail: either the client saw the close first, or
// its request found the connection dead and was sent again on a new one.
func TestHTTP2ConnectionClosedByServer(t *testing.T) {
	t.Parallel()
	s := newH2Server(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	c := newClient(t, s.options(HTTP2On))
	mustGet(t, c, "/")
	s.CloseClientConnections() // the next request may find it closed or not yet
	for i := range 3 {
		if r := mustGet(t, c, "/"); string(r.Body) != "ok" {
			t.Fatalf("request %d after the close: %q", i, r.Body)
		}
	}
	if n := s.conns.Load(); n != 2 {
		t.Fatalf("%d connections, want 2 (the closed one replaced once)", n)
	}
}
