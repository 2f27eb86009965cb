//go:build !linux

package httpx

// stale cannot peek on this system; a request on a connection the server
// closed is retried once when it may be (see Client.Do).
func (pc *pconn) stale() bool { return false }
