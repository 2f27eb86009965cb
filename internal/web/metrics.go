package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/stats"
)

// GET /metrics: the test in Prometheus's text format, every metric
// prefixed horde_, plus the Go runtime's and the process's own.
//
// The collector reads one Snapshot and one Status per scrape and turns
// them into const metrics: nothing is kept between scrapes. So the
// counters (requests, failures, the latency histogram) are those of the
// statistics, and they restart from 0 when the statistics do — on a reset
// (POST /api/v1/reset, GET /stats/reset) and when a new test starts.
// Prometheus's rate() and increase() treat that as a counter reset, as
// they treat a restarted process. Per-endpoint series carry the labels
// method and name; the aggregate has no series of its own (sum them).
// Endpoint names are capped by the statistics (an overflow row), so the
// label set stays bounded.

// latencyBuckets are the upper bounds, in seconds, of
// horde_request_duration_seconds.
func latencyBuckets() []float64 {
	return []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
}

func testStates() []string {
	return []string{master.StateReady, master.StateSpawning, master.StateRunning, master.StateStopping, master.StateStopped}
}

func workerStates() []string {
	return []string{master.WorkerReady, master.WorkerSpawning, master.WorkerRunning, master.WorkerStopped, master.WorkerMissing}
}

// metricsCollector is the prometheus.Collector of the test's metrics.
type metricsCollector struct {
	s                                 *Server
	requests, failures, duration      *prometheus.Desc
	users, target, workers, state     *prometheus.Desc
	currentRPS, currentFails, dropped *prometheus.Desc
}

var _ prometheus.Collector = (*metricsCollector)(nil)

func newMetricsCollector(s *Server) *metricsCollector {
	ep := []string{"method", "name"}
	d := prometheus.NewDesc
	return &metricsCollector{
		s:            s,
		requests:     d("horde_requests_total", "Requests made, failed ones included, since the statistics started.", ep, nil),
		failures:     d("horde_failures_total", "Failed requests since the statistics started.", ep, nil),
		duration:     d("horde_request_duration_seconds", "Response times since the statistics started.", ep, nil),
		users:        d("horde_users", "Users running, summed over the workers.", nil, nil),
		target:       d("horde_target_users", "Users the test asks for.", nil, nil),
		workers:      d("horde_workers", "Workers in each state.", []string{"state"}, nil),
		state:        d("horde_state", "1 for the test's current state, 0 for the others.", []string{"state"}, nil),
		currentRPS:   d("horde_current_rps", "Requests per second over the sliding window (10 s).", nil, nil),
		currentFails: d("horde_current_failures_per_second", "Failures per second over the sliding window (10 s).", nil, nil),
		dropped:      d("horde_dropped_iterations_total", "Open-model iterations that found no free user.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *metricsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.requests, c.failures, c.duration, c.users, c.target,
		c.workers, c.state, c.currentRPS, c.currentFails, c.dropped} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: one snapshot per scrape.
func (c *metricsCollector) Collect(ch chan<- prometheus.Metric) {
	if c.s.src == nil {
		return
	}
	snap, st := c.s.read()
	c.collectEndpoints(ch, snap)
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- mustConst(d, prometheus.GaugeValue, finite(v), time.Time{}, labels...)
	}
	gauge(c.users, float64(st.Users))
	gauge(c.target, float64(st.TargetUsers))
	perState := map[string]int{}
	for _, w := range st.Workers {
		perState[w.State]++
	}
	for _, ws := range workerStates() {
		gauge(c.workers, float64(perState[ws]), ws)
	}
	for _, ts := range testStates() {
		v := 0.0
		if st.State == ts {
			v = 1
		}
		gauge(c.state, v, ts)
	}
	gauge(c.currentRPS, snap.Total.CurrentRPS)
	gauge(c.currentFails, snap.Total.CurrentFailPerSec)
	ch <- mustConst(c.dropped, prometheus.CounterValue, float64(snap.Dropped), time.Time{})
}

// collectEndpoints emits the counters and the histogram of each endpoint.
// Labels must be valid UTF-8: invalid bytes become U+FFFD, and should two
// names then collide, the first row wins (a scrape must not fail).
func (c *metricsCollector) collectEndpoints(ch chan<- prometheus.Metric, snap stats.Snapshot) {
	seen := make(map[[2]string]bool, len(snap.Endpoints))
	for _, r := range snap.Endpoints {
		method, name := strings.ToValidUTF8(r.Method, "\uFFFD"), strings.ToValidUTF8(r.Name, "\uFFFD")
		if seen[[2]string{method, name}] {
			continue
		}
		seen[[2]string{method, name}] = true
		ch <- mustConst(c.requests, prometheus.CounterValue, float64(r.Requests), snap.Started, method, name)
		ch <- mustConst(c.failures, prometheus.CounterValue, float64(r.Failures), snap.Started, method, name)
		if r.CountAtMost == nil {
			continue // a hand-made row without a histogram
		}
		buckets := make(map[float64]uint64, len(latencyBuckets()))
		for _, b := range latencyBuckets() {
			buckets[b] = r.CountAtMost(b * 1000)
		}
		// The sum is exact: the average is the exact sum over the count.
		sum := finite(r.Latency.Avg) * float64(r.Requests) / 1000
		m, err := prometheus.NewConstHistogramWithCreatedTimestamp(c.duration, uint64(max(r.Requests, 0)), sum, buckets,
			snap.Started, method, name)
		if err != nil {
			m = prometheus.NewInvalidMetric(c.duration, err)
		}
		ch <- m
	}
}

// mustConst makes a const metric, with the statistics' start as the
// created timestamp of counters when there is one; an error (which valid
// labels cannot cause) becomes an invalid metric that the scrape reports.
func mustConst(d *prometheus.Desc, t prometheus.ValueType, v float64, created time.Time, labels ...string) prometheus.Metric {
	var m prometheus.Metric
	var err error
	if created.IsZero() {
		m, err = prometheus.NewConstMetric(d, t, v, labels...)
	} else {
		m, err = prometheus.NewConstMetricWithCreatedTimestamp(d, t, v, created, labels...)
	}
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}

// newMetricsHandler serves a private registry: the test's collector, the
// Go runtime and the process. No global registry is touched, so several
// Servers (tests) live side by side.
func newMetricsHandler(s *Server) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		newMetricsCollector(s),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{s},
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// promLogger passes promhttp's errors to the Server's logger.
type promLogger struct{ s *Server }

func (l promLogger) Println(v ...any) { l.s.log.Error("web: /metrics", "err", fmt.Sprint(v...)) }
