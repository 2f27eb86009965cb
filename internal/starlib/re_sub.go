package starlib

import (
	"fmt"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
)

// sub implements sub(repl, string, count=0) and subn: repl is a Python
// template ("\1", "\g<name>", "\n") or a function of the match object.
func (p *pattern) sub(th *starlark.Thread, fn string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var repl, v starlark.Value
	count := 0
	if err := starlark.UnpackArgs(fn, args, kwargs, "repl", &repl, "string", &v, "count?", &count); err != nil {
		return nil, err
	}
	s, err := subjectOf(fn, v)
	if err != nil {
		return nil, err
	}
	if count < 0 {
		return nil, fmt.Errorf("%s: count must be >= 0, got %d", fn, count)
	}
	var tmpl []piece
	var call starlark.Callable
	switch r := repl.(type) {
	case starlark.String:
		if tmpl, err = p.template(string(r)); err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
	case starlark.Callable:
		call = r
	default:
		return nil, fmt.Errorf("%s: repl must be a string or a function, got %s", fn, repl.Type())
	}
	n := -1
	if count > 0 {
		n = count
	}
	var b strings.Builder
	last, done := 0, 0
	for _, loc := range p.re.FindAllStringSubmatchIndex(s, n) {
		b.WriteString(s[last:loc[0]])
		if call != nil {
			out, err := starlark.Call(th, call, starlark.Tuple{&match{p: p, s: s, loc: loc}}, nil)
			if err != nil {
				return nil, err
			}
			str, ok := out.(starlark.String)
			if !ok {
				return nil, fmt.Errorf("%s: repl function must return a string, got %s", fn, out.Type())
			}
			b.WriteString(string(str))
		} else {
			for _, pc := range tmpl {
				if pc.group < 0 {
					b.WriteString(pc.lit)
				} else if loc[2*pc.group] >= 0 {
					b.WriteString(s[loc[2*pc.group]:loc[2*pc.group+1]])
				}
			}
		}
		last = loc[1]
		done++
	}
	b.WriteString(s[last:])
	if strings.HasSuffix(fn, "subn") {
		return starlark.Tuple{starlark.String(b.String()), starlark.MakeInt(done)}, nil
	}
	return starlark.String(b.String()), nil
}

// piece is a literal (group < 0) or a group reference of a template.
type piece struct {
	lit   string
	group int
}

var templateEscapes = map[byte]string{'n': "\n", 't': "\t", 'r': "\r", 'f': "\f", 'v': "\v", 'a': "\a", 'b': "\b", '\\': `\`}

// template parses a Python replacement string.
func (p *pattern) template(t string) ([]piece, error) {
	var out []piece
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, piece{lit: lit.String(), group: -1})
			lit.Reset()
		}
	}
	ref := func(g int) {
		flush()
		out = append(out, piece{group: g})
	}
	n := p.re.NumSubexp()
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c != '\\' || i+1 == len(t) {
			lit.WriteByte(c)
			continue
		}
		i++
		c = t[i]
		switch {
		case c == 'g':
			end := strings.IndexByte(t[i:], '>')
			if !strings.HasPrefix(t[i:], "g<") || end < 0 {
				return nil, fmt.Errorf("bad replacement %q: want \\g<name> or \\g<number>", t)
			}
			name := t[i+2 : i+end]
			g, err := strconv.Atoi(name)
			if err != nil {
				g = p.re.SubexpIndex(name)
				if g < 0 {
					return nil, fmt.Errorf("bad replacement %q: no group named %q", t, name)
				}
			}
			if g < 0 || g > n {
				return nil, fmt.Errorf("bad replacement %q: invalid group reference %d (the pattern has %d groups)", t, g, n)
			}
			ref(g)
			i += end
		case c == '0':
			lit.WriteByte(0)
		case c >= '1' && c <= '9':
			g := int(c - '0')
			if i+1 < len(t) && t[i+1] >= '0' && t[i+1] <= '9' { // \20 is group 20, as in Python
				i++
				g = g*10 + int(t[i]-'0')
			}
			if g > n {
				return nil, fmt.Errorf("bad replacement %q: invalid group reference %d (the pattern has %d groups)", t, g, n)
			}
			ref(g)
		case templateEscapes[c] != "":
			lit.WriteString(templateEscapes[c])
		case c < 0x80 && ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'):
			return nil, fmt.Errorf("bad replacement %q: bad escape \\%c", t, c)
		default:
			lit.WriteByte('\\')
			lit.WriteByte(c)
		}
	}
	flush()
	return out, nil
}
