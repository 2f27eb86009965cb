package starlib

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// Python's values of the re flags, so that re.I | re.M written as ints works.
const (
	flagI = 2   // re.IGNORECASE
	flagL = 4   // re.LOCALE: not supported
	flagM = 8   // re.MULTILINE
	flagS = 16  // re.DOTALL
	flagU = 32  // re.UNICODE: accepted; see docs (\w \d \s \b are ASCII)
	flagX = 64  // re.VERBOSE: not supported
	flagA = 256 // re.ASCII: what Go's classes are anyway
)

// maxCached bounds the compiled patterns kept for re.search(str, ...)
// & co.; past it the cache starts over, as Python's does.
const maxCached = 256

// reModule is one `re` module: its pattern methods and a cache of the
// patterns compiled from strings, shared by every user of the script.
type reModule struct {
	patternMethods methods
	matchMethods   methods

	mu    sync.Mutex
	cache map[reKey]*pattern
}

type reKey struct {
	src   string
	flags int
}

// NewRe returns the `re` module: Python's regular expressions over Go's
// regexp (RE2), so without lookaround or backreferences.
func NewRe() *starlarkstruct.Module {
	m := &reModule{cache: map[reKey]*pattern{}}
	m.patternMethods = newMethods(patternMethodTable())
	m.matchMethods = newMethods(matchMethodTable)
	fn := func(name string, f func(m *reModule, th *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error)) *starlark.Builtin {
		return starlark.NewBuiltin("re."+name, func(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			return f(m, th, args, kwargs)
		})
	}
	members := starlark.StringDict{
		"compile": fn("compile", reCompile),
		"escape":  fn("escape", reEscape),
	}
	for name := range patternOps {
		members[name] = fn(name, moduleFunc(name))
	}
	for name, v := range map[string]int{"I": flagI, "IGNORECASE": flagI, "M": flagM, "MULTILINE": flagM,
		"S": flagS, "DOTALL": flagS, "A": flagA, "ASCII": flagA, "U": flagU, "UNICODE": flagU,
		"X": flagX, "VERBOSE": flagX, "L": flagL, "LOCALE": flagL} {
		members[name] = starlark.MakeInt(v)
	}
	return &starlarkstruct.Module{Name: "re", Members: members}
}

func reCompile(m *reModule, _ *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var p starlark.Value
	var flags int
	if err := starlark.UnpackArgs("re.compile", args, kwargs, "pattern", &p, "flags?", &flags); err != nil {
		return nil, err
	}
	return m.get("re.compile", p, flags)
}

func reEscape(_ *reModule, _ *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := starlark.UnpackArgs("re.escape", args, kwargs, "pattern", &s); err != nil {
		return nil, err
	}
	return starlark.String(regexp.QuoteMeta(s)), nil
}

// moduleFunc makes re.NAME(pattern, ...rest, flags=0) from the pattern
// method NAME(...rest): Python's module functions take the pattern first
// and flags last.
func moduleFunc(name string) func(*reModule, *starlark.Thread, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(m *reModule, th *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		fn := "re." + name
		if len(args) == 0 {
			return nil, fmt.Errorf("%s: missing argument for pattern", fn)
		}
		flags := 0
		rest := make([]starlark.Tuple, 0, len(kwargs))
		for _, kv := range kwargs {
			if k, _ := starlark.AsString(kv[0]); k == "flags" {
				if err := starlark.AsInt(kv[1], &flags); err != nil {
					return nil, fmt.Errorf("%s: flags: %w", fn, err)
				}
				continue
			}
			rest = append(rest, kv)
		}
		pos := args[1:]
		// flags may also be the last positional argument, as in Python.
		if n := patternMethodArity[name]; len(pos) > n {
			if err := starlark.AsInt(pos[n], &flags); err != nil {
				return nil, fmt.Errorf("%s: flags: %w", fn, err)
			}
			if len(pos) > n+1 {
				return nil, fmt.Errorf("%s: got %d arguments, want at most %d", fn, len(args), n+2)
			}
			pos = pos[:n]
		}
		p, err := m.get(fn, args[0], flags)
		if err != nil {
			return nil, err
		}
		return patternOps[name](p, th, fn, pos, rest)
	}
}

// get returns the compiled pattern of v: a pattern object (with no flags)
// or a string.
func (m *reModule) get(fn string, v starlark.Value, flags int) (*pattern, error) {
	switch v := v.(type) {
	case *pattern:
		if flags != 0 {
			return nil, fmt.Errorf("%s: cannot give flags with a compiled pattern", fn)
		}
		return v, nil
	case starlark.String:
		return m.compile(fn, string(v), flags)
	}
	return nil, fmt.Errorf("%s: pattern must be a string or a compiled pattern, got %s", fn, v.Type())
}

