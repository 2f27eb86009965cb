package sim

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/cluster"
	"github.com/horde-load/horde/internal/master"
	"github.com/horde-load/horde/internal/scenario"
)

// Intervals of the test master: short, so that the missing timeout and
// the redistribution after it take a second or two.
const (
	heartbeat = 200 * time.Millisecond
	missing   = time.Second
)

// startMaster runs a real master behind a real gRPC server on 127.0.0.1:0
// and returns it with its worker address.
func startMaster(t *testing.T) (*master.Master, string) {
	t.Helper()
	task := func(context.Context, *scenario.VU) error { return nil }
	sc := &scenario.Scenario{Users: []*scenario.UserClass{
		{Name: "A", Weight: 2, Host: "http://127.0.0.1:9", Tasks: []scenario.Task{{Name: "t", Weight: 1, Fn: task}}},
		{Name: "B", Weight: 1, Host: "http://127.0.0.1:9", Tasks: []scenario.Task{{Name: "t", Weight: 1, Fn: task}}},
	}}
	m, err := master.New(master.Options{Scenario: sc, HeartbeatInterval: heartbeat, MissingTimeout: missing,
		ReportInterval: heartbeat})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := cluster.NewServer(cluster.ServerOptions{Token: "sim-test", Handle: m.Attach})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = m.Run(ctx) }()
	go func() { defer wg.Done(); _ = srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return m, ln.Addr().String()
}

