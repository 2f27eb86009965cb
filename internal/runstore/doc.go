// Package runstore keeps the history of test runs: every run is stored
// while it happens and after it ends, so that it can be listed, opened,
// compared with another run and deleted.
//
// A store is SQLite (a file, embedded, nothing to set up) or PostgreSQL
// (postgres://...), chosen by the location given to Open. Both hold the
// same schema, migrated by Open itself under a lock, and behave the same.
//
// A run has a lifecycle: Store.Begin records it as running and returns a
// Recording, whose Checkpoint saves what is known so far and whose Finish
// gives it its final status. A process killed mid-run leaves its run
// "running"; Store.Recover, called at start, turns such runs into
// "aborted", keeping their last checkpoint. A write that fails (a
// PostgreSQL server that went away) is kept in a spool directory and
// written when the store is back (Open, FlushSpool, or the run's next
// successful write).
//
// The package is a leaf: it stores blobs that callers encode (the summary
// JSON, the per-second series, the final histograms) and a few plain
// fields that listing sorts and filters by. It does not know the summary's
// format, how a histogram is encoded, where the default store lives, or
// how runs are printed; those belong to the callers (CLI, master, web).
package runstore
