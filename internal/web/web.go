// Package web serves the master's HTTP API: Locust's GET /stats/requests
// JSON, key for key, so that Locust exporters, dashboards and KEDA scalers
// work unchanged, and the /healthz and /readyz probes.
//
// It holds no test state of its own: every response is built from a
// Source (package master implements it) at the time of the request. It is
// not the UI, the SSE stream or /metrics (later parts add them), and it
// does not listen: callers mount the handler New returns on their server.
package web

import (
	"bytes"
	"log/slog"
	"net/http"
	"time"

	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/stats"
)

// Source is what the web API reads; package master implements it. Both
// methods must be safe for concurrent use: every request calls them.
type Source interface {
	// Snapshot returns the statistics at now.
	Snapshot(now time.Time) stats.Snapshot
	// Status returns the state of the test and of the workers.
	Status() master.Status
}

// Readiness is an optional capability of a Source: Ready returns nil when
// the master can accept workers and tests, or the reason it cannot, which
// /readyz reports with 503. A Source without it is ready as soon as it
// exists.
type Readiness interface {
	Ready() error
}

// Options configure New. Only Source is needed to serve statistics.
type Options struct {
	// Source provides statistics and status; nil serves only the probes,
	// with /readyz answering 503.
	Source Source
	// Logger receives response-writing failures; nil discards them.
	Logger *slog.Logger
	// Now is the clock the snapshots are taken at; nil means time.Now.
	Now func() time.Time
}

// server holds the handlers' dependencies.
type server struct {
	src Source
	log *slog.Logger
	now func() time.Time
}

// New returns the API's handler: a net/http ServeMux with method patterns,
// wrapped so that unknown routes (404) and wrong methods (405) answer with
// a short JSON error.
func New(o Options) http.Handler {
	s := &server{src: o.Source, log: o.Logger, now: o.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats/requests", s.statsRequests)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	return &router{mux: mux, srv: s}
}

// statsRequests serves Locust's /stats/requests.
func (s *server) statsRequests(w http.ResponseWriter, r *http.Request) {
	if s.src == nil {
		s.writeError(w, http.StatusServiceUnavailable, "the master is not ready")
		return
	}
	report := locustReportOf(s.src.Snapshot(s.now()), s.src.Status())
	// Locust enables CORS: dashboards read this route cross-origin. Only
	// this route, and it is read-only, so "*" lends nothing to an attacker.
	w.Header().Set("Access-Control-Allow-Origin", "*")
	s.writeJSON(w, http.StatusOK, report)
}

// healthz answers 200 while the process serves: a liveness probe.
func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	s.writeText(w, http.StatusOK, "ok")
}

// readyz answers 200 when the master can accept workers and tests, else
// 503 with the reason: a readiness probe.
func (s *server) readyz(w http.ResponseWriter, _ *http.Request) {
	if s.src == nil {
		s.writeText(w, http.StatusServiceUnavailable, "not ready: no master")
		return
	}
	if rd, ok := s.src.(Readiness); ok {
		if err := rd.Ready(); err != nil {
			s.writeText(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
			return
		}
	}
	s.writeText(w, http.StatusOK, "ok")
}

func (s *server) writeText(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if _, err := w.Write([]byte(msg + "\n")); err != nil {
		s.log.Debug("web: writing response", "err", err)
	}
}

// router lets the mux route and, when it finds no route, lets the mux
// tell 404 from 405 (it knows which methods a path allows) and then
// answers in JSON instead of the mux's plain text.
type router struct {
	mux *http.ServeMux
	srv *server
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := rt.mux.Handler(r)
	if pattern != "" {
		rt.mux.ServeHTTP(w, r)
		return
	}
	rec := &recorder{header: http.Header{}, code: http.StatusOK}
	h.ServeHTTP(rec, r)
	switch rec.code {
	case http.StatusNotFound:
		rt.srv.writeError(w, rec.code, "not found")
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.header.Get("Allow"))
		rt.srv.writeError(w, rec.code, "method not allowed")
	default: // e.g. the mux's redirect of an unclean path: pass it on
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.code)
		_, _ = w.Write(rec.body.Bytes())
	}
}

// recorder captures what the mux's own fallback handlers write.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(code int)        { r.code = code }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
