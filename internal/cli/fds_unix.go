//go:build unix

package cli

import "syscall"

// openFilesLimit is how many files this process may open: the soft limit,
// which the Go runtime raised to the hard one at start (Go ≥ 1.19 does so
// for every program); 0 when unknown.
func openFilesLimit() uint64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0
	}
	return r.Cur
}
