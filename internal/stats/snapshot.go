package stats

import "time"

// Latency holds the latency figures of one row, in milliseconds.
type Latency struct {
	Min  float64 `json:"min"`
	Avg  float64 `json:"avg"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// Row is one line of the statistics table: an endpoint or the aggregate.
type Row struct {
	Method   string
	Name     string
	Requests int64
	Failures int64
	// BytesAvg is the average response size in bytes.
	BytesAvg float64
	// RPS is requests per second over the whole test; CurrentRPS and
	// CurrentFailPerSec are over the sliding window.
	RPS               float64
	CurrentRPS        float64
	CurrentFailPerSec float64
	Latency           Latency
	// Percentile returns any other quantile (q in 0..1) in ms.
	Percentile func(q float64) float64 `json:"-"`
	// CountAtMost returns how many requests took at most ms milliseconds,
	// from the same histogram (Histogram.CountAtMost): the cumulative
	// buckets of a Prometheus histogram.
	CountAtMost func(ms float64) uint64 `json:"-"`
}

// ErrorRow is one group of failures: same method, name and error text.
type ErrorRow struct {
	Method    string
	Name      string
	Error     string
	Count     int64
	FirstSeen time.Time
	LastSeen  time.Time
}

// ExceptionRow is one group of script errors with the same message.
type ExceptionRow struct {
	Count     int64
	Message   string
	Traceback string
}

// HistoryPoint is one sample of the aggregate over time (one per second at
// most), used for charts and the stats-history CSV.
type HistoryPoint struct {
	Time              time.Time
	Users             int
	CurrentRPS        float64
	CurrentFailPerSec float64
	P50, P95, P99     float64 // ms, over the sliding window
	Requests          int64   // cumulative
	Failures          int64   // cumulative
	// Total is the cumulative latency of the aggregate, and Quantiles its
	// cumulative percentiles at HistoryQuantiles (ms), as Locust's
	// stats-history CSV has them; BytesAvg the average response size.
	Total     Latency
	Quantiles [11]float64
	BytesAvg  float64
}

// EndpointHistoryPoint is one point of the per-endpoint history that
// AggregateOptions.EndpointHistory keeps: what Locust's stats-history CSV
// holds with --csv-full-history. Its points are at the same seconds as
// Snapshot.History's.
type EndpointHistoryPoint struct {
	Time  time.Time
	Users int
	// Endpoints has a row per endpoint with requests by Time, sorted by
	// name, then method. Snapshots share it: it must not be modified.
	Endpoints []EndpointHistoryRow
	// Total is the aggregate's row: Method "", Name TotalName.
	Total EndpointHistoryRow
}

// EndpointHistoryRow is one endpoint (or the aggregate) at one point of
// the per-endpoint history.
type EndpointHistoryRow struct {
	Method string
	Name   string
	// CurrentRPS and CurrentFailPerSec are over the sliding window, as in
	// Row.
	CurrentRPS        float64
	CurrentFailPerSec float64
	// Quantiles are the latencies (ms) at HistoryQuantiles of the requests
	// since the tick one window before: Locust's "current" percentiles.
	// They come from the difference of two copies of the row's
	// cumulative histogram, so they are within MaxRelativeError; they are
	// 0 when the window had no request.
	Quantiles [11]float64
	// The rest is cumulative: counts, latency (ms) and response size.
	Requests int64
	Failures int64
	Median   float64
	Avg      float64
	Min      float64
	Max      float64
	BytesAvg float64
}

// HistoryQuantiles are the quantiles of HistoryPoint.Quantiles: the
// percentile columns of Locust's CSV files.
func HistoryQuantiles() [11]float64 {
	return [...]float64{0.50, 0.66, 0.75, 0.80, 0.90, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0}
}

// Snapshot is a consistent view of the statistics at one instant.
type Snapshot struct {
	Time       time.Time
	Started    time.Time
	Duration   time.Duration
	Endpoints  []Row // sorted by name, then method
	Total      Row   // Method "", Name "Aggregated"
	Errors     []ErrorRow
	Exceptions []ExceptionRow
	History    []HistoryPoint
	// EndpointHistory is nil unless AggregateOptions.EndpointHistory.
	EndpointHistory []EndpointHistoryPoint
	// Warnings are the one-time warnings given so far (e.g. the cap on
	// endpoint names was reached), oldest first.
	Warnings []string
	// Dropped counts open-model arrivals that found no free user.
	Dropped int64
}
