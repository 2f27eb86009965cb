package report

import (
	"math"
	"strings"
	"testing"
)

func TestDownsample(t *testing.T) {
	t.Parallel()
	ramp := func(n int) []chartPoint {
		pts := make([]chartPoint, n)
		for i := range pts {
			pts[i] = chartPoint{x: float64(i), y: float64(i % 10)}
		}
		return pts
	}
	spiky := ramp(5000)
	spiky[1234].y, spiky[4321].y = 1e6, -1e6
	tests := []struct {
		name  string
		pts   []chartPoint
		limit int
		want  int // points kept
	}{
		{"empty", nil, 1000, 0},
		{"under the limit", ramp(999), 1000, 999},
		{"at the limit", ramp(1000), 1000, 1000},
		{"over the limit", ramp(3600), 1000, 1000},
		{"spikes", spiky, 1000, 1000},
		{"odd limit", ramp(100), 7, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := downsample(tt.pts, tt.limit)
			if len(got) != tt.want {
				t.Fatalf("kept %d points, want %d", len(got), tt.want)
			}
			for i := 1; i < len(got); i++ {
				if got[i].x <= got[i-1].x {
					t.Fatalf("points out of order at %d: %v then %v", i, got[i-1], got[i])
				}
			}
			if len(tt.pts) == 0 {
				return
			}
			// The extremes survive and the ends stay near the ends.
			lo, hi := extremes(tt.pts)
			glo, ghi := extremes(got)
			if glo != lo || ghi != hi {
				t.Errorf("range %g..%g after thinning, want %g..%g", glo, ghi, lo, hi)
			}
			if got[0] != tt.pts[0] || got[len(got)-1] != tt.pts[len(tt.pts)-1] {
				t.Errorf("thinned series runs %v..%v, want %v..%v", got[0], got[len(got)-1], tt.pts[0], tt.pts[len(tt.pts)-1])
			}
		})
	}
}

func extremes(pts []chartPoint) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		lo, hi = min(lo, p.y), max(hi, p.y)
	}
	return lo, hi
}

func TestChartSteps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw, nice, time float64
	}{
		{0, 1, 1},
		{-3, 1, 1},
		{0.03, 0.05, 1},
		{0.7, 1, 1},
		{3, 5, 5},
		{7.5, 10, 10},
		{11, 20, 15},
		{40, 50, 60},
		{250, 500, 300},
		{4000, 5000, 7200},
		{200000, 200000, 432000},
	}
	for _, tt := range tests {
		if got := niceStep(tt.raw); math.Abs(got-tt.nice) > 1e-12 {
			t.Errorf("niceStep(%g) = %g, want %g", tt.raw, got, tt.nice)
		}
		if got := timeStep(tt.raw); got != tt.time {
			t.Errorf("timeStep(%g) = %g, want %g", tt.raw, got, tt.time)
		}
	}
}

func TestChartLabels(t *testing.T) {
	t.Parallel()
	elapsed := map[float64]string{0: "0s", 45: "45s", 60: "1m", 90: "1m30s", 3600: "1h", 9000: "2h30m", 3661: "1h1m1s"}
	for sec, want := range elapsed {
		if got := fmtElapsed(sec); got != want {
			t.Errorf("fmtElapsed(%g) = %q, want %q", sec, got, want)
		}
	}
	ticks := map[float64]string{0: "0", 0.3000000000000001: "0.3", 250: "250", 9000: "9000", 12000: "12k", 1.5e6: "1.5M"}
	for v, want := range ticks {
		if got := fmtTick(v); got != want {
			t.Errorf("fmtTick(%g) = %q, want %q", v, got, want)
		}
	}
}

func TestLineChartSVG(t *testing.T) {
	t.Parallel()
	c := lineChart{label: `a <"b">`, unit: "ms & more", series: []chartSeries{
		{label: "<p50>", color: "#000", pts: []chartPoint{{0, 1}, {30, 7}, {65, 3}}},
		{label: "one", color: "#111", pts: []chartPoint{{10, 2}}},
		{label: "none", color: "#222"},
	}}
	svg := string(c.svg())
	for _, want := range []string{
		`aria-label="a &lt;&#34;b&#34;&gt;"`, ">ms &amp; more<", "&lt;p50&gt;",
		`>0s<`, `>30s<`, `>1m<`, // x ticks every 15 s up to 65 s
		`>0<`, `>8<`, // y axis from 0 to the nice top above 7
		"<circle", // the one-point series is a dot
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("svg lacks %q:\n%s", want, svg)
		}
	}
	if n := strings.Count(svg, "<polyline"); n != 1 {
		t.Errorf("%d polylines, want 1", n)
	}
	if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
		t.Errorf("svg has non-finite coordinates:\n%s", svg)
	}
}
