package script

import (
	"testing"

	"go.starlark.net/starlark"
	"google.golang.org/protobuf/proto"

	"github.com/horde-load/horde/internal/target/targetpb"
)

// A request dict of any shape either converts to the message or is an
// error, never a panic; what converts comes back from fromMessage as a
// dict that converts to the same message.
func FuzzRequestDict(f *testing.F) {
	for _, s := range []string{
		`{"text": "a", "number": -5, "ratio": 1.5, "flag": True, "kind": "KIND_SMALL", "tags": ["x"], "labels": {"k": "v"}}`,
		`{"inner": {"name": "n", "value": 2147483647}, "items": [{"value": -1}, {}], "count": 4294967295, "payload": b"\x00"}`,
		`{"kind": 7, "number": 9223372036854775807, "count": None}`,
		`{"inner": 5}`, `{"nope": 1}`, `[1]`, `None`, `{"labels": {"k": 1}}`, `{"count": -1}`, `{"tags": "ab"}`,
	} {
		f.Add(s)
	}
	md := (&targetpb.EchoMessage{}).ProtoReflect().Descriptor()
	f.Fuzz(func(t *testing.T, src string) {
		th := &starlark.Thread{}
		th.SetMaxExecutionSteps(10_000)
		v, err := starlark.EvalOptions(fileOptions(), th, "fuzz", src, nil)
		if err != nil {
			return
		}
		m, err := toMessage(v, md)
		if err != nil {
			return
		}
		back, err := toMessage(fromMessage(m), md)
		if err != nil {
			t.Fatalf("%s: its own dict does not convert back: %v", src, err)
		}
		if !proto.Equal(m, back) {
			t.Fatalf("%s: %v came back as %v", src, m, back)
		}
	})
}
