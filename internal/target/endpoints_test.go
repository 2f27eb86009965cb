package target

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// promptly only guards against waiting out a long delay; it is no
// performance bound.
const promptly = 10 * time.Second

func TestDelay(t *testing.T) {
	t.Parallel()
	_, hs := start(t, Options{})
	for _, path := range []string{"/delay/30", "/delay?ms=30"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			began := time.Now()
			r := call(t, client(t, hs, false), "GET", hs.URL+path, "", "")
			if r.status != 200 || r.decode(t)["delay_ms"] != 30.0 {
				t.Fatalf("%d %q", r.status, r.body)
			}
			if took := time.Since(began); took < 30*time.Millisecond {
				t.Fatalf("answered after %v, before the 30ms delay", took)
			}
		})
	}
}

func TestDelayEndsWhenClientGoesAway(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	req := httptest.NewRequestWithContext(ctx, "GET", "/delay/60000", nil)
	rec := httptest.NewRecorder()
	began := time.Now()
	s.Handler().ServeHTTP(rec, req)
	if took := time.Since(began); took > promptly {
		t.Fatalf("a canceled delay took %v", took)
	}
	if rec.Body.Len() != 0 {
		t.Fatalf("wrote %q to a client that went away", rec.Body)
	}
	if got := s.Counts()["GET /delay/60000"]; got != 1 {
		t.Fatalf("abandoned request counted %d times, want 1", got)
	}
}

func TestRandomDelay(t *testing.T) {
	t.Parallel()
	_, hs := start(t, Options{})
	c := client(t, hs, false)
	for range 5 {
		r := call(t, c, "GET", hs.URL+"/random-delay?min=2&max=6", "", "")
		ms, _ := r.decode(t)["delay_ms"].(float64)
		if r.status != 200 || ms < 2 || ms > 6 {
			t.Fatalf("%d delay %v, want 200 and 2..6", r.status, ms)
		}
	}
}

func TestBadParameters(t *testing.T) {
	t.Parallel()
	_, hs := start(t, Options{})
	tests := []struct{ path, mention string }{
		{"/delay/abc", "ms must be an integer"},
		{"/delay/-1", "ms must be an integer from 0 to 60000"},
		{"/delay/60001", "from 0 to 60000"},
		{"/delay", "ms is required"},
		{"/delay?ms=1.5", "ms must be an integer"},
		{"/random-delay?min=50&max=10", "must not be greater"},
		{"/random-delay?min=x", "min must be"},
		{"/random-delay?max=-5", "max must be"},
		{"/status/99", "from 100 to 599"},
		{"/status/600", "from 100 to 599"},
		{"/status/abc", "status code must be"},
		{"/status/101", "101"},
		{"/stall?period=1s&stall=1s", "shorter than period"},
		{"/stall?period=0", "period must be"},
		{"/stall?period=abc", "period must be a duration"},
		{"/stall?stall=-1s", "stall must be"},
		{"/stall?period=2h", "period must be"},
		{"/bytes/-1", "n must be"},
		{"/bytes/10485761", "from 0 to 10485760"},
		{"/bytes/1e3", "n must be"},
		{"/redirect/0", "from 1 to 100"},
		{"/redirect/101", "from 1 to 100"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			call(t, client(t, hs, false), "GET", hs.URL+tt.path, "", "").wantError(t, http.StatusBadRequest, tt.mention)
		})
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	_, hs := start(t, Options{})
	tests := []struct{ code, want int }{
		{200, 200}, {201, 201}, {204, 204}, {304, 304}, {404, 404}, {418, 418},
		{500, 500}, {503, 503}, {599, 599},
		{100, 200}, {103, 200}, // informational, then the final 200
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.code), func(t *testing.T) {
			t.Parallel()
			r := call(t, client(t, hs, false), "GET", fmt.Sprintf("%s/status/%d", hs.URL, tt.code), "", "")
			if r.status != tt.want {
				t.Fatalf("status %d, want %d", r.status, tt.want)
			}
			if (tt.code == 204 || tt.code == 304) != (r.body == "") {
				t.Fatalf("body %q for %d", r.body, tt.code)
			}
		})
	}
}

