package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/horde-load/horde/internal/cluster/pb"
)

// DialOptions configure a worker's connection to the master.
type DialOptions struct {
	// Token is the shared auth token; "" sends none.
	Token string
	// TLS is the client TLS configuration; nil dials plaintext.
	TLS *tls.Config
	// MaxMessageBytes bounds one message either way; 0 means
	// DefaultMaxMessageBytes.
	MaxMessageBytes int
	// Dialer opens the TCP connection; nil uses gRPC's. The worker
	// simulator (package sim) keeps the connection to cut it the way a
	// killed process does.
	Dialer func(ctx context.Context, addr string) (net.Conn, error)
}

// Dial connects to the master at addr (host:port; the port defaults to
// DefaultPort) and opens the worker stream. It returns once the master
// has accepted the token, so a wrong token, a closed port or a TLS
// mismatch is Dial's error; it does not send Hello (the worker does).
//
// ctx governs the stream, as in gRPC: cancelling it ends the stream, so do
// not pass a context with a dial timeout that expires while the stream is
// in use. close ends the stream and the connection and is safe to call
// more than once. Errors keep their gRPC status (status.Code works on
// them); Explain turns them into a sentence for logs. As with any gRPC
// stream, Send must not be called from two goroutines at once, and Send
// returns io.EOF when the master ended the stream: Recv returns why.
func Dial(ctx context.Context, addr string, o DialOptions) (WorkerStream, func() error, error) {
	addr = withDefaultPort(addr)
	maxBytes := o.MaxMessageBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxMessageBytes
	}
	creds := insecure.NewCredentials()
	if o.TLS != nil {
		creds = credentials.NewTLS(o.TLS)
	}
	dopts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time: keepaliveTime, Timeout: keepaliveTimeout, PermitWithoutStream: true,
		}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxBytes), grpc.MaxCallSendMsgSize(maxBytes)),
	}
	if o.Dialer != nil {
		dopts = append(dopts, grpc.WithContextDialer(o.Dialer))
	}
	conn, err := grpc.NewClient(addr, dopts...)
	if err != nil {
		return nil, nil, &remoteError{addr: addr, err: status.Error(codes.InvalidArgument, err.Error())}
	}
	sctx, cancel := context.WithCancel(ctx)
	if o.Token != "" {
		sctx = metadata.AppendToOutgoingContext(sctx, "authorization", "Bearer "+o.Token)
	}
	var once sync.Once
	var closeErr error
	closeFn := func() error {
		once.Do(func() {
			cancel()
			closeErr = conn.Close()
		})
		return closeErr
	}
	st, err := pb.NewMasterClient(conn).Connect(sctx)
	if err != nil {
		_ = closeFn()
		return nil, nil, &remoteError{addr: addr, err: err}
	}
	if err := awaitAccept(st); err != nil {
		_ = closeFn()
		return nil, nil, &remoteError{addr: addr, err: err}
	}
	return &clientStream{st: st, addr: addr}, closeFn, nil
}

// awaitAccept waits for the master's response header, which it sends
// once the token is accepted; a refusal arrives instead as the stream's
// status.
func awaitAccept(st grpc.BidiStreamingClient[pb.WorkerMessage, pb.MasterMessage]) error {
	md, err := st.Header()
	if err == nil && len(md.Get(headerProtocol)) > 0 {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := st.Recv(); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return status.Error(codes.Unimplemented, "the server did not answer as a horde master")
}

// withDefaultPort appends DefaultPort to a bare host name or IP.
func withDefaultPort(addr string) string {
	if strings.Contains(addr, "://") || strings.HasPrefix(addr, "unix:") {
		return addr
	}
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	host := strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
	return net.JoinHostPort(host, strconv.Itoa(DefaultPort))
}

// clientStream is the worker's end of a gRPC stream; it adds the master's
// address to errors.
type clientStream struct {
	st   grpc.BidiStreamingClient[pb.WorkerMessage, pb.MasterMessage]
	addr string
}

var _ WorkerStream = (*clientStream)(nil)

// Send sends one message to the master.
func (c *clientStream) Send(m *pb.WorkerMessage) error {
	return c.wrap(c.st.Send(m))
}

// Recv receives the master's next message; io.EOF when the master ended
// the stream normally.
func (c *clientStream) Recv() (*pb.MasterMessage, error) {
	m, err := c.st.Recv()
	return m, c.wrap(err)
}

func (c *clientStream) wrap(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return err
	}
	return &remoteError{addr: c.addr, err: err}
}

// remoteError is an error talking to the master at addr. It keeps the
// gRPC status of the error it wraps.
type remoteError struct {
	addr string
	err  error
}

func (e *remoteError) Error() string { return "cluster: master " + e.addr + ": " + e.err.Error() }

func (e *remoteError) Unwrap() error { return e.err }

// GRPCStatus makes status.Code and status.FromError see the wrapped
// status unchanged.
func (e *remoteError) GRPCStatus() *status.Status { return status.Convert(e.err) }
