// Package starlib holds Starlark bindings of the Python modules that
// locustfiles reach for — re, uuid, base64, hashlib, hmac, strftime-style
// dates — and CSS selection over HTML, written over Go's standard library
// and golang.org/x/net/html with github.com/andybalholm/cascadia. Each
// binding keeps Python's names and argument order, so that a ported
// locustfile reads the same, and fails with a plain message where it
// cannot do what Python does (a regular expression with lookaround, say).
//
// It is not a Python standard library: only what load-test scripts use is
// here. It knows nothing of users, requests, files or the process, and
// nothing in it blocks or sleeps; what needs a user (time.sleep, requests,
// the response that r.select parses) is wired in by internal/script.
// Module values are safe for concurrent use by many users' threads.
package starlib

import (
	"fmt"

	"go.starlark.net/starlark"
)

// data is a string or bytes argument, as its bytes. Python insists on
// bytes in hashlib, hmac and base64; Starlark strings have no .encode(),
// so a string is taken as its UTF-8 bytes.
type data []byte

// Unpack implements starlark.Unpacker.
func (d *data) Unpack(v starlark.Value) error {
	switch v := v.(type) {
	case starlark.String:
		*d = data(v)
	case starlark.Bytes:
		*d = data(v)
	default:
		return fmt.Errorf("got %s, want string or bytes", v.Type())
	}
	return nil
}

// method is a Starlark method: a Go function bound to its receiver.
type method func(recv starlark.Value, th *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error)

// methods makes the builtins of a type's methods once; bind gives a
// receiver's attribute.
type methods map[string]*starlark.Builtin

func newMethods(m map[string]method) methods {
	out := make(methods, len(m))
	for name, fn := range m {
		out[name] = starlark.NewBuiltin(name, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			return fn(b.Receiver(), th, args, kwargs)
		})
	}
	return out
}

// bind returns the method name bound to recv, or nil when there is none
// (starlark reports a missing attribute then).
func (ms methods) bind(recv starlark.Value, name string) starlark.Value {
	if b, ok := ms[name]; ok {
		return b.BindReceiver(recv)
	}
	return nil
}

// names lists the methods, for AttrNames.
func (ms methods) names(extra ...string) []string {
	out := append([]string(nil), extra...)
	for name := range ms {
		out = append(out, name)
	}
	return out
}
