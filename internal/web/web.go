// Package web serves the master's HTTP API (docs/api.md): the versioned
// JSON routes under /api/v1/, the live SSE stream, Prometheus /metrics,
// the downloads (CSV, JSON and HTML reports), the /healthz and /readyz
// probes, the run history (stored runs listed, opened, compared and
// deleted, when Options.Runs is set), and the Locust-compatible subset
// (POST /swarm, GET /stop, GET /stats/reset, GET /stats/requests key for
// key, the CSV downloads and /stats/report) so that Locust exporters,
// KEDA scalers and scripts work unchanged.
//
// It holds no test state of its own: every response is built from a
// Source (package master implements it) at the time of the request, and
// every change goes to a Controller. It is not the browser UI (package
// webui serves that; it is mounted here as Options.UI) and it does not
// listen: callers mount the Server New returns on their http.Server.
package web

import (
	"bytes"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/report"
	"github.com/horde-load/horde/internal/runstore"
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

// Controller is a Source that can also start, edit and stop tests;
// *master.Master implements it. Its methods must be safe for concurrent
// use and must not block for long: Stop and ResetStats act in the
// background.
type Controller interface {
	Source
	// Start starts a test, or edits the running one. An error wrapping
	// master.ErrBadParams is the client's fault (400).
	Start(p master.TestParams) error
	// Stop stops the test; users finish their task for the stop timeout.
	// The channel is closed when the workers' last statistics are in;
	// the API does not wait for it.
	Stop() <-chan struct{}
	// ResetStats clears the statistics and the history; the test goes on.
	ResetStats()
}

// Readiness is an optional capability of a Source: Ready returns nil when
// the master can accept workers and tests, or the reason it cannot, which
// /readyz reports with 503. A Source without it is ready as soon as it
// exists.
type Readiness interface {
	Ready() error
}

var _ Controller = (*master.Master)(nil)

// Options configure New. All fields are optional; with neither Source nor
// Control the server answers only the probes (and /readyz says 503).
type Options struct {
	// Source provides statistics and status. When nil, Control is used.
	Source Source
	// Control starts, edits, stops and resets tests; nil makes those
	// routes answer 503 (a read-only API).
	Control Controller
	// Runs is the run history (/api/v1/runs...): stored runs to list,
	// open, compare and delete; a *runstore.Store. Nil turns those routes
	// into a 404 that says run history is off.
	Runs Runs
	// UI serves the browser UI: GET / and every path the API does not
	// route, except under /api/. Nil answers those with a JSON 404.
	UI http.Handler
	// Auth protects every route but /healthz and /readyz: "user:pass" asks
	// for HTTP Basic credentials; anything without a colon is a bearer
	// token (Authorization: Bearer <token>, or Basic with any user name
	// and the token as password, so a browser can log in too); "" turns
	// authentication off.
	Auth string
	// Meta returns what the summary needs beyond the statistics and the
	// status: peak users, thresholds, dropped iterations. It is called on
	// every request and stream tick, so it must be cheap and safe for
	// concurrent use. Empty fields are filled from the status (see
	// Server.meta); nil means all of them.
	Meta func() report.Meta
	// Logger receives response-writing failures; nil discards them.
	Logger *slog.Logger
	// Now is the clock the snapshots are taken at; nil means time.Now.
	Now func() time.Time
	// NewTicker makes the stream's once-a-second ticker and returns its
	// channel and its stop function; nil means a time.Ticker. Tests pass
	// a channel they tick by hand.
	NewTicker func(d time.Duration) (<-chan time.Time, func())
}

// Server is the API's handler: a net/http ServeMux with method patterns,
// behind authentication, that answers unknown API routes (404) and wrong
// methods (405) with a short JSON error and hands every other unknown path
// to the UI.
type Server struct {
	src     Source
	ctl     Controller
	runs    Runs
	ui      http.Handler
	auth    *authenticator
	metaFn  func() report.Meta
	log     *slog.Logger
	now     func() time.Time
	mux     *http.ServeMux
	hub     *hub
	metrics http.Handler
	close   sync.Once
}

// New returns the API's handler. Call Close when the http.Server shuts
// down (e.g. with RegisterOnShutdown): it ends the open event streams,
// which would otherwise keep Shutdown waiting.
func New(o Options) *Server {
	s := &Server{src: o.Source, ctl: o.Control, runs: o.Runs, ui: o.UI, auth: newAuthenticator(o.Auth),
		metaFn: o.Meta, log: o.Logger, now: o.Now}
	if s.src == nil && s.ctl != nil {
		s.src = s.ctl
	}
	if st, ok := s.runs.(*runstore.Store); ok && st == nil {
		s.runs = nil // a nil store in the interface: no run history
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.hub = newHub(s, o.NewTicker)
	s.metrics = newMetricsHandler(s)
	s.mux = http.NewServeMux()
	s.routes()
	return s
}

// routes registers every route of docs/api.md but the UI's.
func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /readyz", s.readyz)
	m.Handle("GET /metrics", s.metrics)

	m.HandleFunc("GET /api/v1/stats", s.needSource(s.apiStats))
	m.HandleFunc("GET /api/v1/history", s.needSource(s.apiHistory))
	m.HandleFunc("GET /api/v1/workers", s.needSource(s.apiWorkers))
	m.HandleFunc("GET /api/v1/errors", s.needSource(s.apiErrors))
	m.HandleFunc("GET /api/v1/stream", s.needSource(s.stream))
	m.HandleFunc("POST /api/v1/test", s.needControl(s.apiTest))
	m.HandleFunc("POST /api/v1/stop", s.needControl(s.apiStop))
	m.HandleFunc("POST /api/v1/reset", s.needControl(s.apiReset))
	s.downloadRoutes()
	s.runRoutes()

	m.HandleFunc("GET /stats/requests", s.needSource(s.statsRequests))
	m.HandleFunc("POST /swarm", s.swarm)
	m.HandleFunc("GET /stop", s.needControl(s.locustStop))
	m.HandleFunc("GET /stats/reset", s.needControl(s.locustReset))
}

// Close ends the open event streams and refuses new ones. It is safe to
// call more than once and concurrently with requests.
func (s *Server) Close() {
	s.close.Do(s.hub.close)
}

// ServeHTTP checks the credentials, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !isProbe(r.URL.Path) && !s.auth.allows(r) {
		s.auth.challenge(w)
		s.writeError(w, http.StatusUnauthorized, "unauthorized: give the --web-auth credentials")
		return
	}
	if _, pattern := s.mux.Handler(r); pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	s.unrouted(w, r)
}

