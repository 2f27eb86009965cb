package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/report"
	"github.com/horde-load/horde/internal/runstore"
	"github.com/horde-load/horde/internal/stats"
)

// openRunStore opens a new SQLite run store in the test's directory,
// closed when the test ends; now is its clock (nil: time.Now).
func openRunStore(t *testing.T, now func() time.Time) *runstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := runstore.Open(ctx, filepath.Join(t.TempDir(), "runs.db"), runstore.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// loadSpread records n requests to method name at the clock's time, the
// first fails of them failing, with latencies spread evenly over
// [from, to]: percentiles a test can compute exactly.
func (f *fakeControl) loadSpread(method, name string, n, fails int, from, to time.Duration) {
	c := stats.NewCollector(1)
	for i := range n {
		lat := from + time.Duration(float64(to-from)*float64(i)/float64(max(n-1, 1)))
		s := stats.Sample{Key: stats.Key{Method: method, Name: name}, Latency: lat, Bytes: 512}
		if i < fails {
			s.Err = "HTTP 503 Service Unavailable"
		}
		c.For(0).Record(s)
	}
	f.add(c.Cut())
}

// storedRun is a run recorded by recordRun: its id and what was stored.
type storedRun struct {
	id      string
	summary report.Summary
	history report.History
	hists   []stats.EndpointHistogram
}

// recordRun plays a test of secs seconds on real statistics — each
// second, perSecond records that second's requests — and stores it as
// the master does at the end of a test: begun with info, finished with
// status and the summary, history and histograms as their blobs.
func recordRun(t *testing.T, st *runstore.Store, info runstore.Info, status runstore.Status, secs int, perSecond func(ctl *fakeControl)) storedRun {
	t.Helper()
	clk := &clock{t: info.Started}
	ctl := newFakeControl(clk)
	ctx := context.Background()
	rec, err := st.Begin(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	for range secs {
		perSecond(ctl)
		ctl.agg.Tick(clk.Add(time.Second), 10)
	}
	snap := ctl.agg.Snapshot(clk.Now())
	sum := report.NewSummary(snap, report.Meta{UsersPeak: 10, Host: info.Host,
		Thresholds: []report.ThresholdResult{{Expr: "p95<500ms", Value: snap.Total.Latency.P95, Passed: snap.Total.Latency.P95 < 500}}})
	var sumJSON bytes.Buffer
	if err := report.WriteJSON(&sumJSON, sum); err != nil {
		t.Fatal(err)
	}
	hist := report.HistoryOf(snap)
	hists := ctl.agg.Histograms()
	histJSON, _ := json.Marshal(hist)
	histsJSON, _ := json.Marshal(hists)
	err = rec.Finish(ctx, status, "", runstore.Snapshot{
		Metrics: runstore.Metrics{Requests: sum.Totals.Requests, Failures: sum.Totals.Failures, RPS: sum.Totals.RPS,
			P95Ms: sum.Totals.Latency.P95, DurationS: sum.DurationS},
		Thresholds: []runstore.Threshold{{Expr: "p95<500ms", Value: sum.Totals.Latency.P95, Passed: sum.Totals.Latency.P95 < 500}},
		Summary:    sumJSON.Bytes(), History: histJSON, Histograms: histsJSON,
	})
	if err != nil {
		t.Fatal(err)
	}
	// What was stored, decoded back as a reader would.
	var back report.Summary
	if err := json.Unmarshal(sumJSON.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	return storedRun{id: rec.ID(), summary: back, history: hist, hists: hists}
}

// steady is a second of a healthy test: 100 GET / from 5 to 25 ms, 10
// POST /login from 40 to 60 ms.
func steady(ctl *fakeControl) {
	ctl.loadSpread("GET", "/", 100, 0, 5*time.Millisecond, 25*time.Millisecond)
	ctl.loadSpread("POST", "/login", 10, 0, 40*time.Millisecond, 60*time.Millisecond)
}

// runsFixture is a store of four runs, oldest first: a passed
// checkout.star run, a failed one (labelled env=staging), a passed
// browse.star run, and a checkout.star run still running (begun, never
// finished).
type runsFixture struct {
	store                  *runstore.Store
	passed, failed, browse storedRun
	running                string
}

func newRunsFixture(t *testing.T) runsFixture {
	t.Helper()
	f := runsFixture{store: openRunStore(t, nil)}
	at := func(min int) time.Time { return epoch.Add(time.Duration(min) * time.Minute) }
	f.passed = recordRun(t, f.store, runstore.Info{Started: at(0), Script: "checkout.star", Host: "http://127.0.0.1:8080",
		Options: map[string]string{"users": "10", "run_time": "5s"}, Labels: map[string]string{"env": "prod"}, Version: "v1.2.3", Workers: 2},
		runstore.StatusPassed, 5, steady)
	f.failed = recordRun(t, f.store, runstore.Info{Started: at(10), Script: "checkout.star", Host: "http://127.0.0.1:8080",
		Labels: map[string]string{"env": "staging"}}, runstore.StatusFailed, 5, func(ctl *fakeControl) {
		ctl.loadSpread("GET", "/", 100, 5, 5*time.Millisecond, 25*time.Millisecond)
	})
	f.browse = recordRun(t, f.store, runstore.Info{Started: at(20), Script: "browse.star", Labels: map[string]string{"env": "prod"}},
		runstore.StatusPassed, 3, steady)
	rec, err := f.store.Begin(context.Background(), runstore.Info{Started: at(30), Script: "checkout.star"})
	if err != nil {
		t.Fatal(err)
	}
	f.running = rec.ID()
	return f
}

// getJSON requests path from h and decodes the JSON body into v; it
// returns the status code.
func getJSON(t *testing.T, h http.Handler, method, path string, v any) int {
	t.Helper()
	rec := do(t, h, method, path, "", nil)
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("%s %s: %d %v: %s", method, path, rec.Code, err, rec.Body)
	}
	return rec.Code
}

// listIDs lists runs with the query q and returns their ids in order.
func listIDs(t *testing.T, h http.Handler, q string) ([]string, runList) {
	t.Helper()
	var l runList
	if code := getJSON(t, h, "GET", "/api/v1/runs"+q, &l); code != http.StatusOK {
		t.Fatalf("GET /api/v1/runs%s: %d", q, code)
	}
	ids := make([]string, len(l.Runs))
	for i, r := range l.Runs {
		ids[i] = r.ID
	}
	return ids, l
}

func TestRunsList(t *testing.T) {
	t.Parallel()
	f := newRunsFixture(t)
	srv := New(Options{Runs: f.store})

	ids, l := listIDs(t, srv, "")
	if want := []string{f.running, f.browse.id, f.failed.id, f.passed.id}; !slices.Equal(ids, want) {
		t.Fatalf("the list is %v, want newest first %v", ids, want)
	}
	if l.Total != 4 || l.Limit != defaultRunLimit || l.Offset != 0 {
		t.Errorf("total %d, limit %d, offset %d; want 4, %d, 0", l.Total, l.Limit, l.Offset, defaultRunLimit)
	}
	// A row shows what the run's summary says.
	p := l.Runs[3]
	tot := f.passed.summary.Totals
	if p.Status != "passed" || p.Script != "checkout.star" || p.Host != "http://127.0.0.1:8080" || p.Labels["env"] != "prod" ||
		p.Options["users"] != "10" || p.Version != "v1.2.3" || p.Workers != 2 || p.Started != "2026-11-26T23:00:00.000Z" || p.Ended == nil {
		t.Errorf("the passed run is listed as %+v", p)
	}
	if m := p.Metrics; m.Requests != tot.Requests || m.Requests != 550 || m.Failures != 0 || m.RPS != tot.RPS || m.P95Ms != tot.Latency.P95 || m.DurationS != 5 {
		t.Errorf("its metrics %+v, want the summary's totals %+v over 5 s", m, tot)
	}
	if len(p.Thresholds) != 1 || !p.Thresholds[0].Passed {
		t.Errorf("its thresholds %+v", p.Thresholds)
	}
	if r := l.Runs[0]; r.Status != "running" || r.Ended != nil || r.Labels == nil || r.Options == nil || r.Thresholds == nil {
		t.Errorf("the running run is listed as %+v (want no end, and {} / [] rather than null)", r)
	}

	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"?script=checkout.star", []string{f.running, f.failed.id, f.passed.id}},
		{"?label=env=prod", []string{f.browse.id, f.passed.id}},
		{"?label=env=prod&script=checkout.star", []string{f.passed.id}},
		{"?label=env%3Dstaging", []string{f.failed.id}},
		{"?status=passed", []string{f.browse.id, f.passed.id}},
		{"?status=failed,running", []string{f.running, f.failed.id}},
		{"?status=failed&status=running", []string{f.running, f.failed.id}},
		{"?status=aborted", []string{}},
		{"?asc=true", []string{f.passed.id, f.failed.id, f.browse.id, f.running}},
		{"?sort=requests&status=passed,failed", []string{f.passed.id, f.failed.id, f.browse.id}}, // 550, 500, 330
		{"?sort=p95&asc=1&script=checkout.star&status=passed,failed", []string{f.failed.id, f.passed.id}},
		{"?sort=duration&asc=false&status=passed", []string{f.passed.id, f.browse.id}},
	} {
		if ids, _ := listIDs(t, srv, tc.query); !slices.Equal(ids, tc.want) {
			t.Errorf("GET /api/v1/runs%s = %v, want %v", tc.query, ids, tc.want)
		}
	}

	// Pages: the total counts them all.
	ids, l = listIDs(t, srv, "?limit=2&offset=1")
	if want := []string{f.browse.id, f.failed.id}; !slices.Equal(ids, want) || l.Total != 4 || l.Limit != 2 || l.Offset != 1 {
		t.Errorf("page 2 of 2-run pages from the second: %v (total %d, limit %d, offset %d), want %v of 4", ids, l.Total, l.Limit, l.Offset, want)
	}
	if ids, l = listIDs(t, srv, "?offset=10"); len(ids) != 0 || l.Total != 4 {
		t.Errorf("past the end: %v, total %d", ids, l.Total)
	}
	if _, l = listIDs(t, srv, "?limit=2&script=browse.star"); l.Total != 1 {
		t.Errorf("a short page: total %d, want 1", l.Total)
	}
}

