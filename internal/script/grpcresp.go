package script

import (
	"fmt"
	"slices"

	"go.starlark.net/starlark"
	"google.golang.org/protobuf/proto"

	"github.com/horde-load/horde/internal/grpcx"
	"github.com/horde-load/horde/internal/stats"
)

// grpcResponse is what u.grpc and u.grpc_stream return. Messages are
// converted to dicts only when the script looks at them.
type grpcResponse struct {
	key    stats.Key
	res    grpcx.Result
	reason string // failure reason; "" is success
	stream bool
	msgs   []proto.Message
	dicts  []starlark.Value // msgs converted, on first use
}

var (
	_ starlark.HasAttrs = (*grpcResponse)(nil)
	_ starlark.Iterable = (*grpcResponse)(nil)
)

func (r *grpcResponse) String() string {
	return fmt.Sprintf("<grpc response %s %s>", grpcx.CodeName(r.res.Status.Code()), r.key.Name)
}
func (r *grpcResponse) Type() string          { return "grpc_response" }
func (r *grpcResponse) Truth() starlark.Bool  { return r.reason == "" }
func (r *grpcResponse) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: grpc_response") }

// Freeze does nothing: a response belongs to one user's task.
func (r *grpcResponse) Freeze() {}

// Iterate implements starlark.Iterable: the messages received, so that
// `for m in u.grpc_stream(...)` reads a stream.
func (r *grpcResponse) Iterate() starlark.Iterator {
	return starlark.NewList(slices.Clone(r.messages())).Iterate()
}

// AttrNames implements starlark.HasAttrs.
func (r *grpcResponse) AttrNames() []string {
	return []string{"bytes", "code", "elapsed_ms", "error", "headers", "message", "messages", "ok", "status", "trailers"}
}

// Attr implements starlark.HasAttrs.
func (r *grpcResponse) Attr(name string) (starlark.Value, error) {
	switch name {
	case "ok":
		return starlark.Bool(r.reason == ""), nil
	case "status":
		return starlark.String(grpcx.CodeName(r.res.Status.Code())), nil
	case "code":
		return starlark.MakeInt(int(r.res.Status.Code())), nil
	case "error":
		if r.res.OK() {
			return starlark.None, nil
		}
		return starlark.String(r.res.Status.Message()), nil
	case "message":
		ms := r.messages()
		if len(ms) == 0 {
			return starlark.None, nil
		}
		return ms[len(ms)-1], nil
	case "messages":
		return starlark.NewList(slices.Clone(r.messages())), nil
	case "headers":
		return stringsDict(r.res.Header), nil
	case "trailers":
		return stringsDict(r.res.Trailer), nil
	case "elapsed_ms":
		return elapsedMS(r.res.Elapsed), nil
	case "bytes":
		return starlark.MakeInt64(r.res.BytesRecv), nil
	}
	return nil, nil
}

func (r *grpcResponse) messages() []starlark.Value {
	if r.dicts == nil && len(r.msgs) > 0 {
		r.dicts = make([]starlark.Value, len(r.msgs))
		for i, m := range r.msgs {
			r.dicts[i] = fromMessage(m.ProtoReflect())
		}
	}
	return r.dicts
}
