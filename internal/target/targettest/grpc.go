package targettest

import (
	"context"
	"net"
	"testing"

	"github.com/horde-load/horde/internal/target"
)

// StartGRPC serves srv's gRPC service (target.Server.ServeGRPC) on
// 127.0.0.1:0 until the test ends and returns its address ("127.0.0.1:PORT").
// Its calls are counted in srv.Counts with the HTTP requests.
func StartGRPC(t testing.TB, srv *target.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.ServeGRPC(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String()
}
