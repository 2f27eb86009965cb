package script

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/horde-load/horde/internal/stats"
	"github.com/horde-load/horde/internal/wsx"
)

// WSMethod is the method of WebSocket rows in the statistics. A socket
// named N (its path by default) has the rows "N (connect)" (the
// handshake), "N (send)" (each message sent: the time to write it),
// "N (recv)" (each message received: the time waited for it), and one
// row per round-trip name the script gives to ws.recv(name=...): from the
// last send to that message.
const WSMethod = "WS"

// wsObj is what u.websocket returns: one open (or failed) WebSocket of
// one user.
type wsObj struct {
	st        *vuState
	conn      *wsx.Conn // nil when the upgrade failed
	name, url string
	hs        wsx.Handshake
	failure   string // why it failed or ended abnormally
	ended     bool   // closed, by either side
	closeCode int
	timeout   time.Duration
	lastSend  time.Time
}

var _ starlark.HasAttrs = (*wsObj)(nil)

func (w *wsObj) String() string        { return fmt.Sprintf("<websocket %s>", w.url) }
func (w *wsObj) Type() string          { return "websocket" }
func (w *wsObj) Truth() starlark.Bool  { return starlark.Bool(w.conn != nil && !w.ended) }
func (w *wsObj) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: websocket") }

// Freeze does nothing: a socket belongs to one user.
func (w *wsObj) Freeze() {}

// AttrNames implements starlark.HasAttrs.
func (w *wsObj) AttrNames() []string {
	return []string{"close", "close_code", "closed", "connect_ms", "error", "headers", "ok", "recv", "send",
		"status", "subprotocol", "url"}
}

// Attr implements starlark.HasAttrs.
func (w *wsObj) Attr(name string) (starlark.Value, error) {
	switch name {
	case "ok":
		return starlark.Bool(w.conn != nil), nil
	case "error":
		if w.failure == "" {
			return starlark.None, nil
		}
		return starlark.String(w.failure), nil
	case "status":
		return starlark.MakeInt(w.hs.Status), nil
	case "headers":
		return stringsDict(w.hs.Header), nil
	case "subprotocol":
		return starlark.String(w.hs.Subprotocol), nil
	case "url":
		return starlark.String(w.url), nil
	case "connect_ms":
		return elapsedMS(w.hs.Elapsed), nil
	case "closed":
		w.noticeEnd()
		return starlark.Bool(w.conn == nil || w.ended), nil
	case "close_code":
		w.noticeEnd()
		if w.closeCode == 0 {
			return starlark.None, nil
		}
		return starlark.MakeInt(w.closeCode), nil
	case "send":
		return starlark.NewBuiltin("send", wsSend).BindReceiver(w), nil
	case "recv":
		return starlark.NewBuiltin("recv", wsRecv).BindReceiver(w), nil
	case "close":
		return starlark.NewBuiltin("close", wsClose).BindReceiver(w), nil
	}
	return nil, nil
}

// noticeEnd ends the socket if its reader has stopped (the server closed
// it, or it failed) and no message is left to read; an abnormal end is
// recorded as a failure under "(recv)".
func (w *wsObj) noticeEnd() {
	if w.conn == nil || w.ended {
		return
	}
	select {
	case <-w.conn.Done():
		if w.conn.Pending() == 0 {
			if r := w.finish(w.conn.Err()); r != "" {
				w.st.record(stats.Sample{Key: w.key("recv"), Err: r})
			}
		}
	default:
	}
}

// finish marks the socket over because of err (nil: closed by the
// script) and returns the failure reason, "" for an orderly end.
func (w *wsObj) finish(err error) string {
	w.ended = true
	if code, _, ok := wsx.CloseStatus(err); ok {
		w.closeCode = code
	}
	w.st.connSet().dropWS(w)
	if err == nil || wsx.Normal(err) {
		return ""
	}
	w.failure = wsx.Reason(err, w.hs)
	return w.failure
}

func (w *wsObj) key(suffix string) stats.Key {
	if suffix == "" {
		return stats.Key{Method: WSMethod, Name: w.name}
	}
	return stats.Key{Method: WSMethod, Name: w.name + " (" + suffix + ")"}
}

