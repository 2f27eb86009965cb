package cli

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/exitcode"
)

// The ports of Locust's custom_shape examples (see TestLocustExamples):
// their user counts over time, read from the live view's lines.

// liveLine is one line of the live view: the users running, the
// shape's target, the time since the start.
type liveLine struct {
	users, target int
	elapsed       time.Duration
}

// liveUsers reads the live view's lines while the test spawns or runs,
// in order.
func liveUsers(t *testing.T, stdout string) []liveLine {
	t.Helper()
	re := regexp.MustCompile(`(?m) state=(?:spawning|running) users=(\d+)(?:/(\d+))? elapsed=(\S+) `)
	var out []liveLine
	for _, m := range re.FindAllStringSubmatch(stdout, -1) {
		var l liveLine
		l.users, _ = strconv.Atoi(m[1])
		l.target = l.users
		if m[2] != "" {
			l.target, _ = strconv.Atoi(m[2])
		}
		l.elapsed, _ = time.ParseDuration(m[3])
		out = append(out, l)
	}
	if len(out) == 0 {
		t.Fatalf("no live view lines:\n%s", stdout)
	}
	return out
}

// levels are the successive targets of the live lines, each with the
// elapsed time it first showed and whether the users reached it.
type level struct {
	target  int
	at      time.Duration
	reached bool
}

func levels(lines []liveLine) []level {
	var out []level
	for _, l := range lines {
		if len(out) == 0 || out[len(out)-1].target != l.target {
			out = append(out, level{target: l.target, at: l.elapsed})
		}
		if l.users == l.target {
			out[len(out)-1].reached = true
		}
	}
	return out
}

func targetsOf(ls []level) []int {
	var out []int
	for _, l := range ls {
		out = append(out, l.target)
	}
	return out
}

// wantLevels checks the levels' targets, that each but the last was
// reached (the last may end before its ramp does), and the elapsed time
// each began. horde asks a shape for its target once a second, on a
// ticker that runs a fraction of a millisecond ahead of the test's clock:
// a shape that changes at a whole second changes a second later than in
// Locust, hence the tolerance of a second and a half.
func wantLevels(t *testing.T, ls []level, targets []int, starts []float64) {
	t.Helper()
	if !slices.Equal(targetsOf(ls), targets) {
		t.Fatalf("user targets over time %v, want %v", targetsOf(ls), targets)
	}
	for i, l := range ls {
		if !l.reached && i < len(ls)-1 {
			t.Errorf("the users never reached %d", l.target)
		}
		if d := l.at.Seconds() - starts[i]; d < -1.5 || d > 1.5 {
			t.Errorf("the target %d began at %s, want about %gs", l.target, l.at, starts[i])
		}
	}
}

var shapeArgs = []string{"--print-interval", "200ms", "-t", "60s"}

// custom_shape/stages.py, ten times faster: 10, 50, 100, 30, 10 and 1
// users until 60, 100, 180, 220, 230 and 240 s (6, 10, 18, 22, 23, 24 s).
func stagesPort(t *testing.T) func(t *testing.T) {
	run := startPort(t, "stages", map[string]string{"SHAPE_SPEED": "10"}, exitcode.OK, shapeArgs...)
	return func(t *testing.T) {
		p := run.wait(t)
		wantLevels(t, levels(liveUsers(t, p.r.stdout)), []int{10, 50, 100, 30, 10, 1}, []float64{0, 6, 10, 18, 22, 23})
		if p.s.UsersPeak != 100 {
			t.Errorf("users_peak %d, want 100", p.s.UsersPeak)
		}
		inBounds(t, "the test's duration (s)", p.s.DurationS, 23, 27)
		servedAsCounted(t, p, nil)
	}
}

// custom_shape/step_load.py, ten times faster: 10 more users every 3 s;
// -t ends it after 11 s.
func stepLoadPort(t *testing.T) func(t *testing.T) {
	run := startPort(t, "step_load", map[string]string{"SHAPE_SPEED": "10"}, exitcode.OK, "--print-interval", "200ms", "-t", "11s")
	return func(t *testing.T) {
		p := run.wait(t)
		wantLevels(t, levels(liveUsers(t, p.r.stdout)), []int{10, 20, 30, 40}, []float64{0, 3, 6, 9})
		inBounds(t, "the test's duration (s)", p.s.DurationS, 10.5, 12)
		servedAsCounted(t, p, nil)
	}
}

// custom_shape/double_wave.py, 25 times faster: 20 users, a wave to 60
// at 200 s (8 s), back to 20, a wave to 40 at 400 s (16 s), over at 600 s
// (24 s).
func doubleWavePort(t *testing.T) func(t *testing.T) {
	run := startPort(t, "double_wave", map[string]string{"SHAPE_SPEED": "25"}, exitcode.OK, shapeArgs...)
	return func(t *testing.T) {
		p := run.wait(t)
		ls := levels(liveUsers(t, p.r.stdout))
		targets := targetsOf(ls)
		peak1 := slices.Index(targets, 60)
		trough := peak1 + slices.Index(targets[max(peak1, 0):], 20)
		peak2 := trough + slices.Index(targets[max(trough, 0):], 40)
		if targets[0] != 20 || peak1 < 0 || trough < peak1 || peak2 < trough || slices.Max(targets[trough:]) != 40 {
			t.Fatalf("user targets over time %v: want 20, up to 60, down to 20, up to 40", targets)
		}
		for _, c := range []struct {
			what string
			at   time.Duration
			want float64
		}{{"the first peak", ls[peak1].at, 8}, {"the second peak", ls[peak2].at, 16}} {
			inBounds(t, c.what+" (s)", c.at.Seconds(), c.want-1.5, c.want+1.5)
		}
		if p.s.UsersPeak != 60 {
			t.Errorf("users_peak %d, want 60", p.s.UsersPeak)
		}
		inBounds(t, "the test's duration (s)", p.s.DurationS, 23, 27)
		servedAsCounted(t, p, nil)
	}
}

