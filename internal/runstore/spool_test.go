package runstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cancelled returns a context whose writes fail, as a store that is away
// makes them fail.
func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	return names
}

// A write the store refuses is kept in the spool, said so in the error;
// the run's next successful write puts everything, spooled parts too.
func TestSpoolKeepsRefusedWrites(t *testing.T) {
	eachBackend(t, func(t *testing.T, loc string) {
		dir := t.TempDir()
		s := open(t, loc, Options{SpoolDir: dir})
		r := begin(t, s, Info{Script: "a.star"})
		cp := snapshot("spooled", 100)
		err := r.Checkpoint(cancelled(), cp)
		var se *SpoolError
		if !errors.As(err, &se) || se.RunID != r.ID() || !strings.Contains(err.Error(), se.Path) {
			t.Fatalf("refused Checkpoint: %v, want a *SpoolError naming the spool file", err)
		}
		if files := spoolFiles(t, dir); len(files) != 1 || files[0] != se.Path {
			t.Fatalf("spool holds %v, want %s", files, se.Path)
		}
		if got := get(t, s, r.ID()); got.Metrics.Requests != 0 {
			t.Fatalf("the store got the refused write: %+v", got.Metrics)
		}
		finish(t, r, StatusPassed, Snapshot{Metrics: Metrics{Requests: 200}})
		got := get(t, s, r.ID())
		if got.Status != StatusPassed || got.Metrics.Requests != 200 || string(got.Histograms) != "histograms spooled" {
			t.Errorf("after Finish: %q %+v histograms %q; want the final metrics and the spooled blobs", got.Status, got.Metrics, got.Histograms)
		}
		if files := spoolFiles(t, dir); len(files) != 0 {
			t.Errorf("spool files left after the store took the run: %v", files)
		}
	})
}

// Runs spooled from their Begin to their Finish are written by the next
// Open; an older spooled state never replaces a newer stored one; an
// unreadable spool file is set aside.
func TestOpenFlushesSpool(t *testing.T) {
	eachBackend(t, func(t *testing.T, loc string) {
		dir := t.TempDir()
		s := open(t, loc, Options{SpoolDir: dir})

		lost, err := s.Begin(cancelled(), Info{Script: "offline.star", Labels: map[string]string{"env": "ci"}})
		if !errors.As(err, new(*SpoolError)) {
			t.Fatalf("Begin with the store away: %v", err)
		}
		if err := lost.Finish(cancelled(), StatusFailed, "threshold", snapshot("offline", 42)); !errors.As(err, new(*SpoolError)) {
			t.Fatalf("Finish with the store away: %v", err)
		}
		if _, err := s.Get(testCtx(t), lost.ID()); !errors.Is(err, ErrNotFound) {
			t.Fatalf("run in the store before the flush: %v", err)
		}

		// A run whose checkpoint 2 was spooled, then written with 3.
		r := begin(t, s, Info{})
		if err := r.Checkpoint(cancelled(), snapshot("two", 2)); err == nil {
			t.Fatal("want a spooled write")
		}
		old, err := os.ReadFile(filepath.Join(dir, s.spool.key+"_"+r.ID()+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Checkpoint(testCtx(t), snapshot("three", 3)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, s.spool.key+"_"+r.ID()+".json"), old, 0o600); err != nil {
			t.Fatal(err)
		}
		bad := filepath.Join(dir, s.spool.key+"_0000000000000000.json")
		if err := os.WriteFile(bad, []byte("{not json"), 0o600); err != nil {
			t.Fatal(err)
		}

		s2 := open(t, loc, Options{SpoolDir: dir})
		got := get(t, s2, lost.ID())
		if got.Status != StatusFailed || got.Reason != "threshold" || got.Metrics.Requests != 42 ||
			string(got.Histograms) != "histograms offline" || got.Labels["env"] != "ci" {
			t.Errorf("flushed run: %+v", got.Run)
		}
		if got := get(t, s2, r.ID()); got.Metrics.Requests != 3 || string(got.Histograms) != "histograms three" {
			t.Errorf("an older spooled state replaced the newer one: %+v %q", got.Metrics, got.Histograms)
		}
		if files := spoolFiles(t, dir); len(files) != 0 {
			t.Errorf("spool files left: %v", files)
		}
		if _, err := os.Stat(bad + ".bad"); err != nil {
			t.Errorf("the unreadable spool file was not set aside: %v", err)
		}
	})
}

// Without a spool directory (PostgreSQL's default) a refused write is an
// error that says the run is not kept.
func TestNoSpoolDir(t *testing.T) {
	s := open(t, postgres(t).NewDB(t), Options{})
	r := begin(t, s, Info{})
	err := r.Checkpoint(cancelled(), Snapshot{})
	if err == nil || errors.As(err, new(*SpoolError)) || !strings.Contains(err.Error(), "no spool directory") {
		t.Errorf("refused write with no spool: %v", err)
	}
}

// A SQLite store spools beside its file by default.
func TestSQLiteDefaultSpool(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	s := open(t, path, Options{})
	_, err := s.Begin(cancelled(), Info{})
	var se *SpoolError
	if !errors.As(err, &se) || filepath.Dir(se.Path) != path+".spool" {
		t.Errorf("spooled to %v, want %s", err, path+".spool")
	}
}
