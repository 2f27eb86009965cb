package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/horde-load/horde/internal/exitcode"
	"github.com/horde-load/horde/internal/target"
	"github.com/horde-load/horde/internal/target/targettest"
)

// The command-line options ports of Locust runs reach for.

// User classes named after the script run alone, as `locust -f f.py A`.
func TestUserClassesByName(t *testing.T) {
	t.Parallel()
	host, srv := targettest.Start(t, target.Options{})
	script := writeStar(t, `
def a(u):
    u.get("/status/200")

def b(u):
    u.get("/status/201")

users = [user(name="A", tasks=[a], wait=constant(0.1)), user(name="B", tasks=[b], wait=constant(0.1))]
`)
	r := horde(t, nil, "run", script, "B", "-H", host, "--headless", "-u", "3", "-t", "1s")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	c := srv.Counts()
	if c["GET /status/201"] == 0 || c["GET /status/200"] != 0 {
		t.Errorf("served %v: want class B's requests only", c)
	}
	r = horde(t, nil, "run", script, "C", "-H", host, "--headless")
	if r.code != exitcode.BadInput || !strings.Contains(r.stderr, `no user class "C" in the script (it has: A, B)`) {
		t.Errorf("an unknown class: exit %d, %q", r.code, r.stderr)
	}
}

// --iterations: each user runs N tasks then stops; the test ends when all
// have, long before -t.
func TestIterationsEndTheTest(t *testing.T) {
	t.Parallel()
	host, srv := targettest.Start(t, target.Options{})
	script := writeStar(t, `
def index(u):
    u.get("/")

users = [user(name="U", tasks=[index])]
`)
	out := filepath.Join(t.TempDir(), "s.json")
	r := horde(t, nil, "run", script, "-H", host, "--headless", "-u", "4", "-r", "100", "--iterations", "5", "-t", "60s", "--json", out)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	s := readSummary(t, out)
	if s.Totals.Requests != 20 || srv.Counts()["GET /"] != 20 {
		t.Errorf("horde counted %d requests, the target served %d; want 4 users × 5 iterations = 20", s.Totals.Requests, srv.Counts()["GET /"])
	}
	if s.DurationS > 10 {
		t.Errorf("the test ran %.1f s: it should end when the iterations are done", s.DurationS)
	}
	r = horde(t, nil, "run", script, "-H", host, "--headless", "--iterations", "3", "--rate", "10")
	if r.code != exitcode.BadInput {
		t.Errorf("--iterations with --rate: exit %d, want 2", r.code)
	}
}

