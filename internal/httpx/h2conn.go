package httpx

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// An HTTP/2 client connection for one user, over x/net/http2's Framer
// and hpack. Requests write their frames on the caller's goroutine; one
// read loop per connection reads the server's frames and hands each
// stream its headers and data. That is one goroutine hand-off per
// response, where x/net's ClientConn adds a goroutine per request and
// several channel hand-offs between them: 0.28 × h2load's rate over TLS
// on one core, against 0.78 × here (docs/performance.md).

// Settings horde sends, and what it assumes of the server until the
// server's SETTINGS arrive.
const (
	h2StreamWindow   = 4 << 20 // receive window of each stream
	h2ConnWindow     = 1 << 30 // receive window of the connection
	h2MaxReadFrame   = 1 << 20
	h2InitialStreams = 100 // before the server's SETTINGS_MAX_CONCURRENT_STREAMS
	h2DefaultWindow  = 65535
	h2DefaultFrame   = 16384
)

var (
	// errH2Unusable is a connection that can take no new stream (closed,
	// or going away): the request was not sent.
	errH2Unusable = errors.New("http2: connection not usable")
	// errH2GoneAway is a stream the server will not process: its
	// connection's GOAWAY named an older last stream.
	errH2GoneAway = errors.New("http2: server sent GOAWAY before processing the request")
)

// h2cc is one HTTP/2 connection.
type h2cc struct {
	nc      net.Conn
	timeout time.Duration // bounds a write, as Options.Timeout

	wmu       sync.Mutex // guards the write side
	bw        *bufio.Writer
	fr        *http2.Framer // its reads belong to the read loop
	henc      *hpack.Encoder
	hbuf      bytes.Buffer
	wdeadline time.Time

	mu          sync.Mutex
	streams     map[uint32]*h2stream
	reserved    int // slots taken by requests about to open a stream
	slotWaiters []chan struct{}
	nextID      uint32
	maxStreams  int
	sendWindow  int64 // the server's window for the connection
	initWindow  int64 // the server's initial window for a stream
	maxFrame    int
	connUnacked int   // bytes read and not yet given back in a WINDOW_UPDATE
	err         error // why the connection ended; no new streams
	goAway      bool
	doNotReuse  bool
	lastUsed    time.Time
	done        chan struct{} // the read loop ended
}

// h2stream is one request and its response.
type h2stream struct {
	cc     *h2cc
	id     uint32
	notify chan struct{} // a hand-off from the read loop, or a window to send in
	// Guarded by cc.mu:
	sendWindow  int64
	gotHead     bool
	resp        h2head
	data        []byte // received, not yet read
	ended       bool   // END_STREAM received
	err         error
	unacked     int // bytes read and not yet given back
	closed      bool
	noReset     bool // a RST_STREAM went one way or the other already
	wantsHeader bool // keep every response header (not only those the client acts on)
}

// h2head is a response's status and the headers the client acts on.
type h2head struct {
	status     int
	raw        []byte // all of them as HTTP/1.1 header lines, when the request keeps them
	length     int64  // -1: not given
	gzip       bool
	location   string
	setCookies []string
}

// newH2CC starts HTTP/2 on nc: the preface and settings go out at once;
// the server's come to the read loop.
func newH2CC(nc net.Conn, timeout time.Duration) (*h2cc, error) {
	cc := &h2cc{
		nc: nc, timeout: timeout,
		streams: make(map[uint32]*h2stream), nextID: 1,
		maxStreams: h2InitialStreams, sendWindow: h2DefaultWindow, initWindow: h2DefaultWindow, maxFrame: h2DefaultFrame,
		lastUsed: time.Now(), done: make(chan struct{}),
	}
	cc.bw = bufio.NewWriterSize(nc, 16<<10)
	cc.fr = http2.NewFramer(cc.bw, bufio.NewReaderSize(nc, 16<<10))
	cc.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	cc.fr.MaxHeaderListSize = maxHeadBytes
	cc.fr.SetMaxReadFrameSize(h2MaxReadFrame)
	cc.fr.SetReuseFrames()
	cc.henc = hpack.NewEncoder(&cc.hbuf)
	cc.wmu.Lock()
	cc.setWriteDeadline()
	_, err := cc.bw.WriteString(http2.ClientPreface)
	if err == nil {
		err = cc.fr.WriteSettings(
			http2.Setting{ID: http2.SettingEnablePush, Val: 0},
			http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2StreamWindow},
			http2.Setting{ID: http2.SettingMaxFrameSize, Val: h2MaxReadFrame},
			http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: maxHeadBytes},
		)
	}
	if err == nil {
		err = cc.fr.WriteWindowUpdate(0, h2ConnWindow-h2DefaultWindow)
	}
	if err == nil {
		err = cc.bw.Flush()
	}
	cc.wmu.Unlock()
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	go cc.readLoop()
	return cc, nil
}

