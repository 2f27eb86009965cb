package e2e

import (
	"strings"
	"testing"
	"time"
)

// Users that burn every core of their worker with script work, and no
// waiting.
const burnScript = `
def burn(u):
    x = 0
    for i in range(300000):
        x += i * i

users = [user(name="Burner", tasks=[burn], wait=constant(0))]
`

// A worker whose users keep its core 100 % busy still reaches the master
// on time: it is never marked missing, with missing timeouts only one
// second longer than the worker's message interval — for heartbeats of
// their own (every 250 ms) and for heartbeats riding in reports (every
// second). (Locust's busy workers are marked missing: #1158, #1843.)
func TestBusyWorkerIsNeverMissing(t *testing.T) {
	for _, tc := range []struct{ name, heartbeat, missing string }{
		{"heartbeats every 250ms", "250ms", "1250ms"},
		{"heartbeats in reports every 1s", "1s", "2s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			script := writeScript(t, burnScript)
			m, web, addr := startMaster(t, "127.0.0.1:0", script, "-H", "http://127.0.0.1:9", "-u", "4", "-r", "100",
				"-t", "15s", "--expect-workers", "1", "--heartbeat-interval", tc.heartbeat, "--missing-timeout", tc.missing)
			// One core for the worker, so that its users saturate it and
			// the master's own core stays free to judge it.
			start(t, "busy worker", []string{"HORDE_AUTH_TOKEN=" + token, "GOMAXPROCS=1"},
				"worker", "--master", addr, "--id", "busy")
			busiest, polls := 0.0, 0
			for {
				select {
				case <-m.done:
				default:
					var out struct {
						Workers []struct {
							State      string  `json:"state"`
							Users      int     `json:"users"`
							CPUPercent float64 `json:"cpu_percent"`
						}
					}
					if err := getJSON(web+"/api/v1/workers", &out); err == nil {
						polls++
						for _, w := range out.Workers {
							if w.State == "missing" {
								t.Fatalf("the busy worker was marked missing (its CPU at %.0f%%)", w.CPUPercent)
							}
							if w.Users == 4 {
								busiest = max(busiest, w.CPUPercent)
							}
						}
					}
					time.Sleep(100 * time.Millisecond)
					continue
				}
				break
			}
			if code := m.exitCode(10 * time.Second); code != 0 {
				t.Errorf("master exited %d, want 0", code)
			}
			if out := m.output(); strings.Contains(out, "worker missing") {
				t.Errorf("the master marked the busy worker missing:\n%s", out)
			}
			// The test means something only if the users kept the worker
			// busy: alone on its core it shows about 100 %; on a machine
			// busy with other work it gets less of the core, but an idle
			// worker shows a few percent.
			if busiest < 25 || polls < 50 {
				t.Fatalf("the worker's CPU peaked at %.0f%% of its core over %d polls: its users did not keep it busy", busiest, polls)
			}
			t.Logf("worker CPU up to %.0f%% of its core; never missing over %d polls", busiest, polls)
		})
	}
}
