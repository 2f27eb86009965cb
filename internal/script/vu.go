package script

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"sync"

	"go.starlark.net/lib/json"
	"go.starlark.net/starlark"

	"github.com/horde-load/horde/internal/httpx"
	"github.com/horde-load/horde/internal/scenario"
	"github.com/horde-load/horde/internal/stats"
)

// Thread-local keys.
const (
	localState = "horde.vu"   // *vuState, only in user threads
	localRand  = "horde.rand" // *rand.Rand, in every thread
)

// engine is what the wrapped task functions share at run time. It is
// immutable after Load and safe for concurrent use.
type engine struct {
	out     *syncWriter // nil discards print()
	getenv  func(string) (string, bool)
	factory *httpx.Factory
	methods map[string]*starlark.Builtin // u.get, u.post...: bound per call
	respFns map[string]*starlark.Builtin // resp.json, resp.fail, resp.success
	encode  starlark.Value               // json.encode
	decode  starlark.Value               // json.decode
	threads sync.Pool                    // *starlark.Thread for users' calls (vuState.eval)
	// classHTTP2 is user(..., http2=) per class, set while loading.
	classHTTP2 map[*scenario.UserClass]httpx.HTTP2Mode
	grpc       *grpcState // .proto files loaded, servers' reflection (grpc.go)
}

func newEngine(o Options) *engine {
	e := &engine{getenv: o.Env, factory: o.HTTP, grpc: &grpcState{}}
	if o.Stdout != nil {
		e.out = &syncWriter{w: o.Stdout}
	}
	e.methods = map[string]*starlark.Builtin{"request": starlark.NewBuiltin("request", userRequest)}
	for _, m := range []string{"get", "post", "put", "patch", "delete", "head", "options"} {
		e.methods[m] = starlark.NewBuiltin(m, userRequest)
	}
	e.methods["sleep"] = starlark.NewBuiltin("sleep", userSleep)
	e.methods["set_cookie"] = starlark.NewBuiltin("set_cookie", userSetCookie)
	e.methods["interrupt"] = starlark.NewBuiltin("interrupt", userInterrupt)
	e.methods["transaction"] = starlark.NewBuiltin("transaction", userTransaction)
	e.methods["clear_cookies"] = starlark.NewBuiltin("clear_cookies", userClearCookies)
	e.methods["websocket"] = starlark.NewBuiltin("websocket", userWebSocket)
	e.methods["grpc"] = starlark.NewBuiltin("grpc", userGRPC)
	e.methods["grpc_stream"] = starlark.NewBuiltin("grpc_stream", userGRPC)
	e.methods["batch"] = starlark.NewBuiltin("batch", userBatch)
	e.respFns = map[string]*starlark.Builtin{
		"json":    starlark.NewBuiltin("json", respJSON),
		"fail":    starlark.NewBuiltin("fail", respFail),
		"success": starlark.NewBuiltin("success", respSuccess),
	}
	e.encode = json.Module.Members["encode"]
	e.decode = json.Module.Members["decode"]
	return e
}

// syncWriter serialises print() lines from many users.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) println(prefix, msg string) {
	b := make([]byte, 0, len(prefix)+len(msg)+1)
	b = append(append(append(b, prefix...), msg...), '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = s.w.Write(b) // print() has nowhere to report a failed write
}

func (e *engine) printLoad(_ *starlark.Thread, msg string) {
	if e.out != nil {
		e.out.println("", msg)
	}
}

// vuState is the script engine's per-user state, kept in VU.Local. It is
// used only by the VU's goroutine, except for the cancel hand-off. It
// holds no Starlark thread between calls: a call takes one from the
// engine's pool (see eval), so that an idle user does not keep a thread,
// its locals and its frames.
type vuState struct {
	eng     *engine
	vu      *scenario.VU
	rand    *rand.Rand
	user    *userObj
	args    starlark.Tuple // (u,), reused by every call
	ctx     context.Context
	pending *response  // the last response, recorded at the next request or return
	session session    // u.headers, u.auth, u.verify
	failed  int        // failed requests recorded so far (for transactions)
	conns   *userConns // WebSockets and gRPC connections (protocols.go)

	mu      sync.Mutex       // guards what follows against the ctx watcher
	th      *starlark.Thread // the thread of the call running, if any
	running context.Context  // the context of the call running, if any
	watched context.Context  // the context whose end cancels a call
	unwatch func() bool
}

// wrap makes a scenario.Func that calls fn(u) on the VU's own thread.
func (e *engine) wrap(fn starlark.Callable) scenario.Func {
	return func(ctx context.Context, vu *scenario.VU) error {
		st, err := e.state(vu)
		if err != nil {
			return err
		}
		return st.call(ctx, fn)
	}
}

// state returns the VU's state, creating it on the VU's first call.
func (e *engine) state(vu *scenario.VU) (*vuState, error) {
	if st, ok := vu.Local.(*vuState); ok {
		return st, nil
	}
	if vu.Local != nil {
		return nil, fmt.Errorf("script: VU.Local already holds a %T", vu.Local)
	}
	if vu.HTTP == nil && e.factory != nil {
		vu.HTTP = e.factory.NewClient()
	}
	st := &vuState{eng: e, vu: vu, rand: vu.Rand}
	st.user = &userObj{st: st}
	st.args = starlark.Tuple{st.user}
	if st.rand == nil {
		st.rand = rand.New(rand.NewPCG(uint64(vu.ID), 0x686f726465))
	}
	vu.Local = st
	return st, nil
}

