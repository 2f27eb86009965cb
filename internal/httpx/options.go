package httpx

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults applied by NewFactory to zero Options fields.
const (
	DefaultTimeout        = 60 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	DefaultMaxRedirects   = 10
	DefaultMaxBodyBytes   = 10 << 20
	DefaultUserAgent      = "horde"
	DefaultDrain          = 5 * time.Second
)

// Options configure every Client a Factory makes. The zero value is usable.
type Options struct {
	// BaseURL is where requests with relative URLs go, e.g.
	// http://127.0.0.1:8080. Relative URLs are appended to it as Locust
	// does: base http://h/api and "/login" give http://h/api/login.
	BaseURL string
	// Timeout bounds a whole request, redirects and body read included,
	// to within 1/64 of it (the connection's deadline is not moved at
	// every request); 0 means DefaultTimeout. Request.Timeout overrides it.
	Timeout time.Duration
	// ConnectTimeout bounds the TCP connect and, separately, the TLS
	// handshake; 0 means DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// MaxRedirects is how many redirects are followed: 0 means
	// DefaultMaxRedirects, -1 returns the 3xx response itself.
	MaxRedirects int
	// Insecure skips TLS certificate verification.
	Insecure bool
	// CAPEM is a PEM bundle of extra trusted CAs, added to the system pool.
	CAPEM []byte
	// MaxConnsPerHost is how many keep-alive connections one client keeps
	// per host; 0 means 1. A virtual user is sequential, so one connection
	// suffices; it is not a hard cap, so a client shared by goroutines
	// never waits for a connection slot (connections beyond it are closed
	// after use).
	MaxConnsPerHost int
	// DisableKeepAlive opens a new connection for every request.
	DisableKeepAlive bool
	// UserAgent is sent unless a request sets its own; "" means
	// DefaultUserAgent (callers pass "horde/<version>").
	UserAgent string
	// MaxBodyBytes caps how much of a response body is kept in
	// Response.Body; the rest is read and counted, not stored. 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// HTTP2 is the protocol of requests that do not choose their own
	// (Request.HTTP2); the zero value means HTTP/1.1.
	HTTP2 HTTP2Mode
	// Drain is how long a request already in flight may still finish
	// after its context is cancelled (its user stops, the test ends). A
	// response that arrives in that time is returned, so it is measured:
	// the count equals what the server served. A request not yet sent
	// when the context ends is not sent. 0 means DefaultDrain; negative
	// aborts in-flight requests at once.
	Drain time.Duration
}

// Factory makes Clients that share validated options, one dialer and one
// TLS configuration. It is safe for concurrent use.
type Factory struct {
	opts     Options // defaults applied
	base     string  // normalised BaseURL
	dialer   *net.Dialer
	resolver *net.Resolver
	tls      *tls.Config
	targets  targets

	tlsByName sync.Map // server name (and "\x00h2" when it offers h2) → *tls.Config
	tlsCount  atomic.Int64
}

// NewFactory validates o, applies defaults and loads the CA file once.
func NewFactory(o Options) (*Factory, error) {
	if err := applyDefaults(&o); err != nil {
		return nil, err
	}
	base, err := normalizeBase(o.BaseURL)
	if err != nil {
		return nil, err
	}
	tc, err := tlsConfig(o)
	if err != nil {
		return nil, err
	}
	return &Factory{
		opts:     o,
		base:     base,
		dialer:   &net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second},
		resolver: net.DefaultResolver,
		tls:      tc,
	}, nil
}

// Options returns the options in force, defaults applied.
func (f *Factory) Options() Options { return f.opts }

func applyDefaults(o *Options) error {
	switch {
	case o.Timeout < 0:
		return fmt.Errorf("httpx: negative timeout %s", o.Timeout)
	case o.ConnectTimeout < 0:
		return fmt.Errorf("httpx: negative connect timeout %s", o.ConnectTimeout)
	case o.MaxRedirects < -1:
		return fmt.Errorf("httpx: max redirects %d: want -1 (do not follow), 0 (default) or more", o.MaxRedirects)
	case o.MaxConnsPerHost < 0:
		return fmt.Errorf("httpx: negative max connections per host %d", o.MaxConnsPerHost)
	case o.MaxBodyBytes < 0:
		return fmt.Errorf("httpx: negative max body bytes %d", o.MaxBodyBytes)
	case o.HTTP2 > HTTP2Strict:
		return fmt.Errorf("httpx: unknown HTTP/2 mode %d", o.HTTP2)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	if o.MaxConnsPerHost == 0 {
		o.MaxConnsPerHost = 1
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Drain == 0 {
		o.Drain = DefaultDrain
	}
	return nil
}

func tlsConfig(o Options) (*tls.Config, error) {
	tc := &tls.Config{InsecureSkipVerify: o.Insecure} //nolint:gosec // a user's explicit choice
	if len(o.CAPEM) == 0 {
		return tc, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(o.CAPEM) {
		return nil, fmt.Errorf("httpx: extra CA certificates: %w", errNoCerts)
	}
	tc.RootCAs = pool
	return tc, nil
}

var errNoCerts = errors.New("no PEM certificates found")