func (m *reModule) compile(fn, src string, flags int) (*pattern, error) {
	key := reKey{src, flags}
	m.mu.Lock()
	p, ok := m.cache[key]
	m.mu.Unlock()
	if ok {
		return p, nil
	}
	prefix, goSrc, err := Translate(src, flags)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	re, err := regexp.Compile(prefix + goSrc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, goError(src, err))
	}
	p = &pattern{mod: m, src: src, flags: flags, goSrc: goSrc, prefix: prefix, re: re}
	m.mu.Lock()
	if len(m.cache) >= maxCached {
		clear(m.cache)
	}
	m.cache[key] = p
	m.mu.Unlock()
	return p, nil
}

// goError rewords Go's "error parsing regexp: CODE: `EXPR`".
func goError(src string, err error) error {
	var se *syntax.Error
	if errors.As(err, &se) {
		msg := fmt.Sprintf("invalid pattern %q: %s: `%s`", src, se.Code, se.Expr)
		if se.Code == syntax.ErrInvalidPerlOp || se.Code == syntax.ErrInvalidEscape {
			msg += " (not in Go's RE2 syntax)"
		}
		return errors.New(msg)
	}
	return fmt.Errorf("invalid pattern %q: %w", src, err)
}

// unsupported names Python constructs that RE2 lacks, after "(?".
var unsupported = []struct{ prefix, what string }{
	{"=", "lookahead (?=...)"},
	{"!", "negative lookahead (?!...)"},
	{"<=", "lookbehind (?<=...)"},
	{"<!", "negative lookbehind (?<!...)"},
	{"P=", "backreference (?P=name)"},
	{">", "atomic group (?>...)"},
	{"(", "conditional group (?(...)...)"},
}

// Translate turns a Python pattern and flags into Go's: the flag prefix
// ("(?i)"...) and the pattern with \Z, \uXXXX and (?#...) rewritten. It
// fails with a plain message on what RE2 cannot do (lookaround,
// backreferences) and on flags it does not support.
func Translate(src string, flags int) (prefix, goSrc string, err error) {
	if flags&^(flagI|flagM|flagS|flagU|flagA|flagL|flagX) != 0 || flags < 0 {
		return "", "", fmt.Errorf("unknown flags %d: use re.I, re.M, re.S", flags)
	}
	if flags&flagX != 0 {
		return "", "", fmt.Errorf("re.X (verbose) is not supported: write the pattern without spaces and comments")
	}
	if flags&flagL != 0 {
		return "", "", fmt.Errorf("re.L (locale) is not supported")
	}
	var f string
	for _, x := range []struct {
		bit int
		c   string
	}{{flagI, "i"}, {flagM, "m"}, {flagS, "s"}} {
		if flags&x.bit != 0 {
			f += x.c
		}
	}
	if f != "" {
		prefix = "(?" + f + ")"
	}
	goSrc, err = rewrite(src)
	return prefix, goSrc, err
}

// rewrite scans a Python pattern, honouring escapes and character classes.
func rewrite(p string) (string, error) {
	var b strings.Builder
	b.Grow(len(p))
	inClass, classStart := false, 0
	noRE2 := func(what string) (string, error) {
		return "", fmt.Errorf("%s in %q is not supported: horde's re is Go's RE2, which has no lookaround or backreferences; match more and take a group instead", what, p)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			n := p[i+1]
			switch {
			case !inClass && n >= '1' && n <= '9':
				return noRE2("backreference \\" + string(n))
			case !inClass && n == 'Z':
				b.WriteString(`\z`)
			case n == 'u' || n == 'U':
				digits := 4
				if n == 'U' {
					digits = 8
				}
				if i+2+digits > len(p) || !isHex(p[i+2:i+2+digits]) {
					return "", fmt.Errorf("invalid pattern %q: \\%c wants %d hex digits", p, n, digits)
				}
				b.WriteString(`\x{` + p[i+2:i+2+digits] + `}`)
				i += digits
			default:
				b.WriteString(p[i : i+2])
			}
			i++
		case inClass:
			if c == ']' && i > classStart {
				inClass = false
			}
			b.WriteByte(c)
		case c == '[':
			inClass, classStart = true, i+1
			if classStart < len(p) && p[classStart] == '^' {
				classStart++
			}
			b.WriteByte(c)
		case c == '(' && strings.HasPrefix(p[i+1:], "?"):
			rest := p[i+2:]
			if strings.HasPrefix(rest, "#") {
				end := strings.IndexByte(rest, ')')
				if end < 0 {
					return "", fmt.Errorf("invalid pattern %q: missing ) after comment", p)
				}
				i += 2 + end
				continue
			}
			for _, u := range unsupported {
				if strings.HasPrefix(rest, u.prefix) {
					return noRE2(u.what)
				}
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
