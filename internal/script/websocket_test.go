package script

import (
	"context"
	"encoding/binary"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/horde-load/horde/internal/stats"
	"github.com/horde-load/horde/internal/target"
	"github.com/horde-load/horde/internal/target/targettest"
)

// wsRun runs task t of src once on a user whose host is base and returns
// the samples recorded and what the task left in u.state.
func wsRun(t *testing.T, base, src string) ([]stats.Sample, map[string]any, error) {
	t.Helper()
	sc := mustLoad(t, src+"\nusers = [user(name='U', tasks=[t])]\n")
	vu, rec := newVU(t, 1, base)
	err := task(t, sc, "t")(t.Context(), vu)
	state := map[string]any{}
	if st := vu.Local.(*vuState).user.state; st != nil {
		state = toGo(st).(map[string]any)
	}
	return rec.all(), state, err
}

// rows counts samples per "METHOD name" and failures per "METHOD name: error".
func rows(samples []stats.Sample) (count, failed map[string]int) {
	count, failed = map[string]int{}, map[string]int{}
	for _, s := range samples {
		k := s.Method + " " + s.Name
		count[k]++
		if s.Err != "" {
			failed[k+": "+s.Err]++
		}
	}
	return count, failed
}

// A user opens a socket to the target's echo endpoint, sends text and
// binary messages and reads each echo as a named round trip: the rows are
// the handshake, the sends and the round trips, with the sizes sent and
// received, and the target counted the same connection and messages.
func TestWebSocketEchoRoundTrips(t *testing.T) {
	t.Parallel()
	base, srv := targettest.Start(t, target.Options{})
	samples, state, err := wsRun(t, base, `
def t(u):
    ws = u.websocket("/ws/echo", subprotocols=["echo"])
    u.state["ok"] = ws.ok
    u.state["status"] = ws.status
    u.state["proto"] = ws.subprotocol
    got = []
    for m in ["hello", "wörld", b"\x00\x01\x02"]:
        ws.send(m)
        got.append(ws.recv(name="echo"))
    u.state["got"] = [type(g) + ":" + str(len(g)) for g in got]
    ws.close()
    u.state["closed"] = ws.closed
`)
	if err != nil {
		t.Fatal(err)
	}
	if state["ok"] != true || state["status"] != int64(101) || state["proto"] != "echo" || state["closed"] != true {
		t.Errorf("state = %v", state)
	}
	if got := state["got"].([]any); len(got) != 3 || got[0] != "string:5" || got[1] != "string:6" || got[2] != "bytes:3" {
		t.Errorf("echoes = %v, want string:5 string:6 bytes:3", got)
	}
	count, failed := rows(samples)
	want := map[string]int{"WS /ws/echo (connect)": 1, "WS /ws/echo (send)": 3, "WS echo": 3}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%s: %d samples, want %d (all: %v)", k, count[k], n, count)
		}
	}
	if len(failed) != 0 {
		t.Errorf("failures: %v", failed)
	}
	var sent, recv int64
	for _, s := range samples {
		switch s.Name {
		case "/ws/echo (send)":
			sent += s.Bytes
		case "echo":
			recv += s.Bytes
			if s.Latency <= 0 {
				t.Errorf("round trip of %v", s.Latency)
			}
		}
	}
	if sent != 14 || recv != 14 {
		t.Errorf("bytes sent %d, received %d; want 14 and 14", sent, recv)
	}
	waitCounts(t, srv, map[string]int64{"WS /ws/echo (connect)": 1, "WS /ws/echo": 3})
}