// thread returns a thread for one call of st's user, from the engine's
// pool; release gives it back.
func (e *engine) thread(st *vuState) *starlark.Thread {
	th, _ := e.threads.Get().(*starlark.Thread)
	if th == nil {
		th = &starlark.Thread{Name: "user", Print: printUser}
	}
	th.SetLocal(localState, st)
	th.SetLocal(localRand, st.rand)
	return th
}

func (e *engine) release(th *starlark.Thread) {
	th.Uncancel()
	th.SetLocal(localState, nil)
	th.SetLocal(localRand, nil)
	e.threads.Put(th)
}

// printUser is print() in a user's call: its line, prefixed with the user.
func printUser(th *starlark.Thread, msg string) {
	if st := current(th); st != nil && st.eng.out != nil {
		st.eng.out.println("[user "+strconv.Itoa(st.vu.ID)+"] ", msg)
	}
}

// call runs fn(u). The thread is cancelled when ctx is done, so that a
// long loop stops; the last response is always recorded on return. A
// user calls with the same context all its life, so the context is
// watched once, not per call.
func (st *vuState) call(ctx context.Context, fn starlark.Callable) error {
	_, err := st.eval(ctx, fn)
	return err
}

// eval is call, returning what fn returned.
func (st *vuState) eval(ctx context.Context, fn starlark.Callable) (starlark.Value, error) {
	if err := ctx.Err(); err != nil {
		return nil, stopped(err)
	}
	st.ctx = ctx
	th := st.eng.thread(st)
	st.arm(ctx, th)
	v, err := starlark.Call(th, fn, st.args, nil)
	st.flush()
	st.disarm()
	st.eng.release(th)
	return v, st.result(ctx, err)
}

// arm marks a call on th under ctx as running, and watches ctx if it is
// not watched yet.
func (st *vuState) arm(ctx context.Context, th *starlark.Thread) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.th, st.running = th, ctx
	if ctx == st.watched {
		return
	}
	// A context that can never end is not watched. A runner's user
	// context (one with an AfterFunc method) can always end, and asking
	// it for its Done channel would make one: 112 bytes an idle user
	// keeps for nothing.
	if _, ok := ctx.(afterFuncer); !ok && ctx.Done() == nil {
		return
	}
	if st.unwatch != nil {
		st.unwatch()
	}
	st.watched = ctx
	st.unwatch = afterFunc(ctx, func() { st.cancel(ctx) })
}

// afterFuncer is a context that runs a function when it ends, as a
// runner's user contexts do.
type afterFuncer interface {
	AfterFunc(func()) (stop func() bool)
}

// cancel runs on the context's goroutine when ctx ends: it cancels the
// call running under ctx, if any; never a later call under another one.
func (st *vuState) cancel(ctx context.Context) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.running == ctx && st.th != nil {
		st.th.Cancel("user stopped")
	}
}

func (st *vuState) disarm() {
	st.mu.Lock()
	st.th, st.running = nil, nil
	st.mu.Unlock()
}

// afterFunc is context.AfterFunc, asking ctx itself when it has an
// AfterFunc method, as context.AfterFunc would — without the context of
// its own that context.AfterFunc makes for every call. A runner's user
// contexts have one: a user watched so costs a few bytes, not a context.
func afterFunc(ctx context.Context, f func()) (stop func() bool) {
	if a, ok := ctx.(afterFuncer); ok {
		return a.AfterFunc(f)
	}
	return context.AfterFunc(ctx, f)
}

// result maps a Starlark error to what the runner expects.
func (st *vuState) result(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, scenario.ErrStopUser) {
		return scenario.ErrStopUser
	}
	var intr scenario.Interrupt
	if errors.As(err, &intr) {
		return intr
	}
	if cerr := ctx.Err(); cerr != nil {
		return stopped(cerr)
	}
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		return &RuntimeError{Msg: ee.Msg, Trace: ee.Backtrace(), err: ee}
	}
	return err
}

// stopped is the error of a call cut short because its user is stopping;
// errors.Is(err, context.Canceled) holds, so the runner need not record it.
func stopped(cause error) error { return fmt.Errorf("script: user stopped: %w", cause) }

// flush records the pending responses, if any: the last request's, or
// a batch's.
func (st *vuState) flush() {
	p := st.pending
	st.pending = nil
	for ; p != nil; p = p.next {
		st.recordResponse(p)
	}
}

func (st *vuState) recordResponse(p *response) {
	p.state = respRecorded
	if p.reason != "" {
		st.failed++
	}
	if st.vu.Rec == nil {
		return
	}
	st.vu.Rec.Record(stats.Sample{
		Key:     p.key,
		Latency: p.r.Elapsed,
		Bytes:   max(p.r.BytesRecv, int64(len(p.r.Body))),
		Err:     p.reason,
	})
}

// current returns the user state of th, or nil outside a user.
func current(th *starlark.Thread) *vuState {
	st, _ := th.Local(localState).(*vuState)
	return st
}
