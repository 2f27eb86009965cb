package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/horde-load/horde/internal/report"
	"github.com/horde-load/horde/internal/stats"
)

// GET /api/v1/stream: Server-Sent Events (docs/api.md). On connect a
// client gets the whole history and the stats; then, every second, the
// newest point and the stats, and every 15 s a ": ping" comment.
//
// One hub goroutine, running only while clients are connected, takes one
// snapshot per second, encodes the events once and hands the same bytes
// to every client through a bounded buffer: fifty browsers cost one
// snapshot and one encoding a second, not fifty. A client whose buffer is
// full (it reads slower than the events come) is dropped, never waited
// for; its browser reconnects and gets the full history again.
//
// When the statistics restart (a reset, or a new test) the hub sends a
// history event instead of a point, so open charts restart too.

const (
	streamInterval = time.Second
	pingEvery      = 15 // ticks
	clientBuffer   = 8  // frames a client may lag behind before it is dropped
	// streamWriteTimeout bounds one write to a client, so a client that
	// stopped reading does not hold its handler forever.
	streamWriteTimeout = 10 * time.Second
)

// frame is one tick's events, encoded once for every client.
type frame struct {
	started time.Time // Snapshot.Started: a change means new statistics
	history []byte    // an encoded history event when the statistics restarted
	lastT   int64     // Unix ms of history's last point
	point   []byte    // the encoded point event, nil when there is none
	pointT  int64     // its Unix ms
	stats   []byte    // the encoded stats event
	ping    bool
}

// client is one open stream.
type client struct {
	ch      chan *frame
	dropped chan struct{} // closed when the hub drops the client
}

// hub fans the stream's frames out to the clients.
type hub struct {
	s         *Server
	newTicker func(d time.Duration) (<-chan time.Time, func())

	mu       sync.Mutex
	clients  map[*client]struct{}
	loopDone chan struct{} // closed to end the running loop; nil when none runs
	closed   chan struct{} // closed by close: every stream ends
	isClosed bool
}

func newHub(s *Server, newTicker func(time.Duration) (<-chan time.Time, func())) *hub {
	if newTicker == nil {
		newTicker = func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}
	return &hub{s: s, newTicker: newTicker, clients: map[*client]struct{}{}, closed: make(chan struct{})}
}

// subscribe adds a client and starts the loop if it is the first; ok is
// false once the hub is closed.
func (h *hub) subscribe() (c *client, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.isClosed {
		return nil, false
	}
	c = &client{ch: make(chan *frame, clientBuffer), dropped: make(chan struct{})}
	h.clients[c] = struct{}{}
	if h.loopDone == nil {
		h.loopDone = make(chan struct{})
		go h.loop(h.loopDone)
	}
	return c, true
}

// unsubscribe removes a client; the loop ends with the last one.
func (h *hub) unsubscribe(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.clients, c)
	h.stopIfIdleLocked()
}

func (h *hub) stopIfIdleLocked() {
	if len(h.clients) == 0 && h.loopDone != nil {
		close(h.loopDone)
		h.loopDone = nil
	}
}

// close ends every stream and the loop, and refuses new streams.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.isClosed = true
	close(h.closed)
	if h.loopDone != nil {
		close(h.loopDone)
		h.loopDone = nil
	}
}

// loop ticks until done is closed. Its state (the statistics' start seen
// last) is its own: a new loop starts afresh.
func (h *hub) loop(done <-chan struct{}) {
	tick, stop := h.newTicker(streamInterval)
	defer stop()
	var started time.Time
	for n := 1; ; n++ {
		select {
		case <-done:
			return
		case <-tick:
		}
		f := h.frame(n == 1, started, n%pingEvery == 0)
		started = f.started
		h.broadcast(done, f)
	}
}

