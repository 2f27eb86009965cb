package httpx

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"
)

// exchange is one Do: a request and the redirects it follows.
type exchange struct {
	c      *Client
	ctx    context.Context
	cl     *call
	req    *Request
	t      *target
	method string
	hdr    http.Header
	body   []byte
	resp   *Response
	start  time.Time
	end    time.Time // when the last response was read
	tm     Timings
}

// wire is the memory one request needs while it runs, pooled across all
// clients so that an idle user holds none of it.
type wire struct {
	br      *bufio.Reader
	wbuf    []byte
	scratch []byte
	h       head
	fr      bodyReader
	sw      sendWait
}

const (
	readBufSize   = 4 << 10
	maxPooledBuf  = 64 << 10
	inlineBodyMax = 16 << 10 // bodies up to this size go out in the same write as the head
)

var wirePool = sync.Pool{New: func() any {
	return &wire{br: bufio.NewReaderSize(nil, readBufSize), wbuf: make([]byte, 0, 1024)}
}}

func (w *wire) release() {
	w.br.Reset(nil)
	w.fr = bodyReader{}
	w.sw.reset()
	if cap(w.wbuf) > maxPooledBuf {
		w.wbuf = nil
	}
	if cap(w.scratch) > maxPooledBuf {
		w.scratch = nil
	}
	if cap(w.h.raw) > maxPooledBuf {
		w.h.raw = nil
	}
	clear(w.h.setCookies)
	wirePool.Put(w)
}

// run sends the request and follows redirects.
func (x *exchange) run() *Response {
	maxRedirects := x.c.f.opts.MaxRedirects
	w := wirePool.Get().(*wire)
	defer w.release()
	for hop := 0; ; hop++ {
		if hop > 0 && x.ctx.Err() != nil {
			return x.fail(context.Cause(x.ctx)) // stopped between hops: the next is not sent
		}
		follow := maxRedirects >= 0 && hop < maxRedirects && !x.req.NoRedirects
		redirected, err := x.hop(w, follow)
		if err != nil {
			return x.fail(err)
		}
		if !redirected {
			return x.done(w)
		}
		if !follow {
			return x.fail(fmt.Errorf("%w: more than %d", ErrTooManyRedirects, maxRedirects))
		}
		if err := x.redirect(w.h.status, w.h.location); err != nil {
			return x.fail(err)
		}
	}
}

// hop does one request and reads its response: the body is kept (as the
// request says) unless the response is a redirect that will be followed.
// A reused connection that turns out to be closed before any byte of a
// response arrived is replaced once, for requests that may be repeated.
func (x *exchange) hop(w *wire, follow bool) (redirected bool, err error) {
	for attempt := 0; ; attempt++ {
		pc := x.c.take(x.connKey(), x.start, !x.replayable())
		if pc == nil {
			if pc, err = x.dial(); err != nil {
				return false, err
			}
		}
		retry, redirected, err := x.roundTrip(w, pc, follow)
		if retry && attempt == 0 && x.ctx.Err() == nil && x.replayable() {
			continue
		}
		return redirected, err
	}
}

func (x *exchange) dial() (*pconn, error) {
	ctx, cancel := x.dialContext()
	defer cancel()
	return x.c.dial(ctx, x.t, x.connKey(), x.req.Insecure, false, &x.tm)
}

// dialContext returns what a dial of x runs under: x's context with the
// request's deadline. A user's context (one with an AfterFunc method) is
// not the new context's parent but ends it through AfterFunc: a parent
// would be asked for a Done channel, which a user would then keep all its
// life (112 bytes of an idle user's 3 KiB).
func (x *exchange) dialContext() (context.Context, context.CancelFunc) {
	a, ok := x.ctx.(afterFuncer)
	if !ok {
		return context.WithDeadline(x.ctx, x.cl.deadline)
	}
	ctx, cancel := context.WithDeadline(context.Background(), x.cl.deadline)
	stop := a.AfterFunc(cancel)
	return ctx, func() { stop(); cancel() }
}

// connKey is the key of the connections x may use: those of its target,
// verified or not as x asks.
func (x *exchange) connKey() string { return connKey(x.t, x.req.Insecure) }

func connKey(t *target, insecure bool) string {
	if insecure && t.https {
		return t.key + " insecure"
	}
	return t.key
}

