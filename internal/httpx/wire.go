package httpx

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"golang.org/x/net/http/httpguts"
)

// The wire format of HTTP/1.1 (RFC 9112), written and parsed here rather
// than by net/http's Transport: a virtual user is sequential, so its
// connection needs no reader and writer goroutines, no channels between
// them and no pool shared with other users. That is where net/http's
// client spends most of its time per request on a fast server.

// Limits on what a server may send before its body.
const (
	maxHeadBytes  = 1 << 20 // status line and headers, as net/http's default
	maxChunkLine  = 4 << 10 // a chunk-size line with its extensions
	maxTrailBytes = 64 << 10
)

// protocolError is a response that is not valid HTTP/1.1. Its text starts
// with one of the protocolMarkers so that ClassifyError says
// KindProtocol.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return e.msg }

func malformed(format string, args ...any) error {
	return &protocolError{msg: fmt.Sprintf(format, args...)}
}

// head is the parsed status line and headers of a response. raw holds the
// header lines (after the status line) when the caller keeps them.
type head struct {
	status     int
	proto      string
	raw        []byte
	length     int64 // -1: not given
	chunked    bool
	close      bool // the connection ends after this response
	gzip       bool // Content-Encoding: gzip
	location   string
	setCookies []string
}

// readHead reads a response's status line and headers, skipping
// informational (1xx) responses other than 101. keepRaw copies the header
// lines into h.raw for Response.Headers.
func readHead(br *bufio.Reader, scratch *[]byte, keepRaw bool, h *head) error {
	budget := maxHeadBytes
	for {
		*h = head{length: -1, raw: h.raw[:0], setCookies: h.setCookies[:0]} // keep their memory
		line, err := readLine(br, scratch, &budget)
		if err != nil {
			return err
		}
		if err := parseStatusLine(line, h); err != nil {
			return err
		}
		if err := readHeaders(br, scratch, &budget, keepRaw, h); err != nil {
			return err
		}
		if h.status >= 200 || h.status == http.StatusSwitchingProtocols {
			return nil
		}
	}
}

