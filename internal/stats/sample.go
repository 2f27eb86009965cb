// Package stats measures what a load test does: it records request samples
// into sharded, mergeable histograms on the request path, cuts them into
// deltas that can be shipped between processes, and aggregates deltas into
// the totals, percentiles and sliding-window rates that users read.
//
// It is not a metrics exporter and knows nothing about HTTP or scripts.
package stats

import "time"

// Key identifies one statistics row: a request method and a name (the URL
// path, or the name= given in the script).
type Key struct {
	Method string
	Name   string
}

// Sample is one measured request (or one script-recorded timing).
type Sample struct {
	Key
	// Latency is the measured response time. For the open model it is
	// measured from the intended start of the arrival.
	Latency time.Duration
	// Bytes is the size of the response body.
	Bytes int64
	// Err is the failure reason; empty means success.
	Err string
}

// Recorder receives samples and script errors. Implementations must be safe
// for concurrent use and must not block on the request path.
type Recorder interface {
	// Record adds one sample.
	Record(s Sample)
	// Exception records a script runtime error with its traceback.
	Exception(msg, traceback string)
}
