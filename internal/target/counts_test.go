package target

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

func TestCountsExactUnderConcurrentLoad(t *testing.T) {
	t.Parallel()
	const goroutines, perG = 50, 200
	s := New(Options{})
	h := s.Handler()
	paths := []string{"/", "/status/503", "/bytes/10", "/nope"}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				req := httptest.NewRequest("GET", paths[(g+i)%len(paths)], nil)
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
	wg.Wait()
	var total int64
	for _, p := range paths {
		n := s.Counts()["GET "+p]
		if n != goroutines*perG/int64(len(paths)) {
			t.Errorf("GET %s counted %d, want %d", p, n, goroutines*perG/len(paths))
		}
		total += n
	}
	if total != goroutines*perG || len(s.Counts()) != len(paths) {
		t.Fatalf("counted %d requests in %v, want %d in %d rows", total, s.Counts(), goroutines*perG, len(paths))
	}
}

func TestCountsOverHTTP(t *testing.T) {
	t.Parallel()
	s, hs := start(t, Options{})
	const goroutines, perG = 8, 25
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			c := hs.Client()
			for range perG {
				req, _ := http.NewRequestWithContext(t.Context(), "POST", hs.URL+"/echo", nil)
				resp, err := c.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	c := client(t, hs, false)
	r := call(t, c, "GET", hs.URL+countsPath, "", "")
	var got map[string]int64
	if err := json.Unmarshal([]byte(r.body), &got); err != nil || r.status != 200 {
		t.Fatalf("%s = %d %q: %v", countsPath, r.status, r.body, err)
	}
	want := map[string]int64{"POST /echo": goroutines * perG}
	if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(s.Counts()) != fmt.Sprint(want) {
		t.Fatalf("counts over HTTP %v, Counts() %v, want %v (/_horde/ not counted)", got, s.Counts(), want)
	}
	if r := call(t, c, "POST", hs.URL+countsPath+"/reset", "", ""); r.status != 200 {
		t.Fatalf("reset = %d", r.status)
	}
	if got := s.Counts(); len(got) != 0 {
		t.Fatalf("after reset: %v", got)
	}
	call(t, c, "GET", hs.URL+"/bytes/1", "", "")
	if got := s.Counts(); fmt.Sprint(got) != "map[GET /bytes/1:1]" {
		t.Fatalf("counting after reset: %v", got)
	}
}

func TestCountKeysAreCapped(t *testing.T) {
	t.Parallel()
	s := New(Options{MaxCountKeys: 3})
	for i := range 10 {
		s.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", fmt.Sprintf("/random/%d", i), nil))
	}
	got := s.Counts()
	if len(got) != 4 || got[OverflowKey] != 7 {
		t.Fatalf("counts %v: want 3 rows and %q = 7", got, OverflowKey)
	}
}

func TestInformationalResponseIsNotCountedTwice(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	s.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/status/103", nil))
	if got := s.Counts()["GET /status/103"]; got != 1 {
		t.Fatalf("counted %d, want 1", got)
	}
}