// setWriteDeadline bounds the writes to come by the timeout, moving the
// connection's deadline only once a quarter of it has passed. Under wmu.
func (cc *h2cc) setWriteDeadline() {
	if cc.timeout <= 0 {
		return
	}
	now := time.Now()
	if cc.wdeadline.Sub(now) > cc.timeout*3/4 {
		return
	}
	cc.wdeadline = now.Add(cc.timeout)
	_ = cc.nc.SetWriteDeadline(cc.wdeadline)
}

// usable reports whether a new request may go on the connection.
func (cc *h2cc) usable() bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.err == nil && !cc.goAway && !cc.doNotReuse && cc.nextID < 1<<31-2 &&
		time.Since(cc.lastUsed) < idleConnTimeout
}

// reused reports whether a request went on the connection before.
func (cc *h2cc) reused() bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.nextID > 1
}

// closeWhenIdle closes the connection now, or when its last stream ends.
func (cc *h2cc) closeWhenIdle() {
	cc.mu.Lock()
	cc.doNotReuse = true
	idle := len(cc.streams) == 0 && cc.reserved == 0
	cc.mu.Unlock()
	if idle {
		cc.close()
	}
}

func (cc *h2cc) close() { _ = cc.nc.Close() }

// h2request is what roundTrip sends: the caller's header (checked, and
// sent without the fields HTTP/2 forbids), then the jar's cookie (after
// the caller's own Cookie), a User-Agent and an Authorization when set.
type h2request struct {
	method, scheme, authority, path string
	header                          http.Header
	cookie, userAgent, auth         string
	body                            []byte
	gzip                            bool // ask for gzip
	keepHeader                      bool
}

// roundTrip opens a stream for r, sends it and waits for the response's
// headers, or for ctx to end (the stream is then reset). The caller reads
// the body from the stream and closes it.
func (cc *h2cc) roundTrip(ctx context.Context, r *h2request) (*h2stream, error) {
	if err := cc.reserve(ctx); err != nil {
		return nil, err
	}
	st := &h2stream{cc: cc, notify: make(chan struct{}, 1), wantsHeader: r.keepHeader}
	if err := cc.writeHeaders(st, r); err != nil {
		st.close()
		return nil, err
	}
	if len(r.body) > 0 {
		if err := st.writeBody(ctx, r.body); err != nil {
			st.close()
			return nil, err
		}
	}
	if err := st.await(ctx, func() bool { return st.gotHead }); err != nil {
		st.close()
		return nil, err
	}
	return st, nil
}

// reserve takes a stream slot, waiting for one while the server's limit
// of concurrent streams is reached.
func (cc *h2cc) reserve(ctx context.Context) error {
	for {
		cc.mu.Lock()
		switch {
		case cc.err != nil, cc.goAway:
			cc.mu.Unlock()
			return errH2Unusable
		case len(cc.streams)+cc.reserved < cc.maxStreams:
			cc.reserved++
			cc.lastUsed = time.Now()
			cc.mu.Unlock()
			return nil
		}
		ch := make(chan struct{}, 1)
		cc.slotWaiters = append(cc.slotWaiters, ch)
		cc.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			cc.mu.Lock()
			for i, w := range cc.slotWaiters {
				if w == ch {
					cc.slotWaiters = append(cc.slotWaiters[:i], cc.slotWaiters[i+1:]...)
					break
				}
			}
			cc.mu.Unlock()
			select {
			case <-ch:
				cc.wakeSlotWaiter() // it was handed a slot: pass it on
			default:
			}
			return ctx.Err()
		}
	}
}

