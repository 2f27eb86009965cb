package runstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

//go:embed migrations
var migrationFiles embed.FS

// dialect is what differs between SQLite and PostgreSQL: the SQL text is
// the same but for placeholders and the migrations' column types.
type dialect struct {
	kind       Kind
	migrations fs.FS
	// lock takes the migration lock on conn and returns how to release
	// it; the migrations then run on conn.
	lock func(ctx context.Context, conn *sql.Conn) (unlock func(), err error)
	// numbered says whether placeholders are $1, $2... rather than ?.
	numbered bool
}

var sqliteDialect = &dialect{
	kind:       KindSQLite,
	migrations: mustSub("migrations/sqlite"),
	lock: func(ctx context.Context, conn *sql.Conn) (func(), error) {
		// No lock table: the migrations run inside one IMMEDIATE
		// transaction (see migrate), which is SQLite's write lock.
		return func() {}, nil
	},
}

// advisoryLockKey is the key of the PostgreSQL advisory lock that
// serialises migrations ("horde-runstore" folded into an int64).
const advisoryLockKey = 0x686f7264652d7273

var postgresDialect = &dialect{
	kind:       KindPostgres,
	migrations: mustSub("migrations/postgres"),
	numbered:   true,
	lock: func(ctx context.Context, conn *sql.Conn) (func(), error) {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(advisoryLockKey)); err != nil {
			return nil, fmt.Errorf("take the migration lock: %w", err)
		}
		return func() {
			// A fresh context: the caller's may be cancelled, and the lock
			// must go (closing the connection would release it too).
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(advisoryLockKey))
		}, nil
	},
}

func mustSub(dir string) fs.FS {
	sub, err := fs.Sub(migrationFiles, dir)
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

// q rewrites a query written with ? placeholders for the dialect. The
// package's queries hold no ? inside string literals.
func (d *dialect) q(query string) string {
	if !d.numbered {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}
