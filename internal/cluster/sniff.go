package cluster

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"

	"google.golang.org/grpc/credentials"
)

// http2Preface is what every HTTP/2 (and so gRPC) client sends first.
const http2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// sniffCreds wraps the server's transport credentials to say, in the
// master's log, why a connection on the worker port was dropped: a failed
// TLS handshake, or bytes that are not HTTP/2 at all (a browser or curl
// pointed at the worker port, a port scanner). grpc-go drops such
// connections by itself without disturbing others, but only logs through
// its own global logger.
type sniffCreds struct {
	credentials.TransportCredentials
	log *slog.Logger
	tls bool
}

var _ credentials.TransportCredentials = (*sniffCreds)(nil)

// ServerHandshake runs the wrapped handshake and watches the first bytes
// that follow it.
func (c *sniffCreds) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	out, info, err := c.TransportCredentials.ServerHandshake(conn)
	if err != nil {
		if quietErr(err) {
			c.log.Debug("cluster: connection closed during the TLS handshake", "peer", conn.RemoteAddr().String())
		} else {
			c.log.Warn("cluster: TLS handshake failed on the worker port", "peer", conn.RemoteAddr().String(), "err", err)
		}
		return nil, nil, err
	}
	return &prefaceConn{Conn: out, log: c.log, tls: c.tls}, info, nil
}

// Clone returns a copy that still logs.
func (c *sniffCreds) Clone() credentials.TransportCredentials {
	return &sniffCreds{TransportCredentials: c.TransportCredentials.Clone(), log: c.log, tls: c.tls}
}

// quietErr reports errors that mean "the peer went away", not "the peer
// spoke something else": TCP health checks connect and close at once.
func quietErr(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF)
}

// prefaceConn checks that the first bytes read are the HTTP/2 preface and
// logs once when they are not. After that Read costs one comparison.
type prefaceConn struct {
	net.Conn
	log  *slog.Logger
	tls  bool
	seen int // preface bytes matched so far; -1 once decided
	head []byte
}

// Read reads from the connection and checks the preface on the way.
func (c *prefaceConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.seen >= 0 {
		c.check(p[:n], err)
	}
	return n, err
}

func (c *prefaceConn) check(b []byte, err error) {
	want := http2Preface[c.seen:]
	k := min(len(b), len(want))
	if len(c.head) < 32 {
		c.head = append(c.head, b[:min(len(b), 32-len(c.head))]...)
	}
	if string(b[:k]) != want[:k] {
		c.seen = -1
		c.log.Warn("cluster: not a horde worker on the worker port; connection dropped",
			"peer", c.RemoteAddr().String(), "first_bytes", string(c.head), "hint", c.hint())
		return
	}
	c.seen += k
	switch {
	case c.seen == len(http2Preface):
		c.seen, c.head = -1, nil
	case err != nil:
		c.seen = -1
		c.log.Debug("cluster: connection closed before the HTTP/2 preface", "peer", c.RemoteAddr().String(), "err", err)
	}
}

// hint guesses what the peer was, from its first bytes.
func (c *prefaceConn) hint() string {
	h := c.head
	for _, m := range []string{"GET ", "POST ", "HEAD ", "PUT ", "OPTIONS ", "DELETE ", "PATCH "} {
		if bytes.HasPrefix(h, []byte(m)) {
			return "an HTTP/1 request: the web UI and API are on the web port (8089), workers use this one"
		}
	}
	if !c.tls && len(h) > 1 && h[0] == 0x16 && h[1] == 0x03 {
		return "a TLS client: this master serves workers without TLS"
	}
	return "not HTTP/2 (gRPC)"
}
