package e2e

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/target"
	"github.com/horde-load/horde/internal/target/targettest"
)

// storedRuns lists the runs of a store with the real binary (which, as
// every command that opens the store, first aborts the runs of dead
// processes).
func storedRuns(t *testing.T, store string) []struct {
	ID, Status, Reason string
	Metrics            struct{ Requests int64 }
} {
	t.Helper()
	out, err := exec.Command(hordeBin, "runs", "list", "--store", store, "--json").CombinedOutput()
	if err != nil {
		t.Fatalf("runs list: %v\n%s", err, out)
	}
	var runs []struct {
		ID, Status, Reason string
		Metrics            struct{ Requests int64 }
	}
	if err := json.Unmarshal(out, &runs); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return runs
}

// A run killed with SIGKILL is stored as aborted at the next start, with
// what its last checkpoint had.
func TestKilledRunIsStoredAsAborted(t *testing.T) {
	t.Parallel()
	host, _ := targettest.Start(t, target.Options{})
	store := filepath.Join(t.TempDir(), "runs.db")
	p := start(t, "run", nil, "run", host+"/delay/5", "--headless", "-u", "2", "-t", "60s",
		"--store", store, "--store-every", "300ms")
	deadline := time.Now().Add(20 * time.Second)
	for {
		runs := storedRuns(t, store)
		if len(runs) == 1 && runs[0].Status == "running" && runs[0].Metrics.Requests > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no running run with a checkpoint after 20 s: %+v\n%s", runs, p.output())
		}
		time.Sleep(200 * time.Millisecond)
	}
	p.signal(syscall.SIGKILL)
	<-p.done
	runs := storedRuns(t, store)
	if len(runs) != 1 || runs[0].Status != "aborted" || runs[0].Metrics.Requests == 0 || !strings.Contains(runs[0].Reason, "owner gone") {
		t.Fatalf("after kill -9: %+v; want the run aborted, with its checkpoint's requests and why", runs)
	}
}
