package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/target"
)

// startGRPC serves the target's gRPC service on addr in the background
// until ctx ends or stop is called; stop waits for it to end. When the
// default address is taken, the target runs without gRPC and says so; an
// address the user gave (asked) must be free.
func startGRPC(ctx context.Context, log *slog.Logger, srv *target.Server, addr string, asked bool) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil && !asked {
		log.Warn("target: no gRPC service: its default address is taken (give --grpc-addr)", slog.String("err", err.Error()))
		return func() {}, nil
	}
	if err != nil {
		return nil, exitcode.With(exitcode.CannotRun, fmt.Errorf("target: gRPC: %w", err))
	}
	log.Info("target gRPC listening", slog.String("addr", ln.Addr().String()), slog.String("service", target.GRPCService))
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.ServeGRPC(ctx, ln); err != nil {
			log.Error("target gRPC stopped", slog.String("err", err.Error()))
		}
	}()
	return func() { cancel(); <-done }, nil
}
