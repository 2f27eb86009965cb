package httpx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"unicode/utf8"
)

// Error kinds: short, stable reasons that group failures in statistics.
// Anything else is "error: " followed by a short message.
const (
	KindCanceled          = "canceled" // the caller's context ended; not a failure of the target
	KindTimeout           = "timeout"
	KindConnRefused       = "connection refused"
	KindConnReset         = "connection reset"
	KindDNS               = "dns error"
	KindTLS               = "tls error"
	KindEOF               = "eof" // the server closed the connection without a (whole) response
	KindProtocol          = "protocol error"
	KindTooManyRedirects  = "too many redirects"
	KindInvalidURL        = "invalid url"
	kindOtherPrefix       = "error: "
	maxOtherMessageLength = 60
)

// ErrTooManyRedirects is returned when a redirect chain is longer than
// Options.MaxRedirects.
var ErrTooManyRedirects = errors.New("too many redirects")

// errTimeout is the cause of a request context whose own timeout fired,
// which tells it apart from the caller's context ending.
var errTimeout = errors.New("request timeout")

// protocolMarkers are fragments of net/http's messages for responses that
// are not valid HTTP/1.1; net/http does not export types for them.
var protocolMarkers = []string{
	"malformed HTTP", "malformed MIME header", "malformed chunked encoding",
	"invalid byte in chunk length", "chunked encoding contains too much non-data",
	"chunk length", "bad Content-Length", "invalid Content-Length",
	"unsupported transfer encoding", "too many transfer encodings",
	"server response headers exceeded", "header line too long",
	"failed to parse Location header", "invalid Trailer key",
	"unexpected EOF reading trailer", "response had no Location header",
	"invalid header field", "missing protocol version", "unknown protocol version",
}

// ClassifyError maps an error from a request to a short, stable kind (see
// the Kind constants), or "error: <short message>" for anything else. It
// returns "" for a nil error.
func ClassifyError(err error) string {
	if err == nil {
		return ""
	}
	if k := classifyTyped(err); k != "" {
		return k
	}
	if k := classifyText(textOf(err)); k != "" {
		return k
	}
	return kindOtherPrefix + shortMessage(err)
}

// classifyTyped matches errors by type or sentinel; the order matters:
// a TLS handshake timeout is a timeout, a DNS timeout a DNS error.
func classifyTyped(err error) string {
	var (
		dnsErr *net.DNSError
		urlErr *url.Error
		netErr net.Error
	)
	switch {
	case errors.Is(err, context.Canceled):
		return KindCanceled
	case errors.Is(err, ErrTooManyRedirects):
		return KindTooManyRedirects
	case classifyH2(err) != "":
		return classifyH2(err)
	case errors.Is(err, ErrInvalidURL), errors.As(err, &urlErr) && urlErr.Op == "parse":
		return KindInvalidURL
	case errors.As(err, &dnsErr):
		return KindDNS
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.Is(err, errTimeout), errors.As(err, &netErr) && netErr.Timeout():
		return KindTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindConnRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return KindConnReset
	case isTLSError(err):
		return KindTLS
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return KindEOF
	}
	return ""
}

func isTLSError(err error) bool {
	var (
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalid     x509.CertificateInvalidError
		verify      *tls.CertificateVerificationError
		record      tls.RecordHeaderError
		alert       tls.AlertError
	)
	return errors.As(err, &unknownAuth) || errors.As(err, &hostErr) || errors.As(err, &invalid) ||
		errors.As(err, &verify) || errors.As(err, &record) || errors.As(err, &alert)
}

// textOf is the error's text without the URL that *url.Error adds, so a
// path such as /timeout does not decide the kind.
func textOf(err error) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) && urlErr.Err != nil {
		return urlErr.Err.Error()
	}
	return err.Error()
}

// classifyText is the fallback for errors whose type was lost (wrapped as
// text) or that net/http reports only as text.
func classifyText(msg string) string {
	for _, m := range protocolMarkers {
		if strings.Contains(msg, m) {
			return KindProtocol
		}
	}
	switch {
	case strings.Contains(msg, "context canceled"):
		return KindCanceled
	case strings.Contains(msg, "stopped after") && strings.Contains(msg, "redirects"):
		return KindTooManyRedirects
	case strings.Contains(msg, "unsupported protocol scheme"), strings.Contains(msg, "no Host in request URL"):
		return KindInvalidURL
	case strings.Contains(msg, "no such host"), strings.Contains(msg, "server misbehaving"):
		return KindDNS
	case strings.Contains(msg, "timeout"), strings.Contains(msg, "deadline exceeded"):
		return KindTimeout
	case strings.Contains(msg, "connection refused"):
		return KindConnRefused
	case strings.Contains(msg, "connection reset"), strings.Contains(msg, "broken pipe"):
		return KindConnReset
	case strings.Contains(msg, "tls: "), strings.Contains(msg, "x509: "),
		strings.Contains(msg, "HTTP response to HTTPS client"):
		return KindTLS
	case strings.HasSuffix(msg, "EOF"), strings.Contains(msg, "server closed"):
		return KindEOF
	}
	return ""
}

// shortMessage is the innermost error's text, on one line and cut short,
// so that failures group instead of carrying URLs and addresses.
func shortMessage(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			break
		}
		err = next
	}
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if !utf8.ValidString(msg) {
		msg = strings.ToValidUTF8(msg, "?")
	}
	if msg == "" {
		return "unknown"
	}
	if utf8.RuneCountInString(msg) > maxOtherMessageLength {
		r := []rune(msg)
		msg = string(r[:maxOtherMessageLength]) + "…"
	}
	return msg
}
