package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/horde-load/horde/internal/report"
	"github.com/horde-load/horde/internal/runstore"
)

// This file serves the run history (docs/api.md, "Run history"): the
// stored runs listed, opened, compared and deleted, under /api/v1/runs.

// Runs is the run store as the web API reads it: listing, resolving a
// reference, opening a run with its blobs, deleting one.
// *runstore.Store implements it.
type Runs interface {
	runstore.Reader
	// Delete removes the run with this exact id; a running run is
	// refused with runstore.ErrRunning.
	Delete(ctx context.Context, id string) error
}

// runCounter is an optional capability of Runs: how many runs a filter
// selects, so that a list can say how many pages there are.
type runCounter interface {
	Count(ctx context.Context, f runstore.Filter) (int, error)
}

var (
	_ Runs       = (*runstore.Store)(nil)
	_ runCounter = (*runstore.Store)(nil)
)

const (
	// defaultRunLimit is how many runs a list returns without ?limit=,
	// maxRunLimit the most it may ask for.
	defaultRunLimit = 100
	maxRunLimit     = 1000
	// runsTimeout bounds each request's work on the store: a PostgreSQL
	// server that stopped answering gets a 503, not a hung page.
	runsTimeout = 15 * time.Second
)

// runRoutes registers the run history's routes. "compare" is a literal,
// so it wins over {ref} (it is not a run reference anyway).
func (s *Server) runRoutes() {
	m := s.mux
	m.HandleFunc("GET /api/v1/runs", s.needRuns(s.apiRuns))
	m.HandleFunc("GET /api/v1/runs/compare", s.needRuns(s.apiCompareRuns))
	m.HandleFunc("GET /api/v1/runs/{ref}", s.needRuns(s.apiRun))
	m.HandleFunc("GET /api/v1/runs/{ref}/histograms", s.needRuns(s.apiRunHistograms))
	m.HandleFunc("DELETE /api/v1/runs/{ref}", s.needRuns(s.apiDeleteRun))
}

// needRuns answers 404 when this server keeps no run history, and bounds
// the handler's time on the store.
func (s *Server) needRuns(h func(ctx context.Context, w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.runs == nil {
			s.writeError(w, http.StatusNotFound, "run history is off: this master has no run store (--store)")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), runsTimeout)
		defer cancel()
		h(ctx, w, r)
	}
}

func runsOf(rs []runstore.Run) []report.StoredRun {
	out := make([]report.StoredRun, 0, len(rs))
	for _, r := range rs {
		out = append(out, report.StoredRunOf(r))
	}
	return out
}

// runList is the body of GET /api/v1/runs.
type runList struct {
	Runs []report.StoredRun `json:"runs"`
	// Total is how many runs the filter selects, all pages together.
	Total  int `json:"total"`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}

