package threshold

import (
	"errors"
	"strings"
	"testing"
)

func TestParseGood(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string // canonical String()
		// limit is the parsed limit in the metric's base unit.
		limit float64
	}{
		{"p95<300ms", "p95<300ms", 300},
		{"p99.9<1s", "p99.9<1000ms", 1000},
		{"avg<200ms", "avg<200ms", 200},
		{"fail_ratio<0.01", "fail_ratio<0.01", 0.01},
		{"rps>500", "rps>500", 500},
		{"GET /profile: p99<500ms", "GET /profile: p99<500ms", 500},
		{"/login: fail_ratio == 0", "/login: fail_ratio==0", 0},
		// Whitespace and case.
		{"  P95 <  300 MS ", "p95<300ms", 300},
		{"p95\t<=\t300", "p95<=300ms", 300},
		{"MEDIAN>=1", "p50>=1ms", 1},
		{"med != 2", "p50!=2ms", 2},
		{"Fail_Ratio<1%", "fail_ratio<0.01", 0.01},
		{"fail_ratio <= 100 %", "fail_ratio<=1", 1},
		{"fail_ratio<=1", "fail_ratio<=1", 1},
		// Every unit, and ms by default.
		{"max<250", "max<250ms", 250},
		{"max<500us", "max<0.5ms", 0.5},
		{"max<500µs", "max<0.5ms", 0.5},
		{"max<500μs", "max<0.5ms", 0.5},
		{"max<500US", "max<0.5ms", 0.5},
		{"min>1.5s", "min>1500ms", 1500},
		{"min>2m", "min>120000ms", 120000},
		{"p90<1e3", "p90<1000ms", 1000},
		{"p90<.5", "p90<0.5ms", 0.5},
		{"p90<+5", "p90<5ms", 5},
		{"p90<-0", "p90<0ms", 0},
		// Percentiles.
		{"p100<1s", "max<1000ms", 1000},
		{"p99.99<1s", "p99.99<1000ms", 1000},
		{"p0.1<1", "p0.1<1ms", 1},
		{"p050<1", "p50<1ms", 1},
		{"p99.90<1", "p99.9<1ms", 1},
		// Counts and rates.
		{"requests>=1000", "requests>=1000", 1000},
		{"failures==0", "failures==0", 0},
		{"requests>1.0", "requests>1", 1},
		{"current_rps > 10.5", "current_rps>10.5", 10.5},
		// Endpoints: names with spaces and colons, methods of any kind.
		{"Login page: avg<1s", "Login page: avg<1000ms", 1000},
		{"GET /a:b: p95<1", "GET /a:b: p95<1ms", 1},
		{"GET   /x?q=a<b :p95<1", "GET   /x?q=a<b: p95<1ms", 1},
		{"CUSTOM my step:requests>0", "CUSTOM my step: requests>0", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			th, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := th.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if th.limit != tt.limit {
				t.Errorf("limit = %v, want %v", th.limit, tt.limit)
			}
			if th.Expr != strings.TrimSpace(tt.in) {
				t.Errorf("Expr = %q, want the trimmed input", th.Expr)
			}
			if th.AbortOnFail {
				t.Error("AbortOnFail set by Parse")
			}
		})
	}
}

