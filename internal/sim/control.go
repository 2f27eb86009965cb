package sim

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// Handler is the fleet's control API (docs/scaling.md), for scripts and
// tests on the simulator's machine:
//
//	GET  /status[?workers=1]             the Summary (with every worker's state)
//	POST /kill?count=N|percent=P[&hang=1] cut (or hang) live workers
//	POST /revive[?count=N|percent=P]     bring dead and hung workers back (default all)
//	POST /delay[?count=N|percent=P]&by=D send everything D late (by=0: punctual again; default all)
//	POST /drop?count=N|percent=P         cut connections that reconnect at once
//
// Every POST answers {"ids": [...]}, the workers it changed. A percent
// counts the whole fleet: percent=10 of 1,000 workers is 100.
func (f *Fleet) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, f.Summary(r.URL.Query().Get("workers") == "1"))
	})
	act := func(do func(n int, r *http.Request) ([]string, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			n, err := f.count(r, r.URL.Path == "/revive" || r.URL.Path == "/delay")
			if err == nil {
				var ids []string
				if ids, err = do(n, r); err == nil {
					writeJSON(w, http.StatusOK, map[string][]string{"ids": append(make([]string, 0, len(ids)), ids...)})
					return
				}
			}
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		}
	}
	mux.HandleFunc("POST /kill", act(func(n int, r *http.Request) ([]string, error) {
		return f.Kill(n, r.URL.Query().Get("hang") == "1"), nil
	}))
	mux.HandleFunc("POST /revive", act(func(n int, _ *http.Request) ([]string, error) { return f.Revive(n), nil }))
	mux.HandleFunc("POST /delay", act(func(n int, r *http.Request) ([]string, error) {
		d, err := time.ParseDuration(r.URL.Query().Get("by"))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("by=%q: want a duration ≥ 0 such as 1500ms", r.URL.Query().Get("by"))
		}
		return f.Delay(n, d), nil
	}))
	mux.HandleFunc("POST /drop", act(func(n int, _ *http.Request) ([]string, error) { return f.Drop(n), nil }))
	return mux
}

// count reads count= or percent= (of the whole fleet); with neither, all
// when all is allowed.
func (f *Fleet) count(r *http.Request, all bool) (int, error) {
	q := r.URL.Query()
	switch {
	case q.Has("count"):
		n, err := strconv.Atoi(q.Get("count"))
		if err != nil || n < 0 {
			return 0, fmt.Errorf("count=%q: want a number ≥ 0", q.Get("count"))
		}
		return n, nil
	case q.Has("percent"):
		p, err := strconv.ParseFloat(q.Get("percent"), 64)
		if err != nil || p < 0 || p > 100 {
			return 0, fmt.Errorf("percent=%q: want 0..100", q.Get("percent"))
		}
		return int(math.Round(p / 100 * float64(len(f.workers)))), nil
	case all:
		return -1, nil
	}
	return 0, fmt.Errorf("give count=N or percent=P")
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
