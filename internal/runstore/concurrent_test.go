package runstore

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
)

// Two processes (two masters) and this one write runs to one new store
// at once — migrating it at the same time too: every run is stored whole
// and no write fails.
func TestConcurrentProcesses(t *testing.T) {
	eachBackend(t, func(t *testing.T, loc string) {
		const perWriter = 15
		tags := []string{"proc-a", "proc-b", "self"}
		var wg sync.WaitGroup
		errs := make([]error, len(tags))
		for i, tag := range tags {
			wg.Go(func() {
				if tag == "self" {
					errs[i] = writeRuns(testCtx(t), loc, tag, perWriter)
					return
				}
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), helperEnv+"="+loc, "HORDE_RUNSTORE_HELPER_TAG="+tag,
					"HORDE_RUNSTORE_HELPER_RUNS="+strconv.Itoa(perWriter))
				if out, err := cmd.CombinedOutput(); err != nil {
					errs[i] = fmt.Errorf("%s: %w\n%s", tag, err, out)
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}

		s := open(t, loc, Options{})
		if v, err := s.SchemaVersion(testCtx(t)); err != nil || v != 1 {
			t.Errorf("schema version %d, %v after concurrent migrations", v, err)
		}
		for _, tag := range tags {
			runs, err := s.List(testCtx(t), Filter{Script: tag})
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != perWriter {
				t.Errorf("%s: %d runs stored, want %d", tag, len(runs), perWriter)
			}
			for _, r := range runs {
				i, _ := strconv.Atoi(r.Labels["i"])
				want := snapshot(fmt.Sprintf("%s-%d-final", tag, i), int64(i))
				rec := get(t, s, r.ID)
				if rec.Status != StatusPassed || rec.Metrics != want.Metrics ||
					!bytes.Equal(rec.History, want.History) || !bytes.Equal(rec.Summary, want.Summary) {
					t.Errorf("%s run %d: %q %+v, or its blobs are not its own", tag, i, rec.Status, rec.Metrics)
				}
			}
		}
		if s.loc.Kind == KindSQLite {
			var res string
			if err := s.db.QueryRowContext(testCtx(t), "PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
				t.Errorf("integrity_check: %q %v", res, err)
			}
		}
	})
}