// waitCounts polls the target until its counts include want.
func waitCounts(t *testing.T, srv *target.Server, want map[string]int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := srv.Counts()
		ok := true
		for k, n := range want {
			if got[k] != n {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("target counts %v, want %v", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Messages broadcast by the target reach every socket of the user; each
// message read without a round-trip name is a "(recv)" sample.
func TestWebSocketBroadcast(t *testing.T) {
	t.Parallel()
	base, srv := targettest.Start(t, target.Options{})
	samples, state, err := wsRun(t, base, `
def t(u):
    a = u.websocket("/ws/broadcast")
    b = u.websocket("/ws/broadcast", name="second")
    a.send("news")
    u.state["a"] = a.recv(timeout=5)
    u.state["b"] = b.recv(timeout=5)
`)
	if err != nil {
		t.Fatal(err)
	}
	if state["a"] != "news" || state["b"] != "news" {
		t.Errorf("state = %v, want both sockets to read news", state)
	}
	count, failed := rows(samples)
	if count["WS /ws/broadcast (recv)"] != 1 || count["WS second (recv)"] != 1 || count["WS second (connect)"] != 1 || len(failed) != 0 {
		t.Errorf("rows %v, failures %v", count, failed)
	}
	waitCounts(t, srv, map[string]int64{"WS /ws/broadcast (connect)": 2, "WS /ws/broadcast": 1, "WS /ws/broadcast (delivered)": 2})
}

// A refused upgrade is a failed "(connect)" sample with the status; the
// socket says why, and using it is a script error that says so.
func TestWebSocketUpgradeRefused(t *testing.T) {
	t.Parallel()
	base, _ := targettest.Start(t, target.Options{})
	samples, state, err := wsRun(t, base, `
def t(u):
    ws = u.websocket("/status/403", name="denied")
    u.state["ok"] = ws.ok
    u.state["status"] = ws.status
    u.state["error"] = ws.error
    ws.send("x")
`)
	if err == nil || !strings.Contains(err.Error(), "websocket denied is not open: upgrade refused: HTTP 403 Forbidden") {
		t.Errorf("err = %v", err)
	}
	if state["ok"] != false || state["status"] != int64(403) || state["error"] != "upgrade refused: HTTP 403 Forbidden" {
		t.Errorf("state = %v", state)
	}
	_, failed := rows(samples)
	if failed["WS denied (connect): upgrade refused: HTTP 403 Forbidden"] != 1 || len(samples) != 1 {
		t.Errorf("samples %v", samples)
	}
}

// Nothing listening: a failed "(connect)" with the network's reason.
func TestWebSocketConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	samples, state, err := wsRun(t, "http://"+addr, `
def t(u):
    u.state["ok"] = u.websocket("/ws").ok
`)
	if err != nil || state["ok"] != false {
		t.Fatalf("err %v, state %v", err, state)
	}
	if _, failed := rows(samples); failed["WS /ws (connect): connection refused"] != 1 {
		t.Errorf("failures %v", failed)
	}
}

// rawWS upgrades with gorilla and hands the connection to fn.
func rawWS(t *testing.T, fn func(c *websocket.Conn)) string {
	t.Helper()
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		fn(c)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// A server that declares a 1 GiB frame: the client refuses it from its
// header, without reading or allocating it; a recorded failure, and the
// socket is over.
func TestWebSocketHugeFrameIsRefused(t *testing.T) {
	t.Parallel()
	base := rawWS(t, func(c *websocket.Conn) {
		hdr := []byte{0x82, 127, 0, 0, 0, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint64(hdr[2:], 1<<30)
		_, _ = c.NetConn().Write(append(hdr, make([]byte, 4096)...))
		_, _, _ = c.ReadMessage() // until the client goes
	})
	start := time.Now()
	samples, state, err := wsRun(t, base, `
def t(u):
    ws = u.websocket("/big")
    u.state["msg"] = ws.recv(timeout=10)
    u.state["closed"] = ws.closed
    u.state["error"] = ws.error
`)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v", took)
	}
	if state["msg"] != nil || state["closed"] != true || state["error"] != "message too big" {
		t.Errorf("state = %v", state)
	}
	if _, failed := rows(samples); failed["WS /big (recv): message too big"] != 1 {
		t.Errorf("failures %v", failed)
	}
}

// A server that never answers: recv(timeout=) returns None after the
// timeout, a failed sample; the socket stays usable. The server's pings
// are answered while the user sleeps.
func TestWebSocketRecvTimeoutAndPings(t *testing.T) {
	t.Parallel()
	var pongs atomic.Int32
	base := rawWS(t, func(c *websocket.Conn) {
		c.SetPongHandler(func(string) error { pongs.Add(1); return nil })
		go func() {
			for i := 0; i < 3; i++ {
				if c.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second)) != nil {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
		for {
			mt, m, err := c.ReadMessage()
			if err != nil {
				return
			}
			if string(m) == "answer" {
				_ = c.WriteMessage(mt, []byte("late"))
			}
		}
	})
	samples, state, err := wsRun(t, base, `
def t(u):
    ws = u.websocket("/quiet")
    u.state["first"] = ws.recv(timeout=0.2)
    u.sleep(0.2)
    ws.send("answer")
    u.state["second"] = ws.recv(timeout=5)
`)
	if err != nil {
		t.Fatal(err)
	}
	if state["first"] != nil || state["second"] != "late" {
		t.Errorf("state = %v", state)
	}
	count, failed := rows(samples)
	if failed["WS /quiet (recv): timeout"] != 1 || count["WS /quiet (recv)"] != 2 {
		t.Errorf("rows %v failures %v", count, failed)
	}
	if n := pongs.Load(); n != 3 {
		t.Errorf("%d pongs, want 3", n)
	}
}

// A socket kept in u.state is closed when the user stops.
func TestWebSocketClosedWhenUserStops(t *testing.T) {
	t.Parallel()
	gone := make(chan struct{})
	base := rawWS(t, func(c *websocket.Conn) {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				close(gone)
				return
			}
		}
	})
	sc := mustLoad(t, `
def t(u):
    u.state["ws"] = u.websocket("/keep")
users = [user(name='U', tasks=[t])]
`)
	vu, _ := newVU(t, 1, base)
	ctx, cancel := contextWithCancel(t)
	if err := task(t, sc, "t")(ctx, vu); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gone:
		t.Fatal("closed before the user stopped")
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the socket outlived its user")
	}
}

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx, cancel
}
