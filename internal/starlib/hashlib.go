package starlib

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding"
	"encoding/hex"
	"fmt"
	"hash"
	"sort"
	"strings"
	"sync"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// algorithms are the hash functions of hashlib and hmac, by Python's names.
var algorithms = map[string]func() hash.Hash{
	"md5":    md5.New,
	"sha1":   sha1.New,
	"sha224": sha256.New224,
	"sha256": sha256.New,
	"sha384": sha512.New384,
	"sha512": sha512.New,
}

func algorithmNames() []string {
	names := make([]string, 0, len(algorithms))
	for n := range algorithms {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// NewHashlib returns the `hashlib` module: md5, sha1, sha224, sha256,
// sha384, sha512 and new(name), whose objects have update(), digest(),
// hexdigest() and copy(). Data may be a string (its UTF-8 bytes) or bytes.
func NewHashlib() *starlarkstruct.Module {
	ms := newMethods(hashMethodTable)
	members := starlark.StringDict{}
	for name := range algorithms {
		members[name] = starlark.NewBuiltin("hashlib."+name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var d data
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "data?", &d); err != nil {
				return nil, err
			}
			return newHashObj(ms, name, algorithms[name](), d), nil
		})
	}
	members["new"] = starlark.NewBuiltin("hashlib.new", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var name string
		var d data
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "data?", &d); err != nil {
			return nil, err
		}
		h, err := newHash(b.Name(), name)
		if err != nil {
			return nil, err
		}
		return newHashObj(ms, strings.ToLower(name), h, d), nil
	})
	var avail []starlark.Value
	for _, n := range algorithmNames() {
		avail = append(avail, starlark.String(n))
	}
	members["algorithms_available"] = starlark.NewList(avail)
	return &starlarkstruct.Module{Name: "hashlib", Members: members}
}

func newHash(fn, name string) (hash.Hash, error) {
	if mk, ok := algorithms[strings.ToLower(name)]; ok {
		return mk(), nil
	}
	return nil, fmt.Errorf("%s: unsupported hash type %q (have %s)", fn, name, strings.Join(algorithmNames(), ", "))
}

// hashObj is a running hash (or HMAC). A frozen one (made at load time)
// can still give its digest but not be updated: copy() it first. The
// mutex lets users read a shared one at once (an HMAC's Sum is not
// read-only).
type hashObj struct {
	ms     methods
	name   string
	mu     sync.Mutex
	h      hash.Hash
	frozen bool
	clone  func() (hash.Hash, error) // for copy(); nil when it cannot
}

func newHashObj(ms methods, name string, h hash.Hash, d []byte) *hashObj {
	o := &hashObj{ms: ms, name: name, h: h}
	o.h.Write(d) // a hash.Hash never fails to write
	o.clone = func() (hash.Hash, error) { return cloneHash(name, o.h) }
	return o
}

// cloneHash copies the state of a standard library hash.
func cloneHash(name string, h hash.Hash) (hash.Hash, error) {
	m, ok1 := h.(encoding.BinaryMarshaler)
	mk := algorithms[name]
	if !ok1 || mk == nil {
		return nil, fmt.Errorf("copy: %s cannot be copied", name)
	}
	state, err := m.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	c := mk()
	if err := c.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	return c, nil
}

var _ starlark.HasAttrs = (*hashObj)(nil)

func (o *hashObj) String() string        { return fmt.Sprintf("<%s hash object>", o.name) }
func (o *hashObj) Type() string          { return "hashlib.hash" }
func (o *hashObj) Truth() starlark.Bool  { return true }
func (o *hashObj) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: hashlib.hash") }
func (o *hashObj) Freeze() {
	o.mu.Lock()
	o.frozen = true
	o.mu.Unlock()
}

// Attr implements starlark.HasAttrs.
func (o *hashObj) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return starlark.String(o.name), nil
	case "digest_size":
		return starlark.MakeInt(o.h.Size()), nil
	case "block_size":
		return starlark.MakeInt(o.h.BlockSize()), nil
	}
	return o.ms.bind(o, name), nil
}

// AttrNames implements starlark.HasAttrs.
func (o *hashObj) AttrNames() []string { return o.ms.names("block_size", "digest_size", "name") }

func (o *hashObj) sum() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.h.Sum(nil)
}

var hashMethodTable = map[string]method{
	"update": func(r starlark.Value, _ *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		o := r.(*hashObj)
		var d data
		if err := starlark.UnpackArgs("update", args, kwargs, "data", &d); err != nil {
			return nil, err
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.frozen {
			return nil, fmt.Errorf("update: this %s object was made at load time and is frozen: use h.copy().update(...)", o.name)
		}
		o.h.Write(d)
		return starlark.None, nil
	},
	"digest": func(r starlark.Value, _ *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackArgs("digest", args, kwargs); err != nil {
			return nil, err
		}
		return starlark.Bytes(r.(*hashObj).sum()), nil
	},
	"hexdigest": func(r starlark.Value, _ *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackArgs("hexdigest", args, kwargs); err != nil {
			return nil, err
		}
		return starlark.String(hex.EncodeToString(r.(*hashObj).sum())), nil
	},
	"copy": func(r starlark.Value, _ *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		o := r.(*hashObj)
		if err := starlark.UnpackArgs("copy", args, kwargs); err != nil {
			return nil, err
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		h, err := o.clone()
		if err != nil {
			return nil, err
		}
		c := &hashObj{ms: o.ms, name: o.name, h: h}
		c.clone = func() (hash.Hash, error) { return cloneHash(c.name, c.h) }
		return c, nil
	},
}
