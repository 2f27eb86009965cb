package httpx

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
)

// target is a URL resolved into what a request needs: where to connect,
// what to write. It is immutable once made.
type target struct {
	url   string   // absolute
	u     *url.URL // for the cookie jar and redirects
	key   string   // scheme://host:port, the connection it may reuse
	addr  string   // host:port to dial
	port  string
	host  string // Host header
	name  string // server name for TLS
	uri   string // request-target: path and query
	auth  string // Authorization from the URL's user info, or ""
	https bool
}

// maxTargets bounds the factory's cache of resolved URLs; a script that
// makes a new URL for every request parses each one instead.
const maxTargets = 4096

// targets caches resolved URLs per (base, reference): most load tests
// request a handful of URLs millions of times. Readers take no lock: the
// map is replaced, never changed, when a URL is added.
type targets struct {
	m  atomic.Pointer[map[[2]string]*target]
	mu sync.Mutex // serialises writers
}

// resolve returns the target of ref relative to base.
func (ts *targets) resolve(base, ref string) (*target, error) {
	key := [2]string{base, ref}
	if m := ts.m.Load(); m != nil {
		if t := (*m)[key]; t != nil {
			return t, nil
		}
	}
	s, err := joinURL(base, ref)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidURL, err)
	}
	t, err := newTarget(u)
	if err != nil {
		return nil, err
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	old := ts.m.Load()
	if old != nil && len(*old) >= maxTargets {
		return t, nil
	}
	m := make(map[[2]string]*target, 1)
	if old != nil {
		m = maps.Clone(*old)
	}
	m[key] = t
	ts.m.Store(&m)
	return t, nil
}

// newTarget checks u and derives what a request to it needs.
func newTarget(u *url.URL) (*target, error) {
	u.Scheme = strings.ToLower(u.Scheme)
	if err := checkURL(u); err != nil {
		return nil, err
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	hostname := u.Hostname()
	host := strings.TrimSuffix(u.Host, ":") // "h:" means the default port
	addr := net.JoinHostPort(hostname, port)
	uri := u.RequestURI()
	if u.Fragment != "" || u.RawFragment != "" {
		u2 := *u
		u2.Fragment, u2.RawFragment = "", ""
		u = &u2
	}
	var auth string
	if u.User != nil { // as net/http: http://user:pass@host/ means Basic auth
		pass, _ := u.User.Password()
		auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pass))
	}
	return &target{
		auth:  auth,
		url:   u.String(),
		u:     u,
		key:   u.Scheme + "://" + addr,
		addr:  addr,
		port:  port,
		host:  host,
		name:  hostname,
		uri:   uri,
		https: u.Scheme == "https",
	}, nil
}
