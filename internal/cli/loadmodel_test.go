package cli

import (
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/horde-load/horde/internal/target"
	"github.com/horde-load/horde/internal/target/targettest"
)

func nginxOrSkip(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	t.Skip("nginx is not installed (apt-get install nginx; .ci/run installs it)")
	return ""
}

// The open model sends what it was asked to, whatever the server does:
// --rate 500 for 10 s is 5,000 requests served, ± 1 %.
func TestOpenModelRateIsServed(t *testing.T) {
	t.Parallel()
	host, logPath := startNginx(t, nginxOrSkip(t))
	out := filepath.Join(t.TempDir(), "s.json")
	r := horde(t, nil, "run", host+"/", "--rate", "500", "-t", "10s", "--headless", "--json", out)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	served := readNginxCounts(t, logPath)["GET /"]
	s := readSummary(t, out)
	if served < 4950 || served > 5050 {
		t.Errorf("nginx served %d requests for --rate 500 -t 10s, want 5,000 ± 1%%", served)
	}
	if s.Totals.Requests != served {
		t.Errorf("horde counted %d, nginx served %d", s.Totals.Requests, served)
	}
	// A loaded machine (CI runs everything in parallel under -race) can
	// starve the generator for a moment; arrivals it could not place are
	// counted, never silently lost.
	if n := served + s.DroppedIterations; n < 4950 || n > 5050 {
		t.Errorf("served %d + dropped %d = %d arrivals, want 5,000 ± 1%%", served, s.DroppedIterations, n)
	}
}

