package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/horde-load/horde/internal/stats"
)

func TestWriteTableGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		snap stats.Snapshot
		opts TableOptions
	}{
		{"table.golden", fixture(), TableOptions{}},
		{"table_narrow.golden", fixture(), TableOptions{Width: 100, MaxErrorWidth: 40}},
		{"table_empty.golden", stats.Snapshot{}, TableOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := WriteTable(&buf, tt.snap, tt.opts); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, buf.Bytes())
		})
	}
}

// tableLines renders the table and returns its lines.
func tableLines(t *testing.T, snap stats.Snapshot, opts TableOptions) []string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteTable(&buf, snap, opts); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
}

func TestWriteTableContent(t *testing.T) {
	t.Parallel()
	lines := tableLines(t, fixture(), TableOptions{MaxNameWidth: 30})
	out := strings.Join(lines, "\n")
	for _, want := range []string{
		"/profile/with/a/very/long/nam…", // truncated to 30 runes
		"305 (20.33%)",                   // aggregate failures with share
		"HTTPError: 503 Service Unavailable",
		"expect status 200, got 404 body", // newline in an error flattened
		"script.star:12:9: in login",      // traceback shown
		"- more than 1000 endpoint names", // warnings listed
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// The aggregate is the last row of the statistics table, after a separator.
	var agg int
	for i, l := range lines {
		if strings.Contains(l, "Aggregated") {
			agg = i
		}
	}
	if agg == 0 || !strings.HasPrefix(lines[agg-1], "----") || lines[agg+1] != "" {
		t.Errorf("aggregate row misplaced at line %d:\n%s", agg, out)
	}
	// Failures come most frequent first.
	if i, j := strings.Index(out, "got 404"), strings.Index(out, "503 Service"); i > j {
		t.Error("failures not sorted by count, most frequent first")
	}
}

func TestWriteTableFitsWidth(t *testing.T) {
	t.Parallel()
	for _, maxw := range []int{40, 100, 160} {
		for _, l := range tableLines(t, fixture(), TableOptions{Width: maxw}) {
			if w := textWidth(l); w > maxw {
				t.Errorf("width %d: line of %d columns: %q", maxw, w, l)
			}
		}
	}
}

func TestWriteTableOmitsEmptySections(t *testing.T) {
	t.Parallel()
	snap := fixture()
	snap.Errors, snap.Exceptions, snap.Warnings = nil, nil, nil
	out := strings.Join(tableLines(t, snap, TableOptions{}), "\n")
	if strings.Contains(out, "Failures") || strings.Contains(out, "Script errors") || strings.Contains(out, "Warnings") {
		t.Errorf("sections shown without failures or errors:\n%s", out)
	}
}

func TestWriteTableNoEscapeSequences(t *testing.T) {
	t.Parallel()
	snap := fixture()
	snap.Endpoints[0].Name = "/evil\x1b[2J\x1b[H"
	snap.Errors[0].Error = "boom\x1b]0;title\a"
	out := strings.Join(tableLines(t, snap, TableOptions{}), "\n")
	if strings.ContainsAny(out, "\x1b\a") {
		t.Errorf("control characters reached the terminal: %q", out)
	}
}

func TestWriteTableError(t *testing.T) {
	t.Parallel()
	if err := WriteTable(errWriter{}, fixture(), TableOptions{}); err == nil {
		t.Error("WriteTable to a failing writer returned nil")
	}
}

func TestTracebackLinesCap(t *testing.T) {
	t.Parallel()
	tb := strings.Repeat("frame\n", 30)
	got := tracebackLines(tb, 5)
	if len(got) != 5 || got[4] != "… 26 more lines" {
		t.Errorf("tracebackLines = %q", got)
	}
}
