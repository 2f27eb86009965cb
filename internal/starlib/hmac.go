package starlib

import (
	"crypto/hmac"
	"crypto/subtle"
	"fmt"
	"hash"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// NewHmac returns the `hmac` module: new(key, msg=None, digestmod),
// digest(key, msg, digest) and compare_digest(a, b). digestmod is a name
// ("sha256") or a hashlib constructor (hashlib.sha256).
func NewHmac() *starlarkstruct.Module {
	ms := newMethods(hashMethodTable)
	return &starlarkstruct.Module{Name: "hmac", Members: starlark.StringDict{
		"new": starlark.NewBuiltin("hmac.new", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var key, msg data
			var mod starlark.Value = starlark.None
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "key", &key, "msg?", &msg, "digestmod?", &mod); err != nil {
				return nil, err
			}
			name, mk, err := digestmod(b.Name(), mod)
			if err != nil {
				return nil, err
			}
			o := newHashObj(ms, "hmac-"+name, hmac.New(mk, key), msg)
			o.clone = func() (hash.Hash, error) {
				return nil, fmt.Errorf("copy: an hmac object cannot be copied: make a new one")
			}
			return o, nil
		}),
		"digest": starlark.NewBuiltin("hmac.digest", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var key, msg data
			var mod starlark.Value
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "key", &key, "msg", &msg, "digest", &mod); err != nil {
				return nil, err
			}
			_, mk, err := digestmod(b.Name(), mod)
			if err != nil {
				return nil, err
			}
			h := hmac.New(mk, key)
			h.Write(msg)
			return starlark.Bytes(h.Sum(nil)), nil
		}),
		"compare_digest": starlark.NewBuiltin("hmac.compare_digest", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var x, y data
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &x, "b", &y); err != nil {
				return nil, err
			}
			return starlark.Bool(subtle.ConstantTimeCompare(x, y) == 1), nil
		}),
	}}
}

// digestmod resolves hmac's digestmod: a name or a hashlib constructor.
func digestmod(fn string, v starlark.Value) (string, func() hash.Hash, error) {
	var name string
	switch v := v.(type) {
	case starlark.NoneType:
		return "", nil, fmt.Errorf("%s: digestmod is required, e.g. hmac.new(key, msg, hashlib.sha256)", fn)
	case starlark.String:
		name = strings.ToLower(string(v))
	case *starlark.Builtin:
		name = strings.TrimPrefix(v.Name(), "hashlib.")
	default:
		return "", nil, fmt.Errorf("%s: digestmod must be a name (\"sha256\") or a hashlib function, got %s", fn, v.Type())
	}
	mk, ok := algorithms[name]
	if !ok {
		return "", nil, fmt.Errorf("%s: unsupported digestmod %s (have %s)", fn, v, strings.Join(algorithmNames(), ", "))
	}
	return name, mk, nil
}
