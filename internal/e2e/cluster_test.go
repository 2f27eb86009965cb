package e2e

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/target"
	"github.com/horde-load/horde/internal/target/targettest"
)

const token = "e2e-secret-token"

// startMaster starts a headless master on loopback ports and returns it
// with its web API base URL and worker address.
func startMaster(t *testing.T, bind string, args ...string) (p *proc, web, workerAddr string) {
	t.Helper()
	all := append([]string{"master", "--headless", "--bind", bind, "--web-host", "127.0.0.1", "--web-port", "0",
		"--auth-token", token}, args...)
	p = start(t, "master", nil, all...)
	web = p.waitOutput(`web API listening" addr=(http://\S+)`, 15*time.Second)
	workerAddr = p.waitOutput(`worker port open" addr=(\S+)`, 15*time.Second)
	return p, web, workerAddr
}

func startWorker(t *testing.T, name, masterAddr string, extra ...string) *proc {
	t.Helper()
	return start(t, name, []string{"HORDE_AUTH_TOKEN=" + token},
		append([]string{"worker", "--master", masterAddr, "--id", name}, extra...)...)
}

const pacedScript = `
def index(u):
    u.get("/")

users = [user(name="Browser", tasks=[index], wait=constant(1))]
`

// 300 users over 3 workers; 2 join; 1 is killed: the users follow.
func TestWorkersJoinAndDie(t *testing.T) {
	t.Parallel()
	host, _ := targettest.Start(t, target.Options{})
	script := writeScript(t, pacedScript)
	_, web, addr := startMaster(t, "127.0.0.1:0", script, "-H", host, "-u", "300", "-r", "1000", "-t", "2m",
		"--expect-workers", "3", "--missing-timeout", "3s")
	var workers []*proc
	for i := range 3 {
		workers = append(workers, startWorker(t, "w"+strconv.Itoa(i), addr))
	}
	waitWorkers(t, web, []int{100, 100, 100}, 30*time.Second)

	workers = append(workers, startWorker(t, "w3", addr), startWorker(t, "w4", addr))
	// The new processes need a moment to start; the rebalance itself must
	// be done within 3 s of their joining.
	waitWorkers(t, web, []int{60, 60, 60, 60, 60}, 3*time.Second+processStart)

	workers[1].signal(syscall.SIGKILL)
	took := waitWorkers(t, web, []int{75, 75, 75, 75}, 5*time.Second)
	t.Logf("after SIGKILL the 4 left held 75 each in %v", took.Round(time.Millisecond))
	s, _ := getStats(t, web)
	missing := 0
	for _, w := range s.Workers {
		if w.State == "missing" {
			missing++
		}
	}
	if missing != 1 || s.UserCount != 300 {
		t.Fatalf("after the kill: %d missing workers, %d users; want 1 and 300 (%+v)", missing, s.UserCount, s.Workers)
	}
}

// processStart allows for starting a worker process on a loaded machine.
const processStart = 2 * time.Second

