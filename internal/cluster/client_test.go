package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestDialClosedPort(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, _, err = Dial(context.Background(), addr, DialOptions{Token: token})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("Dial to a closed port: %v, want Unavailable", err)
	}
	if got, want := Explain(err), "master unreachable at "+addr+": connection refused"; got != want {
		t.Fatalf("Explain = %q, want %q", got, want)
	}
}

func TestDialNotAHordeMaster(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	other := grpc.NewServer() // a gRPC server without horde's service
	go func() { _ = other.Serve(ln) }()
	defer other.Stop()
	_, _, err = Dial(context.Background(), ln.Addr().String(), DialOptions{Token: token})
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("Dial: %v, want Unimplemented", err)
	}
	if ex := Explain(err); !strings.Contains(ex, "is not a horde master") {
		t.Fatalf("Explain = %q", ex)
	}
}

func TestDialContextEndsTheStream(t *testing.T) {
	t.Parallel()
	ts := startServer(t, ServerOptions{Token: token})
	ctx, cancel := context.WithCancel(context.Background())
	s, closeFn, err := Dial(ctx, ts.addr, DialOptions{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(hello("w")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != nil { // Welcome
		t.Fatal(err)
	}
	cancel()
	_, err = s.Recv()
	if status.Code(err) != codes.Canceled {
		t.Fatalf("Recv after cancel: %v, want Canceled", err)
	}
	if got := <-ts.ended; got != "w" {
		t.Fatalf("Handle ended for %q", got)
	}
	if err := closeFn(); err != nil {
		t.Fatal(err)
	}
	if err := closeFn(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

func TestCloseEndsTheStream(t *testing.T) {
	t.Parallel()
	ts := startServer(t, ServerOptions{Token: token})
	w := join(t, ts.addr, DialOptions{Token: token}, "w")
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.Recv(); err == nil {
		t.Fatal("Recv after close succeeded")
	}
	if got := <-ts.ended; got != "w" {
		t.Fatalf("Handle ended for %q", got)
	}
}

func TestExplain(t *testing.T) {
	t.Parallel()
	at := func(err error) error { return &remoteError{addr: "m:5557", err: err} }
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{io.EOF, "master ended the stream"},
		{errors.New("plain"), "plain"},
		{at(status.Error(codes.Unauthenticated, msgWrongToken)), "master at m:5557 refused the auth token: wrong auth token"},
		{status.Error(codes.FailedPrecondition, "protocol version 2, master speaks 1"), "master refused the worker: protocol version 2, master speaks 1"},
		{at(status.Error(codes.Unavailable, `connection error: desc = "transport: Error while dialing: dial tcp 10.0.0.1:5557: connect: connection refused"`)),
			"master unreachable at m:5557: connection refused"},
		{at(status.Error(codes.Unavailable, `connection error: desc = "transport: Error while dialing: dial tcp: lookup nohost: no such host"`)),
			"master unreachable at m:5557: unknown host (dial tcp: lookup nohost: no such host)"},
		{at(status.Error(codes.Unavailable, `connection error: desc = "transport: Error while dialing: dial tcp 10.0.0.1:5557: i/o timeout"`)),
			"master unreachable at m:5557: connection timed out"},
		{at(status.Error(codes.Unavailable, "name resolver error: produced zero addresses")),
			"master unreachable at m:5557: the host name does not resolve"},
		{at(status.Error(codes.Unavailable, "some new reason")), "master unreachable at m:5557: some new reason"},
		{at(status.Error(codes.Canceled, "context canceled")), "stream to the master at m:5557 was closed"},
		{at(status.Error(codes.DeadlineExceeded, "context deadline exceeded")), "timed out talking to the master at m:5557"},
		{at(status.Error(codes.Internal, "boom")), "master at m:5557: Internal: boom"},
		{fmt.Errorf("worker: %w", at(status.Error(codes.Unauthenticated, msgNoToken))),
			"master at m:5557 refused the auth token: " + msgNoToken},
	} {
		if got := Explain(tc.err); got != tc.want {
			t.Errorf("Explain(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestStatusCodeSurvivesWrapping(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("worker: %w", &remoteError{addr: "m", err: status.Error(codes.Unauthenticated, "x")})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("status.Code = %v", status.Code(err))
	}
}

func TestWithDefaultPort(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"master":             "master:5557",
		"master:7000":        "master:7000",
		"10.0.0.1":           "10.0.0.1:5557",
		"[::1]":              "[::1]:5557",
		"[::1]:7000":         "[::1]:7000",
		"dns:///master:5557": "dns:///master:5557",
	} {
		if got := withDefaultPort(in); got != want {
			t.Errorf("withDefaultPort(%q) = %q, want %q", in, got, want)
		}
	}
}
