package master

import (
	"time"

	"github.com/horde-load/horde/internal/cluster/pb"
)

// setTarget starts a closed-model test, or edits the running one: n users
// in total, started (or stopped) at rate users per second across all
// workers. Starting from ready or stopped resets the statistics: a new
// test.
func (m *Master) setTarget(n int, rate float64) {
	now := m.opts.Now()
	m.mu.Lock()
	if m.state == StateReady || m.state == StateStopped {
		m.resetTestLocked(now)
	}
	if m.open.on {
		m.mu.Unlock()
		m.setArrivals(m.open.rate, n, 0) // an edit of an open-model test changes its pool
		return
	}
	m.target, m.rate = max(n, 0), rate
	m.disp.setTarget(m.target, rate, now)
	m.state = StateSpawning
	m.notifyLocked()
	m.mu.Unlock()
	m.poke()
}

// stopWorkersLocked queues for every live worker the order to stop its
// users, and returns the epoch their confirmations carry and the outboxes
// to wake once the lock is released (as dispatch's: woken under it, ten
// thousand senders would hold every report up).
func (m *Master) stopWorkersLocked() (epoch uint64, queued []*outbox) {
	m.peak = max(m.peak, m.usersLocked()) // the last users running count
	m.open = openModel{}
	m.shape.on = false
	m.disp.setTarget(0, 0, m.opts.Now())
	m.target = 0
	m.epoch++
	m.stopEpoch = m.epoch
	m.state = StateStopping
	live := m.liveLocked()
	queued = make([]*outbox, 0, len(live))
	for _, id := range live {
		w := m.workers[id]
		w.box.queueTarget(&pb.Target{Epoch: m.epoch, Stop: true})
		queued = append(queued, w.box)
		w.sent, w.openSent = make([]int, len(m.names)), nil
	}
	m.notifyLocked()
	return m.epoch, queued
}

// awaitStop waits until every live worker has confirmed the stop of
// epoch (and so sent its last statistics), or stopWait has passed, then
// records the final point of history and closes done.
func (m *Master) awaitStop(epoch uint64, done chan struct{}) {
	deadline := time.NewTimer(m.stopWait())
	defer deadline.Stop()
	for {
		m.mu.Lock()
		var late []string
		for _, id := range m.liveLocked() {
			if m.workers[id].acked < epoch {
				late = append(late, id)
			}
		}
		ch := m.changed
		m.mu.Unlock()
		if len(late) == 0 {
			break
		}
		select {
		case <-ch:
			continue
		case <-deadline.C:
			m.opts.Logger.Warn("some workers did not confirm the stop; their last requests may be missing", "workers", late)
		}
		break
	}
	m.record(m.opts.Now())
	m.mu.Lock()
	if m.state == StateStopping && m.stopEpoch == epoch {
		m.state = StateStopped
	}
	m.stopping = nil
	m.notifyLocked()
	m.mu.Unlock()
	close(done)
}

// updateStateLocked moves spawning to running once the dispatch is done
// and every live worker runs what it was asked.
func (m *Master) updateStateLocked() {
	if m.open.on || (m.state != StateSpawning && m.state != StateRunning) {
		return
	}
	settled := m.disp.current == m.target
	total := 0
	for _, id := range m.liveLocked() {
		w := m.workers[id]
		want := m.disp.total(id)
		total += want
		if w.users != want {
			settled = false
		}
	}
	if total != m.target {
		settled = false
	}
	st := StateSpawning
	if settled {
		st = StateRunning
	}
	if st != m.state {
		m.state = st
		m.notifyLocked()
	}
	if st == StateRunning && m.opts.ResetStatsAfterRamp && !m.rampReset {
		m.rampReset = true
		now := m.opts.Now()
		m.opts.Logger.Info("every user started: resetting the statistics (--reset-stats)")
		m.agg.Reset(now)
		m.agg.Start(now)
		m.started = now
		for _, w := range m.workers {
			w.reset, w.sent = true, nil // the workers drop what they have not sent yet
		}
		m.poke()
	}
}

// usersLocked is the number of users the live workers report running.
func (m *Master) usersLocked() int {
	n := 0
	for _, id := range m.liveLocked() {
		n += m.workers[id].users
	}
	return n
}

// record records a point of history and the peak of users (once a
// second, and once more when a test has stopped).
func (m *Master) record(now time.Time) {
	m.mu.Lock()
	users := m.usersLocked()
	m.updateStateLocked()
	m.peak = max(m.peak, users)
	m.mu.Unlock()
	m.agg.Tick(now, users)
}

// Status is the state of the test and of its workers now.
func (m *Master) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.updateStateLocked()
	st := Status{State: m.state, TargetUsers: m.target, SpawnRate: m.rate, Host: m.host, Started: m.started,
		UsersPeak: m.peak, ShapeLast: m.shape.desc, Aborted: m.aborted}
	if m.open.on {
		st.ArrivalRate = m.open.rate
	}
	if m.shape.on {
		st.Shape = m.shape.desc
	}
	if !m.endAt.IsZero() && !m.started.IsZero() {
		st.RunTime = max(m.endAt.Sub(m.started), 0)
	}
	st.Workers = make([]WorkerStatus, 0, len(m.workers))
	for _, w := range m.roster.sorted(m.workers) {
		ws := WorkerStatus{
			ID: w.id, Index: w.index, State: w.state, Users: w.users, Target: m.disp.total(w.id),
			CPUPercent: w.cpu, RSSBytes: w.rss, CPUWarning: w.cpuBusy, LastSeen: time.Unix(0, w.heard.Load()), RPS: w.rps,
		}
		if w.hello != nil {
			ws.Hostname = w.hello.Hostname
		}
		if !w.missing {
			st.Users += w.users
		}
		st.Workers = append(st.Workers, ws)
	}
	m.peak = max(m.peak, st.Users)
	st.UsersPeak = m.peak
	return st
}
