package master

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"time"

	"github.com/horde-load/horde/internal/runner"
)

// This file is the master's one way to start, edit, stop and wait for a
// test. The web API, the headless run and the command line all use it.

// TestParams start or edit a test, as the web UI's form, Locust's
// POST /swarm or the command line give them.
type TestParams struct {
	Users     int
	SpawnRate float64
	// Rate, when > 0, makes the test an open-model one: Rate arrivals per
	// second on a pool of at most Users users (SpawnRate is then unused).
	Rate float64
	// RunTime stops the test after this long from its start (0: never).
	// Editing a running test with a RunTime sets a new end from now.
	RunTime time.Duration
	// Host is the base URL; only a new test can change it ("" keeps it).
	Host string
}

// ErrBadParams wraps every refusal of Start.
var ErrBadParams = errors.New("invalid test parameters")

// Start starts a new test (from ready or stopped) or edits the running
// one. It returns at once; the test ramps in the background. A scenario
// with a load shape (stages or shape(t)) follows it: Users is then only
// the open model's pool when the shape gives none, and the test cannot
// be edited.
func (m *Master) Start(p TestParams) error {
	if err := p.check(); err != nil {
		return err
	}
	m.mu.Lock()
	running := m.state == StateSpawning || m.state == StateRunning
	if p.Host != "" && p.Host != m.host {
		if running {
			m.mu.Unlock()
			return fmt.Errorf("%w: the host of a running test cannot change; stop it first", ErrBadParams)
		}
		m.host = p.Host
		for _, w := range m.workers {
			w.sent = nil // every worker gets the new host with its next target
		}
	}
	if m.host == "" && m.needsHost {
		m.mu.Unlock()
		return fmt.Errorf("%w: no host: give one in the form or with -H/--host", ErrBadParams)
	}
	if m.shape.on {
		m.mu.Unlock()
		return fmt.Errorf("%w: this test follows the script's load shape (stages or shape); stop it to start another", ErrBadParams)
	}
	m.endAt = time.Time{}
	if p.RunTime > 0 {
		m.endAt = m.opts.Now().Add(p.RunTime)
	}
	m.mu.Unlock()
	switch {
	case m.opts.Scenario.Shape != nil && !running:
		m.startShape(p.Users)
	case p.Rate > 0:
		m.setArrivals(p.Rate, p.Users, 0)
	default:
		m.setTarget(p.Users, p.SpawnRate)
	}
	if p.RunTime > 0 && !running {
		m.mu.Lock()
		m.endAt = m.started.Add(p.RunTime) // a new test's run time counts from its start, exactly
		m.mu.Unlock()
	}
	m.poke() // the run loop times the end
	return nil
}

func (p TestParams) check() error {
	if p.Users < 0 {
		return fmt.Errorf("%w: users must be ≥ 0, got %d", ErrBadParams, p.Users)
	}
	if p.Rate < 0 || math.IsNaN(p.Rate) || math.IsInf(p.Rate, 0) {
		return fmt.Errorf("%w: rate must be ≥ 0 arrivals per second, got %v", ErrBadParams, p.Rate)
	}
	if p.Rate == 0 && !(p.SpawnRate > 0) {
		return fmt.Errorf("%w: spawn rate must be > 0, got %v", ErrBadParams, p.SpawnRate)
	}
	if p.RunTime < 0 {
		return fmt.Errorf("%w: run time must not be negative", ErrBadParams)
	}
	if p.Host != "" {
		if u, err := url.Parse(p.Host); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: host %q: want a URL like http://127.0.0.1:8080", ErrBadParams, p.Host)
		}
	}
	return nil
}

