package httpx

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync"
	"time"
)

// reqState is the per-request state shared with httptrace hooks and the
// redirect check. Hooks may fire on net/http's goroutines, even after Do
// returned (a dial abandoned by a canceled request goes on in the
// background), hence the mutex.
type reqState struct {
	mu        sync.Mutex
	start     time.Time
	dnsStart  time.Time
	connStart time.Time
	tlsStart  time.Time
	firstByte time.Time
	t         Timings
	sent      int64 // bytes of the hops before the current one
	wrote     bool  // the current hop's headers were written
}

type stateKey struct{}

func stateFrom(ctx context.Context) *reqState {
	st, _ := ctx.Value(stateKey{}).(*reqState)
	return st
}

// attach returns ctx carrying st and its trace hooks.
func (st *reqState) attach(ctx context.Context) context.Context {
	ctx = context.WithValue(ctx, stateKey{}, st)
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) { st.mark(&st.dnsStart) },
		DNSDone:  func(httptrace.DNSDoneInfo) { st.since(&st.dnsStart, &st.t.DNS) },
		ConnectStart: func(_, _ string) {
			st.mu.Lock()
			if st.connStart.IsZero() { // several addresses may be tried; time from the first
				st.connStart = time.Now()
			}
			st.mu.Unlock()
		},
		ConnectDone: func(_, _ string, err error) {
			if err == nil {
				st.since(&st.connStart, &st.t.Connect)
			}
		},
		TLSHandshakeStart:    func() { st.mark(&st.tlsStart) },
		TLSHandshakeDone:     func(tls.ConnectionState, error) { st.since(&st.tlsStart, &st.t.TLS) },
		GotFirstResponseByte: func() { st.mark(&st.firstByte) },
		WroteHeaders: func() {
			st.mu.Lock()
			st.wrote = true
			st.mu.Unlock()
		},
	})
}

func (st *reqState) mark(at *time.Time) {
	now := time.Now()
	st.mu.Lock()
	*at = now
	st.mu.Unlock()
}

// since adds the time from *from to now to *d (phases add up over
// redirect hops) and clears *from.
func (st *reqState) since(from *time.Time, d *time.Duration) {
	now := time.Now()
	st.mu.Lock()
	if !from.IsZero() {
		*d += now.Sub(*from)
		*from = time.Time{}
	}
	st.mu.Unlock()
}

// timings returns the phases so far; TTFB is to the first byte of the
// last hop's response, from the start of the whole request.
func (st *reqState) timings() Timings {
	st.mu.Lock()
	defer st.mu.Unlock()
	t := st.t
	if !st.firstByte.IsZero() {
		t.TTFB = st.firstByte.Sub(st.start)
	}
	return t
}

// addHop counts the bytes of a request that was sent and answered with a
// redirect.
func (st *reqState) addHop(req *http.Request, o *Options) {
	n := requestSize(req, o)
	st.mu.Lock()
	st.sent += n
	st.wrote = false
	st.mu.Unlock()
}

// bytesSent is the total for the request; last is the final hop's request
// when a response came back, or the request Do built when it failed (then
// it counts only if its headers were written).
func (st *reqState) bytesSent(last *http.Request, answered bool, o *Options) int64 {
	n := requestSize(last, o)
	st.mu.Lock()
	defer st.mu.Unlock()
	if !answered && !st.wrote {
		n = 0
	}
	return st.sent + n
}

// requestSize approximates the bytes net/http writes for req: request
// line, Host, the headers (cookies from the jar included once added),
// the headers the transport adds, the blank line and the body. It does
// not count chunked framing or TLS overhead.
func requestSize(req *http.Request, o *Options) int64 {
	n := len(req.Method) + 1 + len(req.URL.RequestURI()) + len(" HTTP/1.1\r\n")
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	n += len("Host: \r\n") + len(host)
	for k, vs := range req.Header {
		for _, v := range vs {
			n += len(k) + len(": \r\n") + len(v)
		}
	}
	if req.ContentLength > 0 {
		n += len("Content-Length: \r\n") + len(strconv.FormatInt(req.ContentLength, 10))
		n += int(req.ContentLength)
	}
	if req.Header.Get("Accept-Encoding") == "" && req.Method != http.MethodHead {
		n += len("Accept-Encoding: gzip\r\n")
	}
	if o.DisableKeepAlive {
		n += len("Connection: close\r\n")
	}
	return int64(n + len("\r\n"))
}
