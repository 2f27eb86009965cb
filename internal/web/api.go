package web

import (
	"net/http"
	"time"

	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/report"
	"github.com/horde-load/horde/internal/stats"
)

// This file holds the JSON objects of docs/api.md (Row, Stats, Point) and
// the read-only /api/v1/ routes. Numbers are never NaN or ±Inf (JSON
// cannot carry them: they become 0) and lists are never null.

// apiRow is docs/api.md's Row.
type apiRow struct {
	Method            string        `json:"method"`
	Name              string        `json:"name"`
	Requests          int64         `json:"requests"`
	Failures          int64         `json:"failures"`
	RPS               float64       `json:"rps"`
	CurrentRPS        float64       `json:"current_rps"`
	CurrentFailPerSec float64       `json:"current_fail_per_sec"`
	BytesAvg          float64       `json:"bytes_avg"`
	Latency           stats.Latency `json:"latency_ms"`
}

// apiFailure is one group of failed requests.
type apiFailure struct {
	Method string `json:"method"`
	Name   string `json:"name"`
	Error  string `json:"error"`
	Count  int64  `json:"count"`
}

// apiException is one group of script errors.
type apiException struct {
	Message   string `json:"message"`
	Count     int64  `json:"count"`
	Traceback string `json:"traceback"`
}

// apiWorker is one worker as the master sees it.
type apiWorker struct {
	ID         string  `json:"id"`
	Index      int     `json:"index"`
	Hostname   string  `json:"hostname"`
	State      string  `json:"state"`
	Users      int     `json:"users"`
	Target     int     `json:"target"`
	CPUPercent float64 `json:"cpu_percent"`
	RSSBytes   uint64  `json:"rss_bytes"`
	CPUWarning bool    `json:"cpu_warning"`
	RPS        float64 `json:"rps"`
}

// apiStats is docs/api.md's Stats: GET /api/v1/stats and the stream's
// stats event.
type apiStats struct {
	State       string  `json:"state"`
	Users       int     `json:"users"`
	TargetUsers int     `json:"target_users"`
	SpawnRate   float64 `json:"spawn_rate"`
	// ArrivalRate is the open model's arrivals per second (0: closed).
	ArrivalRate float64 `json:"arrival_rate"`
	// Shape says what the script's stages or shape(t) do now ("": none).
	Shape string `json:"shape"`
	Host  string `json:"host"`
	// Started is RFC 3339, absent before the first test.
	Started           string         `json:"started,omitempty"`
	ElapsedS          float64        `json:"elapsed_s"`
	RunTimeS          float64        `json:"run_time_s"` // 0: no limit
	Total             apiRow         `json:"total"`
	Endpoints         []apiRow       `json:"endpoints"`
	Errors            []apiFailure   `json:"errors"`
	Exceptions        []apiException `json:"exceptions"`
	Workers           []apiWorker    `json:"workers"`
	Warnings          []string       `json:"warnings"`
	DroppedIterations int64          `json:"dropped_iterations"`
}

func rowOf(r stats.Row) apiRow {
	l := r.Latency
	return apiRow{
		Method: r.Method, Name: r.Name, Requests: r.Requests, Failures: r.Failures,
		RPS: finite(r.RPS), CurrentRPS: finite(r.CurrentRPS), CurrentFailPerSec: finite(r.CurrentFailPerSec),
		BytesAvg: finite(r.BytesAvg),
		Latency: stats.Latency{
			Min: finite(l.Min), Avg: finite(l.Avg), P50: finite(l.P50), P90: finite(l.P90),
			P95: finite(l.P95), P99: finite(l.P99), P999: finite(l.P999), Max: finite(l.Max),
		},
	}
}

func failuresOf(snap stats.Snapshot) []apiFailure {
	out := make([]apiFailure, 0, len(snap.Errors))
	for _, e := range snap.Errors {
		out = append(out, apiFailure{Method: e.Method, Name: e.Name, Error: e.Error, Count: e.Count})
	}
	return out
}

func exceptionsOf(snap stats.Snapshot) []apiException {
	out := make([]apiException, 0, len(snap.Exceptions))
	for _, e := range snap.Exceptions {
		out = append(out, apiException{Message: e.Message, Count: e.Count, Traceback: e.Traceback})
	}
	return out
}

