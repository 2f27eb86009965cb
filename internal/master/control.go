package master

import (
	"context"
	"sort"
	"time"

	"github.com/horde-load/horde/internal/cluster/pb"
)

// SetTarget starts a test, or edits the running one: n users in total,
// started (or stopped) at rate users per second across all workers.
// Starting from ready or stopped resets the statistics: a new test.
func (m *Master) SetTarget(n int, rate float64) {
	now := m.opts.Now()
	m.mu.Lock()
	if m.state == StateReady || m.state == StateStopped {
		m.resetTestLocked(now)
	}
	if m.open.on {
		m.mu.Unlock()
		m.SetArrivals(m.open.rate, n, 0) // an edit of an open-model test changes its pool
		return
	}
	m.target, m.rate = max(n, 0), rate
	m.disp.setTarget(m.target, rate, now)
	m.state = StateSpawning
	m.notifyLocked()
	m.mu.Unlock()
	m.poke()
}

// StopTest stops every user on every worker — each lets its running task
// finish for the stop timeout — and waits until each live worker has
// stopped and sent its last statistics, or ctx is done.
func (m *Master) StopTest(ctx context.Context) error {
	m.mu.Lock()
	m.open = openModel{}
	m.shape.on = false
	m.disp.setTarget(0, 0, m.opts.Now())
	m.target = 0
	m.epoch++
	m.stopEpoch = m.epoch
	m.state = StateStopping
	for _, id := range m.liveLocked() {
		w := m.workers[id]
		m.queueLocked(w, &pb.MasterMessage{Msg: &pb.MasterMessage_Target{Target: &pb.Target{Epoch: m.epoch, Stop: true}}})
		w.sent, w.openSent = make([]int, len(m.names)), nil
	}
	m.notifyLocked()
	m.mu.Unlock()
	m.poke()
	for {
		m.mu.Lock()
		done := true
		for _, id := range m.liveLocked() {
			if w := m.workers[id]; w.acked < m.stopEpoch {
				done = false
			}
		}
		ch := m.changed
		if done {
			m.state = StateStopped
			m.notifyLocked()
		}
		m.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			m.mu.Lock()
			m.state = StateStopped
			m.mu.Unlock()
			return ctx.Err()
		case <-ch:
		}
	}
}

// WaitWorkers returns when at least n workers are connected, or ctx is done.
func (m *Master) WaitWorkers(ctx context.Context, n int) error {
	for {
		m.mu.Lock()
		have := len(m.liveLocked())
		ch := m.changed
		m.mu.Unlock()
		if have >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
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
}

// Users is the number of users the live workers report running.
func (m *Master) Users() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, id := range m.liveLocked() {
		n += m.workers[id].users
	}
	return n
}

// Tick records a point of history (call once per second).
func (m *Master) Tick(now time.Time) {
	users := m.Users()
	m.mu.Lock()
	m.updateStateLocked()
	m.peak = max(m.peak, users)
	m.mu.Unlock()
	m.agg.Tick(now, users)
}

// Status implements web.Source.
func (m *Master) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.updateStateLocked()
	st := Status{State: m.state, TargetUsers: m.target, SpawnRate: m.rate, Host: m.host, Started: m.started}
	if m.open.on {
		st.ArrivalRate = m.open.rate
	}
	if m.shape.on {
		st.Shape = m.shape.desc
	}
	if !m.endAt.IsZero() && !m.started.IsZero() {
		st.RunTime = max(m.endAt.Sub(m.started), 0)
	}
	for _, w := range m.workers {
		ws := WorkerStatus{
			ID: w.id, Index: w.index, State: w.state, Users: w.users, Target: m.disp.total(w.id),
			CPUPercent: w.cpu, RSSBytes: w.rss, CPUWarning: w.cpuBusy, LastSeen: w.lastSeen, RPS: w.rps,
		}
		if w.hello != nil {
			ws.Hostname = w.hello.Hostname
		}
		if !w.missing {
			st.Users += w.users
		}
		st.Workers = append(st.Workers, ws)
	}
	sort.Slice(st.Workers, func(i, j int) bool { return st.Workers[i].ID < st.Workers[j].ID })
	return st
}
