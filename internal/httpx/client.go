package httpx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Client is one virtual user's HTTP session: its own keep-alive
// connection(s) and cookie jar. It is safe for concurrent use, but a
// virtual user is sequential and the client is built for that: a request
// runs on the calling goroutine from the first byte written to the last
// byte read, with no goroutines or channels in between, and between
// requests the client holds its idle connection and nothing else (read
// and write buffers are pooled across all clients).
//
// Like Locust's HttpUser it asks for gzip and decodes it transparently
// (then BytesRecv counts decoded bytes), unless the request sets its own
// Accept-Encoding, in which case the body is passed on as received. It
// ignores proxy environment variables: a load test goes where it is told.
//
// HTTP/2 is a separate path, chosen per request (see HTTP2Mode): one
// connection per origin, shared by the client's concurrent requests
// (DoBatch) as streams.
type Client struct {
	f    *Factory
	base atomic.Pointer[string]

	mu      sync.Mutex
	idle    []*pconn
	jar     *cookiejar.Jar  // made at the first cookie
	calls   []*call         // requests in flight
	watched context.Context // the context whose end drains calls (the user's)
	// keepIdle raises Options.MaxConnsPerHost for this client: the
	// connections its batches opened to one host are kept for the next.
	keepIdle int
	h2       map[string]*h2conn // HTTP/2 connections by connection key
	h1only   map[string]bool    // keys whose server chose HTTP/1.1 by ALPN
}

// call is one Do in flight.
type call struct {
	ctx      context.Context
	deadline time.Time     // its timeout
	slack    time.Duration // how much later than deadline the connection's may be
	abortAt  time.Time     // set when ctx ended: the end of the drain
	pc       *pconn        // the connection it is on, if any
	// h2cancel, set for an HTTP/2 request, ends its context: it has no
	// connection deadline to move, so the end of its drain is a timer
	// (h2timer) that calls it.
	h2cancel context.CancelFunc
	h2timer  *time.Timer
	// stopWatch ends the watch of a context other than the user's.
	stopWatch func() bool
}

// NewClient makes a client with no cookies and no connections.
func (f *Factory) NewClient() *Client {
	c := &Client{f: f}
	c.base.Store(&f.base)
	return c
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
	c.mu.Lock()
	jar := c.jar
	c.mu.Unlock()
	if jar == nil {
		return nil
	}
	return jar.Cookies(parsed)
}

// SetCookies stores cookies in the client's jar as if the server at u
// (absolute, or relative to the base URL) had set them; they are sent
// with the requests they match from now on.
func (c *Client) SetCookies(u string, cookies []*http.Cookie) error {
	parsed, err := resolveURL(c.BaseURL(), u)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.jar == nil {
		c.jar, _ = cookiejar.New(nil) // cannot fail without options
	}
	jar := c.jar
	c.mu.Unlock()
	jar.SetCookies(parsed, cookies)
	return nil
}

// ClearCookies forgets every cookie of the client.
func (c *Client) ClearCookies() {
	c.mu.Lock()
	c.jar = nil
	c.mu.Unlock()
}

// Close closes the client's idle connections; an HTTP/2 connection
// with requests in flight closes when they end. The client stays usable.
func (c *Client) Close() {
	c.mu.Lock()
	idle := c.idle
	c.idle = nil
	h2 := c.h2
	c.h2 = nil
	c.mu.Unlock()
	for _, pc := range idle {
		pc.close()
	}
	for _, hc := range h2 {
		hc.release()
	}
}

var errNilRequest = errors.New("httpx: nil request")

// Do sends r and reads the whole response body. It never returns nil and
// never panics: failures come back in Response.Err and Response.ErrKind.
// A request still in flight when ctx ends may finish for Options.Drain
// and is then returned as usual; one not sent by then, or not answered
// within the drain, has ErrKind KindCanceled (the runner does not record
// those). When r.Timeout (or the client's default) runs out, KindTimeout.
// Elapsed runs from the call to the end of the body.
func (c *Client) Do(ctx context.Context, r *Request) *Response {
	resp := new(Response)
	c.DoTo(ctx, r, resp)
	return resp
}

