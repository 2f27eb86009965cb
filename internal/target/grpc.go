package target

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/horde-load/horde/internal/target/targetpb"
)

// GRPCService is the full name of the target's gRPC service; its calls
// are counted as "GRPC /horde.target.v1.Target/Method".
const GRPCService = "horde.target.v1.Target"

// Limits of the gRPC service's test methods.
const (
	maxDelay        = 60 * time.Second
	maxStreamCount  = 100_000
	maxStreamMsg    = 1 << 20
	maxStreamPeriod = 10 * time.Second
)

// NewGRPC builds the gRPC server of the target: the Target service
// (targetpb/target.proto) and server reflection. Every call of the
// service is counted in s's Counts as "GRPC /horde.target.v1.Target/Method"
// when it arrives; reflection calls are not counted.
func (s *Server) NewGRPC(opts ...grpc.ServerOption) *grpc.Server {
	opts = append(opts, grpc.ChainUnaryInterceptor(s.countUnary), grpc.ChainStreamInterceptor(s.countStream))
	g := grpc.NewServer(opts...)
	targetpb.RegisterTargetServer(g, &grpcTarget{})
	reflection.Register(g)
	return g
}

// ServeGRPC serves the gRPC service on ln until ctx ends, then stops
// gracefully: calls in flight get up to ShutdownTimeout to finish.
func (s *Server) ServeGRPC(ctx context.Context, ln net.Listener) error {
	g := s.NewGRPC()
	errc := make(chan error, 1)
	go func() { errc <- g.Serve(ln) }()
	s.log.Debug("target gRPC serving", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	done := make(chan struct{})
	go func() { g.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.grace):
		s.log.Warn("target: gRPC calls still running after the shutdown timeout; closing them", "timeout", s.grace)
		g.Stop()
		<-done
	}
	if err := <-errc; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

func (s *Server) countUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	s.countGRPC(info.FullMethod)
	return h(ctx, req)
}

func (s *Server) countStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	s.countGRPC(info.FullMethod)
	return h(srv, ss)
}

func (s *Server) countGRPC(method string) {
	if strings.HasPrefix(method, "/grpc.reflection.") {
		return
	}
	s.counts.add("GRPC " + method)
}

// grpcTarget implements the Target service.
type grpcTarget struct {
	targetpb.UnimplementedTargetServer
}

func (grpcTarget) Echo(ctx context.Context, m *targetpb.EchoMessage) (*targetpb.EchoMessage, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	for k, vs := range md {
		if strings.HasPrefix(k, "x-") {
			if m.Metadata == nil {
				m.Metadata = map[string]string{}
			}
			m.Metadata[k] = strings.Join(vs, ",")
		}
	}
	return m, nil
}

func (grpcTarget) Delay(ctx context.Context, r *targetpb.DelayRequest) (*targetpb.DelayReply, error) {
	d := time.Duration(r.GetMs()) * time.Millisecond
	if d < 0 || d > maxDelay {
		return nil, status.Errorf(codes.InvalidArgument, "ms must be 0..%d", maxDelay.Milliseconds())
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return &targetpb.DelayReply{Ms: r.GetMs()}, nil
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	}
}

func (grpcTarget) Stream(r *targetpb.StreamRequest, ss grpc.ServerStreamingServer[targetpb.StreamReply]) error {
	n, size, every := r.GetCount(), r.GetSize(), time.Duration(r.GetIntervalMs())*time.Millisecond
	if n < 0 || n > maxStreamCount || size < 0 || size > maxStreamMsg || every < 0 || every > maxStreamPeriod {
		return status.Errorf(codes.InvalidArgument, "count must be 0..%d, size 0..%d, interval_ms 0..%d",
			maxStreamCount, maxStreamMsg, maxStreamPeriod.Milliseconds())
	}
	ctx := ss.Context()
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	var t *time.Timer
	for i := range n {
		if i > 0 && every > 0 {
			if t == nil {
				t = time.NewTimer(every)
				defer t.Stop()
			} else {
				t.Reset(every)
			}
			select {
			case <-t.C:
			case <-ctx.Done():
				return status.FromContextError(ctx.Err()).Err()
			}
		}
		if err := ss.Send(&targetpb.StreamReply{Seq: i + 1, Payload: payload}); err != nil {
			return err
		}
	}
	if r.GetHang() {
		<-ctx.Done()
		return status.FromContextError(ctx.Err()).Err()
	}
	return nil
}

func (grpcTarget) Status(_ context.Context, r *targetpb.StatusRequest) (*targetpb.StatusReply, error) {
	c := r.GetCode()
	if c < 0 || c > 16 {
		return nil, status.Errorf(codes.InvalidArgument, "code must be 0..16, got %d", c)
	}
	if c == 0 {
		return &targetpb.StatusReply{}, nil
	}
	return nil, status.Error(codes.Code(c), r.GetMessage())
}