// --reset-stats leaves the ramp out of the figures; --only-summary prints
// no live lines; --exit-code-on-error sets the code of failed requests.
func TestResetStatsOnlySummaryExitCode(t *testing.T) {
	t.Parallel()
	host, _ := targettest.Start(t, target.Options{})
	// The ramp (4 users at 2/s) takes 1.5 s; requests in its first second
	// fail.
	script := writeStar(t, `
loaded = time.time()

def ok(u):
    if time.time() - loaded < 1.0:
        u.get("/status/500", name="ramp only")
    else:
        u.get("/delay/20")

users = [user(name="U", tasks=[ok], wait=constant(0.05))]
`)
	out := filepath.Join(t.TempDir(), "s.json")
	r := horde(t, nil, "run", script, "-H", host, "--headless", "-u", "4", "-r", "2", "-t", "4s",
		"--reset-stats", "--only-summary", "--json", out)
	if r.code != 0 {
		t.Fatalf("exit %d (the ramp's failures counted?)\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	s := readSummary(t, out)
	if got := s.endpointCounts()["GET ramp only"]; got != 0 {
		t.Errorf("%d requests of the ramp in the figures after --reset-stats", got)
	}
	if s.DurationS > 3.2 {
		t.Errorf("the figures cover %.1f s of the 4 s test: the 1.5 s ramp was not left out", s.DurationS)
	}
	if strings.Contains(r.stdout, "state=") {
		t.Errorf("--only-summary printed live lines:\n%s", r.stdout)
	}
	if r := horde(t, nil, "run", script, "-H", host, "--headless", "-u", "1", "-t", "2s", "--exit-code-on-error", "0"); !strings.Contains(r.stdout, "state=") {
		t.Errorf("without --only-summary there are live lines to compare with; got:\n%s", r.stdout)
	}
	for _, tc := range []struct{ code, want string }{{"0", "0"}, {"4", "4"}} {
		r := horde(t, nil, "run", script, "-H", host, "--headless", "-u", "1", "-t", "1s", "--exit-code-on-error", tc.code)
		if got := r.code; got != map[string]int{"0": 0, "4": 4}[tc.want] {
			t.Errorf("--exit-code-on-error %s with failed requests: exit %d", tc.code, got)
		}
	}
}

// runCounts runs script headless with args and returns what horde counted
// per endpoint and what the target served.
func runCounts(t *testing.T, body string, args ...string) (map[string]int64, map[string]int64, summary) {
	t.Helper()
	host, srv := targettest.Start(t, target.Options{})
	script := writeStar(t, body)
	out := filepath.Join(t.TempDir(), "s.json")
	r := horde(t, nil, append([]string{"run", script, "-H", host, "--headless", "--json", out}, args...)...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	s := readSummary(t, out)
	return s.endpointCounts(), srv.Counts(), s
}

// Nested task sets with interrupt(), as Locust's TaskSet: a user enters
// the set, runs its tasks in order, leaves it at interrupt(), enters it
// again; the set's on_start and on_stop run each time.
func TestTaskSetsAndInterrupt(t *testing.T) {
	t.Parallel()
	got, served, _ := runCounts(t, `
def a(u):
    u.get("/status/200?a")

def b(u):
    u.get("/status/200?b")

def leave(u):
    u.interrupt()

def enter(u):
    u.get("/echo?enter")

def exit(u):
    u.get("/echo?exit")

inner = taskset(tasks=sequence([b, leave]), name="inner")
outer = taskset(tasks=sequence([a, inner, leave]), on_start=enter, on_stop=exit, name="outer")

users = [user(name="U", tasks=[outer])]
`, "-u", "2", "-r", "100", "--iterations", "8", "-t", "30s")
	// Per user, 8 tasks: a b leave(inner) leave(outer) | a b leave leave.
	want := map[string]int64{"GET /status/200?a": 4, "GET /status/200?b": 4, "GET /echo?enter": 4, "GET /echo?exit": 4}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: horde counted %d, want %d (all %v)", k, got[k], n, got)
		}
	}
	if served["GET /status/200"] != 8 || served["GET /echo"] != 8 {
		t.Errorf("the target served %v", served)
	}
}

// A Markov task set walks its transitions from the first task.
func TestMarkovTaskSet(t *testing.T) {
	t.Parallel()
	got, _, _ := runCounts(t, `
def a(u):
    u.get("/status/200?a")

def b(u):
    u.get("/status/200?b")

def c(u):
    u.get("/status/200?c")

m = markov(transitions={a: [b], b: {c: 1}, c: [(a, 1)]})
users = [user(name="U", tasks=[m])]
`, "-u", "1", "--iterations", "7", "-t", "30s")
	if got["GET /status/200?a"] != 3 || got["GET /status/200?b"] != 2 || got["GET /status/200?c"] != 2 {
		t.Errorf("counts %v: want a 3, b 2, c 2 (a b c a b c a)", got)
	}
}

// wait= takes a function of the user (Locust's wait_time method).
func TestWaitFunction(t *testing.T) {
	t.Parallel()
	got, _, _ := runCounts(t, `
def index(u):
    u.get("/")

def pace(u):
    return 0.25

users = [user(name="U", tasks=[index], wait=pace)]
`, "-u", "1", "-t", "2s")
	if n := got["GET /"]; n < 5 || n > 12 {
		t.Errorf("%d requests in 2 s with a 0.25 s wait: the wait function was not used", n)
	}
}

// u.transaction times a group of requests as one row of its own, failed
// when a request in it failed.
func TestTransactions(t *testing.T) {
	t.Parallel()
	host, _ := targettest.Start(t, target.Options{})
	script := writeStar(t, `
def checkout(u):
    u.get("/delay/30")
    u.get("/status/503")

def buy(u):
    u.transaction("checkout", checkout)
    u.transaction("browse", lambda u: u.get("/delay/10"))

users = [user(name="U", tasks=[buy])]
`)
	out := filepath.Join(t.TempDir(), "s.json")
	r := horde(t, nil, "run", script, "-H", host, "--headless", "-u", "1", "--iterations", "3", "-t", "30s", "--json", out)
	if r.code != exitcode.Failed {
		t.Fatalf("exit %d, want 1 (a failed request)\n%s", r.code, r.stderr)
	}
	s := readSummary(t, out)
	var checkout, browse bool
	for _, e := range s.Endpoints {
		switch {
		case e.Method == "TRANSACTION" && e.Name == "checkout":
			checkout = e.Requests == 3 && e.Failures == 3 && e.Latency["min"] >= 30
		case e.Method == "TRANSACTION" && e.Name == "browse":
			browse = e.Requests == 3 && e.Failures == 0 && e.Latency["min"] >= 10
		}
	}
	if !checkout || !browse {
		t.Errorf("transaction rows wrong: %+v", s.Endpoints)
	}
	if c := s.endpointCounts(); c["GET /delay/30"] != 3 || c["GET /status/503"] != 3 {
		t.Errorf("the requests inside are rows too: %v", c)
	}
	for _, e := range s.Errors {
		if e.Method == "TRANSACTION" && e.Error != "1 request failed" {
			t.Errorf("transaction error %q, want %q", e.Error, "1 request failed")
		}
	}
}

// A shape runs other user classes per stage, reads the users running now
// and keeps state between calls — Locust's LoadTestShape with
// user_classes and get_current_user_count(), with Locust's semantics: a
// stage naming classes adds its users from them while the running ones
// stay, a stage naming none keeps the last classes, and a ramp down stops
// the newest users first.
func TestShapeStagesUserClasses(t *testing.T) {
	t.Parallel()
	host, srv := targettest.Start(t, target.Options{})
	script := writeStar(t, `
loaded = time.time()

def a(u):
    u.get("/status/200?a", name="A %d" % int((time.time() - loaded) * 10))

def b(u):
    u.get("/status/201?b", name="B %d" % int((time.time() - loaded) * 10))

A = user(name="A", tasks=[a], wait=constant(0.1))
B = user(name="B", tasks=[b], wait=constant(0.1))
users = [A, B]

def shape(t, s):
    stage = s.state.get("stage", 0)
    if stage == 0 and s.users == 3:
        stage = 1                      # every A is up: add B's
    elif stage == 1 and s.users == 6 and t - s.state["since"] >= 1:
        stage = 2                      # back to 3: the newest (the B's) go
    elif stage == 2 and t - s.state["since"] >= 2:
        return None
    if stage != s.state.get("stage", 0):
        s.state["stage"] = stage
        s.state["since"] = t
    return [(3, 100, [A]), (6, 100, ["B"]), (3, 100)][stage]
`)
	out := filepath.Join(t.TempDir(), "s.json")
	r := horde(t, nil, "run", script, "-H", host, "--headless", "-t", "60s", "--json", out)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	c := srv.Counts()
	if c["GET /status/200"] == 0 || c["GET /status/201"] == 0 {
		t.Fatalf("served %v: want both stages' classes", c)
	}
	s := readSummary(t, out)
	if s.DurationS > 15 || s.UsersPeak != 6 {
		t.Errorf("the test ran %.1f s with a peak of %d users, want 6", s.DurationS, s.UsersPeak)
	}
	// Rows are named by the tenth of a second they ran in.
	firstA, lastA, firstB, lastB := 1<<30, -1, 1<<30, -1
	for _, e := range s.Endpoints {
		var at int
		if _, err := fmt.Sscanf(e.Name[2:], "%d", &at); err != nil {
			t.Fatalf("row %q", e.Name)
		}
		if e.Name[0] == 'A' {
			firstA, lastA = min(firstA, at), max(lastA, at)
		} else {
			firstB, lastB = min(firstB, at), max(lastB, at)
		}
	}
	tenth := func(v int) float64 { return float64(v) / 10 }
	switch {
	case firstB < firstA+5:
		t.Errorf("B began at %.1f s, A at %.1f s: no B belongs in the first stage", tenth(firstB), tenth(firstA))
	case lastA < lastB+5:
		t.Errorf("A ran until %.1f s, B until %.1f s: the A's stay through the B stage and after it (the newest, the B's, go first)",
			tenth(lastA), tenth(lastB))
	}
}

// --csv-full-history writes a history row per endpoint and second.
func TestCSVFullHistory(t *testing.T) {
	t.Parallel()
	host, _ := targettest.Start(t, target.Options{})
	script := writeStar(t, `
def a(u):
    u.get("/status/200")
    u.get("/status/201")

users = [user(name="U", tasks=[a], wait=constant(0.1))]
`)
	prefix := filepath.Join(t.TempDir(), "run")
	r := horde(t, nil, "run", script, "-H", host, "--headless", "-u", "2", "-t", "3s", "--csv", prefix, "--csv-full-history")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	b, err := os.ReadFile(prefix + "_stats_history.csv")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, row := range []string{",GET,/status/200,", ",GET,/status/201,", ",,Aggregated,"} {
		if strings.Count(text, row) < 2 {
			t.Errorf("fewer than 2 history rows with %q:\n%s", row, text)
		}
	}
	if r := horde(t, nil, "run", script, "-H", host, "--headless", "--csv-full-history"); r.code != exitcode.BadInput {
		t.Errorf("--csv-full-history without --csv: exit %d, want 2", r.code)
	}
}
