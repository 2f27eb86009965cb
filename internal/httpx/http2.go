package httpx

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
)

// HTTP2Mode says whether a request goes over HTTP/2, and what happens
// when the server does not speak it.
type HTTP2Mode uint8

const (
	// HTTP2Default leaves the choice to the client (Options.HTTP2); as an
	// option it means HTTP/1.1.
	HTTP2Default HTTP2Mode = iota
	// HTTP2Off is HTTP/1.1.
	HTTP2Off
	// HTTP2On is HTTP/2: over TLS offered by ALPN, and HTTP/1.1 when the
	// server chooses it (as curl --http2, requests' HTTP/2 adapters and
	// browsers do); over cleartext by prior knowledge (h2c), where a
	// server that does not speak HTTP/2 is a failure: there is nothing to
	// negotiate.
	HTTP2On
	// HTTP2Strict is HTTP2On where a TLS server that does not choose h2
	// is a failure too.
	HTTP2Strict
)

// ParseHTTP2Mode reads a mode as flags and scripts give it: "true",
// "false", "strict" ("" is HTTP2Default).
func ParseHTTP2Mode(s string) (HTTP2Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return HTTP2Default, nil
	case "false", "0", "off", "no":
		return HTTP2Off, nil
	case "true", "1", "on", "yes":
		return HTTP2On, nil
	case "strict":
		return HTTP2Strict, nil
	}
	return HTTP2Default, fmt.Errorf("http2: want true, false or strict, got %q", s)
}

// String is the mode as ParseHTTP2Mode reads it.
func (m HTTP2Mode) String() string {
	switch m {
	case HTTP2Off:
		return "false"
	case HTTP2On:
		return "true"
	case HTTP2Strict:
		return "strict"
	}
	return ""
}

// KindNoHTTP2 is a request that needed HTTP/2 of a server that does not
// speak it: a cleartext server that answered the h2c preface in
// HTTP/1.x, or (HTTP2Strict) a TLS server whose ALPN chose HTTP/1.1.
const KindNoHTTP2 = "http2 not supported"

// noHTTP2Error is a server that does not speak HTTP/2 where the request
// needs it.
type noHTTP2Error struct{ msg string }

func (e *noHTTP2Error) Error() string { return e.msg }

// classifyH2 names the errors of the HTTP/2 client; "" for others.
func classifyH2(err error) string {
	var (
		noH2   *noHTTP2Error
		stream http2.StreamError
		conn   http2.ConnectionError
	)
	switch {
	case errors.As(err, &noH2):
		return KindNoHTTP2
	case errors.As(err, &stream):
		return KindStreamReset
	case errors.Is(err, errH2GoneAway), errors.Is(err, errH2Unusable):
		return KindConnReset
	case errors.As(err, &conn):
		return KindProtocol
	}
	return ""
}

// KindStreamReset is an HTTP/2 stream the server reset (RST_STREAM)
// before the response was whole.
const KindStreamReset = "stream reset"

// h2conn is a client's HTTP/2 connection to one origin. The request that
// finds none dials it; concurrent requests of the client wait for that
// dial (ready) and then share it.
type h2conn struct {
	key   string
	ready chan struct{} // closed once the dial ended; the fields below are then fixed
	cc    *h2cc
	nc    *h2netConn
	err   error // the dial's error
	// h1 says the server chose HTTP/1.1 by ALPN: the dialled connection
	// went to the client's HTTP/1.1 pool.
	h1 bool
}

// release closes the connection once its requests in flight have ended.
func (hc *h2conn) release() {
	select {
	case <-hc.ready:
	default:
		return // still dialling: the dialler finds it gone and releases it
	}
	if hc.cc != nil {
		hc.cc.closeWhenIdle()
	}
}

// h2netConn is the connection under an HTTP/2 client connection. It keeps
// the first read error, which a request that comes later sees only as a
// connection no longer usable, and over cleartext it recognises a server
// that answered the HTTP/2 preface in HTTP/1.x. Only the connection's
// read loop reads.
type h2netConn struct {
	net.Conn
	h2c  bool
	seen int    // bytes of the first response matched against "HTTP/"; -1: not HTTP/1
	line []byte // the start of that HTTP/1 answer, for the error

	mu  sync.Mutex
	err error
}

const http1Answer = "HTTP/"

func (c *h2netConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.h2c && c.seen >= 0 && n > 0 {
		if err2 := c.check(p[:n]); err2 != nil {
			n, err = 0, err2
		}
	}
	if err != nil {
		c.mu.Lock()
		if c.err == nil {
			c.err = err
		}
		c.mu.Unlock()
	}
	return n, err
}

