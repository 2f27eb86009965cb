package web

import (
	"encoding/base64"
	"net/http"
	"slices"
	"testing"
)

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// TestAuth checks --web-auth over a real connection: every route but the
// probes needs the credentials, a wrong or missing one gets 401 with a
// Basic challenge, and the right one gets through.
func TestAuth(t *testing.T) {
	t.Parallel()
	clk := newClock()
	ctl := newFakeControl(clk)
	routes := []struct{ method, path string }{
		{"GET", "/api/v1/stats"}, {"GET", "/stats/requests"}, {"GET", "/metrics"},
		{"GET", "/api/v1/report.json"}, {"GET", "/"}, {"POST", "/api/v1/reset"}, {"GET", "/api/v1/nope"},
	}
	tests := []struct {
		name   string
		spec   string
		header string // the Authorization header sent; "" none
		want   int
	}{
		{"basic: none", "admin:s3cret", "", 401},
		{"basic: wrong password", "admin:s3cret", basic("admin", "nope"), 401},
		{"basic: wrong user", "admin:s3cret", basic("root", "s3cret"), 401},
		{"basic: bearer sent", "admin:s3cret", "Bearer admin:s3cret", 401},
		{"basic: right", "admin:s3cret", basic("admin", "s3cret"), 200},
		{"basic: colon in password", "admin:a:b", basic("admin", "a:b"), 200},
		{"bearer: none", "tok3n", "", 401},
		{"bearer: wrong", "tok3n", "Bearer tok3", 401},
		{"bearer: longer", "tok3n", "Bearer tok3nn", 401},
		{"bearer: right", "tok3n", "Bearer tok3n", 200},
		{"bearer: scheme case", "tok3n", "bearer tok3n", 200},
		{"bearer: from a browser (Basic, any user)", "tok3n", basic("anyone", "tok3n"), 200},
		{"bearer: browser, wrong", "tok3n", basic("tok3n", "x"), 401},
		{"off", "", "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, ts := newTestServer(t, Options{Control: ctl, Auth: tt.spec, Now: clk.Now})
			for _, rt := range routes {
				req, err := http.NewRequest(rt.method, ts.URL+rt.path, nil)
				if err != nil {
					t.Fatal(err)
				}
				if tt.header != "" {
					req.Header.Set("Authorization", tt.header)
				}
				resp, err := ts.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				got := resp.StatusCode
				if tt.want == 200 && got != 401 {
					got = 200 // any answer but 401 means the credentials passed (/api/v1/nope is 404)
				}
				if got != tt.want {
					t.Errorf("%s %s = %d, want %d", rt.method, rt.path, resp.StatusCode, tt.want)
				}
				challenges := resp.Header.Values("WWW-Authenticate")
				if tt.want == 401 && !slices.Contains(challenges, `Basic realm="horde"`) {
					t.Errorf("%s %s: WWW-Authenticate = %q, want a Basic challenge", rt.method, rt.path, challenges)
				}
			}
		})
	}
}

func TestAuthProbesOpen(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{"admin:s3cret", "tok3n"} {
		h := New(Options{Source: &fakeSource{}, Auth: spec})
		for _, path := range []string{"/healthz", "/readyz"} {
			if rec := serve(t, h, http.MethodGet, path); rec.Code != http.StatusOK {
				t.Errorf("auth %q: GET %s without credentials = %d, want 200", spec, path, rec.Code)
			}
		}
		// A path that only cleans to a probe is not one.
		if rec := serve(t, h, http.MethodGet, "/x/../healthz"); rec.Code != http.StatusUnauthorized {
			t.Errorf("auth %q: GET /x/../healthz = %d, want 401", spec, rec.Code)
		}
	}
}
