package cli

import (
	"bufio"
	"net"
	"sync"
	"testing"

	"github.com/horde-load/horde/internal/exitcode"
)

// misbehavingServer accepts TCP connections on 127.0.0.1:0 and treats each
// with handle. It stops when the test ends.
func misbehavingServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); handle(c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + ln.Addr().String() + "/"
}

func readRequestHead(c net.Conn) {
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil || line == "\r\n" {
			return
		}
	}
}

func TestMisbehavingTargetsAreFailuresNotCrashes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handle  func(net.Conn)
		wantErr string
	}{
		{"garbage bytes", func(c net.Conn) {
			readRequestHead(c)
			_, _ = c.Write([]byte("\x00\x01GARBAGE \xff\xfe\r\n\r\n"))
			c.Close()
		}, "protocol error"},
		{"reset", func(c net.Conn) {
			readRequestHead(c)
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			c.Close()
		}, "connection reset"},
		{"silent until timeout", func(c net.Conn) {
			readRequestHead(c)
			_, _ = c.Read(make([]byte, 1)) // hold until the client gives up
			c.Close()
		}, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := misbehavingServer(t, tt.handle)
			out := pathIn(t.TempDir(), "s.json")
			r := horde(t, nil, "run", url, "-u", "2", "-t", "1500ms", "--timeout", "300ms", "--headless", "--json", out)
			if r.code != exitcode.Failed {
				t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			s := readSummary(t, out)
			if s.Totals.Requests == 0 || s.Totals.Failures != s.Totals.Requests {
				t.Fatalf("totals %+v: want every request recorded as failed", s.Totals)
			}
			found := false
			for _, e := range s.Errors {
				found = found || e.Error == tt.wantErr
			}
			if !found {
				t.Fatalf("errors %+v: want a group %q", s.Errors, tt.wantErr)
			}
		})
	}
}