func TestRunsListBadInput(t *testing.T) {
	t.Parallel()
	srv := New(Options{Runs: openRunStore(t, nil)})
	for _, tc := range []struct{ query, want string }{
		{"?sort=speed", `unknown sort key "speed"`},
		{"?status=won", `status "won": want running, passed, failed or aborted`},
		{"?label=env", `label "env": want key=value`},
		{"?label==x", "label"},
		{"?limit=0", `limit="0": want a whole number from 1 to 1000`},
		{"?limit=5000", "from 1 to 1000"},
		{"?limit=ten", "whole number"},
		{"?offset=-1", `offset="-1"`},
		{"?asc=maybe", `asc="maybe": want true or false`},
		{"?scripts=x.star", `unknown parameter "scripts"`},
	} {
		var e apiError
		code := getJSON(t, srv, "GET", "/api/v1/runs"+tc.query, &e)
		if code != http.StatusBadRequest || !strings.Contains(e.Error, tc.want) || strings.Contains(e.Error, "runstore:") {
			t.Errorf("GET /api/v1/runs%s: %d %q, want 400 saying %q", tc.query, code, e.Error, tc.want)
		}
	}
}

// runReply decodes GET /api/v1/runs/{ref} with the summary and history
// typed as the Go side writes them.
type runReply struct {
	Run      report.StoredRun `json:"run"`
	Summary  report.Summary   `json:"summary"`
	History  report.History   `json:"history"`
	Warnings []string         `json:"warnings"`
}

