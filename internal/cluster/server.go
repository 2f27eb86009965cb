package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	protoenc "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"

	"github.com/horde-load/horde/internal/cluster/pb"
)

// DefaultPort is the port workers connect to when the master address has
// none, as Locust's 5557.
const DefaultPort = 5557

// Defaults of ServerOptions and DialOptions.
const (
	DefaultHelloTimeout    = 10 * time.Second
	DefaultMaxMessageBytes = 64 << 20
)

// Keepalive: both ends ping after keepaliveTime of silence and drop the
// connection when no answer comes within keepaliveTimeout, so a worker
// whose host vanished (no FIN, no RST) is noticed in about 15 s.
const (
	keepaliveTime    = 10 * time.Second
	keepaliveTimeout = 5 * time.Second
	// keepaliveMinTime is the shortest ping interval the server accepts
	// from a client; below keepaliveTime so clients are never cut off.
	keepaliveMinTime = 5 * time.Second
	// stopGrace is how long Serve waits for streams to end before it
	// closes them.
	stopGrace = 2 * time.Second
	// maxStreamsPerConn bounds the streams one connection may hold: a
	// worker needs one.
	maxStreamsPerConn = 16
)

// What one worker's connection costs the master (docs/scaling.md): a
// master holds thousands, so gRPC's per-connection defaults (32 KiB read
// and write buffers each, a flow-control window that grows with pings)
// are traded for small buffers, the write buffer taken from a pool only
// while writing (the master writes little: targets and heartbeats), and a
// fixed window: large enough that a report of 100 endpoints (5–20 KiB)
// never waits for it, small enough that what a master that falls behind
// holds stays bounded: a worker sends at most a window ahead of what the
// master has read, 640 MiB at 10,000 workers (2.5 GiB with 256 KiB, which
// bench-scale saw a master short of CPU fill). The connection's own window
// bounds nothing (gRPC gives it back as data arrives, read or not: only
// the streams' windows wait for the master to read), so it is as large as
// its streams' together: each window update is a write, and a window of
// one stream's size had the master write one for the connection besides
// the stream's every 16 KiB of reports.
const (
	connReadBuffer  = 8 << 10
	connWriteBuffer = 8 << 10
	streamWindow    = 64 << 10
	connWindow      = maxStreamsPerConn * streamWindow
)

// ServerOptions configure a Server.
type ServerOptions struct {
	// Token is the shared secret workers must present; required unless
	// AllowNoAuth. It is compared in constant time.
	Token string
	// AllowNoAuth lets a server run without a token: with Token empty,
	// any worker is accepted. A Token, when set, is always checked.
	AllowNoAuth bool
	// TLS is the server's TLS configuration; nil serves plaintext. Set
	// ClientAuth (TLSConfig does) for mutual TLS.
	TLS *tls.Config
	// Logger receives refusals and connection problems; nil discards.
	Logger *slog.Logger
	// Handle serves one admitted worker: hello is its first message,
	// already checked. It returns when the stream ends. ctx is done when
	// the stream breaks or the server stops; Handle must then return
	// (a Recv blocked in it ends only when Handle returns, or when Serve
	// gives up waiting). Returning nil ends the stream normally (the
	// worker's Recv gets io.EOF), or with Unavailable "master is shutting
	// down" when the server is stopping. Send must not be called from two
	// goroutines at once (Recv may run beside Send).
	Handle func(ctx context.Context, s MasterStream, hello *pb.Hello) error
	// HelloTimeout is how long a new stream may stay silent before it is
	// dropped; 0 means DefaultHelloTimeout. It also bounds the TLS and
	// HTTP/2 handshake of a new connection.
	HelloTimeout time.Duration
	// MaxMessageBytes bounds one message either way; 0 means
	// DefaultMaxMessageBytes (a bundle with data files can be big).
	MaxMessageBytes int
}

// Server accepts workers on one port: gRPC over plaintext or TLS, token
// authentication, then the Hello check, then ServerOptions.Handle.
type Server struct {
	opts ServerOptions
	log  *slog.Logger
	grpc *grpc.Server
	// base is done when the server stops; every Handle context derives
	// from it.
	base       context.Context
	cancelBase context.CancelFunc

	mu      sync.Mutex
	serving bool
}

