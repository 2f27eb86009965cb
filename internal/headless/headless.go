// Package headless runs a test with no web UI: it starts the users, feeds
// their statistics into an aggregate every interval, shows a live terminal
// view, stops at the run time or on a signal, and writes the final table,
// the summary JSON and the CSV files. Its error carries the exit code of
// the verdict.
//
// It drives a master: in standalone mode one with an in-process worker,
// in distributed mode one whose workers connect over the network — the
// same code path.
package headless

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/report"
	"github.com/horde-load/horde/internal/stats"
	"github.com/horde-load/horde/internal/threshold"
)

// Config is one headless run.
type Config struct {
	// Master runs the test; its workers are attached by the caller (an
	// in-process worker in standalone mode, remote ones otherwise).
	Master    *master.Master
	Host      string
	Users     int
	SpawnRate float64
	// Rate > 0 runs the open model: Rate arrivals per second on a pool of
	// at most Users users.
	Rate    float64
	RunTime time.Duration // 0: until ctx is done
	// Thresholds decide the verdict when there are any; those with
	// AbortOnFail stop the test as soon as they are crossed.
	Thresholds  []threshold.Threshold
	StopTimeout time.Duration
	// ExpectWorkers waits for this many workers before starting, for at
	// most ExpectWorkersMaxWait (0: forever); exit 3 when they never come.
	ExpectWorkers        int
	ExpectWorkersMaxWait time.Duration

	Stdout   io.Writer
	TTY      bool
	Width    int
	Interval time.Duration // live view refresh; default 1s

	JSONPath  string
	CSVPrefix string
	HTMLPath  string
	Logger    *slog.Logger
}

// Result is what a run measured.
type Result struct {
	Snapshot  stats.Snapshot
	UsersPeak int
}

// Run runs the test until the run time is over or ctx is done (a signal:
// the test stops gracefully and reports). The error is nil when the test
// passed, and carries exit code 1 when any request failed or a script
// error happened, as in Locust.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m := cfg.Master
	if err := waitWorkers(ctx, cfg); err != nil {
		return Result{}, err
	}
	live := report.NewLive(cfg.Stdout, cfg.TTY, cfg.Width)
	start := time.Now()
	switch {
	case m.HasShape():
		m.StartShape(cfg.Users) // the script's stages or shape(t) drive the load
	case cfg.Rate > 0:
		m.SetArrivals(cfg.Rate, cfg.Users, 0)
	default:
		m.SetTarget(cfg.Users, cfg.SpawnRate)
	}
	peak := loop(ctx, cfg, live, start)

	// Stop: let tasks finish for the stop timeout, collect the last deltas.
	stopCtx, cancelStop := context.WithTimeout(context.WithoutCancel(ctx), cfg.StopTimeout+10*time.Second)
	if err := m.StopTest(stopCtx); err != nil {
		cfg.Logger.Warn("some workers did not confirm the stop; their last requests may be missing", "err", err)
	}
	cancelStop()

	now := time.Now()
	m.Tick(now)
	snap := m.Snapshot(now)
	_ = live.Close()
	res := Result{Snapshot: snap, UsersPeak: peak}
	if err := writeReports(cfg, snap, peak, m.Status()); err != nil {
		return res, err
	}
	return res, Verdict(snap, cfg.Thresholds)
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
	cfg.Logger.Info("waiting for workers", "expect", cfg.ExpectWorkers)
	if err := cfg.Master.WaitWorkers(wctx, cfg.ExpectWorkers); err != nil {
		have := len(cfg.Master.Status().Workers)
		return exitcode.Newf(exitcode.CannotRun, "expected %d workers, %d connected after %v: the test did not start",
			cfg.ExpectWorkers, have, cfg.ExpectWorkersMaxWait)
	}
	return nil
}

// loop shows statistics every interval until the run time is over or ctx
// is done. It returns the peak user count.
func loop(ctx context.Context, cfg Config, live *report.Live, start time.Time) int {
	m := cfg.Master
	tick := time.NewTicker(cfg.Interval)
	defer tick.Stop()
	var end <-chan time.Time
	if cfg.RunTime > 0 {
		t := time.NewTimer(cfg.RunTime)
		defer t.Stop()
		end = t.C
	}
	peak := 0
	for {
		select {
		case <-ctx.Done():
			return max(peak, m.Users())
		case <-end:
			return max(peak, m.Users())
		case now := <-tick.C:
			st := m.Status() // the master itself records history each second
			if st.State == master.StateStopping || st.State == master.StateStopped {
				return max(peak, st.Users) // the test ended itself: its shape is over
			}

			peak = max(peak, st.Users)
			snap := m.Snapshot(now)
			if t, crossed := aborting(cfg.Thresholds, snap, now.Sub(start)); crossed {
				cfg.Logger.Warn("threshold crossed: stopping the test (abort_on_fail)", "threshold", t.Expr)
				return max(peak, st.Users)
			}
			_ = live.Update(snap, report.Status{
				State: st.State, Users: st.Users, TargetUsers: st.TargetUsers, Dropped: snap.Dropped,
				ArrivalRate: st.ArrivalRate, Shape: st.Shape,
				Elapsed: now.Sub(start), RunTime: cfg.RunTime, Workers: len(st.Workers),
			})
		}
	}
}

func writeReports(cfg Config, snap stats.Snapshot, peak int, st master.Status) error {
	if err := report.WriteTable(cfg.Stdout, snap, report.TableOptions{}); err != nil {
		return err
	}
	meta := MetaOf(peak, st)
	meta.Shape = cfg.Master.ShapeDescription()
	meta.Thresholds, _ = Thresholds(cfg.Thresholds, snap)
	if err := WriteThresholds(cfg.Stdout, meta.Thresholds); err != nil {
		return err
	}
	return WriteFiles(Files{JSON: cfg.JSONPath, CSVPrefix: cfg.CSVPrefix, HTML: cfg.HTMLPath}, snap, meta)
}

// Files names the report files to write at the end of a test.
type Files struct{ JSON, CSVPrefix, HTML string }

// MetaOf is the summary's extra information from the master's status.
func MetaOf(peak int, st master.Status) report.Meta {
	meta := report.Meta{UsersPeak: peak, Host: st.Host}
	for _, w := range st.Workers {
		meta.Workers = append(meta.Workers, report.WorkerInfo{ID: w.ID, State: w.State, Users: w.Users})
	}
	return meta
}

// WriteFiles writes the report files that are named.
func WriteFiles(f Files, snap stats.Snapshot, meta report.Meta) error {
	if f.CSVPrefix != "" {
		if err := report.WriteCSV(f.CSVPrefix, snap); err != nil {
			return exitcode.With(exitcode.CannotRun, fmt.Errorf("writing CSV: %w", err))
		}
	}
	if f.JSON != "" {
		if err := writeFile(f.JSON, func(w io.Writer) error { return report.WriteJSON(w, report.NewSummary(snap, meta)) }); err != nil {
			return exitcode.With(exitcode.CannotRun, fmt.Errorf("writing JSON summary: %w", err))
		}
	}
	if f.HTML != "" {
		if err := writeFile(f.HTML, func(w io.Writer) error { return report.WriteHTML(w, snap, meta) }); err != nil {
			return exitcode.With(exitcode.CannotRun, fmt.Errorf("writing HTML report: %w", err))
		}
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	return write(f)
}
