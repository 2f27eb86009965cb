package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/horde-load/horde/internal/stats"
)

// htmlFixture is fixture() with a realistic history: users ramp to 50 in
// 20 s, a burst of failures around 40 s and a latency bump with it.
func htmlFixture() stats.Snapshot {
	s := fixture()
	s.Dropped = 12
	s.History = make([]stats.HistoryPoint, 0, 66)
	for i := range 66 {
		users := min(i*5/2, 50)
		rps := float64(users)*0.5 + float64(i%7)/4
		fails := 0.0
		p50, p95, p99 := 9+float64(i%5)/2, 80+float64(i%9)*3, 130+float64(i%11)*4
		if i >= 38 && i <= 46 {
			fails = rps * 0.8
			p95, p99 = p95*1.6, p99*1.9
		}
		s.History = append(s.History, stats.HistoryPoint{
			Time: t0.Add(time.Duration(i) * time.Second), Users: users,
			CurrentRPS: rps, CurrentFailPerSec: fails, P50: p50, P95: p95, P99: p99,
		})
	}
	return s
}

func htmlMeta() Meta {
	return Meta{
		UsersPeak: 50, Host: "http://127.0.0.1:8080",
		Workers: []WorkerInfo{{ID: "worker-a1", State: "running", Users: 25}, {ID: "worker-b2", State: "missing", Users: 25}},
		Thresholds: []ThresholdResult{
			{Expr: "p95 < 200", Value: 150.125, Passed: true},
			{Expr: "failures/requests < 0.01", Value: 0.2033, Passed: false},
		},
	}
}

func renderHTML(t testing.TB, snap stats.Snapshot, meta Meta) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, snap, meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestWriteHTMLGolden(t *testing.T) {
	t.Parallel()
	golden(t, "report.html.golden", renderHTML(t, htmlFixture(), htmlMeta()))
}

// parseHTML parses a report; the HTML parser accepts anything, so it also
// checks the page has one body holding the report's heading.
func parseHTML(t testing.TB, b []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if h1 := findAll(doc, "h1"); len(h1) != 1 || textOf(h1[0]) != "horde load test report" {
		t.Fatalf("report has no proper <h1>: %d found", len(h1))
	}
	return doc
}

func findAll(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && d.Data == tag {
			out = append(out, d)
		}
	}
	return out
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

// tagSequence lists the element names of a document in order: the shape of
// the page, which no text in it may change.
func tagSequence(doc *html.Node) []string {
	var out []string
	for d := range doc.Descendants() {
		if d.Type == html.ElementNode && d.Data != "wbr" { // a name may break after each /
			out = append(out, d.Data)
		}
	}
	return out
}

// checkSelfContained fails when the page could load anything: scripts,
// frames, images, stylesheets, or any URL other than a #fragment.
func checkSelfContained(t *testing.T, raw []byte, doc *html.Node) {
	t.Helper()
	for d := range doc.Descendants() {
		if d.Type != html.ElementNode {
			continue
		}
		switch d.Data {
		case "script", "link", "iframe", "frame", "object", "embed", "img", "base", "image", "use", "audio", "video", "source":
			t.Errorf("report has a <%s> element", d.Data)
		}
		for _, a := range d.Attr {
			switch strings.ToLower(a.Key) {
			case "src", "href", "srcset", "action", "formaction", "poster", "data", "background":
				if !strings.HasPrefix(a.Val, "#") {
					t.Errorf("<%s %s=%q> refers outside the page", d.Data, a.Key, a.Val)
				}
			}
			if strings.HasPrefix(strings.ToLower(a.Key), "on") {
				t.Errorf("<%s> has an event handler %s", d.Data, a.Key)
			}
		}
	}
	low := strings.ToLower(string(raw))
	for _, bad := range []string{"@import", "url(", "http://", "https://", "src=", "href="} {
		if strings.Contains(low, bad) {
			t.Errorf("report contains %q", bad)
		}
	}
}

func TestWriteHTMLSelfContained(t *testing.T) {
	t.Parallel()
	meta := htmlMeta()
	meta.Host = "" // the fixture's host is a URL; the scan below would match it
	tests := []struct {
		name string
		snap stats.Snapshot
		meta Meta
	}{
		{"fixture", htmlFixture(), meta},
		{"empty", stats.Snapshot{}, Meta{}},
		{"short history", fixture(), meta},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw := renderHTML(t, tt.snap, tt.meta)
			checkSelfContained(t, raw, parseHTML(t, raw))
		})
	}
}

