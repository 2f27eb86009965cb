package script

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.starlark.net/starlark"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/horde-load/horde/internal/grpcx"
	"github.com/horde-load/horde/internal/httpx"
	"github.com/horde-load/horde/internal/stats"
)

// userConns are a user's connections besides its HTTP client: its open
// WebSockets and its gRPC connections (one per target). They end when the
// context of the call that opened them ends — the user's life for a task
// or on_start, on_stop's own bound for on_stop — so a user that stops
// never leaves a connection open. A gRPC call in flight then finishes
// first (within the drain), so that it is measured as HTTP requests are.
type userConns struct {
	mu       sync.Mutex
	ws       map[*wsObj]struct{}
	pool     *grpcx.Pool
	watched  context.Context
	drained  context.Context // watched, ended a drain later
	unwatch  func() bool
	inflight int  // gRPC calls running
	closing  bool // the watched context ended during a call
	// calls remembers each address and method the user called: where it
	// goes and what it takes, so that a user's next call parses and looks
	// up nothing. Only this user's goroutine uses it.
	calls map[callKey]knownCall
}

type callKey struct{ addr, method string }

type knownCall struct {
	target grpcx.Target
	desc   protoreflect.MethodDescriptor
}

// remember keeps a call's target and method; a user calling more than a
// few hundred distinct ones (generated addresses) stops keeping them.
func (c *userConns) remember(k callKey, v knownCall) {
	if c.calls == nil {
		c.calls = map[callKey]knownCall{}
	}
	if len(c.calls) < 256 {
		c.calls[k] = v
	}
}

// conns returns the user's connection set, made on first use.
func (st *vuState) connSet() *userConns {
	if st.conns == nil {
		st.conns = &userConns{}
	}
	return st.conns
}

// watch closes the connections when ctx ends; a later context (on_stop's)
// takes over from an earlier one. It returns the context calls run
// under: ctx's values, ended drain after ctx (so that a call in flight
// when the user stops may still finish and be measured), or ctx itself
// when ctx never ends.
func (c *userConns) watch(ctx context.Context, drain time.Duration) context.Context {
	if ctx == nil || ctx.Done() == nil {
		return ctx
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ctx == c.watched {
		return c.drained
	}
	if c.unwatch != nil {
		c.unwatch()
	}
	drained, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.watched, c.drained = ctx, drained
	c.unwatch = context.AfterFunc(ctx, func() {
		c.shut()
		time.AfterFunc(drain, cancel)
	})
	return drained
}

// shut aborts the WebSockets and closes the gRPC connections, or leaves
// them to the end of the call in flight.
func (c *userConns) shut() {
	c.mu.Lock()
	ws := c.ws
	c.ws = nil
	var pool *grpcx.Pool
	if c.inflight > 0 {
		c.closing = true
	} else {
		pool, c.pool = c.pool, nil
	}
	c.mu.Unlock()
	for w := range ws {
		w.conn.Abort()
	}
	if pool != nil {
		pool.Close()
	}
}

func (c *userConns) addWS(w *wsObj) {
	c.mu.Lock()
	if c.ws == nil {
		c.ws = map[*wsObj]struct{}{}
	}
	c.ws[w] = struct{}{}
	c.mu.Unlock()
}

func (c *userConns) dropWS(w *wsObj) {
	c.mu.Lock()
	delete(c.ws, w)
	c.mu.Unlock()
}

// grpcPool returns the user's gRPC pool and marks a call in flight; call
// done when it ends.
func (c *userConns) grpcPool(o grpcx.Options) *grpcx.Pool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pool == nil {
		c.pool = grpcx.NewPool(o)
	}
	c.inflight++
	return c.pool
}

func (c *userConns) done() {
	c.mu.Lock()
	c.inflight--
	var pool *grpcx.Pool
	if c.inflight == 0 && c.closing {
		c.closing = false
		pool, c.pool = c.pool, nil
	}
	c.mu.Unlock()
	if pool != nil {
		pool.Close()
	}
}

// clientDefaults are what a user's other protocols take from its HTTP
// client: the TLS settings of the test (-k, CA file), the request timeout,
// the connect timeout, the drain at stop and the user agent.
type clientDefaults struct {
	tls              *tls.Config
	timeout, connect time.Duration
	drain            time.Duration
	userAgent        string
}

func (st *vuState) defaults() clientDefaults {
	d := clientDefaults{timeout: httpx.DefaultTimeout, connect: httpx.DefaultConnectTimeout, drain: httpx.DefaultDrain,
		userAgent: httpx.DefaultUserAgent}
	if c := st.vu.HTTP; c != nil {
		o := c.Options()
		d.tls, d.timeout, d.connect, d.drain, d.userAgent = c.TLSConfig(), o.Timeout, o.ConnectTimeout, o.Drain, o.UserAgent
	}
	return d
}

// record records a sample of another protocol: what came before it (the
// pending HTTP response) first, and its failure counted for transactions.
func (st *vuState) record(s stats.Sample) {
	st.flush()
	if s.Err != "" {
		st.failed++
	}
	if st.vu.Rec != nil {
		st.vu.Rec.Record(s)
	}
}

// timeoutArg reads timeout= in seconds; None gives def.
func timeoutArg(fn string, v starlark.Value, def time.Duration) (time.Duration, error) {
	if isNone(v) {
		return def, nil
	}
	var t number
	if err := t.Unpack(v); err != nil || !(t > 0) {
		return 0, fmt.Errorf("%s: timeout must be a number of seconds > 0, got %s", fn, v)
	}
	return t.duration(), nil
}

// stringsDict converts headers or metadata to a dict of lower-case name →
// value (values joined by ", " when repeated).
func stringsDict(h map[string][]string) *starlark.Dict {
	d := starlark.NewDict(len(h))
	for k, vs := range h {
		_ = d.SetKey(starlark.String(strings.ToLower(k)), starlark.String(strings.Join(vs, ", "))) // a fresh dict cannot fail
	}
	return d
}

// insecureTLS skips verification (verify=False without test-wide TLS
// settings).
func insecureTLS() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user's explicit choice
}
