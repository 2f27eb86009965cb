package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/horde-load/horde/internal/stats"
)

// Status is what the live view shows besides the statistics.
type Status struct {
	State       string // e.g. "spawning", "running", "stopping"
	Users       int
	TargetUsers int // 0 when there is no target (open model)
	Elapsed     time.Duration
	RunTime     time.Duration // 0 when the run has no time limit
	Dropped     int64         // open-model iterations that found no free user
	Workers     int           // 0 hides the count (standalone)
	ArrivalRate float64       // open model: arrivals per second (0: closed)
	Shape       string        // what the load shape does now ("": none)
}

const (
	// defaultLiveRows is how many endpoints the TTY view shows at most.
	defaultLiveRows = 10
	// liveOverhead is the lines of a frame besides the endpoint rows:
	// status, header, two separators, aggregate and "… and K more".
	liveOverhead = 6
	// defaultLiveWidth is used when the caller does not know the width.
	defaultLiveWidth = 80
)

// Live prints the statistics while a headless run goes on. On a TTY it
// redraws a compact table in place; otherwise it prints one plain line per
// update, easy to grep in CI logs. It is safe for concurrent use.
type Live struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	width   int
	maxRows int
	drawn   int // lines of the frame on screen, to move back over
}

// Terminal is where the live view draws: TTY selects in-place redrawing;
// Width is the terminal's width in columns (0 means 80) and Height its
// height in lines (0: unknown).
type Terminal struct {
	TTY           bool
	Width, Height int
}

// NewLive returns a live view writing to w on term. The view shows at
// most 10 endpoints, fewer on a short terminal, so that a frame never
// scrolls (redrawing in place cannot reach lines scrolled off the screen).
func NewLive(w io.Writer, term Terminal) *Live {
	l := &Live{w: w, tty: term.TTY, width: term.Width, maxRows: defaultLiveRows}
	if l.width <= 0 {
		l.width = defaultLiveWidth
	}
	if term.Height > 0 {
		// One line stays free for the cursor below the frame.
		l.maxRows = min(defaultLiveRows, max(1, term.Height-liveOverhead-1))
	}
	return l
}

// Update shows snap. On a TTY it replaces the previous frame.
func (l *Live) Update(snap stats.Snapshot, st Status) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.tty {
		if _, err := io.WriteString(l.w, plainLine(snap, st)+"\n"); err != nil {
			return fmt.Errorf("report: write live line: %w", err)
		}
		return nil
	}
	lines := liveFrame(snap, st, l.maxRows, l.width-1)
	var b strings.Builder
	if l.drawn > 0 {
		// Back to the first column of the previous frame, then clear to
		// the end of the screen.
		fmt.Fprintf(&b, "\r\x1b[%dA\x1b[J", l.drawn)
	}
	writeLines(&b, lines)
	l.drawn = 0
	if _, err := io.WriteString(l.w, b.String()); err != nil {
		return fmt.Errorf("report: write live frame: %w", err)
	}
	l.drawn = len(lines)
	return nil
}

// Close ends the live view. It clears nothing: the last frame stays on the
// screen and what is written next (the final table) follows below it.
func (l *Live) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.drawn = 0
	return nil
}

// plainLine is one greppable key=value line for logs.
func plainLine(snap stats.Snapshot, st Status) string {
	t := snap.Total
	fields := []string{
		snap.Time.UTC().Format(time.RFC3339),
		"state=" + orDash(st.State),
		"users=" + fmtUsers(st),
		"elapsed=" + fmtDuration(st.Elapsed),
		"reqs=" + fmtCount(t.Requests),
		"fails=" + fmtCount(t.Failures),
		"rps=" + fmtRate(t.CurrentRPS),
		"fail=" + fmtPct(ratio(t.Failures, t.Requests)),
		"p50=" + fmtMs(t.Latency.P50) + "ms",
		"p95=" + fmtMs(t.Latency.P95) + "ms",
		"p99=" + fmtMs(t.Latency.P99) + "ms",
	}
	if st.ArrivalRate > 0 {
		fields = append(fields, "rate="+fmtRate(st.ArrivalRate)+"/s")
	}
	if st.Dropped > 0 {
		fields = append(fields, "dropped="+fmtCount(st.Dropped))
	}
	if st.Shape != "" {
		fields = append(fields, "shape="+strconv.Quote(st.Shape))
	}
	return sanitize(strings.Join(fields, " "))
}

// liveFrame is the TTY frame: a status line and the busiest endpoints.
// Rates are over the sliding window, response times (ms) over the run.
func liveFrame(snap stats.Snapshot, st Status, maxRows, maxWidth int) []string {
	g := &grid{cols: []column{
		{header: "Type"}, {header: "Name", max: 60, flex: true},
		{header: "# reqs", right: true}, {header: "# fails", right: true},
		{header: "Avg", right: true}, {header: "Med", right: true},
		{header: "p95", right: true}, {header: "p99", right: true},
		{header: "req/s", right: true}, {header: "fail/s", right: true},
	}}
	g.sep()
	top := slices.Clone(snap.Endpoints)
	slices.SortStableFunc(top, func(a, b stats.Row) int {
		if c := compareDesc(a.Requests, b.Requests); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Method, b.Method))
	})
	more := 0
	if len(top) > maxRows {
		more, top = len(top)-maxRows, top[:maxRows]
	}
	for _, r := range top {
		g.add(liveCells(r)...)
	}
	if more > 0 {
		g.text(fmt.Sprintf("%s and %d more", ellipsis, more))
	}
	if len(top) > 0 {
		g.sep()
	}
	total := snap.Total
	total.Method, total.Name = "", "Aggregated"
	g.add(liveCells(total)...)
	status := truncate(sanitize(statusLine(snap, st)), maxWidth)
	return append([]string{status}, g.lines(maxWidth)...)
}

func liveCells(r stats.Row) []string {
	l := r.Latency
	lat := []string{fmtMs(l.Avg), fmtMs(l.P50), fmtMs(l.P95), fmtMs(l.P99)}
	if r.Requests == 0 {
		lat = []string{"-", "-", "-", "-"}
	}
	cells := []string{r.Method, r.Name, fmtCount(r.Requests), fmtFails(r.Failures, r.Requests)}
	cells = append(cells, lat...)
	return append(cells, fmtRate(r.CurrentRPS), fmtRate(r.CurrentFailPerSec))
}

func statusLine(snap stats.Snapshot, st Status) string {
	t := snap.Total
	elapsed := fmtDuration(st.Elapsed)
	if st.RunTime > 0 {
		elapsed += "/" + fmtDuration(st.RunTime)
	}
	parts := []string{
		orDash(st.State),
		"users " + fmtUsers(st),
		"elapsed " + elapsed,
		"rps " + fmtRate(t.CurrentRPS),
		"fail " + fmtPct(ratio(t.Failures, t.Requests)),
	}
	if st.Workers > 0 {
		parts = append(parts, "workers "+fmt.Sprint(st.Workers))
	}
	if st.ArrivalRate > 0 {
		parts = append(parts, "rate "+fmtRate(st.ArrivalRate)+"/s")
	}
	if st.Dropped > 0 {
		parts = append(parts, "dropped "+fmtCount(st.Dropped))
	}
	if st.Shape != "" {
		parts = append(parts, st.Shape)
	}
	return strings.Join(parts, gap)
}

func fmtUsers(st Status) string {
	if st.TargetUsers > 0 {
		return fmt.Sprintf("%d/%d", st.Users, st.TargetUsers)
	}
	return fmt.Sprint(st.Users)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
