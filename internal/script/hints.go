package script

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Python-isms: a locustfile ported by hand keeps Python that Starlark does
// not have. go.starlark.net reports it as a bare parse error ("got class,
// want primary expression"); pythonHint recognises those errors — never
// rewriting the user's code — and says instead, in one line at the same
// file:line:col, what to write in horde.

// keywordHints are Python keywords that Starlark reserves or lacks, by the
// parser's "got KEYWORD, want ..." message.
var keywordHints = map[string]string{
	"class":    `Starlark has no class: write each task as def name(u): ... and declare users = [user(name="WebsiteUser", tasks=[name], wait=between(1, 5))]`,
	"import":   importHint,
	"from":     importHint,
	"try":      tryHint,
	"except":   tryHint,
	"finally":  tryHint,
	"raise":    `Starlark has no raise: fail("reason") ends the task with an error, stop_user() stops the user`,
	"with":     `Starlark has no with: write r = u.get("/path"), then r.fail("reason") or r.success() (no catch_response needed)`,
	"is":       `Starlark has no is: write x == None or x != None`,
	"global":   globalHint,
	"nonlocal": globalHint,
	"del":      `Starlark has no del: use d.pop(key) or l.pop(i)`,
	"yield":    asyncHint,
	"async":    asyncHint,
	"await":    asyncHint,
}

const (
	importHint = `Starlark has no import: user(), between() and the modules json, time, math, random, re, uuid, base64, hashlib and hmac are built in; load("lib.star", "name") loads your own files`
	tryHint    = `Starlark has no try/except: requests do not raise (check r.ok or r.status, or pass expect=200), and fail("reason") ends the task with an error`
	globalHint = `Starlark has no global: globals are frozen after load; keep what a user changes in u.state`
	asyncHint  = `Starlark has no generators or async: write plain functions (each user runs on its own)`
	fHint      = `Starlark has no f-strings: write "id=%s" % x or "id={}".format(x)`
	powHint    = `Starlark has no ** operator: write math.pow(x, y) (a float) or x * x`
	decoHint   = `Starlark has no decorators: list the function in user(tasks=[fn]), or give it options with task(fn, weight=3, tags=["web"])`
	assertHint = `Starlark has no assert: write if not cond: fail("reason"), or pass expect=200 to a request`
	selfHint   = `tasks get the user as their argument: def index(u): u.get("/") (self.client.get is u.get, self.x is u.state["x"])`
	chainHint  = `Starlark has no chained comparisons: write a < b and b < c`
	waitHint   = `horde's user() takes wait= for Locust's wait_time: user(..., wait=between(1, 5))`
)

// fString finds a string literal with an f prefix (f"", F”, rf"", fr"").
var fString = regexp.MustCompile(`(?i)(?:^|[^\w"'])((?:r?f|fr)["'])`)

// pythonHint rewrites le in place when it is a Python-ism in file, whose
// source is src, and returns it.
func pythonHint(le *LoadError, file string, src []byte) *LoadError {
	if le == nil || le.File != file {
		return le
	}
	msg := le.Msg
	line := sourceLine(src, le.Line)
	switch {
	case strings.HasPrefix(msg, "got "):
		kw, _, _ := strings.Cut(strings.TrimPrefix(msg, "got "), ",")
		if h, ok := keywordHints[kw]; ok {
			le.Msg = h
			le.Col = tokenStart(line, le.Col, kw)
			return le
		}
		if kw == "'**'" {
			le.Msg = powHint
			le.Col = tokenStart(line, le.Col, "**")
			return le
		}
		if strings.HasPrefix(kw, "string literal") && fHintAt(le, line) {
			return le
		}
		if first, _, _ := strings.Cut(strings.TrimSpace(line), " "); first == "assert" {
			le.Msg, le.Col = assertHint, utf8.RuneCountInString(line[:strings.Index(line, "assert")])+1
		}
	case strings.HasPrefix(msg, "invalid escape sequence"):
		fHintAt(le, line) // rf"\d": the scanner reads f"..." as a plain string
	case strings.Contains(msg, " does not associate with "): // "< does not associate with < (use parens)"
		if f := strings.Fields(msg); len(f) > 5 {
			le.Col = tokenStart(line, le.Col, f[5])
		}
		le.Msg = chainHint
	case msg == "unexpected input character '@'":
		le.Msg = decoHint
	case strings.HasPrefix(msg, "undefined: self"):
		le.Msg = selfHint
	case strings.HasSuffix(msg, `unexpected keyword argument "wait_time"`),
		strings.HasSuffix(msg, `unexpected keyword argument "min_wait"`),
		strings.HasSuffix(msg, `unexpected keyword argument "max_wait"`):
		if strings.HasPrefix(msg, "user:") {
			le.Msg = msg + ": " + waitHint
		}
	}
	return le
}

// fHintAt gives the f-string hint at the f-prefixed literal of line, if any.
func fHintAt(le *LoadError, line string) bool {
	loc := fString.FindStringSubmatchIndex(line)
	if loc == nil {
		return false
	}
	le.Msg, le.Col = fHint, utf8.RuneCountInString(line[:loc[2]])+1
	return true
}

// tokenStart is the column where tok starts, at or before col: the parser
// reports some errors at the end of the unexpected token.
func tokenStart(line string, col int, tok string) int {
	end, n := len(line), col // the byte offset of col, plus the token
	for i := range line {
		if n--; n == 0 {
			end = min(i+len(tok), len(line))
			break
		}
	}
	if i := strings.LastIndex(line[:end], tok); i >= 0 {
		return utf8.RuneCountInString(line[:i]) + 1
	}
	return col
}

// sourceLine is line n (1-based) of src, or "".
func sourceLine(src []byte, n int) string {
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(src, '\n')
		if j < 0 {
			return ""
		}
		src = src[j+1:]
	}
	if j := bytes.IndexByte(src, '\n'); j >= 0 {
		src = src[:j]
	}
	return string(src)
}