func TestRunOpen(t *testing.T) {
	t.Parallel()
	f := newRunsFixture(t)
	srv := New(Options{Runs: f.store})
	for _, ref := range []string{f.passed.id, f.passed.id[:4], strings.ToUpper(f.passed.id[:6]), "latest-passed?script=checkout.star"} {
		var got runReply
		if code := getJSON(t, srv, "GET", "/api/v1/runs/"+ref, &got); code != http.StatusOK {
			t.Fatalf("GET /api/v1/runs/%s: %d", ref, code)
		}
		if got.Run.ID != f.passed.id {
			t.Errorf("GET /api/v1/runs/%s opened %s, want %s", ref, got.Run.ID, f.passed.id)
			continue
		}
		// The summary and the history are JSON objects, exactly what was stored.
		if !jsonEqual(t, got.Summary, f.passed.summary) || !jsonEqual(t, got.History, f.passed.history) {
			t.Errorf("GET /api/v1/runs/%s: summary or history differ from what was stored", ref)
		}
		if len(got.History.Points) != 5 || got.History.Points[4].Requests != 550 || len(got.Summary.Endpoints) != 2 {
			t.Errorf("GET /api/v1/runs/%s: %d points, %d endpoints; want the 5 s test's 5 points and 2 endpoints", ref, len(got.History.Points), len(got.Summary.Endpoints))
		}
		if len(got.Warnings) != 0 {
			t.Errorf("warnings %v", got.Warnings)
		}
	}

	var latest runReply
	getJSON(t, srv, "GET", "/api/v1/runs/latest-passed", &latest)
	if latest.Run.ID != f.browse.id {
		t.Errorf("latest-passed is %s, want the browse run %s", latest.Run.ID, f.browse.id)
	}

	// A run with nothing saved yet: a null summary, no points.
	rec := do(t, srv, "GET", "/api/v1/runs/latest", "", nil)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("GET /api/v1/runs/latest: %d %v", rec.Code, err)
	}
	if string(raw["summary"]) != "null" || string(raw["history"]) != `{"points":[]}` || !strings.Contains(string(raw["run"]), f.running) {
		t.Errorf("the running run: summary %s, history %s, run %s", raw["summary"], raw["history"], raw["run"])
	}
}

