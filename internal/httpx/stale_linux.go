package httpx

import (
	"errors"
	"syscall"
)

// stale reports whether an idle connection can no longer carry a request:
// the server closed it (or reset it), or, for plain HTTP, sent bytes no
// request asked for. It peeks without blocking and consumes nothing. (A
// TLS connection may legitimately hold unread records, such as session
// tickets, so only its closing counts.)
func (pc *pconn) stale() bool {
	sc, ok := pc.tcp.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	var (
		buf   [1]byte
		stale bool
	)
	err = rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EINTR):
		case err != nil, n == 0:
			stale = true
		default:
			stale = !pc.https
		}
		return true
	})
	return stale || err != nil
}
