package cli

import (
	"github.com/horde-load/horde/internal/exitcode"
)

// fdReserve is what a process keeps for itself besides its users'
// connections: the master and worker ports, the web UI's clients, logs,
// the run store.
const fdReserve = 500

// checkOpenFiles refuses, up front, a test whose users cannot all hold a
// connection in one process: each user keeps one open (two during a
// redirect to another host), and a process may open limit files. Past it,
// connections would fail one by one in the middle of the test instead.
func checkOpenFiles(usersPerProcess, processes int, limit uint64) error {
	if limit == 0 || usersPerProcess <= 0 {
		return nil
	}
	most := int(limit) - fdReserve
	if usersPerProcess <= most {
		return nil
	}
	need := (usersPerProcess*max(processes, 1) + most - 1) / max(most, 1)
	return exitcode.Newf(exitcode.BadInput,
		"%d users in one process need about %d open files, and this process may open %d (ulimit -n): "+
			"run them in more processes (--processes %d, or more workers), or raise the hard limit",
		usersPerProcess, usersPerProcess+fdReserve, limit, need)
}