// isProbe tells the routes that stay open without credentials: a
// Kubernetes probe carries none.
func isProbe(path string) bool { return path == "/healthz" || path == "/readyz" }

// unrouted lets the mux tell 404 from 405 (it knows which methods a path
// allows), answers those in JSON, and hands what the API does not know to
// the UI.
func (s *Server) unrouted(w http.ResponseWriter, r *http.Request) {
	h, _ := s.mux.Handler(r)
	rec := &recorder{header: http.Header{}, code: http.StatusOK}
	h.ServeHTTP(rec, r)
	switch rec.code {
	case http.StatusNotFound:
		s.notFound(w, r)
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.header.Get("Allow"))
		s.writeError(w, rec.code, "method not allowed")
	default: // e.g. the mux's redirect of an unclean path: pass it on
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.code)
		_, _ = w.Write(rec.body.Bytes())
	}
}

// needSource answers 503 while there is no Source.
func (s *Server) needSource(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.src == nil {
			s.writeError(w, http.StatusServiceUnavailable, "the master is not ready")
			return
		}
		h(w, r)
	}
}

// needControl answers 503 when this server cannot change the test.
func (s *Server) needControl(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.ctl == nil {
			s.writeError(w, http.StatusServiceUnavailable, "this server cannot control tests")
			return
		}
		h(w, r)
	}
}

// healthz answers 200 while the process serves: a liveness probe.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	s.writeText(w, http.StatusOK, "ok")
}

// readyz answers 200 when the master can accept workers and tests, else
// 503 with the reason: a readiness probe.
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
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

func (s *Server) writeText(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if _, err := w.Write([]byte(msg + "\n")); err != nil {
		s.log.Debug("web: writing response", "err", err)
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