// DoTo is Do writing the response into *resp, which it overwrites: for a
// caller that keeps the response inside a value of its own (a script's
// response object), one allocation fewer per request.
func (c *Client) DoTo(ctx context.Context, r *Request, resp *Response) {
	*resp = Response{}
	x := exchange{c: c, start: time.Now(), resp: resp}
	defer func() {
		if p := recover(); p != nil {
			*resp = Response{Elapsed: time.Since(x.start), Err: fmt.Errorf("httpx: internal error: %v", p),
				ErrKind: kindOtherPrefix + "internal error"}
		}
	}()
	x.do(ctx, r)
}

// do runs the exchange of one Do.
func (x *exchange) do(ctx context.Context, r *Request) *Response {
	c := x.c
	if ctx == nil {
		ctx = context.Background()
	}
	x.ctx = ctx
	if r == nil {
		return x.fail(errNilRequest)
	}
	x.req, x.method, x.hdr, x.body = r, r.Method, r.Header, r.Body
	if x.method == "" {
		x.method = http.MethodGet
	}
	if !validMethod(x.method) {
		return x.fail(fmt.Errorf("invalid method %q", x.method))
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = c.f.opts.Timeout
	}
	t, err := c.f.targets.resolve(c.BaseURL(), r.URL)
	if err != nil {
		return x.fail(err)
	}
	x.t = t
	if ctx.Err() != nil {
		return x.fail(context.Cause(ctx))
	}
	x.cl = c.begin(ctx, x.start.Add(timeout), timeout)
	defer c.end(x.cl)
	if ctx.Err() != nil { // ended while registering: the stop may have missed it
		return x.fail(context.Cause(ctx))
	}
	if mode := r.HTTP2; mode > HTTP2Off || (mode == HTTP2Default && c.f.opts.HTTP2 > HTTP2Off) {
		if mode == HTTP2Default {
			mode = c.f.opts.HTTP2
		}
		return x.runH2(mode)
	}
	return x.run()
}

// begin registers a request in flight under ctx, so that ctx's end
// drains it; the client watches the context of its user once, for its
// whole life, and any other context per request.
func (c *Client) begin(ctx context.Context, deadline time.Time, timeout time.Duration) *call {
	cl := callPool.Get().(*call)
	*cl = call{ctx: ctx, deadline: deadline, slack: timeout / deadlineSlack}
	c.mu.Lock()
	c.calls = append(c.calls, cl)
	// A user's context (one with an AfterFunc method) can always end, and
	// is not asked for a Done channel it would make for nothing.
	_, ends := ctx.(afterFuncer)
	watch := ctx != c.watched && (ends || ctx.Done() != nil)
	if watch && (c.watched == nil || c.watched.Err() != nil) {
		c.watched, watch = ctx, false
		afterFunc(ctx, func() { c.stopCalls(ctx) })
	}
	c.mu.Unlock()
	if watch { // a context other than the user's: watched for this request only
		stop := afterFunc(ctx, func() { c.stopCalls(ctx) })
		cl.stopWatch = stop
	}
	return cl
}

// end unregisters a request.
func (c *Client) end(cl *call) {
	if cl.stopWatch != nil {
		cl.stopWatch()
	}
	c.mu.Lock()
	for i, x := range c.calls {
		if x == cl {
			last := len(c.calls) - 1
			c.calls[i], c.calls[last] = c.calls[last], nil
			c.calls = c.calls[:last]
			break
		}
	}
	c.mu.Unlock()
	*cl = call{}
	callPool.Put(cl)
}

var callPool = sync.Pool{New: func() any { return new(call) }}

// afterFuncer is a context that runs a function when it ends, as a
// runner's user contexts do.
type afterFuncer interface {
	AfterFunc(func()) (stop func() bool)
}

// afterFunc is context.AfterFunc, asking ctx itself when it has an
// AfterFunc method, as context.AfterFunc would — without the context of
// its own that context.AfterFunc makes for every call. A runner's user
// contexts have one: a user's client so watches its user for a few bytes.
func afterFunc(ctx context.Context, f func()) (stop func() bool) {
	if a, ok := ctx.(afterFuncer); ok {
		return a.AfterFunc(f)
	}
	return context.AfterFunc(ctx, f)
}

