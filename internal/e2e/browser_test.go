package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/horde-load/horde/internal/target"
	"github.com/horde-load/horde/internal/target/targettest"
)

// chromium finds Debian's chromium (or another Chrome) or skips the test
// with the reason. CI installs chromium, so there it never skips.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("browser test skipped: no chromium on PATH (apt-get install chromium)")
	return ""
}

// artifactDir is where the browser test leaves its screenshots:
// $HORDE_ARTIFACTS, or .artifacts/ at the top of the repository
// (ignored by git).
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("HORDE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", ".artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

// page drives one browser tab against the web UI.
type page struct {
	t   *testing.T
	ctx context.Context
}

func newPage(t *testing.T) *page {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, // CI runs as root
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-component-update", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting chromium: %v", err)
	}
	return &page{t: t, ctx: ctx}
}

// byID selects the element with data-testid id.
func byID(id string) chromedp.CSS { return chromedp.CSS(`[data-testid="` + id + `"]`) }

// run runs browser actions; a failure ends the test.
func (p *page) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.shot("failed")
		p.t.Fatalf("%s: %v", what, err)
	}
}

// get runs one browser action that returns a value; a failure ends the test.
func get[T any](p *page, what string, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		p.shot("failed")
		p.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// text is the visible text of the element with data-testid id.
func (p *page) text(id string) string {
	p.t.Helper()
	return strings.TrimSpace(get(p, "reading "+id, chromedp.TextContent(byID(id), chromedp.NodeVisible)))
}

// eval evaluates a JavaScript expression.
func eval[T any](p *page, js string) T {
	p.t.Helper()
	return get(p, "evaluating "+js, chromedp.Evaluate[T](js))
}

// until polls cond every 200 ms until it holds or d passes.
func (p *page) until(d time.Duration, what string, cond func() (bool, string)) {
	p.t.Helper()
	deadline := time.Now().Add(d)
	last := ""
	for {
		ok, now := cond()
		if ok {
			return
		}
		last = now
		if time.Now().After(deadline) {
			p.shot("failed")
			p.t.Fatalf("after %v: %s; last seen: %s", d, what, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// fill types value into the input with data-testid id, replacing what was there.
func (p *page) fill(id, value string) {
	p.t.Helper()
	sel := byID(id)
	p.run("typing into "+id,
		chromedp.WaitVisible(sel),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`(() => { const e = document.querySelector('`+string(sel)+`'); e.focus(); e.select(); return true })()`)(ctx, t)
			return err
		}),
		chromedp.SendKeys(sel, value))
	if got := get(p, "reading "+id, chromedp.Value(sel)); got != value {
		p.t.Fatalf("typed %q into %s, it holds %q", value, id, got)
	}
}

func (p *page) click(id string) {
	p.t.Helper()
	p.run("clicking "+id, chromedp.Click(byID(id), chromedp.NodeVisible))
}

// shot saves a full-page screenshot as an artifact and logs its path.
func (p *page) shot(name string) {
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(artifactDir(p.t), "browser-"+name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	p.t.Logf("screenshot: %s", path)
}

// points is the number of history points the chart with data-testid id holds.
func (p *page) points(id string) int {
	p.t.Helper()
	a := get(p, "reading "+id, chromedp.AttributeValue(byID(id), "data-points"))
	n, _ := strconv.Atoi(a.Value)
	return n
}

// The tutorial's web UI flow, in a real browser against a master and a
// worker process: start a test from the form, watch rows and charts
// update, reload mid-test and see the charts from the start, edit the
// users, stop, and download the reports.
func TestBrowserStartEditStopDownload(t *testing.T) {
	if _, err := os.Stat(filepath.Join("..", "webui", "dist", "index.html")); err != nil {
		t.Skip("browser test skipped: the web UI bundle is not built (make ui; make test does it)")
	}
	p := newPage(t)
	host, srv := targettest.Start(t, target.Options{})
	script := writeScript(t, `
def index(u):
    u.get("/")

def slow(u):
    u.get("/delay?ms=20", name="/delay")

users = [user(name="Browser", tasks={index: 2, slow: 1}, wait=constant(0.2))]
`)
	master := start(t, "master", nil, "master", script, "-H", host, "--bind", "127.0.0.1:0",
		"--web-host", "127.0.0.1", "--web-port", "0", "--auth-token", token)
	web := master.waitOutput(`web API listening" addr=(http://\S+)`, 15*time.Second)
	addr := master.waitOutput(`worker port open" addr=(\S+)`, 15*time.Second)
	startWorker(t, "w0", addr)
	waitWorkers(t, web, []int{0}, 15*time.Second)

	p.run("opening the UI", chromedp.Navigate(web+"/"), chromedp.WaitVisible(byID("start-button")))
	if got := p.text("state"); got != "ready" {
		t.Errorf("state before the test = %q, want ready", got)
	}

	// Like Locust's, an idle master greets with the start form.
	p.run("the start form greets", chromedp.WaitVisible(byID("test-form")))
	p.fill("input-users", "20")
	p.fill("input-spawn-rate", "10")
	p.click("submit-button")
	p.run("the form closes", chromedp.WaitNotPresent(byID("test-form")))
	p.until(10*time.Second, "state running with 20/20 users", func() (bool, string) {
		s := p.text("state") + " " + p.text("users")
		return s == "running 20/20", s
	})

	// Rows update: both endpoints appear, and the aggregated count grows.
	aggregated := func() int64 {
		return eval[int64](p, `(() => {
			const r = [...document.querySelectorAll('[data-testid="stat-row"]')].find(r => r.dataset.name === "Aggregated");
			return r ? Number(r.cells[2].textContent.replace(/[^0-9]/g, "")) : -1;
		})()`)
	}
	p.until(10*time.Second, "rows for / and /delay", func() (bool, string) {
		names := eval[[]string](p, `[...document.querySelectorAll('[data-testid="stat-row"]')].map(r => r.dataset.name)`)
		s := strings.Join(names, ",")
		return strings.Contains(s, "/delay") && strings.Contains(s, "/,") && strings.HasSuffix(s, "Aggregated"), s
	})
	first := aggregated()
	p.until(5*time.Second, "the aggregated request count grows", func() (bool, string) {
		n := aggregated()
		return n > first && first >= 0, fmt.Sprintf("%d then %d", first, n)
	})
	p.shot("statistics")

	// Charts update with every history point.
	p.click("tab-charts")
	p.until(15*time.Second, "the charts hold 5 points", func() (bool, string) {
		n := p.points("chart-rps")
		return n >= 5, strconv.Itoa(n)
	})
	canvases := eval[int](p, `document.querySelectorAll('[data-testid="chart-rps"] canvas, [data-testid="chart-latency"] canvas, [data-testid="chart-users"] canvas').length`)
	if canvases < 3 {
		t.Errorf("%d chart canvases drawn, want 3", canvases)
	}

	// A reload mid-test shows the charts from the start of the test, not
	// from the moment of the reload.
	before := p.points("chart-rps")
	p.run("reloading", chromedp.Reload(), chromedp.WaitVisible(byID("chart-rps")))
	reloaded := time.Now()
	p.until(3*time.Second, "after the reload the charts hold at least the points they had", func() (bool, string) {
		n := p.points("chart-rps")
		return n >= before, fmt.Sprintf("%d points, had %d", n, before)
	})
	t.Logf("after the reload the charts held %d points (had %d) within %v", p.points("chart-rps"), before, time.Since(reloaded).Round(time.Millisecond))
	p.shot("charts")

	// Edit the running test.
	p.click("edit-button")
	p.fill("input-users", "6")
	p.click("submit-button")
	p.run("the edit form closes", chromedp.WaitNotPresent(byID("test-form")))
	p.until(10*time.Second, "6/6 users after the edit", func() (bool, string) {
		s := p.text("users")
		return s == "6/6", s
	})
	if s, err := getStats(t, web); err != nil || s.UserCount != 6 {
		t.Errorf("the master says %d users (%v), want 6", s.UserCount, err)
	}

	// Stop.
	p.click("stop-button")
	p.until(15*time.Second, "state stopped", func() (bool, string) {
		s := p.text("state")
		return s == "stopped", s
	})
	p.shot("stopped")

	// Download the JSON summary through the browser: its counts are what
	// the server served.
	dl := t.TempDir()
	p.run("allowing downloads", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		events := true
		_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dl, EventsEnabled: &events})
		return err
	}))
	p.click("tab-downloads")
	p.click("download-report-json")
	var file string
	p.until(10*time.Second, "report.json downloaded", func() (bool, string) {
		ents, _ := os.ReadDir(dl)
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".json") {
				file = filepath.Join(dl, e.Name())
				return true, e.Name()
			}
		}
		return false, fmt.Sprint(ents)
	})
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Totals    struct{ Requests, Failures int64 } `json:"totals"`
		Endpoints []struct {
			Name     string `json:"name"`
			Requests int64  `json:"requests"`
		} `json:"endpoints"`
	}
	if err := json.Unmarshal(raw, &sum); err != nil {
		t.Fatalf("downloaded %s: %v", filepath.Base(file), err)
	}
	served := srv.Counts()
	byName := map[string]int64{}
	for _, e := range sum.Endpoints {
		byName[e.Name] = e.Requests
	}
	if byName["/"] != served["GET /"] || byName["/delay"] != served["GET /delay"] || sum.Totals.Failures != 0 {
		t.Errorf("downloaded summary counts %v (failures %d); the server served %v", byName, sum.Totals.Failures, served)
	}
	if sum.Totals.Requests < 20 {
		t.Errorf("downloaded summary: %d requests, want a real test", sum.Totals.Requests)
	}

	// The HTML report opens in the browser with its charts.
	href := eval[string](p, `document.querySelector('[data-testid="download-report-html"]').href`)
	p.run("opening the HTML report", chromedp.Navigate(href))
	title := get(p, "reading the title", chromedp.Title())
	svgs := eval[int](p, `document.querySelectorAll("svg").length`)
	if svgs == 0 || !strings.Contains(strings.ToLower(title), "horde") {
		t.Errorf("HTML report %s: title %q, %d SVG charts", href, title, svgs)
	}
	p.shot("report")
}