// wakeSlotWaiter tells the first request waiting for a stream slot to
// look again.
func (cc *h2cc) wakeSlotWaiter() {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.wakeSlotWaiterLocked()
}

func (cc *h2cc) wakeSlotWaiterLocked() {
	if len(cc.slotWaiters) > 0 {
		ch := cc.slotWaiters[0]
		cc.slotWaiters = cc.slotWaiters[1:]
		ch <- struct{}{}
	}
}

// writeHeaders opens st: its ID is taken under the write lock, so that
// streams open on the wire in the order of their IDs.
func (cc *h2cc) writeHeaders(st *h2stream, r *h2request) error {
	cc.wmu.Lock()
	defer cc.wmu.Unlock()
	cc.hbuf.Reset()
	enc := func(k, v string) { _ = cc.henc.WriteField(hpack.HeaderField{Name: k, Value: v}) } // into a bytes.Buffer: no error
	enc(":method", r.method)
	enc(":scheme", r.scheme)
	enc(":authority", r.authority)
	enc(":path", r.path)
	cookie := r.cookie
	for k, vs := range r.header {
		if h2Skipped(k) {
			continue
		}
		lk := lowerHeader(k)
		for i, v := range vs {
			if cookie != "" && i == len(vs)-1 && lk == "cookie" {
				v, cookie = v+"; "+cookie, "" // one Cookie: the script's, then the jar's
			}
			enc(lk, v)
		}
	}
	if r.userAgent != "" {
		enc("user-agent", r.userAgent)
	}
	if cookie != "" {
		enc("cookie", cookie)
	}
	if r.auth != "" {
		enc("authorization", r.auth)
	}
	if r.gzip {
		enc("accept-encoding", "gzip")
	}
	if len(r.body) > 0 || sendsZeroLength(r.method) {
		enc("content-length", strconv.Itoa(len(r.body)))
	}
	block := cc.hbuf.Bytes()

	cc.mu.Lock()
	if cc.err != nil || cc.goAway {
		cc.reserved--
		cc.wakeSlotWaiterLocked()
		cc.mu.Unlock()
		return errH2Unusable
	}
	st.id = cc.nextID
	cc.nextID += 2
	st.sendWindow = cc.initWindow
	cc.reserved--
	cc.streams[st.id] = st
	maxFrame := cc.maxFrame
	cc.mu.Unlock()

	cc.setWriteDeadline()
	endStream := len(r.body) == 0
	first := true
	for first || len(block) > 0 {
		chunk := block
		if len(chunk) > maxFrame {
			chunk = chunk[:maxFrame]
		}
		block = block[len(chunk):]
		var err error
		if first {
			err = cc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: st.id, BlockFragment: chunk,
				EndStream: endStream, EndHeaders: len(block) == 0})
			first = false
		} else {
			err = cc.fr.WriteContinuation(st.id, len(block) == 0, chunk)
		}
		if err != nil {
			return cc.writeFailed(err)
		}
	}
	if !endStream && len(r.body) <= maxFrame && int64(len(r.body)) <= st.windowFor() {
		// A small body goes out in the same write as the headers.
		if err := cc.fr.WriteData(st.id, true, r.body); err != nil {
			return cc.writeFailed(err)
		}
		st.sent(len(r.body))
		r.body = nil
	}
	if err := cc.bw.Flush(); err != nil {
		return cc.writeFailed(err)
	}
	return nil
}

// writeFailed ends the connection after a failed write: the stream state
// of both sides is unknown. Under wmu.
func (cc *h2cc) writeFailed(err error) error {
	cc.fail(err)
	return err
}

// windowFor is how much of a body st may send now.
func (st *h2stream) windowFor() int64 {
	cc := st.cc
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return min(st.sendWindow, cc.sendWindow)
}

func (st *h2stream) sent(n int) {
	cc := st.cc
	cc.mu.Lock()
	st.sendWindow -= int64(n)
	cc.sendWindow -= int64(n)
	cc.mu.Unlock()
}

