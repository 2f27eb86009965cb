package worker

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/horde-load/horde/internal/cluster"
	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/scenario"
	"github.com/horde-load/horde/internal/target"
	"github.com/horde-load/horde/internal/target/targettest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// breakablePipe dials a master through in-process pipes that the test can
// cut, as a network blip would.
type breakablePipe struct {
	m     *master.Master
	ctx   context.Context
	mu    sync.Mutex
	close func()
	dials int
}

func (b *breakablePipe) dial(context.Context) (cluster.WorkerStream, func() error, error) {
	ms, ws, closePipe := cluster.Pipe()
	b.mu.Lock()
	b.close, b.dials = closePipe, b.dials+1
	b.mu.Unlock()
	go func() {
		first, err := ms.Recv()
		if err != nil || first.GetHello() == nil {
			return
		}
		_ = b.m.Attach(b.ctx, ms, first.GetHello())
		closePipe()
	}()
	return ws, func() error { closePipe(); return nil }, nil
}

func (b *breakablePipe) cut() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.close()
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A broken stream to the same master: the worker reconnects, its users go
// on, and the statistics it could not send arrive later — nothing lost.
func TestReconnectToSameMasterLosesNothing(t *testing.T) {
	base, srv := targettest.Start(t, target.Options{})
	url := base + "/delay/5"

	sc, err := scenario.URL(url)
	if err != nil {
		t.Fatal(err)
	}
	m, err := master.New(master.Options{Scenario: sc, Bundle: &pb.Bundle{Url: url, Hash: "h1", StopTimeoutMs: 5000},
		MissingTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	mdone := make(chan struct{})
	go func() { defer close(mdone); _ = m.Run(ctx) }()
	bp := &breakablePipe{m: m, ctx: ctx}
	wctx, stopWorker := context.WithCancel(ctx)
	wdone := make(chan error, 1)
	go func() { wdone <- Run(wctx, Options{Dial: bp.dial, ID: "w1", ReconnectMin: 20 * time.Millisecond}) }()
	defer func() { stopWorker(); <-wdone; cancel(); <-mdone }()

	if err := m.Start(master.TestParams{Users: 4, SpawnRate: 1000}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "4 users", func() bool { return m.Status().Users == 4 })
	time.Sleep(300 * time.Millisecond)
	bp.cut()
	waitFor(t, 5*time.Second, "a second connection", func() bool { bp.mu.Lock(); defer bp.mu.Unlock(); return bp.dials >= 2 })
	waitFor(t, 5*time.Second, "4 users again", func() bool { return m.Status().Users == 4 })
	time.Sleep(300 * time.Millisecond)

	select {
	case <-m.Stop():
	case <-time.After(10 * time.Second):
		t.Fatal("the worker did not confirm the stop within 10s")
	}
	snap := m.Snapshot(time.Now())
	served := srv.Counts()["GET /delay/5"]
	if snap.Total.Requests != served || served == 0 {
		t.Fatalf("master counted %d requests, the server served %d", snap.Total.Requests, served)
	}
	st := m.Status()
	if len(st.Workers) != 1 || st.Workers[0].State == master.WorkerMissing {
		t.Fatalf("workers %+v: want the one worker, re-admitted", st.Workers)
	}
}
