package runstore

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"
)

// backend is a kind of store the same tests run against.
type backend struct {
	name string
	// location returns the location of a new, empty store.
	location func(t testing.TB) string
}

var backends = []backend{
	{"sqlite", func(t testing.TB) string { return filepath.Join(t.TempDir(), "runs.db") }},
	{"postgres", func(t testing.TB) string { return postgres(t).NewDB(t) }},
}

// eachBackend runs f, in parallel, against a new store of each kind.
func eachBackend(t *testing.T, f func(t *testing.T, loc string)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f(t, b.location(t))
		})
	}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// open opens the store at loc, closed when the test ends.
func open(t testing.TB, loc string, opts Options) *Store {
	t.Helper()
	s, err := Open(testCtx(t), loc, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", loc, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// clock is a settable clock for Options.Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock(start string) *clock       { t, _ := time.Parse(time.RFC3339, start); return &clock{t} }

// begin begins a run or fails the test.
func begin(t testing.TB, s *Store, info Info) *Recording {
	t.Helper()
	r, err := s.Begin(testCtx(t), info)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	return r
}

// finish finishes a run or fails the test.
func finish(t testing.TB, r *Recording, st Status, snap Snapshot) {
	t.Helper()
	if err := r.Finish(testCtx(t), st, "", snap); err != nil {
		t.Fatalf("Finish: %v", err)
	}
}

// get returns a stored run or fails the test.
func get(t testing.TB, s *Store, id string) Record {
	t.Helper()
	rec, err := s.Get(testCtx(t), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return rec
}

// snapshot returns a snapshot whose blobs are tagged with tag.
func snapshot(tag string, requests int64) Snapshot {
	return Snapshot{
		Metrics:    Metrics{Requests: requests, Failures: requests / 10, RPS: float64(requests) / 60, P95Ms: 12.5, DurationS: 60},
		Thresholds: []Threshold{{Expr: "p95 < 200", Value: 12.5, Passed: true}},
		Summary:    []byte(`{"version":1,"tag":"` + tag + `"}`),
		History:    bytes.Repeat([]byte("history "+tag+";"), 1000),
		Histograms: []byte("histograms " + tag),
	}
}

// ids returns the ids of runs, in order.
func ids(runs []Run) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.ID
	}
	return out
}
