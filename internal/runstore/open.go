package runstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultStaleAfter is how long a running run may go without a write
// before Recover takes its owner for dead, wherever the owner runs.
// Callers checkpoint well within it (every 10–30 s).
const DefaultStaleAfter = 5 * time.Minute

// Options tune a Store; the zero value is fine.
type Options struct {
	// SpoolDir is where writes that failed are kept until the store is
	// back. Empty: "<file>.spool" beside a SQLite file; none for
	// PostgreSQL (a failed write is then only an error) — callers that
	// use PostgreSQL should set it.
	SpoolDir string
	// StaleAfter overrides DefaultStaleAfter.
	StaleAfter time.Duration
	// Owner overrides the owner of the runs this Store begins (tests
	// simulating another process); the zero value means this process.
	Owner Owner
	// WriteTimeout bounds each write of a run (Begin, Checkpoint, Finish)
	// on top of its context, so that a server that stopped answering
	// turns into a spooled write rather than a stuck caller; 0 means
	// DefaultWriteTimeout.
	WriteTimeout time.Duration
	// Now overrides the clock.
	Now func() time.Time
}

// DefaultWriteTimeout is the default Options.WriteTimeout.
const DefaultWriteTimeout = 30 * time.Second

// Store is an open run store. It is safe for concurrent use, also by
// several processes on the same database.
type Store struct {
	db         *sql.DB
	loc        Location
	d          *dialect
	owner      Owner
	spool      spool
	now        func() time.Time
	staleAfter time.Duration
	writeTime  time.Duration
	compressor compressor
}

// Open opens the store at location (see ParseLocation), creating its
// schema or migrating it to this version, and writes what the spool kept
// from earlier failed writes; ctx bounds all of that (give it a timeout:
// a PostgreSQL host that drops packets is otherwise waited for). It fails with a clear error when the store
// cannot be reached, created or migrated: a SQLite file in a directory
// that does not exist, a PostgreSQL server that refuses the connection, a
// schema newer than this binary knows (ErrSchemaTooNew).
//
// A spool that cannot be written yet does not fail Open: its files stay
// for the next Open or FlushSpool.
func Open(ctx context.Context, location string, opts Options) (*Store, error) {
	loc, err := ParseLocation(location)
	if err != nil {
		return nil, err
	}
	s := &Store{loc: loc, now: opts.Now, staleAfter: opts.StaleAfter, owner: opts.Owner}
	if s.now == nil {
		s.now = time.Now
	}
	if s.staleAfter <= 0 {
		s.staleAfter = DefaultStaleAfter
	}
	if s.writeTime = opts.WriteTimeout; s.writeTime <= 0 {
		s.writeTime = DefaultWriteTimeout
	}
	if s.owner == (Owner{}) {
		if s.owner, err = thisProcess(); err != nil {
			return nil, err
		}
	}
	spoolDir := opts.SpoolDir
	switch loc.Kind {
	case KindSQLite:
		if s.loc.Path, err = sqliteFile(loc.Path); err != nil {
			return nil, err
		}
		if spoolDir == "" {
			spoolDir = s.loc.Path + ".spool"
		}
		s.d = sqliteDialect
		s.db, err = openSQLite(s.loc.Path)
	case KindPostgres:
		s.d = postgresDialect
		s.db, err = sql.Open("pgx", loc.URL)
		if err == nil {
			s.db.SetMaxOpenConns(8) // a store is one client among many of a shared server
		}
	}
	if err != nil {
		return nil, fmt.Errorf("runstore: open %s: %w", s.loc, err)
	}
	s.spool = newSpool(spoolDir, s.loc.String())
	if err := whileBusy(ctx, func() error { return s.db.PingContext(ctx) }); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("runstore: cannot reach the store %s: %w", s.loc, err)
	}
	if err := whileBusy(ctx, func() error { return s.migrate(ctx) }); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("runstore: store %s: %w", s.loc, err)
	}
	_, _ = s.FlushSpool(ctx) // see the doc comment: what stays is retried later
	return s, nil
}

// busyFor bounds how long Open waits out another process's lock on a
// SQLite file. SQLite returns SQLITE_BUSY at once, without its busy
// handler, while another process switches a new file to WAL mode: two
// processes that open a new store together (a test and `horde runs list`)
// meet it.
const busyFor = 10 * time.Second

// whileBusy runs f until it does not fail with SQLITE_BUSY, for up to
// busyFor.
func whileBusy(ctx context.Context, f func() error) error {
	deadline := time.Now().Add(busyFor)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := f()
		if err == nil || !strings.Contains(err.Error(), "SQLITE_BUSY") || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// Close closes the store's connections.
func (s *Store) Close() error { return s.db.Close() }

// Location returns where the store is.
func (s *Store) Location() Location { return s.loc }

// Owner returns the owner of the runs this Store begins.
func (s *Store) Owner() Owner { return s.owner }

// sqliteFile makes path absolute and checks that its directory exists;
// Open does not create directories.
func sqliteFile(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("runstore: SQLite path %q: %w", path, err)
	}
	dir := filepath.Dir(abs)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("runstore: the directory of the store %s does not exist (create it, or give another --store): %w", abs, err)
	case err != nil:
		return "", fmt.Errorf("runstore: store %s: %w", abs, err)
	case !st.IsDir():
		return "", fmt.Errorf("runstore: store %s: %s is not a directory", abs, dir)
	}
	if st, err := os.Stat(abs); err == nil && st.IsDir() {
		return "", fmt.Errorf("runstore: store %s is a directory, not a database file", abs)
	}
	return abs, nil
}

// thisProcess returns the owner of runs begun by this process: its host,
// PID and a random instance id.
func thisProcess() (Owner, error) {
	host, err := os.Hostname()
	if err != nil {
		return Owner{}, fmt.Errorf("runstore: hostname: %w", err)
	}
	return Owner{Host: host, PID: os.Getpid(), Instance: randomHex(8)}, nil
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics instead)
	return hex.EncodeToString(b)
}
