package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/target"
	"github.com/horde-load/horde/internal/target/targettest"
)

// Where a ported locustfile used to do something else than in Locust,
// silently (issue 10): each case fails on the old behaviour.

// When -t ends the test, every user's on_stop runs — with no
// --stop-timeout — and its requests (a logout) are sent and counted.
func TestOnStopRunsWhenRunTimeEnds(t *testing.T) {
	t.Parallel()
	host, srv := targettest.Start(t, target.Options{})
	script := writeStar(t, `
def index(u):
    u.get("/delay/50")

def logout(u):
    u.get("/echo", name="logout")

users = [user(name="U", tasks=[index], on_stop=logout, wait=constant(0.05))]
`)
	out := filepath.Join(t.TempDir(), "s.json")
	r := horde(t, nil, "run", script, "-H", host, "--headless", "-u", "5", "-r", "100", "-t", "2s", "--json", out)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	got := readSummary(t, out).endpointCounts()
	if got["GET logout"] != 5 || srv.Counts()["GET /echo"] != 5 {
		t.Errorf("logouts: horde counted %d, the target served %d; want 5 and 5 (one per user)", got["GET logout"], srv.Counts()["GET /echo"])
	}
}

// -H (or TARGET_HOST) wins over user(host=...), which is only a default.
func TestHostFlagOverridesUserHost(t *testing.T) {
	t.Parallel()
	host, srv := targettest.Start(t, target.Options{})
	script := writeStar(t, `
def index(u):
    u.get("/")

users = [user(name="U", host="http://127.0.0.1:1", tasks=[index], wait=constant(0.1))]
`)
	for _, how := range [][]string{{"-H", host}, {}} {
		env := map[string]string{}
		if len(how) == 0 {
			env["TARGET_HOST"] = host
		}
		r := horde(t, env, append([]string{"run", script, "--headless", "-u", "1", "-t", "1s"}, how...)...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d (the class's unreachable host was used?)\n%s", how, r.code, r.stdout)
		}
	}
	if srv.Counts()["GET /"] == 0 {
		t.Error("the target given on the command line got no requests")
	}
}

// A shape(t) that raises ends the test as failed (exit 1), never as a
// pass, and the error is in the summary.
func TestShapeErrorFailsTheTest(t *testing.T) {
	t.Parallel()
	host, _ := targettest.Start(t, target.Options{})
	script := writeStar(t, `
def index(u):
    u.get("/")

users = [user(name="U", tasks=[index], wait=constant(0.2))]

def shape(t):
    if t >= 2:
        fail("the shape broke")
    return (2, 10)
`)
	out := filepath.Join(t.TempDir(), "s.json")
	r := horde(t, nil, "run", script, "-H", host, "--headless", "-t", "30s", "--json", out, "--threshold", "fail_ratio<0.5")
	if r.code != exitcode.Failed {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	mustContain(t, "stderr", r.stderr, "the load shape failed", "the shape broke")
	var s struct {
		Aborted    string `json:"aborted"`
		Exceptions []struct {
			Message string `json:"message"`
		} `json:"exceptions"`
	}
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.Aborted, "the shape broke") || len(s.Exceptions) != 1 {
		t.Errorf("summary: aborted %q, exceptions %v", s.Aborted, s.Exceptions)
	}
}

// A shape that fails at its very first call ends the test at once, failed
// (it hung in state "ready").
func TestShapeFailingAtOnce(t *testing.T) {
	t.Parallel()
	script := writeStar(t, `
def index(u):
    u.get("/")

users = [user(name="U", tasks=[index])]

def shape(t):
    return 1 // 0
`)
	start := time.Now()
	r := horde(t, nil, "run", script, "-H", "http://127.0.0.1:1", "--headless", "-t", "60s")
	if r.code != exitcode.Failed || time.Since(start) > 20*time.Second {
		t.Fatalf("exit %d after %v, want 1 at once\n%s", r.code, time.Since(start), r.stderr)
	}
	mustContain(t, "stderr", r.stderr, "the load shape failed", "division by zero")
}

// Report files that cannot be written are refused before any load
// (exit 2); if writing fails at the end anyway, the summary is printed.
func TestReportPathsCheckedBeforeTheTest(t *testing.T) {
	t.Parallel()
	host, srv := targettest.Start(t, target.Options{})
	script := writeStar(t, `
def index(u):
    u.get("/")

users = [user(name="U", tasks=[index], wait=constant(0.1))]
`)
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--json", filepath.Join(dir, "missing", "s.json")},
		{"--csv", filepath.Join(dir, "missing", "run")},
		{"--html", dir},
	} {
		r := horde(t, nil, append([]string{"run", script, "-H", host, "--headless", "-u", "1", "-t", "5s"}, args...)...)
		if r.code != exitcode.BadInput {
			t.Errorf("%v: exit %d, want 2\n%s", args, r.code, r.stderr)
		}
		mustContain(t, "stderr", r.stderr, args[0])
	}
	if n := srv.Counts()["GET /"]; n != 0 {
		t.Errorf("%d requests were sent before the bad paths were refused", n)
	}

	// The directory goes away during the test: exit 3, the summary on stdout.
	gone := filepath.Join(dir, "gone")
	if err := os.Mkdir(gone, 0o755); err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(500 * time.Millisecond); _ = os.RemoveAll(gone) }()
	r := horde(t, nil, "run", script, "-H", host, "--headless", "-u", "1", "-t", "2s", "--json", filepath.Join(gone, "s.json"))
	if r.code != exitcode.CannotRun {
		t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
	}
	mustContain(t, "stdout", r.stdout, "the summary JSON follows", `"endpoints"`, `"GET"`)
}

// The script's top level runs once in `horde run`, as a locustfile is
// imported once.
func TestTopLevelRunsOnce(t *testing.T) {
	t.Parallel()
	host, _ := targettest.Start(t, target.Options{})
	script := writeStar(t, `
print("loading the script")

def index(u):
    u.get("/")

users = [user(name="U", tasks=[index], wait=constant(0.1))]
`)
	r := horde(t, nil, "run", script, "-H", host, "--headless", "-u", "2", "-t", "1s")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if n := strings.Count(r.stdout, "loading the script"); n != 1 {
		t.Errorf("the top level printed %d times, want once:\n%s", n, r.stdout)
	}
}