// usable fails a call on a socket that is not open.
func (w *wsObj) usable(fn string) error {
	if w.conn == nil {
		return fmt.Errorf("%s: websocket %s is not open: %s (check ws.ok after u.websocket)", fn, w.name, w.failure)
	}
	if w.ended {
		why := "it was closed"
		if w.failure != "" {
			why = w.failure
		}
		return fmt.Errorf("%s: websocket %s is closed: %s (check ws.closed)", fn, w.name, why)
	}
	return nil
}

// userWebSocket implements u.websocket(url, headers=None,
// subprotocols=None, name=None, timeout=None, verify=None): the handshake
// is recorded as "NAME (connect)"; a refused upgrade is a failure, and
// the socket returned has ok False.
func userWebSocket(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	u := b.Receiver().(*userObj)
	st := u.st
	var raw, name string
	var headers, subprotocols, timeout, verify starlark.Value = starlark.None, starlark.None, starlark.None, starlark.None
	if err := starlark.UnpackArgs("websocket", args, kwargs, "url", &raw, "headers?", &headers,
		"subprotocols?", &subprotocols, "name?", &name, "timeout?", &timeout, "verify?", &verify); err != nil {
		return nil, err
	}
	def := st.defaults()
	o := wsx.Options{HandshakeTimeout: def.connect, TLS: def.tls}
	h, err := st.session.headersFor("websocket", headers)
	if err != nil {
		return nil, err
	}
	if h == nil {
		h = http.Header{}
	}
	if h.Get("User-Agent") == "" {
		h.Set("User-Agent", def.userAgent)
	}
	if !isNone(subprotocols) {
		if o.Subprotocols, err = stringList("websocket", "subprotocols", subprotocols); err != nil {
			return nil, err
		}
	}
	to, err := timeoutArg("websocket", timeout, def.timeout)
	if err != nil {
		return nil, err
	}
	skip, err := st.session.insecure("websocket", verify)
	if err != nil {
		return nil, err
	}
	if skip {
		if o.TLS != nil {
			o.TLS = o.TLS.Clone()
			o.TLS.InsecureSkipVerify = true
		} else {
			o.TLS = insecureTLS()
		}
	}
	full, err := wsURL(u.host(), raw)
	if err != nil {
		return nil, fmt.Errorf("websocket: %w", err)
	}
	if c := st.vu.HTTP; c != nil && h.Get("Cookie") == "" {
		if cks := c.Cookies(httpURL(full)); len(cks) > 0 {
			parts := make([]string, len(cks))
			for i, ck := range cks {
				parts[i] = ck.Name + "=" + ck.Value
			}
			h.Set("Cookie", strings.Join(parts, "; "))
		}
	}
	o.Header = h
	if name == "" {
		name = nameOf(raw)
	}
	st.flush()
	w := &wsObj{st: st, name: name, url: full, timeout: to}
	conn, hs, err := wsx.Dial(st.ctx, full, o)
	w.hs = hs
	if err != nil && st.ctx.Err() != nil {
		return nil, stopped(st.ctx.Err()) // the user is stopping: not a measurement
	}
	s := stats.Sample{Key: w.key("connect"), Latency: hs.Elapsed}
	if err != nil {
		w.failure = wsx.Reason(err, hs)
		s.Err = w.failure
	} else {
		w.conn = conn
		cs := st.connSet()
		cs.addWS(w)
		cs.watch(st.ctx, def.drain)
	}
	st.record(s)
	return w, nil
}

// wsSend implements ws.send(data): a string is sent as a text message,
// bytes as a binary one; recorded as "NAME (send)".
func wsSend(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	w := b.Receiver().(*wsObj)
	var data starlark.Value
	if err := starlark.UnpackArgs("send", args, kwargs, "data", &data); err != nil {
		return nil, err
	}
	var msg []byte
	var binary bool
	switch d := data.(type) {
	case starlark.String:
		msg = []byte(string(d))
	case starlark.Bytes:
		msg, binary = []byte(string(d)), true
	default:
		return nil, fmt.Errorf("send: data must be a string (text) or bytes (binary), got %s", data.Type())
	}
	if err := w.usable("send"); err != nil {
		return nil, err
	}
	start := time.Now()
	w.lastSend = start
	err := w.conn.Send(msg, binary, w.timeout)
	if err == nil {
		w.st.record(stats.Sample{Key: w.key("send"), Latency: time.Since(start), Bytes: int64(len(msg))})
		return starlark.None, nil
	}
	if w.st.ctx.Err() != nil {
		return nil, stopped(w.st.ctx.Err())
	}
	if end := w.conn.Err(); end != nil {
		err = end // the server had ended it: that is why
	}
	w.conn.Abort()
	reason := w.finish(err)
	if reason == "" {
		reason = "connection closed"
	}
	w.st.record(stats.Sample{Key: w.key("send"), Latency: time.Since(start), Err: reason})
	return starlark.None, nil
}

