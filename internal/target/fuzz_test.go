package target

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzParams feeds arbitrary text to every parameter parser: each either
// accepts a value within its documented range or returns a parameter
// error (sent as a 400), and never panics.
func FuzzParams(f *testing.F) {
	for _, s := range []string{"", "0", "10", "-1", "60000", "60001", "2s", "1.5s", "abc", "1e3", "99999999999999999999", "101", "\x00"} {
		f.Add(s, s)
	}
	f.Add("2s", "1s")
	f.Add("100ms", "99ms")
	f.Fuzz(func(t *testing.T, a, b string) {
		var bad *badRequest
		check := func(what string, err error) {
			if err != nil && !errors.As(err, &bad) {
				t.Fatalf("%s: error %v is not a parameter error", what, err)
			}
		}
		n, err := parseInt("n", a, 0, maxDelayMillis)
		check("parseInt", err)
		if err == nil && (n < 0 || n > maxDelayMillis) {
			t.Fatalf("parseInt(%q) = %d, out of range", a, n)
		}
		d, err := parseDuration("d", a, time.Second, time.Millisecond, maxStallPeriod)
		check("parseDuration", err)
		if err == nil && (d < time.Millisecond || d > maxStallPeriod) {
			t.Fatalf("parseDuration(%q) = %v, out of range", a, d)
		}
		p, err := parseStall(a, b)
		check("parseStall", err)
		if err == nil {
			if p.stall < 0 || p.stall >= p.period {
				t.Fatalf("parseStall(%q, %q) = %+v", a, b, p)
			}
			if h := p.holdAt(time.Unix(0, int64(len(a))*1e9+int64(len(b)))); h < 0 || h > p.stall {
				t.Fatalf("holdAt = %v outside 0..%v", h, p.stall)
			}
		}
		code, err := parseStatus(a)
		check("parseStatus", err)
		if err == nil && (code < 100 || code > 599 || code == 101) {
			t.Fatalf("parseStatus(%q) = %d", a, code)
		}
	})
}

// FuzzLogin posts arbitrary bodies to /login: 200 with a token, or a 400
// JSON error; never a panic or a 5xx.
func FuzzLogin(f *testing.F) {
	f.Add("application/json", `{"username":"a","password":"b"}`)
	f.Add("application/x-www-form-urlencoded", "username=a&password=b")
	f.Add("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\na\r\n--x--\r\n")
	f.Add("", "{")
	f.Add("text/plain; charset=\x00", "")
	s := New(Options{})
	f.Fuzz(func(t *testing.T, contentType, body string) {
		req := httptest.NewRequest("POST", "/login", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d for %q %q: %s", rec.Code, contentType, body, rec.Body)
		}
		if rec.Code == http.StatusOK && !strings.Contains(rec.Body.String(), `"token"`) {
			t.Fatalf("200 without a token: %s", rec.Body)
		}
	})
}
