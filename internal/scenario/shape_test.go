package scenario

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestStagesAt(t *testing.T) {
	t.Parallel()
	st, err := NewStages([]Stage{
		{Duration: 10 * time.Second, Users: 100, Rate: -1},
		{Duration: 20 * time.Second, Users: 100, Rate: -1},
		{Duration: 5 * time.Second, Users: 0, Rate: -1},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		at    time.Duration
		users int
		rate  float64
		ok    bool
	}{
		{0, 100, 99.0 / 10, true},              // 100 users, the first at once: 99 more in 10 s
		{4 * time.Second, 100, 99.0 / 6, true}, // looked at late: faster, still done at 10 s
		{10 * time.Second, 100, 0, true},       // hold
		{29 * time.Second, 100, 0, true},
		{30 * time.Second, 0, 99.0 / 5, true}, // down to 0 by 35 s
		{35 * time.Second, 0, 0, false},       // over: the test ends
	}
	for _, tt := range tests {
		got, ok, err := st.At(tt.at, 0)
		if err != nil || ok != tt.ok {
			t.Fatalf("At(%v) ok=%v err=%v; want ok=%v", tt.at, ok, err, tt.ok)
		}
		if !ok {
			continue
		}
		if got.Users != tt.users || math.Abs(got.SpawnRate-tt.rate) > 1e-9 || got.Rate != 0 {
			t.Errorf("At(%v) = %+v; want %d users at %v/s", tt.at, got, tt.users, tt.rate)
		}
	}
	if d := st.Describe(12 * time.Second); d != "stage 2 of 3: to 100 users over 20s" {
		t.Errorf("Describe = %q", d)
	}
}

func TestStagesOpenModel(t *testing.T) {
	t.Parallel()
	st, err := NewStages([]Stage{{Duration: 10 * time.Second, Users: -1, Rate: 200}, {Duration: time.Minute, Users: 50, Rate: 200}})
	if err != nil {
		t.Fatal(err)
	}
	got, ok, _ := st.At(4*time.Second, 0)
	if !ok || got.Rate != 200 || got.Ramp != 6*time.Second || got.Users != 0 {
		t.Errorf("At(4s) = %+v, %v; want rate 200 over the 6 s left, pool kept", got, ok)
	}
	got, _, _ = st.At(15*time.Second, 0)
	if got.Rate != 200 || got.Users != 50 || got.Ramp != 55*time.Second {
		t.Errorf("At(15s) = %+v", got)
	}
	if d := st.Describe(0); d != "stage 1 of 2: to 200/s over 10s" {
		t.Errorf("Describe = %q", d)
	}
}

func TestNewStagesRefuses(t *testing.T) {
	t.Parallel()
	for name, st := range map[string][]Stage{
		"none":          nil,
		"zero duration": {{Duration: 0, Users: 1, Rate: -1}},
		"nothing set":   {{Duration: time.Second, Users: -1, Rate: -1}},
		"mixed models":  {{Duration: time.Second, Users: 5, Rate: -1}, {Duration: time.Second, Users: -1, Rate: 5}},
		"NaN rate":      {{Duration: time.Second, Users: -1, Rate: math.NaN()}},
	} {
		if _, err := NewStages(st); !errors.Is(err, ErrBadStages) {
			t.Errorf("%s: err %v, want ErrBadStages", name, err)
		}
	}
}
