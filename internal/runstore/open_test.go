package runstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/horde-load/horde/internal/runstore/pgtest"
)

// Opening a store twice migrates it once; a schema from a newer horde is
// refused with a clear error.
func TestMigrations(t *testing.T) {
	eachBackend(t, func(t *testing.T, loc string) {
		s := open(t, loc, Options{})
		r := begin(t, s, Info{Script: "kept.star"})
		s.Close()
		s = open(t, loc, Options{})
		var rows, v int
		if err := s.db.QueryRowContext(testCtx(t), "SELECT COUNT(*), MAX(version) FROM schema_version").Scan(&rows, &v); err != nil {
			t.Fatal(err)
		}
		ms, _ := s.d.loadMigrations()
		if rows != len(ms) || v != len(ms) {
			t.Errorf("schema_version has %d rows up to %d, want %d", rows, v, len(ms))
		}
		if got := get(t, s, r.ID()); got.Script != "kept.star" {
			t.Errorf("the second Open lost a run: %+v", got.Run)
		}
		if _, err := s.db.ExecContext(testCtx(t), s.d.q("INSERT INTO schema_version (version, name, applied_us) VALUES (?, ?, ?)"), 99, "0099_future.sql", 0); err != nil {
			t.Fatal(err)
		}
		_, err := Open(testCtx(t), loc, Options{})
		if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "99") {
			t.Errorf("Open of a newer schema: %v, want ErrSchemaTooNew naming version 99", err)
		}
	})
}

// A store that cannot be opened fails Open with an error that says why,
// before any load is sent.
func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	port, err := pgtest.FreePort() // nothing listens there any more
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		loc, want string
	}{
		{"", "no store location"},
		{filepath.Join(dir, "missing", "runs.db"), "does not exist"},
		{"sqlite:" + filepath.Join(dir, "missing", "runs.db"), "does not exist"},
		{dir, "is a directory"},
		{notDB, "not a database"},
		{"mysql://localhost/runs", `unknown store scheme "mysql"`},
		{fmt.Sprintf("postgres://horde:secret@127.0.0.1:%d/runs?connect_timeout=5", port), "cannot reach"},
		{"postgres:///runs", "no host"},
	} {
		s, err := Open(testCtx(t), tc.loc, Options{})
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) worked, want an error", tc.loc)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%q): %v; want %q in it, and no password", tc.loc, err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open created the missing directory")
	}
}

func TestParseLocation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Location
	}{
		{"runs.db", Location{Kind: KindSQLite, Path: "runs.db"}},
		{"/var/lib/horde/runs.db", Location{Kind: KindSQLite, Path: "/var/lib/horde/runs.db"}},
		{"sqlite:runs.db", Location{Kind: KindSQLite, Path: "runs.db"}},
		{"sqlite:///tmp/runs.db", Location{Kind: KindSQLite, Path: "/tmp/runs.db"}},
		{"./a://b.db", Location{Kind: KindSQLite, Path: "./a://b.db"}},
		{"postgres://u@db:5432/horde", Location{Kind: KindPostgres, URL: "postgres://u@db:5432/horde"}},
		{"PostgreSQL://u@db/horde", Location{Kind: KindPostgres, URL: "PostgreSQL://u@db/horde"}},
	} {
		got, err := ParseLocation(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseLocation(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	if l, _ := ParseLocation("postgres://u:pw@db/horde"); strings.Contains(l.String(), "pw") {
		t.Errorf("Location.String() shows the password: %s", l)
	}
}
