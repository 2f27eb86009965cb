// Package sim is horde's worker simulator: one process opens many real
// worker connections to a master — gRPC, the auth token, the protocol of
// package cluster, heartbeats — and answers on each as a worker does: it
// takes its targets (users per class, or an open-model rate and pool),
// reports them in heartbeats, and sends a statistics delta of a chosen
// Shape every report interval. Groups of simulated workers can be told to
// die (their connection cut, as a killed process's), to hang (connection
// open, nothing sent: a stuck process or a lost host), to send their
// heartbeats late, to drop their connection and reconnect, and to come
// back.
//
// It measures the master, not load generation: simulated workers start no
// users and make no requests. The master has no idea it talks to a
// simulator. `horde sim-workers` runs it (docs/scaling.md).
package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/horde-load/horde/internal/cluster"
	"github.com/horde-load/horde/internal/procstat"
)

// Options configure a Fleet.
type Options struct {
	// Master is the master's worker port, host:port.
	Master string
	// Dial carries the token and TLS settings (its Dialer is the
	// simulator's own).
	Dial cluster.DialOptions
	// Workers is how many simulated workers to run.
	Workers int
	// IDPrefix names the workers IDPrefix-00000, IDPrefix-00001, ...
	// (default "sim"). Two simulators on one master need two prefixes.
	IDPrefix string
	// Hostname, Version and Cores are what each worker's Hello says.
	Hostname, Version string
	Cores             int
	// Shape is the statistics every worker with users reports.
	Shape Shape
	// ConnectConcurrency bounds the connections being opened at once
	// (default 64), so that starting ten thousand workers does not look
	// like an attack to the master's accept queue.
	ConnectConcurrency int
	Logger             *slog.Logger
}

// Fleet is a running set of simulated workers.
type Fleet struct {
	opts    Options
	log     *slog.Logger
	reports *reports
	workers []*worker
	connect chan struct{} // semaphore of connections being opened
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu         sync.Mutex
	lagMeter   *procstat.Lag
	lag        time.Duration
	lagAt      time.Time
	quit       int
	done       chan struct{}
	closedDone bool
}

// Start checks o and starts every worker; they connect in the background
// and keep reconnecting until Close.
func Start(ctx context.Context, o Options) (*Fleet, error) {
	if o.Master == "" {
		return nil, errors.New("sim: no master address")
	}
	if o.Workers < 0 {
		return nil, fmt.Errorf("sim: %d workers", o.Workers)
	}
	if o.Shape == (Shape{}) {
		o.Shape = DefaultShape
	}
	if err := o.Shape.check(); err != nil {
		return nil, err
	}
	if o.IDPrefix == "" {
		o.IDPrefix = "sim"
	}
	if o.Hostname == "" {
		o.Hostname = "sim"
	}
	if o.Cores <= 0 {
		o.Cores = 1
	}
	if o.ConnectConcurrency <= 0 {
		o.ConnectConcurrency = 64
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	f := &Fleet{opts: o, log: o.Logger, reports: newReports(o.Shape), connect: make(chan struct{}, o.ConnectConcurrency),
		done: make(chan struct{}), lagMeter: procstat.NewLag()}
	ctx, f.cancel = context.WithCancel(ctx)
	for i := range o.Workers {
		w := &worker{f: f, n: i, id: fmt.Sprintf("%s-%05d", o.IDPrefix, i), wake: make(chan struct{}, 1), index: -1}
		f.workers = append(f.workers, w)
	}
	for _, w := range f.workers {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			w.life(ctx)
		}()
	}
	return f, nil
}

// Close says goodbye on every connection and ends every worker.
func (f *Fleet) Close() {
	f.cancel()
	f.wg.Wait()
}

// Kill cuts the connections of n live workers, spread over the fleet, as
// when their processes are killed: the master sees the streams break.
// With hang, the connections stay open and silent instead (a stuck
// process, a lost host): the master notices only by its missing timeout.
// It returns the ids.
func (f *Fleet) Kill(n int, hang bool) []string {
	to := modeKilled
	if hang {
		to = modeHung
	}
	return f.each(n, func(w *worker) bool { return w.mode == modeAlive }, func(w *worker) { w.mode = to })
}

// Revive brings back n dead, hung or quit workers under their old ids: a
// killed one reconnects as a restarted process, a hung one resumes.
func (f *Fleet) Revive(n int) []string {
	return f.each(n, func(w *worker) bool { return w.mode != modeAlive }, func(w *worker) {
		switch w.mode {
		case modeQuit:
			f.quitChanged(-1)
			w.runID = ""
		case modeKilled:
			w.runID = "" // a new process knows no master run
		}
		w.mode = modeAlive
	})
}

// Delay makes n live workers send everything late: each message waits
// until d after the heartbeat was due, so the master hears from them
// every heartbeat interval + d. d = 0 makes n delayed workers punctual
// again.
func (f *Fleet) Delay(n int, d time.Duration) []string {
	pick := func(w *worker) bool { return w.mode == modeAlive && w.delay == 0 }
	if d == 0 {
		pick = func(w *worker) bool { return w.delay > 0 }
	}
	return f.each(n, pick, func(w *worker) { w.delay = max(d, 0) })
}

