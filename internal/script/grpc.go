package script

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/horde-load/horde/internal/grpcx"
	"github.com/horde-load/horde/internal/stats"
)

// GRPCMethod is the method of gRPC rows in the statistics; their name is
// the full method name, "/pkg.Service/Method", unless name= says otherwise.
const GRPCMethod = "GRPC"

// Bounds of what one u.grpc_stream keeps: messages (max_messages= sets
// it), and bytes in all (a stream past it fails RESOURCE_EXHAUSTED).
const (
	DefaultMaxStreamMessages = 10_000
	maxStreamBytes           = 64 << 20
)

// grpcState is what the script's gRPC calls share: the methods of the
// .proto files loaded by grpc.proto() (fixed at load) and what servers
// described by reflection (filled at run time, shared by every user).
type grpcState struct {
	loaded    *grpcx.Methods
	reflected sync.Map // target address + " " + service → *reflectEntry
}

type reflectEntry struct {
	mu      sync.Mutex
	methods *grpcx.Methods
}

// grpcModule is the `grpc` builtin of scripts: grpc.proto(...) and
// grpc.method(...), used at load time.
func (l *loader) grpcModule() *starlarkstruct.Module {
	return &starlarkstruct.Module{Name: "grpc", Members: starlark.StringDict{
		"proto":  starlark.NewBuiltin("grpc.proto", l.grpcProto),
		"method": starlark.NewBuiltin("grpc.method", l.grpcMethod),
	}}
}

// grpcProto implements grpc.proto(*files, import_paths=None): compiles
// .proto files next to the script at load time and ships them with it;
// their services' methods can then be called by u.grpc without server
// reflection. Imports resolve against import_paths (relative to the
// script), then the script's directory. It returns a struct with the
// services described.
func (l *loader) grpcProto(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var importPaths starlark.Value = starlark.None
	if err := starlark.UnpackArgs("grpc.proto", nil, kwargs, "import_paths?", &importPaths); err != nil {
		return nil, err
	}
	if current(th) != nil || th.Local(localShape) != nil {
		return nil, fmt.Errorf("grpc.proto: .proto files are compiled at load time; call grpc.proto() at the top level of the script")
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("grpc.proto: name at least one .proto file")
	}
	var roots []string
	if !isNone(importPaths) {
		ps, err := stringList("grpc.proto", "import_paths", importPaths)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			key, err := l.resolve(th, p)
			if err != nil {
				return nil, fmt.Errorf("grpc.proto: import path %w", err)
			}
			roots = append(roots, key)
		}
	}
	roots = append(roots, path.Dir(l.callerKey(th)))
	var names []string
	for _, a := range args {
		p, ok := starlark.AsString(a)
		if !ok {
			return nil, fmt.Errorf("grpc.proto: files must be strings, got %s", a.Type())
		}
		key, err := l.resolve(th, p)
		if err != nil {
			return nil, fmt.Errorf("grpc.proto: %w", err)
		}
		name, ok := underRoot(roots, key)
		if !ok {
			// Outside every import path: its own directory is one.
			roots = append(roots, path.Dir(key))
			name = path.Base(key)
		}
		names = append(names, name)
	}
	read := func(p string) ([]byte, error) {
		b, err := l.readFile(path.Clean(p))
		if err != nil {
			return nil, fmt.Errorf("%w: %s", fs.ErrNotExist, p)
		}
		return b, nil
	}
	m, err := grpcx.Compile(context.Background(), names, roots, read)
	if err != nil {
		var ce *grpcx.CompileError
		if errors.As(err, &ce) && ce.Line == 0 {
			return nil, fmt.Errorf("grpc.proto: %s: %s", ce.File, ce.Msg) // at the call
		}
		if errors.As(err, &ce) {
			file := ce.File
			for _, r := range roots {
				if _, ok := l.files[path.Join(r, ce.File)]; ok {
					file = l.display(path.Join(r, ce.File))
					break
				}
			}
			return nil, &LoadError{File: file, Line: ce.Line, Col: max(ce.Col, 1), Msg: ce.Msg, Err: err}
		}
		return nil, fmt.Errorf("grpc.proto: %w", err)
	}
	g := l.eng.grpc
	if g.loaded == nil {
		g.loaded = &grpcx.Methods{}
	}
	g.loaded.Merge(m)
	svcs := m.Services()
	vs := make([]starlark.Value, len(svcs))
	for i, s := range svcs {
		vs[i] = starlark.String(s)
	}
	return starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{"services": starlark.NewList(vs)}), nil
}

