// Package targettest serves horde's sample target (package target) on
// 127.0.0.1 for the duration of a test, as net/http/httptest serves a
// handler. Tests compare what horde counted with the target's own counts.
package targettest

import (
	"context"
	"net"
	"testing"

	"github.com/horde-load/horde/internal/target"
)

// Start serves a target with o on 127.0.0.1:0 until the test ends and
// returns its base URL ("http://127.0.0.1:PORT") and the server, whose
// Counts are what it served.
func Start(t testing.TB, o target.Options) (string, *target.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := target.New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String(), srv
}