// Against a server that freezes for 1 s in every 2 s, the open model
// shows the freeze (p90 ≥ 600 ms, p99 ≥ 850 ms) where the closed model,
// whose users stop sending while they wait, hides most of it.
func TestOpenModelShowsTheStall(t *testing.T) {
	t.Parallel()
	host, _ := targettest.Start(t, target.Options{})
	url := host + "/stall?period=2s&stall=1s"
	dir := t.TempDir()
	open, closed := filepath.Join(dir, "open.json"), filepath.Join(dir, "closed.json")
	r := horde(t, nil, "run", url, "--rate", "200", "-u", "1000", "-t", "8s", "--headless", "--json", open)
	if r.code != 0 {
		t.Fatalf("open model: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	so := readSummary(t, open)
	p90, p99 := so.Totals.Latency["p90"], so.Totals.Latency["p99"]
	t.Logf("open model, 200/s: %d requests, p50 %.0f ms, p90 %.0f ms, p99 %.0f ms", so.Totals.Requests, so.Totals.Latency["p50"], p90, p99)
	if p90 < 600 || p99 < 850 {
		t.Errorf("open model: p90 %.0f ms, p99 %.0f ms; the server froze half the time, want p90 ≥ 600 and p99 ≥ 850", p90, p99)
	}
	if so.DroppedIterations != 0 {
		t.Errorf("%d iterations dropped with a pool of 1000", so.DroppedIterations)
	}

	// The closed model: 10 users, each sending its next request when the
	// last one returned, as Locust does.
	r = horde(t, nil, "run", url, "-u", "10", "-r", "100", "-t", "8s", "--headless", "--json", closed)
	if r.code != 0 {
		t.Fatalf("closed model: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	sc := readSummary(t, closed)
	t.Logf("closed model, 10 users: %d requests, p50 %.0f ms, p90 %.0f ms, p99 %.0f ms", sc.Totals.Requests, sc.Totals.Latency["p50"], sc.Totals.Latency["p90"], sc.Totals.Latency["p99"])
	if sc.Totals.Latency["p90"] >= p90/2 {
		t.Errorf("closed model p90 %.0f ms is not far below the open model's %.0f ms: the comparison in docs/load-models.md no longer holds", sc.Totals.Latency["p90"], p90)
	}
}

// A staged test reaches each stage's users at its boundary and ends with
// its last stage, without -t.
func TestStagesDriveTheUsers(t *testing.T) {
	t.Parallel()
	host, _ := targettest.Start(t, target.Options{})
	script := filepath.Join(t.TempDir(), "stages.star")
	body := `
def index(u):
    u.get("/")

users = [user(name="U", tasks=[index], wait=constant(0.5))]
stages = [stage("3s", users=30), stage("2s", users=30), stage("2s", users=10), stage("2s", users=10)]
`
	if err := os.WriteFile(script, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "s.json")
	csv := filepath.Join(t.TempDir(), "run")
	r := horde(t, nil, "run", script, "-H", host, "--headless", "--json", out, "--csv", csv)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	s := readSummary(t, out)
	if s.UsersPeak != 30 {
		t.Errorf("peak users %d, want 30", s.UsersPeak)
	}
	if s.Shape != "stages: all 4 done" {
		t.Errorf("summary shape %q, want the stages' last word", s.Shape)
	}
	if s.DurationS < 8.5 || s.DurationS > 12 {
		t.Errorf("the staged test took %.1f s, want about 9 (the stages' sum) then stop", s.DurationS)
	}
	hist, err := os.ReadFile(csv + "_stats_history.csv")
	if err != nil {
		t.Fatal(err)
	}
	// Users at each second (history rows of the Aggregated line).
	users := usersBySecond(t, string(hist))
	at := func(sec int) int {
		if sec < len(users) {
			return users[sec]
		}
		return -1
	}
	t.Logf("users per second: %v", users)
	// Boundaries at 3 s (30 users) and 7 s (10 users), within a second.
	if at(3) != 30 && at(4) != 30 {
		t.Errorf("users per second %v: want 30 within a second of the 3 s boundary", users)
	}
	peakEnd := 0
	for i, n := range users {
		if n == 30 {
			peakEnd = i
		}
	}
	down := slices.Index(users[peakEnd:], 10) + peakEnd
	if down < 6 || down > 8 {
		t.Errorf("users per second %v: want 10 within a second of the 7 s boundary", users)
	}
	if !strings.Contains(r.stderr+r.stdout, "load shape is over") {
		t.Errorf("the run did not say its shape ended it:\n%s", r.stderr)
	}
}

// usersBySecond reads the user count of each history row of a Locust-style
// _stats_history.csv, in order, one per second of the test.
func usersBySecond(t *testing.T, csvText string) []int {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(csvText)).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("history CSV: %v", err)
	}
	col := slices.Index(rows[0], "User Count")
	name := slices.Index(rows[0], "Name")
	var out []int
	for _, r := range rows[1:] {
		if r[name] != "Aggregated" {
			continue
		}
		n, err := strconv.Atoi(r[col])
		if err != nil {
			t.Fatalf("history CSV user count %q", r[col])
		}
		out = append(out, n)
	}
	return out
}

func writeStar(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "test.star")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A shape function that returns None ends the test.
func TestShapeNoneEndsTheTest(t *testing.T) {
	t.Parallel()
	host, _ := targettest.Start(t, target.Options{})
	script := writeStar(t, `
def index(u):
    u.get("/")

users = [user(name="U", tasks=[index], wait=constant(0.2))]

def shape(t):
    if t >= 3:
        return None
    return (4, 100)
`)
	out := filepath.Join(t.TempDir(), "s.json")
	r := horde(t, nil, "run", script, "-H", host, "--headless", "-t", "60s", "--json", out)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	s := readSummary(t, out)
	if s.DurationS < 2.5 || s.DurationS > 6 || s.UsersPeak != 4 {
		t.Errorf("the shaped test ran %.1f s with %d users at most; want about 3 s (not the 60 s of -t) with 4", s.DurationS, s.UsersPeak)
	}
}

// A script threshold with abort_on_fail stops the test early, and the
// verdict is exit 1.
func TestAbortOnFailStopsEarly(t *testing.T) {
	t.Parallel()
	host, _ := targettest.Start(t, target.Options{})
	script := writeStar(t, `
def broken(u):
    u.get("/status/503")

users = [user(name="U", tasks=[broken], wait=constant(0.05))]
thresholds = [threshold("fail_ratio<0.1", abort_on_fail=True), "p99<10s"]
`)
	out := filepath.Join(t.TempDir(), "s.json")
	r := horde(t, nil, "run", script, "-H", host, "-u", "3", "--headless", "-t", "60s", "--json", out)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	s := readSummary(t, out)
	if s.DurationS > 15 {
		t.Errorf("the test ran %.0f s: abort_on_fail did not stop it early", s.DurationS)
	}
	if len(s.Thresholds) != 2 || s.Thresholds[0].Passed || !s.Thresholds[1].Passed {
		t.Errorf("thresholds %+v: want fail_ratio crossed, p99 passed", s.Thresholds)
	}
	if !strings.Contains(r.stderr, "abort_on_fail") {
		t.Errorf("the log does not say why the test stopped:\n%s", r.stderr)
	}
}
