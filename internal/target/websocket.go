package target

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// WebSocket limits of the target: a larger message closes the connection
// with 1009 (message too big); a client silent for wsIdle is dropped.
const (
	wsMaxMessage = 1 << 20
	wsIdle       = 2 * time.Minute
	wsWriteWait  = 10 * time.Second
	wsQueue      = 256 // broadcast messages waiting for one slow client
)

// wsUpgrader accepts any origin: the target is a test fixture.
var wsUpgrader = websocket.Upgrader{
	ReadBufferSize:  4096,
	WriteBufferSize: 4096,
	CheckOrigin:     func(*http.Request) bool { return true },
	Subprotocols:    []string{"echo", "chat"},
}

// hijackable lets the upgrader hijack through the counting writer, which
// exposes the connection only by Unwrap.
type hijackable struct{ http.ResponseWriter }

func (h hijackable) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(h.ResponseWriter).Hijack()
}

// upgrade turns the request into a WebSocket and counts it as
// "WS <path> (connect)". The upgrade request itself is counted as
// "GET <path>" when the connection ends, as every request is.
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request) (*websocket.Conn, bool) {
	c, err := wsUpgrader.Upgrade(hijackable{w}, r, nil)
	if err != nil {
		return nil, false // the upgrader answered the error
	}
	s.counts.add("WS " + r.URL.Path + " (connect)")
	c.SetReadLimit(wsMaxMessage)
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if s.hub.closed {
		_ = c.Close()
		return nil, false
	}
	if s.hub.conns == nil {
		s.hub.conns = map[*websocket.Conn]struct{}{}
	}
	s.hub.conns[c] = struct{}{}
	return c, true
}

// hangUp closes a connection that upgrade returned.
func (s *Server) hangUp(c *websocket.Conn) {
	s.hub.mu.Lock()
	delete(s.hub.conns, c)
	s.hub.mu.Unlock()
	_ = c.Close()
}

// closeWebSockets ends every WebSocket at shutdown (http.Server.Shutdown
// does not track hijacked connections), saying "going away" (1001).
func (s *Server) closeWebSockets() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.hub.closed = true
	bye := websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down")
	for c := range s.hub.conns {
		_ = c.WriteControl(websocket.CloseMessage, bye, time.Now().Add(time.Second))
		_ = c.Close()
	}
}

// wsEcho serves /ws/echo: every message is sent back as it came, text or
// binary. Each message received is counted as "WS /ws/echo".
func (s *Server) wsEcho(w http.ResponseWriter, r *http.Request) {
	c, ok := s.upgrade(w, r)
	if !ok {
		return
	}
	defer s.hangUp(c)
	key := "WS " + r.URL.Path
	for {
		_ = c.SetReadDeadline(time.Now().Add(wsIdle))
		mt, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		s.counts.add(key)
		_ = c.SetWriteDeadline(time.Now().Add(wsWriteWait))
		if err := c.WriteMessage(mt, msg); err != nil {
			return
		}
	}
}

// hub is the target's WebSocket connections and the clients of
// /ws/broadcast.
type hub struct {
	mu      sync.Mutex
	conns   map[*websocket.Conn]struct{}
	clients map[*wsClient]struct{}
	closed  bool // shutting down: no new connections
}

type wsClient struct {
	out  chan wsMessage
	done chan struct{}
}

type wsMessage struct {
	kind int
	data []byte
}

// wsBroadcast serves /ws/broadcast: every message a client sends goes to
// every client connected, the sender included. Each message received is
// counted as "WS /ws/broadcast"; each copy sent as "WS /ws/broadcast
// (delivered)"; a copy that a slow client's queue had no room for as
// "WS /ws/broadcast (dropped)".
func (s *Server) wsBroadcast(w http.ResponseWriter, r *http.Request) {
	// Joined before the upgrade answers, so that a client receives every
	// message sent after its handshake ended.
	me := &wsClient{out: make(chan wsMessage, wsQueue), done: make(chan struct{})}
	s.hub.mu.Lock()
	if s.hub.clients == nil {
		s.hub.clients = map[*wsClient]struct{}{}
	}
	s.hub.clients[me] = struct{}{}
	s.hub.mu.Unlock()
	defer func() {
		s.hub.mu.Lock()
		delete(s.hub.clients, me)
		s.hub.mu.Unlock()
		close(me.done)
	}()
	c, ok := s.upgrade(w, r)
	if !ok {
		return
	}
	defer s.hangUp(c)
	key := "WS " + r.URL.Path
	go func() {
		for {
			select {
			case m := <-me.out:
				_ = c.SetWriteDeadline(time.Now().Add(wsWriteWait))
				if c.WriteMessage(m.kind, m.data) != nil {
					_ = c.Close() // ends the read loop
					return
				}
				s.counts.add(key + " (delivered)")
			case <-me.done:
				return
			}
		}
	}()
	for {
		_ = c.SetReadDeadline(time.Now().Add(wsIdle))
		mt, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		s.counts.add(key)
		s.hub.mu.Lock()
		for cl := range s.hub.clients {
			select {
			case cl.out <- wsMessage{mt, msg}:
			default:
				s.counts.add(key + " (dropped)")
			}
		}
		s.hub.mu.Unlock()
	}
}
