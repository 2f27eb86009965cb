package cluster

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/horde-load/horde/internal/cluster/pb"
)

// headerProtocol is the response header the master sends as soon as it
// has accepted a stream's token; Dial waits for it, so that a refused
// token is Dial's error rather than the first Recv's.
const headerProtocol = "horde-protocol"

// Refusal messages, as the worker reads them.
const (
	msgNoToken    = "no auth token: start the worker with --auth-token or HORDE_AUTH_TOKEN"
	msgWrongToken = "wrong auth token"
	// msgShuttingDown ends the streams of a stopping master.
	msgShuttingDown = "master is shutting down"
)

// authenticate is the stream interceptor that checks the bearer token
// before the service sees the stream.
func (s *Server) authenticate(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if s.opts.Token != "" {
		if msg := s.checkToken(ss.Context()); msg != "" {
			s.log.Warn("cluster: worker refused", "reason", msg, "peer", peerAddr(ss.Context()))
			return status.Error(codes.Unauthenticated, msg)
		}
	}
	if err := ss.SendHeader(metadata.Pairs(headerProtocol, strconv.Itoa(ProtocolVersion))); err != nil {
		return err
	}
	return h(srv, ss)
}

// checkToken returns "" when the stream carries the server's token, or
// the reason it is refused.
func (s *Server) checkToken(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get("authorization")
	if len(vals) == 0 || vals[0] == "" {
		return msgNoToken
	}
	scheme, tok, ok := strings.Cut(vals[0], " ")
	if !ok || !strings.EqualFold(scheme, "bearer") || tok == "" {
		return msgNoToken
	}
	// Hashing first makes the comparison constant-time in the length too.
	got, want := sha256.Sum256([]byte(tok)), sha256.Sum256([]byte(s.opts.Token))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return msgWrongToken
	}
	return ""
}

// readHello waits up to HelloTimeout for the stream's first message and
// checks that it is an acceptable Hello. The error it returns is a gRPC
// status for the worker; the refusal is logged.
func (s *Server) readHello(st grpc.BidiStreamingServer[pb.WorkerMessage, pb.MasterMessage]) (*pb.Hello, error) {
	type result struct {
		m   *pb.WorkerMessage
		err error
	}
	// Recv cannot time out by itself; the goroutine ends when the stream
	// does, which returning an error from the handler makes happen.
	ch := make(chan result, 1)
	go func() {
		m, err := st.Recv()
		ch <- result{m, err}
	}()
	timer := time.NewTimer(s.opts.HelloTimeout)
	defer timer.Stop()
	addr := peerAddr(st.Context())
	var r result
	select {
	case r = <-ch:
	case <-timer.C:
		msg := fmt.Sprintf("no Hello within %v: a worker speaks first", s.opts.HelloTimeout)
		s.log.Warn("cluster: worker refused", "reason", msg, "peer", addr)
		return nil, status.Error(codes.DeadlineExceeded, msg)
	case <-s.base.Done():
		return nil, status.Error(codes.Unavailable, msgShuttingDown)
	}
	if r.err != nil {
		s.log.Debug("cluster: stream ended before Hello", "peer", addr, "err", r.err)
		return nil, r.err
	}
	hello, code, msg := checkHello(r.m)
	if msg != "" {
		s.log.Warn("cluster: worker refused", "reason", msg, "peer", addr, "worker", hello.GetWorkerId(),
			"worker_version", hello.GetVersion())
		return nil, status.Error(code, msg)
	}
	return hello, nil
}

// checkHello returns the Hello in m, or the code and message refusing it.
func checkHello(m *pb.WorkerMessage) (*pb.Hello, codes.Code, string) {
	hello := m.GetHello()
	switch {
	case hello == nil:
		return nil, codes.InvalidArgument, fmt.Sprintf("first message is %s, not Hello", messageKind(m))
	case hello.GetProtocolVersion() != ProtocolVersion:
		return hello, codes.FailedPrecondition, fmt.Sprintf(
			"protocol version %d, master speaks %d: run the same horde version on master and workers",
			hello.GetProtocolVersion(), ProtocolVersion)
	case hello.GetWorkerId() == "":
		return hello, codes.InvalidArgument, "Hello has no worker_id"
	case len(hello.GetWorkerId()) > MaxNameBytes:
		return hello, codes.InvalidArgument, fmt.Sprintf("worker_id longer than %d bytes", MaxNameBytes)
	}
	return hello, codes.OK, ""
}

// messageKind names the message type in m, for refusals.
func messageKind(m *pb.WorkerMessage) string {
	switch m.GetMsg().(type) {
	case *pb.WorkerMessage_Heartbeat:
		return "Heartbeat"
	case *pb.WorkerMessage_Stats:
		return "Stats"
	case *pb.WorkerMessage_Goodbye:
		return "Goodbye"
	case nil:
		return "empty"
	}
	return "unknown"
}

// peerAddr returns the remote address of a stream, for logs.
func peerAddr(ctx context.Context) string {
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		return p.Addr.String()
	}
	return "unknown"
}