// underRoot is key relative to the first root it is under.
func underRoot(roots []string, key string) (string, bool) {
	for _, r := range roots {
		if r == "." {
			return key, true
		}
		if rel, ok := strings.CutPrefix(key, r+"/"); ok {
			return rel, true
		}
	}
	return "", false
}

// grpcMethod implements grpc.method(name): checks at load time that a
// method loaded by grpc.proto exists, and returns its full name, so that
// a typo is a load error at its line rather than failures at run time.
func (l *loader) grpcMethod(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	if err := starlark.UnpackArgs("grpc.method", args, kwargs, "name", &name); err != nil {
		return nil, err
	}
	g := l.eng.grpc
	if g.loaded == nil {
		return nil, fmt.Errorf("grpc.method: no .proto file is loaded: call grpc.proto(...) first")
	}
	if _, err := g.loaded.Method(name); err != nil {
		return nil, fmt.Errorf("grpc.method: %w", err)
	}
	return starlark.String("/" + strings.TrimPrefix(name, "/")), nil
}

// grpcArgs are the arguments of u.grpc and u.grpc_stream.
type grpcArgs struct {
	method, addr, name string
	request            starlark.Value
	metadata, timeout  starlark.Value
	expect, verify     starlark.Value
	maxMessages        int
}

func (a *grpcArgs) unpack(fn string, args starlark.Tuple, kwargs []starlark.Tuple) error {
	a.request, a.metadata, a.timeout, a.expect, a.verify = starlark.None, starlark.None, starlark.None, starlark.None, starlark.None
	pairs := []any{"method", &a.method, "request?", &a.request, "addr?", &a.addr, "metadata?", &a.metadata,
		"timeout?", &a.timeout, "name?", &a.name, "expect?", &a.expect, "verify?", &a.verify}
	if fn == "grpc_stream" {
		a.maxMessages = DefaultMaxStreamMessages
		pairs = append(pairs, "max_messages?", &a.maxMessages)
	}
	if err := starlark.UnpackArgs(fn, args, kwargs, pairs...); err != nil {
		return err
	}
	if _, _, ok := grpcx.SplitMethod(a.method); !ok {
		return fmt.Errorf("%s: method %q: want \"/package.Service/Method\"", fn, a.method)
	}
	a.method = "/" + strings.TrimPrefix(a.method, "/")
	if a.name == "" {
		a.name = a.method
	}
	if a.maxMessages < 0 {
		return fmt.Errorf("%s: max_messages must be >= 0 (0: no limit), got %d", fn, a.maxMessages)
	}
	return nil
}