// check matches what the server sent first against an HTTP/1 status
// line: a frame header cannot start so (its length would be 4.7 MB).
func (c *h2netConn) check(b []byte) error {
	for _, ch := range b {
		if c.seen < len(http1Answer) {
			if ch != http1Answer[c.seen] {
				c.seen = -1
				return nil
			}
			c.seen++
		}
		if ch == '\r' || ch == '\n' || len(c.line) >= 60 {
			break
		}
		c.line = append(c.line, ch)
	}
	if c.seen < len(http1Answer) {
		return nil
	}
	return &noHTTP2Error{msg: fmt.Sprintf("the server does not speak HTTP/2 over cleartext (h2c prior knowledge): it answered %q", c.line)}
}

func (c *h2netConn) readErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// runH2 is run for a request that goes over HTTP/2 (HTTP2On or
// HTTP2Strict). Each hop goes over the client's HTTP/2 connection to its
// origin, or over HTTP/1.1 where the server chose it by ALPN. The whole
// exchange runs under one context that ends at the request's deadline,
// or at the end of the drain once the caller's context ended.
func (x *exchange) runH2(mode HTTP2Mode) *Response {
	// Not under x.ctx: a request in flight outlives it for the drain.
	ctx, cancel := context.WithDeadline(context.Background(), x.cl.deadline)
	defer cancel()
	x.c.armH2(x.cl, cancel)
	defer x.c.disarmH2(x.cl)
	maxRedirects := x.c.f.opts.MaxRedirects
	for hop := 0; ; hop++ {
		if hop > 0 && x.ctx.Err() != nil {
			return x.fail(context.Cause(x.ctx))
		}
		follow := maxRedirects >= 0 && hop < maxRedirects && !x.req.NoRedirects
		redirected, status, location, err := x.hopH2(ctx, mode, follow)
		if err != nil {
			return x.fail(err)
		}
		if !redirected {
			return x.resp
		}
		if !follow {
			return x.fail(fmt.Errorf("%w: more than %d", ErrTooManyRedirects, maxRedirects))
		}
		if err := x.redirect(status, location); err != nil {
			return x.fail(err)
		}
	}
}

// armH2 lets the end of cl's context abort an HTTP/2 request at the end
// of its drain, by cancelling the request's context (see call.h2cancel).
func (c *Client) armH2(cl *call, cancel context.CancelFunc) {
	c.mu.Lock()
	cl.h2cancel = cancel
	if !cl.abortAt.IsZero() { // the context ended before: stopCalls has run
		cl.h2timer = time.AfterFunc(time.Until(cl.abortAt), cancel)
	}
	c.mu.Unlock()
}

// disarmH2 undoes armH2 once the request has ended.
func (c *Client) disarmH2(cl *call) {
	c.mu.Lock()
	if cl.h2timer != nil {
		cl.h2timer.Stop()
	}
	cl.h2cancel, cl.h2timer = nil, nil
	c.mu.Unlock()
}

// hopH2 does one request of the exchange and reads its response. A
// request the server did not process (its connection was going away, or
// it refused the stream) is sent again once on a new connection.
func (x *exchange) hopH2(ctx context.Context, mode HTTP2Mode, follow bool) (redirected bool, status int, location string, err error) {
	for attempt := 0; ; attempt++ {
		hc, err := x.h2conn(ctx, mode == HTTP2Strict)
		if err != nil {
			return false, 0, "", err
		}
		if hc == nil { // HTTP/1.1, as the server chose
			return x.hopH1(follow)
		}
		retry, redirected, status, location, err := x.roundTripH2(ctx, hc, follow)
		if retry && attempt == 0 && x.ctx.Err() == nil {
			continue
		}
		return redirected, status, location, err
	}
}

// hopH1 is a hop over HTTP/1.1 in an exchange that asked for HTTP/2.
func (x *exchange) hopH1(follow bool) (redirected bool, status int, location string, err error) {
	w := wirePool.Get().(*wire)
	defer w.release()
	if redirected, err = x.hop(w, follow); err != nil {
		return false, 0, "", err
	}
	if redirected {
		return true, w.h.status, w.h.location, nil
	}
	x.done(w)
	return false, 0, "", nil
}