// A worker that leaves with SIGTERM mid-test finishes its requests and
// sends its last statistics: the master's total equals what was served.
func TestWorkerSIGTERMLosesNothing(t *testing.T) {
	t.Parallel()
	host, srv := targettest.Start(t, target.Options{})
	script := writeScript(t, `
def slow(u):
    u.get("/delay/40", name="/delay")

users = [user(name="U", tasks=[slow], wait=constant(0.01))]
`)
	out := filepath.Join(t.TempDir(), "summary.json")
	m, web, addr := startMaster(t, "127.0.0.1:0", script, "-H", host, "-u", "20", "-r", "100", "-t", "8s",
		"--stop-timeout", "5s", "--expect-workers", "2", "--json", out)
	w1 := startWorker(t, "w1", addr)
	startWorker(t, "w2", addr)
	waitWorkers(t, web, []int{10, 10}, 30*time.Second)
	time.Sleep(time.Second) // let both run, so w1 has requests in flight and unsent
	w1.signal(syscall.SIGTERM)
	if code := w1.exitCode(15 * time.Second); code != 0 {
		t.Fatalf("worker exited %d after SIGTERM, want 0", code)
	}
	waitWorkers(t, web, []int{20}, 5*time.Second)
	if code := m.exitCode(30 * time.Second); code != 0 {
		t.Fatalf("master exited %d, want 0", code)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Totals struct {
			Requests int64 `json:"requests"`
			Failures int64 `json:"failures"`
		} `json:"totals"`
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	served := srv.Counts()["GET /delay/40"]
	if sum.Totals.Requests != served || served == 0 {
		t.Fatalf("master counted %d requests, the server served %d", sum.Totals.Requests, served)
	}
	if sum.Totals.Failures != 0 {
		t.Fatalf("%d failures, want 0", sum.Totals.Failures)
	}
}

// The master is killed and restarted on the same address: its workers
// rejoin it by themselves.
func TestMasterRestartWorkersRejoin(t *testing.T) {
	t.Parallel()
	host, _ := targettest.Start(t, target.Options{})
	script := writeScript(t, pacedScript)
	bind := freeAddr(t)
	m1, web1, addr := startMaster(t, bind, script, "-H", host, "-u", "10", "-r", "100", "-t", "2m", "--expect-workers", "2")
	startWorker(t, "w1", addr)
	startWorker(t, "w2", addr)
	waitWorkers(t, web1, []int{5, 5}, 30*time.Second)

	m1.signal(syscall.SIGKILL)
	m1.exitCode(5 * time.Second)
	restarted := time.Now()
	_, web2, _ := startMaster(t, bind, script, "-H", host, "-u", "10", "-r", "100", "-t", "2m", "--expect-workers", "2")
	waitWorkers(t, web2, []int{5, 5}, 10*time.Second-time.Since(restarted))
	t.Logf("workers rejoined the restarted master and ran its users after %v", time.Since(restarted).Round(time.Millisecond))
}

// Workers the master must refuse: a wrong token and garbage bytes on the
// worker port. The master says why in its log and keeps serving the others.
func TestMasterRefusesBadWorkersAndKeepsServing(t *testing.T) {
	t.Parallel()
	host, _ := targettest.Start(t, target.Options{})
	script := writeScript(t, pacedScript)
	m, web, addr := startMaster(t, "127.0.0.1:0", script, "-H", host, "-u", "4", "-r", "100", "-t", "2m", "--expect-workers", "1")
	startWorker(t, "good", addr)
	waitWorkers(t, web, []int{4}, 30*time.Second)

	bad := start(t, "bad", []string{"HORDE_AUTH_TOKEN=wrong"}, "worker", "--master", addr, "--id", "bad")
	if code := bad.exitCode(15 * time.Second); code != 2 {
		t.Fatalf("worker with a wrong token exited %d, want 2", code)
	}
	bad.waitOutput(`(?i)auth token`, time.Second)
	m.waitOutput(`(?i)level=WARN.*(token)`, 5*time.Second)

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(i*7 + 3)
	}
	_, _ = c.Write(junk)
	_ = c.Close()

	none := start(t, "none", nil, "worker", "--master", addr, "--id", "none")
	if code := none.exitCode(15 * time.Second); code != 2 {
		t.Fatalf("worker without a token exited %d, want 2", code)
	}
	// The good worker still runs its users, with fresh heartbeats.
	time.Sleep(2 * time.Second)
	waitWorkers(t, web, []int{4}, 5*time.Second)
}

// csv(path, split=True) gives each worker its own rows: with two workers,
// every account logs in exactly once across the whole test.
func TestSplitDataGivesEachWorkerItsOwnRows(t *testing.T) {
	t.Parallel()
	host, _ := targettest.Start(t, target.Options{})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "accounts.csv"), []byte("username,password\nann,1\nbob,2\ncid,3\ndee,4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "split.star")
	if err := os.WriteFile(script, []byte(`
accounts = csv("accounts.csv", split=True)

def login(u):
    a = accounts[u.id % len(accounts)]
    u.post("/login", json=a, name="/login " + a["username"])

def idle(u):
    u.sleep(0.2)

users = [user(name="U", on_start=login, tasks=[idle])]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "s.json")
	m, _, addr := startMaster(t, "127.0.0.1:0", script, "-H", host, "-u", "4", "-r", "100", "-t", "3s",
		"--expect-workers", "2", "--json", out)
	startWorker(t, "w1", addr)
	startWorker(t, "w2", addr)
	if code := m.exitCode(60 * time.Second); code != 0 {
		t.Fatalf("master exit %d", code)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Endpoints []struct {
			Name     string `json:"name"`
			Requests int64  `json:"requests"`
		} `json:"endpoints"`
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	logins := map[string]int64{}
	for _, e := range sum.Endpoints {
		logins[e.Name] = e.Requests
	}
	for _, name := range []string{"ann", "bob", "cid", "dee"} {
		if logins["/login "+name] != 1 {
			t.Errorf("%s logged in %d times, want once (logins: %v)", name, logins["/login "+name], logins)
		}
	}
}
