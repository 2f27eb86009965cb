package runstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/runstore/pgtest"
)

// serverPIDs returns the PIDs of a server's postmaster and its children.
func serverPIDs(t *testing.T, s *pgtest.Server) []int {
	t.Helper()
	b, err := os.ReadFile(s.PIDFile())
	if err != nil {
		t.Fatal(err)
	}
	master, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	pids := []int{master}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut after ')'.
		_, rest, _ := strings.Cut(string(b), ") ")
		if f := strings.Fields(rest); len(f) > 1 && f[1] == strconv.Itoa(master) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(st)))
			pids = append(pids, pid)
		}
	}
	return pids
}

// A server that stops answering (its processes frozen, as a network
// partition looks to a client) costs a write its WriteTimeout, not the
// test: the write is spooled, and the run goes on once it answers again.
func TestHungPostgresSpools(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc to find the server's processes")
	}
	srv, err := pgtest.Start()
	if err != nil {
		postgres(t) // skips with the reason when PostgreSQL is not installed
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	s := open(t, srv.NewDB(t), Options{SpoolDir: t.TempDir(), WriteTimeout: time.Second})
	r := begin(t, s, Info{Script: "partition.star"})

	pids := serverPIDs(t, srv)
	resume := func() {
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}
	t.Cleanup(resume)
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatalf("freeze the server: %v", err)
		}
	}
	start := time.Now()
	err = r.Checkpoint(context.Background(), snapshot("frozen", 9))
	if took := time.Since(start); !errors.As(err, new(*SpoolError)) || took > 20*time.Second {
		t.Fatalf("checkpoint to a frozen server: %v after %v, want a *SpoolError within the timeout", err, took)
	}
	resume()
	if err := r.Finish(testCtx(t), StatusPassed, "", Snapshot{Metrics: Metrics{Requests: 10}}); err != nil {
		t.Fatalf("Finish once the server answers: %v", err)
	}
	if got := get(t, s, r.ID()); got.Status != StatusPassed || string(got.Histograms) != "histograms frozen" {
		t.Errorf("run after the freeze: %q histograms %q", got.Status, got.Histograms)
	}
}
