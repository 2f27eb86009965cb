package worker

import (
	"context"
	"errors"
	"time"

	"github.com/horde-load/horde/internal/cluster"
	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/procstat"
)

type intervals struct{ heartbeat, missing, report time.Duration }

// setWelcome takes what the master's Welcome tells about the session.
func (e *engine) setWelcome(w *pb.Welcome) {
	e.compact = w.CompactHistograms
	e.hbInStats = w.HeartbeatInStats
	ms := func(v int64, def time.Duration) time.Duration {
		if v <= 0 {
			return def
		}
		return time.Duration(v) * time.Millisecond
	}
	e.iv = intervals{
		heartbeat: ms(w.HeartbeatIntervalMs, time.Second),
		missing:   ms(w.MissingTimeoutMs, 3*time.Second),
		report:    ms(w.ReportIntervalMs, time.Second),
	}
}

func (e *engine) missing() time.Duration { return max(e.iv.missing, time.Second) }

var errMasterSilent = errors.New("the master stopped sending heartbeats")

// converse is the steady state of a session: apply targets, report
// statistics and heartbeats, and notice a silent master.
func (o *Options) converse(ctx context.Context, s cluster.WorkerStream, e *engine, _ *pb.Welcome) error {
	msgs := make(chan *pb.MasterMessage, 16)
	recvErr := make(chan error, 1)
	go func() {
		for {
			m, err := s.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			msgs <- m
		}
	}()
	report := time.NewTicker(e.iv.report)
	defer report.Stop()
	// To a master that reads heartbeats inside reports, a heartbeat due
	// with every report rides with it: one message a second, not two.
	combined := e.hbInStats && e.iv.report == e.iv.heartbeat
	var hbC <-chan time.Time
	if !combined {
		hb := time.NewTicker(e.iv.heartbeat)
		defer hb.Stop()
		hbC = hb.C
	}
	sampler := newUsage()
	lag := procstat.NewLag()
	stopped := make(chan uint64, 1)
	seen := time.Now()
	for {
		select {
		case <-ctx.Done():
			return o.leave(s, e, "worker shutting down", recvErr)
		case err := <-recvErr:
			return err
		case m := <-msgs:
			seen = time.Now()
			switch x := m.Msg.(type) {
			case *pb.MasterMessage_Target:
				e.apply(x.Target, stopped, o.Logger)
				if err := o.sendHeartbeat(s, e, sampler); err != nil { // the master sees the new count at once
					return err
				}
			case *pb.MasterMessage_Quit:
				o.Logger.Info("the master said quit", "reason", x.Quit.Reason)
				_ = o.leave(s, e, "quit by the master", recvErr)
				return errQuit
			}
		case epoch := <-stopped:
			// Stops may finish out of order (a second stop while the
			// first still waits for users), and a newer target may have
			// come meanwhile: only a newer epoch counts.
			if epoch > e.acked {
				e.state, e.acked = "stopped", epoch
			}
			if err := o.sendStats(s, e, false); err != nil {
				return err
			}
			if err := o.sendHeartbeat(s, e, sampler); err != nil {
				return err
			}
		case <-report.C:
			e.settle(time.Now())
			if combined {
				if silent(seen, e, lag) {
					return errMasterSilent
				}
				if err := o.sendReport(s, e, sampler); err != nil {
					return err
				}
				continue
			}
			if err := o.sendStats(s, e, false); err != nil {
				return err
			}
		case <-hbC:
			if silent(seen, e, lag) {
				return errMasterSilent
			}
			if err := o.sendHeartbeat(s, e, sampler); err != nil {
				return err
			}
		}
	}
}

// silent reports whether the master said nothing for longer than twice
// the missing timeout (it sends its heartbeat every half of it at least).
// A master that dies breaks the stream at once; this catches one that
// hangs, without taking a busy master's late heartbeat for its end. A
// worker whose users keep every core busy reads the master late: its own
// scheduling lag is not the master's silence either.
func silent(seen time.Time, e *engine, lag *procstat.Lag) bool {
	_, late := lag.Worst(int(2*e.missing()/e.iv.heartbeat) + 1)
	return time.Since(seen) > 2*e.missing()+late
}

// sendReport sends the statistics with the heartbeat inside.
func (o *Options) sendReport(s cluster.WorkerStream, e *engine, sampler *usage) error {
	msg := e.stats(false)
	msg.Heartbeat = heartbeatOf(e, sampler)
	if err := s.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Stats{Stats: msg}}); err != nil {
		return err // pending stays for the next stream to the same master
	}
	e.delivered()
	return nil
}

func (o *Options) sendStats(s cluster.WorkerStream, e *engine, final bool) error {
	msg := e.stats(final)
	if err := s.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Stats{Stats: msg}}); err != nil {
		return err // pending stays for the next stream to the same master
	}
	e.delivered()
	return nil
}

func (o *Options) sendHeartbeat(s cluster.WorkerStream, e *engine, sampler *usage) error {
	return s.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Heartbeat{Heartbeat: heartbeatOf(e, sampler)}})
}

func heartbeatOf(e *engine, sampler *usage) *pb.Heartbeat {
	cpu, rss := sampler.get()
	return &pb.Heartbeat{
		State: e.heartbeatState(), Users: int32(e.runner.Users()), CpuPercent: cpu, RssBytes: rss, TargetEpoch: e.acked,
		UsersDone: int32(e.runner.Finished()),
	}
}

// leave stops the users gracefully (each finishes its task for the stop
// timeout), sends the final delta and says goodbye, then waits for the
// master to end the stream, so that closing it cannot overtake the goodbye.
func (o *Options) leave(s cluster.WorkerStream, e *engine, reason string, recvErr <-chan error) error {
	ctx, cancel := context.WithTimeout(context.Background(), e.stopTimeout+5*time.Second)
	defer cancel()
	_ = e.runner.Stop(ctx)
	if err := o.sendStats(s, e, true); err != nil {
		o.Logger.Warn("could not send the final statistics", "err", err)
		return err
	}
	err := s.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Goodbye{Goodbye: &pb.Goodbye{Reason: reason}}})
	if err == nil {
		select {
		case <-recvErr: // the master closed the stream: it has everything
		case <-time.After(2 * time.Second):
		}
	}
	o.Logger.Info("left the master", "reason", reason)
	return err
}

// usage samples the process's CPU and memory at most once a second, so a
// heartbeat sent right after a target does not report a meaningless
// figure over a few milliseconds.
type usage struct {
	s   *procstat.Sampler
	at  time.Time
	cpu float64
	rss uint64
}

func newUsage() *usage {
	u := &usage{s: procstat.NewSampler(nil), at: time.Now()}
	_, u.rss, _ = u.s.Sample() // the first figure covers the process's whole life: not shown
	return u
}

func (u *usage) get() (float64, uint64) {
	if time.Since(u.at) >= time.Second {
		if cpu, rss, err := u.s.Sample(); err == nil {
			u.cpu, u.rss = cpu, rss
		}
		u.at = time.Now()
	}
	return u.cpu, u.rss
}
