package master

import (
	"errors"
	"slices"
	"time"

	"github.com/horde-load/horde/internal/runner"
	"github.com/horde-load/horde/internal/scenario"
	"github.com/horde-load/horde/internal/stats"
)

// DefaultOpenPool is the pool of users of an open-model test when none is
// given: arrivals that find no free user are dropped, so a small default
// would hide a slow server behind drops.
const DefaultOpenPool = 1000

// shapeState follows a test driven by the scenario's Shape (stages or a
// script's shape(t)): the master asks the shape at every whole second
// since the test started (t = 1, 2, 3… s, as Locust's tick()) and applies
// what changed.
type shapeState struct {
	on      bool
	start   time.Time           // t = 0 (a reset of the statistics does not move it)
	next    time.Time           // when to ask again
	applied scenario.LoadTarget // the last target applied
	desc    string              // the shape's own words for what it does now
}

// startShape starts a new test that follows the scenario's shape from its
// first second. pool is the open model's pool of users when the shape
// gives none.
func (m *Master) startShape(pool int) {
	now := m.opts.Now()
	m.mu.Lock()
	m.shape = shapeState{on: true, start: now, next: now.Add(time.Second)}
	m.shapePool = pool
	if pool <= 0 {
		m.shapePool = DefaultOpenPool
	}
	if m.state == StateReady || m.state == StateStopped || m.state == StateStopping {
		m.resetTestLocked(now)
	}
	m.mu.Unlock()
	m.followShape(now, true)
}

// followShape asks the shape for the target at now and applies it when
// it changed (a new user count, rate or pool; a spawn rate alone does not
// restart a ramp). It stops the test when the shape is over or fails.
func (m *Master) followShape(now time.Time, first bool) {
	m.mu.Lock()
	if !m.shape.on || m.opts.Scenario.Shape == nil {
		m.mu.Unlock()
		return
	}
	if !first && m.state != StateSpawning && m.state != StateRunning {
		m.mu.Unlock()
		return
	}
	elapsed := now.Sub(m.shape.start)
	prev, pool := m.shape.applied, m.shapePool
	users := m.usersLocked()
	m.mu.Unlock()

	sh := m.opts.Scenario.Shape
	t, ok, err := sh.At(elapsed, users)
	desc := sh.Describe(elapsed)
	defer func() { // after applying: starting a test clears the last description
		m.mu.Lock()
		m.shape.desc = desc
		m.mu.Unlock()
	}()
	switch {
	case err != nil:
		m.opts.Logger.Error("the load shape failed: stopping the test", "err", err)
		m.abort("the load shape failed: "+err.Error(), err)
		m.stopShape()
		return
	case !ok:
		m.opts.Logger.Info("the load shape is over: stopping the test")
		m.stopShape()
		return
	}
	if t.Classes == nil && !first {
		t.Classes = prev.Classes // a stage naming no classes keeps the last ones, as in Locust
	}
	sameClasses := slices.Equal(t.Classes, prev.Classes)
	if !first && t.Users == prev.Users && t.Rate == prev.Rate && sameClasses {
		return
	}
	m.mu.Lock()
	m.shape.applied = t
	switch {
	case first:
		m.disp.setPlan(runner.NewPlan(m.opts.Scenario.Users).Continue(0, m.classMask(t.Classes)))
	case !sameClasses:
		// The users running keep running; new ones come from the classes
		// named; a ramp down stops the newest first (Locust's dispatcher).
		m.disp.setPlan(m.disp.plan.Continue(m.disp.current, m.classMask(t.Classes)))
	}
	m.mu.Unlock()
	if t.Rate > 0 {
		if t.Users > 0 {
			pool = t.Users
		}
		m.setArrivals(t.Rate, pool, t.Ramp)
		return
	}
	rate := t.SpawnRate
	if rate <= 0 {
		rate = 0 // at once
	}
	m.setTarget(t.Users, rate)
}

// classMask marks the scenario's classes that names names (nil: all).
func (m *Master) classMask(names []string) []bool {
	keep := make([]bool, len(m.opts.Scenario.Users))
	for i, c := range m.opts.Scenario.Users {
		keep[i] = names == nil || slices.Contains(names, c.Name)
	}
	return keep
}

// abort marks the test as ended by an error, which fails it whatever its
// thresholds say, and records the error with the script errors.
func (m *Master) abort(reason string, err error) {
	tb := ""
	var t interface{ Traceback() string }
	if errors.As(err, &t) {
		tb = t.Traceback()
	}
	m.agg.AddData(&stats.DeltaData{Exceptions: map[string]stats.ExceptionGroup{err.Error(): {Count: 1, Traceback: tb}}}, m.opts.Now())
	m.mu.Lock()
	m.aborted = reason
	m.mu.Unlock()
}

// stopShape ends a shaped test in the background. A shape that ends (or
// fails) at its first call leaves a test that never started: it is
// stopped at once, so that whoever waits for its end sees it.
func (m *Master) stopShape() {
	m.mu.Lock()
	m.shape.on = false
	if m.state == StateReady {
		m.state = StateStopped
		m.notifyLocked()
	}
	m.mu.Unlock()
	m.Stop()
}

// untilShape asks the shape when a whole second since the test's start
// has come (at most once each), and returns how long until the next one
// (-1: no shape runs).
func (m *Master) untilShape(now time.Time) time.Duration {
	m.mu.Lock()
	if !m.shape.on || (m.state != StateSpawning && m.state != StateRunning) {
		m.mu.Unlock()
		return -1
	}
	if left := m.shape.next.Sub(now); left > 0 {
		m.mu.Unlock()
		return left
	}
	since := now.Sub(m.shape.start)
	m.shape.next = m.shape.start.Add((since/time.Second + 1) * time.Second)
	m.mu.Unlock()
	m.followShape(now, false)
	m.mu.Lock()
	defer m.mu.Unlock()
	return max(m.shape.next.Sub(now), 0)
}