// Stop stops the test: every user on every worker stops (each lets its
// running task finish for the stop timeout) and sends its last
// statistics. It returns at once; the channel is closed when every live
// worker has confirmed, or when the master gave up waiting for them (the
// stop timeout, the drain of requests in flight, and the missing
// timeout), with the final point of history recorded. Stopping a test
// that is already stopping returns the same channel; stopping no test
// returns a closed one.
func (m *Master) Stop() <-chan struct{} {
	m.mu.Lock()
	if m.stopping != nil {
		defer m.mu.Unlock()
		return m.stopping
	}
	if m.state == StateReady || m.state == StateStopped {
		m.mu.Unlock()
		done := make(chan struct{})
		close(done)
		return done
	}
	epoch, queued := m.stopWorkersLocked()
	done := make(chan struct{})
	m.stopping = done
	m.mu.Unlock()
	for _, o := range queued {
		o.wake()
	}
	go m.awaitStop(epoch, done)
	m.poke()
	return done
}

// stopWait bounds how long a stop waits for the workers: as long as a
// worker itself waits for its users, and then the missing timeout, after
// which a worker that said nothing is not live any more.
func (m *Master) stopWait() time.Duration {
	return runner.StopWait(time.Duration(m.opts.Bundle.StopTimeoutMs)*time.Millisecond) + m.opts.MissingTimeout
}

// WaitWorkers returns when at least n workers are connected, or ctx is done.
func (m *Master) WaitWorkers(ctx context.Context, n int) error {
	_, err := m.Wait(ctx, func(st Status) bool {
		live := 0
		for _, w := range st.Workers {
			if w.State != WorkerMissing {
				live++
			}
		}
		return live >= n
	})
	return err
}

// waitEvery is the least time between two checks of a Wait: a status
// costs a walk over every worker, and with thousands of them changes come
// faster than that is worth.
const waitEvery = 50 * time.Millisecond

// Wait returns the status as soon as until holds for it, or the last
// status and ctx's error when ctx is done first. until is checked now and
// after every change of the test's or the workers' state (changes less
// than waitEvery apart are checked together).
func (m *Master) Wait(ctx context.Context, until func(Status) bool) (Status, error) {
	for {
		m.mu.Lock()
		ch := m.changed
		m.mu.Unlock()
		checked := time.Now()
		st := m.Status()
		if until(st) {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-ch:
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(time.Until(checked.Add(waitEvery))):
		}
	}
}

// Over reports whether the test of st has ended or is ending.
func Over(st Status) bool {
	return st.State == StateStopping || st.State == StateStopped
}

// ResetStats clears the statistics and the history (Locust's Reset); the
// test goes on.
func (m *Master) ResetStats() {
	now := m.opts.Now()
	m.agg.Reset(now)
	m.agg.Start(now)
	m.mu.Lock()
	m.started = now
	m.mu.Unlock()
}

// tick runs once a second from Run: history, peak users, and the end of a
// test whose users have all run their iterations.
func (m *Master) tick(now time.Time) {
	m.record(now)
	if m.iterationsDone() {
		m.opts.Logger.Info("every user ran its iterations: stopping the test")
		m.Stop()
	}
}

// iterationsDone reports whether a test with --iterations is over: every
// user was started and has ended after its iterations.
func (m *Master) iterationsDone() bool {
	if m.opts.Bundle.GetIterations() <= 0 {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.open.on || m.target == 0 || m.disp.current != m.target || (m.state != StateSpawning && m.state != StateRunning) {
		return false
	}
	done := 0
	for _, id := range m.liveLocked() {
		done += m.workers[id].done
	}
	return done >= m.target
}

// untilEnd is how long until the test's run time is over (-1: no end is
// due), stopping the test when it is.
func (m *Master) untilEnd(now time.Time) time.Duration {
	m.mu.Lock()
	if m.endAt.IsZero() || (m.state != StateSpawning && m.state != StateRunning) {
		m.mu.Unlock()
		return -1
	}
	if left := m.endAt.Sub(now); left > 0 {
		m.mu.Unlock()
		return left
	}
	m.endAt = time.Time{}
	m.mu.Unlock()
	m.opts.Logger.Info("run time over: stopping the test")
	m.Stop()
	return -1
}
