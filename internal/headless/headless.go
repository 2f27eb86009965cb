// Package headless runs a test with no web UI: it starts the users, feeds
// their statistics into an aggregate every interval, shows a live terminal
// view, stops at the run time or on a signal, and writes the final table,
// the summary JSON and the CSV files. Its error carries the exit code of
// the verdict.
//
// It is the standalone path of horde until the master/worker split lands;
// the runner and the statistics are the same ones a worker and the master
// use.
package headless

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/httpx"
	"github.com/horde-load/horde/internal/report"
	"github.com/horde-load/horde/internal/runner"
	"github.com/horde-load/horde/internal/scenario"
	"github.com/horde-load/horde/internal/stats"
)

// Config is one headless run.
type Config struct {
	Scenario    *scenario.Scenario
	HTTP        *httpx.Factory
	Host        string
	Users       int
	SpawnRate   float64
	RunTime     time.Duration // 0: until ctx is done
	StopTimeout time.Duration
	Tags        []string
	ExcludeTags []string
	Seed        uint64

	Stdout   io.Writer
	TTY      bool
	Width    int
	Interval time.Duration // live view and aggregation; default 1s

	JSONPath  string
	CSVPrefix string
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
	col := stats.NewCollector(2 * runtime.GOMAXPROCS(0))
	r, err := runner.New(runner.Options{
		Scenario: cfg.Scenario, NewClient: cfg.HTTP.NewClient, Recorder: col.For, Host: cfg.Host,
		Tags: cfg.Tags, ExcludeTags: cfg.ExcludeTags, StopTimeout: cfg.StopTimeout,
		Seed: cfg.Seed, Logger: cfg.Logger,
	})
	if err != nil {
		return Result{}, exitcode.With(exitcode.BadInput, err)
	}
	agg := stats.NewAggregate(stats.AggregateOptions{})
	live := report.NewLive(cfg.Stdout, cfg.TTY, cfg.Width)

	runCtx, cancelRun := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRun()
	runDone := make(chan error, 1)
	go func() { runDone <- r.Run(runCtx) }()

	start := time.Now()
	agg.Start(start)
	r.SetTarget(cfg.Users, cfg.SpawnRate)
	peak := loop(ctx, cfg, r, col, agg, live, start)

	// Stop: let tasks finish for the stop timeout, then cancel the rest.
	stopCtx, cancelStop := context.WithTimeout(context.WithoutCancel(ctx), cfg.StopTimeout+10*time.Second)
	_ = r.Stop(stopCtx)
	cancelStop()
	cancelRun()
	<-runDone

	now := time.Now()
	agg.Add(col.Cut(), now)
	agg.Tick(now, 0)
	snap := agg.Snapshot(now)
	live.Close()
	res := Result{Snapshot: snap, UsersPeak: peak}
	if err := writeReports(cfg, snap, peak); err != nil {
		return res, err
	}
	return res, verdict(snap)
}

// loop aggregates and shows statistics every interval until the run time
// is over or ctx is done. It returns the peak user count.
func loop(ctx context.Context, cfg Config, r *runner.Runner, col *stats.Collector, agg *stats.Aggregate, live *report.Live, start time.Time) int {
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
			return max(peak, r.Users())
		case <-end:
			return max(peak, r.Users())
		case now := <-tick.C:
			users := r.Users()
			peak = max(peak, users)
			agg.Add(col.Cut(), now)
			agg.Tick(now, users)
			state := "running"
			if r.Ramping() {
				state = "spawning"
			}
			live.Update(agg.Snapshot(now), report.Status{
				State: state, Users: users, TargetUsers: r.Target(),
				Elapsed: now.Sub(start), RunTime: cfg.RunTime,
			})
		}
	}
}

func writeReports(cfg Config, snap stats.Snapshot, peak int) error {
	if err := report.WriteTable(cfg.Stdout, snap, report.TableOptions{}); err != nil {
		return err
	}
	if cfg.CSVPrefix != "" {
		if err := report.WriteCSV(cfg.CSVPrefix, snap); err != nil {
			return exitcode.With(exitcode.CannotRun, fmt.Errorf("writing CSV: %w", err))
		}
	}
	if cfg.JSONPath != "" {
		sum := report.NewSummary(snap, report.Meta{UsersPeak: peak, Host: cfg.Host})
		if err := writeJSONFile(cfg.JSONPath, sum); err != nil {
			return exitcode.With(exitcode.CannotRun, fmt.Errorf("writing JSON summary: %w", err))
		}
	}
	return nil
}

func writeJSONFile(path string, sum report.Summary) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	return report.WriteJSON(f, sum)
}

// verdict is Locust's rule when no thresholds are set: any failed request
// or script error fails the test.
func verdict(snap stats.Snapshot) error {
	var exc int64
	for _, e := range snap.Exceptions {
		exc += e.Count
	}
	if snap.Total.Failures == 0 && exc == 0 {
		return nil
	}
	return exitcode.Newf(exitcode.Failed, "test failed: %d of %d requests failed, %d script errors",
		snap.Total.Failures, snap.Total.Requests, exc)
}
