package web

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"sync"

	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/stats"
)

// This file builds every JSON body the package writes. The shape of
// /stats/requests is Locust 2.x's (locust/web.py request_stats and
// StatsEntry.to_dict), plus the keys older Locust versions sent that
// exporters still read. Differences from Locust, all deliberate:
//   - latencies are exact floats in ms, never rounded to Locust's buckets;
//   - stats[] and errors[] are not truncated to 500 rows (the aggregate
//     already caps endpoint names, with an overflow row);
//   - numbers are never null: where Locust sends None (no requests yet)
//     this sends 0.

// locustReport is the body of GET /stats/requests.
type locustReport struct {
	Stats  []locustRow   `json:"stats"` // endpoints, then the "Aggregated" row
	Errors []locustError `json:"errors"`
	// TotalRPS and TotalFailPerSec are, as in Locust, the aggregate's
	// CURRENT rates (sliding window), not the whole-run averages that
	// the rows' total_rps hold. CurrentRPS and CurrentFailPerSec repeat
	// them under the names some exporters read.
	TotalRPS          float64 `json:"total_rps"`
	TotalFailPerSec   float64 `json:"total_fail_per_sec"`
	CurrentRPS        float64 `json:"current_rps"`
	CurrentFailPerSec float64 `json:"current_fail_per_sec"`
	FailRatio         float64 `json:"fail_ratio"` // failures / requests, 0..1
	// CurrentPercentiles is Locust 2.x's shape; the flat keys are what
	// Locust 1.x (…_50, …_95) and early 2.x (…_1, …_2) sent.
	CurrentPercentiles locustCurrentPercentiles `json:"current_response_time_percentiles"`
	CurrentP50         float64                  `json:"current_response_time_percentile_50"`
	CurrentP95         float64                  `json:"current_response_time_percentile_95"`
	CurrentP1          float64                  `json:"current_response_time_percentile_1"`
	CurrentP2          float64                  `json:"current_response_time_percentile_2"`
	State              string                   `json:"state"`
	UserCount          int                      `json:"user_count"`
	Workers            []locustWorker           `json:"workers"`
	// WorkerCount counts the workers that are not missing, as Locust's
	// MasterRunner.worker_count does.
	WorkerCount int `json:"worker_count"`
}

type locustCurrentPercentiles struct {
	P50 float64 `json:"response_time_percentile_0.5"`
	P95 float64 `json:"response_time_percentile_0.95"`
}

// locustRow is one element of stats[]. Method is a pointer because Locust
// sends null as the method of the "Aggregated" row.
type locustRow struct {
	Method            *string `json:"method"`
	Name              string  `json:"name"`
	SafeName          string  `json:"safe_name"`
	NumRequests       int64   `json:"num_requests"`
	NumFailures       int64   `json:"num_failures"`
	AvgResponseTime   float64 `json:"avg_response_time"`
	MinResponseTime   float64 `json:"min_response_time"`
	MaxResponseTime   float64 `json:"max_response_time"`
	MedianRespTime    float64 `json:"median_response_time"`
	NinetiethRespTime float64 `json:"ninetieth_response_time"`
	NinetyNinthResp   float64 `json:"ninety_ninth_response_time"`
	CurrentRPS        float64 `json:"current_rps"`
	CurrentFailPerSec float64 `json:"current_fail_per_sec"`
	TotalRPS          float64 `json:"total_rps"`
	TotalFailPerSec   float64 `json:"total_fail_per_sec"`
	AvgContentLength  float64 `json:"avg_content_length"`
	P95               float64 `json:"response_time_percentile_0.95"`
	P99               float64 `json:"response_time_percentile_0.99"`
}

type locustError struct {
	Method      string `json:"method"`
	Name        string `json:"name"`
	Error       string `json:"error"`
	Occurrences int64  `json:"occurrences"`
}

type locustWorker struct {
	ID          string  `json:"id"`
	State       string  `json:"state"`
	UserCount   int     `json:"user_count"`
	CPUUsage    float64 `json:"cpu_usage"`    // percent of one core
	MemoryUsage uint64  `json:"memory_usage"` // resident bytes
}

