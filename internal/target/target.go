// Package target is `horde target`: the tutorial's sample web app (/,
// /login, /profile) plus endpoints for exercising a load tester (delays,
// status codes, a periodic stall, sized bodies, echo of what was sent —
// form fields, files, cookies —, Basic auth, cookies, redirect chains),
// with exact per-route request counts so that a test can compare what
// horde measured with what the server served.
//
// It is a test fixture and demo, not a benchmark server: it favours exact
// counting and clear errors over raw speed.
package target

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Options configure a Server. The zero value is usable.
type Options struct {
	// Clock tells the time for the stall phases; nil means time.Now.
	Clock func() time.Time
	// Logger receives start, stop and server errors; nil discards them.
	Logger *slog.Logger
	// Version is shown on the home page and in the Server header.
	Version string
	// ShutdownTimeout is how long Serve waits for requests in flight once
	// its context ends before it closes their connections; 0 means 5 s.
	ShutdownTimeout time.Duration
	// MaxCountKeys caps the distinct "METHOD path" rows counted (random
	// paths must not grow memory without end); later new keys are counted
	// under OverflowKey. 0 means 10,000.
	MaxCountKeys int
}

// Server is the sample app and test endpoints. It is safe for concurrent
// use; one Server may serve several listeners.
type Server struct {
	clock    func() time.Time
	log      *slog.Logger
	version  string
	grace    time.Duration
	counts   *counter
	inFlight atomic.Int64
	secret   []byte // signs session tokens
	filler   []byte // the pattern /bytes repeats
	handler  http.Handler
	wire     wireCounts // connections and protocols (http2.go)
	hub      hub        // the clients of /ws/broadcast
}

// New builds a Server.
func New(opts Options) *Server {
	s := &Server{
		clock:   opts.Clock,
		log:     opts.Logger,
		version: opts.Version,
		grace:   opts.ShutdownTimeout,
		counts:  newCounter(opts.MaxCountKeys),
		secret:  make([]byte, 32),
		filler:  []byte(strings.Repeat("abcdefghijklmnopqrstuvwxyz012345", 2048)), // 64 KiB
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.grace <= 0 {
		s.grace = 5 * time.Second
	}
	rand.Read(s.secret) // never fails (crypto/rand panics rather than return short)
	s.handler = s.countRequests(s.routes())
	return s
}

// Counts returns the requests served so far per "METHOD path" (for
// example "GET /profile"), without /_horde/ requests. A request is counted
// just before its response is first written, so a client that has seen
// any of a response finds it counted; a handler that wrote nothing (its
// client went away mid-delay) is counted when it returns. Requests that
// horde cancels at the end of a test may thus be counted here and not by
// horde: compare with a tolerance of the requests in flight at stop.
func (s *Server) Counts() map[string]int64 { return s.counts.snapshot() }

// ResetCounts sets every count back to zero.
func (s *Server) ResetCounts() { s.counts.reset() }

// Serve serves HTTP on ln until ctx ends, then shuts down gracefully:
// requests in flight get up to ShutdownTimeout to finish. It returns nil
// after a shutdown, or the error that stopped serving. It speaks
// HTTP/1.1 and HTTP/2 by prior knowledge (h2c); see ServeTLS for HTTPS.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := s.httpServer()
	srv.RegisterOnShutdown(s.closeWebSockets)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Debug("target serving", "addr", ln.Addr().String(), "version", s.version)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		s.log.Warn("target: requests still running after the shutdown timeout; closing them", "timeout", s.grace)
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	s.log.Debug("target stopped")
	return nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("GET /profile", s.profile)
	mux.HandleFunc("/delay/{ms}", s.delay)
	mux.HandleFunc("/delay", s.delay)
	mux.HandleFunc("/random-delay", s.randomDelay)
	mux.HandleFunc("/status/{code}", s.status)
	mux.HandleFunc("/stall", s.stall)
	mux.HandleFunc("/bytes/{n}", s.bytes)
	mux.HandleFunc("/echo", s.echo)
	mux.HandleFunc("/redirect/{n}", s.redirect)
	mux.HandleFunc("/basic-auth/{user}/{pass}", s.basicAuth)
	mux.HandleFunc("GET /cookies", s.cookies)
	mux.HandleFunc("GET /cookies/set", s.setCookies)
	mux.HandleFunc("GET /ws/echo", s.wsEcho)
	mux.HandleFunc("GET /ws/broadcast", s.wsBroadcast)
	mux.HandleFunc("GET "+countsPath, s.countsJSON)
	mux.HandleFunc("POST "+countsPath+"/reset", s.resetCounts)
	return mux
}
