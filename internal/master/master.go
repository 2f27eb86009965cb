// Package master is horde's master: it admits workers, ships them the
// script bundle, decides how many users each runs (dispatch.go), merges
// their statistics deltas, watches their heartbeats, and drives the test's
// state. It is transport-agnostic: a worker is a cluster.MasterStream, over
// gRPC or the in-process pipe of standalone mode — one code path.
//
// It does not serve HTTP or talk to a terminal; package web and package
// headless read it.
package master

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/procstat"
	"github.com/horde-load/horde/internal/runner"
	"github.com/horde-load/horde/internal/scenario"
	"github.com/horde-load/horde/internal/stats"
)

// Options configure a Master.
type Options struct {
	// Scenario gives the user classes to dispatch; Bundle is what workers
	// receive to run them.
	Scenario *scenario.Scenario
	Bundle   *pb.Bundle
	Host     string

	HeartbeatInterval time.Duration // default 1s
	MissingTimeout    time.Duration // default 3s: silent this long → missing
	ReportInterval    time.Duration // default 1s: how often workers send deltas
	// ForgetAfter removes a missing worker from the list (default 60s).
	ForgetAfter time.Duration
	// DataShares is how many shares csv(path, split=True) deals rows into,
	// one per worker index (default 1: no split). Usually the number of
	// workers expected.
	DataShares int
	// ResetStatsAfterRamp clears the statistics once a test's users are
	// all started (Locust's --reset-stats): the ramp is not measured.
	ResetStatsAfterRamp bool
	// Standalone says the workers are this process's own (horde run):
	// their comings and goings are logged at debug level only.
	Standalone bool

	Aggregate stats.AggregateOptions
	Logger    *slog.Logger
	Now       func() time.Time
}

// Master is the coordinator of a distributed test. Run must be running.
type Master struct {
	opts  Options
	runID string
	agg   *stats.Aggregate
	wake  chan struct{}
	names []string // class names, by class index

	// scratch holds the few DeltaData that streams decode reports into,
	// shared by all of them: taking one is the right to decode and merge
	// a report, so that a master that falls behind its workers holds
	// their reports in the transport's bounded windows, not in memory of
	// its own.
	scratch chan *stats.DeltaData

	lag *procstat.Lag // the master's own scheduling lag

	mu           sync.Mutex
	workers      map[string]*workerConn
	roster       roster
	lagWindow    time.Duration // the master's worst lag over the last missing timeout
	minorPending bool          // a worker's figures changed; waiters hear of it soon
	disp         *dispatcher
	state        string
	started      time.Time
	target       int
	rate         float64
	epoch        uint64
	stopEpoch    uint64
	changed      chan struct{} // closed on any change waiters care about
	host         string
	needsHost    bool      // some class has no host of its own
	endAt        time.Time // run-time limit of the test (zero: none)
	peak         int       // most users at once in the current test
	open         openModel // the arrival-rate test, when on
	shape        shapeState
	shapePool    int           // the open model's pool when the shape gives none
	stopping     chan struct{} // closed when the stop under way is done
	aborted      string        // the error that ended the test, if one did
	rampReset    bool          // ResetStatsAfterRamp happened in this test
	queued       []*outbox     // the outboxes dispatch gave a target, woken once the lock is released
}

// workerConn is the master's record of one worker.
type workerConn struct {
	id      string
	index   int
	hello   *pb.Hello
	box     *outbox // what to send it; nil while disconnected
	cancel  context.CancelFunc
	gen     int
	state   string
	missing bool
	// heard is when (Unix ns, the master's clock) the worker's last
	// message arrived: stamped as it is received, before it waits to be
	// decoded, so that a master busy merging reports does not take its
	// own backlog for the workers' silence.
	heard     atomic.Int64
	told      time.Time // when the master's heartbeat was last sent to it
	users     int
	done      int // users that ended after their iterations
	cpu       float64
	rss       uint64
	acked     uint64 // last target epoch the worker applied
	rps       float64
	sent      []int      // last assignment sent; nil: send again
	openSent  *openShare // last open-model share sent; nil: send again
	reset     bool       // next target must tell the worker to drop its stats
	cpuBusy   bool       // above the CPU threshold at the last heartbeat
	cpuWarned bool       // the warning was logged
}

