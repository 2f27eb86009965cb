package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/horde-load/horde/internal/cluster/pb"
)

const token = "s3cret-token"

func TestWorkerAdmittedAndMessagesFlow(t *testing.T) {
	t.Parallel()
	ts := startServer(t, ServerOptions{Token: token})
	w := join(t, ts.addr, DialOptions{Token: token}, "w1")
	for range 10 {
		if err := w.ping(); err != nil {
			t.Fatal(err)
		}
	}
	stats := DeltaToPB(nil, 7, 3, true)
	if err := w.s.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Stats{Stats: stats}}); err != nil {
		t.Fatal(err)
	}
	if err := w.s.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Goodbye{Goodbye: &pb.Goodbye{Reason: "done"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("Recv after Goodbye = %v, want io.EOF (master ended the stream)", err)
	}
	if got := <-ts.ended; got != "w1" {
		t.Fatalf("Handle ended for %q, want w1", got)
	}
	if n := ts.admitted.Load(); n != 1 {
		t.Fatalf("admitted %d workers, want 1", n)
	}
}

// refusal is one way a worker is turned away.
type refusal struct {
	name    string
	token   string
	first   *pb.WorkerMessage // nil: send nothing
	code    codes.Code
	msg     string // in the status message
	explain string // in Explain's sentence
	log     string // in the master's WARN line
}

func refusals() []refusal {
	heartbeat := &pb.WorkerMessage{Msg: &pb.WorkerMessage_Heartbeat{Heartbeat: &pb.Heartbeat{}}}
	oldHello := hello("old")
	oldHello.GetHello().ProtocolVersion = 99
	noID := hello("")
	return []refusal{
		{"wrong token", "nope", hello("x"), codes.Unauthenticated, "wrong auth token",
			"refused the auth token", "wrong auth token"},
		{"no token", "", hello("x"), codes.Unauthenticated, "--auth-token or HORDE_AUTH_TOKEN",
			"refused the auth token", "no auth token"},
		{"wrong protocol version", token, oldHello, codes.FailedPrecondition,
			"protocol version 99, master speaks 1: run the same horde version on master and workers",
			"refused the worker", "protocol version 99"},
		{"no Hello in time", token, nil, codes.DeadlineExceeded, "no Hello within",
			"dropped the worker", "no Hello within"},
		{"heartbeat first", token, heartbeat, codes.InvalidArgument, "first message is Heartbeat, not Hello",
			"refused the worker", "first message is Heartbeat"},
		{"empty worker id", token, noID, codes.InvalidArgument, "no worker_id",
			"refused the worker", "no worker_id"},
	}
}

// refuse runs one refusal against addr and returns the error the worker
// saw: from Dial for a token, else from the first Recv.
func refuse(t *testing.T, addr string, r refusal) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, closeFn, err := Dial(ctx, addr, DialOptions{Token: r.token})
	if err != nil {
		return err
	}
	defer func() { _ = closeFn() }()
	if r.first != nil {
		if err := s.Send(r.first); err != nil && !errors.Is(err, io.EOF) {
			t.Fatalf("Send: %v", err)
		}
	}
	m, err := s.Recv()
	if err == nil {
		t.Fatalf("worker was admitted: got %v", m)
	}
	return err
}