// userGRPC implements u.grpc(method, request=None, addr=None,
// metadata=None, timeout=None, name=None, expect=None, verify=None) and
// u.grpc_stream(..., max_messages=10000): a unary or server-streaming
// call, recorded as "GRPC /pkg.Service/Method". A status other than OK
// (or than those in expect=) is a failure named by its code.
func userGRPC(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	u := b.Receiver().(*userObj)
	st := u.st
	fn := b.Name()
	var a grpcArgs
	if err := a.unpack(fn, args, kwargs); err != nil {
		return nil, err
	}
	expect, err := grpcExpect(fn, a.expect)
	if err != nil {
		return nil, err
	}
	md, err := grpcMetadata(fn, a.metadata)
	if err != nil {
		return nil, err
	}
	def := st.defaults()
	timeout, err := timeoutArg(fn, a.timeout, def.timeout)
	if err != nil {
		return nil, err
	}
	addr := a.addr
	if addr == "" {
		addr = u.host()
	}
	if addr == "" {
		return nil, fmt.Errorf("%s: no address: give addr=\"host:port\" or a host (-H)", fn)
	}
	cs := st.connSet()
	known, seen := cs.calls[callKey{addr, a.method}]
	t := known.target
	if !seen {
		if t, err = grpcx.ParseTarget(addr); err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
	}
	if t.Insecure, err = st.session.insecure(fn, a.verify); err != nil {
		return nil, err
	}
	if err := st.ctx.Err(); err != nil {
		return nil, stopped(err) // not sent: the user is stopping
	}
	st.flush()
	callCtx := cs.watch(st.ctx, def.drain)
	pool := cs.grpcPool(grpcx.Options{TLS: def.tls, ConnectTimeout: def.connect, UserAgent: def.userAgent})
	defer cs.done()
	cc, err := pool.Conn(t)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	// A call in flight when the user stops may finish within the drain
	// (callCtx), and is then measured.
	ctx, cancel := context.WithTimeout(callCtx, timeout)
	defer cancel()
	r := &grpcResponse{key: stats.Key{Method: GRPCMethod, Name: a.name}, stream: fn == "grpc_stream"}
	start := time.Now()
	desc := known.desc
	if !seen {
		desc, err = st.eng.grpc.describe(ctx, cc, t, a.method)
		if err == nil {
			cs.remember(callKey{addr, a.method}, knownCall{target: t, desc: desc})
		}
	}
	if err != nil {
		if st.ctx.Err() != nil {
			return nil, stopped(st.ctx.Err())
		}
		if s, ok := status.FromError(err); ok {
			r.res = grpcx.Result{Status: s, Elapsed: time.Since(start)}
			r.reason = grpcJudge(s, expect)
		} else {
			r.res = grpcx.Result{Status: status.New(codes.Unknown, err.Error()), Elapsed: time.Since(start)}
			r.reason = firstLine(err.Error())
		}
		st.record(stats.Sample{Key: r.key, Latency: r.res.Elapsed, Err: r.reason})
		return r, nil
	}
	if desc.IsStreamingClient() || (desc.IsStreamingServer() != r.stream) {
		return nil, fmt.Errorf("%s: %s is %s: call it with %s", fn, a.method, kindOf(desc), callFor(desc))
	}
	req, err := toMessage(a.request, desc.Input())
	if err != nil {
		return nil, fmt.Errorf("%s: request: %w", fn, err)
	}
	out := desc.Output()
	if r.stream {
		r.res = grpcx.ServerStream(ctx, cc, a.method, req, md, a.maxMessages, maxStreamBytes,
			func() proto.Message { return dynamicpb.NewMessage(out) },
			func(m proto.Message) bool { r.msgs = append(r.msgs, m); return true })
	} else {
		resp := dynamicpb.NewMessage(out)
		r.res = grpcx.Unary(ctx, cc, a.method, req, resp, md)
		if r.res.OK() {
			r.msgs = []proto.Message{resp}
		}
	}
	if st.ctx.Err() != nil && r.res.Status.Code() == codes.Canceled {
		return nil, stopped(st.ctx.Err()) // cut by the stop: not a measurement
	}
	r.reason = grpcJudge(r.res.Status, expect)
	st.record(stats.Sample{Key: r.key, Latency: r.res.Elapsed, Bytes: r.res.BytesRecv, Err: r.reason})
	return r, nil
}

func kindOf(md protoreflect.MethodDescriptor) string {
	switch {
	case md.IsStreamingClient() && md.IsStreamingServer():
		return "bidirectional streaming"
	case md.IsStreamingClient():
		return "client streaming"
	case md.IsStreamingServer():
		return "server streaming"
	}
	return "unary"
}

func callFor(md protoreflect.MethodDescriptor) string {
	switch {
	case md.IsStreamingClient():
		return "nothing yet: horde calls unary and server-streaming methods"
	case md.IsStreamingServer():
		return "u.grpc_stream"
	}
	return "u.grpc"
}

