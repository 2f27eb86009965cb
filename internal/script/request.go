package script

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.starlark.net/starlark"

	"github.com/horde-load/horde/internal/httpx"
	"github.com/horde-load/horde/internal/stats"
)

// reqArgs are the arguments of u.get/post/.../request.
type reqArgs struct {
	method, url, name     string
	params, headers, data starlark.Value
	json                  starlark.Value
	timeout               starlark.Value
	expect                starlark.Value
	auth, verify          starlark.Value
	files, cookies        starlark.Value
	http2                 starlark.Value
	allowRedirects        bool
	catchResponse         bool // accepted for ports: every response can fail()
	expectCodes           []int
}

// positional names the arguments each method takes by position, in
// requests' order: the second of post/put/patch is the form data, of
// get/delete/head/options the query parameters, and post's third is json.
// The others are keywords only.
var positional = map[string][]string{
	"get": {"url", "params"}, "delete": {"url", "params"}, "head": {"url", "params"}, "options": {"url", "params"},
	"post": {"url", "data", "json"}, "put": {"url", "data"}, "patch": {"url", "data"},
	"request": {"method", "url"},
}

// The parameters of u.get & co., as UnpackArgs names them; the order of
// the fields that fields returns.
var reqParams = []string{"method", "url", "params?", "headers?", "json?", "data?", "name?", "timeout?",
	"expect?", "allow_redirects?", "auth?", "verify?", "files?", "cookies?", "catch_response?", "http2?"}

// fields are pointers to a's fields, in the order of reqParams.
func (a *reqArgs) fields() [16]any {
	return [16]any{&a.method, &a.url, &a.params, &a.headers, &a.json, &a.data, &a.name, &a.timeout,
		&a.expect, &a.allowRedirects, &a.auth, &a.verify, &a.files, &a.cookies, &a.catchResponse, &a.http2}
}

// reqParam is one parameter: its name for UnpackArgs, boxed once, and
// its index in fields.
type reqParam struct {
	name  any
	field int
}

// paramOrder is each method's parameters in the order UnpackArgs takes
// them: the positional ones first (required ones, method and url, before
// the others), so that its arguments need not be turned into keywords.
var paramOrder = func() map[string][]reqParam {
	index := make(map[string]int, len(reqParams))
	for i, p := range reqParams {
		index[strings.TrimSuffix(p, "?")] = i
	}
	out := make(map[string][]reqParam, len(positional))
	for fn, pos := range positional {
		var order []reqParam
		taken := map[int]bool{}
		for _, name := range pos {
			i := index[name]
			order, taken[i] = append(order, reqParam{reqParams[i], i}), true
		}
		for i, p := range reqParams {
			if !taken[i] && (i > 0 || fn == "request") {
				order = append(order, reqParam{p, i})
			}
		}
		out[fn] = order
	}
	return out
}()

// upperMethod is the method each of u.get & co. sends.
var upperMethod = map[string]string{"get": "GET", "post": "POST", "put": "PUT", "patch": "PATCH",
	"delete": "DELETE", "head": "HEAD", "options": "OPTIONS"}

func (a *reqArgs) unpack(fn string, args starlark.Tuple, kwargs []starlark.Tuple) error {
	pos := positional[fn]
	if len(args) > len(pos) {
		return fmt.Errorf("%s: takes at most %d positional arguments (%s), got %d: give the others by name, e.g. headers={...}",
			fn, len(pos), strings.Join(pos, ", "), len(args))
	}
	a.allowRedirects = true
	order := paramOrder[fn]
	ptrs := a.fields()
	var buf [2 * len(ptrs)]any
	pairs := buf[:0]
	for _, p := range order {
		pairs = append(pairs, p.name, ptrs[p.field])
	}
	if err := starlark.UnpackArgs(fn, args, kwargs, pairs...); err != nil {
		return err
	}
	if m, ok := upperMethod[fn]; ok {
		a.method = m
	} else {
		a.method = strings.ToUpper(a.method)
	}
	if a.method == "" {
		return fmt.Errorf("%s: method must not be empty", fn)
	}
	if a.url == "" {
		return fmt.Errorf("%s: url must not be empty", fn)
	}
	codes, err := expectCodes(fn, a.expect)
	a.expectCodes = codes
	return err
}

// build turns the arguments into an httpx.Request, with the user's
// session defaults (u.headers, u.auth, u.verify) under its own.
func (a *reqArgs) build(th *starlark.Thread, st *vuState, fn string) (*httpx.Request, error) {
	req := new(httpx.Request)
	return req, a.buildInto(th, st, fn, req)
}

