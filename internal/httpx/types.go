// Package httpx is horde's HTTP client for load: one Client per virtual
// user, with its own keep-alive connections and cookie jar, per-phase
// timings, and errors classified into short, groupable reasons. It never
// panics on a misbehaving server; it does not record statistics itself.
package httpx

import (
	"net/http"
	"time"
)

// Request is one request to send. URL may be absolute or relative to the
// client's base URL.
type Request struct {
	Method  string
	URL     string
	Header  http.Header
	Body    []byte
	Timeout time.Duration // 0 means the client's default
}

// Timings are the phases of one request. Zero when a phase did not happen
// (a reused connection has no Connect).
type Timings struct {
	DNS     time.Duration
	Connect time.Duration
	TLS     time.Duration
	// TTFB is from the start of the request to the first response byte.
	TTFB time.Duration
}

// Response is the outcome of one request. When Err is set, Status is 0 and
// ErrKind is a short, stable reason such as "connection refused".
type Response struct {
	Status    int
	Proto     string
	Header    http.Header
	Body      []byte
	URL       string // final URL after redirects
	Elapsed   time.Duration
	Timings   Timings
	BytesSent int64
	BytesRecv int64
	Err       error
	ErrKind   string
}