// roundTrip writes the request on pc and reads the response. retry says
// the connection was found closed before anything came back.
func (x *exchange) roundTrip(w *wire, pc *pconn, follow bool) (retry, redirected bool, err error) {
	c := x.c
	if err := c.attach(x.cl, pc); err != nil {
		pc.close()
		return false, false, err
	}
	defer func() { _ = c.attach(x.cl, nil) }()
	if x.ctx.Err() != nil {
		c.put(x.cl, pc, time.Now())
		return false, false, context.Cause(x.ctx)
	}
	host := x.t.host
	if v := x.hdr["Host"]; len(v) > 0 && v[0] != "" {
		if host, err = overrideHost(v[0]); err != nil {
			c.put(x.cl, pc, time.Now())
			return false, false, err
		}
	}
	w.wbuf, err = writeRequest(w.wbuf[:0], x.method, x.t.uri, host, x.hdr, &c.f.opts, c.cookieHeader(x.t), x.t.auth, len(x.body))
	if err != nil {
		c.put(x.cl, pc, time.Now())
		return false, false, err
	}
	n, err := x.send(w, pc)
	x.resp.BytesSent += n
	if err != nil {
		pc.close()
		if pc.reused && connGone(err) {
			x.resp.BytesSent -= n // they went nowhere
			return true, false, err
		}
		return false, false, err
	}
	x.tm.TTFB = time.Since(x.start)
	if err := readHead(w.br, &w.scratch, true, &w.h); err != nil {
		pc.close()
		return false, false, err
	}
	w.fr.frame(w.br, &w.scratch, x.method, &w.h)
	redirected = isRedirect(w.h.status) && w.h.location != "" && c.f.opts.MaxRedirects >= 0 && !x.req.NoRedirects
	if redirected && follow {
		_, err = io.Copy(io.Discard, &w.fr)
	} else {
		err = x.readBody(w)
	}
	if err != nil {
		pc.close()
		return false, false, fmt.Errorf("reading the response body: %w", err)
	}
	x.end = time.Now()
	if w.h.close || w.br.Buffered() > 0 || asksClose(x.hdr) {
		// Asked for by either side (a client that sent "close" must not
		// send more on the connection, RFC 9112 section 9.6, whatever the
		// server answered), or the server sent more than one response.
		pc.close()
	} else {
		c.put(x.cl, pc, x.end)
	}
	if len(w.h.setCookies) > 0 {
		c.storeCookies(x.t, w.h.setCookies)
	}
	return false, redirected, nil
}

// send writes the request (its head is in w.wbuf) and waits for the
// first bytes of the response in w.br. On plain TCP a request small
// enough for one write is sent by sendWait, which waits for the response
// before it reads.
func (x *exchange) send(w *wire, pc *pconn) (int64, error) {
	if pc.rc != nil && len(x.body) <= inlineBodyMax {
		w.wbuf = append(w.wbuf, x.body...)
		w.sw.start(pc, w.wbuf)
		w.br.Reset(&w.sw)
		_, err := w.br.Peek(1)
		return int64(w.sw.sent), err
	}
	n, err := x.write(w, pc)
	if err == nil {
		w.br.Reset(pc.nc)
		_, err = w.br.Peek(1)
	}
	return n, err
}

// write sends the head in w.wbuf and the body: in one write when it is
// small.
func (x *exchange) write(w *wire, pc *pconn) (int64, error) {
	if len(x.body) <= inlineBodyMax {
		w.wbuf = append(w.wbuf, x.body...)
		n, err := pc.nc.Write(w.wbuf)
		return int64(n), err
	}
	n, err := pc.nc.Write(w.wbuf)
	if err != nil {
		return int64(n), err
	}
	m, err := pc.nc.Write(x.body)
	return int64(n + m), err
}

// readBody reads the final response's body into x.resp: kept up to the
// client's limit or discarded, as the request says; gzip decoded when
// horde asked for it.
func (x *exchange) readBody(w *wire) error {
	var rd io.Reader = &w.fr
	length := w.h.length
	if w.fr.mode == bodyNone {
		length = 0 // HEAD, 204 and 304 carry no body whatever Content-Length says
	}
	gz := w.h.gzip && !w.fr.done && wantsGzip(x.method, x.hdr)
	if gz {
		zr, err := getGzip(&w.fr)
		if err != nil {
			return w.gzipError(err)
		}
		defer gzipPool.Put(zr)
		rd, length = zr, -1
	}
	x.resp.uncompressed = gz
	extra := 0
	if !x.req.DiscardBody {
		extra = len(w.h.raw) // done puts the header lines after the body
	}
	body, n, err := readBody(rd, length, x.c.f.opts.MaxBodyBytes, x.req.DiscardBody, extra)
	x.resp.Body, x.resp.BytesRecv = body, n
	if err != nil && gz {
		return w.gzipError(err)
	}
	if gz {
		_, err = io.Copy(io.Discard, &w.fr) // to the end of the framing, so the connection can be reused
	}
	return err
}

var gzipPool sync.Pool

// gzipError tells a body cut short (the framing failed) from one that
// is not valid gzip.
func (w *wire) gzipError(err error) error {
	if w.fr.err != nil {
		return w.fr.err
	}
	return &decodeError{err: err}
}

// decodeError is a response body that does not decode as its
// Content-Encoding says.
type decodeError struct{ err error }

