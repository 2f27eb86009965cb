//go:build !unix

package sim

// RaiseOpenFiles cannot read the limit here: 0.
func RaiseOpenFiles() uint64 { return 0 }
