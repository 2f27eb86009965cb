//go:build unix

package httpx

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// sendWait writes a request on a plain TCP connection and reads the first
// bytes of its response with one read, after the poller says they came.
// net.Conn's Read tries a read before it waits, and so soon after the
// write that read finds nothing: one system call per request for nothing
// (wrk too waits first). The request is written inside the raw read's
// callback, after the runtime has armed the poller for the wait: a
// response that arrives between the write and the wait is not missed.
// Every later read of the response goes through the connection as usual.
type sendWait struct {
	nc      net.Conn
	rc      syscall.RawConn
	req     []byte // the request
	sent    int    // bytes of req written
	first   bool   // the next Read is the first of the response
	partial bool   // the first write did not take all of req (tests)
	buf     []byte // the first Read's buffer, while it runs
	n       int
	op      string // the system call that failed with errno
	errno   error
	step    func(fd uintptr) bool // s.run, bound once
}

// rawConnOf is the connection's raw access for sendWait, or nil when it
// is not a socket of the runtime's poller.
func rawConnOf(nc net.Conn) syscall.RawConn {
	if _, ok := nc.(*net.TCPConn); !ok {
		return nil
	}
	rc, err := nc.(*net.TCPConn).SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// start makes s write req on pc at its first Read.
func (s *sendWait) start(pc *pconn, req []byte) {
	if s.step == nil {
		s.step = s.run
	}
	s.nc, s.rc, s.req, s.sent, s.first, s.partial = pc.nc, pc.rc, req, 0, true, false
}

// reset drops what s holds of a request.
func (s *sendWait) reset() {
	s.nc, s.rc, s.req, s.buf, s.errno = nil, nil, nil, nil, nil
}

func (s *sendWait) Read(p []byte) (int, error) {
	if !s.first || len(p) == 0 {
		return s.nc.Read(p)
	}
	s.first = false
	s.buf, s.n, s.op, s.errno = p, 0, "", nil
	err := s.rc.Read(s.step)
	s.buf = nil
	switch {
	case err != nil: // the deadline passed, or the connection was closed
		var oe *net.OpError
		if errors.As(err, &oe) {
			err = oe.Err
		}
		return 0, s.opError("read", err)
	case s.errno != nil:
		return 0, s.opError(s.op, os.NewSyscallError(s.op, s.errno))
	case s.sent < len(s.req):
		// The socket's send buffer is full: the rest goes as usual,
		// waiting for room, and so does the read.
		s.partial = true
		m, err := s.nc.Write(s.req[s.sent:])
		s.sent += m
		if err != nil {
			return 0, err
		}
		return s.nc.Read(p)
	case s.n == 0:
		return 0, io.EOF
	}
	return s.n, nil
}

// run is the raw read's callback: the first call writes the request and
// asks to wait; later calls read. It returns true when it is done.
func (s *sendWait) run(fd uintptr) bool {
	if s.sent < len(s.req) {
		for s.sent < len(s.req) {
			m, err := syscall.Write(int(fd), s.req[s.sent:])
			switch {
			case errors.Is(err, syscall.EINTR):
				continue
			case errors.Is(err, syscall.EAGAIN):
				return true // see Read
			case err != nil:
				s.op, s.errno = "write", err
				return true
			}
			s.sent += m
		}
		return false
	}
	for {
		n, err := syscall.Read(int(fd), s.buf)
		switch {
		case err == nil:
			s.n = n
			return true
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN):
			return false
		}
		s.op, s.errno = "read", err
		return true
	}
}

// opError wraps err as net.Conn's Read and Write do.
func (s *sendWait) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: s.nc.LocalAddr(), Addr: s.nc.RemoteAddr(), Err: err}
}