func (e *decodeError) Error() string { return "gzip: invalid body (" + e.err.Error() + ")" }

func getGzip(r io.Reader) (*gzip.Reader, error) {
	if zr, ok := gzipPool.Get().(*gzip.Reader); ok {
		if err := zr.Reset(r); err != nil {
			gzipPool.Put(zr)
			return nil, err
		}
		return zr, nil
	}
	return gzip.NewReader(r)
}

// readBody reads body to its end. It keeps at most limit bytes (none when
// discard is set) and returns the full count of bytes read. A known
// length within the limit is read into an exactly sized buffer, with
// room for extra bytes after it.
func readBody(body io.Reader, length, limit int64, discard bool, extra int) ([]byte, int64, error) {
	if discard || limit <= 0 {
		n, err := io.Copy(io.Discard, body)
		return nil, n, err
	}
	if length >= 0 && length <= limit {
		buf := make([]byte, length, length+int64(extra))
		n, err := io.ReadFull(body, buf)
		if err != nil {
			return buf[:n], int64(n), err
		}
		rest, err := io.Copy(io.Discard, body)
		return buf, int64(n) + rest, err
	}
	var b bytes.Buffer
	n, err := b.ReadFrom(io.LimitReader(body, limit))
	if err != nil {
		return b.Bytes(), n, err
	}
	rest, err := io.Copy(io.Discard, body)
	return b.Bytes(), n + rest, err
}

// done fills x.resp from the final response.
func (x *exchange) done(w *wire) *Response {
	r := x.resp
	r.Status, r.Proto, r.URL = w.h.status, w.h.proto, x.t.url
	if !x.req.DiscardBody {
		if b := r.Body; cap(b)-len(b) >= len(w.h.raw) && len(w.h.raw) > 0 {
			// The room readBody left: one allocation for both.
			r.raw = append(b[len(b):], w.h.raw...)
			r.Body = b[:len(b):len(b)]
		} else {
			r.raw = bytes.Clone(w.h.raw)
		}
	}
	r.Elapsed = x.end.Sub(x.start)
	r.Timings = x.tm
	return r
}

// fail fills x.resp for a failed request. The kind is KindCanceled
// whenever the caller's ctx has ended, whatever error surfaced for it,
// except a request of the drain that ran out of its own timeout first:
// that is the target's failure, measured as the client before this
// engine did (its drain context outlived the request's timeout).
func (x *exchange) fail(err error) *Response {
	r := x.resp
	r.Status, r.Proto, r.Body, r.raw, r.header = 0, "", nil, nil, nil
	r.Err = err
	r.ErrKind = ClassifyError(err)
	if x.ctx != nil && x.ctx.Err() != nil && !x.timedOut(r.ErrKind) {
		r.ErrKind = KindCanceled
	}
	if x.t != nil {
		r.URL = x.t.url
	}
	r.Elapsed = time.Since(x.start)
	r.Timings = x.tm
	return r
}

// timedOut reports whether a failure of kind is the request's own
// timeout: the connection's deadline is the end of the drain when that
// comes first, so a timeout at or after the request's deadline is its own.
func (x *exchange) timedOut(kind string) bool {
	return kind == KindTimeout && x.cl != nil && !time.Now().Before(x.cl.deadline)
}

// replayable is net/http's rule for sending a request again on a new
// connection: an idempotent method, or an idempotency key.
func (x *exchange) replayable() bool {
	switch x.method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, k1 := x.hdr["Idempotency-Key"]
	_, k2 := x.hdr["X-Idempotency-Key"]
	return k1 || k2
}

// connGone reports an error that means the server had closed the
// connection before the request reached it.
func connGone(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// redirect points x at the location of a redirect response with status,
// as net/http does: 301, 302 and 303 turn a request other than GET or
// HEAD into a GET without a body; 307 and 308 repeat it. Credentials and
// cookies set by the script are not sent to another host.
func (x *exchange) redirect(status int, location string) error {
	u, err := x.t.u.Parse(location)
	if err != nil {
		return malformed("failed to parse Location header %q: %v", clip([]byte(location)), err)
	}
	t, err := newTarget(u)
	if err != nil {
		return err
	}
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther:
		if x.method != http.MethodGet && x.method != http.MethodHead {
			x.method, x.body = http.MethodGet, nil
		}
	}
	if t.name != x.t.name && len(x.hdr) > 0 {
		hdr := x.hdr.Clone()
		for _, k := range []string{"Authorization", "Www-Authenticate", "Cookie", "Cookie2", "Proxy-Authorization", "Host"} {
			delete(hdr, k)
		}
		x.hdr = hdr
	} else if !strings.EqualFold(t.host, x.t.host) && len(x.hdr["Host"]) > 0 {
		hdr := x.hdr.Clone()
		delete(hdr, "Host")
		x.hdr = hdr
	}
	x.t = t
	return nil
}
