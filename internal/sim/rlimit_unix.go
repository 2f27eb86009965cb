//go:build unix

package sim

import "syscall"

// RaiseOpenFiles raises the soft limit of open files to the hard limit
// and returns the limit now in force (0 when it cannot be read). Each
// simulated worker holds one connection, so one file.
func RaiseOpenFiles() uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0
	}
	if l.Cur < l.Max {
		raised := l
		raised.Cur = l.Max
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil {
			return raised.Cur
		}
	}
	return l.Cur
}
