package runstore

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"
)

// A run is stored as running at Begin, with what the user gave; a
// checkpoint's blobs come back byte for byte; Finish gives its verdict.
func TestLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, loc string) {
		clk := newClock("2026-03-01T10:00:00Z")
		s := open(t, loc, Options{Now: clk.now})
		info := Info{
			Script: "locustfile.star", ScriptHash: "sha256:ab12", Host: "http://127.0.0.1:8080",
			Options: map[string]string{"users": "100", "spawn_rate": "10", "run_time": "1h"},
			Workers: 7, Version: "v1.2.3",
			Labels: map[string]string{"branch": "main", "commit": "d067679"},
		}
		r := begin(t, s, info)
		if len(r.ID()) != 16 {
			t.Errorf("id %q: want 16 hex digits", r.ID())
		}
		got := get(t, s, r.ID())
		if got.Status != StatusRunning || !got.Ended.IsZero() {
			t.Errorf("after Begin: status %q ended %v, want running and no end", got.Status, got.Ended)
		}
		info.Started = clk.t
		if !reflect.DeepEqual(got.Info, info) {
			t.Errorf("info stored as %+v\nwant %+v", got.Info, info)
		}
		if got.Owner != s.Owner() || got.Owner.PID == 0 || got.Owner.Instance == "" {
			t.Errorf("owner %+v, want this store's %+v", got.Owner, s.Owner())
		}

		clk.advance(30 * time.Second)
		cp := snapshot("checkpoint", 1000)
		if err := r.Checkpoint(testCtx(t), cp); err != nil {
			t.Fatal(err)
		}
		got = get(t, s, r.ID())
		if got.Status != StatusRunning || got.Metrics != cp.Metrics || !got.Updated.Equal(clk.t) {
			t.Errorf("after Checkpoint: %q %+v updated %v", got.Status, got.Metrics, got.Updated)
		}
		if !bytes.Equal(got.History, cp.History) || !bytes.Equal(got.Summary, cp.Summary) || !bytes.Equal(got.Histograms, cp.Histograms) {
			t.Errorf("blobs after Checkpoint differ from what was saved")
		}

		clk.advance(30 * time.Second)
		end := snapshot("final", 2000)
		end.Histograms = nil // unchanged since the checkpoint
		end.Thresholds = []Threshold{{Expr: "p95 < 10", Value: 12.5, Passed: false, Note: "crossed"}}
		if err := r.Finish(testCtx(t), StatusFailed, "threshold crossed", end); err != nil {
			t.Fatal(err)
		}
		got = get(t, s, r.ID())
		if got.Status != StatusFailed || got.Reason != "threshold crossed" || !got.Ended.Equal(clk.t) {
			t.Errorf("after Finish: %q %q ended %v, want failed at %v", got.Status, got.Reason, got.Ended, clk.t)
		}
		if got.Metrics != end.Metrics || !reflect.DeepEqual(got.Thresholds, end.Thresholds) {
			t.Errorf("after Finish: metrics %+v thresholds %+v", got.Metrics, got.Thresholds)
		}
		if !bytes.Equal(got.History, end.History) || !bytes.Equal(got.Histograms, cp.Histograms) {
			t.Errorf("after Finish: history must be the final one and histograms the checkpoint's")
		}
		if err := r.Checkpoint(testCtx(t), cp); !errors.Is(err, ErrFinished) {
			t.Errorf("Checkpoint after Finish: %v, want ErrFinished", err)
		}
		if err := begin(t, s, Info{}).Finish(testCtx(t), StatusRunning, "", Snapshot{}); err == nil {
			t.Errorf("Finish with status running: want an error")
		}
	})
}

// An empty blob clears the stored one; Get of an unknown id is
// ErrNotFound.
func TestBlobsClearAndMissingRun(t *testing.T) {
	eachBackend(t, func(t *testing.T, loc string) {
		s := open(t, loc, Options{})
		r := begin(t, s, Info{Script: "a.star"})
		if err := r.Checkpoint(testCtx(t), snapshot("x", 1)); err != nil {
			t.Fatal(err)
		}
		finish(t, r, StatusPassed, Snapshot{History: []byte{}})
		got := get(t, s, r.ID())
		if len(got.History) != 0 || string(got.Histograms) != "histograms x" {
			t.Errorf("history %q histograms %q: want history cleared, histograms kept", got.History, got.Histograms)
		}
		if _, err := s.Get(testCtx(t), "0123456789abcdef"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get of an unknown id: %v, want ErrNotFound", err)
		}
	})
}