// jsonEqual compares a decoded value with what it was decoded from, by
// their JSON.
func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return bytes.Equal(ja, jb)
}

func TestRunRefErrors(t *testing.T) {
	t.Parallel()
	f := newRunsFixture(t)
	srv := New(Options{Runs: f.store})
	unknown := "ffff"
	if strings.HasPrefix(f.passed.id, unknown) || strings.HasPrefix(f.failed.id, unknown) ||
		strings.HasPrefix(f.browse.id, unknown) || strings.HasPrefix(f.running, unknown) {
		unknown = "0000" // ids are random: pick a prefix none has
	}
	for _, path := range []string{"/api/v1/runs/" + unknown, "/api/v1/runs/" + unknown + "/histograms",
		"/api/v1/runs/compare?other=latest&base=" + unknown} {
		var e refErrorReply
		code := getJSON(t, srv, "GET", path, &e)
		if code != http.StatusNotFound || !strings.Contains(e.Error, `no run matches "`+unknown+`"`) || len(e.Candidates) != 4 || e.Candidates[0].ID != f.running {
			t.Errorf("GET %s: %d %q with %d candidates; want 404 naming the ref, the 4 runs newest first", path, code, e.Error, len(e.Candidates))
		}
	}
	var e refErrorReply
	if code := getJSON(t, srv, "GET", "/api/v1/runs/latest?script=nothing.star", &e); code != http.StatusNotFound || len(e.Candidates) != 0 ||
		!strings.Contains(e.Error, `script "nothing.star"`) {
		t.Errorf("latest of a script without runs: %d %+v", code, e)
	}
	for _, ref := range []string{"abc", "xyz123", "latest-failed", strings.Repeat("a", 40)} {
		var e apiError
		code := getJSON(t, srv, "GET", "/api/v1/runs/"+ref, &e)
		if code != http.StatusBadRequest || !strings.Contains(e.Error, "run reference") || strings.Contains(e.Error, "runstore:") {
			t.Errorf("GET /api/v1/runs/%s: %d %q, want 400 saying what a reference is", ref, code, e.Error)
		}
	}
}

// refusingRuns is a store whose every answer is the error err.
type refusingRuns struct{ err error }

func (r refusingRuns) List(context.Context, runstore.Filter) ([]runstore.Run, error) {
	return nil, r.err
}
func (r refusingRuns) Resolve(context.Context, string, string) (runstore.Run, error) {
	return runstore.Run{}, r.err
}
func (r refusingRuns) Get(context.Context, string) (runstore.Record, error) {
	return runstore.Record{}, r.err
}
func (r refusingRuns) Delete(context.Context, string) error { return r.err }

