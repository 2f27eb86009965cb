package runstore

import (
	"context"
	"fmt"
	"time"
)

// Recover turns the runs left running by a dead owner into aborted runs,
// keeping what their last checkpoint saved, and returns them. An owner is
// dead when it ran on this host and its process is gone, or when its run
// has had no write for longer than the stale bound (Options.StaleAfter),
// wherever it ran. This Store's own runs are left alone. Call it at start,
// before the CLI lists runs or a master begins one. An owner that was
// only unreachable and writes again takes its run back (its write is
// newer than the abort).
func (s *Store) Recover(ctx context.Context) ([]Run, error) {
	runs, err := s.List(ctx, Filter{Status: []Status{StatusRunning}})
	if err != nil {
		return nil, fmt.Errorf("runstore: recover: %w", err)
	}
	now := s.now()
	var aborted []Run
	for _, r := range runs {
		reason := s.abandoned(r, now)
		if reason == "" {
			continue
		}
		// Only if no write came in since it was read: an owner that
		// writes is alive.
		res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE runs SET status = ?, reason = ?, ended_us = updated_us
			WHERE id = ? AND status = ? AND updated_us = ?`),
			string(StatusAborted), reason, r.ID, string(StatusRunning), r.Updated.UnixMicro())
		if err != nil {
			return aborted, fmt.Errorf("runstore: recover run %s: %w", r.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			continue
		}
		r.Status, r.Reason, r.Ended = StatusAborted, reason, r.Updated
		aborted = append(aborted, r)
	}
	return aborted, nil
}

// abandoned says why a running run's owner is taken for dead, or "" if it
// may be alive.
func (s *Store) abandoned(r Run, now time.Time) string {
	o := r.Owner
	if o.Instance == s.owner.Instance && o.Host == s.owner.Host {
		return ""
	}
	if o.Host == s.owner.Host && o.PID > 0 && !processAlive(o.PID) {
		return fmt.Sprintf("owner gone: process %d on %s ended without finishing the run", o.PID, o.Host)
	}
	if idle := now.Sub(r.Updated); idle > s.staleAfter {
		return fmt.Sprintf("owner gone: no checkpoint for %s (process %d on %s)", idle.Round(time.Second), o.PID, o.Host)
	}
	return ""
}
