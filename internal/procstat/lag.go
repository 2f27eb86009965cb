package procstat

import (
	"math"
	"runtime/metrics"
	"sync"
	"time"
)

// Lag measures how long this process's goroutines wait for a CPU: the Go
// runtime's histogram of the time goroutines spend runnable before they
// run (/sched/latencies:seconds). A master or worker that compares a
// peer's silence with a timeout adds its own lag first, so that a process
// starved of CPU (too many workers for the master's cores, users that
// burn every core of a worker, a busy machine) does not take its own
// slowness for its peer's silence. It is safe for concurrent use.
type Lag struct {
	mu     sync.Mutex
	sample []metrics.Sample
	prev   []uint64
	recent []time.Duration // the worst lag of the last calls, newest last
}

const schedLatencies = "/sched/latencies:seconds"

// NewLag returns a Lag; its first Worst covers the process's life so far.
func NewLag() *Lag {
	return &Lag{sample: []metrics.Sample{{Name: schedLatencies}}}
}

// Worst returns the longest a goroutine waited to run since the previous
// call (an upper bound, at the histogram's resolution), and the longest
// over the last keep calls.
func (l *Lag) Worst(keep int) (last, window time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	metrics.Read(l.sample)
	if l.sample[0].Value.Kind() != metrics.KindFloat64Histogram {
		return 0, 0
	}
	h := l.sample[0].Value.Float64Histogram()
	if len(l.prev) != len(h.Counts) {
		l.prev = make([]uint64, len(h.Counts))
	}
	for i := len(h.Counts) - 1; i >= 0; i-- {
		if h.Counts[i] > l.prev[i] {
			last = bucketTop(h.Buckets, i)
			break
		}
	}
	copy(l.prev, h.Counts)
	l.recent = append(l.recent, last)
	if over := len(l.recent) - max(keep, 1); over > 0 {
		l.recent = append(l.recent[:0], l.recent[over:]...)
	}
	for _, d := range l.recent {
		window = max(window, d)
	}
	return last, window
}

// bucketTop is the upper edge of bucket i (its lower edge when the upper
// one is infinite).
func bucketTop(edges []float64, i int) time.Duration {
	top := edges[i+1]
	if math.IsInf(top, 1) {
		top = edges[i]
	}
	return time.Duration(top * float64(time.Second))
}
