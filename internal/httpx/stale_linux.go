package httpx

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// stale reports whether an idle connection can no longer carry a request:
// the server closed it (or reset it), or, for plain HTTP, sent bytes no
// request asked for. It peeks without blocking and consumes nothing on a
// plain connection. On a TLS connection, pending bytes are read through
// TLS (see tlsDone): they may be records such as session tickets, or the
// close_notify alert that a server sends before it closes.
//
// It runs under the client's lock (it may clear pc.deadline).
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
		buf     [1]byte
		stale   bool
		pending bool
	)
	peek := func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EINTR):
		case err != nil, n == 0:
			stale = true
		default:
			pending = true
		}
		return true
	}
	err = rc.Read(peek)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// The deadline of the last request, left on the idle connection,
		// has passed: the runtime then refuses to read before calling
		// peek, which says nothing about the connection. Clear it (the
		// next request sets its own) and look again.
		pc.deadline = time.Time{}
		if err = pc.nc.SetDeadline(time.Time{}); err == nil {
			err = rc.Read(peek)
		}
	}
	switch {
	case stale || err != nil:
		return true
	case pending && pc.https:
		return pc.tlsDone()
	}
	return pending
}

// tlsPeekWait bounds the read of what is pending on an idle TLS
// connection: its bytes are already here, so only a record that is not
// (all) data, such as a session ticket, makes the read wait this long.
const tlsPeekWait = time.Millisecond

// tlsDone reads what is pending on an idle TLS connection: post-handshake
// records are consumed and the connection stays usable; a close_notify
// alert (io.EOF), any error, or application data no request asked for
// mean it is done. A record cut short stays buffered in the TLS layer.
func (pc *pconn) tlsDone() bool {
	pc.deadline = time.Time{} // the next request sets its own
	if err := pc.nc.SetReadDeadline(time.Now().Add(tlsPeekWait)); err != nil {
		return true
	}
	var b [1]byte
	n, err := pc.nc.Read(b[:])
	return n > 0 || !errors.Is(err, os.ErrDeadlineExceeded)
}
