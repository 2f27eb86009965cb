package master

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/horde-load/horde/internal/cluster"
	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/procstat"
	"github.com/horde-load/horde/internal/stats"
)

// Attach serves one worker's stream until it ends: hello is its first
// message, already checked by the transport. A worker id seen before is
// re-admitted (a reconnect, or a worker that was missing); a second
// stream with the same id replaces the first.
//
// Its goroutine sends what the worker's outbox holds; one more receives
// and applies the worker's messages. Nothing else runs per worker.
func (m *Master) Attach(ctx context.Context, s cluster.MasterStream, hello *pb.Hello) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, gen, box := m.admit(hello, func() { cancel() })
	welcome := &pb.MasterMessage{Msg: &pb.MasterMessage_Welcome{Welcome: &pb.Welcome{
		MasterRunId:         m.runID,
		Bundle:              m.opts.Bundle,
		HeartbeatIntervalMs: m.opts.HeartbeatInterval.Milliseconds(),
		MissingTimeoutMs:    m.opts.MissingTimeout.Milliseconds(),
		ReportIntervalMs:    m.opts.ReportInterval.Milliseconds(),
		WorkerIndex:         int32(w.index),
		DataShares:          int32(max(m.opts.DataShares, 1)),
		CompactHistograms:   true,
		HeartbeatInStats:    true,
	}}}
	if m.opts.DataShares > 1 && w.index >= m.opts.DataShares {
		m.opts.Logger.Warn("more workers than data shares: this worker shares split data rows with another",
			"worker", w.id, "index", w.index, "shares", m.opts.DataShares)
	}
	recv := make(chan error, 1)
	if err := s.Send(welcome); err != nil {
		m.detach(w, gen, err)
		return nil
	}
	m.poke()
	go func() { recv <- m.receive(w, gen, s) }()
	m.detach(w, gen, m.serve(ctx, s, box, recv))
	return nil
}

// receive applies the worker's messages until the stream ends: it returns
// why (nil: the worker said goodbye). Reports are read in place from the
// bytes received when the transport can give them (cluster.RawStream).
func (m *Master) receive(w *workerConn, gen int, s cluster.MasterStream) error {
	raw, ok := s.(cluster.RawStream)
	if !ok {
		for {
			msg, err := s.Recv()
			if err != nil {
				return err
			}
			w.heard.Store(m.opts.Now().UnixNano())
			if m.handle(w, gen, msg) {
				return nil
			}
		}
	}
	var dec cluster.Decoder
	var where stats.RowCache
	for {
		b, free, err := raw.RecvRaw()
		if err != nil {
			return err
		}
		w.heard.Store(m.opts.Now().UnixNano())
		rows := <-m.scratch
		msg, rowsErr, err := dec.Decode(b, rows)
		bye := err == nil && m.apply(w, gen, msg, rows, rowsErr, &where)
		rows.Reset()
		m.scratch <- rows
		free()
		if err != nil || bye {
			return err
		}
	}
}

// serve sends what box holds as it comes, until the stream ends: it
// returns why (nil: the worker said goodbye).
func (m *Master) serve(ctx context.Context, s cluster.MasterStream, box *outbox, recv <-chan error) error {
	for {
		select {
		case <-ctx.Done():
			return streamEnd(recv, context.Cause(ctx))
		case err := <-recv:
			return err
		case <-box.ready:
			for msg := box.take(); msg != nil; msg = box.take() {
				if err := s.Send(msg); err != nil {
					return streamEnd(recv, err)
				}
			}
		}
	}
}

// streamEnd is why a stream that is over ended: a goodbye may still sit
// in it, and Recv returns promptly once the stream is gone.
func streamEnd(recv <-chan error, cause error) error {
	select {
	case err := <-recv:
		return err
	case <-time.After(time.Second):
		return cause
	}
}

func (m *Master) admit(hello *pb.Hello, cancel context.CancelFunc) (*workerConn, int, *outbox) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.workers[hello.WorkerId]
	switch {
	case w == nil:
		w = &workerConn{id: hello.WorkerId, index: m.roster.takeIndex()}
		m.workers[w.id] = w
		m.opts.Logger.Log(context.Background(), m.workerNews(), "worker connected", "worker", w.id, "host", hello.Hostname, "cores", hello.Cores)
	case w.cancel != nil:
		w.cancel() // a new stream replaces the old one
		m.opts.Logger.Info("worker reconnected", "worker", w.id)
	default:
		m.opts.Logger.Info("worker re-admitted", "worker", w.id, "was", w.state)
	}
	w.gen++
	w.hello, w.cancel, w.missing = hello, cancel, false
	w.box = newOutbox()
	w.state, w.sent, w.openSent = WorkerReady, nil, nil
	w.heard.Store(m.opts.Now().UnixNano())
	w.reset = hello.MasterRunId != m.runID
	m.roster.changed()
	m.notifyLocked()
	return w, w.gen, w.box
}

