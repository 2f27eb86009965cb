package httpx

import (
	"io"
	"net/http"
	"testing"
)

// BenchmarkClientDo measures one sequential user against a loopback
// httptest server: the client's overhead per request, with allocations.
func BenchmarkClientDo(b *testing.B) {
	srv := newServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello, world")
	}))
	for _, bc := range []struct {
		name    string
		discard bool
	}{{"keep body", false}, {"discard body", true}} {
		b.Run(bc.name, func(b *testing.B) {
			c := newClient(b, Options{BaseURL: srv.URL})
			req := &Request{URL: "/", DiscardBody: bc.discard}
			b.ReportAllocs()
			for b.Loop() {
				if r := c.Do(b.Context(), req); r.Err != nil {
					b.Fatal(r.Err)
				}
			}
		})
	}
}

// BenchmarkClientDoHTTP2 is the same over HTTP/2: h2c to a loopback
// httptest server, one user's requests as streams of its connection.
func BenchmarkClientDoHTTP2(b *testing.B) {
	s := newH2Server(b, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello, world")
	}))
	c := newClient(b, s.options(HTTP2On))
	req := &Request{URL: "/"}
	b.ReportAllocs()
	for b.Loop() {
		if r := c.Do(b.Context(), req); r.Err != nil || r.Proto != "HTTP/2.0" {
			b.Fatal(r.Err, r.Proto)
		}
	}
}
