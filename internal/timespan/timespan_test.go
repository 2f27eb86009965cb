package timespan

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"90", 90 * time.Second, false},
		{"1.5", 1500 * time.Millisecond, false},
		{"300s", 300 * time.Second, false},
		{"20m", 20 * time.Minute, false},
		{"1h30m", 90 * time.Minute, false},
		{"250ms", 250 * time.Millisecond, false},
		{" 10s ", 10 * time.Second, false},
		{"0", 0, false},
		{"", 0, true},
		{"abc", 0, true},
		{"-5s", 0, true},
		{"-1", 0, true},
		{"NaN", 0, true},
		{"1e300", 0, true},
		{"10 s", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("Parse(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"90", "1h30m", "1.5", "-1", "9999999999999999999", "1e9h", ".5ms"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err == nil && d < 0 {
			t.Fatalf("Parse(%q) = %v: negative without error", s, d)
		}
		if err != nil && err.Error() == "" {
			t.Fatalf("Parse(%q): empty error message", s)
		}
	})
}
