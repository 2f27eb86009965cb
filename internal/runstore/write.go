package runstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrFinished is returned by a Recording's writes after Finish.
var ErrFinished = errors.New("runstore: the run is already finished")

// row is a run as one write puts it: the run, the write's sequence number
// (a write never replaces a newer one) and the blobs in their stored
// (compressed) form, nil for "unchanged".
type row struct {
	Run        Run    `json:"run"`
	Seq        int64  `json:"seq"`
	Summary    []byte `json:"summary,omitempty"`
	History    []byte `json:"history,omitempty"`
	Histograms []byte `json:"histograms,omitempty"`
}

// Recording is a run being recorded: Checkpoint saves what is known so
// far, Finish its end. Its methods are safe for concurrent use.
type Recording struct {
	s      *Store
	id     string // fixed at Begin: ID() needs no lock
	mu     sync.Mutex
	last   row  // the whole run as last written (blobs merged)
	behind bool // the store missed a write: the next one puts the whole run
	done   bool
}

// Begin records a new run with status running, owned by this Store's
// owner, and returns its Recording. If the store cannot be written, the
// run is spooled and Begin returns the Recording with a *SpoolError: the
// test can go on, the run is written when the store is back.
func (s *Store) Begin(ctx context.Context, info Info) (*Recording, error) {
	now := s.now()
	if info.Started.IsZero() {
		info.Started = now
	}
	info = info.cleaned() // a copy: the caller's maps are not kept either
	for k := range info.Labels {
		if err := checkLabelKey(k); err != nil {
			return nil, err
		}
	}
	r := &Recording{s: s, id: newID()}
	w := row{Seq: 1, Run: Run{
		ID: r.id, Status: StatusRunning, Info: info, Updated: now,
		Owner: Owner{Host: cleanText(s.owner.Host), PID: s.owner.PID, Instance: cleanText(s.owner.Instance)},
	}}
	return r, r.save(ctx, w)
}

// ID returns the run's id.
func (r *Recording) ID() string { return r.id }

// Checkpoint saves what is known of the run so far; the run stays
// running. A failed write is spooled (*SpoolError), like Begin's.
func (r *Recording) Checkpoint(ctx context.Context, snap Snapshot) error {
	return r.write(ctx, StatusRunning, "", snap)
}

// Finish saves the run's final state with a final status (passed, failed
// or aborted) and why, if that needs saying. A failed write is spooled
// (*SpoolError), like Begin's; the Recording is done either way.
func (r *Recording) Finish(ctx context.Context, status Status, reason string, snap Snapshot) error {
	if !status.Final() {
		return fmt.Errorf("runstore: finish with status %q: want passed, failed or aborted", status)
	}
	return r.write(ctx, status, reason, snap)
}

func (r *Recording) write(ctx context.Context, status Status, reason string, snap Snapshot) error {
	r.mu.Lock()
	if r.done {
		r.mu.Unlock()
		return fmt.Errorf("%w: run %s", ErrFinished, r.last.Run.ID)
	}
	w := row{Run: r.last.Run, Seq: r.last.Seq + 1}
	r.mu.Unlock()
	now := r.s.now()
	w.Run.Status, w.Run.Reason, w.Run.Updated = status, cleanText(reason), now
	if status.Final() {
		w.Run.Ended = now
	}
	w.Run.Metrics = snap.Metrics
	w.Run.Thresholds = append([]Threshold(nil), snap.Thresholds...)
	// Compressed outside the lock: a concurrent write need not wait for it.
	c := &r.s.compressor
	w.Summary, w.History, w.Histograms = c.compress(snap.Summary), c.compress(snap.History), c.compress(snap.Histograms)
	return r.save(ctx, w)
}

// save writes w, merged into the run's last state, to the store, or to
// the spool when the store fails.
func (r *Recording) save(ctx context.Context, w row) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return fmt.Errorf("%w: run %s", ErrFinished, w.Run.ID)
	}
	if w.Seq <= r.last.Seq {
		w.Seq = r.last.Seq + 1 // two concurrent writes: the later one wins
	}
	merged := mergeRow(r.last, w)
	r.last = merged
	put := w // nil blobs: the store keeps what it has...
	if r.behind {
		put = merged // ...unless it missed a write: then all of it
	}
	wctx, cancel := context.WithTimeout(ctx, r.s.writeTime)
	err := r.s.put(wctx, put)
	cancel()
	if err == nil {
		if r.behind {
			r.s.spool.remove(w.Run.ID)
			r.behind = false
		}
		r.done = w.Run.Status.Final()
		return nil
	}
	r.behind = true
	path, serr := r.s.spool.write(merged)
	if serr != nil {
		return fmt.Errorf("runstore: run %s not saved to %s: %w", w.Run.ID, r.s.loc, errors.Join(err, serr))
	}
	r.done = w.Run.Status.Final()
	return &SpoolError{RunID: w.Run.ID, Path: path, Err: err}
}

// mergeRow returns w with the blobs it leaves unchanged (nil) taken from
// prev.
func mergeRow(prev, w row) row {
	if w.Summary == nil {
		w.Summary = prev.Summary
	}
	if w.History == nil {
		w.History = prev.History
	}
	if w.Histograms == nil {
		w.Histograms = prev.Histograms
	}
	return w
}

// newID returns a new run id: 16 random hex digits, so that a short
// prefix is enough to name a run.
func newID() string { return randomHex(idBytes) }

// idBytes is the number of random bytes in a run id.
const idBytes = 8

// SpoolError is returned by a write that the store refused, whose run was
// kept in the spool instead: nothing is lost, the run is written when the
// store is back (Open, FlushSpool, or the run's next write). Callers may
// treat it as a warning.
type SpoolError struct {
	RunID string
	Path  string // the spool file
	Err   error  // why the store refused
}

func (e *SpoolError) Error() string {
	return fmt.Sprintf("runstore: run %s could not be written to the store (%v); it is kept in %s and will be written when the store is back",
		e.RunID, e.Err, e.Path)
}

func (e *SpoolError) Unwrap() error { return e.Err }