func TestRefusedWhileAGoodWorkerKeepsGoing(t *testing.T) {
	t.Parallel()
	ts := startServer(t, ServerOptions{Token: token, HelloTimeout: time.Second})
	good := join(t, ts.addr, DialOptions{Token: token}, "good")
	stop := good.keepPinging()

	t.Run("refusals", func(t *testing.T) {
		for _, r := range refusals() {
			t.Run(r.name, func(t *testing.T) {
				t.Parallel()
				err := refuse(t, ts.addr, r)
				if got := status.Code(err); got != r.code {
					t.Fatalf("code %v (%v), want %v", got, err, r.code)
				}
				if st, _ := status.FromError(err); !strings.Contains(st.Message(), r.msg) {
					t.Errorf("message %q, want it to contain %q", st.Message(), r.msg)
				}
				if ex := Explain(err); !strings.Contains(ex, r.explain) || !strings.Contains(ex, ts.addr) {
					t.Errorf("Explain = %q, want %q and the address", ex, r.explain)
				}
				line := ts.log.waitLine(t, "worker refused", r.log, "peer=127.0.0.1:")
				if !strings.Contains(line, "level=WARN") {
					t.Errorf("log line %q is not a warning", line)
				}
			})
		}
	})

	n, err := stop()
	if err != nil {
		t.Fatalf("good worker broke while others were refused: %v", err)
	}
	if n == 0 {
		t.Fatal("good worker exchanged no messages")
	}
	if err := good.ping(); err != nil {
		t.Fatalf("good worker after the refusals: %v", err)
	}
	if got := ts.admitted.Load(); got != 1 {
		t.Fatalf("%d workers reached Handle, want only the good one", got)
	}
}

func TestGarbageOnThePort(t *testing.T) {
	t.Parallel()
	ts := startServer(t, ServerOptions{Token: token})
	good := join(t, ts.addr, DialOptions{Token: token}, "good")
	stop := good.keepPinging()

	junk := bytes.Repeat([]byte{0x00, 0xff}, 1000)
	get := []byte("GET / HTTP/1.1\r\nHost: master\r\n\r\n")
	for _, payload := range [][]byte{junk, get, nil, []byte(http2Preface[:10])} {
		rawExchange(t, ts.addr, payload)
	}
	ts.log.waitLine(t, "not a horde worker", `first_bytes="\x00\xff`)
	ts.log.waitLine(t, "not a horde worker", `first_bytes="GET / HTTP/1.1`, "web port (8089)")

	if n, err := stop(); err != nil {
		t.Fatalf("good worker broke during the garbage (after %d echoes): %v", n, err)
	}
	if err := good.ping(); err != nil {
		t.Fatalf("good worker after the garbage: %v", err)
	}
	// The server still admits new workers.
	w2 := join(t, ts.addr, DialOptions{Token: token}, "after")
	if err := w2.ping(); err != nil {
		t.Fatal(err)
	}
	if ls := ts.log.lines("level=WARN", "not a horde worker"); len(ls) != 2 {
		t.Errorf("want 2 warnings (junk, HTTP/1.1), not for an empty connection or a cut preface; got %q", ls)
	}
}

// rawExchange writes payload on a plain TCP connection, half-closes it and
// reads until the server hangs up.
func rawExchange(t *testing.T, addr string, payload []byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(waitFor)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(payload); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, c); err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("reading the server's answer: %v", err)
	}
}

func TestServeStopsAndEndsStreams(t *testing.T) {
	t.Parallel()
	handled := make(chan context.Context, 1)
	ts := &testServer{log: &logBuffer{}, ended: make(chan string, 4)}
	srv, err := NewServer(ServerOptions{Token: token, Handle: func(ctx context.Context, s MasterStream, h *pb.Hello) error {
		handled <- ctx
		return ts.echo(ctx, s, h)
	}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()

	w := join(t, ln.Addr().String(), DialOptions{Token: token}, "w")
	hctx := <-handled
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve returned %v after a stop, want nil", err)
		}
	case <-time.After(waitFor):
		t.Fatal("Serve did not return after its context ended")
	}
	if hctx.Err() == nil {
		t.Error("Handle's context is not done after the server stopped")
	}
	_, err = w.s.Recv()
	if status.Code(err) != codes.Unavailable || !strings.HasSuffix(Explain(err), "is shutting down") {
		t.Errorf("worker Recv after the server stopped: %v (%s), want Unavailable: master is shutting down", err, Explain(err))
	}
	if err := srv.Serve(context.Background(), ln); err == nil {
		t.Error("second Serve succeeded")
	}
}

