package master

import (
	"time"

	"github.com/horde-load/horde/internal/cluster/pb"
)

// openModel is an arrival-rate test (the open model): the master splits
// the rate and the pool of users over the live workers, and re-splits
// them whenever a worker joins, leaves or goes missing.
type openModel struct {
	on       bool
	rate     float64   // arrivals per second, the whole cluster
	maxUsers int       // pool of users, the whole cluster
	rampEnd  time.Time // the rate moves linearly to rate until then
}

// openShare is one worker's part of an open-model test.
type openShare struct {
	rate     float64
	maxUsers int
}

// setArrivals starts an open-model test (from ready or stopped) or edits
// the running one: rate arrivals per second across the cluster, moved to
// linearly over ramp, each running one task on a free user from a pool of
// at most maxUsers users. Arrivals that find no free user are counted as
// dropped.
func (m *Master) setArrivals(rate float64, maxUsers int, ramp time.Duration) {
	now := m.opts.Now()
	m.mu.Lock()
	if m.state == StateReady || m.state == StateStopped {
		m.resetTestLocked(now)
	}
	m.open = openModel{on: true, rate: max(rate, 0), maxUsers: max(maxUsers, 0), rampEnd: now.Add(max(ramp, 0))}
	m.target, m.rate = m.open.maxUsers, 0
	m.state = StateRunning
	m.notifyLocked()
	m.mu.Unlock()
	m.poke()
}

// splitOpen gives each live worker (sorted ids) an even part of the pool,
// the first ones one more when it does not divide, and the part of the
// rate that its users are of the pool: the shares add up to the whole,
// and a worker with no users gets no arrivals.
func splitOpen(o openModel, workers []string) map[string]openShare {
	out := make(map[string]openShare, len(workers))
	n := len(workers)
	if n == 0 {
		return out
	}
	for i, id := range workers {
		users := o.maxUsers / n
		if i < o.maxUsers%n {
			users++
		}
		var rate float64
		if o.maxUsers > 0 {
			rate = o.rate * float64(users) / float64(o.maxUsers)
		}
		out[id] = openShare{rate: rate, maxUsers: users}
	}
	return out
}

// dispatchOpenLocked queues for each live worker its share of the
// open-model test when it changed (or the worker must reset its
// statistics), adding its outbox to m.queued.
func (m *Master) dispatchOpenLocked(live []string) {
	shares := splitOpen(m.open, live)
	now := m.opts.Now()
	ramp := max(m.open.rampEnd.Sub(now), 0)
	for _, id := range live {
		w := m.workers[id]
		s := shares[id]
		if w.openSent != nil && *w.openSent == s && !w.reset {
			continue
		}
		m.epoch++
		w.box.queueTarget(&pb.Target{
			Epoch: m.epoch, Open: true, Rate: s.rate, MaxUsers: int32(s.maxUsers), RampMs: ramp.Milliseconds(),
			ResetStats: w.reset, Host: m.host,
		})
		m.queued = append(m.queued, w.box)
		w.openSent, w.reset = &s, false
	}
}

// resetTestLocked begins a new test: statistics, history and peak start
// over, and every worker is told to drop what it recorded.
func (m *Master) resetTestLocked(now time.Time) {
	m.agg.Reset(now)
	m.agg.Start(now)
	m.started, m.peak = now, 0
	m.shape.desc = ""
	m.aborted, m.rampReset = "", false
	for _, w := range m.workers {
		w.reset = true
	}
}