// NewServer checks o and builds a Server. It does not listen.
func NewServer(o ServerOptions) (*Server, error) {
	if o.Handle == nil {
		return nil, errors.New("cluster: ServerOptions.Handle is nil")
	}
	if o.Token == "" && !o.AllowNoAuth {
		return nil, errors.New("cluster: no auth token: set one (--auth-token or HORDE_AUTH_TOKEN) or allow running without")
	}
	if o.HelloTimeout <= 0 {
		o.HelloTimeout = DefaultHelloTimeout
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: o, log: log}
	s.base, s.cancelBase = context.WithCancel(context.Background())

	creds := insecure.NewCredentials()
	if o.TLS != nil {
		creds = credentials.NewTLS(o.TLS)
	}
	s.grpc = grpc.NewServer(
		grpc.Creds(&sniffCreds{TransportCredentials: creds, log: log, tls: o.TLS != nil}),
		grpc.ConnectionTimeout(o.HelloTimeout),
		grpc.MaxRecvMsgSize(o.MaxMessageBytes),
		grpc.MaxSendMsgSize(o.MaxMessageBytes),
		grpc.MaxConcurrentStreams(maxStreamsPerConn),
		grpc.ReadBufferSize(connReadBuffer),
		grpc.WriteBufferSize(connWriteBuffer), // taken from a pool while writing (gRPC's default)
		grpc.InitialWindowSize(streamWindow),
		grpc.InitialConnWindowSize(connWindow),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: keepaliveTime, Timeout: keepaliveTimeout}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: keepaliveMinTime, PermitWithoutStream: true}),
		grpc.StreamInterceptor(s.authenticate),
		grpc.ForceServerCodecV2(rawCodec{encoding.GetCodecV2(protoenc.Name)}),
	)
	pb.RegisterMasterServer(s.grpc, &service{s: s})
	return s, nil
}

// Serve accepts workers on ln until ctx is done; then it ends every
// Handle context, waits briefly for the streams to finish, and closes
// what is left. It returns nil after a stop through ctx, or the error
// that made the listener fail. A Server serves once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	if s.serving {
		s.mu.Unlock()
		return errors.New("cluster: Server.Serve called twice")
	}
	s.serving = true
	s.mu.Unlock()

	errc := make(chan error, 1)
	go func() { errc <- s.grpc.Serve(ln) }()
	select {
	case err := <-errc:
		s.cancelBase()
		s.grpc.Stop()
		return fmt.Errorf("cluster: serve workers on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	s.cancelBase()
	stopped := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(stopped)
	}()
	timer := time.NewTimer(stopGrace)
	defer timer.Stop()
	select {
	case <-stopped:
	case <-timer.C:
		s.grpc.Stop()
		<-stopped
	}
	<-errc
	return nil
}

// service implements the generated MasterServer.
type service struct {
	pb.UnimplementedMasterServer
	s *Server
}

// Connect admits one worker stream and hands it to Handle.
func (v *service) Connect(st grpc.BidiStreamingServer[pb.WorkerMessage, pb.MasterMessage]) error {
	s := v.s
	hello, err := s.readHello(st)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(st.Context())
	defer cancel()
	stop := context.AfterFunc(s.base, cancel)
	defer stop()
	s.log.Debug("cluster: worker admitted", "peer", peerAddr(st.Context()), "worker", hello.GetWorkerId(),
		"hostname", hello.GetHostname(), "version", hello.GetVersion())
	err = s.opts.Handle(ctx, serverStream{st}, hello)
	if err == nil && s.base.Err() != nil {
		// Tell the worker this is a stop, not a refusal: it may retry.
		return status.Error(codes.Unavailable, msgShuttingDown)
	}
	return err
}

// RawStream is an optional capability of a MasterStream: RecvRaw returns
// the next message's wire bytes without unmarshalling them, for
// a Decoder; free gives them back to their pool once nothing refers to
// them any more. The gRPC server's streams have it; the in-process Pipe,
// which passes messages without marshalling them, does not.
type RawStream interface {
	RecvRaw() (b []byte, free func(), err error)
}

// serverStream is the master's end of a worker's gRPC stream.
type serverStream struct {
	grpc.BidiStreamingServer[pb.WorkerMessage, pb.MasterMessage]
}

var (
	_ MasterStream = serverStream{}
	_ RawStream    = serverStream{}
)

// RecvRaw receives the next message as it came.
func (s serverStream) RecvRaw() ([]byte, func(), error) {
	var m rawMessage
	if err := s.RecvMsg(&m); err != nil {
		return nil, nil, err
	}
	return m.buf.ReadOnlyData(), m.buf.Free, nil
}

// rawMessage receives a message's bytes; rawCodec fills it.
type rawMessage struct{ buf mem.Buffer }

// rawCodec is gRPC's protobuf codec, except that it hands a rawMessage
// the received bytes as they are, in a buffer of gRPC's pool.
type rawCodec struct{ encoding.CodecV2 }

func (c rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if m, ok := v.(*rawMessage); ok {
		m.buf = data.MaterializeToBuffer(mem.DefaultBufferPool())
		return nil
	}
	return c.CodecV2.Unmarshal(data, v)
}