// stopCalls runs when ctx ends: its requests in flight get until the end
// of the drain to finish, then their connection's deadline aborts them.
func (c *Client) stopCalls(ctx context.Context) {
	at := time.Now()
	if d := c.f.opts.Drain; d > 0 {
		at = at.Add(d)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cl := range c.calls {
		if cl.ctx == ctx {
			cl.abortAt = at
			if cl.h2cancel != nil && cl.h2timer == nil {
				cl.h2timer = time.AfterFunc(time.Until(at), cl.h2cancel)
			}
			if cl.pc != nil {
				_ = cl.pc.setDeadline(cl.deadlineLocked(), 0)
			}
		}
	}
}

// deadlineLocked is when the request must end: its timeout, or the end
// of its drain if that comes first.
func (cl *call) deadlineLocked() time.Time {
	if !cl.abortAt.IsZero() && cl.abortAt.Before(cl.deadline) {
		return cl.abortAt
	}
	return cl.deadline
}

// deadlineSlack: a request may end up to 1/64 of its timeout after it,
// so that a connection's deadline (a timer in the runtime) is moved only
// every so often, not at every request.
const deadlineSlack = 64

// take returns an idle connection for key, or nil. Connections idle for
// a while are checked first, and all of them when check is set (the
// request cannot be sent again if the connection turns out dead): a
// server may have closed them.
func (c *Client) take(key string, now time.Time, check bool) *pconn {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.idle) - 1; i >= 0; i-- {
		pc := c.idle[i]
		if pc.key != key {
			continue
		}
		c.idle = append(c.idle[:i], c.idle[i+1:]...)
		if (check || now.Sub(pc.idleAt) > staleCheckAfter) && pc.stale() {
			pc.close()
			continue
		}
		return pc
	}
	return nil
}

// staleCheckAfter is the idle time after which a connection is peeked at
// before reuse; below it the retry of a failed reused connection covers
// the rare server that closes so fast.
const staleCheckAfter = time.Second

// put keeps pc for reuse, or closes it when keep-alive is off or enough
// connections to its host are idle already. It first takes pc off cl
// under the lock: once pc is idle another request may take it, and the
// end of cl's context must not then move that request's deadline. It
// also closes connections to other hosts idle for idleConnTimeout.
func (c *Client) put(cl *call, pc *pconn, now time.Time) {
	var expired []*pconn
	c.mu.Lock()
	cl.pc = nil
	if !c.f.opts.DisableKeepAlive {
		pc.reused, pc.idleAt = true, now
		n, kept := 0, c.idle[:0]
		for _, x := range c.idle {
			switch {
			case now.Sub(x.idleAt) > idleConnTimeout:
				expired = append(expired, x)
				continue
			case x.key == pc.key:
				n++
			}
			kept = append(kept, x)
		}
		clear(c.idle[len(kept):])
		c.idle = kept
		if n < max(c.f.opts.MaxConnsPerHost, c.keepIdle) {
			c.idle, pc = append(c.idle, pc), nil
		}
	}
	c.mu.Unlock()
	if pc != nil {
		pc.close()
	}
	for _, x := range expired {
		x.close()
	}
}

// idleConnTimeout is how long a connection may stay idle, as net/http's
// IdleConnTimeout did: a script that visits many hosts would otherwise
// keep a connection to each of them for the client's whole life. It is
// enforced at the client's next request, not by a timer.
const idleConnTimeout = 90 * time.Second

// attach puts cl on pc and gives pc the request's deadline.
func (c *Client) attach(cl *call, pc *pconn) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl.pc = pc
	if pc == nil {
		return nil
	}
	var slack time.Duration
	if cl.abortAt.IsZero() {
		slack = cl.slack
	}
	return pc.setDeadline(cl.deadlineLocked(), slack)
}

// cookieHeader is the Cookie header the jar has for t, or "".
func (c *Client) cookieHeader(t *target) string {
	c.mu.Lock()
	jar := c.jar
	c.mu.Unlock()
	if jar == nil {
		return ""
	}
	cs := jar.Cookies(t.u)
	if len(cs) == 0 {
		return ""
	}
	var b strings.Builder
	for i, ck := range cs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(ck.String())
	}
	return b.String()
}

// storeCookies puts the Set-Cookie headers of a response from t in the
// jar; malformed ones are ignored, as browsers do.
func (c *Client) storeCookies(t *target, lines []string) {
	cookies := make([]*http.Cookie, 0, len(lines))
	for _, l := range lines {
		if ck, err := http.ParseSetCookie(l); err == nil {
			cookies = append(cookies, ck)
		}
	}
	if len(cookies) == 0 {
		return
	}
	c.mu.Lock()
	if c.jar == nil {
		c.jar, _ = cookiejar.New(nil) // cannot fail without options
	}
	jar := c.jar
	c.mu.Unlock()
	jar.SetCookies(t.u, cookies)
}
