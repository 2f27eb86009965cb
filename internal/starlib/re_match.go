package starlib

import (
	"fmt"

	"go.starlark.net/starlark"
)

// match is a successful match: what search, match and fullmatch return.
// Offsets (start, end, span) are byte offsets, as Starlark's string
// indexes are: s[m.start():m.end()] == m.group().
type match struct {
	p   *pattern
	s   string
	loc []int // Go's submatch index pairs
}

var _ starlark.Mapping = (*match)(nil)

func (m *match) String() string {
	return fmt.Sprintf("<re.Match span=(%d, %d) match=%q>", m.loc[0], m.loc[1], m.s[m.loc[0]:m.loc[1]])
}
func (m *match) Type() string          { return "re.Match" }
func (m *match) Freeze()               {}
func (m *match) Truth() starlark.Bool  { return true }
func (m *match) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: re.Match") }

// Attr implements starlark.HasAttrs.
func (m *match) Attr(name string) (starlark.Value, error) {
	switch name {
	case "string":
		return starlark.String(m.s), nil
	case "re":
		return m.p, nil
	case "pos":
		return starlark.MakeInt(0), nil
	case "endpos":
		return starlark.MakeInt(len(m.s)), nil
	}
	return m.p.mod.matchMethods.bind(m, name), nil
}

// AttrNames implements starlark.HasAttrs.
func (m *match) AttrNames() []string {
	return m.p.mod.matchMethods.names("endpos", "pos", "re", "string")
}

// Get implements m[g], Python's m.group(g).
func (m *match) Get(k starlark.Value) (starlark.Value, bool, error) {
	g, err := m.index("group", k)
	if err != nil {
		return nil, false, err
	}
	return groupOr(m.s, m.loc, g, starlark.None), true, nil
}

// index resolves a group given by number or name.
func (m *match) index(fn string, k starlark.Value) (int, error) {
	n := m.p.re.NumSubexp()
	switch k := k.(type) {
	case starlark.Int:
		g, ok := k.Int64()
		if !ok || g < 0 || g > int64(n) {
			return 0, fmt.Errorf("%s: no such group %s (the pattern has %d)", fn, k, n)
		}
		return int(g), nil
	case starlark.String:
		if g := m.p.re.SubexpIndex(string(k)); g >= 0 {
			return g, nil
		}
		return 0, fmt.Errorf("%s: no group named %s in %q", fn, k, m.p.src)
	}
	return 0, fmt.Errorf("%s: group must be an int or a name, got %s", fn, k.Type())
}

var matchMethodTable = map[string]method{
	"group":     matchGroup,
	"groups":    matchGroups,
	"groupdict": matchGroupdict,
	"start": func(r starlark.Value, _ *starlark.Thread, a starlark.Tuple, k []starlark.Tuple) (starlark.Value, error) {
		return r.(*match).bound("start", a, k)
	},
	"end": func(r starlark.Value, _ *starlark.Thread, a starlark.Tuple, k []starlark.Tuple) (starlark.Value, error) {
		return r.(*match).bound("end", a, k)
	},
	"span": func(r starlark.Value, _ *starlark.Thread, a starlark.Tuple, k []starlark.Tuple) (starlark.Value, error) {
		return r.(*match).bound("span", a, k)
	},
}

// matchGroup implements group(*groups): group() is the whole match,
// group(g) one group (None if it did not take part), group(g1, g2) a tuple.
func matchGroup(r starlark.Value, _ *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	m := r.(*match)
	if len(kwargs) > 0 {
		return nil, fmt.Errorf("group: unexpected keyword arguments")
	}
	if len(args) == 0 {
		args = starlark.Tuple{starlark.MakeInt(0)}
	}
	out := make(starlark.Tuple, len(args))
	for i, k := range args {
		g, err := m.index("group", k)
		if err != nil {
			return nil, err
		}
		out[i] = groupOr(m.s, m.loc, g, starlark.None)
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

// matchGroups implements groups(default=None).
func matchGroups(r starlark.Value, _ *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	m := r.(*match)
	var def starlark.Value = starlark.None
	if err := starlark.UnpackArgs("groups", args, kwargs, "default?", &def); err != nil {
		return nil, err
	}
	out := make(starlark.Tuple, m.p.re.NumSubexp())
	for i := range out {
		out[i] = groupOr(m.s, m.loc, i+1, def)
	}
	return out, nil
}

// matchGroupdict implements groupdict(default=None): named groups only.
func matchGroupdict(r starlark.Value, _ *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	m := r.(*match)
	var def starlark.Value = starlark.None
	if err := starlark.UnpackArgs("groupdict", args, kwargs, "default?", &def); err != nil {
		return nil, err
	}
	d := new(starlark.Dict)
	for g, name := range m.p.re.SubexpNames() {
		if name != "" {
			_ = d.SetKey(starlark.String(name), groupOr(m.s, m.loc, g, def)) // a fresh dict
		}
	}
	return d, nil
}

// bound implements start(g=0), end(g=0) and span(g=0); -1 for a group
// that did not take part, as in Python.
func (m *match) bound(fn string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var k starlark.Value = starlark.MakeInt(0)
	if err := starlark.UnpackArgs(fn, args, kwargs, "group?", &k); err != nil {
		return nil, err
	}
	g, err := m.index(fn, k)
	if err != nil {
		return nil, err
	}
	start, end := m.loc[2*g], m.loc[2*g+1]
	switch fn {
	case "start":
		return starlark.MakeInt(start), nil
	case "end":
		return starlark.MakeInt(end), nil
	}
	return starlark.Tuple{starlark.MakeInt(start), starlark.MakeInt(end)}, nil
}
