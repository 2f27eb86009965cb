package report

import (
	"time"

	"github.com/horde-load/horde/internal/runstore"
)

// StoredRun is a stored run without its blobs, as the API and `horde runs
// --json` show it (docs/api.md): keys may be added, never renamed.
type StoredRun struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	// Reason says why the run ended as it did; often "".
	Reason     string            `json:"reason"`
	Script     string            `json:"script"`
	ScriptHash string            `json:"script_hash"`
	Host       string            `json:"host"`
	Options    map[string]string `json:"options"`
	Labels     map[string]string `json:"labels"`
	Version    string            `json:"version"`
	Workers    int               `json:"workers"`
	Started    string            `json:"started"`
	// Ended is null while the run is running.
	Ended      *string              `json:"ended"`
	Updated    string               `json:"updated"`
	Metrics    StoredRunMetrics     `json:"metrics"`
	Thresholds []runstore.Threshold `json:"thresholds"`
}

// StoredRunMetrics are the figures a list shows and sorts by; the summary's
// totals.
type StoredRunMetrics struct {
	Requests  int64   `json:"requests"`
	Failures  int64   `json:"failures"`
	RPS       float64 `json:"rps"`
	P95Ms     float64 `json:"p95_ms"`
	DurationS float64 `json:"duration_s"`
}

// runTime formats a run's times: UTC, to the millisecond.
func runTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// StoredRunOf is r as the API shows it.
func StoredRunOf(r runstore.Run) StoredRun {
	a := StoredRun{
		ID: r.ID, Status: string(r.Status), Reason: r.Reason,
		Script: r.Script, ScriptHash: r.ScriptHash, Host: r.Host,
		Options: map[string]string{}, Labels: map[string]string{},
		Version: r.Version, Workers: r.Workers,
		Started: runTime(r.Started), Updated: runTime(r.Updated),
		Metrics: StoredRunMetrics{
			Requests: r.Metrics.Requests, Failures: r.Metrics.Failures, RPS: finite(r.Metrics.RPS),
			P95Ms: finite(r.Metrics.P95Ms), DurationS: finite(r.Metrics.DurationS),
		},
		Thresholds: make([]runstore.Threshold, 0, len(r.Thresholds)),
	}
	for k, v := range r.Options {
		a.Options[k] = v
	}
	for k, v := range r.Labels {
		a.Labels[k] = v
	}
	if !r.Ended.IsZero() {
		e := runTime(r.Ended)
		a.Ended = &e
	}
	for _, t := range r.Thresholds {
		t.Value = finite(t.Value)
		a.Thresholds = append(a.Thresholds, t)
	}
	return a
}
