package sim

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/horde-load/horde/internal/cluster"
	"github.com/horde-load/horde/internal/cluster/pb"
)

type mode int

const (
	modeAlive  mode = iota
	modeKilled      // connection cut; waits for Revive
	modeHung        // connection open and silent; waits for Revive
	modeQuit        // the master said quit
)

func (m mode) String() string {
	return [...]string{"alive", "killed", "hung", "quit"}[m]
}

// Reconnection backoff, as a real worker's (package worker).
const (
	backoffMin = 200 * time.Millisecond
	backoffMax = 5 * time.Second
)

// worker is one simulated worker. Its life goroutine owns the stream;
// the fields under mu are what the control methods and Summary see.
type worker struct {
	f    *Fleet
	n    int
	id   string
	wake chan struct{} // 1-buffered: mode, delay or drop changed

	mu        sync.Mutex
	mode      mode
	delay     time.Duration
	drop      bool
	conn      net.Conn // the TCP connection of the current stream
	connected bool
	runID     string
	index     int
	users     int
	classes   map[string]int32
	open      bool
	rate      float64
	maxUsers  int
	epoch     uint64
	applied   time.Time
	hbState   string // Locust's worker state, as heartbeats carry it
	sessions  int
	targets   uint64
	requests  int64 // reported so far
	seq       uint64
}

func (w *worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) state() (WorkerState, int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := WorkerState{
		ID: w.id, Mode: w.mode.String(), Connected: w.connected, Index: w.index, DelayMS: w.delay.Milliseconds(),
		Users: w.users, Open: w.open, Rate: w.rate, MaxUsers: w.maxUsers, Epoch: w.epoch, Applied: w.applied,
		Sessions: w.sessions, Targets: w.targets,
	}
	if len(w.classes) > 0 {
		st.Classes = make(map[string]int32, len(w.classes))
		for k, v := range w.classes {
			st.Classes[k] = v
		}
	}
	return st, w.requests
}

// life connects, converses, and reconnects until ctx is done.
func (w *worker) life(ctx context.Context) {
	backoff := backoffMin
	for ctx.Err() == nil {
		if !w.waitAlive(ctx) {
			return
		}
		err := w.session(ctx)
		if err == nil || ctx.Err() != nil {
			backoff = backoffMin // a deliberate end: reconnect at once
			continue
		}
		jitter := time.Duration(rand.Int64N(int64(backoff)/4 + 1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff + jitter):
		}
		backoff = min(2*backoff, backoffMax)
	}
}

// waitAlive waits while the worker is dead; false when ctx is done.
func (w *worker) waitAlive(ctx context.Context) bool {
	for {
		w.mu.Lock()
		m := w.mode
		w.mu.Unlock()
		if m == modeAlive {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-w.wake:
		}
	}
}

// errCut ends a session the simulator cut on purpose.
var errCut = errors.New("sim: connection cut")

// session speaks to the master over one stream until it breaks, the
// worker is killed or dropped, or ctx is done. It returns nil when the
// end was deliberate.
func (w *worker) session(ctx context.Context) error {
	s, closeStream, welcome, err := w.dial(ctx)
	if err != nil {
		return err
	}
	defer func() {
		_ = closeStream()
		w.mu.Lock()
		w.connected, w.conn = false, nil
		w.mu.Unlock()
	}()
	rep, err := w.f.reports.get(ms(welcome.ReportIntervalMs, time.Second), welcome.CompactHistograms)
	if err != nil {
		return err
	}
	c := &conversation{w: w, s: s, rep: rep,
		hb: ms(welcome.HeartbeatIntervalMs, time.Second), report: ms(welcome.ReportIntervalMs, time.Second),
		missing: max(ms(welcome.MissingTimeoutMs, 3*time.Second), time.Second)}
	c.combined = welcome.HeartbeatInStats && c.hb == c.report
	err = c.run(ctx)
	if errors.Is(err, errCut) {
		return nil
	}
	if ctx.Err() != nil {
		c.goodbye("simulator shutting down")
		return nil
	}
	return err
}