// New builds a master for the scenario's user classes.
func New(o Options) (*Master, error) {
	if o.Scenario == nil || len(o.Scenario.Users) == 0 {
		return nil, errors.New("master: the scenario defines no users")
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = time.Second
	}
	if o.MissingTimeout <= 0 {
		o.MissingTimeout = 3 * time.Second
	}
	if o.ReportInterval <= 0 {
		o.ReportInterval = time.Second
	}
	if o.ForgetAfter <= 0 {
		o.ForgetAfter = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Bundle == nil {
		o.Bundle = &pb.Bundle{}
	}
	m := &Master{
		opts: o, runID: newRunID(), agg: stats.NewAggregate(o.Aggregate),
		wake: make(chan struct{}, 1), workers: map[string]*workerConn{},
		state: StateReady, changed: make(chan struct{}),
	}
	m.scratch = make(chan *stats.DeltaData, 4*runtime.GOMAXPROCS(0))
	for range cap(m.scratch) {
		m.scratch <- new(stats.DeltaData)
	}
	m.lag = procstat.NewLag()
	for _, c := range o.Scenario.Users {
		m.names = append(m.names, c.Name)
		m.needsHost = m.needsHost || c.Host == ""
	}
	m.host = o.Host
	m.disp = newDispatcher(runner.NewPlan(o.Scenario.Users), len(m.names), o.Now())
	return m, nil
}

func newRunID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Histograms are the test's whole-test latency histograms, per row.
func (m *Master) Histograms() []stats.EndpointHistogram { return m.agg.Histograms() }

// Snapshot is the test's statistics at now.
func (m *Master) Snapshot(now time.Time) stats.Snapshot { return m.agg.Snapshot(now) }

func (m *Master) poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// notifyLocked wakes everyone waiting for a change.
func (m *Master) notifyLocked() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// minorDelay is how long a change of a worker's figures may wait before
// waiters hear of it: all the changes in between wake them once.
const minorDelay = 20 * time.Millisecond

// minorChangeLocked notes that a worker's figures changed (its users, its
// state, the target it applied). The test's state is updated and waiters
// are woken within minorDelay, once for every change in between: with
// thousands of workers, heartbeats must not each rebuild the status for
// every waiter.
func (m *Master) minorChangeLocked() {
	if m.minorPending {
		return
	}
	m.minorPending = true
	time.AfterFunc(minorDelay, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.minorPending = false
		m.updateStateLocked()
		m.notifyLocked()
	})
}

// stepShare bounds the share of a core the dispatcher's steps may take
// (one in stepShare) while a ramp is under way, and targetGap the rate of
// the targets it sends (one per targetGap): every target costs a write,
// a worker's read and its answer, and a fast ramp over ten thousand
// workers must not send a target to each of them every millisecond.
const (
	stepShare = 20
	targetGap = 50 * time.Microsecond
)

// Run dispatches users, sends heartbeats and watches the workers' until
// ctx is done. Then it tells connected workers to quit.
func (m *Master) Run(ctx context.Context) error {
	hb := time.NewTicker(m.opts.HeartbeatInterval / heartbeatSlots)
	defer hb.Stop()
	sec := time.NewTicker(time.Second)
	defer sec.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	// The dispatcher steps when its users are due or something changed
	// (a poke), and only then: with ten thousand workers a step that finds
	// nothing to do still reads every worker, and the heartbeat ticks come
	// ten times a second. It never steps so often that stepping takes more
	// than 1/stepShare of a core or targets go out faster than one per
	// targetGap: with thousands of workers a fast ramp then starts its
	// users in somewhat larger groups (10,000 workers: a step every half
	// second at most).
	var due, stepAt time.Time // due: the throttle's; stepAt: the dispatcher's next step (zero: none)
	step := true
	slot := 0
	for {
		if !stepAt.IsZero() && !time.Now().Before(stepAt) {
			step, stepAt = true, time.Time{}
		}
		next := time.Duration(-1)
		if step {
			if wait := time.Until(due); wait > 0 {
				next = wait
			} else {
				step = false
				began := time.Now()
				d, queued := m.dispatch()
				took := time.Since(began)
				// The streams' goroutines are woken only now: woken one
				// by one under the lock, ten thousand of them took the
				// core from a step that held up every report meanwhile
				// (150–300 ms a step at 10,000 workers, and then
				// stepShare times that before the next).
				for _, o := range queued {
					o.wake()
				}
				due = began.Add(max(stepShare*took, time.Duration(len(queued))*targetGap))
				stepAt = time.Time{}
				if d >= 0 {
					stepAt = began.Add(d)
				}
			}
		}
		if !stepAt.IsZero() {
			if d := max(time.Until(stepAt), 0); next < 0 || d < next {
				next = d
			}
		}
		now := m.opts.Now()
		for _, d := range []time.Duration{m.untilEnd(now), m.untilShape(now)} {
			if d >= 0 && (next < 0 || d < next) {
				next = d
			}
		}
		if next >= 0 {
			timer.Reset(next)
		}
		select {
		case <-ctx.Done():
			m.quitAll("master shutting down")
			m.waitDetached(quitWait)
			return nil
		case <-m.wake:
			step = true
		case <-timer.C:
		case <-hb.C:
			m.heartbeat(slot)
			slot = (slot + 1) % heartbeatSlots
		case now := <-sec.C:
			m.tick(now)
		}
		if next >= 0 && !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}
