package runner

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/horde-load/horde/internal/scenario"
)

// As Locust's --host, the test's host wins over a class's host=, which is
// only the class's default.
func TestTestHostWinsOverClassHost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ test, class, want string }{
		{"http://127.0.0.1:2", "http://127.0.0.1:1", "http://127.0.0.1:2"},
		{"", "http://127.0.0.1:1", "http://127.0.0.1:1"},
		{"http://127.0.0.1:2", "", "http://127.0.0.1:2"},
	} {
		var mu sync.Mutex
		var seen []string
		c := class("U", 1, 0, scenario.Task{Name: "t", Weight: 1, Fn: func(ctx context.Context, vu *scenario.VU) error {
			mu.Lock()
			seen = append(seen, vu.Host+" "+vu.HTTP.BaseURL())
			mu.Unlock()
			<-ctx.Done()
			return nil
		}})
		c.Host = tc.class
		r, _ := newRunner(t, &scenario.Scenario{Users: []*scenario.UserClass{c}}, func(o *Options) { o.Host = tc.test })
		r.SetTarget(1, math.Inf(1))
		waitFor(t, 5*time.Second, "the user's first task", func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) > 0 })
		mu.Lock()
		if seen[0] != tc.want+" "+tc.want {
			t.Errorf("test host %q, class host %q: the user used %q, want %q", tc.test, tc.class, seen[0], tc.want)
		}
		mu.Unlock()
	}
}