// buildInto is build filling in req, which it overwrites.
func (a *reqArgs) buildInto(th *starlark.Thread, st *vuState, fn string, req *httpx.Request) error {
	*req = httpx.Request{Method: a.method, URL: a.url, NoRedirects: !a.allowRedirects}
	if !isNone(a.params) {
		q, err := encodeForm(fn, "params", a.params)
		if err != nil {
			return err
		}
		if q != "" {
			sep := "?"
			if strings.Contains(a.url, "?") {
				sep = "&"
			}
			req.URL += sep + q
		}
	}
	h, err := st.session.headersFor(fn, a.headers)
	if err != nil {
		return err
	}
	req.Header = h
	if err := a.body(th, st.eng, fn, req); err != nil {
		return err
	}
	if err := st.session.authorize(fn, a.auth, req); err != nil {
		return err
	}
	if err := addCookies(fn, a.cookies, req); err != nil {
		return err
	}
	insecure, err := st.session.insecure(fn, a.verify)
	if err != nil {
		return err
	}
	req.Insecure = insecure
	if req.HTTP2, err = st.http2Mode(fn, a.http2); err != nil {
		return err
	}
	if !isNone(a.timeout) {
		var t number
		if err := t.Unpack(a.timeout); err != nil || !(t > 0) {
			return fmt.Errorf("%s: timeout must be a number of seconds > 0, got %s", fn, a.timeout)
		}
		req.Timeout = t.duration()
	}
	return nil
}

// body sets the request body from json=, data= or files= (with data=).
func (a *reqArgs) body(th *starlark.Thread, e *engine, fn string, req *httpx.Request) error {
	hasJSON, hasData, hasFiles := !isNone(a.json), !isNone(a.data), !isNone(a.files)
	switch {
	case hasJSON && (hasData || hasFiles):
		return fmt.Errorf("%s: give json= or data=/files=, not both", fn)
	case hasFiles:
		return multipartBody(fn, a.data, a.files, req)
	case hasJSON:
		s, err := starlark.Call(th, e.encode, starlark.Tuple{a.json}, nil)
		if err != nil {
			return fmt.Errorf("%s: json: %w", fn, err)
		}
		req.Body = []byte(string(s.(starlark.String)))
		setDefaultHeader(req, "Content-Type", "application/json")
	case hasData:
		switch d := a.data.(type) {
		case starlark.String:
			req.Body = []byte(string(d))
		case starlark.Bytes:
			req.Body = []byte(string(d))
		case *starlark.Dict:
			f, err := encodeForm(fn, "data", d)
			if err != nil {
				return err
			}
			req.Body = []byte(f)
			setDefaultHeader(req, "Content-Type", "application/x-www-form-urlencoded")
		default:
			return fmt.Errorf("%s: data must be a string, bytes or dict, got %s", fn, a.data.Type())
		}
	}
	return nil
}

func setDefaultHeader(req *httpx.Request, k, v string) {
	if req.Header == nil {
		req.Header = make(http.Header, 1)
	}
	if req.Header.Get(k) == "" {
		req.Header.Set(k, v)
	}
}

func isNone(v starlark.Value) bool { return v == nil || v == starlark.None }

// str is the text of a query, form or header value, as Python's str().
func str(v starlark.Value) string {
	if s, ok := starlark.AsString(v); ok {
		return s
	}
	return v.String()
}

// encodeForm encodes a dict as application/x-www-form-urlencoded, in the
// dict's order; a list value repeats the key and None leaves it out.
func encodeForm(fn, arg string, v starlark.Value) (string, error) {
	d, ok := v.(*starlark.Dict)
	if !ok {
		return "", fmt.Errorf("%s: %s must be a dict, got %s", fn, arg, v.Type())
	}
	var b strings.Builder
	add := func(k string, v starlark.Value) {
		if v == starlark.None {
			return
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(str(v)))
	}
	for _, kv := range d.Items() {
		k, ok := starlark.AsString(kv[0])
		if !ok {
			return "", fmt.Errorf("%s: %s keys must be strings, got %s", fn, arg, kv[0].Type())
		}
		switch vs := kv[1].(type) {
		case *starlark.List, starlark.Tuple:
			for i := 0; i < vs.(starlark.Indexable).Len(); i++ {
				add(k, vs.(starlark.Indexable).Index(i))
			}
		default:
			add(k, vs)
		}
	}
	return b.String(), nil
}

