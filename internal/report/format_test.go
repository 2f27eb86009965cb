package report

import (
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/horde-load/horde/internal/stats"
)

func TestFmtMs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {0.42, "0.42"}, {0.004, "0.00"}, {9.999, "10.00"}, {12.34, "12.3"},
		{99.94, "99.9"}, {123.4, "123"}, {1234.6, "1235"}, {math.NaN(), "0"}, {math.Inf(1), "0"},
	}
	for _, tt := range tests {
		if got := fmtMs(tt.in); got != tt.want {
			t.Errorf("fmtMs(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFmtDecimal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     float64
		digits int
		want   string
	}{
		{12.3456789, 3, "12.346"}, {12.5, 3, "12.5"}, {100, 3, "100"}, {0.0004, 3, "0"},
		{-0.0001, 3, "0"}, {0.001, 3, "0.001"}, {1234567.0626, 3, "1234567.063"}, {math.NaN(), 3, "0"},
	}
	for _, tt := range tests {
		if got := fmtDecimal(tt.in, tt.digits); got != tt.want {
			t.Errorf("fmtDecimal(%v, %d) = %q, want %q", tt.in, tt.digits, got, tt.want)
		}
	}
}

func TestFmtPctAndFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fails, reqs int64
		want        string
	}{
		{0, 0, "0 (0.00%)"}, {5, 1000, "5 (0.50%)"}, {1, 3, "1 (33.33%)"}, {300, 300, "300 (100.00%)"},
	}
	for _, tt := range tests {
		if got := fmtFails(tt.fails, tt.reqs); got != tt.want {
			t.Errorf("fmtFails(%d, %d) = %q, want %q", tt.fails, tt.reqs, got, tt.want)
		}
	}
}

func TestFmtDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"}, {-time.Second, "0s"}, {999 * time.Millisecond, "0s"}, {45 * time.Second, "45s"},
		{65 * time.Second, "1m05s"}, {2*time.Hour + 3*time.Minute + 4*time.Second, "2h03m04s"},
	}
	for _, tt := range tests {
		if got := fmtDuration(tt.in); got != tt.want {
			t.Errorf("fmtDuration(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTruncateAndSanitize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"/short", 10, "/short"}, {"/exactly10", 10, "/exactly10"}, {"/eleven-chr", 10, "/eleven-c…"},
		{"/héllo-wörld", 8, "/héllo-…"}, {"abc", 1, "…"}, {"abc", 0, ""},
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.max); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
	if got := sanitize("a\nb\x1b[2Jc\xffd"); got != "a b [2Jc d" {
		t.Errorf("sanitize = %q", got)
	}
}

// FuzzTruncate checks that any text fits its cell and stays valid UTF-8
// free of control characters once sanitized and truncated.
func FuzzTruncate(f *testing.F) {
	f.Add("/api/v1/items?id=42", 10)
	f.Add("héllo\x1b[2J\nwörld", 3)
	f.Add("\xff\xfe", 1)
	f.Fuzz(func(t *testing.T, s string, max int) {
		max %= 200
		got := truncate(sanitize(s), max)
		if max < 1 && got != "" {
			t.Fatalf("truncate(_, %d) = %q, want empty", max, got)
		}
		if max >= 1 && textWidth(got) > max {
			t.Fatalf("width %d > %d: %q", textWidth(got), max, got)
		}
		if !utf8.ValidString(got) || strings.ContainsFunc(got, isControl) {
			t.Fatalf("unsafe cell %q", got)
		}
	})
}

func TestQuantile(t *testing.T) {
	t.Parallel()
	lat := stats.Latency{Min: 1, Avg: 5, P50: 4, P90: 9, P95: 10, P99: 20, P999: 30, Max: 40}
	withFunc := stats.Row{Latency: lat, Percentile: func(q float64) float64 { return 1000 * q }}
	without := stats.Row{Latency: lat}
	tests := []struct {
		name string
		row  stats.Row
		q    float64
		want float64
	}{
		{"held by Latency wins over Percentile", withFunc, 0.99, 20},
		{"max", withFunc, 1, 40},
		{"other quantile from Percentile", withFunc, 0.66, 660},
		{"fallback 0.66 nearest p50", without, 0.66, 4},
		{"fallback 0.75 nearest p90", without, 0.75, 9},
		{"fallback 0.98 nearest p99", without, 0.98, 20},
		{"fallback 0.9999 nearest max", without, 0.9999, 40},
		{"fallback 0.8 nearest p90", without, 0.8, 9},
		{"fallback 0.1 nearest min", without, 0.1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := quantile(tt.row, tt.q); got != tt.want {
				t.Errorf("quantile(%v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}
