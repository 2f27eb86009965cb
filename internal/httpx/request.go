package httpx

import (
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// The request side of the wire format (RFC 9112): what goes out, checked
// so that nothing a script gives can frame a second request.

// writeRequest appends the request head to buf: request line, Host, the
// caller's headers, then the ones horde adds (auth is the Authorization
// from the URL's user info, sent unless the caller sets one). Header names
// and values are checked so that a script cannot smuggle a second request.
func writeRequest(buf []byte, method, uri, host string, h http.Header, o *Options, cookie, auth string, bodyLen int) ([]byte, error) {
	buf = append(buf, method...)
	buf = append(buf, ' ')
	buf = append(buf, uri...)
	buf = append(buf, " HTTP/1.1\r\nHost: "...)
	buf = append(buf, host...)
	buf = append(buf, "\r\n"...)
	for k, vs := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			return buf, malformed("invalid header field name %q", k)
		}
		switch {
		case strings.EqualFold(k, "Host"), strings.EqualFold(k, "Content-Length"),
			strings.EqualFold(k, "Transfer-Encoding"), strings.EqualFold(k, "Connection") && o.DisableKeepAlive:
			continue // written from the request itself
		}
		for i, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				return buf, malformed("invalid header field value for %q", k)
			}
			if cookie != "" && i == len(vs)-1 && strings.EqualFold(k, "Cookie") {
				v, cookie = v+"; "+cookie, "" // one Cookie header: the script's, then the jar's
			}
			buf = appendHeader(buf, k, v)
		}
	}
	if _, ok := h["User-Agent"]; !ok {
		buf = appendHeader(buf, "User-Agent", o.UserAgent)
	}
	if cookie != "" {
		buf = appendHeader(buf, "Cookie", cookie)
	}
	if _, ok := h["Authorization"]; auth != "" && !ok {
		buf = appendHeader(buf, "Authorization", auth)
	}
	if wantsGzip(method, h) {
		buf = append(buf, "Accept-Encoding: gzip\r\n"...)
	}
	if bodyLen > 0 || sendsZeroLength(method) {
		buf = append(buf, "Content-Length: "...)
		buf = strconv.AppendInt(buf, int64(bodyLen), 10)
		buf = append(buf, "\r\n"...)
	}
	if o.DisableKeepAlive {
		buf = append(buf, "Connection: close\r\n"...)
	}
	return append(buf, "\r\n"...), nil
}

func appendHeader(buf []byte, k, v string) []byte {
	buf = append(buf, k...)
	buf = append(buf, ": "...)
	buf = append(buf, v...)
	return append(buf, "\r\n"...)
}

// wantsGzip is net/http's rule: ask for gzip unless the request sets its
// own Accept-Encoding, asks for a range, or is a HEAD.
func wantsGzip(method string, h http.Header) bool {
	if method == http.MethodHead {
		return false
	}
	_, ae := h["Accept-Encoding"]
	_, rg := h["Range"]
	return !ae && !rg
}

// sendsZeroLength: like net/http, POST, PUT and PATCH say
// Content-Length: 0 when they have no body.
func sendsZeroLength(method string) bool {
	return method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch
}

// validMethod reports whether m is an HTTP token.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		if !httpguts.IsTokenRune(rune(m[i])) {
			return false
		}
	}
	return true
}

// asksClose reports whether a request's own Connection header says
// "close".
func asksClose(h http.Header) bool {
	for _, v := range h["Connection"] {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "close") {
				return true
			}
		}
	}
	return false
}

// overrideHost checks a Host header set by the request, as net/http
// does: an internationalised name goes out in punycode, and a value that
// is not a host (a line break above all) is refused, so that a script
// cannot add headers or a second request through it.
func overrideHost(host string) (string, error) {
	h, err := httpguts.PunycodeHostPort(host)
	if err != nil || !httpguts.ValidHostHeader(h) {
		return "", malformed("invalid header field value %q for Host", clip([]byte(host)))
	}
	return h, nil
}
