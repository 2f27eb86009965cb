//go:build !unix

package httpx

import (
	"net"
	"syscall"
)

// sendWait is not used on this system: a request is written, then read
// as net.Conn does it.
type sendWait struct{ sent int }

func rawConnOf(net.Conn) syscall.RawConn { return nil }

func (*sendWait) start(*pconn, []byte)     {}
func (*sendWait) reset()                   {}
func (*sendWait) Read([]byte) (int, error) { return 0, syscall.EINVAL }
