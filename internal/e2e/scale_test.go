package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The master of these tests runs three user classes, so that the split
// is checked class by class; their tasks never run (the workers are
// simulated).
const scaleScript = `
def t(u):
    u.get("/")

users = [
    user(name="Browser", weight=3, tasks=[t], wait=constant(1)),
    user(name="Mobile", weight=2, tasks=[t], wait=constant(1)),
    user(name="Api", weight=1, tasks=[t], wait=constant(1)),
]
`

// simWorker is one simulated worker as the simulator's control API
// shows it.
type simWorker struct {
	ID        string           `json:"id"`
	Mode      string           `json:"mode"`
	Connected bool             `json:"connected"`
	Users     int              `json:"users"`
	Classes   map[string]int32 `json:"classes"`
	Rate      float64          `json:"rate"`
	MaxUsers  int              `json:"max_users"`
	Applied   time.Time        `json:"applied"`
}

type simStatus struct {
	Connected        int         `json:"connected"`
	Alive            int         `json:"alive"`
	Users            int         `json:"users"`
	Rate             float64     `json:"rate"`
	MaxUsers         int         `json:"max_users"`
	LastApplied      time.Time   `json:"last_applied"`
	RequestsReported int64       `json:"requests_reported"`
	States           []simWorker `json:"states"`
}

// simulator is a running `horde sim-workers` and its control API.
type simulator struct {
	t   *testing.T
	p   *proc
	ctl string
}

func startSimulator(t *testing.T, masterAddr string, n int, extra ...string) *simulator {
	t.Helper()
	args := append([]string{"sim-workers", "--master", masterAddr, "--auth-token", token, "-n", strconv.Itoa(n)}, extra...)
	p := start(t, "sim-workers", nil, args...)
	ctl := p.waitOutput(`control API listening" addr=(http://\S+)`, 15*time.Second)
	return &simulator{t: t, p: p, ctl: ctl}
}

func (s *simulator) status() simStatus {
	s.t.Helper()
	var st simStatus
	if err := getJSON(s.ctl+"/status?workers=1", &st); err != nil {
		s.t.Fatal(err)
	}
	return st
}

// act posts a control action and returns the workers it changed.
func (s *simulator) act(path string) []string {
	s.t.Helper()
	resp, err := http.Post(s.ctl+path, "text/plain", nil)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ IDs []string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		s.t.Fatalf("POST %s: %s, %v", path, resp.Status, err)
	}
	return out.IDs
}

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// exactSplit is "" when the simulator's live workers run users in all,
// every one within one user of an even share in total and in each class,
// and the classes hold their weights' parts (3:2:1) within one user.
func exactSplit(st simStatus, users, live int) string {
	var ws []simWorker
	for _, w := range st.States {
		if w.Mode == "alive" && w.Connected {
			ws = append(ws, w)
		}
	}
	if len(ws) != live || st.Users != users {
		return fmt.Sprintf("%d live workers run %d users; want %d and %d", len(ws), st.Users, live, users)
	}
	perClass := map[string][]int{}
	for _, w := range ws {
		if w.Users < users/live || w.Users > (users+live-1)/live {
			return fmt.Sprintf("%s runs %d users; an even share is %d..%d", w.ID, w.Users, users/live, (users+live-1)/live)
		}
		for _, c := range []string{"Browser", "Mobile", "Api"} {
			perClass[c] = append(perClass[c], int(w.Classes[c]))
		}
	}
	for c, weight := range map[string]float64{"Browser": 3, "Mobile": 2, "Api": 1} {
		ks := perClass[c]
		total := 0
		for _, k := range ks {
			total += k
		}
		if slices.Max(ks)-slices.Min(ks) > 1 || math.Abs(float64(total)-float64(users)*weight/6) > 1 {
			return fmt.Sprintf("class %s: %d users, %d..%d per worker", c, total, slices.Min(ks), slices.Max(ks))
		}
	}
	return ""
}

// untilSplit polls the simulator until its live workers hold an exact
// split of users, and returns how long after since the last of them got
// its target. It fails the test after limit.
func (s *simulator) untilSplit(users, live int, since time.Time, limit time.Duration) time.Duration {
	s.t.Helper()
	msg := ""
	for deadline := since.Add(limit); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		st := s.status()
		if msg = exactSplit(st, users, live); msg == "" {
			return st.LastApplied.Sub(since)
		}
	}
	s.t.Fatalf("%d users on %d workers not split exactly within %v: %s", users, live, limit, msg)
	return 0
}

