package runstore

import (
	"context"
	"encoding/json"
	"fmt"
)

const upsertRun = `INSERT INTO runs (id, seq, status, reason, started_us, ended_us, updated_us,
	owner_host, owner_pid, owner_instance, script, script_hash, host, options, workers, version,
	requests, failures, rps, p95_ms, duration_s, thresholds)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, status = excluded.status, reason = excluded.reason,
	ended_us = excluded.ended_us, updated_us = excluded.updated_us,
	requests = excluded.requests, failures = excluded.failures, rps = excluded.rps,
	p95_ms = excluded.p95_ms, duration_s = excluded.duration_s, thresholds = excluded.thresholds
WHERE runs.seq < excluded.seq`

// upsertBlobs takes the history, the largest blob, last: a driver that
// appends the parameters to one buffer (pgx does, twice) then grows it
// once for the history rather than again for the blobs after it.
const upsertBlobs = `INSERT INTO run_blobs (run_id, summary, histograms, history) VALUES (?, ?, ?, ?)
ON CONFLICT (run_id) DO UPDATE SET summary = COALESCE(excluded.summary, run_blobs.summary),
	histograms = COALESCE(excluded.histograms, run_blobs.histograms),
	history = COALESCE(excluded.history, run_blobs.history)`

const insertLabel = `INSERT INTO run_labels (run_id, key, value) VALUES (?, ?, ?)
ON CONFLICT (run_id, key) DO NOTHING`

// put writes w in one transaction, unless the store already holds the
// same run at w's sequence number or a later one (a spooled write flushed
// after a newer write went through).
func (s *Store) put(ctx context.Context, w row) error {
	opts, err := json.Marshal(nonNilMap(w.Run.Options))
	if err != nil {
		return fmt.Errorf("encode options: %w", err)
	}
	th := w.Run.Thresholds
	if th == nil {
		th = []Threshold{}
	}
	ths, err := json.Marshal(th)
	if err != nil {
		return fmt.Errorf("encode thresholds: %w", err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	r, m := &w.Run, &w.Run.Metrics
	res, err := tx.ExecContext(ctx, s.d.q(upsertRun), r.ID, w.Seq, string(r.Status), r.Reason,
		r.Started.UnixMicro(), micros(r.Ended), r.Updated.UnixMicro(),
		r.Owner.Host, r.Owner.PID, r.Owner.Instance, r.Script, r.ScriptHash, r.Host, string(opts),
		r.Workers, r.Version, m.Requests, m.Failures, finite(m.RPS), finite(m.P95Ms), finite(m.DurationS), string(ths))
	if err != nil {
		return fmt.Errorf("write run: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err // n == 0: the store has this write or a newer one
	}
	if _, err := tx.ExecContext(ctx, s.d.q(upsertBlobs), r.ID, nullBytes(w.Summary), nullBytes(w.Histograms), nullBytes(w.History)); err != nil {
		return fmt.Errorf("write run data: %w", err)
	}
	for k, v := range r.Labels {
		if _, err := tx.ExecContext(ctx, s.d.q(insertLabel), r.ID, k, v); err != nil {
			return fmt.Errorf("write label: %w", err)
		}
	}
	return tx.Commit()
}

// nullBytes passes nil as SQL NULL (COALESCE keeps the stored blob).
func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