func workersOf(st master.Status) []apiWorker {
	out := make([]apiWorker, 0, len(st.Workers))
	for _, w := range st.Workers {
		out = append(out, apiWorker{
			ID: w.ID, Index: w.Index, Hostname: w.Hostname, State: w.State, Users: w.Users, Target: w.Target,
			CPUPercent: finite(w.CPUPercent), RSSBytes: w.RSSBytes, CPUWarning: w.CPUWarning, RPS: finite(w.RPS),
		})
	}
	return out
}

// statsOf builds the Stats object; meta gives the dropped iterations.
func statsOf(snap stats.Snapshot, st master.Status, meta report.Meta) apiStats {
	a := apiStats{
		State: st.State, Users: st.Users, TargetUsers: st.TargetUsers, SpawnRate: finite(st.SpawnRate), ArrivalRate: finite(st.ArrivalRate), Shape: st.Shape,
		Host: st.Host, ElapsedS: finite(snap.Duration.Seconds()), RunTimeS: st.RunTime.Seconds(),
		Total:      rowOf(snap.Total),
		Endpoints:  make([]apiRow, 0, len(snap.Endpoints)),
		Errors:     failuresOf(snap),
		Exceptions: exceptionsOf(snap),
		Workers:    workersOf(st),
		Warnings:   append(make([]string, 0, len(snap.Warnings)), snap.Warnings...),
		// The summary's count, so the UI and the report agree.
		DroppedIterations: snap.Dropped,
	}
	if !snap.Started.IsZero() {
		a.Started = snap.Started.UTC().Format(time.RFC3339)
	}
	for _, r := range snap.Endpoints {
		a.Endpoints = append(a.Endpoints, rowOf(r))
	}
	return a
}

// meta returns the summary's extra facts: those of Options.Meta, with the
// host, the shape, the workers and the peak of users filled in from the
// status and the history when Options.Meta leaves them empty (the peak is
// the largest of them all).
func (s *Server) meta(snap stats.Snapshot, st master.Status) report.Meta {
	var m report.Meta
	if s.metaFn != nil {
		m = s.metaFn()
	}
	if m.Host == "" {
		m.Host = st.Host
	}
	if m.Shape == "" {
		m.Shape = st.ShapeLast
	}
	if m.Aborted == "" {
		m.Aborted = st.Aborted
	}
	if m.Workers == nil {
		m.Workers = make([]report.WorkerInfo, 0, len(st.Workers))
		for _, w := range st.Workers {
			m.Workers = append(m.Workers, report.WorkerInfo{ID: w.ID, State: w.State, Users: w.Users})
		}
	}
	m.UsersPeak = max(m.UsersPeak, st.UsersPeak, st.Users)
	for _, h := range snap.History {
		m.UsersPeak = max(m.UsersPeak, h.Users)
	}
	return m
}

// read takes one snapshot and the status together.
func (s *Server) read() (stats.Snapshot, master.Status) {
	return s.src.Snapshot(s.now()), s.src.Status()
}

func (s *Server) apiStats(w http.ResponseWriter, _ *http.Request) {
	snap, st := s.read()
	s.writeJSON(w, http.StatusOK, statsOf(snap, st, s.meta(snap, st)))
}

func (s *Server) apiHistory(w http.ResponseWriter, _ *http.Request) {
	s.writeJSON(w, http.StatusOK, report.HistoryOf(s.src.Snapshot(s.now())))
}

func (s *Server) apiWorkers(w http.ResponseWriter, _ *http.Request) {
	s.writeJSON(w, http.StatusOK, struct {
		Workers []apiWorker `json:"workers"`
	}{workersOf(s.src.Status())})
}

func (s *Server) apiErrors(w http.ResponseWriter, _ *http.Request) {
	snap := s.src.Snapshot(s.now())
	s.writeJSON(w, http.StatusOK, struct {
		Errors     []apiFailure   `json:"errors"`
		Exceptions []apiException `json:"exceptions"`
	}{failuresOf(snap), exceptionsOf(snap)})
}
