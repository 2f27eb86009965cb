package worker

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/horde-load/horde/internal/bundle"
	"github.com/horde-load/horde/internal/cluster"
	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/httpx"
	"github.com/horde-load/horde/internal/memtune"
	"github.com/horde-load/horde/internal/runner"
	"github.com/horde-load/horde/internal/script"
	"github.com/horde-load/horde/internal/stats"
)

// engine runs the users of one bundle for one master run. It survives a
// reconnect to the same master, so a network blip loses no users and no
// statistics: what could not be sent waits in pending.
type engine struct {
	runID, hash string
	runner      *runner.Runner
	col         *stats.Collector
	stopTimeout time.Duration
	cancel      context.CancelFunc
	done        chan struct{}

	pending *stats.Delta // cut, not yet delivered
	seq     uint64
	acked   uint64 // last target epoch applied
	state   string
	iv      intervals
	// compact: the master reads histograms in their compact form.
	compact bool
	// hbInStats: the master reads heartbeats inside reports.
	hbInStats bool

	// settle's state: the user count seen last, since when, and whether
	// the binary's pages were trimmed since.
	users      int
	usersSince time.Time
	trimmed    bool
}

// settleAfter is how long the user count must stay the same before the
// pages of the binary that the ramp touched once are dropped.
const settleAfter = 5 * time.Second

// settle drops from the resident set the pages of the binary that
// start-up and a ramp touched and the users no longer do (memtune.Trim),
// once the user count has stayed the same for settleAfter, and again
// after each change of it. Called every report interval.
func (e *engine) settle(now time.Time) {
	n := e.runner.Users()
	if n != e.users || e.usersSince.IsZero() {
		e.users, e.usersSince, e.trimmed = n, now, false
		return
	}
	if !e.trimmed && now.Sub(e.usersSince) >= settleAfter {
		_, _ = memtune.Trim()
		e.trimmed = true
	}
}

// newEngine loads the bundle and starts its runner.
func newEngine(runID string, p *pb.Bundle, share script.Share, o *Options) (*engine, error) {
	b := bundle.FromPB(p)
	e := &engine{runID: runID, hash: p.GetHash(), pending: stats.NewDelta(), state: "ready", stopTimeout: b.StopTimeout}
	sc, err := o.Loader.Load(b, share)
	if err != nil {
		return nil, err
	}
	h2, err := httpx.ParseHTTP2Mode(b.HTTP2)
	if err != nil {
		return nil, fmt.Errorf("the bundle's HTTP settings: %w", err)
	}
	fac, err := httpx.NewFactory(httpx.Options{BaseURL: b.Host, Timeout: b.RequestTimeout,
		Insecure: b.Insecure, CAPEM: b.CAPEM, UserAgent: "horde/" + o.Version, HTTP2: h2})
	if err != nil {
		return nil, fmt.Errorf("the bundle's HTTP settings: %w", err)
	}
	e.col = stats.NewCollector(2 * runtime.GOMAXPROCS(0))
	e.runner, err = runner.New(runner.Options{
		Scenario: sc, NewClient: fac.NewClient, Recorder: e.col.For, Host: b.Host,
		Tags: b.Tags, ExcludeTags: b.ExcludeTags, StopTimeout: e.stopTimeout, Seed: b.Seed, Logger: o.Logger,
		Iterations: b.Iterations,
		OnDropped:  func() { e.col.AddDropped(1) },
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan struct{})
	go func() { defer close(e.done); _ = e.runner.Run(ctx) }()
	// The worker is set up: the pages of the binary that only start-up
	// and the script's load touched leave its resident set.
	_, _ = memtune.Trim()
	return e, nil
}

// close stops every user at once and ends the runner.
func (e *engine) close() {
	e.cancel()
	<-e.done
}

// apply applies a target; a stop runs in the background and reports on
// stopped when every user has ended.
func (e *engine) apply(t *pb.Target, stopped chan<- uint64, log *slog.Logger) {
	if t.ResetStats {
		e.col.Cut()
		e.pending = stats.NewDelta()
	}
	if t.Host != "" {
		e.runner.SetHost(t.Host)
	}
	if t.Stop {
		e.state = "stopping"
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), runner.StopWait(e.stopTimeout))
			defer cancel()
			if err := e.runner.Stop(ctx); err != nil {
				log.Warn("users did not stop in time", "err", err)
			}
			stopped <- t.Epoch
		}()
		return
	}
	if t.Open {
		e.runner.SetArrivals(t.Rate, int(t.MaxUsers), time.Duration(t.RampMs)*time.Millisecond)
		e.acked = t.Epoch
		e.state = "running"
		return
	}
	want := make(map[string]int, len(t.Users))
	for k, v := range t.Users {
		want[k] = int(v)
	}
	e.runner.SetClassTargets(want)
	e.acked = t.Epoch
	e.state = "spawning"
}

// stats cuts what was recorded into pending and returns it as a message.
// Call delivered after a successful send.
func (e *engine) stats(final bool) *pb.Stats {
	e.pending.Merge(e.col.Cut())
	if e.compact {
		return cluster.DeltaToPBCompact(e.pending, e.seq, int32(e.runner.Users()), final)
	}
	return cluster.DeltaToPB(e.pending, e.seq, int32(e.runner.Users()), final)
}

func (e *engine) delivered() {
	e.pending = stats.NewDelta()
	e.seq++
}

// heartbeatState is Locust's worker state for what the engine does now.
func (e *engine) heartbeatState() string {
	switch {
	case e.state == "stopping" || e.state == "stopped" || e.state == "ready":
		return e.state
	case e.runner.Ramping():
		return "spawning"
	default:
		return "running"
	}
}
