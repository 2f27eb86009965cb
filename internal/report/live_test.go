package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/stats"
)

func liveStatus() Status {
	return Status{State: "running", Users: 50, TargetUsers: 100, Elapsed: 65 * time.Second,
		RunTime: 5 * time.Minute, Dropped: 3, Workers: 2}
}

// early is the fixture as it looked after 2 seconds.
func early() stats.Snapshot {
	s := fixture()
	s.Time = t0.Add(2 * time.Second)
	s.Endpoints = s.Endpoints[:1]
	s.Endpoints[0].Requests, s.Endpoints[0].Failures = 22, 1
	s.Total.Requests, s.Total.Failures = 22, 1
	return s
}

func TestLiveGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tty  bool
	}{
		{"live_plain.golden", false},
		{"live_tty.golden", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			l := NewLive(&buf, Terminal{TTY: tt.tty, Width: 120})
			st := liveStatus()
			st.State, st.Elapsed = "spawning", 2*time.Second
			if err := l.Update(stats.Snapshot{Time: t0}, Status{State: "spawning"}); err != nil {
				t.Fatal(err)
			}
			if err := l.Update(early(), st); err != nil {
				t.Fatal(err)
			}
			if err := l.Update(fixture(), liveStatus()); err != nil {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, []byte(visible(buf.String())))
		})
	}
}

var cursorUp = regexp.MustCompile("\r\x1b\\[(\\d+)A\x1b\\[J")

// TestLiveTTYRedrawsInPlace checks that each frame moves the cursor up by
// exactly the number of lines the previous frame printed, and that no line
// is wide enough to wrap (which would make that count wrong).
func TestLiveTTYRedrawsInPlace(t *testing.T) {
	t.Parallel()
	for _, width := range []int{50, 80, 200} {
		var buf bytes.Buffer
		l := NewLive(&buf, Terminal{TTY: true, Width: width})
		snaps := []stats.Snapshot{{Time: t0}, early(), fixture(), manyEndpoints(25), fixture()}
		for _, s := range snaps {
			if err := l.Update(s, liveStatus()); err != nil {
				t.Fatal(err)
			}
		}
		out := buf.String()
		frames := cursorUp.Split(out, -1)
		moves := cursorUp.FindAllStringSubmatch(out, -1)
		if len(frames) != len(snaps) || len(moves) != len(snaps)-1 {
			t.Fatalf("width %d: %d frames and %d cursor moves for %d updates", width, len(frames), len(moves), len(snaps))
		}
		for i, m := range moves {
			up, _ := strconv.Atoi(m[1])
			if printed := strings.Count(frames[i], "\n"); up != printed {
				t.Errorf("width %d: frame %d printed %d lines but the next moved up %d", width, i, printed, up)
			}
		}
		for _, line := range strings.Split(cursorUp.ReplaceAllString(out, ""), "\n") {
			if w := textWidth(line); w >= width {
				t.Errorf("width %d: line of %d columns would wrap: %q", width, w, line)
			}
			if strings.Contains(line, "\x1b") {
				t.Errorf("stray escape in %q", line)
			}
		}
	}
}

func manyEndpoints(n int) stats.Snapshot {
	s := fixture()
	s.Endpoints = nil
	for i := range n {
		r := exactRow("GET", fmt.Sprintf("/item/%02d", i), samples(10+i, 1), 0, 100, s.Duration)
		s.Endpoints = append(s.Endpoints, r)
	}
	return s
}

func TestLiveTopEndpoints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		height   int // 0: not set
		wantRows int
		wantMore string
	}{
		{"default ten", 0, 10, "… and 15 more"},
		{"tall terminal still ten", 60, 10, "… and 15 more"},
		{"short terminal", 12, 5, "… and 20 more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			l := NewLive(&buf, Terminal{TTY: true, Width: 120, Height: tt.height})
			if err := l.Update(manyEndpoints(25), liveStatus()); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if got := strings.Count(out, "/item/"); got != tt.wantRows {
				t.Errorf("%d endpoint rows, want %d:\n%s", got, tt.wantRows, out)
			}
			// The busiest endpoint (most requests) comes first.
			if !strings.Contains(out, "/item/24") || strings.Contains(out, "/item/00") {
				t.Errorf("not the busiest endpoints:\n%s", out)
			}
			if !strings.Contains(out, tt.wantMore) {
				t.Errorf("missing %q:\n%s", tt.wantMore, out)
			}
			if tt.height > 0 {
				if lines := strings.Count(out, "\n"); lines >= tt.height {
					t.Errorf("frame of %d lines does not fit %d", lines, tt.height)
				}
			}
		})
	}
}

func TestLivePlainLine(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := NewLive(&buf, Terminal{})
	for range 3 {
		if err := l.Update(fixture(), liveStatus()); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines for 3 updates", len(lines))
	}
	want := "2025-03-01T12:01:05Z state=running users=50/100 elapsed=1m05s reqs=1500 fails=305 rps=25.4 fail=20.33% p50=122ms p95=260ms p99=319ms dropped=3"
	if lines[0] != want {
		t.Errorf("line\n got %s\nwant %s", lines[0], want)
	}
	if strings.Contains(buf.String(), "\x1b") {
		t.Error("escape sequences in non-TTY output")
	}
}

func TestLiveWriteError(t *testing.T) {
	t.Parallel()
	for _, tty := range []bool{false, true} {
		if err := NewLive(errWriter{}, Terminal{TTY: tty, Width: 80}).Update(fixture(), liveStatus()); err == nil {
			t.Errorf("tty=%v: Update to a failing writer returned nil", tty)
		}
	}
}

func TestLiveCloseKeepsFrame(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := NewLive(&buf, Terminal{TTY: true, Width: 100})
	if err := l.Update(fixture(), liveStatus()); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	before := buf.Len()
	// A frame after Close starts below the last one instead of erasing it.
	if err := l.Update(fixture(), liveStatus()); err != nil {
		t.Fatal(err)
	}
	if cursorUp.MatchString(buf.String()[before:]) || buf.Len() == before {
		t.Error("Close did not leave the previous frame in place")
	}
}
