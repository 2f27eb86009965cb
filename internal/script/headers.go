package script

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"go.starlark.net/starlark"
)

// headerMap is resp.headers: a read-only mapping whose keys match
// without regard to case, as requests' CaseInsensitiveDict, so that
// r.headers["Location"], r.headers["location"] and
// r.headers.get("Content-Type") all work as in a locustfile. Keys are
// listed in lower case; repeated headers are joined with ", ".
type headerMap struct {
	keys []string // lower case, sorted
	vals map[string]starlark.String
}

var (
	_ starlark.IterableMapping = (*headerMap)(nil)
	_ starlark.Sequence        = (*headerMap)(nil)
	_ starlark.HasAttrs        = (*headerMap)(nil)
)

func newHeaderMap(h http.Header) *headerMap {
	m := &headerMap{vals: make(map[string]starlark.String, len(h))}
	for k, vs := range h {
		lk := strings.ToLower(k)
		if _, dup := m.vals[lk]; !dup {
			m.keys = append(m.keys, lk)
		}
		m.vals[lk] = starlark.String(strings.Join(vs, ", "))
	}
	sort.Strings(m.keys)
	return m
}

func (m *headerMap) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q: %q", k, string(m.vals[k]))
	}
	b.WriteByte('}')
	return b.String()
}

func (m *headerMap) Type() string         { return "headers" }
func (m *headerMap) Freeze()              {}
func (m *headerMap) Truth() starlark.Bool { return len(m.keys) > 0 }
func (m *headerMap) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: headers")
}
func (m *headerMap) Len() int { return len(m.keys) }

// Get implements starlark.Mapping: m[k] and `k in m`, any case.
func (m *headerMap) Get(k starlark.Value) (starlark.Value, bool, error) {
	s, ok := starlark.AsString(k)
	if !ok {
		return nil, false, fmt.Errorf("headers: key must be a string, got %s", k.Type())
	}
	v, found := m.vals[strings.ToLower(s)]
	if !found {
		return nil, false, nil
	}
	return v, true, nil
}

func (m *headerMap) Iterate() starlark.Iterator {
	keys := make([]starlark.Value, len(m.keys))
	for i, k := range m.keys {
		keys[i] = starlark.String(k)
	}
	return starlark.NewList(keys).Iterate()
}

func (m *headerMap) Items() []starlark.Tuple {
	out := make([]starlark.Tuple, len(m.keys))
	for i, k := range m.keys {
		out[i] = starlark.Tuple{starlark.String(k), m.vals[k]}
	}
	return out
}

func (m *headerMap) AttrNames() []string { return []string{"get", "items", "keys", "values"} }

func (m *headerMap) Attr(name string) (starlark.Value, error) {
	switch name {
	case "get":
		return starlark.NewBuiltin("headers.get", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var key string
			var def starlark.Value = starlark.None
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "key", &key, "default?", &def); err != nil {
				return nil, err
			}
			if v, ok := m.vals[strings.ToLower(key)]; ok {
				return v, nil
			}
			return def, nil
		}), nil
	case "keys", "values", "items":
		return starlark.NewBuiltin("headers."+name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
				return nil, err
			}
			out := make([]starlark.Value, len(m.keys))
			for i, it := range m.Items() {
				switch name {
				case "keys":
					out[i] = it[0]
				case "values":
					out[i] = it[1]
				default:
					out[i] = it
				}
			}
			return starlark.NewList(out), nil
		}), nil
	}
	return nil, nil
}
