// Package timespan parses the durations users type: Go's forms ("1m30s",
// "250ms"), Locust's ("1h30m", "20m", "300s") and a bare number of seconds
// ("90", "1.5"), as Locust's -t accepts.
package timespan

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxSeconds bounds a duration so that it fits a time.Duration.
const maxSeconds = float64(1<<63-1) / float64(time.Second)

// Parse parses s. Negative durations are refused: no horde setting means
// "before now".
func Parse(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, errors.New("empty duration")
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil {
		if f < 0 || f != f || f > maxSeconds {
			return 0, fmt.Errorf("invalid duration %q: want a non-negative number of seconds", s)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: use forms like 90s, 5m, 1h30m, 250ms or a number of seconds", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("invalid duration %q: must not be negative", s)
	}
	return d, nil
}

// Value is a pflag.Value for durations in the forms Parse accepts.
type Value struct{ D *time.Duration }

// Set implements pflag.Value.
func (v Value) Set(s string) error {
	d, err := Parse(s)
	if err != nil {
		return err
	}
	*v.D = d
	return nil
}

// String implements pflag.Value.
func (v Value) String() string {
	if v.D == nil || *v.D == 0 {
		return "0"
	}
	return v.D.String()
}

// Type implements pflag.Value.
func (v Value) Type() string { return "duration" }
