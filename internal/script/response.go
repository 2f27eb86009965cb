package script

import (
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"golang.org/x/net/html"

	"github.com/horde-load/horde/internal/httpx"
	"github.com/horde-load/horde/internal/starlib"
	"github.com/horde-load/horde/internal/stats"
)

// Response states: a response is pending until the user's next request or
// the end of the task; then its sample is recorded and it can no longer
// change. A dropped response was cut short by the user stopping.
const (
	respPending uint8 = iota
	respRecorded
	respDropped
)

// response is what u.get & co. return.
type response struct {
	eng    *engine
	r      httpx.Response
	key    stats.Key
	reason string // failure reason; "" is success
	state  uint8
	doc    *html.Node // the body parsed as HTML by the first select()
	next   *response  // the next pending response of a batch
}

var _ starlark.HasAttrs = (*response)(nil)

func (r *response) String() string {
	return fmt.Sprintf("<response %d %s %s>", r.r.Status, r.key.Method, r.key.Name)
}
func (r *response) Type() string          { return "response" }
func (r *response) Truth() starlark.Bool  { return r.reason == "" }
func (r *response) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: response") }

// Freeze does nothing: a response belongs to one user's task.
func (r *response) Freeze() {}

// AttrNames implements starlark.HasAttrs.
func (r *response) AttrNames() []string {
	return []string{"content", "elapsed_ms", "error", "fail", "headers", "json", "ok", "proto",
		"select", "select_one", "status", "status_code", "success", "text", "timings", "url"}
}

// Attr implements starlark.HasAttrs.
func (r *response) Attr(name string) (starlark.Value, error) {
	switch name {
	case "status", "status_code":
		return starlark.MakeInt(r.r.Status), nil
	case "ok":
		return starlark.Bool(r.reason == ""), nil
	case "text":
		return starlark.String(r.r.Body), nil
	case "content":
		return starlark.Bytes(r.r.Body), nil
	case "headers":
		return r.headers(), nil
	case "elapsed_ms":
		return elapsedMS(r.r.Elapsed), nil
	case "url":
		return starlark.String(r.r.URL), nil
	case "proto":
		return starlark.String(r.r.Proto), nil
	case "error":
		if r.r.Err == nil && r.r.ErrKind == "" {
			return starlark.None, nil
		}
		return starlark.String(r.r.Failure()), nil
	case "timings":
		t := r.r.Timings
		return starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
			"dns_ms":     elapsedMS(t.DNS),
			"connect_ms": elapsedMS(t.Connect),
			"tls_ms":     elapsedMS(t.TLS),
			"ttfb_ms":    elapsedMS(t.TTFB),
		}), nil
	case "select", "select_one":
		return starlark.NewBuiltin(name, respSelect).BindReceiver(r), nil
	}
	if b, ok := r.eng.respFns[name]; ok {
		return b.BindReceiver(r), nil
	}
	return nil, nil
}

// headers are the response's headers, matched without regard to case
// (see headerMap).
func (r *response) headers() *headerMap { return newHeaderMap(r.r.Headers()) }

// changeable reports why the response's outcome can no longer change.
func (r *response) changeable(fn string) error {
	switch r.state {
	case respRecorded:
		return fmt.Errorf("%s: the response of %s %s is already recorded; call %s() before the user's next request",
			fn, r.key.Method, r.key.Name, fn)
	case respDropped:
		return fmt.Errorf("%s: the response of %s %s is not recorded: the user is stopping", fn, r.key.Method, r.key.Name)
	}
	return nil
}

// respFail implements resp.fail(reason), Locust's catch_response failure().
func respFail(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	r := b.Receiver().(*response)
	var reason string
	if err := starlark.UnpackArgs("fail", args, kwargs, "reason", &reason); err != nil {
		return nil, err
	}
	if reason == "" {
		return nil, fmt.Errorf("fail: reason must not be empty")
	}
	if err := r.changeable("fail"); err != nil {
		return nil, err
	}
	r.reason = reason
	return starlark.None, nil
}

// respSuccess implements resp.success(): the response counts as passed
// whatever its status.
func respSuccess(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	r := b.Receiver().(*response)
	if err := starlark.UnpackArgs("success", args, kwargs); err != nil {
		return nil, err
	}
	if err := r.changeable("success"); err != nil {
		return nil, err
	}
	r.reason = ""
	return starlark.None, nil
}

// respJSON implements resp.json(): the body decoded as JSON.
func respJSON(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	r := b.Receiver().(*response)
	if err := starlark.UnpackArgs("json", args, kwargs); err != nil {
		return nil, err
	}
	v, err := starlark.Call(th, r.eng.decode, starlark.Tuple{starlark.String(r.r.Body)}, nil)
	if err != nil {
		return nil, fmt.Errorf("json: body of %s %s is not JSON: %w", r.key.Method, r.key.Name, err)
	}
	return v, nil
}

// respSelect implements resp.select(css) and resp.select_one(css): the
// body is parsed as HTML on the first call only, so a response that is
// never queried costs nothing.
func respSelect(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	r := b.Receiver().(*response)
	var css string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "css", &css); err != nil {
		return nil, err
	}
	if r.doc == nil {
		r.doc = starlib.ParseHTML(r.r.Body)
	}
	if b.Name() == "select" {
		return starlib.Select("select", r.doc, css)
	}
	return starlib.SelectOne("select_one", r.doc, css)
}
