// Package worker is a horde worker: it connects to the master, receives
// the script bundle, runs the users the master assigns, and sends a
// statistics delta every report interval. It reconnects with backoff for
// as long as it is allowed to, and rejoins a restarted master by itself.
// On a graceful stop (SIGTERM, scale-down) it lets its users finish, sends
// its final delta and says goodbye, so nothing it measured is lost.
package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/horde-load/horde/internal/bundle"
	"github.com/horde-load/horde/internal/cluster"
	"github.com/horde-load/horde/internal/cluster/pb"
	"github.com/horde-load/horde/internal/script"
)

// Options configure a worker.
type Options struct {
	// Dial opens a stream to the master (gRPC, or the in-process pipe).
	Dial func(ctx context.Context) (cluster.WorkerStream, func() error, error)
	// Permanent reports errors that retrying cannot fix (a wrong token, a
	// protocol mismatch): the worker ends with them.
	Permanent func(error) bool
	// Explain turns a connection error into one sentence for the log.
	Explain func(error) string

	ID, Hostname, Version string
	// Loader loads the master's bundles; nil: one of the worker's own,
	// whose scripts see Env and print to Stdout. A standalone run shares
	// the command line's, so the script's top level runs once.
	Loader *bundle.Loader
	Env    func(string) (string, bool)
	Stdout io.Writer
	Logger *slog.Logger

	// Backoff between connection attempts: from ReconnectMin doubling to
	// ReconnectMax. ReconnectTimeout gives up after that long without a
	// master (0: never).
	ReconnectMin, ReconnectMax, ReconnectTimeout time.Duration
}

// errQuit ends the worker: the master told it to.
var errQuit = errors.New("the master told the worker to quit")

// Run works for masters until ctx is done (then it stops gracefully), the
// master says quit, or an error retrying cannot fix.
func Run(ctx context.Context, o Options) error {
	o.defaults()
	var eng *engine
	defer func() {
		if eng != nil {
			eng.close()
		}
	}()
	backoff := o.ReconnectMin
	var lostSince time.Time
	var lastLog string
	for {
		if ctx.Err() != nil {
			return nil
		}
		stream, closeStream, err := o.dial(ctx)
		if err == nil {
			o.Logger.Info("connected to the master")
			backoff, lastLog = o.ReconnectMin, ""
			err = o.session(ctx, stream, &eng)
			_ = closeStream()
			switch {
			case errors.Is(err, errQuit) || ctx.Err() != nil:
				return nil
			case o.Permanent(err):
				return err
			}
			lostSince = time.Now()
		} else if o.Permanent(err) {
			return err
		}
		if msg := o.Explain(err); msg != lastLog {
			o.Logger.Warn("no master; retrying", "reason", msg, "backoff", backoff)
			lastLog = msg
		}
		if lostSince.IsZero() {
			lostSince = time.Now()
		}
		if o.ReconnectTimeout > 0 && time.Since(lostSince) > o.ReconnectTimeout {
			return fmt.Errorf("no master for %v: giving up (--reconnect-timeout)", o.ReconnectTimeout.Round(time.Second))
		}
		if eng != nil && time.Since(lostSince) > 2*eng.missing() {
			o.Logger.Warn("master gone: stopping users until it is back")
			eng.close()
			eng = nil
		}
		jitter := time.Duration(rand.Int64N(int64(backoff)/4 + 1))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff + jitter):
		}
		backoff = min(2*backoff, o.ReconnectMax)
	}
}

// dial opens a stream whose life is not tied to ctx: when ctx ends (a
// graceful stop), the worker still has to send its final statistics on
// it. ctx only interrupts the dial itself.
func (o *Options) dial(ctx context.Context) (cluster.WorkerStream, func() error, error) {
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	dialed := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			cancel()
		case <-dialed:
		}
	}()
	s, closeStream, err := o.Dial(sctx)
	close(dialed)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return s, func() error {
		err := closeStream()
		cancel()
		return err
	}, nil
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Loader == nil {
		o.Loader = &bundle.Loader{Env: o.Env, Stdout: o.Stdout}
	}
	if o.ReconnectMin <= 0 {
		o.ReconnectMin = 200 * time.Millisecond
	}
	if o.ReconnectMax < o.ReconnectMin {
		o.ReconnectMax = max(5*time.Second, o.ReconnectMin)
	}
	user := o.Permanent
	o.Permanent = func(err error) bool {
		var pe *permanentError
		return errors.As(err, &pe) || (user != nil && err != nil && user(err))
	}
	if o.Explain == nil {
		o.Explain = func(err error) string {
			if err == nil {
				return "stream closed"
			}
			return err.Error()
		}
	}
}

// session speaks to one master over one stream until it breaks, the master
// says quit, or ctx is done (a graceful stop).
func (o *Options) session(ctx context.Context, s cluster.WorkerStream, eng **engine) error {
	prev := ""
	if *eng != nil {
		prev = (*eng).runID
	}
	hello := &pb.Hello{ProtocolVersion: cluster.ProtocolVersion, WorkerId: o.ID, Hostname: o.Hostname,
		Version: o.Version, Cores: int32(runtime.GOMAXPROCS(0)), MasterRunId: prev}
	if err := s.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Hello{Hello: hello}}); err != nil {
		return err
	}
	first, err := s.Recv()
	if err != nil {
		return err
	}
	welcome := first.GetWelcome()
	if welcome == nil {
		return errors.New("the master did not welcome the worker")
	}
	if err := o.adopt(welcome, eng); err != nil {
		_ = s.Send(&pb.WorkerMessage{Msg: &pb.WorkerMessage_Goodbye{Goodbye: &pb.Goodbye{Reason: err.Error()}}})
		return &permanentError{err}
	}
	return o.converse(ctx, s, *eng, welcome)
}

// permanentError is a failure the worker cannot recover from by retrying.
type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

// adopt keeps the engine for the same master run and bundle, or builds a
// new one (a new master: what the old one ran is over).
func (o *Options) adopt(w *pb.Welcome, eng **engine) error {
	if e := *eng; e != nil {
		if e.runID == w.MasterRunId && e.hash == w.Bundle.GetHash() {
			o.Logger.Info("rejoined the same master run: users go on")
			e.setWelcome(w)
			return nil
		}
		e.close()
		*eng = nil
	}
	share := script.Share{Index: int(w.WorkerIndex), Count: int(w.DataShares)}
	e, err := newEngine(w.MasterRunId, w.GetBundle(), share, o)
	if err != nil {
		return fmt.Errorf("loading the master's script: %w", err)
	}
	e.setWelcome(w)
	*eng = e
	return nil
}
