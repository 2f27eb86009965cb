package master

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sort"
	"time"

	"github.com/horde-load/horde/internal/cluster"
	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/procstat"
	"github.com/horde-load/horde/internal/stats"
)

// outboxSize bounds the messages queued for one worker; a worker that
// lets it fill is too slow to follow and is disconnected.
const outboxSize = 256

// Attach serves one worker's stream until it ends: hello is its first
// message, already checked by the transport. A worker id seen before is
// re-admitted (a reconnect, or a worker that was missing); a second
// stream with the same id replaces the first.
func (m *Master) Attach(ctx context.Context, s cluster.MasterStream, hello *pb.Hello) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, gen, out := m.admit(hello, func() { cancel() })
	out <- &pb.MasterMessage{Msg: &pb.MasterMessage_Welcome{Welcome: &pb.Welcome{
		MasterRunId:         m.runID,
		Bundle:              m.opts.Bundle,
		HeartbeatIntervalMs: m.opts.HeartbeatInterval.Milliseconds(),
		MissingTimeoutMs:    m.opts.MissingTimeout.Milliseconds(),
		ReportIntervalMs:    m.opts.ReportInterval.Milliseconds(),
		WorkerIndex:         int32(w.index),
		DataShares:          int32(max(m.opts.DataShares, 1)),
		CompactHistograms:   true,
	}}}
	if m.opts.DataShares > 1 && w.index >= m.opts.DataShares {
		m.opts.Logger.Warn("more workers than data shares: this worker shares split data rows with another",
			"worker", w.id, "index", w.index, "shares", m.opts.DataShares)
	}
	m.poke()
	go m.send(ctx, cancel, s, out)
	recv := make(chan error, 1)
	go func() {
		var scratch stats.DeltaData // reused for every Stats of this stream
		for {
			msg, err := s.Recv()
			if err != nil {
				recv <- err
				return
			}
			if m.handle(w, gen, msg, &scratch) {
				recv <- nil
				return
			}
		}
	}()
	var err error
	select {
	case <-ctx.Done():
		// The stream is over; a goodbye may still sit in it, and Recv
		// returns promptly once the stream is gone.
		select {
		case err = <-recv:
		case <-time.After(time.Second):
			err = context.Cause(ctx)
		}
	case err = <-recv:
	}
	m.detach(w, gen, err)
	return nil
}

