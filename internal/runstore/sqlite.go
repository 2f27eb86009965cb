package runstore

import (
	"database/sql"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// openSQLite opens the SQLite file at path (absolute), in WAL mode so that
// readers do not block the writer, with a busy timeout so that writers of
// several processes wait for each other rather than fail, and IMMEDIATE
// transactions so that a transaction takes the write lock at its start
// (a read lock upgraded later cannot wait: it fails with SQLITE_BUSY).
func openSQLite(path string) (*sql.DB, error) {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	dsn := "file:" + esc + "?_txlock=immediate" +
		"&_pragma=busy_timeout(10000)" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	return db, nil
}
