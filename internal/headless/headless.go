// Package headless runs a test with no web UI: it starts the test on a
// master, shows a live terminal view until the test ends (its run time or
// its load shape is over, a threshold with abort_on_fail is crossed, or a
// signal comes), and then finishes it — the one end-of-test path, which
// the web UI's command line uses too (Finish).
//
// It drives a master: in standalone mode one with an in-process worker,
// in distributed mode one whose workers connect over the network — the
// same code path. It does not write reports itself (package report does).
package headless

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/report"
	"github.com/horde-load/horde/internal/threshold"
)

// Config is one headless run.
type Config struct {
	// Master runs the test; its workers are attached by the caller (an
	// in-process worker in standalone mode, remote ones otherwise).
	Master *master.Master
	// Test is the test to start; its RunTime ends it (0: until ctx is
	// done or the load shape is over).
	Test master.TestParams
	// End says how the test's end is reported; its thresholds with
	// AbortOnFail also stop the test as soon as they are crossed.
	End
	// ExpectWorkers waits for this many workers before starting, for at
	// most ExpectWorkersMaxWait (0: forever); exit 3 when they never come.
	// Quiet leaves the wait out of the log (the workers are this
	// process's own).
	ExpectWorkers        int
	ExpectWorkersMaxWait time.Duration
	Quiet                bool

	Terminal report.Terminal // what Stdout is
	Interval time.Duration   // live view refresh; default 1s
	// OnlySummary shows no live view, only the final table.
	OnlySummary bool

	Logger *slog.Logger
}

// End is how a test's end is reported (see report.Final).
type End struct {
	// Thresholds decide the verdict when there are any.
	Thresholds []threshold.Threshold
	Files      report.Files
	// FailureCode is the exit code of failed requests or script errors in
	// a test without thresholds (default 1).
	FailureCode int
	Stdout      io.Writer
}

// Run runs the test until it ends or ctx is done (a signal: the test
// stops gracefully and reports), then finishes it (see Finish). The error
// is nil when the test passed and carries the exit code otherwise.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := waitWorkers(ctx, cfg); err != nil {
		return err
	}
	live := report.NewLive(cfg.Stdout, cfg.Terminal)
	if err := cfg.Master.Start(cfg.Test); err != nil {
		return exitcode.With(exitcode.BadInput, err)
	}
	follow(ctx, cfg, live)
	_ = live.Close()
	return Finish(cfg.Master, cfg.End)
}

// Finish ends m's test — it stops it, if it still runs, and waits for the
// workers' last statistics — and reports it with report.Finish: the final
// table, the thresholds, the files and the verdict.
func Finish(m *master.Master, e End) error {
	<-m.Stop()
	return report.Finish(e.Stdout, final(m, e))
}

// final is m's test as the end-of-test path reports and stores it: the
// statistics now, the summary's facts from the master's status, the
// thresholds evaluated.
func final(m *master.Master, e End) report.Final {
	snap := m.Snapshot(time.Now())
	st := m.Status()
	meta := report.Meta{UsersPeak: st.UsersPeak, Host: st.Host, Shape: st.ShapeLast, Aborted: st.Aborted}
	for _, w := range st.Workers {
		meta.Workers = append(meta.Workers, report.WorkerInfo{ID: w.ID, State: w.State, Users: w.Users})
	}
	meta.Thresholds, _ = report.EvaluateThresholds(e.Thresholds, snap)
	return report.Final{Snapshot: snap, Meta: meta, Thresholds: e.Thresholds, Files: e.Files, FailureCode: e.FailureCode}
}

func waitWorkers(ctx context.Context, cfg Config) error {
	if cfg.ExpectWorkers <= 0 {
		return nil
	}
	wctx := ctx
	if cfg.ExpectWorkersMaxWait > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, cfg.ExpectWorkersMaxWait)
		defer cancel()
	}
	if !cfg.Quiet {
		cfg.Logger.Info("waiting for workers", "expect", cfg.ExpectWorkers)
	}
	if err := cfg.Master.WaitWorkers(wctx, cfg.ExpectWorkers); err != nil {
		have := len(cfg.Master.Status().Workers)
		return exitcode.Newf(exitcode.CannotRun, "expected %d workers, %d connected after %v: the test did not start",
			cfg.ExpectWorkers, have, cfg.ExpectWorkersMaxWait)
	}
	return nil
}

// follow shows statistics every interval until the test is over (the
// master ends it at its run time, or when its shape is over), ctx is
// done, or a threshold with abort_on_fail is crossed.
func follow(ctx context.Context, cfg Config, live *report.Live) {
	m := cfg.Master
	over := make(chan struct{})
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		if _, err := m.Wait(wctx, master.Over); err == nil {
			close(over)
		}
	}()
	tick := time.NewTicker(cfg.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-over:
			return
		case now := <-tick.C:
			st := m.Status()
			snap := m.Snapshot(now)
			elapsed := now.Sub(st.Started)
			if t, crossed := aborting(cfg.Thresholds, snap, elapsed); crossed {
				cfg.Logger.Warn("threshold crossed: stopping the test (abort_on_fail)", "threshold", t.Expr)
				return
			}
			if cfg.OnlySummary {
				continue
			}
			_ = live.Update(snap, report.Status{
				State: st.State, Users: st.Users, TargetUsers: st.TargetUsers, Dropped: snap.Dropped,
				ArrivalRate: st.ArrivalRate, Shape: st.Shape,
				Elapsed: elapsed, RunTime: st.RunTime, Workers: len(st.Workers),
			})
		}
	}
}