func TestParseBad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string // substrings of the error message
	}{
		{"", []string{`""`, "empty expression"}},
		{"   ", []string{"empty expression"}},
		{"p95", []string{`"p95"`, "missing comparison operator"}},
		{"p95 300ms", []string{"expected a comparison operator", `"300ms"`}},
		{"<300", []string{"missing metric"}},
		{": p95<1", []string{"empty endpoint"}},
		{"p95<", []string{"missing value"}},
		{"p95< ", []string{"missing value"}},
		{"p95=300", []string{`unknown operator "="`, "use =="}},
		{"p95=>300", []string{`unknown operator "=>"`}},
		{"p95<>300", []string{`unknown operator "<>"`}},
		{"p95!300", []string{`unknown operator "!"`}},
		{"p96x<1", []string{`unknown metric "p96x"`, "p99.9"}},
		{"latency<1", []string{`unknown metric "latency"`, "fail_ratio"}},
		{"P(95)<1", []string{`unknown metric "P(95)"`}},
		{"p0<1", []string{`"p0" out of range`}},
		{"p101<1", []string{`"p101" out of range`}},
		{"p99.<1", []string{`unknown metric "p99."`}},
		{"p<1", []string{`unknown metric "p"`}},
		{"p95<300xs", []string{`unknown unit "xs"`, "p95", "us, ms, s and m"}},
		{"p95<300h", []string{`unknown unit "h"`}},
		{"p95<-5ms", []string{`"-5" must not be negative`}},
		{"p95<NaN", []string{`"NaN" is not a finite number`}},
		{"p95<inf", []string{`"inf" is not a finite number`}},
		{"p95<-Inf", []string{`"-Inf" is not a finite number`}},
		{"p95<abc", []string{`"abc" is not a number`}},
		{"p95<0x10", []string{`unknown unit "x10"`}},
		{"p95<1_000", []string{`unknown unit "_000"`}},
		{"p95<1e400", []string{`"1e400" is out of range`}},
		{"p95<1e308m", []string{"out of range"}},
		{"p95<300ms ms", []string{`unknown unit "ms ms"`}},
		{"rps>500ms", []string{`unit "ms" does not apply to rps`}},
		{"requests>5%", []string{`unit "%" does not apply to requests`}},
		{"requests>1.5", []string{"requests is a count", "whole number"}},
		{"failures<-1", []string{"must not be negative"}},
		{"fail_ratio<1ms", []string{`unit "ms" does not apply to fail_ratio`}},
		{"fail_ratio<5", []string{"fraction from 0 to 1", "1%"}},
		{"fail_ratio<101%", []string{"must not exceed 100%"}},
		{"p95<<300", []string{`unknown operator "<<"`}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want an error", tt.in)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "invalid threshold ") {
				t.Errorf("error %q does not say it is an invalid threshold", msg)
			}
			if tt.in != "" && !strings.Contains(msg, tt.in) {
				t.Errorf("error %q does not quote the expression %q", msg, tt.in)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Expr != tt.in || pe.Index != 0 {
				t.Errorf("error %#v is not a *ParseError for %q with index 0", err, tt.in)
			}
		})
	}
}

func TestParseAll(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      []string
		want    int
		wantErr string
	}{
		{"nil", nil, 0, ""},
		{"good", []string{"p95<300ms", "fail_ratio<1%"}, 2, ""},
		{"second bad", []string{"p95<300ms", "p95<abc", "p99<x"}, 0, `invalid threshold #2 "p95<abc": value "abc" is not a number`},
		{"first bad", []string{"", "p95<1"}, 0, `invalid threshold #1 "": empty expression`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts, err := ParseAll(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("ParseAll error = %v, want prefix %q", err, tt.wantErr)
				}
				var pe *ParseError
				if !errors.As(err, &pe) || pe.Index == 0 {
					t.Errorf("error %#v carries no index", err)
				}
				if ts != nil {
					t.Errorf("ParseAll returned %d thresholds with an error", len(ts))
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAll: %v", err)
			}
			if len(ts) != tt.want {
				t.Fatalf("got %d thresholds, want %d", len(ts), tt.want)
			}
			for i, th := range ts {
				if th.Expr != tt.in[i] {
					t.Errorf("threshold %d Expr = %q, want %q (order kept)", i, th.Expr, tt.in[i])
				}
			}
		})
	}
}

func TestStringOfZeroThreshold(t *testing.T) {
	t.Parallel()
	var th Threshold
	if got := th.String(); got != "<invalid threshold>" {
		t.Errorf("zero Threshold String() = %q", got)
	}
}
