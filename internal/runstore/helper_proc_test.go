package runstore

import "os"

// helperEnv names the store a helper process (this test binary run
// again) writes to; see TestConcurrentProcesses.
const helperEnv = "HORDE_RUNSTORE_HELPER_STORE"

// helperMain is a helper process's main: stub until the concurrency
// test is written.
func helperMain() int { _ = os.Getenv(helperEnv); return 0 }