func ms(v int64, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return time.Duration(v) * time.Millisecond
}

// dial connects, says Hello and waits for the Welcome, holding one of the
// fleet's connection slots meanwhile.
func (w *worker) dial(ctx context.Context) (cluster.WorkerStream, func() error, *pb.Welcome, error) {
	select {
	case w.f.connect <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, nil, ctx.Err()
	}
	defer func() { <-w.f.connect }()
	var conn net.Conn
	opts := w.f.opts.Dial
	opts.Dialer = func(ctx context.Context, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		conn = c
		return c, err
	}
	s, closeStream, err := cluster.Dial(ctx, w.f.opts.Master, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	w.mu.Lock()
	prev := w.runID
	w.sessions++
	w.mu.Unlock()
	o := w.f.opts
	hello := &pb.Hello{ProtocolVersion: cluster.ProtocolVersion, WorkerId: w.id, Hostname: o.Hostname,
		Version: o.Version, Cores: int32(o.Cores), MasterRunId: prev}
	if err := s.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Hello{Hello: hello}}); err != nil {
		_ = closeStream()
		return nil, nil, nil, err
	}
	first, err := s.Recv()
	if err != nil {
		_ = closeStream()
		return nil, nil, nil, err
	}
	welcome := first.GetWelcome()
	if welcome == nil {
		_ = closeStream()
		return nil, nil, nil, errors.New("sim: the master did not welcome the worker")
	}
	w.mu.Lock()
	if welcome.MasterRunId != w.runID {
		// Another master run: what the worker ran is over.
		w.users, w.classes, w.open, w.rate, w.maxUsers, w.hbState = 0, nil, false, 0, 0, "ready"
	}
	w.runID, w.index, w.connected, w.conn = welcome.MasterRunId, int(welcome.WorkerIndex), true, conn
	w.mu.Unlock()
	return s, closeStream, welcome, nil
}

// conversation is one session's steady state.
type conversation struct {
	w          *worker
	s          cluster.WorkerStream
	rep        *encoded
	hb, report time.Duration
	missing    time.Duration
	// combined: heartbeats ride in reports (Welcome.heartbeat_in_stats).
	combined bool
}

