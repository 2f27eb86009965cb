// Package wsx is horde's WebSocket client for load: one Conn per socket a
// virtual user opens, with bounded messages, timeouts on every wait, pings
// answered while the user does something else, and errors classified into
// short, groupable reasons as package httpx does for HTTP.
//
// It knows nothing of scripts or statistics: callers time what they need
// (the handshake, a round trip) and record it themselves.
package wsx

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Defaults applied to zero Options fields.
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultMaxMessageBytes  = 16 << 20
	// queued is how many received messages wait for the user before the
	// reader stops reading (and TCP pushes back on the server).
	queued = 16
	// closeWait bounds how long Close waits for the server's close frame.
	closeWait = time.Second
)

// Options configure one connection. The zero value is usable.
type Options struct {
	Header       http.Header
	Subprotocols []string
	// TLS is used for wss:// URLs; nil means the system's defaults.
	TLS *tls.Config
	// HandshakeTimeout bounds the TCP connect, TLS and the HTTP upgrade
	// together; 0 means DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// MaxMessageBytes is the largest message accepted; a larger one (even
	// one frame that only declares a larger size) closes the connection
	// with 1009 and ErrTooBig. 0 means DefaultMaxMessageBytes.
	MaxMessageBytes int64
}

// Handshake is what the upgrade returned.
type Handshake struct {
	Status      int // 101 on success; the refusal's status otherwise (0 if none came)
	Header      http.Header
	Subprotocol string
	Elapsed     time.Duration
	// Body is the start of a refused upgrade's response body.
	Body []byte
}

// Message is one message received.
type Message struct {
	Data   []byte
	Binary bool
	// At is when the reader had the whole message, for round-trip times.
	At time.Time
}

// Conn is one open WebSocket. Send, Recv and Close may be called from one
// goroutine at a time (a virtual user); Close may also be called from
// another to end a Recv (the user stopping).
type Conn struct {
	c      *websocket.Conn
	in     chan Message
	done   chan struct{} // closed when the reader ends
	err    error         // why the reader ended; read after done
	once   sync.Once
	closed chan struct{} // closed by Close
}

// Errors of Recv and Send; test with errors.Is.
var (
	// ErrTimeout is a Recv that waited its whole timeout.
	ErrTimeout = errors.New("timeout")
	// ErrTooBig is a message over Options.MaxMessageBytes.
	ErrTooBig = errors.New("message too big")
	// ErrClosed is an operation on a connection closed by Close.
	ErrClosed = errors.New("connection closed")
)

// Dial opens a WebSocket to url (ws:// or wss://). On failure the
// handshake tells what the server answered, if anything.
func Dial(ctx context.Context, url string, o Options) (*Conn, Handshake, error) {
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	d := websocket.Dialer{
		NetDialContext:   (&net.Dialer{}).DialContext,
		TLSClientConfig:  o.TLS,
		HandshakeTimeout: o.HandshakeTimeout,
		Subprotocols:     o.Subprotocols,
		ReadBufferSize:   4096,
		WriteBufferSize:  4096,
		// Proxy nil: a load test goes where it is told, as httpx does.
	}
	start := time.Now()
	c, resp, err := d.DialContext(ctx, url, o.Header)
	h := Handshake{Elapsed: time.Since(start)}
	if resp != nil {
		h.Status, h.Header = resp.StatusCode, resp.Header
		if err != nil && resp.Body != nil {
			h.Body = readSome(resp)
		}
	}
	if err != nil {
		return nil, h, err
	}
	h.Subprotocol = c.Subprotocol()
	c.SetReadLimit(o.MaxMessageBytes)
	conn := &Conn{c: c, in: make(chan Message, queued), done: make(chan struct{}), closed: make(chan struct{})}
	go conn.read()
	return conn, h, nil
}

func readSome(resp *http.Response) []byte {
	b := make([]byte, 512)
	n, _ := resp.Body.Read(b)
	return b[:n]
}

// read receives messages until the connection fails or closes. Control
// frames are handled inside ReadMessage: a ping is answered with a pong
// at once, even while the user sleeps.
func (c *Conn) read() {
	defer close(c.done)
	for {
		mt, data, err := c.c.ReadMessage()
		if err != nil {
			select {
			case <-c.closed:
				c.err = ErrClosed
			default:
				c.err = err
			}
			return
		}
		m := Message{Data: data, Binary: mt == websocket.BinaryMessage, At: time.Now()}
		select {
		case c.in <- m:
		case <-c.closed:
			c.err = ErrClosed
			return
		}
	}
}