func TestRunStoreErrors(t *testing.T) {
	t.Parallel()
	// An ambiguous prefix needs two runs that share 4 random hex digits:
	// the store's error is given here instead.
	two := []runstore.Run{{ID: "abcd0000aaaa1111", Status: runstore.StatusPassed}, {ID: "abcd1111bbbb2222", Status: runstore.StatusFailed}}
	for _, tc := range []struct {
		err  error
		code int
		want string
	}{
		{&runstore.RefError{Ref: "abcd", Ambiguous: true, Candidates: two}, http.StatusBadRequest, `run reference "abcd" matches 2 runs`},
		{context.DeadlineExceeded, http.StatusServiceUnavailable, "the run store did not answer within 15s"},
		{errors.New("runstore: list runs: database is locked"), http.StatusInternalServerError, "run store: list runs: database is locked"},
	} {
		srv := New(Options{Runs: refusingRuns{tc.err}})
		for _, path := range []string{"/api/v1/runs", "/api/v1/runs/abcd"} {
			if _, ok := tc.err.(*runstore.RefError); ok && path == "/api/v1/runs" {
				continue
			}
			var e refErrorReply
			code := getJSON(t, srv, "GET", path, &e)
			if code != tc.code || !strings.Contains(e.Error, tc.want) {
				t.Errorf("GET %s when the store says %v: %d %q, want %d %q", path, tc.err, code, e.Error, tc.code, tc.want)
			}
			if tc.code == http.StatusBadRequest && (len(e.Candidates) != 2 || e.Candidates[1].ID != two[1].ID) {
				t.Errorf("ambiguous: candidates %+v", e.Candidates)
			}
		}
	}
}

func TestRunHistograms(t *testing.T) {
	t.Parallel()
	f := newRunsFixture(t)
	srv := New(Options{Runs: f.store})
	var got struct {
		ID         string                    `json:"id"`
		Histograms []stats.EndpointHistogram `json:"histograms"`
	}
	if code := getJSON(t, srv, "GET", "/api/v1/runs/"+f.passed.id[:8]+"/histograms", &got); code != http.StatusOK {
		t.Fatalf("%d", code)
	}
	if got.ID != f.passed.id || len(got.Histograms) != 3 {
		t.Fatalf("run %s, %d histograms; want %s with GET /, POST /login and the aggregated row", got.ID, len(got.Histograms), f.passed.id)
	}
	// The stored histograms recompute the summary's percentiles.
	total := got.Histograms[2]
	h, err := stats.HistogramFromData(total.Data)
	if err != nil {
		t.Fatal(err)
	}
	if total.Name != stats.TotalName || h.Count() != 550 || math.Abs(h.Quantile(0.95)/1000-f.passed.summary.Totals.Latency.P95) > 0.001 {
		t.Errorf("the aggregated histogram %q: %d samples, p95 %.3f ms; the summary says %d requests, p95 %.3f ms",
			total.Name, h.Count(), h.Quantile(0.95)/1000, f.passed.summary.Totals.Requests, f.passed.summary.Totals.Latency.P95)
	}
}

func TestRunDelete(t *testing.T) {
	t.Parallel()
	f := newRunsFixture(t)
	srv := New(Options{Runs: f.store})

	var del struct{ Deleted string }
	if code := getJSON(t, srv, "DELETE", "/api/v1/runs/"+f.failed.id[:5], &del); code != http.StatusOK || del.Deleted != f.failed.id {
		t.Fatalf("DELETE by prefix: %d %+v", code, del)
	}
	var e apiError
	if code := getJSON(t, srv, "GET", "/api/v1/runs/"+f.failed.id, &e); code != http.StatusNotFound {
		t.Errorf("the deleted run opens: %d", code)
	}
	if ids, _ := listIDs(t, srv, ""); slices.Contains(ids, f.failed.id) || len(ids) != 3 {
		t.Errorf("after the delete the list is %v", ids)
	}

	// A running run stays: its owner would write it again.
	if code := getJSON(t, srv, "DELETE", "/api/v1/runs/"+f.running, &e); code != http.StatusConflict || !strings.Contains(e.Error, "still running") {
		t.Errorf("DELETE of a running run: %d %q, want 409", code, e.Error)
	}
	if ids, _ := listIDs(t, srv, ""); !slices.Contains(ids, f.running) {
		t.Errorf("the running run was deleted")
	}
	if code := getJSON(t, srv, "GET", "/api/v1/runs/"+f.failed.id+"x", &e); code != http.StatusBadRequest {
		t.Errorf("a reference with a non-hex letter: %d", code)
	}
}