// hostile is text an attacker controls: endpoint names, errors, tracebacks.
const hostile = `<script>alert(1)</script>"><img src=x onerror=alert(2)>&amp;</pre></td>`

func TestWriteHTMLEscapes(t *testing.T) {
	t.Parallel()
	snap := htmlFixture()
	snap.Endpoints[0].Name = hostile
	snap.Endpoints[1].Method = hostile
	snap.Errors[0].Name, snap.Errors[0].Error = hostile, hostile
	snap.Exceptions[0].Message, snap.Exceptions[0].Traceback = hostile, hostile
	snap.Warnings = []string{hostile}
	meta := htmlMeta()
	meta.Host = hostile
	meta.Workers[0].ID, meta.Workers[0].State = hostile, hostile
	meta.Thresholds[0].Expr = hostile
	raw := renderHTML(t, snap, meta)
	doc := parseHTML(t, raw)
	// The page has the same shape as with harmless text.
	if got, want := tagSequence(doc), tagSequence(parseHTML(t, renderHTML(t, htmlFixture(), htmlMeta()))); !equalStrings(got, want) {
		t.Errorf("hostile text changed the page's elements:\n got %v\nwant %v", got, want)
	}
	if bytes.Contains(raw, []byte("<script>alert")) || bytes.Contains(raw, []byte("<img")) {
		t.Error("hostile text written unescaped")
	}
	// And the text reads as it was given: in the title, 2 table cells
	// per table row it is in, the error, traceback, warning.
	n := 0
	for _, tag := range []string{"title", "td", "dd", "li", "pre", "div"} {
		for _, el := range findAll(doc, tag) {
			if strings.Contains(textOf(el), hostile) {
				n++
			}
		}
	}
	// td: stats name, pct name, stats type, pct type, failure name, error,
	// exception cell, worker id, worker state, threshold; dd host; li; pre;
	// div; title.
	if n < 15 {
		t.Errorf("hostile text shown verbatim %d times, want at least 15", n)
	}
}

func equalStrings(a, b []string) bool {
	return len(a) == len(b) && strings.Join(a, "\x00") == strings.Join(b, "\x00")
}

