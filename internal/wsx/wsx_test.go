package wsx

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Failures are named by their cause, short and stable enough to group.
func TestReason(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Err: errors.New("connect: connection refused")}
	for _, c := range []struct {
		err  error
		hs   Handshake
		want string
	}{
		{ErrTimeout, Handshake{}, "timeout"},
		{context.DeadlineExceeded, Handshake{}, "timeout"},
		{websocket.ErrBadHandshake, Handshake{Status: 403}, "upgrade refused: HTTP 403 Forbidden"},
		{websocket.ErrBadHandshake, Handshake{}, "bad handshake"},
		{websocket.ErrReadLimit, Handshake{}, "message too big"},
		{&websocket.CloseError{Code: 1011, Text: "oops"}, Handshake{}, "closed by server: 1011 oops"},
		{&websocket.CloseError{Code: 1006, Text: "unexpected EOF"}, Handshake{}, "connection lost (1006)"},
		{refused, Handshake{}, "connection refused"},
		{ErrClosed, Handshake{}, "connection closed"},
	} {
		if got := Reason(c.err, c.hs); got != c.want {
			t.Errorf("Reason(%v) = %q, want %q", c.err, got, c.want)
		}
	}
	if !Normal(&websocket.CloseError{Code: 1001}) || Normal(&websocket.CloseError{Code: 1011}) {
		t.Error("Normal: 1001 is orderly, 1011 is not")
	}
}

// A conversation: handshake with a subprotocol, text and binary echoes,
// a close handshake the server sees as 1000 with the reason given.
func TestConversation(t *testing.T) {
	t.Parallel()
	closed := make(chan *websocket.CloseError, 1)
	up := websocket.Upgrader{Subprotocols: []string{"chat"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, m, err := c.ReadMessage()
			if err != nil {
				var ce *websocket.CloseError
				errors.As(err, &ce)
				closed <- ce
				return
			}
			_ = c.WriteMessage(mt, m)
		}
	}))
	defer srv.Close()
	c, hs, err := Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), Options{Subprotocols: []string{"chat"}})
	if err != nil {
		t.Fatal(err)
	}
	if hs.Status != 101 || hs.Subprotocol != "chat" || hs.Elapsed <= 0 {
		t.Errorf("handshake %+v", hs)
	}
	for _, m := range []Message{{Data: []byte("hi")}, {Data: []byte{0, 1}, Binary: true}} {
		if err := c.Send(m.Data, m.Binary, time.Second); err != nil {
			t.Fatal(err)
		}
		got, err := c.Recv(context.Background(), time.Second)
		if err != nil || string(got.Data) != string(m.Data) || got.Binary != m.Binary {
			t.Fatalf("echo of %v: %v %v", m, got, err)
		}
	}
	if _, err := c.Recv(context.Background(), 10*time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("an idle recv: %v, want ErrTimeout", err)
	}
	c.Close(4000, "done")
	select {
	case ce := <-closed:
		if ce == nil || ce.Code != 4000 || ce.Text != "done" {
			t.Errorf("the server saw %v", ce)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no close frame")
	}
	if err := c.Send([]byte("x"), false, time.Second); !errors.Is(err, ErrClosed) {
		t.Errorf("send after close: %v", err)
	}
}
