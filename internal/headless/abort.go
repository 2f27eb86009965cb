package headless

import (
	"time"

	"github.com/horde-load/horde/internal/stats"
	"github.com/horde-load/horde/internal/threshold"
)

// abortGrace is how long a test runs before thresholds with abort_on_fail
// are checked: the first seconds' figures rest on too few requests.
const abortGrace = 5 * time.Second

// aborting returns the first threshold with abort_on_fail that snap
// crosses, once the test has run for abortGrace.
func aborting(ts []threshold.Threshold, snap stats.Snapshot, elapsed time.Duration) (threshold.Threshold, bool) {
	if elapsed < abortGrace {
		return threshold.Threshold{}, false
	}
	for _, t := range ts {
		if t.AbortOnFail && t.Crossed(&snap) {
			return t, true
		}
	}
	return threshold.Threshold{}, false
}