// locustReportOf builds the /stats/requests body from a snapshot and the
// master's status.
func locustReportOf(snap stats.Snapshot, st master.Status) locustReport {
	secs := snap.Duration.Seconds()
	rows := make([]locustRow, 0, len(snap.Endpoints)+1)
	for _, r := range snap.Endpoints {
		rows = append(rows, locustRowOf(r, new(r.Method), secs))
	}
	// The aggregate is always present and always last, as in Locust.
	rows = append(rows, locustRowOf(snap.Total, nil, secs))

	errs := make([]locustError, 0, len(snap.Errors))
	for _, e := range snap.Errors {
		errs = append(errs, locustError{Method: e.Method, Name: e.Name, Error: e.Error, Occurrences: e.Count})
	}
	workers := make([]locustWorker, 0, len(st.Workers))
	live := 0
	for _, w := range st.Workers {
		workers = append(workers, locustWorker{
			ID: w.ID, State: w.State, UserCount: w.Users,
			CPUUsage: finite(w.CPUPercent), MemoryUsage: w.RSSBytes,
		})
		if w.State != master.WorkerMissing {
			live++
		}
	}
	p50, p95 := currentPercentiles(snap)
	tot := snap.Total
	return locustReport{
		Stats:              rows,
		Errors:             errs,
		TotalRPS:           finite(tot.CurrentRPS),
		TotalFailPerSec:    finite(tot.CurrentFailPerSec),
		CurrentRPS:         finite(tot.CurrentRPS),
		CurrentFailPerSec:  finite(tot.CurrentFailPerSec),
		FailRatio:          ratio(tot.Failures, tot.Requests),
		CurrentPercentiles: locustCurrentPercentiles{P50: p50, P95: p95},
		CurrentP50:         p50,
		CurrentP95:         p95,
		CurrentP1:          p50,
		CurrentP2:          p95,
		State:              st.State,
		UserCount:          st.Users,
		Workers:            workers,
		WorkerCount:        live,
	}
}

// locustRowOf converts one row; secs is the test's duration so far, over
// which the whole-run rates are averaged.
func locustRowOf(r stats.Row, method *string, secs float64) locustRow {
	var failPerSec float64
	if secs > 0 {
		failPerSec = float64(r.Failures) / secs
	}
	l := r.Latency
	return locustRow{
		Method:            method,
		Name:              r.Name,
		SafeName:          escapeHTML(r.Name),
		NumRequests:       r.Requests,
		NumFailures:       r.Failures,
		AvgResponseTime:   finite(l.Avg),
		MinResponseTime:   finite(l.Min),
		MaxResponseTime:   finite(l.Max),
		MedianRespTime:    finite(l.P50),
		NinetiethRespTime: finite(l.P90),
		NinetyNinthResp:   finite(l.P99),
		CurrentRPS:        finite(r.CurrentRPS),
		CurrentFailPerSec: finite(r.CurrentFailPerSec),
		TotalRPS:          finite(r.RPS),
		TotalFailPerSec:   finite(failPerSec),
		AvgContentLength:  finite(r.BytesAvg),
		P95:               finite(l.P95),
		P99:               finite(l.P99),
	}
}

// currentPercentiles returns the aggregate's p50 and p95 over the sliding
// window: those of the latest history point. Before the first point (the
// master ticks history once a second) it falls back to the whole-run
// figures rather than report 0 for a test that has requests.
func currentPercentiles(snap stats.Snapshot) (p50, p95 float64) {
	if n := len(snap.History); n > 0 {
		last := snap.History[n-1]
		return finite(last.P50), finite(last.P95)
	}
	return finite(snap.Total.Latency.P50), finite(snap.Total.Latency.P95)
}

func ratio(part, whole int64) float64 {
	if whole <= 0 {
		return 0
	}
	return float64(part) / float64(whole)
}

// finite maps NaN and ±Inf, which JSON cannot carry, to 0.
func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// escapeHTML is Python's html.escape(s, quote=False), which Locust uses
// for safe_name.
func escapeHTML(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	s = strings.ReplaceAll(s, "&", "&amp;")
	s = strings.ReplaceAll(s, "<", "&lt;")
	return strings.ReplaceAll(s, ">", "&gt;")
}

// apiError is the body of every error response.
type apiError struct {
	Error string `json:"error"`
}

func (s *Server) writeError(w http.ResponseWriter, code int, msg string) {
	s.writeJSON(w, code, apiError{Error: msg})
}

// writeJSON encodes v fully before writing, so an encoding failure is a
// clean 500 rather than a truncated 200. Responses are never cached: they
// describe a running test.
// jsonBufs holds the buffers responses are encoded in: with thousands of
// workers, /api/v1/stats and /api/v1/workers are over a MiB each, read
// every second or two by every open page, and a fresh buffer each time
// is a MiB of garbage and of pages faulted in again.
var jsonBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledJSON is the largest buffer kept for the next response.
const maxPooledJSON = 16 << 20

func putJSONBuf(b *bytes.Buffer) {
	if b.Cap() > maxPooledJSON {
		return
	}
	b.Reset()
	jsonBufs.Put(b)
}

func (s *Server) writeJSON(w http.ResponseWriter, code int, v any) {
	buf := jsonBufs.Get().(*bytes.Buffer)
	defer putJSONBuf(buf)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false) // as Flask's jsonify: names keep their < > &
	if err := enc.Encode(v); err != nil {
		s.log.Error("web: encoding JSON", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if _, err := w.Write(buf.Bytes()); err != nil {
		s.log.Debug("web: writing response", "err", err)
	}
}
