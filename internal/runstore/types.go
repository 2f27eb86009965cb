package runstore

import (
	"strings"
	"time"
)

// Status is where a run is in its lifecycle; the final ones are its
// verdict.
type Status string

// The statuses of a run.
const (
	StatusRunning Status = "running" // begun, not finished (or its owner died and Recover has not run yet)
	StatusPassed  Status = "passed"  // finished, verdict passed
	StatusFailed  Status = "failed"  // finished, verdict failed (a threshold crossed, failed requests)
	StatusAborted Status = "aborted" // stopped before its end, or abandoned by a dead owner
)

// Valid reports whether s is one of the statuses above.
func (s Status) Valid() bool {
	switch s {
	case StatusRunning, StatusPassed, StatusFailed, StatusAborted:
		return true
	}
	return false
}

// Final reports whether s ends a run (any valid status but running).
func (s Status) Final() bool { return s.Valid() && s != StatusRunning }

// Info says who and what a run is: set by Begin, never changed after.
type Info struct {
	// Started is the run's start; the zero time means now.
	Started time.Time
	// Script is the script's name (e.g. "locustfile.star", or the URL of a
	// URL-mode run) and ScriptHash a hash of its content.
	Script     string
	ScriptHash string
	// Host is the target host (-H).
	Host string
	// Options are the run's options as text (users, spawn_rate, run_time...).
	Options map[string]string
	// Workers is the number of workers at the start.
	Workers int
	// Version is the horde version that ran the test.
	Version string
	// Labels are the --tag key=value pairs; they can be filtered on.
	Labels map[string]string
}

// Owner identifies the process that records a run, so that Recover can
// tell a run whose owner died from one still going.
type Owner struct {
	Host     string // hostname
	PID      int
	Instance string // random per Store, tells a reused PID apart
}

// Metrics are the figures of a run that listing shows and sorts by; the
// same numbers as the summary's totals.
type Metrics struct {
	Requests  int64
	Failures  int64
	RPS       float64
	P95Ms     float64
	DurationS float64
}

// Threshold is one evaluated threshold expression.
type Threshold struct {
	Expr   string  `json:"expr"`
	Value  float64 `json:"value"`
	Passed bool    `json:"passed"`
	Note   string  `json:"note,omitempty"`
}

// Snapshot is what is known of a run at a checkpoint or at its end. Blobs
// are opaque to the store; a nil blob leaves the stored one as it is, an
// empty non-nil one clears it.
type Snapshot struct {
	Metrics    Metrics
	Thresholds []Threshold
	// Summary is the summary JSON (the same as --json writes).
	Summary []byte
	// History is the per-second series the charts draw, in the caller's
	// encoding; the store compresses it.
	History []byte
	// Histograms are the per-endpoint final latency histograms, in the
	// caller's encoding; the store compresses them.
	Histograms []byte
}

// Run is a stored run without its blobs: what a listing shows.
type Run struct {
	ID     string
	Status Status
	// Reason says why a run ended the way it did, e.g. "owner gone
	// (pid 123 on host-a)"; it may be empty.
	Reason string
	Info
	Owner Owner
	// Ended is when the run ended (zero while running); Updated is its
	// last write (Begin, Checkpoint or Finish).
	Ended   time.Time
	Updated time.Time
	Metrics Metrics
	// Thresholds are the evaluated thresholds of the last write.
	Thresholds []Threshold
}

// Record is a stored run with its blobs (uncompressed), as Get returns it.
type Record struct {
	Run
	Summary    []byte
	History    []byte
	Histograms []byte
}

// cleanText makes s storable in both databases: valid UTF-8 (PostgreSQL
// rejects anything else) without NUL bytes (no TEXT column takes them).
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// cleaned returns i with every text made storable (cleanText).
func (i Info) cleaned() Info {
	i.Script, i.ScriptHash, i.Host, i.Version = cleanText(i.Script), cleanText(i.ScriptHash), cleanText(i.Host), cleanText(i.Version)
	i.Options, i.Labels = cleanMap(i.Options), cleanMap(i.Labels)
	return i
}

func cleanMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[cleanText(k)] = cleanText(v)
	}
	return out
}
