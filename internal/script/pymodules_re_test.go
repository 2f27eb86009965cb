package script

import "testing"

func TestReModule(t *testing.T) {
	t.Parallel()
	const named = `p = re.compile(r"(?P<user>\w+)@(?P<host>[\w.]+)")` + "\nm = p.search(\"mail bob@x.org now\")"
	runExprCases(t, []exprCase{
		// search, match, fullmatch
		{name: "search group", expr: `re.search(r"id=(\d+)", "a id=42 b").group(1)`, want: `"42"`},
		{name: "search no match", expr: `re.search("x", "abc")`, want: "None"},
		{name: "match is anchored at the start", expr: `(re.match("b", "abc"), re.match("a", "abc").group())`, want: `(None, "a")`},
		{name: "match ignores re.M line starts", expr: `re.match("b", "a\nb", re.M)`, want: "None"},
		{name: "fullmatch tries every alternative", expr: `(re.fullmatch("a|ab", "ab").group(), re.fullmatch("a", "ab"))`, want: `("ab", None)`},
		{name: "match object is true", expr: `bool(re.search("a", "a"))`, want: "True"},
		// findall, finditer
		{name: "findall without groups", expr: `re.findall(r"\d+", "a1b22c333")`, want: `["1", "22", "333"]`},
		{name: "findall with one group", expr: `re.findall(r"id=(\d+)", "id=1 id=2")`, want: `["1", "2"]`},
		{name: "findall with groups", expr: `re.findall(r"(\w)=(\d)", "a=1 b=2")`, want: `[("a", "1"), ("b", "2")]`},
		{name: "findall unmatched group is empty", expr: `re.findall(r"(a)|(b)", "ab")`, want: `[("a", ""), ("", "b")]`},
		{name: "finditer spans", expr: `[m.span() for m in re.finditer(r"\d", "a1b2")]`, want: "[(1, 2), (3, 4)]"},
		// sub, subn
		{name: "sub", expr: `re.sub(r"\d", "#", "a1b2")`, want: `"a#b#"`},
		{name: "sub count=", expr: `re.sub(r"\d", "#", "a1b2c3", count=2)`, want: `"a#b#c3"`},
		{name: "sub positional count", expr: `re.sub(r"\d", "#", "a1b2c3", 1)`, want: `"a#b2c3"`},
		{name: "sub numbered groups", expr: `re.sub(r"(\w+)@(\w+)", r"\2 at \1", "me@host")`, want: `"host at me"`},
		{name: "sub named groups", expr: `re.sub(r"(?P<k>\w+)=(?P<v>\w+)", r"\g<v>=\g<k>", "a=b")`, want: `"b=a"`},
		{name: "sub whole match", expr: `re.sub(r"\d+", r"<\g<0>>", "a12")`, want: `"a<12>"`},
		{name: "sub escapes in the template", expr: `re.sub("-", r"\n\t\\", "a-b")`, want: `"a\n\t\\b"`},
		{name: "sub unmatched group is empty", expr: `re.sub(r"(a)|b", r"[\1]", "ab")`, want: `"[a][]"`},
		{name: "sub with a function", expr: `re.sub(r"\d+", lambda m: str(int(m.group()) * 2), "a2b10")`, want: `"a4b20"`},
		{name: "empty matches after a match are skipped", expr: `re.sub("x*", "-", "abxd")`, want: `"-a-b-d-"`},
		{name: "subn counts", expr: `re.subn("a", "b", "aaa")`, want: `("bbb", 3)`},
		{name: "pattern sub", expr: `re.compile("o").sub("0", "foo", 1)`, want: `"f0o"`},
		// split
		{name: "split", expr: `re.split(r"[,;]\s*", "a, b;c")`, want: `["a", "b", "c"]`},
		{name: "split keeps groups", expr: `re.split(r"(,)", "a,b")`, want: `["a", ",", "b"]`},
		{name: "split maxsplit", expr: `re.split(",", "a,b,c", maxsplit=1)`, want: `["a", "b,c"]`},
		{name: "split no match", expr: `re.split(",", "abc")`, want: `["abc"]`},
		// match objects
		{name: "groupdict", setup: named, expr: "m.groupdict()", want: `{"user": "bob", "host": "x.org"}`},
		{name: "group by name and number", setup: named, expr: `(m.group("user"), m.group(2), m.group(), m.group(0, "host"))`, want: `("bob", "x.org", "bob@x.org", ("bob@x.org", "x.org"))`},
		{name: "indexing", setup: named, expr: `(m[0], m[1], m["host"])`, want: `("bob@x.org", "bob", "x.org")`},
		{name: "groups", setup: named, expr: "m.groups()", want: `("bob", "x.org")`},
		{name: "groups default", expr: `(re.search("(a)(b)?", "a").groups(), re.search("(a)(b)?", "a").groups(""))`, want: `(("a", None), ("a", ""))`},
		{name: "start end span", setup: named, expr: `(m.start(), m.end(), m.span("host"), m.start(1))`, want: "(5, 14, (9, 14), 5)"},
		{name: "unmatched group span", expr: `re.search("(a)(b)?", "a").span(2)`, want: "(-1, -1)"},
		{name: "offsets slice the string", setup: `s = "naïve café 42"` + "\nm = re.search(r\"\\d+\", s)", expr: "s[m.start():m.end()]", want: `"42"`},
		{name: "string and re", setup: named, expr: "(m.string, m.re.pattern)", want: `("mail bob@x.org now", "(?P<user>\\w+)@(?P<host>[\\w.]+)")`},
		// compiled patterns
		{name: "pattern attributes", setup: named, expr: "(p.groups, p.groupindex, p.flags)", want: `(2, {"user": 1, "host": 2}, 0)`},
		{name: "pattern methods", expr: `(re.compile(r"\d").findall("1a2"), re.compile("b").match("ab"), re.compile("a").fullmatch("a").group())`, want: `(["1", "2"], None, "a")`},
		{name: "compiled pattern given to re.search", expr: `re.search(re.compile("b"), "abc").start()`, want: "1"},
		{name: "str of a pattern", expr: `str(re.compile("a+"))`, want: `"re.compile(\"a+\")"`},
		{name: "escape", expr: `re.search(re.escape("1+1=2?"), "is 1+1=2?").group()`, want: `"1+1=2?"`},
		// flags
		{name: "re.I", expr: `re.search("abc", "xABCx", re.I).group()`, want: `"ABC"`},
		{name: "flags=", expr: `re.search("abc", "ABC", flags=re.IGNORECASE) != None`, want: "True"},
		{name: "re.M", expr: `re.findall(r"^\w", "a\nb", re.M)`, want: `["a", "b"]`},
		{name: "without re.M", expr: `re.findall(r"^\w", "a\nb")`, want: `["a"]`},
		{name: "re.S", expr: `(re.search("a.b", "a\nb", re.S) != None, re.search("a.b", "a\nb"))`, want: "(True, None)"},
		{name: "combined flags", expr: `re.findall("^a", "A\na", re.I | re.M)`, want: `["A", "a"]`},
		{name: "compile flags", expr: `re.compile("a", re.I | re.S).flags`, want: "18"},
		{name: "inline flags", expr: `re.search("(?i)abc", "ABC") != None`, want: "True"},
		// Python syntax that is rewritten for RE2
		{name: `\Z`, expr: `(re.search(r"b\Z", "ab") != None, re.search(r"a\Z", "ab"))`, want: "(True, None)"},
		{name: "comment group", expr: `re.search(r"a(?#note)b", "ab").group()`, want: `"ab"`},
		{name: `\u escape`, expr: `re.search(r"caf\u00e9", "un café").group()`, want: `"café"`},
		{name: "lookahead text inside a class is literal", expr: `re.findall(r"[(?=]", "a(b")`, want: `["("]`},
		{name: "escaped paren is literal", expr: `re.search(r"\(?=", "(=").group()`, want: `"(="`},
		// what RE2 cannot do, said plainly
		{name: "lookahead", expr: `re.search("a(?=b)", "ab")`, wantErr: `main.star:2:23: re.search: lookahead (?=...) in "a(?=b)" is not supported: horde's re is Go's RE2, which has no lookaround or backreferences`},
		{name: "negative lookahead", expr: `re.compile("a(?!b)")`, wantErr: "re.compile: negative lookahead (?!...)"},
		{name: "lookbehind", expr: `re.findall("(?<=a)b", "ab")`, wantErr: "re.findall: lookbehind (?<=...)"},
		{name: "negative lookbehind", expr: `re.sub("(?<!a)b", "", "ab")`, wantErr: "re.sub: negative lookbehind (?<!...)"},
		{name: "backreference", expr: `re.search(r"(a)\1", "aa")`, wantErr: `re.search: backreference \1 in "(a)\\1" is not supported`},
		{name: "named backreference", expr: `re.search(r"(?P<x>a)(?P=x)", "aa")`, wantErr: "backreference (?P=name)"},
		{name: "atomic group", expr: `re.search(r"(?>a)", "a")`, wantErr: "atomic group"},
		{name: "verbose flag", expr: `re.compile("a b", re.X)`, wantErr: "re.compile: re.X (verbose) is not supported"},
		{name: "unknown flags", expr: `re.compile("a", 1024)`, wantErr: "re.compile: unknown flags 1024"},
		// bad input
		{name: "unbalanced paren", expr: `re.compile("a(b")`, wantErr: "re.compile: invalid pattern \"a(b\": missing closing ): `a(b`"},
		{name: "bad repeat", expr: `re.compile("a**")`, wantErr: "re.compile: invalid pattern \"a**\": invalid nested repetition operator: `**`"},
		{name: "unsupported escape", expr: `re.compile(r"\e")`, wantErr: "invalid escape sequence: `\\e` (not in Go's RE2 syntax)"},
		{name: "bad unicode escape", expr: `re.compile(r"\u12")`, wantErr: `\u wants 4 hex digits`},
		{name: "flags with a compiled pattern", expr: `re.search(re.compile("a"), "a", re.I)`, wantErr: "re.search: cannot give flags with a compiled pattern"},
		{name: "subject must be a string", expr: `re.search("a", b"a")`, wantErr: "re.search: string must be a string, got bytes (for a response, use r.text)"},
		{name: "pattern must be a string", expr: `re.search(1, "a")`, wantErr: "re.search: pattern must be a string or a compiled pattern, got int"},
		{name: "missing arguments", expr: `re.search()`, wantErr: "re.search: missing argument for pattern"},
		{name: "too many arguments", expr: `re.search("a", "a", 0, 1)`, wantErr: "re.search: got 4 arguments, want at most 3"},
		{name: "no such group", expr: `re.search("a", "a").group(2)`, wantErr: "group: no such group 2 (the pattern has 0)"},
		{name: "no such group name", expr: `re.search("a", "a")["x"]`, wantErr: `group: no group named "x" in "a"`},
		{name: "bad group reference in template", expr: `re.sub("a", r"\9", "a")`, wantErr: `re.sub: bad replacement "\\9": invalid group reference 9 (the pattern has 0 groups)`},
		{name: "bad escape in template", expr: `re.sub("a", r"\q", "a")`, wantErr: `bad escape \q`},
		{name: "bad named reference in template", expr: `re.sub("(a)", r"\g<x>", "a")`, wantErr: `no group named "x"`},
		{name: "repl function returns a non-string", expr: `re.sub("a", lambda m: 1, "a")`, wantErr: "re.sub: repl function must return a string, got int"},
		{name: "negative count", expr: `re.sub("a", "b", "a", count=-1)`, wantErr: "re.sub: count must be >= 0, got -1"},
	})
}
