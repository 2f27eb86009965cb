package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/target"
	"github.com/horde-load/horde/internal/target/targettest"
)

type summary struct {
	UsersPeak int `json:"users_peak"`
	Totals    struct {
		Requests int64 `json:"requests"`
		Failures int64 `json:"failures"`
	} `json:"totals"`
	Workers []struct {
		ID    string `json:"id"`
		State string `json:"state"`
		Users int    `json:"users"`
	} `json:"workers"`
}

func readSummary(t *testing.T, path string) summary {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	return s
}

// --processes 2 runs the users in two worker processes of this machine;
// their counts add up to what the server served.
func TestRunWithLocalProcesses(t *testing.T) {
	t.Parallel()
	host, srv := targettest.Start(t, target.Options{})
	out := filepath.Join(t.TempDir(), "s.json")
	p := start(t, "run", nil, "run", host+"/", "--headless", "-u", "8", "-r", "100", "-t", "3s",
		"--stop-timeout", "5s", "--processes", "2", "--json", out)
	if code := p.exitCode(60 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	s := readSummary(t, out)
	if len(s.Workers) != 2 {
		t.Fatalf("workers %+v, want 2 processes", s.Workers)
	}
	if served := srv.Counts()["GET /"]; s.Totals.Requests != served || served == 0 {
		t.Fatalf("horde counted %d, the server served %d", s.Totals.Requests, served)
	}
	if s.UsersPeak != 8 {
		t.Fatalf("users_peak %d, want 8", s.UsersPeak)
	}
}

// `horde` with no command is the container entrypoint: HORDE_MODE,
// HORDE_MASTER, HORDE_SCRIPT and TARGET_HOST configure it, as the
// tutorial's LOCUST_MODE, LOCUST_MASTER and TARGET_HOST do.
func TestEntrypointConfiguredByEnvironment(t *testing.T) {
	t.Parallel()
	host, srv := targettest.Start(t, target.Options{})
	script := writeScript(t, pacedScript)
	out := filepath.Join(t.TempDir(), "s.json")
	bind := freeAddr(t)
	m := start(t, "master", []string{"HORDE_MODE=master", "HORDE_SCRIPT=" + script, "TARGET_HOST=" + host,
		"HORDE_BIND=" + bind, "HORDE_WEB_HOST=127.0.0.1", "HORDE_WEB_PORT=0", "HORDE_AUTH_TOKEN=" + token,
		"HORDE_HEADLESS=true", "HORDE_USERS=4", "HORDE_SPAWN_RATE=100", "HORDE_RUN_TIME=3s",
		"HORDE_EXPECT_WORKERS=2", "HORDE_JSON=" + out})
	for _, id := range []string{"a", "b"} {
		start(t, "worker-"+id, []string{"HORDE_MODE=worker", "HORDE_MASTER=" + bind, "HORDE_AUTH_TOKEN=" + token, "HORDE_ID=" + id})
	}
	if code := m.exitCode(60 * time.Second); code != 0 {
		t.Fatalf("master exit %d", code)
	}
	s := readSummary(t, out)
	if len(s.Workers) != 2 || s.UsersPeak != 4 {
		t.Fatalf("summary %+v: want 2 workers and 4 users", s)
	}
	if served := srv.Counts()["GET /"]; s.Totals.Requests != served || served == 0 {
		t.Fatalf("horde counted %d, the server served %d", s.Totals.Requests, served)
	}
}

// Expected workers that never come: exit 3 with the reason.
func TestExpectedWorkersNeverCome(t *testing.T) {
	t.Parallel()
	host, _ := targettest.Start(t, target.Options{})
	m, _, _ := startMaster(t, "127.0.0.1:0", host+"/", "-u", "1", "-t", "5s", "--expect-workers", "2", "--expect-workers-max-wait", "1s")
	if code := m.exitCode(30 * time.Second); code != 3 {
		t.Fatalf("exit %d, want 3", code)
	}
	m.waitOutput(`expected 2 workers, 0 connected`, time.Second)
}
