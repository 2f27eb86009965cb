package memtune

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

const mib = 1 << 20

func TestPercent(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		live, rate float64
		want       int
	}{
		{"no collection yet", 0, 0, 100},
		{"small heap: Go's default", 4 * mib, 0, 100},
		{"16 MiB idle: the 8 MiB floor", 16 * mib, 0, 50},
		{"1 GiB idle: a quarter of live at least", 1024 * mib, 0, 25},
		{"100 MiB at 10 MiB/s: two seconds of allocation", 100 * mib, 10 * mib, 20 + 5},
		{"100 MiB at 40 MiB/s", 100 * mib, 40 * mib, 80},
		{"busy: never above Go's default", 100 * mib, 500 * mib, 100},
		{"rounds up", 300 * mib, 50 * mib, 34},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Percent(tt.live, tt.rate); got != tt.want {
				t.Fatalf("Percent(%.0f MiB, %.0f MiB/s) = %d, want %d", tt.live/mib, tt.rate/mib, got, tt.want)
			}
		})
	}
}

// TestTunerSteps follows a tuner through a run: start-up, a ramp that
// allocates fast, then idle users; it checks the GOGC it would set at
// each second.
func TestTunerSteps(t *testing.T) {
	t.Parallel()
	start := time.Unix(1000, 0)
	tu := &tuner{initial: 100, current: 100, at: start}
	rate := 0.0
	current := 100
	allocs := []uint64{10, 20, 220, 221, 222, 223, 224, 225, 226, 226, 226, 226, 226, 226, 226}
	lives := []uint64{0, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200}
	prev := uint64(0)
	changes := 0
	for i := range allocs {
		now := start.Add(time.Duration(i+1) * time.Second)
		rate = max(float64(allocs[i]-prev)*mib, rate*rateDecay)
		prev = allocs[i]
		p, ok := tu.step(lives[i]*mib, allocs[i]*mib, now)
		if lives[i] == 0 {
			if ok {
				t.Fatalf("second %d: set GOGC %d before any collection", i+1, p)
			}
			continue
		}
		want := Percent(float64(lives[i]*mib), rate)
		wantChange := want != current && (want < current*95/100 || want > current*105/100 || want == minPercent || want == maxPercent)
		if ok != wantChange || (ok && p != want) {
			t.Fatalf("second %d (rate %.0f MiB/s): step = %d, %v; want %d, %v", i+1, rate/mib, p, ok, want, wantChange)
		}
		if ok {
			current = p
			changes++
		}
	}
	if current != minPercent {
		t.Fatalf("after the ramp and 7 quiet seconds GOGC is %d, want it back down to %d", current, minPercent)
	}
	if changes < 3 {
		t.Fatalf("%d changes of GOGC over a ramp and its end, want at least 3 (down, up for the ramp, down again)", changes)
	}
}

// TestTunerHysteresis checks that a change of under 5 % is not applied.
func TestTunerHysteresis(t *testing.T) {
	t.Parallel()
	start := time.Unix(1000, 0)
	tu := &tuner{initial: 100, current: 60, at: start}
	// 60 MiB/s on 200 MiB live wants 60: unchanged.
	if p, ok := tu.step(200*mib, 60*mib, start.Add(time.Second)); ok {
		t.Fatalf("set %d for what GOGC already is", p)
	}
	// 62 MiB/s wants 62 (+3 %): unchanged.
	if p, ok := tu.step(200*mib, 122*mib, start.Add(2*time.Second)); ok {
		t.Fatalf("set %d for a 3 %% change", p)
	}
	// 80 MiB/s wants 80: set.
	if p, ok := tu.step(200*mib, 202*mib, start.Add(3*time.Second)); !ok || p != 80 {
		t.Fatalf("step = %d, %v; want 80, true", p, ok)
	}
}

func gogc() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// TestTune runs Tune on this process: with a live heap of 64 MiB and
// nothing allocating, GOGC comes down from the default within a few
// seconds, and is put back when ctx ends. With GOGC or GOMEMLIMIT in the
// environment, Tune leaves it alone. Not parallel: GOGC is the process's.
func TestTune(t *testing.T) {
	if testing.Short() {
		t.Skip("takes seconds")
	}
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	heap := make([][]byte, 64)
	for i := range heap {
		heap[i] = make([]byte, mib)
		for j := range heap[i] {
			heap[i][j] = byte(j)
		}
	}
	runtime.GC()

	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		ctx, cancel := context.WithCancel(context.Background())
		Tune(ctx, func(k string) (string, bool) { return "1", k == env })
		time.Sleep(1500 * time.Millisecond) // a look is every second
		cancel()
		if got := gogc(); got != 100 {
			t.Fatalf("with %s set, GOGC became %d", env, got)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	Tune(ctx, func(string) (string, bool) { return "", false })
	Tune(ctx, func(string) (string, bool) { return "", false }) // a second one: ignored
	deadline := time.Now().Add(10 * time.Second)
	for gogc() >= 100 {
		if time.Now().After(deadline) {
			t.Fatalf("GOGC still %d after 10 s with 64 MiB live and nothing allocating", gogc())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := gogc(); got < minPercent {
		t.Fatalf("GOGC %d, below the floor %d", got, minPercent)
	}
	cancel()
	deadline = time.Now().Add(5 * time.Second)
	for gogc() != 100 {
		if time.Now().After(deadline) {
			t.Fatalf("GOGC %d 5 s after the end of Tune's context, want 100 put back", gogc())
		}
		time.Sleep(20 * time.Millisecond)
	}
	runtime.KeepAlive(heap)
}
