package master

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"time"

	"github.com/horde-load/horde/internal/httpx"
)

// TestParams start or edit a test, as the web UI's form or Locust's
// POST /swarm give them.
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
// one. It returns at once; the test ramps in the background.
func (m *Master) Start(p TestParams) error {
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
	m.endAt = time.Time{}
	if p.RunTime > 0 {
		m.endAt = m.opts.Now().Add(p.RunTime)
	}
	shaped := m.shape.on
	m.mu.Unlock()
	switch {
	case shaped:
		return fmt.Errorf("%w: this test follows the script's load shape (stages or shape); stop it to start another", ErrBadParams)
	case m.HasShape() && !running:
		m.StartShape(p.Users)
		return nil
	case p.Rate > 0:
		m.SetArrivals(p.Rate, p.Users, 0)
		return nil
	}
	m.SetTarget(p.Users, p.SpawnRate)
	return nil
}

// Stop stops the running test in the background.
func (m *Master) Stop() {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), m.stopWait())
		defer cancel()
		_ = m.StopTest(ctx)
	}()
}

// stopWait bounds how long a stop waits for workers to confirm: their
// users' stop timeout, the drain of requests in flight, and slack.
func (m *Master) stopWait() time.Duration {
	return time.Duration(m.opts.Bundle.StopTimeoutMs)*time.Millisecond + httpx.DefaultDrain + 10*time.Second
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

// Host is the base URL of the test.
func (m *Master) Host() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.host
}

// UsersPeak is the most users that ran at once in the current test.
func (m *Master) UsersPeak() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peak
}

// tick runs once a second from Run: history, peak users, and the
// run-time limit.
func (m *Master) tick(now time.Time) {
	m.Tick(now)
	m.followShape(now, false)
	m.mu.Lock()
	due := !m.endAt.IsZero() && !now.Before(m.endAt) && (m.state == StateSpawning || m.state == StateRunning)
	if due {
		m.endAt = time.Time{}
	}
	m.mu.Unlock()
	if due {
		m.opts.Logger.Info("run time over: stopping the test")
		m.Stop()
	}
}
