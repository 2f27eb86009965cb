package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"sync/atomic"
	"time"
)

// Client is one virtual user's HTTP session: its own keep-alive
// connections and cookie jar. It is safe for concurrent use, but a virtual
// user is sequential and the connection pool is sized for that. Between
// requests it holds no buffers beyond its idle connections.
//
// Like Locust's HttpUser it asks for gzip and decodes it transparently
// (then BytesRecv counts decoded bytes), unless the request sets its own
// Accept-Encoding, in which case the body is passed on as received. It
// ignores proxy environment variables: a load test goes where it is told.
type Client struct {
	f    *Factory
	base atomic.Pointer[string]
	jar  *cookiejar.Jar
	tr   *http.Transport
	hc   *http.Client
}

// NewClient makes a client with a fresh cookie jar and no connections.
func (f *Factory) NewClient() *Client {
	jar, _ := cookiejar.New(nil) // cannot fail without options
	c := &Client{f: f, jar: jar, tr: f.newTransport()}
	c.base.Store(&f.base)
	c.hc = &http.Client{Transport: c.tr, Jar: jar, CheckRedirect: f.checkRedirect}
	return c
}

// newTransport keeps net/http's engine lean: HTTP/1.1 only, no proxy from
// the environment (a load test goes where it is told), a small idle pool.
// The engine stays behind Client so that it can be swapped.
func (f *Factory) newTransport() *http.Transport {
	protos := new(http.Protocols)
	protos.SetHTTP1(true)
	return &http.Transport{
		DialContext:            f.dialer.DialContext,
		TLSClientConfig:        f.tls,
		TLSHandshakeTimeout:    f.opts.ConnectTimeout,
		DisableKeepAlives:      f.opts.DisableKeepAlive,
		MaxIdleConnsPerHost:    f.opts.MaxConnsPerHost,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 1 << 20,
		ForceAttemptHTTP2:      false,
		Protocols:              protos,
	}
}

// checkRedirect follows up to MaxRedirects hops, counting the bytes of
// each hop that was answered with a redirect.
func (f *Factory) checkRedirect(req *http.Request, via []*http.Request) error {
	if f.opts.MaxRedirects < 0 {
		return http.ErrUseLastResponse
	}
	if st := stateFrom(req.Context()); st != nil {
		st.addHop(via[len(via)-1], &f.opts)
	}
	if len(via) > f.opts.MaxRedirects {
		return fmt.Errorf("%w: more than %d", ErrTooManyRedirects, f.opts.MaxRedirects)
	}
	return nil
}

// BaseURL returns the URL that relative request URLs are appended to.
func (c *Client) BaseURL() string { return *c.base.Load() }

// SetBaseURL changes the base URL (a user class's own host); "" means
// requests must use absolute URLs.
func (c *Client) SetBaseURL(base string) error {
	b, err := normalizeBase(base)
	if err != nil {
		return err
	}
	c.base.Store(&b)
	return nil
}

// Cookies returns the cookies the client would send to u (absolute, or
// relative to the base URL); nil when u is not a valid URL.
func (c *Client) Cookies(u string) []*http.Cookie {
	parsed, err := resolveURL(c.BaseURL(), u)
	if err != nil {
		return nil
	}
	return c.jar.Cookies(parsed)
}

// Close closes the client's idle connections. The client stays usable.
func (c *Client) Close() { c.tr.CloseIdleConnections() }

var errNilRequest = errors.New("httpx: nil request")

