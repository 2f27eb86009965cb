package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/horde-load/horde/internal/stats"
)

// SummaryVersion is the version of the summary JSON contract. Keys may be
// added within a version, never renamed or removed.
const SummaryVersion = 1

// Summary is the end-of-run report that other tools read (--json FILE,
// /api/v1/report.json). Its JSON keys are a contract (DESIGN.md §1).
type Summary struct {
	Version           int               `json:"version"`
	Started           string            `json:"started"` // RFC3339, UTC
	DurationS         float64           `json:"duration_s"`
	UsersPeak         int               `json:"users_peak"`
	Host              string            `json:"host"`
	Totals            Totals            `json:"totals"`
	Endpoints         []EndpointSummary `json:"endpoints"`
	Errors            []ErrorSummary    `json:"errors"`
	Exceptions        []ExceptionInfo   `json:"exceptions"`
	Workers           []WorkerInfo      `json:"workers"`
	Thresholds        []ThresholdResult `json:"thresholds"`
	DroppedIterations int64             `json:"dropped_iterations"`
	// Warnings are one-time warnings of the run (e.g. endpoint names capped).
	Warnings []string `json:"warnings"`
	// Shape is the load shape's last description, e.g. "stages: all 3
	// done" ("" when the test had no stages or shape function).
	Shape string `json:"shape"`
	// Aborted says what error ended the test early (a load shape that
	// raised), "" when nothing did; such a test failed.
	Aborted string `json:"aborted"`
}

// Totals is the aggregate over all endpoints.
type Totals struct {
	Requests int64         `json:"requests"`
	Failures int64         `json:"failures"`
	RPS      float64       `json:"rps"`
	Latency  stats.Latency `json:"latency_ms"`
}

// EndpointSummary is one endpoint (method and name) of the summary.
type EndpointSummary struct {
	Method   string        `json:"method"`
	Name     string        `json:"name"`
	Requests int64         `json:"requests"`
	Failures int64         `json:"failures"`
	RPS      float64       `json:"rps"`
	BytesAvg float64       `json:"bytes_avg"`
	Latency  stats.Latency `json:"latency_ms"`
}

// ErrorSummary is one group of failed requests with the same error text.
type ErrorSummary struct {
	Method string `json:"method"`
	Name   string `json:"name"`
	Error  string `json:"error"`
	Count  int64  `json:"count"`
}

// ExceptionInfo is one group of script errors with the same message.
type ExceptionInfo struct {
	Message   string `json:"message"`
	Count     int64  `json:"count"`
	Traceback string `json:"traceback"`
}

// WorkerInfo describes one worker at the end of the run.
type WorkerInfo struct {
	ID    string `json:"id"`
	State string `json:"state"`
	Users int    `json:"users"`
}

// ThresholdResult is one evaluated --threshold expression.
type ThresholdResult struct {
	Expr   string  `json:"expr"`
	Value  float64 `json:"value"`
	Passed bool    `json:"passed"`
	// Note explains a verdict that has no measurement behind it, such as
	// "no requests to GET /x".
	Note string `json:"note,omitempty"`
}

// Meta carries what the summary needs beyond the statistics: facts the
// runner, the cluster and the threshold evaluator know.
type Meta struct {
	UsersPeak  int
	Host       string
	Workers    []WorkerInfo
	Thresholds []ThresholdResult
	// Shape is what the load shape last did ("" without one).
	Shape string
	// Aborted is the error that ended the test early, if any.
	Aborted string
}

// NewSummary builds the summary of a snapshot. Latencies are rounded to
// microseconds, non-finite numbers become 0 and every list is non-nil, so
// the JSON always has [] rather than null.
func NewSummary(snap stats.Snapshot, meta Meta) Summary {
	s := Summary{
		Version:   SummaryVersion,
		Started:   snap.Started.UTC().Format(time.RFC3339),
		DurationS: finite(snap.Duration.Seconds()),
		UsersPeak: meta.UsersPeak,
		Host:      meta.Host,
		Totals: Totals{
			Requests: snap.Total.Requests,
			Failures: snap.Total.Failures,
			RPS:      finite(snap.Total.RPS),
			Latency:  roundLatency(snap.Total.Latency),
		},
		Endpoints:         make([]EndpointSummary, 0, len(snap.Endpoints)),
		Errors:            make([]ErrorSummary, 0, len(snap.Errors)),
		Exceptions:        make([]ExceptionInfo, 0, len(snap.Exceptions)),
		Workers:           make([]WorkerInfo, 0, len(meta.Workers)),
		Thresholds:        make([]ThresholdResult, 0, len(meta.Thresholds)),
		DroppedIterations: snap.Dropped,
		Shape:             meta.Shape,
		Aborted:           meta.Aborted,
		Warnings:          append(make([]string, 0, len(snap.Warnings)), snap.Warnings...),
	}
	for _, r := range snap.Endpoints {
		s.Endpoints = append(s.Endpoints, EndpointSummary{
			Method: r.Method, Name: r.Name,
			Requests: r.Requests, Failures: r.Failures,
			RPS: finite(r.RPS), BytesAvg: finite(r.BytesAvg),
			Latency: roundLatency(r.Latency),
		})
	}
	for _, e := range snap.Errors {
		s.Errors = append(s.Errors, ErrorSummary{Method: e.Method, Name: e.Name, Error: e.Error, Count: e.Count})
	}
	for _, e := range snap.Exceptions {
		s.Exceptions = append(s.Exceptions, ExceptionInfo{Message: e.Message, Count: e.Count, Traceback: e.Traceback})
	}
	s.Workers = append(s.Workers, meta.Workers...)
	for _, t := range meta.Thresholds {
		t.Value = finite(t.Value)
		s.Thresholds = append(s.Thresholds, t)
	}
	return s
}

func roundLatency(l stats.Latency) stats.Latency {
	return stats.Latency{
		Min: roundMs(l.Min), Avg: roundMs(l.Avg), P50: roundMs(l.P50), P90: roundMs(l.P90),
		P95: roundMs(l.P95), P99: roundMs(l.P99), P999: roundMs(l.P999), Max: roundMs(l.Max),
	}
}

// WriteJSON writes the summary as indented JSON followed by a newline.
// A summary not built by NewSummary may hold nil lists; they are written
// as [] all the same. Characters like < stay as they are (threshold
// expressions are read by people too).
func WriteJSON(w io.Writer, s Summary) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(withEmptyLists(s)); err != nil {
		return fmt.Errorf("report: encode summary: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("report: write summary: %w", err)
	}
	return nil
}

func withEmptyLists(s Summary) Summary {
	if s.Endpoints == nil {
		s.Endpoints = []EndpointSummary{}
	}
	if s.Errors == nil {
		s.Errors = []ErrorSummary{}
	}
	if s.Exceptions == nil {
		s.Exceptions = []ExceptionInfo{}
	}
	if s.Workers == nil {
		s.Workers = []WorkerInfo{}
	}
	if s.Thresholds == nil {
		s.Thresholds = []ThresholdResult{}
	}
	if s.Warnings == nil {
		s.Warnings = []string{}
	}
	return s
}