func (c *conversation) run(ctx context.Context) error {
	w := c.w
	msgs := make(chan *pb.MasterMessage, 16)
	recvErr := make(chan error, 1)
	go func() {
		for {
			m, err := c.s.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	// Spread the first reports over an interval, so that workers started
	// together do not all report in the same millisecond; heartbeats and
	// reports start together, as a real worker's tickers do.
	now := time.Now()
	phase := time.Duration(rand.Int64N(int64(min(c.hb, c.report))))
	hbAt, reportAt := now.Add(phase), now.Add(phase)
	seen := now
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		w.mu.Lock()
		delay, m, drop := w.delay, w.mode, w.drop
		w.drop = false
		w.mu.Unlock()
		switch {
		case m == modeKilled || drop:
			w.cut()
			return errCut
		case m == modeHung:
			if err := c.hang(ctx); err != nil {
				return err
			}
			continue
		}
		next := hbAt
		if delay == 0 && !c.combined && reportAt.Before(next) {
			next = reportAt
		}
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-recvErr:
			return err
		case <-w.wake:
		case msg := <-msgs:
			seen = time.Now()
			if err := c.handle(msg, delay); err != nil {
				return err
			}
		case now := <-timer.C:
			if now.Sub(seen) > 2*c.missing+c.w.f.lagWindow() { // as a real worker
				return errors.New("sim: the master stopped sending heartbeats")
			}
			if (delay > 0 || c.combined) && !now.Before(hbAt) {
				// The report and the heartbeat together: as one message to
				// a master that reads heartbeats in reports; and a late
				// worker sends everything it owes at once.
				hbAt = now.Add(c.hb + delay)
				if err := c.sendReport(); err != nil {
					return err
				}
				continue
			}
			if !now.Before(reportAt) {
				reportAt = reportAt.Add(c.report)
				if reportAt.Before(now) {
					reportAt = now.Add(c.report)
				}
				if err := c.sendStats(); err != nil {
					return err
				}
			}
			if !now.Before(hbAt) {
				hbAt = now.Add(c.hb)
				if err := c.sendHeartbeat(); err != nil {
					return err
				}
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// hang keeps the connection open and silent until the worker is revived
// (then it resumes) or killed (then it is cut). It reads nothing, so what
// the master sends piles up in the connection, as with a stuck process.
func (c *conversation) hang(ctx context.Context) error {
	for {
		c.w.mu.Lock()
		m := c.w.mode
		c.w.mu.Unlock()
		switch m {
		case modeAlive:
			return nil
		case modeKilled:
			c.w.cut()
			return errCut
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.w.wake:
		}
	}
}

// cut closes the TCP connection under the stream at once, as the kernel
// does for a process that was killed.
func (w *worker) cut() {
	w.mu.Lock()
	conn := w.conn
	w.mu.Unlock()
	if conn != nil {
		_ = conn.Close()
	}
}

// handle applies one message of the master.
func (c *conversation) handle(msg *pb.MasterMessage, delay time.Duration) error {
	w := c.w
	switch x := msg.Msg.(type) {
	case *pb.MasterMessage_Target:
		t := x.Target
		w.mu.Lock()
		w.targets++
		w.epoch, w.applied = t.Epoch, time.Now()
		switch {
		case t.Stop:
			w.users, w.classes, w.open, w.rate, w.maxUsers, w.hbState = 0, nil, false, 0, 0, "stopped"
		case t.Open:
			w.open, w.rate, w.maxUsers, w.users, w.classes, w.hbState = true, t.Rate, int(t.MaxUsers), int(t.MaxUsers), nil, "running"
		default:
			total := 0
			w.classes = make(map[string]int32, len(t.Users))
			for k, v := range t.Users {
				w.classes[k] = v
				total += int(v)
			}
			w.users, w.open, w.rate, w.maxUsers, w.hbState = total, false, 0, 0, "running"
		}
		w.mu.Unlock()
		if delay > 0 {
			return nil // a late worker says nothing until its next heartbeat
		}
		if t.Stop { // the last statistics of the test, then the confirmation
			if err := c.sendStats(); err != nil {
				return err
			}
		}
		return c.sendHeartbeat()
	case *pb.MasterMessage_Quit:
		w.mu.Lock()
		w.mode = modeQuit
		w.mu.Unlock()
		w.f.quitChanged(1)
		c.goodbye("quit by the master")
		return errCut
	}
	return nil
}

func (c *conversation) goodbye(reason string) {
	_ = c.sendStats()
	_ = c.s.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Goodbye{Goodbye: &pb.Goodbye{Reason: reason}}})
}

// sendReport sends the statistics and the heartbeat: in one message to a
// master that reads heartbeats in reports, else one after the other.
func (c *conversation) sendReport() error {
	if c.combined {
		return c.sendStatsWith(c.heartbeat())
	}
	if err := c.sendStats(); err != nil {
		return err
	}
	return c.sendHeartbeat()
}

func (c *conversation) sendStats() error { return c.sendStatsWith(nil) }

func (c *conversation) sendStatsWith(hb *pb.Heartbeat) error {
	w := c.w
	w.mu.Lock()
	users, seq := w.users, w.seq
	w.mu.Unlock()
	msg := c.rep.message(w.n+int(seq), seq, int32(users), users > 0)
	msg.Heartbeat = hb
	if err := c.s.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Stats{Stats: msg}}); err != nil {
		return err
	}
	w.mu.Lock()
	w.seq++
	if users > 0 {
		w.requests += c.rep.requests
	}
	w.mu.Unlock()
	return nil
}

func (c *conversation) sendHeartbeat() error {
	return c.s.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Heartbeat{Heartbeat: c.heartbeat()}})
}

func (c *conversation) heartbeat() *pb.Heartbeat {
	w := c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	return &pb.Heartbeat{State: w.hbState, Users: int32(w.users), TargetEpoch: w.epoch}
}
