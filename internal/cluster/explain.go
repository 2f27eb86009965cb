package cluster

import (
	"errors"
	"io"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Explain turns an error from Dial or a worker stream into one sentence
// for a log line, e.g. "master refused the auth token: wrong auth token"
// or "master unreachable at 10.0.0.5:5557: connection refused".
func Explain(err error) string {
	if err == nil {
		return ""
	}
	at := ""
	var re *remoteError
	if errors.As(err, &re) {
		at = " at " + re.addr
	}
	if errors.Is(err, io.EOF) {
		return "master" + at + " ended the stream"
	}
	// The status itself, not status.FromError's, which puts the text of
	// every wrapping error into the message.
	var se interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &se) || se.GRPCStatus() == nil {
		return err.Error()
	}
	st := se.GRPCStatus()
	msg := st.Message()
	switch st.Code() {
	case codes.Unauthenticated:
		return "master" + at + " refused the auth token: " + msg
	case codes.FailedPrecondition, codes.InvalidArgument:
		return "master" + at + " refused the worker: " + msg
	case codes.Unavailable:
		if msg == msgShuttingDown {
			return "master" + at + " is shutting down"
		}
		return "master unreachable" + at + ": " + transportReason(msg)
	case codes.DeadlineExceeded:
		if strings.Contains(msg, "Hello") {
			return "master" + at + " dropped the worker: " + msg
		}
		return "timed out talking to the master" + at
	case codes.Canceled:
		return "stream to the master" + at + " was closed"
	case codes.ResourceExhausted:
		return "message too large for the master" + at + ": " + msg
	case codes.Unimplemented:
		return "the server" + at + " is not a horde master: " + msg
	}
	return "master" + at + ": " + st.Code().String() + ": " + msg
}

// transportReason shortens gRPC's transport error text to its cause.
func transportReason(msg string) string {
	desc := msg
	if _, after, ok := strings.Cut(msg, `desc = "`); ok {
		desc = strings.TrimSuffix(after, `"`)
	}
	desc = strings.TrimPrefix(desc, "transport: ")
	desc = strings.TrimPrefix(desc, "Error while dialing: ")
	switch {
	case strings.Contains(desc, "connection refused"):
		return "connection refused"
	case strings.Contains(desc, "produced zero addresses"):
		return "the host name does not resolve"
	case strings.Contains(desc, "no such host"):
		return "unknown host (" + desc + ")"
	case strings.Contains(desc, "first record does not look like a TLS handshake"):
		return "the master does not speak TLS: drop the worker's TLS settings or enable TLS on the master"
	case strings.Contains(desc, "x509:"), strings.Contains(desc, "tls:"):
		return "TLS handshake failed: " + strings.TrimPrefix(desc, "authentication handshake failed: ")
	case strings.Contains(desc, "i/o timeout"):
		return "connection timed out"
	case strings.Contains(desc, "server preface"), strings.HasSuffix(desc, "EOF"):
		return "the connection closed during setup (TLS on one side only?): " + desc
	case strings.Contains(desc, "connection reset"):
		return "connection reset by the master"
	}
	return desc
}
