package headless

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/report"
	"github.com/horde-load/horde/internal/runstore"
)

// Keeper records every test a master runs into a run store (issue 14):
// the run begins when a test starts — headless, from the web UI or the
// API —, is checkpointed while it runs, so that a run killed mid-way
// keeps what it had, and finishes with the verdict of the end-of-test
// path (report.Outcome) when the test has stopped.
type Keeper struct {
	m     *master.Master
	store runstore.Recorder
	end   End
	info  func(master.Status) runstore.Info
	every time.Duration
	log   *slog.Logger

	quit chan struct{}
	done chan struct{}
}

// KeepOptions configure Keep.
type KeepOptions struct {
	Store runstore.Recorder
	// End is how the test's verdict is decided (thresholds, failure code).
	End End
	// Info says who and what a test is, when it starts.
	Info func(master.Status) runstore.Info
	// Every is how often a running test is checkpointed (default 10 s).
	Every  time.Duration
	Logger *slog.Logger
}

// historyEvery is how many checkpoints pass between two that rewrite the
// history and the histograms (the larger blobs).
const historyEvery = 6

// Keep starts recording m's tests. Close it when the process ends.
func Keep(m *master.Master, o KeepOptions) *Keeper {
	if o.Every <= 0 {
		o.Every = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	k := &Keeper{m: m, store: o.Store, end: o.End, info: o.Info, every: o.Every, log: o.Logger,
		quit: make(chan struct{}), done: make(chan struct{})}
	go k.run()
	return k
}

// Close stops recording: a test that has stopped is stored with its
// verdict, one still running as aborted (the process ends under it).
func (k *Keeper) Close() {
	close(k.quit)
	<-k.done
}

func (k *Keeper) run() {
	defer close(k.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-k.quit:
			cancel()
		case <-k.done:
		}
	}()
	var last time.Time
	for {
		st, err := k.m.Wait(ctx, func(st master.Status) bool {
			return (st.State == master.StateSpawning || st.State == master.StateRunning) && !st.Started.Equal(last)
		})
		if err != nil {
			return
		}
		last = st.Started
		k.record(ctx, st)
	}
}

// record follows one test from its start to its end.
func (k *Keeper) record(ctx context.Context, st master.Status) {
	wctx := context.WithoutCancel(ctx) // the writes outlive a Close
	rec, err := k.store.Begin(wctx, k.info(st))
	if err != nil && rec == nil {
		k.log.Warn("run history: the test is not stored", "err", err)
		return
	}
	k.warn(err)
	for n := 1; ; n++ {
		cctx, cancel := context.WithTimeout(ctx, k.every)
		_, err := k.m.Wait(cctx, func(st master.Status) bool { return st.State == master.StateStopped })
		cancel()
		switch {
		case err == nil: // the test stopped: its last statistics are in
			k.finish(wctx, rec, "")
			return
		case ctx.Err() != nil: // closing: the test stopped just now, or the process ends under it
			abort := ""
			if k.m.Status().State != master.StateStopped {
				abort = "horde stopped before the test ended"
			}
			k.finish(wctx, rec, abort)
			return
		}
		k.warn(rec.Checkpoint(wctx, k.snapshot(n%historyEvery == 0)))
	}
}

// finish stores the test's end: aborted when abort says why, else passed
// or failed by the verdict of the end-of-test path.
func (k *Keeper) finish(ctx context.Context, rec *runstore.Recording, abort string) {
	f := final(k.m, k.end)
	status, reason := runstore.StatusPassed, ""
	switch err := report.Outcome(f); {
	case abort != "":
		status, reason = runstore.StatusAborted, abort
	case err != nil:
		status, reason = runstore.StatusFailed, err.Error()
	}
	err := rec.Finish(ctx, status, reason, k.snapshotOf(f, true))
	k.warn(err)
	if err == nil {
		k.log.Info("run stored", "run", rec.ID(), "status", status)
	}
}

func (k *Keeper) snapshot(full bool) runstore.Snapshot {
	return k.snapshotOf(final(k.m, k.end), full)
}

// snapshotOf is what the store keeps of f; full adds the history and the
// histograms (nil blobs keep what is stored).
func (k *Keeper) snapshotOf(f report.Final, full bool) runstore.Snapshot {
	sum := report.NewSummary(f.Snapshot, f.Meta)
	s := runstore.Snapshot{
		Metrics: runstore.Metrics{Requests: sum.Totals.Requests, Failures: sum.Totals.Failures, RPS: sum.Totals.RPS,
			P95Ms: sum.Totals.Latency.P95, DurationS: sum.DurationS},
		Summary: encode(func(b *bytes.Buffer) error { return report.WriteJSON(b, sum) }),
	}
	for _, t := range sum.Thresholds {
		s.Thresholds = append(s.Thresholds, runstore.Threshold{Expr: t.Expr, Value: t.Value, Passed: t.Passed, Note: t.Note})
	}
	if full {
		s.History = encode(func(b *bytes.Buffer) error { return json.NewEncoder(b).Encode(report.HistoryOf(f.Snapshot)) })
		s.Histograms = encode(func(b *bytes.Buffer) error { return json.NewEncoder(b).Encode(k.m.Histograms()) })
	}
	return s
}

func encode(write func(*bytes.Buffer) error) []byte {
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return nil // cannot happen for these types; nil keeps what is stored
	}
	return b.Bytes()
}

// warn logs a failed write; a spooled one is kept for later and said so.
func (k *Keeper) warn(err error) {
	var se *runstore.SpoolError
	switch {
	case err == nil:
	case errors.As(err, &se):
		k.log.Warn("run history: the store is unreachable; the run is kept aside and written when it is back",
			"run", se.RunID, "spool", se.Path, "err", se.Err)
	default:
		k.log.Warn("run history: writing the run failed", "err", err)
	}
}
