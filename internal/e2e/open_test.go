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

// An open-model test across workers sends the whole rate, split over the
// workers and re-split when a third joins mid-test: the server sees
// rate × time requests, no more, no less (± 2 %), and they all are counted.
func TestOpenModelRateAcrossJoiningWorkers(t *testing.T) {
	t.Parallel()
	host, srv := targettest.Start(t, target.Options{})
	out := filepath.Join(t.TempDir(), "summary.json")
	m, web, addr := startMaster(t, "127.0.0.1:0", host+"/", "--rate", "300", "-u", "300", "-t", "6s",
		"--expect-workers", "2", "--json", out)
	workers := []*proc{startWorker(t, "w1", addr), startWorker(t, "w2", addr)}
	deadline := time.Now().Add(30 * time.Second)
	for s, _ := getStats(t, web); s.State != "running"; s, _ = getStats(t, web) {
		if time.Now().After(deadline) {
			t.Fatalf("the open-model test never ran; state %q", s.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	workers = append(workers, startWorker(t, "w3", addr))
	if code := m.exitCode(30 * time.Second); code != 0 {
		t.Fatalf("master exited %d, want 0", code)
	}
	// A master that ends tells its workers to quit: they end with it.
	for _, w := range workers {
		if code := w.exitCode(10 * time.Second); code != 0 {
			t.Errorf("worker %s exited %d after the master ended, want 0", w.name, code)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		DurationS float64 `json:"duration_s"`
		Totals    struct {
			Requests int64 `json:"requests"`
		} `json:"totals"`
		Workers []struct {
			ID string `json:"id"`
		} `json:"workers"`
		Dropped int64 `json:"dropped_iterations"`
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	served := srv.Counts()["GET /"]
	t.Logf("served %d in %.2f s with %d workers", served, sum.DurationS, len(sum.Workers))
	// Arrivals a starved generator could not place are counted as
	// dropped, never lost: served + dropped is the schedule.
	if n := served + sum.Dropped; served < 1764 || n > 1836 {
		t.Errorf("the server saw %d requests (+ %d dropped) for 300/s over 6 s, want 1,800 ± 2%%", served, sum.Dropped)
	}
	if sum.Totals.Requests != served || len(sum.Workers) != 3 {
		t.Errorf("master counted %d (served %d) from %d workers; want equal, 3", sum.Totals.Requests, served, len(sum.Workers))
	}
}
