package runstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound is returned for a run id that the store does not hold.
var ErrNotFound = errors.New("runstore: no such run")

const runColumns = `id, status, reason, started_us, ended_us, updated_us,
	owner_host, owner_pid, owner_instance, script, script_hash, host, options, workers, version,
	requests, failures, rps, p95_ms, duration_s, thresholds`

// scanRun reads the runColumns of one row, followed by extra.
func scanRun(sc interface{ Scan(...any) error }, extra ...any) (Run, error) {
	var r Run
	var status, opts, ths string
	var started, ended, updated int64
	dst := append([]any{&r.ID, &status, &r.Reason, &started, &ended, &updated,
		&r.Owner.Host, &r.Owner.PID, &r.Owner.Instance, &r.Script, &r.ScriptHash, &r.Host, &opts, &r.Workers, &r.Version,
		&r.Metrics.Requests, &r.Metrics.Failures, &r.Metrics.RPS, &r.Metrics.P95Ms, &r.Metrics.DurationS, &ths}, extra...)
	if err := sc.Scan(dst...); err != nil {
		return Run{}, err
	}
	r.Status = Status(status)
	r.Started, r.Ended, r.Updated = fromMicros(started), fromMicros(ended), fromMicros(updated)
	if err := json.Unmarshal([]byte(opts), &r.Options); err != nil {
		return Run{}, fmt.Errorf("run %s: options: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(ths), &r.Thresholds); err != nil {
		return Run{}, fmt.Errorf("run %s: thresholds: %w", r.ID, err)
	}
	return r, nil
}

// Get returns the run with this exact id, with its blobs (ErrNotFound if
// there is none). See Resolve for prefixes and "latest".
func (s *Store) Get(ctx context.Context, id string) (Record, error) {
	var sum, hist, hists []byte
	q := s.d.q(`SELECT ` + runColumns + `, b.summary, b.history, b.histograms
		FROM runs LEFT JOIN run_blobs b ON b.run_id = runs.id WHERE runs.id = ?`)
	run, err := scanRun(s.db.QueryRowContext(ctx, q, id), &sum, &hist, &hists)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	if err != nil {
		return Record{}, fmt.Errorf("runstore: get run %s: %w", id, err)
	}
	if run.Labels, err = s.labels(ctx, id); err != nil {
		return Record{}, err
	}
	rec := Record{Run: run}
	for _, b := range []struct {
		dst *[]byte
		src []byte
	}{{&rec.Summary, sum}, {&rec.History, hist}, {&rec.Histograms, hists}} {
		if *b.dst, err = decompress(b.src); err != nil {
			return Record{}, fmt.Errorf("runstore: run %s: %w", id, err)
		}
	}
	return rec, nil
}

// labels returns a run's labels.
func (s *Store) labels(ctx context.Context, id string) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q("SELECT key, value FROM run_labels WHERE run_id = ?"), id)
	if err != nil {
		return nil, fmt.Errorf("runstore: labels of run %s: %w", id, err)
	}
	defer rows.Close()
	var m map[string]string
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("runstore: labels of run %s: %w", id, err)
		}
		if m == nil {
			m = map[string]string{}
		}
		m[k] = v
	}
	return m, rows.Err()
}

// List returns the runs that f selects, without their blobs, in f's order
// (newest first by default).
func (s *Store) List(ctx context.Context, f Filter) ([]Run, error) {
	where, args, err := f.where()
	if err != nil {
		return nil, err
	}
	order, err := f.orderBy()
	if err != nil {
		return nil, err
	}
	q := "SELECT " + runColumns + " FROM runs" + where + order
	if f.Limit > 0 || f.Offset > 0 {
		limit := int64(f.Limit)
		if limit <= 0 {
			limit = -1 // SQLite's "no limit"; PostgreSQL takes NULL
		}
		q += " LIMIT ? OFFSET ?"
		args = append(args, sqlLimit(s.d, limit), max(f.Offset, 0))
	}
	rows, err := s.db.QueryContext(ctx, s.d.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("runstore: list runs: %w", err)
	}
	defer rows.Close()
	var runs []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("runstore: list runs: %w", err)
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("runstore: list runs: %w", err)
	}
	if err := s.addLabels(ctx, runs); err != nil {
		return nil, err
	}
	return runs, nil
}

// Count returns how many runs f selects, ignoring its limit and offset
// (for paging).
func (s *Store) Count(ctx context.Context, f Filter) (int, error) {
	where, args, err := f.where()
	if err != nil {
		return 0, err
	}
	var n int
	if err := s.db.QueryRowContext(ctx, s.d.q("SELECT COUNT(*) FROM runs"+where), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("runstore: count runs: %w", err)
	}
	return n, nil
}

func sqlLimit(d *dialect, limit int64) any {
	if limit < 0 && d.kind == KindPostgres {
		return nil
	}
	return limit
}

// addLabels fills in the labels of runs, a few hundred runs a query.
func (s *Store) addLabels(ctx context.Context, runs []Run) error {
	idx := make(map[string]int, len(runs))
	for i, r := range runs {
		idx[r.ID] = i
	}
	const chunk = 500 // well below both databases' limit on parameters
	for lo := 0; lo < len(runs); lo += chunk {
		part := runs[lo:min(lo+chunk, len(runs))]
		args := make([]any, len(part))
		for i, r := range part {
			args[i] = r.ID
		}
		q := "SELECT run_id, key, value FROM run_labels WHERE run_id IN (?" + strings.Repeat(", ?", len(part)-1) + ")"
		if err := s.scanLabels(ctx, q, args, runs, idx); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) scanLabels(ctx context.Context, q string, args []any, runs []Run, idx map[string]int) error {
	rows, err := s.db.QueryContext(ctx, s.d.q(q), args...)
	if err != nil {
		return fmt.Errorf("runstore: labels: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, k, v string
		if err := rows.Scan(&id, &k, &v); err != nil {
			return fmt.Errorf("runstore: labels: %w", err)
		}
		r := &runs[idx[id]]
		if r.Labels == nil {
			r.Labels = map[string]string{}
		}
		r.Labels[k] = v
	}
	return rows.Err()
}