// eventually polls cond until it returns "" or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	msg := ""
	for time.Now().Before(deadline) {
		if msg = cond(); msg == "" {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v: %s", what, d, msg)
}

// evenSplit is "" when the fleet's connected workers run users in all,
// each within one user of an even share in total and in each class.
func evenSplit(f *Fleet, users, live int) string {
	s := f.Summary(true)
	if s.Connected != live || s.Users != users {
		return "connected " + itoa(s.Connected) + " running " + itoa(s.Users)
	}
	perClass := map[string][]int{}
	for _, w := range s.States {
		if w.Mode != "alive" {
			continue
		}
		if w.Users < users/live || w.Users > (users+live-1)/live {
			return w.ID + " runs " + itoa(w.Users)
		}
		for _, c := range []string{"A", "B"} {
			perClass[c] = append(perClass[c], int(w.Classes[c]))
		}
	}
	for c, ks := range perClass {
		if slices.Max(ks)-slices.Min(ks) > 1 {
			return "class " + c + " uneven"
		}
	}
	return ""
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// The simulator's workers are workers to the master: it admits them,
// splits a test exactly over them, moves their users when some die or
// hang and when they come back, and does not mark late ones missing
// until they are later than the missing timeout.
func TestFleetAgainstARealMaster(t *testing.T) {
	m, addr := startMaster(t)
	f, err := Start(context.Background(), Options{Master: addr, Dial: cluster.DialOptions{Token: "sim-test"}, Workers: 40,
		Shape: Shape{Endpoints: 5, Rate: 50, LatencyMin: time.Millisecond, LatencyMax: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := m.WaitWorkers(context.Background(), 40); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(master.TestParams{Users: 403, SpawnRate: 10000}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "403 users on 40 workers", func() string { return evenSplit(f, 403, 40) })
	eventually(t, 5*time.Second, "reports merged", func() string {
		if n := m.Snapshot(time.Now()).Total.Requests; n == 0 {
			return "no request merged"
		}
		return ""
	})

	// Hung: found by the missing timeout, their users moved.
	hung := f.Kill(4, true)
	start := time.Now()
	eventually(t, missing+2*time.Second+heartbeat, "users moved off 4 hung workers", func() string { return evenSplit(f, 403, 36) })
	if took := time.Since(start); took < missing {
		t.Errorf("users moved %v after the workers hung, before the missing timeout (%v)", took, missing)
	}
	checkMissing(t, m, hung)

	// Back, and then killed: a cut connection is noticed at once.
	f.Revive(-1)
	eventually(t, 5*time.Second, "40 workers back", func() string { return evenSplit(f, 403, 40) })
	f.Kill(4, false)
	eventually(t, 2*time.Second, "users moved off 4 killed workers", func() string { return evenSplit(f, 403, 36) })
	f.Revive(-1)
	eventually(t, 5*time.Second, "40 workers back", func() string { return evenSplit(f, 403, 40) })

	// Late, but within the missing timeout (a message every 700 ms, the
	// timeout 1 s): never missing.
	f.Delay(5, missing-heartbeat-100*time.Millisecond-heartbeat)
	for end := time.Now().Add(3 * missing); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		for _, w := range m.Status().Workers {
			if w.State == master.WorkerMissing {
				t.Fatalf("worker %s marked missing, sending every 700 ms with a missing timeout of %v", w.ID, missing)
			}
		}
	}
	// Later than the missing timeout: missing, and back once punctual.
	f.Delay(-1, 0)
	late := f.Delay(5, 2*missing)
	seen := map[string]bool{}
	eventually(t, 4*missing, "late workers missing", func() string {
		for _, w := range m.Status().Workers {
			if w.State == master.WorkerMissing {
				seen[w.ID] = true
			}
		}
		for _, id := range late {
			if !seen[id] {
				return id + " never missing"
			}
		}
		return ""
	})
	if len(seen) != len(late) {
		t.Errorf("missing: %v, want only the late ones %v", seen, late)
	}
	f.Delay(-1, 0)
	eventually(t, 5*time.Second+2*missing, "late workers back", func() string { return evenSplit(f, 403, 40) })

	// A dropped connection comes back with its users.
	f.Drop(10)
	eventually(t, 5*time.Second, "dropped workers back", func() string { return evenSplit(f, 403, 40) })

	// An open-model test: the shares of the rate add up to it.
	<-m.Stop()
	if err := m.Start(master.TestParams{Users: 120, Rate: 37.5}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "open-model shares", func() string {
		s := f.Summary(false)
		if s.MaxUsers != 120 || s.UsersMax-s.UsersMin > 1 || s.Rate < 37.5-1e-9 || s.Rate > 37.5+1e-9 {
			return "pools " + itoa(s.MaxUsers) + ", rate " + string(must(json.Marshal(s.Rate)))
		}
		return ""
	})
}

func must(b []byte, _ error) []byte { return b }

// checkMissing fails unless the master shows exactly ids as missing.
func checkMissing(t *testing.T, m *master.Master, ids []string) {
	t.Helper()
	var got []string
	for _, w := range m.Status().Workers {
		if w.State == master.WorkerMissing {
			got = append(got, w.ID)
		}
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(ids))
	if !slices.Equal(got, want) {
		t.Errorf("missing workers %v, want %v", got, want)
	}
}

// The control API does what the methods do and says which workers it
// changed.
func TestControlAPI(t *testing.T) {
	_, addr := startMaster(t)
	f, err := Start(context.Background(), Options{Master: addr, Dial: cluster.DialOptions{Token: "sim-test"}, Workers: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	srv := httptest.NewServer(f.Handler())
	defer srv.Close()
	eventually(t, 5*time.Second, "10 connected", func() string {
		if s := f.Summary(false); s.Connected != 10 {
			return itoa(s.Connected)
		}
		return ""
	})
	post := func(path string) (int, []string) {
		resp, err := http.Post(srv.URL+path, "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ IDs []string }
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.IDs
	}
	if code, ids := post("/kill?percent=30&hang=1"); code != http.StatusOK || len(ids) != 3 {
		t.Fatalf("kill 30%%: %d %v, want 200 and 3 workers", code, ids)
	}
	if s := f.Summary(false); s.Hung != 3 || s.Alive != 7 {
		t.Errorf("after the kill: %+v", s)
	}
	if code, ids := post("/revive"); code != http.StatusOK || len(ids) != 3 {
		t.Fatalf("revive: %d %v, want 200 and the 3", code, ids)
	}
	if code, ids := post("/delay?count=2&by=1500ms"); code != http.StatusOK || len(ids) != 2 {
		t.Fatalf("delay: %d %v", code, ids)
	}
	if code, _ := post("/delay?count=2&by=soon"); code != http.StatusBadRequest {
		t.Errorf("a bad duration: %d, want 400", code)
	}
	if code, _ := post("/kill"); code != http.StatusBadRequest {
		t.Errorf("kill without a count: %d, want 400", code)
	}
	resp, err := http.Get(srv.URL + "/status?workers=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s Summary
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || s.Workers != 10 || s.Delayed != 2 || len(s.States) != 10 {
		t.Errorf("status: %+v, %v", s, err)
	}
}