// Drop cuts the connections of n connected workers, which reconnect at
// once with their users and their master run: a network blip.
func (f *Fleet) Drop(n int) []string {
	return f.each(n, func(w *worker) bool { return w.mode == modeAlive && w.connected }, func(w *worker) { w.drop = true })
}

// each applies do to n workers chosen by pick (all of them when n < 0),
// spread evenly over the fleet, and wakes them.
func (f *Fleet) each(n int, pick func(*worker) bool, do func(*worker)) []string {
	var cand []*worker
	for _, w := range f.workers {
		w.mu.Lock()
		if pick(w) {
			cand = append(cand, w)
		}
		w.mu.Unlock()
	}
	if n < 0 || n > len(cand) {
		n = len(cand)
	}
	ids := make([]string, 0, n)
	for i := range n {
		w := cand[i*len(cand)/n]
		w.mu.Lock()
		if pick(w) { // it may have changed since
			do(w)
			ids = append(ids, w.id)
		}
		w.mu.Unlock()
		w.poke()
	}
	return ids
}

// WorkerState is what one simulated worker holds now.
type WorkerState struct {
	ID        string           `json:"id"`
	Mode      string           `json:"mode"` // alive, killed, hung, quit
	Connected bool             `json:"connected"`
	Index     int              `json:"index"` // the master's worker index (-1 before the first Welcome)
	DelayMS   int64            `json:"delay_ms"`
	Users     int              `json:"users"`
	Classes   map[string]int32 `json:"classes,omitempty"`
	Open      bool             `json:"open"`
	Rate      float64          `json:"rate"`
	MaxUsers  int              `json:"max_users"`
	Epoch     uint64           `json:"epoch"`
	// Applied is when the worker applied its last target.
	Applied time.Time `json:"applied"`
	// Sessions counts the streams it opened; Targets the targets it got.
	Sessions int    `json:"sessions"`
	Targets  uint64 `json:"targets"`
}

// Summary is the fleet at one instant.
type Summary struct {
	Workers   int `json:"workers"`
	Alive     int `json:"alive"`
	Connected int `json:"connected"` // alive and welcomed by the master
	Killed    int `json:"killed"`
	Hung      int `json:"hung"`
	Quit      int `json:"quit"`
	Delayed   int `json:"delayed"`
	// Users sums the users of the connected workers; UsersMin and
	// UsersMax are the least and most one of them runs.
	Users    int `json:"users"`
	UsersMin int `json:"users_min"`
	UsersMax int `json:"users_max"`
	// Rate and MaxUsers sum the open-model shares of the connected
	// workers.
	Rate     float64 `json:"rate"`
	MaxUsers int     `json:"max_users"`
	// LastApplied is the latest time a connected worker applied a target.
	LastApplied time.Time `json:"last_applied"`
	// RequestsReported counts the requests all workers reported so far.
	RequestsReported int64 `json:"requests_reported"`
	// States lists every worker when asked for.
	States []WorkerState `json:"states,omitempty"`
}

// Summary returns the fleet's state; with all, every worker's too.
func (f *Fleet) Summary(all bool) Summary {
	s := Summary{Workers: len(f.workers), UsersMin: -1}
	for _, w := range f.workers {
		st, reqs := w.state()
		s.RequestsReported += reqs
		switch st.Mode {
		case modeAlive.String():
			s.Alive++
		case modeKilled.String():
			s.Killed++
		case modeHung.String():
			s.Hung++
		case modeQuit.String():
			s.Quit++
		}
		if st.DelayMS > 0 {
			s.Delayed++
		}
		if st.Connected && st.Mode == modeAlive.String() {
			s.Connected++
			s.Users += st.Users
			s.Rate += st.Rate
			s.MaxUsers += st.MaxUsers
			if s.UsersMin < 0 || st.Users < s.UsersMin {
				s.UsersMin = st.Users
			}
			s.UsersMax = max(s.UsersMax, st.Users)
			if st.Applied.After(s.LastApplied) {
				s.LastApplied = st.Applied
			}
		}
		if all {
			s.States = append(s.States, st)
		}
	}
	s.UsersMin = max(s.UsersMin, 0)
	sort.Slice(s.States, func(i, j int) bool { return s.States[i].ID < s.States[j].ID })
	return s
}

// lagWindow is the simulator's own scheduling lag over the last few
// seconds (package procstat), measured at most once a second for the
// whole fleet: a simulator starved of CPU reads the master late, and must
// not take that for the master's silence, as a real worker does not.
func (f *Fleet) lagWindow() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if time.Since(f.lagAt) >= time.Second {
		_, f.lag = f.lagMeter.Worst(5)
		f.lagAt = time.Now()
	}
	return f.lag
}

// Done is closed once every worker has quit because the master told it
// to (a master that ends tells its workers to quit, and real workers
// exit then).
func (f *Fleet) Done() <-chan struct{} { return f.done }

// quitChanged counts a worker that quit (+1) or was revived after quitting (-1).
func (f *Fleet) quitChanged(d int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.quit += d
	if f.quit == len(f.workers) && !f.closedDone {
		f.closedDone = true
		close(f.done)
	}
}