func TestWriteHTMLContent(t *testing.T) {
	t.Parallel()
	snap := htmlFixture()
	doc := parseHTML(t, renderHTML(t, snap, htmlMeta()))
	text := textOf(doc)
	for _, want := range []string{
		"2025-03-01 12:00:00 – 12:01:05 UTC", "1m05s", "http://127.0.0.1:8080",
		"1 of 2 passed", "PASS", "FAIL", "p95 < 200", "150.125",
		"Dropped iterations", "worker-b2", "missing",
		"more than 1000 endpoint names", "HTTPError: 503 Service Unavailable",
		"script.star:12:9: in login",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(text, "No history") {
		t.Error(`report with history says "No history"`)
	}
	if got := len(findAll(doc, "svg")); got != 3 {
		t.Errorf("%d charts, want 3", got)
	}
	stats, pcts := rowsOf(byID(t, doc, "requests")), rowsOf(byID(t, doc, "percentiles"))
	if len(stats) != 4 || len(pcts) != 4 {
		t.Fatalf("stats has %d rows, percentiles %d; want 4 each", len(stats), len(pcts))
	}
	if stats[3][1] != "Aggregated" || stats[3][2] != "1500" || stats[3][3] != "305 20.33%" {
		t.Errorf("aggregated row = %q", stats[3])
	}
	// Percentiles of a row with a histogram are exact; p60 of a row
	// without one is the nearest stored percentile, marked ≈.
	root := snap.Endpoints[0]
	for i, q := range htmlPercentiles() {
		if want := fmtMs(root.Percentile(q)); pcts[0][2+i] != want {
			t.Errorf("GET / p%g = %s, want %s", q*100, pcts[0][2+i], want)
		}
	}
	login := snap.Endpoints[1]
	if got, want := pcts[1][3], "≈"+fmtMs(login.Latency.P50); got != want {
		t.Errorf("POST /login p60 = %s, want %s", got, want)
	}
	if got, want := pcts[1][6], fmtMs(login.Latency.P90); got != want {
		t.Errorf("POST /login p90 = %s, want %s (stored, not marked)", got, want)
	}
}

// byID returns the element with the id.
func byID(t testing.TB, doc *html.Node, id string) *html.Node {
	t.Helper()
	for d := range doc.Descendants() {
		for _, a := range d.Attr {
			if a.Key == "id" && a.Val == id {
				return d
			}
		}
	}
	t.Fatalf("no element with id %q", id)
	return nil
}

// rowsOf returns the text of every body cell of a table, row by row.
func rowsOf(table *html.Node) [][]string {
	var rows [][]string
	for _, tr := range findAll(table, "tr") {
		var cells []string
		for _, td := range findAll(tr, "td") {
			cells = append(cells, textOf(td))
		}
		if cells != nil {
			rows = append(rows, cells)
		}
	}
	return rows
}

func TestWriteHTMLEmpty(t *testing.T) {
	t.Parallel()
	raw := renderHTML(t, stats.Snapshot{}, Meta{})
	doc := parseHTML(t, raw)
	text := textOf(doc)
	for _, want := range []string{"No history", "Aggregated", "Period—"} {
		if !strings.Contains(text, want) {
			t.Errorf("empty report lacks %q", want)
		}
	}
	for _, absent := range []string{"Failures</h2>", "Script errors", "Thresholds", "Warnings", "Dropped", "<svg"} {
		if bytes.Contains(raw, []byte(absent)) {
			t.Errorf("empty report shows %q", absent)
		}
	}
}

func TestWriteHTMLManyEndpoints(t *testing.T) {
	t.Parallel()
	snap := htmlFixture()
	dur := snap.Duration
	snap.Endpoints = nil
	for i := range 1000 {
		snap.Endpoints = append(snap.Endpoints,
			exactRow("GET", fmt.Sprintf("/api/v1/items/%04d", i), samples(20, float64(i%50)), int64(i%3), 100, dur))
	}
	hist := snap.History
	snap.History = nil
	for i := range 3600 {
		p := hist[i%len(hist)]
		p.Time = t0.Add(time.Duration(i) * time.Second)
		snap.History = append(snap.History, p)
	}
	raw := renderHTML(t, snap, htmlMeta())
	if len(raw) > 2<<20 {
		t.Errorf("report is %d bytes, want ≤ 2 MiB", len(raw))
	}
	doc := parseHTML(t, raw)
	if got := len(rowsOf(byID(t, doc, "requests"))); got != 1001 {
		t.Errorf("stats table has %d rows, want 1001", got)
	}
	for _, pl := range findAll(doc, "polyline") {
		for _, a := range pl.Attr {
			if a.Key == "points" {
				if n := len(strings.Fields(a.Val)); n > maxChartPoints {
					t.Errorf("a series has %d points, want ≤ %d", n, maxChartPoints)
				}
			}
		}
	}
}

func TestWriteHTMLWriteError(t *testing.T) {
	t.Parallel()
	if err := WriteHTML(errWriter{}, fixture(), Meta{}); err == nil {
		t.Error("WriteHTML to a failing writer returned nil")
	}
}

// FuzzWriteHTMLText checks that no text in the statistics can change the
// page's structure, and that valid text reads back as given.
func FuzzWriteHTMLText(f *testing.F) {
	for _, s := range []string{"", "/", hostile, "]]><!--", "</style><style>", "\x00\r\n\t", "&lt;", "{{.Host}}", "\xff\xfe"} {
		f.Add(s)
	}
	want := tagSequence(parseHTML(f, renderHTML(f, fixture(), Meta{Host: "h"})))
	f.Fuzz(func(t *testing.T, s string) {
		snap := fixture()
		snap.Endpoints[0].Name = s
		snap.Errors[0].Error = s
		snap.Exceptions[0].Traceback = "tb" + s // an empty one is left out
		snap.Warnings = []string{s}
		doc := parseHTML(t, renderHTML(t, snap, Meta{Host: s}))
		if got := tagSequence(doc); !equalStrings(got, want) {
			t.Fatalf("text %q changed the page's elements", s)
		}
		if !utf8.ValidString(s) || strings.ContainsAny(s, "\x00\r") {
			return // the parser normalises these
		}
		if got := rowsOf(byID(t, doc, "requests"))[0][1]; got != s {
			t.Errorf("name reads %q, want %q", got, s)
		}
	})
}

func BenchmarkWriteHTML(b *testing.B) {
	snap, meta := htmlFixture(), htmlMeta()
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteHTML(io.Discard, snap, meta); err != nil {
			b.Fatal(err)
		}
	}
}