// custom_shape/wait_user_count.py, ten times faster: 10, 20 and 10 users,
// each held for its dwell once reached, then the shape ends the test.
func waitUserCountPort(t *testing.T) func(t *testing.T) {
	run := startPort(t, "wait_user_count", map[string]string{"SHAPE_SPEED": "10"}, exitcode.OK, shapeArgs...)
	return func(t *testing.T) {
		p := run.wait(t)
		ls := levels(liveUsers(t, p.r.stdout))
		if got := targetsOf(ls); !slices.Equal(got, []int{10, 20, 10}) {
			t.Fatalf("user targets over time %v, want [10 20 10]", got)
		}
		// Each level: a call to see the count reached, the dwell (1, 1.5 and
		// 1 s), a call to see it passed; about 12 s in all.
		for i, least := range []float64{2, 2.5} {
			inBounds(t, fmt.Sprintf("how long %d users were asked for (s)", ls[i].target), (ls[i+1].at - ls[i].at).Seconds(), least, least+3)
		}
		if p.s.UsersPeak != 20 {
			t.Errorf("users_peak %d, want 20", p.s.UsersPeak)
		}
		inBounds(t, "the test's duration (s)", p.s.DurationS, 9, 16)
		servedAsCounted(t, p, nil)
	}
}

// custom_shape/staging_user_classes.py, ten times faster: the stages of
// stages.py, the first with WebsiteUserA only, the second with
// WebsiteUserB, the third with A, then none named. As in Locust, the B's
// started in the second stage keep running through the third and fourth
// (60 A + 40 B, then 10 A + 20 B) and go in the fifth (10 A).
func stagingUserClassesPort(t *testing.T) func(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "run")
	run := startPort(t, "staging_user_classes", map[string]string{"SHAPE_SPEED": "10"}, exitcode.OK,
		append([]string{"--csv", prefix, "--csv-full-history"}, shapeArgs...)...)
	return func(t *testing.T) {
		p := run.wait(t)
		wantLevels(t, levels(liveUsers(t, p.r.stdout)), []int{10, 50, 100, 30, 10, 1}, []float64{0, 6, 10, 18, 22, 23})
		if p.s.UsersPeak != 100 {
			t.Errorf("users_peak %d, want 100", p.s.UsersPeak)
		}
		// The per-endpoint history: when each class's row first shows.
		b, err := os.ReadFile(prefix + "_stats_history.csv")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		total := slices.Index(strings.Split(lines[0], ","), "Total Request Count")
		if total < 0 {
			t.Fatalf("no Total Request Count column: %s", lines[0])
		}
		// first: a class's first row; lastBusy: the last second its count grew.
		first, lastBusy, count := map[string]int64{}, map[string]int64{}, map[string]int64{}
		for _, line := range lines[1:] {
			f := strings.Split(line, ",")
			if len(f) <= total {
				continue
			}
			ts, err := strconv.ParseInt(f[0], 10, 64)
			n, err2 := strconv.ParseInt(f[total], 10, 64)
			if err != nil || err2 != nil {
				continue
			}
			if _, seen := first[f[3]]; !seen {
				first[f[3]] = ts
			}
			if n > count[f[3]] {
				count[f[3]], lastBusy[f[3]] = n, ts
			}
		}
		a, okA := first["/ (A)"]
		bFirst, okB := first["/ (B)"]
		if !okA || !okB {
			t.Fatalf("history rows of %v: want both classes'", slices.Collect(maps.Keys(first)))
		}
		if bFirst-a < 5 {
			t.Errorf("WebsiteUserB ran %d s after WebsiteUserA began: want none in the first stage (6 s)", bFirst-a)
		}
		// The B's run through the third and fourth stages (10–22 s), as in
		// Locust; a master that stopped them when the third stage named A
		// would have them gone at 10 s.
		if lastBusy["/ (B)"]-a < 16 || lastBusy["/ (A)"] < lastBusy["/ (B)"] {
			t.Errorf("WebsiteUserB busy until %d s, WebsiteUserA until %d s (from A's start): want B through the fourth stage (~22 s), A after it",
				lastBusy["/ (B)"]-a, lastBusy["/ (A)"]-a)
		}
		if p.got["GET / (A)"] == 0 || p.got["GET / (B)"] == 0 {
			t.Errorf("counts %v: want both classes", p.got)
		}
		servedAsCounted(t, p, map[string]string{"GET / (A)": "GET /", "GET / (B)": "GET /"})
	}
}
