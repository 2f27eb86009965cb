package runstore

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrRunning is returned by Delete for a run that is still running (its
// owner would write it again); Recover aborts the runs of dead owners.
var ErrRunning = errors.New("runstore: the run is still running")

// Delete removes the run with this exact id and all its data.
func (s *Store) Delete(ctx context.Context, id string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("runstore: delete run %s: %w", id, err)
	}
	defer tx.Rollback()
	var status string
	if err := tx.QueryRowContext(ctx, s.d.q("SELECT status FROM runs WHERE id = ?"), id).Scan(&status); err != nil {
		if isNoRows(err) {
			return fmt.Errorf("%w: %q", ErrNotFound, id)
		}
		return fmt.Errorf("runstore: delete run %s: %w", id, err)
	}
	if Status(status) == StatusRunning {
		return fmt.Errorf("%w: run %s", ErrRunning, id)
	}
	for _, q := range []string{
		"DELETE FROM run_blobs WHERE run_id = ?",
		"DELETE FROM run_labels WHERE run_id = ?",
		"DELETE FROM runs WHERE id = ?",
	} {
		if _, err := tx.ExecContext(ctx, s.d.q(q), id); err != nil {
			return fmt.Errorf("runstore: delete run %s: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("runstore: delete run %s: %w", id, err)
	}
	return nil
}

// Retention says which runs Prune deletes: those beyond the newest Keep
// runs, and those started more than OlderThan ago. A zero field does not
// delete anything; running runs are never deleted.
type Retention struct {
	Keep      int
	OlderThan time.Duration
}

// Prune deletes the finished runs that r does not retain and returns
// their ids.
func (s *Store) Prune(ctx context.Context, r Retention) ([]string, error) {
	if r.Keep <= 0 && r.OlderThan <= 0 {
		return nil, errors.New("runstore: prune: give a number of runs to keep or an age")
	}
	all, err := s.allRuns(ctx)
	if err != nil {
		return nil, err
	}
	cutoff := s.now().Add(-r.OlderThan)
	var ids []string
	for i, run := range all { // newest first
		if run.status == StatusRunning {
			continue
		}
		if (r.Keep > 0 && i >= r.Keep) || (r.OlderThan > 0 && run.started.Before(cutoff)) {
			ids = append(ids, run.id)
		}
	}
	var deleted []string
	for _, id := range ids {
		err := s.Delete(ctx, id)
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrRunning) {
			continue // deleted, or begun again, by someone else meanwhile
		}
		if err != nil {
			return deleted, err
		}
		deleted = append(deleted, id)
	}
	return deleted, nil
}

type runRef struct {
	id      string
	status  Status
	started time.Time
}

// allRuns returns the id, status and start of every run, newest first.
func (s *Store) allRuns(ctx context.Context) ([]runRef, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, status, started_us FROM runs ORDER BY started_us DESC, id DESC")
	if err != nil {
		return nil, fmt.Errorf("runstore: prune: %w", err)
	}
	defer rows.Close()
	var out []runRef
	for rows.Next() {
		var r runRef
		var status string
		var us int64
		if err := rows.Scan(&r.id, &status, &us); err != nil {
			return nil, fmt.Errorf("runstore: prune: %w", err)
		}
		r.status, r.started = Status(status), fromMicros(us)
		out = append(out, r)
	}
	return out, rows.Err()
}