func TestNewServerOptions(t *testing.T) {
	t.Parallel()
	handle := func(context.Context, MasterStream, *pb.Hello) error { return nil }
	for _, tc := range []struct {
		name string
		o    ServerOptions
		ok   bool
	}{
		{"token", ServerOptions{Token: "t", Handle: handle}, true},
		{"no auth allowed", ServerOptions{AllowNoAuth: true, Handle: handle}, true},
		{"no token", ServerOptions{Handle: handle}, false},
		{"no handler", ServerOptions{Token: "t"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewServer(tc.o)
			if (err == nil) != tc.ok {
				t.Fatalf("NewServer error %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestAllowNoAuthAcceptsAnyWorker(t *testing.T) {
	t.Parallel()
	ts := startServer(t, ServerOptions{AllowNoAuth: true})
	for _, tok := range []string{"", "whatever"} {
		w := join(t, ts.addr, DialOptions{Token: tok}, "w"+tok)
		if err := w.ping(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMessageSizeLimit(t *testing.T) {
	t.Parallel()
	// A bundle above gRPC's 4 MiB default gets through by default.
	file := bytes.Repeat([]byte("x"), 6<<20)
	big := startServer(t, ServerOptions{Token: token, Handle: func(ctx context.Context, s MasterStream, h *pb.Hello) error {
		w := &pb.Welcome{MasterRunId: "run-1", Bundle: &pb.Bundle{Files: map[string][]byte{"data.csv": file}}}
		if err := s.Send(&pb.MasterMessage{Msg: &pb.MasterMessage_Welcome{Welcome: w}}); err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, closeFn, err := Dial(ctx, big.addr, DialOptions{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = closeFn() }()
	if err := s.Send(hello("w")); err != nil {
		t.Fatal(err)
	}
	m, err := s.Recv()
	if err != nil {
		t.Fatalf("6 MiB bundle: %v", err)
	}
	if got := m.GetWelcome().GetBundle().GetFiles()["data.csv"]; !bytes.Equal(got, file) {
		t.Fatalf("bundle file arrived with %d bytes, want %d", len(got), len(file))
	}

	// A message above MaxMessageBytes is refused with ResourceExhausted.
	small := startServer(t, ServerOptions{Token: token, MaxMessageBytes: 1 << 20})
	w2 := join(t, small.addr, DialOptions{Token: token}, "w2")
	bye := &pb.Goodbye{Reason: strings.Repeat("x", 2<<20)}
	if err := w2.s.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Goodbye{Goodbye: bye}}); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	_, err = w2.s.Recv()
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("oversized message: %v, want ResourceExhausted", err)
	}
	if ex := Explain(err); !strings.Contains(ex, "too large") {
		t.Errorf("Explain = %q", ex)
	}
}

// A report many times the master's flow-control window (a worker with
// thousands of endpoints) arrives whole, as do the reports after it: the
// window bounds what a master holds unread, not what a worker may send.
func TestReportLargerThanTheWindow(t *testing.T) {
	t.Parallel()
	got := make(chan int, 3)
	ts := startServer(t, ServerOptions{Token: token, Handle: countRows(got)})
	w := join(t, ts.addr, DialOptions{Token: token}, "w")
	for _, n := range []int{5000, 3, 5000} {
		st := &pb.Stats{Seq: 1}
		for i := range n {
			st.Endpoints = append(st.Endpoints, &pb.Endpoint{Method: "GET", Name: "/a/rather/long/name/" + strings.Repeat("x", i%50),
				Requests: 1, Histogram: &pb.Histogram{Min: 1, Max: 1, First: 1, Counts: []uint64{1}}})
		}
		if size := len(mustMarshalT(t, wrapStats(st))); n > 3 && size < 4*streamWindow {
			t.Fatalf("a report of %d bytes is not much larger than the %d-byte window", size, streamWindow)
		}
		if err := w.s.Send(wrapStats(st)); err != nil {
			t.Fatal(err)
		}
		select {
		case rows := <-got:
			if rows != n {
				t.Fatalf("the master read %d rows, the worker sent %d", rows, n)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("a report of %d rows did not arrive in 10 s", n)
		}
	}
}

// countRows is a Handle that welcomes a worker and sends the number of
// rows of each of its reports to rows.
func countRows(rows chan<- int) func(context.Context, MasterStream, *pb.Hello) error {
	return func(ctx context.Context, s MasterStream, h *pb.Hello) error {
		if err := s.Send(&pb.MasterMessage{Msg: &pb.MasterMessage_Welcome{Welcome: &pb.Welcome{MasterRunId: "run-1"}}}); err != nil {
			return err
		}
		for {
			m, err := s.Recv()
			if err != nil {
				return nil
			}
			rows <- len(m.GetStats().GetEndpoints())
		}
	}
}

// teeListener keeps a copy of every byte its connections write.
type teeListener struct {
	net.Listener
	mu  sync.Mutex
	out bytes.Buffer
}

func (l *teeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &teeConn{Conn: c, l: l}, nil
}

type teeConn struct {
	net.Conn
	l *teeListener
}

func (c *teeConn) Write(p []byte) (int, error) {
	c.l.mu.Lock()
	c.l.out.Write(p)
	c.l.mu.Unlock()
	return c.Conn.Write(p)
}

// The master writes a window update for a worker's stream every quarter
// of the stream's window of reports it has read, and, for the connection,
// only every quarter of the connection's own, larger window: each update
// is a write, and ten thousand workers' reports would otherwise cost the
// master one more write each 16 KiB.
func TestMasterWritesFewWindowUpdates(t *testing.T) {
	t.Parallel()
	read := make(chan int, 64)
	srv, err := NewServer(ServerOptions{Token: token, Handle: countRows(read)})
	if err != nil {
		t.Fatal(err)
	}
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &teeListener{Listener: inner}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	w := join(t, inner.Addr().String(), DialOptions{Token: token}, "w")
	st := &pb.Stats{Seq: 1}
	for i := range 100 {
		st.Endpoints = append(st.Endpoints, &pb.Endpoint{Method: "GET", Name: fmt.Sprintf("/endpoint/%03d", i),
			Requests: 10, Histogram: &pb.Histogram{Min: 1, Max: 900, First: 1, Counts: []uint64{1, 2, 3, 0, 0, 0, 1, 1, 1, 1}}})
	}
	size := len(mustMarshalT(t, wrapStats(st)))
	const reports = 100
	for range reports {
		if err := w.s.Send(wrapStats(st)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-read:
		case <-time.After(waitFor):
			t.Fatal("a report did not arrive")
		}
	}
	w.close()

	ln.mu.Lock()
	out := bytes.Clone(ln.out.Bytes())
	ln.mu.Unlock()
	fr := http2.NewFramer(io.Discard, bytes.NewReader(out))
	var conn, stream int
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			break
		}
		if wu, ok := f.(*http2.WindowUpdateFrame); ok {
			if wu.StreamID == 0 {
				conn++
			} else {
				stream++
			}
		}
	}
	sent := size * reports
	t.Logf("%d bytes of reports: %d window updates for the stream, %d for the connection", sent, stream, conn)
	// the last ones may still be on their way to the socket
	if want := sent / (streamWindow / 4); stream < want/2 || stream > want+1 {
		t.Errorf("%d window updates for the stream after %d bytes of reports, want %d (one a quarter of %d bytes)", stream, sent, want, streamWindow)
	}
	// one when the connection opens, to widen its window, then one a quarter of it
	if max := 1 + sent/(connWindow/4); conn > max {
		t.Errorf("%d window updates for the connection after %d bytes of reports, want at most %d", conn, sent, max)
	}
}
