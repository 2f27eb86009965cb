// Package grpcx is horde's gRPC client for load: connections kept per
// virtual user and target, unary and server-streaming calls of methods
// known only at run time (dynamic messages described by .proto files
// compiled at load, or by the server's reflection), each call's status,
// metadata, duration and bytes received, and failures named by their
// status code.
//
// It knows nothing of scripts or statistics: package script builds the
// messages from Starlark values and records the calls.
package grpcx

import (
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// Defaults applied to zero Options fields.
const (
	DefaultConnectTimeout  = 10 * time.Second
	DefaultMaxMessageBytes = 16 << 20
)

// Options configure the connections of a Pool.
type Options struct {
	// TLS is the configuration of TLS targets (its ServerName is set per
	// target); nil means the system's defaults.
	TLS *tls.Config
	// ConnectTimeout bounds one connection attempt (TCP, TLS and HTTP/2
	// handshake); 0 means DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// MaxMessageBytes bounds a message received; a larger one fails the
	// call with RESOURCE_EXHAUSTED. 0 means DefaultMaxMessageBytes.
	MaxMessageBytes int
	// UserAgent is sent before grpc-go's own; "" sends grpc-go's alone.
	UserAgent string
}

// Target is where calls go: an address and whether it speaks TLS.
type Target struct {
	Addr string // host:port
	TLS  bool
	// Insecure skips certificate verification for this target.
	Insecure bool
}

// ParseTarget reads a target: "host:port" (plaintext), "grpc://host:port",
// "grpcs://host:port" (TLS), or an http:// or https:// URL whose host is
// used (a user's -H). A missing port is 80 for plaintext, 443 for TLS.
func ParseTarget(s string) (Target, error) {
	var t Target
	rest := s
	if i := strings.Index(s, "://"); i >= 0 {
		switch strings.ToLower(s[:i]) {
		case "grpc", "http", "h2c":
		case "grpcs", "https":
			t.TLS = true
		default:
			return Target{}, fmt.Errorf("grpc: address %q: want host:port, grpc://host:port or grpcs://host:port", s)
		}
		rest = s[i+3:]
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	if rest == "" {
		return Target{}, fmt.Errorf("grpc: address %q has no host", s)
	}
	if !hasPort(rest) {
		port := "80"
		if t.TLS {
			port = "443"
		}
		if strings.HasPrefix(rest, "[") && strings.HasSuffix(rest, "]") {
			rest = rest[1 : len(rest)-1]
		}
		rest = net.JoinHostPort(rest, port)
	}
	host, port, err := net.SplitHostPort(rest)
	if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
		return Target{}, fmt.Errorf("grpc: address %q: want host:port, grpc://host:port or grpcs://host:port", s)
	}
	t.Addr = rest
	return t, nil
}

func hasPort(hostport string) bool {
	if strings.HasPrefix(hostport, "[") {
		return strings.Contains(hostport, "]:")
	}
	return strings.Contains(hostport, ":")
}

// Pool holds one client connection per target: one virtual user's. A
// user's calls reuse its connection as its HTTP requests reuse their
// keep-alive connection, so that N users are N connections to the
// server, as N real clients would be. It is safe for concurrent use.
type Pool struct {
	o     Options
	mu    sync.Mutex
	conns map[Target]*grpc.ClientConn
}

// NewPool makes an empty pool.
func NewPool(o Options) *Pool {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	return &Pool{o: o}
}

// Conn returns the pool's connection to t, making it on first use. The
// connection is made lazily: the first call's time includes connecting.
func (p *Pool) Conn(t Target) (*grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cc, ok := p.conns[t]; ok {
		return cc, nil
	}
	creds := insecure.NewCredentials()
	if t.TLS {
		cfg := &tls.Config{}
		if p.o.TLS != nil {
			cfg = p.o.TLS.Clone()
		}
		cfg.NextProtos = nil // gRPC's transport sets h2
		if t.Insecure {
			cfg.InsecureSkipVerify = true //nolint:gosec // the user's explicit choice
		}
		creds = credentials.NewTLS(cfg)
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.DefaultConfig, MinConnectTimeout: p.o.ConnectTimeout}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(p.o.MaxMessageBytes), grpc.ForceCodecV2(codec{})),
	}
	if p.o.UserAgent != "" {
		opts = append(opts, grpc.WithUserAgent(p.o.UserAgent))
	}
	// passthrough: the address is dialled as given, without a resolver
	// goroutine per connection.
	cc, err := grpc.NewClient("passthrough:///"+t.Addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("grpc: %s: %w", t.Addr, err)
	}
	if p.conns == nil {
		p.conns = map[Target]*grpc.ClientConn{}
	}
	p.conns[t] = cc
	return cc, nil
}

// Close closes every connection; calls in flight on them fail with
// CANCELED. The pool may be used again afterwards.
func (p *Pool) Close() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, cc := range conns {
		_ = cc.Close()
	}
}
