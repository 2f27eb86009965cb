package target

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

const (
	// countsPath serves Counts as JSON; POST countsPath+"/reset" zeroes them.
	countsPath = "/_horde/counts"
	// OverflowKey counts requests for new "METHOD path" keys once
	// MaxCountKeys distinct keys exist.
	OverflowKey = "* (other)"
)

// counter counts requests per key exactly, without a lock on the hot
// path: a sync.Map of atomic counters. Reset zeroes counters instead of
// deleting them, so that no increment racing a reset is lost.
type counter struct {
	m    sync.Map // string → *atomic.Int64
	keys atomic.Int64
	max  int64
}

func newCounter(limit int) *counter {
	if limit <= 0 {
		limit = 10_000
	}
	return &counter{max: int64(limit)}
}

func (c *counter) add(key string) {
	if v, ok := c.m.Load(key); ok {
		v.(*atomic.Int64).Add(1)
		return
	}
	if c.keys.Load() >= c.max {
		key = OverflowKey
	}
	v, loaded := c.m.LoadOrStore(key, new(atomic.Int64))
	if !loaded {
		c.keys.Add(1)
	}
	v.(*atomic.Int64).Add(1)
}

func (c *counter) snapshot() map[string]int64 {
	out := make(map[string]int64)
	c.m.Range(func(k, v any) bool {
		if n := v.(*atomic.Int64).Load(); n != 0 {
			out[k.(string)] = n
		}
		return true
	})
	return out
}

func (c *counter) reset() {
	c.m.Range(func(_, v any) bool {
		v.(*atomic.Int64).Store(0)
		return true
	})
}

// countRequests counts every request outside /_horde/ under its
// "METHOD path" key, at the moment its response is first written (or when
// its handler returns having written nothing), and tracks requests in
// flight.
func (s *Server) countRequests(next http.Handler) http.Handler {
	server := "horde-target"
	if s.version != "" {
		server += "/" + s.version
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", server)
		if strings.HasPrefix(r.URL.Path, "/_horde/") {
			next.ServeHTTP(w, r)
			return
		}
		s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		cw := &countingWriter{ResponseWriter: w, c: s.counts, key: r.Method + " " + r.URL.Path}
		defer cw.count()
		next.ServeHTTP(cw, r)
	})
}

// countingWriter counts its request once, before the first byte of the
// final response goes out.
type countingWriter struct {
	http.ResponseWriter
	c       *counter
	key     string
	counted bool
}

func (w *countingWriter) count() {
	if !w.counted {
		w.counted = true
		w.c.add(w.key)
	}
}

// WriteHeader counts final responses; 1xx informational ones are not the
// response yet.
func (w *countingWriter) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.count()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	w.count()
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and deadlines.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) countsJSON(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Counts())
}

func (s *Server) resetCounts(w http.ResponseWriter, _ *http.Request) {
	s.ResetCounts()
	writeJSON(w, http.StatusOK, map[string]bool{"reset": true})
}
