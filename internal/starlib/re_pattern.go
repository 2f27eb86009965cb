package starlib

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"go.starlark.net/starlark"
)

// pattern is a compiled regular expression: what re.compile returns.
// It is immutable and shared by all users.
type pattern struct {
	mod    *reModule
	src    string // as the script wrote it
	flags  int
	prefix string // Go flags, "(?i)"...
	goSrc  string // the translated pattern, without flags
	re     *regexp.Regexp

	anchorOnce sync.Once
	anchored   *regexp.Regexp // \A(?:...): match
	anchorErr  error
	fullOnce   sync.Once
	full       *regexp.Regexp // \A(?:...)\z: fullmatch
	fullErr    error
}

var (
	_ starlark.HasAttrs = (*pattern)(nil)
	_ starlark.HasAttrs = (*match)(nil)
)

func (p *pattern) String() string        { return fmt.Sprintf("re.compile(%q)", p.src) }
func (p *pattern) Type() string          { return "re.Pattern" }
func (p *pattern) Freeze()               {}
func (p *pattern) Truth() starlark.Bool  { return true }
func (p *pattern) Hash() (uint32, error) { return starlark.String(p.src).Hash() }

// Attr implements starlark.HasAttrs.
func (p *pattern) Attr(name string) (starlark.Value, error) {
	switch name {
	case "pattern":
		return starlark.String(p.src), nil
	case "flags":
		return starlark.MakeInt(p.flags), nil
	case "groups":
		return starlark.MakeInt(p.re.NumSubexp()), nil
	case "groupindex":
		d := starlark.NewDict(p.re.NumSubexp())
		for i, n := range p.re.SubexpNames() {
			if n != "" {
				_ = d.SetKey(starlark.String(n), starlark.MakeInt(i)) // a fresh dict
			}
		}
		return d, nil
	}
	return p.mod.patternMethods.bind(p, name), nil
}

// AttrNames implements starlark.HasAttrs.
func (p *pattern) AttrNames() []string {
	return p.mod.patternMethods.names("flags", "groupindex", "groups", "pattern")
}

// anchoredRe is the pattern anchored at the start of the string, compiled
// on first use: Go has no anchored search.
func (p *pattern) anchoredRe() (*regexp.Regexp, error) {
	p.anchorOnce.Do(func() { p.anchored, p.anchorErr = p.wrap(`\A(?:`, `)`) })
	return p.anchored, p.anchorErr
}

func (p *pattern) fullRe() (*regexp.Regexp, error) {
	p.fullOnce.Do(func() { p.full, p.fullErr = p.wrap(`\A(?:`, `)\z`) })
	return p.full, p.fullErr
}

// wrap compiles the pattern inside before and after. It compiled alone,
// so only a pattern at RE2's size limit can fail here.
func (p *pattern) wrap(before, after string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(p.prefix + before + p.goSrc + after)
	if err != nil {
		return nil, goError(p.src, err)
	}
	return re, nil
}

// patternMethodArity is the number of positional arguments of each method,
// before the flags that the module function of the same name takes.
var patternMethodArity = map[string]int{
	"search": 1, "match": 1, "fullmatch": 1, "findall": 1, "finditer": 1,
	"sub": 3, "subn": 3, "split": 2,
}

// patternOps are the methods of a pattern; the module functions
// re.search & co. are the same with the pattern first. fn names the
// function in errors: "search" or "re.search".
var patternOps = map[string]func(p *pattern, th *starlark.Thread, fn string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error){
	"search":    (*pattern).find,
	"match":     (*pattern).find,
	"fullmatch": (*pattern).find,
	"findall":   (*pattern).findall,
	"finditer":  (*pattern).finditer,
	"sub":       (*pattern).sub,
	"subn":      (*pattern).sub,
	"split":     (*pattern).split,
}

// patternMethodTable binds patternOps as methods.
func patternMethodTable() map[string]method {
	t := make(map[string]method, len(patternOps))
	for name, op := range patternOps {
		t[name] = func(r starlark.Value, th *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			return op(r.(*pattern), th, name, args, kwargs)
		}
	}
	return t
}

