package runstore

import (
	"errors"
	"testing"

	"github.com/horde-load/horde/internal/runstore/pgtest"
)

// PostgreSQL stopped in the middle of a run (pg_ctl stop, then start):
// the writes made while it is away go to the spool, and nothing is lost
// once it is back — the run's own next write puts all of it, FlushSpool
// the runs that did not write again.
func TestPostgresRestartLosesNothing(t *testing.T) {
	srv, err := pgtest.Start() // its own server: stopping the shared one would break other tests
	if err != nil {
		postgres(t) // skips with the reason when PostgreSQL is not installed
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	s := open(t, srv.NewDB(t), Options{SpoolDir: dir})
	ctx := testCtx(t)

	r := begin(t, s, Info{Script: "long.star"})
	if err := r.Checkpoint(ctx, snapshot("one", 1)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	for i, tag := range []string{"two", "three"} {
		snap := snapshot(tag, int64(i+2))
		if tag == "three" {
			snap.Histograms = []byte("histograms only in three")
		}
		var se *SpoolError
		if err := r.Checkpoint(ctx, snap); !errors.As(err, &se) {
			t.Fatalf("checkpoint %s with the server stopped: %v, want a *SpoolError", tag, err)
		}
	}
	late, err := s.Begin(ctx, Info{Script: "begun-while-down.star"})
	if !errors.As(err, new(*SpoolError)) {
		t.Fatalf("Begin with the server stopped: %v", err)
	}
	if err := late.Checkpoint(ctx, snapshot("late", 7)); !errors.As(err, new(*SpoolError)) {
		t.Fatalf("checkpoint with the server stopped: %v", err)
	}
	if got := spoolFiles(t, dir); len(got) != 2 {
		t.Fatalf("spool holds %v, want one file per run", got)
	}

	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	final := snapshot("final", 4)
	final.Histograms = nil
	if err := r.Finish(ctx, StatusPassed, "", final); err != nil {
		t.Fatalf("Finish after the restart: %v", err)
	}
	got := get(t, s, r.ID())
	if got.Status != StatusPassed || got.Metrics.Requests != 4 || string(got.Histograms) != "histograms only in three" {
		t.Errorf("run after the restart: %q %+v histograms %q", got.Status, got.Metrics, got.Histograms)
	}
	if n, err := s.FlushSpool(ctx); n != 1 || err != nil {
		t.Errorf("FlushSpool: %d, %v; want the run begun while the server was down", n, err)
	}
	got = get(t, s, late.ID())
	if got.Status != StatusRunning || got.Script != "begun-while-down.star" || got.Metrics.Requests != 7 {
		t.Errorf("run begun while the server was down: %+v", got.Run)
	}
	if err := late.Finish(ctx, StatusAborted, "stopped", Snapshot{}); err != nil {
		t.Errorf("Finish of the late run: %v", err)
	}
	if got := spoolFiles(t, dir); len(got) != 0 {
		t.Errorf("spool files left: %v", got)
	}
}
