package httpx

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"syscall"
	"time"
)

// pconn is one keep-alive connection of a client.
type pconn struct {
	key    string          // target.key it serves
	nc     net.Conn        // what requests go over: TCP, or TLS on it
	tcp    net.Conn        // the TCP connection under nc
	rc     syscall.RawConn // nc's raw access for sendWait when nc is plain TCP (HTTP/1.1)
	https  bool
	reused bool // it has carried a request before
	idleAt time.Time
	// deadline is the one set on nc; guarded by the client's mu.
	deadline time.Time
}

func (pc *pconn) close() { _ = pc.nc.Close() }

// setDeadline makes the connection's deadline d, or leaves one that is at
// most slack later than d.
func (pc *pconn) setDeadline(d time.Time, slack time.Duration) error {
	if late := pc.deadline.Sub(d); late >= 0 && late <= slack {
		return nil
	}
	pc.deadline = d.Add(slack)
	return pc.nc.SetDeadline(pc.deadline)
}

// dial opens a connection to t, adding the time of each phase to tm: DNS
// (skipped for an IP address), TCP connect from the first address tried,
// TLS handshake. With h2 the TLS handshake offers HTTP/2 before HTTP/1.1
// (the caller reads the server's choice from the connection).
func (c *Client) dial(ctx context.Context, t *target, key string, insecure, h2 bool, tm *Timings) (*pconn, error) {
	f := c.f
	var ips []net.IPAddr
	if ip := net.ParseIP(t.name); ip != nil {
		ips = []net.IPAddr{{IP: ip}}
	} else {
		start := time.Now()
		var err error
		ips, err = f.resolver.LookupIPAddr(ctx, t.name)
		tm.DNS += time.Since(start)
		if err != nil {
			return nil, err
		}
		if len(ips) == 0 {
			return nil, &net.DNSError{Err: "no addresses", Name: t.name, IsNotFound: true}
		}
	}
	start := time.Now()
	var (
		nc  net.Conn
		err error
	)
	for _, ip := range ips {
		nc, err = f.dialer.DialContext(ctx, "tcp", net.JoinHostPort(ip.String(), t.port))
		if err == nil || ctx.Err() != nil {
			break
		}
	}
	tm.Connect += time.Since(start)
	if err != nil {
		return nil, err
	}
	pc := &pconn{key: key, nc: nc, tcp: nc, https: t.https}
	if !t.https {
		if !h2 {
			pc.rc = rawConnOf(nc)
		}
		return pc, nil
	}
	start = time.Now()
	cfg := f.tlsFor(t.name, h2)
	if insecure && !cfg.InsecureSkipVerify {
		cfg = cfg.Clone()
		cfg.InsecureSkipVerify = true //nolint:gosec // the script's explicit verify=False
	}
	tc := tls.Client(nc, cfg)
	hctx, cancel := context.WithTimeout(ctx, f.opts.ConnectTimeout)
	err = tc.HandshakeContext(hctx)
	cancel()
	tm.TLS += time.Since(start)
	if err != nil {
		_ = nc.Close()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = &tlsTimeoutError{}
		}
		return nil, err
	}
	pc.nc = tc
	return pc, nil
}

// tlsTimeoutError is a TLS handshake that ran out of ConnectTimeout.
type tlsTimeoutError struct{}

func (*tlsTimeoutError) Error() string   { return "tls: handshake timeout" }
func (*tlsTimeoutError) Timeout() bool   { return true }
func (*tlsTimeoutError) Temporary() bool { return true }

// tlsFor returns the TLS configuration for a server name: the factory's,
// with the name to verify and HTTP/1.1 as the only protocol, or with h2
// HTTP/2 first and HTTP/1.1 second.
func (f *Factory) tlsFor(name string, h2 bool) *tls.Config {
	key := name
	if h2 {
		key += "\x00h2"
	}
	if v, ok := f.tlsByName.Load(key); ok {
		return v.(*tls.Config)
	}
	cfg := f.tls.Clone()
	cfg.ServerName = name
	cfg.NextProtos = []string{"http/1.1"}
	if h2 {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	}
	if f.tlsCount.Add(1) <= maxTargets {
		f.tlsByName.Store(key, cfg)
	}
	return cfg
}
