package httpx

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
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
	https bool
}

// maxTargets bounds the factory's cache of resolved URLs; a script that
// makes a new URL for every request parses each one instead.
const maxTargets = 4096

// targets caches resolved URLs per (base, reference): most load tests
// request a handful of URLs millions of times.
type targets struct {
	mu sync.RWMutex
	m  map[[2]string]*target
}

// resolve returns the target of ref relative to base.
func (ts *targets) resolve(base, ref string) (*target, error) {
	key := [2]string{base, ref}
	ts.mu.RLock()
	t := ts.m[key]
	ts.mu.RUnlock()
	if t != nil {
		return t, nil
	}
	s, err := joinURL(base, ref)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidURL, err)
	}
	if t, err = newTarget(u); err != nil {
		return nil, err
	}
	ts.mu.Lock()
	if ts.m == nil {
		ts.m = make(map[[2]string]*target)
	}
	if len(ts.m) < maxTargets {
		ts.m[key] = t
	}
	ts.mu.Unlock()
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
	host := u.Host
	if strings.HasSuffix(host, ":") { // "h:" means the default port
		host = strings.TrimSuffix(host, ":")
	}
	addr := net.JoinHostPort(hostname, port)
	uri := u.RequestURI()
	if u.Fragment != "" || u.RawFragment != "" {
		u2 := *u
		u2.Fragment, u2.RawFragment = "", ""
		u = &u2
	}
	return &target{
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