// h2conn returns the HTTP/2 connection for x's target, dialling it if
// the client has none that can take a request; nil when the request
// goes over HTTP/1.1 because the server chose it by ALPN (not strict).
func (x *exchange) h2conn(ctx context.Context, strict bool) (*h2conn, error) {
	c, key := x.c, x.connKey()
	for {
		c.mu.Lock()
		if c.h1only[key] && !strict {
			c.mu.Unlock()
			return nil, nil
		}
		hc := c.h2[key]
		if hc == nil {
			hc = &h2conn{key: key, ready: make(chan struct{})}
			if c.h2 == nil {
				c.h2 = make(map[string]*h2conn, 1)
			}
			c.h2[key] = hc
			c.mu.Unlock()
			x.dialH2(hc, strict)
			return hc.use()
		}
		c.mu.Unlock()
		select {
		case <-hc.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if hc.err != nil || hc.h1 || hc.cc.usable() {
			return hc.use()
		}
		c.dropH2(hc) // closed or going away: dial a new one
	}
}

// use is what a request does with a connection whose dial has ended.
func (hc *h2conn) use() (*h2conn, error) {
	switch {
	case hc.err != nil:
		return nil, hc.err
	case hc.h1:
		return nil, nil
	}
	return hc, nil
}

// dialH2 dials hc for x: TLS offering h2 and HTTP/1.1, or cleartext for
// prior knowledge. A TLS server that chooses HTTP/1.1 leaves its
// connection in the client's HTTP/1.1 pool (or, strict, is a failure).
func (x *exchange) dialH2(hc *h2conn, strict bool) {
	defer close(hc.ready)
	c := x.c
	ctx, cancel := x.dialContext()
	pc, err := c.dial(ctx, x.t, hc.key, x.req.Insecure, true, &x.tm)
	cancel()
	if err != nil {
		hc.err = err
		c.dropH2(hc)
		return
	}
	if tc, ok := pc.nc.(*tls.Conn); ok {
		if p := tc.ConnectionState().NegotiatedProtocol; p != http2.NextProtoTLS {
			c.dropH2(hc)
			if p == "" {
				p = "none"
			}
			if strict {
				pc.close()
				hc.err = &noHTTP2Error{msg: fmt.Sprintf("the server chose %q by TLS ALPN, not h2 (HTTP/2 required: http2 strict)", p)}
				return
			}
			c.mu.Lock()
			if c.h1only == nil {
				c.h1only = make(map[string]bool, 1)
			}
			c.h1only[hc.key] = true
			c.mu.Unlock()
			hc.h1 = true
			c.put(x.cl, pc, time.Now())
			return
		}
	}
	nc := &h2netConn{Conn: pc.nc, h2c: !pc.https}
	cc, err := newH2CC(nc, c.f.opts.Timeout)
	if err != nil {
		pc.close()
		hc.err = err
		c.dropH2(hc)
		return
	}
	hc.cc, hc.nc = cc, nc
}

// dropH2 forgets hc, so that the next request dials anew, and closes it
// once its requests in flight have ended.
func (c *Client) dropH2(hc *h2conn) {
	c.mu.Lock()
	if c.h2[hc.key] == hc {
		delete(c.h2, hc.key)
	}
	c.mu.Unlock()
	hc.release()
}

// afterH2 closes hc after a request if the client no longer holds it
// (Close ran, or it was dropped while the request was in flight).
func (c *Client) afterH2(hc *h2conn) {
	c.mu.Lock()
	held := c.h2[hc.key] == hc
	c.mu.Unlock()
	if !held {
		hc.release()
	}
}

// roundTripH2 sends x's request on hc and reads the response; it fills
// x.resp when the response is the final one. retry says the server did
// not process the request.
func (x *exchange) roundTripH2(ctx context.Context, hc *h2conn, follow bool) (retry, redirected bool, status int, location string, err error) {
	c := x.c
	r, sent, err := x.h2Request()
	if err != nil {
		return false, false, 0, "", err
	}
	defer c.afterH2(hc)
	reused := hc.cc.reused()
	st, err := hc.cc.roundTrip(ctx, r)
	if err != nil {
		if rerr := hc.nc.readErr(); rerr != nil && (errors.As(rerr, new(*noHTTP2Error)) || h2Unsent(err)) {
			err = rerr // why the connection ended, rather than that it did
		}
		// As over HTTP/1.1, a reused connection found closed before any
		// response came is replaced once for a request that may be repeated.
		gone := reused && x.replayable() && ctx.Err() == nil && (connGone(err) || errors.Is(err, io.ErrUnexpectedEOF))
		if h2Unsent(err) || gone {
			c.dropH2(hc)
			return true, false, 0, "", err
		}
		x.resp.BytesSent += sent
		return false, false, 0, "", err
	}
	defer st.close()
	x.resp.BytesSent += sent
	x.tm.TTFB = time.Since(x.start)
	head := &st.resp // set before the headers were handed over: no longer changes
	status, location = head.status, head.location
	redirected = isRedirect(status) && location != "" && c.f.opts.MaxRedirects >= 0 && !x.req.NoRedirects
	body := &h2body{st: st, ctx: ctx}
	if redirected && follow {
		_, err = io.Copy(io.Discard, body)
	} else {
		err = x.readBodyH2(body, head, r.gzip)
	}
	if err != nil {
		return false, false, 0, "", fmt.Errorf("reading the response body: %w", err)
	}
	x.end = time.Now()
	if len(head.setCookies) > 0 {
		c.storeCookies(x.t, head.setCookies)
	}
	if !redirected {
		r := x.resp
		r.Status, r.Proto, r.URL = status, "HTTP/2.0", x.t.url
		r.raw = head.raw
		r.Elapsed = x.end.Sub(x.start)
		r.Timings = x.tm
	}
	return false, redirected, status, location, nil
}

// h2body reads a stream's response body under the exchange's context,
// keeping the first error that is not the end of the body.
type h2body struct {
	st  *h2stream
	ctx context.Context
	err error
}

func (b *h2body) Read(p []byte) (int, error) {
	n, err := b.st.read(b.ctx, p)
	if err != nil && !errors.Is(err, io.EOF) && b.err == nil {
		b.err = err
	}
	return n, err
}

// readBodyH2 reads the final response's body into x.resp, as readBody
// does for HTTP/1.1: gzip decoded when horde asked for it.
func (x *exchange) readBodyH2(body *h2body, head *h2head, asked bool) error {
	var rd io.Reader = body
	length := head.length
	switch {
	case x.method == http.MethodHead, head.status == http.StatusNoContent, head.status == http.StatusNotModified:
		length = 0
	}
	gz := head.gzip && asked
	if gz {
		zr, err := getGzip(body)
		if err != nil {
			return h2GzipError(body, err)
		}
		defer gzipPool.Put(zr)
		rd, length = zr, -1
	}
	x.resp.uncompressed = gz
	b, n, err := readBody(rd, length, x.c.f.opts.MaxBodyBytes, x.req.DiscardBody, 0)
	x.resp.Body, x.resp.BytesRecv = b, n
	if err != nil && gz {
		return h2GzipError(body, err)
	}
	if gz {
		_, err = io.Copy(io.Discard, body) // to the end of the stream
	}
	return err
}

// h2GzipError tells a stream that failed from a body that is not gzip.
func h2GzipError(body *h2body, err error) error {
	if body.err != nil {
		return body.err
	}
	return &decodeError{err: err}
}

// h2Unsent reports an error for a request the server did not process:
// its connection could not take it or was going away (GOAWAY), or the
// server refused the stream (RFC 9113 section 8.7).
func h2Unsent(err error) bool {
	var se http2.StreamError
	if errors.As(err, &se) {
		return se.Code == http2.ErrCodeRefusedStream
	}
	return errors.Is(err, errH2Unusable) || errors.Is(err, errH2GoneAway)
}

// h2Request builds what x's request sends, and the bytes it stands for
// (see Response.BytesSent): the header fields are checked as over
// HTTP/1.1, so that a script cannot send what it could not send there.
func (x *exchange) h2Request() (*h2request, int64, error) {
	host := x.t.host
	if v := x.hdr["Host"]; len(v) > 0 && v[0] != "" {
		var err error
		if host, err = overrideHost(v[0]); err != nil {
			return nil, 0, err
		}
	}
	r := &h2request{method: x.method, scheme: x.t.u.Scheme, authority: host, path: x.t.uri, header: x.hdr,
		cookie: x.c.cookieHeader(x.t), body: x.body, gzip: wantsGzip(x.method, x.hdr), keepHeader: !x.req.DiscardBody}
	var size int64
	for k, vs := range x.hdr {
		if !httpguts.ValidHeaderFieldName(k) {
			return nil, 0, malformed("invalid header field name %q", k)
		}
		if h2Skipped(k) {
			continue
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				return nil, 0, malformed("invalid header field value for %q", k)
			}
			size += int64(len(k) + len(v) + 4)
		}
	}
	if _, ok := x.hdr["User-Agent"]; !ok {
		r.userAgent = x.c.f.opts.UserAgent
		size += int64(len("User-Agent: \r\n") + len(r.userAgent))
	}
	if r.cookie != "" {
		size += int64(len("Cookie: \r\n") + len(r.cookie))
	}
	if _, ok := x.hdr["Authorization"]; x.t.auth != "" && !ok {
		r.auth = x.t.auth
		size += int64(len("Authorization: \r\n") + len(r.auth))
	}
	if r.gzip {
		size += int64(len("Accept-Encoding: gzip\r\n"))
	}
	size += int64(len(x.method)+len(x.t.uri)+len(" HTTP/1.1\r\nHost: \r\n\r\n")+len(host)) + int64(len(x.body))
	return r, size, nil
}

// h2Skipped: fields HTTP/2 forbids (connection-specific, RFC 9113
// section 8.2.2) or that the request carries itself.
func h2Skipped(k string) bool {
	for _, s := range [...]string{"Host", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Proxy-Connection", "Upgrade", "Te"} {
		if strings.EqualFold(k, s) {
			return true
		}
	}
	return false
}