// masterWorkers returns the ids of the master's workers in state.
func masterWorkers(t *testing.T, web, state string) []string {
	t.Helper()
	var out struct {
		Workers []struct{ ID, State string }
	}
	if err := getJSON(web+"/api/v1/workers", &out); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, w := range out.Workers {
		if w.State == state {
			ids = append(ids, w.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// One master, 500 simulated workers on real connections: every target
// reaches every worker as an exact split; a tenth of them hanging are
// found by the missing timeout and their users move within it + 2 s; a
// tenth killed are noticed at once; workers that send late but within
// the missing timeout are never missing, later ones are, and come back;
// the shares of an open-model test add up to its rate.
func TestFiveHundredSimulatedWorkers(t *testing.T) {
	const (
		workers = 500
		missing = 3 * time.Second
	)
	script := writeScript(t, scaleScript)
	m := start(t, "master", nil, "master", script, "-H", "http://127.0.0.1:9", "--bind", "127.0.0.1:0",
		"--web-host", "127.0.0.1", "--web-port", "0", "--auth-token", token, "--missing-timeout", missing.String(),
		"--store", filepath.Join(t.TempDir(), "runs.db"))
	web := m.waitOutput(`web API listening" addr=(http://\S+)`, 15*time.Second)
	addr := m.waitOutput(`worker port open" addr=(\S+)`, 15*time.Second)
	sim := startSimulator(t, addr, workers, "--endpoints", "20", "--rate", "10")
	sim.p.waitOutput(`all workers connected`, 60*time.Second)

	users := 5003
	t0 := time.Now()
	post(t, web+"/swarm", "user_count="+strconv.Itoa(users)+"&spawn_rate=100000")
	took := sim.untilSplit(users, workers, t0, missing+2*time.Second)
	t.Logf("%d users on %d workers: every worker had its share %v after the request", users, workers, took.Round(time.Millisecond))

	// A tenth hang: only the missing timeout finds them.
	hung := sim.act("/kill?percent=10&hang=1")
	t0 = time.Now()
	took = sim.untilSplit(users, workers-len(hung), t0, missing+2*time.Second)
	t.Logf("%d workers hung: their users moved in %v", len(hung), took.Round(time.Millisecond))
	if heartbeat := time.Second; took < missing-heartbeat {
		t.Errorf("users moved %v after the workers hung: before the missing timeout (%v) could have passed", took, missing)
	}
	slices.Sort(hung)
	if got := masterWorkers(t, web, "missing"); !slices.Equal(got, hung) {
		t.Errorf("the master shows %d workers missing, want the %d hung ones", len(got), len(hung))
	}
	sim.act("/revive")
	sim.untilSplit(users, workers, time.Now(), missing+2*time.Second)

	// A tenth killed: their connections break, the master knows at once.
	killed := sim.act("/kill?percent=10")
	t0 = time.Now()
	took = sim.untilSplit(users, workers-len(killed), t0, 2*time.Second)
	t.Logf("%d workers killed: their users moved in %v", len(killed), took.Round(time.Millisecond))
	sim.act("/revive")
	sim.untilSplit(users, workers, time.Now(), missing+2*time.Second)

	// Late but within the missing timeout (a message every 2 s, the
	// timeout 3 s): never missing.
	sim.act("/delay?percent=10&by=1s")
	for end := time.Now().Add(2 * missing); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if got := masterWorkers(t, web, "missing"); len(got) > 0 {
			t.Fatalf("%d late workers marked missing (a message every 2 s, missing timeout %v): %v", len(got), missing, got[:1])
		}
	}
	sim.act("/delay?by=0s")
	late := sim.act("/delay?percent=2&by=4s") // a message every 5 s
	slices.Sort(late)
	seen := map[string]bool{}
	for deadline := time.Now().Add(3 * missing); time.Now().Before(deadline) && len(seen) < len(late); time.Sleep(100 * time.Millisecond) {
		for _, id := range masterWorkers(t, web, "missing") {
			seen[id] = true
		}
	}
	for _, id := range late {
		if !seen[id] {
			t.Errorf("worker %s, a message every 5 s, was never missing (missing timeout %v)", id, missing)
		}
	}
	if len(seen) > len(late) {
		t.Errorf("%d workers were missing, want only the %d late ones", len(seen), len(late))
	}
	sim.act("/delay?by=0s")
	sim.untilSplit(users, workers, time.Now(), 2*missing+2*time.Second)

	// An open-model test: the pools are split within one user, and the
	// rate shares add up to the rate.
	post(t, web+"/api/v1/stop", "")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var st struct{ State string }
		if err := getJSON(web+"/api/v1/stats", &st); err == nil && st.State == "stopped" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the test did not stop")
		}
	}
	postJSON(t, web+"/api/v1/test", `{"users": 1000, "rate": 123.4}`)
	var st simStatus
	for deadline := time.Now().Add(missing + 2*time.Second); ; time.Sleep(50 * time.Millisecond) {
		st = sim.status()
		lo, hi := math.MaxInt, 0
		for _, w := range st.States {
			lo, hi = min(lo, w.MaxUsers), max(hi, w.MaxUsers)
		}
		if st.MaxUsers == 1000 && hi-lo <= 1 && math.Abs(st.Rate-123.4) <= 1e-9 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("open model: pools %d (%d..%d per worker), rates summing to %v; want 1000 within one, 123.4",
				st.MaxUsers, lo, hi, st.Rate)
		}
	}
	if st.RequestsReported == 0 {
		t.Error("the simulated workers reported no requests")
	}
}

func post(t *testing.T, url, form string) {
	t.Helper()
	resp, err := http.Post(url, "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s", url, resp.Status)
	}
}

func postJSON(t *testing.T, url, body string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s", url, resp.Status)
	}
}
