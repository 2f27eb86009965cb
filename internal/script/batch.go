package script

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/horde-load/horde/internal/httpx"
	"github.com/horde-load/horde/internal/stats"
)

// http2Arg reads http2= of a request or a user class: True (HTTP/2, by
// ALPN over TLS with HTTP/1.1 accepted, by prior knowledge over
// cleartext), False (HTTP/1.1), "strict" (HTTP/2 or a failure), None
// (not chosen here).
func http2Arg(fn string, v starlark.Value) (httpx.HTTP2Mode, error) {
	switch x := v.(type) {
	case nil, starlark.NoneType:
		return httpx.HTTP2Default, nil
	case starlark.Bool:
		if x {
			return httpx.HTTP2On, nil
		}
		return httpx.HTTP2Off, nil
	case starlark.String:
		if x == "strict" {
			return httpx.HTTP2Strict, nil
		}
	}
	return httpx.HTTP2Default, fmt.Errorf(`%s: http2 must be True, False or "strict", got %s`, fn, v)
}

// http2Mode is the protocol of a request: its own http2=, else its user
// class's, else the test's (left to the client).
func (st *vuState) http2Mode(fn string, own starlark.Value) (httpx.HTTP2Mode, error) {
	m, err := http2Arg(fn, own)
	if err != nil || m != httpx.HTTP2Default {
		return m, err
	}
	if len(st.eng.classHTTP2) > 0 {
		m = st.eng.classHTTP2[st.vu.Class]
	}
	return m, nil
}

// userBatch implements u.batch(requests): the requests are sent at once —
// over HTTP/2 as streams of the user's connection, over HTTP/1.1 on up to
// six connections per host — and their responses returned in order. Each
// request is a URL (a GET), a (method, url) or (method, url, {keywords})
// tuple, or a dict {"url": ..., "method": "GET", keywords...}, with the
// keywords of u.request. Each is recorded as its own sample, at the
// user's next request or the end of the task, so fail() and success()
// work on them meanwhile.
func userBatch(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var list starlark.Iterable
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "requests", &list); err != nil {
		return nil, err
	}
	st := b.Receiver().(*userObj).st
	var (
		all   []reqArgs
		reqs  []*httpx.Request
		index int
	)
	it := list.Iterate()
	defer it.Done()
	var item starlark.Value
	for it.Next(&item) {
		fn := fmt.Sprintf("batch: request %d", index)
		index++
		a, err := batchItem(fn, item)
		if err != nil {
			return nil, err
		}
		req, err := a.build(th, st, fn)
		if err != nil {
			return nil, err
		}
		all, reqs = append(all, a), append(reqs, req)
	}
	st.flush()
	if st.vu.HTTP == nil {
		return nil, fmt.Errorf("batch: this user has no HTTP client")
	}
	out := make([]starlark.Value, len(reqs))
	if len(reqs) == 0 {
		return starlark.NewList(out), nil
	}
	var last *response
	for i, r := range st.vu.HTTP.DoBatch(st.ctx, reqs) {
		a := &all[i]
		name := a.name
		if name == "" {
			name = nameOf(a.url)
		}
		resp := &response{eng: st.eng, r: *r, key: stats.Key{Method: a.method, Name: name}, reason: judge(r, a.expectCodes)}
		out[i] = resp
		if r.ErrKind == httpx.KindCanceled && st.ctx.Err() != nil {
			resp.state = respDropped // the user is being stopped: not a measurement
			continue
		}
		if last == nil {
			st.pending = resp
		} else {
			last.next = resp
		}
		last = resp
	}
	return starlark.NewList(out), nil
}

// batchItem reads one request of u.batch into the arguments of
// u.request.
func batchItem(fn string, v starlark.Value) (reqArgs, error) {
	var a reqArgs
	var (
		pos    starlark.Tuple
		kwargs []starlark.Tuple
	)
	switch x := v.(type) {
	case starlark.String:
		pos = starlark.Tuple{starlark.String("GET"), x}
	case starlark.Tuple, *starlark.List:
		seq := x.(starlark.Indexable)
		if seq.Len() < 2 || seq.Len() > 3 {
			return a, fmt.Errorf("%s: want (method, url) or (method, url, {keywords}), got %s", fn, v)
		}
		pos = starlark.Tuple{seq.Index(0), seq.Index(1)}
		if seq.Len() == 3 {
			d, ok := seq.Index(2).(*starlark.Dict)
			if !ok {
				return a, fmt.Errorf("%s: the third item must be a dict of keywords (name=, headers=...), got %s", fn, seq.Index(2).Type())
			}
			var err error
			if kwargs, err = keywords(fn, d); err != nil {
				return a, err
			}
		}
	case *starlark.Dict:
		var err error
		if kwargs, err = keywords(fn, x); err != nil {
			return a, err
		}
		if _, found, _ := x.Get(starlark.String("method")); !found {
			kwargs = append(kwargs, starlark.Tuple{starlark.String("method"), starlark.String("GET")})
		}
	default:
		return a, fmt.Errorf(`%s: want a URL, a (method, url[, {keywords}]) tuple or a dict {"url": ...}, got %s`, fn, v.Type())
	}
	if err := a.unpack("request", pos, kwargs); err != nil {
		return a, fmt.Errorf("%s: %w", fn, err)
	}
	return a, nil
}

// keywords turns a dict of string keys into keyword arguments.
func keywords(fn string, d *starlark.Dict) ([]starlark.Tuple, error) {
	kw := make([]starlark.Tuple, 0, d.Len())
	for _, kv := range d.Items() {
		if _, ok := kv[0].(starlark.String); !ok {
			return nil, fmt.Errorf("%s: keyword names must be strings, got %s", fn, kv[0].Type())
		}
		kw = append(kw, starlark.Tuple{kv[0], kv[1]})
	}
	return kw, nil
}
