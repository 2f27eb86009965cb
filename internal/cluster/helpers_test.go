package cluster

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/horde-load/horde/internal/cluster/pb"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitFor is how long a test polls for something that should happen at
// once.
const waitFor = 10 * time.Second

// logBuffer collects a server's log lines, safe for concurrent writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns the log lines that contain every one of parts.
func (b *logBuffer) lines(parts ...string) []string {
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		ok := l != ""
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// waitLine polls until a log line contains every one of parts.
func (b *logBuffer) waitLine(t *testing.T, parts ...string) string {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		if ls := b.lines(parts...); len(ls) > 0 {
			return ls[0]
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no log line with %q; log:\n%s", parts, b.String())
	return ""
}

// testServer is a running Server with an echo handler.
type testServer struct {
	addr     string
	log      *logBuffer
	admitted atomic.Int64
	ended    chan string // worker ids whose Handle returned
}

// startServer starts a server on 127.0.0.1:0 that welcomes workers and
// echoes their heartbeats; it stops when the test ends.
func startServer(t *testing.T, o ServerOptions) *testServer {
	t.Helper()
	ts := &testServer{log: &logBuffer{}, ended: make(chan string, 64)}
	o.Logger = slog.New(slog.NewTextHandler(ts.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if o.Handle == nil {
		o.Handle = ts.echo
	}
	srv, err := NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ts
}

// echo welcomes a worker, answers each heartbeat with the same heartbeat
// and returns on Goodbye, at the end of the stream or when ctx is done.
func (ts *testServer) echo(ctx context.Context, s MasterStream, hello *pb.Hello) error {
	ts.admitted.Add(1)
	defer func() { ts.ended <- hello.GetWorkerId() }()
	welcome := &pb.Welcome{MasterRunId: "run-1", ReportIntervalMs: 1000}
	if err := s.Send(&pb.MasterMessage{Msg: &pb.MasterMessage_Welcome{Welcome: welcome}}); err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() {
		for {
			m, err := s.Recv()
			if err != nil {
				errc <- err
				return
			}
			if m.GetGoodbye() != nil {
				errc <- nil
				return
			}
			if hb := m.GetHeartbeat(); hb != nil {
				if err := s.Send(&pb.MasterMessage{Msg: &pb.MasterMessage_Heartbeat{Heartbeat: hb}}); err != nil {
					errc <- err
					return
				}
			}
		}
	}()
	select {
	case err := <-errc:
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	case <-ctx.Done():
		return nil
	}
}

// worker is an admitted test worker.
type worker struct {
	s     WorkerStream
	close func() error
	n     uint64
}

func hello(id string) *pb.WorkerMessage {
	return &pb.WorkerMessage{Msg: &pb.WorkerMessage_Hello{Hello: &pb.Hello{
		ProtocolVersion: ProtocolVersion, WorkerId: id, Hostname: "test", Version: "test",
	}}}
}

// join dials, says Hello and waits for the Welcome.
func join(t *testing.T, addr string, o DialOptions, id string) *worker {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, closeFn, err := Dial(ctx, addr, o)
	if err != nil {
		cancel()
		t.Fatalf("Dial: %v (%s)", err, Explain(err))
	}
	w := &worker{s: s, close: func() error { defer cancel(); return closeFn() }}
	t.Cleanup(func() { _ = w.close() })
	if err := s.Send(hello(id)); err != nil {
		t.Fatalf("send Hello: %v", err)
	}
	m, err := s.Recv()
	if err != nil {
		t.Fatalf("recv Welcome: %v (%s)", err, Explain(err))
	}
	if m.GetWelcome().GetMasterRunId() != "run-1" {
		t.Fatalf("first message from the master is %v, want Welcome", m)
	}
	return w
}

// ping sends a heartbeat and waits for its echo.
func (w *worker) ping() error {
	w.n++
	hb := &pb.Heartbeat{State: "running", TargetEpoch: w.n}
	if err := w.s.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Heartbeat{Heartbeat: hb}}); err != nil {
		return err
	}
	m, err := w.s.Recv()
	if err != nil {
		return err
	}
	if got := m.GetHeartbeat().GetTargetEpoch(); got != w.n {
		return errors.New("echo out of order")
	}
	return nil
}

// keepPinging pings from a goroutine until stop is called, which returns
// the number of echoes and the first error.
func (w *worker) keepPinging() (stop func() (int, error)) {
	quit := make(chan struct{})
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				done <- r
				return
			case <-tick.C:
			}
			if err := w.ping(); err != nil {
				r.err = err
				done <- r
				return
			}
			r.n++
		}
	}()
	return func() (int, error) {
		close(quit)
		r := <-done
		return r.n, r.err
	}
}
