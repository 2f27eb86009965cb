package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/horde-load/horde/internal/cluster"
	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/stats"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// epoch is the artificial clock's origin, on a whole second.
var epoch = time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)

// clock is an artificial clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: epoch} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// fakeControl is a Controller over real statistics (a stats.Aggregate,
// so rows have working histograms) and a status the test sets. It records
// every call.
type fakeControl struct {
	clk *clock
	agg *stats.Aggregate

	mu       sync.Mutex
	st       master.Status
	startErr error
	starts   []master.TestParams
	stops    int
	resets   int
}

var _ Controller = (*fakeControl)(nil)

func newFakeControl(clk *clock) *fakeControl {
	agg := stats.NewAggregate(stats.AggregateOptions{})
	agg.Start(clk.Now())
	return &fakeControl{clk: clk, agg: agg, st: master.Status{State: master.StateReady}}
}

func (f *fakeControl) Snapshot(now time.Time) stats.Snapshot { return f.agg.Snapshot(now) }

func (f *fakeControl) Status() master.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.st
	st.Workers = slices.Clone(f.st.Workers)
	return st
}

func (f *fakeControl) setStatus(fn func(st *master.Status)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(&f.st)
}

func (f *fakeControl) Start(p master.TestParams) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, p)
	if f.startErr != nil {
		return f.startErr
	}
	if f.st.State != master.StateSpawning && f.st.State != master.StateRunning {
		f.st.Started = f.clk.Now()
	}
	f.st.State, f.st.TargetUsers, f.st.SpawnRate, f.st.RunTime = master.StateSpawning, p.Users, p.SpawnRate, p.RunTime
	if p.Host != "" {
		f.st.Host = p.Host
	}
	return nil
}

func (f *fakeControl) Stop() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stops++
	f.st.State = master.StateStopping
	done := make(chan struct{})
	close(done)
	return done
}

func (f *fakeControl) ResetStats() {
	f.mu.Lock()
	f.resets++
	f.mu.Unlock()
	now := f.clk.Now()
	f.agg.Reset(now)
	f.agg.Start(now)
}

// calls returns what the controller was asked so far.
func (f *fakeControl) calls() (starts []master.TestParams, stops, resets int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.starts), f.stops, f.resets
}

// load records n requests to method name at the clock's time, the first
// fails of them failing, all with latency lat.
func (f *fakeControl) load(method, name string, n, fails int, lat time.Duration) {
	c := stats.NewCollector(1)
	for i := range n {
		s := stats.Sample{Key: stats.Key{Method: method, Name: name}, Latency: lat, Bytes: 100}
		if i < fails {
			s.Err = "HTTP 500 Internal Server Error"
		}
		c.For(0).Record(s)
	}
	f.add(c.Cut())
}

// drop records n open-model arrivals that found no free user.
func (f *fakeControl) drop(n int64) { f.add(&stats.Delta{Dropped: n}) }

// add merges d into the aggregate as the master merges what a worker
// sends: encoded for the wire and decoded.
func (f *fakeControl) add(d *stats.Delta) {
	var dd stats.DeltaData
	if err := cluster.DecodeStats(cluster.DeltaToPB(d, 0, 0, false), &dd); err != nil {
		panic(err) // a delta built by the collector is always valid
	}
	f.agg.AddData(&dd, f.clk.Now())
}

// tick moves the clock one second and records a history point.
func (f *fakeControl) tick() {
	now := f.clk.Add(time.Second)
	f.agg.Tick(now, f.Status().Users)
}

// newTestServer serves New(o) on 127.0.0.1; Close runs at cleanup, before
// the listener closes, as an http.Server's RegisterOnShutdown would.
func newTestServer(t *testing.T, o Options) (*Server, *httptest.Server) {
	t.Helper()
	s := New(o)
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		s.Close()
		ts.Close()
	})
	return s, ts
}

// do sends a request to h and returns the recorder.
func do(t *testing.T, h http.Handler, method, path, body string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// form is the header of an HTML form post.
var form = map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

func formBody(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

// decode decodes a JSON body into a generic map.
func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %q", err, rec.Body)
	}
	return m
}
