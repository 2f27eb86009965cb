package httpx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"
)

func opErr(op string, errno syscall.Errno) error {
	return &url.Error{Op: "Get", URL: "http://h/", Err: &net.OpError{Op: op, Net: "tcp", Err: os.NewSyscallError(op, errno)}}
}

func TestClassifyError(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("abcdefghij", 10)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), KindCanceled},
		{"deadline", &url.Error{Op: "Get", URL: "http://h/", Err: context.DeadlineExceeded}, KindTimeout},
		{"io deadline", os.ErrDeadlineExceeded, KindTimeout},
		{"our timeout cause", fmt.Errorf("reading: %w", errTimeout), KindTimeout},
		{"refused", opErr("connect", syscall.ECONNREFUSED), KindConnRefused},
		{"reset", opErr("read", syscall.ECONNRESET), KindConnReset},
		{"broken pipe", opErr("write", syscall.EPIPE), KindConnReset},
		{"dns not found", &net.DNSError{Err: "no such host", Name: "nowhere.invalid", IsNotFound: true}, KindDNS},
		{"dns timeout is a dns error", &net.DNSError{Err: "i/o timeout", Name: "slow.invalid", IsTimeout: true}, KindDNS},
		{"unknown authority", &url.Error{Op: "Get", URL: "https://h/", Err: x509.UnknownAuthorityError{}}, KindTLS},
		{"not TLS", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, KindTLS},
		{"malformed", errors.New(`net/http: HTTP/1.x transport connection broken: malformed HTTP response "\x00"`), KindProtocol},
		{"bad chunk", fmt.Errorf("reading the response body: %w", errors.New("invalid byte in chunk length")), KindProtocol},
		{"eof", &url.Error{Op: "Get", URL: "http://h/", Err: io.EOF}, KindEOF},
		{"unexpected eof", fmt.Errorf("reading the response body: %w", io.ErrUnexpectedEOF), KindEOF},
		{"redirects", fmt.Errorf("%w: more than 3", ErrTooManyRedirects), KindTooManyRedirects},
		{"invalid url", fmt.Errorf("x: %w", ErrInvalidURL), KindInvalidURL},
		{"url parse", &url.Error{Op: "parse", URL: "http://a b", Err: errors.New("invalid character")}, KindInvalidURL},
		{"refused as text only", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), KindConnRefused},
		{"URL text does not decide", &url.Error{Op: "Get", URL: "http://h/timeout/eof", Err: errors.New("odd")}, "error: odd"},
		{"other is short", errors.New(long), "error: " + long[:maxOtherMessageLength] + "…"},
		{"other is one line", errors.New("two\nlines\t here"), "error: two lines here"},
		{"other is innermost", fmt.Errorf("outer: %w", errors.New("inner")), "error: inner"},
		{"empty message", errors.New(""), "error: unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ClassifyError(tt.err); got != tt.want {
				t.Fatalf("ClassifyError(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func FuzzClassifyError(f *testing.F) {
	for _, s := range []string{"", "EOF", "connection refused", "malformed HTTP response", "x509: bad", "\xff\xfe", strings.Repeat("é", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		for _, err := range []error{errors.New(msg), &url.Error{Op: "Get", URL: msg, Err: errors.New(msg)}} {
			k := ClassifyError(err)
			if k == "" || strings.ContainsAny(k, "\n\r\t") || !utf8.ValidString(k) {
				t.Fatalf("ClassifyError(%q) = %q: want a non-empty, one-line, valid kind", msg, k)
			}
			if n := utf8.RuneCountInString(k); n > len(kindOtherPrefix)+maxOtherMessageLength+1 {
				t.Fatalf("ClassifyError(%q) = %q: %d runes, too long to group", msg, k, n)
			}
			if k != ClassifyError(err) {
				t.Fatalf("ClassifyError(%q) is not deterministic", msg)
			}
		}
	})
}

func TestJoinURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		base, ref, want string
		wantErr         bool
	}{
		{"http://h", "/a", "http://h/a", false},
		{"http://h", "", "http://h", false},
		{"http://h", "?q=1", "http://h?q=1", false},
		{"http://h/api", "v1/x", "http://h/api/v1/x", false},
		{"http://h", "HTTPS://other/x", "HTTPS://other/x", false},
		{"http://h", "ftp://other/x", "ftp://other/x", false}, // rejected later by checkURL
		{"", "/a", "", true},
		{"", "http://h/a", "http://h/a", false},
	}
	for _, tt := range tests {
		got, err := joinURL(tt.base, tt.ref)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("joinURL(%q, %q) = %q, %v; want %q, error %v", tt.base, tt.ref, got, err, tt.want, tt.wantErr)
		}
	}
}

func FuzzResolveURL(f *testing.F) {
	f.Add("http://127.0.0.1:8080", "/login")
	f.Add("https://h/api/", "v1?x=1#f")
	f.Add("", "http://h/%zz")
	f.Add("http://h", "ftp://x")
	f.Add("HTTP://H:1/", "//evil/x")
	f.Fuzz(func(t *testing.T, base, ref string) {
		b, err := normalizeBase(base)
		if err != nil {
			if !errors.Is(err, ErrInvalidURL) {
				t.Fatalf("normalizeBase(%q) error %v does not wrap ErrInvalidURL", base, err)
			}
			return
		}
		u, err := resolveURL(b, ref)
		if err != nil {
			if ClassifyError(err) != KindInvalidURL {
				t.Fatalf("resolveURL(%q, %q) error %v classified %q", b, ref, err, ClassifyError(err))
			}
			return
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Fatalf("resolveURL(%q, %q) = %v: not a sendable URL", b, ref, u)
		}
	})
}