// Do sends r and reads the whole response body. It never returns nil and
// never panics: failures come back in Response.Err and Response.ErrKind.
// A request still in flight when ctx ends may finish for Options.Drain
// and is then returned as usual; one not sent by then, or not answered
// within the drain, has ErrKind KindCanceled (the runner does not record
// those). When r.Timeout (or the client's default) runs out, KindTimeout.
// Elapsed runs from the call to the end of the body.
func (c *Client) Do(ctx context.Context, r *Request) (resp *Response) {
	st := &reqState{start: time.Now()}
	resp = &Response{}
	defer func() {
		if p := recover(); p != nil {
			*resp = Response{Elapsed: time.Since(st.start), Err: fmt.Errorf("httpx: internal error: %v", p),
				ErrKind: kindOtherPrefix + "internal error"}
		}
	}()
	if ctx == nil {
		ctx = context.Background()
	}
	if r == nil {
		return c.fail(ctx, resp, st, errNilRequest)
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = c.f.opts.Timeout
	}
	if ctx.Err() != nil {
		return c.fail(ctx, resp, st, context.Cause(ctx))
	}
	dctx, undrain := drain(ctx, c.f.opts.Drain)
	defer undrain()
	rctx, cancel := context.WithTimeoutCause(dctx, timeout, errTimeout)
	defer cancel()
	req, err := c.newRequest(st.attach(rctx), r)
	if err != nil {
		return c.fail(dctx, resp, st, err)
	}
	hr, err := c.hc.Do(req)
	if err != nil {
		resp.URL = req.URL.String()
		resp.BytesSent = st.bytesSent(req, false, &c.f.opts)
		return c.fail(dctx, resp, st, err)
	}
	defer hr.Body.Close()
	resp.BytesSent = st.bytesSent(hr.Request, true, &c.f.opts)
	resp.URL = hr.Request.URL.String()
	length := hr.ContentLength
	if hr.Body == http.NoBody {
		length = 0 // HEAD, 204 and 304 carry no body whatever Content-Length says
	}
	body, n, err := readBody(hr.Body, length, c.f.opts.MaxBodyBytes, r.DiscardBody)
	resp.BytesRecv = n
	if err != nil {
		return c.fail(dctx, resp, st, fmt.Errorf("reading the response body: %w", err))
	}
	resp.Status, resp.Proto, resp.Header, resp.Body = hr.StatusCode, hr.Proto, hr.Header, body
	resp.Elapsed = time.Since(st.start)
	resp.Timings = st.timings()
	return resp
}

// drain returns a context for a request under ctx that outlives ctx's
// cancellation by d, so a request in flight when its user stops can
// still finish and be measured. release must be called when the request
// is done. d < 0 gives ctx itself.
func drain(ctx context.Context, d time.Duration) (_ context.Context, release func()) {
	if d < 0 || ctx.Done() == nil {
		return ctx, func() {}
	}
	dctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(d, func() { cancel(context.Cause(ctx)) })
		<-dctx.Done()
		t.Stop()
	})
	return dctx, func() {
		stop()
		cancel(nil)
	}
}

// newRequest builds the net/http request: absolute URL, GET by default,
// the client's User-Agent unless r sets one, and a Host header honoured.
// r.Header is copied, never modified.
func (c *Client) newRequest(ctx context.Context, r *Request) (*http.Request, error) {
	target, err := joinURL(c.BaseURL(), r.URL)
	if err != nil {
		return nil, err
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if len(r.Body) > 0 {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	if err := checkURL(req.URL); err != nil {
		return nil, err
	}
	h := make(http.Header, len(r.Header)+1)
	for k, v := range r.Header {
		h[k] = v
	}
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = []string{c.f.opts.UserAgent}
	}
	if host := h.Get("Host"); host != "" {
		req.Host = host
		delete(h, "Host")
	}
	req.Header = h
	return req, nil
}

// fail fills resp for a failed request. The kind is KindCanceled whenever
// the caller's ctx has ended, whatever error net/http surfaced for it.
func (c *Client) fail(ctx context.Context, resp *Response, st *reqState, err error) *Response {
	resp.Status, resp.Proto, resp.Header, resp.Body = 0, "", nil, nil
	resp.Err = err
	if ctx.Err() != nil {
		resp.ErrKind = KindCanceled
	} else {
		resp.ErrKind = ClassifyError(err)
	}
	resp.Elapsed = time.Since(st.start)
	resp.Timings = st.timings()
	return resp
}

// readBody reads body to its end. It keeps at most limit bytes (none when
// discard is set) and returns the full count of bytes read. A known
// length within the limit is read into an exactly sized buffer.
func readBody(body io.Reader, length, limit int64, discard bool) ([]byte, int64, error) {
	if discard || limit <= 0 {
		n, err := io.Copy(io.Discard, body)
		return nil, n, err
	}
	if length >= 0 && length <= limit {
		buf := make([]byte, length)
		n, err := io.ReadFull(body, buf)
		if err != nil {
			return buf[:n], int64(n), err
		}
		rest, err := io.Copy(io.Discard, body) // reach EOF so the connection is reused
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