// workerNews is the level of a worker's arrival and departure in the log.
func (m *Master) workerNews() slog.Level {
	if m.opts.Standalone {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// handle applies one message from a worker, as it came through a stream
// without bytes (the in-process pipe). It reports whether the worker said
// goodbye.
func (m *Master) handle(w *workerConn, gen int, msg *pb.WorkerMessage) (bye bool) {
	rows := <-m.scratch
	defer func() { m.scratch <- rows }()
	var rowsErr error
	if st := msg.GetStats(); st != nil {
		rowsErr = cluster.DecodeStats(st, rows)
	}
	bye = m.apply(w, gen, msg, rows, rowsErr, nil)
	rows.Reset()
	return bye
}

// apply applies one message from a worker; a report's rows are already
// decoded into rows (or refused with rowsErr); where remembers where the
// stream's rows went (nil: nothing). It reports whether the worker said
// goodbye.
func (m *Master) apply(w *workerConn, gen int, msg *pb.WorkerMessage, rows *stats.DeltaData, rowsErr error, where *stats.RowCache) (bye bool) {
	now := m.opts.Now()
	switch x := msg.Msg.(type) {
	case *pb.WorkerMessage_Stats:
		if h := x.Stats.Heartbeat; h != nil { // one message a second instead of two
			m.heartbeatFrom(w, gen, h, now)
		}
		// Checked and merged straight from the message: no histogram is
		// rebuilt on the way (see docs/performance.md).
		if rowsErr != nil {
			m.opts.Logger.Warn("dropping a bad statistics message", "worker", w.id, "err", rowsErr)
			return false
		}
		m.agg.AddStream(rows, now, where)
		reqs, _ := rows.Requests()
		m.mu.Lock()
		if w.gen == gen {
			w.rps = float64(reqs) / m.opts.ReportInterval.Seconds()
			if users := int(x.Stats.Users); users != w.users {
				w.users = users
				m.minorChangeLocked()
			}
		}
		m.mu.Unlock()
	case *pb.WorkerMessage_Heartbeat:
		m.heartbeatFrom(w, gen, x.Heartbeat, now)
	case *pb.WorkerMessage_Goodbye:
		m.opts.Logger.Log(context.Background(), m.workerNews(), "worker left", "worker", w.id, "reason", x.Goodbye.Reason)
		return true
	}
	return false
}

// heartbeatFrom applies a worker's heartbeat. What waiters care about
// (state, users, the target applied) wakes them, through the throttle of
// minorChangeLocked: ten thousand workers' heartbeats are not ten
// thousand wake-ups a second.
func (m *Master) heartbeatFrom(w *workerConn, gen int, h *pb.Heartbeat, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w.gen != gen {
		return
	}
	busy := procstat.Busy(h.CpuPercent, int(w.hello.Cores))
	if w.state != h.State || w.users != int(h.Users) || w.done != int(h.UsersDone) || w.acked != h.TargetEpoch || w.cpuBusy != busy {
		m.minorChangeLocked()
	}
	w.state, w.users, w.done = h.State, int(h.Users), int(h.UsersDone)
	w.cpu, w.rss, w.acked = h.CpuPercent, h.RssBytes, h.TargetEpoch
	w.cpuBusy = busy
	if w.cpuBusy && !w.cpuWarned {
		// Once per worker, as Locust does: the state stays visible in Status.
		m.opts.Logger.Warn("worker is CPU-bound: its response times are not trustworthy; add workers",
			"worker", w.id, "cpu_percent", int(h.CpuPercent), "cores", w.hello.Cores)
		w.cpuWarned = true
	}
}

// detach ends a worker's stream. A goodbye (err nil) removes it; a broken
// stream marks it missing and moves its users to the others.
func (m *Master) detach(w *workerConn, gen int, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w.gen != gen {
		return // replaced by a newer stream
	}
	w.box, w.cancel = nil, nil
	m.roster.changed()
	if err == nil {
		m.forgetLocked(w)
	} else {
		if !w.missing {
			m.opts.Logger.Warn("worker missing: its stream broke", "worker", w.id, "err", errText(err))
		}
		w.missing, w.state, w.users = true, WorkerMissing, 0
	}
	m.notifyLocked()
	m.poke()
}

func errText(err error) string {
	if err == nil || errors.Is(err, context.Canceled) {
		return "closed"
	}
	return err.Error()
}

// forgetLocked removes w from the list of workers.
func (m *Master) forgetLocked(w *workerConn) {
	delete(m.workers, w.id)
	m.roster.freeIndex(w.index)
	m.roster.changed()
}

// heartbeatSlots spreads the master's heartbeats over the interval: each
// tick serves one slot of the workers, so that ten thousand workers are
// not all written to, and woken, in the same millisecond.
const heartbeatSlots = 10

// heartbeat sends the master's heartbeat to one slot of the workers and
// marks those of them silent for longer than the missing timeout (plus
// the master's own lag) as missing. Every worker is served once per
// heartbeat interval.
func (m *Master) heartbeat(slot int) {
	now := m.opts.Now()
	if slot == 0 {
		// A master starved of CPU reads its workers' messages late: its
		// own lag over the last missing timeout is not their silence.
		_, lag := m.lag.Worst(int(m.opts.MissingTimeout/m.opts.HeartbeatInterval) + 1)
		m.mu.Lock()
		m.lagWindow = lag
		m.mu.Unlock()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	lag, every := m.lagWindow, m.heartbeatEvery()
	hb := &pb.MasterMessage{Msg: &pb.MasterMessage_Heartbeat{Heartbeat: &pb.Heartbeat{State: m.state}}}
	all := m.roster.sorted(m.workers)
	for i := slot; i < len(all); i += heartbeatSlots {
		w := all[i]
		silent := now.Sub(time.Unix(0, w.heard.Load()))
		switch {
		case w.missing && silent > m.opts.ForgetAfter:
			m.forgetLocked(w)
			m.notifyLocked()
		case !w.missing && silent > m.opts.MissingTimeout+lag:
			m.opts.Logger.Warn("worker missing: no heartbeat", "worker", w.id, "silent_for", silent.Round(time.Millisecond),
				"master_lag", lag.Round(time.Millisecond))
			w.missing, w.state, w.users = true, WorkerMissing, 0
			m.roster.changed()
			if w.cancel != nil {
				w.cancel()
			}
			m.notifyLocked()
			m.poke()
		case w.box != nil && now.Sub(w.told) >= every:
			w.box.putHeartbeat(hb)
			w.told = now
		}
	}
}

// heartbeatEvery is how often the master tells a worker it is alive: every
// heartbeat interval, but no more often than half the missing timeout (a
// worker waits twice the missing timeout before it calls a master silent),
// less a slot, so that a worker served every second is told every other
// second with the defaults. Ten thousand workers then cost the master five
// thousand writes a second, not ten.
func (m *Master) heartbeatEvery() time.Duration {
	return max(m.opts.HeartbeatInterval, m.opts.MissingTimeout/2) - m.opts.HeartbeatInterval/heartbeatSlots
}

// liveLocked returns the ids of connected, non-missing workers, sorted.
// The slice is shared: do not change it.
func (m *Master) liveLocked() []string { return m.roster.liveIDs(m.workers) }

// dispatch moves the workers' assignment one step and queues the targets
// that changed. It returns when the next step is due (-1: none) and the
// outboxes it queued a target in, which the caller wakes (the slice is
// reused by the next dispatch).
func (m *Master) dispatch() (next time.Duration, queued []*outbox) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queued = m.queued[:0]
	live := m.liveLocked()
	if m.open.on {
		m.dispatchOpenLocked(live)
		m.updateStateLocked()
		return -1, m.queued
	}
	next = m.disp.step(m.opts.Now(), live)
	for _, id := range live {
		w := m.workers[id]
		a := m.disp.assigned[id]
		if w.sent != nil && slices.Equal(w.sent, a) && !w.reset {
			continue
		}
		m.epoch++
		users := make(map[string]int32, len(a))
		for c, k := range a {
			users[m.names[c]] = int32(k)
		}
		w.box.queueTarget(&pb.Target{Epoch: m.epoch, Users: users, ResetStats: w.reset, Host: m.host})
		m.queued = append(m.queued, w.box)
		w.sent, w.reset = slices.Clone(a), false
	}
	m.updateStateLocked()
	return next, m.queued
}

// quitWait bounds how long a master that shuts down waits for its
// workers to receive the quit and hang up, so that they end with it (as
// Locust's do) instead of waiting for a master that is gone.
const quitWait = 3 * time.Second

// waitDetached waits until no worker is connected, for at most d.
func (m *Master) waitDetached(d time.Duration) {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		m.mu.Lock()
		connected := 0
		for _, w := range m.workers {
			if w.box != nil {
				connected++
			}
		}
		ch := m.changed
		m.mu.Unlock()
		if connected == 0 {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			return
		}
	}
}

func (m *Master) quitAll(reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, w := range m.workers {
		if w.box != nil {
			w.box.putQuit(&pb.Quit{Reason: reason})
		}
	}
	m.opts.Logger.Debug("told workers to quit", slog.Int("workers", len(m.workers)))
}
