package target

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestHomePage(t *testing.T) {
	t.Parallel()
	_, hs := start(t, Options{Version: "1.2.3<x>"})
	r := call(t, client(t, hs, false), "GET", hs.URL+"/", "", "")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d type %q", r.status, r.header.Get("Content-Type"))
	}
	for _, want := range []string{"horde sample app", `action="/login"`, "1.2.3&lt;x&gt;"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("home page lacks %q", want)
		}
	}
	if got := r.header.Get("Server"); got != "horde-target/1.2.3<x>" {
		t.Errorf("Server header = %q", got)
	}
	if r := call(t, client(t, hs, false), "GET", hs.URL+"/nope", "", ""); r.status != http.StatusNotFound {
		t.Errorf("GET /nope = %d, want 404", r.status)
	}
}

func TestLoginThenProfile(t *testing.T) {
	t.Parallel()
	_, hs := start(t, Options{})
	form := url.Values{"username": {"ellen_key"}, "password": {"education"}}.Encode()
	tests := []struct {
		name, contentType, body string
	}{
		{"json", "application/json", `{"username": "ellen_key", "password": "education"}`},
		{"json without content type", "", `{"username": "ellen_key", "password": "education"}`},
		{"form", "application/x-www-form-urlencoded", form},
		{"json sent as a form, as curl -d does", "application/x-www-form-urlencoded", `{"username": "ellen_key", "password": "education"}`},
		{"multipart form", "multipart/form-data; boundary=XX", "--XX\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nellen_key\r\n" +
			"--XX\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\neducation\r\n--XX--\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := client(t, hs, false)
			if r := call(t, c, "GET", hs.URL+"/profile", "", ""); r.status != http.StatusUnauthorized {
				t.Fatalf("profile before login = %d, want 401", r.status)
			}
			r := call(t, c, "POST", hs.URL+"/login", tt.contentType, tt.body)
			if r.status != 200 {
				t.Fatalf("login = %d %q", r.status, r.body)
			}
			token, _ := r.decode(t)["token"].(string)
			if token == "" {
				t.Fatalf("login reply %q has no token", r.body)
			}
			r = call(t, c, "GET", hs.URL+"/profile", "", "")
			if r.status != 200 || r.decode(t)["username"] != "ellen_key" {
				t.Fatalf("profile with cookie = %d %q", r.status, r.body)
			}
			// The token works as a bearer token from a client without the cookie.
			req, _ := http.NewRequestWithContext(t.Context(), "GET", hs.URL+"/profile", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := hs.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("profile with bearer token = %d", resp.StatusCode)
			}
		})
	}
}

func TestProfileRejectsBadTokens(t *testing.T) {
	t.Parallel()
	s, hs := start(t, Options{})
	other := New(Options{}) // another server signs with another secret
	good := s.sign("ann")
	tests := []struct{ name, auth string }{
		{"none", ""},
		{"tampered user", "Bearer " + s.sign("bob")[:4] + good[strings.Index(good, "."):]},
		{"other server's token", "Bearer " + other.sign("ann")},
		{"garbage", "Bearer !!!.???"},
		{"no dot", "Bearer abc"},
		{"basic auth", "Basic YW5uOnB3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequestWithContext(t.Context(), "GET", hs.URL+"/profile", nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := hs.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", resp.StatusCode)
			}
		})
	}
}

func TestLoginRejectsBadInput(t *testing.T) {
	t.Parallel()
	_, hs := start(t, Options{})
	tests := []struct {
		name, contentType, body, mention string
		status                           int
	}{
		{"bad json", "application/json", `{"username": `, "invalid JSON", 400},
		{"wrong type", "application/json", `{"username": 1, "password": "x"}`, "invalid JSON", 400},
		{"empty body", "application/json", ``, "invalid JSON", 400},
		{"empty body, no type", "", ``, "invalid JSON", 400},
		{"bad multipart", "multipart/form-data; boundary=XX", "junk", "invalid form body", 400},
		{"too large", "application/json", strings.Repeat(" ", maxLoginBody+1), "larger than", 400},
		{"empty username", "application/json", `{"username": "", "password": "x"}`, "required", 400},
		{"missing password", "application/x-www-form-urlencoded", "username=a", "required", 400},
		{"unsupported type", "text/plain", "username=a&password=b", "unsupported Content-Type", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := call(t, client(t, hs, false), "POST", hs.URL+"/login", tt.contentType, tt.body)
			r.wantError(t, tt.status, tt.mention)
			if len(r.header.Values("Set-Cookie")) != 0 {
				t.Fatal("a failed login set a cookie")
			}
		})
	}
	if r := call(t, client(t, hs, false), "GET", hs.URL+"/login", "", ""); r.status != http.StatusMethodNotAllowed {
		t.Fatalf("GET /login = %d, want 405", r.status)
	}
}
