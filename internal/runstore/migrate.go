package runstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// ErrSchemaTooNew is returned by Open for a store whose schema was made
// by a newer horde than this one.
var ErrSchemaTooNew = errors.New("runstore: the store's schema is newer than this horde knows")

// migration is one numbered SQL file, NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the dialect's migrations in order; their numbers run
// 1, 2, 3... with no gap.
func (d *dialect) loadMigrations() ([]migration, error) {
	names, err := fs.Glob(d.migrations, "*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		num, _, ok := strings.Cut(n, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: no NNNN_ number", n)
		}
		b, err := fs.ReadFile(d.migrations, n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: n, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: want number %d", m.name, i+1)
		}
	}
	return ms, nil
}

// migrate brings the schema to the newest version under the dialect's
// lock, so that several processes opening one store at once migrate it
// once. Each step records its number in schema_version.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := s.d.loadMigrations()
	if err != nil {
		return err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	unlock, err := s.d.lock(ctx, conn)
	if err != nil {
		return err
	}
	defer unlock()
	tx, err := conn.BeginTx(ctx, nil) // IMMEDIATE on SQLite: the write lock
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_us BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	var have sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_version").Scan(&have); err != nil {
		return fmt.Errorf("read schema_version: %w", err)
	}
	if int(have.Int64) > len(ms) {
		return fmt.Errorf("%w: schema version %d, this horde knows up to %d; use a newer horde or another store",
			ErrSchemaTooNew, have.Int64, len(ms))
	}
	for _, m := range ms[have.Int64:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, s.d.q("INSERT INTO schema_version (version, name, applied_us) VALUES (?, ?, ?)"),
			m.version, m.name, s.now().UnixMicro()); err != nil {
			return fmt.Errorf("migration %s: record version: %w", m.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migrations: %w", err)
	}
	return nil
}

// SchemaVersion returns the store's schema version.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := s.db.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("runstore: read schema version: %w", err)
	}
	return int(v.Int64), nil
}
