package web

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/horde-load/horde/internal/stats"
)

// sseEvent is one parsed Server-Sent Event, or a comment line.
type sseEvent struct {
	name, data string
	comment    bool
}

// sseClient reads an event stream over HTTP, as a browser's EventSource.
type sseClient struct {
	events chan sseEvent
	body   interface{ Close() error }
	done   chan struct{}
}

func openStream(t *testing.T, ts *httptest.Server) *sseClient {
	t.Helper()
	resp, err := ts.Client().Get(ts.URL + "/api/v1/stream")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		resp.Body.Close()
		t.Fatalf("GET /api/v1/stream = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	c := &sseClient{events: make(chan sseEvent), body: resp.Body, done: make(chan struct{})}
	go func() {
		defer close(c.events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 16<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name == "" && !ev.comment {
					continue
				}
				select {
				case c.events <- ev:
				case <-c.done:
					return
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				ev = sseEvent{comment: true, data: line}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	t.Cleanup(c.close)
	return c
}

func (c *sseClient) close() {
	select {
	case <-c.done:
	default:
		close(c.done)
		c.body.Close()
	}
}

// next returns the next event; the stream must deliver it within the
// deadline.
func (c *sseClient) next(t *testing.T) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-c.events:
		if !ok {
			t.Fatal("the stream ended")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return sseEvent{}
}

// expect reads the next event, checks its name and decodes its data.
func (c *sseClient) expect(t *testing.T, name string) map[string]any {
	t.Helper()
	ev := c.next(t)
	if ev.name != name {
		t.Fatalf("event %q (%.200s), want %q", ev.name, ev.data, name)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(ev.data), &m); err != nil {
		t.Fatalf("event %s: data is not a JSON object: %v", name, err)
	}
	return m
}

// manualTicker is the stream's ticker, ticked by the test.
type manualTicker chan time.Time

func (m manualTicker) new(time.Duration) (<-chan time.Time, func()) { return m, func() {} }

// tick hands one tick to the hub's loop; it returns when the loop took it.
func (m manualTicker) tick(t *testing.T) {
	t.Helper()
	select {
	case m <- time.Time{}:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream's loop did not take the tick")
	}
}

func points(t *testing.T, m map[string]any) []any {
	t.Helper()
	p, ok := m["points"].([]any)
	if !ok {
		t.Fatalf("history without points: %v", m)
	}
	return p
}

func TestStream(t *testing.T) {
	t.Parallel()
	ctl, clk := runningControl(t)
	tick := make(manualTicker)
	_, ts := newTestServer(t, Options{Control: ctl, Now: clk.Now, NewTicker: tick.new})

	a := openStream(t, ts)
	if n := len(points(t, a.expect(t, "history"))); n != 10 {
		t.Fatalf("history on connect has %d points, want 10", n)
	}
	if st := a.expect(t, "stats"); num(t, st, "total", "requests") != 150 {
		t.Fatalf("stats on connect: %v", st)
	}

	ctl.load("GET", "/", 10, 0, time.Millisecond)
	ctl.tick()
	tick.tick(t)
	p := a.expect(t, "point")
	checkKeys(t, "point", p, apiPointKeys)
	if num(t, p, "requests") != 160 || num(t, p, "t") != float64(clk.Now().UnixMilli()) {
		t.Errorf("point = %v, want the newest: 160 requests at %d", p, clk.Now().UnixMilli())
	}
	if st := a.expect(t, "stats"); num(t, st, "total", "requests") != 160 {
		t.Errorf("stats after the tick: %v requests, want 160", st["total"])
	}

	// No new history point: only stats, never the same point twice.
	tick.tick(t)
	a.expect(t, "stats")

	// A second client gets the whole history, then the same ticks.
	b := openStream(t, ts)
	if n := len(points(t, b.expect(t, "history"))); n != 11 {
		t.Errorf("late client: history has %d points, want 11", n)
	}
	b.expect(t, "stats")
	ctl.tick()
	tick.tick(t)
	for _, c := range []*sseClient{a, b} {
		c.expect(t, "point")
		c.expect(t, "stats")
	}

	// A reset restarts the charts: a history event instead of a point.
	ctl.ResetStats()
	ctl.tick()
	tick.tick(t)
	for _, c := range []*sseClient{a, b} {
		if n := len(points(t, c.expect(t, "history"))); n != 1 {
			t.Errorf("after a reset: history of %d points, want 1", n)
		}
		c.expect(t, "stats")
	}
}

// TestStreamResetBeforeFirstTick covers a reset between a client's
// connection and the loop's first tick: the client catches up by itself.
func TestStreamResetBeforeFirstTick(t *testing.T) {
	t.Parallel()
	ctl, clk := runningControl(t)
	tick := make(manualTicker)
	_, ts := newTestServer(t, Options{Control: ctl, Now: clk.Now, NewTicker: tick.new})
	a := openStream(t, ts)
	a.expect(t, "history")
	a.expect(t, "stats")
	clk.Add(time.Second)
	ctl.ResetStats()
	tick.tick(t)
	if n := len(points(t, a.expect(t, "history"))); n != 0 {
		t.Errorf("history after reset has %d points, want 0", n)
	}
	a.expect(t, "stats")
}

func TestStreamPing(t *testing.T) {
	t.Parallel()
	ctl, clk := runningControl(t)
	tick := make(manualTicker)
	_, ts := newTestServer(t, Options{Control: ctl, Now: clk.Now, NewTicker: tick.new})
	a := openStream(t, ts)
	a.expect(t, "history")
	a.expect(t, "stats")
	for i := 1; i <= pingEvery; i++ {
		tick.tick(t)
		a.expect(t, "stats")
		if i < pingEvery {
			continue
		}
		if ev := a.next(t); !ev.comment || ev.data != ": ping" {
			t.Errorf("after %d ticks: %+v, want the comment \": ping\"", i, ev)
		}
	}
}

// countingSource counts snapshots.
type countingSource struct {
	*fakeControl
	n atomic.Int64
}

func (c *countingSource) Snapshot(now time.Time) stats.Snapshot {
	c.n.Add(1)
	return c.fakeControl.Snapshot(now)
}

// TestStreamManyClients checks that 50 clients cost one snapshot per
// tick, not one each.
func TestStreamManyClients(t *testing.T) {
	t.Parallel()
	ctl, clk := runningControl(t)
	src := &countingSource{fakeControl: ctl}
	tick := make(manualTicker)
	_, ts := newTestServer(t, Options{Source: src, Now: clk.Now, NewTicker: tick.new})
	clients := make([]*sseClient, 50)
	for i := range clients {
		clients[i] = openStream(t, ts)
		clients[i].expect(t, "history")
		clients[i].expect(t, "stats")
	}
	before := src.n.Load()
	ctl.tick()
	tick.tick(t)
	for _, c := range clients {
		c.expect(t, "point")
		c.expect(t, "stats")
	}
	if got := src.n.Load() - before; got != 1 {
		t.Errorf("one tick to 50 clients took %d snapshots, want 1", got)
	}
}

// TestStreamSlowClientDropped fills one client's buffer: the hub drops it
// and keeps serving the others without waiting.
func TestStreamSlowClientDropped(t *testing.T) {
	t.Parallel()
	ctl, clk := runningControl(t)
	s := New(Options{Control: ctl, Now: clk.Now, NewTicker: make(manualTicker).new})
	defer s.Close()
	slow, _ := s.hub.subscribe()
	fast, _ := s.hub.subscribe()
	done := make(chan struct{}) // a loop that never ends while the test runs
	for i := range clientBuffer + 1 {
		s.hub.broadcast(done, &frame{stats: []byte("x")})
		select {
		case <-fast.ch:
		default:
			t.Fatalf("frame %d did not reach the reading client", i)
		}
	}
	select {
	case <-slow.dropped:
	default:
		t.Fatal("a client that read nothing was not dropped")
	}
	select {
	case <-fast.dropped:
		t.Fatal("the reading client was dropped")
	default:
	}
	s.hub.unsubscribe(fast)
	s.hub.unsubscribe(slow) // after a drop: harmless
}

// TestStreamEndsOnClose checks Close ends open streams (so an
// http.Server's Shutdown is not held up) and refuses new ones.
func TestStreamEndsOnClose(t *testing.T) {
	t.Parallel()
	ctl, clk := runningControl(t)
	s, ts := newTestServer(t, Options{Control: ctl, Now: clk.Now, NewTicker: make(manualTicker).new})
	a := openStream(t, ts)
	a.expect(t, "history")
	a.expect(t, "stats")
	s.Close()
	select {
	case _, ok := <-a.events:
		if ok {
			t.Error("an event after Close, want the end of the stream")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not end after Close")
	}
	resp, err := ts.Client().Get(ts.URL + "/api/v1/stream")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("stream after Close = %d, want 503", resp.StatusCode)
	}
}

// TestStreamDisconnectFreesGoroutines is not parallel: it checks, with
// goleak, that no goroutine of the handler or of the hub outlives the
// clients.
func TestStreamDisconnectFreesGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctl, clk := runningControl(t)
	tick := make(manualTicker)
	s := New(Options{Control: ctl, Now: clk.Now, NewTicker: tick.new})
	ts := httptest.NewServer(s)
	defer ts.Close()
	defer s.Close()
	for range 2 { // the loop stops with the last client and starts again
		a, b := openStream(t, ts), openStream(t, ts)
		for _, c := range []*sseClient{a, b} {
			c.expect(t, "history")
			c.expect(t, "stats")
		}
		tick.tick(t)
		a.close()
		b.close()
		deadline := time.Now().Add(10 * time.Second)
		for {
			s.hub.mu.Lock()
			idle := len(s.hub.clients) == 0 && s.hub.loopDone == nil
			s.hub.mu.Unlock()
			if idle {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("clients or the loop still there 10 s after the clients left")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func TestStreamHead(t *testing.T) {
	t.Parallel()
	ctl, clk := runningControl(t)
	s := New(Options{Control: ctl, Now: clk.Now, NewTicker: make(manualTicker).new})
	defer s.Close()
	rec := do(t, s, "HEAD", "/api/v1/stream", "", nil)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/event-stream" || rec.Body.Len() != 0 {
		t.Errorf("HEAD /api/v1/stream = %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if len(s.hub.clients) != 0 || s.hub.loopDone != nil {
		t.Error("HEAD subscribed a client")
	}
}
