package target

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// start serves a new target on 127.0.0.1:0 until the test ends.
func start(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	s := New(opts)
	hs := httptest.NewUnstartedServer(s.Handler())
	hs.Config.ErrorLog = log.New(io.Discard, "", 0)
	hs.Start()
	t.Cleanup(hs.Close)
	return s, hs
}

// client is an HTTP client with a cookie jar that does not follow
// redirects unless follow is set.
func client(t *testing.T, hs *httptest.Server, follow bool) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: hs.Client().Transport, Jar: jar} // hs.Client() is shared: not modified
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// reply is a response read whole.
type reply struct {
	status int
	header http.Header
	body   string
}

// call sends one request and reads the whole reply.
func call(t *testing.T, c *http.Client, method, url, contentType, body string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return reply{resp.StatusCode, resp.Header, string(b)}
}

// decode parses a JSON reply body into a map.
func (r reply) decode(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("reply %d %q is not a JSON object: %v", r.status, r.body, err)
	}
	return m
}

// wantError checks a 400-class JSON error naming what was wrong.
func (r reply) wantError(t *testing.T, status int, mention string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d (%q), want %d", r.status, r.body, status)
	}
	msg, _ := r.decode(t)["error"].(string)
	if !strings.Contains(msg, mention) {
		t.Fatalf("error %q does not mention %q", msg, mention)
	}
}

// decodeJSON decodes a response body into v.
func decodeJSON(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}
