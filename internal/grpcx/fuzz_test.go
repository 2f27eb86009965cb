package grpcx

import (
	"strings"
	"testing"
)

// ParseTarget never panics; what it accepts has a host and a port, and
// speaks TLS exactly when the scheme says so.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"127.0.0.1:50051", "grpc://h:1", "grpcs://h", "https://user@h:443/x?y#z", "http://[::1]:8080",
		"h2c://h", "ftp://h", "", "://", "grpcs://", "[::1]", "a@b@c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseTarget(s)
		if err != nil {
			return
		}
		if tg.Addr == "" || !hasPort(tg.Addr) {
			t.Fatalf("%q: address %q without a host and port", s, tg.Addr)
		}
		scheme, _, _ := strings.Cut(strings.ToLower(s), "://")
		if wantTLS := strings.Contains(s, "://") && (scheme == "grpcs" || scheme == "https"); tg.TLS != wantTLS {
			t.Fatalf("%q: TLS %v", s, tg.TLS)
		}
	})
}

func TestParseTarget(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want Target
	}{
		{"127.0.0.1:50051", Target{Addr: "127.0.0.1:50051"}},
		{"grpc://h:9", Target{Addr: "h:9"}},
		{"grpcs://h", Target{Addr: "h:443", TLS: true}},
		{"https://h:8443/base", Target{Addr: "h:8443", TLS: true}},
		{"http://[::1]", Target{Addr: "[::1]:80"}},
	} {
		got, err := ParseTarget(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseTarget(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "ftp://h:1", "grpc://"} {
		if _, err := ParseTarget(bad); err == nil {
			t.Errorf("ParseTarget(%q) accepted", bad)
		}
	}
}