// wsRecv implements ws.recv(timeout=None, name=None): the next message (a
// string for text, bytes for binary), or None when none came within the
// timeout (a failure) or the server closed the socket (a failure unless
// it closed normally). Recorded as "NAME (recv)", or with name= as that
// round trip, timed from the last send.
func wsRecv(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	w := b.Receiver().(*wsObj)
	var timeout starlark.Value = starlark.None
	var name string
	if err := starlark.UnpackArgs("recv", args, kwargs, "timeout?", &timeout, "name?", &name); err != nil {
		return nil, err
	}
	to, err := timeoutArg("recv", timeout, w.timeout)
	if err != nil {
		return nil, err
	}
	if err := w.usable("recv"); err != nil {
		return nil, err
	}
	st := w.st
	key := w.key("recv")
	if name != "" {
		key = stats.Key{Method: WSMethod, Name: name}
	}
	start := time.Now()
	m, err := w.conn.Recv(st.ctx, to)
	if err != nil && st.ctx.Err() != nil {
		return nil, stopped(st.ctx.Err())
	}
	from := start
	if name != "" && !w.lastSend.IsZero() {
		from = w.lastSend
	}
	switch {
	case err == nil:
		st.record(stats.Sample{Key: key, Latency: m.At.Sub(from), Bytes: int64(len(m.Data))})
		if m.Binary {
			return starlark.Bytes(m.Data), nil
		}
		return starlark.String(m.Data), nil
	case errors.Is(err, wsx.ErrTimeout):
		st.record(stats.Sample{Key: key, Latency: time.Since(from), Err: "timeout"})
		return starlark.None, nil
	}
	if r := w.finish(err); r != "" {
		st.record(stats.Sample{Key: key, Latency: time.Since(from), Err: r})
	}
	return starlark.None, nil
}

// wsClose implements ws.close(code=1000, reason=""): a close handshake,
// then the connection ends. Closing twice does nothing.
func wsClose(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	w := b.Receiver().(*wsObj)
	code := 1000
	var reason string
	if err := starlark.UnpackArgs("close", args, kwargs, "code?", &code, "reason?", &reason); err != nil {
		return nil, err
	}
	if code != 1000 && (code < 3000 || code > 4999) {
		return nil, fmt.Errorf("close: code must be 1000 or 3000..4999, got %d", code)
	}
	if w.conn == nil || w.ended {
		return starlark.None, nil
	}
	w.conn.Close(code, reason)
	w.finish(nil)
	w.closeCode = code
	return starlark.None, nil
}

// wsURL resolves a socket's URL: ws:// and wss:// as given, http(s) URLs
// as ws(s), and paths against the user's host.
func wsURL(host, raw string) (string, error) {
	switch {
	case strings.HasPrefix(raw, "ws://"), strings.HasPrefix(raw, "wss://"):
		return raw, nil
	case strings.HasPrefix(raw, "http://"), strings.HasPrefix(raw, "https://"):
		return "ws" + strings.TrimPrefix(raw, "http"), nil
	case strings.Contains(raw, "://"):
		return "", fmt.Errorf("url %q: want ws://, wss:// or a path", raw)
	}
	if host == "" {
		return "", fmt.Errorf("url %q is a path and the user has no host: give ws://host/path or -H", raw)
	}
	base, err := url.Parse(host)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") {
		return "", fmt.Errorf("the user's host %q is not an http:// or https:// URL", host)
	}
	if !strings.HasPrefix(raw, "/") {
		raw = "/" + raw
	}
	return "ws" + strings.TrimPrefix(strings.TrimRight(host, "/")+raw, "http"), nil
}

// httpURL is the http(s) URL of a ws(s) URL, for the cookie jar.
func httpURL(ws string) string { return "http" + strings.TrimPrefix(ws, "ws") }
