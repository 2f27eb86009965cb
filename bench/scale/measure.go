package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/horde-load/horde/internal/sim"
)

var client = &http.Client{Timeout: 30 * time.Second}

func getJSON(u string, v any) error {
	resp, err := client.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func post(u, contentType string, body string) error {
	resp, err := client.Post(u, contentType, strings.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s: %s", u, resp.Status, b)
	}
	return nil
}

// fleet is the benchmark's simulators, seen as one.
type fleet struct {
	controls []string
	procs    []*proc
}

// summary adds up the simulators' summaries; with all, every worker's
// state too.
func (f *fleet) summary(all bool) (sim.Summary, error) {
	var s sim.Summary
	s.UsersMin = math.MaxInt
	for _, c := range f.controls {
		var one sim.Summary
		q := ""
		if all {
			q = "?workers=1"
		}
		if err := getJSON(c+"/status"+q, &one); err != nil {
			return s, err
		}
		s.Workers += one.Workers
		s.Alive += one.Alive
		s.Connected += one.Connected
		s.Killed += one.Killed
		s.Hung += one.Hung
		s.Users += one.Users
		s.Rate += one.Rate
		s.MaxUsers += one.MaxUsers
		s.RequestsReported += one.RequestsReported
		if one.Connected > 0 {
			s.UsersMin = min(s.UsersMin, one.UsersMin)
			s.UsersMax = max(s.UsersMax, one.UsersMax)
		}
		if one.LastApplied.After(s.LastApplied) {
			s.LastApplied = one.LastApplied
		}
		s.States = append(s.States, one.States...)
	}
	if s.UsersMin == math.MaxInt {
		s.UsersMin = 0
	}
	return s, nil
}

// act posts a control action to every simulator (percent applies to each).
func (f *fleet) act(path string) error {
	for _, c := range f.controls {
		if err := post(c+path, "text/plain", ""); err != nil {
			return err
		}
	}
	return nil
}

// split checks the simulated workers' users against the master's
// promise: every live worker within one user of an even share of the
// total, in total and in every class, and each class's total within one
// user of its weight's part. It returns "" when it holds, else what is
// wrong.
func split(s sim.Summary, users int, weights map[string]float64) string {
	var live []sim.WorkerState
	for _, w := range s.States {
		if w.Mode == "alive" && w.Connected {
			live = append(live, w)
		}
	}
	if len(live) == 0 {
		return "no live worker"
	}
	total := 0
	perClass := map[string][]int{}
	for _, w := range live {
		total += w.Users
		for c := range weights {
			perClass[c] = append(perClass[c], int(w.Classes[c]))
		}
	}
	if total != users {
		return fmt.Sprintf("the workers run %d users, want %d", total, users)
	}
	lo, hi := users/len(live), (users+len(live)-1)/len(live)
	for _, w := range live {
		if w.Users < lo || w.Users > hi {
			return fmt.Sprintf("worker %s runs %d users; an even share is %d..%d", w.ID, w.Users, lo, hi)
		}
	}
	wsum := 0.0
	for _, v := range weights {
		wsum += v
	}
	for c, weight := range weights {
		got := perClass[c]
		if want := float64(users) * weight / wsum; math.Abs(float64(sum(got))-want) > 1 {
			return fmt.Sprintf("class %s: %d users, want %.1f", c, sum(got), want)
		}
		if slices.Max(got)-slices.Min(got) > 1 {
			return fmt.Sprintf("class %s: from %d to %d users per worker", c, slices.Min(got), slices.Max(got))
		}
	}
	return ""
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// latencies times GETs of the routes a user and the UI read.
type latencies struct {
	mu    sync.Mutex
	times map[string][]time.Duration
	sizes map[string]int
	errs  map[string]int
}

var probeRoutes = []string{"/api/v1/stats", "/stats/requests", "/api/v1/workers", "/"}

func newLatencies() *latencies {
	return &latencies{times: map[string][]time.Duration{}, sizes: map[string]int{}, errs: map[string]int{}}
}

// probe GETs every route once, one after another.
func (l *latencies) probe(web string) {
	for _, r := range probeRoutes {
		start := time.Now()
		resp, err := client.Get(web + r)
		n := 0
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			n = len(b)
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("%s", resp.Status)
			}
		}
		took := time.Since(start)
		l.mu.Lock()
		if err != nil {
			l.errs[r]++
		} else {
			l.times[r] = append(l.times[r], took)
			l.sizes[r] = n
		}
		l.mu.Unlock()
	}
}

func (l *latencies) stat(route string) (p50, worst time.Duration, size, errs int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := slices.Clone(l.times[route])
	if len(ts) == 0 {
		return 0, 0, 0, l.errs[route]
	}
	slices.Sort(ts)
	return ts[len(ts)/2], ts[len(ts)-1], l.sizes[route], l.errs[route]
}

// stream follows /api/v1/stream and records when each stats event came.
type stream struct {
	mu      sync.Mutex
	arrived []time.Time
	ended   error
	bytes   int
}

func follow(ctx context.Context, web string) *stream {
	s := &stream{}
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, web+"/api/v1/stream", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			s.setEnd(err)
			return
		}
		defer resp.Body.Close()
		rd := bufio.NewReaderSize(resp.Body, 1<<20)
		for {
			line, err := rd.ReadSlice('\n')
			if err == bufio.ErrBufferFull {
				// a long data line: count it and go on
				s.mu.Lock()
				s.bytes += len(line)
				s.mu.Unlock()
				continue
			}
			if err != nil {
				s.setEnd(err)
				return
			}
			s.mu.Lock()
			s.bytes += len(line)
			if bytes.Equal(bytes.TrimSpace(line), []byte("event: stats")) {
				s.arrived = append(s.arrived, time.Now())
			}
			s.mu.Unlock()
		}
	}()
	return s
}

func (s *stream) setEnd(err error) {
	s.mu.Lock()
	s.ended = err
	s.mu.Unlock()
}

// gaps returns the stats events that came in [from, to] and the longest
// time between two of them (or from the window's start to the first).
func (s *stream) gaps(from, to time.Time) (events int, worst time.Duration, ended error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := from
	for _, t := range s.arrived {
		if t.Before(from) || t.After(to) {
			continue
		}
		events++
		worst = max(worst, t.Sub(prev))
		prev = t
	}
	worst = max(worst, to.Sub(prev))
	return events, worst, s.ended
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}
