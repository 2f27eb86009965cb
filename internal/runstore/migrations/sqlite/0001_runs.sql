-- Runs, their labels and their blobs. Times are Unix microseconds (UTC).
-- The blobs live in their own table: a checkpoint's small update of runs
-- does not rewrite them, and listing never reads them.
CREATE TABLE runs (
	id             TEXT PRIMARY KEY,
	seq            INTEGER NOT NULL,
	status         TEXT NOT NULL,
	reason         TEXT NOT NULL DEFAULT '',
	started_us     INTEGER NOT NULL,
	ended_us       INTEGER NOT NULL DEFAULT 0,
	updated_us     INTEGER NOT NULL,
	owner_host     TEXT NOT NULL DEFAULT '',
	owner_pid      INTEGER NOT NULL DEFAULT 0,
	owner_instance TEXT NOT NULL DEFAULT '',
	script         TEXT NOT NULL DEFAULT '',
	script_hash    TEXT NOT NULL DEFAULT '',
	host           TEXT NOT NULL DEFAULT '',
	options        TEXT NOT NULL DEFAULT '{}',
	workers        INTEGER NOT NULL DEFAULT 0,
	version        TEXT NOT NULL DEFAULT '',
	requests       INTEGER NOT NULL DEFAULT 0,
	failures       INTEGER NOT NULL DEFAULT 0,
	rps            REAL NOT NULL DEFAULT 0,
	p95_ms         REAL NOT NULL DEFAULT 0,
	duration_s     REAL NOT NULL DEFAULT 0,
	thresholds     TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX runs_started ON runs (started_us);
CREATE INDEX runs_script_started ON runs (script, started_us);
CREATE INDEX runs_status_started ON runs (status, started_us);

CREATE TABLE run_labels (
	run_id TEXT NOT NULL,
	key    TEXT NOT NULL,
	value  TEXT NOT NULL,
	PRIMARY KEY (run_id, key)
);
CREATE INDEX run_labels_key_value ON run_labels (key, value);

CREATE TABLE run_blobs (
	run_id     TEXT PRIMARY KEY,
	summary    BLOB,
	history    BLOB,
	histograms BLOB
);