// readLine returns the next line without its line ending. The slice is
// valid until the next read from br. Lines longer than br's buffer are
// gathered in *scratch.
func readLine(br *bufio.Reader, scratch *[]byte, budget *int) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		buf := append((*scratch)[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(buf) > *budget {
				return nil, malformed("server response headers exceeded %d bytes", maxHeadBytes)
			}
			line, err = br.ReadSlice('\n')
			buf = append(buf, line...)
		}
		*scratch = buf
		line = buf
	}
	*budget -= len(line)
	if *budget < 0 {
		return nil, malformed("server response headers exceeded %d bytes", maxHeadBytes)
	}
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) > 0 {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// parseStatusLine parses "HTTP/1.1 200 OK".
func parseStatusLine(line []byte, h *head) error {
	proto, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok {
		return malformed("malformed HTTP response %q", clip(line))
	}
	switch {
	case string(proto) == "HTTP/1.1":
		h.proto = "HTTP/1.1"
	case string(proto) == "HTTP/1.0":
		h.proto = "HTTP/1.0" // closes unless it says keep-alive: see readHeaders
	case len(proto) == 8 && bytes.HasPrefix(proto, []byte("HTTP/1.")) && isDigit(proto[7]):
		h.proto = string(proto)
	default:
		return malformed("malformed HTTP version %q", clip(proto))
	}
	if len(rest) < 3 || (len(rest) > 3 && rest[3] != ' ') ||
		!isDigit(rest[0]) || !isDigit(rest[1]) || !isDigit(rest[2]) || rest[0] == '0' {
		return malformed("malformed HTTP status code %q", clip(rest))
	}
	h.status = int(rest[0]-'0')*100 + int(rest[1]-'0')*10 + int(rest[2]-'0')
	return nil
}

// readHeaders reads header lines up to the blank line and picks out the
// ones that frame the body or that the client acts on.
func readHeaders(br *bufio.Reader, scratch *[]byte, budget *int, keepRaw bool, h *head) error {
	var (
		te, lengths int
		keepAlive   bool
	)
	for {
		line, err := readLine(br, scratch, budget)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return malformed("malformed MIME header: obsolete line folding %q", clip(line))
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(k) == 0 || !validFieldName(k) {
			return malformed("malformed MIME header line %q", clip(line))
		}
		v = trimOWS(v)
		if keepRaw {
			h.raw = append(h.raw, line...)
			h.raw = append(h.raw, '\n')
		}
		switch {
		case equalFold(k, "Content-Length"):
			n, err := parseLength(v)
			if err != nil {
				return err
			}
			if lengths > 0 && n != h.length {
				return malformed("bad Content-Length: %d and %d", h.length, n)
			}
			h.length, lengths = n, lengths+1
		case equalFold(k, "Transfer-Encoding") && h.proto == "HTTP/1.0":
			// Faulty framing in HTTP/1.0 (RFC 9112 section 6.1): ignored,
			// as net/http does, and the connection closed after.
			h.close = true
		case equalFold(k, "Transfer-Encoding"):
			if te++; te > 1 || !equalFold(v, "chunked") {
				return malformed("unsupported transfer encoding %q", clip(v))
			}
			h.chunked = true
		case equalFold(k, "Connection"):
			connectionTokens(v, h, &keepAlive)
		case equalFold(k, "Content-Encoding"):
			h.gzip = equalFold(v, "gzip")
		case equalFold(k, "Location"):
			h.location = string(v)
		case equalFold(k, "Set-Cookie"):
			h.setCookies = append(h.setCookies, string(v))
		}
	}
	finishHead(h, lengths > 0, keepAlive)
	return nil
}

// finishHead settles what the headers said together: Transfer-Encoding
// wins over Content-Length, and such a message ends its connection, as
// does HTTP/1.0 without keep-alive. (A "close" is never undone.)
func finishHead(h *head, hasLength, keepAlive bool) {
	if h.chunked {
		h.length = -1
		if hasLength {
			h.close = true
		}
	}
	if h.proto == "HTTP/1.0" && !keepAlive {
		h.close = true
	}
}

// connectionTokens reads a Connection header: "close" ends the connection
// after this response whatever else is said, in any order or header;
// "keep-alive" only keeps an HTTP/1.0 one open, and only without "close".
func connectionTokens(v []byte, h *head, keepAlive *bool) {
	for len(v) > 0 {
		var tok []byte
		tok, v, _ = bytes.Cut(v, []byte(","))
		switch tok = trimOWS(tok); {
		case equalFold(tok, "close"):
			h.close = true
		case equalFold(tok, "keep-alive"):
			*keepAlive = true
		}
	}
}

// trimOWS trims the optional white space (spaces and tabs, RFC 9110
// section 5.6.3) around a header's value; bytes.Trim with a cutset costs
// a table built at every call.
func trimOWS(v []byte) []byte {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

func parseLength(v []byte) (int64, error) {
	if len(v) == 0 || len(v) > 18 {
		return 0, malformed("bad Content-Length %q", clip(v))
	}
	var n int64
	for _, c := range v {
		if !isDigit(c) {
			return 0, malformed("bad Content-Length %q", clip(v))
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

func validFieldName(k []byte) bool {
	for _, c := range k {
		if !httpguts.IsTokenRune(rune(c)) {
			return false
		}
	}
	return true
}

// equalFold compares ASCII case-insensitively without allocating.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// clip keeps error messages short.
func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

// parseHeaders turns raw header lines (as kept by readHead) into an
// http.Header with canonical keys.
func parseHeaders(raw []byte, uncompressed bool) http.Header {
	h := make(http.Header, bytes.Count(raw, []byte("\n")))
	for len(raw) > 0 {
		line, rest, _ := bytes.Cut(raw, []byte("\n"))
		raw = rest
		k, v, _ := bytes.Cut(line, []byte(":"))
		key := http.CanonicalHeaderKey(string(k))
		if uncompressed && (key == "Content-Encoding" || key == "Content-Length") {
			continue // as net/http: the body given is not the one they describe
		}
		h[key] = append(h[key], string(trimOWS(v)))
	}
	return h
}

// bodyReader reads one response body as its head frames it: a fixed
// length, chunked, or up to the end of the connection.
type bodyReader struct {
	br      *bufio.Reader
	scratch *[]byte
	mode    bodyMode
	left    int64 // bytes left in the body (fixed) or the current chunk
	started bool  // chunked: a chunk was read, its CRLF is due
	done    bool
	err     error // the first error reading the body, if any
}

type bodyMode uint8

const (
	bodyNone bodyMode = iota
	bodyFixed
	bodyChunked
	bodyToEOF
)

// frame sets up b for the response to method with head h.
func (b *bodyReader) frame(br *bufio.Reader, scratch *[]byte, method string, h *head) {
	*b = bodyReader{br: br, scratch: scratch}
	switch {
	case h.status == http.StatusSwitchingProtocols:
		b.mode, b.done = bodyNone, true
		h.close = true // the connection now speaks another protocol
	case method == http.MethodHead, h.status < 200, h.status == http.StatusNoContent, h.status == http.StatusNotModified:
		b.mode, b.done = bodyNone, true
	case h.chunked:
		b.mode = bodyChunked
	case h.length >= 0:
		b.mode, b.left, b.done = bodyFixed, h.length, h.length == 0
	default:
		b.mode = bodyToEOF
		h.close = true
	}
}

func (b *bodyReader) Read(p []byte) (n int, err error) {
	if b.done {
		return 0, io.EOF
	}
	switch b.mode {
	case bodyFixed:
		n, err = b.readFixed(p)
	case bodyChunked:
		n, err = b.readChunked(p)
	default:
		n, err = b.br.Read(p)
		if errors.Is(err, io.EOF) {
			b.done = true
		}
	}
	if err != nil && !errors.Is(err, io.EOF) && b.err == nil {
		b.err = err
	}
	return n, err
}

func (b *bodyReader) readFixed(p []byte) (int, error) {
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.br.Read(p)
	b.left -= int64(n)
	if b.left == 0 {
		b.done = true
		return n, nil
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (b *bodyReader) readChunked(p []byte) (int, error) {
	if b.left == 0 {
		if err := b.nextChunk(); err != nil {
			return 0, err
		}
		if b.done {
			return 0, io.EOF
		}
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.br.Read(p)
	b.left -= int64(n)
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// nextChunk reads the end of the previous chunk and the next chunk's
// size line; at the last chunk it reads the trailers and sets done.
func (b *bodyReader) nextChunk() error {
	budget := maxChunkLine
	if b.started {
		line, err := readLine(b.br, b.scratch, &budget)
		if err != nil {
			return eofIsUnexpected(err)
		}
		if len(line) != 0 {
			return malformed("malformed chunked encoding: no CRLF after chunk data")
		}
		budget = maxChunkLine
	}
	b.started = true
	line, err := readLine(b.br, b.scratch, &budget)
	if err != nil {
		return eofIsUnexpected(err)
	}
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i] // chunk extensions are ignored
	}
	line = bytes.TrimRight(line, " \t")
	if len(line) == 0 || len(line) > 15 {
		return malformed("malformed chunked encoding: chunk length %q", clip(line))
	}
	var n int64
	for _, c := range line {
		d, ok := hexDigit(c)
		if !ok {
			return malformed("invalid byte in chunk length %q", clip(line))
		}
		n = n<<4 | int64(d)
	}
	if n > 0 {
		b.left = n
		return nil
	}
	budget = maxTrailBytes
	for { // trailers, ignored
		line, err := readLine(b.br, b.scratch, &budget)
		if err != nil {
			return eofIsUnexpected(err)
		}
		if len(line) == 0 {
			b.done = true
			return nil
		}
	}
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func eofIsUnexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