// compareReply decodes GET /api/v1/runs/compare with the histories typed.
type compareReply struct {
	Base struct {
		Run     report.StoredRun `json:"run"`
		History report.History   `json:"history"`
	} `json:"base"`
	Other struct {
		Run     report.StoredRun `json:"run"`
		History report.History   `json:"history"`
	} `json:"other"`
	Comparison report.Comparison `json:"comparison"`
	Warnings   []string          `json:"warnings"`
}

// TestRunsCompare stores a run, then the same load with the server 40 ms
// slower on GET /: the comparison shows that endpoint's percentiles
// higher by 40 ms (within the histograms' error), worse, and the rest
// the same.
func TestRunsCompare(t *testing.T) {
	t.Parallel()
	st := openRunStore(t, nil)
	const added = 40 * time.Millisecond
	base := recordRun(t, st, runstore.Info{Started: epoch, Script: "s.star"}, runstore.StatusPassed, 6, steady)
	other := recordRun(t, st, runstore.Info{Started: epoch.Add(time.Hour), Script: "s.star"}, runstore.StatusPassed, 4, func(ctl *fakeControl) {
		ctl.loadSpread("GET", "/", 100, 0, 5*time.Millisecond+added, 25*time.Millisecond+added)
		ctl.loadSpread("POST", "/login", 10, 0, 40*time.Millisecond, 60*time.Millisecond)
		ctl.loadSpread("GET", "/new", 5, 0, time.Millisecond, 2*time.Millisecond)
	})
	srv := New(Options{Runs: st})

	var c compareReply
	if code := getJSON(t, srv, "GET", "/api/v1/runs/compare?base="+base.id[:6]+"&other=latest", &c); code != http.StatusOK {
		t.Fatalf("compare: %d", code)
	}
	if c.Base.Run.ID != base.id || c.Other.Run.ID != other.id || len(c.Base.History.Points) != 6 || len(c.Other.History.Points) != 4 {
		t.Fatalf("compared %s (%d points) with %s (%d points)", c.Base.Run.ID, len(c.Base.History.Points), c.Other.Run.ID, len(c.Other.History.Points))
	}
	if !jsonEqual(t, c.Comparison, report.Compare(base.summary, other.summary)) {
		t.Errorf("the comparison is not report.Compare of the stored summaries")
	}
	cmp := c.Comparison
	if len(cmp.Endpoints) != 2 || cmp.Endpoints[0].Name != "/" || cmp.Endpoints[1].Name != "/login" ||
		len(cmp.OnlyOther) != 1 || cmp.OnlyOther[0].Name != "/new" || len(cmp.OnlyBase) != 0 {
		t.Fatalf("endpoints %+v, only in other %+v", cmp.Endpoints, cmp.OnlyOther)
	}
	slow, login := cmp.Endpoints[0], cmp.Endpoints[1]
	addedMs := float64(added) / float64(time.Millisecond)
	for name, d := range map[string]report.Delta{"p50": slow.Latency.P50, "p90": slow.Latency.P90, "p95": slow.Latency.P95, "p99": slow.Latency.P99, "max": slow.Latency.Max} {
		// Each run's percentile is within the histograms' relative error
		// (and the summary's µs rounding) of the exact one.
		bound := stats.MaxRelativeError*(d.Base+d.Other) + 0.001
		if math.Abs(d.Diff-addedMs) > bound || d.Direction != report.Worse {
			t.Errorf("GET / %s: %s, want +%v ms (±%.3f) and worse", name, deltaText(d), addedMs, bound)
		}
	}
	if d := slow.Latency.Avg; math.Abs(d.Diff-addedMs) > 0.001 {
		t.Errorf("GET / avg: %s, want exactly +%v ms", deltaText(d), addedMs)
	}
	if login.Latency.P95.Direction != report.Same || login.RPS.Direction != report.Same || slow.RPS.Direction != report.Same {
		t.Errorf("unchanged figures: login p95 %s, login rps %s, GET / rps %s; want same", deltaText(login.Latency.P95), deltaText(login.RPS), deltaText(slow.RPS))
	}
	// Four seconds against six: fewer requests, at a higher rate (GET /new).
	if r := cmp.Totals.Requests; r.Direction != report.Worse || r.Diff != -200 || cmp.DurationS.Diff != -2 ||
		cmp.Totals.RPS.Direction != report.Better || cmp.Totals.RPS.Diff != 5 {
		t.Errorf("totals: requests %s, duration %s, rps %s", deltaText(r), deltaText(cmp.DurationS), deltaText(cmp.Totals.RPS))
	}
}

