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
