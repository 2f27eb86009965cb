//go:build !linux

package memtune

// Trim does nothing here: it is for Linux's /proc and madvise.
func Trim() (int64, error) { return 0, nil }
