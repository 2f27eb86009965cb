package report

import "github.com/horde-load/horde/internal/stats"

// Point is one second of a test's history as the charts draw it: the
// API's Point (docs/api.md), and what the run store keeps of a run.
type Point struct {
	T          int64   `json:"t"` // Unix ms
	Users      int     `json:"users"`
	RPS        float64 `json:"rps"`
	FailPerSec float64 `json:"fail_per_sec"`
	P50        float64 `json:"p50"`
	P95        float64 `json:"p95"`
	P99        float64 `json:"p99"`
	Requests   int64   `json:"requests"`
	Failures   int64   `json:"failures"`
}

// History is the body of GET /api/v1/history, the stream's history event,
// and a stored run's history.
type History struct {
	Points []Point `json:"points"`
}

// PointOf is one second of snap's history as the charts draw it.
func PointOf(h stats.HistoryPoint) Point {
	return Point{
		T: h.Time.UnixMilli(), Users: h.Users,
		RPS: finite(h.CurrentRPS), FailPerSec: finite(h.CurrentFailPerSec),
		P50: finite(h.P50), P95: finite(h.P95), P99: finite(h.P99),
		Requests: h.Requests, Failures: h.Failures,
	}
}

// HistoryOf is snap's whole history as the charts draw it.
func HistoryOf(snap stats.Snapshot) History {
	pts := make([]Point, 0, len(snap.History))
	for _, h := range snap.History {
		pts = append(pts, PointOf(h))
	}
	return History{Points: pts}
}
