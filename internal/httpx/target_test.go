package httpx_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/horde-load/horde/internal/httpx"
	"github.com/horde-load/horde/internal/target"
	"github.com/horde-load/horde/internal/target/targettest"
)

// TestAgainstSampleApp runs the tutorial's user against horde's own target:
// log in (cookie kept), fetch /profile, follow a redirect chain, and check
// that the target served exactly the requests the client made.
func TestAgainstSampleApp(t *testing.T) {
	t.Parallel()
	base, app := targettest.Start(t, target.Options{})
	f, err := httpx.NewFactory(httpx.Options{BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	c := f.NewClient()
	defer c.Close()

	login := c.Do(t.Context(), &httpx.Request{Method: "POST", URL: "/login",
		Body: []byte(`{"username": "ellen_key", "password": "education"}`)})
	if login.Status != 200 || len(c.Cookies("/")) != 1 {
		t.Fatalf("login: %d %v, cookies %v", login.Status, login.Err, c.Cookies("/"))
	}
	for range 3 {
		r := c.Do(t.Context(), &httpx.Request{URL: "/profile"})
		var p struct{ Username string }
		if r.Status != 200 || json.Unmarshal(r.Body, &p) != nil || p.Username != "ellen_key" {
			t.Fatalf("profile: %d %q %v", r.Status, r.Body, r.Err)
		}
	}
	if r := c.Do(t.Context(), &httpx.Request{URL: "/redirect/2"}); r.Status != 200 || r.URL != base+"/" {
		t.Fatalf("redirect chain ended at %d %q", r.Status, r.URL)
	}
	if r := c.Do(t.Context(), &httpx.Request{URL: "/status/503"}); r.Status != 503 || r.Failure() != "HTTP 503 Service Unavailable" {
		t.Fatalf("status 503: %d %q", r.Status, r.Failure())
	}
	if r := c.Do(t.Context(), &httpx.Request{URL: "/bytes/1000", DiscardBody: true}); r.BytesRecv != 1000 {
		t.Fatalf("bytes: received %d", r.BytesRecv)
	}
	want := map[string]int64{"POST /login": 1, "GET /profile": 3, "GET /redirect/2": 1, "GET /redirect/1": 1,
		"GET /": 1, "GET /status/503": 1, "GET /bytes/1000": 1}
	if got := app.Counts(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("target served %v, want %v", got, want)
	}
}