// writeBody sends a body in DATA frames as the server's windows allow.
func (st *h2stream) writeBody(ctx context.Context, body []byte) error {
	cc := st.cc
	for len(body) > 0 {
		var n int64
		if err := st.await(ctx, func() bool {
			if st.err != nil {
				return false
			}
			n = min(st.sendWindow, cc.sendWindow, int64(cc.maxFrame), int64(len(body)))
			if n > 0 { // taken now, under the lock
				st.sendWindow -= n
				cc.sendWindow -= n
			}
			return n > 0 || st.ended
		}); err != nil {
			return err
		}
		if n <= 0 { // the server ended the stream before the whole body was sent
			return nil
		}
		cc.wmu.Lock()
		cc.setWriteDeadline()
		err := cc.fr.WriteData(st.id, int(n) == len(body), body[:n])
		if err == nil {
			err = cc.bw.Flush()
		}
		cc.wmu.Unlock()
		if err != nil {
			cc.fail(err)
			return err
		}
		body = body[n:]
	}
	return nil
}

// await waits until cond (called under cc.mu) holds, st fails, or ctx
// ends.
func (st *h2stream) await(ctx context.Context, cond func() bool) error {
	cc := st.cc
	for {
		cc.mu.Lock()
		if cond() {
			cc.mu.Unlock()
			return nil
		}
		if err := st.err; err != nil {
			cc.mu.Unlock()
			return err
		}
		cc.mu.Unlock()
		select {
		case <-st.notify:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// wake hands st a change. Under cc.mu.
func (st *h2stream) wake() {
	select {
	case st.notify <- struct{}{}:
	default:
	}
}

// read reads st's response body, waiting for data under ctx.
func (st *h2stream) read(ctx context.Context, p []byte) (int, error) {
	cc := st.cc
	for {
		cc.mu.Lock()
		if len(st.data) > 0 {
			n := copy(p, st.data)
			st.data = st.data[n:]
			st.unacked += n
			cc.connUnacked += n
			var streamInc, connInc int
			if !st.ended && st.unacked >= h2StreamWindow/2 {
				streamInc, st.unacked = st.unacked, 0
			}
			if cc.connUnacked >= h2ConnWindow/2 {
				connInc, cc.connUnacked = cc.connUnacked, 0
			}
			cc.mu.Unlock()
			if streamInc > 0 || connInc > 0 {
				cc.windowUpdate(st.id, streamInc, connInc)
			}
			return n, nil
		}
		switch {
		case st.err != nil:
			err := st.err
			cc.mu.Unlock()
			return 0, err
		case st.ended:
			cc.mu.Unlock()
			return 0, io.EOF
		}
		cc.mu.Unlock()
		select {
		case <-st.notify:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// windowUpdate gives back what was read.
func (cc *h2cc) windowUpdate(id uint32, stream, conn int) {
	cc.wmu.Lock()
	defer cc.wmu.Unlock()
	cc.setWriteDeadline()
	var err error
	if stream > 0 {
		err = cc.fr.WriteWindowUpdate(id, uint32(stream))
	}
	if conn > 0 && err == nil {
		err = cc.fr.WriteWindowUpdate(0, uint32(conn))
	}
	if err == nil {
		err = cc.bw.Flush()
	}
	if err != nil {
		cc.fail(err)
	}
}

// close ends st: a stream the server has not ended is reset (CANCEL),
// and its slot goes to a request waiting for one.
func (st *h2stream) close() {
	cc := st.cc
	cc.mu.Lock()
	if st.closed {
		cc.mu.Unlock()
		return
	}
	st.closed = true
	opened := st.id != 0 && cc.streams[st.id] == st
	if opened {
		delete(cc.streams, st.id)
	}
	reset := opened && !st.ended && !st.noReset && cc.err == nil
	conn := 0
	if n := len(st.data); n > 0 { // never read: the connection's window still counts it
		cc.connUnacked += n
		st.data = nil
	}
	if cc.connUnacked >= h2ConnWindow/2 {
		conn, cc.connUnacked = cc.connUnacked, 0
	}
	cc.wakeSlotWaiterLocked()
	idle := (cc.doNotReuse || cc.goAway) && len(cc.streams) == 0 && cc.reserved == 0
	cc.mu.Unlock()
	if reset {
		cc.wmu.Lock()
		cc.setWriteDeadline()
		err := cc.fr.WriteRSTStream(st.id, http2.ErrCodeCancel)
		if err == nil {
			err = cc.bw.Flush()
		}
		cc.wmu.Unlock()
		if err != nil {
			cc.fail(err)
		}
	}
	if conn > 0 {
		cc.windowUpdate(0, 0, conn)
	}
	if idle {
		cc.close()
	}
}

// fail ends the connection: every stream not yet ended fails with err.
func (cc *h2cc) fail(err error) {
	cc.mu.Lock()
	if cc.err == nil {
		cc.err = err
	}
	for _, st := range cc.streams {
		if st.err == nil && !st.ended {
			st.err = err
		}
		st.wake()
	}
	for _, ch := range cc.slotWaiters {
		ch <- struct{}{}
	}
	cc.slotWaiters = nil
	cc.mu.Unlock()
	cc.close()
}

// errH2Internal is a bug of horde's met while reading a server's frames:
// that connection fails with it rather than the process.
var errH2Internal = errors.New("http2: internal error")

// readLoop reads the server's frames until the connection ends.
func (cc *h2cc) readLoop() {
	defer close(cc.done)
	defer func() {
		if p := recover(); p != nil {
			cc.fail(fmt.Errorf("%w: %v", errH2Internal, p))
		}
	}()
	first := true
	for {
		f, err := cc.fr.ReadFrame()
		if err != nil {
			var se http2.StreamError
			if errors.As(err, &se) {
				cc.streamError(se)
				continue
			}
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			cc.fail(err)
			return
		}
		if first {
			if _, ok := f.(*http2.SettingsFrame); !ok {
				cc.fail(http2.ConnectionError(http2.ErrCodeProtocol))
				return
			}
			first = false
		}
		if err := cc.process(f); err != nil {
			cc.fail(err)
			return
		}
	}
}

// process handles one frame of the server.
func (cc *h2cc) process(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.MetaHeadersFrame:
		cc.onHeaders(f)
	case *http2.DataFrame:
		cc.onData(f)
	case *http2.RSTStreamFrame:
		cc.mu.Lock()
		if st := cc.streams[f.StreamID]; st != nil && !st.ended && st.err == nil {
			st.err = http2.StreamError{StreamID: f.StreamID, Code: f.ErrCode}
			st.noReset = true
			st.wake()
		}
		cc.mu.Unlock()
	case *http2.SettingsFrame:
		if f.IsAck() {
			return nil
		}
		if err := cc.onSettings(f); err != nil {
			return err
		}
		cc.wmu.Lock()
		cc.setWriteDeadline()
		err := cc.fr.WriteSettingsAck()
		if err == nil {
			err = cc.bw.Flush()
		}
		cc.wmu.Unlock()
		return err
	case *http2.PingFrame:
		if f.IsAck() {
			return nil
		}
		cc.wmu.Lock()
		cc.setWriteDeadline()
		err := cc.fr.WritePing(true, f.Data)
		if err == nil {
			err = cc.bw.Flush()
		}
		cc.wmu.Unlock()
		return err
	case *http2.WindowUpdateFrame:
		cc.mu.Lock()
		defer cc.mu.Unlock()
		if f.StreamID == 0 {
			cc.sendWindow += int64(f.Increment)
			for _, st := range cc.streams {
				st.wake()
			}
		} else if st := cc.streams[f.StreamID]; st != nil {
			st.sendWindow += int64(f.Increment)
			st.wake()
		}
	case *http2.GoAwayFrame:
		cc.mu.Lock()
		cc.goAway = true
		for id, st := range cc.streams {
			if id > f.LastStreamID && st.err == nil && !st.ended {
				st.err = errH2GoneAway // never processed: may be sent again
				st.wake()
			}
		}
		cc.mu.Unlock()
	case *http2.PushPromiseFrame:
		return http2.ConnectionError(http2.ErrCodeProtocol) // push is off
	}
	return nil
}

func (cc *h2cc) onSettings(f *http2.SettingsFrame) error {
	table := int64(-1)
	defer func() { // under wmu, never under mu (writeHeaders takes them in that order)
		if table >= 0 {
			cc.wmu.Lock()
			cc.henc.SetMaxDynamicTableSize(uint32(min(table, 4096)))
			cc.wmu.Unlock()
		}
	}()
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if _, ok := f.Value(http2.SettingMaxConcurrentStreams); !ok && cc.maxStreams == h2InitialStreams {
		cc.maxStreams = 1000 // no limit said: a generous one
	}
	return f.ForeachSetting(func(s http2.Setting) error {
		switch s.ID {
		case http2.SettingMaxConcurrentStreams:
			cc.maxStreams = int(s.Val)
			for range s.Val {
				if len(cc.slotWaiters) == 0 {
					break
				}
				cc.wakeSlotWaiterLocked()
			}
		case http2.SettingInitialWindowSize:
			delta := int64(s.Val) - cc.initWindow
			cc.initWindow = int64(s.Val)
			for _, st := range cc.streams {
				st.sendWindow += delta
				st.wake()
			}
		case http2.SettingMaxFrameSize:
			cc.maxFrame = int(s.Val)
		case http2.SettingHeaderTableSize:
			table = int64(s.Val)
		}
		return nil
	})
}

// streamError resets a stream whose frames the framer refused.
func (cc *h2cc) streamError(se http2.StreamError) {
	cc.mu.Lock()
	st := cc.streams[se.StreamID]
	if st != nil && st.err == nil {
		st.err = se
		st.noReset = true
		st.wake()
	}
	cc.mu.Unlock()
	cc.wmu.Lock()
	cc.setWriteDeadline()
	err := cc.fr.WriteRSTStream(se.StreamID, se.Code)
	if err == nil {
		err = cc.bw.Flush()
	}
	cc.wmu.Unlock()
	if err != nil {
		cc.fail(err)
	}
}

func (cc *h2cc) onHeaders(f *http2.MetaHeadersFrame) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	st := cc.streams[f.StreamID]
	if st == nil || st.err != nil {
		return
	}
	if f.Truncated {
		st.err = malformed("server response headers exceeded %d bytes", maxHeadBytes)
		st.wake()
		return
	}
	if !st.gotHead {
		status, err := strconv.Atoi(f.PseudoValue("status"))
		switch {
		case err != nil || status < 100 || status > 999 || status == http.StatusSwitchingProtocols:
			st.err = malformed("malformed HTTP status code %q", clip([]byte(f.PseudoValue("status"))))
			st.wake()
			return
		case status < 200:
			return // informational: the response follows
		}
		st.resp = readH2Head(f, status, st.wantsHeader)
		st.gotHead = true
	}
	if f.StreamEnded() {
		st.ended = true
	}
	st.wake()
}

// readH2Head picks out what the client acts on from a response's
// headers, and keeps them all when asked.
func readH2Head(f *http2.MetaHeadersFrame, status int, keep bool) h2head {
	h := h2head{status: status, length: -1}
	for _, hf := range f.Fields {
		if hf.IsPseudo() {
			continue
		}
		if keep { // parsed by Response.Headers when a script looks
			h.raw = append(append(append(append(h.raw, hf.Name...), ": "...), hf.Value...), '\n')
		}
		switch hf.Name {
		case "content-length":
			if n, err := strconv.ParseInt(hf.Value, 10, 64); err == nil && n >= 0 {
				h.length = n
			}
		case "content-encoding":
			h.gzip = strings.EqualFold(hf.Value, "gzip")
		case "location":
			h.location = hf.Value
		case "set-cookie":
			h.setCookies = append(h.setCookies, hf.Value)
		}
	}
	return h
}

func (cc *h2cc) onData(f *http2.DataFrame) {
	cc.mu.Lock()
	st := cc.streams[f.StreamID]
	n := int(f.Length) // padding included: it counts against the windows
	if st == nil || st.err != nil || !st.gotHead {
		cc.connUnacked += n // nobody reads it: give it back at once
		conn := 0
		if cc.connUnacked >= h2DefaultWindow {
			conn, cc.connUnacked = cc.connUnacked, 0
		}
		cc.mu.Unlock()
		if conn > 0 {
			cc.windowUpdate(0, 0, conn)
		}
		return
	}
	data := f.Data()
	st.data = append(st.data, data...)
	st.unacked += n - len(data) // the padding, never read
	if f.StreamEnded() {
		st.ended = true
	}
	st.wake()
	cc.mu.Unlock()
}

// lowerHeader is a header name as HTTP/2 sends it.
func lowerHeader(k string) string {
	for i := 0; i < len(k); i++ {
		if c := k[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(k)
		}
	}
	return k
}
