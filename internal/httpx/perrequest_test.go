package httpx

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// Per-request options a script gives (requests' allow_redirects=False and
// verify=False), and cookies set by the script itself.

func TestNoRedirectsReturnsTheRedirect(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/from" {
			w.Header().Set("Location", "/to")
			w.WriteHeader(http.StatusFound)
			io.WriteString(w, "moved")
			return
		}
		io.WriteString(w, "arrived")
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, Options{BaseURL: srv.URL})
	r := c.Do(t.Context(), &Request{URL: "/from", NoRedirects: true})
	if r.Err != nil || r.Status != http.StatusFound || string(r.Body) != "moved" || r.Headers().Get("Location") != "/to" {
		t.Fatalf("status %d body %q location %q err %v; want the 302 itself", r.Status, r.Body, r.Headers().Get("Location"), r.Err)
	}
	if r.Failure() != "" {
		t.Errorf("a redirect not followed is a failure: %q", r.Failure())
	}
	if hits.Load() != 1 {
		t.Errorf("the server got %d requests, want 1", hits.Load())
	}
	// The connection stays usable, and the default still follows.
	if r := c.Do(t.Context(), &Request{URL: "/from"}); r.Status != 200 || string(r.Body) != "arrived" {
		t.Fatalf("followed: status %d body %q", r.Status, r.Body)
	}
}

func TestInsecurePerRequest(t *testing.T) {
	t.Parallel()
	srv := newTLSServer(t)
	c := newClient(t, Options{BaseURL: srv.URL})
	if r := c.Do(t.Context(), &Request{URL: "/"}); r.ErrKind != KindTLS {
		t.Fatalf("verified request to a self-signed server: kind %q, want %q", r.ErrKind, KindTLS)
	}
	if r := c.Do(t.Context(), &Request{URL: "/", Insecure: true}); r.Status != 200 {
		t.Fatalf("verify=False request: status %d err %v", r.Status, r.Err)
	}
	// The unverified connection is never lent to a verified request.
	if r := c.Do(t.Context(), &Request{URL: "/"}); r.ErrKind != KindTLS {
		t.Fatalf("a verified request after an unverified one: kind %q, want %q", r.ErrKind, KindTLS)
	}
}

func TestSetAndClearCookies(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("Cookie"))
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, Options{BaseURL: srv.URL})
	if err := c.SetCookies("/", []*http.Cookie{{Name: "session", Value: "abc"}, {Name: "lang", Value: "fr"}}); err != nil {
		t.Fatal(err)
	}
	r := c.Do(t.Context(), &Request{URL: "/x", Header: http.Header{"Cookie": {"extra=1"}}})
	got := string(r.Body)
	for _, want := range []string{"extra=1", "session=abc", "lang=fr"} {
		if !strings.Contains(got, want) {
			t.Errorf("Cookie %q lacks %q", got, want)
		}
	}
	if !strings.HasPrefix(got, "extra=1") {
		t.Errorf("Cookie %q: the request's own cookies come first", got)
	}
	c.ClearCookies()
	if r := c.Do(t.Context(), &Request{URL: "/x"}); len(r.Body) != 0 {
		t.Errorf("after ClearCookies the client sent Cookie %q", r.Body)
	}
	if err := c.SetCookies("http://[::1", nil); err == nil {
		t.Error("SetCookies accepted a malformed URL")
	}
}
