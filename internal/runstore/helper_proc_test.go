package runstore

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"
)

// helperEnv names the store a helper process (this test binary run
// again) writes to; see TestConcurrentProcesses.
const helperEnv = "HORDE_RUNSTORE_HELPER_STORE"

// helperMain is a helper process: it writes runs to the store in
// $HORDE_RUNSTORE_HELPER_STORE as a master would, and exits 1 on any
// error (a spooled write counts: the store must take concurrent writers).
func helperMain() int {
	runs, _ := strconv.Atoi(os.Getenv("HORDE_RUNSTORE_HELPER_RUNS"))
	if err := writeRuns(context.Background(), os.Getenv(helperEnv), os.Getenv("HORDE_RUNSTORE_HELPER_TAG"), runs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// checkpoints is how many checkpoints writeRuns makes per run.
const checkpoints = 5

// writeRuns opens the store and records n runs of script tag, each with
// checkpoints and a Finish whose blobs say which run they belong to.
func writeRuns(ctx context.Context, loc, tag string, n int) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	s, err := Open(ctx, loc, Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	for i := range n {
		r, err := s.Begin(ctx, Info{Script: tag, Labels: map[string]string{"i": strconv.Itoa(i)}})
		if err != nil {
			return err
		}
		for k := range checkpoints {
			if err := r.Checkpoint(ctx, snapshot(fmt.Sprintf("%s-%d-%d", tag, i, k), int64(k))); err != nil {
				return err
			}
		}
		if err := r.Finish(ctx, StatusPassed, "", snapshot(fmt.Sprintf("%s-%d-final", tag, i), int64(i))); err != nil {
			return err
		}
	}
	return nil
}
