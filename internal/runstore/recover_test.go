package runstore

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// deadPID returns the PID of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot run true to get a dead PID: %v", err)
	}
	return cmd.Process.Pid
}

// A master killed with -9 leaves its run running; the next start's
// Recover aborts it with what its last checkpoint saved. Runs whose owner
// may be alive stay running.
func TestRecoverAbandonedRuns(t *testing.T) {
	eachBackend(t, func(t *testing.T, loc string) {
		clk := newClock("2026-03-01T10:00:00Z")
		host, _ := os.Hostname()
		owned := func(o Owner) *Store { return open(t, loc, Options{Now: clk.now, Owner: o}) }

		killed := begin(t, owned(Owner{Host: host, PID: deadPID(t), Instance: "killed"}), Info{Script: "a.star"})
		last := snapshot("last checkpoint", 5000)
		if err := killed.Checkpoint(testCtx(t), last); err != nil {
			t.Fatal(err)
		}
		alive := begin(t, owned(Owner{Host: host, PID: os.Getpid(), Instance: "other store, same process"}), Info{})
		remoteFresh := begin(t, owned(Owner{Host: "elsewhere", PID: 1, Instance: "x"}), Info{})
		clk.advance(2 * time.Minute)
		for _, r := range []*Recording{alive, remoteFresh} {
			if err := r.Checkpoint(testCtx(t), Snapshot{}); err != nil {
				t.Fatal(err)
			}
		}
		remoteStale := begin(t, owned(Owner{Host: "elsewhere", PID: 2, Instance: "y"}), Info{})
		if err := remoteStale.Checkpoint(testCtx(t), snapshot("stale", 10)); err != nil {
			t.Fatal(err)
		}
		staleAt := clk.t

		clk.advance(DefaultStaleAfter - time.Minute) // remoteStale: 4 min idle
		s := open(t, loc, Options{Now: clk.now})     // the restarted master
		own := begin(t, s, Info{})
		got, err := s.Recover(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != killed.ID() {
			t.Fatalf("first Recover aborted %v, want only the killed run %s", ids(got), killed.ID())
		}
		rec := get(t, s, killed.ID())
		if rec.Status != StatusAborted || !strings.Contains(rec.Reason, "ended") || !rec.Ended.Equal(rec.Updated) {
			t.Errorf("killed run: status %q reason %q ended %v, want aborted at its last checkpoint", rec.Status, rec.Reason, rec.Ended)
		}
		if rec.Metrics != last.Metrics || !bytes.Equal(rec.History, last.History) || !bytes.Equal(rec.Summary, last.Summary) {
			t.Errorf("killed run lost its last checkpoint: %+v", rec.Metrics)
		}

		clk.advance(2 * time.Minute) // remoteStale: 6 min idle
		for _, r := range []*Recording{alive, remoteFresh} {
			if err := r.Checkpoint(testCtx(t), Snapshot{}); err != nil {
				t.Fatal(err)
			}
		}
		got, err = s.Recover(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != remoteStale.ID() {
			t.Fatalf("second Recover aborted %v, want only the stale run %s", ids(got), remoteStale.ID())
		}
		rec = get(t, s, remoteStale.ID())
		if rec.Status != StatusAborted || !rec.Ended.Equal(staleAt) || string(rec.Histograms) != "histograms stale" {
			t.Errorf("stale run: %q ended %v (want %v), histograms %q", rec.Status, rec.Ended, staleAt, rec.Histograms)
		}
		for _, r := range []*Recording{alive, remoteFresh, own} {
			if st := get(t, s, r.ID()).Status; st != StatusRunning {
				t.Errorf("run %s of a live owner is %q, want running", r.ID(), st)
			}
		}
	})
}