// describe finds a method: in the loaded .proto files, else by the
// server's reflection (asked once per server and service, then shared).
func (g *grpcState) describe(ctx context.Context, cc *grpc.ClientConn, t grpcx.Target, method string) (protoreflect.MethodDescriptor, error) {
	svc, _, _ := grpcx.SplitMethod(method)
	if g.loaded != nil {
		md, err := g.loaded.Method(method)
		if err == nil || g.loaded.Has(svc) {
			return md, err
		}
	}
	v, _ := g.reflected.LoadOrStore(t.Addr+" "+svc, &reflectEntry{})
	e := v.(*reflectEntry)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.methods == nil {
		m, err := grpcx.Reflect(ctx, cc, svc)
		if err != nil {
			s, ok := status.FromError(errors.Unwrap(err))
			switch {
			case !ok:
				return nil, fmt.Errorf("%s not described: %w", svc, err)
			case s.Code() == codes.Unimplemented || s.Code() == codes.NotFound:
				return nil, fmt.Errorf("%s not described: no .proto loaded has it, and server reflection failed: %s",
					svc, grpcx.Reason(s))
			}
			return nil, s.Err() // the server cannot be reached: that is the call's failure
		}
		e.methods = m
	}
	return e.methods.Method(method)
}

// grpcJudge is a call's failure reason: "" for OK or a code in expect.
func grpcJudge(s *status.Status, expect []codes.Code) string {
	if expect == nil {
		return grpcx.Reason(s)
	}
	for _, c := range expect {
		if s.Code() == c {
			return ""
		}
	}
	if s.Code() == codes.OK {
		return "unexpected OK"
	}
	return grpcx.Reason(s)
}

// grpcExpect reads expect=: a status code (name or number) or a list.
func grpcExpect(fn string, v starlark.Value) ([]codes.Code, error) {
	if isNone(v) {
		return nil, nil
	}
	one := func(x starlark.Value) (codes.Code, error) {
		if s, ok := starlark.AsString(x); ok {
			if c, ok := grpcx.CodeOf(s); ok {
				return c, nil
			}
		}
		var n int
		if err := starlark.AsInt(x, &n); err == nil && n >= 0 && n <= 16 {
			return codes.Code(n), nil
		}
		return 0, fmt.Errorf("%s: expect must be a status code (\"NOT_FOUND\" or 5) or a list of them, got %s", fn, x)
	}
	if l, ok := v.(starlark.Indexable); ok && v.Type() != "string" {
		out := make([]codes.Code, l.Len())
		for i := range out {
			c, err := one(l.Index(i))
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s: expect must not be empty", fn)
		}
		return out, nil
	}
	c, err := one(v)
	return []codes.Code{c}, err
}

// grpcMetadata reads metadata=: a dict of name → string (bytes for
// names ending in -bin) or a list of them.
func grpcMetadata(fn string, v starlark.Value) (metadata.MD, error) {
	if isNone(v) {
		return nil, nil
	}
	d, ok := v.(*starlark.Dict)
	if !ok {
		return nil, fmt.Errorf("%s: metadata must be a dict, got %s", fn, v.Type())
	}
	md := make(metadata.MD, d.Len())
	for _, kv := range d.Items() {
		k, ok := starlark.AsString(kv[0])
		if !ok || k == "" {
			return nil, fmt.Errorf("%s: metadata names must be non-empty strings, got %s", fn, kv[0])
		}
		k = strings.ToLower(k)
		add := func(x starlark.Value) error {
			switch s := x.(type) {
			case starlark.String:
				md[k] = append(md[k], string(s))
			case starlark.Bytes:
				if !strings.HasSuffix(k, "-bin") {
					return fmt.Errorf("%s: metadata %s: bytes go only in names ending in -bin", fn, k)
				}
				md[k] = append(md[k], string(s))
			default:
				return fmt.Errorf("%s: metadata %s: want a string, got %s", fn, k, x.Type())
			}
			return nil
		}
		if l, ok := kv[1].(starlark.Indexable); ok && kv[1].Type() != "string" && kv[1].Type() != "bytes" {
			for i := range l.Len() {
				if err := add(l.Index(i)); err != nil {
					return nil, err
				}
			}
			continue
		}
		if err := add(kv[1]); err != nil {
			return nil, err
		}
	}
	return md, nil
}