// subject unpacks the string argument of a method.
func subject(fn string, args starlark.Tuple, kwargs []starlark.Tuple) (string, error) {
	var v starlark.Value
	if err := starlark.UnpackArgs(fn, args, kwargs, "string", &v); err != nil {
		return "", err
	}
	return subjectOf(fn, v)
}

func subjectOf(fn string, v starlark.Value) (string, error) {
	s, ok := v.(starlark.String)
	if !ok {
		return "", fmt.Errorf("%s: string must be a string, got %s (for a response, use r.text)", fn, v.Type())
	}
	return string(s), nil
}

// find implements search, match and fullmatch: a match object or None.
func (p *pattern) find(_ *starlark.Thread, fn string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := subject(fn, args, kwargs)
	if err != nil {
		return nil, err
	}
	re := p.re
	switch strings.TrimPrefix(fn, "re.") {
	case "match":
		re, err = p.anchoredRe()
	case "fullmatch":
		re, err = p.fullRe()
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	loc := re.FindStringSubmatchIndex(s)
	if loc == nil {
		return starlark.None, nil
	}
	return &match{p: p, s: s, loc: loc}, nil
}

// findall returns the matches as Python does: the whole match when the
// pattern has no group, the group with one, a tuple of groups with more.
func (p *pattern) findall(_ *starlark.Thread, fn string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := subject(fn, args, kwargs)
	if err != nil {
		return nil, err
	}
	all := p.re.FindAllStringSubmatchIndex(s, -1)
	out := make([]starlark.Value, len(all))
	n := p.re.NumSubexp()
	for i, loc := range all {
		switch n {
		case 0:
			out[i] = starlark.String(s[loc[0]:loc[1]])
		case 1:
			out[i] = groupOr(s, loc, 1, starlark.String(""))
		default:
			t := make(starlark.Tuple, n)
			for g := range t {
				t[g] = groupOr(s, loc, g+1, starlark.String(""))
			}
			out[i] = t
		}
	}
	return starlark.NewList(out), nil
}

// finditer returns a list of match objects (Starlark has no iterators).
func (p *pattern) finditer(_ *starlark.Thread, fn string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s, err := subject(fn, args, kwargs)
	if err != nil {
		return nil, err
	}
	all := p.re.FindAllStringSubmatchIndex(s, -1)
	out := make([]starlark.Value, len(all))
	for i, loc := range all {
		out[i] = &match{p: p, s: s, loc: loc}
	}
	return starlark.NewList(out), nil
}

// split implements split(string, maxsplit=0): groups of the separator are
// kept in the result, as in Python.
func (p *pattern) split(_ *starlark.Thread, fn string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	maxsplit := 0
	if err := starlark.UnpackArgs(fn, args, kwargs, "string", &v, "maxsplit?", &maxsplit); err != nil {
		return nil, err
	}
	s, err := subjectOf(fn, v)
	if err != nil {
		return nil, err
	}
	n := -1
	if maxsplit > 0 {
		n = maxsplit
	} else if maxsplit < 0 {
		return starlark.NewList([]starlark.Value{starlark.String(s)}), nil
	}
	var out []starlark.Value
	last := 0
	for _, loc := range p.re.FindAllStringSubmatchIndex(s, n) {
		out = append(out, starlark.String(s[last:loc[0]]))
		for g := 1; g <= p.re.NumSubexp(); g++ {
			out = append(out, groupOr(s, loc, g, starlark.None))
		}
		last = loc[1]
	}
	out = append(out, starlark.String(s[last:]))
	return starlark.NewList(out), nil
}

// groupOr is group g of a match, or def when it did not take part.
func groupOr(s string, loc []int, g int, def starlark.Value) starlark.Value {
	if loc[2*g] < 0 {
		return def
	}
	return starlark.String(s[loc[2*g]:loc[2*g+1]])
}
