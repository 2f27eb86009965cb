package script

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"go.starlark.net/starlark"
)

// userObj is the `u` passed to tasks and hooks: one per VU.
type userObj struct {
	st    *vuState
	state *starlark.Dict // u.state, created on first use
}

var _ starlark.HasSetField = (*userObj)(nil)

func (u *userObj) String() string        { return fmt.Sprintf("<user %d>", u.st.vu.ID) }
func (u *userObj) Type() string          { return "user" }
func (u *userObj) Truth() starlark.Bool  { return true }
func (u *userObj) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: user") }

// Freeze does nothing: a user object belongs to one VU and is never shared.
func (u *userObj) Freeze() {}

// Attr implements starlark.HasAttrs.
func (u *userObj) Attr(name string) (starlark.Value, error) {
	switch name {
	case "id":
		return starlark.MakeInt(u.st.vu.ID), nil
	case "state":
		if u.state == nil {
			u.state = new(starlark.Dict)
		}
		return u.state, nil
	case "host":
		return starlark.String(u.host()), nil
	case "cookies":
		return u.cookies(), nil
	case "client":
		return u, nil // self.client.get(...) ports as u.client.get(...)
	case "headers":
		if u.st.session.headers == nil {
			u.st.session.headers = new(starlark.Dict)
		}
		return u.st.session.headers, nil
	case "auth":
		if u.st.session.auth == nil {
			return starlark.None, nil
		}
		return u.st.session.auth, nil
	case "verify":
		if v := u.st.session.verify; v != nil {
			return *v, nil
		}
		return starlark.True, nil
	}
	if b, ok := u.st.eng.methods[name]; ok {
		return b.BindReceiver(u), nil
	}
	return nil, nil
}

// AttrNames implements starlark.HasAttrs.
func (u *userObj) AttrNames() []string {
	return []string{"auth", "batch", "clear_cookies", "client", "cookies", "delete", "get", "grpc", "grpc_stream", "head",
		"headers", "host", "id", "options", "patch", "post", "put", "request", "set_cookie", "sleep", "state", "verify",
		"websocket"}
}

// SetField implements starlark.HasSetField: the session's defaults, as a
// locustfile sets them on self.client — u.headers = {...},
// u.auth = ("user", "password") or None, u.verify = False.
func (u *userObj) SetField(name string, v starlark.Value) error {
	s := &u.st.session
	switch name {
	case "headers":
		d, ok := v.(*starlark.Dict)
		if !ok {
			return fmt.Errorf("u.headers must be a dict, got %s", v.Type())
		}
		if _, err := headerArg("u.headers", d); err != nil {
			return err
		}
		s.headers = d
	case "auth":
		if isNone(v) {
			s.auth = nil
			return nil
		}
		user, pass, err := credentials("u.auth", v)
		if err != nil {
			return err
		}
		s.auth = starlark.Tuple{starlark.String(user), starlark.String(pass)}
	case "verify":
		b, ok := v.(starlark.Bool)
		if !ok {
			return fmt.Errorf("u.verify must be True or False, got %s", v.Type())
		}
		s.verify = &b
	case "state":
		d, ok := v.(*starlark.Dict)
		if !ok {
			return fmt.Errorf("u.state must be a dict, got %s", v.Type())
		}
		u.state = d
	default:
		return starlark.NoSuchAttrError(fmt.Sprintf("cannot set u.%s: a user has u.state (a dict) for its own values, "+
			"and u.headers, u.auth, u.verify for its session", name))
	}
	return nil
}

// userSetCookie implements u.set_cookie(name, value, path="/", domain=None):
// a cookie the user sends from now on, as if the host had set it.
func userSetCookie(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name, value string
	path := "/"
	var domain starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "value", &value, "path?", &path, "domain?", &domain); err != nil {
		return nil, err
	}
	u := b.Receiver().(*userObj)
	if name == "" || strings.ContainsAny(name, "=; \t\r\n") || strings.ContainsAny(value, ";\r\n") {
		return nil, fmt.Errorf("set_cookie: a name must be non-empty without '=', ';' or spaces, a value without ';' or line breaks")
	}
	c := u.st.vu.HTTP
	if c == nil {
		return nil, fmt.Errorf("set_cookie: this user has no HTTP client")
	}
	target := u.host()
	ck := &http.Cookie{Name: name, Value: value, Path: path}
	if !isNone(domain) {
		d, ok := starlark.AsString(domain)
		if !ok || d == "" {
			return nil, fmt.Errorf("set_cookie: domain must be a host name, got %s", domain)
		}
		ck.Domain = d
		target = "http://" + strings.TrimPrefix(d, ".") + "/"
	}
	if target == "" {
		return nil, fmt.Errorf("set_cookie: the user has no host: give domain=")
	}
	if err := c.SetCookies(target, []*http.Cookie{ck}); err != nil {
		return nil, fmt.Errorf("set_cookie: %w", err)
	}
	return starlark.None, nil
}

// userClearCookies implements u.clear_cookies(): the user forgets them all.
func userClearCookies(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	if c := b.Receiver().(*userObj).st.vu.HTTP; c != nil {
		c.ClearCookies()
	}
	return starlark.None, nil
}

// host is the base URL of the user's requests.
func (u *userObj) host() string {
	if h := u.st.vu.Host; h != "" {
		return h
	}
	if c := u.st.vu.HTTP; c != nil {
		return c.BaseURL()
	}
	return ""
}

// cookies is a snapshot of the session's cookies for the host, name → value.
func (u *userObj) cookies() *starlark.Dict {
	d := new(starlark.Dict)
	c := u.st.vu.HTTP
	if c == nil {
		return d
	}
	for _, ck := range c.Cookies(u.host()) {
		_ = d.SetKey(starlark.String(ck.Name), starlark.String(ck.Value)) // a fresh dict cannot fail
	}
	return d
}

// userSleep implements u.sleep(seconds): a pause that ends when the user
// is stopped.
func userSleep(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s number
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "seconds", &s); err != nil {
		return nil, err
	}
	if !(s >= 0) {
		return nil, fmt.Errorf("sleep: seconds must be >= 0, got %v", float64(s))
	}
	st := b.Receiver().(*userObj).st
	t := time.NewTimer(s.duration())
	defer t.Stop()
	select {
	case <-t.C:
		return starlark.None, nil
	case <-st.ctx.Done():
		return nil, stopped(st.ctx.Err())
	}
}

// number is a Starlark int or float argument.
type number float64

// Unpack implements starlark.Unpacker.
func (n *number) Unpack(v starlark.Value) error {
	f, ok := starlark.AsFloat(v)
	if !ok {
		return fmt.Errorf("got %s, want int or float", v.Type())
	}
	*n = number(f)
	return nil
}

// duration reads n as seconds.
func (n number) duration() time.Duration {
	ns := float64(n) * float64(time.Second)
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(ns)
}
