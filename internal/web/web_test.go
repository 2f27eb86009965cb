package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/stats"
)

// fakeSource serves hand-made statistics and records the times it was
// asked for.
type fakeSource struct {
	snap  stats.Snapshot
	st    master.Status
	ready error

	mu    sync.Mutex
	times []time.Time
}

func (f *fakeSource) Snapshot(now time.Time) stats.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.times = append(f.times, now)
	return f.snap
}

func (f *fakeSource) Status() master.Status { return f.st }

// readySource is a fakeSource with the Readiness capability.
type readySource struct{ *fakeSource }

func (r readySource) Ready() error { return r.ready }

var (
	_ Source    = (*fakeSource)(nil)
	_ Readiness = readySource{}
)

func serve(t *testing.T, h http.Handler, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	for _, src := range []Source{nil, &fakeSource{}} {
		rec := serve(t, New(Options{Source: src}), http.MethodGet, "/healthz")
		if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != "ok" {
			t.Errorf("source %v: GET /healthz = %d %q, want 200 ok", src, rec.Code, rec.Body)
		}
	}
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		src      Source
		wantCode int
		wantBody string
	}{
		{name: "no source", src: nil, wantCode: http.StatusServiceUnavailable, wantBody: "no master"},
		{name: "source", src: &fakeSource{}, wantCode: http.StatusOK, wantBody: "ok"},
		{name: "ready source", src: readySource{&fakeSource{}}, wantCode: http.StatusOK, wantBody: "ok"},
		{
			name:     "source not ready",
			src:      readySource{&fakeSource{ready: errors.New("worker port not bound")}},
			wantCode: http.StatusServiceUnavailable, wantBody: "worker port not bound",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(t, New(Options{Source: tt.src}), http.MethodGet, "/readyz")
			if rec.Code != tt.wantCode || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("GET /readyz = %d %q, want %d containing %q", rec.Code, rec.Body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestRouting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method, path string
		wantCode     int
		wantAllow    string
		wantError    string // the JSON error; "" when the body is not one
		wantLocation string // for redirects, whose code varies by Go version
	}{
		{method: "GET", path: "/nope", wantCode: 404, wantError: "not found"},
		{method: "GET", path: "/stats/requests/", wantCode: 404, wantError: "not found"},
		{method: "GET", path: "/api/v1/nope", wantCode: 404, wantError: "not found"},
		{method: "GET", path: "/api", wantCode: 404, wantError: "not found"},
		{method: "POST", path: "/api/v1/stats", wantCode: 405, wantAllow: "GET, HEAD", wantError: "method not allowed"},
		{method: "GET", path: "/api/v1/test", wantCode: 405, wantAllow: "POST", wantError: "method not allowed"},
		{method: "GET", path: "/swarm", wantCode: 405, wantAllow: "POST", wantError: "method not allowed"},
		{method: "POST", path: "/stats/requests", wantCode: 405, wantAllow: "GET, HEAD", wantError: "method not allowed"},
		{method: "DELETE", path: "/healthz", wantCode: 405, wantAllow: "GET, HEAD", wantError: "method not allowed"},
		{method: "HEAD", path: "/stats/requests", wantCode: 200},
		{method: "GET", path: "/stats/../healthz", wantLocation: "/healthz"},
	}
	h := New(Options{Source: &fakeSource{}})
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			rec := serve(t, h, tt.method, tt.path)
			if tt.wantLocation != "" {
				if rec.Code/100 != 3 || rec.Header().Get("Location") != tt.wantLocation {
					t.Errorf("%s %s = %d to %q, want a redirect to %q", tt.method, tt.path,
						rec.Code, rec.Header().Get("Location"), tt.wantLocation)
				}
				return
			}
			if rec.Code != tt.wantCode {
				t.Fatalf("%s %s = %d, want %d; body %q", tt.method, tt.path, rec.Code, tt.wantCode, rec.Body)
			}
			if got := rec.Header().Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			if tt.wantError == "" {
				return
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("error body is not JSON: %v: %q", err, rec.Body)
			}
			if body["error"] != tt.wantError {
				t.Errorf("error = %v, want %q", body["error"], tt.wantError)
			}
		})
	}
}

// TestStatsRequestsOverHTTP reads the route the way an exporter does: a
// real client against a server on 127.0.0.1.
func TestStatsRequestsOverHTTP(t *testing.T) {
	t.Parallel()
	src := &fakeSource{snap: sampleSnapshot(), st: sampleStatus()}
	clock := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	srv := httptest.NewServer(New(Options{Source: src, Now: func() time.Time { return clock }}))
	t.Cleanup(srv.Close)

	resp, err := srv.Client().Get(srv.URL + "/stats/requests")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	for k, want := range map[string]string{
		"Content-Type":                "application/json",
		"Cache-Control":               "no-store",
		"Access-Control-Allow-Origin": "*",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if m["state"] != "running" {
		t.Errorf("state = %v, want running", m["state"])
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if len(src.times) != 1 || !src.times[0].Equal(clock) {
		t.Errorf("Snapshot called at %v, want once at the injected clock %v", src.times, clock)
	}
}

func TestCORSOnlyOnStats(t *testing.T) {
	t.Parallel()
	h := New(Options{Source: &fakeSource{}})
	for _, path := range []string{"/healthz", "/readyz", "/nope"} {
		if got := serve(t, h, http.MethodGet, path).Header().Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("GET %s: Access-Control-Allow-Origin = %q, want none", path, got)
		}
	}
}

func TestStatsRequestsWithoutSource(t *testing.T) {
	t.Parallel()
	rec := serve(t, New(Options{}), http.MethodGet, "/stats/requests")
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("GET /stats/requests without a source = %d, want 503", rec.Code)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["error"] == "" {
		t.Errorf("body %q (err %v), want a JSON error", rec.Body, err)
	}
}

// TestUI checks that the UI gets / and every path the API does not route,
// but never a path under /api/.
func TestUI(t *testing.T) {
	t.Parallel()
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-UI", "yes")
		_, _ = io.WriteString(w, "ui:"+r.URL.Path)
	})
	with := New(Options{Source: &fakeSource{}, UI: ui})
	without := New(Options{Source: &fakeSource{}})
	tests := []struct {
		name     string
		h        http.Handler
		path     string
		wantCode int
		wantBody string
	}{
		{"root", with, "/", 200, "ui:/"},
		{"asset", with, "/assets/index-abc.js", 200, "ui:/assets/index-abc.js"},
		{"client route", with, "/workers", 200, "ui:/workers"},
		{"api stays JSON", with, "/api/v1/nope", 404, `"error":"not found"`},
		{"api route wins", with, "/healthz", 200, "ok"},
		{"no ui: root", without, "/", 404, `"error":"not found"`},
		{"no ui: other path", without, "/assets/x.js", 404, `"error":"not found"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(t, tt.h, http.MethodGet, tt.path)
			if rec.Code != tt.wantCode || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("GET %s = %d %q, want %d containing %q", tt.path, rec.Code, rec.Body, tt.wantCode, tt.wantBody)
			}
		})
	}
}
