package operator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// masterStats is what the operator reads of the master's GET
// /api/v1/stats (docs/api.md, Stats).
type masterStats struct {
	State       string  `json:"state"`
	Users       int32   `json:"users"`
	TargetUsers int32   `json:"target_users"`
	SpawnRate   float64 `json:"spawn_rate"`
	ArrivalRate float64 `json:"arrival_rate"`
	Shape       string  `json:"shape"`
	Started     string  `json:"started"`
	ElapsedS    float64 `json:"elapsed_s"`
	RunTimeS    float64 `json:"run_time_s"`
	Total       struct {
		Requests   int64   `json:"requests"`
		Failures   int64   `json:"failures"`
		RPS        float64 `json:"rps"`
		CurrentRPS float64 `json:"current_rps"`
		Latency    struct {
			P95 float64 `json:"p95"`
		} `json:"latency_ms"`
	} `json:"total"`
	Workers []struct {
		ID    string `json:"id"`
		State string `json:"state"`
		Users int32  `json:"users"`
	} `json:"workers"`
}

// The master's test states (docs/api.md).
const (
	stateReady    = "ready"
	stateSpawning = "spawning"
	stateRunning  = "running"
	stateStopping = "stopping"
	stateStopped  = "stopped"
)

// connected counts the workers that are not missing.
func (s *masterStats) connected() int32 {
	var n int32
	for _, w := range s.Workers {
		if w.State != "missing" {
			n++
		}
	}
	return n
}

// running says whether a test is under way (started, not yet stopped).
func (s *masterStats) running() bool {
	return s.State == stateSpawning || s.State == stateRunning || s.State == stateStopping
}

// masterClient talks to one test's master over its web API.
type masterClient struct {
	http *http.Client
	base string // http://HOST:8089
	auth string // --web-auth: user:pass, or a bearer token; "" none
}

// errStatus is an HTTP answer other than 200.
type errStatus struct {
	code int
	body string
}

func (e *errStatus) Error() string { return fmt.Sprintf("HTTP %d: %s", e.code, e.body) }

func (c *masterClient) do(ctx context.Context, method, path string, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user, pass, ok := strings.Cut(c.auth, ":"); ok {
		req.SetBasicAuth(user, pass)
	} else if c.auth != "" {
		req.Header.Set("Authorization", "Bearer "+c.auth)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &errStatus{code: resp.StatusCode, body: strings.TrimSpace(string(clip(data, 300)))}
	}
	return data, nil
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func (c *masterClient) stats(ctx context.Context) (*masterStats, error) {
	data, err := c.do(ctx, http.MethodGet, "/api/v1/stats", nil)
	if err != nil {
		return nil, err
	}
	var s masterStats
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("/api/v1/stats: %w", err)
	}
	return &s, nil
}

// report returns the summary JSON, as the master serves it.
func (c *masterClient) report(ctx context.Context) ([]byte, error) {
	return c.do(ctx, http.MethodGet, "/api/v1/report.json", nil)
}

// edit changes the running test's load (POST /api/v1/test without
// run_time: what remains of the run time is kept).
func (c *masterClient) edit(ctx context.Context, users int32, spawnRate, rate float64) error {
	body := map[string]any{"users": users, "rate": rate}
	if spawnRate > 0 {
		body["spawn_rate"] = spawnRate
	}
	_, err := c.do(ctx, http.MethodPost, "/api/v1/test", body)
	return err
}

func (c *masterClient) stop(ctx context.Context) error {
	_, err := c.do(ctx, http.MethodPost, "/api/v1/stop", struct{}{})
	return err
}

// latestRun returns the id of the run store's newest run ("" when the
// master has no store).
func (c *masterClient) latestRun(ctx context.Context) (string, error) {
	data, err := c.do(ctx, http.MethodGet, "/api/v1/runs/latest", nil)
	if err != nil {
		return "", err
	}
	var r struct {
		Run struct {
			ID string `json:"id"`
		} `json:"run"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return "", fmt.Errorf("/api/v1/runs/latest: %w", err)
	}
	return r.Run.ID, nil
}