func deltaText(d report.Delta) string {
	b, _ := json.Marshal(d)
	return string(b)
}

func TestRunsCompareErrors(t *testing.T) {
	t.Parallel()
	f := newRunsFixture(t)
	srv := New(Options{Runs: f.store})
	for _, tc := range []struct {
		query string
		code  int
		want  string
	}{
		{"?base=" + f.passed.id, http.StatusBadRequest, "compare needs ?base=RUN&other=RUN"},
		{"?other=latest", http.StatusBadRequest, "compare needs"},
		{"?base=latest-passed&other=" + f.running, http.StatusConflict, "other run " + f.running + " has no summary yet: it is running"},
		{"?base=zz&other=latest", http.StatusBadRequest, "run reference"},
		{"?base=latest&other=latest&with=x", http.StatusBadRequest, `unknown parameter "with"`},
	} {
		var e apiError
		if code := getJSON(t, srv, "GET", "/api/v1/runs/compare"+tc.query, &e); code != tc.code || !strings.Contains(e.Error, tc.want) {
			t.Errorf("compare%s: %d %q, want %d %q", tc.query, code, e.Error, tc.code, tc.want)
		}
	}
	// script= limits both references to one script's runs.
	var c compareReply
	q := url.Values{"base": {f.passed.id}, "other": {"latest-passed"}, "script": {"checkout.star"}}
	if code := getJSON(t, srv, "GET", "/api/v1/runs/compare?"+q.Encode(), &c); code != http.StatusOK || c.Other.Run.ID != f.passed.id {
		t.Errorf("compare with latest-passed of checkout.star: %d, other %s, want %s", code, c.Other.Run.ID, f.passed.id)
	}
}

func TestRunsOff(t *testing.T) {
	t.Parallel()
	var none *runstore.Store // as a caller without --store might pass it
	for _, o := range []Options{{}, {Runs: none}} {
		srv := New(o)
		for _, r := range []struct{ method, path string }{
			{"GET", "/api/v1/runs"}, {"GET", "/api/v1/runs/latest"}, {"GET", "/api/v1/runs/latest/histograms"},
			{"GET", "/api/v1/runs/compare?base=latest&other=latest"}, {"DELETE", "/api/v1/runs/latest"},
		} {
			var e apiError
			if code := getJSON(t, srv, r.method, r.path, &e); code != http.StatusNotFound || !strings.Contains(e.Error, "run history is off") {
				t.Errorf("%s %s without a store: %d %q, want 404 saying run history is off", r.method, r.path, code, e.Error)
			}
		}
	}
}

func TestRunsNeedAuth(t *testing.T) {
	t.Parallel()
	f := newRunsFixture(t)
	srv := New(Options{Runs: f.store, Auth: "s3cret"})
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/v1/runs"}, {"GET", "/api/v1/runs/latest"}, {"DELETE", "/api/v1/runs/" + f.passed.id},
		{"GET", "/api/v1/runs/compare?base=latest-passed&other=latest-passed"},
	} {
		if rec := do(t, srv, r.method, r.path, "", nil); rec.Code != http.StatusUnauthorized {
			t.Errorf("%s %s without the token: %d", r.method, r.path, rec.Code)
		}
		if rec := do(t, srv, r.method, r.path, "", map[string]string{"Authorization": "Bearer s3cret"}); rec.Code != http.StatusOK {
			t.Errorf("%s %s with the token: %d %s", r.method, r.path, rec.Code, rec.Body)
		}
	}
}

// TestRunsMethods: wrong methods get 405 with Allow, as the other routes.
func TestRunsMethods(t *testing.T) {
	t.Parallel()
	srv := New(Options{Runs: openRunStore(t, nil)})
	for _, r := range []struct{ method, path string }{{"POST", "/api/v1/runs"}, {"PUT", "/api/v1/runs/latest"}, {"DELETE", "/api/v1/runs"}} {
		rec := do(t, srv, r.method, r.path, "", nil)
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") == "" {
			t.Errorf("%s %s: %d, Allow %q", r.method, r.path, rec.Code, rec.Header().Get("Allow"))
		}
	}
}