// headerArg converts a headers= dict; a list value gives repeated headers.
func headerArg(fn string, v starlark.Value) (http.Header, error) {
	d, ok := v.(*starlark.Dict)
	if !ok {
		return nil, fmt.Errorf("%s: headers must be a dict, got %s", fn, v.Type())
	}
	h := make(http.Header, d.Len())
	for _, kv := range d.Items() {
		k, ok := starlark.AsString(kv[0])
		if !ok || k == "" {
			return nil, fmt.Errorf("%s: header names must be non-empty strings, got %s", fn, kv[0])
		}
		switch vs := kv[1].(type) {
		case *starlark.List, starlark.Tuple:
			for i := 0; i < vs.(starlark.Indexable).Len(); i++ {
				h.Add(k, str(vs.(starlark.Indexable).Index(i)))
			}
		default:
			if vs != starlark.None {
				h.Set(k, str(vs))
			}
		}
	}
	return h, nil
}

// expectCodes reads expect=: one status or a list of them.
func expectCodes(fn string, v starlark.Value) ([]int, error) {
	if isNone(v) {
		return nil, nil
	}
	one := func(x starlark.Value) (int, error) {
		var c int
		if err := starlark.AsInt(x, &c); err != nil || c < 100 || c > 999 {
			return 0, fmt.Errorf("%s: expect must be an HTTP status or a list of them, got %s", fn, x)
		}
		return c, nil
	}
	if l, ok := v.(starlark.Indexable); ok && v.Type() != "string" && v.Type() != "bytes" {
		if l.Len() == 0 {
			return nil, fmt.Errorf("%s: expect must not be empty", fn)
		}
		codes := make([]int, l.Len())
		for i := range codes {
			c, err := one(l.Index(i))
			if err != nil {
				return nil, err
			}
			codes[i] = c
		}
		return codes, nil
	}
	c, err := one(v)
	return []int{c}, err
}

// nameOf is the default statistics name, as Locust's: the URL as given —
// a path for a relative URL, the whole URL for an absolute one, so that
// two hosts never share a row — without a fragment (never sent).
func nameOf(u string) string {
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u = u[:i]
	}
	return u
}

// judge decides whether a response is a failure, and why: the request's
// error kind, an unexpected status under expect=, or a status >= 400.
func judge(r *httpx.Response, expect []int) string {
	if expect == nil || r.Err != nil || r.ErrKind != "" || r.Status == 0 {
		if f := r.Failure(); f != "" || r.Status != 0 {
			return f
		}
		return "no response"
	}
	for _, c := range expect {
		if c == r.Status {
			return ""
		}
	}
	want := make([]string, len(expect))
	for i, c := range expect {
		want[i] = strconv.Itoa(c)
	}
	return fmt.Sprintf("unexpected status %d (expected %s)", r.Status, strings.Join(want, ", "))
}

// userRequest implements u.get, u.post, ... and u.request.
func userRequest(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	st := b.Receiver().(*userObj).st
	rc := reqCalls.Get().(*reqCall)
	defer rc.release()
	a := &rc.args
	if err := a.unpack(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	if err := a.buildInto(th, st, b.Name(), &rc.req); err != nil {
		return nil, err
	}
	st.flush()
	if st.vu.HTTP == nil {
		return nil, fmt.Errorf("%s: this user has no HTTP client", b.Name())
	}
	name := a.name
	if name == "" {
		name = nameOf(a.url)
	}
	resp := &response{eng: st.eng, key: stats.Key{Method: a.method, Name: name}}
	st.vu.HTTP.DoTo(st.ctx, &rc.req, &resp.r)
	resp.reason = judge(&resp.r, a.expectCodes)
	if resp.r.ErrKind == "canceled" && st.ctx.Err() != nil {
		// The user is being stopped: this is not a measurement.
		resp.state = respDropped
		return resp, nil
	}
	st.pending = resp
	return resp, nil
}

// reqCall is what one u.get & co. needs while it runs, pooled: the
// client keeps nothing of the request once it returns.
type reqCall struct {
	args reqArgs
	req  httpx.Request
}

var reqCalls = sync.Pool{New: func() any { return new(reqCall) }}

func (rc *reqCall) release() {
	*rc = reqCall{}
	reqCalls.Put(rc)
}

// elapsedMS converts a duration to float milliseconds.
func elapsedMS(d time.Duration) starlark.Float { return starlark.Float(float64(d) / 1e6) }