// Recv returns the next message, waiting at most timeout (0: no limit
// but ctx). Its error is ErrTimeout when none came in time (the
// connection stays usable), ctx's error when ctx ended, else the reason
// the connection ended (see Reason); then the connection is over.
func (c *Conn) Recv(ctx context.Context, timeout time.Duration) (Message, error) {
	select { // a message already here wins over an end
	case m := <-c.in:
		return m, nil
	default:
	}
	var tc <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		tc = t.C
	}
	select {
	case m := <-c.in:
		return m, nil
	case <-c.done:
		select {
		case m := <-c.in:
			return m, nil
		default:
		}
		return Message{}, c.err
	case <-tc:
		return Message{}, ErrTimeout
	case <-ctx.Done():
		return Message{}, ctx.Err()
	}
}

// Send sends one message, text or binary, within timeout (0: no limit).
func (c *Conn) Send(data []byte, binary bool, timeout time.Duration) error {
	select {
	case <-c.closed:
		return ErrClosed
	default:
	}
	var dl time.Time
	if timeout > 0 {
		dl = time.Now().Add(timeout)
	}
	_ = c.c.SetWriteDeadline(dl) // fails only on a closed connection, which WriteMessage reports
	mt := websocket.TextMessage
	if binary {
		mt = websocket.BinaryMessage
	}
	return c.c.WriteMessage(mt, data)
}

// Pending is how many messages wait to be read by Recv.
func (c *Conn) Pending() int { return len(c.in) }

// Done is closed when the connection has ended (the server closed it, it
// failed, or Close was called).
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err is why the connection ended, once Done is closed.
func (c *Conn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Close sends a close frame with code and reason (code 0: 1000, normal
// closure), waits briefly for the server's, and closes the connection.
// It is safe to call more than once and from another goroutine.
func (c *Conn) Close(code int, reason string) {
	c.once.Do(func() {
		if code == 0 {
			code = websocket.CloseNormalClosure
		}
		select {
		case <-c.done: // already over: nothing to say
		default:
			msg := websocket.FormatCloseMessage(code, reason)
			if c.c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeWait)) == nil {
				t := time.NewTimer(closeWait)
				select {
				case <-c.done:
				case <-t.C:
				}
				t.Stop()
			}
		}
		close(c.closed)
		_ = c.c.Close()
		<-c.done
	})
}

// Abort closes the connection at once, without a close handshake: for a
// user that is being stopped.
func (c *Conn) Abort() {
	c.once.Do(func() {
		close(c.closed)
		_ = c.c.Close()
		<-c.done
	})
}

// CloseStatus is the code and reason of a close frame that ended the
// connection, if one did (ok false otherwise).
func CloseStatus(err error) (code int, reason string, ok bool) {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code, ce.Text, true
	}
	return 0, "", false
}

// Normal reports whether err is an orderly end: a close frame with 1000
// (normal closure) or 1001 (going away), or Close.
func Normal(err error) bool {
	if errors.Is(err, ErrClosed) {
		return true
	}
	code, _, ok := CloseStatus(err)
	return ok && (code == websocket.CloseNormalClosure || code == websocket.CloseGoingAway)
}

// Reason is a short, stable failure reason for err, fit to group
// failures by: "timeout", "connection refused", "HTTP 403 Forbidden",
// "message too big", "closed by server: 1011 internal error"...
func Reason(err error, h Handshake) string {
	var ne net.Error
	var oe *net.OpError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, websocket.ErrBadHandshake) && h.Status != 0:
		return fmt.Sprintf("upgrade refused: HTTP %d %s", h.Status, http.StatusText(h.Status))
	case errors.Is(err, websocket.ErrBadHandshake):
		return "bad handshake"
	case errors.Is(err, websocket.ErrReadLimit), errors.Is(err, ErrTooBig):
		return "message too big"
	case errors.Is(err, ErrClosed):
		return "connection closed"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	if code, text, ok := CloseStatus(err); ok {
		if code == websocket.CloseAbnormalClosure {
			return "connection lost (1006)"
		}
		if text != "" {
			return fmt.Sprintf("closed by server: %d %s", code, text)
		}
		return fmt.Sprintf("closed by server: %d", code)
	}
	if errors.As(err, &oe) {
		return opReason(oe)
	}
	var te tls.RecordHeaderError
	if errors.As(err, &te) {
		return "tls: not a TLS server"
	}
	if s := err.Error(); len(s) > 80 {
		return s[:80]
	}
	return err.Error()
}

// opReason names a network error by its cause.
func opReason(oe *net.OpError) string {
	s := oe.Err.Error()
	for _, k := range []string{"connection refused", "connection reset by peer", "broken pipe", "no such host",
		"network is unreachable", "i/o timeout"} {
		if strings.Contains(s, k) {
			if k == "i/o timeout" {
				return "timeout"
			}
			return k
		}
	}
	if oe.Op == "dial" {
		return "connect: " + s
	}
	return s
}
