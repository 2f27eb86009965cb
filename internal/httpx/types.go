// Package httpx is horde's HTTP client for load: one Client per virtual
// user, with its own keep-alive connections and cookie jar, per-phase
// timings, and errors classified into short, groupable reasons. It never
// panics on a misbehaving server; it does not record statistics itself.
package httpx

import (
	"net/http"
	"strconv"
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
	// DiscardBody reads and counts the response body without keeping it
	// (Response.Body stays nil), nor the headers (Response.Headers is
	// empty); for URL mode and requests whose response no one looks at.
	DiscardBody bool
	// NoRedirects returns a redirect response as it is instead of
	// following it (requests' allow_redirects=False).
	NoRedirects bool
	// Insecure skips TLS certificate verification for this request
	// (requests' verify=False); its connections are kept apart from the
	// verified ones.
	Insecure bool
	// HTTP2 chooses the protocol of this request; HTTP2Default leaves it
	// to the client (Options.HTTP2).
	HTTP2 HTTP2Mode
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
	Status int
	// Proto is the protocol of the final response: "HTTP/1.1" (or
	// "HTTP/1.0") or "HTTP/2.0"; "" when the request failed.
	Proto   string
	Body    []byte
	URL     string // final URL after redirects
	Elapsed time.Duration
	Timings Timings
	// BytesSent approximates the bytes written for the request: request
	// line, headers and body, summed over redirect hops. Over HTTP/2 the
	// header fields count as HTTP/1.1 would write them, before HPACK
	// compresses them.
	BytesSent int64
	// BytesRecv is the full length of the (final) response body as read,
	// even when Body was cut at the client's body limit or discarded.
	BytesRecv int64
	Err       error
	ErrKind   string

	raw          []byte      // header lines as received ("name: value\n"; HTTP/2's fields written so)
	uncompressed bool        // the body was gzip decoded
	header       http.Header // parsed from raw on first use
}

// Headers returns the response's headers with canonical keys; empty when
// the request failed. When the client decoded a gzip body,
// Content-Encoding and Content-Length are left out, as net/http does. It
// parses the headers on first use: most load tests never look at them.
func (r *Response) Headers() http.Header {
	if r.header == nil {
		r.header = parseHeaders(r.raw, r.uncompressed)
	}
	return r.header
}

// Failure is the default verdict on a response, as Locust's: "" when it
// succeeded, the error kind when the request failed, or "HTTP 503 Service
// Unavailable" for a status of 400 or more.
func (r *Response) Failure() string {
	switch {
	case r.Err != nil || r.ErrKind != "":
		if r.ErrKind == "" {
			return "error"
		}
		return r.ErrKind
	case r.Status >= 400:
		return StatusFailure(r.Status)
	}
	return ""
}

// StatusFailure names a failing status: "HTTP 404 Not Found".
func StatusFailure(status int) string {
	if t := http.StatusText(status); t != "" {
		return "HTTP " + strconv.Itoa(status) + " " + t
	}
	return "HTTP " + strconv.Itoa(status)
}