func TestStallWithInjectedClock(t *testing.T) {
	t.Parallel()
	epoch := time.Unix(1_700_000_000, 0) // a whole number of 200ms periods
	tests := []struct {
		name  string
		phase time.Duration
		want  float64 // held_ms
	}{
		{"stall start", 0, 50},
		{"inside the stall", 30 * time.Millisecond, 20},
		{"stall end", 50 * time.Millisecond, 0},
		{"after the stall", 120 * time.Millisecond, 0},
		{"next period", 200 * time.Millisecond, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := func() time.Time { return epoch.Add(tt.phase) }
			_, hs := start(t, Options{Clock: clock})
			began := time.Now()
			r := call(t, client(t, hs, false), "GET", hs.URL+"/stall?period=200ms&stall=50", "", "")
			if held := r.decode(t)["held_ms"]; r.status != 200 || held != tt.want {
				t.Fatalf("%d held %v, want 200 and %v", r.status, held, tt.want)
			}
			if took := time.Since(began); took < time.Duration(tt.want)*time.Millisecond {
				t.Fatalf("answered after %v, before the %vms stall ended", took, tt.want)
			}
		})
	}
}

func TestStallWithRealClock(t *testing.T) {
	t.Parallel()
	_, hs := start(t, Options{})
	c := client(t, hs, false)
	var held, free bool
	deadline := time.Now().Add(3 * time.Second)
	for !(held && free) && time.Now().Before(deadline) {
		r := call(t, c, "GET", hs.URL+"/stall?period=100ms&stall=50ms", "", "")
		ms, _ := r.decode(t)["held_ms"].(float64)
		if ms < 0 || ms > 50 {
			t.Fatalf("held %vms, outside 0..50", ms)
		}
		held = held || ms > 0
		free = free || ms == 0
	}
	if !held || !free {
		t.Fatalf("in 3 s saw held=%v answered-at-once=%v; want both", held, free)
	}
}

func TestBytes(t *testing.T) {
	t.Parallel()
	_, hs := start(t, Options{})
	for _, n := range []int{0, 1, 65536, 100_001, maxBytes} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			r := call(t, client(t, hs, false), "GET", fmt.Sprintf("%s/bytes/%d", hs.URL, n), "", "")
			if r.status != 200 || len(r.body) != n || r.header.Get("Content-Length") != strconv.Itoa(n) {
				t.Fatalf("status %d, %d bytes, Content-Length %q; want %d", r.status, len(r.body), r.header.Get("Content-Length"), n)
			}
		})
	}
}

func TestEcho(t *testing.T) {
	t.Parallel()
	_, hs := start(t, Options{})
	c := client(t, hs, false)
	req, _ := http.NewRequestWithContext(t.Context(), "PUT", hs.URL+"/echo?a=1&a=2&b=x", strings.NewReader("hello body"))
	req.Header.Set("X-Test", "yes")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got echoReply
	if err := decodeJSON(resp, &got); err != nil {
		t.Fatal(err)
	}
	if got.Method != "PUT" || got.Path != "/echo" || got.Body != "hello body" ||
		fmt.Sprint(got.Query["a"]) != "[1 2]" || got.Headers["X-Test"][0] != "yes" {
		t.Fatalf("echo = %+v", got)
	}
	big := strings.Repeat("x", maxEchoBody+1)
	call(t, c, "POST", hs.URL+"/echo", "text/plain", big).wantError(t, http.StatusRequestEntityTooLarge, "larger than 1 MiB")
}

func TestRedirectChain(t *testing.T) {
	t.Parallel()
	s, hs := start(t, Options{})
	r := call(t, client(t, hs, false), "GET", hs.URL+"/redirect/2", "", "")
	if r.status != http.StatusFound || r.header.Get("Location") != "/redirect/1" {
		t.Fatalf("/redirect/2 = %d to %q", r.status, r.header.Get("Location"))
	}
	s.ResetCounts()
	r = call(t, client(t, hs, true), "GET", hs.URL+"/redirect/3", "", "")
	if r.status != 200 || !strings.Contains(r.body, "horde sample app") {
		t.Fatalf("end of the chain = %d", r.status)
	}
	want := map[string]int64{"GET /redirect/3": 1, "GET /redirect/2": 1, "GET /redirect/1": 1, "GET /": 1}
	if got := s.Counts(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("counts %v, want %v", got, want)
	}
}