// apiRuns lists the runs a filter selects.
func (s *Server) apiRuns(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	f, err := runFilter(r.URL.Query())
	if err != nil {
		s.writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	runs, err := s.runs.List(ctx, f)
	if err != nil {
		s.storeError(w, err)
		return
	}
	// A short page tells the total; a full one, or none past an offset,
	// needs the store to count.
	total := f.Offset + len(runs)
	if c, ok := s.runs.(runCounter); ok && (len(runs) == f.Limit || len(runs) == 0 && f.Offset > 0) {
		if total, err = c.Count(ctx, f); err != nil {
			s.storeError(w, err)
			return
		}
	}
	s.writeJSON(w, http.StatusOK, runList{Runs: runsOf(runs), Total: total, Limit: f.Limit, Offset: f.Offset})
}

// runListParams are the query parameters of GET /api/v1/runs.
var runListParams = []string{"script", "label", "status", "sort", "asc", "limit", "offset"}

// runFilter reads the list's query: script=NAME, label=k=v (repeated:
// every one), status=passed,failed (or repeated: any of them),
// sort=started|requests|failures|rps|p95|duration, asc=true, limit
// (1–1000, default 100) and offset.
func runFilter(q url.Values) (runstore.Filter, error) {
	f := runstore.Filter{Script: strings.TrimSpace(q.Get("script")), Limit: defaultRunLimit}
	for k := range q {
		if !contains(runListParams, k) {
			return f, fmt.Errorf("unknown parameter %q (the list takes %s)", k, strings.Join(runListParams, ", "))
		}
	}
	for _, l := range q["label"] {
		k, v, err := runstore.ParseLabel(strings.TrimSpace(l))
		if err != nil {
			return f, storeText(err)
		}
		if f.Labels == nil {
			f.Labels = map[string]string{}
		}
		f.Labels[k] = v
	}
	for _, list := range q["status"] {
		for _, st := range strings.Split(list, ",") {
			st = strings.ToLower(strings.TrimSpace(st))
			if st == "" {
				continue
			}
			if !runstore.Status(st).Valid() {
				return f, fmt.Errorf("status %q: want running, passed, failed or aborted", st)
			}
			f.Status = append(f.Status, runstore.Status(st))
		}
	}
	var err error
	if f.Sort, err = runstore.ParseSortKey(q.Get("sort")); err != nil {
		return f, storeText(err)
	}
	if a := q.Get("asc"); a != "" {
		if f.Ascending, err = strconv.ParseBool(a); err != nil {
			return f, fmt.Errorf("asc=%q: want true or false", a)
		}
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxRunLimit {
			return f, fmt.Errorf("limit=%q: want a whole number from 1 to %d", l, maxRunLimit)
		}
		f.Limit = n
	}
	if o := q.Get("offset"); o != "" {
		n, err := strconv.Atoi(o)
		if err != nil || n < 0 {
			return f, fmt.Errorf("offset=%q: want a whole number, 0 or more", o)
		}
		f.Offset = n
	}
	return f, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// runDetail is the body of GET /api/v1/runs/{ref}: the run, its summary
// (the --json summary; null until the run's first checkpoint) and its
// history (GET /api/v1/history's shape).
type runDetail struct {
	Run     report.StoredRun `json:"run"`
	Summary json.RawMessage  `json:"summary"`
	History json.RawMessage  `json:"history"`
	// Warnings say what of the stored run could not be read.
	Warnings []string `json:"warnings"`
}

// apiRun opens a run.
func (s *Server) apiRun(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	rec, ok := s.openRun(ctx, w, r.PathValue("ref"), r.URL.Query().Get("script"))
	if !ok {
		return
	}
	d := runDetail{Run: report.StoredRunOf(rec.Run), Warnings: []string{}}
	d.Summary = s.blob(&d.Warnings, rec.ID, "summary", rec.Summary, "null")
	d.History = s.blob(&d.Warnings, rec.ID, "history", rec.History, `{"points":[]}`)
	s.writeJSON(w, http.StatusOK, d)
}

// blob returns a stored JSON blob as it is, or empty when there is none
// or it is not JSON (saying so in warnings).
func (s *Server) blob(warnings *[]string, id, what string, b []byte, empty string) json.RawMessage {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return json.RawMessage(empty)
	case !json.Valid(b):
		s.log.Error("web: a stored run's blob is not JSON", "run", id, "blob", what)
		*warnings = append(*warnings, "the stored "+what+" is not JSON; it is left out")
		return json.RawMessage(empty)
	}
	return json.RawMessage(b)
}

// apiRunHistograms serves a run's final latency histograms: a list of
// stats.EndpointHistogram, the aggregated row last.
func (s *Server) apiRunHistograms(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	rec, ok := s.openRun(ctx, w, r.PathValue("ref"), r.URL.Query().Get("script"))
	if !ok {
		return
	}
	var warnings []string
	h := s.blob(&warnings, rec.ID, "histograms", rec.Histograms, "[]")
	s.writeJSON(w, http.StatusOK, struct {
		ID         string          `json:"id"`
		Histograms json.RawMessage `json:"histograms"`
	}{rec.ID, h})
}

// apiDeleteRun deletes a finished run.
func (s *Server) apiDeleteRun(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	run, ok := s.resolveRun(ctx, w, r.PathValue("ref"), r.URL.Query().Get("script"))
	if !ok {
		return
	}
	if err := s.runs.Delete(ctx, run.ID); err != nil {
		s.storeError(w, err)
		return
	}
	s.writeJSON(w, http.StatusOK, struct {
		Deleted string `json:"deleted"`
	}{run.ID})
}

// compareSide is one run of a comparison, with its history for the
// overlaid charts.
type compareSide struct {
	Run     report.StoredRun `json:"run"`
	History json.RawMessage  `json:"history"`
}

// runComparison is the body of GET /api/v1/runs/compare.
type runComparison struct {
	Base       compareSide       `json:"base"`
	Other      compareSide       `json:"other"`
	Comparison report.Comparison `json:"comparison"`
	Warnings   []string          `json:"warnings"`
}

// apiCompareRuns compares ?other= with ?base=.
func (s *Server) apiCompareRuns(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k := range q {
		if k != "base" && k != "other" && k != "script" {
			s.writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown parameter %q (compare takes base, other and script)", k))
			return
		}
	}
	var recs [2]runstore.Record
	var sums [2]report.Summary
	for i, side := range []string{"base", "other"} {
		ref := q.Get(side)
		if ref == "" {
			s.writeError(w, http.StatusBadRequest, "compare needs ?base=RUN&other=RUN (run ids, id prefixes, latest or latest-passed)")
			return
		}
		rec, ok := s.openRun(ctx, w, ref, q.Get("script"))
		if !ok {
			return
		}
		if len(bytes.TrimSpace(rec.Summary)) == 0 {
			s.writeError(w, http.StatusConflict, fmt.Sprintf("%s run %s has no summary yet: it is %s and has not saved one", side, rec.ID, rec.Status))
			return
		}
		if err := json.Unmarshal(rec.Summary, &sums[i]); err != nil {
			s.log.Error("web: a stored summary does not decode", "run", rec.ID, "err", err)
			s.writeError(w, http.StatusInternalServerError, fmt.Sprintf("%s run %s: its stored summary does not decode: %v", side, rec.ID, err))
			return
		}
		recs[i] = rec
	}
	c := runComparison{Comparison: report.Compare(sums[0], sums[1]), Warnings: []string{}}
	c.Base = compareSide{Run: report.StoredRunOf(recs[0].Run), History: s.blob(&c.Warnings, recs[0].ID, "history", recs[0].History, `{"points":[]}`)}
	c.Other = compareSide{Run: report.StoredRunOf(recs[1].Run), History: s.blob(&c.Warnings, recs[1].ID, "history", recs[1].History, `{"points":[]}`)}
	s.writeJSON(w, http.StatusOK, c)
}

// resolveRun finds the run ref names, or answers the error and returns
// false.
func (s *Server) resolveRun(ctx context.Context, w http.ResponseWriter, ref, script string) (runstore.Run, bool) {
	if _, err := runstore.ParseRef(ref); err != nil {
		s.writeError(w, http.StatusBadRequest, storeText(err).Error())
		return runstore.Run{}, false
	}
	run, err := s.runs.Resolve(ctx, ref, strings.TrimSpace(script))
	if err != nil {
		s.storeError(w, err)
		return runstore.Run{}, false
	}
	return run, true
}

// openRun resolves ref and reads the run with its blobs.
func (s *Server) openRun(ctx context.Context, w http.ResponseWriter, ref, script string) (runstore.Record, bool) {
	run, ok := s.resolveRun(ctx, w, ref, script)
	if !ok {
		return runstore.Record{}, false
	}
	rec, err := s.runs.Get(ctx, run.ID)
	if err != nil {
		s.storeError(w, err)
		return runstore.Record{}, false
	}
	return rec, true
}

// refErrorReply is the body of a reference that names no run, or
// several: the error and the runs the user may have meant.
type refErrorReply struct {
	Error      string             `json:"error"`
	Candidates []report.StoredRun `json:"candidates"`
}

// storeError answers an error of the store: 404 for no such run (with
// candidates when the store gave some), 400 for an ambiguous prefix, 409
// for deleting a running run, 503 when the store did not answer in time,
// 500 for the rest.
func (s *Server) storeError(w http.ResponseWriter, err error) {
	var re *runstore.RefError
	switch {
	case errors.As(err, &re):
		code := http.StatusNotFound
		if re.Ambiguous {
			code = http.StatusBadRequest
		}
		s.writeJSON(w, code, refErrorReply{Error: err.Error(), Candidates: runsOf(re.Candidates)})
	case errors.Is(err, runstore.ErrNotFound):
		s.writeError(w, http.StatusNotFound, storeText(err).Error())
	case errors.Is(err, runstore.ErrRunning):
		s.writeError(w, http.StatusConflict, storeText(err).Error()+": stop it first (a run is deleted once it has ended)")
	case errors.Is(err, context.DeadlineExceeded):
		s.writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("the run store did not answer within %v", runsTimeout))
	default:
		s.log.Error("web: run store", "err", err)
		s.writeError(w, http.StatusInternalServerError, "run store: "+storeText(err).Error())
	}
}

// storeText drops the "runstore: " prefix of the store's errors: the
// user asked the web API, not a package.
func storeText(err error) error {
	return errors.New(strings.ReplaceAll(err.Error(), "runstore: ", ""))
}
