package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/buftest"
	"github.com/horde-load/horde/internal/report"
)

// result is what a user sees of one horde invocation.
type result struct {
	code           int
	stdout, stderr string
}

// horde runs the command line in-process with only the given environment.
func horde(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb buftest.Buffer
	e := Env{
		Stdout: &out, Stderr: &errb,
		Getenv:   func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Terminal: func() report.Terminal { return report.Terminal{} },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := Execute(ctx, args, e)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// summary reads a --json summary file.
type summary struct {
	UsersPeak int `json:"users_peak"`
	Totals    struct {
		Requests int64              `json:"requests"`
		Failures int64              `json:"failures"`
		Latency  map[string]float64 `json:"latency_ms"`
	} `json:"totals"`
	Endpoints []struct {
		Method   string             `json:"method"`
		Name     string             `json:"name"`
		Requests int64              `json:"requests"`
		Failures int64              `json:"failures"`
		Latency  map[string]float64 `json:"latency_ms"`
	} `json:"endpoints"`
	Errors []struct {
		Method, Name, Error string
		Count               int64
	} `json:"errors"`
	Exceptions []struct {
		Message   string `json:"message"`
		Count     int64  `json:"count"`
		Traceback string `json:"traceback"`
	} `json:"exceptions"`
	Thresholds []struct {
		Expr   string  `json:"expr"`
		Value  float64 `json:"value"`
		Passed bool    `json:"passed"`
		Note   string  `json:"note"`
	} `json:"thresholds"`
	DroppedIterations int64   `json:"dropped_iterations"`
	Shape             string  `json:"shape"`
	DurationS         float64 `json:"duration_s"`
}

func readSummary(t *testing.T, path string) summary {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("summary JSON: %v\n%s", err, b)
	}
	return s
}

// endpointCounts maps "METHOD name" to the requests horde counted.
func (s summary) endpointCounts() map[string]int64 {
	m := map[string]int64{}
	for _, e := range s.Endpoints {
		m[e.Method+" "+e.Name] = e.Requests
	}
	return m
}

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, got)
		}
	}
}