func (m *Master) admit(hello *pb.Hello, cancel context.CancelFunc) (*workerConn, int, chan *pb.MasterMessage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.workers[hello.WorkerId]
	switch {
	case w == nil:
		w = &workerConn{id: hello.WorkerId, index: m.freeIndexLocked()}
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
	w.out = make(chan *pb.MasterMessage, outboxSize)
	w.state, w.lastSeen, w.sent, w.openSent = WorkerReady, m.opts.Now(), nil, nil
	w.reset = hello.MasterRunId != m.runID
	m.notifyLocked()
	return w, w.gen, w.out
}

// workerNews is the level of a worker's arrival and departure in the log.
func (m *Master) workerNews() slog.Level {
	if m.opts.Standalone {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

func (m *Master) freeIndexLocked() int {
	used := map[int]bool{}
	for _, w := range m.workers {
		used[w.index] = true
	}
	i := 0
	for used[i] {
		i++
	}
	return i
}

// send writes queued messages to the stream until ctx is done.
func (m *Master) send(ctx context.Context, cancel context.CancelFunc, s cluster.MasterStream, out chan *pb.MasterMessage) {
	for {
		select {
		case <-ctx.Done():
			return
		case msg := <-out:
			if err := s.Send(msg); err != nil {
				cancel()
				return
			}
		}
	}
}

// handle applies one message from a worker, decoding statistics into
// scratch, which it leaves empty. It reports whether the worker said
// goodbye.
func (m *Master) handle(w *workerConn, gen int, msg *pb.WorkerMessage, scratch *stats.DeltaData) (bye bool) {
	now := m.opts.Now()
	switch x := msg.Msg.(type) {
	case *pb.WorkerMessage_Stats:
		// Checked and merged straight from the message: no histogram is
		// rebuilt on the way (see docs/performance.md).
		if err := cluster.DecodeStats(x.Stats, scratch); err != nil {
			m.opts.Logger.Warn("dropping a bad statistics message", "worker", w.id, "err", err)
			return false
		}
		m.agg.AddData(scratch, now)
		reqs, _ := scratch.Requests()
		scratch.Reset()
		m.mu.Lock()
		if w.gen == gen {
			w.lastSeen, w.users = now, int(x.Stats.Users)
			w.rps = float64(reqs) / m.opts.ReportInterval.Seconds()
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

func (m *Master) heartbeatFrom(w *workerConn, gen int, h *pb.Heartbeat, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w.gen != gen {
		return
	}
	w.lastSeen, w.state, w.users, w.done = now, h.State, int(h.Users), int(h.UsersDone)
	w.cpu, w.rss, w.acked = h.CpuPercent, h.RssBytes, h.TargetEpoch
	w.cpuBusy = procstat.Busy(h.CpuPercent, int(w.hello.Cores))
	if w.cpuBusy && !w.cpuWarned {
		// Once per worker, as Locust does: the state stays visible in Status.
		m.opts.Logger.Warn("worker is CPU-bound: its response times are not trustworthy; add workers",
			"worker", w.id, "cpu_percent", int(h.CpuPercent), "cores", w.hello.Cores)
		w.cpuWarned = true
	}
	m.notifyLocked()
}

// detach ends a worker's stream. A goodbye (err nil) removes it; a broken
// stream marks it missing and moves its users to the others.
func (m *Master) detach(w *workerConn, gen int, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w.gen != gen {
		return // replaced by a newer stream
	}
	w.out, w.cancel = nil, nil
	if err == nil {
		delete(m.workers, w.id)
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

// heartbeat sends the master's heartbeat to every worker and marks those
// silent for longer than the missing timeout as missing.
func (m *Master) heartbeat() {
	now := m.opts.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, w := range m.workers {
		switch {
		case w.missing && now.Sub(w.lastSeen) > m.opts.ForgetAfter:
			delete(m.workers, w.id)
		case !w.missing && now.Sub(w.lastSeen) > m.opts.MissingTimeout:
			m.opts.Logger.Warn("worker missing: no heartbeat", "worker", w.id, "silent_for", now.Sub(w.lastSeen).Round(time.Millisecond))
			w.missing, w.state, w.users = true, WorkerMissing, 0
			if w.cancel != nil {
				w.cancel()
			}
			m.notifyLocked()
			m.poke()
		case w.out != nil:
			m.queueLocked(w, &pb.MasterMessage{Msg: &pb.MasterMessage_Heartbeat{Heartbeat: &pb.Heartbeat{State: m.state}}})
		}
	}
}

// queueLocked queues msg for w; a worker whose outbox is full is
// disconnected rather than allowed to block the master.
func (m *Master) queueLocked(w *workerConn, msg *pb.MasterMessage) {
	select {
	case w.out <- msg:
	default:
		m.opts.Logger.Warn("worker too slow to follow: disconnecting it", "worker", w.id)
		if w.cancel != nil {
			w.cancel()
		}
	}
}

// liveLocked returns the ids of connected, non-missing workers, sorted.
func (m *Master) liveLocked() []string {
	var ids []string
	for id, w := range m.workers {
		if w.out != nil && !w.missing {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// dispatch moves the workers' assignment one step and sends the targets
// that changed. It returns when the next step is due (-1: none).
func (m *Master) dispatch() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	live := m.liveLocked()
	if m.open.on {
		m.dispatchOpenLocked(live)
		m.updateStateLocked()
		return -1
	}
	_, next := m.disp.step(m.opts.Now(), live)
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
		m.queueLocked(w, &pb.MasterMessage{Msg: &pb.MasterMessage_Target{Target: &pb.Target{
			Epoch: m.epoch, Users: users, ResetStats: w.reset, Host: m.host,
		}}})
		w.sent, w.reset = slices.Clone(a), false
	}
	m.updateStateLocked()
	return next
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
			if w.out != nil {
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
		if w.out != nil {
			m.queueLocked(w, &pb.MasterMessage{Msg: &pb.MasterMessage_Quit{Quit: &pb.Quit{Reason: reason}}})
		}
	}
	m.opts.Logger.Debug("told workers to quit", slog.Int("workers", len(m.workers)))
}
