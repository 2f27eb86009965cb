package target

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// delay serves /delay/{ms} and /delay?ms=N: sleep, then 200. A client
// that goes away ends the sleep and gets no response.
func (s *Server) delay(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("ms")
	if raw == "" {
		raw = r.URL.Query().Get("ms")
	}
	ms, err := parseInt("ms", raw, 0, maxDelayMillis)
	if err != nil {
		writeParamError(w, err)
		return
	}
	if sleep(r.Context(), time.Duration(ms)*time.Millisecond) {
		writeJSON(w, http.StatusOK, map[string]int{"delay_ms": ms})
	}
}

// randomDelay serves /random-delay?min=10&max=100: a delay drawn
// uniformly from [min, max] ms (defaults 10 and 100).
func (s *Server) randomDelay(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lo, err := parseIntDefault("min", q.Get("min"), 10, 0, maxDelayMillis)
	if err != nil {
		writeParamError(w, err)
		return
	}
	hi, err := parseIntDefault("max", q.Get("max"), max(lo, 100), 0, maxDelayMillis)
	if err != nil {
		writeParamError(w, err)
		return
	}
	if lo > hi {
		writeParamError(w, badf("min (%d) must not be greater than max (%d)", lo, hi))
		return
	}
	ms := lo + rand.IntN(hi-lo+1)
	if sleep(r.Context(), time.Duration(ms)*time.Millisecond) {
		writeJSON(w, http.StatusOK, map[string]int{"delay_ms": ms})
	}
}

// status serves /status/{code}. HTTP has no final 1xx response: 1xx codes
// (but 101) are sent as an informational response followed by 200, as a
// server sending 103 Early Hints does.
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	code, err := parseStatus(r.PathValue("code"))
	if err != nil {
		writeParamError(w, err)
		return
	}
	if code < 200 {
		w.WriteHeader(code)
		code = http.StatusOK
	}
	if code == http.StatusNoContent || code == http.StatusNotModified {
		w.WriteHeader(code)
		return
	}
	writeJSON(w, code, map[string]any{"status": code, "text": http.StatusText(code)})
}

// stall serves /stall?period=2s&stall=1s, a server that freezes: a request
// arriving in the first `stall` of each `period` is held until that stall
// ends; any other is answered at once. Phases are measured from the Unix
// epoch (time modulo period), not from the server's start, so that every
// replica of the target freezes at the same moments and a test can
// predict them. Used to show coordinated omission.
func (s *Server) stall(w http.ResponseWriter, r *http.Request) {
	p, err := parseStall(r.URL.Query().Get("period"), r.URL.Query().Get("stall"))
	if err != nil {
		writeParamError(w, err)
		return
	}
	hold := p.holdAt(s.clock())
	if sleep(r.Context(), hold) {
		writeJSON(w, http.StatusOK, map[string]any{
			"held_ms": float64(hold) / float64(time.Millisecond), "period_ms": p.period.Milliseconds(), "stall_ms": p.stall.Milliseconds(),
		})
	}
}

// holdAt is how long a request arriving at now is held.
func (p stallParams) holdAt(now time.Time) time.Duration {
	phase := time.Duration(now.UnixNano() % int64(p.period))
	if phase < 0 { // before 1970
		phase += p.period
	}
	if phase < p.stall {
		return p.stall - phase
	}
	return 0
}

// bytes serves /bytes/{n}: n bytes of text (at most 10 MiB).
func (s *Server) bytes(w http.ResponseWriter, r *http.Request) {
	n, err := parseInt("n", r.PathValue("n"), 0, maxBytes)
	if err != nil {
		writeParamError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(http.StatusOK)
	for n > 0 {
		chunk := s.filler[:min(n, len(s.filler))]
		if _, err := w.Write(chunk); err != nil {
			return
		}
		n -= len(chunk)
	}
}

// redirect serves /redirect/{n}: a chain of n 302 hops ending at /.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request) {
	n, err := parseInt("n", r.PathValue("n"), 1, maxRedirects)
	if err != nil {
		writeParamError(w, err)
		return
	}
	next := "/"
	if n > 1 {
		next = "/redirect/" + strconv.Itoa(n-1)
	}
	http.Redirect(w, r, next, http.StatusFound)
}
