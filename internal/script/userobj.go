package script

import (
	"fmt"
	"math"
	"time"

	"go.starlark.net/starlark"
)

// userObj is the `u` passed to tasks and hooks: one per VU.
type userObj struct {
	st    *vuState
	state *starlark.Dict // u.state, created on first use
}

var _ starlark.HasAttrs = (*userObj)(nil)

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
	}
	if b, ok := u.st.eng.methods[name]; ok {
		return b.BindReceiver(u), nil
	}
	return nil, nil
}

// AttrNames implements starlark.HasAttrs.
func (u *userObj) AttrNames() []string {
	return []string{"cookies", "delete", "get", "head", "host", "id", "options", "patch",
		"post", "put", "request", "sleep", "state"}
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