// frame takes one snapshot and encodes the tick's events. A history
// event replaces the point when the statistics restarted since the last
// tick (first: this loop has no last tick; clients catch up themselves).
func (h *hub) frame(first bool, prevStarted time.Time, ping bool) *frame {
	snap, st := h.s.read()
	f := &frame{started: snap.Started, ping: ping}
	if !first && !snap.Started.Equal(prevStarted) {
		f.history, f.lastT = historyEvent(snap)
	} else if n := len(snap.History); n > 0 {
		p := report.PointOf(snap.History[n-1])
		f.point, f.pointT = event("point", p), p.T
	}
	f.stats = event("stats", statsOf(snap, st, h.s.meta(snap, st)))
	return f
}

// broadcast hands f to every client without waiting: a client with a
// full buffer is dropped.
func (h *hub) broadcast(done <-chan struct{}, f *frame) {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-done: // a newer loop owns the clients now
		return
	default:
	}
	for c := range h.clients {
		select {
		case c.ch <- f:
		default:
			delete(h.clients, c)
			close(c.dropped)
		}
	}
	h.stopIfIdleLocked()
}

// event encodes one SSE event; JSON has no raw newlines, so one data line
// holds it.
func event(name string, v any) []byte {
	var b bytes.Buffer
	b.WriteString("event: ")
	b.WriteString(name)
	b.WriteString("\ndata: ")
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // only non-finite floats could fail, and finite() removed them
		b.WriteString("{}\n")
	}
	b.WriteString("\n")
	return b.Bytes()
}

// historyEvent encodes the whole history and returns the time of its last
// point.
func historyEvent(snap stats.Snapshot) ([]byte, int64) {
	hist := report.HistoryOf(snap)
	var last int64
	if n := len(hist.Points); n > 0 {
		last = hist.Points[n-1].T
	}
	return event("history", hist), last
}

var pingComment = []byte(": ping\n\n")

// stream serves GET /api/v1/stream.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead { // a probe of the route: no stream
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		return
	}
	c, ok := s.hub.subscribe()
	if !ok {
		s.writeError(w, http.StatusServiceUnavailable, "the server is shutting down")
		return
	}
	defer s.hub.unsubscribe(c)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	out := &streamWriter{w: w, rc: http.NewResponseController(w)}
	defer func() { _ = out.rc.SetWriteDeadline(time.Time{}) }()

	// Subscribed first, then read: no tick falls between the history and
	// the first point (a point the history holds already is skipped).
	snap, st := s.read()
	hist, last := historyEvent(snap)
	view := &clientView{s: s, started: snap.Started, last: last}
	if err := out.send(hist, event("stats", statsOf(snap, st, s.meta(snap, st)))); err != nil {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.dropped:
			s.log.Debug("web: dropped a slow event-stream client", "remote", r.RemoteAddr)
			return
		case <-s.hub.closed:
			return
		case f := <-c.ch:
			if err := out.send(view.chunks(f)...); err != nil {
				return
			}
		}
	}
}

// clientView is what one client has seen: the start of the statistics
// its history belongs to, and the time of its newest point.
type clientView struct {
	s       *Server
	started time.Time
	last    int64
}

// chunks returns what the client needs of f: the new history or the new
// point, then the stats, then the ping.
func (v *clientView) chunks(f *frame) [][]byte {
	var out [][]byte
	switch {
	case f.history != nil:
		out, v.last = append(out, f.history), f.lastT
	case !f.started.Equal(v.started): // restarted before this loop's first tick
		var ev []byte
		ev, v.last = historyEvent(v.s.src.Snapshot(v.s.now()))
		out = append(out, ev)
	case f.point != nil && f.pointT > v.last:
		out, v.last = append(out, f.point), f.pointT
	}
	v.started = f.started
	out = append(out, f.stats)
	if f.ping {
		out = append(out, pingComment)
	}
	return out
}

// streamWriter writes and flushes events with a deadline per write.
type streamWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (sw *streamWriter) send(chunks ...[]byte) error {
	// The deadline is on the wall clock of the network, not the test's.
	_ = sw.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	for _, b := range chunks {
		if _, err := sw.w.Write(b); err != nil {
			return err
		}
	}
	return sw.rc.Flush()
}
