package starlib

import (
	"strconv"
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

// FuzzRe feeds arbitrary Python patterns, subjects and replacement
// templates to the re module: it must never panic, must word its own
// errors (never Go's raw "error parsing regexp"), and a match must be the
// slice of the subject between its start and end.
func FuzzRe(f *testing.F) {
	for _, s := range [][4]string{
		{`id=(\d+)`, "a id=42 b", `<\1>`, "0"},
		{`(?P<user>\w+)@(?P<host>[\w.]+)`, "bob@x.org", `\g<host>/\g<user>`, "2"},
		{`a(?=b)`, "ab", "", "0"},
		{`(?<!x)y|(?<=z)w`, "zw", "", "0"},
		{`(a)\1`, "aa", `\g<0>`, "0"},
		{`[(?=]\Z`, "(", `\n`, "8"},
		{`caf\u00e9(?#comment)`, "café", `\q`, "16"},
		{`^$|x*`, "\nxx\n", `-`, "10"},
		{`a{2,1}`, "", "", "64"},
		{`[\d-z]+`, "1-2", `\9`, "1024"},
		{`(?i)(?P<n>É)+`, "éÉ", `\g<n>\g<1>\g<2>`, "0"},
		{"\\", "x", "\\", "0"},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	re := NewRe()
	th := &starlark.Thread{Name: "fuzz"}
	call := func(fn string, args ...starlark.Value) (starlark.Value, error) {
		return starlark.Call(th, re.Members[fn], args, nil)
	}
	f.Fuzz(func(t *testing.T, pat, subj, repl, flagStr string) {
		n, _ := strconv.Atoi(flagStr) // unknown flags are an error to check too
		flags := starlark.MakeInt(n)
		pv, err := call("compile", starlark.String(pat), flags)
		if err != nil {
			checkErr(t, err)
			return
		}
		p := pv.(*pattern)
		s := starlark.String(subj)
		for _, fn := range []string{"search", "match", "fullmatch"} {
			m, err := call(fn, p, s)
			if err != nil {
				checkErr(t, err)
				continue
			}
			if m, ok := m.(*match); ok {
				g, _, _ := m.Get(starlark.MakeInt(0))
				if string(g.(starlark.String)) != subj[m.loc[0]:m.loc[1]] {
					t.Fatalf("%s(%q, %q): group() %v is not the span %v", fn, pat, subj, g, m.loc[:2])
				}
				if fn == "fullmatch" && (m.loc[0] != 0 || m.loc[1] != len(subj)) {
					t.Fatalf("fullmatch(%q, %q) spans %v", pat, subj, m.loc[:2])
				}
			}
		}
		for _, args := range [][]starlark.Value{
			{starlark.String("findall"), s}, {starlark.String("finditer"), s},
			{starlark.String("split"), s}, {starlark.String("sub"), starlark.String(repl), s},
			{starlark.String("subn"), starlark.String(repl), s, starlark.MakeInt(2)},
		} {
			fn := string(args[0].(starlark.String))
			if _, err := call(fn, append([]starlark.Value{p}, args[1:]...)...); err != nil {
				checkErr(t, err)
			}
		}
	})
}

func checkErr(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if msg == "" || strings.Contains(msg, "error parsing regexp") {
		t.Fatalf("unclear error: %q", msg)
	}
}

// FuzzSelect parses arbitrary HTML and selectors: a selector either fails
// with a message or selects elements whose text, html and attributes can
// all be read — never a panic, which would take every user down with it.
func FuzzSelect(f *testing.F) {
	f.Add(`<ul><li class="a" data-id=7><a href="/x">Red <b>shoes</b></a></li></ul>`, "li.a > a[href^='/']")
	f.Add(`<p>fish &amp; chips<br>unclosed`, "p:contains('fish'), br")
	f.Add(`<table><tr><td>1<td>2</table>`, "td:nth-child(2n+1)")
	f.Add(`<div><!-- c --><span>x</span></div>`, "div:has(> span):not(.z)")
	f.Add(``, "a[")
	f.Add(`<svg><a xlink:href="#x"/></svg>`, ":root *:empty")
	f.Fuzz(func(t *testing.T, body, css string) {
		doc := ParseHTML([]byte(body))
		list, err := Select("select", doc, css)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		for i := 0; i < list.Len() && i < 20; i++ {
			e := list.Index(i).(*Element)
			for _, name := range e.AttrNames() {
				if _, err := e.Attr(name); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
		}
		if _, err := SelectOne("select_one", doc, css); err != nil {
			t.Fatalf("select worked, select_one failed: %v", err)
		}
	})
}
